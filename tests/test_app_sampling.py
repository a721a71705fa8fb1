"""AppState sampling from the exact Gaussian-mixture denoiser (tests/app_kit.py): where the samples land
in data coordinates, shared noise between compared panes, released particles, the field and mesh
layers, the class picker with guidance, and recording through the exporter.
"""
import numpy as np
import pytest
import torch

from app_kit import MEANS, exact_model, make_state, with_model
from sandbox.app import engine
from sandbox.datasets import Normalizer
from sandbox.oracle import GaussianMixture, MixtureField
from sandbox.paths import FlowPath


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))


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


def test_a_recording_in_compare_mode_holds_both_panes(tmp_path, monkeypatch):
    """Compare mode, Ctrl+G: the GIF held pane A alone (seen under Xvfb), while the teacher was
    comparing samplers; it now draws pane B beside it, as `render --compare` does."""
    import sandbox.export

    drawn = []
    real = sandbox.export.export_animation
    monkeypatch.setattr(sandbox.export, "export_animation",
                        lambda traj, *a, **k: drawn.append((traj, k["label"])) or real(traj, *a, **k))
    st = make_state(tmp_path)
    st.set_pane(0, objective="flow", sampler="euler", steps=4)
    st.set_pane(1, objective="flow", sampler="heun", steps=4)
    st.set_compare(True)
    with_model(st, exact_model())
    st.recording.size, st.recording.fps, st.recording.seconds = (240, 80), 4, 0.5
    out = st.record("gif")
    st.wait_idle(60)
    (traj, labels), = drawn
    assert out.is_file() and traj == [st.panes[0].sampled.traj, st.panes[1].sampled.traj]
    assert "Euler" in labels[0] and "Heun" in labels[1]
    page = st.record("html")
    st.wait_idle(60)
    assert 'id="dsw-1"' in page.read_text()                # the second player
    st.set_compare(False)
    st.record("gif")
    st.wait_idle(60)
    assert drawn[-1][0] is st.panes[0].sampled.traj        # one pane outside compare mode
    assert st.errors == 0
