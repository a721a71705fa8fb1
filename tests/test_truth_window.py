"""What the window draws is the current model, through the real window (headless, posted events) and
the window-facing pieces of that promise: exports, the score panel and chart, hints, undo, contours,
train as I draw, staleness. The state-level promises (random action sequences): tests/test_truth.py."""
import numpy as np
import pytest

from sandbox.app import engine
from sandbox.app.settings import Settings, TrainSettings
from sandbox.app.timebar import status_texts
from sandbox.errors import UserError

from truth_kit import MEANS, TINY, check, exact, fresh


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))


# ---- the same promises through the real window (headless, posted events) ----------------------
@pytest.fixture
def app(tmp_path):
    from sandbox.app.window import App

    a = App(None, size=(1000, 700), settings=Settings(train=TINY, particles=200), load_shipped=False,
            auto_train=False, autosave=False, out_dir=tmp_path)
    a.run_frames(1)
    yield a
    a.close()


def _post(type_, **kw):
    import pygame

    pygame.event.post(pygame.event.Event(type_, **kw))


def test_one_drag_is_one_undo_step_in_the_window(app):
    import pygame

    c = app.canvas.center
    _post(pygame.MOUSEBUTTONDOWN, pos=c, button=1)
    for k in range(12):                                      # a drag: many sprayed dabs
        _post(pygame.MOUSEMOTION, pos=(c[0] + 4 * k, c[1]), rel=(4, 0), buttons=(1, 0, 0))
    _post(pygame.MOUSEBUTTONUP, pos=(c[0] + 48, c[1]), button=1)
    app.run_frames(2)
    st = app.state
    assert len(st.drawing) > st.brush_density                # more than one dab landed
    _post(pygame.MOUSEBUTTONDOWN, pos=(c[0], c[1] + 60), button=1)
    _post(pygame.MOUSEBUTTONUP, pos=(c[0], c[1] + 60), button=1)
    app.run_frames(1)
    n_after_two = len(st.drawing)
    st.undo()                                                # the second stroke, whole
    assert 0 < len(st.drawing) < n_after_two
    st.undo()                                                # the first drag, whole
    assert len(st.drawing) == 0
    assert app.errors == 0


def test_offer_banner_and_score_panel_answer_clicks(app):
    st = app.state
    st.drawing.replace(MEANS[np.arange(300) % 3] + 0.05 * np.random.default_rng(1).normal(size=(300, 2)))
    st.use_model(exact("flow"))
    st.wait_idle()
    app.run_frames(1)
    import pygame

    assert st.score is not None and app._score_head is not None
    _post(pygame.MOUSEBUTTONDOWN, pos=app._score_head.center, button=1)
    app.run_frames(1)
    assert not st.score_open                                 # collapsed to its header
    from sandbox.app.state_types import ModelOffer

    shown = st.models[("flow",)]
    st.offer = ModelOffer(("flow",), exact("flow"), "Training stopped at step 3 of 30. Use the new model?")
    app.run_frames(1)
    assert app._offer_buttons is not None
    _post(pygame.MOUSEBUTTONDOWN, pos=app._offer_buttons[1].center, button=1)   # keep previous
    app.run_frames(1)
    assert st.offer is None and st.models[("flow",)] is shown
    assert app.errors == 0


def test_exports_choose_a_size_keep_class_colours_and_say_where(tmp_path):
    from PIL import Image

    st = fresh(tmp_path)
    labels = np.arange(300) % 3
    st.drawing.replace(st.drawing.points, labels, ["a", "b", "c"])
    st.use_model(exact("flow"))
    st.wait_idle()
    st.set_record_size((1920, 1080))
    with pytest.raises(UserError, match="up to 1920x1080"):
        st.set_record_size((3840, 2160))                    # larger than the choices
    st.set_progress(1.0)
    out = st.save_canvas()
    st.wait_idle()
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape == (1080, 1920, 3) and out.is_absolute() and out.parent == tmp_path.resolve()
    assert any(str(out) in m.text for m in st.messages)      # the user is told the full path
    from sandbox.view import Theme

    theme = Theme.named(st.theme_name)
    # every class's colour (blended as data is drawn) is in the picture: the classes are kept
    for k in range(3):
        want = np.array(theme.data_class_colors[k], np.uint8)
        assert (np.abs(img.astype(int) - want).sum(-1) <= 3).sum() > 20, k
    gif = st.record("gif", size=(320, 180), seconds=0.3, fps=5)
    st.wait_idle()
    assert Image.open(gif).size == (320, 180) and any(str(gif) in m.text for m in st.messages)


def test_score_panel_shows_the_lessons_number(tmp_path):
    from lessons import measure

    st = fresh(tmp_path)
    st.use_model(exact("flow"))
    st.wait_idle()
    s = st.panes[0].sampled
    q = measure.quality(measure.final(s), st.drawing.points)
    assert st.score is not None and st.score.ratio == pytest.approx(q["ratio"], rel=1e-6)
    assert st.score.grade == ("good" if q["ratio"] <= 1.2 else "ok" if q["ratio"] <= 1.5 else "poor")
    st.set_pane(0, objective="ddpm")                         # another model: the score goes
    assert st.score is None


def test_hints_and_eta_for_slow_or_poor_choices(tmp_path):
    from sandbox.app.trainer import eta_text

    st = fresh(tmp_path)
    assert st.hints() == [] or all("x0" not in h for h in st.hints())
    st.set_pane(0, objective="ddpm", prediction="x0")
    st.set_train(train_steps=200, lr=3e-5)
    said = " ".join(st.hints())
    assert "x0 prediction learns slowly" in said and "very low" in said
    toasts = " ".join(m.text for m in st.messages)       # said when chosen, before Train
    assert "x0 prediction learns slowly" in toasts and "very low" in toasts
    st.set_train(lr=0.1, train_steps=20000, width=512, batch_size=256)
    said = " ".join(st.hints())
    assert "very high" in said and "default work" in said and "min on a laptop" in said
    st.set_train(lr=TrainSettings().lr, train_steps=TrainSettings().train_steps, width=TrainSettings().width,
                 batch_size=TrainSettings().batch_size)
    st.set_pane(0, prediction="eps")
    assert st.hints() == []                                  # the defaults train well and fast
    assert eta_text(40) == "about 40 s left" and eta_text(600) == "about 10 min left" and eta_text(None) == ""


def test_undo_keeps_at_least_100_strokes(tmp_path):
    st = fresh(tmp_path)
    st.drawing.replace(np.zeros((0, 2)))
    for k in range(120):
        st.begin_stroke()
        for j in range(3):
            st.spray(0.1 * k, 0.1 * j, radius=0.05, density=2)
        st.end_stroke()
    assert len(st.drawing) == 720
    for k in range(120):
        st.undo()
        assert len(st.drawing) == 720 - 6 * (k + 1)
    for k in range(120):
        st.redo()
    assert len(st.drawing) == 720


def test_contours_at_the_noise_end_are_the_gaussian_circles():
    import pygame

    from sandbox.view import RenderCache, Viewport, ViewOptions, render_frame

    class Traj:
        sampler = "euler"

        def __init__(self, xs):
            self.xs, self.ts, self.labels = xs, np.linspace(1.0, 0.0, len(xs)), None

    rng = np.random.default_rng(0)
    noise = rng.normal(size=(2000, 2)).astype(np.float32)
    traj = Traj(np.stack([noise, 0.3 * noise + 1.0]))
    surf = pygame.Surface((400, 400))
    vp = Viewport((0, 0, 400, 400), (0.0, 0.0), 3.5)
    cache = RenderCache()
    render_frame(surf, vp, traj, 0.0, options=ViewOptions(contours=True), cache=cache)
    levels = next(iter(cache.contours.values()))
    centre = vp.to_pixels(noise.mean(0, keepdims=True))[0]
    radii = []
    for lev in levels:
        (line,) = lev
        r = np.linalg.norm(np.asarray(line) - centre, axis=1)
        assert r.std() < 0.01 * r.mean()                     # a circle, not a wiggly blob
        radii.append(r.mean() / vp.scale)
    # N(0, I): the disc holding mass m has radius sqrt(-2 ln(1 - m))
    want = np.sqrt(-2 * np.log(1 - np.array([0.25, 0.5, 0.75, 0.9])))
    np.testing.assert_allclose(radii, want, rtol=0.05)


def test_train_as_i_draw_follows_each_stroke(tmp_path):
    if not engine.can_warm_start():
        pytest.skip("this engine has no warm start (train(..., init=model)) yet")
    st = fresh(tmp_path)
    st.train()
    st.wait_idle()
    first = st.models[("flow",)]
    st.set_train_as_draw(True)
    assert st.train_as_draw
    st.begin_stroke()
    for k in range(5):
        st.spray(-2.0 + 0.1 * k, -2.0, radius=0.2, density=40)
        st.step(0.01)
        assert st.training.running is False or st.training.warm   # nothing starts mid-stroke
    st.end_stroke()
    st.step(0.01)
    assert st.training.running and st.training.warm
    st.wait_idle()
    now = st.models[("flow",)]
    assert now is not first and not st.models_stale and st.offer is None
    assert st.panes[0].sampled.source.model is now
    check(st, settled=True)


def test_score_chart_title_fits_its_width_at_any_presenter_scale():
    import pygame

    from types import SimpleNamespace

    from sandbox.view.score_panel import title
    from sandbox.view.theme import Theme

    pygame.font.init()
    score = SimpleNamespace(ratio=0.72, grade="good")  # what the title reads of a Score
    for scale in (1.0, 1.5, 2.0, 3.0):
        theme = Theme(scale=scale)
        for width in (60, 200, 300, 600):
            text = title(score, theme, width)
            assert "0.72" in text and "(good)" in text
            fits = theme.font(0.7).size(text)[0] <= width
            assert fits or text == "0.72\u00d7 (good)"  # the shortest wording, where nothing fits
        middle = theme.font(0.7).size("samples vs data 0.72\u00d7 (good)")[0]
        wide, narrow = title(score, theme, 10_000), title(score, theme, middle)
        assert wide.startswith("shown model:") and narrow.startswith("samples vs data")


def test_staleness_and_the_chart_belong_to_each_model(tmp_path):
    """Seen under Xvfb: three modes loaded its flow and DDPM models, the drawing changed, Train made
    a new flow model; switching to DDPM then showed the old three-modes DDPM model as 'model ready'
    (no 'data changed') under the flow run's loss and score curves."""
    st = fresh(tmp_path)
    st.use_model(exact("flow"))
    st.use_model(exact("ddpm", "linear"))
    st.set_pane(0, objective="flow")
    st.wait_idle()
    st.begin_stroke()
    st.spray(-2.0, -2.0, radius=0.2, density=40)           # the data changes: both models are stale
    st.end_stroke()
    assert st.models_stale and "data changed" in " ".join(status_texts(st))
    st.train()
    st.wait_idle()
    assert not st.models_stale and st.chart_status().losses    # the new flow model, its own curves
    st.set_pane(0, objective="ddpm", prediction="eps", schedule="linear")
    st.wait_idle()
    assert st.panes[0].sampled is not None                   # the old DDPM model is shown ...
    assert st.models_stale and "data changed" in status_texts(st)[0]   # ... and said to be stale
    assert not st.chart_status().losses                      # not under the flow run's curves
    st.set_pane(0, objective="flow")
    assert not st.models_stale and st.chart_status() is st.training
    check(st, settled=True)


def test_a_declined_run_leaves_the_chart(tmp_path):
    """Seen under Xvfb: after 'keep previous' the chart still plotted the declined run's score
    (about 7x) under 'shown model: 0.99x (good)'. While offered its curves help the choice; once
    declined they go; accepted, they stay with the model they made."""
    st = fresh(tmp_path)
    st.set_train(train_steps=100000)
    st.use_model(exact("flow"))
    st.wait_idle()
    for accept in (False, True):
        assert st.train()
        while st.training.step < 20:
            st.step(0.01)
        st.stop()
        st.wait_idle()
        assert st.offer is not None and st.chart_status().losses      # offered: its curves shown
        st.accept_offer() if accept else st.decline_offer()
        st.wait_idle()
        assert bool(st.chart_status().losses) is accept


def test_a_finished_run_being_judged_says_so(tmp_path):
    """Between a run's end and its verdict the old model is back on screen for a second or more:
    the status line and a toast say the new one is being checked (they said 'model ready')."""
    import threading

    from sandbox.app.trainer import Outcome
    from sandbox.app.training_actions import on_outcome

    st = fresh(tmp_path)
    st.use_model(exact("flow"))
    st.wait_idle()
    st._train_ps, st._train_version = st.drawing.pointset(), st.drawing.version   # what train() records
    gate = threading.Event()
    st._tasks.submit("hold", lambda: gate.wait(10))      # the one worker thread: the judge waits
    on_outcome(st, Outcome("finished", 1, ("flow",), exact("flow"), step=800, total=800, seconds=45.7))
    assert st.judging and not st._tasks.busy("pane0")     # the old model is not sampled again first
    assert status_texts(st)[-1] == "checking the new model"
    assert any("checking it against the model shown" in m.text for m in st.recent_messages())
    gate.set()
    st.wait_idle()
    assert not st.judging and "model ready" in status_texts(st)[-1]
    said = [m.text for m in st.recent_messages()]
    assert not any("checking" in t for t in said) and any(t.startswith("trained 800 steps") for t in said), said
    check(st, settled=True)
