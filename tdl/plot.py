"""The static TDL figure (PNG, SVG or PDF) through matplotlib's object API (no pyplot, no display).

Points are coloured by prompt, faint lines join each instance across steps, rings (radial) or bands
(rectilinear) are labelled with their step, and a few points carry a thumbnail of their image. For a
2D sandbox trajectory the true 2D paths are drawn beside the embedding, so a learner can compare the
picture with paths whose truth they can see. `step_guides` and `prompt_colors` are pure numpy and are
shared with the explorer window; matplotlib is imported only when a figure is made.
"""
from __future__ import annotations

import math
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


def thumbnail_steps(S: int, per_branch: int) -> list[int]:
    """`per_branch` steps, evenly spaced from a quarter of the way to the final step (which is always
    included): where a branch's images change from noise-like to finished."""
    if per_branch <= 1 or S <= 1:
        return [S - 1]
    return sorted({int(round(v)) for v in np.linspace(S // 4, S - 1, per_branch)})


def choose_thumbnails(prompt_index: np.ndarray, S: int, n: int, steps: list[int] | None = None
                      ) -> list[tuple[int, int]]:
    """n (step, instance) pairs along branches: one instance per prompt, shown at several steps
    (`steps`, default `thumbnail_steps`: as many as n allows per prompt, always the final step), so the
    figure shows how each branch's image evolves; with fewer than one per prompt, the final step only."""
    prompt_index = np.asarray(prompt_index)
    per_prompt = [np.flatnonzero(prompt_index == p) for p in np.unique(prompt_index)]
    if n <= 0 or not per_prompt:
        return []
    if steps is None:
        steps = thumbnail_steps(S, max(1, n // len(per_prompt)))
    steps = sorted({int(s) for s in steps if 0 <= int(s) < S}, reverse=True)  # final step first
    out: list[tuple[int, int]] = []
    rank = 0
    while len(out) < n and any(rank < len(ix) for ix in per_prompt):
        for s in steps:
            for ix in per_prompt:
                if rank < len(ix) and len(out) < n:
                    out.append((s, int(ix[rank])))
        rank += 1
    return out


def summary_line(metrics: dict | None, runtime: float | None = None) -> str:
    """Key metrics in one line for the title (per-step arrays are averaged)."""
    if not metrics:
        return ""
    names = [("trustworthiness", "trust"), ("continuity", "cont"), ("step_separation", "step sep"),
             ("instance_alignment_norm", "align (0 = aligned, 1 = random)")]
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


def point_colors(prompt_index: np.ndarray, n_prompts: int, color_by=None):
    """Per-instance RGB `(I, 3)` in [0, 1] and a legend: `("prompt", None)` for prompt colours, or
    `("values", (cmap, vmin, vmax))` for a numeric per-instance attribute `color_by (I,)`."""
    if color_by is None:
        table = np.array([_rgb(c) for c in prompt_colors(n_prompts)])
        return table[np.asarray(prompt_index)], ("prompt", None)
    from matplotlib import colormaps
    v = np.asarray(color_by, dtype=np.float64)
    if v.shape != np.asarray(prompt_index).shape:
        raise UserError(f"colour values must be one per instance ({len(prompt_index)}), got {v.shape}")
    lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
    cmap = colormaps["viridis"]
    return cmap((v - lo) / (hi - lo or 1.0))[:, :3], ("values", (cmap, lo, hi))


def _draw_paths(ax, Y, colors: np.ndarray, lines: bool) -> None:
    """Points `Y (S, I, 2)` in per-instance `colors (I, 3)`, and a faint line per instance."""
    from matplotlib.collections import LineCollection
    S, I = Y.shape[:2]
    if lines and S > 1:
        segs = np.transpose(Y, (1, 0, 2))  # (I, S, 2): one polyline per instance
        alpha = float(np.clip(8.0 / np.sqrt(I), 0.06, 0.35))
        ax.add_collection(LineCollection(segs, colors=colors, linewidths=0.6, alpha=alpha, zorder=1))
    size = float(np.clip(3000.0 / (S * I), 1.5, 24.0))
    ax.scatter(Y[..., 0].reshape(-1), Y[..., 1].reshape(-1), s=size, c=np.tile(colors, (S, 1)), linewidths=0,
               zorder=2)


def label_angle(Y: np.ndarray, center=(0.0, 0.0)) -> float:
    """The direction (radians) of the widest empty wedge around `center` in the display points
    `Y (S, I, 2)`: ring labels put along it never sit on the data."""
    d = np.asarray(Y, dtype=np.float64).reshape(-1, 2) - np.asarray(center)
    r = np.hypot(d[:, 0], d[:, 1])
    ang = np.sort(np.arctan2(d[r > 1e-9 * (r.max() or 1), 1], d[r > 1e-9 * (r.max() or 1), 0]))
    if ang.size < 2:
        return math.pi / 2
    gaps = np.diff(np.concatenate((ang, ang[:1] + 2 * math.pi)))
    k = int(np.argmax(gaps))
    return float(ang[k] + gaps[k] / 2)


def _draw_guides(ax, Y, layout, times, config) -> list:
    """Rings/bands and their t labels; labels go along the widest empty wedge (radial) or above the
    data (rectilinear), never on the points. Returns the label artists."""
    from matplotlib.patches import Circle
    g = step_guides(Y, layout, config)
    S = Y.shape[0]
    texts = []
    kw = dict(fontsize=6, color="0.35", zorder=3)
    if g.kind == "ring":
        phi = label_angle(Y, g.center)
        u = np.array([math.cos(phi), math.sin(phi)])
        inner = (g.values[0] + g.values[1]) / 2 if S > 1 else g.values[0]
        rot = (math.degrees(phi) - 90 + 90) % 180 - 90  # across the ray, upright: labels stack along it
        for s in label_steps(S):
            text = f"t={times[s]:.2f}" if times is not None else f"step {s}"
            r = g.values[s]
            ax.add_patch(Circle(tuple(g.center), r, fill=False, lw=0.5, ls="--", color="0.7", zorder=0))
            at = g.center + u * (r if s > 0 else inner)  # step 0 is a disk at the centre: label its edge
            texts.append(ax.text(at[0], at[1], text, ha="center", va="center", rotation=rot, rotation_mode="anchor",
                                 bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85), **kw))
    else:
        top = float(Y[..., 1].max() + 0.03 * (np.ptp(Y[..., 1]) or 1.0))
        for s in label_steps(S):
            text = f"t={times[s]:.2f}" if times is not None else f"step {s}"
            ax.axvline(g.values[s], lw=0.5, ls="--", color="0.8", zorder=0)
            texts.append(ax.text(g.values[s], top, text, ha="center", va="bottom", **kw))
    return texts


def _data_limits(ax, Y, texts, pad: float = 0.03) -> None:
    """Axes limits around the data and the labels only (rings beyond them are clipped), so the tree
    uses the whole panel."""
    pts = Y.reshape(-1, 2)
    lo, hi = pts.min(0), pts.max(0)
    for t in texts:
        x, y = t.get_position()
        lo, hi = np.minimum(lo, (x, y)), np.maximum(hi, (x, y))
    span = np.maximum(hi - lo, 1e-9)
    ax.set_xlim(lo[0] - pad * span[0], hi[0] + pad * span[0])
    ax.set_ylim(lo[1] - pad * span[1], hi[1] + (pad + (0.06 if texts and Y.shape[0] else 0)) * span[1])


def thumbnail_slots(ax_box, n: int, size: float, gap: float, fig_w: float, fig_h: float) -> np.ndarray:
    """Centres `(m, 2)` (figure fraction) of non-overlapping square slots of `size` inches around the
    axes box `ax_box = (x0, y0, x1, y1)` (figure fraction): rows above and below, columns left and
    right, each slot `size + gap` inches from the next; at least `n` slots (rows repeat outwards)."""
    x0, y0, x1, y1 = ax_box
    step_x, step_y = (size + gap) / fig_w, (size + gap) / fig_h
    off_x, off_y = (size / 2 + gap) / fig_w, (size / 2 + gap) / fig_h
    slots = []
    nx = max(1, int((x1 - x0) // step_x))
    ny = max(1, int((y1 - y0) // step_y))
    xs = x0 + (x1 - x0 - (nx - 1) * step_x) / 2 + step_x * np.arange(nx)
    ys = y0 + (y1 - y0 - (ny - 1) * step_y) / 2 + step_y * np.arange(ny)
    ring = 0
    while len(slots) < n or ring == 0:
        dx, dy = off_x + ring * step_x, off_y + ring * step_y
        slots += [(x, y1 + dy) for x in xs] + [(x, y0 - dy) for x in xs]
        slots += [(x0 - dx, y) for y in ys] + [(x1 + dx, y) for y in ys]
        ring += 1
        if ring > 4:
            break
    return np.asarray(slots)


def _draw_thumbnails(fig, ax, Y, images, picks, colors, size: float = 0.62, gap: float = 0.06) -> list:
    """Each picked (step, instance) gets its image in a square slot of `size` inches around the plot
    (`thumbnail_slots`: they cannot overlap each other or the data), joined to its point by a thin line;
    slots are given to points by the shortest total distance. Returns the AnnotationBbox artists."""
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage
    from scipy.optimize import linear_sum_assignment
    if not picks:
        return []
    fig_w, fig_h = fig.get_size_inches()
    box = ax.get_position()
    slots = thumbnail_slots((box.x0, box.y0, box.x1, box.y1), len(picks), size, gap, fig_w, fig_h)
    inside = (slots[:, 0] - size / 2 / fig_w >= 0) & (slots[:, 0] + size / 2 / fig_w <= 1) & \
             (slots[:, 1] - size / 2 / fig_h >= 0) & (slots[:, 1] + size / 2 / fig_h <= 1)
    slots = slots[inside]
    pts = np.array([Y[s, i] for s, i in picks])
    to_fig = (ax.transData + fig.transFigure.inverted()).transform(pts)  # (n, 2) figure fraction
    cost = np.hypot((to_fig[:, None, 0] - slots[None, :, 0]) * fig_w, (to_fig[:, None, 1] - slots[None, :, 1]) * fig_h)
    rows, cols = linear_sum_assignment(cost)
    out = []
    for r, c in zip(rows, cols):
        s, i = picks[r]
        img = images[s, i]
        cmap = None
        if img.shape[-1] == 1:
            img, cmap = img[..., 0], "gray"
        oi = OffsetImage(img, zoom=72.0 * (size - 0.06) / max(img.shape[:2]), cmap=cmap, interpolation="nearest")
        ab = AnnotationBbox(oi, tuple(pts[r]), xybox=tuple(slots[c]), xycoords="data", boxcoords="figure fraction",
                            pad=0.1, frameon=True, zorder=4, annotation_clip=False,
                            bboxprops=dict(ec=colors[i], lw=1.2),
                            arrowprops=dict(arrowstyle="-", lw=0.4, color="0.45", shrinkA=0, shrinkB=1))
        ab.set_in_layout(False)
        ab.tdl_pick = (s, i)
        ax.add_artist(ab)
        out.append(ab)
    return out


def _branch_centres(Y: np.ndarray, members: np.ndarray, layout: str, center) -> np.ndarray:
    """Display position `(S, 2)` of a branch (instances `members`) at each step: the circular mean angle
    at the step's mean radius (radial) or the mean point (rectilinear)."""
    P = Y[:, members]
    if layout != "radial":
        return P.mean(1)
    d = P - np.asarray(center)
    ang = np.angle(np.exp(1j * np.arctan2(d[..., 1], d[..., 0])).mean(1))
    rad = np.hypot(d[..., 0], d[..., 1]).mean(1)
    return np.asarray(center) + np.stack((rad * np.cos(ang), rad * np.sin(ang)), -1)


def _draw_commitment(ax, Y, tree, prompts, pidx, center) -> list:
    """A star on each branch at its commitment step (tree.metrics["commitment_step"], by prompt)."""
    steps = (getattr(tree, "metrics", None) or {}).get("commitment_step") or {}
    marks = []
    for p, name in enumerate(prompts):
        s = steps.get(name)
        members = np.flatnonzero(pidx == p)
        if s is None or not members.size or not 0 <= int(s) < Y.shape[0]:
            continue
        c = _branch_centres(Y, members, tree.layout, center)[int(s)]
        marks.append(ax.scatter([c[0]], [c[1]], marker="*", s=140, c=[_rgb(prompt_colors(len(prompts))[p])],
                                edgecolors="k", linewidths=0.8, zorder=5))
    return marks


def make_figure(tree, traj=None, thumbnails: int = 6, lines: bool = True, thumbnail_steps: list[int] | None = None,
                color_by=None, color_label: str = ""):
    """A matplotlib Figure of `tree` (a TreeData); `traj` (its TrajectoryData) gives the images
    for thumbnails and, for the 2D sandbox, the true paths drawn beside the embedding.

    `thumbnail_steps`: the steps thumbnails show (default: spread from a quarter of the way to the end);
    `color_by (I,)`: colour the points by any per-instance number (`color_label` names it) instead of
    by prompt. Each branch's commitment step (in the tree's metrics) is marked with a star."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    Y = np.asarray(tree.Y, dtype=np.float64)
    prompts, pidx = list(tree.prompts), np.asarray(tree.prompt_index)
    times = np.asarray(tree.times) if tree.times is not None else None
    pos2d = getattr(traj, "positions2d", None) if traj is not None else None
    images = getattr(traj, "images", None) if traj is not None else None
    if images is not None and images.shape[:2] != Y.shape[:2]:
        images = None  # a trajectory that does not match the tree: draw no thumbnails
    side = pos2d is not None and pos2d.shape[:2] == Y.shape[:2]
    colors, legend = point_colors(pidx, len(prompts), color_by)

    radial = tree.layout == "radial"
    thumbs = images is not None and thumbnails > 0
    size = (10.0, 8.6) if radial else (12.5, 6.6)
    fig = Figure(figsize=(size[0] + 5.0, size[1]) if side else size)
    # manual layout: a margin around the tree for thumbnails, the legend on the right
    m = 0.8 if thumbs else 0.15
    W, H = fig.get_size_inches()
    legend_w, title_h = 2.3, 0.75
    left0 = (5.0 + 0.3) / W if side else 0.0
    left = fig.add_axes((0.3 / W, 0.6 / H, 4.6 / W, 1 - 1.5 / H)) if side else None
    ax = fig.add_axes((left0 + m / W, m / H, 1 - left0 - (2 * m + legend_w) / W, 1 - (2 * m + title_h) / H))
    axes = [ax]
    if side:
        axes = [left, ax]
        _draw_paths(left, np.asarray(pos2d, dtype=np.float64), colors, lines)
        ends = np.asarray(pos2d[-1], dtype=np.float64)
        left.scatter(ends[:, 0], ends[:, 1], s=10, facecolors="none", edgecolors="k", lw=0.4, zorder=3)
        left.set_title("true 2D paths (circled: final samples)", fontsize=10)
        left.set_aspect("equal", adjustable="datalim")
        ax.set_title(f"evolutionary embedding ({tree.layout})", fontsize=10)
    texts = _draw_guides(ax, Y, tree.layout, times, getattr(tree, "config", None))
    _draw_paths(ax, Y, colors, lines)
    center = step_guides(Y, tree.layout, getattr(tree, "config", None)).center
    marks = _draw_commitment(ax, Y, tree, prompts, pidx, center)
    _data_limits(ax, Y, texts)
    for a in axes:
        a.set_xticks([])
        a.set_yticks([])
        for spine in a.spines.values():
            spine.set_visible(False)
    if radial:  # rings must look round: the limits grow along one axis to fill the panel
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_autoscale_on(True)  # the same growth; without it matplotlib logs "Ignoring fixed x limits..."
        ax.apply_aspect()
        ax.set_autoscale_on(False)
    if thumbs:
        picks = choose_thumbnails(pidx, Y.shape[0], thumbnails, thumbnail_steps)
        rows = np.flatnonzero(traj.image_rows()) if hasattr(traj, "image_rows") else np.arange(Y.shape[0])
        if len(rows) and len(rows) < Y.shape[0]:  # only some steps decoded: the nearest decoded step
            picks = list(dict.fromkeys((int(rows[np.argmin(np.abs(rows - s))]), i) for s, i in picks))
        _draw_thumbnails(fig, ax, Y, images, picks, colors)
    if legend[0] == "prompt":
        handles = [Line2D([], [], marker="o", ls="", markersize=6, color=_rgb(c), label=name)
                   for c, name in zip(prompt_colors(len(prompts)), prompts)]
        if marks:
            handles.append(Line2D([], [], marker="*", ls="", markersize=10, color="0.6", markeredgecolor="k",
                                  label="commitment step"))
        fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(1.0, 1 - title_h / H), fontsize=8,
                   frameon=False, ncol=1 if len(prompts) <= 24 else 2)
    else:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize
        cmap, lo, hi = legend[1]
        cax = fig.add_axes((1 - (legend_w - 0.4) / W, 0.25, 0.18 / W, 0.5))
        fig.colorbar(ScalarMappable(Normalize(lo, hi), cmap), cax=cax, label=color_label or "value")
    source = getattr(traj, "source", None) or (getattr(tree, "config", None) or {}).get("trajectory_source", "")
    title = "Tree of Diffusion Life" + (f": {source}" if source and source != "unknown" else "") + f" ({tree.layout})"
    line = summary_line(getattr(tree, "metrics", None))
    fig.suptitle(title + (f"\n{line}" if line else ""), fontsize=11, y=1 - 0.12 / H, va="top")
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
              dpi: int = 150, thumbnail_steps: list[int] | None = None, color_by=None, color_label: str = "") -> Path:
    """Draw `tree` (with `traj` for images and true 2D paths) and save it to `out`."""
    if thumbnails < 0:
        raise UserError(f"--thumbnails must be 0 or more, got {thumbnails}")
    if dpi <= 0:
        raise UserError(f"--dpi must be positive, got {dpi}")
    check_figure_path(out)
    fig = make_figure(tree, traj, thumbnails=thumbnails, lines=lines, thumbnail_steps=thumbnail_steps,
                      color_by=color_by, color_label=color_label)
    return save_figure(fig, out, dpi=dpi)


class _CallableModule(types.ModuleType):
    """`tdl.plot(tree, traj, out=None)`, the public API (tdl/api.py), is this module called: a
    package attribute named like a submodule is replaced by the module on import."""

    def __call__(self, *args, **kwargs):
        from tdl.api import plot as api_plot

        return api_plot(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
