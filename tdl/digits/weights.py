"""The shipped digits weights: `assets/digits/{denoiser,encoder}.safetensors` + a JSON file each.

Format: safetensors (tensors only; loading never runs code) with float16 tensors to keep the files
small, and a JSON sidecar holding the network config, the objective config (`sandbox.objectives`),
how the weights were made and the quality measured (written by tdl/digits/train.py).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from sandbox.fileio import atomic_path
from sandbox.errors import UserError

FORMATS = {"denoiser": "tdl-digits-denoiser", "encoder": "tdl-digits-encoder"}


def default_path(kind: str) -> Path:
    """The shipped `assets/digits/<kind>.safetensors` (kind: "denoiser" | "encoder"), found by
    sandbox.resources (its .json sidecar lies beside it); UserError when the installation lacks it."""
    from sandbox.resources import asset_path

    asset_path("digits", f"{kind}.json")  # both files, or a clear error
    return asset_path("digits", f"{kind}.safetensors")


def save(net: torch.nn.Module, kind: str, path: str | os.PathLike, info: dict) -> Path:
    """Write `<path>.safetensors` (float16) and `<path>.json` atomically; returns the tensor file."""
    from safetensors.torch import save_file

    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in net.state_dict().items()}
    meta = {"format": FORMATS[kind], "version": 1, "config": net.cfg.to_dict(), **info}
    for target, write in ((path, lambda p: save_file(tensors, p)),
                          (path.with_suffix(".json"), lambda p: Path(p).write_text(json.dumps(meta, indent=1)))):
        with atomic_path(target) as tmp:
            write(str(tmp))
    return path


def load(kind: str, path: str | os.PathLike | None = None, device: str | torch.device = "cpu"):
    """`(net in eval mode on device, float32; metadata dict)`; UserError on a missing or foreign file."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path) if path is not None else default_path(kind)
    path = path.with_suffix(".safetensors")
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        raise UserError(f"no digits {kind} at {path} (+ .json); make one with "
                        f"`python -m tdl.digits.train --out FOLDER` and pass FOLDER/{kind}")
    try:
        meta = json.loads(meta_path.read_text())
        tensors = load_file(str(path))
    except (OSError, ValueError, SafetensorError) as e:
        raise UserError(f"{path} is not a readable digits {kind} file ({type(e).__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMATS[kind]:
        raise UserError(f"{meta_path} is not a digits {kind} description")
    if kind == "denoiser":
        from sandbox.model import MLP, MLPConfig
        net = MLP(MLPConfig.from_dict(meta["config"]))
    else:
        from tdl.digits.encoder import DigitsEncoder, EncoderConfig
        net = DigitsEncoder(EncoderConfig.from_dict(meta["config"]))
    try:
        net.load_state_dict({k: v.float() for k, v in tensors.items()})
    except RuntimeError as e:
        raise UserError(f"{path} does not match its config ({str(e).splitlines()[0]})") from None
    return net.to(device).eval(), meta


def load_field(path: str | os.PathLike | None = None, device: str | torch.device = "cpu"):
    """The shipped (or given) denoiser as a `sandbox.field.Field`: `(TrainedField, metadata)`."""
    from sandbox.bundle import TrainedField
    from sandbox.objectives import make_objective

    net, meta = load("denoiser", path, device)
    return TrainedField(net, make_objective(meta["objective"])), meta
