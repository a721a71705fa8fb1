"""The TDL explorer: the plain state object, then the pygame window driven by real posted events
(SDL_VIDEODRIVER=dummy, set in conftest.py)."""
import sys

import numpy as np
import pygame
import pytest

from sandbox.errors import UserError
from tdl.explorer import Explorer, init_display
from tdl.explorer_state import ExplorerState
from tdl_synthetic import instance_colour, synthetic


def _state(**kw) -> ExplorerState:
    tree, traj = synthetic(**kw)
    return ExplorerState.from_tree(tree, traj, size=(900, 640))


def _pos(st, s, i) -> tuple[float, float]:
    return tuple(st.to_screen(st.Y[s, i]))


# --- state ------------------------------------------------------------------------------------
def test_screen_world_round_trip_and_zoom_keeps_the_cursor_point():
    st = _state()
    w = st.Y.reshape(-1, 2)
    np.testing.assert_allclose(st.to_world(st.to_screen(w)), w, atol=1e-9)
    cursor = (200.0, 150.0)
    before = st.to_world(cursor)
    st.zoom_at(cursor, 2.5)
    np.testing.assert_allclose(st.to_world(cursor), before, atol=1e-9)
    assert st.zoom == 2.5
    st.pan_by(30, -10)
    np.testing.assert_allclose(st.to_world(st.to_screen(w)), w, atol=1e-9)
    st.key("r")
    assert st.zoom == 1.0 and not st.pan.any()


def test_every_point_fits_in_the_plot_area():
    st = _state(layout="rectilinear")
    xy = st.to_screen(st.Y).reshape(-1, 2)
    r = st.plot_rect
    assert (xy[:, 0] > r.x).all() and (xy[:, 0] < r.x + r.w).all()
    assert (xy[:, 1] > r.y).all() and (xy[:, 1] < r.y + r.h).all()


def test_hover_picks_the_point_and_its_image():
    st = _state()
    assert st.hover(_pos(st, 3, 5)) == (3, 5)
    np.testing.assert_array_equal(st.hovered_image()[0, 0], instance_colour(3, 5))
    assert "step 3" in st.info_lines()[0]
    far = (st.plot_rect.w - 2, st.plot_rect.h - 2)
    assert st.hover(far) is None and st.hovered_image() is None


def test_filtered_prompts_and_later_steps_cannot_be_picked():
    st = _state(P=3, per=4)
    i = 5  # prompt 1
    st.hover(_pos(st, 4, i))
    st.toggle_prompt(1)
    assert st.hovered is None  # its point is no longer drawn
    assert st.pick(_pos(st, 4, i)) != (4, i)
    st.show_all_prompts()
    st.set_step_limit(2)
    assert st.pick(_pos(st, 4, i)) != (4, i)
    assert st.pick(_pos(st, 2, i)) == (2, i)
    assert not st.point_mask()[3:].any() and st.point_mask()[:3].all()


def test_click_selects_an_instance_and_drag_pans_instead():
    st = _state()
    st.click(_pos(st, 2, 7))
    assert st.selected == 7
    np.testing.assert_array_equal(st.selected_path(), st.Y[:, 7])
    st.set_step_limit(3)
    assert st.selected_path().shape == (4, 2)
    st.click((st.plot_rect.w - 3, 3))  # empty space clears
    assert st.selected is None
    p = _pos(st, 2, 7)
    st.press(p)
    st.motion((p[0] + 40, p[1] + 25))
    st.release((p[0] + 40, p[1] + 25))
    assert st.selected is None
    np.testing.assert_allclose(st.pan, (40, 25))


def test_legend_clicks_and_number_keys_filter_prompts():
    st = _state(P=3)
    (p0, r0), (p1, r1), _ = st.legend_entries()
    st.click((r1.x + 5, r1.y + 5))
    assert st.visible.tolist() == [True, False, True]
    st.key("0")  # key d toggles prompt d, the number the legend shows
    assert st.visible.tolist() == [False, False, True]
    st.click(_pos(st, 1, 0))  # an instance of a hidden prompt cannot be selected
    assert st.selected is None
    st.key("a")
    assert st.visible.all()
    assert st.key("9") and st.visible.all()  # no prompt 9: nothing happens


def test_ten_digit_prompts_have_ten_keys():
    st = _state(P=10, per=2)
    st.prompts = [f"a handwritten {d}" for d in range(10)]
    for d in range(10):
        st.key(str(d))
        hidden = [st.prompts[p] for p in np.flatnonzero(~st.visible)]
        assert hidden == [f"a handwritten {d}"]
        st.key(str(d))


def test_hover_takes_the_nearest_point_near_the_pointer():
    st = _state()
    x, y = _pos(st, 3, 5)
    hit = st.hover((x + 12, y + 9))  # 15 px off the dot: still the nearest shown point
    assert hit is not None
    d = np.linalg.norm(st.to_screen(st.Y) - np.array([x + 12, y + 9]), axis=-1)
    assert d[hit] == d.min()


@pytest.mark.parametrize("layout", ["radial", "rectilinear"])
def test_tree_fills_the_plot_and_leaves_room_for_ring_labels(layout):
    st = _state(layout=layout)
    xy = st.to_screen(st.Y).reshape(-1, 2)
    f, r = st.fit_rect(), st.plot_rect
    lo, hi = xy.min(0), xy.max(0)
    if layout == "radial":  # the tree fills the short side; the ring labels stay in the plot, off the points
        assert max(hi[0] - lo[0], hi[1] - lo[1]) >= 0.8 * min(f.w, f.h)
        lab = st.to_screen(st.label_pos)
        assert (lab[:, 0] > r.x).all() and (lab[:, 0] < r.x + r.w).all()
        assert (lab[:, 1] > r.y).all() and (lab[:, 1] < r.y + r.h).all()
        gap = np.linalg.norm(xy[None] - lab[:, None], axis=-1).min()
        assert gap > 3  # no label centre on a point
    else:  # each axis fills its side
        assert hi[0] - lo[0] >= 0.97 * f.w and hi[1] - lo[1] >= 0.97 * f.h
        assert lo[1] >= f.y - 1e-6


def test_steps_scrub_with_keys_and_slider():
    st = _state(S=8)
    assert st.step_limit == 7
    st.key("right")
    assert st.step_limit == 7  # clamped
    st.key("left"), st.key("left")
    assert st.step_limit == 5
    st.key("home")
    assert st.step_limit == 0
    st.key("end")
    r = st.slider_rect
    st.press((r.x, r.y + r.h / 2))
    assert st.step_limit == 0
    st.motion((r.x + r.w * 3 / 7, r.y))
    assert st.step_limit == 3
    st.release((r.x + r.w * 3 / 7, r.y))
    assert st.slider_knob_x() == pytest.approx(r.x + r.w * 3 / 7)


def test_x_key_switches_between_predicted_and_noisy_images():
    st = _state()
    st.hover(_pos(st, 2, 3))
    assert st.key("x") and "noisy" in st.info_lines()[-1]
    np.testing.assert_array_equal(st.hovered_image()[0, 0], 255 - np.array(instance_colour(2, 3)))
    assert st.key("x") and "predicted" in st.info_lines()[-1]
    np.testing.assert_array_equal(st.hovered_image()[0, 0], instance_colour(2, 3))
    st.images_xt = None
    assert not st.key("x") and not st.show_xt


def test_help_and_unknown_keys():
    st = _state()
    assert st.key("h") and st.show_help
    assert st.key("h") and not st.show_help
    assert not st.key("f7")


# --- the window, headless ---------------------------------------------------------------------
def _post(kind, **kw):
    pygame.event.post(pygame.event.Event(kind, **kw))


def _key(k):
    _post(pygame.KEYDOWN, key=k, mod=0, unicode="", scancode=0)


@pytest.fixture
def window():
    init_display(allow_headless=True)
    ex = Explorer(_state(S=6, P=3, per=4))
    ex.frame()
    yield ex
    pygame.display.quit()


def test_window_hover_shows_the_image_scaled_up(window):
    st = window.state
    _post(pygame.MOUSEMOTION, pos=_pos(st, 4, 6), rel=(0, 0), buttons=(0, 0, 0))
    window.frame()
    assert st.hovered == (4, 6)
    # the panel shows the hovered image (flat colour), scaled up to most of the panel's width
    colour = instance_colour(4, 6)
    panel = pygame.surfarray.array3d(window.screen)[int(st.panel_rect.x):]
    hits = (np.abs(panel.astype(int) - colour).max(-1) == 0).sum()
    assert hits > (st.panel_rect.w - 40) ** 2 * 0.9


def test_window_click_highlights_a_path_and_keys_act(window):
    st = window.state
    p = _pos(st, 2, 9)
    _post(pygame.MOUSEBUTTONDOWN, pos=p, button=1)
    _post(pygame.MOUSEBUTTONUP, pos=p, button=1)
    window.frame()
    assert st.selected == 9
    px = pygame.surfarray.array3d(window.screen)
    x, y = (int(round(v)) for v in _pos(st, 3, 9))
    assert tuple(px[x, y]) == (40, 40, 40)  # the highlighted path is drawn in ink on its points
    _key(pygame.K_LEFT)
    _key(pygame.K_1)  # prompt 1
    _key(pygame.K_h)
    window.frame()
    assert st.step_limit == 4 and st.visible.tolist() == [True, False, True] and st.show_help
    _post(pygame.MOUSEWHEEL, x=0, y=1, flipped=False, precise_x=0.0, precise_y=1.0)
    window.frame()
    assert st.zoom > 1.0


def test_window_hidden_prompt_disappears_from_the_picture(window):
    st = window.state
    i = 0  # prompt 0
    x, y = (int(round(v)) for v in _pos(st, 5, i))
    colour = st.colors[0]
    assert tuple(pygame.surfarray.array3d(window.screen)[x, y]) == colour
    _key(pygame.K_0)  # key 0: prompt 0
    window.frame()
    assert tuple(pygame.surfarray.array3d(window.screen)[x, y]) != colour


def test_window_drag_pans_the_picture(window):
    st = window.state
    x, y = (int(round(v)) for v in _pos(st, 5, 0))
    colour = st.colors[0]
    grab = (st.plot_rect.w - 20, st.plot_rect.h - 20)  # empty corner: a drag, not a selection
    _post(pygame.MOUSEBUTTONDOWN, pos=grab, button=1)
    _post(pygame.MOUSEMOTION, pos=(grab[0] - 30, grab[1] - 20), rel=(-30, -20), buttons=(1, 0, 0))
    window.frame()
    screen = pygame.surfarray.array3d(window.screen)
    assert tuple(screen[x - 30, y - 20]) == colour  # shifted while dragging
    _post(pygame.MOUSEBUTTONUP, pos=(grab[0] - 30, grab[1] - 20), button=1)
    window.frame()
    screen = pygame.surfarray.array3d(window.screen)
    assert tuple(screen[x - 30, y - 20]) == colour and st.selected is None  # redrawn in place


def test_window_quits_on_escape_and_close(window):
    _key(pygame.K_ESCAPE)
    window.frame()
    assert not window.running
    window.running = True
    _post(pygame.QUIT)
    window.frame()
    assert not window.running


def test_no_display_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    with pytest.raises(UserError, match="tdl plot my.npz"):
        init_display(allow_headless=False, tree_path="my.npz")
    if sys.platform.startswith("linux"):  # no X11/Wayland session: said before SDL is asked
        for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
            monkeypatch.delenv(name, raising=False)
        with pytest.raises(UserError, match="no DISPLAY or WAYLAND_DISPLAY.*tdl plot"):
            init_display()


def test_a_2d_tree_shows_the_hovered_point_in_the_plane():
    """A sandbox2d tree has no images: hover said only 'step, instance, prompt'. Now the panel says the
    true 2D position and draws the step's cloud with the instance's path so far."""
    tree, traj = synthetic(S=6, P=3, per=4, positions2d=True)
    traj.images = traj.images_xt = None
    st = ExplorerState.from_tree(tree, traj, size=(900, 640))
    assert st.info_lines()[0] == "hover a point to see its 2D position"
    assert st.hover(_pos(st, 3, 5)) == (3, 5)
    pts, path, bounds = st.hovered_plane()
    np.testing.assert_allclose(pts, traj.positions2d[3]) and np.testing.assert_allclose(path[-1], pts[5])
    assert len(path) == 4 and (bounds[0] < bounds[1]).all()
    x, y = traj.positions2d[3, 5]
    assert st.info_lines()[-1] == f"2D position ({x:.2f}, {y:.2f})"
    init_display(allow_headless=True)
    try:
        ex = Explorer(st)

        def coloured() -> int:     # pixels in prompt colours in the panel (the legend's swatches, the plane)
            ex.frame()
            panel = pygame.surfarray.array3d(ex.screen)[int(st.panel_rect.x):].astype(int)
            return int((panel.max(-1) - panel.min(-1) > 60).sum())
        st.hover(_pos(st, 3, 5))
        with_plane = coloured()
        st.hovered = None
        assert with_plane > coloured() + 12          # 12 instances drawn in the plane
    finally:
        pygame.display.quit()


def test_step_labels_stay_readable_over_a_dense_tree():
    """Seen on a 300-instance sandbox2d tree: with no empty wedge the t labels were drawn under the points."""
    init_display(allow_headless=True)
    try:
        ex = Explorer(_state(S=8, P=2, per=300))
        ex.frame()
        shot = pygame.surfarray.array3d(ex.screen).transpose(1, 0, 2).astype(int)
        assert len(ex.label_rects) == 8
        for r in ex.label_rects:
            box = shot[r.top:r.bottom, r.left:r.right]
            text = (np.abs(box - 170).max(-1) < 40).sum()          # the labels' grey, anti-aliased
            assert text > 5 and (np.abs(box - 250).max(-1) == 0).mean() > 0.3, r   # on its backdrop
    finally:
        pygame.display.quit()
