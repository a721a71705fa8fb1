"""The TDL explorer window (pygame-ce): a thin shell over `tdl.explorer_state.ExplorerState`.

It turns pygame events into state calls and draws what the state says. The tree (lines, points,
step guides) is drawn once into a cached layer and redrawn only when the view, the step limit or the
prompt filter changes; hover, selection, panel and slider are drawn every frame.
"""
from __future__ import annotations

import os
import sys

import numpy as np

from sandbox.errors import UserError
from tdl.explorer_state import HELP_ROWS, HELP_TITLE, ExplorerState
from tdl.plot_guides import label_steps, time_texts

BG = (250, 250, 250)
INK = (40, 40, 40)
FAINT = (170, 170, 170)
GUIDE = (222, 222, 222)
HEADLESS_DRIVERS = ("dummy", "offscreen")


def init_display(allow_headless: bool = False, tree_path: str = "tree.npz") -> None:
    """Start pygame's display; UserError (one line) where there is no screen to open a window on."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame
    hint = f"make a static figure instead: tdl plot {tree_path} --out tree.png"
    driver = os.environ.get("SDL_VIDEODRIVER", "")
    if (sys.platform.startswith("linux") and not driver and not os.environ.get("DISPLAY")
            and not os.environ.get("WAYLAND_DISPLAY")):
        # no X11 or Wayland session: asking SDL would only add its own messages to ours
        raise UserError(f"no display to open the explorer window on (no DISPLAY or WAYLAND_DISPLAY); {hint}")
    try:
        pygame.display.init()
    except pygame.error as e:
        raise UserError(f"no display to open the explorer window on ({e}); {hint}") from None
    driver = pygame.display.get_driver()
    if driver in HEADLESS_DRIVERS and not allow_headless:
        pygame.display.quit()
        raise UserError(f"no display to open the explorer window on (SDL video driver {driver!r}); {hint}")


class Explorer:
    """The window. `frame()` handles pending events and draws once; `run()` loops until closed."""

    def __init__(self, state: ExplorerState):
        import pygame
        pygame.display.init()
        pygame.font.init()
        self.pg = pygame
        self.state = state
        self.screen = pygame.display.set_mode(state.size, pygame.RESIZABLE)
        pygame.display.set_caption(state.title or "Tree of Diffusion Life")
        self.font = pygame.font.Font(None, 18)
        self.small = pygame.font.Font(None, 15)
        self.running = True
        self._layer = None
        self._layer_key = None
        self._layer_pan = np.zeros(2)

    # --- events -------------------------------------------------------------------------------
    def handle(self, ev) -> None:
        pg, st = self.pg, self.state
        if ev.type == pg.QUIT:
            self.running = False
        elif ev.type == pg.VIDEORESIZE:
            st.resize(ev.size)
            self.screen = pg.display.set_mode(st.size, pg.RESIZABLE)
        elif ev.type == pg.MOUSEMOTION:
            st.motion(ev.pos)
        elif ev.type == pg.MOUSEBUTTONDOWN and ev.button == 1:
            st.press(ev.pos)
        elif ev.type == pg.MOUSEBUTTONUP and ev.button == 1:
            st.release(ev.pos)
        elif ev.type == pg.MOUSEWHEEL:
            st.zoom_at(pg.mouse.get_pos(), 1.15 ** ev.y)
        elif ev.type == pg.KEYDOWN:
            name = pg.key.name(ev.key)
            if not st.key(name) and name in ("escape", "q"):
                self.running = False

    def frame(self) -> None:
        for ev in self.pg.event.get():
            self.handle(ev)
        if self.running:
            self.draw()
            self.pg.display.flip()

    def run(self, max_frames: int | None = None) -> None:
        clock = self.pg.time.Clock()
        n = 0
        while self.running and (max_frames is None or n < max_frames):
            self.frame()
            clock.tick(60)
            n += 1
        self.pg.display.quit()

    # --- drawing ------------------------------------------------------------------------------
    def draw(self) -> None:
        st, screen = self.state, self.screen
        screen.fill(BG)
        layer, offset = self._tree_layer()
        screen.blit(layer, offset)
        self._draw_selection()
        self._draw_panel()
        self._draw_slider()
        if st.show_help:
            self._draw_help()

    def _tree_layer(self):
        """The cached picture of the tree and where to blit it. While the mouse pans, the cached
        picture is only shifted (big trees take a moment to draw); it is redrawn on release."""
        st, pg = self.state, self.pg
        key = (st.size, st.zoom, st.step_limit, tuple(st.visible))
        if self._layer is not None and self._layer_key == key:
            shift = st.pan - self._layer_pan
            if not shift.any() or st.panning:
                return self._layer, (int(round(shift[0])), int(round(shift[1])))
        r = st.plot_rect
        layer = pg.Surface((int(r.w), int(r.h)), pg.SRCALPHA)
        self._draw_guides(layer)
        mask = st.point_mask()
        xy = st.to_screen(st.Y)  # (S, I, 2)
        k = st.step_limit
        lines = pg.Surface(layer.get_size(), pg.SRCALPHA)
        if k > 0:
            for i in np.flatnonzero(mask[0]):
                c = st.colors[st.prompt_index[i]]
                pg.draw.lines(lines, (*c, 70), False, xy[: k + 1, i].tolist(), 1)
        layer.blit(lines, (0, 0))
        s_idx, i_idx = np.nonzero(mask)  # step-major: later steps are drawn over earlier ones
        palette = np.asarray(st.colors, dtype=np.uint8)
        _dots(layer, xy[s_idx, i_idx], palette[st.prompt_index[i_idx]], 3 if st.S * st.I < 4000 else 2)
        self._draw_guides(layer, labels=True)   # over the points, on a backdrop: a dense tree hid them
        self._layer, self._layer_key, self._layer_pan = layer, key, st.pan.copy()
        return layer, (0, 0)

    def _draw_guides(self, layer, labels: bool = False) -> None:
        """The rings/bands (under the points), or with `labels` their t labels (over the points)."""
        st, pg = self.state, self.pg
        g = st.guides
        named = time_texts(st.times, label_steps(st.S))
        self.label_rects = [] if labels else getattr(self, "label_rects", [])
        for s in label_steps(st.S):
            text = self.small.render(named[s], True, FAINT)
            if g.kind == "ring":
                x, y = st.to_screen(st.label_pos[s])  # along the widest empty wedge, if there is one
                lw, lh = layer.get_size()
                at = (min(max(x - text.get_width() / 2, 0), lw - text.get_width()),
                      min(max(y - text.get_height() / 2, 0), lh - text.get_height()))
                rad = g.values[s] * st.scale()[0]
                if not labels and rad > 1:
                    pg.draw.circle(layer, GUIDE, st.to_screen(g.center), rad, 1)
            else:
                p = np.array(g.center, dtype=np.float64)
                p[g.axis] = g.values[s]
                x, y = st.to_screen(p)
                at = (x + 2, 4) if g.axis == 0 else (4, y - text.get_height())
                if not labels and g.axis == 0:
                    pg.draw.line(layer, GUIDE, (x, 0), (x, st.plot_rect.h), 1)
                elif not labels:
                    pg.draw.line(layer, GUIDE, (0, y), (st.plot_rect.w, y), 1)
            if labels:
                box = pg.Rect(at[0] - 2, at[1], text.get_width() + 4, text.get_height())
                pg.draw.rect(layer, BG, box)
                layer.blit(text, at)
                self.label_rects.append(box)

    def _draw_selection(self) -> None:
        st, pg = self.state, self.pg
        path = st.selected_path()
        if path is not None:
            xy = st.to_screen(path)
            if len(xy) > 1:
                pg.draw.lines(self.screen, INK, False, xy.tolist(), 3)
            for p in xy:
                pg.draw.circle(self.screen, INK, p, 4)
        if st.hovered is not None:
            s, i = st.hovered
            pg.draw.circle(self.screen, INK, st.to_screen(st.Y[s, i]), 7, 2)

    def _draw_panel(self) -> None:
        st, pg, screen = self.state, self.pg, self.screen
        p = st.panel_rect
        pg.draw.rect(screen, (238, 238, 238), (p.x, p.y, p.w, p.h))
        screen.blit(self.font.render("prompts (click, or keys 0-9)", True, INK), (p.x + 10, 14))
        for k, rect in st.legend_entries():
            on = st.visible[k]
            color = st.colors[k] if on else FAINT
            pg.draw.rect(screen, color, (rect.x, rect.y + 4, 12, 12), 0 if on else 1)
            ink = INK if on else FAINT
            if k < 10:  # key k toggles prompt k
                screen.blit(self.font.render(str(k), True, ink), (rect.x + 18, rect.y + 3))
            screen.blit(self.font.render(st.prompts[k][:28], True, ink), (rect.x + 32, rect.y + 3))
        y = 40 + len(st.prompts) * 22 + 14
        for line in st.info_lines():
            screen.blit(self.font.render(line[:34], True, INK), (p.x + 10, y))
            y += 18
        img = st.hovered_image()
        side = int(min(p.w - 20, p.h - y - 40))
        if img is not None:
            if side > 8:
                screen.blit(self._image_surface(img, side), (p.x + 10, y + 6))
        elif side > 8 and st.hovered_plane() is not None:
            self._draw_plane(pg.Rect(p.x + 10, y + 6, side, side))
        screen.blit(self.small.render("H: help", True, FAINT), (p.x + 10, p.h - 20))

    def _draw_plane(self, box) -> None:
        """The hovered step in the true 2D plane: every instance faint in its prompt's colour, the hovered
        one's path so far and its point (a sandbox2d tree has no images)."""
        st, pg, screen = self.state, self.pg, self.screen
        plane = st.hovered_plane()
        if plane is None:
            return
        pts, path, (lo, hi) = plane
        span = np.maximum(hi - lo, 1e-9).max()
        mid = (lo + hi) / 2

        def to_box(xy):
            u = (np.asarray(xy) - mid) / span + 0.5    # one scale on both axes, y up
            return np.stack([box.x + u[..., 0] * box.w, box.y + (1 - u[..., 1]) * box.h], -1)
        pg.draw.rect(screen, (250, 250, 250), box)
        pg.draw.rect(screen, FAINT, box, 1)
        prev = screen.get_clip()
        screen.set_clip(box)
        for q, k in zip(to_box(pts), st.prompt_index):
            if np.isfinite(q).all():
                pg.draw.circle(screen, st.colors[k], q, 1)
        xy = to_box(path)
        if len(xy) > 1:
            pg.draw.lines(screen, INK, False, xy.tolist(), 2)
        pg.draw.circle(screen, INK, xy[-1], 5, 2)
        screen.set_clip(prev)

    def _image_surface(self, img: np.ndarray, side: int):
        """(H, W, C) uint8 -> a pygame surface scaled up to `side` pixels, pixelated."""
        img = np.asarray(img)
        if img.ndim == 2:
            img = img[..., None]
        if img.shape[-1] == 1:
            img = np.repeat(img, 3, axis=-1)
        surf = self.pg.surfarray.make_surface(np.ascontiguousarray(img[..., :3].transpose(1, 0, 2)))
        h, w = img.shape[:2]
        scale = side / max(h, w)
        return self.pg.transform.scale(surf, (max(1, round(w * scale)), max(1, round(h * scale))))

    def _draw_slider(self) -> None:
        st, pg, screen = self.state, self.pg, self.screen
        r = st.slider_rect
        pg.draw.rect(screen, BG, (0, st.plot_rect.h, st.plot_rect.w, st.size[1] - st.plot_rect.h))
        pg.draw.rect(screen, (225, 225, 225), (r.x, r.y + r.h / 2 - 2, r.w, 4))
        for s in range(st.S):
            x = r.x + r.w * s / max(st.S - 1, 1)
            pg.draw.line(screen, FAINT, (x, r.y + r.h / 2 - 5), (x, r.y + r.h / 2 + 5))
        pg.draw.circle(screen, INK, (st.slider_knob_x(), r.y + r.h / 2), 7)
        k = st.step_limit
        text = f"steps 0-{k} of {st.S - 1}   (t down to {st.times[k]:.2f})   left/right to scrub"
        screen.blit(self.small.render(text, True, INK), (r.x, r.y - 12))

    def _draw_help(self) -> None:
        """Two real columns (keys, what they do): a proportional font cannot align with spaces."""
        pg = self.pg
        keys = [self.font.render(k, True, INK) for k, _ in HELP_ROWS]
        what = [self.font.render(v, True, INK) for _, v in HELP_ROWS]
        title = self.font.render(HELP_TITLE, True, INK)
        col = 14 + max(s.get_width() for s in keys) + 18
        w = max(title.get_width() + 28, col + max(s.get_width() for s in what) + 14)
        h = 24 + 20 * (len(HELP_ROWS) + 2)
        box = pg.Surface((w, h), pg.SRCALPHA)
        box.fill((255, 255, 255, 235))
        pg.draw.rect(box, INK, (0, 0, w, h), 1)
        box.blit(title, (14, 12))
        for n, (k, v) in enumerate(zip(keys, what)):
            y = 12 + 20 * (n + 2)
            box.blit(k, (14, y))
            box.blit(v, (col, y))
        r = self.state.plot_rect
        self.screen.blit(box, (r.x + (r.w - w) / 2, r.y + (r.h - h) / 2))


def _dots(surface, xy: np.ndarray, colors: np.ndarray, radius: int) -> None:
    """Opaque discs at `xy (N, 2)` in `colors (N, 3)` uint8, written straight into the pixels: one
    numpy assignment per disc offset instead of one draw call per point (100k points stay fast)."""
    import pygame
    w, h = surface.get_size()
    c = np.rint(xy).astype(np.int64)
    rgb = pygame.surfarray.pixels3d(surface)
    alpha = pygame.surfarray.pixels_alpha(surface)
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            if dx * dx + dy * dy > radius * radius + radius * 0.8:
                continue
            x, y = c[:, 0] + dx, c[:, 1] + dy
            ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
            rgb[x[ok], y[ok]] = colors[ok]
            alpha[x[ok], y[ok]] = 255
    del rgb, alpha  # release the surface lock


def open_explorer(tree, traj=None, size=(1100, 760), max_frames: int | None = None,
                  allow_headless: bool = False, tree_path: str = "tree.npz") -> None:
    """Open the window on `tree` (TreeData) with `traj` (TrajectoryData, for images)."""
    init_display(allow_headless=allow_headless, tree_path=tree_path)
    Explorer(ExplorerState.from_tree(tree, traj, size=size)).run(max_frames=max_frames)
