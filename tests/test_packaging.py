"""Packaging: what a user gets from `pip install`.

The wheel and the sdist carry every file of the packages and every shipped asset; every third-party
import is a declared dependency; `--help` and `--version` load no torch; and the built wheel,
installed into a fresh virtual environment, works from a folder outside the repository: `render
--dataset smiley` with the shipped model (training is made to fail, so it cannot silently retrain),
`tdl run` on the built-in digits model, and the lesson list.

The build and the install take a minute or two on a loaded 2-core machine (`python -m build`
makes the sdist and then the wheel from that sdist; pip then installs torch and the wheel, its
dependencies from the configured index).
"""
from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("sandbox", "tdl", "lessons", "assets")  # folders whose files the wheel must carry
FIRST_PARTY = {"sandbox", "tdl", "lessons", "diffusion_sandbox_assets"}
NOT_ON_PYPI = {"glide_text2im"}  # optional, documented in README (GLIDE): imported lazily, never required


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _source_files() -> list[str]:
    """Repository-relative paths of the files that must ship (git's list where there is one)."""
    try:
        out = subprocess.run(["git", "ls-files", "--", *SHIPPED], cwd=ROOT, capture_output=True, text=True,
                             check=True, timeout=60).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # an unpacked sdist: no git
        out = [str(p.relative_to(ROOT)) for d in SHIPPED for p in (ROOT / d).rglob("*") if p.is_file()]
    files = [f for f in out if "__pycache__" not in f and not f.endswith((".pyc", ".pyo")) and (ROOT / f).is_file()]
    assert any(f.startswith("assets/models/") for f in files) and any(f.startswith("assets/digits/") for f in files)
    return sorted(files)


def _in_wheel(path: str) -> str:
    return "diffusion_sandbox_assets/" + path[len("assets/"):] if path.startswith("assets/") else path


def _clean_copy(dest: Path) -> Path:
    """The repository's files as a clean clone would have them (tracked + new, not ignored): builds in the
    working tree would reuse a stale *.egg-info/SOURCES.txt and could list files that no rule ships."""
    try:
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                               capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        return ROOT  # an unpacked sdist: already clean
    for f in filter(None, files):
        if (ROOT / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dest / f)
    return dest


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """(wheel, sdist) from `python -m build` on a clean copy: the sdist, then the wheel built from that sdist."""
    pytest.importorskip("build", reason="`build` is in the dev extra")
    out, src = tmp_path_factory.mktemp("dist"), _clean_copy(tmp_path_factory.mktemp("src"))
    r = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (wheel,), (sdist,) = out.glob("*.whl"), out.glob("*.tar.gz")
    return wheel, sdist


def test_wheel_carries_every_package_file_and_asset(dists):
    names = set(zipfile.ZipFile(dists[0]).namelist())
    missing = [f for f in _source_files() if _in_wheel(f) not in names]
    assert not missing, f"not in the wheel (setup.py packages, pyproject.toml package-data): {missing}"
    assert any(n.endswith("licenses/LICENSE") for n in names)
    meta = zipfile.ZipFile(dists[0]).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta and "Requires-Dist: torch" in meta


def test_sdist_carries_every_package_file_and_asset(dists):
    with tarfile.open(dists[1]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    missing = [f for f in [*_source_files(), "LICENSE", "README.md", "pyproject.toml"] if f not in names]
    assert not missing, f"not in the sdist: {missing}"


def test_every_third_party_import_is_a_declared_dependency():
    from importlib.metadata import packages_distributions

    from packaging.requirements import Requirement

    project = _pyproject()["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    declared = {Requirement(r).name.lower().replace("_", "-") for r in reqs}
    dists = packages_distributions()
    undeclared = {}
    for path in (p for d in ("sandbox", "tdl", "lessons") for p in (ROOT / d).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in (n.split(".")[0] for n in names):
                if name in sys.stdlib_module_names or name in FIRST_PARTY or name in NOT_ON_PYPI:
                    continue
                # the distributions that provide it; one not installed here is taken by its own name
                owners = {d.lower().replace("_", "-") for d in dists.get(name, [name])}
                if not owners & declared:
                    undeclared.setdefault(name, str(path.relative_to(ROOT)))
    assert not undeclared, f"imported but not declared in pyproject.toml (import: first file): {undeclared}"


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    return [name for a in parser._actions if isinstance(a, argparse._SubParsersAction) for name in a.choices]


def test_help_and_version_load_no_torch():
    """Every `--help` (top level and each subcommand) and `--version` of both commands, in a fresh
    interpreter: they print and exit 0 without importing torch, pygame or matplotlib."""
    from sandbox.cli.parser import build_parser as sandbox_parser
    from tdl.cli import build_parser as tdl_parser

    argvs = [("sandbox.cli.parser", a) for a in
             [["--help"], ["--version"], *([c, "--help"] for c in _subcommands(sandbox_parser()))]]
    argvs += [("tdl.cli", a) for a in [["--help"], ["--version"], *([c, "--help"] for c in _subcommands(tdl_parser()))]]
    assert len(argvs) >= 12
    code = (
        "import contextlib, importlib, io, sys\n"
        f"for mod, argv in {argvs!r}:\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        try:\n"
        "            importlib.import_module(mod).main(argv)\n"
        "        except SystemExit as e:\n"
        "            assert e.code in (0, None), (argv, e.code)\n"
        "    text = out.getvalue()\n"
        "    assert ('usage:' in text) if '--help' in argv else text.split()[-1][0].isdigit(), (argv, text)\n"
        "    heavy = [m for m in ('torch', 'pygame', 'matplotlib') if m in sys.modules]\n"
        "    assert not heavy, (mod, argv, heavy)\n"
        "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout[-2000:] + r.stderr[-2000:]


@pytest.mark.parametrize("module, cls", [("sandbox.train_config", "TrainConfig"), ("tdl.config", "EmbedConfig")])
def test_help_shows_the_real_defaults(module, cls):
    """`--help` reads these defaults from the source (no torch); they equal the dataclass's own."""
    import dataclasses
    import importlib

    from sandbox.cli.defaults import dataclass_defaults

    read = dataclass_defaults(module, cls)
    real = {f.name: f.default for f in dataclasses.fields(getattr(importlib.import_module(module), cls))
            if f.default is not dataclasses.MISSING}
    assert read and read == {k: v for k, v in real.items() if k in read}
    shown = {"TrainConfig": {"steps", "lr", "batch_size", "width", "depth"},
             "EmbedConfig": {"pca_fit", "perplexity", "n_iter", "disp_weight", "align_weight", "method"}}[cls]
    assert shown <= set(read), f"--help needs these defaults as literals in {module}.{cls}: {shown - set(read)}"


def _run(cmd: list[str], cwd: Path, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} -> {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def _run_all(cmds: dict[str, list[str]], cwd: Path, env: dict, timeout: int = 600) -> dict[str, str]:
    """Run the commands at once; {name: stdout}, after asserting that each exited 0."""
    procs = {k: subprocess.Popen(c, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k, c in cmds.items()}
    out = {}
    for k, p in procs.items():
        stdout, stderr = p.communicate(timeout=timeout)
        assert p.returncode == 0, f"{k}: {' '.join(cmds[k])} -> {p.returncode}\n{stdout[-3000:]}\n{stderr[-3000:]}"
        out[k] = stdout
    return out


@pytest.mark.slow
def test_installed_wheel_works_outside_the_repository(dists, tmp_path):
    import torch

    venv, user = tmp_path / "venv", tmp_path / "user"
    user.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", MPLBACKEND="Agg", HF_HUB_OFFLINE="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1", DIFFUSION_SANDBOX_CACHE=str(tmp_path / "cache"))
    # a bare environment; this test's own pip installs into it (ensurepip alone would take ~15 s)
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], user, env)
    py, bindir = venv / "bin" / "python", venv / "bin"
    if not py.exists():  # Windows layout
        py, bindir = venv / "Scripts" / "python.exe", venv / "Scripts"
    pip = [sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-compile"]
    # torch first, the very build these tests run on (as README says: the CPU or CUDA build first),
    # then the wheel, its other dependencies from the configured index
    _run([*pip, f"torch=={torch.__version__}"], user, env)
    _run([*pip, str(dists[0])], user, env)
    for cmd in ("diffusion-sandbox", "tdl"):
        assert _run([str(bindir / cmd), "--version"], user, env).stdout.split() == [cmd, "0.1.0"]

    # the shipped smiley model, and proof that nothing trained: training raises if anything calls it
    # (then the window's state and lesson 1 on the same preset: they too load the shipped models)
    guard = ("import sys, sandbox.train as t, diffusion_sandbox_assets as a\n"
             "print(t.__file__, a.__file__)\n"
             "def no_training(*a, **k):\n"
             "    raise SystemExit('training was started')\n"
             "t.train = t.build_model = no_training\n"
             "from sandbox.cli import main\n"
             "rc = main(sys.argv[1:])\n"
             "from sandbox.app.state import AppState\n"
             "from lessons import get_lesson\n"
             "from lessons.runner import LessonRunner\n"
             "st = AppState('smiley', autosave=False, out_dir='.')\n"
             "LessonRunner(get_lesson(1)).start(st)\n"
             "assert len(st.models) == 2 and not st.training.running, (st.models, st.training.running)\n"
             "sys.exit(rc)\n")
    # the three commands are independent: run them side by side (each starts torch: seconds)
    runs = _run_all({
        "render": [str(py), "-c", guard, "render", "--dataset", "smiley", "--out", "smiley.gif", "--size", "96x72",
                   "--fps", "4", "--seconds", "1", "--hold", "0", "--particles", "200", "--traces", "10",
                   "--steps", "5"],
        "tdl": [str(bindir / "tdl"), "run", "--prompts", "3", "7", "--instances-per-prompt", "6", "--steps", "4",
                "--features", "digits_encoder", "--iterations", "20", "--thumbnails", "2", "--dpi", "40", "--quiet",
                "--out-dir", "tree"],
        "lesson": [str(bindir / "diffusion-sandbox"), "lesson"],
    }, user, env)
    where = runs["render"].split()[:2]  # the installed code and assets, not the repository's
    assert all(w.startswith(str(venv)) for w in where), where
    assert (user / "smiley.gif").stat().st_size > 1000
    assert (user / "tree" / "tree.png").stat().st_size > 1000
    assert "noise_to_data" in runs["lesson"] and "few_steps" in runs["lesson"]
