"""AppState and files: a session saved and loaded with its trained model, autosave and restore,
point files and junk, and a model file that brings its data.
"""
import os

import numpy as np
import pytest
import torch

from app_kit import make_state
from sandbox.app import session


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))


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
