"""Sampling on several processes: `accelerate launch -m tdl sample ...` or `torchrun -m tdl sample ...`.

`Processes()` reads the launcher's environment through accelerate's `PartialState` (torchrun and
accelerate both set WORLD_SIZE / RANK / LOCAL_RANK; without accelerate, `torch.distributed`
directly): rank, world size, this process's device (`cuda:LOCAL_RANK` on GPUs) and a barrier.
Instances (prompt x seed) are dealt round-robin: process r runs instances r, r + world, ...
(`diffusers_pipeline(shard=(r, world))`). Every instance has its own seeded generator, so where it
ran does not change its trajectory. Each process writes `OUT.shard-R-of-W.npz`; after the barrier,
process 0 merges them (`merge_shards`: instances back in one-process order) into OUT and removes
the shards.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sandbox.errors import UserError
from tdl.trajectory import TrajectoryData


class Processes:
    """The launch's process group (a single process when nothing launched us in parallel)."""

    def __init__(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1") or 1)
        self.rank, self.local_rank, self._state, self._dist = 0, 0, None, False
        if self.world <= 1:
            self.world = 1
            return
        import torch

        try:
            from accelerate import PartialState
        except ImportError:
            PartialState = None
        if PartialState is not None:
            self._state = PartialState(cpu=not torch.cuda.is_available())
            self.rank, self.world = self._state.process_index, self._state.num_processes
            self.local_rank = self._state.local_process_index
        else:
            import torch.distributed as dist
            if not dist.is_initialized():
                dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
            self._dist = True
            self.rank, self.world = dist.get_rank(), dist.get_world_size()
            self.local_rank = int(os.environ.get("LOCAL_RANK", self.rank))

    @property
    def sharded(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, asked: str) -> str:
        """This process's device: its own GPU when the run is on CUDA."""
        if self.sharded and asked.startswith("cuda"):
            return f"cuda:{self.local_rank}"
        return asked

    def barrier(self) -> None:
        if self._state is not None:
            self._state.wait_for_everyone()
        elif self._dist:
            import torch.distributed as dist
            dist.barrier()


def shard_path(out: Path, rank: int, world: int) -> Path:
    out = Path(out)
    stem = out.name[:-4] if out.name.endswith(".npz") else out.name
    return out.with_name(f"{stem}.shard-{rank}-of-{world}.npz")


def merge_shards(shards: list[TrajectoryData]) -> TrajectoryData:
    """One trajectory from the shards of one run, instances in one-process order (`meta["instance_ids"]`)."""
    if not shards:
        raise UserError("no shards to merge")
    first = shards[0]
    for sh in shards[1:]:
        if sh.prompts != first.prompts or not np.array_equal(sh.times, first.times) \
                or sh.features.shape[2] != first.features.shape[2]:
            raise UserError("the shards do not come from one run (prompts, times or features differ)")
    ids = np.concatenate([np.asarray(sh.meta["instance_ids"]) for sh in shards])
    order = np.argsort(ids, kind="stable")
    if len(np.unique(ids)) != len(ids):
        raise UserError("the shards overlap (an instance appears twice)")

    def cat(name):
        arrs = [getattr(sh, name) for sh in shards]
        if any(a is None for a in arrs):
            return None
        return np.concatenate(arrs, axis=1)[:, order]

    meta = dict(first.meta)
    meta["instance_ids"] = ids[order].tolist()
    meta["instance_seeds"] = np.concatenate([sh.meta["instance_seeds"] for sh in shards])[order].tolist()
    meta["processes"] = len(shards)
    meta["timing_s"] = [sh.meta.get("timing_s") for sh in shards]
    return TrajectoryData(features=cat("features"), times=first.times, prompts=first.prompts,
                          prompt_index=np.concatenate([sh.prompt_index for sh in shards])[order],
                          images=cat("images"), images_xt=cat("images_xt"), positions2d=cat("positions2d"),
                          source=first.source, meta=meta)


def write_sharded(traj: TrajectoryData, out: Path, procs: Processes) -> tuple[Path, TrajectoryData] | None:
    """Each process saves its shard; process 0 merges them into `out` and returns (path, merged);
    the other processes get None."""
    traj.save(shard_path(out, procs.rank, procs.world))
    procs.barrier()
    if not procs.is_main:
        return None
    paths = [shard_path(out, r, procs.world) for r in range(procs.world)]
    merged = merge_shards([TrajectoryData.load(p) for p in paths])
    path = merged.save(out)
    for p in paths:
        p.unlink(missing_ok=True)
    return path, merged
