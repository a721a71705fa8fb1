"""The data's neighbourhood persistence between steps and the alignment scale it sets (tdl/persistence.py)."""
import pytest
import torch

from tdl.persistence import alignment_scale, neighbour_persistence


def test_persistence_of_identical_steps_is_one_and_the_last_step_zero():
    x = torch.randn(1, 50, 8, generator=torch.Generator().manual_seed(0)).expand(3, 50, 8)
    p = neighbour_persistence(x, k=5)
    assert p.tolist() == [1.0, 1.0, 0.0]


def test_persistence_counts_the_neighbours_kept():
    """k = 1, I = 10 points on a line at the triangular numbers T_j = 0, 1, 3, 6, ... (no ties: the
    nearest neighbour of the point at T_j is the one at T_(j-1), of the one at 0 the one at 1).
    Step 0: point i at T_i (nearest: i - 1; point 0: 1). Step 1: point i at T_(9-i) (nearest: i + 1;
    point 9: 8): points 0 and 9 keep theirs, 2 / 10. Step 2: pairs (0, 1), (2, 3), ... far apart (nearest:
    the partner): the even points 0 .. 8 and point 9 keep theirs, 6 / 10."""
    I = 10
    T = torch.tensor([j * (j + 1) / 2 for j in range(I)], dtype=torch.float64)
    pairs = 1000.0 * (torch.arange(I) // 2) + 1.0 * (torch.arange(I) % 2)
    x = torch.stack((T, T.flip(0), pairs.double()))[..., None]  # (3, I, 1)
    p = neighbour_persistence(x, k=1)
    assert p.tolist() == pytest.approx([0.2, 0.6, 0.0])


def test_persistence_of_unrelated_steps_is_chance():
    """Fresh noise at every step: a neighbour is kept with probability about k / (I - 1)."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 400, 30, generator=g)
    p = neighbour_persistence(x, k=10)
    assert p[:-1].mean().item() == pytest.approx(10 / 399, abs=0.01)


def test_sampled_persistence_estimates_the_exact_one():
    g = torch.Generator().manual_seed(2)
    base = torch.randn(1, 600, 10, generator=g)
    x = base + torch.linspace(0.1, 1.5, 4)[:, None, None] * torch.randn(4, 600, 10, generator=g)
    exact = neighbour_persistence(x, queries=600)
    est = neighbour_persistence(x, queries=300)
    assert torch.allclose(est[:-1], exact[:-1], atol=0.04), (est, exact)
    assert not torch.equal(est, exact)  # a subsample really was used


def test_alignment_scale_saturates_at_a_third_of_the_largest_persistence():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(5, 100, 20, generator=g)
    x[3] = x[2] + 0.01 * torch.randn(100, 20, generator=g)  # steps 2 -> 3 persist fully
    p = neighbour_persistence(x)
    s = alignment_scale(x)
    assert s[2].item() == 1.0
    assert torch.allclose(s[:2], (3 * p[:2] / p.max()).clamp(max=1.0))
    assert (s[:2] < 0.5).all()  # unrelated steps keep a small share of the alignment
