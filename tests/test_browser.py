"""The web pages in a real headless browser (Debian's chromium driven by playwright).

Without chromium or playwright these tests skip, unless SANDBOX_REQUIRE_BROWSER=1 (set by
.ci/run), where a missing browser is a failure: CI must not pass by skipping them.
"""
import io
import os
import shutil

import numpy as np
import pytest

import sandbox
from tdl_synthetic import instance_colour, synthetic

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _missing(why: str):
    if os.environ.get("SANDBOX_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{why} (SANDBOX_REQUIRE_BROWSER=1: the browser tests must run here)")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    exe = os.environ.get("SANDBOX_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        _missing("chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (it is in the dev extra)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


def _open(browser, path):
    """A page on `path` that records console errors and every request other than the file itself."""
    page = browser.new_page(viewport={"width": 820, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri())
    page.wait_for_selector(".dsw canvas")
    return page, errors, requests


def _pixels(page, selector="canvas.dsw-main") -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.locator(selector).screenshot())).convert("RGB"), dtype=np.int16)


def test_animation_page_plays_offline(browser, tmp_path):
    model = sandbox.shipped("smiley")
    out = sandbox.animate(model, 2000, steps=50).save(tmp_path / "smiley.html")
    page, errors, requests = _open(browser, out)
    assert page.locator(".dsw-counter").inner_text().startswith("step 0 / 50")
    start = _pixels(page)
    box = page.locator("input.dsw-slider").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.999, box["y"] + box["height"] / 2)  # drag to the end
    assert page.locator(".dsw-counter").inner_text().startswith("step 50 / 50")
    end = _pixels(page)
    changed = (np.abs(start - end).sum(axis=2) > 60).mean()
    assert changed > 0.02, changed  # the particles moved from noise to the smiley
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    assert page.locator(".dsw-counter").inner_text().startswith("step 25 / 50")
    page.locator(".dsw").focus()  # keys: End, then one step back
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    assert page.locator(".dsw-counter").inner_text().startswith("step 49 / 50")
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.locator("button.dsw-play").click()  # plays from the slider's place to the end
    page.wait_for_function("document.querySelector('.dsw-counter').textContent.startsWith('step 50 ')",
                           timeout=15000)
    assert errors == [] and requests == []
    page.close()


def test_player_decodes_the_particles_as_python_does(browser, tmp_path):
    from sandbox.web import dequantize
    from sandbox.web.player import trajectory_player
    traj = sandbox.shipped("moons").sample(100, sampler="euler_maruyama", steps=20, seed=0)
    player = trajectory_player(traj)
    q = player.payload["xs"]
    assert len(q["esc"]) > 4  # noisy steps: escapes exercised
    page, errors, _ = _open(browser, player.save(tmp_path / "p.html"))
    js = np.asarray(page.evaluate("q => Array.from(DSW.unsteps(q))", q))
    assert np.allclose(js, dequantize(q).reshape(-1), atol=1e-5)
    assert errors == []
    page.close()


def test_tree_page_hover_shows_the_thumbnail(browser, tmp_path):
    tree, traj = synthetic(S=6, P=3, per=4, H=16)
    out = sandbox.web.Player("tree", __import__("tdl.webview").webview.tree_payload(tree, traj)).save(
        tmp_path / "tree.html")
    page, errors, requests = _open(browser, out)
    tip = page.locator(".dsw-tip")
    assert not tip.is_visible()
    for s, i in ((5, 7), (2, 3)):
        x, y = page.evaluate(f"document.querySelector('.dsw').dsw.clientPoint({s}, {i})")
        page.mouse.move(x, y)
        assert tip.is_visible()
        assert f"instance {i} \u00b7 step {s}" in tip.inner_text()
        shown = page.evaluate("Array.from(document.querySelector('.dsw-tip canvas').getContext('2d')"
                              ".getImageData(48, 48, 1, 1).data.slice(0, 3))")
        assert np.abs(np.array(shown) - instance_colour(s, i)).max() <= 2, (shown, instance_colour(s, i))
    before = _pixels(page)
    page.mouse.click(x, y)  # highlights the instance's path: the one whose thumbnail is shown
    assert page.evaluate("document.querySelector('.dsw').dsw.selected()") == i
    assert (np.abs(_pixels(page) - before).sum(axis=2) > 60).mean() > 0.001
    page.mouse.move(1, 1)
    assert not tip.is_visible()
    assert errors == [] and requests == []
    page.close()


@pytest.mark.parametrize("layout", ["radial", "rectilinear"])
def test_tree_page_uses_the_whole_canvas(browser, tmp_path, layout):
    """The tree spans the canvas: rectilinear both ways (one scale for the step axis and the t-SNE
    axis left it a strip 1/20 as tall as wide), radial across its shorter side with round rings."""
    tree, traj = synthetic(layout=layout, S=8, P=3, per=4)
    out = sandbox.web.Player("tree", __import__("tdl.webview").webview.tree_payload(tree, traj)).save(
        tmp_path / "tree.html")
    page, errors, requests = _open(browser, out)
    pts = np.array(page.evaluate("(() => { const v = document.querySelector('.dsw').dsw, out = [];"
                                 " for (let s = 0; s < 8; s++) for (let i = 0; i < 12; i++)"
                                 " out.push(v.clientPoint(s, i)); return out; })()"))
    box = page.locator("canvas.dsw-main").bounding_box()
    span = np.ptp(pts, axis=0) / (box["width"], box["height"])
    if layout == "rectilinear":
        assert (span > 0.85).all(), span
    else:
        assert span.max() > 0.85, span
        ring = np.hypot(*(pts.reshape(8, 12, 2)[-1] - pts.reshape(8, 12, 2)[0].mean(0)).T)
        assert ring.std() / ring.mean() < 0.1  # the outer ring is round on screen
    assert errors == [] and requests == []
    page.close()


def test_notebook_fragments_share_one_page(browser, tmp_path):
    """Notebook outputs: several players in one document, the script defined once, each mounted."""
    from tdl.webview import TreeView

    model = sandbox.shipped("moons")
    tree, traj = synthetic(S=4, P=2, per=3)
    parts = [sandbox.sample(model, 200, steps=8)._repr_html_(), model._repr_html_(),
             sandbox.animate(model, 300, steps=8)._repr_html_(), TreeView(tree, traj)._repr_html_()]
    out = tmp_path / "notebook.html"
    out.write_text("<!DOCTYPE html><html><body>" + "".join(parts) + "</body></html>", encoding="utf-8")
    page, errors, requests = _open(browser, out)
    assert page.locator("canvas.dsw-main").count() == 3
    assert page.evaluate("Array.from(document.querySelectorAll('.dsw')).filter(e => e.dsw).length") == 3
    assert page.locator(".dsw-card").count() == 1
    assert page.get_by_text("it needs JavaScript").count() == 0  # the note gives way to the player
    assert errors == [] and requests == []
    page.close()
    static = browser.new_page(java_script_enabled=False)  # a static preview: the note says what is missing
    static.goto(out.as_uri())
    assert static.get_by_text("it needs JavaScript").count() == 3
    static.close()


# JupyterLab 4's rules for tables in outputs (@jupyterlab/rendermime, .jp-RenderedHTMLCommon), as it ships them
JUPYTERLAB_TABLES = """
:root { --jp-layout-color0: white; --jp-rendermime-table-row-background: #f5f5f5;
        --jp-rendermime-table-row-hover-background: #e1f5fe; }
.jp-RenderedHTMLCommon table { border-collapse: collapse; border-spacing: 0; border: none; color: black;
  font-size: 13px; table-layout: fixed; margin-left: auto; margin-bottom: 1em; margin-right: auto; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th, .jp-RenderedHTMLCommon tr { vertical-align: middle;
  padding: 0.5em; line-height: normal; white-space: normal; max-width: none; border: none; }
:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td, :not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon th,
:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon tr { text-align: right; }
.jp-RenderedHTMLCommon th { font-weight: bold; }
.jp-RenderedHTMLCommon tbody tr:nth-child(odd) { background: var(--jp-layout-color0); }
.jp-RenderedHTMLCommon tbody tr:nth-child(even) { background: var(--jp-rendermime-table-row-background); }
.jp-RenderedHTMLCommon tbody tr:hover { background: var(--jp-rendermime-table-row-hover-background); }
"""


def test_model_card_is_readable_under_jupyterlab_table_styles(browser, tmp_path):
    """In JupyterLab the card's rows were white and grey stripes under its light text (unreadable),
    its cells right-aligned and the table centred: the card's own rules must win."""
    card = sandbox.shipped("moons")._repr_html_()
    out = tmp_path / "lab.html"
    out.write_text(f"<!DOCTYPE html><html><head><style>{JUPYTERLAB_TABLES}</style></head><body>"
                   f"<div class='jp-OutputArea-output jp-RenderedHTMLCommon jp-RenderedHTML'>{card}</div>"
                   "</body></html>", encoding="utf-8")
    page = browser.new_page(viewport={"width": 820, "height": 400})
    page.goto(out.as_uri())
    page.hover(".dsw-card td")
    styles = page.evaluate("""() => Array.from(document.querySelectorAll('.dsw-card tr, .dsw-card td, .dsw-card th'))
        .map(e => { const s = getComputedStyle(e); return [e.tagName, s.backgroundColor, s.textAlign]; })""")
    assert len(styles) > 10
    for tag, background, align in styles:
        assert background == "rgba(0, 0, 0, 0)", (tag, background)  # the card's dark background shows
        assert tag == "TR" or align == "left", (tag, align)
    assert page.evaluate("getComputedStyle(document.querySelector('.dsw-card table')).marginLeft") == "0px"
    page.close()


def test_light_theme_page(browser, tmp_path):
    """--theme light / save(theme="light"): the page takes the window's light colours."""
    model = sandbox.shipped("moons")
    out = sandbox.animate(model, 300, steps=5).save(tmp_path / "light.html", theme="light")
    page, errors, requests = _open(browser, out)
    corner = _pixels(page)[5, 5]
    assert np.abs(corner - (247, 247, 244)).max() <= 3, corner  # Theme.light().background
    assert errors == [] and requests == []
    page.close()


@pytest.mark.parametrize("layout", ["radial", "rectilinear"])
def test_tree_page_labels_steps_off_the_data(browser, tmp_path, layout):
    """The page labels the rings/bands with their t, as the static figure: never on a point, never on
    another label, only for the steps the slider shows. Thick rings and groups at every angle: a label
    just outside its ring's points along the widest gap lands on the next ring's points and has to move."""
    import torch
    from matplotlib.path import Path as Polygon

    from tdl import layout as lay
    from tdl.tree import TreeData

    S, I = 12, 60
    rng = np.random.default_rng(3)
    along = (lay.targets(S, layout).numpy()[:, None] + rng.normal(0, 9.0 if layout == "radial" else 1.0, (S, I)))
    across = rng.uniform(0, 2 * np.pi, (S, I)) * (1 if layout == "radial" else lay.RADIUS)
    Y = lay.stretch(lay.join(torch.as_tensor(np.abs(along)), torch.as_tensor(across), layout), layout, display="shift")
    times = np.linspace(1.0, 0.0, S)
    tree = TreeData(Y.numpy(), layout, times, ["a", "b", "c"], np.arange(I) % 3, source="traj.npz")
    out = sandbox.web.Player("tree", __import__("tdl.webview").webview.tree_payload(tree)).save(
        tmp_path / "tree.html")
    page, errors, requests = _open(browser, out)
    view = "document.querySelector('.dsw').dsw"
    labels = page.evaluate(f"{view}.labels()")
    assert len(labels) >= 4, labels  # of the 8 steps labelled (tdl.plot_guides.label_steps)
    assert {lab["text"] for lab in labels} <= {f"t={t:.2f}" for t in times}
    pts = np.array(page.evaluate(f"(() => {{ const v = {view}, out = [];"
                                 f" for (let s = 0; s < {S}; s++) for (let i = 0; i < {I}; i++)"
                                 " out.push(v.clientPoint(s, i)); return out; })()"))
    boxes = [Polygon(np.array(lab["corners"])) for lab in labels]
    for lab, box in zip(labels, boxes):
        assert not box.contains_points(pts).any(), lab  # no point under a label
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            assert not boxes[a].intersects_path(boxes[b], filled=True), (labels[a], labels[b])
    canvas = page.locator("canvas.dsw-main").bounding_box()
    corners = np.concatenate([np.array(lab["corners"]) for lab in labels])
    assert (corners >= (canvas["x"] - 1, canvas["y"] - 1)).all()  # inside the canvas
    assert (corners <= (canvas["x"] + canvas["width"] + 1, canvas["y"] + canvas["height"] + 1)).all()
    page.locator("input.dsw-slider").fill("3")  # steps 0-3 shown: only their labels
    assert {lab["step"] for lab in page.evaluate(f"{view}.labels()")} <= {0, 1, 2, 3}
    assert errors == [] and requests == []
    page.close()
