"""The figure's thumbnails: which (step, instance) pairs show their image (a few steps along one
instance of each prompt, the instance at the edge of its branch), and drawing them in framed squares
placed by `tdl.plot_placement`, each joined to its point by a thin leader line."""
from __future__ import annotations

import numpy as np

from tdl.plot_placement import data_ink, free_spots, leader_costs, leader_end, place_thumbnails


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


def exposed_instances(picks: list[tuple[int, int]], prompt_index: np.ndarray, px: np.ndarray, spots: np.ndarray,
                      ink: np.ndarray, half: float, blocked: list = (), tries: int = 24) -> list[tuple[int, int]]:
    """`picks` with each prompt's instance replaced by the one (of `tries` spread over the prompt) whose
    points at the picked steps reach free `spots` most cheaply (`leader_costs`: the edge of its branch,
    not its middle). Only where a prompt has one instance in `picks`; `px (S, I, 2)`: pixels."""
    prompt_index = np.asarray(prompt_index)
    by_prompt: dict[int, list] = {}
    for s, i in picks:
        by_prompt.setdefault(int(prompt_index[i]), []).append((s, i))
    swap = {}
    for p, mine in by_prompt.items():
        if len({i for _, i in mine}) != 1 or len(spots) == 0:
            continue
        members = np.flatnonzero(prompt_index == p)
        members = members[np.unique(np.linspace(0, len(members) - 1, min(tries, len(members))).astype(int))]
        steps = [s for s, _ in mine]
        anchors = px[steps][:, members].reshape(-1, 2)  # (steps x members, 2)
        cost = leader_costs(anchors, spots, ink, half, blocked, reach=160, groups=np.full(len(anchors), p))[2].min(1)
        swap[mine[0][1]] = int(members[int(np.argmin(cost.reshape(len(steps), -1).sum(0)))])
    return [(s, swap.get(i, i)) for s, i in picks]


def draw_thumbnails(fig, ax, Y, images, picks, colors, blocked=(), lines: bool = True, size: float = 0.62,
                    prompt_index=None, column: bool = False) -> list:
    """Each picked (step, instance) gets its image in a framed square of `size` inches, placed by
    `place_thumbnails` in empty space (between branches or round the tree, never on the data, the
    labels or each other) and joined to its point by a thin line that crosses as little of the tree as
    it can and no `blocked` box (pixels: labels, legend, title) or other thumbnail. With `prompt_index`,
    each prompt shows its most exposed instance (`exposed_instances`). Returns the AnnotationBbox artists."""
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage
    if not picks:
        return []
    half = (size / 2 + 0.02) * fig.dpi  # the frame's pad included
    ink = data_ink(ax, Y, lines, groups=prompt_index)
    pitch = 0.08 * fig.dpi
    if prompt_index is not None:
        picks = exposed_instances(picks, prompt_index, ax.transData.transform(Y.reshape(-1, 2)).reshape(Y.shape),
                                  free_spots(ink, half, list(blocked), pitch), ink, half, list(blocked))
    pts = np.array([Y[s, i] for s, i in picks])
    anchors = ax.transData.transform(pts)  # (n, 2) pixels
    # with `column` (the rectilinear tree) the final step's frames go first, in the column beside it,
    # and the other steps' round them
    steps = np.array([s for s, _ in picks])
    groups = None if prompt_index is None else np.asarray(prompt_index)[[i for _, i in picks]]
    column = column and steps.max() == Y.shape[0] - 1
    centres = place_thumbnails(anchors, ink, half, list(blocked), pitch=pitch, groups=groups,
                               stages=(steps < steps.max()) if column else None, first_column=column)
    wh = np.array([fig.bbox.width, fig.bbox.height])
    out = []
    for r, c in enumerate(centres):
        s, i = picks[r]
        img = images[s, i]
        cmap = None
        if img.shape[-1] == 1:
            img, cmap = img[..., 0], "gray"
        oi = OffsetImage(img, zoom=72.0 * (size - 0.06) / max(img.shape[:2]), cmap=cmap, interpolation="nearest")
        ab = AnnotationBbox(oi, tuple(pts[r]), xybox=tuple(c / wh), xycoords="data", boxcoords="figure fraction",
                            pad=0.1, frameon=True, zorder=4, annotation_clip=False,
                            bboxprops=dict(ec=colors[i], lw=1.2))
        ab.set_in_layout(False)
        ab.tdl_pick = (s, i)
        ab.tdl_leader = (anchors[r], leader_end(anchors[r], c, half))  # pixels, for tests
        # the line runs under the points (and over the faint instance lines): where it must cross the
        # tree, the tree stays on top
        seg = ax.transData.inverted().transform(np.stack(ab.tdl_leader))
        ax.plot(seg[:, 0], seg[:, 1], lw=0.6, color="0.3", zorder=1.5, clip_on=False, solid_capstyle="butt")
        ax.add_artist(ab)
        out.append(ab)
    return out
