"""Warm start: training continues from a model on changed data and gets there faster than from
scratch (`train(..., init=model)`, `diffusion-sandbox train --init MODEL`)."""
import numpy as np
import pytest
import torch

from sandbox import metrics
from sandbox.datasets import PointSet, make_preset
from sandbox.errors import UserError
from sandbox.train import TrainConfig, train, warm_start_config

SMALL = dict(width=64, batch_size=256, eval_every=0, patience=0)


def _last(events):
    ev = None
    for ev in events:
        pass
    return ev


def _stroke_data():
    """Moons plus a stroke: 400 points along a segment below them (what a user adds by drawing)."""
    base = make_preset("moons", n=1600, seed=0).points
    g = np.random.default_rng(1)
    u = g.uniform(0, 1, 400)
    stroke = np.stack([-0.5 + 2.5 * u, np.full(400, -1.0)], 1) + 0.03 * g.standard_normal((400, 2))
    return base, PointSet(np.concatenate([base, stroke]), None, [], "moons+stroke")


def _score(model, pts):
    x = model.sample(2000, seed=5).final
    ref = torch.as_tensor(pts, dtype=torch.float32)
    pick = torch.randperm(len(ref), generator=torch.Generator().manual_seed(0))[:2000]
    return metrics.sliced_wasserstein(x, ref[pick])


def test_warm_start_beats_training_from_scratch_on_changed_data():
    base, new = _stroke_data()
    old = _last(train(TrainConfig(steps=400, **SMALL), PointSet(base, None, [], "moons"))).model
    warm_cfg = warm_start_config(TrainConfig(**SMALL), steps=80)
    warm = _last(train(warm_cfg, new, init=old)).model
    cold = _last(train(TrainConfig(steps=80, reference=0, **SMALL), new)).model  # the warm run's plain targets
    s_old, s_warm, s_cold = _score(old, new.points), _score(warm, new.points), _score(cold, new.points)
    assert s_warm < 0.7 * s_old  # it learned the stroke ...
    assert s_warm < 0.8 * s_cold  # ... far faster than starting again (measured 0.068 vs 0.098)
    # the model it started from is untouched, and the new one keeps its coordinates
    assert _score(old, new.points) == s_old
    assert warm.normalizer.to_dict() == old.normalizer.to_dict()


def test_warm_start_refuses_another_network_or_objective():
    data = make_preset("moons", n=200)
    old = _last(train(TrainConfig(steps=2, **SMALL), data)).model
    with pytest.raises(UserError, match="warm start keeps the network"):
        _last(train(TrainConfig(steps=2, **{**SMALL, "width": 32}), data, init=old))
    with pytest.raises(UserError, match="initial model is flow"):
        _last(train(TrainConfig(objective="ddpm", steps=2, **SMALL), data, init=old))


def test_cli_init(tmp_path, capsys):
    from sandbox.cli import main
    from sandbox.modelio import load_model, shipped_model_path

    out = tmp_path / "warm.safetensors"
    rc = main(["train", "--init", str(shipped_model_path("moons", "flow")), "--dataset", "rings", "--steps", "20",
               "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0 and "warm start from" in printed and "reached the step cap" in printed  # says why it ended
    m = load_model(out)
    assert m.data_summary["name"] == "rings" and m.config["train"].get("init") is True
    assert main(["train", "--init", str(tmp_path / "none.safetensors"), "--out", str(out)]) == 2


def test_train_as_i_draw_keeps_the_shipped_model_after_a_stroke():
    """Train as I draw warm-starts a fresh Adam from the shown model: at the full learning rate its first
    steps moved every weight by ~1e-2, and 5 steps after a 30-point stroke took the shipped smiley from
    1.18x to 3.46x (seen in the window: 0.99x to 1.45x after one stroke). The live run uses a third of the
    rate with the stable targets: still near the shipped score after 5 steps (docs/BENCHMARKS.md: and it
    follows the stroke nearly as fast)."""
    import itertools
    from dataclasses import replace

    from sandbox.app import engine
    from sandbox.app.settings import PaneSettings, TrainSettings

    m0 = next(m for m in engine.shipped_models("smiley") if engine.model_key(m) == ("flow",))
    ps = make_preset("smiley", n=2000, seed=0)
    blob = np.random.default_rng(0).normal([0.3, 1.2], 0.05, (30, 2))
    pts = np.concatenate([ps.points, blob]).astype(np.float32)
    data = PointSet(pts, np.concatenate([ps.labels, np.zeros(30, ps.labels.dtype)]), ps.class_names, "drawing")
    pane = PaneSettings(objective="flow", sampler="euler", steps=50)
    x = torch.randn(2000, 2, generator=torch.Generator().manual_seed(1)).numpy()

    def ratio(m):
        return metrics.split_half(engine.sample(m, x, pane).traj.xs[-1], torch.as_tensor(pts)).ratio

    live = replace(TrainSettings(), train_steps=400, batch_size=256, eval_every=0)
    events = engine.train_events(data, pane, live, "cpu", init=m0, live=True)
    after = [e.model for e in itertools.islice(events, 5)][-1]
    assert ratio(after) < 1.25 * ratio(m0), (ratio(after), ratio(m0))
