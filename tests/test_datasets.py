"""Data sets: presets, mixtures behind presets, CSV/NPY/picture loaders, saving, Normalizer."""
import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from sandbox.datasets import (MIXTURES, PRESETS, Normalizer, PointSet, load_points, make_preset,
                              save_points)
from sandbox.errors import UserError

NATURAL_CLASSES = {"smiley": 4, "three_modes": 3, "eight_gaussians": 8, "moons": 2, "spirals": 2,
                   "rings": 3, "swiss_roll": 0, "checkerboard": 0}


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("n", [2, 3, 101, 2000])
def test_preset_any_n(name, n):
    ps = make_preset(name, n=n, seed=3)
    assert ps.points.shape == (n, 2) and ps.points.dtype == np.float32
    assert np.isfinite(ps.points).all()
    assert ps.num_classes == NATURAL_CLASSES[name]
    if ps.labels is not None:
        assert ps.labels.shape == (n,) and ps.labels.dtype == np.int64
        assert 0 <= ps.labels.min() and ps.labels.max() < len(ps.class_names)


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_seeded(name):
    a, b, c = make_preset(name, 500, seed=7), make_preset(name, 500, seed=7), make_preset(name, 500, seed=8)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.allclose(a.points, c.points)
    if a.labels is not None:
        np.testing.assert_array_equal(a.labels, b.labels)
        assert len(np.unique(make_preset(name, 2000).labels)) == a.num_classes  # every class used


def test_preset_names_and_options():
    assert make_preset("two-moons", 10).name == "moons"
    assert make_preset("8gaussians", 10).name == "eight_gaussians"
    assert make_preset("moons", 10, labels=False).labels is None
    assert make_preset("spirals", 300, arms=3).num_classes == 3
    with pytest.raises(UserError, match="choose one of: smiley"):
        make_preset("banana")
    for bad in (0, 1, -5, 2.5):
        with pytest.raises(UserError):
            make_preset("moons", bad)
    with pytest.raises(UserError, match="at most number of points"):   # was a MemoryError (3.6 TiB)
        make_preset("moons", 10 ** 12)


@pytest.mark.parametrize("name", list(MIXTURES))
def test_mixture_presets_follow_their_parameters(name):
    """The preset is a sample of MIXTURES[name]: moments and label frequencies agree."""
    spec, n = MIXTURES[name], 40_000
    ps = make_preset(name, n, seed=0)
    w, mu, cov = spec.weights, spec.means, spec.covs
    np.testing.assert_allclose(np.bincount(ps.labels) / n, w, atol=4 * np.sqrt(0.25 / n))
    for k in range(len(w)):  # per component: mean and covariance
        pk = ps.points[ps.labels == k].astype(np.float64)
        se = np.sqrt(np.diag(cov[k]).max() / len(pk))
        np.testing.assert_allclose(pk.mean(0), mu[k], atol=5 * se)
        np.testing.assert_allclose(np.cov(pk.T), cov[k], atol=0.1 * np.abs(cov[k]).max())
    # normalised parameters describe the normalised points
    norm = Normalizer.fit(ps.points)
    spec_n = spec.normalized(norm.center, norm.scale)
    z = norm.forward(ps.points)
    np.testing.assert_allclose(z[ps.labels == 0].mean(0), spec_n.means[0], atol=0.02)


# --- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("points, match", [
    (np.zeros((0, 2)), "no points"),
    (np.ones((1, 2)), "at least 2"),
    (np.array([[0, 0], [1, np.nan], [2, 2]]), "NaN or infinite"),
    (np.array([[0, 0], [np.inf, 1], [2, 2]]), "NaN or infinite"),
    (np.array([[0, 0], [3e6, 1], [2, 2]]), "absurd"),
    (np.array([[0, 0], [1e300, 1]]), "absurd"),
    (np.full((50, 2), 4.2), "same place"),
    (np.zeros((5, 3)), "2 columns"),
])
def test_pointset_rejects(points, match):
    with pytest.raises(UserError, match=match):
        PointSet(points, name="mine")


def test_pointset_labels():
    p = np.random.default_rng(0).normal(size=(6, 2))
    assert PointSet(p, [0, 1, 1, 2, 0, 0]).class_names == ["0", "1", "2"]
    with pytest.raises(UserError, match="labels for"):
        PointSet(p, [0, 1])
    with pytest.raises(UserError, match=">= 0"):
        PointSet(p, [0, -1, 1, 1, 1, 1])
    with pytest.raises(UserError, match="class names"):
        PointSet(p, [0, 1, 2, 3, 0, 0], ["a", "b"])


# --- files --------------------------------------------------------------------------------
def test_csv_with_and_without_header(tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n0,1\n2.5,-3\n\n# comment\n4,1e-1\n")
    (tmp_path / "b.csv").write_text("0 1\n2.5   -3\n4\t0.1\n")
    (tmp_path / "c.csv").write_text("x;y\n0;1\n2,5;-3\n4;0,1\n")  # European decimal commas
    for f in ("a.csv", "b.csv", "c.csv"):
        ps = load_points(tmp_path / f)
        np.testing.assert_allclose(ps.points, [[0, 1], [2.5, -3], [4, 0.1]], rtol=1e-6)
        assert ps.labels is None and ps.name == f


def test_csv_string_and_number_labels(tmp_path):
    (tmp_path / "s.csv").write_text('x,y,kind\n0,0,cat\n1,0,dog\n0,1,"cat"\n1,1,bird\n')
    ps = load_points(tmp_path / "s.csv")
    assert ps.class_names == ["bird", "cat", "dog"]
    assert [ps.class_names[k] for k in ps.labels] == ["cat", "dog", "cat", "bird"]
    (tmp_path / "n.csv").write_text("0,0,10\n1,0,2\n0,1,2\n")
    ps = load_points(tmp_path / "n.csv")
    assert ps.class_names == ["2", "10"] and ps.labels.tolist() == [1, 0, 0]


def test_npy(tmp_path):
    p = np.random.default_rng(0).normal(size=(20, 2))
    np.save(tmp_path / "a.npy", p)
    np.testing.assert_allclose(load_points(tmp_path / "a.npy").points, p, rtol=1e-6)
    np.save(tmp_path / "b.npy", np.column_stack([p, np.arange(20) % 3]))
    assert load_points(tmp_path / "b.npy").labels.tolist() == (np.arange(20) % 3).tolist()


@pytest.mark.parametrize("ext", [".csv", ".npy"])
def test_save_round_trip(tmp_path, ext):
    ps = make_preset("smiley", 300, seed=1)  # class names with spaces; class order not alphabetical
    out = save_points(ps, tmp_path / f"drawing{ext}")
    back = load_points(out)
    np.testing.assert_allclose(back.points, ps.points, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(back.labels, ps.labels)
    if ext == ".csv":
        assert back.class_names == ps.class_names
    save_points(ps.without_labels(), out)  # overwrite in place
    assert load_points(out).labels is None
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"drawing{ext}"]  # no temp files left
    with pytest.raises(UserError, match=".csv or .npy"):
        save_points(ps, tmp_path / "x.json")


# --- pictures -----------------------------------------------------------------------------
def _letter_l(size=(160, 200), paper=255, ink=0):
    """A dark 'L': vertical bar on the left, horizontal bar at the bottom. Returns image, mask."""
    img = Image.new("L", size, paper)
    d = ImageDraw.Draw(img)
    d.rectangle([30, 20, 55, 170], fill=ink)   # vertical bar (x 30..55, rows 20..170)
    d.rectangle([30, 150, 130, 175], fill=ink)  # bottom bar (rows 150..175)
    mask = np.zeros((size[1], size[0]), bool)
    mask[20:171, 30:56] = True
    mask[150:176, 30:131] = True
    return img, mask


def _pixels_of(points, shape):
    """Invert the loader's mapping (units of the long side, y up) to (row, col)."""
    h, w = shape
    long_side = max(h, w)
    col = np.floor(points[:, 0] * long_side).astype(int)
    row = np.floor(h - points[:, 1] * long_side).astype(int)
    return np.clip(row, 0, h - 1), np.clip(col, 0, w - 1)


def test_picture_points_inside_strokes_and_upright(tmp_path):
    img, mask = _letter_l()
    img.save(tmp_path / "l.png")
    ps = load_points(tmp_path / "l.png", n=3000, seed=0)
    assert ps.points.shape == (3000, 2) and ps.labels is None
    row, col = _pixels_of(ps.points.astype(np.float64), mask.shape)
    assert mask[row, col].mean() > 0.995
    # upright: the wide bar is at the bottom (small y), the left bar reaches the top (large y)
    y, x = ps.points[:, 1], ps.points[:, 0]
    low, high = y < np.quantile(y, 0.1), y > np.quantile(y, 0.9)
    assert np.ptp(x[low]) > 2.5 * np.ptp(x[high])
    assert x[high].mean() < x[low].mean()


def test_photo_of_letter_on_grey_uneven_paper(tmp_path):
    """Paper with a lighting gradient and texture, grey pencil: points still only on the letter."""
    g = np.random.default_rng(0)
    _, mask = _letter_l()
    h, w = mask.shape
    paper = 110 + 130 * np.linspace(0, 1, w)[None, :] + g.normal(0, 6, (h, w))  # 110..240 + noise
    pencil = 50 + g.normal(0, 10, (h, w))
    photo = np.where(mask, pencil, paper).clip(0, 255).astype(np.uint8)
    Image.fromarray(photo).convert("RGB").save(tmp_path / "photo.jpg", quality=90)
    ps = load_points(tmp_path / "photo.jpg", n=3000)
    row, col = _pixels_of(ps.points.astype(np.float64), mask.shape)
    assert mask[row, col].mean() > 0.97


def test_transparent_drawing(tmp_path):
    img = Image.new("RGBA", (100, 100), (0, 0, 0, 0))  # transparent black background = paper
    ImageDraw.Draw(img).ellipse([20, 20, 80, 80], outline=(0, 0, 0, 255), width=6)
    img.save(tmp_path / "ring.png")
    ps = load_points(tmp_path / "ring.png", n=500)
    r = np.linalg.norm(ps.points * 100 - [50, 50], axis=1)
    assert np.all((r > 22) & (r < 32))


def test_blank_picture(tmp_path):
    Image.new("L", (64, 64), 255).save(tmp_path / "white.png")
    Image.new("L", (64, 64), 128).save(tmp_path / "grey.png")
    for f in ("white.png", "grey.png"):
        with pytest.raises(UserError, match="no dark strokes"):
            load_points(tmp_path / f)


def test_light_on_dark_picture_is_refused_with_what_to_do(tmp_path):
    """A chalk ring on black was read as 2000 points spread over the black board (92% of it 'ink'); a
    large filled disc on white paper (71% ink, white corners) is still data."""
    from PIL import ImageDraw

    im = Image.new("L", (200, 200), 0)
    ImageDraw.Draw(im).ellipse((40, 40, 160, 160), outline=255, width=8)
    im.save(tmp_path / "chalk.png")
    with pytest.raises(UserError, match="reads as ink .* invert a light-on-dark picture"):
        load_points(tmp_path / "chalk.png")
    im = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(im).ellipse((0, 0, 300, 300), fill=0)
    im.save(tmp_path / "disc.png")
    assert len(load_points(tmp_path / "disc.png", n=300)) == 300


# --- normaliser ---------------------------------------------------------------------------
def test_normalizer_round_trip_numpy_and_torch():
    p = make_preset("moons", 1000).points * np.float32(50) + np.float32([300, -20])
    norm = Normalizer.fit(p)
    z = norm.forward(p)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(np.sqrt((z ** 2).sum(1).mean()), 1, rtol=1e-5)
    np.testing.assert_allclose(norm.inverse(z), p, rtol=1e-5, atol=1e-3)
    # aspect kept: the ratio of the spreads of x and y does not change
    np.testing.assert_allclose(z.std(0)[0] / z.std(0)[1], p.std(0)[0] / p.std(0)[1], rtol=1e-5)
    t = torch.from_numpy(p).double()
    zt = norm.forward(t)
    assert isinstance(zt, torch.Tensor) and zt.dtype == torch.float64
    np.testing.assert_allclose(zt.numpy(), z, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(norm.inverse(zt).numpy(), p, rtol=1e-6, atol=1e-6)
    again = Normalizer.from_dict(norm.to_dict())
    np.testing.assert_array_equal(again.center, norm.center) and again.scale == norm.scale
    with pytest.raises(UserError):
        Normalizer.from_dict({"center": [0, 0]})


@pytest.mark.parametrize("name", list(MIXTURES))
def test_mixture_oracle_matches_preset(name):
    """The oracle built from MIXTURES scores preset points like its own samples (same law)."""
    mix = MIXTURES[name].oracle()
    ps = make_preset(name, 20_000, seed=1)
    own = mix.sample(20_000, generator=torch.Generator().manual_seed(0))
    lp_preset = mix.log_prob(torch.from_numpy(ps.points)).mean().item()
    lp_own = mix.log_prob(own).mean().item()
    assert abs(lp_preset - lp_own) < 0.03
    assert mix.labels.tolist() == list(range(len(MIXTURES[name].weights)))


def test_saved_file_permissions_follow_umask(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        out = save_points(make_preset("moons", 10), tmp_path / "d.csv")
    finally:
        os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o644


def test_a_folder_is_named_as_one(tmp_path):
    """Opening a folder as points said "unknown file type '(none)'"."""
    from sandbox.datasets import load_points

    with pytest.raises(UserError, match="is a folder"):
        load_points(tmp_path)
    (tmp_path / "pts.csv").mkdir()
    with pytest.raises(UserError, match="is a folder"):
        load_points(tmp_path / "pts.csv")
