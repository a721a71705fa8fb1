"""GPU check of the captured training step against the eager one (run with --device cuda).

Trains the same config both ways and prints the mean loss over the last 100 steps, the score, and
the time per step; the captured step must train as well as the eager one.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.datasets import make_preset  # noqa: E402
from sandbox.train import TrainConfig, train  # noqa: E402


def run(cfg: TrainConfig, data) -> tuple[float, float | None, float]:
    losses, score = [], None
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for ev in train(cfg, data):
        losses.append(ev.loss)
        score = ev.score if ev.score is not None else score
    torch.cuda.synchronize()
    ms = (time.perf_counter() - t0) / cfg.steps * 1e3
    tail = torch.stack([torch.as_tensor(x).float().cpu() for x in losses[-100:]]).mean().item()
    return tail, score, ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    print("objective  ot     graph  last-100 loss  score   ms/step")
    for objective, ot in (("ddpm", False), ("flow", False), ("flow", True)):
        data = make_preset("moons", 10000, seed=0, labels=False)
        for graph in (False, True):
            cfg = TrainConfig(objective=objective, ot=ot, device=args.device, eval_every=600, cuda_graph=graph)
            loss, score, ms = run(cfg, data)
            print(f"{objective:<10} {str(ot):<6} {str(graph):<6} {loss:13.4f}  {score:.4f}  {ms:7.2f}")


if __name__ == "__main__":
    main()
