"""Training speed against torch thread count, alone and beside a process that keeps one core busy.

    flock /work/bench.lock python bench/threads.py [--steps 300]

Prints wall and CPU seconds for `steps` default training steps (no scores) for 1 and 2 threads,
without and with a busy-loop process. The policy in sandbox/threads.py follows from it.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def one(threads: int, steps: int) -> tuple[float, float]:
    code = (f"import time, torch; torch.set_num_threads({threads});"
            "from sandbox.datasets import make_preset; from sandbox.train import TrainConfig, train;"
            "d = make_preset('moons', n=2000); t = time.perf_counter(); c = time.process_time();"
            f"[None for _ in train(TrainConfig(steps={steps}, eval_every=0), d, 'cpu')];"
            "print(time.perf_counter() - t, time.process_time() - c)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout.split()
    return float(out[0]), float(out[1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    print(f"# {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}; {args.steps} default steps, no scores")
    print(f"{'threads':>7s} {'busy':>5s} {'wall s':>7s} {'cpu s':>6s}")
    for busy in (False, True):
        proc = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            for threads in (1, 2):
                wall, cpu = one(threads, args.steps)
                print(f"{threads:7d} {str(busy):>5s} {wall:7.2f} {cpu:6.2f}", flush=True)
        finally:
            if proc is not None:
                proc.kill()
    print(f"# load after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
