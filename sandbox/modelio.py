"""Model files: safetensors weights + JSON metadata; loading never runs code from the file.

Layout of a `.safetensors` model file:
- tensors `net.<name>`: the network's state dict (float32), `data.sample` (M, 2) float32 and
  optionally `data.sample_labels` (M,) int64: a subsample (<= 2000) of the training data in data
  coordinates, drawn faintly behind samples by the window and the renderer;
- metadata key `diffusion_sandbox`: JSON `{"format_version", "net", "objective", "normalizer",
  "data", "train", "stats"}` (net = MLPConfig, objective = Objective.config(), data = summary).

Every way a file can be wrong (missing, not safetensors, truncated, someone else's safetensors,
a newer format, weights that do not fit the config) is a one-line UserError.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import torch

from sandbox.errors import UserError
from sandbox.fileio import atomic_path
from sandbox.limits import parse_json

META_KEY = "diffusion_sandbox"
FORMAT_VERSION = 1
MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
MAX_META = 1 << 20  # our metadata is a few KB
MAX_DATA_SAMPLE = 100_000  # rows of data.sample (we write <= 2000)


def save_model(model, path: str | os.PathLike) -> Path:
    """Write `model` (bundle.DiffusionModel) to `path` atomically (temp file + os.replace)."""
    from safetensors.torch import save

    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder; give a file name like model.safetensors")
    tensors = {f"net.{k}": v.detach().to("cpu", copy=True).contiguous() for k, v in model.net.state_dict().items()}
    summary = dict(model.data_summary)
    sample = np.asarray(summary.pop("sample", []), dtype=np.float32).reshape(-1, 2)
    labels = summary.pop("sample_labels", None)
    tensors["data.sample"] = torch.from_numpy(sample.copy())
    if labels is not None:
        tensors["data.sample_labels"] = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    meta = {
        "format_version": FORMAT_VERSION,
        "net": model.config["net"],
        "objective": model.objective.config(),
        "normalizer": model.normalizer.to_dict(),
        "data": summary,
        "train": model.config.get("train", {}),
        "stats": model.config.get("stats", {}),
    }
    blob = save(tensors, metadata={META_KEY: json.dumps(meta)})
    if not path.parent.is_dir():
        raise UserError(f"cannot save the model: folder {path.parent} does not exist")
    with atomic_path(path) as tmp:
        tmp.write_bytes(blob)
    return path


def _read_header(path: Path) -> dict:
    """Parse and check the safetensors header ourselves (JSON only) for clear messages."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise UserError(f"{path} is not a model file (too short to be safetensors)")
        (n,) = struct.unpack("<Q", head)
        if n < 2 or n > MAX_HEADER:
            raise UserError(f"{path} is not a model file (not in safetensors format)")
        if 8 + n > size:
            raise UserError(f"{path} is truncated or not a model file (header runs past the end)")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UserError(f"{path} is not a model file (not in safetensors format)") from None
    if not isinstance(header, dict):
        raise UserError(f"{path} is not a model file (not in safetensors format)")
    ends = [v.get("data_offsets", [0, 0])[1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    if ends and max(ends) > size - 8 - n:
        raise UserError(f"{path} is truncated ({size} bytes; the tensors need {8 + n + max(ends)})")
    return header


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """Read a model file written by `save_model`; returns a bundle.DiffusionModel on `device`."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from sandbox.bundle import DiffusionModel
    from sandbox.datasets import Normalizer
    from sandbox.model import MLP, MLPConfig
    from sandbox.objectives import make_objective

    path = Path(path)
    if not path.exists():
        raise UserError(f"model file not found: {path}")
    if not path.is_file():
        raise UserError(f"{path} is not a file")
    header = _read_header(path)
    raw_meta = (header.get("__metadata__") or {}).get(META_KEY)
    if raw_meta is None:
        raise UserError(f"{path} is a safetensors file but not a diffusion-sandbox model (no '{META_KEY}' metadata)")
    if len(raw_meta) > MAX_META:
        raise UserError(f"{path}: the model metadata is {len(raw_meta)} bytes; a model's is a few KB (damaged?)")
    try:
        meta = parse_json(raw_meta)
        version = int(meta["format_version"])
    except (KeyError, TypeError, ValueError) as e:  # JSONDecodeError and too deep nesting are ValueErrors
        raise UserError(f"{path}: the model metadata is damaged ({str(e)[:80]})") from None
    if version > FORMAT_VERSION:
        raise UserError(f"{path} has model format {version}; this version reads up to {FORMAT_VERSION}: "
                        "update diffusion-sandbox")
    check_config(meta, header, path)  # ranges and shapes, before anything is allocated
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{path} is damaged ({str(e).splitlines()[0][:100]})") from None
    try:
        net_cfg = MLPConfig.from_dict(meta["net"])
        net = MLP(net_cfg)
        objective = make_objective(meta["objective"])
        normalizer = Normalizer.from_dict(meta["normalizer"])
    except UserError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise UserError(f"{path}: the model metadata is damaged ({e})") from None
    state = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError:
        raise UserError(f"{path}: the weights do not match the model configuration stored with them") from None
    data = dict(meta.get("data", {}))
    data["sample"] = tensors.get("data.sample", torch.zeros(0, 2)).numpy().tolist()
    lab = tensors.get("data.sample_labels")
    data["sample_labels"] = None if lab is None else lab.numpy().tolist()
    config = {"net": net_cfg.to_dict(), "objective": objective.config(), "train": meta.get("train", {}),
              "stats": meta.get("stats", {})}
    net.eval()
    return DiffusionModel(net, objective, normalizer, config, data).to(device)


def expected_shapes(net: dict) -> dict[str, list[int]]:
    """The state-dict shapes (names without "net.") an MLP with this config has (model.py)."""
    w, depth, ted, F, k, dim = (int(net.get(f, d)) for f, d in (
        ("width", 128), ("depth", 3), ("time_embed_dim", 32), ("fourier_features", 0), ("num_classes", 0), ("dim", 2)))
    in_dim = dim + ted + (2 * F if F > 0 else 0) + (ted if k > 0 else 0)
    shapes = {"inp.weight": [w, in_dim], "inp.bias": [w], "out.weight": [dim, w], "out.bias": [dim]}
    for i in range(depth):
        shapes[f"layers.{i}.weight"], shapes[f"layers.{i}.bias"] = [w, w], [w]
    if F > 0:
        shapes["fourier_B"] = [dim, F]
    if k > 0:
        shapes["class_embed.weight"] = [k + 1, ted]
    return shapes


def check_config(meta: dict, header: dict, path: Path) -> None:
    """Every number of the metadata in range and the tensors' shapes (from the header) equal to
    what the config implies: a file whose parts disagree is refused before anything is built."""
    from sandbox import limits
    from sandbox.registry import OBJECTIVES, PREDICTIONS, SCHEDULES

    def bad(why: str) -> UserError:
        return UserError(f"{path}: the model metadata is damaged ({why})")

    parts = [meta.get(k) if isinstance(meta, dict) else None for k in ("net", "objective", "normalizer")]
    if not all(isinstance(d, dict) for d in parts):
        raise bad("net, objective or normalizer missing")
    net: dict = parts[0]  # type: ignore[assignment]
    obj: dict = parts[1]  # type: ignore[assignment]
    norm: dict = parts[2]  # type: ignore[assignment]
    try:
        for field, (lo, hi) in (("width", limits.WIDTH), ("depth", limits.DEPTH), ("time_embed_dim", limits.TIME_EMBED),
                                ("fourier_features", limits.FOURIER), ("num_classes", limits.CLASSES),
                                ("seed", limits.SEED)):
            if field in net:
                limits.check_int(f"net.{field}", net[field], lo, hi)
        if int(net.get("time_embed_dim", 32)) % 2:
            raise bad(f"net.time_embed_dim must be even, got {net['time_embed_dim']}")
        if net.get("dim", 2) != 2:
            raise bad(f"net.dim must be 2, got {net.get('dim')!r}")
        for field in ("fourier_scale", "time_scale"):
            if field in net:
                limits.check_float(f"net.{field}", net[field], 0.0, 1e6)
        if obj.get("type") not in OBJECTIVES:
            raise bad(f"unknown objective {obj.get('type')!r}")
        if obj["type"] == "ddpm":
            limits.check_int("objective.T", obj.get("T", 1000), *limits.T_CHAIN)
            if obj.get("schedule", "linear") not in SCHEDULES or obj.get("prediction", "eps") not in PREDICTIONS:
                raise bad("unknown schedule or prediction")
        center, scale = norm.get("center"), norm.get("scale")
        if not (isinstance(center, list) and len(center) == 2):
            raise bad("normalizer.center must be two numbers")
        for c in center:
            limits.check_float("normalizer.center", c, -1e30, 1e30)
        limits.check_float("normalizer.scale", scale, 1e-30, 1e30)
    except UserError as e:
        if str(e).startswith(str(path)):
            raise
        raise bad(str(e)) from None
    want = expected_shapes(net)
    have = {k[4:]: v for k, v in header.items() if k.startswith("net.") and isinstance(v, dict)}
    if set(have) != set(want) or any(list(have[k].get("shape", [])) != want[k] or have[k].get("dtype") != "F32"
                                     for k in want):
        raise UserError(f"{path}: the weights do not match the model configuration stored with them")
    ds = header.get("data.sample")
    if isinstance(ds, dict) and (len(ds.get("shape", [])) != 2 or ds["shape"][0] > MAX_DATA_SAMPLE):
        raise bad(f"data.sample has shape {ds.get('shape')}")


def shipped_model_path(preset: str, objective: str = "flow") -> Path:
    """The shipped assets/models/<preset>-<objective>.safetensors (found by sandbox.resources);
    UserError for an unknown preset or objective, or when the installation lacks the file."""
    from sandbox.datasets import canonical_name
    from sandbox.resources import asset_path

    if objective not in ("flow", "ddpm"):
        raise UserError(f"objective must be 'flow' or 'ddpm', got {objective!r}")
    try:
        return asset_path("models", f"{canonical_name(preset)}-{objective}.safetensors")
    except UserError as e:
        raise UserError(f"no shipped {objective} model for '{preset}': {e}; or train your own with "
                        f"diffusion-sandbox train --dataset {preset} --objective {objective} "
                        f"--out {preset}-{objective}.safetensors") from None
