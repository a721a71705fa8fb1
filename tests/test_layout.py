"""The window's layout, checked by a program: the real window renders headless (SDL dummy driver)
in named states at 1280x800 and 1920x1080, presenter scale 1.0x and 2.0x (and 2.5x at the
projector size), and every frame must have

- every control inside the window (panel rows may be scrolled out of the panel, never cut at its
  sides; a panel taller than the window shows a scroll bar), the time slider and the status too;
- no two controls overlapping, and the panel, canvas, time bar and lesson column apart;
- every text inside its box and not squeezed (a text drawn narrower than it is, is clipped text);
- pane headers, toasts, tooltips, the help and the dialog inside the window.

Each frame is written to out/layout/<size>-<scale>x-<state>.png (or $LAYOUT_PNG_DIR) so a
person can look at them; docs/img/ holds a few of them.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pygame
import pytest

from sandbox.app.settings import Settings
from sandbox.app.window import App

from window_kit import _classes, _text_of

SIZES = [(1280, 800), (1920, 1080)]
SCALES = [1.0, 2.0]
SQUEEZE = 0.97          # a text may be drawn at >= 97% of its width (rounding), never less
OUT = Path(os.environ.get("LAYOUT_PNG_DIR", Path(__file__).resolve().parents[1] / "out" / "layout"))


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    old = os.environ.get("DIFFUSION_SANDBOX_CACHE")
    os.environ["DIFFUSION_SANDBOX_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("DIFFUSION_SANDBOX_CACHE", None)
    else:
        os.environ["DIFFUSION_SANDBOX_CACHE"] = old


def _training(st):
    tr = st.training
    tr.losses[:] = list(1.0 / np.sqrt(np.arange(1, 801)) + 0.05 * np.random.default_rng(0).random(800))
    tr.step, tr.total = 800, 1000
    tr.scores[:] = [(800, 0.031)]
    tr.baseline = 0.025
    tr.key = st.panes[0].settings.model_key()    # the run of the model shown: its chart is drawn
    st.run_model = st.models.get(tr.key)


def _toasts(st):
    for text in ("loaded moons.csv: 2000 points - press T to train", "saved screenshot sandbox.png",
                 "saved screenshot sandbox.png", "recording sandbox.gif ..."):
        st.say(text)


# name -> how to get there from the first view (app, state)
STATES = {
    "first-view": lambda app, st: None,
    "advanced": lambda app, st: setattr(app, "advanced", True),
    "advanced-scrolled": lambda app, st: (setattr(app, "advanced", True), app.panel.scroll_by(10 ** 6)),
    "compare": lambda app, st: st.set_compare(True),
    "training-chart": lambda app, st: _training(st),
    "toasts": lambda app, st: _toasts(st),
    "help": lambda app, st: setattr(st, "help_visible", True),
    "theme-light": lambda app, st: st.set_theme("light"),
    "theme-high-contrast": lambda app, st: st.set_theme("high-contrast"),
    "file-dialog": lambda app, st: app.open_dialog(),
    "tooltip": lambda app, st: _tooltip(app),
    "tooltip-jargon": lambda app, st: _tooltip_header(app),
    "keyboard-focus": lambda app, st: setattr(app, "focus_index", 12),
    "restore-banner": lambda app, st: setattr(st, "restore_offer", (np.zeros((1234, 2)), None)),
    "classes-guidance": lambda app, st: _classes(st),     # last: _reset brings the smiley back
}


def _tooltip(app):
    app._tip_forced = True
    app.draw()   # lays out the panel first
    sampler = next(w for w in app.panel.leaves() if getattr(w, "label", "") == "sampler")
    app.mouse = sampler.rect.center


def _tooltip_header(app):
    app._tip_forced = True
    app.draw()
    label, width, _ = app.pane_headers[0]
    app.mouse = (app.pane_rects[0].x + 20, app.pane_rects[0].y + 20)
    if "NFE" in label:                                   # the header's jargon explains itself
        assert "function evaluations" in app.tip_target(app.mouse)[1]


def _reset(app):
    st = app.state
    app.close_dialog()
    app._tip_forced = False
    app.focus_index = None
    app.mouse = (-1, -1)
    app.advanced = False
    app.panel.scroll = 0
    st.set_compare(False)
    st.set_theme("dark")
    st.help_visible = False
    st.restore_offer = None
    if st.drawing.name != "smiley":
        st.set_preset("smiley")
    st.messages.clear()
    st.play(False)            # a still frame at the data end: the same picture every run
    st.set_progress(1.0)
    tr = st.training
    tr.losses[:], tr.scores[:], tr.step, tr.total = [], [], 0, 0


def _inside(inner: pygame.Rect, outer: pygame.Rect, slack: int = 1) -> bool:
    return outer.inflate(2 * slack, 2 * slack).contains(inner)


def check_geometry(app, where: str) -> list[str]:
    """Every problem with the frame just drawn, as readable lines."""
    bad: list[str] = []
    win = app.screen.get_rect()
    panel, bar = app.panel, app.timebar
    areas = {"panel": panel.rect, "canvas": app.canvas, "time bar": bar.rect}
    if getattr(app, "lesson_rect", None) is not None and app.lesson_rect.w:
        areas["lesson"] = app.lesson_rect
    for name, r in areas.items():
        if not _inside(r, win, 0):
            bad.append(f"{name} {r} outside the window {win}")
    for (a, ra), (b, rb) in itertools.combinations(areas.items(), 2):
        if ra.colliderect(rb):
            bad.append(f"{a} {ra} overlaps {b} {rb}")
    # the panel: rows inside it sideways; those in view drawn whole or cut only by scrolling
    controls = []
    for w in panel.leaves():
        if w.rect.left < panel.rect.left or w.rect.right > panel.rect.right:
            bad.append(f"panel control {type(w).__name__} {w.rect} sticks out of the panel {panel.rect}")
        if w.rect.colliderect(panel.rect):   # what shows of it: scrolling may cut a row
            controls.append((f"panel {type(w).__name__} {_text_of(w)!r}", w, w.rect.clip(panel.rect)))
    if panel.content_h > panel.rect.h + 1 and panel.bar_rects() is None:
        bad.append("panel taller than the window without a scroll bar")
    if panel.content_h <= panel.rect.h and panel.scroll:
        bad.append("panel scrolled although everything fits")
    for w in bar.widgets:
        controls.append((f"time bar {type(w).__name__} {_text_of(w)!r}", w, w.rect))
        if not _inside(w.rect, bar.rect):
            bad.append(f"time bar control {w.rect} outside the time bar {bar.rect}")
    slider = bar.widgets[-1]
    if slider.rect.w < 6 * app.theme().font_px:
        bad.append(f"time slider squeezed to {slider.rect.w}px")
    if not _inside(bar.status_rect, bar.rect) or bar.status_rect.w < 4 * app.theme().font_px:
        bad.append(f"status {bar.status_rect} not visible in the time bar {bar.rect}")
    for (na, _, a), (nb, _, b) in itertools.combinations(controls, 2):
        if a.colliderect(b):
            bad.append(f"{na} {a} overlaps {nb} {b}")
    for nm, w, seen in controls:
        if bar.status_rect.colliderect(seen):
            bad.append(f"status {bar.status_rect} overlaps {nm} {seen}")
        for r, natural in w.texts:
            if not _inside(r, w.rect):
                bad.append(f"{nm}: text {r} outside its box {w.rect}")
            if r.w < SQUEEZE * natural:
                bad.append(f"{nm}: text squeezed to {r.w}/{natural}px")
    if bar.status_text is not None:
        r, natural = bar.status_text
        if not _inside(r, bar.status_rect) or r.w < SQUEEZE * natural:
            bad.append(f"status text {r} ({natural}px) does not fit {bar.status_rect}")
        edge = max(8, app.theme().font_px // 2)       # text at the very edge reads as cut (was 3 px)
        if r.right > bar.rect.right - edge or r.left < bar.rect.left + edge // 2:
            bad.append(f"status text {r} within {edge}px of the time bar's edge {bar.rect}")
    for i, (label, width, room) in app.pane_headers.items():
        if width > room:
            bad.append(f"pane {i} header {label!r} ({width}px) wider than its pane ({room}px)")
    for r in app.toast_rects:
        if not _inside(r, app.toast_area(app.theme())):     # clear of headers, time label, legend
            bad.append(f"toast {r} outside the toast area {app.toast_area(app.theme())}")
    for r in app.toast_rects:
        for i, lab in app.pane_labels.items():
            if lab is not None and r.colliderect(lab):
                bad.append(f"toast {r} covers pane {i}'s time label or key {lab}")
    for r in app.toast_rects:
        if app.chart_rect is not None and r.colliderect(app.chart_rect):
            bad.append(f"toast {r} covers the score panel {app.chart_rect}")
    for a, b in itertools.combinations(app.toast_rects, 2):
        if a.colliderect(b):
            bad.append(f"toasts {a} and {b} overlap")
    if app.banner_rect is not None:
        if not _inside(app.banner_rect, app.canvas):
            bad.append(f"restore banner {app.banner_rect} outside the canvas {app.canvas}")
        if app.chart_rect is not None and app.banner_rect.colliderect(app.chart_rect):
            bad.append(f"restore banner {app.banner_rect} covers the score panel {app.chart_rect}")
    for nm, r in (("tooltip", app.tooltip_rect), ("help", app.help_rect)):
        if r is not None and not _inside(r, win, 0):
            bad.append(f"{nm} {r} outside the window")
    if app.dialog is not None:
        d = app.dialog
        parts = [d.path_rect, d.list_rect, d.filters.rect] + [b.rect for b in d.buttons]
        if not _inside(d.rect, win, 0) or not all(_inside(p, d.rect) for p in parts):
            bad.append("file dialog parts outside the dialog or the window")
        for a, b in itertools.combinations(parts, 2):
            if a.colliderect(b):
                bad.append(f"file dialog parts {a} and {b} overlap")
        for w in d.buttons + [d.filters]:
            for r, natural in w.texts:
                if r.w < SQUEEZE * natural or not _inside(r, w.rect):
                    bad.append(f"file dialog text {r} does not fit {w.rect}")
    return [f"{where}: {b}" for b in bad]


def _shot(app, name):
    OUT.mkdir(parents=True, exist_ok=True)
    pygame.image.save(app.screen, str(OUT / f"{name}.png"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_layout_in_every_named_state(size, tmp_path):
    app = App("smiley", size=size, settings=Settings(particles=2000), auto_train=False, autosave=False,
              out_dir=tmp_path)
    problems: list[str] = []
    try:
        app.state.wait_idle()
        app.run_frames(2)
        assert app.state.panes[0].sampled is not None, "the shipped smiley model did not load"
        scales = SCALES + ([2.5] if size == (1280, 800) else [])
        for scale, (name, go) in itertools.product(scales, STATES.items()):
            _reset(app)
            app.state.set_presenter_scale(scale)
            go(app, app.state)
            app.state.wait_idle()
            app.run_frames(1)
            app.draw()            # a second pass: rows built in the first frame are drawn settled
            where = f"{size[0]}x{size[1]}-{scale:.1f}x-{name}"
            problems += check_geometry(app, where)
            if name == "first-view" and scale == 1.0 and app.panel.content_h > app.panel.rect.h:
                problems.append(f"{where}: the panel needs scrolling ({app.panel.content_h} > "
                                f"{app.panel.rect.h} px): the first view shows every control")
            _shot(app, where)
        assert app.errors == 0, [m.text for m in app.state.messages]
    finally:
        app.close()
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_layout_with_the_lesson_column(size, tmp_path):
    from lessons import get_lesson
    from lessons.runner import LessonRunner
    from lessons.window import LessonApp

    app = LessonApp(LessonRunner(get_lesson("few_steps")), size=size, settings=Settings(particles=1000),
                    auto_train=False, autosave=False, out_dir=tmp_path)
    problems: list[str] = []
    try:
        for scale in SCALES:
            app.state.set_presenter_scale(scale)
            app.state.wait_idle()
            app.run_frames(2)
            where = f"{size[0]}x{size[1]}-{scale:.1f}x-lesson"
            problems += check_geometry(app, where)
            _shot(app, where)
        assert app.errors == 0
    finally:
        app.close()
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_presenter_scale_keeps_the_layout(size, tmp_path):
    """The presenter scales in between (1.55x clipped text at 1280x800 once), on the busiest states."""
    app = App("smiley", size=size, settings=Settings(particles=500), auto_train=False, autosave=False,
              out_dir=tmp_path)
    problems: list[str] = []
    try:
        app.state.wait_idle()
        for scale, name in itertools.product((1.25, 1.55, 1.75, 2.25, 2.5, 3.0),
                                             ("advanced", "compare", "toasts", "help")):
            _reset(app)
            app.state.set_presenter_scale(scale)
            STATES[name](app, app.state)
            app.state.wait_idle()
            app.run_frames(1)
            app.draw()
            problems += check_geometry(app, f"{size[0]}x{size[1]}-{scale:.2f}x-{name}")
        assert app.errors == 0
    finally:
        app.close()
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("size", [(1024, 768), (800, 600)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_fits_older_projectors_at_every_presenter_scale(size, tmp_path):
    """At 3x on a 1024x768 projector (2.5x at 800x600) the help ran 187 px off both sides of the
    window (its text stopped shrinking at 0.36 of the font): it shrinks on down to 9 px."""
    from sandbox.app.keys import PRESENTER_STEPS

    app = App("smiley", size=size, settings=Settings(particles=100), load_shipped=False, auto_train=False,
              autosave=False, out_dir=tmp_path)
    try:
        app.state.help_visible = True
        for scale in PRESENTER_STEPS:
            app.state.set_presenter_scale(scale)
            app.run_frames(1)
            assert _inside(app.help_rect, app.screen.get_rect(), 0), (scale, app.help_rect)
        assert app.errors == 0
    finally:
        app.close()


def test_restore_banner_stays_on_the_canvas():
    """At 3x on 1024x768 the banner went below the score panel and out of the canvas, over the time
    bar's speed buttons (Rect(470, 282, 544, 264) in a 564x459 canvas): it overlaps the chart instead."""
    from sandbox.app import overlays
    from sandbox.view.theme import Theme

    pygame.font.init()
    surf = pygame.Surface((1024, 768))
    canvas, chart = pygame.Rect(460, 0, 564, 459), pygame.Rect(470, 115, 544, 159)
    *_, box = overlays.restore_banner(surf, canvas, Theme(scale=3.0), 1234, avoid=chart)
    assert _inside(box, canvas, 0), box


def test_compare_fits_an_older_projector(tmp_path, monkeypatch):
    """At 2.5-3x on a 1024x768 projector (the window opens 1024x704) compare mode's pane A said
    'flow matchi...' in a shrunk font beside pane B's full-size 'DDPM', and its score read '0....'
    beside the badge: every header and score text now fits whole ('flow', '0.99x' with the grade
    in words below)."""
    from sandbox.view import score_panel

    cut: list[str] = []
    real = score_panel.draw_text_fit

    def fit(surface, text, pos, width, theme, *a, mult=1.0, **k):
        if theme.font(mult, k.get("bold", False)).size(text)[0] > width:
            cut.append(text)
        return real(surface, text, pos, width, theme, *a, mult=mult, **k)

    monkeypatch.setattr(score_panel, "draw_text_fit", fit)
    app = App("smiley", size=(1024, 704), settings=Settings(particles=200), auto_train=False, autosave=False,
              out_dir=tmp_path)
    problems: list[str] = []
    try:
        app.state.wait_idle()
        app.state.set_compare(True)
        for scale in (2.5, 3.0):
            app.state.set_presenter_scale(scale)
            app.state.wait_idle()
            app.run_frames(2)
            app.draw()
            problems += check_geometry(app, f"1024x704-{scale}x-compare")
            assert app.state.score is not None
        assert app.errors == 0
    finally:
        app.close()
    assert not problems, "\n".join(problems)
    assert not cut, cut
