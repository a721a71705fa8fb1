"""Web pages without a browser: quantisation error, size, self-containment, the commands that write them."""
import re

import numpy as np

import sandbox
from sandbox.web import dequantize, quantize
from sandbox.web.page import Player
from tdl_synthetic import synthetic


def test_quantize_round_trip_error_is_below_its_bound():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(51, 300, 2)) * [3.0, 0.5] + [10.0, -2.0]
    q = quantize(a)
    back = dequantize(q)
    span = np.asarray(q["hi"]) - np.asarray(q["lo"])
    err = np.abs(back - a).max(axis=(0, 1))
    assert np.all(err <= span / 65535 / 2 + 1e-12) and np.all(err > 0)  # a real, bounded loss
    bad = quantize(np.array([[0.0, 1.0], [np.nan, np.inf], [2.0, 3.0]]))
    assert np.isfinite(dequantize(bad)).all()


def test_quantize_steps_round_trip_is_exact_to_half_a_unit_at_half_the_bytes():
    import base64

    from sandbox.web.encode import quantize_steps
    rng = np.random.default_rng(0)
    a = np.cumsum(rng.normal(0, 0.01, size=(51, 400, 2)), axis=0) + [10.0, -2.0]  # paths, small steps
    a[20, :5] += 3.0  # a few jumps that no int8 change holds: escapes
    a[30, 7] = [10.0 + 1e6, np.nan]  # far off any picture (clamped) and not a number (finite)
    q = quantize_steps(a, 1e-3, (10.0, -2.0))
    back = dequantize(q)
    ok = np.ones(a.shape[:2], bool)
    ok[30, 7] = False
    assert np.abs(back - a)[ok].max() <= 0.5e-3 + 1e-9  # no drift from summing the changes
    assert np.isfinite(back).all() and back[30, 7, 0] == 10.0 + 32.767
    assert len(base64.b64decode(q["esc"])) // 2 >= 10  # the jumps went to the escapes, in and out
    size = lambda q: sum(len(q[k]) for k in ("b64", "first", "delta", "esc") if k in q)  # noqa: E731
    assert size(q) < 0.56 * size(quantize(a))
    assert np.allclose(dequantize(quantize_steps(a[:1], 1e-3, (0, 0))), a[:1], atol=0.5e-3)  # one step


def test_payload_json_cannot_close_its_script():
    page = Player("animation", {"title": "</script><script>alert(1)</script>"}).page()
    assert page.count("</script>") == page.count("<script>") == 1 + 0  # only the player's own
    assert "alert(1)" in page  # still there, as inert JSON text


def _self_contained(page: str) -> None:
    assert "DSW.mount" in page
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)  # nothing loaded from outside
    assert "http://" not in page and "https://" not in page


def test_animation_page_size_and_content(tmp_path):
    model = sandbox.shipped("smiley")
    traj = model.sample(2000, steps=50, seed=0)
    out = sandbox.animate(traj, data=model.data_sample()).save(tmp_path / "a.html")
    size = out.stat().st_size
    assert 150_000 < size < 800_000, size  # 2000 particles x 51 steps, int8 changes + base64: ~0.3 MB
    _self_contained(out.read_text(encoding="utf-8"))


def test_render_and_tdl_plot_write_pages(tmp_path, monkeypatch, capsys):
    from sandbox.cli import main as sandbox_main
    from tdl.cli import main as tdl_main

    monkeypatch.chdir(tmp_path)
    assert sandbox_main(["render", "--dataset", "moons", "--out", "m.html", "--particles", "300",
                         "--steps", "10"]) == 0
    _self_contained((tmp_path / "m.html").read_text(encoding="utf-8"))
    tree, traj = synthetic(S=5, P=2, per=3)
    traj.save(tmp_path / "traj.npz")
    tree.source = "traj.npz"
    tree.save(tmp_path / "tree.npz")
    assert tdl_main(["plot", "tree.npz", "--out", "tree.html"]) == 0
    page = (tmp_path / "tree.html").read_text(encoding="utf-8")
    _self_contained(page)
    assert "data:image/png;base64," in page  # the thumbnails travel inside
    import tdl
    view = tdl.plot(tmp_path / "tree.npz")  # from Python: finds the trajectory beside the tree, too
    assert view.traj is not None and "data:image/png;base64," in view._repr_html_()
    capsys.readouterr()
    monkeypatch.setattr("sandbox.web.player.MAX_PARTICLES", 200)  # seen: 100000 said, the page played 20000
    assert sandbox_main(["render", "--dataset", "moons", "--out", "c.html", "--particles", "300",
                         "--steps", "1", "--sampler", "heun"]) == 0
    said = capsys.readouterr().out
    assert "300 particles, the page plays 200 of them" in said and "Heun 1 step;" in said, said
    assert "Heun 1 step" in (tmp_path / "c.html").read_text(encoding="utf-8")     # the title
    assert sandbox_main(["render", "--dataset", "moons", "--out", "m.xhtml"]) == 2  # one line, no traceback
    assert "unknown output type" in capsys.readouterr().err


def test_window_shares_a_web_page(tmp_path):
    """The window's "share as web page" action (Ctrl+E) writes the animation it shows."""
    from app_kit import exact_model, make_state, with_model

    st = with_model(make_state(tmp_path), exact_model())
    out = st.record("html")
    st.wait_idle(60)
    assert out.suffix == ".html" and out.is_file() and any(m.text.startswith("saved") for m in st.messages)
    page = out.read_text(encoding="utf-8")
    _self_contained(page)
    n = st.panes[0].sampled.traj.xs.shape[1]
    assert f'"shape":[{st.panes[0].sampled.traj.steps + 1},{n},2]' in page
    assert st.errors == 0


def test_tdl_run_writes_the_page_and_rgb_thumbnails_travel_as_jpeg(tmp_path, monkeypatch):
    from tdl.cli import main as tdl_main
    from tdl.webview import thumbnail_atlas

    monkeypatch.chdir(tmp_path)
    assert tdl_main(["run", "--source", "sandbox2d", "--preset", "moons", "--instances", "30", "--steps", "5",
                     "--iterations", "50", "--format", "html", "--out-dir", "d", "--quiet"]) == 0
    _self_contained((tmp_path / "d" / "tree.html").read_text(encoding="utf-8"))
    rng = np.random.default_rng(0)
    photos = rng.integers(0, 256, (3, 4, 64, 64, 3), dtype=np.uint8)
    assert thumbnail_atlas(photos)["src"].startswith("data:image/jpeg;base64,")
    assert thumbnail_atlas(photos[..., :1])["src"].startswith("data:image/png;base64,")


def test_ctrl_e_is_the_windows_share_as_web_page_key():
    import pygame

    from sandbox.app.keys import find, help_rows

    asked = []

    class State:
        def record(self, kind):
            asked.append(kind)

    class App:
        state = State()

    shortcut = find(pygame.K_e, pygame.KMOD_CTRL)
    assert shortcut is not None and find(pygame.K_e, 0) is not shortcut  # plain E stays the eraser
    shortcut.action(App())
    assert asked == ["html"]
    assert any("web page" in what for _, what in help_rows())


def test_a_single_prompt_tree_page_is_painted_by_where_each_sample_ends():
    from tdl.webview import HUE_BINS, tree_payload
    tree, traj = synthetic(S=4, P=1, per=12, positions2d=True)
    a = np.linspace(-np.pi, np.pi, 12, endpoint=False)
    traj.positions2d[-1] = np.stack([np.cos(a), np.sin(a)], 1)  # final samples round a circle
    paint = tree_payload(tree, traj)["paint"]
    assert len(paint["colors"]) == HUE_BINS and len(set(paint["group"])) == 12  # twelve directions, twelve hues
    assert tree_payload(tree, None)["paint"] is None
    assert tree_payload(*synthetic(S=4, P=3, per=4))["paint"] is None  # prompts keep their colours
