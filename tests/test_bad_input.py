"""Every bad input of issue 2 through the real command line: one line on stderr, exit 2, no traceback."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from sandbox.cli import main


def _files(tmp):
    """Write the bad files; returns name -> path."""
    f = {}

    def text(name, body):
        (tmp / name).write_text(body)
        f[name] = tmp / name

    text("empty.csv", "")
    text("header_only.csv", "x,y\n")
    text("one_point.csv", "x,y\n1,2\n")
    text("nan.csv", "1,2\n3,nan\n5,6\n")
    text("inf.csv", "1,2\n3,4\n-inf,6\n")
    text("absurd.csv", "1,2\n3e9,4\n5,6\n")
    text("same.csv", "1,2\n1,2\n1,2\n1,2\n")
    text("words.csv", "x,y\n1,2\n3,four\n")
    text("columns.csv", "1,2,3,4\n5,6,7,8\n")
    text("ragged.csv", "1,2\n3,4,a\n")
    text("points.xyz", "1,2\n3,4\n")
    text("fake.safetensors", "this is not a model\n")
    text("fake.png", "not a picture")
    Image.new("L", (64, 48), 255).save(tmp / "white.png")
    f["white.png"] = tmp / "white.png"
    np.save(tmp / "shape.npy", np.zeros((10, 5)))
    f["shape.npy"] = tmp / "shape.npy"
    np.save(tmp / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    f["objects.npy"] = tmp / "objects.npy"
    (tmp / "random.safetensors").write_bytes(np.random.default_rng(0).bytes(300))
    f["random.safetensors"] = tmp / "random.safetensors"
    return f


CASES = [  # (argv, text the error must contain)
    (["train", "--data", "empty.csv"], "empty"),
    (["train", "--data", "header_only.csv"], "no data rows"),
    (["train", "--data", "one_point.csv"], "at least 2 points"),
    (["train", "--data", "nan.csv"], "line 2"),
    (["train", "--data", "inf.csv"], "line 3"),
    (["train", "--data", "absurd.csv"], "absurd"),
    (["train", "--data", "same.csv"], "same place"),
    (["train", "--data", "words.csv"], "'four' is not a number"),
    (["train", "--data", "columns.csv"], "columns"),
    (["train", "--data", "ragged.csv"], "columns"),
    (["train", "--data", "points.xyz"], "unknown file type"),
    (["train", "--data", "white.png"], "no dark strokes"),
    (["train", "--data", "fake.png"], "cannot read the picture"),
    (["train", "--data", "shape.npy"], "shape"),
    (["train", "--data", "objects.npy"], "objects.npy"),
    (["train", "--data", "missing.csv"], "no such file"),
    (["train", "--dataset", "banana"], "unknown data set 'banana'"),
    (["train", "--steps", "0"], "--steps must be from 1"),
    (["train", "--steps", "-3"], "--steps must be from 1"),
    (["train", "--lr", "0"], "--lr must be a number from 1e-07 to 1000"),
    (["train", "--out", "m.txt"], "model file"),
    (["train", "--out", "nowhere/m.safetensors"], "does not exist"),  # before training, not after
    (["train", "--steps", "many"], "invalid int value"),  # argparse's own error, one line too
    (["train", "--steps", "3", "--lr", "1000", "--width", "8", "--out", "m.safetensors"], "diverged"),
    (["sample", "--model", "fake.safetensors", "--out", "p.csv"], "fake.safetensors"),
    (["sample", "--model", "random.safetensors", "--out", "p.csv"], "random.safetensors"),
    (["sample", "--model", "nan.csv", "--out", "p.csv"], "nan.csv"),
    (["sample", "--model", "nothing.safetensors", "--out", "p.csv"], "no such file"),
    (["sample", "--model", "fake.safetensors", "--steps", "0", "--out", "p.csv"], "--steps"),
    (["sample", "--model", "fake.safetensors", "--out", "p.txt"], "points file"),
    (["render", "--model", "fake.safetensors", "--out", "a.gif"], "fake.safetensors"),
    (["render", "--dataset", "banana", "--out", "a.gif"], "unknown data set"),
    (["render", "--dataset", "moons", "--steps", "0", "--out", "a.gif"], "--steps"),
    (["render", "--dataset", "moons", "--size", "0x0", "--out", "a.gif"], "size 0x0"),
    (["render", "--dataset", "moons", "--size", "5000x300", "--out", "a.gif"], "out of range"),
    (["render", "--dataset", "moons", "--size", "big", "--out", "a.gif"], "WIDTHxHEIGHT"),
    (["render", "--dataset", "moons", "--out", "a.avi"], "unknown output type"),
    (["render", "--dataset", "moons", "--out", "nowhere/a.gif"], "does not exist"),
    (["render", "--dataset", "moons", "--fps", "0", "--out", "a.gif"], "--fps must be a number from 1"),
    (["render", "--dataset", "moons", "--out", "a.mp4", "--size", "101x100"], "even"),
    (["render", "--dataset", "moons", "--particles", "0", "--out", "a.gif"], "--particles"),
]


@pytest.mark.parametrize("argv, expect", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_one_line(tmp_path, monkeypatch, capsys, argv, expect):
    _files(tmp_path)  # relative names below: we run inside tmp_path
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as e:  # argparse exits by itself
        code = e.code
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert expect in lines[0], lines[0]
    assert "Traceback" not in err
    assert not list(tmp_path.glob("*.gif")) and not list(tmp_path.glob("p.*"))


def test_real_entry_point_one_line(tmp_path):
    """Through `python -m sandbox` (what the console script runs): same single line."""
    (tmp_path / "nan.csv").write_text("1,2\nnan,3\n4,5\n")
    for argv in (["train", "--data", "nan.csv"], ["render", "--dataset", "nope", "--out", "a.gif"]):
        r = subprocess.run([sys.executable, "-m", "sandbox", *argv], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONWARNINGS": "ignore"})
        assert r.returncode == 2 and r.stdout == ""
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr


def test_no_display_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    assert main([]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "diffusion-sandbox render --dataset smiley --out smiley.gif" in err[0]
    # the window's options without `window` (argparse took 'spirals' for an unknown command), and a
    # hint that renders what was asked for
    assert main(["--dataset", "spirals"]) == 1
    assert "render --dataset spirals --out spirals.gif" in capsys.readouterr().err
    assert main(["--dataset=two-moons"]) == 1
    assert "render --dataset moons --out moons.gif" in capsys.readouterr().err
    monkeypatch.delenv("SDL_VIDEODRIVER")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if sys.platform.startswith("linux"):
        assert main(["window", "--dataset", "moons"]) == 1
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_keyboard_interrupt_exits_130(monkeypatch, capsys):
    from sandbox.cli import commands

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "train", interrupted)
    assert main(["train"]) == 130
    assert "Traceback" not in capsys.readouterr().err


def test_window_gets_the_arguments(monkeypatch, tmp_path):
    """With a display, `window` hands the (checked) preset and model to sandbox.app.window.run."""
    from sandbox.app import window as app_window
    from sandbox.cli import commands

    calls = []
    monkeypatch.setattr(commands, "display_available", lambda: (True, ""))
    monkeypatch.setattr(app_window, "run", lambda **kw: calls.append(kw) or 0)
    (tmp_path / "m.safetensors").write_bytes(b"x")
    assert main(["window", "--dataset", "Two-Moons", "--model", str(tmp_path / "m.safetensors")]) == 0
    assert main([]) == 0
    from sandbox.app.opening import SIZE, fit_to_desktop
    size = fit_to_desktop(SIZE)  # the size the loading window opened at, which the App keeps
    assert calls == [{"dataset": "moons", "model_path": tmp_path / "m.safetensors", "fullscreen": False,
                      "size": size}, {"fullscreen": False, "size": size}]


def test_huge_counts_through_the_python_api_are_one_line(tmp_path):
    """A notebook user asking for 10**12 points or 10**9 instances got numpy's MemoryError
    ('Unable to allocate 3.64 TiB'); they now get the memory check's line, which says what fits."""
    import sandbox
    import tdl
    from sandbox.errors import UserError

    pic = tmp_path / "ring.png"
    img = np.full((64, 64), 255, np.uint8)
    img[20:44, 20:24] = 0
    Image.fromarray(img).save(pic)
    for call in (lambda: sandbox.preset("moons", n=10 ** 12), lambda: sandbox.points(pic, n=10 ** 12),
                 lambda: tdl.sample("digits", prompts=[3], instances_per_prompt=10 ** 12)):
        with pytest.raises(UserError, match="more than this machine can spare.*fits"):
            call()


def test_a_closed_pipe_is_not_an_error(tmp_path):
    """`diffusion-sandbox lesson | head -2` (and tdl's commands) printed 'error: Broken pipe', exit 2."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for cmd in (["sandbox", "lesson"], ["tdl", "sample", "--instances-per-prompt", "1", "--steps", "2",
                                        "--prompts", "3", "--quiet", "--out", "t.npz"]):
        p = subprocess.Popen([sys.executable, "-m", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(root)})
        p.stdout.close()                              # the reader had enough before a line came
        err = p.stderr.read().decode()
        assert p.wait(timeout=120) == 0 and "Broken pipe" not in err, (cmd, err)
