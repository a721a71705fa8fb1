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
