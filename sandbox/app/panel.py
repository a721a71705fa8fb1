"""The control panel on the left: data, model, training, view and record controls.

Every widget is bound to an AppState action, so the panel holds no settings of its own. The panel
scrolls with the mouse wheel when a large presenter scale makes it taller than the window.
"""
from __future__ import annotations

import pygame

from sandbox.datasets import preset_names
from sandbox.view.theme import Theme

from .settings import SAMPLERS_FOR
from .widgets import Button, Cycler, Label, Row, Segmented, Slider, Swatches, Widget


def build(app) -> list[Widget]:
    """The panel's rows, top to bottom (a Row or a single widget per row)."""
    st = app.state
    p0 = lambda: st.panes[0].settings  # noqa: E731
    p1 = lambda: st.panes[1].settings  # noqa: E731
    ddpm = lambda: p0().objective == "ddpm"  # noqa: E731
    classes = lambda: st.num_classes()  # noqa: E731
    adv = lambda: app.advanced  # noqa: E731
    tr = lambda: st.settings.train  # noqa: E731
    rows: list[Widget] = [
        Label("Data"),
        Cycler(lambda: list(preset_names()), lambda: st.drawing.name, st.set_preset,
               fmt=lambda n: str(n).replace("_", " ")),
        Segmented([("spray", "spray"), ("erase", "erase"), ("release", "release")],
                  lambda: st.tool, st.set_tool),
        Slider("brush", 0.02, 1.5, lambda: st.brush_radius, lambda v: st.set_brush(radius=v),
               log=True, fmt="{:.2f}"),
        Slider("density", 1, 200, lambda: st.brush_density, lambda v: st.set_brush(density=v),
               log=True, integer=True),
        Swatches(lambda: 8, lambda: st.brush_class, st.set_brush_class),
        Row(Button("undo", st.undo, enabled=st.drawing.can_undo),
            Button("redo", st.redo, enabled=st.drawing.can_redo), Button("clear", st.clear),
            Button("open", app.open_dialog), Button("save", st.save_drawing)),
        Label("Model"),
        Segmented([("ddpm", "DDPM"), ("flow", "flow matching")], lambda: p0().objective,
                  lambda v: st.set_pane(0, objective=v)),
        Row(Segmented([("eps", "\u03b5"), ("x0", "x0"), ("v", "v")], lambda: p0().prediction,
                      lambda v: st.set_pane(0, prediction=v), enabled=ddpm),
            Segmented([("linear", "linear"), ("cosine", "cosine")], lambda: p0().schedule,
                      lambda v: st.set_pane(0, schedule=v), enabled=ddpm), weights=[1, 1.1]),
        Cycler(lambda: SAMPLERS_FOR[p0().objective], lambda: p0().sampler,
               lambda v: st.set_pane(0, sampler=v), fmt=lambda s: f"sampler: {s}"),
        Slider("steps", 1, 250, lambda: p0().steps, lambda v: st.set_pane(0, steps=v), log=True,
               integer=True, live=False),
    ]
    if classes() > 0:
        rows += [
            Slider("guidance", 0.0, 6.0, lambda: st.settings.guidance, st.set_guidance, fmt="{:.1f}",
                   live=False),
            Swatches(classes, lambda: st.settings.cls, st.set_class, allow_all=True),
        ]
    rows += [
        Row(Button("Train", st.train, active=lambda: st.training.running),
            Button("Stop", st.stop, enabled=lambda: st.training.running),
            Button("Reset", st.reset_model)),
        Button(lambda: "advanced settings " + ("-" if app.advanced else "+"), app.toggle_advanced,
               active=adv),
    ]
    if app.advanced:
        rows += [
            Slider("lr", 1e-4, 1e-1, lambda: tr().lr, lambda v: st.set_train(lr=v), log=True, fmt="{:.1e}"),
            Slider("train steps", 20, 20000, lambda: tr().train_steps,
                   lambda v: st.set_train(train_steps=v), log=True, integer=True),
            Slider("batch", 16, 4096, lambda: tr().batch_size, lambda v: st.set_train(batch_size=v),
                   log=True, integer=True),
            Slider("width", 16, 512, lambda: tr().width, lambda v: st.set_train(width=v), log=True,
                   integer=True),
            Slider("depth", 1, 8, lambda: tr().depth, lambda v: st.set_train(depth=v), integer=True),
            Slider("seed", 0, 99, lambda: tr().seed, lambda v: st.set_train(seed=v), integer=True),
            Button(lambda: "OT pairing " + ("on" if tr().ot else "off"),
                   lambda: st.set_train(ot=not tr().ot), active=lambda: tr().ot,
                   enabled=lambda: p0().objective == "flow"),
            Slider("particles", 100, 10000, lambda: st.settings.particles, st.set_particles,
                   log=True, integer=True, live=False),
        ]
    rows += [
        Label("View"),
        _toggles(st, ("particles", "trajectories", "contours")),
        _toggles(st, ("field", "mesh", "data")),
        Row(Button("compare", lambda: st.set_compare(), active=lambda: st.compare),
            Button("new noise", st.new_noise)),
    ]
    if st.compare:
        rows += [
            Segmented([("ddpm", "B: DDPM"), ("flow", "B: flow")], lambda: p1().objective,
                      lambda v: st.set_pane(1, objective=v)),
            Cycler(lambda: SAMPLERS_FOR[p1().objective], lambda: p1().sampler,
                   lambda v: st.set_pane(1, sampler=v), fmt=lambda s: f"B sampler: {s}"),
            Slider("B steps", 1, 250, lambda: p1().steps, lambda v: st.set_pane(1, steps=v),
                   log=True, integer=True, live=False),
        ]
    rows += [
        Segmented([("dark", "dark"), ("light", "light"), ("high-contrast", "contrast")],
                  lambda: st.theme_name, st.set_theme),
        Slider("presenter", 0.75, 3.0, lambda: st.presenter_scale, st.set_presenter_scale,
               fmt="{:.2f}\u00d7", live=False),
        Row(Button("PNG", app.screenshot), Button("GIF", lambda: st.record("gif")),
            Button("MP4", lambda: st.record("mp4")), Button("session", st.save_session), weights=[1, 1, 1, 1.6]),
        Row(Button("full screen", app.toggle_fullscreen),
            Button("help (H)", app.toggle_help, active=lambda: st.help_visible)),
    ]
    return rows


def _toggles(st, names) -> Row:
    return Row(*[Button(n, (lambda n=n: st.toggle(n)), active=(lambda n=n: getattr(st.options, n)))
                 for n in names])


class Panel:
    def __init__(self, app):
        self.app = app
        self.rows: list[Widget] = []
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.scroll = 0
        self.content_h = 0
        self._key = None
        self._sig = None
        self._sliders: list[Slider] = []
        self._surf: pygame.Surface | None = None

    def layout(self, rect: pygame.Rect, theme: Theme) -> None:
        key = (tuple(rect), theme.scale, self.app.advanced, self.app.state.compare, self.scroll,
               self.app.state.num_classes() > 0)
        if key == self._key:
            return
        self._key = key
        self.rect = rect
        self.rows = build(self.app)
        rh = int(theme.font_px * 1.65)
        gap = max(3, rh // 7)
        pad = max(8, rh // 3)
        y = rect.y + pad - self.scroll
        for w in self.rows:
            h = rh if not isinstance(w, Label) else int(rh * 1.1)
            r = pygame.Rect(rect.x + pad, y, rect.w - 2 * pad, h)
            if isinstance(w, Row):
                w.layout(r, gap)
            else:
                w.rect = r
            y += h + gap
        self.content_h = y + self.scroll - rect.y + pad
        self._sliders = [w for w in self._all() if isinstance(w, Slider)]

    def draw(self, surf: pygame.Surface, theme: Theme) -> None:
        """Redraw into a cached surface only when a widget's signature changed, then blit it."""
        visible = [w for w in self.rows if w.rect.bottom >= self.rect.top and w.rect.top <= self.rect.bottom]
        sig = (self._key, theme.name, tuple(w.signature() for w in visible))
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
            surf.set_clip(prev)
            s.blit(surf, (0, 0), self.rect)
            return
        surf.blit(self._surf, self.rect)

    def handle(self, ev) -> bool:
        pos = getattr(ev, "pos", None)
        dragging = [w for w in self._sliders if w.dragging]
        if ev.type in (pygame.MOUSEMOTION, pygame.MOUSEBUTTONUP) and dragging:
            for w in dragging:
                w.handle(ev)
            return True
        if pos is None or not self.rect.collidepoint(pos):
            return False
        if ev.type == pygame.MOUSEWHEEL:
            for w in self.rows:
                if w.rect.collidepoint(pos) and isinstance(w, (Slider, Cycler)) and w.handle(ev):
                    return True
            self.scroll_by(-int(getattr(ev, "y", 0)) * 40)
            return True
        for w in self.rows:
            if w.rect.collidepoint(pos):
                w.handle(ev)
                break
        return True

    def _all(self):
        for w in self.rows:
            yield from (w.children if isinstance(w, Row) else [w])

    def scroll_by(self, dy: int) -> None:
        most = max(0, self.content_h - self.rect.h)
        self.scroll = int(min(max(self.scroll + dy, 0), most))

