"""The real window, headless (SDL dummy driver), driven by REAL posted events through its loop."""
import numpy as np
import pygame
import pytest
import torch

from sandbox.app import engine
from sandbox.app.settings import Settings, TrainSettings
from sandbox.app.widgets import Button, Row
from sandbox.app.window import App
from sandbox.datasets import Normalizer
from sandbox.oracle import GaussianMixture, MixtureField
from sandbox.paths import FlowPath

TINY = TrainSettings(train_steps=25, batch_size=64, width=16, depth=1, eval_every=0)
MEANS = np.array([[3.0, 1.0], [5.0, 1.0], [4.0, 3.0]])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def app(tmp_path):
    a = App(None, size=(1000, 700), settings=Settings(train=TINY, particles=400),
            load_shipped=False, auto_train=False, out_dir=tmp_path)
    a.run_frames(1)
    yield a
    a.close()


def exact_model(std=0.05):
    norm = Normalizer(MEANS.mean(0), 1.7)
    mc = torch.tensor(norm.forward(MEANS), dtype=torch.float32)
    covs = (std / norm.scale) ** 2 * torch.eye(2).repeat(3, 1, 1)
    return engine.ExactModel(MixtureField(GaussianMixture(torch.ones(3), mc, covs), FlowPath()), norm)


def post(type_, **kw):
    pygame.event.post(pygame.event.Event(type_, **kw))


def key(k, mod=0):
    post(pygame.KEYDOWN, key=k, mod=mod, unicode="", scancode=0)
    post(pygame.KEYUP, key=k, mod=mod, unicode="", scancode=0)


def click(pos, button=1):
    post(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0))
    post(pygame.MOUSEBUTTONDOWN, pos=pos, button=button)
    post(pygame.MOUSEBUTTONUP, pos=pos, button=button)


def button(app, text) -> Button:
    for w in app.panel.rows:
        for c in (w.children if isinstance(w, Row) else [w]):
            if isinstance(c, Button) and (c.text() if callable(c.text) else c.text) == text:
                return c
    raise LookupError(text)


def run_until(app, cond, frames=3000):
    for _ in range(frames):
        app.run_frames(1)
        if cond():
            return
        pygame.time.wait(5)
    raise AssertionError("condition not reached")


def test_click_train_trains_and_shows_loss(app):
    app.state.set_preset("moons")
    app.run_frames(1)
    click(button(app, "Train").rect.center)
    app.run_frames(1)
    assert app.state.training.running
    run_until(app, lambda: not app.state.training.running and app.state.panes[0].sampled is not None)
    assert ("flow",) in app.state.models and len(app.state.training.losses) == TINY.train_steps
    assert app.errors == 0


def test_drag_on_canvas_sprays_points_under_the_mouse(app):
    key(pygame.K_DELETE)                                  # clear
    key(pygame.K_b)                                       # spray tool
    app.run_frames(1)
    assert len(app.state.drawing) == 0
    c = app.canvas
    path = [(c.x + 100 + 20 * k, c.centery) for k in range(10)]
    post(pygame.MOUSEBUTTONDOWN, pos=path[0], button=1)
    for p in path[1:]:
        post(pygame.MOUSEMOTION, pos=p, rel=(20, 0), buttons=(1, 0, 0))
    post(pygame.MOUSEBUTTONUP, pos=path[-1], button=1)
    app.run_frames(1)
    pts = app.state.drawing.points
    assert len(pts) > 50
    px = app.viewport(0).to_pixels(pts)
    r_px = app.state.brush_radius * app.viewport(0).scale
    assert (np.abs(px[:, 1] - c.centery) <= r_px + 1).all()
    assert px[:, 0].min() >= path[0][0] - r_px - 1 and px[:, 0].max() <= path[-1][0] + r_px + 1
    key(pygame.K_z, pygame.KMOD_CTRL)                     # undo the last spray
    app.run_frames(1)
    assert len(app.state.drawing) < len(pts)


def test_frame_shows_particles_where_the_model_puts_them(app):
    st = app.state
    rng = np.random.default_rng(0)
    st.drawing.replace(MEANS[rng.integers(0, 3, 300)] + 0.05 * rng.normal(size=(300, 2)))
    st.models[engine.model_key(exact_model())] = exact_model()
    st.resample()
    st.wait_idle()
    key(pygame.K_6)                                       # data off (traces, contours: off at start)
    key(pygame.K_END)                                     # progress 1: the samples
    key(pygame.K_SPACE)                                   # pause
    app.run_frames(1)
    assert not st.options.trajectories and not st.options.contours and not st.options.data
    assert st.progress == 1.0 and not st.playing
    from sandbox.view import Theme

    col = np.array(Theme.named(st.theme_name, st.presenter_scale).particle)
    rgb = pygame.surfarray.array3d(app.screen)            # (W, H, 3)
    x, y, w, h = app.pane_rects[0]
    lit = np.argwhere((rgb[x:x + w, y:y + h] == col).all(axis=2)) + [x, y]
    modes = app.viewport(0).to_pixels(MEANS)
    d = np.linalg.norm(lit[:, None] - modes[None], axis=2)
    scale = app.viewport(0).scale
    assert len(lit) > 100
    assert (d.min(axis=1) < 0.3 * scale).mean() > 0.97   # lit pixels sit on the modes
    assert ((d < 0.1 * scale).sum(axis=0) > 10).all()     # and every mode is lit
    key(pygame.K_HOME)                                    # at noise they are spread out
    app.run_frames(1)
    rgb0 = pygame.surfarray.array3d(app.screen)
    lit0 = np.argwhere((rgb0[x:x + w, y:y + h] == col).all(axis=2)) + [x, y]
    d0 = np.linalg.norm(lit0[:, None] - modes[None], axis=2).min(axis=1)
    assert (d0 > 0.3 * scale).mean() > 0.5


def test_keys_resize_drop_and_fullscreen(app, tmp_path):
    st = app.state
    playing = st.playing
    key(pygame.K_SPACE)
    key(pygame.K_h)
    key(pygame.K_4)
    key(pygame.K_c)
    app.run_frames(1)
    assert st.playing != playing and st.help_visible and st.options.field and st.compare
    key(pygame.K_ESCAPE)
    app.run_frames(1)
    assert not st.help_visible
    post(pygame.VIDEORESIZE, size=(820, 610), w=820, h=610)
    app.run_frames(1)
    assert app.screen.get_size() == (820, 610) and app.canvas.right == 820
    post(pygame.VIDEORESIZE, size=(-5, 10**9), w=-5, h=10**9)  # nonsense sizes are ignored
    app.run_frames(1)
    assert app.screen.get_size() == (820, 610)
    csv = tmp_path / "drop.csv"
    csv.write_text("0,0\n1,0\n0,1\n1,1\n")
    post(pygame.DROPFILE, file=str(csv))
    post(pygame.DROPFILE, file=str(tmp_path / "missing.png"))
    app.run_frames(1)
    assert len(st.drawing) == 4
    assert any("no such file" in m.text for m in st.messages)
    key(pygame.K_F11)
    app.run_frames(2)
    key(pygame.K_F11)
    app.run_frames(2)
    key(pygame.K_p)
    app.run_frames(1)
    assert list(tmp_path.glob("sandbox-*.png"))
    key(pygame.K_EQUALS, pygame.KMOD_CTRL)                # presenter scale up
    app.run_frames(1)
    assert st.presenter_scale > 1.0
    assert app.errors == 0 and app.running


def test_file_dialog_opens_and_closes(app):
    key(pygame.K_o, pygame.KMOD_CTRL)
    app.run_frames(2)
    assert app.dialog is not None
    key(pygame.K_ESCAPE)
    app.run_frames(1)
    assert app.dialog is None and app.errors == 0


def test_training_failures_are_messages_not_crashes(app):
    st = app.state
    key(pygame.K_DELETE)
    app.run_frames(1)
    click(app.canvas.center)                              # a spray...
    app.run_frames(1)
    st.erase(*app.viewport(0).to_world([app.canvas.center])[0], radius=10.0)
    st.spray(0.0, 0.0, radius=0.0, density=1)             # ...reduced to one point
    key(pygame.K_t)
    app.run_frames(2)
    assert not st.training.running and "at least 2" in st.messages[-1].text
    st.spray(0.0, 0.0, radius=1.0, density=100)
    st.set_train(lr=100.0)
    key(pygame.K_t)
    run_until(app, lambda: not st.training.running, frames=2000)
    assert any("diverged" in m.text for m in st.messages)
    key(pygame.K_SPACE)
    app.run_frames(1)
    assert app.errors == 0 and app.running


def test_unexpected_errors_are_counted_and_survived(app, monkeypatch):
    def boom(*a):
        raise RuntimeError("boom")

    monkeypatch.setattr(app.state, "new_noise", boom)
    key(pygame.K_n)
    app.run_frames(2)
    assert app.errors == 1 and app.running
    assert "boom" in app.state.messages[-1].text
    loop = app.state.loop
    key(pygame.K_l)                                       # still responsive
    app.run_frames(1)
    assert app.state.loop != loop


def test_presenter_scale_panel_scrolls_and_widgets_work(app):
    st = app.state
    st.set_presenter_scale(2.5)
    app.run_frames(1)
    panel = app.panel
    assert panel.content_h > panel.rect.h                  # too tall: it scrolls
    post(pygame.MOUSEMOTION, pos=(20, 300), rel=(0, 0), buttons=(0, 0, 0))
    post(pygame.MOUSEWHEEL, x=0, y=-3, flipped=False)
    app.run_frames(2)
    assert panel.scroll > 0
    def theme_row():  # widgets are rebuilt when the layout (scroll) changes: look it up afresh
        return next(w for w in panel.rows if getattr(w, "options", None) and w.options[0][0] == "dark")

    if theme_row().rect.bottom > panel.rect.bottom:       # scroll it into view
        panel.scroll_by(theme_row().rect.bottom - panel.rect.bottom + 10)
        app.run_frames(1)
    cells = theme_row()._cells()
    click(cells[2].center)                               # "contrast"
    app.run_frames(1)
    assert st.theme_name == "high-contrast" and app.errors == 0


def test_the_window_fits_the_desktop_it_opens_on(monkeypatch):
    """Under Xvfb at 1280x800 `diffusion-sandbox lesson 4` opened 1440x860: the lesson's Check
    button and the control panel's left edge were off the screen."""
    import pygame

    from sandbox.app.opening import DECORATIONS, fit_to_desktop

    monkeypatch.setattr(pygame.display, "get_driver", lambda: "x11")
    monkeypatch.setattr(pygame.display, "get_desktop_sizes", lambda: [(1280, 800)])
    assert fit_to_desktop((1440, 860)) == (1280, 800 - DECORATIONS)
    monkeypatch.setattr(pygame.display, "get_desktop_sizes", lambda: [(1920, 1080)])
    assert fit_to_desktop((1440, 860)) == (1440, 860)          # room enough: as asked
    monkeypatch.setattr(pygame.display, "get_driver", lambda: "dummy")
    monkeypatch.setattr(pygame.display, "get_desktop_sizes", lambda: [(1024, 768)])
    assert fit_to_desktop((1920, 1080)) == (1920, 1080)        # headless tests keep their size


def _spy_display(monkeypatch) -> list:
    """Record the window's moves and mode changes, in order, and let them happen."""
    calls: list = []
    move, set_mode = pygame.display.set_window_position, pygame.display.set_mode

    def spy_move(pos):
        calls.append(("move", tuple(pos)))
        move(pos)

    def spy_mode(size=(0, 0), flags=0, *a, **kw):
        calls.append(("full" if flags & pygame.FULLSCREEN else "window", tuple(size)))
        return set_mode(size, flags, *a, **kw)

    monkeypatch.setattr(pygame.display, "set_window_position", spy_move)
    monkeypatch.setattr(pygame.display, "set_mode", spy_mode)
    return calls


def test_fullscreen_fills_the_screen_from_its_corner_and_comes_back(app, monkeypatch):
    """Without a window manager (Xvfb, kiosks) SDL resized the window to the screen but left it
    where it was: a black band at the top and the time bar off the bottom. The window now moves to
    the display's corner before fullscreen, and leaving puts back its size and place."""
    pygame.display.set_window_position((70, 40))
    app.run_frames(1)
    calls = _spy_display(monkeypatch)
    key(pygame.K_F11)
    app.run_frames(2)
    desktop = pygame.display.get_desktop_sizes()[0]
    assert app.state.fullscreen and app.screen.get_size() == desktop
    assert calls == [("move", (0, 0)), ("full", (0, 0))]        # to the corner first, then fill
    assert pygame.display.get_window_position() == (0, 0)
    assert app.timebar.rect.bottom == desktop[1] and app.canvas.right == desktop[0]
    calls.clear()
    key(pygame.K_F11)
    app.run_frames(2)
    assert not app.state.fullscreen and app.screen.get_size() == (1000, 700)
    assert pygame.display.get_window_position() == (70, 40) and calls[0] == ("window", (1000, 700))
    pygame.display.set_window_position((0, 0))                  # already in the corner: no move
    calls.clear()
    app.toggle_fullscreen()
    app.toggle_fullscreen()
    assert calls == [("full", (0, 0)), ("window", (1000, 700))] and app.errors == 0


def test_fullscreen_on_a_second_display_goes_to_that_displays_corner(app, monkeypatch):
    """With several displays the corner is the one of the display the window is on, which SDL
    reports once fullscreen; a window elsewhere is taken there and fullscreen set again."""
    monkeypatch.setattr(pygame.display, "get_num_displays", lambda: 2)
    pygame.display.set_window_position((70, 40))
    calls = _spy_display(monkeypatch)
    app.toggle_fullscreen()
    assert calls == [("full", (0, 0)), ("window", (1000, 700)), ("move", (0, 0)), ("full", (0, 0))]
    calls.clear()
    app.toggle_fullscreen()
    assert app.screen.get_size() == (1000, 700) and pygame.display.get_window_position() == (70, 40)


def test_fullscreen_from_the_command_line_leaves_to_the_window_size(tmp_path):
    """`--fullscreen`: the window opens, fills the screen, and Esc gives back the size asked for."""
    a = App(None, size=(900, 640), fullscreen=True, settings=Settings(train=TINY, particles=100),
            load_shipped=False, auto_train=False, out_dir=tmp_path)
    try:
        a.run_frames(1)
        assert a.state.fullscreen and a.screen.get_size() == pygame.display.get_desktop_sizes()[0]
        key(pygame.K_ESCAPE)
        a.run_frames(1)
        assert not a.state.fullscreen and a.screen.get_size() == (900, 640) and a.errors == 0
    finally:
        a.close()


def test_a_narrow_compare_pane_keeps_its_sampler_in_the_header(tmp_path):
    """Seen in lesson 3 at 1280x800 (panes 300 px): pane B's header said only 'DDPM (eps, linear)' and not the
    sampler the step is about; it drops the prediction and schedule first."""
    a = App(None, size=(900, 700), settings=Settings(train=TINY, particles=400), load_shipped=False,
            auto_train=False, out_dir=tmp_path)
    try:
        a.state.set_compare(True)
        a.state.set_pane(1, objective="ddpm", sampler="ddpm", steps=50)
        a.run_frames(1)
        label, width, room = a.pane_headers[1]
        assert width <= room and "DDPM ancestral 50 steps" in label, (label, room)
    finally:
        a.close()


def test_a_model_of_older_data_says_so_in_its_pane_header(app):
    """After a stroke (or clear) the model of the previous data keeps animating: only the status line's
    small 'data changed: T retrains' said so, not the header the class reads (seen at 1280x800)."""
    st = app.state
    st.use_model(exact_model())
    st.wait_idle()
    app.run_frames(1)
    assert "data changed" not in app.pane_headers[0][0]
    st.spray(4.0, 2.0, radius=0.3, density=30)
    app.run_frames(1)
    label, width, room = app.pane_headers[0]
    assert label.endswith("(data changed: T retrains)") or "(data changed: T retrains)  \u00b7  NFE" in label, label
    assert width <= room and app.errors == 0


def test_compare_training_names_the_model_and_the_pane_waiting_for_it(app):
    """Compare mode trains pane A's model, then pane B's: the status line said 'training 240/800' (which
    model?) and pane B's header 'data changed: T retrains' while T had been pressed (seen at 1280x800)."""
    from sandbox.app.timebar import status_texts
    from sandbox.paths import DDPMPath
    from sandbox.schedules import get_schedule

    st = app.state
    st.set_train(train_steps=100000)
    st.use_model(exact_model())
    norm = Normalizer(MEANS.mean(0), 1.7)
    mc = torch.tensor(norm.forward(MEANS), dtype=torch.float32)
    mix = GaussianMixture(torch.ones(3), mc, (0.05 / norm.scale) ** 2 * torch.eye(2).repeat(3, 1, 1))
    st.use_model(engine.ExactModel(MixtureField(mix, DDPMPath(get_schedule("linear", 100))), norm))
    st.set_compare(True)
    st.set_pane(0, objective="flow")
    st.set_pane(1, objective="ddpm", prediction="eps", schedule="linear", sampler="ddpm")
    st.wait_idle()
    st.spray(4.0, 2.0, radius=0.3, density=30)           # both models now of older data
    app.run_frames(1)
    assert app.pane_headers[1][0].endswith("(data changed: T retrains)"), app.pane_headers[1]
    assert st.train()
    try:
        app.run_frames(1)
        assert "(data changed: retraining)" in app.pane_headers[1][0], app.pane_headers[1]
        assert status_texts(st)[0].split("  \u00b7  ")[1].startswith("training flow matching "), status_texts(st)
    finally:
        st.stop()
        st.wait_idle()
    assert app.errors == 0
