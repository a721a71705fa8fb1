"""Save and load a whole session (drawing, settings, view, models) as ONE safetensors file.

Layout: tensors `drawing.points` (N, 2) float32 and `drawing.labels` (N,) int64; each trained
model as `model.<i>` (uint8 bytes of its own model file, written and read by `sandbox.modelio`,
so loading never runs code from the file); everything else as JSON in the safetensors metadata
under "session". Writes are atomic (temporary file, then os.replace).

Autosave keeps the drawing (no models) in the user's cache folder on every change and on quit,
so a drawing survives a crash.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from sandbox.fileio import atomic_path, check_writable

import numpy as np

from sandbox.errors import UserError
from sandbox.limits import parse_json

FORMAT = "diffusion-sandbox-session"
VERSION = 1


def cache_dir() -> Path:
    """$DIFFUSION_SANDBOX_CACHE, else the OS's user cache folder (platformdirs: ~/.cache/diffusion-sandbox
    or $XDG_CACHE_HOME on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows)."""
    env = os.environ.get("DIFFUSION_SANDBOX_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("diffusion-sandbox", appauthor=False))


def autosave_path() -> Path:
    return cache_dir() / "autosave" / "drawing.safetensors"


def _atomic_write(path: Path, write) -> None:
    with atomic_path(path, make_parents=True) as tmp:
        write(str(tmp))


def save(path, points, labels, meta: dict, models: dict | None = None) -> Path:
    """Write a session: points (N, 2), labels (N,), JSON-able `meta`, models {key_str: model}."""
    from safetensors.numpy import save as to_bytes

    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_suffix(path.suffix + ".safetensors") if path.suffix else path.with_suffix(".safetensors")
    tensors: dict[str, np.ndarray] = {
        "drawing.points": np.ascontiguousarray(np.asarray(points, np.float32).reshape(-1, 2)),
        "drawing.labels": np.ascontiguousarray(np.asarray(labels, np.int64).reshape(-1)),
    }
    keys = []
    for i, (key, model) in enumerate((models or {}).items()):
        tensors[f"model.{i}"] = _model_bytes(model)
        keys.append(key)
    header = {"format": FORMAT, "version": VERSION, "models": keys, **meta}
    from safetensors import SafetensorError

    check_writable(path, make_parents=True)   # a read-only folder: one line, before serialising
    try:
        # serialised in memory, written by us: safetensors' own file writer makes 0600 files, and a
        # session is something a teacher hands out (models are written the same way, modelio.py)
        blob = to_bytes(tensors, metadata={"session": json.dumps(header)})
        _atomic_write(path, lambda tmp: Path(tmp).write_bytes(blob))
    except OSError as e:
        raise UserError(f"could not save session to {path}: {e.strerror or e}") from None
    except SafetensorError as e:   # safetensors reports a failed write (full disk...) as its own error
        raise UserError(f"could not save session to {path}: {e}") from None
    return path


def load(path) -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """Read a session: (points (N, 2), labels (N,), meta, {key_str: model}); UserError if bad."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such session file")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            raw = (f.metadata() or {}).get("session")
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{path}: not a session file ({str(e).splitlines()[0][:80]})") from None
    try:
        meta = parse_json(raw or "")  # nesting bounded (deep JSON raised RecursionError)
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise UserError(f"{path}: not a diffusion-sandbox session (a model file? open it with Load)")
    pts = tensors.get("drawing.points", np.zeros((0, 2), np.float32))
    lab = tensors.get("drawing.labels", np.zeros((len(pts),), np.int64))
    if pts.ndim != 2 or pts.shape[-1] != 2 or lab.shape != (len(pts),):
        raise UserError(f"{path}: damaged session (drawing arrays do not match)")
    models = {}
    for i, key in enumerate(meta.get("models", [])):
        blob = tensors.get(f"model.{i}")
        if blob is not None:
            models[str(key)] = _model_from_bytes(blob, path)
    return pts.astype(np.float32), lab.astype(np.int64), meta, models


def _model_bytes(model) -> np.ndarray:
    from sandbox.modelio import save_model

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.safetensors"
        save_model(model, p)
        return np.frombuffer(p.read_bytes(), dtype=np.uint8).copy()


def _model_from_bytes(blob: np.ndarray, where: Path):
    from sandbox.modelio import load_model

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.safetensors"
        p.write_bytes(np.asarray(blob, np.uint8).tobytes())
        try:
            return load_model(p)
        except UserError as e:
            raise UserError(f"{where}: a model in the session is damaged ({e})") from None


def autosave(points, labels, meta: dict) -> Path | None:
    """Best effort: never raises (a full disk must not break drawing)."""
    try:
        return save(autosave_path(), points, labels, {"autosave": True, **meta})
    except (UserError, OSError):
        return None


def retire_autosave(keep_backup: bool = True) -> None:
    """The user dealt with the autosave (restored, dismissed or saved for real): move it aside
    as drawing-previous.safetensors so it is not offered again, but is not lost either."""
    p = autosave_path()
    try:
        if keep_backup:
            os.replace(p, p.with_name("drawing-previous.safetensors"))
        else:
            p.unlink()
    except OSError:
        pass


def load_autosave() -> tuple[np.ndarray, np.ndarray, dict] | None:
    """The autosaved drawing, or None when there is none or it is unreadable."""
    p = autosave_path()
    if not p.is_file():
        return None
    try:
        pts, lab, meta, _ = load(p)
    except UserError:
        return None
    return pts, lab, meta
