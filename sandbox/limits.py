"""Ranges for every number a user or a file can hand the engine, checked before anything is allocated.

    check_int("--width", 512, *WIDTH)                  # UserError "--width must be 1..4096, got ..."
    check_fits("--n", need_bytes, per_item, n)         # refuses what cannot fit in memory, says what fits
    parse_json(text)                                   # json.loads with a nesting bound

The ranges are generous for teaching-size 2D models (a default net is 128 wide and 3 deep); they
exist so that a typo or a hostile file (a 12 KB model claiming width 24000, depth 1e6 or T = 1e9)
costs a one-line error instead of gigabytes. `--help` quotes them (cli/parser.py reads RANGES).
"""
from __future__ import annotations

import json
import math
import os

from sandbox.errors import UserError

# (low, high) inclusive
N_POINTS = (2, 1_000_000)        # training points drawn from a preset or picture
STEPS = (1, 1_000_000)           # optimiser steps
BATCH = (1, 65_536)
WIDTH = (1, 4096)
DEPTH = (1, 64)
T_CHAIN = (1, 100_000)           # DDPM chain length
FOURIER = (0, 1024)
REFERENCE = (0, 8192)            # stable-target reference points per step
TIME_EMBED = (2, 1024)
CLASSES = (0, 1000)
SAMPLER_STEPS = (1, 100_000)
SAMPLES = (1, 10_000_000)        # sample --n
PARTICLES = (1, 100_000)         # render --particles
TRACES = (0, 100_000)
SEED = (0, 2 ** 63 - 1)          # torch and numpy both take these
SECONDS = (0.01, 600.0)          # render --seconds
HOLD = (0.0, 60.0)               # render --hold
FPS = (1.0, 120.0)
LR = (1e-7, 1000.0)             # absurd rates allowed on purpose: watch training diverge
ETA = (0.0, 1.0)                 # DDIM noise
GUIDANCE = (0.0, 1000.0)         # classifier-free guidance scale
FRAME_SIDE = (16, 3840)          # render --size, each side in pixels
JSON_DEPTH = 32                  # nesting of model / session metadata
MEMORY_SHARE = 0.5               # refuse a request needing more than this share of free memory

RANGES = {"--n (train)": N_POINTS, "--steps (train)": STEPS, "--batch-size": BATCH, "--width": WIDTH,
          "--depth": DEPTH, "--T": T_CHAIN, "--fourier": FOURIER, "--steps (sampler)": SAMPLER_STEPS,
          "--n (sample)": SAMPLES, "--particles": PARTICLES, "--traces": TRACES, "--seed": SEED,
          "--seconds": SECONDS, "--hold": HOLD, "--fps": FPS, "--lr": LR, "--eta": ETA,
          "--guidance": GUIDANCE, "--size (each side)": FRAME_SIDE}


def fmt(v) -> str:
    if isinstance(v, float) and not v.is_integer():
        return f"{v:g}"
    v = int(v)
    return "2**63-1" if v == 2 ** 63 - 1 else f"{v:,}".replace(",", "_") if v >= 100_000 else str(v)


def check_int(name: str, value, low: int, high: int):
    """value as an int in [low, high]; UserError (one line) otherwise. None passes through."""
    if value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, (int,)) and not (
            hasattr(value, "__index__") and not isinstance(value, float)):
        raise UserError(f"{name} must be a whole number from {fmt(low)} to {fmt(high)}, got {value!r}")
    value = int(value)
    if not low <= value <= high:
        raise UserError(f"{name} must be from {fmt(low)} to {fmt(high)}, got {value}")
    return value


def check_float(name: str, value, low: float, high: float):
    """value as a finite float in [low, high]; UserError otherwise (NaN and inf included)."""
    if value is None:
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{name} must be a number from {fmt(low)} to {fmt(high)}, got {value!r}") from None
    if not (math.isfinite(v) and low <= v <= high):
        raise UserError(f"{name} must be a number from {fmt(low)} to {fmt(high)}, got {value}")
    return v


def available_memory() -> int:
    """Bytes of memory free for us: MemAvailable on Linux, else physical pages, else 4 GiB."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def _gb(b: float) -> str:
    return f"{b / 2 ** 30:.1f} GB" if b >= 2 ** 28 else f"{b / 2 ** 20:.0f} MB"


def check_fits(name: str, value: int, bytes_each: float, fixed: float = 0.0, what: str = "") -> None:
    """Refuse `value` items of `bytes_each` (plus `fixed`) when they need more than MEMORY_SHARE of
    the free memory, with one line saying how many fit."""
    budget = MEMORY_SHARE * available_memory()
    need = fixed + bytes_each * value
    if need > budget:
        fits = max(int((budget - fixed) // max(bytes_each, 1)), 0)
        raise UserError(f"{name} {value} needs about {_gb(need)}{' for ' + what if what else ''}, more than this "
                        f"machine can spare ({_gb(budget)} of {_gb(available_memory())} free); "
                        + (f"at most {name} {fits} fits" if fits else "lower the other sizes first"))


def mlp_bytes(width: int, depth: int, in_dim: int = 66, batch: int = 1, train: bool = False) -> float:
    """Rough bytes of the MLP (float32): weights (x4 when training: grads and two Adam moments,
    plus the EMA copy) and the activations of a batch (kept for backward when training)."""
    params = width * width * depth + width * (in_dim + 3)
    acts = batch * (width * (depth + 2) + in_dim) * (3 if train else 1)
    return 4.0 * (params * (5 if train else 1) + acts)


def parse_json(text: str | bytes, max_depth: int = JSON_DEPTH):
    """json.loads, refusing (ValueError) text nested deeper than max_depth before parsing it
    (Python's parser would raise RecursionError on deep nesting)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    depth = deepest = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                raise ValueError(f"JSON nested deeper than {max_depth} levels")
        elif ch in "]}":
            depth -= 1
        deepest = max(deepest, depth)
    return json.loads(text)
