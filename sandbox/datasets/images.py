"""Points from a picture: dark pixels are density (e.g. a photo of a letter drawn on paper).

Steps: greyscale (transparent parts count as white paper) -> estimate the local paper brightness
(a wide maximum filter, so uneven lighting in a photo does not turn into ink) -> darkness relative
to the paper -> Otsu's threshold separates ink from paper texture -> sample pixels with
probability proportional to their darkness, jittered inside the pixel, y flipped so the picture
is upright. Coordinates are in units of the picture's long side: x in [0, W/L], y in [0, H/L].
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from sandbox.datasets.pointset import PointSet
from sandbox.errors import UserError

MAX_SIDE = 512  # pictures are shrunk to this long side: plenty for 2D densities, and fast
MIN_INK_CONTRAST = 24.0  # grey levels (of 255) that ink must be darker than the paper


def otsu_threshold(values: np.ndarray) -> float:
    """Otsu's threshold of values in [0, 255]: maximises the between-class variance."""
    hist = np.bincount(np.clip(values, 0, 255).astype(np.int64).ravel(), minlength=256).astype(float)
    p = hist / hist.sum()
    omega = np.cumsum(p)  # weight of class "<= k"
    mu = np.cumsum(p * np.arange(256))
    mu_t = mu[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu_t * omega - mu) ** 2 / (omega * (1 - omega))
    between = np.nan_to_num(between, nan=-1.0, posinf=-1.0)
    return float(np.argmax(between)) + 0.5  # class "ink" is values > k


def _grey_pixels(path: Path) -> np.ndarray:
    """(H, W) float64 grey levels 0..255 (0 = black); transparency composited onto white."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as src:
            im: Image.Image = ImageOps.exif_transpose(src)  # phone photos: the camera's rotation
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                im = im.convert("RGBA")
                white = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(white, im)
            grey = im.convert("L")
            if max(grey.size) > MAX_SIDE:
                grey.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
            return np.asarray(grey, dtype=np.float64)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as e:
        raise UserError(f"{path}: cannot read the picture ({type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else 'corrupt file'})") from None


def ink_weights(grey: np.ndarray) -> np.ndarray:
    """(H, W) grey levels -> (H, W) non-negative sampling weights (0 on paper)."""
    from scipy import ndimage

    h, w = grey.shape
    # paper brightness nearby: strokes thinner than a quarter of the picture never reach it
    size = max(3, max(h, w) // 2)
    paper = ndimage.maximum_filter(grey, size=size, mode="nearest")
    paper = ndimage.uniform_filter(paper, size=max(3, size // 4), mode="nearest")
    darkness = np.clip(paper - grey, 0, 255)
    threshold = otsu_threshold(darkness)
    ink = darkness > threshold
    if not ink.any() or darkness[ink].mean() - darkness[~ink].mean() < MIN_INK_CONTRAST \
            or darkness.max() < MIN_INK_CONTRAST:
        return np.zeros_like(grey)
    return np.where(ink, darkness, 0.0)


def load_image(path: str | Path, n: int = 2000, seed: int = 0) -> PointSet:
    """Sample n points from picture `path` (dark = dense); no labels."""
    path = Path(path)
    weights = ink_weights(_grey_pixels(path))
    total = weights.sum()
    if total <= 0:
        raise UserError(f"{path}: no dark strokes found (the picture is blank or too faint); "
                        f"draw with a dark pen on light paper")
    ink = weights > 0
    edge = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    if ink.mean() > 0.5 and edge.mean() > 0.5:
        # chalk on a blackboard, or paper on a dark table: the dark part would become the data
        raise UserError(f"{path}: {ink.mean():.0%} of the picture, its edges too, reads as ink (dark pixels are "
                        f"the density): crop it to the paper, or invert a light-on-dark picture")
    h, w = weights.shape
    from sandbox.limits import check_fits

    check_fits("n", int(n), 100.0)   # float64 draws and jitter (n=10**12 raised MemoryError)
    g = np.random.default_rng(seed)
    flat = g.choice(h * w, size=n, p=(weights / total).ravel())
    row, col = np.divmod(flat, w)
    jitter = g.uniform(0, 1, (n, 2))
    long_side = max(h, w)
    x = (col + jitter[:, 0]) / long_side
    y = (h - row - jitter[:, 1]) / long_side  # row 0 is the top of the picture: flip to keep it upright
    return PointSet(np.stack([x, y], axis=1), None, [], path.name)
