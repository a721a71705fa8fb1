"""Lessons: every step's check FAILS on the untouched setup and PASSES once the state is driven
the way a learner would drive the window (AppState's actions, headless), with tiny training where
a lesson needs a trained model; the registry and `python -m lessons`. The runner, the panel and the
window: tests/test_lesson_window.py."""
import numpy as np
import pytest

from lesson_kit import TINY, advance, check, make_state, start, train
from lessons import LESSONS, get_lesson
from lessons.__main__ import main
from lessons.lesson import Lesson
from lessons.runner import LessonRunner
from sandbox.app.settings import Settings
from sandbox.app.state import AppState
from sandbox.errors import UserError


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))


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
    res = check(r, st)
    assert not res.passed                                 # paused, but at the start
    assert "t = 1.00" in res.feedback and "progress" not in res.feedback   # the words on screen
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
    assert res.measured["closest_start"] == pytest.approx(0.02, abs=1e-4)     # the pair the question is about
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
    res = check(r, st)
    assert not res.passed                                 # right pane still 50
    assert "B steps" in res.feedback and "Down" not in res.feedback   # the Down key steps the left pane only
    st.set_pane(1, steps=1)
    res = check(r, st)
    assert res.passed and "fair comparison" in res.feedback     # 8 against 1 step: said so
    st.set_pane(1, steps=8)
    res = check(r, st)
    assert res.passed and res.measured["flow_steps"] == res.measured["ddpm_steps"] == 8
    assert res.feedback.startswith("At 8 steps each:") and "fair" not in res.feedback, res.feedback
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
    assert "-0.00" not in res.feedback                    # seen in the window: '(w = 1: -0.00)'


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
    # the rings join (the instruction) before the second peak goes: a peak inside one ring, a peanut
    assert res.measured["rings"] == 1 and res.measured["peaks"] == 2 and tm < res.measured["peak_merge_t"]
    assert "peanut" in res.feedback
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


def test_render_commands_run_as_printed():
    """The no-window commands a lesson prints parse, and read only files that an earlier command writes
    or a '#' line tells how to make (lesson 2 named a my_points.csv the learner never had)."""
    import shlex

    from sandbox.cli.parser import build_parser

    parser = build_parser()
    for name in LESSONS:
        text = get_lesson(name).render
        assert text, name
        made: set[str] = set()
        told = ""
        for line in text.splitlines():
            if line.startswith("#"):
                told += line
                continue
            for cmd in line.split("&&"):
                words = shlex.split(cmd)
                assert words[0] == "diffusion-sandbox", (name, cmd)
                args = parser.parse_args(words[1:])               # exits (fails) on a wrong option
                for key in ("data", "model", "init"):
                    path = None if getattr(args, key, None) is None else str(getattr(args, key))
                    assert path is None or path in made or path in told, (name, key, path)
                if getattr(args, "out", None):
                    made.add(str(args.out))
