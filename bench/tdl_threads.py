"""Threads and a busy machine: the embedding's wall time with 1, 2, ... threads and with the policy
of `tdl.threads` (idle cores now), at 50 steps x 200 instances (the benchmark data), one run each.

    python bench/tdl_threads.py                 # as the machine is now (note the load it prints)
    python bench/tdl_threads.py --busy 2        # start 2 busy-looping processes first (contention)
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdl.embedding import EmbedConfig, embed  # noqa: E402
from tdl.synthetic import branching  # noqa: E402
from tdl.threads import auto_threads  # noqa: E402


def _spin(stop):
    while not stop.is_set():
        pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--busy", type=int, default=0, help="busy-looping processes to start first")
    args = ap.parse_args(argv)
    stop = mp.Event()
    procs = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(args.busy)]
    for p in procs:
        p.start()
    try:
        X, _ = branching(args.steps, args.instances, 512)
        time.sleep(2 if procs else 0)
        print(f"{os.cpu_count()} cores, {args.busy} busy processes started, load {os.getloadavg()[0]:.1f}; "
              f"policy now: {auto_threads()} thread(s)")
        print("| threads | wall s | CPU s |")
        print("| ---: | ---: | ---: |")
        for n in [*args.threads, "auto"]:
            k = auto_threads() if n == "auto" else n
            torch.set_num_threads(k)
            t0, c0 = time.perf_counter(), time.process_time()
            embed(X, EmbedConfig(log_every=0))
            print(f"| {n}{f' ({k})' if n == 'auto' else ''} | {time.perf_counter() - t0:.1f} | "
                  f"{time.process_time() - c0:.1f} |", flush=True)
    finally:
        stop.set()
        for p in procs:
            p.join(timeout=5)
    print(f"load after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
