"""The Tree of Diffusion Life as an interactive web view (sandbox/web's `DSW.tree`).

    view = TreeView(tree, traj)     # traj (optional): images for hover thumbnails, or 2D positions
    view                            # in Jupyter: points by prompt, hover thumbnails, click paths,
    view.save("tree.html")          # step scrubber, prompt filter; or one self-contained page

Thumbnails travel as one atlas image (PNG; JPEG for large RGB images) of every step x instance
(row-major, step-major) in a data: URI; a 2D source instead sends its true positions (quantised)
and the hover draws them.
"""
from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import numpy as np

from sandbox.errors import UserError

MAX_ATLAS_SIDE = 4096  # pixels; browsers handle it everywhere and it bounds the page size
MAX_TILE = 48  # thumbnail tiles are shrunk to this side (the hover shows them at 96 px)


def thumbnail_atlas(images: np.ndarray) -> dict:
    """(S, I, H, W, C) uint8 -> {"src": PNG / JPEG data URI, "w", "h", "cols"}: tile k = s * I + i."""
    from PIL import Image

    S, I, H, W = images.shape[:4]
    n = S * I
    side = max(H, W)
    tile = min(MAX_TILE, side)
    cols = int(np.ceil(np.sqrt(n)))
    while cols * tile > MAX_ATLAS_SIDE and tile > 8:  # many tiles: smaller ones
        tile -= 4
    tw, th = max(1, round(W * tile / side)), max(1, round(H * tile / side))
    cols = max(1, min(cols, MAX_ATLAS_SIDE // tw))
    rows = int(np.ceil(n / cols))
    flat = images.reshape(n, H, W, -1)
    mode = "L" if flat.shape[-1] == 1 else "RGB"
    atlas = Image.new(mode, (cols * tw, rows * th))
    for k in range(n):
        im = flat[k, :, :, 0] if mode == "L" else flat[k, :, :, :3]
        pic = Image.fromarray(np.ascontiguousarray(im))
        if (tw, th) != (W, H):
            pic = pic.resize((tw, th), Image.Resampling.BILINEAR)
        atlas.paste(pic, ((k % cols) * tw, (k // cols) * th))
    buf = io.BytesIO()
    # photographs (RGB, e.g. Stable Diffusion) as JPEG: several times smaller than PNG for them
    fmt = "JPEG" if mode == "RGB" and tile >= 32 else "PNG"
    atlas.save(buf, format=fmt, **({"quality": 85} if fmt == "JPEG" else {"optimize": True}))
    return {"src": f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode("ascii"),
            "w": tw, "h": th, "cols": cols}


def tree_payload(tree, traj=None, theme: str = "dark") -> dict:
    """The JSON `DSW.tree` reads, from a TreeData (and its TrajectoryData, if it matches)."""
    from sandbox.web import quantize
    from sandbox.web.player import theme_colors, view_box
    from tdl.plot_colors import prompt_colors
    from tdl.plot_guides import step_guides

    Y = np.asarray(tree.Y, dtype=np.float32)
    if traj is not None and tuple(traj.features.shape[:2]) != Y.shape[:2]:
        raise UserError(f"the trajectory has {traj.num_steps} x {traj.num_instances} points but the tree "
                        f"{Y.shape[0]} x {Y.shape[1]}: not the tree's trajectory")
    guides = step_guides(Y, tree.layout, tree.config)
    images = getattr(traj, "images", None) if traj is not None else None
    pos2d = getattr(traj, "positions2d", None) if traj is not None else None
    source = (traj.source if traj is not None else "") or tree.config.get("trajectory_source", "")
    return {
        "title": "Tree of Diffusion Life" + (f": {source}" if source and source != "unknown" else "")
                 + f" ({tree.layout})",
        "Y": quantize(Y),
        "times": [float(t) for t in tree.times],
        "prompts": list(tree.prompts),
        "prompt_index": [int(p) for p in tree.prompt_index],
        "colors": [list(c) for c in prompt_colors(len(tree.prompts))],
        "paint": paint_by_final(tree, traj),
        "layout": tree.layout,
        "guides": {"kind": guides.kind, "values": [float(v) for v in guides.values],
                   "center": [float(c) for c in guides.center]},
        "step_labels": step_labels(Y, guides, tree.times),
        "thumbs": None if images is None else thumbnail_atlas(np.asarray(images)),
        "thumb_rows": None if images is None or traj.image_rows().all() else traj.image_rows().tolist(),
        "pos2d": None if images is not None or pos2d is None else quantize(np.asarray(pos2d)),
        "pos_view": None if images is not None or pos2d is None else view_box(np.asarray(pos2d), None, 1.0),
        "aspect": 1.15 if tree.layout == "radial" else 1.8,
        "theme": theme_colors(theme),
    }


HUE_BINS = 24  # the page paints a single-prompt tree in this many hues (one fill style each: fast)


def paint_by_final(tree, traj) -> dict | None:
    """A single-prompt tree with its trajectory: `{"group": (I,) hue bin, "colors": (HUE_BINS, 3) 0-255}`,
    each instance's colour the direction its final sample lies in (`tdl.plot_colors.final_angle`, the
    static figure's colours in 15-degree steps), so crossings show; None otherwise (prompt colours)."""
    if traj is None or len(tree.prompts) != 1:
        return None
    from tdl.plot_colors import final_angle, final_samples, hue_rgb
    group = np.floor((final_angle(final_samples(traj)) + 180.0) / 360.0 * HUE_BINS).astype(int) % HUE_BINS
    colors = [[int(255 * c) for c in hue_rgb((b + 0.5) / HUE_BINS)] for b in range(HUE_BINS)]
    return {"group": group.tolist(), "colors": colors}


def step_labels(Y: np.ndarray, guides, times) -> dict:
    """The rings'/bands' t labels the page draws, as the static figure (`tdl.plot_guides.draw_guides`):
    `steps` (`tdl.plot_guides.label_steps`), their `texts`; radial: `angle`, the direction of the widest empty
    wedge (`tdl.plot_guides.label_angle`), and `half`, how far each labelled ring's points reach beyond its
    radius (98th percentile; step 0: the disk's radius), so a label starts just outside its ring.
    The page slides each label along its ring (radial) or up (rectilinear) until it covers no point
    and no other label, and leaves it out where no such place is near."""
    from tdl.plot_guides import label_angle, label_steps, time_texts

    S = Y.shape[0]
    steps = label_steps(S)
    named = time_texts(times, steps)
    out = {"steps": steps, "texts": [named[s] for s in steps]}
    if guides.kind == "ring":
        rad = np.hypot(*(Y.astype(np.float64) - guides.center).transpose(2, 0, 1))  # (S, I)
        out["angle"] = float(label_angle(Y, guides.center))
        out["half"] = [float(np.percentile(np.abs(rad[s] - guides.values[s]), 98)) if s > 0 else float(rad[0].max())
                       for s in steps]
    return out


class TreeView:
    """A tree shown as an interactive view in notebooks and saved as .html (or a figure)."""

    def __init__(self, tree, traj=None, theme: str = "dark"):
        self.tree, self.traj, self.theme = tree, traj, theme

    def __repr__(self) -> str:
        return f"TreeView({self.tree!r}, {'without' if self.traj is None else 'with'} its trajectory)"

    def player(self):
        from sandbox.web import Player

        payload = tree_payload(self.tree, self.traj, self.theme)
        return Player("tree", payload, payload["title"])

    def _repr_html_(self) -> str:
        return self.player().fragment()

    def figure(self, thumbnails: int = 6, lines: bool = True):
        """The matplotlib Figure `tdl plot` draws."""
        from tdl.plot import make_figure

        return make_figure(self.tree, self.traj, thumbnails=thumbnails, lines=lines)

    def save(self, out: str | os.PathLike, thumbnails: int = 6, lines: bool = True, dpi: int = 150) -> Path:
        """.html: the interactive page (one file, offline); .png / .svg / .pdf: the figure."""
        out = Path(out)
        if out.suffix.lower() in (".html", ".htm"):
            return self.player().save(out)
        from tdl.plot import plot_tree

        return plot_tree(self.tree, out, self.traj, thumbnails=thumbnails, lines=lines, dpi=dpi)
