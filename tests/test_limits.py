"""Limits: every numeric flag and every field read from a model or session file is range-checked
before anything is allocated; what cannot fit in memory is refused with one line saying what fits."""
import json
import time
from pathlib import Path

import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from sandbox.cli import main
from sandbox.errors import UserError
from sandbox.modelio import META_KEY, load_model, shipped_model_path


def _run(capsys, *argv):
    rc = main(list(argv))
    err = capsys.readouterr().err.strip()
    return rc, err


MODEL = str(shipped_model_path("moons", "flow"))


@pytest.mark.parametrize("argv,needle", [
    (["train", "--batch-size", str(10 ** 9)], "--batch-size must be from 1 to 65536"),
    (["train", "--width", str(10 ** 6)], "--width must be from 1 to 4096"),
    (["train", "--n", str(10 ** 9)], "--n must be from 2 to 1_000_000"),
    (["train", "--seed", "-1"], "--seed must be from 0"),
    (["train", "--seed", str(2 ** 64)], "--seed must be from 0"),
    (["train", "--lr", "nan"], "--lr must be a number"),
    (["train", "--width", "4096", "--depth", "64", "--batch-size", "65536"], "more than this machine can spare"),
    (["sample", "--model", MODEL, "--n", str(10 ** 10), "--out", "x.csv"], "--n must be from 1 to 10_000_000"),
    (["sample", "--model", MODEL, "--n", str(10 ** 7), "--steps", "100000", "--out", "x.csv"], "at most --n"),
    (["sample", "--model", MODEL, "--steps", str(10 ** 12), "--out", "x.csv"], "--steps must be from 1 to 100_000"),
    (["render", "--dataset", "moons", "--hold", "1e9", "--out", "x.gif"], "--hold must be a number from 0 to 60"),
    (["render", "--dataset", "moons", "--hold", "nan", "--out", "x.gif"], "--hold must be a number"),
    (["render", "--dataset", "moons", "--particles", str(10 ** 9), "--out", "x.gif"], "--particles must be from 1"),
    (["render", "--dataset", "moons", "--seconds", "inf", "--out", "x.gif"], "--seconds must be a number"),
])
def test_flags_out_of_range_are_one_line(capsys, tmp_path, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)
    t = time.perf_counter()
    rc, err = _run(capsys, *argv)
    assert rc == 2 and needle in err and "\n" not in err and "Traceback" not in err, err
    assert time.perf_counter() - t < 5
    assert not list(tmp_path.iterdir())  # nothing written


def test_help_documents_the_ranges(capsys):
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    out = capsys.readouterr().out
    assert "range 1..100_000" in out and "range 0..60" in out and "--no-clobber" in out and "replaced" in out


def _rewrite(tmp_path: Path, change) -> Path:
    """A copy of a shipped model whose metadata `change(meta)` edits (weights unchanged)."""
    with safe_open(MODEL, framework="pt") as f:
        meta = json.loads(f.metadata()[META_KEY])
    raw = change(meta) or json.dumps(meta)  # change may return the raw text itself
    out = tmp_path / "hostile.safetensors"
    save_file(load_file(MODEL), str(out), metadata={META_KEY: raw})
    return out


@pytest.mark.parametrize("change,needle", [
    (lambda m: m["net"].update(width=24000), "net.width must be from 1 to 4096"),  # was 2.4 GB
    (lambda m: m["net"].update(width=4000, depth=64), "do not match"),  # in range: shapes checked first
    (lambda m: m["net"].update(depth=10 ** 6), "net.depth must be from 1 to 64"),
    (lambda m: m["net"].update(width=10 ** 9), "net.width must be from 1 to 4096"),
    (lambda m: m.update(objective={"type": "ddpm", "T": 10 ** 9}), "objective.T must be from 1"),
    (lambda m: m["net"].update(time_embed_dim=31), "time_embed_dim must be even"),
    (lambda m: m["net"].update(time_embed_dim=30), "do not match"),      # in range, disagrees with weights
    (lambda m: m["normalizer"].update(scale=float("nan")), "normalizer.scale"),
    (lambda m: json.dumps(m)[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}", "nested deeper"),
])
def test_hostile_model_files_cost_nothing(tmp_path, change, needle):
    import tracemalloc

    path = _rewrite(tmp_path, change)
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    t = time.perf_counter()
    with pytest.raises(UserError, match=needle):
        load_model(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.perf_counter() - t < 2 and peak < 50e6  # a normal model costs less than this too


def test_session_nesting_is_bounded(tmp_path):
    import numpy as np
    from safetensors.numpy import save_file as save_np

    from sandbox.app import session

    path = tmp_path / "deep.session"
    raw = '{"format": "diffusion-sandbox-session", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    save_np({"drawing.points": np.zeros((1, 2), np.float32)}, str(path), metadata={"session": raw})
    with pytest.raises(UserError, match="not a diffusion-sandbox session"):  # was RecursionError
        session.load(path)


@pytest.mark.parametrize("field,value", [("width", 10 ** 6), ("depth", 10 ** 6), ("T", 10 ** 9), ("seed", -1),
                                         ("seed", 2 ** 64), ("batch_size", 10 ** 9)])
def test_python_api_ranges(field, value):
    from sandbox.train import TrainConfig

    with pytest.raises(UserError, match=f"{field} must be"):
        TrainConfig(**{field: value}).validate()


def test_every_option_explains_itself_and_every_number_has_its_range():
    """`--help` 'lists the range of every number it takes' (README): a new user found --eta,
    --guidance, --traces and --size without a range and --device and --theme without any help."""
    import argparse

    from sandbox.cli.parser import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in ("train", "sample", "render"):
        for action in sub.choices[name]._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, (name, action.option_strings)
            numeric = action.type in (int, float) or action.dest == "size"
            if numeric:
                assert "range" in action.help or ".." in action.help, (name, action.option_strings, action.help)
