"""Losses, affinities and repulsion of the evolutionary embedding against autograd and scikit-learn."""
import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import squareform
from sklearn.decomposition import PCA
from sklearn.manifold._t_sne import _joint_probabilities, _joint_probabilities_nn
from sklearn.neighbors import NearestNeighbors

from tdl.affinity import calibrate, dense_affinities, knn_affinities
from tdl.intermediate import fit_pca, pca
from tdl.losses import alignment, displacement, tsne_exact, tsne_sparse
from tdl.repulsion import repulsion_exact, repulsion_grid

def assert_close(a, b, rtol=1e-7, atol=1e-9):
    """numpy's check (torch.testing's first call costs seconds of imports)."""
    np.testing.assert_allclose(np.asarray(a.detach() if hasattr(a, "detach") else a),
                               np.asarray(b.detach() if hasattr(b, "detach") else b), rtol=rtol, atol=atol)




def random_P(S, I, seed=0):
    g = torch.Generator().manual_seed(seed)
    P = torch.rand(S, I, I, generator=g, dtype=torch.float64)
    P = P + P.transpose(1, 2)
    P.diagonal(dim1=1, dim2=2).zero_()
    return P / P.sum(dim=(1, 2), keepdim=True)


def kl_autograd(Y, P):
    """KL(P || Q) per step, written directly from the definition."""
    d2 = ((Y[:, :, None] - Y[:, None]) ** 2).sum(-1)
    w = (1 / (1 + d2)) * (1 - torch.eye(Y.shape[1], dtype=Y.dtype))
    Q = w / w.sum(dim=(1, 2), keepdim=True)
    mask = P > 0
    return torch.where(mask, P * torch.log(torch.where(mask, P / Q.clamp_min(1e-300), 1)), 0).sum(dim=(1, 2))


@pytest.mark.parametrize("exaggeration", [1.0, 4.0])
def test_tsne_exact_loss_and_gradient_match_autograd(exaggeration):
    S, I = 3, 15
    Y = (3 * torch.randn(S, I, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)).requires_grad_()
    P = random_P(S, I)
    ref = kl_autograd(Y, exaggeration * P)
    # with sum(P') = e != 1 the step follows t-SNE practice, (e p - q) w (y_i - y_j): the gradient of
    # KL(P' || Q) with its log Z term weighted 1 instead of e, i.e. of KL(P'||Q) - (e - 1) log Z
    d2 = ((Y[:, :, None] - Y[:, None]) ** 2).sum(-1)
    logZ = torch.log(((1 / (1 + d2)) * (1 - torch.eye(I, dtype=Y.dtype))).sum(dim=(1, 2)))
    (ref - (exaggeration - 1) * logZ).sum().backward()
    loss, grad = tsne_exact(Y.detach(), P, exaggeration)
    assert_close(loss, ref.detach(), rtol=1e-10, atol=1e-12)
    assert_close(grad, Y.grad, rtol=1e-9, atol=1e-12)


def test_tsne_sparse_equals_exact_on_the_same_P():
    S, I = 2, 40
    x = torch.randn(S, I, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    Ps = knn_affinities(x, perplexity=5.0)
    Y = 4 * torch.randn(S, I, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    for e in (1.0, 4.0):
        l1, g1 = tsne_sparse(Y, Ps, e, repulsion_exact)
        l2, g2 = tsne_exact(Y, Ps.to_dense(), e)
        assert_close(l1, l2, rtol=1e-10, atol=1e-12)
        assert_close(g1, g2, rtol=1e-9, atol=1e-13)


def test_repulsion_exact_in_chunks_matches_direct_sums():
    Y = 5 * torch.randn(2, 30, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    diff = Y[:, :, None] - Y[:, None]
    w = 1 / (1 + (diff ** 2).sum(-1)) * (1 - torch.eye(30, dtype=Y.dtype))
    Z, R = repulsion_exact(Y, chunk=7)
    assert_close(Z, w.sum(dim=(1, 2)))
    assert_close(R, ((w ** 2)[..., None] * diff).sum(2))


def test_repulsion_grid_converges_to_exact():
    """Cubic interpolation: the error falls fast with the grid spacing h (about h^3 to h^4)."""
    Y = 5 * torch.randn(3, 300, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    Z, R = repulsion_exact(Y)
    errs = []
    for spacing in (0.8, 0.4, 0.2):
        Zg, Rg = repulsion_grid(Y, spacing)
        errs.append(max(((Zg - Z) / Z).abs().max().item(), ((Rg - R).norm() / R.norm()).item()))
    print(errs)
    assert errs[1] < 0.03 and errs[2] < 0.003
    assert errs[0] / errs[1] > 6 and errs[1] / errs[2] > 6


def test_displacement_gradient_matches_autograd():
    along = (30 * torch.rand(3, 10, dtype=torch.float64)).requires_grad_()
    target = torch.tensor([0.0, 20.0, 20.0], dtype=torch.float64)
    loss, grad = displacement(along.detach(), target, sigma=8.0)
    ref = -(torch.exp(-(along - target[:, None]) ** 2 / 128) / (8 * math.sqrt(2 * math.pi))).sum(-1)
    ref.sum().backward()
    assert_close(loss, ref.detach())
    assert_close(grad, along.grad)


def test_held_displacement_is_the_gaussian_well_within_one_sigma_and_a_constant_pull_beyond():
    sigma = 8.0
    target = torch.tensor([0.0, 20.0], dtype=torch.float64)
    along = target[:, None] + torch.linspace(-60, 60, 241, dtype=torch.float64)  # (2, 241), steps of 0.5
    loss, grad = displacement(along, target, sigma, hold=True)
    plain_loss, plain_grad = displacement(along, target, sigma)
    x = along - target[:, None]
    inside = x.abs() <= sigma
    assert_close(grad[inside], plain_grad[inside])
    peak = plain_grad.abs().max()  # the Gaussian well's largest pull, at one sigma
    assert_close(grad[~inside].abs(), peak.expand(int((~inside).sum())), rtol=1e-3, atol=0)
    assert torch.all(torch.sign(grad[~inside]) == torch.sign(x[~inside]))  # towards the band
    assert plain_grad.abs()[x.abs() > 5 * sigma].max() < 1e-3 * peak  # the reference's pull has vanished
    # the loss is continuous with the gradient as its derivative: central differences, one point a row
    h = 1e-4
    for a in (along[:, :1] + 3.0, along[:, :1] + 50.0, target[:, None] + sigma):
        lp, _ = displacement(a + h, target, sigma, hold=True)
        lm, _ = displacement(a - h, target, sigma, hold=True)
        _, g = displacement(a, target, sigma, hold=True)
        assert_close((lp - lm) / (2 * h), g[:, 0], rtol=1e-5, atol=1e-9)
    assert loss.shape == plain_loss.shape == (2,)


@pytest.mark.parametrize("kernel", ["cos", "gauss"])
def test_alignment_gradient_is_the_next_step_held_fixed(kernel):
    theta = (6 * torch.rand(4, 9, dtype=torch.float64)).requires_grad_()
    loss, grad = alignment(theta.detach(), kernel)
    d = theta[:-1] - theta[1:].detach()  # the reference moves step s towards step s + 1 only
    k = torch.cos(d) if kernel == "cos" else torch.exp(-d ** 2 / 2)
    (-k.sum()).backward()
    assert_close(loss[:-1], -k.sum(-1).detach())
    assert loss[-1] == 0 and torch.all(grad[-1] == 0)
    assert_close(grad, theta.grad)


def test_alignment_gradient_matches_finite_differences():
    theta = 6 * torch.rand(3, 5, dtype=torch.float64)
    _, grad = alignment(theta, "cos")
    eps = 1e-6
    for s, i in [(0, 1), (1, 4)]:
        up, dn = theta.clone(), theta.clone()
        up[s, i] += eps
        dn[s, i] -= eps
        # only step s's own term depends on theta_s once theta_{s+1} is held fixed
        fd = (alignment(up, "cos")[0][s] - alignment(dn, "cos")[0][s]) / (2 * eps)
        assert fd.item() == pytest.approx(grad[s, i].item(), rel=1e-6)


def test_calibration_reaches_the_perplexity():
    d2 = 50 * torch.rand(4, 30, dtype=torch.float64)
    p = calibrate(d2, perplexity=7.0, tol=1e-8)
    H = -(p * torch.log(p)).sum(-1)
    assert_close(torch.exp(H), torch.full((4,), 7.0, dtype=torch.float64), rtol=1e-6, atol=0)


def test_dense_affinities_match_sklearn():
    x = torch.randn(2, 60, 8, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    P = dense_affinities(x, perplexity=10.0, tol=1e-8)
    for s in range(2):
        d2 = torch.cdist(x[s], x[s]).numpy() ** 2
        ref = squareform(_joint_probabilities(d2, 10.0, 0))
        np.testing.assert_allclose(P[s].numpy(), ref, rtol=1e-4, atol=1e-10)
        assert P[s].sum().item() == pytest.approx(1.0)


def test_knn_affinities_match_sklearn():
    x = torch.randn(2, 80, 6, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    Ps = knn_affinities(x, perplexity=5.0, tol=1e-8).to_dense()
    for s in range(2):
        nn = NearestNeighbors(n_neighbors=15).fit(x[s].numpy())
        dist = nn.kneighbors_graph(mode="distance")
        dist.data **= 2
        ref = _joint_probabilities_nn(dist, 5.0, 0).toarray()
        np.testing.assert_allclose(Ps[s].numpy(), ref, rtol=1e-4, atol=1e-10)


@pytest.mark.parametrize("fit", ["all", "per_step"])
def test_pca_matches_sklearn(fit):
    f = torch.randn(3, 40, 12, generator=torch.Generator().manual_seed(8)) * torch.linspace(3, 0.1, 12)
    ours = pca(f, dim=4, fit=fit).double()
    groups = [f.reshape(-1, 12)] if fit == "all" else list(f)
    ref = [PCA(4).fit_transform(g.double().numpy()) for g in groups]
    ref = torch.tensor(np.stack(ref)).reshape(ours.shape)
    # same subspace and coordinates up to the sign of each component
    signs = torch.sign((ours * ref).sum(dim=-2, keepdim=True))
    assert_close(ours, ref * signs, rtol=1e-4, atol=1e-4)


def test_pca_transform_of_new_samples_matches_the_batch_transform():
    f = torch.randn(3, 20, 10, generator=torch.Generator().manual_seed(9))
    for fit in ("all", "per_step"):
        model = fit_pca(f, 4, fit)
        whole = model.transform(f)
        one = model.transform(f[2], step=2)
        assert_close(one, whole[2], rtol=1e-5, atol=1e-6)


def test_per_step_pca_keeps_distances_when_instances_are_few():
    """With fewer instances than dimensions a per-step PCA is lossless: distances within a step stay."""
    f = torch.randn(2, 10, 30, generator=torch.Generator().manual_seed(10))
    x = pca(f, dim=50, fit="per_step")
    assert x.shape == (2, 10, 10)
    assert_close(torch.cdist(x, x), torch.cdist(f, f), rtol=1e-4, atol=1e-4)
