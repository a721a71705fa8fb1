"""Every class colour reads in every theme, and the classes stay apart for colour-blind viewers.

Measured with WCAG 2 contrast ratios against the background and CIE76 distances in CIELAB, in normal
vision and under Machado et al. (2009)'s simulation of deuteranopia and protanopia (severity 1).
Before: the dark theme drew the blue class's data at 1.65 (a class-conditional preset's blue points
near invisible on a projector), and the light theme's vermillion and orange were 1.3 apart for a
deuteranope."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from sandbox.view.theme import THEMES, Theme, blend

DEUTAN = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                   [-0.011820, 0.042940, 0.968881]])
PROTAN = np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]])
XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])


def linear(c) -> np.ndarray:
    v = np.asarray(c, float) / 255
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def contrast(a, b) -> float:
    la, lb = sorted([float(linear(a) @ XYZ[1]), float(linear(b) @ XYZ[1])])
    return (lb + 0.05) / (la + 0.05)


def lab_of_linear(lin) -> np.ndarray:
    x, y, z = (XYZ @ np.clip(lin, 0, 1)) / [0.95047, 1.0, 1.08883]
    f = [np.cbrt(t) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29 for t in (x, y, z)]
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


VISION = {"normal": np.eye(3), "deuteranopia": DEUTAN, "protanopia": PROTAN}


def closest_pair(colours, vision: str) -> tuple[float, int, int]:
    labs = [lab_of_linear(VISION[vision] @ linear(c)) for c in colours]
    return min((float(np.linalg.norm(labs[i] - labs[j])), i, j)
               for i, j in itertools.combinations(range(len(labs)), 2))


def test_the_colour_maths_matches_known_values():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)
    assert lab_of_linear(linear((255, 255, 255))) == pytest.approx([100, 0, 0], abs=0.05)
    # red and green, far apart in normal vision, nearly meet for a deuteranope
    assert closest_pair([(200, 60, 40), (90, 140, 40)], "normal")[0] > 60
    assert closest_pair([(200, 60, 40), (90, 140, 40)], "deuteranopia")[0] < 20


@pytest.mark.parametrize("name", THEMES)
def test_every_class_reads_as_samples_and_as_data(name):
    t = Theme.named(name)
    need = 3.0 if name == "high-contrast" else 2.3       # data sit behind the samples, fainter
    samples = [round(contrast(c, t.background), 2) for c in t.class_colors]
    data = [round(contrast(c, t.background), 2) for c in t.data_class_colors]
    assert min(samples) >= 3.0, samples
    assert min(data) >= need, data
    # the data stay fainter than the samples drawn over them
    assert all(d < s for d, s in zip(data, samples)), (data, samples)


@pytest.mark.parametrize("name", THEMES)
@pytest.mark.parametrize("vision", list(VISION))
def test_classes_stay_apart_for_colour_blind_viewers(name, vision):
    t = Theme.named(name)
    for what, colours in (("samples", t.class_colors), ("data", t.data_class_colors)):
        d, i, j = closest_pair(colours, vision)
        assert d >= 10.0, f"{name} {what}: classes {i} and {j} only {d:.1f} apart in {vision}"


def test_high_contrast_shows_the_data_at_least_as_clearly_as_dark():
    """Under Xvfb the high-contrast theme (for projectors) drew the spirals' and smiley's data in
    class colours blended 35% into black: a contrast ratio down to 1.37, fainter than the dark
    theme's. The data behind stays fainter than the samples, but never fainter than in dark."""
    dark, hc = Theme.dark(), Theme.high_contrast()
    for a, b in zip(dark.data_class_colors, hc.data_class_colors):
        assert contrast(b, hc.background) >= contrast(a, dark.background)
    assert contrast(blend(hc.background, hc.data, hc.data_strength), hc.background) >= 3.0
    # light: its yellow class (the smiley's mouth) was 1.13, as good as invisible; then its sky blue
    # (the smiley's face, class 0) 1.52 and its traces 1.93, washed out on a projector (seen under Xvfb)
    light = Theme.light()
    assert contrast(blend(light.background, light.data, light.data_strength), light.background) >= 2.3
    assert contrast(blend(light.background, light.trace, light.trace_strength), light.background) >= 2.5
    for c in light.contour:                                          # drawn unblended
        assert contrast(c, light.background) >= 2.5, c
