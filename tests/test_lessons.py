"""Lessons: every step's check FAILS on the untouched setup and PASSES once the state is driven
the way a learner would drive the window (AppState's actions, headless), with tiny training where
a lesson needs a trained model. Also the runner, the panel (pixels and clicks) and `python -m lessons`.
"""
import numpy as np
import pygame
import pytest

from lessons import LESSONS, get_lesson
from lessons.__main__ import main
from lessons.lesson import CheckResult, Lesson, Step
from lessons.runner import LessonRunner
from sandbox.app.settings import Settings, TrainSettings
from sandbox.app.state import AppState
from sandbox.errors import UserError

# tiny networks: these tests check the lessons' logic, not the engine's quality (tested elsewhere)
TINY = TrainSettings(train_steps=120, batch_size=256, width=64, depth=2, lr=3e-3, eval_every=0)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))



def make_state(tmp_path, auto_train=False, particles=2000, **kw) -> AppState:
    return AppState(None, settings=Settings(train=TINY, particles=particles), load_shipped=False,
                    auto_train=auto_train, autosave=False, out_dir=tmp_path, **kw)


def start(name: str, st: AppState) -> LessonRunner:
    r = LessonRunner(get_lesson(name))
    r.start(st)
    st.wait_idle()
    assert r.result is None, r.result      # the setup itself went through
    return r


def check(r: LessonRunner, st: AppState) -> CheckResult:
    st.wait_idle()
    return r.check(st)


def advance(r: LessonRunner, st: AppState) -> None:
    assert r.next(st)
    st.wait_idle()


def train(st: AppState, steps: int) -> None:
    st.set_train(train_steps=steps)
    assert st.train()
    st.wait_idle(120)
    assert not st.training.running and st.errors == 0, [m.text for m in st.messages]


# ---- the registry and the command line --------------------------------------------------------
def test_registry_builds_fresh_lessons():
    assert len(LESSONS) >= 5
    for key, make in LESSONS.items():
        a, b = make(), make()
        assert isinstance(a, Lesson) and a.id == key and a is not b
        assert a.steps and all(callable(s.check) for s in a.steps) and a.steps[0].setup is not None
        assert a.title in a.text() and all(s.instructions in a.text() for s in a.steps)
    assert get_lesson("1").id == list(LESSONS)[0] and get_lesson("Few-Steps").id == "few_steps"
    with pytest.raises(UserError):
        get_lesson("no_such_lesson")


def test_command_line(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert all(k in out for k in LESSONS)
    assert main(["few_steps"]) == 1                       # SDL_VIDEODRIVER=dummy: no display
    out = capsys.readouterr()
    assert "Few-step sampling" in out.out and "diffusion-sandbox render" in out.out and "no display" in out.err
    assert main(["guidance", "--print"]) == 0 and "guidance" in capsys.readouterr().out
    assert main(["nope"]) == 2 and "error: unknown lesson" in capsys.readouterr().err


def test_quality_measure_is_fair():
    """Split-half quality: fresh samples of the data's own distribution score about 1; a shifted or
    diverged sample scores far above; resampling the data set itself would read too good."""
    import torch

    from lessons import measure

    g = torch.Generator().manual_seed(0)
    data = torch.randn(2000, 2, generator=g) * torch.tensor([1.0, 0.3])
    ratios = [measure.quality(torch.randn(2000, 2, generator=g) * torch.tensor([1.0, 0.3]), data, seed=k)["ratio"]
              for k in range(4)]
    assert 0.7 < float(np.mean(ratios)) < 1.4, ratios
    assert measure.quality(data + torch.tensor([0.5, 0.0]), data)["ratio"] > 3
    bad = data.clone()
    bad[0] = float("nan")
    assert measure.quality(bad, data)["ratio"] == float("inf") and measure.times(float("inf")) == ">100\u00d7"


# ---- each lesson, driven like a learner --------------------------------------------------------
def test_noise_to_data(tmp_path):
    st = make_state(tmp_path, auto_train=True)            # no shipped model here: the setup trains
    r = start("noise_to_data", st)
    assert st.drawing.name == "smiley" and st.models
    assert not check(r, st).passed                        # playing
    st.play(False)
    assert not check(r, st).passed                        # paused, but at the start
    st.set_progress(0.5)
    res = check(r, st)
    assert res.passed and abs(res.measured["t"] - 0.5) < 0.05 and 0 < res.measured["remaining"] < 1
    assert not r.done[1] and not LessonRunner(r.lesson).can_next()
    advance(r, st)
    assert st.tool == "release" and not check(r, st).passed
    for x, y in [(0.0, 0.0), (0.6, 0.4), (0.62, 0.4)]:
        assert st.release_particle_at(x, y)
    st.wait_idle()
    res = check(r, st)
    assert res.passed and res.measured["released"] == 3
    advance(r, st)
    assert not check(r, st).passed                        # field view off
    st.toggle("field")
    st.set_progress(0.5)
    st.play(True)
    res = check(r, st)
    assert not res.passed and "pause (Space) and drag the slider" in res.feedback    # seen: playing at 0.56
    st.play(False)
    assert not check(r, st).passed                        # not near the noise
    st.set_progress(0.1)
    res = check(r, st)
    # at high noise the denoiser's guesses crowd round the data's mean; near the data they spread out
    assert res.passed and res.measured["spread_now"] < res.measured["spread_late"]
    advance(r, st)
    assert r.finished and st.errors == 0


def test_draw_and_train(tmp_path):
    st = make_state(tmp_path)
    st.set_preset("moons")
    r = start("draw_and_train", st)
    assert len(st.drawing) == 0 and not st.models
    assert not check(r, st).passed                        # nothing drawn
    st.set_preset("moons")
    res = check(r, st)
    assert not res.passed and "moons" in res.feedback     # a preset is not a drawing
    st.clear()
    for a in np.linspace(0, 2 * np.pi, 12, endpoint=False):
        st.spray(0.3 * np.cos(a), 0.3 * np.sin(a), radius=0.8, density=30)
    res = check(r, st)
    assert res.passed and res.measured["points"] == 360 and res.measured["parts"] == 1
    advance(r, st)
    assert not check(r, st).passed                        # not trained
    train(st, 8)
    res = check(r, st)
    assert not res.passed and res.measured["ratio"] > 1.5  # barely trained: far from the drawing
    train(st, 400)
    res = check(r, st)
    assert res.passed and res.measured["ratio"] <= 1.5, res.feedback
    st.spray(3.0, 3.0, radius=0.2, density=20)
    assert not check(r, st).passed                        # the drawing changed after training


def test_ddpm_vs_flow(tmp_path):
    st = make_state(tmp_path)
    r = start("ddpm_vs_flow", st)
    assert not check(r, st).passed                        # compare off
    st.set_compare(True)
    assert not check(r, st).passed                        # no models yet
    train(st, 100)                                        # compare mode: trains flow and DDPM
    res = check(r, st)
    assert res.passed
    assert res.measured["ddpm_straightness"] < res.measured["flow_straightness"]
    advance(r, st)
    res = check(r, st)
    assert not res.passed and "DDPM ancestral still adds" in res.feedback     # the name the window shows
    st.set_pane(1, sampler="ddim")
    res = check(r, st)
    assert res.passed and res.measured["ddpm_straightness"] > res.measured["ancestral_straightness"]
    assert "with DDIM:" in res.feedback                   # seen: 'with ddim:'

    advance(r, st)
    assert not check(r, st).passed                        # 50 steps
    st.set_pane(0, steps=8)
    assert not check(r, st).passed                        # right pane still 50
    st.set_pane(1, steps=8)
    res = check(r, st)
    assert res.passed and res.measured["flow_steps"] == res.measured["ddpm_steps"] == 8
    assert res.feedback.startswith("At 8 steps each:"), res.feedback
    assert 0 < res.measured["flow_late_share"] < 1 and 0 < res.measured["ddpm_late_share"] < 1


def test_few_steps(tmp_path):
    st = make_state(tmp_path, particles=1000)
    r = start("few_steps", st)
    assert not check(r, st).passed                        # Euler 50
    st.set_pane(0, steps=5)
    res = check(r, st)
    assert res.passed and res.measured["error"] > 0.05 and res.measured["nfe"] == 5
    assert "Euler, 5 steps" in res.feedback and "1/5 of the time" in res.feedback
    st.set_pane(0, steps=1)                               # seen: 'Euler, 1 steps ... for 1/5 of the time'
    res = check(r, st)
    assert "Euler, 1 step:" in res.feedback and "the whole time" in res.feedback
    assert "1 step" in st.settings.pane.title() and "1 steps" not in st.settings.pane.title()
    st.set_pane(0, steps=5)
    advance(r, st)
    assert not check(r, st).passed                        # Euler 5: cheap but inaccurate
    st.set_pane(0, steps=10)
    assert not check(r, st).passed                        # Euler 10: still first order
    st.set_pane(0, sampler="midpoint", steps=10)
    res = check(r, st)
    assert not res.passed and res.measured["nfe"] > 10    # accurate, over budget
    st.set_pane(0, sampler="midpoint", steps=5)
    res = check(r, st)
    assert res.passed and res.measured["nfe"] <= 10 and res.measured["error"] <= 0.05


def test_exact_lessons_do_not_announce_a_pretrained_model(tmp_path):
    """Seen at 1280x800: lesson 4 says 'this pane shows the EXACT denoiser' under the toast 'three modes:
    pretrained flow matching and DDPM model loaded' (set_preset's, with the shipped models)."""
    st = AppState(None, settings=Settings(train=TINY, particles=500), load_shipped=True, auto_train=False,
                  autosave=False, out_dir=tmp_path)
    start("few_steps", st)
    said = [m.text for m in st.messages]
    assert not any("pretrained" in t for t in said), said
    assert said[-1] == "three modes: the exact denoiser of its Gaussian mixture (no training)"


def test_score_panel_does_not_keep_the_unguided_score_once_a_class_is_chosen(tmp_path):
    """Seen in lesson 5 at 1280x800: every sample in mode 0, the score panel still said 'score 0.96x good'
    (the unconditional samples' score against all eight modes; class samples get no score)."""
    st = make_state(tmp_path, particles=500)
    start("guidance", st)
    assert st.score is not None and st.settings.cls == -1
    st.set_class(0)
    st.set_guidance(1.0)
    st.wait_idle()
    assert st.panes[0].sampled.source.cls == 0 and st.score is None


def test_few_steps_reference_is_the_exact_path(tmp_path):
    """The check's reference is a converged solve: a fine Euler solve lands on it (its own error -> 0)."""
    st = make_state(tmp_path, particles=500)
    r = start("few_steps", st)
    advance_to = r.lesson.steps[1].check
    errs = []
    for steps in (50, 400):
        st.set_pane(0, sampler="euler", steps=steps)
        st.wait_idle()
        errs.append(advance_to(st).measured["error"])
    assert errs[1] < errs[0] / 4 and errs[1] < 0.01       # first order: 8x the steps, ~1/8 the error


def test_guidance(tmp_path):
    st = make_state(tmp_path)
    r = start("guidance", st)
    assert st.settings.guidance == 0.0
    assert not check(r, st).passed                        # no class picked
    st.set_class(2)
    res = check(r, st)
    assert not res.passed and 0.05 < res.measured["purity"] < 0.25   # w = 0: about 1 in 8
    st.set_guidance(1.0)
    res = check(r, st)
    assert res.passed and res.measured["purity"] >= 0.95
    advance(r, st)
    assert not check(r, st).passed                        # w = 1 is not "strong"
    st.set_guidance(4.0)
    res = check(r, st)
    assert res.passed
    assert res.measured["spread"] < 0.75 * res.measured["spread_at_1"]
    assert res.measured["outward"] > res.measured["outward_at_1"] + 0.05


def test_ideal_denoiser(tmp_path):
    st = make_state(tmp_path)
    r = start("ideal_denoiser", st)
    assert len(st.drawing) == 40
    assert not check(r, st).passed                        # nothing released
    assert st.release_particle_at(4.0, -3.0)              # far from every point
    st.wait_idle()
    res = check(r, st)
    assert res.passed and res.measured["end_distance"] < 0.01 and res.measured["copy_fraction"] > 0.95
    advance(r, st)
    assert not check(r, st).passed                        # still the ideal denoiser
    train(st, 100)
    res = check(r, st)
    assert res.passed and res.measured["copy_fraction"] < res.measured["ideal_copy_fraction"]


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


def test_forward_and_score(tmp_path):
    from lessons import exact

    st = make_state(tmp_path)
    r = start("forward_and_score", st)
    assert st.drawing.name == "three_modes" and exact.is_exact(st.models[st.panes[0].settings.model_key()])
    res = check(r, st)
    assert not res.passed and res.measured["peaks"] == 3    # at the data: three bumps
    tm = res.measured["merge_t"]
    assert 0.2 < tm < 0.9
    st.set_progress(1.0 - (tm - 0.05))
    res = check(r, st)
    assert not res.passed and res.measured["peaks"] >= 2     # just before the merge
    st.set_progress(0.0)
    res = check(r, st)
    assert not res.passed and res.measured["peaks"] == 1     # pure noise: merged long before
    st.set_progress(1.0 - tm)
    res = check(r, st)
    assert res.passed and abs(res.measured["t"] - tm) < 1e-6
    # the particle cloud's size follows the closed form of the forward process
    assert abs(res.measured["radius"] - res.measured["radius_formula"]) < 0.1 * res.measured["radius_formula"]
    advance(r, st)
    assert not check(r, st).passed                           # field off
    st.toggle("field")
    st.set_progress(0.99)
    assert not check(r, st).passed                           # t = 0.01: too close to the data
    st.set_progress(0.5)
    res = check(r, st)
    assert res.passed and res.measured["inward"] > 0.8 and res.measured["angle_deg"] < 45
    advance(r, st)
    assert len(st.released) == 1 and st.progress == 0.4 and not st.playing
    res = check(r, st)
    assert not res.passed and not res.measured["guessed"]
    path = st.released[0]
    step = r.step
    step.pick(st, *path[20])                                 # "it stays where it is"
    res = check(r, st)
    assert not res.passed and res.measured["moved"] > 0.15
    assert res.measured["error"] == pytest.approx(res.measured["moved"])
    step.pick(st, *path[35])                                 # the true position 15 steps later
    res = check(r, st)
    assert res.passed and res.measured["error"] < 1e-6 and step.marks(st) == [tuple(path[35])]
    assert res.measured["straight_error"] > 0                # one straight step is not the path
    advance(r, st)
    assert r.finished and st.errors == 0


def test_reading_a_tree(tmp_path):
    """Lesson 8: the learner's step is judged against the step at which the final mode (digit) becomes
    predictable from x_t, measured on the true paths; a stochastic sampler commits late, a
    deterministic one from the start (the noise decides)."""
    st = make_state(tmp_path)
    r = start("reading_a_tree", st)
    S = 20
    res = check(r, st)                                    # the slider at the noise
    c = res.measured["commit"]
    assert not res.passed and res.measured["step"] == 0 and res.measured["sampler"] == "euler_maruyama"
    assert 10 <= c < S - 2 and res.measured["accuracy"] < 0.4   # near chance (1 in 8) at the start
    st.set_progress(1.0)
    assert not check(r, st).passed                        # decided long before the end
    st.set_progress(c / S)
    res = check(r, st)
    assert res.passed and res.measured["accuracy"] >= 0.9 * res.measured["final_accuracy"]
    advance(r, st)
    res = check(r, st)
    assert not res.passed and res.measured["sampler"] == "euler_maruyama"   # still stochastic
    st.set_pane(0, sampler="euler")
    res = check(r, st)
    assert not res.passed and res.measured["commit"] <= 3                   # deterministic: decided early
    st.set_progress(0.0)
    res = check(r, st)
    assert res.passed and res.measured["accuracy"] > 0.8
    advance(r, st)
    res = check(r, st)                                    # digits, slider at the noise
    cd = res.measured["commit"]
    assert not res.passed and 5 <= cd < S and res.measured["final_accuracy"] == 1.0
    st.set_progress(cd / S)
    assert check(r, st).passed
    advance(r, st)
    assert r.finished and st.errors == 0


# ---- headless rendering of every lesson ----------------------------------------------------------
def _frames_of(path):
    import imageio.v2 as imageio

    if path.suffix == ".gif":
        from PIL import Image, ImageSequence

        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(Image.open(path))]
    if path.suffix == ".mp4":
        return [np.asarray(f) for f in imageio.get_reader(path, format="FFMPEG")]
    return [imageio.imread(path)[..., :3]]


def test_render_every_lesson(tmp_path):
    """`lesson --render`: every step of every lesson, set up as in the window and acted on by its demo,
    becomes a GIF, an MP4 and a PNG whose frames are not blank and (animations) change over time, and a
    self-contained web page."""
    from lessons.render import RenderOptions, make_state as render_state, render_lesson

    opts = RenderOptions(size=(160, 100), fps=4, seconds=1.0)
    st = render_state(tmp_path / "state", train_steps=40, particles=500)   # shipped models, as the window has
    order = list(LESSONS)
    written = []
    for key in order:
        written += render_lesson(get_lesson(key), tmp_path / "out", opts, number=order.index(key) + 1, state=st,
                                 say=lambda _: None)
    steps = sum(len(get_lesson(k).steps) for k in order)
    assert len(written) == 4 * steps and st.errors == 0
    for path in written:
        assert path.exists() and path.stat().st_size > 0, path
        if path.suffix == ".html":                        # sandbox.web's self-contained player
            text = path.read_text(encoding="utf-8")
            assert "DSW.mount" in text and "<script src" not in text, path
            continue
        frames = _frames_of(path)
        assert frames and frames[0].shape[:2] == (100, 160), path
        for f in frames:
            assert f.std() > 3 and len(np.unique(f.reshape(-1, 3), axis=0)) > 8, f"blank frame in {path.name}"
        if path.suffix != ".png":
            moved = [(a != b).any(-1).mean() for a, b in zip(frames, frames[1:])]   # share of pixels changed
            assert len(frames) >= 3 and max(moved) > 0.01, f"{path.name} does not move"
    assert (tmp_path / "out" / "08-reading_a_tree-step3.mp4").exists()
    for k in (1, 2, 3):     # compare mode: both panes play on the page (it showed only the flow pane)
        page = (tmp_path / "out" / f"03-ddpm_vs_flow-step{k}.html").read_text(encoding="utf-8")
        assert page.count("DSW.mount(document.getElementById") == 2 and "DDPM" in page
        assert ("DDIM" in page) == (k > 1)                # the right pane's sampler of that step
    page = (tmp_path / "out" / "04-few_steps-step1.html").read_text(encoding="utf-8")
    assert page.count("DSW.mount(document.getElementById") == 1


def test_render_command_line(tmp_path, capsys):
    assert main(["few_steps", "--render", str(tmp_path), "--size", "96x64", "--seconds", "0.5"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"04-few_steps-step{k}.{e}" for k in (1, 2)
                                                          for e in ("gif", "html", "mp4", "png")]
    assert main(["few_steps", "--render", str(tmp_path), "--size", "95x64"]) == 2     # odd width: no MP4
    assert "even" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["few_steps", "--render", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err


# ---- lesson flow: next lesson, progress kept, no autosave prompt ---------------------------------
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


def test_render_caption_stays_below_the_pane_headers(tmp_path):
    """Lesson 8's three panes: the caption at the top right was drawn over the right pane's header
    ("rectilinear tree · s 8. Reading a Tree ..."). With several panes it sits one line lower: the
    header row is the same with and without the caption."""
    from lessons.render import frames, make_state as render_state
    from sandbox.view import Theme

    st = render_state(tmp_path, particles=300)
    try:
        lesson = get_lesson("reading_a_tree")
        LessonRunner(lesson).enter(0, st)
        lesson.steps[0].demo(st)              # as render_lesson: waits for the lesson's paths and trees
        st.wait_idle(600)
        theme = Theme.named("dark").scaled(600 / 720)
        plain, captioned = (next(frames(lesson.steps[0], st, [1.0], (960, 600), theme, c))
                            for c in ("", "8. Reading a Tree of Diffusion Life  ·  step 1/3"))
    finally:
        st.close()
    rows = np.flatnonzero((plain != captioned).any(axis=(1, 2)))
    header = int(8 * theme.scale) + theme.font(1.0).get_linesize()
    assert len(rows) and rows.min() >= header, (rows.min(), header)


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


def test_lesson_tree_lines_read_as_density():
    """Lesson 8's faint paths: a bundle of 20 paths is brighter than one stray path of the same colour,
    and empty pixels keep the background (1 px opaque lines made 160 paths one uniform tangle)."""
    from lessons.tree_view import density_lines

    bg = (17, 19, 26)
    bundle = np.repeat(np.array([[[10.0, 10.0]], [[90.0, 10.0]]]), 20, axis=1)   # (2 steps, 20, 2)
    stray = np.array([[[10.0, 40.0]], [[90.0, 40.0]]])
    px = np.concatenate((bundle, stray), axis=1)
    cols = np.array([[255, 0, 0]] * 21)
    img = density_lines(px, cols, (100, 50), bg).astype(int)                      # (W, H, 3)
    assert (img[50, 10] - bg)[0] > 2 * (img[50, 40] - bg)[0] > 0
    assert (img[50, 25] == bg).all()
    assert img[50, 10, 1] <= bg[1] + 1  # red lines stay red
