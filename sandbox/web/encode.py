"""Arrays -> compact JSON for the web players: coordinates quantised to int16, base64.

`quantize`: a coordinate is stored as round((x - lo) / (hi - lo) * 65535) - 32768 per axis, so the
error is at most (hi - lo) / 131070: 1/65535 of the picture's width, far below a pixel. 2000
particles x 51 steps cost 2000 * 51 * 2 * 2 bytes = 408 kB (544 kB as base64).

`quantize_steps` (the player's particles, `(S, N, D)`): integers in a fixed `unit` (the player: 1/1024
of its view's half height, 0.23 CSS px on its 480 px canvas, so the error is at most 0.12 px), the
first step as int16 and every later one as the int8 change from the step before, which holds nearly
every change (moons, 20,000 particles: all of Euler's and Heun's, 98.4 % of Euler-Maruyama's noisy
ones); a change that does not fit is -128 and its step's value follows in `esc` (int16). About half of
`quantize`'s bytes: that Euler-Maruyama page (100 steps) 10.8 MB -> 5.7 MB, Euler's 5.5 -> 2.8 MB.
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


def quantize_steps(a, unit: float, origin) -> dict:
    """`a (S, N, D)` floats -> {"first", "delta", "esc" (base64), "shape", "origin" (D,), "unit"}: every
    value round((x - origin) / unit) clamped to int16 (a point more than 32,767 units away stays that
    far, off any picture); step 0 as int16, each later step as the int8 change from the step before,
    -128 for a change outside -127..127, whose value then follows in `esc` (int16, in step order)."""
    a = np.asarray(a, dtype=np.float64)
    S, D = a.shape[0], a.shape[-1]
    origin = np.asarray(origin, dtype=np.float64).reshape(D)
    u = np.nan_to_num((a - origin) / float(unit), nan=0.0, posinf=32767.0, neginf=-32767.0)
    q = np.clip(np.round(u), -32767, 32767).astype(np.int64).reshape(S, -1)
    d = np.diff(q, axis=0)
    big = np.abs(d) > 127
    delta = np.where(big, -128, d).astype(np.int8)
    return {"first": _b64(q[0].astype("<i2")), "delta": _b64(delta), "esc": _b64(q[1:][big].astype("<i2")),
            "shape": list(a.shape), "origin": origin.tolist(), "unit": float(unit)}


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def dequantize(q: dict) -> np.ndarray:
    """The inverse of `quantize` or `quantize_steps` (what the browser computes), float64 of q["shape"]."""
    if "delta" in q:
        first = np.frombuffer(base64.b64decode(q["first"]), dtype="<i2").astype(np.int64)
        S, D = q["shape"][0], q["shape"][-1]
        delta = np.frombuffer(base64.b64decode(q["delta"]), dtype=np.int8).astype(np.int64).reshape(S - 1, first.size)
        esc = iter(np.frombuffer(base64.b64decode(q["esc"]), dtype="<i2").astype(np.int64).tolist())
        vals = np.empty((S, first.size), dtype=np.int64)
        vals[0] = first
        for s in range(1, S):  # steps are few: a loop over them, vectorised over the points
            big = delta[s - 1] == -128
            vals[s] = vals[s - 1] + delta[s - 1]
            vals[s, big] = [next(esc) for _ in range(int(big.sum()))]
        origin = np.asarray(q["origin"], dtype=np.float64)
        return (origin + vals.reshape(S, -1, D) * q["unit"]).reshape(q["shape"])
    raw = np.frombuffer(base64.b64decode(q["b64"]), dtype="<i2").astype(np.float64)
    D = q["shape"][-1]
    lo, hi = np.asarray(q["lo"]), np.asarray(q["hi"])
    return (lo + (raw.reshape(-1, D) + 32768) / LEVELS * (hi - lo)).reshape(q["shape"])


def to_json(payload: object) -> str:
    """JSON safe to put inside a <script> element ("</script>" in a title cannot end it)."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
