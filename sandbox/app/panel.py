"""The control panel on the left: data, model, training, view and record controls.

Every widget is bound to an AppState action, so the panel holds no settings of its own.
Layout rules that keep controls where the user last saw them:
- the mouse wheel scrolls the panel (it never changes a value; see widgets/), and a scroll bar
  on the right shows where you are and can be dragged;
- rows never appear on their own: the guidance row is always there (disabled until the drawing
  has classes), so training cannot push Train/Stop/Reset down under the pointer; the rows that do
  appear (advanced settings, compare pane B) open below the button that was clicked;
- after any change of height (collapsing "advanced", a smaller presenter scale) the scroll is
  clamped, so the panel never stays scrolled off its top;
- a row that is too narrow for its text wraps onto a second line instead of squeezing it.
"""
from __future__ import annotations

import pygame

from sandbox import registry
from sandbox.datasets import preset_names
from sandbox.view.theme import Theme, blend

from . import engine, names
from .names import JARGON
from .settings import SAMPLERS_FOR
from .widgets import Button, Cycler, Label, Row, Segmented, Slider, Swatches, Widget, row_metrics


def guidance_off(st) -> str:
    """Why guidance is off ('' when it is on): the smiley has four colours, but its shipped models
    were trained without them (the tooltip said 'Needs a drawing with several colours')."""
    if st.num_classes() > 0:
        return ""
    if st.drawing.num_classes > 1:
        return "Off: the model shown was trained without the drawing's colours; press Train for one that knows them."
    return "Needs a drawing with several colours."


def guidance_tip(st) -> str:
    off = guidance_off(st)
    return JARGON["guidance"] + (" " + off if off else "")


class _GuidanceSlider(Slider):
    def __init__(self, st, *args, **kw):
        super().__init__(*args, **kw)
        self._state = st

    def tip_at(self, pos) -> str:
        return guidance_tip(self._state)


def build(app) -> list[Widget]:
    """The panel's rows, top to bottom (a Row or a single widget per row)."""
    st = app.state
    p0 = lambda: st.panes[0].settings  # noqa: E731
    p1 = lambda: st.panes[1].settings  # noqa: E731
    ddpm = lambda: p0().objective == "ddpm"  # noqa: E731
    ddpm_b = lambda: p1().objective == "ddpm"  # noqa: E731
    classes = lambda: st.num_classes()  # noqa: E731
    adv = lambda: app.advanced  # noqa: E731
    tr = lambda: st.settings.train  # noqa: E731

    def choices(kind, keys):  # the registry's display names and tooltips
        return [(k, names.display(kind, k)) for k in keys], [names.tip(kind, k) for k in keys]

    preds, pred_tips = choices("prediction", tuple(registry.PREDICTIONS))
    scheds, sched_tips = choices("schedule", tuple(registry.SCHEDULES))
    objs, obj_tips = choices("objective", ("ddpm", "flow"))
    rows: list[Widget] = [
        Label("Data"),
        Cycler(lambda: list(preset_names()), lambda: st.drawing.name, st.set_preset,
               fmt=lambda n: names.display("preset", n), label="data", tips=lambda n: names.tip("preset", n),
               tip="A ready-made data set to learn: click the left or right half to step through them."),
        Segmented([("spray", "spray"), ("erase", "erase"), ("release", "release")],
                  lambda: st.tool, st.set_tool,
                  tips=["Spray: drag on the canvas to add data points in the chosen colour.",
                        "Erase: drag on the canvas to remove data points.",
                        "Release: click on the canvas to drop one particle there and follow its path "
                        "to the data."]),
        Slider("brush", 0.02, 1.5, lambda: st.brush_radius, lambda v: st.set_brush(radius=v),
               log=True, fmt="{:.2f}", tip="Brush radius for spraying and erasing ([ and ] keys)."),
        Slider("density", 1, 200, lambda: st.brush_density, lambda v: st.set_brush(density=v),
               log=True, integer=True, tip="How many points one dab of the spray adds."),
        Swatches(lambda: 8, lambda: st.brush_class, st.set_brush_class,
                 tip="Class colour of the points you spray (K steps through them); several colours "
                     "make a labelled data set that guidance can steer towards."),
        Row(Button("undo", st.undo, enabled=st.drawing.can_undo, tip="Undo the last stroke (Ctrl+Z)."),
            Button("redo", st.redo, enabled=st.drawing.can_redo, tip="Redo (Ctrl+Y)."),
            Button("clear", st.clear, tip="Remove every data point (Delete); undo brings them back."),
            Button("open", app.open_dialog,
                   tip="Open points (CSV, NPY), a picture, a model or a session (Ctrl+O)."),
            Button("save", st.save_drawing, tip="Save the drawing as a CSV file (Ctrl+Shift+S).")),
        Label("Model"),
        Segmented(objs, lambda: p0().objective, lambda v: st.set_pane(0, objective=v), tips=obj_tips),
        Row(Segmented(preds, lambda: p0().prediction, lambda v: st.set_pane(0, prediction=v),
                      enabled=ddpm, tip=JARGON["prediction"], tips=pred_tips),
            Segmented(scheds, lambda: p0().schedule, lambda v: st.set_pane(0, schedule=v),
                      enabled=ddpm, tip=JARGON["schedule"], tips=sched_tips),
            weights=[1, 1.1]),
        Cycler(lambda: SAMPLERS_FOR[p0().objective], lambda: p0().sampler,
               lambda v: st.set_pane(0, sampler=v), fmt=lambda s: names.display("sampler", s),
               label="sampler", tips=lambda s: names.tip("sampler", s),
               tip="How samples are computed from the trained model (S steps through them)."),
        Slider("steps", 1, 250, lambda: p0().steps, lambda v: st.set_pane(0, steps=v), log=True,
               integer=True, live=False,
               tip="Sampling steps from noise to data (Up/Down keys): more steps, smoother paths, "
                   "slower sampling."),
        # always present (disabled without classes): a row that appeared after training used to
        # push Train/Stop/Reset down under the pointer
        _GuidanceSlider(st, "guidance", 0.0, 6.0, lambda: st.settings.guidance, st.set_guidance, fmt="{:.1f}",
                        live=False, step=0.1, enabled=lambda: classes() > 0),
        Swatches(classes, lambda: st.settings.cls, st.set_class, allow_all=True,
                 enabled=lambda: classes() > 0,
                 tip="Which class to sample: 'all' samples every class in proportion."),
        Row(Button("Train", st.train, active=lambda: st.training.running,
                   tip="Train a model on the drawing (T); it takes a few seconds."),
            Button("Stop", st.stop, enabled=lambda: st.training.running,
                   tip="Stop training (Esc); you can keep the previous model."),
            Button("Reset", st.reset_model, tip="Forget the trained models for these settings.")),
        Button(lambda: "train as I draw: " + ("on" if st.train_as_draw else "off"), st.set_train_as_draw,
               active=lambda: st.train_as_draw, enabled=engine.can_warm_start,
               tip="After each stroke, keep training the shown model on the changed drawing, so the "
                   "samples follow what you draw."),
        Button(lambda: "advanced settings " + ("-" if app.advanced else "+"), app.toggle_advanced,
               active=adv, tip="Training settings (learning rate, network size, seed) and particles."),
    ]
    if app.advanced:
        rows += [
            Slider("lr", 1e-4, 1e-1, lambda: tr().lr, lambda v: st.set_train(lr=v), log=True, fmt="{:.1e}",
                   tip="Learning rate: how big each training update is; too high diverges, too low "
                       "learns slowly."),
            Slider("train steps", 20, 20000, lambda: tr().train_steps,
                   lambda v: st.set_train(train_steps=v), log=True, integer=True,
                   tip="How many updates training makes; more takes longer."),
            Slider("batch", 16, 4096, lambda: tr().batch_size, lambda v: st.set_train(batch_size=v),
                   log=True, integer=True, tip="Data points used per training update."),
            Slider("width", 16, 512, lambda: tr().width, lambda v: st.set_train(width=v), log=True,
                   integer=True, tip="Neurons per layer of the network."),
            Slider("depth", 1, 8, lambda: tr().depth, lambda v: st.set_train(depth=v), integer=True,
                   tip="Hidden layers of the network."),
            Slider("seed", 0, 99, lambda: tr().seed, lambda v: st.set_train(seed=v), integer=True,
                   tip="Random seed: the same seed and settings train the same model."),
            Button(lambda: "OT pairing " + ("on" if tr().ot else "off"),
                   lambda: st.set_train(ot=not tr().ot), active=lambda: tr().ot,
                   enabled=lambda: p0().objective == "flow", tip=JARGON["OT pairing"]),
            Slider("particles", 100, 10000, lambda: st.settings.particles, st.set_particles,
                   log=True, integer=True, live=False, tip="How many samples are drawn and animated."),
        ]
    rows += [
        Label("View"),
        _toggles(st, ("particles", "trajectories", "contours")),
        _toggles(st, ("field", "mesh", "data")),
        Row(Button("compare", lambda: st.set_compare(), active=lambda: st.compare,
                   tip="Two panes side by side: pane B can use another model or sampler (C)."),
            Button("new noise", st.new_noise, tip="Start again from fresh random noise (N).")),
    ]
    if st.compare:
        rows += [
            Segmented([(k, f"B: {v}") for k, v in objs], lambda: p1().objective,
                      lambda v: st.set_pane(1, objective=v), tips=obj_tips),
            Row(Segmented(preds, lambda: p1().prediction, lambda v: st.set_pane(1, prediction=v),
                          enabled=ddpm_b, tip=JARGON["prediction"], tips=pred_tips),
                Segmented(scheds, lambda: p1().schedule, lambda v: st.set_pane(1, schedule=v),
                          enabled=ddpm_b, tip=JARGON["schedule"], tips=sched_tips),
                weights=[1, 1.1]),
            Cycler(lambda: SAMPLERS_FOR[p1().objective], lambda: p1().sampler,
                   lambda v: st.set_pane(1, sampler=v), fmt=lambda s: names.display("sampler", s),
                   label="B sampler", tips=lambda s: names.tip("sampler", s),
                   tip="Pane B's sampler."),
            Slider("B steps", 1, 250, lambda: p1().steps, lambda v: st.set_pane(1, steps=v),
                   log=True, integer=True, live=False, tip="Pane B's sampling steps."),
        ]
    rows += [
        Segmented([("dark", "dark"), ("light", "light"), ("high-contrast", "contrast")],
                  lambda: st.theme_name, st.set_theme,
                  tips=["Dark theme (V cycles themes).", "Light theme, for bright rooms and print.",
                        "High contrast: black and white with thick lines, for projectors."]),
        Slider("presenter", 0.75, 3.0, lambda: st.presenter_scale, st.set_presenter_scale,
               fmt="{:.2f}\u00d7", live=False, step=0.05,
               tip="Presenter scale: bigger text, lines and points for a projector (Ctrl+ / Ctrl-)."),
        Row(Cycler(lambda: list(st.recording.SIZES), lambda: st.recording.size, st.set_record_size,
                   fmt=lambda wh: f"{wh[0]}\u00d7{wh[1]}", label="size",
                   tip="Size of exported pictures and animations (canvas PNG, GIF, MP4)."),
            Button("canvas PNG", st.save_canvas,
                   tip="Save the canvas alone (no panel) at the export size, as it is now.")),
        Row(Button("PNG", app.screenshot, tip="Save a screenshot of the window (P)."),
            Button("GIF", lambda: st.record("gif"), tip="Record the animation as a GIF (Ctrl+G)."),
            Button("MP4", lambda: st.record("mp4"), tip="Record the animation as an MP4 video (Ctrl+M)."),
            Button("session", st.save_session,
                   tip="Save drawing, settings and models in one file to reopen later (Ctrl+S)."),
            weights=[1, 1, 1, 1.6]),
        Row(Button("full screen", app.toggle_fullscreen, tip="Full screen on / off (F11)."),
            Button("help (H)", app.toggle_help, active=lambda: st.help_visible,
                   tip="Every keyboard shortcut and mouse action.")),
    ]
    return rows


_LAYER_TIPS = {
    "particles": "The samples as dots, moving from noise to data (1).",
    "trajectories": "The path each of a few particles takes from noise to data (2).",
    "contours": "Density of the samples at the current time, as contour lines (3).",
    "field": "The model's velocity field at the current time: arrows show where points move (4).",
    "mesh": "A grid of noise carried along by the sampler: shows how space is bent (5).",
    "data": "The data points you drew or loaded (6).",
}


def _toggles(st, layers) -> Row:
    return Row(*[_toggle(st, n) for n in layers])


def _toggle(st, n: str) -> Button:
    return Button(n, lambda: st.toggle(n), active=lambda: getattr(st.options, n),
                  tip=_LAYER_TIPS.get(n, ""))


class Panel:
    def __init__(self, app):
        self.app = app
        self.rows: list[Widget] = []
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.scroll = 0
        self.content_h = 0
        self._struct = None
        self._key = None
        self._sig = None
        self._offsets: list[tuple[int, int]] = []     # (y in content, height) per row
        self._sliders: list[Slider] = []
        self._surf: pygame.Surface | None = None
        self._bar_drag: float | None = None           # pointer y minus thumb top while dragging
        self._pad = 8
        self._bar_w = 8

    # ---- layout --------------------------------------------------------------------------------
    def layout(self, rect: pygame.Rect, theme: Theme) -> None:
        st = self.app.state
        struct = (rect.w, theme.scale, theme.name, self.app.advanced, st.compare)
        if struct != self._struct:
            self._struct = struct
            self._key = None
            self._rebuild(rect, theme)
        self.rect = rect
        self.scroll = self._clamped(self.scroll)
        key = (tuple(rect), self.scroll)
        if key == self._key:
            return
        self._key = key
        x = rect.x + self._pad
        w = rect.w - 2 * self._pad - self._bar_w
        gap = row_metrics(theme)[1]
        for widget, (y, h) in zip(self.rows, self._offsets):
            r = pygame.Rect(x, rect.y + y - self.scroll, w, h)
            if isinstance(widget, Row):
                widget.layout(r, gap)
            else:
                widget.rect = r

    def _rebuild(self, rect: pygame.Rect, theme: Theme) -> None:
        self.rows = build(self.app)
        rh, gap, pad = row_metrics(theme)
        self._pad, self._bar_w = pad, max(6, theme.font_px // 2)
        w = rect.w - 2 * pad - self._bar_w
        y = pad
        self._offsets = []
        for widget in self.rows:
            n = widget.lines(w, theme)
            widget.nlines = n
            h = rh if isinstance(widget, Label) else n * rh + (n - 1) * gap
            self._offsets.append((y, h))
            y += h + gap
        self.content_h = y + pad
        self._sliders = [w for w in self.leaves() if isinstance(w, Slider)]

    def _clamped(self, scroll: int) -> int:
        return int(min(max(scroll, 0), max(0, self.content_h - self.rect.h)))

    def leaves(self):
        for w in self.rows:
            yield from w.leaves()

    def visible(self) -> list[Widget]:
        """Rows at least partly inside the panel."""
        return [w for w in self.rows if w.rect.bottom > self.rect.top and w.rect.top < self.rect.bottom]

    # ---- scroll bar ----------------------------------------------------------------------------
    def bar_rects(self) -> tuple[pygame.Rect, pygame.Rect] | None:
        """(track, thumb) when the content is taller than the panel, else None."""
        if self.content_h <= self.rect.h:
            return None
        track = pygame.Rect(self.rect.right - self._bar_w - 3, self.rect.y + 4, self._bar_w,
                            self.rect.h - 8)
        th = max(self._bar_w * 3, int(track.h * self.rect.h / self.content_h))
        most = self.content_h - self.rect.h
        ty = track.y + int((track.h - th) * self.scroll / most)
        return track, pygame.Rect(track.x, ty, track.w, th)

    # ---- drawing -------------------------------------------------------------------------------
    def draw(self, surf: pygame.Surface, theme: Theme) -> None:
        """Redraw into a cached surface only when a widget's signature changed, then blit it."""
        visible = self.visible()
        sig = (self._struct, self._key, tuple(w.signature() for w in visible))
        if sig != self._sig or self._surf is None or self._surf.get_size() != self.rect.size:
            self._sig = sig
            if self._surf is None or self._surf.get_size() != self.rect.size:
                self._surf = pygame.Surface(self.rect.size)
            s = self._surf
            s.fill(theme.panel)
            pygame.draw.line(s, theme.panel_border, (self.rect.w - 1, 0), (self.rect.w - 1, self.rect.h))
            # widgets draw in screen coordinates: draw on the screen, then keep a copy
            prev = surf.get_clip()
            surf.set_clip(self.rect)
            surf.blit(s, self.rect)
            for w in visible:
                w.draw(surf, theme)
            bars = self.bar_rects()
            if bars is not None:
                track, thumb = bars
                pygame.draw.rect(surf, blend(theme.panel, theme.panel_border, 0.5), track,
                                 border_radius=track.w // 2)
                pygame.draw.rect(surf, theme.text_dim, thumb, border_radius=track.w // 2)
            surf.set_clip(prev)
            s.blit(surf, (0, 0), self.rect)
            return
        surf.blit(self._surf, self.rect)

    # ---- events --------------------------------------------------------------------------------
    def handle(self, ev) -> bool:
        pos = getattr(ev, "pos", None)
        dragging = [w for w in self._sliders if w.dragging]
        if ev.type in (pygame.MOUSEMOTION, pygame.MOUSEBUTTONUP) and dragging:
            for w in dragging:
                w.handle(ev)
            return True
        if self._bar_drag is not None and ev.type in (pygame.MOUSEMOTION, pygame.MOUSEBUTTONUP):
            if ev.type == pygame.MOUSEBUTTONUP:
                self._bar_drag = None
            else:
                self._drag_bar(ev.pos[1])
            return True
        if pos is None or not self.rect.collidepoint(pos):
            return False
        if ev.type == pygame.MOUSEWHEEL:  # the wheel scrolls; it never changes a value
            self.scroll_by(-int(getattr(ev, "y", 0)) * max(40, self.rect.h // 12))
            return True
        bars = self.bar_rects()
        if bars is not None and ev.type == pygame.MOUSEBUTTONDOWN and getattr(ev, "button", 0) == 1:
            track, thumb = bars
            if track.inflate(6, 0).collidepoint(pos):
                if not thumb.collidepoint(pos):  # a click on the track jumps there
                    self._bar_drag = thumb.h / 2
                    self._drag_bar(pos[1])
                self._bar_drag = pos[1] - (self.bar_rects() or bars)[1].y
                return True
        for wd in self.visible():
            if wd.rect.collidepoint(pos):
                wd.handle(ev)
                break
        return True

    def _drag_bar(self, y: int) -> None:
        bars = self.bar_rects()
        if bars is None:
            return
        track, thumb = bars
        free = max(1, track.h - thumb.h)
        u = (y - (self._bar_drag or 0.0) - track.y) / free
        self.scroll = self._clamped(int(round(u * (self.content_h - self.rect.h))))

    def scroll_by(self, dy: int) -> None:
        self.scroll = self._clamped(self.scroll + dy)

    def tip_at(self, pos) -> tuple[object, str] | None:
        """(widget, tooltip) under the pointer, or None."""
        if not self.rect.collidepoint(pos):
            return None
        for w in self.visible():
            if w.rect.collidepoint(pos):
                for leaf in w.leaves():
                    if leaf.rect.collidepoint(pos):
                        return leaf, w.tip_at(pos) if leaf is w else leaf.tip_at(pos)
        return None
