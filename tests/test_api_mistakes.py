"""The mistakes a student makes in a notebook, and what a notebook shows: one-line errors that name
the nearest right keyword, one-line reprs, progress bars that appear when asked for."""
import numpy as np
import pytest
import torch

import sandbox
import tdl
from sandbox.errors import UserError, unknown_options


@pytest.fixture(scope="module")
def model():
    return sandbox.shipped("moons")


@pytest.fixture(scope="module")
def small_tree():
    traj = tdl.sample("sandbox2d", preset="moons", instances=16, steps=4, train_steps=20, seed=0)
    return traj, tdl.embed(traj, n_iter=30)


def test_ipython_shows_a_user_error_as_one_line(monkeypatch):
    """IPython asks an exception for `_render_traceback_` and shows its lines instead of every frame:
    a typo in a notebook showed 8-12 frames of the package down to the check that failed."""
    from sandbox.registry import UnknownName

    monkeypatch.delenv("DIFFUSION_SANDBOX_TRACEBACK", raising=False)
    lines = UserError("steps must be a positive whole number, got 0")._render_traceback_()
    assert len(lines) == 1 and lines[0].endswith("UserError\x1b[0m: steps must be a positive whole number, got 0")
    assert UnknownName("unknown sampler 'dimm'")._render_traceback_()[0].endswith(": unknown sampler 'dimm'")
    monkeypatch.setenv("DIFFUSION_SANDBOX_TRACEBACK", "1")  # developers: the whole traceback
    assert not hasattr(UserError("x"), "_render_traceback_")
    assert not hasattr(ValueError("x"), "_render_traceback_")


def test_ipython_shell_prints_one_line_for_a_user_error(monkeypatch, capsys):
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    monkeypatch.delenv("DIFFUSION_SANDBOX_TRACEBACK", raising=False)
    shell = interactiveshell.InteractiveShell.instance()
    shell.run_cell("import sandbox\nsandbox.preset('moonz')")
    out = capsys.readouterr()
    text = out.out + out.err
    assert "unknown data set 'moonz'" in text and "Traceback" not in text and "File " not in text, text


def test_unknown_options_name_the_nearest_keyword():
    error = unknown_options(["stesp", "zzz"], ["steps", "seed"], "option", "f takes")
    assert str(error) == "unknown options 'stesp' (did you mean 'steps'?), 'zzz'; f takes steps, seed"
    assert unknown_options(["steps"], ["steps"]) is None


@pytest.mark.parametrize("call, needle", [
    (lambda m: sandbox.train("moons", step=100), "unknown training option 'step' (did you mean 'steps'?)"),
    # these were blamed on the sampler: "sampler 'euler_maruyama' takes no option 'sampeler'"
    (lambda m: sandbox.sample(m, 10, sampeler="ddim"), "unknown option 'sampeler' (did you mean 'sampler'?); "
                                                       "sample takes sampler, steps,"),
    (lambda m: sandbox.sample(m, 10, stesp=5), "(did you mean 'steps'?)"),
    (lambda m: sandbox.sample(m, 10, sampler="ddim", eat=0.5), "(did you mean 'eta'?)"),
    (lambda m: m.sample(10, stesp=5), "(did you mean 'steps'?)"),
    (lambda m: sandbox.animate(m, 10, stesp=5), "(did you mean 'steps'?); animate takes n, data,"),
    (lambda m: sandbox.animate(m, 10, theme="light"), "theme is chosen when saving"),
    (lambda m: tdl.sample("digits", prompt=[3]), "unknown option 'prompt' (did you mean 'prompts'?)"),
    # a string where a number goes: "TypeError: must be real number, not str" from math; guidance did nothing
    (lambda m: sandbox.train("moons", lr="0.01"), "lr must be a number, got '0.01'"),
    (lambda m: sandbox.train("moons", steps="100"), "steps must be a positive whole number, got '100'"),
    (lambda m: sandbox.sample(m, 10, guidance="high"), "guidance must be"),
    (lambda m: sandbox.sample(m, 10, guidance=3.0), "guidance needs a class-conditional model"),
    # render's save options ('sizee' was matched against sample's only: "did you mean 'seed'?")
    (lambda m: sandbox.render(m, "x.png", n=10, sizee="64x48"), "unknown option 'sizee' (did you mean 'size'?)"),
    # a preset's name where a model goes
    (lambda m: sandbox.sample("moons", 10), "for the preset's shipped model, sandbox.shipped('moons')"),
    (lambda m: sandbox.animate("moons"), "for the preset's shipped model, sandbox.shipped('moons')"),
    (lambda m: sandbox.load("moons"), "model file not found: moons; the model shipped for the preset: "
                                      "sandbox.shipped('moons')"),
])
def test_typos_in_keywords_are_one_line_with_a_suggestion(model, call, needle):
    with pytest.raises(UserError) as info:
        call(model)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_typos_in_tdl_embed_and_plot(small_tree, tmp_path):
    traj, tree = small_tree
    with pytest.raises(UserError, match=r"unknown embedding option 'n_iters' \(did you mean 'n_iter'\?\)"):
        tdl.embed(traj, n_iters=10)
    # a misspelt figure option was "thumbnail only apply when writing a file" (and a TypeError with out=)
    for out in (None, tmp_path / "t.png"):
        with pytest.raises(UserError, match=r"'thumbnail' \(did you mean 'thumbnails'\?\)"):
            tdl.plot(tree, traj, out=out, thumbnail=3)


def test_numpy_numbers_are_numbers(tmp_path):
    model = sandbox.train(sandbox.preset("moons", n=200), steps=np.int64(3), lr=np.float32(0.01))  # were refused
    assert model.config["train"]["steps"] == 3
    assert sandbox.load(sandbox.save(model, tmp_path / "m.safetensors")).config["train"]["steps"] == 3
    from sandbox.train import TrainConfig   # the generator's users build it themselves: the same there
    cfg = TrainConfig(steps=np.int64(3), lr=np.float32(0.01))
    assert type(cfg.steps) is int and type(cfg.lr) is float


def test_render_takes_every_save_option(model, tmp_path):
    out = sandbox.render(model, tmp_path / "half.png", n=50, steps=4, size="64x48", at=0.5)  # at= was refused
    assert out.stat().st_size > 0


def test_sample_device_and_start_points_are_checked(model):
    if not torch.cuda.is_available():  # was torch's "AssertionError: Torch not compiled with CUDA enabled"
        with pytest.raises(UserError, match="no CUDA GPU is available"):
            sandbox.sample(model, 10, device="cuda")
    with pytest.raises(UserError, match="unknown device 'gpu'"):
        sandbox.sample(model, 10, device="gpu")
    # x_T as numpy was "AttributeError: 'numpy.ndarray' object has no attribute 'to'"
    start = np.random.default_rng(0).normal(size=(10, 2))
    traj = sandbox.sample(model, 10, x_T=start, coords="canonical", steps=5)
    assert np.allclose(traj.xs[0].numpy(), start, atol=1e-6)
    with pytest.raises(UserError, match=r"x_T must be \(10, 2\) start points, one per sample, got shape \(10, 3\)"):
        sandbox.sample(model, 10, x_T=np.zeros((10, 3)))


def test_reprs_are_one_line(model, small_tree):
    traj = sandbox.sample(model, 1000, steps=30, seed=1)
    text = repr(traj)  # was 60 lines of tensors; TrajectoryData's 3,800 lines of arrays
    assert text.startswith("Trajectory(30 steps of 1000 particles in 2D, sampler 'euler_maruyama', nfe 30, "
                           "data coordinates") and "\n" not in text, text
    anim = repr(sandbox.animate(model, 50, steps=4))
    assert anim.startswith("Animation(Trajectory(4 steps of 50 particles") and "\n" not in anim, anim
    ttraj, tree = small_tree
    for obj, start in [(ttraj, "TrajectoryData(source 'sandbox2d', 5 steps x 16 instances"),
                       (tree, "TreeData("), (tdl.plot(tree, ttraj), "TreeView(TreeData(")]:
        assert repr(obj).startswith(start) and "\n" not in repr(obj) and len(repr(obj)) < 300, repr(obj)


def test_model_card_names_the_sampler_as_the_window_does(model):
    card = model._repr_html_()
    assert "Euler\u2013Maruyama (sampler=&#x27;euler_maruyama&#x27;), 100 steps" in card, card


def test_progress_bars_show_when_asked_even_off_a_terminal(model, tmp_path, capsys):
    """`Animation.save(progress=True)` drew no bar in a notebook (tqdm's disable=None: terminals only);
    the command line keeps that rule (show=None)."""
    from sandbox.progress import progress_bar

    sandbox.animate(model, 50, steps=4).save(tmp_path / "a.gif", size=(64, 48), fps=5, seconds=0.4, progress=True)
    assert "render a.gif" in capsys.readouterr().err
    for _ in progress_bar(range(3), show=None, desc="terminal only"):
        pass
    assert "terminal only" not in capsys.readouterr().err  # pytest's stderr is no terminal


def test_progress_bars_are_text_without_ipywidgets(monkeypatch):
    """tqdm.auto warns "IProgress not found" in a notebook without ipywidgets (tdl.sample printed it
    even with progress off): without ipywidgets the text bar is taken."""
    import importlib.util

    import tqdm
    import tqdm.auto

    from sandbox.progress import tqdm_class

    real = importlib.util.find_spec
    for widgets, expected in [(None, tqdm.tqdm), (object(), tqdm.auto.tqdm)]:
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a, w=widgets: w if name == "ipywidgets" else real(name, *a))
        assert tqdm_class() is expected


def test_help_on_sandbox_train_shows_the_api():
    """Shift+Tab / `sandbox.train?` in Jupyter showed (*args, **kwargs) and the engine's generator
    (tdl.plot too): callable modules; their signature and call docstring are now the API's."""
    import inspect

    from sandbox import api

    assert inspect.signature(sandbox.train) == inspect.signature(api.train)
    assert inspect.signature(sandbox.train.__call__) == inspect.signature(api.train)
    assert sandbox.train.__call__.__doc__ == api.train.__doc__
    assert sandbox.train.__doc__.startswith("`sandbox.train(data, objective=")
    assert inspect.signature(sandbox.train.train).parameters["cfg"]  # the generator underneath is unchanged
    assert inspect.signature(tdl.plot) == inspect.signature(tdl.api.plot)  # the other callable module
    assert tdl.plot.__call__.__doc__ == tdl.api.plot.__doc__ and callable(tdl.plot.plot_tree)


def test_an_interrupt_is_one_line_that_says_what_stopped(monkeypatch, tmp_path, model):
    """Ctrl-C / Kernel > Interrupt in a long cell showed 10-19 frames ending inside torch; now one line
    (still a KeyboardInterrupt), and torch's thread setting is given back."""
    import sandbox.train as train_module
    from sandbox.errors import Interrupted

    real = train_module.train

    def stopped(cfg, pointset, device=None, init=None):
        for k, event in enumerate(real(cfg, pointset, device)):
            if k == 3:
                raise KeyboardInterrupt
            yield event

    monkeypatch.setattr(train_module, "train", stopped)
    before = torch.get_num_threads()
    for progress in (False, True):
        with pytest.raises(KeyboardInterrupt) as info:
            sandbox.train(sandbox.preset("moons", n=200), steps=50, progress=progress)
        assert isinstance(info.value, Interrupted) and torch.get_num_threads() == before
        assert str(info.value).startswith("training interrupted at step 3 of 50; no model was kept")
        assert len(info.value._render_traceback_()) == 1

    import sandbox.export as export

    def ctrl_c(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "export_animation", ctrl_c)
    with pytest.raises(Interrupted, match="writing a.gif interrupted; the file was left as it was"):
        sandbox.animate(model, 20, steps=3).save(tmp_path / "a.gif")


def test_tdl_bars_are_off_outside_a_notebook(small_tree, capsys):
    traj, _ = small_tree
    tdl.embed(traj, n_iter=20)
    assert "embedding" not in capsys.readouterr().err  # default: a bar in Jupyter only (test_notebook)
    tdl.embed(traj, n_iter=20, progress=True)
    assert "embedding" in capsys.readouterr().err


def test_tdl_api_uses_the_command_lines_thread_policy(monkeypatch, small_tree):
    """In a notebook tdl.embed ran with torch's threads = cores: 3-5 s for a digits tree on 2 busy
    cores, 0.5 s with the policy's one thread (tdl/threads.py, what `tdl embed` applies)."""
    import tdl.pipeline as pipeline
    import tdl.threads as tdl_threads

    traj, _ = small_tree
    monkeypatch.setattr(tdl_threads, "auto_threads", lambda cores=None, load=None: 1)
    real, seen = pipeline.embed_trajectory, []

    def spy(*a, **k):
        seen.append(torch.get_num_threads())
        return real(*a, **k)

    monkeypatch.setattr(pipeline, "embed_trajectory", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        tdl.embed(traj, n_iter=10)
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_save_refuses_a_name_that_promises_another_format(tmp_path):
    """`sandbox.save(model, "model.pt")` wrote safetensors under a torch-pickle name (torch.load then fails
    far from the cause); like `train --out`, a model file is named .safetensors, and nothing is written."""
    model = sandbox.train(sandbox.preset("moons", n=200), steps=2)
    for name in ("model.pt", "model"):
        with pytest.raises(UserError, match=r"save to model\.safetensors"):
            sandbox.save(model, tmp_path / name)
    assert not list(tmp_path.iterdir())
    assert sandbox.save(model, tmp_path / "model.SafeTensors").exists()
