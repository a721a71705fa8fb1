"""AppState without any display: drawing, settings, training, sessions, autosave, animation.

Models are either the exact Gaussian-mixture denoiser (sandbox.oracle, dressed as a model) or
tiny networks trained for a few dozen steps, so every test runs in seconds.
"""
import os

import numpy as np
import pytest
import torch

from sandbox.app import engine, session
from sandbox.app.settings import Settings, TrainSettings
from sandbox.app.state import AppState
from sandbox.datasets import Normalizer
from sandbox.oracle import GaussianMixture, MixtureField
from sandbox.paths import FlowPath

TINY = TrainSettings(train_steps=25, batch_size=64, width=16, depth=1, lr=3e-3, eval_every=0)
MEANS = np.array([[3.0, 1.0], [5.0, 1.0], [4.0, 3.0]])  # data coordinates, far from the origin


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))


def exact_model(means=MEANS, std=0.05, path=None):
    """The exact denoiser of a mixture of tight Gaussians at `means` (data coordinates)."""
    norm = Normalizer(np.asarray(means).mean(0), 1.7)
    mc = torch.tensor(norm.forward(np.asarray(means, np.float64)), dtype=torch.float32)
    k = len(means)
    covs = (std / norm.scale) ** 2 * torch.eye(2).repeat(k, 1, 1)
    field = MixtureField(GaussianMixture(torch.ones(k), mc, covs), path or FlowPath())
    return engine.ExactModel(field, norm, name="three")


def make_state(tmp_path, **kw) -> AppState:
    kw.setdefault("settings", Settings(train=TINY, particles=300))
    return AppState(None, load_shipped=False, auto_train=False, out_dir=tmp_path, **kw)


def with_model(st: AppState, model) -> AppState:
    st.models[engine.model_key(model)] = model
    st.resample()
    st.wait_idle()
    return st


def test_spray_erase_undo_redo(tmp_path):
    st = make_state(tmp_path)
    assert st.spray(1.0, 2.0, radius=0.5, density=40) == 40
    p = st.drawing.points
    assert len(p) == 40 and (np.linalg.norm(p - [1.0, 2.0], axis=1) <= 0.5 + 1e-6).all()
    st.set_brush_class(2)
    st.spray(-3.0, 0.0, radius=0.2, density=10)
    assert st.drawing.num_classes == 3 and (st.drawing.labels[-10:] == 2).all()
    removed = st.erase(1.0, 2.0, radius=0.3)
    d = np.linalg.norm(st.drawing.points - [1.0, 2.0], axis=1)
    assert removed > 0 and (d > 0.3).all() and len(st.drawing) == 50 - removed
    before = st.drawing.points.copy()
    st.clear()
    assert len(st.drawing) == 0
    st.undo()
    np.testing.assert_array_equal(st.drawing.points, before)
    st.undo()
    assert len(st.drawing) == 50
    st.redo()
    st.redo()
    assert len(st.drawing) == 0
    st.undo()
    assert st.drawing.pointset().labels is not None  # several classes: a labelled set


def test_exact_model_samples_land_on_data_in_data_coordinates(tmp_path):
    st = with_model(make_state(tmp_path), exact_model())
    traj = st.panes[0].sampled.traj
    final = traj.xs[-1].numpy()
    d = np.linalg.norm(final[:, None] - MEANS[None], axis=2).min(axis=1)
    assert np.median(d) < 0.1 and (d < 0.5).mean() > 0.97
    noise = traj.xs[0].numpy()      # the start is the model's noise mapped into data coords
    np.testing.assert_allclose(noise, st.x_T * 1.7 + MEANS.mean(0), atol=1e-4)
    assert st.panes[0].sampled.nfe == 50 and 0.3 < st.panes[0].sampled.straightness < 1.0
    st.set_pane(0, steps=1)                # one Euler step: a straight segment per particle
    st.wait_idle()
    assert st.panes[0].sampled.nfe == 1 and st.panes[0].sampled.straightness == pytest.approx(1.0)


def test_compare_panes_share_noise_and_report_nfe(tmp_path):
    st = make_state(tmp_path)
    st.set_pane(0, objective="flow", sampler="euler", steps=10)
    st.set_pane(1, objective="flow", sampler="heun", steps=10)
    st.set_compare(True)
    with_model(st, exact_model())
    a, b = st.panes[0].sampled, st.panes[1].sampled
    np.testing.assert_allclose(a.traj.xs[0].numpy(), b.traj.xs[0].numpy())
    assert (a.nfe, b.nfe) == (10, 19)  # Heun's last step is Euler (t = 0)
    assert a.traj.xs.shape[0] == 11 and b.traj.xs.shape[0] == 11


def test_settings_fix_impossible_combinations(tmp_path):
    st = make_state(tmp_path)
    st.set_pane(0, objective="ddpm", sampler="ddpm")
    st.set_pane(0, objective="flow")
    assert st.panes[0].settings.sampler in ("euler", "heun", "midpoint", "euler_maruyama")
    assert st.panes[0].note.startswith("no flow matching model")
    with pytest.raises(Exception):
        st.set_pane(0, bogus=1)
    st.cycle_sampler(0)
    assert st.panes[0].settings.sampler != "ddpm"
    s = Settings.from_dict({"pane": {"objective": "nope", "steps": -5}, "junk": 1})
    assert s.pane.objective == "flow" and s.pane.steps == 1


def test_train_tiny_model_then_sample(tmp_path):
    st = make_state(tmp_path)
    st.set_train(eval_every=20, eval_samples=300)
    st.set_preset("moons")
    assert st.train()
    assert st.training.running
    st.wait_idle(120)
    assert not st.training.running and st.errors == 0
    assert len(st.training.losses) == TINY.train_steps and st.training.step == TINY.train_steps
    assert ("flow",) in st.models and st.panes[0].sampled is not None
    assert st.panes[0].sampled.traj.xs.shape == (51, 300, 2)
    assert st.training.scores and st.training.baseline > 0
    assert any("trained" in m.text for m in st.messages)


def test_bad_training_inputs_become_messages(tmp_path):
    st = make_state(tmp_path)
    st.spray(0.0, 0.0, radius=0.1, density=1)          # one point
    assert st.train() is False
    assert "at least 2" in st.messages[-1].text and st.messages[-1].level == "error"
    st.spray(1.0, 1.0, radius=1.0, density=200)
    st.set_train(lr=100.0)                             # diverges at once
    assert st.train()
    st.wait_idle(120)
    assert not st.training.running and st.errors == 0
    assert any("diverged" in m.text for m in st.messages)
    with pytest.raises(Exception):
        st.set_train(batch_size=0)


def test_stop_keeps_partial_model(tmp_path):
    st = make_state(tmp_path, settings=Settings(train=TrainSettings(train_steps=5000, width=16, depth=1,
                                                                    batch_size=32), particles=100))
    st.set_preset("moons")
    st.train()
    st.stop()
    st.wait_idle(60)
    assert not st.training.running and 0 < st.training.step < 5000 and st.models


def test_new_data_while_training_says_the_run_stopped(tmp_path):
    """A preset picked mid-run drops the run: said, not only the new preset's toast (the class saw
    the training chart vanish with no word)."""
    st = make_state(tmp_path, settings=Settings(train=TrainSettings(train_steps=5000, width=16, depth=1,
                                                                    batch_size=32), particles=100))
    st.set_preset("moons")
    st.train()
    st.set_preset("smiley")
    assert not st.training.running
    said = [m.text for m in st.recent_messages()]
    assert any(t.startswith("training stopped at step") and "data was replaced" in t for t in said), said
    st.wait_idle(60)
    assert st.errors == 0 and not st.models


def test_animation_clock_loop_and_hold(tmp_path):
    st = make_state(tmp_path)
    st.duration, st.hold, st.speed = 2.0, 0.5, 1.0
    st.play(True)
    st.step(0.25)
    st.step(0.25)
    assert st.progress == pytest.approx(0.25)
    st.step(5.0)                                      # a long stall moves at most 0.25 s
    assert st.progress == pytest.approx(0.375)
    st.set_progress(0.25)
    st.set_speed(2.0)
    st.step(0.25)
    assert st.progress == pytest.approx(0.5)
    for _ in range(10):
        st.step(0.1)
    assert st.progress == 1.0                         # held at the data
    st.step(0.25)
    assert st.progress == 0.0                         # looped after the hold
    st.toggle_loop()
    st.set_progress(1.0)
    st.step(0.3)
    st.step(0.3)
    assert not st.playing and st.progress == 1.0
    st.set_progress(float("nan"))
    assert st.progress == 0.0
    st.step_frames(3)
    assert st.progress == pytest.approx(3 / 50) and not st.playing


def test_release_particle_follows_its_path(tmp_path):
    st = with_model(make_state(tmp_path), exact_model())
    assert st.release_particle_at(3.6, 1.2)
    st.wait_idle()
    path = st.released[-1]
    assert path.shape == (51, 2)
    np.testing.assert_allclose(path[0], [3.6, 1.2], atol=1e-4)       # starts where clicked
    assert np.linalg.norm(path[-1] - MEANS[0]) < 0.3                   # ends on the nearest mode
    # on the mirror line between two modes the deterministic flow cannot choose: it stays there
    st.release_particle_at(4.0, 1.2)
    st.wait_idle()
    assert abs(st.released[-1][-1, 0] - 4.0) < 1e-3


def test_toggles_themes_and_errors(tmp_path):
    st = make_state(tmp_path)
    st.toggle("field")
    assert st.options.field
    with pytest.raises(Exception):
        st.toggle("nope")
    st.cycle_theme()
    assert st.theme_name == "light"
    st.set_presenter_scale(10)
    assert st.presenter_scale == 3.0
    with pytest.raises(Exception):
        st.set_theme("neon")


def test_field_and_mesh_layers_are_built(tmp_path):
    st = make_state(tmp_path)
    st.toggle("field")
    st.toggle("mesh")
    with_model(st, exact_model())
    pane = st.panes[0]
    assert pane.mesh is not None and pane.mesh.traj.xs.shape == (51, 21 * 21, 2)
    # the arrows' field evaluated at a point next to a mode points towards that mode
    from sandbox.view.field_view import field_vectors

    p = np.array([[3.3, 1.0]], np.float32)
    v = field_vectors(pane.field, 0.1, pane.field.to_canonical(p), "velocity")
    assert v[0, 0] < 0 and abs(v[0, 1]) < abs(v[0, 0])


def test_session_round_trip_with_trained_model(tmp_path):
    st = make_state(tmp_path)
    st.set_preset("moons")
    st.train()
    st.wait_idle(120)
    st.set_pane(0, sampler="heun", steps=7)
    st.toggle("mesh")
    st.set_theme("high-contrast")
    old_umask = os.umask(0o022)
    try:
        path = st.save_session(tmp_path / "s.safetensors")
    finally:
        os.umask(old_umask)
    assert path.stat().st_mode & 0o777 == 0o644     # was 0600 (safetensors' writer): shareable like a model
    st2 = make_state(tmp_path)
    st2.load_file(path)                               # detected as a session
    st2.wait_idle()
    np.testing.assert_array_equal(st2.drawing.points, st.drawing.points)
    assert st2.panes[0].settings == st.panes[0].settings and st2.options.mesh
    assert st2.theme_name == "high-contrast"
    x = torch.randn(5, 2)
    t = torch.full((5,), 0.5)
    a = st.models[("flow",)].field().x0(x, t)
    b = st2.models[("flow",)].field().x0(x, t)
    torch.testing.assert_close(a, b)
    (tmp_path / "bad.safetensors").write_bytes(b"not a file")
    with pytest.raises(Exception) as e:
        st2.load_file(tmp_path / "bad.safetensors")
    assert "UserError" in type(e.value).__name__


def test_autosave_and_restore(tmp_path):
    st = make_state(tmp_path)
    st.spray(0.0, 0.0, radius=1.0, density=30)
    st.step(0.01)
    st.close()
    assert session.autosave_path().is_file()
    st2 = make_state(tmp_path)
    assert st2.restore_offer is not None
    st2.restore_autosave()
    np.testing.assert_allclose(st2.drawing.points, st.drawing.points)
    st2.close()


def test_load_files_and_junk(tmp_path):
    st = make_state(tmp_path)
    csv = tmp_path / "pts.csv"
    csv.write_text("x,y,label\n0,0,a\n1,1,b\n2,0,a\n")
    st.load_file(csv)
    assert len(st.drawing) == 3 and st.drawing.class_names == ["a", "b"]
    for junk in (tmp_path / "nope.csv", tmp_path, tmp_path / "x.weird"):
        with pytest.raises(Exception) as e:
            st.load_file(junk)
        assert type(e.value).__name__ == "UserError"
    out = st.save_drawing(tmp_path / "d.csv")
    st.clear()
    st.load_file(out)
    assert len(st.drawing) == 3


def test_dismissed_autosave_is_kept_aside_not_offered_again(tmp_path):
    st = make_state(tmp_path)
    st.spray(0.0, 0.0, radius=1.0, density=30)
    st.close()
    st2 = make_state(tmp_path)
    assert st2.restore_offer is not None
    st2.dismiss_autosave()
    assert session.autosave_path().with_name("drawing-previous.safetensors").is_file()
    assert make_state(tmp_path).restore_offer is None


def test_record_gif_through_the_exporter(tmp_path):
    import imageio.v3 as iio

    st = with_model(make_state(tmp_path), exact_model())
    st.recording.size, st.recording.fps, st.recording.seconds = (120, 80), 5, 1.0
    out = st.record("gif")
    st.wait_idle(60)
    assert out.is_file() and any(m.text.startswith("saved") for m in st.messages)
    frames = iio.imread(out, index=None)
    assert frames.shape[1:3] == (80, 120) and len(frames) >= 5
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1  # it moves
    assert st.errors == 0


def test_class_picker_and_guidance_sample_the_chosen_class(tmp_path):
    norm = Normalizer(MEANS.mean(0), 1.7)
    mc = torch.tensor(norm.forward(MEANS), dtype=torch.float32)
    covs = (0.05 / 1.7) ** 2 * torch.eye(2).repeat(3, 1, 1)
    mix = GaussianMixture(torch.ones(3), mc, covs, labels=torch.arange(3))
    model = engine.ExactModel(MixtureField(mix, FlowPath()), norm, "three", ["a", "b", "c"])
    st = make_state(tmp_path)
    st.use_model(model)
    st.wait_idle()
    assert st.num_classes() == 3
    for w in (1.0, 3.0):
        st.set_guidance(w)
        st.set_class(2)
        st.wait_idle()
        tr = st.panes[0].sampled.traj
        assert (tr.labels.numpy() == 2).all()
        d = np.linalg.norm(tr.xs[-1].numpy() - MEANS[2], axis=1)
        assert np.median(d) < 0.1 and (d < 0.5).mean() > 0.97, w
    st.set_class(-1)
    st.wait_idle()
    final = st.panes[0].sampled.traj.xs[-1].numpy()
    near = np.linalg.norm(final[:, None] - MEANS[None], axis=2).argmin(axis=1)
    assert set(np.unique(near)) == {0, 1, 2}              # all classes again


def test_model_file_loads_with_its_data(tmp_path):
    from sandbox.datasets import PointSet
    from sandbox.modelio import save_model
    from sandbox.train import TrainConfig, build_model

    pts = np.random.default_rng(0).normal(size=(50, 2)) * [3, 1] + [10, -4]
    model = build_model(TrainConfig(width=16, depth=1), PointSet(pts, name="mine"), torch.device("cpu"))
    save_model(model, tmp_path / "m.safetensors")
    st = make_state(tmp_path)
    st.load_file(tmp_path / "m.safetensors")
    st.wait_idle()
    assert st.drawing.name == "mine" and len(st.drawing) == 50
    np.testing.assert_allclose(st.drawing.points, pts, atol=1e-5)
    assert ("flow",) in st.models and st.panes[0].sampled is not None
    # the animation lives in data coordinates: it starts around the data's mean
    assert np.abs(st.panes[0].sampled.traj.xs[0].numpy().mean(0) - pts.mean(0)).max() < 1.0


def test_compare_trains_both_objectives(tmp_path):
    st = make_state(tmp_path)
    st.set_preset("moons")
    st.set_pane(1, objective="ddpm", prediction="v", schedule="linear", sampler="ddim", steps=10)
    st.set_compare(True)
    assert st.panes[1].note.startswith("no DDPM")
    st.train()
    st.wait_idle(120)
    assert set(st.models) == {("flow",), ("ddpm", "v", "linear")} and st.errors == 0
    a, b = st.panes[0].sampled, st.panes[1].sampled
    assert b.traj.sampler == "ddim" and b.nfe == 10
    np.testing.assert_allclose(a.traj.xs[0].numpy(), b.traj.xs[0].numpy(), atol=1e-5)


def test_window_training_uses_engine_defaults_and_ot_switch():
    from dataclasses import replace

    from sandbox.app.settings import PaneSettings
    from sandbox.train import TrainConfig

    tc, ts = TrainConfig(), TrainSettings()
    assert ((ts.lr, ts.train_steps, ts.batch_size, ts.width, ts.depth)
            == (tc.lr, tc.steps, tc.batch_size, tc.width, tc.depth))
    flow, ddpm = PaneSettings(objective="flow"), PaneSettings(objective="ddpm")
    assert engine.train_config(flow, replace(ts, ot=True), False).ot is True
    assert engine.train_config(flow, ts, False).ot is False
    assert engine.train_config(ddpm, replace(ts, ot=True), False).ot is False  # OT pairs noise with data: flow only


def test_guidance_says_why_it_is_off(tmp_path):
    """The smiley has four colours but its shipped models none: the disabled guidance slider said
    'Needs a drawing with several colours' over a drawing that has them (seen at 1920x1080)."""
    from sandbox.app.panel import guidance_tip

    st = AppState("smiley", auto_train=False, out_dir=tmp_path, settings=Settings(particles=100))
    st.wait_idle()
    assert st.drawing.num_classes > 1 and st.num_classes() == 0     # the shipped models are unconditional
    assert "trained without the drawing's colours" in guidance_tip(st)
    st.clear()
    st.reset_model()
    assert "Needs a drawing with several colours" in guidance_tip(st)
