"""Model files: round trip, metadata, and a one-line UserError for every kind of bad file."""
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from sandbox.datasets import make_preset
from sandbox.errors import UserError
from sandbox.modelio import FORMAT_VERSION, META_KEY, load_model, save_model, shipped_model_path
from sandbox.train import TrainConfig, train


def _model(objective="flow", conditional=False, preset="smiley", **kw):
    cfg = TrainConfig(objective=objective, steps=3, eval_every=0, width=16, depth=1, batch_size=32,
                      conditional=conditional, **kw)
    for ev in train(cfg, make_preset(preset, 3000, seed=0), "cpu"):
        pass
    return ev.model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "smiley.safetensors"
    model = _model("ddpm", conditional=True, prediction="v", schedule="cosine", T=200, fourier=4)
    save_model(model, path)
    return model, path


@pytest.mark.parametrize("objective,extra", [("flow", {"ot": True}), ("ddpm", {"prediction": "eps"})])
def test_round_trip_gives_identical_samples(tmp_path, objective, extra):
    model = _model(objective, **extra)
    path = save_model(model, tmp_path / "m.safetensors")
    again = load_model(path)
    assert again.objective.config() == model.objective.config()
    a = model.sample(300, steps=7, seed=3)
    b = again.sample(300, steps=7, seed=3)
    assert torch.equal(a.xs, b.xs) and a.nfe == b.nfe
    assert not list(tmp_path.glob("*.tmp"))  # the atomic write left nothing behind


def test_round_trip_conditional_with_guidance(saved):
    model, path = saved
    again = load_model(path)
    assert again.num_classes == 4 and again.class_names == ["face", "left eye", "right eye", "mouth"]
    for sampler in ("ddim", "ddpm"):
        a = model.sample(200, sampler=sampler, steps=5, labels=1, guidance=3.0, seed=0).final
        assert torch.equal(a, again.sample(200, sampler=sampler, steps=5, labels=1, guidance=3.0, seed=0).final)


def test_metadata_contents(saved):
    model, path = saved
    tensors = load_file(str(path))
    assert tensors["data.sample"].shape == (2000, 2)  # subsampled from 3000 training points
    assert tensors["data.sample_labels"].shape == (2000,)
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        meta = json.loads(json.loads(f.read(n))["__metadata__"][META_KEY])
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["objective"] == {"type": "ddpm", "prediction": "v", "schedule": "cosine", "T": 200}
    assert meta["net"]["fourier_features"] == 4 and meta["net"]["num_classes"] == 4
    assert meta["data"]["name"] == "smiley" and meta["data"]["n"] == 3000
    assert meta["train"]["steps"] == 3 and meta["stats"]["steps"] == 3
    again = load_model(path)
    assert np.allclose(again.normalizer.center, model.normalizer.center)
    assert again.data_sample().shape == (2000, 2)
    pts = make_preset("smiley", 3000, seed=0).points
    assert np.isin(again.data_sample()[:, 0], pts[:, 0]).all()  # real training points, data coordinates


def _bad(tmp_path, name, content: bytes):
    p = tmp_path / name
    p.write_bytes(content)
    return p


def _expect_user_error(path, match):
    with pytest.raises(UserError, match=match) as info:
        load_model(path)
    assert "\n" not in str(info.value)


def test_missing_file_and_folder(tmp_path):
    _expect_user_error(tmp_path / "nope.safetensors", "not found")
    _expect_user_error(tmp_path, "not a file")


@pytest.mark.parametrize("content", [b"", b"abc", np.random.default_rng(0).bytes(5000),
                                     b"x,y\n1,2\n3,4\n" * 50,
                                     b"\x89PNG\r\n\x1a\n" + np.random.default_rng(1).bytes(300),
                                     struct.pack("<Q", 20) + b"not json at all!!!!!"])
def test_not_a_safetensors_file(tmp_path, content):
    _expect_user_error(_bad(tmp_path, "bad.safetensors", content), "not a model file|truncated")


def test_truncated_file(tmp_path, saved):
    blob = saved[1].read_bytes()
    _expect_user_error(_bad(tmp_path, "cut.safetensors", blob[: len(blob) // 2]), "truncated")
    _expect_user_error(_bad(tmp_path, "cut2.safetensors", blob[:100]), "truncated|not a model file")


def test_foreign_safetensors_file(tmp_path):
    p = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3, 3)}, str(p), metadata={"format": "pt"})
    _expect_user_error(p, "not a diffusion-sandbox model")


def _rewrite(tmp_path, saved, change):
    tensors = load_file(str(saved[1]))
    with open(saved[1], "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        meta = json.loads(json.loads(f.read(n))["__metadata__"][META_KEY])
    tensors, meta = change(tensors, meta)
    p = tmp_path / "changed.safetensors"
    save_file(tensors, str(p), metadata={META_KEY: json.dumps(meta) if isinstance(meta, dict) else meta})
    return p


def test_newer_format_version(tmp_path, saved):
    p = _rewrite(tmp_path, saved, lambda t, m: (t, {**m, "format_version": FORMAT_VERSION + 1}))
    _expect_user_error(p, "newer|update")


def test_damaged_metadata(tmp_path, saved):
    _expect_user_error(_rewrite(tmp_path, saved, lambda t, m: (t, "{not json")), "damaged")
    _expect_user_error(_rewrite(tmp_path, saved, lambda t, m: (t, {**m, "objective": {"type": "gan"}})), "damaged")


def test_weights_not_matching_config(tmp_path, saved):
    def wider(t, m):
        return t, {**m, "net": {**m["net"], "width": 32}}

    _expect_user_error(_rewrite(tmp_path, saved, wider), "do not match")

    def missing(t, m):
        return {k: v for k, v in t.items() if k != "net.out.bias"}, m

    _expect_user_error(_rewrite(tmp_path, saved, missing), "do not match")


def test_save_errors(tmp_path, saved):
    with pytest.raises(UserError, match="does not exist"):
        save_model(saved[0], tmp_path / "no" / "such" / "dir.safetensors")
    with pytest.raises(UserError, match="folder"):
        save_model(saved[0], tmp_path)


def test_shipped_model_path():
    with pytest.raises(UserError):
        shipped_model_path("not-a-preset")
    with pytest.raises(UserError):
        shipped_model_path("moons", "gan")
    model = load_model(shipped_model_path("smiley", "flow"))  # found through sandbox.resources
    assert model.kind == "flow" and model.data_summary["name"] == "smiley"


def test_every_preset_has_both_shipped_models():
    from sandbox.datasets import PRESETS
    from sandbox.resources import asset_names

    for name in PRESETS:
        for objective in ("flow", "ddpm"):
            assert shipped_model_path(name, objective).is_file()
    assert {f"{p}-{o}.safetensors" for p in PRESETS for o in ("flow", "ddpm")} <= set(asset_names("models"))


def test_missing_asset_is_one_line_that_never_points_into_site_packages(monkeypatch):
    import sandbox.resources as resources

    monkeypatch.setattr(resources, "PACKAGE", "no_such_assets_package")
    with pytest.raises(UserError) as e:
        shipped_model_path("smiley", "flow")
    msg = str(e.value)
    assert "reinstall" in msg and "\n" not in msg and "site-packages" not in msg
    assert not resources.asset_exists("models", "smiley-flow.safetensors")


def test_assets_are_found_inside_a_zip(tmp_path):
    """From a zip on sys.path the folder is copied out whole, so a weight file's .json sidecar is beside it."""
    import zipfile

    from sandbox.resources import asset_path

    src = Path(asset_path("digits", "encoder.json")).parents[1]  # the assets folder of this installation
    archive = tmp_path / "assets.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in src.rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts:
                z.write(f, f"diffusion_sandbox_assets/{f.relative_to(src).as_posix()}")
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "import diffusion_sandbox_assets, sandbox.resources as r\n"
            "assert '.zip' in diffusion_sandbox_assets.__file__, diffusion_sandbox_assets.__file__\n"
            "p = r.asset_path('digits', 'denoiser.safetensors')\n"
            "assert p.is_file() and p.with_suffix('.json').is_file() and '.zip' not in str(p)\n"
            "assert r.asset_path('models', 'smiley-flow.safetensors').stat().st_size > 1000\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code, str(archive)], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "ok", r.stderr[-2000:]
