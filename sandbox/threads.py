"""How many CPU threads torch uses for training and sampling: one policy for the CLI and the window.

On the CPU these models are tiny (a 128-wide MLP on batches of 512), so a second thread buys
little and costs a lot when another process holds a core: torch's OpenMP threads spin-wait for
each other at every one of the ~100 small kernels of a step, and a preempted thread stalls the
rest (issue 8: a default run took 148-160 s with two threads beside one busy process, 4.3-4.8 s
with one). bench/quality_defaults.py measures it; docs/BENCHMARKS.md has the numbers.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

DEFAULT_THREADS = 1  # measured: see the module docstring and docs/BENCHMARKS.md


def thread_count() -> int:
    """Threads for the 2D engine: DIFFUSION_SANDBOX_THREADS if set (>= 1), else DEFAULT_THREADS."""
    raw = os.environ.get("DIFFUSION_SANDBOX_THREADS", "").strip()
    if raw.isdigit() and int(raw) >= 1:
        return min(int(raw), os.cpu_count() or 1)
    return DEFAULT_THREADS


def apply_thread_policy() -> int:
    """Set torch's intra-op threads to `thread_count()` (CPU work only); returns the count."""
    import torch

    n = thread_count()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


@contextmanager
def torch_threads(n: int) -> Iterator[int]:
    """torch's intra-op threads set to `n` for the duration of a block, then as they were."""
    import torch

    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def thread_policy():
    """`apply_thread_policy()` for the duration of a block (`with`), then torch's thread count as it was:
    the Python API (notebooks) gets the CLI's speed without changing the user's torch settings for
    good (sandbox.train('moons') took 355 s wall, 100 s CPU at load 11 with torch's two threads)."""
    return torch_threads(thread_count())
