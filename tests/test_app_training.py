"""AppState training tiny networks (tests/app_kit.py: a few dozen steps): a run, bad inputs as
messages, Stop, new data mid-run, and both objectives trained for the compare view.
"""
import numpy as np
import pytest

from app_kit import TINY, make_state
from sandbox.app.settings import Settings, TrainSettings


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))


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
