"""Compare feature extractors on one trajectory: `tdl compare-features traj.npz --features a b c`.

Each extractor reads the trajectory's images (`tdl.features.extract`; "source" keeps the features the
trajectory was sampled with), the result is embedded with one `EmbedConfig` (same seed), and the
metrics are set side by side; when only some steps have images, all extractors (the source's
features too) use those steps. Trustworthiness and continuity are measured
against each extractor's own intermediate space: they say how faithfully the picture shows what that
extractor sees, not which extractor sees "better". `neighbour_overlap_final` adds one cross-extractor
number: the mean share of each final sample's k = 7 nearest neighbours (in feature space) that it
shares with the first extractor's.
"""
from __future__ import annotations

import numpy as np

from sandbox.errors import UserError

ROWS = ("trustworthiness", "continuity", "instance_alignment_norm", "step_separation", "neighbour_overlap_final",
        "dim", "runtime_s")


def knn(x: np.ndarray, k: int = 7) -> np.ndarray:
    """`(n, k)` indices of each row's k nearest other rows (Euclidean)."""
    x = np.asarray(x, np.float64)
    sq = (x * x).sum(1)
    d = sq[:, None] + sq[None, :] - 2 * x @ x.T
    np.fill_diagonal(d, np.inf)
    k = min(k, len(x) - 1)
    return np.argsort(d, axis=1)[:, :k]


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Mean share of neighbours two kNN lists have in common."""
    return float(np.mean([len(set(x) & set(y)) / max(len(x), 1) for x, y in zip(a, b)]))


def compare(traj, names: list[str], config, which: str = "x0", device: str = "cpu",
            models: dict[str, str] | None = None, progress: bool = True) -> dict[str, dict]:
    """`{name: metrics}` (metrics of `tdl.metrics.evaluate` plus `dim`, `runtime_s`, `neighbour_overlap_final`)."""
    from tdl.features import EXTRACTORS, extract
    from tdl.pipeline import embed_trajectory

    if not names:
        raise UserError("give at least one feature extractor")
    for name in names:
        if name != "source" and name not in EXTRACTORS:
            raise UserError(f"unknown feature extractor {name!r}; choose from source, {', '.join(EXTRACTORS)}")
    models = models or {}
    rows = traj.image_rows()
    if any(n != "source" for n in names) and rows.any() and not rows.all():
        traj = traj.select_steps(np.flatnonzero(rows))  # every extractor on the same (decoded) steps
    out, first_knn = {}, None
    for name in names:
        t = traj if name == "source" else extract(traj, name, which=which, device=device, model=models.get(name),
                                                   progress=progress)
        tree = embed_trajectory(t, config, source="", progress=progress)
        m = dict(tree.metrics)
        m["dim"] = int(t.dim)
        m["runtime_s"] = float(sum(v for k, v in m.items() if k.startswith("runtime") and isinstance(v, float)))
        nn = knn(t.features[-1])
        first_knn = nn if first_knn is None else first_knn
        m["neighbour_overlap_final"] = overlap(nn, first_knn)
        out[name] = m
    return out


def format_table(results: dict[str, dict]) -> str:
    names = list(results)
    w = max(12, *(len(n) for n in names))
    lines = [f"{'metric':<24}" + "".join(f"{n:>{w + 2}}" for n in names)]
    for row in ROWS:
        cells = []
        for n in names:
            v = results[n].get(row)
            cells.append(f"{'-':>{w + 2}}" if v is None else (f"{v:>{w + 2}d}" if isinstance(v, int) and not
                         isinstance(v, bool) else f"{float(v):>{w + 2}.3f}"))
        lines.append(f"{row:<24}" + "".join(cells))
    return "\n".join(lines)


def plot_comparison(results: dict[str, dict], times, out):
    """Per-step trustworthiness and continuity of each extractor, one line each, saved atomically."""
    from matplotlib.figure import Figure

    from tdl.plot import save_figure

    fig = Figure(figsize=(9, 3.6), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    x = np.asarray(times) if times is not None else None
    for ax, key in zip(axes, ("trustworthiness_per_step", "continuity_per_step")):
        for name, m in results.items():
            y = np.asarray(m.get(key, []), dtype=float)
            ax.plot(x[:len(y)] if x is not None else np.arange(len(y)), y, marker="o", ms=3, label=name)
        ax.set_title(key.replace("_per_step", "") + " per step (k = 7)", fontsize=10)
        ax.set_xlabel("t (1 = noise, 0 = data)" if x is not None else "step")
        if x is not None:
            ax.invert_xaxis()
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return save_figure(fig, out)
