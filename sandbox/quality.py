"""What a user keeps from a training run, measured: the quality table's metrics and held-out sets.

    ratio = sw_ratio(samples, lambda n, seed: make_preset("moons", n, seed).points)
    far = far_fraction(samples, fresh_data, sigma=0.06)     # share of samples stranded off the data
    near = near_ratio(samples, fresh_data, other_draw)      # how close samples sit to the data

- `sw_ratio`: mean sliced Wasserstein (metrics.py) between the samples and several fresh data draws
  of the same size, over the mean between pairs of fresh draws (data vs data): 1 = as close as
  another draw of the data; the issue's bar is 1.2.
- `far_fraction`: the share of samples farther than `k` noise scales from every point of a large
  fresh data draw; fresh data itself scores ~0. It sees what sliced Wasserstein misses: mass
  between tight modes.
- `near_ratio`: mean distance from a sample to the nearest point of a large fresh draw, over the
  same for fresh data: 1 = as close as data; it sees rings and edges drawn thicker than the data.
- `HELDOUT`: 2D sets that are not presets (thin rings, a 5 x 5 grid of tight clusters, i.i.d. moons,
  a spiral, a letter from a picture), each `(fn(n, seed) -> (n, 2) array, noise scale)`, for
  checking defaults on data they were not tuned on (bench/quality_defaults.py, tests).
Arrays are numpy (N, 2) float in data coordinates.
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np

DrawFn = Callable[[int, int], np.ndarray]  # (n, seed) -> (n, 2)


def sw_ratio(samples: np.ndarray | list[np.ndarray], draw: DrawFn, draws: int = 12, seed: int = 10_000) -> float:
    """SW(samples, fresh data) / SW(fresh data, fresh data), averaged over `draws` fresh draws of
    the samples' size. samples: (n, 2), or a list of such sets (several sample draws of a model:
    one draw of 2000 is itself as noisy as the data, e.g. a fresh draw of thin_rings scores 0.9-1.6
    against the others through its share of points per ring)."""
    import torch

    from sandbox.metrics import sliced_wasserstein

    sets = [samples] if isinstance(samples, np.ndarray) and samples.ndim == 2 else list(samples)
    n = len(sets[0])
    fresh = [torch.as_tensor(draw(n, seed + k), dtype=torch.float32) for k in range(draws)]
    g = torch.Generator().manual_seed(seed)
    model = np.mean([sliced_wasserstein(torch.as_tensor(np.asarray(x), dtype=torch.float32), fresh[k], generator=g)
                     for x in sets for k in range(draws)])
    base = np.mean([sliced_wasserstein(fresh[i], fresh[j], generator=g)  # every pair of fresh draws
                    for i in range(draws) for j in range(i + 1, draws)])
    return float(model / base)


def far_fraction(samples: np.ndarray, data: np.ndarray, sigma: float, k: float = 4.0) -> float:
    """Share of samples whose nearest data point is farther than k * sigma."""
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(np.asarray(data, dtype=np.float64)).query(np.asarray(samples, dtype=np.float64))
    return float(np.mean(~(dist <= k * sigma)))  # NaN samples count as far


def near_ratio(samples: np.ndarray, data: np.ndarray, fresh: np.ndarray) -> float:
    """Mean distance from each sample to its nearest point of `data` (a large fresh draw) over the
    same for `fresh` (another draw of the samples' size): 1 = samples sit as close to the data as
    data does. It sees what the other two measures miss: rings or edges drawn thicker than the data
    (a sample 2 noise scales off a thin ring is neither far nor costly in sliced Wasserstein)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(np.asarray(data, dtype=np.float64))
    own = tree.query(np.asarray(fresh, dtype=np.float64))[0].mean()
    return float(tree.query(np.nan_to_num(np.asarray(samples, dtype=np.float64), nan=1e6))[0].mean() / own)


# --- held-out data sets ---------------------------------------------------------------------------
def thin_rings(n: int, seed: int) -> np.ndarray:
    """Two thin rings, radii 1 and 2 (points in proportion to length), noise 0.02."""
    g = np.random.default_rng(seed)
    r = np.where(g.uniform(0, 3, n) < 1, 1.0, 2.0)
    a = g.uniform(0, 2 * np.pi, n)
    return r[:, None] * np.stack([np.cos(a), np.sin(a)], 1) + 0.02 * g.standard_normal((n, 2))


def grid_clusters(n: int, seed: int) -> np.ndarray:
    """A 5 x 5 grid of tight round clusters, spacing 1, std 0.03."""
    g = np.random.default_rng(seed)
    c = g.integers(0, 5, (n, 2)) - 2.0
    return c + 0.03 * g.standard_normal((n, 2))


def iid_moons(n: int, seed: int) -> np.ndarray:
    """scikit-learn-style moons with each point's moon drawn i.i.d. (not split evenly), noise 0.05."""
    g = np.random.default_rng(seed)
    upper = g.uniform(0, 1, n) < 0.5
    a = g.uniform(0, np.pi, n)
    p = np.where(upper[:, None], np.stack([np.cos(a), np.sin(a)], 1),
                 np.stack([1 - np.cos(a), 0.5 - np.sin(a)], 1))
    return p + 0.05 * g.standard_normal((n, 2))


def spiral(n: int, seed: int) -> np.ndarray:
    """One Archimedean spiral arm of three turns, noise 0.05."""
    g = np.random.default_rng(seed)
    t = np.sqrt(g.uniform(0.01, 1, n)) * 6 * np.pi
    return (t / (2 * np.pi))[:, None] * np.stack([np.cos(t), np.sin(t)], 1) + 0.05 * g.standard_normal((n, 2))


@functools.lru_cache(maxsize=1)
def _letter_file() -> str:
    """A 96 x 96 picture of a bold 'R' (PIL's default font, scaled), written once to a temp file."""
    import tempfile

    from PIL import Image, ImageDraw

    small = Image.new("L", (12, 12), 255)
    ImageDraw.Draw(small).text((2, -1), "R", fill=0)
    img = small.resize((96, 96), Image.Resampling.NEAREST)
    path = tempfile.NamedTemporaryFile(suffix=".png", delete=False).name
    img.save(path)
    return path


LETTER_PX = 1.0 / 96  # a pixel in data units (the loader divides by the picture's long side)


def letter(n: int, seed: int) -> np.ndarray:
    """Points from the picture of a letter through the picture loader (uniform inside dark pixels)."""
    from sandbox.datasets import load_image

    return load_image(_letter_file(), n=n, seed=seed).points


# name -> (draw(n, seed), noise scale in data units). The letter's points are uniform inside a
# pixel (std 0.29 px), so its scale is 0.29 px.
HELDOUT: dict[str, tuple[DrawFn, float]] = {
    "thin_rings": (thin_rings, 0.02),
    "grid_5x5": (grid_clusters, 0.03),
    "iid_moons": (iid_moons, 0.05),
    "spiral": (spiral, 0.05),
    "letter_R": (letter, 0.29 * LETTER_PX),
}


USER_POINTS = 2000  # a generated held-out set stands for a user's file of this many points


def training_data(name: str, seed: int, n: int | None = None):
    """The PointSet `diffusion-sandbox train` would train on for data set `name` (draw `seed`): a
    preset or a picture (letter_R) is drawn with datasets.TRAIN_DRAW points, as the CLI and the API
    draw them; the other held-out sets are a user's file of USER_POINTS points, used as they are.
    `n` overrides the count."""
    from sandbox.datasets import TRAIN_DRAW, PointSet, make_preset
    from sandbox.registry import PRESETS

    if name in PRESETS:
        return make_preset(name, n=n or TRAIN_DRAW, seed=seed, labels=False)
    draw, _ = HELDOUT[name]
    return PointSet(draw(n or (TRAIN_DRAW if name == "letter_R" else USER_POINTS), seed), None, [], name)


def train_and_score(name: str, cfg, samplers=((None, None),), sets: int = 4, n_train: int | None = None) -> dict:
    """Train `cfg` (a TrainConfig; its seed is the training draw's) on data set `name` drawn as the
    CLI draws it, on the CPU, then score `sets` x 2000 samples of each (sampler, steps) (None: the
    model's defaults). Returns {"seconds", "cpu_seconds", "steps", "stopped", "scores": [{"sampler",
    "ratio", "far", "near"}], "data": the PointSet trained on}: what bench/quality_defaults.py and
    bench/quality_sweep.py tabulate."""
    import time

    from sandbox.train import train

    draw, sigma = data_sets()[name]
    data = training_data(name, cfg.seed, n_train)
    wall, cpu = time.perf_counter(), time.process_time()
    ev = None
    for ev in train(cfg, data, "cpu"):
        pass
    if ev is None:
        raise ValueError(f"training produced no model (steps={cfg.steps})")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    fresh = draw(20000, 99)
    scores = []
    for sampler, steps in samplers:
        samples = [ev.model.sample(2000, sampler=sampler, steps=steps, seed=1000 + k).final.numpy()  # data coords
                   for k in range(sets)]
        scores.append({"sampler": sampler or ev.model.default_sampler, "ratio": sw_ratio(samples, draw),
                       "far": far_fraction(np.concatenate(samples), fresh, sigma),
                       "near": near_ratio(np.concatenate(samples), fresh, draw(2000 * sets, 98))})
    return {"seconds": wall, "cpu_seconds": cpu, "steps": ev.step, "data": data,
            "stopped": ev.model.config["stats"].get("stopped", "cap"), "scores": scores}


IID_POOL = 20  # an i.i.d. draw of n is n points picked from a preset draw of IID_POOL * n


def iid_preset(name: str, n: int, seed: int) -> np.ndarray:
    """n i.i.d. points of preset `name`. A preset splits its points evenly between its parts
    (moons: exactly n/2 per moon), so two of its draws are closer to each other than two i.i.d.
    draws: a model's samples are i.i.d. and cannot be that close. Measured on moons: a perfect
    i.i.d. sampler scores 1.12x the data-vs-data SW of split draws and 1.01x that of i.i.d. draws.
    The part counts here are hypergeometric, within 5% of i.i.d.'s variance."""
    from sandbox.datasets import make_preset

    pool = make_preset(name, n=IID_POOL * n, seed=seed).points
    return pool[np.random.default_rng([seed, 1]).choice(len(pool), n, replace=False)]


def data_sets() -> dict[str, tuple[DrawFn, float]]:
    """Every preset (from the registry, with its declared noise; drawn i.i.d., `iid_preset`) and
    every held-out set."""
    from sandbox.registry import PRESETS

    out: dict[str, tuple[DrawFn, float]] = {}
    for name, info in PRESETS.items():
        out[name] = (functools.partial(iid_preset, name), info.noise)
    out.update(HELDOUT)
    return out
