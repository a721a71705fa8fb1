"""Paths that cross in the data (a stochastic sampler) against a layout that tangles them: the measure
of neighbours kept per step in the data and in the picture, the figure's note, and the colouring by
where each final sample lies that makes crossings readable on a single-prompt tree."""
import numpy as np
import pytest
import torch

from sandbox.errors import UserError
from tdl.pipeline import branch_metrics
from tdl.plot import crossing_note, make_figure
from tdl.plot_colors import final_angle
from tdl_synthetic import synthetic


def test_neighbours_kept_is_one_for_still_paths_and_chance_for_fresh_noise():
    tree, traj = synthetic(S=6, P=1, per=60)
    still = torch.as_tensor(np.repeat(traj.features[:1], 6, 0))  # the same points at every step
    m = branch_metrics(still, still[..., :2], traj, "radial", 1.0)
    assert m["neighbours_kept"] == 1.0 and m["neighbours_kept_display"] == 1.0
    fresh = torch.randn(6, 60, 5, generator=torch.Generator().manual_seed(0))  # unrelated steps
    m = branch_metrics(fresh, still[..., :2], traj, "radial", 1.0)
    assert m["neighbours_kept"] < 0.35  # chance: 10 of 59 = 0.17
    assert m["neighbours_kept_display"] == 1.0  # each space measured on its own


def test_the_figure_says_when_paths_cross_in_the_data():
    tree, traj = synthetic(P=1, per=12)
    traj.meta = {"sampler": "euler_maruyama"}
    tree.metrics.update(neighbours_kept=0.69, neighbours_kept_display=0.59)
    note = crossing_note(tree.metrics, traj)
    assert "69%" in note and "59%" in note and "noise" in note
    assert any(t.get_text() == note for t in make_figure(tree, traj, thumbnails=0).texts)
    # an ODE's paths do not cross: a dense cloud's neighbours change (digits, DDIM, 2000 per prompt, kept
    # 0.79, the picture 0.52), and the note would blame the data for the picture's own loss
    for sampler in ("heun", "ddim", None):
        traj.meta = {"sampler": sampler}
        assert crossing_note(tree.metrics, traj) == ""
    traj.meta = {"sampler": "euler_maruyama"}
    tree.metrics.update(neighbours_kept=0.96)
    assert crossing_note(tree.metrics, traj) == ""


def test_final_angle_tells_apart_modes_round_a_circle_in_any_dimension():
    a = np.linspace(-np.pi, np.pi, 8, endpoint=False)
    ring = np.stack([np.cos(a), np.sin(a)], 1)
    assert len(np.unique(np.round(final_angle(ring)))) == 8  # one axis would pair them up
    rot = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 6)))[0]
    high = np.concatenate([3 * ring, 0.1 * np.ones((8, 4))], 1) @ rot  # the ring in 6-D
    assert len(np.unique(np.round(final_angle(high)))) == 8


def test_a_single_prompt_is_coloured_by_where_it_ends_unless_asked():
    tree, traj = synthetic(P=1, per=12, positions2d=True)
    colour_bar = lambda fig: any("final sample" in a.get_ylabel() for a in fig.axes)  # noqa: E731
    assert colour_bar(make_figure(tree, traj, thumbnails=0))  # auto
    assert not colour_bar(make_figure(tree, traj, thumbnails=0, color_by="prompt"))
    assert not colour_bar(make_figure(tree, None, thumbnails=0))  # nothing to colour by: prompts
    several, traj3 = synthetic(P=3, per=4)
    assert not colour_bar(make_figure(several, traj3, thumbnails=0))  # prompts first
    assert colour_bar(make_figure(several, traj3, thumbnails=0, color_by="final"))
    with pytest.raises(UserError, match="needs the trajectory"):
        make_figure(several, None, color_by="final")
    with pytest.raises(UserError, match="choose auto, prompt or final"):
        make_figure(several, traj3, color_by="prompts")
