"""The static TDL figure (PNG, SVG or PDF) through matplotlib's object API (no pyplot, no display).

Points are coloured by prompt, faint lines join each instance across steps, rings (radial) or bands
(rectilinear) are labelled with their step, and a few points carry a thumbnail of their image. For a
2D sandbox trajectory the true 2D paths are drawn beside the embedding, so a learner can compare the
picture with paths whose truth they can see. This file lays the figure out and saves it; its parts
have a file each: colours and the key (`plot_colors.py`), the rings/bands and their labels
(`plot_guides.py`), which thumbnails and drawing them (`plot_thumbnails.py`) and where they go
(`plot_placement.py`). matplotlib is imported only when a figure is made.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from sandbox.callmodule import make_callable
from sandbox.fileio import atomic_path
from sandbox.errors import UserError
from tdl.plot_colors import draw_legend, point_colors, prompt_colors, rgb01
from tdl.plot_guides import StepGuides, clear_labels, draw_guides, label_angle, label_steps, step_guides
from tdl.plot_placement import (BOX_COST, CROSS_COST, INK_COST, data_ink, free_spots, hits_box, leader_costs,
                                leader_end, place_thumbnails, placement_cost, segment_ink, segments_cross)
from tdl.plot_thumbnails import choose_thumbnails, draw_thumbnails, exposed_instances, thumbnail_steps

# the names that lived in this file before it was split stay importable from it
__all__ = ["BOX_COST", "CROSS_COST", "FORMATS", "INK_COST", "StepGuides", "check_figure_path", "choose_thumbnails",
           "clear_labels", "data_ink", "draw_guides", "draw_thumbnails", "exposed_instances", "free_spots",
           "hits_box", "label_angle", "label_steps", "leader_costs", "leader_end", "make_figure", "place_thumbnails",
           "placement_cost", "plot_tree", "point_colors", "prompt_colors", "save_figure", "segment_ink",
           "segments_cross", "step_guides", "summary_line", "thumbnail_steps"]

FORMATS = (".png", ".svg", ".pdf")


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
def _draw_paths(ax, Y, colors: np.ndarray, lines: bool) -> None:
    """Points `Y (S, I, 2)` in per-instance `colors (I, 3)`, and a faint line per instance."""
    from matplotlib.collections import LineCollection
    S, I = Y.shape[:2]
    if lines and S > 1:
        segs = np.transpose(Y, (1, 0, 2))  # (I, S, 2): one polyline per instance
        # faint enough that thousands of instances read as branches, not as a solid fan
        alpha = float(np.clip(70.0 / I, 0.03, 0.35))
        ax.add_collection(LineCollection(segs, colors=colors, linewidths=0.6 if I <= 500 else 0.4, alpha=alpha,
                                         zorder=1))
    size = float(np.clip(3000.0 / (S * I), 1.5, 24.0))
    ax.scatter(Y[..., 0].reshape(-1), Y[..., 1].reshape(-1), s=size, c=np.tile(colors, (S, 1)), linewidths=0,
               zorder=2)


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
        marks.append(ax.scatter([c[0]], [c[1]], marker="*", s=140, c=[rgb01(prompt_colors(len(prompts))[p])],
                                edgecolors="k", linewidths=0.8, zorder=5))
    return marks


def make_figure(tree, traj=None, thumbnails: int = 6, lines: bool = True, thumbnail_steps: list[int] | None = None,
                color_by="auto", color_label: str = ""):
    """A matplotlib Figure of `tree` (a TreeData); `traj` (its TrajectoryData) gives the images
    for thumbnails and, for the 2D sandbox, the true paths drawn beside the embedding.

    `thumbnail_steps`: the steps thumbnails show (default: spread from a quarter of the way to the end);
    `color_by`: "auto" (prompt colours; with one prompt and `traj`, "final"), "prompt" (or None), "final"
    (the direction each final sample lies in, `plot_colors.final_angle`) or any per-instance number
    `(I,)` (`color_label` names it). Each branch's commitment step (in the tree's metrics) is marked
    with a star. When the data's own neighbourhoods change a lot between steps (`crossing_note`), a
    line under the title says that the crossing paths are the data's."""
    from matplotlib.figure import Figure
    Y = np.asarray(tree.Y, dtype=np.float64)
    prompts, pidx = list(tree.prompts), np.asarray(tree.prompt_index)
    times = np.asarray(tree.times) if tree.times is not None else None
    pos2d = getattr(traj, "positions2d", None) if traj is not None else None
    images = getattr(traj, "images", None) if traj is not None else None
    if images is not None and images.shape[:2] != Y.shape[:2]:
        images = None  # a trajectory that does not match the tree: draw no thumbnails
    side = pos2d is not None and pos2d.shape[:2] == Y.shape[:2]
    colors, legend, color_label = _colors(pidx, prompts, traj, color_by, color_label)
    note = crossing_note(getattr(tree, "metrics", None), traj)

    radial = tree.layout == "radial"
    thumbs = images is not None and thumbnails > 0
    size = (10.0, 8.6) if radial else (12.5, 6.6)
    fig = Figure(figsize=(size[0] + 5.0, size[1]) if side else size)
    # manual layout: a margin around the tree for thumbnails, the legend on the right
    m = 0.8 if thumbs else 0.15
    W, H = fig.get_size_inches()
    legend_w, title_h = 2.3, 0.75 + (0.2 if note else 0.0)
    left0 = (5.0 + 0.3) / W if side else 0.0
    left = fig.add_axes((0.3 / W, 0.6 / H, 4.6 / W, 1 - (0.75 + title_h) / H)) if side else None
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
    texts = draw_guides(ax, Y, tree.layout, times, getattr(tree, "config", None))
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
    draw_legend(fig, legend, prompts, bool(marks), 1 - title_h / H, legend_w, color_label)
    source = getattr(traj, "source", None) or (getattr(tree, "config", None) or {}).get("trajectory_source", "")
    title = "Tree of Diffusion Life" + (f": {source}" if source and source != "unknown" else "") + f" ({tree.layout})"
    line = summary_line(getattr(tree, "metrics", None))
    fig.suptitle(title + (f"\n{line}" if line else ""), fontsize=11, y=1 - 0.12 / H, va="top")
    if note:
        fig.text(0.5, 1 - (0.12 + 0.5) / H, note, ha="center", va="top", fontsize=9, color="0.3")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    r = FigureCanvasAgg(fig).get_renderer()
    rad = math.sqrt(140.0) / 2 / 72 * fig.dpi  # the stars' radius in pixels (marker size 140 pt^2)
    stars = [(*(c - rad), *(c + rad)) for m in marks for c in ax.transData.transform(m.get_offsets())]
    texts = clear_labels(ax, texts, Y, r, avoid=stars)
    if thumbs:
        picks = choose_thumbnails(pidx, Y.shape[0], thumbnails, thumbnail_steps)
        rows = np.flatnonzero(traj.image_rows()) if hasattr(traj, "image_rows") else np.arange(Y.shape[0])
        if len(rows) and len(rows) < Y.shape[0]:  # only some steps decoded: the nearest decoded step
            picks = list(dict.fromkeys((int(rows[np.argmin(np.abs(rows - s))]), i) for s, i in picks))
        blocked = [t.get_window_extent(r).extents for t in texts + list(fig.legends) + [fig._suptitle]]
        blocked += [a.get_window_extent(r).extents for a in fig.axes if a is not ax]  # colour bar, 2D panel
        size = 0.62
        if not radial:  # the final step is one column: as many frames as it has picks fit beside it
            last = sum(s == max(p[0] for p in picks) for s, _ in picks)
            size = float(np.clip(0.95 * (H - title_h - 0.3) / max(last, 1) - 0.08, 0.4, 0.62))
        draw_thumbnails(fig, ax, Y, images, picks, colors, blocked, lines, size=size, prompt_index=pidx,
                        column=not radial)
    return fig


def _colors(pidx: np.ndarray, prompts: list, traj, color_by, color_label: str):
    """(per-instance colours, legend, colour-bar label) for `make_figure`'s `color_by`."""
    if isinstance(color_by, str):
        if color_by not in ("auto", "prompt", "final"):
            raise UserError(f"unknown colouring {color_by!r}; choose auto, prompt or final")
        final = None
        if traj is not None and color_by != "prompt" and (color_by == "final" or len(prompts) == 1):
            from tdl.plot_colors import final_samples
            final = final_samples(traj)
            if len(final) != len(pidx):
                final = None
        if final is None:
            if color_by == "final":
                raise UserError("colouring by the final samples needs the trajectory (give it with --traj)")
            return (*point_colors(pidx, len(prompts)), color_label)
        from tdl.plot_colors import cyclic_map, final_angle
        colors, legend = point_colors(pidx, len(prompts), final_angle(final), cyclic_map(), (-180.0, 180.0))
        return colors, legend, color_label or "direction of the final sample from the centre (°)"
    return (*point_colors(pidx, len(prompts), color_by), color_label)


KEPT_NOTE = 0.8  # below this share of neighbours kept per step the figure says the paths cross in the data


def crossing_note(metrics: dict | None, traj=None) -> str:
    """One line for the figure when the data's own neighbourhoods change a lot between steps (tree metrics
    `neighbours_kept` < KEPT_NOTE; `tdl.pipeline.branch_metrics`): crossing lines there are the data's, not
    the layout's. "" otherwise (the digits keep 0.88-0.99, ODE samplers on the 2D presets 0.96-0.99)."""
    kept = (metrics or {}).get("neighbours_kept")
    if kept is None or kept >= KEPT_NOTE:
        return ""
    sampler = ((getattr(traj, "meta", None) or {}).get("sampler")) if traj is not None else None
    from sandbox.registry import SAMPLERS
    info = SAMPLERS.get(str(sampler)) if sampler else None
    if info is None or not info.stochastic:  # an ODE's paths do not cross: fewer neighbours kept there is a
        # dense cloud's jitter (digits, DDIM, 2000 per prompt: 0.79, the picture 0.52), not the data's tangle
        return ""
    shown = (metrics or {}).get("neighbours_kept_display")
    return (f"Paths cross in the data itself: per step an instance keeps {kept:.0%} of its 10 nearest neighbours"
            + (f" (this picture: {shown:.0%})" if shown is not None else "")
            + f"; {info.display} adds fresh noise at every step")


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
              dpi: int = 150, thumbnail_steps: list[int] | None = None, color_by="auto", color_label: str = "") -> Path:
    """Draw `tree` (with `traj` for images and true 2D paths) and save it to `out`."""
    if thumbnails < 0:
        raise UserError(f"--thumbnails must be 0 or more, got {thumbnails}")
    if dpi <= 0:
        raise UserError(f"--dpi must be positive, got {dpi}")
    check_figure_path(out)
    fig = make_figure(tree, traj, thumbnails=thumbnails, lines=lines, thumbnail_steps=thumbnail_steps,
                      color_by=color_by, color_label=color_label)
    return save_figure(fig, out, dpi=dpi)


# tdl.plot(tree, traj, out=None) is this module called: the public API's plot (sandbox/callmodule.py)
make_callable(__name__, "tdl.api:plot")
