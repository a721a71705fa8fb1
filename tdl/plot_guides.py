"""Step guides of the TDL figure: where each step sits (rings around the centre for the radial layout,
bands for the rectilinear one), which steps are labelled, and where their t labels go: along the
widest empty wedge, just outside their ring's points, slid until they cover no point, star or other
label. `step_guides`, `label_steps` and `label_angle` are pure numpy, shared with the explorer window
and the web page; matplotlib is imported only when the guides are drawn."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


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


def time_texts(times, steps: list[int]) -> dict[int, str]:
    """{step: "t=0.50"} for the labelled steps, with more decimals where two would read the same
    (a diffusers trajectory's last two rows, t = 0.002 and t = 0, were both labelled "t=0.00")."""
    for digits in (2, 3, 4):
        texts = {s: f"t={float(times[s]):.{digits}f}" for s in steps}
        if len(set(texts.values())) == len(texts):
            break
    return texts


def label_angle(Y: np.ndarray, center=(0.0, 0.0)) -> float:
    """The direction (radians) of the widest empty wedge around `center` in the display points
    `Y (S, I, 2)`: ring labels put along it never sit on the data."""
    from tdl.tree import widest_gap
    d = np.asarray(Y, dtype=np.float64).reshape(-1, 2) - np.asarray(center)
    r = np.hypot(d[:, 0], d[:, 1])
    keep = r > 1e-9 * (r.max() or 1)
    if keep.sum() < 2:
        return math.pi / 2
    start, gap = widest_gap(np.arctan2(d[keep, 1], d[keep, 0]))
    return start + gap / 2


def draw_guides(ax, Y, layout, times, config) -> list:
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
        rot = (math.degrees(phi) - 90 + 90) % 180 - 90  # across the ray (along the ring), upright
        rad = np.hypot(*(Y - g.center).transpose(2, 0, 1))  # (S, I)
        named = time_texts(times, label_steps(S)) if times is not None else {}
        for s in label_steps(S):
            text = named.get(s, f"step {s}")
            r = g.values[s]
            ax.add_patch(Circle(tuple(g.center), r, fill=False, lw=0.5, ls="--", color="0.7", zorder=0))
            at = g.center + u * (r if s > 0 else inner)  # step 0 is a disk at the centre: label its edge
            texts.append(ax.text(at[0], at[1], text, ha="center", va="center", rotation=rot, rotation_mode="anchor",
                                 bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85), **kw))
            # clear_labels puts it just outside its ring's points and slides it along the ring
            half = float(np.percentile(np.abs(rad[s] - r), 98)) if s > 0 else float(rad[0].max())
            texts[-1].tdl_ring = (g.center, r if s > 0 else 0.0, phi, half)
    else:
        top = float(Y[..., 1].max() + 0.03 * (np.ptp(Y[..., 1]) or 1.0))
        named = time_texts(times, label_steps(S)) if times is not None else {}
        for s in label_steps(S):
            text = named.get(s, f"step {s}")
            ax.axvline(g.values[s], lw=0.5, ls="--", color="0.8", zorder=0)
            texts.append(ax.text(g.values[s], top, text, ha="center", va="bottom", **kw))
    return texts


def clear_labels(ax, texts: list, points: np.ndarray, renderer, reach: float = 80.0, avoid: list = ()) -> list:
    """Put each radial step label just outside its ring's points, along the ring, and slide it along the
    ring (radial) or up (rectilinear) by up to `reach` px until it covers none of `points (N, 2)` (data
    coordinates), no `avoid` box (pixels: the commitment stars) and no other label; drop it where no
    such place is free. Returns the labels kept."""
    from matplotlib.transforms import Bbox
    px = ax.transData.transform(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    inv = ax.transData.inverted()
    scale = float(np.hypot(*(ax.transData.transform([(1.0, 0.0)]) - ax.transData.transform([(0.0, 0.0)]))[0]))
    kept = []
    for t in texts:
        ring = getattr(t, "tdl_ring", None)
        base = np.asarray(t.get_position(), dtype=np.float64)
        if ring is not None:  # just outside the ring's points: half a text line plus 2 px further out
            centre, r, phi, half = ring
            out = r + half + (t.get_fontsize() / 72 * ax.figure.dpi * 0.65 + 2.0) / scale
        shifts = [0.0] + [v for k in np.arange(2.0, reach, 2.0) for v in (k, -k)]
        # the noise disk's label may also step outwards (past a commitment star on the disk)
        outs = [0.0, 4.0, 8.0, 12.0, 16.0] if ring is not None and ring[1] == 0 else [0.0]
        for more, shift in ((m, v) for m in outs for v in shifts):
            if ring is not None:
                rr = out + more / scale
                a = phi + shift / max(rr * scale, 1e-9)  # `shift` px along the ring
                t.set_position(tuple(np.asarray(centre) + rr * np.array([math.cos(a), math.sin(a)])))
                t.set_rotation((math.degrees(a) - 90 + 90) % 180 - 90)
            else:
                t.set_position(tuple(inv.transform(ax.transData.transform(base[None]) + [[0.0, abs(shift)]])[0]))
            b = t.get_window_extent(renderer).padded(1.5)
            if not ((px[:, 0] > b.x0) & (px[:, 0] < b.x1) & (px[:, 1] > b.y0) & (px[:, 1] < b.y1)).any() and \
                    not any(b.padded(3.0).overlaps(o.get_window_extent(renderer)) for o in kept) and \
                    not any(b.overlaps(Bbox.from_extents(*o)) for o in avoid):
                kept.append(t)
                break
        else:
            t.remove()
    return kept
