"""The fused CPU kernels (tdl/fused.py) against the tensor code and autograd; the approximate gradient
against the exact one; `auto`'s choice against the measured per-iteration times."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tdl import fused
from tdl.affinity import calibrate, dense_affinities, knn_affinities
from tdl.embedding import EmbedConfig
from tdl.losses import tsne_exact, tsne_sparse
from tdl.repulsion import _smooth, grid_size, repulsion_exact, repulsion_grid

needs_numba = pytest.mark.skipif(not fused.available(), reason="numba is not installed")
RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results" / "tdl_crossover.json"


def problem(S, I, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(S, I, 6, generator=g, dtype=torch.float64)
    Y = (6 * torch.randn(S, I, 2, generator=g, dtype=torch.float64)).to(dtype)
    return x, Y


@needs_numba
@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-10), (torch.float32, 2e-4)])
@pytest.mark.parametrize("exaggeration", [1.0, 4.0])
def test_fused_exact_gradient_and_loss_equal_the_tensor_code(dtype, rtol, exaggeration):
    x, Y = problem(3, 60, dtype)
    P = dense_affinities(x, perplexity=8.0).to(dtype)
    l_fused, g_fused = tsne_exact(Y, P, exaggeration)
    l_torch, g_torch = tsne_exact(Y, P, exaggeration, work={"fused": False})
    scale = g_torch.abs().max()
    np.testing.assert_allclose(g_fused.numpy(), g_torch.numpy(), rtol=0, atol=rtol * float(scale))
    np.testing.assert_allclose(l_fused.numpy(), l_torch.numpy(), rtol=rtol * 10)
    assert g_fused.dtype == dtype


@needs_numba
def test_fused_sparse_attraction_equals_the_tensor_code():
    x, Y = problem(2, 80, torch.float64, seed=1)
    P = knn_affinities(x, perplexity=6.0)
    for e in (1.0, 4.0):
        l1, g1 = tsne_sparse(Y, P, e, repulsion_exact)  # fused attraction (CPU)
        l2, g2 = tsne_exact(Y, P.to_dense(), e, work={"fused": False})  # dense tensor code, same P
        np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=0, atol=1e-10 * float(g2.abs().max()))
        np.testing.assert_allclose(l1.numpy(), l2.numpy(), rtol=1e-9)


def test_newton_calibration_meets_the_bisection_tolerance_on_hard_rows():
    # rows of very different scales and one with many ties: the Newton steps must stay bracketed
    g = torch.Generator().manual_seed(4)
    d2 = torch.cat((torch.rand(5, 200, generator=g, dtype=torch.float64) * 1e-4,
                    torch.rand(5, 200, generator=g, dtype=torch.float64) * 1e4,
                    torch.cat((torch.zeros(1, 20, dtype=torch.float64),  # 20 ties at the minimum
                               1 + 99 * torch.rand(1, 180, generator=g, dtype=torch.float64)), 1)))
    p = calibrate(d2, 30.0, tol=1e-10)
    H = -torch.special.xlogy(p, p).sum(-1)
    assert (H - math.log(30.0)).abs().max() < 1e-8


def test_approximate_gradient_matches_the_exact_one():
    """The whole approximate gradient (kNN P + grid repulsion) on the exact P restricted to the same
    edges: the grid's error only, well below the gradient's size."""
    x, Y = problem(2, 300, torch.float64, seed=5)
    P = knn_affinities(x, perplexity=10.0)
    _, g_exact = tsne_sparse(Y, P, 1.0, repulsion_exact)
    errs = []
    for spacing in (0.4, 0.2):  # 0.4 is the default
        _, g_grid = tsne_sparse(Y, P, 1.0, lambda Y, h=spacing: repulsion_grid(Y, h))
        errs.append(((g_grid - g_exact).norm(dim=-1).max() / g_exact.norm(dim=-1).max()).item())
    assert errs[0] < 0.05 and errs[1] < 0.006, errs


def test_grid_sizes_are_fft_friendly():
    assert _smooth(222) == 224 and _smooth(224) == 224 and _smooth(1024) == 1024
    Y = torch.tensor([[[0.0, 0.0], [43.0, 1.0]]])
    G = grid_size(Y, 0.4)
    assert 2 * G == _smooth(2 * G) and (G - 5) * 0.4 >= 43.0


@pytest.mark.skipif(not RESULTS.exists(), reason="no recorded crossover measurements")
def test_auto_never_picks_the_slower_method_where_measured():
    """bench/results/tdl_crossover.json holds seconds per iteration of both methods at several sizes
    (bench/tdl_scale.py --time-iters, CPU and one H200); `auto` must take the faster one at each."""
    rows = json.loads(RESULTS.read_text())["rows"]
    assert rows and all(r["steps"] == 50 for r in rows)
    for r in rows:
        picked = EmbedConfig(device=r["device"]).resolved_method(r["instances"], r["steps"])
        faster = "exact" if r["exact_s"] <= r["approx_s"] else "approx"
        slower_by = r[f"{picked}_s"] / r[f"{faster}_s"]
        # a tie within 10 % is no loss either way (timing noise on a shared machine)
        assert picked == faster or slower_by < 1.1, (r, picked)


def test_auto_keeps_the_dense_affinities_within_their_memory_bound():
    cfg = EmbedConfig(device="cpu")
    assert cfg.resolved_method(1000, 50) == "exact"  # 50 M pairs, 0.2 GB
    assert cfg.resolved_method(3000, 50) == "exact"  # 0.45 G pairs, 1.8 GB
    assert cfg.resolved_method(3000, 200) == "approx"  # 7.2 GB of P: the kNN affinities instead
    assert cfg.resolved_method(3001, 50) == "approx"
    assert EmbedConfig(device="cuda:0").resolved_method(2001, 50) == "approx"


def test_dense_affinities_in_step_groups_equal_all_at_once():
    x, _ = problem(5, 40, torch.float64, seed=6)
    np.testing.assert_allclose(dense_affinities(x, 8.0, chunk_entries=40 * 40 * 2).numpy(),
                               dense_affinities(x, 8.0).numpy(), rtol=0, atol=0)


@needs_numba
def test_fused_gradient_does_not_depend_on_the_thread_count():
    """Steps are split between threads whole (prange over steps), so the sums do not change order."""
    x, Y = problem(6, 50, torch.float32, seed=7)
    P = dense_affinities(x, perplexity=8.0).float()
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = fused.exact_gradient(Y, P, 1.0)[0]
        torch.set_num_threads(2)
        two = fused.exact_gradient(Y, P, 1.0)[0]
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one, two)
