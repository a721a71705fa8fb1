"""The static TDL figure (PNG, SVG or PDF) through matplotlib's object API (no pyplot, no display).

Points are coloured by prompt, faint lines join each instance across steps, rings (radial) or bands
(rectilinear) are labelled with their step, and a few points carry a thumbnail of their image. For a
2D sandbox trajectory the true 2D paths are drawn beside the embedding, so a learner can compare the
picture with paths whose truth they can see. `step_guides` and `prompt_colors` are pure numpy and are
shared with the explorer window; matplotlib is imported only when a figure is made.
"""
from __future__ import annotations

import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sandbox.fileio import atomic_path
from sandbox.errors import UserError

FORMATS = (".png", ".svg", ".pdf")

# matplotlib's tab10, as 0-255 RGB, so the window and the figure use the same colours
_TAB10 = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
          (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def prompt_colors(n: int) -> list[tuple[int, int, int]]:
    """n distinct 0-255 RGB colours: tab10 first, then evenly spaced hues."""
    if n <= len(_TAB10):
        return _TAB10[:n]
    import colorsys
    return [tuple(int(255 * c) for c in colorsys.hsv_to_rgb(k / n, 0.75, 0.85)) for k in range(n)]


@dataclass(frozen=True)
class StepGuides:
    """Where each step sits: rings of `values (S,)` radius around `center` (radial), or bands at
    coordinate `values (S,)` along `axis` (rectilinear)."""
    kind: str  # "ring" | "band"
    values: np.ndarray  # (S,)
    center: np.ndarray  # (2,)
    axis: int = 0


def step_guides(Y: np.ndarray, layout: str, config: dict | None = None) -> StepGuides:
    """Ring radius (radial, centred on the origin) or band x (rectilinear) of each step of
    `Y (S, I, 2)`: the display centres of `tdl.layout`, with the radius and stretch in `config`."""
    from tdl import layout as lay
    config = config or {}
    kw = {k: float(config[k]) for k in ("radius", "stretch") if config.get(k) is not None}
    values = lay.centres(np.asarray(Y).shape[0], lay.check_layout(layout), radius=kw.get("radius", lay.RADIUS),
                         offset=kw.get("stretch", lay.STRETCH)).numpy()
    if layout == "radial":
        return StepGuides("ring", values, np.zeros(2))
    return StepGuides("band", values, np.asarray(Y, dtype=np.float64).reshape(-1, 2).mean(0), axis=0)


def label_steps(S: int, most: int = 8) -> list[int]:
    """At most `most` step indices to label, always the first and the last."""
    if S <= most:
        return list(range(S))
    picks = np.unique(np.round(np.linspace(0, S - 1, most)).astype(int))
    return [int(s) for s in picks]


def choose_thumbnails(prompt_index: np.ndarray, S: int, n: int) -> list[tuple[int, int]]:
    """n (step, instance) pairs: one instance per prompt at the last step, then the same instances
    half-way, then further instances; so the figure shows what each branch becomes first."""
    prompt_index = np.asarray(prompt_index)
    per_prompt = [np.flatnonzero(prompt_index == p) for p in np.unique(prompt_index)]
    out: list[tuple[int, int]] = []
    rank = 0
    while len(out) < n and any(rank < len(ix) for ix in per_prompt):
        for steps in ([S - 1], [S // 2] if S > 2 else []):
            for s in steps:
                for ix in per_prompt:
                    if rank < len(ix) and len(out) < n and (s, int(ix[rank])) not in out:
                        out.append((s, int(ix[rank])))
        rank += 1
    return out


def summary_line(metrics: dict | None, runtime: float | None = None) -> str:
    """Key metrics in one line for the title (per-step arrays are averaged)."""
    if not metrics:
        return ""
    names = [("trustworthiness", "trust"), ("continuity", "cont"), ("step_separation", "step sep"),
             ("instance_alignment", "align")]
    parts = []
    for key, short in names:
        val = _metric(metrics, key)
        if val is not None:
            parts.append(f"{short} {val:.3f}")
    rt = runtime if runtime is not None else _metric(metrics, "runtime_s")
    rt = rt if rt is not None else _metric(metrics, "runtime")
    if rt is not None:
        parts.append(f"{rt:.1f} s")
    return "  ·  ".join(parts)


def _metric(metrics: dict, key: str) -> float | None:
    for k in (key, f"mean_{key}", f"{key}_mean"):
        if k in metrics:
            try:
                val = np.asarray(metrics[k], dtype=np.float64)
            except (TypeError, ValueError):
                return None
            return float(np.nanmean(val)) if val.size else None
    return None


# --- drawing ----------------------------------------------------------------------------------
def _rgb(c) -> tuple[float, float, float]:
    return tuple(v / 255 for v in c)


def _draw_paths(ax, Y, prompt_index, prompts, lines: bool) -> None:
    from matplotlib.collections import LineCollection
    S, I = Y.shape[:2]
    colors = [_rgb(c) for c in prompt_colors(len(prompts))]
    if lines and S > 1:
        segs = np.transpose(Y, (1, 0, 2))  # (I, S, 2): one polyline per instance
        alpha = float(np.clip(8.0 / np.sqrt(I), 0.06, 0.35))
        ax.add_collection(LineCollection(segs, colors=[colors[p] for p in prompt_index],
                                         linewidths=0.6, alpha=alpha, zorder=1))
    size = float(np.clip(3000.0 / (S * I), 1.5, 24.0))
    for p in range(len(prompts)):
        pts = Y[:, prompt_index == p].reshape(-1, 2)
        if len(pts):
            ax.scatter(pts[:, 0], pts[:, 1], s=size, color=colors[p], linewidths=0, zorder=2)


def _draw_guides(ax, Y, layout, times, config) -> None:
    from matplotlib.patches import Circle
    g = step_guides(Y, layout, config)
    S = Y.shape[0]
    for s in label_steps(S):
        text = f"t={times[s]:.2f}" if times is not None else f"step {s}"
        if g.kind == "ring":
            r = g.values[s]
            ax.add_patch(Circle(tuple(g.center), r, fill=False, lw=0.5, ls="--", color="0.7", zorder=0))
            ax.text(g.center[0], g.center[1] + r, text, fontsize=6, color="0.35", ha="center",
                    va="bottom", zorder=3)
        else:
            other = Y[..., 1 - g.axis]
            lo = float(other.min() - 0.04 * (np.ptp(other) or 1.0))
            pos = [g.values[s], lo] if g.axis == 0 else [lo, g.values[s]]
            kw = dict(fontsize=6, color="0.35", zorder=3)
            if g.axis == 0:
                ax.axvline(g.values[s], lw=0.5, ls="--", color="0.8", zorder=0)
                ax.text(*pos, text, ha="center", va="top", rotation=90, **kw)
            else:
                ax.axhline(g.values[s], lw=0.5, ls="--", color="0.8", zorder=0)
                ax.text(*pos, text, ha="right", va="center", **kw)


def _draw_thumbnails(ax, Y, images, picks, center, zoom_px: float = 34.0) -> None:
    """Each picked (step, instance) gets its image in a box pushed outwards from `center` (the
    rings' centre, or the middle of a rectilinear tree); neighbours in angle alternate between a
    short and a long push so that their boxes do not overlap."""
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage
    dirs = np.array([Y[s, i] - center for s, i in picks], dtype=np.float64)
    dirs /= np.maximum(np.linalg.norm(dirs, axis=1, keepdims=True), 1e-12)
    rank = np.argsort(np.argsort(np.arctan2(dirs[:, 1], dirs[:, 0])))
    for (s, i), d, r in zip(picks, dirs, rank):
        img = images[s, i]
        cmap = None
        if img.shape[-1] == 1:
            img, cmap = img[..., 0], "gray"
        box = OffsetImage(img, zoom=zoom_px / max(img.shape[:2]), cmap=cmap, interpolation="nearest")
        push = 40.0 if r % 2 == 0 else 40.0 + 1.3 * zoom_px
        ab = AnnotationBbox(box, tuple(Y[s, i]), xybox=tuple(push * d), boxcoords="offset points",
                            pad=0.15, frameon=True, zorder=4,
                            arrowprops=dict(arrowstyle="-", lw=0.5, color="0.4"))
        ax.add_artist(ab)


def make_figure(tree, traj=None, thumbnails: int = 6, lines: bool = True):
    """A matplotlib Figure of `tree` (a TreeData); `traj` (its TrajectoryData) gives the images
    for thumbnails and, for the 2D sandbox, the true paths drawn beside the embedding."""
    from matplotlib.figure import Figure
    Y = np.asarray(tree.Y, dtype=np.float64)
    prompts, pidx = list(tree.prompts), np.asarray(tree.prompt_index)
    times = np.asarray(tree.times) if tree.times is not None else None
    pos2d = getattr(traj, "positions2d", None) if traj is not None else None
    images = getattr(traj, "images", None) if traj is not None else None
    if images is not None and images.shape[:2] != Y.shape[:2]:
        images = None  # a trajectory that does not match the tree: draw no thumbnails
    side = pos2d is not None and pos2d.shape[:2] == Y.shape[:2]

    radial = tree.layout == "radial"
    size = (8.5, 7.5) if radial else (11.0, 6.0)
    fig = Figure(figsize=(size[0] + 5.0, 6.8) if side else size, layout="constrained")
    axes = fig.subplots(1, 2) if side else [fig.subplots()]
    ax = axes[-1]
    if side:
        left = axes[0]
        _draw_paths(left, np.asarray(pos2d, dtype=np.float64), pidx, prompts, lines)
        ends = np.asarray(pos2d[-1], dtype=np.float64)
        left.scatter(ends[:, 0], ends[:, 1], s=10, facecolors="none", edgecolors="k", lw=0.4, zorder=3)
        left.set_title("true 2D paths (circled: final samples)", fontsize=10)
        left.set_aspect("equal", adjustable="datalim")
        ax.set_title(f"evolutionary embedding ({tree.layout})", fontsize=10)
    _draw_guides(ax, Y, tree.layout, times, getattr(tree, "config", None))
    _draw_paths(ax, Y, pidx, prompts, lines)
    if images is not None and thumbnails > 0:
        picks = choose_thumbnails(pidx, Y.shape[0], thumbnails)
        rows = np.flatnonzero(traj.image_rows()) if hasattr(traj, "image_rows") else np.arange(Y.shape[0])
        if len(rows) and len(rows) < Y.shape[0]:  # only some steps decoded: the nearest decoded step
            picks = list(dict.fromkeys((int(rows[np.argmin(np.abs(rows - s))]), i) for s, i in picks))
        _draw_thumbnails(ax, Y, images, picks,
                         step_guides(Y, tree.layout, getattr(tree, "config", None)).center)
        ax.margins(0.18)  # room for the thumbnails pushed outwards
    for a in axes:
        a.set_xticks([])
        a.set_yticks([])
        for spine in a.spines.values():
            spine.set_visible(False)
    if radial:  # rings must look round; a rectilinear tree uses the whole width
        ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], marker="o", ls="", markersize=6, color=_rgb(c), label=name)
               for c, name in zip(prompt_colors(len(prompts)), prompts)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
              frameon=False, ncol=1 if len(prompts) <= 20 else 2)
    source = getattr(traj, "source", None) or (getattr(tree, "config", None) or {}).get("trajectory_source", "")
    title = "Tree of Diffusion Life" + (f": {source}" if source and source != "unknown" else "") + f" ({tree.layout})"
    line = summary_line(getattr(tree, "metrics", None))
    fig.suptitle(title + (f"\n{line}" if line else ""), fontsize=11)
    return fig


def check_figure_path(out: str | os.PathLike) -> Path:
    """`out` as a Path; UserError unless it ends in .png, .svg or .pdf."""
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise UserError(f"cannot write '{out.name}': the figure must end in .png, .svg or .pdf")
    return out


def save_figure(fig, out: str | os.PathLike, dpi: int = 150) -> Path:
    """Write `fig` to `out` (.png, .svg or .pdf) atomically: a temporary file, then a rename."""
    out = check_figure_path(out)
    if dpi <= 0:
        raise UserError(f"--dpi must be positive, got {dpi}")
    suffix = out.suffix.lower()
    with atomic_path(out, make_parents=True) as tmp, open(tmp, "wb") as fh:
        fig.savefig(fh, format=suffix[1:], dpi=dpi)
    return out


def plot_tree(tree, out: str | os.PathLike, traj=None, thumbnails: int = 6, lines: bool = True,
              dpi: int = 150) -> Path:
    """Draw `tree` (with `traj` for images and true 2D paths) and save it to `out`."""
    if thumbnails < 0:
        raise UserError(f"--thumbnails must be 0 or more, got {thumbnails}")
    if dpi <= 0:
        raise UserError(f"--dpi must be positive, got {dpi}")
    check_figure_path(out)
    return save_figure(make_figure(tree, traj, thumbnails=thumbnails, lines=lines), out, dpi=dpi)


class _CallableModule(types.ModuleType):
    """`tdl.plot(tree, traj, out=None)`, the public API (tdl/api.py), is this module called: a
    package attribute named like a submodule is replaced by the module on import."""

    def __call__(self, *args, **kwargs):
        from tdl.api import plot as api_plot

        return api_plot(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
