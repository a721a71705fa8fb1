"""Small synthetic trees and trajectories for the tdl figure, explorer and command-line tests.

Prompt p sits at angle 2 pi p / P (radial) or at height 3 p (rectilinear), so where each prompt's
points land is known; every instance's image is one flat colour, unique to (step, instance).
"""
import numpy as np
import torch

from tdl import layout as lay
from tdl.trajectory import TrajectoryData
from tdl.tree import TreeData


def instance_colour(s: int, i: int) -> tuple[int, int, int]:
    return (40 + 30 * (s % 7), 200 - 13 * (i % 13), 60 + 41 * (i // 13 % 5))


def synthetic(S=6, P=3, per=4, layout="radial", H=8, positions2d=False, seed=0):
    """(TreeData, TrajectoryData) with known structure; `images (S, I, H, H, 3)` flat colours,
    `images_xt` their negatives."""
    rng = np.random.default_rng(seed)
    I = P * per
    pidx = np.repeat(np.arange(P), per)
    if layout == "radial":
        along = np.where(np.arange(S)[:, None] == 0, 2.0, lay.RADIUS) + rng.normal(0, 0.5, (S, I))
        across = 2 * np.pi * pidx[None, :] / P + rng.normal(0, 0.15, (S, I))
    else:
        along = rng.normal(0, 1.0, (S, I))
        across = 3.0 * pidx[None, :] + rng.normal(0, 0.3, (S, I))
    opt = lay.join(torch.as_tensor(along), torch.as_tensor(across), layout)
    Y = lay.stretch(opt, layout).numpy()
    times = np.linspace(1.0, 0.0, S)
    prompts = [f"prompt {p}" for p in range(P)]
    images = np.zeros((S, I, H, H, 3), np.uint8)
    for s in range(S):
        for i in range(I):
            images[s, i] = instance_colour(s, i)
    pos = rng.normal(size=(S, I, 2)).astype(np.float32) if positions2d else None
    feats = rng.normal(size=(S, I, 5)).astype(np.float32)
    traj = TrajectoryData(feats, times, prompts, pidx, images=images, images_xt=255 - images, positions2d=pos,
                          source="sandbox2d" if positions2d else "digits")
    metrics = {"trustworthiness": [0.9] * S, "continuity": [0.8] * S, "step_separation": 0.99}
    tree = TreeData(Y, layout, times, prompts, pidx, metrics=metrics, source="traj.npz")
    return tree, traj
