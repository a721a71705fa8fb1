"""The command line end to end: train (a few steps) -> sample -> render MP4, GIF and PNG."""
import imageio.v2 as imageio
import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from sandbox.cli import main
from sandbox.datasets import load_points, make_preset, save_points
from sandbox.export import progress_plan

TINY = ["--steps", "40", "--batch-size", "128", "--width", "32", "--depth", "2", "--device", "cpu"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model on moons moved far from the origin (checks the data <-> canonical mapping)."""
    tmp = tmp_path_factory.mktemp("cli")
    ps = make_preset("moons", 1000, seed=0)
    ps.points = ps.points * np.float32(10) + np.float32([100, -50])
    save_points(ps, tmp / "far_moons.csv")
    model = tmp / "m.safetensors"
    assert main(["train", "--data", str(tmp / "far_moons.csv"), "--objective", "flow", *TINY,
                 "--out", str(model)]) == 0
    return tmp, model, ps


def test_train_writes_model(trained, capsys):
    tmp, model, _ = trained
    assert model.stat().st_size > 1000
    assert not [p for p in tmp.iterdir() if p.name.startswith(".")]  # no temporary files


def test_sample_in_data_coordinates(trained, capsys):
    tmp, model, ps = trained
    out = tmp / "pts.csv"
    assert main(["sample", "--model", str(model), "--n", "400", "--steps", "8", "--out", str(out)]) == 0
    assert "400 samples" in capsys.readouterr().out
    got = load_points(out)
    assert got.points.shape == (400, 2)
    # even a barely trained model puts its samples around the data, in the data's units
    centre, spread = ps.points.mean(0), ps.points.std(0).mean()
    assert np.linalg.norm(got.points.mean(0) - centre) < spread
    assert 0.3 < got.points.std(0).mean() / spread < 3
    npy = tmp / "pts.npy"
    assert main(["sample", "--model", str(model), "--n", "50", "--steps", "3", "--out", str(npy)]) == 0
    assert np.load(npy).shape == (50, 2)


@pytest.mark.parametrize("ext", [".mp4", ".gif"])
def test_render_animation(trained, ext):
    tmp, model, _ = trained
    out = tmp / f"anim{ext}"
    fps, seconds, hold = 8, 1.5, 0.5
    assert main(["render", "--model", str(model), "--out", str(out), "--size", "160x96",
                 "--fps", str(fps), "--seconds", str(seconds), "--hold", str(hold),
                 "--particles", "300", "--traces", "20", "--steps", "6", "--theme", "light"]) == 0
    if ext == ".mp4":
        frames = np.stack([f for f in imageio.get_reader(out)])
        assert len(frames) == len(progress_plan(fps, seconds, hold_end=hold))
    else:
        frames = iio.imread(out, index=None)[..., :3]
        assert len(frames) >= seconds * fps  # Pillow merges the identical held frames
    assert frames.shape[1:] == (96, 160, 3)
    first, middle, last = frames[0].astype(int), frames[len(frames) // 2].astype(int), frames[-1].astype(int)
    assert np.abs(first - last).mean() > 1 and np.abs(middle - last).mean() > 0.5  # not all alike


def test_render_png_and_layers(trained):
    tmp, model, _ = trained
    full, bare = tmp / "full.png", tmp / "bare.png"
    common = ["--model", str(model), "--size", "128x96", "--particles", "200", "--steps", "4"]
    assert main(["render", *common, "--out", str(full), "--at", "0.5"]) == 0
    assert main(["render", *common, "--out", str(bare), "--at", "0.5", "--no-contours",
                 "--no-trajectories", "--no-data"]) == 0
    a, b = (np.asarray(Image.open(p).convert("RGB")) for p in (full, bare))
    assert a.shape == (96, 128, 3)
    assert (a != b).any(axis=-1).sum() > 50  # the hidden layers really are gone


def test_render_two_samplers_side_by_side(trained, capsys):
    """render --compare NAME: the same model and noise under a second sampler in a pane beside the first,
    at one scale; the page plays both; a sampler the model cannot run is one line."""
    tmp, model, _ = trained
    common = ["--model", str(model), "--particles", "300", "--steps", "3"]
    one, two = tmp / "one.png", tmp / "two.png"
    assert main(["render", *common, "--size", "200x96", "--sampler", "euler", "--out", str(one), "--at", "1"]) == 0
    assert main(["render", *common, "--size", "404x96", "--sampler", "euler", "--compare", "heun",
                 "--out", str(two), "--at", "1"]) == 0
    assert "Euler 3 steps beside Heun 3 steps" in capsys.readouterr().out
    a, b = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in (one, two))
    left, right = b[:, :200], b[:, 204:]
    assert a.shape == left.shape and left.std() > 3 and right.std() > 3    # two full panes, neither blank
    assert np.abs(left - right).mean() > 0.5        # pane B differs (another sampler)
    assert len(np.unique(b[:, 201].reshape(-1, 3), axis=0)) == 1    # the gap between them
    page = tmp / "two.html"
    assert main(["render", *common, "--compare", "heun", "--out", str(page)]) == 0
    assert page.read_text(encoding="utf-8").count("DSW.mount(document.getElementById") == 2
    assert main(["render", *common, "--compare", "ddim", "--out", str(tmp / "x.png")]) == 2
    assert "does not run on a flow model" in capsys.readouterr().err


def test_render_shipped_dataset(trained, monkeypatch):
    """`render --dataset NAME` renders the shipped model of that preset."""
    tmp, model, _ = trained
    import sandbox.modelio as modelio

    asked = []
    monkeypatch.setattr(modelio, "shipped_model_path",
                        lambda name, objective="flow": asked.append((name, objective)) or model)
    out = tmp / "shipped.gif"
    assert main(["render", "--dataset", "two-moons", "--out", str(out), "--size", "64x48",
                 "--fps", "4", "--seconds", "1", "--particles", "100", "--steps", "3"]) == 0
    assert asked == [("moons", "flow")] and out.exists()


def test_no_display_hint_names_the_program_as_it_was_typed(tmp_path, monkeypatch):
    """The README's first command runs `.venv/bin/diffusion-sandbox`; the no-display line must not tell
    that user to type a bare `diffusion-sandbox`, which their shell does not find."""
    from sandbox.cli.commands import program_name
    exe = tmp_path / ".venv" / "bin" / "diffusion-sandbox"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))
    assert program_name(".venv/bin/diffusion-sandbox") == ".venv/bin/diffusion-sandbox"
    monkeypatch.setenv("PATH", str(exe.parent))
    assert program_name(str(exe)) == "diffusion-sandbox"           # on PATH: the short name works
    assert program_name("diffusion-sandbox") == "diffusion-sandbox"
    assert program_name("/x/sandbox/__main__.py") == "python -m sandbox"
    assert program_name("/x/site-packages/pytest/__main__.py") == "diffusion-sandbox"  # python -m pytest


def test_train_draws_presets_large_by_default(tmp_path):
    """A preset is a distribution: with no --n the model learns it from datasets.TRAIN_DRAW points
    (one small draw's luck is what a model reproduces); --n and point files are taken as given."""
    from sandbox.datasets import TRAIN_DRAW
    from sandbox.modelio import load_model

    out = tmp_path / "m.safetensors"
    assert main(["train", "--dataset", "rings", *TINY[:2], "--width", "16", "--depth", "1",
                 "--device", "cpu", "--out", str(out)]) == 0
    assert load_model(out).data_summary["n"] == TRAIN_DRAW == 20_000
    assert main(["train", "--dataset", "rings", "--n", "300", *TINY[:2], "--width", "16", "--depth", "1",
                 "--device", "cpu", "--out", str(out)]) == 0
    assert load_model(out).data_summary["n"] == 300
