"""Arrays -> compact JSON for the web players: coordinates quantised to int16, base64.

A coordinate is stored as round((x - lo) / (hi - lo) * 65535) - 32768 per axis, so the error is
at most (hi - lo) / 131070: 1/65535 of the picture's width, far below a pixel. 2000 particles x
51 steps cost 2000 * 51 * 2 * 2 bytes = 408 kB (544 kB as base64).
"""
from __future__ import annotations

import base64
import json

import numpy as np

LEVELS = 65535


def quantize(a, lo=None, hi=None) -> dict:
    """(..., D) floats -> {"b64": int16 little-endian, "shape", "lo" (D,), "hi" (D,)}.

    lo / hi default to the finite minimum / maximum per axis; NaN and inf are clamped into range.
    """
    a = np.asarray(a, dtype=np.float64)
    D = a.shape[-1]
    flat = a.reshape(-1, D)
    finite = np.isfinite(flat).all(axis=1)
    if lo is None or hi is None:
        ok = flat[finite] if finite.any() else np.zeros((1, D))
        lo = ok.min(axis=0) if lo is None else np.asarray(lo, dtype=np.float64)
        hi = ok.max(axis=0) if hi is None else np.asarray(hi, dtype=np.float64)
    lo, hi = np.asarray(lo, dtype=np.float64).reshape(D), np.asarray(hi, dtype=np.float64).reshape(D)
    span = np.where(hi > lo, hi - lo, 1.0)
    u = np.nan_to_num((flat - lo) / span, nan=0.0, posinf=1.0, neginf=0.0)
    q = (np.round(np.clip(u, 0.0, 1.0) * LEVELS) - 32768).astype("<i2")
    return {"b64": base64.b64encode(q.tobytes()).decode("ascii"), "shape": list(a.shape),
            "lo": lo.tolist(), "hi": (lo + span).tolist()}


def dequantize(q: dict) -> np.ndarray:
    """The inverse of `quantize` (what the browser computes), float64 of q["shape"]."""
    raw = np.frombuffer(base64.b64decode(q["b64"]), dtype="<i2").astype(np.float64)
    D = q["shape"][-1]
    lo, hi = np.asarray(q["lo"]), np.asarray(q["hi"])
    return (lo + (raw.reshape(-1, D) + 32768) / LEVELS * (hi - lo)).reshape(q["shape"])


def to_json(payload: object) -> str:
    """JSON safe to put inside a <script> element ("</script>" in a title cannot end it)."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
