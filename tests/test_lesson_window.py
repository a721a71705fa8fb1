"""Lessons in use: the runner, the panel (pixels and clicks), the window, and the flow between lessons
(progress kept, next lesson, faults). Headless rendering of every lesson: test_lesson_render.py."""
import numpy as np
import pygame
import pytest

from lesson_kit import TINY, make_state
from lessons import LESSONS, get_lesson
from lessons.__main__ import main
from lessons.lesson import CheckResult, Lesson, Step
from lessons.runner import LessonRunner
from sandbox.app.settings import Settings
from sandbox.app.state import AppState
from sandbox.errors import UserError


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))


# ---- the runner ---------------------------------------------------------------------------------
def _toy_lesson(log: list) -> Lesson:
    def boom(state):
        raise RuntimeError("broken check")

    return Lesson("toy", "Toy", "test the runner", (
        Step("one", lambda s: log.append("setup1"), lambda s: CheckResult(s.progress > 0.5, "p")),
        Step("two", lambda s: log.append("setup2"), boom),
    ))


def test_runner_flow_and_guards(tmp_path):
    st = make_state(tmp_path)
    log: list = []
    r = LessonRunner(_toy_lesson(log))
    r.start(st)
    assert log == ["setup1"] and not r.can_next() and not r.next(st) and not r.can_back()
    st.set_progress(0.9)
    r.do("check", st)
    assert r.result.passed and r.can_next()
    r.do("next", st)
    assert r.index == 1 and log == ["setup1", "setup2"] and r.result is None
    r.do("check", st)                                     # the check raises: feedback, counted, no crash
    assert not r.result.passed and "broken check" in r.result.feedback and st.errors == 1
    r.do("back", st)
    assert r.index == 0 and log == ["setup1", "setup2"]   # back does not re-run the setup
    r.do("reset", st)
    assert log[-1] == "setup1"
    r.do(None, st)
    with pytest.raises(UserError):
        r.do("fly", st)


# ---- the panel and the window -------------------------------------------------------------------
@pytest.mark.parametrize("theme_name,scale", [("dark", 1.0), ("high-contrast", 2.0), ("light", 0.75)])
def test_panel_draws_and_clicks(tmp_path, theme_name, scale):
    from sandbox.app.lesson_panel import LessonPanel, wrap
    from sandbox.view.theme import Theme

    pygame.init()
    theme = Theme.named(theme_name, scale)
    st = make_state(tmp_path)
    r = LessonRunner(_toy_lesson([]))
    r.start(st)
    panel = LessonPanel()
    surf = pygame.Surface((900, 700))
    rect = pygame.Rect(500, 0, 400, 700)
    panel.draw(surf, rect, r, theme)
    assert set(panel.buttons) == {"check", "reset"}       # Back and Next are disabled
    inside = pygame.surfarray.array3d(surf.subsurface(rect))
    assert len(np.unique(inside.reshape(-1, 3), axis=0)) > 3          # text and buttons were drawn
    assert not pygame.surfarray.array3d(surf.subsurface((0, 0, 500, 700))).any()  # nothing outside

    def click(pos, button=1):
        return panel.handle_event(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=button, pos=pos))

    assert click(panel.buttons["check"].center) == "check"
    assert click(panel.buttons["check"].center, button=3) is None
    assert click((10, 10)) is None and not panel.contains((10, 10)) and panel.contains(rect.center)
    r.do("check", st)                                     # fails: feedback box, hint-free
    panel.draw(surf, rect, r, theme)
    st.set_progress(0.9)
    r.do("check", st)
    panel.draw(surf, rect, r, theme)
    assert "next" in panel.buttons and click(panel.buttons["next"].center) == "next"
    assert panel.height_for(rect.w, r, theme) > 3 * theme.font_px
    short = pygame.Rect(500, 0, 400, panel.height_for(400, r, theme) * 3 // 4)     # presenter scale, small screen
    fitted = panel.fitted(short, r, theme)
    assert fitted.scale < theme.scale and panel.height_for(400, r, fitted) <= short.h
    assert panel.fitted(rect, r, theme) is theme                                    # room enough: unchanged
    font = theme.font()
    lines = wrap("a quick brown fox jumps over the lazy dog " * 5, font, 150)
    assert len(lines) > 3 and all(font.size(line)[0] <= 150 for line in lines)


def test_window_shows_lesson_and_clicks_check(tmp_path):
    from lessons.window import LessonApp

    r = LessonRunner(get_lesson("few_steps"))
    app = LessonApp(r, size=(1280, 800), settings=Settings(train=TINY, particles=800), load_shipped=False,
                    auto_train=False, autosave=False, out_dir=tmp_path)
    try:
        app.run_frames(3)
        app.state.wait_idle()
        app.run_frames(2)
        assert not app.lesson_rect.colliderect(app.canvas) and app.lesson_panel.buttons
        pos = app.lesson_panel.buttons["check"].center
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=pos))
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=pos))
        app.run_frames(2)
        assert r.result is not None and not r.result.passed
        n = len(app.state.drawing)
        assert app.state.drawing.name == "three_modes" and n == 2000   # the click did not spray
        app.state.set_pane(0, steps=5)
        app.state.wait_idle()
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=pos))
        app.run_frames(2)
        assert r.result.passed and app.errors == 0
    finally:
        app.close()


def test_a_click_on_the_canvas_leaves_the_lessons_data_alone(tmp_path):
    """Lesson 1 asks for no drawing: a left click on its canvas (to pause, to focus) sprayed 30 points
    into the smiley and made its model stale; lesson 2, which asks for drawing, still sprays."""
    from lessons.window import LessonApp

    r = LessonRunner(get_lesson("noise_to_data"))
    app = LessonApp(r, size=(1280, 800), settings=Settings(train=TINY, particles=300), load_shipped=False,
                    auto_train=False, autosave=False, out_dir=tmp_path)
    try:
        app.run_frames(2)

        def click() -> None:
            pos = app.canvas.center
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=pos))
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=pos))
            app.run_frames(2)

        n = len(app.state.drawing)
        click()
        assert len(app.state.drawing) == n and app.state.drawing.name == "smiley"
        r.lesson = get_lesson("draw_and_train")
        r.start(app.state)
        app.run_frames(1)
        assert len(app.state.drawing) == 0
        click()
        assert len(app.state.drawing) > 0                # lesson 2 asks for drawing: the click sprays
    finally:
        app.close()


def test_a_scene_step_takes_no_clicks_on_its_picture(tmp_path):
    """Lesson 8's trees cover the canvas: a click on them started the animation from the noise (release)
    or sprayed into the hidden data; the learner's chosen step must stay."""
    from lessons import exact
    from lessons.window import LessonApp

    def setup(st):
        exact.start_on_mixture(st, "three_modes", "euler", 10)
        st.set_tool("spray")
        st.play(False)
        st.set_progress(0.5)

    lesson = Lesson("scene", "Scene", "a picture over the canvas",
                    (Step("look", setup, lambda s: CheckResult(True, "ok"), scene=lambda *a: None),))
    app = LessonApp(LessonRunner(lesson), size=(1280, 800), settings=Settings(train=TINY, particles=300),
                    load_shipped=False, auto_train=False, autosave=False, out_dir=tmp_path)
    try:
        app.run_frames(2)
        st, n = app.state, len(app.state.drawing)
        for button in (1, 3):
            pos = app.canvas.center
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=button, pos=pos))
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=button, pos=pos))
            app.run_frames(2)
            st.wait_idle()
            assert len(st.drawing) == n and not st.released and not st.playing and st.progress == 0.5, button
    finally:
        app.close()


def test_run_from_python_opens_the_window_and_returns(tmp_path, monkeypatch, capsys):
    """lessons.run (a notebook's entry point): a list, the window until it is closed, one-line faults."""
    import threading

    import lessons
    import lessons.window
    import sandbox.cli.commands
    from sandbox.errors import Interrupted

    lessons.run()
    assert "1. noise_to_data" in capsys.readouterr().out
    lessons.run("few_steps")                               # SDL_VIDEODRIVER=dummy: no display, the text
    out = capsys.readouterr()
    assert "Few-step sampling" in out.out and "no display" in out.err
    with pytest.raises(UserError, match="unknown lesson 'nine'"):
        lessons.run("nine")
    monkeypatch.setattr(sandbox.cli.commands, "display_available", lambda: (True, ""))
    seen = []
    real = lessons.window.LessonApp.frame

    def frame(app, dt):                                     # the learner closes the window
        seen.append(app.runner.lesson.id)
        if len(seen) == 3:
            threading.Thread(target=pygame.event.post, args=(pygame.event.Event(pygame.QUIT),)).start()
        real(app, dt)

    monkeypatch.setattr(lessons.window.LessonApp, "frame", frame)
    assert lessons.run(4) is None and seen[0] == "few_steps" and len(seen) >= 3

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(lessons.window, "run", interrupted)
    with pytest.raises(Interrupted, match="lesson window closed"):
        lessons.run(4)


def _passing(lesson_id: str) -> Lesson:
    """A one-step lesson under a real lesson's id (its place in the teaching order) that passes at once."""
    return Lesson(lesson_id, "Stand-in", "test the flow", (Step("go", None, lambda s: CheckResult(True, "ok")),))


def test_finished_lesson_is_recorded_and_offers_the_next(tmp_path, capsys):
    from lessons import progress
    from sandbox.app.lesson_panel import LessonPanel
    from sandbox.view.theme import Theme

    st = make_state(tmp_path)
    assert progress.done() == set()
    r = LessonRunner(_passing("guidance"), record=True)
    r.start(st)
    assert not r.next_lesson(st)                          # not finished yet
    r.check(st)
    assert r.next(st) and r.finished and progress.done() == {"guidance"}
    assert r.next_lesson_id() == "ideal_denoiser"
    pygame.init()
    panel = LessonPanel()
    panel.draw(pygame.Surface((500, 700)), pygame.Rect(0, 0, 400, 700), r, Theme.named("dark"))
    assert set(panel.buttons) == {"restart", "next_lesson"}
    from sandbox.app.lesson_panel import _lesson_list

    listed = _lesson_list(r)
    assert len(listed) == 1 + len(LESSONS) and "[x] 5. Classifier-free guidance" in listed
    assert "[_] 6. The ideal (memorising) denoiser" in listed
    st.toggle("field")                                    # the view as the learner left it ...
    st.play(False)
    st.set_progress(0.9)
    r.do("next_lesson", st)                               # the window's button
    st.wait_idle()
    assert r.lesson.id == "ideal_denoiser" and r.index == 0 and not r.finished and len(st.drawing) == 40
    assert not st.options.field and st.playing and st.progress < 0.5    # ... is a fresh window's again
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "[x] 5. guidance" in out and "[ ] 6. ideal_denoiser" in out
    last = LessonRunner(_passing(list(LESSONS)[-1]))       # record=False: tests and renders keep no record
    last.start(st)
    last.check(st)
    assert last.next(st) and last.next_lesson_id() is None and not last.next_lesson(st)
    assert progress.done() == {"guidance"}
    panel.draw(pygame.Surface((500, 700)), pygame.Rect(0, 0, 400, 700), last, Theme.named("dark"))
    assert set(panel.buttons) == {"restart"}


def test_progress_file_faults(tmp_path, monkeypatch):
    from lessons import progress

    progress.path().parent.mkdir(parents=True, exist_ok=True)
    progress.path().write_text("{not json")
    assert progress.done() == set()                       # damaged: nothing done, no crash
    assert progress.mark_done("few_steps") and progress.done() == {"few_steps"}
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(blocker / "cache"))   # cannot be a folder
    assert progress.mark_done("few_steps") is False and progress.done() == set()


def test_lesson_window_never_offers_the_autosave(tmp_path):
    from lessons.window import LessonApp
    from sandbox.app import session

    session.autosave(np.ones((5, 2), np.float32), np.zeros(5, np.int64), {"source": "drawing"})
    assert AppState(None, load_shipped=False, auto_train=False, out_dir=tmp_path).restore_offer is not None
    before = session.autosave_path().read_bytes()
    app = LessonApp(LessonRunner(get_lesson("few_steps")), size=(1280, 800),
                    settings=Settings(train=TINY, particles=500), load_shipped=False, auto_train=False,
                    out_dir=tmp_path)
    try:
        app.run_frames(3)
        assert app.state.restore_offer is None and app.state.drawing.name == "three_modes"
    finally:
        app.close()
    assert session.autosave_path().read_bytes() == before  # the learner's drawing is still there, untouched


def test_window_pick_step_takes_the_click_as_a_guess(tmp_path):
    """In lesson 7's last step a left click on the canvas is the learner's guess (a cross), not a tool."""
    from lessons.window import LessonApp

    r = LessonRunner(get_lesson("forward_and_score"))
    app = LessonApp(r, size=(1280, 800), settings=Settings(train=TINY, particles=500), load_shipped=False,
                    auto_train=False, out_dir=tmp_path)
    try:
        app.run_frames(2)
        r.enter(2, app.state)
        app.state.wait_idle()
        app.run_frames(2)
        n, released = len(app.state.drawing), len(app.state.released)
        before = pygame.surfarray.array3d(app.screen).copy()
        target = app.state.released[0][35]
        pos = tuple(int(v) for v in app.viewport(0).to_pixels(target[None])[0])
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=pos))
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=pos))
        app.run_frames(2)
        assert len(app.state.drawing) == n and len(app.state.released) == released   # no spray, no release
        (gx, gy), = r.step.marks(app.state)
        assert np.hypot(gx - target[0], gy - target[1]) < 2.0 / app.viewport(0).scale      # within 2 pixels
        after = pygame.surfarray.array3d(app.screen)
        x, y = pos
        assert (after[x - 8:x + 9, y - 8:y + 9] != before[x - 8:x + 9, y - 8:y + 9]).any()  # the cross is drawn
        r.do("check", app.state)
        assert r.result.passed and app.errors == 0
    finally:
        app.close()


def test_quitting_while_lesson_8_computes_exits_cleanly(tmp_path):
    """Ctrl+Q a few seconds into `diffusion-sandbox lesson 8` aborted Python ("terminate called without
    an active exception", exit 134): the paths were computed in a daemon thread still inside torch."""
    import subprocess
    import sys
    code = ("import pathlib, sys\n"
            "from lessons import get_lesson\n"
            "from lessons.render import make_state\n"
            "from lessons.runner import LessonRunner\n"
            "st = make_state(pathlib.Path(sys.argv[1]), particles=300)\n"
            "LessonRunner(get_lesson('reading_a_tree')).enter(0, st)\n"    # starts the paths' thread
            "st.close()\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
