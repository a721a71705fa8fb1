"""Lessons rendered without a window (`lesson --render`, `lessons.render`): every step of every lesson as
GIF, MP4, PNG and web page, the command line, and the caption's place on the frame."""
import numpy as np
import pytest

from lessons import LESSONS, get_lesson
from lessons.__main__ import main
from lessons.runner import LessonRunner


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))


def _frames_of(path):
    import imageio.v2 as imageio

    if path.suffix == ".gif":
        from PIL import Image, ImageSequence

        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(Image.open(path))]
    if path.suffix == ".mp4":
        return [np.asarray(f) for f in imageio.get_reader(path, format="FFMPEG")]
    return [imageio.imread(path)[..., :3]]


def _colours(frame) -> int:
    """The number of distinct RGB colours in an (H, W, 3) uint8 frame: np.unique(rows, axis=0) counts the
    same, 15x slower (it was a quarter of this file's time over ~900 frames)."""
    assert frame.dtype == np.uint8, frame.dtype
    f = frame.astype(np.uint32)
    return len(np.unique((f[..., 0] << 16) | (f[..., 1] << 8) | f[..., 2]))


def test_render_every_lesson(tmp_path):
    """`lesson --render`: every step of every lesson, set up as in the window and acted on by its demo,
    becomes a GIF, an MP4 and a PNG whose frames are not blank and (animations) change over time, and a
    self-contained web page."""
    from lessons.render import RenderOptions, make_state as render_state, render_lesson

    opts = RenderOptions(size=(160, 100), fps=4, seconds=1.0)
    st = render_state(tmp_path / "state", train_steps=40, particles=500)   # shipped models, as the window has
    order = list(LESSONS)
    written = []
    for key in order:
        written += render_lesson(get_lesson(key), tmp_path / "out", opts, number=order.index(key) + 1, state=st,
                                 say=lambda _: None)
    steps = sum(len(get_lesson(k).steps) for k in order)
    assert len(written) == 4 * steps and st.errors == 0
    for path in written:
        assert path.exists() and path.stat().st_size > 0, path
        if path.suffix == ".html":                        # sandbox.web's self-contained player
            text = path.read_text(encoding="utf-8")
            assert "DSW.mount" in text and "<script src" not in text, path
            continue
        frames = _frames_of(path)
        assert frames and frames[0].shape[:2] == (100, 160), path
        for f in frames:
            assert f.std() > 3 and _colours(f) > 8, f"blank frame in {path.name}"
        if path.suffix != ".png":
            moved = [(a != b).any(-1).mean() for a, b in zip(frames, frames[1:])]   # share of pixels changed
            assert len(frames) >= 3 and max(moved) > 0.01, f"{path.name} does not move"
    assert (tmp_path / "out" / "08-reading_a_tree-step3.mp4").exists()
    for k in (1, 2, 3):     # compare mode: both panes play on the page (it showed only the flow pane)
        page = (tmp_path / "out" / f"03-ddpm_vs_flow-step{k}.html").read_text(encoding="utf-8")
        assert page.count("DSW.mount(document.getElementById") == 2 and "DDPM" in page
        assert ("DDIM" in page) == (k > 1)                # the right pane's sampler of that step
    page = (tmp_path / "out" / "04-few_steps-step1.html").read_text(encoding="utf-8")
    assert page.count("DSW.mount(document.getElementById") == 1


def test_render_command_line(tmp_path, capsys):
    assert main(["few_steps", "--render", str(tmp_path), "--size", "96x64", "--seconds", "0.5"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"04-few_steps-step{k}.{e}" for k in (1, 2)
                                                          for e in ("gif", "html", "mp4", "png")]
    assert main(["few_steps", "--render", str(tmp_path), "--size", "95x64"]) == 2     # odd width: no MP4
    assert "even" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["few_steps", "--render", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err


# ---- lesson flow: next lesson, progress kept, no autosave prompt ---------------------------------
def test_render_caption_stays_below_the_pane_headers(tmp_path):
    """Lesson 8's three panes: the caption at the top right was drawn over the right pane's header
    ("rectilinear tree · s 8. Reading a Tree ..."). With several panes it sits one line lower: the
    header row is the same with and without the caption."""
    from lessons.render import frames, make_state as render_state
    from sandbox.view import Theme

    st = render_state(tmp_path, particles=300)
    try:
        lesson = get_lesson("reading_a_tree")
        LessonRunner(lesson).enter(0, st)
        lesson.steps[0].demo(st)              # as render_lesson: waits for the lesson's paths and trees
        st.wait_idle(600)
        theme = Theme.named("dark").scaled(600 / 720)
        plain, captioned = (next(frames(lesson.steps[0], st, [1.0], (960, 600), theme, c))
                            for c in ("", "8. Reading a Tree of Diffusion Life  ·  step 1/3"))
    finally:
        st.close()
    rows = np.flatnonzero((plain != captioned).any(axis=(1, 2)))
    header = int(8 * theme.scale) + theme.font(1.0).get_linesize()
    assert len(rows) and rows.min() >= header, (rows.min(), header)
