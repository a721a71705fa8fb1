"""The exact denoisers against closed forms, Monte Carlo, scipy and autograd (Tweedie)."""
import numpy as np
import pytest
import torch

from sandbox import oracle, paths, schedules
from sandbox.field import GuidedField



def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_single_gaussian_closed_form():
    mean = torch.tensor([0.5, -1.0, 2.0])
    A = torch.randn(3, 3, generator=_gen(1))
    cov = A @ A.T * 0.3 + 0.01 * torch.eye(3)
    mix = oracle.gaussian(mean, cov)
    x = torch.randn(50, 3, generator=_gen(2))
    alpha, sigma = torch.rand(50, generator=_gen(3)) + 0.05, torch.rand(50, generator=_gen(4)) + 0.05
    got = mix.posterior_mean(x, alpha, sigma)
    # E[x0|x] = m + a S (a^2 S + s^2 I)^-1 (x - a m), solved directly in float64
    S, m = cov.double(), mean.double()
    for i in range(50):
        a, s = float(alpha[i]), float(sigma[i])
        C = a * a * S + s * s * torch.eye(3, dtype=torch.float64)
        ref = m + a * S @ torch.linalg.solve(C, x[i].double() - a * m)
        assert torch.allclose(got[i].double(), ref, atol=1e-4)


def test_mixture_posterior_mean_matches_monte_carlo():
    mix = oracle.anisotropic_pair()
    x0 = mix.sample(400_000, _gen(5)).double()
    x = torch.tensor([[0.0, 0.0], [-0.5, 0.2], [0.9, 0.9]])
    a, s = 0.8, 0.5
    got = mix.posterior_mean(x, a, s)
    for i in range(len(x)):  # self-normalised importance sampling with the prior as proposal
        logw = -((x[i].double() - a * x0) ** 2).sum(1) / (2 * s * s)
        w = torch.softmax(logw, 0)
        ref = (w[:, None] * x0).sum(0)
        ess = 1 / float((w ** 2).sum())
        assert ess > 2000
        assert torch.allclose(got[i].double(), ref, atol=0.02), (got[i], ref)


def test_zero_covariance_is_the_softmax_weighted_mean_of_the_points():
    pts = torch.randn(30, 2, generator=_gen(6))
    x = torch.randn(20, 2, generator=_gen(7))
    a, s = 0.7, 0.3
    logits = -torch.cdist(x.double(), a * pts.double()) ** 2 / (2 * s * s)
    ref = torch.softmax(logits, 1) @ pts.double()
    mix = oracle.point_mixture(pts)
    assert torch.allclose(mix.posterior_mean(x, a, s).double(), ref, atol=1e-5)
    field = oracle.PointSetField(pts, paths.FlowPath())
    t = torch.full((20,), 0.3)  # flow path: alpha 0.7, sigma 0.3
    assert torch.allclose(field.x0(x, t).double(), ref, atol=1e-5)
    # per-particle times go through the other branch of PointSetField
    tt = torch.rand(20, generator=_gen(8)) * 0.9 + 0.05
    assert torch.allclose(field.x0(x, tt), oracle.MixtureField(mix, paths.FlowPath()).x0(x, tt), atol=1e-5)


@pytest.mark.parametrize("path", [paths.FlowPath(), paths.DDPMPath(schedules.linear(1000))], ids=repr)
def test_limits_at_both_ends(path):
    mix = oracle.eight_gaussians()
    x = torch.randn(100, 2, generator=_gen(9))
    # t -> 0: the denoiser returns x itself (exactly at t = 0)
    assert torch.equal(oracle.MixtureField(mix, path).x0(x, torch.zeros(100)), x)
    assert torch.equal(oracle.PointSetField(mix.means, path).x0(x, torch.zeros(100)), x)
    # t = 1 on the flow path: x carries no information, E[x0 | x] is the data mean
    if isinstance(path, paths.FlowPath):
        mean = (mix.weights[:, None] * mix.means).sum(0)
        assert torch.allclose(oracle.MixtureField(mix, path).x0(x, torch.ones(100)), mean.expand(100, 2), atol=1e-6)
    # tiny t: a point set's denoiser snaps to the nearest point
    near = mix.means[torch.cdist(x, mix.means).argmin(1)]
    got = oracle.PointSetField(mix.means, path).x0(x, torch.full((100,), 1e-3))
    assert torch.allclose(got, near, atol=1e-4)


def test_log_prob_matches_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    mix = oracle.anisotropic_pair()
    x = torch.randn(40, 2, generator=_gen(10))
    a, s = 0.6, 0.4
    normal = scipy_stats.multivariate_normal
    ref = np.log(sum(float(w) * normal(a * m.numpy(), a * a * S.numpy() + s * s * np.eye(2)).pdf(x.numpy())
                     for w, m, S in zip(mix.weights, mix.means, mix.covs)))
    assert np.allclose(mix.log_prob(x, a, s).numpy(), ref, atol=1e-4)
    ref0 = scipy_stats.multivariate_normal(mix.means[1].numpy(), mix.covs[1].numpy()).logpdf(x.numpy())
    assert np.allclose(mix.log_prob(x, labels=torch.ones(40, dtype=torch.long)).numpy(), ref0, atol=1e-4)


@pytest.mark.parametrize("path", [paths.FlowPath(), paths.DDPMPath(schedules.cosine(1000))], ids=repr)
def test_score_is_the_gradient_of_log_density(path):
    # Tweedie: grad log p_t(x) = (alpha E[x0|x] - x) / sigma^2; log p_t from log_prob, grad by autograd
    mix = oracle.anisotropic_pair()
    field = oracle.MixtureField(mix, path)
    x = torch.randn(64, 2, generator=_gen(11)) * 1.5
    for t in (0.05, 0.3, 0.8):
        tt = torch.full((64,), t)
        xr = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(mix.log_prob(xr, path.alpha(tt), path.sigma(tt)).sum(), xr)
        score = paths.score_from_x0(path, x, tt, field.x0(x, tt))
        assert torch.allclose(score, grad, rtol=1e-3, atol=1e-3), t


def test_sample_moments():
    mix = oracle.anisotropic_pair()
    x = mix.sample(200_000, _gen(12))
    mean = (mix.weights[:, None] * mix.means).sum(0)
    second = sum(w * (S + torch.outer(m, m)) for w, m, S in zip(mix.weights, mix.means, mix.covs))
    cov = second - torch.outer(mean, mean)
    assert torch.allclose(x.mean(0), mean, atol=0.01)
    assert torch.allclose(torch.cov(x.T), cov, atol=0.01)
    only1 = mix.sample(10_000, _gen(13), label=1)
    assert torch.allclose(only1.mean(0), mix.means[1], atol=0.01)


def test_labels_restrict_to_the_class_components():
    mix = oracle.eight_gaussians()
    x = torch.randn(50, 2, generator=_gen(14))
    for c in (0, 1):
        keep = mix.labels == c
        sub = oracle.GaussianMixture(mix.weights[keep], mix.means[keep], mix.covs[keep])
        got = mix.posterior_mean(x, 0.7, 0.5, labels=torch.full((50,), c))
        assert torch.allclose(got, sub.posterior_mean(x, 0.7, 0.5), atol=1e-5)
        pts = oracle.PointSetField(mix.means, paths.FlowPath(), labels=mix.labels)
        ref = oracle.PointSetField(mix.means[keep], paths.FlowPath())
        t = torch.full((50,), 0.4)
        assert torch.allclose(pts.x0(x, t, torch.full((50,), c)), ref.x0(x, t), atol=1e-5)
    # a negative label means unconditional, per particle
    mixed = torch.tensor([-1, 0] * 25)
    got = mix.posterior_mean(x, 0.7, 0.5, labels=mixed)
    assert torch.allclose(got[::2], mix.posterior_mean(x[::2], 0.7, 0.5), atol=1e-6)


def test_guidance_in_x0_space_equals_guidance_in_eps_space():
    mix = oracle.eight_gaussians()
    path = paths.DDPMPath(schedules.linear(1000))
    field = oracle.MixtureField(mix, path)
    x = torch.randn(40, 2, generator=_gen(15))
    t = torch.full((40,), 0.5)
    labels = torch.arange(40) % 2
    cond, uncond = field.x0(x, t, labels), field.x0(x, t)
    for w in (0.0, 1.0, 3.0):
        one_call = GuidedField(field, w, null_label=-1)
        two_calls = GuidedField(field, w)
        g1, g2 = one_call.x0(x, t, labels), two_calls.x0(x, t, labels)
        assert torch.allclose(g1, g2, atol=1e-6) and one_call.evaluations(labels) == 2
        eps = lambda x0: paths.eps_from_x0(path, x, t, x0)  # noqa: E731
        assert torch.allclose(eps(g1), eps(uncond) + w * (eps(cond) - eps(uncond)), atol=1e-4)
    assert torch.allclose(GuidedField(field, 1.0).x0(x, t, labels), cond, atol=1e-6)
    assert torch.allclose(GuidedField(field, 0.0).x0(x, t, labels), uncond, atol=1e-6)
    assert GuidedField(field, 3.0).evaluations(None) == 1


def test_bad_mixtures_are_rejected():
    with pytest.raises(ValueError):
        oracle.GaussianMixture(torch.ones(2), torch.zeros(2, 2), torch.zeros(3, 2, 2))
    with pytest.raises(ValueError):
        oracle.GaussianMixture(torch.ones(1), torch.zeros(1, 2), -torch.eye(2)[None])
    with pytest.raises(ValueError):
        oracle.eight_gaussians().sample(5, label=7)
