"""The `tdl` command line end to end, offline: run, the stages one by one, and bad inputs."""
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from tdl.cli import main
from tdl.embedding import EmbedConfig
from tdl.plot_colors import prompt_colors
from tdl.synthetic import branching
from tdl.trajectory import TrajectoryData
from tdl.tree import TreeData

SMALL = ["--prompts", "0", "1", "2", "--instances-per-prompt", "4", "--steps", "5"]
FAST = ["--iterations", "120", "--quiet"]



def _run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int64)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """`tdl run` once on the digits model (3 prompts x 4 instances x 6 steps)."""
    out = tmp_path_factory.mktemp("run")
    assert main(["run", "--out-dir", str(out), *SMALL, *FAST]) == 0
    return out


@pytest.fixture(scope="module")
def synthetic_traj(tmp_path_factory):
    """A trajectory with known structure (three branches), no model needed."""
    feats, labels = branching(steps=6, instances=18, dim=32, clusters=3, seed=1)
    traj = TrajectoryData(feats.numpy(), np.linspace(1, 0, 6), ["a", "b", "c"], labels.numpy(),
                          source="synthetic")
    return traj.save(tmp_path_factory.mktemp("syn") / "traj.npz")


def test_run_makes_trajectory_tree_and_a_real_figure(ran, capsys):
    traj = TrajectoryData.load(ran / "traj.npz")
    assert traj.features.shape[:2] == (6, 12) and traj.source == "digits"
    assert len(traj.prompts) == 3 and np.bincount(traj.prompt_index).tolist() == [4, 4, 4]
    tree = TreeData.load(ran / "tree.npz")
    assert tree.Y.shape == (6, 12, 2) and tree.layout == "radial"
    np.testing.assert_array_equal(tree.times, traj.times)
    assert len(tree.metrics["trustworthiness_per_step"]) == 6
    assert 0 <= tree.metrics["trustworthiness"] <= 1 and tree.metrics["runtime_s"] > 0
    img = _png(ran / "tree.png")
    assert img.shape[0] > 300 and img.shape[1] > 300 and img.std() > 10
    for c in prompt_colors(3):
        assert (np.abs(img - c).max(-1) <= 12).sum() > 20


def test_stages_one_by_one_give_what_run_gives(ran, tmp_path, capsys):
    rc, out, _ = _run(capsys, "sample", *SMALL, "--quiet", "--out", tmp_path / "t.npz")
    assert rc == 0 and "6 steps x 12 instances" in out
    np.testing.assert_array_equal(TrajectoryData.load(tmp_path / "t.npz").features,
                                  TrajectoryData.load(ran / "traj.npz").features)
    rc, out, _ = _run(capsys, "embed", tmp_path / "t.npz", *FAST, "--out", tmp_path / "tree.npz")
    assert rc == 0 and "trustworthiness" in out and "step_separation" in out
    np.testing.assert_allclose(TreeData.load(tmp_path / "tree.npz").Y, TreeData.load(ran / "tree.npz").Y)
    rc, out, _ = _run(capsys, "plot", tmp_path / "tree.npz", "--out", tmp_path / "tree.pdf")
    assert rc == 0 and (tmp_path / "tree.pdf").read_bytes().startswith(b"%PDF")


def test_embed_rectilinear_and_plot_options(synthetic_traj, tmp_path, capsys):
    tree_path = tmp_path / "rect.npz"
    rc, out, _ = _run(capsys, "embed", synthetic_traj, "--layout", "rectilinear", "--pca-dim", "8",
                      "--perplexity", "4", "--alignment-weight", "0.1", "--seed", "3", "--init", "pca_angle",
                      "--align-scale", "persistence", *FAST, "--out", tree_path)
    assert rc == 0
    tree = TreeData.load(tree_path)
    assert tree.layout == "rectilinear" and tree.config["perplexity"] == 4 and tree.config["seed"] == 3
    assert tree.config["pca_dim"] == 8 and tree.config["align_weight"] == 0.1
    assert tree.config["init"] == "pca_angle" and tree.config["align_scale"] == "persistence"
    # the printed table has one row per step, then the overall numbers
    rows = [line for line in out.splitlines() if line[:4].strip().isdigit()]
    assert len(rows) == 6
    assert f"trustworthiness: {tree.metrics['trustworthiness']:.3f}" in out
    rc, out, _ = _run(capsys, "plot", tree_path, "--out", tmp_path / "r.png", "--no-lines", "--dpi", "50")
    assert rc == 0
    img = _png(tmp_path / "r.png")
    assert img.shape[1] > img.shape[0]  # rectilinear: a wide figure
    assert img.shape[1] == pytest.approx(12.5 * 50, abs=2)  # --dpi is honoured


def test_parametric_embedding_places_the_same_trajectory_identically(synthetic_traj, tmp_path, capsys):
    rc, out, _ = _run(capsys, "embed", synthetic_traj, "--parametric", "--iterations", "15", "--quiet",
                      "--out", tmp_path / "p.npz")
    model = tmp_path / "p.parametric.safetensors"
    assert rc == 0 and model.is_file() and "--parametric-model" in out
    trained = TreeData.load(tmp_path / "p.npz")
    assert trained.metrics["method"] == "parametric" and trained.config["epochs"] == 15
    rc, _, _ = _run(capsys, "embed", synthetic_traj, "--parametric-model", model, "--quiet",
                    "--out", tmp_path / "placed.npz")
    assert rc == 0
    np.testing.assert_allclose(TreeData.load(tmp_path / "placed.npz").Y, trained.Y, atol=1e-4)
    short = TrajectoryData.load(synthetic_traj)
    short = TrajectoryData(short.features[:4], short.times[:4], short.prompts, short.prompt_index)
    rc, _, err = _run(capsys, "embed", short.save(tmp_path / "short.npz"), "--parametric-model", model,
                      "--out", tmp_path / "x.npz")
    assert rc == 2 and "trained on 6 steps" in err


def test_tree_finds_its_trajectory_for_thumbnails(ran, tmp_path, capsys):
    rc, _, err = _run(capsys, "plot", ran / "tree.npz", "--out", tmp_path / "a.png", "--thumbnails", "0")
    rc2, _, _ = _run(capsys, "plot", ran / "tree.npz", "--out", tmp_path / "b.png", "--thumbnails", "6")
    assert rc == rc2 == 0 and "not found" not in err
    assert not np.array_equal(_png(tmp_path / "a.png"), _png(tmp_path / "b.png"))


def _tiny_2d_model(path):
    """A saved class-conditional flow model of the moons, untrained (its paths are not the point)."""
    from sandbox.datasets import make_preset
    from sandbox.modelio import save_model
    from sandbox.train import TrainConfig, build_model
    cfg = TrainConfig(width=32, depth=2, conditional=True, device="cpu")
    return save_model(build_model(cfg, make_preset("moons", n=500, seed=0), torch.device("cpu")), path)


def test_sandbox2d_figure_has_the_true_paths_beside(tmp_path, capsys):
    traj = tmp_path / "moons.npz"
    rc, _, _ = _run(capsys, "sample", "--source", "sandbox2d", "--model", _tiny_2d_model(tmp_path / "m.safetensors"),
                    "--instances", "24", "--steps", "5", "--quiet", "--out", traj)
    assert rc == 0
    t = TrajectoryData.load(traj)
    assert t.positions2d.shape == (6, 24, 2) and len(t.prompts) == 2
    rc, _, _ = _run(capsys, "embed", traj, *FAST, "--out", tmp_path / "tree.npz")
    assert rc == 0
    rc, _, _ = _run(capsys, "plot", tmp_path / "tree.npz", "--out", tmp_path / "two.png", "--dpi", "50")
    assert rc == 0
    img = _png(tmp_path / "two.png")
    assert img.shape[1] > 1.7 * img.shape[0]  # two panels side by side


def test_explore_runs_headless_for_a_few_frames(ran, capsys):
    assert _run(capsys, "explore", ran / "tree.npz", "--frames", "3")[0] == 0


def test_help_lists_commands_and_true_defaults(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0
    for cmd in ("run", "sample", "embed", "plot", "explore", "examples:"):
        assert cmd in out
    with pytest.raises(SystemExit):
        main(["embed", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    cfg = EmbedConfig()
    radial, rect = EmbedConfig(layout="radial").resolved(200), EmbedConfig(layout="rectilinear").resolved(200)
    assert f"(default {radial.perplexity:g} radial, {rect.perplexity:g} rectilinear)" in out
    assert f"(default {radial.n_iter} radial, {rect.n_iter} rectilinear)" in out
    assert f"(default {radial.align_weight:g} radial, {rect.align_weight:g} rectilinear)" in out
    assert (f"(default: {radial.resolved_disp_weight():g} radial, {rect.resolved_disp_weight():g} rectilinear)"
            in out)
    assert f"(default {cfg.pca_dim})" in out


def test_sample_help_gives_each_sources_defaults(capsys):
    """--steps, --guidance, ... said no default (each source has its own); the help reads them from the
    sources' signatures without importing them, and they are the functions' defaults."""
    import inspect

    from sandbox.cli.defaults import function_defaults
    from tdl.cli import SOURCE_FUNCS
    from tdl.sources import SOURCES

    for name, (module, func) in SOURCE_FUNCS.items():
        real = {k: p.default for k, p in inspect.signature(SOURCES[name]).parameters.items()
                if p.default is not inspect.Parameter.empty}
        read = function_defaults(module, func)
        assert {k: real[k] for k in read} == read and {"steps", "seed"} <= set(read), name
    with pytest.raises(SystemExit):
        main(["sample", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    steps = {n: inspect.signature(f).parameters["steps"].default for n, f in SOURCES.items()}
    assert (f"(default digits {steps['digits']}, sandbox2d the model's, diffusers {steps['diffusers']}, "
            f"glide {steps['glide']})") in out
    assert "samples in all (sandbox2d; default sandbox2d 200)" in out


def test_a_warning_is_said_once(monkeypatch, capsys):
    """compare-features of a 6-instance trajectory printed the few-instances warning once per extractor."""
    import warnings

    from tdl import commands
    from tdl.config import FewInstancesWarning

    def embed(args):
        for _ in range(3):
            warnings.warn("only 6 instances per step", FewInstancesWarning, stacklevel=1)
        return 0
    monkeypatch.setattr(commands, "embed", embed)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["embed", "x.npz"]) == 0
    assert capsys.readouterr().err == "warning: only 6 instances per step\n"


def test_python_dash_m_tdl():
    r = subprocess.run([sys.executable, "-m", "tdl", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "tdl run" in r.stdout


# --- user mistakes: one line, exit 2, no traceback --------------------------------------------
def _bad_cases(tmp):
    notes = tmp / "notes.npz"
    notes.write_text("not a zip")
    points = tmp / "points.csv"
    points.write_text("x,y\n1,2\n")
    return [
        (["sample", "--source", "nope"], "unknown source"),
        (["sample", "--steps", "0"], "--steps"),
        (["sample", "--instances-per-prompt", "-2"], "--instances-per-prompt"),
        (["sample", "--features", "nope"], "unknown feature extractor"),
        (["sample", "--source", "sandbox2d", "--prompts", "a"], "does not take --prompts"),
        (["sample", "--device", "warp"], "unknown device"),
        (["embed", tmp / "missing.npz"], "no trajectory file"),
        (["embed", notes], "tdl trajectory file"),
        (["embed", points], "expected the .npz that tdl writes"),   # was '... file (ValueError)'
        (["embed", "{traj}", "--layout", "spiral"], "unknown layout"),
        (["embed", "{traj}", "--iterations", "0"], "--iterations"),
        (["embed", "{traj}", "--perplexity", "-1"], "--perplexity"),
        (["embed", "{traj}", "--method", "magic"], "unknown --method"),
        (["embed", "{traj}", "--free-iterations", "-1"], "--free-iterations"),
        (["embed", "{traj}", "--iterations", "10", "--free-iterations", "10"], "--free-iterations"),
        (["embed", "{traj}", "--parametric", "--free-iterations", "10"], "--free-iterations"),
        (["embed", "{traj}", "--parametric", "--displacement-weight", "1", "--method", "exact"],
         "--displacement-weight, --method set the evolutionary"),
        (["run", "--parametric", "--alignment-weight", "1"], "--alignment-weight sets the evolutionary"),
        (["embed", "{traj}", "--display", "wide"], "unknown --display"),
        (["embed", "{traj}", "--init", "sideways"], "unknown --init"),
        (["embed", "{traj}", "--align-scale", "more"], "unknown --align-scale"),
        (["embed", "{traj}", "--pca-fit", "some"], "unknown --pca-fit"),
        (["embed", "{traj}", "--parametric", "--init", "pca"], "--init sets the evolutionary"),
        (["embed", "{tree}"], "it is a tree: `tdl plot` or `tdl explore` it"),   # said only "not a trajectory"
        (["embed"], "required"),
        (["plot", tmp / "missing.npz"], "no tree file"),
        (["plot", "{traj}"], "run `tdl embed`"),
        (["plot", "{tree}", "--out", tmp / "x.jpg"], ".png, .svg or .pdf, or .html for the interactive page"),
        (["plot", "{tree}", "--out", tmp / "x.png", "--thumbnails", "-1"], "--thumbnails"),
        (["plot", "{tree}", "--traj", tmp / "missing.npz"], "no trajectory file"),
        (["explore", "{tree}"], "tdl plot"),
        (["explore", "{tree}", "--size", "big"], "--size"),
        (["run", "--format", "gif"], ".png, .svg or .pdf"),
        (["run", "--layout", "spiral"], "unknown layout"),
        (["plot", "{tree}", "--dpi", "x"], "invalid int"),
    ]


def test_user_mistakes_are_one_line_and_exit_2(ran, synthetic_traj, tmp_path, capsys):
    subs = {"{traj}": str(synthetic_traj), "{tree}": str(ran / "tree.npz")}
    for argv, needle in _bad_cases(tmp_path):
        argv = [subs.get(str(a), str(a)) for a in argv]
        try:
            rc = main(argv)
        except SystemExit as e:  # argparse's own errors
            rc = e.code
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert rc == 2, (argv, err)
        assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], (argv, err)
        assert "Traceback" not in out + err
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.jpg").exists()


@pytest.mark.parametrize("fault, needle", [
    (RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory"), "out of memory"),
    (MemoryError(), "out of memory"),
    (PermissionError(13, "Permission denied", "x.npz"), "permission denied")])
def test_faults_of_the_machine_are_one_line_and_exit_2(monkeypatch, capsys, fault, needle):
    """A request too large for memory (`--instances-per-prompt 100000000` on digits asked for 256 GB)
    or an OSError outside the atomic writes ended in a traceback."""
    import tdl.commands

    def fails(args):
        raise fault
    monkeypatch.setattr(tdl.commands, "sample", fails)
    rc, out, err = _run(capsys, "sample", "--source", "digits", "--out", "x.npz")
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err


def test_other_runtime_errors_are_not_hidden(monkeypatch):
    import tdl.commands

    def fails(args):
        raise RuntimeError("a bug")
    monkeypatch.setattr(tdl.commands, "sample", fails)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["sample", "--source", "digits", "--out", "x.npz"])


@pytest.mark.parametrize("argv", [["run", "--seed", "99999999999999999999999"], ["sample", "--seed", "-1"],
                                  ["embed", "x.npz", "--seed", "-2"],
                                  ["sample", "--source", "diffusers", "--seeds", "0", "-1"]])
def test_seeds_out_of_range_are_one_line(capsys, argv):
    """`tdl run --seed 99999999999999999999999` ended in torch's 'Overflow when unpacking long long'."""
    rc, out, err = _run(capsys, *argv)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("error: --seed") and "2**63-1" in lines[0], err


def test_an_unwritable_output_is_refused_before_the_work(synthetic_traj, tmp_path, monkeypatch, capsys):
    """`tdl embed` / `tdl sample` check the output before iterating, not after minutes of work."""
    import errno
    import pathlib

    import tdl.commands
    import tdl.pipeline

    def no_work(*a, **k):
        raise AssertionError("the work ran before the output was checked")

    monkeypatch.setattr(tdl.pipeline, "embed_trajectory", no_work)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["embed", str(synthetic_traj), "--out", str(blocker / "tree.npz")]) == 2
    assert "a file is in the way" in capsys.readouterr().err

    def read_only(self, *a, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(pathlib.Path, "touch", read_only)
    assert main(["embed", str(synthetic_traj), "--out", str(tmp_path / "tree.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "read-only" in err[0]
    monkeypatch.setattr(tdl.commands, "sample_trajectory", no_work)
    assert main(["sample", "--source", "digits", "--out", str(tmp_path / "traj.npz")]) == 2
    assert "read-only" in capsys.readouterr().err
    assert main(["run", "--out-dir", str(tmp_path / "run")]) == 2   # sampled first, then failed to write
    assert "read-only" in capsys.readouterr().err
    assert not list(tmp_path.glob(".*probe"))
