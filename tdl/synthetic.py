"""Synthetic trajectories with known structure, for tests and the benchmark.

`branching(...)`: one cluster that splits into `clusters` groups over the steps. Cluster centres do a
branching random walk in `dim` dimensions: all instances start in one group; at evenly spaced steps
every group splits in two (children start at the parent's centre and walk apart). Each instance adds
a persistent offset (its identity) and per-step noise whose size decays from `noise` to
`noise_final`, like a denoising trajectory. Step 0 is the noisiest.
"""
from __future__ import annotations

import math

import torch


def branching(steps: int = 50, instances: int = 200, dim: int = 512, clusters: int = 8, walk: float = 0.15,
              spread: float = 0.3, noise: float = 1.5, noise_final: float = 0.1,
              seed: int = 0, instance_seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """-> `(features (S, I, D) float32, labels (I,) int64 in [0, clusters))`; instance i has label i % clusters.

    `instance_seed` draws new instances (offsets and noise) around the same cluster paths as `seed`."""
    g = torch.Generator().manual_seed(seed)
    levels = max(1, math.ceil(math.log2(clusters)))
    labels = torch.arange(instances) % clusters
    # depth of the tree at each step: level l is reached at step l * S / (levels + 1)
    depth = torch.clamp((torch.arange(steps) * (levels + 1)) // steps, max=levels)
    centre = torch.zeros(1, dim)  # one node at depth 0
    paths = torch.zeros(steps, clusters, dim)
    for s in range(steps):
        d = int(depth[s])
        while centre.shape[0] < 2 ** d:  # split every node in two
            centre = centre.repeat_interleave(2, dim=0)
        centre = centre + walk * torch.randn(centre.shape, generator=g)  # per-dimension step
        # leaf k belongs to node floor(k * 2^d / 2^levels) at depth d
        node = (torch.arange(clusters) * 2 ** d) // 2 ** levels
        paths[s] = centre[node]
    if instance_seed is not None:
        g = torch.Generator().manual_seed(instance_seed + 7919)
    offset = spread * torch.randn(instances, dim, generator=g)
    level = noise_final + (noise - noise_final) * torch.linspace(1, 0, steps) ** 2
    eps = torch.randn(steps, instances, dim, generator=g)
    feats = paths[:, labels] + offset[None] + level[:, None, None] * eps
    return feats.float(), labels


def branching_nodes(steps: int = 50, instances: int = 200, clusters: int = 8) -> torch.Tensor:
    """The groups `branching` makes at each step: `(S, I)` int64, the tree node (at that step's depth)
    that instance i's leaf (i % clusters) belongs to. Before the last split, sibling leaves share a node:
    their instances are one group in the data (told apart only by their persistent offsets)."""
    levels = max(1, math.ceil(math.log2(clusters)))
    depth = torch.clamp((torch.arange(steps) * (levels + 1)) // steps, max=levels)  # as `branching`
    leaf = torch.arange(instances) % clusters
    return (leaf[None, :] * 2 ** depth[:, None]) // 2 ** levels


def _noise_level(steps: int, noise: float, noise_final: float) -> torch.Tensor:
    return noise_final + (noise - noise_final) * torch.linspace(1, 0, steps) ** 2


def drift(steps: int = 50, instances: int = 200, dim: int = 512, groups: int = 6, separation: float = 1.0,
          noise: float = 1.5, noise_final: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Slow drift: `groups` centres leave one common point along fixed random directions, their distance
    growing smoothly (linearly in the step) to `separation` per dimension; no splits, no switches."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(instances) % groups
    dirs = torch.randn(groups, dim, generator=g)
    frac = torch.linspace(0, 1, steps)[:, None, None]
    paths = separation * frac * dirs[None]  # (S, G, D)
    offset = 0.3 * torch.randn(instances, dim, generator=g)
    eps = torch.randn(steps, instances, dim, generator=g)
    feats = paths[:, labels] + offset[None] + _noise_level(steps, noise, noise_final)[:, None, None] * eps
    return feats.float(), labels


def many_prompts(steps: int = 50, instances: int = 200, dim: int = 512, prompts: int = 40, seed: int = 0,
                 noise: float = 1.5, noise_final: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Many small prompts: `prompts` groups of a few instances each (5 at the defaults), every group
    with its own fixed centre from the first step, seen through decaying noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(instances) % prompts
    centres = 0.8 * torch.randn(prompts, dim, generator=g)
    offset = 0.2 * torch.randn(instances, dim, generator=g)
    eps = torch.randn(steps, instances, dim, generator=g)
    feats = centres[labels][None] + offset[None] + _noise_level(steps, noise, noise_final)[:, None, None] * eps
    return feats.float(), labels


def switches(steps: int = 50, instances: int = 200, dim: int = 512, groups: int = 4, switch_share: float = 0.3,
             seed: int = 0, noise: float = 1.0, noise_final: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Group switches: `groups` well separated centres from the start; a share of the instances starts
    in another group and switches to its final group at a random step in the middle third.
    Labels are the final groups."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(instances) % groups
    centres = torch.randn(groups, dim, generator=g)
    start = labels.clone()
    moving = torch.rand(instances, generator=g) < switch_share
    start[moving] = (labels[moving] + 1 + torch.randint(0, groups - 1, (int(moving.sum()),), generator=g)) % groups
    when = torch.randint(steps // 3, max(steps // 3 + 1, 2 * steps // 3), (instances,), generator=g)
    group_at = torch.where(torch.arange(steps)[:, None] < when[None], start[None], labels[None])  # (S, I)
    offset = 0.3 * torch.randn(instances, dim, generator=g)
    eps = torch.randn(steps, instances, dim, generator=g)
    feats = centres[group_at] + offset[None] + _noise_level(steps, noise, noise_final)[:, None, None] * eps
    return feats.float(), labels


def commit_at(steps: int = 12, instances: int = 60, dim: int = 16, groups: int = 3, step: int = 6,
              separation: float = 8.0, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Known commitment: before `step` every instance is the same Gaussian noise whatever its group
    (nothing in the features tells the groups apart); from `step` on each group sits at its own centre,
    `separation` noise widths from the others. The commitment step of every group is `step`."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(instances) % groups
    centres = separation * torch.eye(groups, dim)
    on = (torch.arange(steps) >= step).float()[:, None, None]
    feats = on * centres[labels][None] + torch.randn(steps, instances, dim, generator=g)
    return feats.float(), labels


FAMILIES = {"branching": branching, "drift": drift, "many_prompts": many_prompts, "switches": switches}
