"""How many CPU threads the embedding uses: `--threads N`, or a policy measured to stay fast when the
machine is busy.

torch's CPU kernels (OpenMP) wait for every thread at each of the embedding's many small operations;
when another process holds a core, one of our threads is descheduled and the others spin until it
returns, so a run with as many threads as cores becomes many times slower than with one (measured
10-25x on 2 busy cores, docs/BENCHMARKS.md "Threads"). The policy: as many threads as cores that
are idle now (cores in our affinity mask minus the 1-minute load average, rounded down), at least 1.
"""
from __future__ import annotations

import math
import os

from sandbox.errors import UserError


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def auto_threads(cores: int | None = None, load: float | None = None) -> int:
    """Idle cores now: `cores - load`, rounded down, between 1 and `cores`."""
    cores = available_cores() if cores is None else cores
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    return max(1, min(cores, math.floor(cores - load + 0.25)))


def resolve(threads: int | None) -> int:
    """`threads` checked, or (None) `auto_threads()`."""
    if threads is not None and threads < 1:
        raise UserError(f"--threads must be >= 1, got {threads}")
    return auto_threads() if threads is None else threads


def apply(threads: int | None) -> int:
    """Set torch's intra-op threads to `resolve(threads)`; returns the number set."""
    import torch
    n = resolve(threads)
    torch.set_num_threads(n)
    return n


def policy(threads: int | None = None):
    """`apply(threads)` for a block (`with`), then torch's thread count as it was: the Python API (tdl.sample,
    tdl.embed in a notebook) gets the command line's speed (a digits embedding: 0.5 s with the policy's
    one thread, 3-5 s with torch's two on 2 busy cores) without changing the user's setting for good."""
    from sandbox.threads import torch_threads

    return torch_threads(resolve(threads))
