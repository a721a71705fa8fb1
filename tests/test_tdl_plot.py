"""The static TDL figure: real image files, prompt colours, thumbnails, step guides, 2D side by side."""
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from PIL import Image

from sandbox.errors import UserError
from tdl import layout as lay
from tdl.plot import (choose_thumbnails, make_figure, plot_tree, prompt_colors, step_guides,
                      summary_line)
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


@pytest.mark.parametrize("layout,n", [("radial", 20), ("rectilinear", 20), ("radial", 40)])
def test_thumbnails_never_overlap_each_other_the_data_or_the_labels(layout, n):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.offsetbox import AnnotationBbox
    tree, traj = synthetic(layout=layout, P=4, per=6, S=12)
    fig = make_figure(tree, traj, thumbnails=n)
    FigureCanvasAgg(fig).draw()
    r = fig.canvas.get_renderer()
    ax = fig.axes[-1]
    boxes = [a.get_window_extent(r) for a in ax.artists if isinstance(a, AnnotationBbox)]
    assert len(boxes) == n
    # the image boxes only (the connector lines may cross the panel)
    boxes = [a.offsetbox.get_window_extent(r) for a in ax.artists if isinstance(a, AnnotationBbox)]
    for k, b in enumerate(boxes):
        assert 0 <= b.x0 and b.x1 <= fig.bbox.width and 0 <= b.y0 and b.y1 <= fig.bbox.height
        assert not any(b.overlaps(o) for o in boxes[k + 1:])
        assert not b.overlaps(ax.get_window_extent(r))  # never on the data panel
        assert not any(b.overlaps(t.get_window_extent(r)) for t in ax.texts)
        assert not b.overlaps(fig.legends[0].get_window_extent(r))


@pytest.mark.parametrize("layout", ["radial", "rectilinear"])
def test_step_labels_never_sit_on_points(layout):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    tree, traj = synthetic(layout=layout, P=3, per=6, S=10)
    fig = make_figure(tree, traj, thumbnails=0)
    FigureCanvasAgg(fig).draw()
    r = fig.canvas.get_renderer()
    ax = fig.axes[-1]
    px = ax.transData.transform(tree.Y.reshape(-1, 2))
    assert ax.texts
    labels = [t.get_window_extent(r) for t in ax.texts]
    assert not any(a.overlaps(b) for k, a in enumerate(labels) for b in labels[k + 1:])
    for t in ax.texts:
        b = t.get_window_extent(r)
        inside = (px[:, 0] > b.x0) & (px[:, 0] < b.x1) & (px[:, 1] > b.y0) & (px[:, 1] < b.y1)
        assert not inside.any(), t.get_text()


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
