"""What the explorer window shows, as a plain object: no pygame, no display.

The window (`tdl/explorer.py`) only turns pygame events into calls on `ExplorerState` and draws what
it says, so every interaction (hover, click an instance, filter prompts, scrub steps, zoom and pan)
is tested here without a screen. Screen coordinates are pixels, y down; world coordinates are the
tree's display coordinates `Y (S, I, 2)`, y up.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tdl.plot_colors import prompt_colors
from tdl.plot_guides import step_guides

PANEL_W = 240  # right-hand panel: legend and the hovered image
SLIDER_H = 44  # bottom strip: the step slider
LEGEND_ROW = 22
PICK_RADIUS = 24.0  # pixels: hover takes the nearest shown point within this distance
LABEL_H = 16  # pixels kept free above the outermost ring / band for its t label
MARGIN = 10  # pixels between the tree and the plot's edges
CLICK_SLOP = 4.0  # a press that moves less than this is a click, not a pan


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    def contains(self, pos) -> bool:
        px, py = pos
        return self.x <= px < self.x + self.w and self.y <= py < self.y + self.h


class ExplorerState:
    """Everything the explorer window shows and every interaction on it.

    Y (S, I, 2) display coordinates, times (S,), prompts (P,), prompt_index (I,),
    images (S, I, H, W, C) uint8 or None (the predicted clean image x0 at each step), images_xt the
    same for the noisy state x_t, or None. Step 0 is the noisiest.
    """

    def __init__(self, Y, times, prompts, prompt_index, images=None, layout: str = "radial",
                 title: str = "", size: tuple[int, int] = (1100, 760), config: dict | None = None,
                 images_xt=None, positions2d=None):
        self.Y = np.asarray(Y, dtype=np.float64)
        if self.Y.ndim != 3 or self.Y.shape[2] != 2:
            raise ValueError(f"Y must be (S, I, 2), got {self.Y.shape}")
        self.S, self.I = self.Y.shape[:2]
        self.times = np.asarray(times, dtype=np.float64)
        self.prompts = [str(p) for p in prompts]
        self.prompt_index = np.asarray(prompt_index, dtype=np.int64)
        self.images = images
        self.images_xt = images_xt
        # (S, I, 2) the true 2D paths (sandbox2d source): hover shows where the point is in the plane
        self.positions2d = None if positions2d is None else np.asarray(positions2d, dtype=np.float64)
        self.show_xt = False  # hover shows x_t instead of the x0 prediction
        self.layout = layout
        self.title = title
        self.colors = prompt_colors(len(self.prompts))
        self.guides = step_guides(self.Y, layout, config)
        self.visible = np.ones(len(self.prompts), dtype=bool)
        self.step_limit = self.S - 1  # steps 0..step_limit are shown
        self.hovered: tuple[int, int] | None = None  # (step, instance)
        self.selected: int | None = None  # an instance
        self.show_help = False
        self._drag: tuple[str, tuple[float, float], tuple[float, float]] | None = None
        lo, hi = self.Y.reshape(-1, 2).min(0), self.Y.reshape(-1, 2).max(0)
        self.label_pos = self._label_positions()  # (S, 2) world: where each ring's t label goes
        if self.guides.kind == "ring":  # the tree and its labels fill the window; rings beyond are clipped
            lo, hi = np.minimum(lo, self.label_pos.min(0)), np.maximum(hi, self.label_pos.max(0))
        self._center = (lo + hi) / 2
        self._extent = np.maximum(hi - lo, 1e-9)  # (2,)
        self.resize(size)

    def _label_positions(self) -> np.ndarray:
        """Ring labels along the widest empty wedge of the tree (`tdl.plot_guides.label_angle`): never on the
        points, and inside the fitted view. Step 0 (a disk at the centre) is labelled at its edge."""
        from tdl.plot_guides import label_angle
        g = self.guides
        if g.kind != "ring":
            return np.zeros((self.S, 2))
        phi = label_angle(self.Y, g.center)
        r = np.array(g.values, dtype=np.float64)
        if self.S > 1:
            r[0] = (r[0] + r[1]) / 2
        return g.center + r[:, None] * np.array([np.cos(phi), np.sin(phi)])

    @classmethod
    def from_tree(cls, tree, traj=None, size=(1100, 760)) -> "ExplorerState":
        """Build from a `TreeData` (and its `TrajectoryData` for the images, if at hand)."""
        images = getattr(traj, "images", None)
        images_xt = getattr(traj, "images_xt", None)
        source = getattr(traj, "source", None) or (tree.config or {}).get("trajectory_source", "")
        title = f"Tree of Diffusion Life: {source}" if source else "Tree of Diffusion Life"
        state = cls(tree.Y, tree.times, tree.prompts, tree.prompt_index, images=images,
                    layout=tree.layout, title=title, size=size, config=getattr(tree, "config", None),
                    images_xt=images_xt, positions2d=getattr(traj, "positions2d", None))
        if hasattr(traj, "image_rows") and np.shape(images)[:1] == (tree.Y.shape[0],):
            state.image_rows = traj.image_rows()  # a source may decode only some steps
        return state

    # --- geometry -----------------------------------------------------------------------------
    def resize(self, size: tuple[int, int]) -> None:
        w, h = int(size[0]), int(size[1])
        self.size = (w, h)
        self.plot_rect = Rect(0, 0, max(w - PANEL_W, 50), max(h - SLIDER_H, 50))
        self.panel_rect = Rect(self.plot_rect.w, 0, w - self.plot_rect.w, h)
        self.slider_rect = Rect(40, self.plot_rect.h + 14, max(self.plot_rect.w - 80, 10), 16)
        self.reset_view()

    def reset_view(self) -> None:
        self.zoom = 1.0
        self.pan = np.zeros(2)

    def fit_rect(self) -> Rect:
        """Where the whole tree goes at zoom 1: the plot area less a margin, and less a strip at the
        top for the outermost ring's (radial) or the bands' (rectilinear) t labels."""
        r = self.plot_rect
        return Rect(r.x + MARGIN, r.y + MARGIN + LABEL_H, max(r.w - 2 * MARGIN, 10),
                    max(r.h - 2 * MARGIN - LABEL_H, 10))

    def scale(self) -> np.ndarray:
        """Pixels per world unit along x and y, `(2,)`: the tree fills `fit_rect`; equal for radial
        (rings stay round), each axis filling the plot for rectilinear."""
        f = self.fit_rect()
        fit = np.array([f.w, f.h]) / self._extent
        if self.layout == "radial":
            fit[:] = fit.min()
        return fit * self.zoom

    def to_screen(self, pts) -> np.ndarray:
        """World (..., 2) -> screen pixels (..., 2)."""
        pts = np.asarray(pts, dtype=np.float64)
        r, s = self.fit_rect(), self.scale()
        x = r.x + r.w / 2 + (pts[..., 0] - self._center[0]) * s[0] + self.pan[0]
        y = r.y + r.h / 2 - (pts[..., 1] - self._center[1]) * s[1] + self.pan[1]
        return np.stack([x, y], axis=-1)

    def to_world(self, pos) -> np.ndarray:
        """Screen pixels (..., 2) -> world (..., 2); the inverse of `to_screen`."""
        pos = np.asarray(pos, dtype=np.float64)
        r, s = self.fit_rect(), self.scale()
        x = (pos[..., 0] - r.x - r.w / 2 - self.pan[0]) / s[0] + self._center[0]
        y = -(pos[..., 1] - r.y - r.h / 2 - self.pan[1]) / s[1] + self._center[1]
        return np.stack([x, y], axis=-1)

    def zoom_at(self, pos, factor: float) -> None:
        """Zoom by `factor` keeping the world point under `pos` where it is."""
        before = self.to_world(pos)
        self.zoom = float(np.clip(self.zoom * factor, 0.2, 50.0))
        after = self.to_screen(before)
        self.pan += np.asarray(pos, dtype=np.float64) - after

    def pan_by(self, dx: float, dy: float) -> None:
        self.pan += (dx, dy)

    # --- what is shown ------------------------------------------------------------------------
    def point_mask(self) -> np.ndarray:
        """(S, I) bool: the points drawn (steps up to the limit, prompts not filtered out)."""
        steps = np.arange(self.S)[:, None] <= self.step_limit
        return steps & self.visible[self.prompt_index][None, :]

    def pick(self, pos, radius: float = PICK_RADIUS) -> tuple[int, int] | None:
        """The shown point nearest to `pos` within `radius` pixels, as (step, instance)."""
        if not self.plot_rect.contains(pos):
            return None
        mask = self.point_mask()
        if not mask.any():
            return None
        d = np.linalg.norm(self.to_screen(self.Y) - np.asarray(pos, dtype=np.float64), axis=-1)
        d[~mask] = np.inf
        s, i = np.unravel_index(int(np.argmin(d)), d.shape)
        return (int(s), int(i)) if d[s, i] <= radius else None

    def hover(self, pos) -> tuple[int, int] | None:
        self.hovered = self.pick(pos)
        return self.hovered

    def hovered_image(self) -> np.ndarray | None:
        """(H, W, C) uint8 image of the hovered point, or None."""
        images = self.images_xt if self.show_xt else self.images
        if self.hovered is None or images is None:
            return None
        s, i = self.hovered
        rows = getattr(self, "image_rows", None)
        if rows is not None and not rows[s]:
            return None  # this step was not decoded
        return np.asarray(images[s, i])

    def hovered_plane(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The hovered point in the true 2D plane (sandbox2d trees): every instance's position at its
        step (I, 2), the hovered instance's path up to that step (s+1, 2), and the plane's bounds
        (2, 2: low, high corners, fixed over the steps); None without positions or hover."""
        if self.hovered is None or self.positions2d is None or self.positions2d.shape[:2] != self.Y.shape[:2]:
            return None
        s, i = self.hovered
        flat = self.positions2d.reshape(-1, 2)
        flat = flat[np.isfinite(flat).all(1)]
        bounds = np.quantile(flat, [0.01, 0.99], axis=0) if len(flat) else np.array([[-1.0, -1.0], [1.0, 1.0]])
        return self.positions2d[s], self.positions2d[: s + 1, i], bounds

    def selected_path(self) -> np.ndarray | None:
        """(k+1, 2) world positions of the selected instance over the shown steps."""
        if self.selected is None:
            return None
        return self.Y[: self.step_limit + 1, self.selected]

    def info_lines(self) -> list[str]:
        """Text for the panel about the hovered point, else the selected instance."""
        if self.hovered is not None:
            s, i = self.hovered
            p = self.prompt_index[i]
            lines = [f"step {s} of {self.S - 1}  (t = {self.times[s]:.3f})",
                     f"instance {i}", f"prompt: {self.prompts[p]}"]
            if self.images is not None or self.images_xt is not None:
                lines.append("image: noisy x_t" if self.show_xt else "image: predicted x0")
            elif self.hovered_plane() is not None:
                x, y = self.positions2d[s, i]
                lines.append(f"2D position ({x:.2f}, {y:.2f})")
            return lines
        if self.selected is not None:
            p = self.prompt_index[self.selected]
            return [f"instance {self.selected} selected", f"prompt: {self.prompts[p]}",
                    "click empty space to clear"]
        what = "2D position" if self.images is None and self.positions2d is not None else "image"
        return [f"hover a point to see its {what}", "click one to follow its path"]

    # --- prompts and steps --------------------------------------------------------------------
    def legend_entries(self) -> list[tuple[int, Rect]]:
        """(prompt, rect) for each legend row in the panel."""
        x, w = self.panel_rect.x + 10, self.panel_rect.w - 20
        return [(p, Rect(x, 40 + p * LEGEND_ROW, w, LEGEND_ROW - 2)) for p in range(len(self.prompts))]

    def toggle_prompt(self, p: int) -> None:
        if 0 <= p < len(self.prompts):
            self.visible[p] = not self.visible[p]
            self._drop_hidden()

    def show_all_prompts(self) -> None:
        self.visible[:] = True

    def set_step_limit(self, k: int) -> None:
        self.step_limit = int(np.clip(k, 0, self.S - 1))
        self._drop_hidden()

    def slider_step_at(self, x: float) -> int:
        r = self.slider_rect
        frac = (x - r.x) / r.w
        return int(np.clip(round(frac * (self.S - 1)), 0, self.S - 1))

    def slider_knob_x(self) -> float:
        r = self.slider_rect
        return r.x + r.w * (self.step_limit / max(self.S - 1, 1))

    def _drop_hidden(self) -> None:
        # a hovered point that is no longer drawn must not keep showing its image
        if self.hovered is not None and not self.point_mask()[self.hovered]:
            self.hovered = None
        if self.selected is not None and not self.visible[self.prompt_index[self.selected]]:
            self.selected = None

    @property
    def panning(self) -> bool:
        """True while the mouse drags the view."""
        return self._drag is not None and self._drag[0] == "pan"

    # --- input --------------------------------------------------------------------------------
    def press(self, pos) -> None:
        """Mouse button 1 down at `pos`."""
        pos = (float(pos[0]), float(pos[1]))
        slider_hit = Rect(self.slider_rect.x - 8, self.slider_rect.y - 10,
                          self.slider_rect.w + 16, self.slider_rect.h + 20)
        if slider_hit.contains(pos):
            self._drag = ("slider", pos, pos)
            self.set_step_limit(self.slider_step_at(pos[0]))
        elif self.plot_rect.contains(pos):
            self._drag = ("pan", pos, pos)
        else:
            self._drag = None
            for p, rect in self.legend_entries():
                if rect.contains(pos):
                    self.toggle_prompt(p)

    def motion(self, pos) -> None:
        """Mouse moved to `pos` (button held or not)."""
        pos = (float(pos[0]), float(pos[1]))
        if self._drag is None:
            self.hover(pos)
            return
        kind, start, last = self._drag
        if kind == "slider":
            self.set_step_limit(self.slider_step_at(pos[0]))
        else:
            self.pan_by(pos[0] - last[0], pos[1] - last[1])
        self._drag = (kind, start, pos)

    def release(self, pos) -> None:
        """Mouse button 1 up: a press that barely moved on the plot selects an instance."""
        if self._drag is not None and self._drag[0] == "pan":
            start = self._drag[1]
            if np.hypot(pos[0] - start[0], pos[1] - start[1]) < CLICK_SLOP:
                hit = self.pick(pos)
                self.selected = None if hit is None else hit[1]
        self._drag = None

    def click(self, pos) -> None:
        self.press(pos)
        self.release(pos)

    def key(self, name: str) -> bool:
        """A key by pygame's name ("left", "h", "3", "+", ...). False for keys it ignores."""
        if name in ("right", "up"):
            self.set_step_limit(self.step_limit + 1)
        elif name in ("left", "down"):
            self.set_step_limit(self.step_limit - 1)
        elif name == "home":
            self.set_step_limit(0)
        elif name == "end":
            self.set_step_limit(self.S - 1)
        elif name.isdigit() and len(name) == 1:
            self.toggle_prompt(int(name))  # key d <-> prompt d, as the legend numbers them
        elif name == "a":
            self.show_all_prompts()
        elif name in ("+", "=", "[+]"):
            self.zoom_at(self._plot_center(), 1.25)
        elif name in ("-", "[-]"):
            self.zoom_at(self._plot_center(), 0.8)
        elif name == "r":
            self.reset_view()
        elif name == "h":
            self.show_help = not self.show_help
        elif name == "x" and self.images_xt is not None:
            self.show_xt = not self.show_xt
        elif name == "escape" and self.selected is not None:
            self.selected = None
        else:
            return False
        return True

    def _plot_center(self) -> tuple[float, float]:
        r = self.plot_rect
        return (r.x + r.w / 2, r.y + r.h / 2)


HELP_TITLE = "Tree of Diffusion Life explorer"
HELP_ROWS = [  # (keys, what they do): drawn as two columns
    ("hover", "see the image of the nearest point"),
    ("click", "follow an instance across steps"),
    ("legend, 0-9", "show or hide a prompt (the legend's number)"),
    ("A", "show all prompts"),
    ("left / right", "show fewer / more steps"),
    ("home / end", "first step only / all steps"),
    ("slider", "drag to scrub the steps"),
    ("wheel, + / -", "zoom"),
    ("drag, R", "pan; reset the view"),
    ("X", "image: predicted x0 / noisy x_t"),
    ("H", "this help"),
    ("Esc / Q", "quit"),
]
HELP_LINES = [HELP_TITLE, ""] + [f"{k:<14}{v}" for k, v in HELP_ROWS]  # plain text (tests, terminals)
