"""The window's controls as a user meets them: display names never show ids, controls stay put
(the wheel scrolls and changes nothing, classes appearing move no button), the keyboard reaches
every control, disabled controls look disabled in every theme. Geometry: tests/test_layout.py."""
import numpy as np
import pygame
import pytest

from sandbox.app import names
from sandbox.app.settings import Settings
from sandbox.app.window import App

from window_kit import _classes, _text_of


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))


def test_display_names_never_show_ids():
    assert names.display("preset", "eight_gaussians") == "eight Gaussians"
    assert names.display("sampler", "euler_maruyama") == "Euler\u2013Maruyama"
    assert names.display("preset", "my_points.csv") == "my_points.csv"     # a file's name stays as it is
    assert all(names.tip("sampler", s) for s in ("ddpm", "ddim", "euler", "midpoint", "heun",
                                                 "euler_maruyama"))


def _post(type_, **kw):
    pygame.event.post(pygame.event.Event(type_, **kw))


def test_controls_stay_put(tmp_path):
    """The wheel scrolls and changes no value; classes appearing move no button; collapsing
    'advanced' brings the panel back; keyboard presenter steps return to exactly 1.00x."""
    app = App("moons", size=(1280, 800), settings=Settings(particles=500), load_shipped=False,
              auto_train=False, autosave=False, out_dir=tmp_path)
    st = app.state
    try:
        app.run_frames(1)
        train = lambda: next(w for w in app.panel.leaves() if _text_of(w) == "Train")  # noqa: E731
        y0 = train().rect.y
        _classes(st)                                   # the guidance row was there all along
        app.run_frames(1)
        assert train().rect.y == y0
        for _ in range(5):                             # Ctrl+= five times, Ctrl+- five times
            _post(pygame.KEYDOWN, key=pygame.K_EQUALS, mod=pygame.KMOD_CTRL, unicode="", scancode=0)
        app.run_frames(1)
        assert st.presenter_scale == 2.0
        for _ in range(5):
            _post(pygame.KEYDOWN, key=pygame.K_MINUS, mod=pygame.KMOD_CTRL, unicode="", scancode=0)
        app.run_frames(1)
        assert st.presenter_scale == 1.0
        st.set_presenter_scale(2.5)
        app.run_frames(1)
        steps = next(w for w in app.panel.leaves() if getattr(w, "label", "") == "steps")
        before = (st.panes[0].settings.steps, st.brush_radius, st.brush_density, st.settings.guidance)
        for _ in range(20):                            # wheel turns with the pointer on sliders
            pos = steps.rect.center if app.panel.rect.collidepoint(steps.rect.center) else (100, 300)
            _post(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0))
            _post(pygame.MOUSEWHEEL, x=0, y=-1, flipped=False)
            app.run_frames(1)
        assert (st.panes[0].settings.steps, st.brush_radius, st.brush_density, st.settings.guidance) == before
        assert app.panel.scroll > 0 and app.panel.bar_rects() is not None
        app.advanced = True
        app.run_frames(1)
        app.panel.scroll_by(10 ** 6)
        app.run_frames(1)
        assert app.panel.scroll == app.panel.content_h - app.panel.rect.h
        app.advanced = False
        app.run_frames(1)
        assert 0 <= app.panel.scroll <= max(0, app.panel.content_h - app.panel.rect.h)
        assert app.errors == 0
    finally:
        app.close()


def test_keyboard_focus_reaches_every_control(tmp_path):
    app = App("moons", size=(1280, 800), settings=Settings(particles=500), load_shipped=False,
              auto_train=False, autosave=False, out_dir=tmp_path)
    st = app.state
    try:
        st.set_presenter_scale(2.0)
        app.run_frames(1)
        order = app.focus_order()
        labels = [getattr(w, "label", "") for w in order]
        tab = dict(key=pygame.K_TAB, mod=0, unicode="", scancode=0)
        for _ in range(labels.index("steps") + 1):
            _post(pygame.KEYDOWN, **tab)
        app.run_frames(1)
        steps = app.focused
        assert steps.label == "steps" and app.panel.rect.contains(steps.rect)   # scrolled into view
        before = st.panes[0].settings.steps
        _post(pygame.KEYDOWN, key=pygame.K_RIGHT, mod=0, unicode="", scancode=0)
        app.run_frames(1)
        assert st.panes[0].settings.steps > before and st.progress >= 0     # the slider, not the frame step
        playing = st.playing
        _post(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="", scancode=0)
        _post(pygame.KEYDOWN, key=pygame.K_SPACE, mod=0, unicode="", scancode=0)
        app.run_frames(1)
        assert app.focused is None and st.playing != playing                # keys back to the shortcuts
        for _ in range(len(order)):                                         # Tab walks every control
            _post(pygame.KEYDOWN, **tab)
            app.run_frames(1)
            w = app.focused
            seen = app.panel.rect if w in list(app.panel.leaves()) else app.timebar.rect
            assert seen.contains(w.rect), (getattr(w, "label", ""), w.rect, seen)
        assert app.errors == 0
    finally:
        app.close()


def _contrast(a, b) -> float:
    """WCAG contrast ratio of two sRGB colours."""
    def lum(c):
        ch = [(v / 255) / 12.92 if v <= 0.03928 * 255 else (((v / 255) + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]
    lo, hi = sorted((lum(a), lum(b)))
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("name", ["dark", "light", "high-contrast"])
def test_disabled_controls_look_disabled_in_every_theme(name):
    """Disabled text is readable on the panel, yet far from the enabled text (high contrast's dim
    text used to be (230, 230, 230) on black: disabled looked enabled)."""
    from sandbox.app.widgets import disabled_color
    from sandbox.view.theme import Theme

    t = Theme.named(name)
    off = disabled_color(t)
    assert _contrast(off, t.panel) >= 2.0
    assert _contrast(t.text, off) >= 4.0
    # and the widgets draw with it: no pixel of a disabled button is as bright as enabled text
    from sandbox.app.widgets import Button
    pygame.display.init()
    pygame.font.init()
    surf = pygame.Surface((200, 40))
    surf.fill(t.panel)
    for enabled in (True, False):
        b = Button("redo", lambda: None, enabled=lambda e=enabled: e)
        b.rect = pygame.Rect(0, 0, 100, 40) if enabled else pygame.Rect(100, 0, 100, 40)
        b.draw(surf, t)
    px = pygame.surfarray.array3d(surf).astype(int)           # (W, H, 3)
    on, off_px = px[:100], px[100:]
    text = np.array(t.text)
    assert (np.abs(on - text).sum(axis=2) < 30).any()          # enabled: text-coloured pixels
    assert not (np.abs(off_px - text).sum(axis=2) < 100).any()  # disabled: none near it


def test_the_guidance_key_says_why_guidance_is_off(tmp_path):
    """G on the smiley's shipped model (trained without its colours) moved the greyed slider to 1.5
    and nothing else happened: a teacher pressing it saw no change and no reason."""
    app = App("smiley", size=(1280, 800), settings=Settings(particles=200), auto_train=False,
              autosave=False, out_dir=tmp_path)
    try:
        st = app.state
        st.wait_idle()
        assert st.num_classes() == 0 and st.drawing.num_classes > 1
        before = st.settings.guidance
        _post(pygame.KEYDOWN, key=pygame.K_g, mod=0, unicode="g", scancode=0)
        app.run_frames(1)
        assert st.settings.guidance == before
        assert any("trained without the drawing's colours" in m.text for m in st.messages)
        assert app.errors == 0
    finally:
        app.close()
