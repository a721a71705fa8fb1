"""Free per-step t-SNE start (tdl/free_start.py, EmbedConfig.free_iters) and the length_scale="auto" limit."""
import math

import pytest
import torch

from sandbox.errors import UserError
from tdl import layout as lay
from tdl.affinity import dense_affinities
from tdl.embedding import EmbedConfig, embed, iterate, prepare
from tdl.free_start import procrustes_chain, to_rings
from tdl.metrics import step_separation
from tdl.synthetic import branching


def _orth(angle: float, reflect: bool) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    m = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    return m @ torch.diag(torch.tensor([1.0, -1.0], dtype=torch.float64)) if reflect else m


def test_procrustes_chain_undoes_rotations_reflections_and_shifts():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(40, 2, generator=g, dtype=torch.float64)
    turns = [(0.3, False), (2.0, True), (-1.1, True), (0.0, False)]
    Y = torch.stack([base @ _orth(a, r) + torch.randn(2, generator=g, dtype=torch.float64) for a, r in turns])
    out = procrustes_chain(Y)
    last = Y[-1] - Y[-1].mean(0)
    for s in range(4):  # every step now lies on the (centred) last one
        assert torch.allclose(out[s], last, atol=1e-9)


@pytest.mark.parametrize("layout", ["radial", "rectilinear"])
def test_to_rings_keeps_angles_and_radial_order(layout):
    g = torch.Generator().manual_seed(1)
    Y = torch.randn(3, 200, 2, generator=g, dtype=torch.float64)
    Y = Y - Y.mean(1, keepdim=True)
    t = lay.targets(3, layout, 20.0, dtype=torch.float64)
    R = to_rings(Y, t, 5.0, layout, 20.0)
    rho, phi = lay.to_polar(Y)
    along, across = lay.split(R, layout)
    for s in range(3):  # the distance from the centre keeps its order across the ring
        o = rho[s].argsort()
        assert (along[s, o].diff() > 0).all()
    if layout == "radial":
        assert torch.allclose(torch.remainder(across - phi + 1, 2 * math.pi), torch.ones_like(phi), atol=1e-9)
        assert along[0].max() <= 5.0 and (along[1:] - 20).abs().max() <= 5.0  # the centre disk, the rings
    else:
        assert torch.allclose(across, 20.0 * (phi - math.pi), atol=1e-9)
        assert along.abs().max() <= 5.0


def test_free_phase_is_plain_tsne_then_every_step_on_its_ring():
    X, _ = branching(steps=5, instances=60, dim=12, clusters=4, seed=0)
    x = prepare(X, EmbedConfig())
    P = dense_affinities(x, 10.0)
    Y0 = 1e-4 * torch.randn(60, 2, generator=torch.Generator().manual_seed(3)).expand(5, 60, 2)
    free = EmbedConfig(n_iter=200, free_iters=8, perplexity=10)
    plain = EmbedConfig(n_iter=200, perplexity=10, disp_weight=0.0, align_weight=0.0)
    a, b = iterate(x, free, Y0=Y0, P=P), iterate(x, plain, Y0=Y0, P=P)
    for _ in range(8):  # the first free_iters iterations: no displacement, no alignment
        assert torch.allclose(next(a).Y, next(b).Y, atol=1e-4)
    r = embed(X, EmbedConfig(n_iter=200, free_iters=80, perplexity=10))
    c = r.config
    assert step_separation(r.Y, c.layout, c.radius, c.stretch)[0] > 0.98  # the rings came back
    assert torch.isfinite(r.Y).all()


@pytest.mark.parametrize("free", [-1, 200, 500])
def test_free_iters_out_of_range_is_one_clear_error(free):
    with pytest.raises(UserError, match="free-iterations"):
        EmbedConfig(n_iter=200, free_iters=free).validate(5, 60)


def test_free_iters_refused_for_rectilinear():
    with pytest.raises(UserError, match="radial layout"):
        EmbedConfig(layout="rectilinear", free_iters=10).validate(5, 60)


def test_auto_length_scale_refused_where_it_was_measured_random():
    EmbedConfig(length_scale="auto").validate(50, 800)  # 2x: allowed
    with pytest.raises(UserError, match="length_scale='auto'.*2.2x larger at 1000 instances"):
        EmbedConfig(length_scale="auto").validate(50, 1000)
    with pytest.raises(UserError, match="10.0x"):
        embed(torch.randn(2, 20000, 3), EmbedConfig(length_scale="auto", n_iter=5))
