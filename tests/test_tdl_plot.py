"""The static TDL figure: real image files, prompt colours, thumbnails, step guides, 2D side by side."""
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from PIL import Image

from sandbox.errors import UserError
from tdl import layout as lay
from tdl.plot import make_figure, plot_tree, summary_line
from tdl.plot_colors import prompt_colors
from tdl.plot_guides import step_guides
from tdl.plot_placement import hits_box
from tdl.plot_thumbnails import choose_thumbnails
from tdl.tree import WEDGE, fill_disc, widest_gap
from tdl_synthetic import synthetic

MAGENTA = (255, 0, 255)


def _read(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int64)


def _has_colour(img: np.ndarray, rgb, tol: int = 12) -> int:
    """How many pixels are within `tol` of `rgb`."""
    return int((np.abs(img - np.asarray(rgb)).max(-1) <= tol).sum())


@pytest.mark.parametrize("layout", ["radial", "rectilinear"])
def test_png_shows_every_prompt_colour(tmp_path, layout):
    tree, traj = synthetic(layout=layout, P=4)
    out = plot_tree(tree, tmp_path / "tree.png", traj, thumbnails=0, dpi=60)
    img = _read(out)
    assert img.shape[0] > 200 and img.shape[1] > 200
    assert img.std() > 10  # not blank
    for c in prompt_colors(4):
        assert _has_colour(img, c) > 20, c
    assert [p.name for p in tmp_path.iterdir()] == ["tree.png"]  # atomic: no temporary left


def test_thumbnails_show_the_trajectory_images(tmp_path):
    tree, traj = synthetic(P=2, per=3)
    traj.images[:] = MAGENTA  # a colour nothing else in the figure uses
    with_thumbs = _read(plot_tree(tree, tmp_path / "a.png", traj, thumbnails=3, dpi=60))
    without = _read(plot_tree(tree, tmp_path / "b.png", traj, thumbnails=0, dpi=60))
    assert _has_colour(with_thumbs, MAGENTA) > 100
    assert _has_colour(without, MAGENTA) == 0


def test_lines_can_be_turned_off(tmp_path):
    tree, traj = synthetic(P=1, per=6, S=8)
    a = _read(plot_tree(tree, tmp_path / "a.png", traj, thumbnails=0, lines=True, dpi=60))
    b = _read(plot_tree(tree, tmp_path / "b.png", traj, thumbnails=0, lines=False, dpi=60))
    ink = lambda im: int((im.sum(-1) < 740).sum())  # noqa: E731 -- pixels that are not near-white
    assert ink(a) > ink(b) + 200


@pytest.mark.parametrize("suffix,magic", [(".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_vector_formats(tmp_path, suffix, magic):
    tree, traj = synthetic()
    out = plot_tree(tree, tmp_path / f"tree{suffix}", traj, thumbnails=2)
    assert out.read_bytes().startswith(magic)


def test_bad_figure_arguments(tmp_path):
    tree, traj = synthetic()
    with pytest.raises(UserError, match=r"\.png, \.svg or \.pdf"):
        plot_tree(tree, tmp_path / "tree.jpg", traj)
    with pytest.raises(UserError, match="thumbnails"):
        plot_tree(tree, tmp_path / "tree.png", traj, thumbnails=-1)
    with pytest.raises(UserError, match="dpi"):
        plot_tree(tree, tmp_path / "tree.png", traj, dpi=0)
    assert list(tmp_path.iterdir()) == []


def test_sandbox2d_figure_draws_true_paths_beside_the_embedding():
    tree, traj = synthetic(positions2d=True)
    fig = make_figure(tree, traj)
    left, right = fig.axes[:2]
    assert "true 2D paths" in left.get_title() and "embedding" in right.get_title()
    # the left panel holds exactly the true 2D positions, the right one the embedding
    def scattered(ax):
        return np.concatenate([c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)])
    true = traj.positions2d.reshape(-1, 2)
    assert np.isin(true[:, 0], scattered(left)[:, 0]).all()
    assert not np.isin(true[:, 0], scattered(right)[:, 0]).any()
    assert len(make_figure(*synthetic()).axes) == 1  # no 2D paths: one panel


def test_step_guides_are_the_layout_centres():
    for layout in ("radial", "rectilinear"):
        tree, _ = synthetic(layout=layout, S=7)
        g = step_guides(tree.Y, layout)
        np.testing.assert_allclose(g.values, lay.centres(7, layout).numpy())
        # each step's points sit nearer their own guide than any other
        along = lay.display_along(__import__("torch").as_tensor(tree.Y), layout).numpy()
        nearest = np.abs(along[..., None] - g.values).argmin(-1)
        assert (nearest == np.arange(7)[:, None]).mean() > 0.95
    assert step_guides(tree.Y, "radial", {"radius": 5.0, "stretch": 10.0}).values[2] == 25.0


def test_choose_thumbnails_follow_each_branch_through_the_steps():
    pidx = np.repeat(np.arange(4), 5)
    picks = choose_thumbnails(pidx, S=10, n=6)
    assert len(picks) == len(set(picks)) == 6
    assert {pidx[i] for s, i in picks[:4]} == {0, 1, 2, 3} and all(s == 9 for s, _ in picks[:4])
    picks = choose_thumbnails(pidx, S=10, n=12)  # 3 per prompt: the same instance at 3 steps
    for p in range(4):
        mine = [(s, i) for s, i in picks if pidx[i] == p]
        assert len({i for _, i in mine}) == 1 and sorted(s for s, _ in mine) == [2, 6, 9]
    assert [s for s, _ in choose_thumbnails(pidx, S=10, n=8, steps=[4, 9])] == [9] * 4 + [4] * 4


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig).draw()
    return fig.canvas.get_renderer()


def _thumbs(fig):
    from matplotlib.offsetbox import AnnotationBbox
    return [a for a in fig.axes[-1].artists if isinstance(a, AnnotationBbox)]


def points_near(px: np.ndarray, a, b, tol: float = 2.0, skip: float = 6.0) -> int:
    """How many points `px (N, 2)` lie within `tol` px of the segment a-b, leaving out those within
    `skip` px of `a` (the point the line starts at and its neighbours)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    t = np.clip((px - a) @ d / max(float(d @ d), 1e-9), 0, 1)
    dist = np.hypot(*(a + t[:, None] * d - px).T)
    return int(((dist < tol) & (np.hypot(*(px - a).T) > skip)).sum())


@pytest.mark.parametrize("layout,n", [("radial", 20), ("rectilinear", 20), ("radial", 40)])
def test_thumbnails_never_overlap_each_other_the_data_or_the_labels(layout, n):
    tree, traj = synthetic(layout=layout, P=4, per=6, S=12)
    fig = make_figure(tree, traj, thumbnails=n)
    r = _drawn(fig)
    ax = fig.axes[-1]
    assert len(_thumbs(fig)) == n
    px = ax.transData.transform(tree.Y.reshape(-1, 2))
    # the image boxes (frame included)
    boxes = [a.patch.get_window_extent(r) for a in _thumbs(fig)]
    for k, b in enumerate(boxes):
        assert 0 <= b.x0 and b.x1 <= fig.bbox.width and 0 <= b.y0 and b.y1 <= fig.bbox.height
        assert not any(b.overlaps(o) for o in boxes[k + 1:])
        inside = (px[:, 0] > b.x0) & (px[:, 0] < b.x1) & (px[:, 1] > b.y0) & (px[:, 1] < b.y1)
        assert not inside.any()  # never on the data (they may sit in the empty space between branches)
        assert not any(b.overlaps(t.get_window_extent(r)) for t in ax.texts)
        assert not b.overlaps(fig.legends[0].get_window_extent(r))


@pytest.mark.parametrize("layout", ["radial", "rectilinear"])
def test_leader_lines_cross_no_thumbnail_no_label_and_little_data(layout):
    """Each thumbnail's line to its point passes through no other thumbnail and no label; lines to
    the final step (outermost) cross no point at all, lines into the tree few (counted: points within
    2 px of the line)."""
    tree, traj = synthetic(layout=layout, P=5, per=12, S=14)
    if layout == "radial":
        tree.Y = fill_disc(tree.Y).astype(np.float32)
    # the slots round the panel (before this placement) crossed 18 (radial) and 17 points (rectilinear,
    # one line through a thumbnail) with 15 thumbnails; now 4 and 11
    for n, steps, most in ((5, None, 0), (15, [5, 9, 13], 12)):
        fig = make_figure(tree, traj, thumbnails=n, thumbnail_steps=steps)
        r = _drawn(fig)
        ax = fig.axes[-1]
        px = ax.transData.transform(tree.Y.reshape(-1, 2))
        thumbs = _thumbs(fig)
        assert len(thumbs) == n
        boxes = [a.patch.get_window_extent(r).extents for a in thumbs]
        labels = [t.get_window_extent(r).extents for t in ax.texts]
        crossed = []
        for k, ab in enumerate(thumbs):
            a, e = ab.tdl_leader
            assert not any(hits_box(a, e, b) for j, b in enumerate(boxes) if j != k)
            assert not any(hits_box(a, e, b) for b in labels)
            crossed.append(points_near(px, a, e))
        assert sum(crossed) <= most, crossed


def test_final_step_thumbnails_of_many_bands_stack_beside_them_in_order():
    """Ten bands whose ends span less height than ten frames: the frames stack in one column beside the
    last step, in the bands' order (no two lines cross), and no line crosses a point (before the column
    placement, some frames went above the tree with lines across the bands)."""
    from tdl.plot_placement import segments_cross
    tree, traj = synthetic(layout="rectilinear", P=10, per=6, S=12)
    y = tree.Y[..., 1]
    tree.Y[..., 1] = y.mean() + (y - y.mean()) * np.linspace(1.0, 0.4, 12)[:, None]  # bands funnel in
    fig = make_figure(tree, traj, thumbnails=10)
    _drawn(fig)
    px = fig.axes[-1].transData.transform(tree.Y.reshape(-1, 2))
    thumbs = _thumbs(fig)
    assert len(thumbs) == 10
    leaders = [ab.tdl_leader for ab in thumbs]
    assert sum(points_near(px, a, e) for a, e in leaders) == 0
    assert not any(segments_cross(*leaders[i], *leaders[j]) for i in range(10) for j in range(i + 1, 10))


def test_intermediate_thumbnails_keep_the_column_and_stay_off_other_bands():
    """Twenty thumbnails on ten funnelling bands, half at an intermediate step: the ten final frames
    all stay in the column beside the last step, and the lines stay off the other bands (a line that
    crosses a band seems to point at it too). Before the bands' owners were priced, 2 final frames left
    the column, lines crossed other bands 6 times and each other 4 times."""
    from tdl.plot_placement import segments_cross
    tree, traj = synthetic(layout="rectilinear", P=10, per=6, S=12)
    y = tree.Y[..., 1]
    tree.Y[..., 1] = y.mean() + (y - y.mean()) * np.linspace(1.0, 0.4, 12)[:, None]
    fig = make_figure(tree, traj, thumbnails=20)
    _drawn(fig)
    px = fig.axes[-1].transData.transform(tree.Y.reshape(-1, 2)).reshape(tree.Y.shape)
    thumbs = _thumbs(fig)
    assert sorted(ab.tdl_pick[0] for ab in thumbs) == [3] * 10 + [11] * 10
    crossed = 0
    for ab in thumbs:
        s, i = ab.tdl_pick
        a, e = ab.tdl_leader
        if s == 11:  # the column: right of every final point
            assert e[0] >= px[11, :, 0].max(), (a, e)
        p = tree.prompt_index[i]
        crossed += sum(points_near(px[:, tree.prompt_index == q].reshape(-1, 2), a, e) > 0 for q in range(10) if q != p)
    assert crossed <= 1, crossed
    leaders = [ab.tdl_leader for ab in thumbs]
    assert not any(segments_cross(*leaders[i], *leaders[j]) for i in range(20) for j in range(i + 1, 20))


def test_too_many_thumbnails_is_one_clear_line(tmp_path):
    tree, traj = synthetic(P=2, per=60, S=4)
    with pytest.raises(UserError, match=r"\d+ thumbnails do not fit in this figure \(about \d+ do\)"):
        plot_tree(tree, tmp_path / "tree.png", traj, thumbnails=400)
    assert list(tmp_path.iterdir()) == []


def test_figure_leader_measure_sees_a_crossing():
    """The crossing count the test above relies on: a line through a row of points counts them."""
    px = np.stack((np.arange(0, 100, 5.0), np.full(20, 50.0)), 1)
    assert points_near(px, (50, 0), (50, 100)) == 1
    assert points_near(px, (-10, 50), (200, 50)) == 20
    assert points_near(px, (0, 50), (200, 50)) == 18  # not the two within 6 px of where the line starts
    assert points_near(px, (0, 0), (100, 0)) == 0


@pytest.mark.parametrize("layout,fill,per", [("radial", False, 6), ("radial", True, 6), ("radial", True, 200),
                                              ("rectilinear", False, 6)])
def test_step_labels_never_sit_on_points(layout, fill, per):
    """Labels cover no point and no other label, also on a tree filled round the disc (a 30 degree
    wedge) and with 600 points per ring; radial ones sit beside their own ring (within half a ring
    spacing, outside its points) and most are kept."""
    tree, traj = synthetic(layout=layout, P=3, per=per, S=10)
    if fill:
        tree.Y = fill_disc(tree.Y).astype(np.float32)
    tree.metrics["commitment_step"] = {"prompt 0": 0}  # a star on the noise disk
    fig = make_figure(tree, traj, thumbnails=0)
    r = _drawn(fig)
    ax = fig.axes[-1]
    px = ax.transData.transform(tree.Y.reshape(-1, 2))
    assert len(ax.texts) >= 6  # of 8 (t = 1 may give way to the star)
    labels = [t.get_window_extent(r) for t in ax.texts]
    assert not any(a.overlaps(b) for k, a in enumerate(labels) for b in labels[k + 1:])
    for t in ax.texts:
        b = t.get_window_extent(r)
        inside = (px[:, 0] > b.x0) & (px[:, 0] < b.x1) & (px[:, 1] > b.y0) & (px[:, 1] < b.y1)
        assert not inside.any(), t.get_text()
        if layout == "radial" and t.get_text() != "t=1.00":
            ring = float(t.get_text()[2:])
            s = int(np.argmin(np.abs(tree.times - ring)))
            g = step_guides(tree.Y, layout).values
            radius = np.hypot(*t.get_position())
            assert 0 < radius - g[s] < (g[2] - g[1]) / 2, t.get_text()


def test_points_can_be_coloured_by_any_attribute(tmp_path):
    tree, traj = synthetic(P=2, per=5)
    values = np.arange(tree.num_instances, dtype=float)
    fig = make_figure(tree, traj, thumbnails=0, color_by=values, color_label="seed")
    assert any(a.get_ylabel() == "seed" for a in fig.axes)  # a colour bar, not the prompt legend
    with pytest.raises(UserError, match="one per instance"):
        make_figure(tree, traj, color_by=values[:3])


def test_commitment_steps_are_marked_on_their_branch():
    tree, traj = synthetic(P=3, per=4, S=8)
    before = len(make_figure(tree, traj, thumbnails=0).axes[-1].collections)
    tree.metrics["commitment_step"] = {"prompt 0": 3, "prompt 1": None, "prompt 2": 5}
    fig = make_figure(tree, traj, thumbnails=0)
    stars = fig.axes[-1].collections[before:]
    assert len(stars) == 2
    # the star of prompt 2 sits on its branch at step 5
    c = stars[1].get_offsets()[0]
    branch = tree.Y[5, tree.prompt_index == 2]
    assert np.linalg.norm(branch.mean(0) - c) < 0.2 * np.linalg.norm(branch.mean(0))


def test_summary_line_averages_per_step_metrics():
    line = summary_line({"trustworthiness": [0.8, 1.0], "step_separation": 0.5, "runtime": 2.0})
    assert "trust 0.900" in line and "step sep 0.500" in line and "2.0 s" in line
    assert summary_line({}) == ""


def test_radial_figure_logs_nothing_to_the_terminal(tmp_path, caplog):
    """Every `tdl run` printed matplotlib's "Ignoring fixed y limits to fulfill fixed data aspect ..."
    (the rings' equal aspect grows the limits we set; that is meant, not worth a line)."""
    tree, traj = synthetic(layout="radial", P=3)
    with caplog.at_level("WARNING", logger="matplotlib"):
        plot_tree(tree, tmp_path / "tree.png", traj, thumbnails=0, dpi=60)
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("matplotlib")]


def _hull_share(Y: np.ndarray) -> float:
    """Area of the convex hull of the points (steps >= 1) over the area of the disc of the outer ring."""
    from scipy.spatial import ConvexHull
    pts = np.asarray(Y[1:], float).reshape(-1, 2)
    return ConvexHull(pts).volume / (np.pi * np.hypot(*pts.T).max() ** 2)


def test_fill_disc_spreads_a_half_disc_tree_round_the_circle():
    """A tree whose rings hold points over half the circle (as t-SNE on a ring gave the digits) fills
    it: the widest empty wedge shrinks to WEDGE; radii, and the order of the points on each ring, stay."""
    rng = np.random.default_rng(0)
    S, I = 8, 60
    ang = np.sort(rng.uniform(-np.pi / 2, np.pi / 2, I))  # one half of the circle
    rad = 40.0 * np.arange(S)[:, None] + rng.uniform(-1, 1, (S, I)) + 1.0
    Y = np.stack((rad * np.cos(ang), rad * np.sin(ang)), -1)
    Z = fill_disc(Y)
    np.testing.assert_allclose(np.hypot(*Z.transpose(2, 0, 1)), rad, rtol=1e-9)
    start, gap = widest_gap(np.arctan2(Z[1:, :, 1], Z[1:, :, 0]))
    assert abs(gap - WEDGE) < 1e-6
    assert abs((start + gap / 2) % (2 * np.pi) - np.pi / 2) < 1e-6  # the wedge (for the labels) on top
    u = np.mod(np.arctan2(Z[..., 1], Z[..., 0]) - (start + gap), 2 * np.pi)
    assert (np.diff(u, axis=1) > 0).all()  # same order on every ring
    assert _hull_share(Y) < 0.5 < 0.85 < _hull_share(Z)
    full = fill_disc(Z)  # already full: only turned
    np.testing.assert_allclose(full, Z, atol=1e-9)


def test_tdl_embed_fills_the_disc():
    """`tdl embed` (pipeline.embed_trajectory) hands out radial trees spread round the disc."""
    from tdl.embedding import EmbedConfig, embed
    from tdl.pipeline import embed_trajectory
    _, traj = synthetic(S=5, P=3, per=8)
    # w_d 4 (the radial default before 2): at 24 instances and 60 iterations the default's thicker rings
    # leave a tree over a quarter of the circle, which fill_disc's 4x cap cannot fill (hull 0.24); the
    # digits (21 x 200) fill it at either weight (hull 0.966 at 2, 0.964 at 4)
    config = EmbedConfig(n_iter=60, perplexity=4, disp_weight=4.0)
    raw = embed(traj.features, config, progress=False).Y.numpy()
    tree = embed_trajectory(traj, config, progress=False)
    assert _hull_share(raw) < 0.3 and _hull_share(tree.Y) > 0.5
    np.testing.assert_allclose(np.hypot(*tree.Y.transpose(2, 0, 1)), np.hypot(*raw.transpose(2, 0, 1)), rtol=1e-5)


def test_names_from_before_the_split_still_import_from_tdl_plot():
    """tdl/plot.py was split into plot_colors/guides/placement/thumbnails: code written against the
    old module keeps working, and `tdl.plot` is still the callable module."""
    import tdl
    import tdl.plot as P
    from tdl import plot_colors, plot_guides, plot_placement, plot_thumbnails

    for name in P.__all__:
        assert hasattr(P, name), name
    assert P.prompt_colors is plot_colors.prompt_colors and P.step_guides is plot_guides.step_guides
    assert P.place_thumbnails is plot_placement.place_thumbnails
    assert P.choose_thumbnails is plot_thumbnails.choose_thumbnails
    assert tdl.plot is P and callable(P)


def test_step_labels_that_would_read_the_same_get_more_decimals():
    """Seen on a diffusers tree (tdl plot, explore, the page): its last rows, t = 0.002 and t = 0, were
    both labelled 't=0.00'. The figure, the page and the explorer share `time_texts`."""
    from tdl.plot_guides import time_texts
    from tdl.webview import step_labels

    assert time_texts(np.array([1.0, 0.5, 0.25]), [0, 1, 2]) == {0: "t=1.00", 1: "t=0.50", 2: "t=0.25"}
    assert time_texts(np.array([1.0, 0.5, 0.002, 0.0]), [0, 2, 3]) == {0: "t=1.000", 2: "t=0.002", 3: "t=0.000"}
    tree, traj = synthetic(P=2, per=5, S=6)
    tree.times = np.array([1.0, 0.8, 0.6, 0.4, 0.002, 0.0])
    fig = make_figure(tree, traj, thumbnails=0)
    _drawn(fig)
    texts = [t.get_text() for t in fig.axes[-1].texts]
    assert "t=0.002" in texts and "t=0.000" in texts and len(set(texts)) == len(texts), texts
    page = step_labels(tree.Y, step_guides(tree.Y, tree.layout), tree.times)["texts"]
    assert page[-2:] == ["t=0.002", "t=0.000"]
