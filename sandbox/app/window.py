"""The pygame window: a thin shell that turns events into AppState actions and draws the state.

`run()` is what `diffusion-sandbox` opens. `App(...).run_frames(n)` runs the same loop for n
frames without waiting for the clock (tests post real events with pygame.event.post). Every
event and every frame is guarded: a user mistake (UserError) becomes a message, anything else is
shown, counted in `state.errors` and printed, and the window lives on.
"""
from __future__ import annotations

import gc
import os
import sys
import traceback
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import numpy as np  # noqa: E402
import pygame  # noqa: E402

from sandbox.errors import UserError  # noqa: E402
from sandbox.view import RenderCache, Theme, Viewport, render_frame  # noqa: E402
from sandbox.view.draw import draw_text  # noqa: E402

from sandbox.view import banner, score_panel  # noqa: E402

from . import engine, keys, names, overlays  # noqa: E402
from .trainer import eta_text  # noqa: E402
from .dialog import FileDialog  # noqa: E402
from .display_actions import DisplayActions, fit_to_desktop  # noqa: E402
from .names import JARGON  # noqa: E402
from .panel import Panel  # noqa: E402
from .settings import PREDICTION_NAMES  # noqa: E402
from .state import AppState  # noqa: E402
from .timebar import TimeBar  # noqa: E402

MIN_SIZE, MAX_SIZE = (480, 360), (7680, 4320)


def _cap_torch_threads() -> None:
    """Leave a core to the UI: torch ops release the GIL, but a busy pool starves the frame loop."""
    try:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    except (ImportError, RuntimeError):
        pass


class App(DisplayActions):
    """The window. Fullscreen, screenshots, the file dialog and overlays' toggles live in
    `display_actions.py`."""

    def __init__(self, dataset: str | None = "smiley", model=None, size=(1280, 800),
                 fullscreen: bool = False, state: AppState | None = None, **state_kw):
        # display and fonts only: the sandbox makes no sound, and initialising the mixer on a
        # machine without a sound card prints ALSA errors
        pygame.display.init()
        pygame.font.init()
        self.windowed_size = tuple(size)
        self.screen = pygame.display.set_mode(self.windowed_size, pygame.RESIZABLE)
        pygame.display.set_caption("Diffusion sandbox")
        _cap_torch_threads()
        self.state = state if state is not None else AppState(dataset, model, **state_kw)
        self.panel = Panel(self)
        self.timebar = TimeBar(self)
        self.advanced = False
        self.caches = [RenderCache(), RenderCache()]
        self.view: tuple[tuple[float, float], float] | None = None
        self._epoch = -1
        self.mouse = (0, 0)
        self.drag: str | None = None
        self.dialog: FileDialog | None = None
        self._banner: tuple[pygame.Rect, pygame.Rect] | None = None
        self._tip: tuple[tuple, str, float] | None = None    # rect under the pointer, its tip, how long
        self.tooltip_rect: pygame.Rect | None = None
        # what the last frame drew where (the layout test checks these)
        self.toast_rects: list[pygame.Rect] = []
        self.help_rect: pygame.Rect | None = None
        self.pane_headers: dict[int, tuple[str, int, int]] = {}   # pane: (header, width, room)
        self.chart_rect: pygame.Rect | None = None
        self.banner_rect: pygame.Rect | None = None
        self._score_head: pygame.Rect | None = None     # click: collapse / expand the score panel
        self._offer_buttons: tuple[pygame.Rect, pygame.Rect] | None = None   # use new / keep previous
        self.focus_index: int | None = None      # keyboard focus: index into focus_order()
        self.running = True
        self.frames = 0
        self._pending_size: tuple[int, int] | None = None   # resizes are applied once per frame (a drag sends dozens)
        self._shot = None           # a screenshot asked for during this frame
        self._shot_at = -1e9
        self.pane_rects: list[pygame.Rect] = []
        self.canvas = pygame.Rect(0, 0, 1, 1)
        if fullscreen:
            self.toggle_fullscreen()
        # everything loaded so far (torch, the model) lives as long as the window:
        # keep it out of the collector's full passes, which otherwise stall a frame for ~100 ms
        gc.collect()
        gc.freeze()

    # ---- loop --------------------------------------------------------------------------------
    def run(self, max_frames: int | None = None) -> int:
        clock = pygame.time.Clock()
        try:
            while self.running and (max_frames is None or self.frames < max_frames):
                dt = clock.tick(60) / 1000.0
                self.frame(dt)
        finally:
            self.close()
        return 0

    def run_frames(self, n: int, dt: float = 1 / 60) -> None:
        """n frames as fast as possible, each with a fixed time step (tests)."""
        for _ in range(int(n)):
            if not self.running:
                break
            self.frame(dt)

    def frame(self, dt: float) -> None:
        for ev in pygame.event.get():
            self._guard(self.dispatch, ev)
        self._guard(self._apply_resize)
        self._guard(self.state.step, dt)
        self._guard(self.draw, dt)
        if self._shot is not None:  # after drawing, so the file shows this frame
            path, self._shot = self._shot, None
            self._guard(self._save_screenshot, path)
        pygame.display.flip()
        self.frames += 1

    def _guard(self, fn, *args) -> None:
        try:
            fn(*args)
        except UserError as e:
            self.state.say(str(e), "error")
        except Exception as e:  # noqa: BLE001 - the window must survive; the error is counted
            traceback.print_exc(file=sys.stderr)
            self.state.bug(f"internal error: {type(e).__name__}: {e}")

    @property
    def errors(self) -> int:
        return self.state.errors

    def close(self) -> None:
        try:
            self.state.close()
        finally:
            pygame.display.quit()

    def quit(self) -> None:
        self.running = False

    # ---- layout ------------------------------------------------------------------------------
    def theme(self) -> Theme:
        return Theme.named(self.state.theme_name, self.state.presenter_scale)

    def right_column(self, theme: Theme) -> int:
        """Width kept free on the right of the canvas and time bar (a subclass's extra panel)."""
        return 0

    def layout(self, theme: Theme) -> None:
        W, H = self.screen.get_size()
        bar_w = max(W - self.right_column(theme), 1)
        # the panel never takes more than 45% of what the lesson column leaves: the canvas is the point
        pw = int(min(max(300 * theme.scale, 220), bar_w * 0.45))
        th = min(self.timebar.height_for(bar_w, theme), H // 2)
        cw = max(W - pw - self.right_column(theme), 1)
        self.panel.layout(pygame.Rect(0, 0, pw, max(H - th, 1)), theme)
        self.canvas = pygame.Rect(pw, 0, cw, max(H - th, 1))
        self.timebar.layout(pygame.Rect(0, H - th, bar_w, th), theme)
        if self.state.compare:
            half = self.canvas.w // 2
            self.pane_rects = [pygame.Rect(self.canvas.x, 0, half - 1, self.canvas.h),
                               pygame.Rect(self.canvas.x + half + 1, 0, self.canvas.w - half - 1, self.canvas.h)]
        else:
            self.pane_rects = [self.canvas.copy()]
        if self.view is None or self._epoch != self.state.drawing.epoch:
            self._epoch = self.state.drawing.epoch
            self.fit_view()

    def fit_view(self, samples: bool = False) -> None:
        """Centre the view on the drawing (and, with samples=True, the current samples)."""
        pts = self.state.drawing.points
        sampled = self.state.panes[0].sampled
        if samples and sampled is not None:
            xs = sampled.traj.xs
            pts = np.concatenate([pts, xs[-1].numpy(), xs[0].numpy()]) if len(pts) else xs[-1].numpy()
        if not len(pts):
            self.view = ((0.0, 0.0), 2.5)
            return
        vp = Viewport.fit((0, 0, 100, 100), pts, margin=1.3, minimum=0.5)
        # the noise starts as N(mean, rms^2 I) in data coordinates: keep most of it in view
        rms = float(np.sqrt(((pts - pts.mean(0)) ** 2).sum(1).mean()))
        self.view = (vp.center, max(vp.half_extent, 2.0 * rms))

    def viewport(self, i: int) -> Viewport:
        c, h = self.view or ((0.0, 0.0), 2.5)
        r = self.pane_rects[min(i, len(self.pane_rects) - 1)]
        return Viewport((r.x, r.y, r.w, r.h), c, h)

    def pane_at(self, pos) -> int | None:
        for i, r in enumerate(self.pane_rects):
            if r.collidepoint(pos):
                return i
        return None

    # ---- events ------------------------------------------------------------------------------
    def dispatch(self, ev: pygame.event.Event) -> None:
        t = ev.type
        if t == pygame.QUIT:
            self.quit()
            return
        if t in (pygame.MOUSEMOTION, pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
            pos = getattr(ev, "pos", None)
            if isinstance(pos, (tuple, list)) and len(pos) == 2:
                self.mouse = (int(pos[0]), int(pos[1]))
            else:
                return
        if self.dialog is not None and self._dialog_event(ev):
            return
        if t == pygame.KEYDOWN:
            self.on_key(ev)
        elif t in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEMOTION, pygame.MOUSEBUTTONUP):
            self.on_mouse(ev)
        elif t == pygame.MOUSEWHEEL:
            wheel = pygame.event.Event(t, x=getattr(ev, "x", 0), y=getattr(ev, "y", 0), pos=self.mouse)
            self.on_mouse(wheel)
        elif t == pygame.DROPFILE:
            self.state.load_file(str(getattr(ev, "file", "")))
        elif t == pygame.VIDEORESIZE:
            self.resize(getattr(ev, "size", None) or (getattr(ev, "w", 0), getattr(ev, "h", 0)))
        elif t == getattr(pygame, "WINDOWRESIZED", -1) or t == getattr(pygame, "WINDOWSIZECHANGED", -1):
            self.resize((getattr(ev, "x", 0), getattr(ev, "y", 0)))

    def on_key(self, ev) -> None:
        k, mod = int(getattr(ev, "key", 0) or 0), int(getattr(ev, "mod", 0) or 0)
        if self._focus_key(k, mod):
            return
        sc = keys.find(k, mod)
        if sc is not None:
            sc.action(self)

    # ---- keyboard focus ----------------------------------------------------------------------
    def focus_order(self) -> list:
        """The controls Tab walks through (enabled ones): the panel top to bottom, then the time bar."""
        return [w for w in list(self.panel.leaves()) + self.timebar.widgets if w.focusable and w.enabled()]

    @property
    def focused(self):
        order = self.focus_order()
        return order[self.focus_index] if self.focus_index is not None and self.focus_index < len(order) else None

    def _focus_key(self, k: int, mod: int) -> bool:
        """Tab / Shift+Tab move the focus; a focused control takes Enter, Space and the arrows;
        Esc (or a click) gives the keys back to the shortcuts. True if the key was used here."""
        if k == pygame.K_TAB and not mod & (pygame.KMOD_CTRL | pygame.KMOD_ALT):
            n = len(self.focus_order())
            if n:
                step = -1 if mod & pygame.KMOD_SHIFT else 1
                start = (-1 if step > 0 else 0) if self.focus_index is None else self.focus_index
                self.focus_index = (start + step) % n
                self._scroll_to_focus()
            return True
        w = self.focused
        if w is None or mod & (pygame.KMOD_CTRL | pygame.KMOD_META):
            return False
        if k == pygame.K_ESCAPE:
            self.focus_index = None
            return True
        return bool(w.key(k))

    def _scroll_to_focus(self) -> None:
        w = self.focused
        p = self.panel
        if w is None or w not in list(p.leaves()):
            return
        if w.rect.top < p.rect.top:
            p.scroll_by(w.rect.top - p.rect.top - 8)
        elif w.rect.bottom > p.rect.bottom:
            p.scroll_by(w.rect.bottom - p.rect.bottom + 8)

    def _draw_focus(self, theme: Theme) -> None:
        w = self.focused
        if w is None:
            return
        prev = self.screen.get_clip()
        if w in list(self.panel.leaves()):
            self.screen.set_clip(self.panel.rect)
        pygame.draw.rect(self.screen, theme.highlight, w.rect.inflate(4, 4), width=max(2, theme.line_px + 1),
                         border_radius=5)
        self.screen.set_clip(prev)

    def on_mouse(self, ev) -> None:
        pos = ev.pos
        if ev.type == pygame.MOUSEBUTTONDOWN and self._canvas_click(pos):
            return
        if self._banner is not None and ev.type == pygame.MOUSEBUTTONDOWN:
            restore, dismiss = self._banner
            if restore.collidepoint(pos):
                self.state.restore_autosave()
                return
            if dismiss.collidepoint(pos):
                self.state.dismiss_autosave()
                return
        if ev.type == pygame.MOUSEBUTTONDOWN:
            self.focus_index = None      # the mouse takes over from the keyboard
        if self.drag is None and (self.panel.handle(ev) or self.timebar.handle(ev)):
            return
        if ev.type == pygame.MOUSEBUTTONUP:
            if self.drag == "tool":
                self.state.end_stroke()   # press to release: one undo step
            self.drag = None
            return
        i = self.pane_at(pos)
        if ev.type == pygame.MOUSEWHEEL:
            if i is not None and self.view is not None:
                vp = self.viewport(i).zoomed(1.15 if ev.y > 0 else 1 / 1.15, pos)
                self.view = (vp.center, vp.half_extent)
            return
        if ev.type == pygame.MOUSEMOTION:
            if self.drag == "pan":
                rel = getattr(ev, "rel", (0, 0))
                vp = self.viewport(0).panned(float(rel[0]), float(rel[1]))
                self.view = (vp.center, vp.half_extent)
            elif self.drag == "tool" and i is not None:
                self._apply_tool(i, pos, stroke=True)
            return
        if ev.type == pygame.MOUSEBUTTONDOWN and i is not None:
            button = getattr(ev, "button", 1)
            if button == 1:
                self.drag = "tool" if self.state.tool != "release" else None
                if self.drag == "tool":
                    self.state.begin_stroke()
                self._apply_tool(i, pos, stroke=False)
            elif button == 3:
                x, y = self.viewport(i).to_world([pos])[0]
                self.state.release_particle_at(float(x), float(y))
            elif button == 2:
                self.drag = "pan"

    def _apply_tool(self, i: int, pos, stroke: bool) -> None:
        x, y = (float(v) for v in self.viewport(i).to_world([pos])[0])
        st = self.state
        if st.tool == "spray":
            # a moving stroke sprays less per event so a fast drag does not pile up points
            st.spray(x, y, density=max(1, st.brush_density // (3 if stroke else 1)))
        elif st.tool == "erase":
            st.erase(x, y)
        elif not stroke:
            st.release_particle_at(x, y)

    def resize(self, size) -> None:
        try:
            w, h = (int(v) for v in size)
        except (TypeError, ValueError):
            return
        if self.state.fullscreen or w <= 0 or h <= 0:
            return
        w = min(max(w, MIN_SIZE[0]), MAX_SIZE[0])
        h = min(max(h, MIN_SIZE[1]), MAX_SIZE[1])
        self._pending_size = (w, h)

    def _apply_resize(self) -> None:
        if self._pending_size is None:
            return
        size, self._pending_size = self._pending_size, None
        if self.state.fullscreen:
            return
        if size != self.screen.get_size():
            self.screen = pygame.display.set_mode(size, pygame.RESIZABLE)
        self.windowed_size = size
        if self.dialog is not None:
            self.dialog.resize(size)

    # ---- drawing -----------------------------------------------------------------------------
    def draw(self, dt: float = 0.0) -> None:
        st = self.state
        theme = self.theme()
        self.layout(theme)
        if st.compare:  # the gap between the panes; everything else is covered below
            self.screen.fill(theme.panel_border, self.canvas)
        d = st.drawing
        multi = d.num_classes > 1 or bool(d.class_names)   # drawn points keep their colour
        self.pane_headers = {}
        self.chart_rect = None
        for i in range(len(self.pane_rects)):
            self._draw_pane(i, theme, d, multi)
        self._draw_cursor(theme)
        top = self.canvas
        self._draw_score(theme)
        self.toast_rects = overlays.messages(self.screen, self.toast_area(theme), theme, st.recent_messages(),
                                             avoid=self.chart_rect)
        self.panel.draw(self.screen, theme)
        self.timebar.draw(self.screen, theme)
        self._draw_focus(theme)
        self._banner = None
        self.banner_rect = None
        if st.restore_offer is not None:
            *buttons, self.banner_rect = overlays.restore_banner(
                self.screen, top, theme, len(st.restore_offer[0]), avoid=self.chart_rect)
            self._banner = (buttons[0], buttons[1])
        self.help_rect = None
        self._offer_buttons = None
        if st.offer is not None:
            # across the canvas, below the score panel so neither hides the other
            below = self.chart_rect.bottom + 8 if self.chart_rect is not None else None
            self._offer_buttons = banner.question(self.screen, top, theme, st.offer.text,
                                                  "use new", "keep previous", top=below)
        if st.help_visible:
            self.help_rect = overlays.help_overlay(self.screen, self.screen.get_rect(), theme)
        if self.dialog is not None:
            self.dialog.draw(self.screen, dt, theme)
        self._draw_tooltip(theme, dt)

    def toast_area(self, theme: Theme) -> pygame.Rect:
        """Where toasts stack: under the pane headers, above the time label and legend (which
        render_frame draws 8 px x scale above the canvas's bottom)."""
        top = int(theme.font_px * 2.2)
        bottom = int(8 * theme.scale) + int(theme.font(1.0).get_linesize() * 1.2)
        c = self.canvas
        return pygame.Rect(c.x, c.y + top, c.w, max(1, c.h - top - bottom))

    TIP_DELAY = 0.6   # seconds the pointer rests on a control before its tooltip shows

    def tip_target(self, pos) -> tuple[Any, str] | None:
        """(widget, tooltip text) under `pos`, if any (panel or time bar)."""
        if self.dialog is not None or self.state.help_visible or self.drag is not None:
            return None
        found = self.panel.tip_at(pos) or self.timebar.tip_at(pos)
        if found:
            return found
        # the jargon on the canvas explains itself too: pane headers (NFE, straightness), the chart
        theme = self.theme()
        for i, (label, width, _) in self.pane_headers.items():
            pad = int(8 * theme.scale)
            r = pygame.Rect(self.pane_rects[i].x + pad, self.pane_rects[i].y + pad, width,
                            theme.font(1.0).get_linesize())
            if r.collidepoint(pos):
                words = " ".join(JARGON[k] for k in ("NFE", "straightness") if k in label)
                text = words or names.tip("objective", self.state.panes[i].settings.objective)
                return _Region(r, text), text
        if self.chart_rect is not None and self.chart_rect.collidepoint(pos):
            text = ("Score: how close the samples on screen are to the data (good / ok / poor); "
                    "click the header to fold it. " + JARGON["ratio"])
            return _Region(self.chart_rect, text), text
        return None

    def _draw_tooltip(self, theme: Theme, dt: float) -> None:
        self.tooltip_rect = None
        found = self.tip_target(self.mouse) if pygame.mouse.get_focused() or self._tip_forced else None
        if not found or not found[1]:
            self._tip = None
            return
        widget, text = found
        where = tuple(widget.rect)     # canvas regions are made afresh each frame: compare places
        if self._tip is None or self._tip[0] != where or self._tip[1] != text:
            self._tip = (where, text, 0.0)
        else:
            self._tip = (where, text, self._tip[2] + dt)
        if self._tip[2] >= self.TIP_DELAY or self._tip_forced:
            self.tooltip_rect = overlays.tooltip(self.screen, text, self.mouse, widget.rect, theme)

    _tip_forced = False   # tests and screenshots show the tooltip at once, without a real pointer

    def _draw_pane(self, i: int, theme: Theme, d, multi: bool) -> None:
        st = self.state
        pane = st.panes[i]
        vp = self.viewport(i)
        traj = pane.sampled.traj if pane.sampled is not None else None
        # the header names what is drawn: the settings that made these samples
        ps = pane.sampled.source.pane if pane.sampled is not None else pane.settings
        model_name = names.display("objective", ps.objective)
        if ps.objective == "ddpm":
            model_name += f" ({PREDICTION_NAMES.get(ps.prediction, ps.prediction)}, {ps.schedule})"
        label = f"{model_name} \u00b7 {names.display('sampler', ps.sampler)} {names.steps(ps.steps)}"
        if pane.sampled is not None:
            # what is shown, which during training is a shorter preview run
            tr = pane.sampled.traj
            label = f"{model_name} \u00b7 {names.display('sampler', tr.sampler)} {names.steps(tr.xs.shape[0] - 1)}"
            if pane.sampled.source.preview_run:
                label += " (training preview)"
        variants = [label]
        if pane.sampled is not None:
            extra = f"  \u00b7  NFE {pane.sampled.nfe}"
            if pane.sampled.straightness is not None:
                variants.insert(0, label + extra + f"  \u00b7  straightness {pane.sampled.straightness:.2f}")
            variants.insert(-1, label + extra)
        variants += [model_name, names.display("objective", ps.objective)]
        # the longest header that fits the pane (a narrow pane at a large presenter scale);
        # render_frame pads the header by 8 px x scale and its backdrop by font_px // 5
        font = theme.font(1.0, True)
        room = self.pane_rects[i].w - 2 * int(8 * theme.scale) - 2 * max(2, theme.font_px // 5)
        label = next((v for v in variants if font.size(v)[0] <= room), variants[-1])
        self.pane_headers[i] = (label, font.size(label)[0], room)
        fld = pane.field if st.options.field else None
        render_frame(self.screen, vp, traj, st.progress, data=d.points,
                     data_labels=d.labels if multi else None, options=st.options, theme=theme,
                     label=label, traces=120, field=fld, field_kind=engine.field_kind(pane.settings),
                     field_labels=getattr(fld, "label", None), mesh=pane.mesh,
                     highlights=st.released if i == 0 else (), cache=self.caches[i])
        if traj is None:
            msg = pane.note or ("training..." if st.training.running else "no model yet: press T to train")
            rect = self.pane_rects[i]
            lines = overlays.wrap(msg, theme.font(0.9), max(40, rect.w - 4 * theme.font_px))
            lh = theme.font(0.9).get_linesize()
            prev = self.screen.get_clip()
            self.screen.set_clip(rect)
            for k, line in enumerate(lines):
                draw_text(self.screen, line, (rect.centerx, rect.centery + (k - (len(lines) - 1) / 2) * lh),
                          theme, anchor="center", backdrop=True, mult=0.9)
            self.screen.set_clip(prev)

    def _draw_score(self, theme: Theme) -> None:
        """The score panel (sandbox.view.score_panel) at the top right of pane B or A."""
        st = self.state
        self._score_head = None
        chart = st.chart_status()      # the run of the model pane A shows, or none
        if not (chart.running or chart.losses or st.score is not None):
            return
        area = self.pane_rects[0]      # the score is pane A's model's
        rect = score_panel.panel_rect(area, theme, area.y + int(theme.font_px * 2.4), not st.score_open,
                                      score_panel.has_history(chart))
        self.chart_rect = rect
        self._score_head = score_panel.draw(self.screen, rect, theme, chart, st.score,
                                            not st.score_open, eta_text(st.training.eta_s))

    def _canvas_click(self, pos) -> bool:
        """Clicks on things drawn over the canvas: the offer banner, the score panel's header."""
        st = self.state
        buttons = self._offer_buttons
        if buttons is not None:
            if buttons[0].collidepoint(pos):
                st.accept_offer()
                return True
            if buttons[1].collidepoint(pos):
                st.decline_offer()
                return True
        head = self._score_head
        if head is not None and head.collidepoint(pos):
            st.toggle_score()
            return True
        return False

    def _draw_cursor(self, theme: Theme) -> None:
        st = self.state
        i = self.pane_at(self.mouse)
        if i is None or st.tool == "release" or self.dialog is not None:
            return
        vp = self.viewport(i)
        r = max(2, int(st.brush_radius * vp.scale))
        col = theme.class_color(st.brush_class) if st.tool == "spray" else theme.error
        pygame.draw.circle(self.screen, col, self.mouse, r, max(1, theme.line_px))


class _Region:
    """A part of the canvas with a tooltip (it has a rect, as a widget does)."""

    def __init__(self, rect: pygame.Rect, tip: str):
        self.rect, self.tip = rect, tip


def run(dataset: str = "smiley", model_path=None, fullscreen: bool = False, model=None,
        size=(1280, 800), **kw) -> int:
    """Open the window (what `diffusion-sandbox` with no arguments calls)."""
    app = App(dataset=dataset, model=model_path or model, size=fit_to_desktop(size), fullscreen=fullscreen, **kw)
    return app.run()


if __name__ == "__main__":
    raise SystemExit(run())
