"""Metrics against closed forms and scipy."""
import math

import numpy as np
import pytest
import torch

from sandbox import metrics, oracle, paths, samplers
from sandbox.trajectory import Trajectory



def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_sliced_wasserstein_of_identical_samples_is_zero():
    a = torch.randn(500, 2, generator=_gen(1))
    assert metrics.sliced_wasserstein(a, a) == 0.0
    assert metrics.sliced_wasserstein(a, a[torch.randperm(500, generator=_gen(2))]) == 0.0


@pytest.mark.parametrize("D", [2, 3])
def test_sliced_wasserstein_of_a_shift(D):
    # shift by d: along theta every 1-D distance is |d . theta|, so SW1 = |d| E|theta_1| and
    # SW2 = |d| sqrt(E theta_1^2) = |d| / sqrt(D), theta uniform on the sphere
    a = torch.randn(300, D, generator=_gen(3))
    d = torch.zeros(D)
    d[0] = 0.7
    e_abs = math.gamma(D / 2) / (math.sqrt(math.pi) * math.gamma((D + 1) / 2))  # 2/pi in 2-D
    sw1 = metrics.sliced_wasserstein(a, a + d, n_projections=4000, p=1)
    sw2 = metrics.sliced_wasserstein(a, a + d, n_projections=4000, p=2)
    assert sw1 == pytest.approx(0.7 * e_abs, rel=0.02)
    assert sw2 == pytest.approx(0.7 / math.sqrt(D), rel=0.02)
    # it grows with the shift (linearly: it is a distance of translates)
    assert metrics.sliced_wasserstein(a, a + 2 * d) == pytest.approx(2 * metrics.sliced_wasserstein(a, a + d), rel=1e-4)


def test_one_dimensional_w1_with_unequal_sizes_equals_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    a = torch.randn(137, 1, generator=_gen(4))
    b = torch.randn(251, 1, generator=_gen(5)) * 1.5 + 0.3
    ours = metrics.sliced_wasserstein(a, b, n_projections=3, p=1)  # 1-D: every theta is +-1
    assert ours == pytest.approx(scipy_stats.wasserstein_distance(a[:, 0].numpy(), b[:, 0].numpy()), rel=1e-5)


def test_w2_by_hand_with_unequal_sizes():
    # quantiles of {0, 1} and {0, 0, 1} differ only on (1/2, 2/3], by 1: W2^2 = 1/6
    a, b = torch.tensor([[0.0], [1.0]]), torch.tensor([[0.0], [0.0], [1.0]])
    assert metrics.sliced_wasserstein(a, b, n_projections=4) == pytest.approx(math.sqrt(1 / 6), rel=1e-6)


def test_energy_distance_equals_scipy_in_1d_and_brute_force_in_2d():
    scipy_stats = pytest.importorskip("scipy.stats")
    scipy_dist = pytest.importorskip("scipy.spatial.distance")
    a, b = torch.randn(200, 1, generator=_gen(6)), torch.randn(90, 1, generator=_gen(7)) + 0.5
    ref = scipy_stats.energy_distance(a[:, 0].numpy(), b[:, 0].numpy())
    assert metrics.energy_distance(a, b) == pytest.approx(ref, rel=1e-5)
    a2, b2 = torch.randn(40, 2, generator=_gen(8)), torch.randn(55, 2, generator=_gen(9)) * 2
    A, B = a2.double().numpy(), b2.double().numpy()
    e2 = 2 * scipy_dist.cdist(A, B).mean() - scipy_dist.cdist(A, A).mean() - scipy_dist.cdist(B, B).mean()
    assert metrics.energy_distance(a2, b2) == pytest.approx(math.sqrt(e2), rel=1e-5)
    # two point masses |v| apart: 2|v| - 0 - 0
    far = torch.tensor([[3.0, 4.0]]).expand(7, 2)
    assert metrics.energy_distance(torch.zeros(5, 2), far) == pytest.approx(math.sqrt(10))
    assert metrics.energy_distance(a2, a2) == 0.0


def test_baseline_and_compare():
    mix = oracle.eight_gaussians()
    small = metrics.baseline(mix.sample, 200, generator=_gen(10))
    large = metrics.baseline(mix.sample, 2000, generator=_gen(10))
    assert large < small  # sampling noise shrinks with n
    again = [metrics.baseline(mix.sample, 500, generator=_gen(11)) for _ in range(2)]
    assert again[0] == again[1]  # seeded
    # a finite point set is resampled with replacement; one repeated point has baseline 0
    assert metrics.baseline(torch.ones(10, 2), 100) == 0.0
    pts = mix.sample(3000, _gen(12))
    assert 0.5 < metrics.compare(pts[:1000], mix.sample, generator=_gen(13)).ratio < 1.6
    shifted = metrics.compare(pts[:1000] + torch.tensor([0.5, 0.0]), mix.sample, generator=_gen(13))
    assert shifted.ratio > 3 and shifted.value == pytest.approx(shifted.ratio * shifted.baseline)
    assert 0.5 < metrics.compare(pts[:1000], pts, metric="energy", generator=_gen(14)).ratio < 1.6


def test_straightness_and_nfe():
    ts = torch.tensor([1.0, 0.5, 0.0])
    straight = torch.tensor([[[0.0, 0.0]], [[1.0, 1.0]], [[2.0, 2.0]]])
    zigzag = torch.tensor([[[0.0, 0.0]], [[1.0, 1.0]], [[2.0, 0.0]]])
    still = torch.zeros(3, 1, 2)
    assert metrics.straightness(Trajectory(straight, ts, 2)) == pytest.approx(1.0)
    assert metrics.straightness(Trajectory(zigzag, ts, 2)) == pytest.approx(1 / math.sqrt(2))
    assert metrics.straightness(Trajectory(still, ts, 2)) == 1.0
    both = Trajectory(torch.cat([straight, zigzag], 1), ts, 2)
    assert metrics.straightness(both) == pytest.approx((1 + 1 / math.sqrt(2)) / 2)
    # the flow path's ODE for a single point is a straight line; DDPM's probability-flow ODE is not
    x_T = torch.randn(64, 2, generator=_gen(15))
    flow = samplers.run(oracle.PointSetField(torch.tensor([[1.0, -1.0]]), paths.FlowPath()), "euler", x_T, 20)
    assert metrics.straightness(flow) == pytest.approx(1.0, abs=1e-5) and metrics.nfe(flow) == 20
    assert np.isfinite(metrics.straightness(flow))
