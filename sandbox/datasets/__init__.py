"""2D data: `PointSet`, presets, file and picture loaders, `Normalizer`.

    from sandbox.datasets import make_preset, load_points, Normalizer
    ps = make_preset("moons", n=2000, seed=0)          # PointSet, points (N, 2), labels (N,)
    norm = Normalizer.fit(ps.points)                   # canonical: centred, RMS radius 1
"""
from sandbox.datasets.images import load_image
from sandbox.datasets.loaders import load_points, save_points
from sandbox.datasets.normalize import Normalizer
from sandbox.datasets.pointset import PointSet, as_pointset
from sandbox.datasets.presets import (MIXTURES, PRESETS, TRAIN_DRAW, MixtureSpec, canonical_name, make_preset,
                                      preset_names)

__all__ = ["PointSet", "as_pointset", "PRESETS", "TRAIN_DRAW", "MIXTURES", "MixtureSpec", "make_preset", "preset_names",
           "canonical_name", "load_points", "save_points", "load_image", "Normalizer"]
