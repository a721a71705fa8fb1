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

META_KEY = "diffusion_sandbox"
FORMAT_VERSION = 1
MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


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
    try:
        meta = json.loads(raw_meta)
        version = int(meta["format_version"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise UserError(f"{path}: the model metadata is damaged") from None
    if version > FORMAT_VERSION:
        raise UserError(f"{path} has model format {version}; this version reads up to {FORMAT_VERSION}: "
                        "update diffusion-sandbox")
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
