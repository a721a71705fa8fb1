"""Lesson 2: draw your own distribution, train a model on it, and check that its samples are as
close to the drawing as more drawing would be (sliced Wasserstein against a data-vs-data baseline).
"""
from __future__ import annotations

import numpy as np

from . import measure
from .lesson import Lesson, Step, failed, passed, train_if_missing

MIN_POINTS = 300
QUALITY_BOUND = 1.5    # samples' distance to the drawing <= 1.5 x the drawing's distance to itself


def lesson() -> Lesson:
    def start(state) -> None:
        state.set_compare(False)
        state.reset_model()
        state.clear()
        state.set_tool("spray")
        state.set_pane(0, objective="flow", sampler="heun", steps=20)

    def check_drawing(state):
        d = state.drawing
        n = len(d)
        if d.name != "drawing":
            return failed(f"That is the {d.name!r} data, not a drawing: clear it (Delete) and spray your own shape.",
                          points=n, source=d.name)
        if n < MIN_POINTS:
            return failed(f"{n} points so far; spray at least {MIN_POINTS} (hold the left button and drag).",
                          points=n)
        parts = blobs(d.points)
        lo, hi = d.points.min(0), d.points.max(0)
        shape = "one connected shape" if parts == 1 else f"{parts} separate shapes"
        return passed(
            f"{n} points in {shape}, {hi[0] - lo[0]:.1f} \u00d7 {hi[1] - lo[1]:.1f} wide. The model will learn "
            "their density: where you sprayed more, it must put more samples"
            + ("; and between your shapes, none." if parts > 1 else "."),
            points=n, parts=parts, width=float(hi[0] - lo[0]), height=float(hi[1] - lo[1]))

    def check_trained(state):
        if state.models_stale:
            return failed("The drawing changed after training: press Train again.", stale=True)
        s, why = measure.pane_result(state)
        if s is None:
            return failed(why)
        q = measure.quality(measure.final(s), state.drawing.points)
        steps = state.settings.train.train_steps
        measured = dict(ratio=q["ratio"], sw=q["sw"], baseline=q["baseline"], train_steps=steps,
                        particles=len(measure.final(s)))
        if not q["ratio"] <= QUALITY_BOUND:        # written so that a NaN fails
            return failed(
                f"The samples are {measure.times(q['ratio'])} as far from your drawing "
                f"as one half of the drawing is from "
                f"the other (goal: {QUALITY_BOUND}\u00d7 or less). Train longer: raise the training steps in the "
                f"advanced panel (now {steps}) and press Train again.", **measured)
        return passed(
            f"Your model's samples are {measure.times(q['ratio'])} as far from the drawing "
            "as half of the drawing is from "
            "the other half: about as good as more of your own spraying. Where do the samples differ from "
            "your points? (Toggle the data view, key 6.)", **measured)

    return Lesson(
        id="draw_and_train",
        title="2. Draw your own distribution",
        goal="Any set of points is a distribution a diffusion model can learn; judge the result against the "
             "data's own variability.",
        steps=(
            Step(f"The canvas is empty. Spray a shape of your own with the mouse: at least {MIN_POINTS} points "
                 "(brush size: [ and ]).", start, check_drawing, demo=spray_ring),
            Step("Press Train (T) and watch the loss fall and the preview take shape. When training has "
                 "finished, press Check: are the samples as close to your drawing as the drawing is to itself?",
                 None, check_trained,
                 hint="Thin or very spread-out drawings need more training steps.", demo=train_if_missing),
        ),
        render="diffusion-sandbox lesson draw_and_train --render lesson2/\n"
               "# your own shape: draw it on paper and save a photo of it as my_drawing.jpg (dark pixels become\n"
               "# points; a CSV of x,y lines works too, and the window's Ctrl+Shift+S saves a drawing as one):\n"
               "diffusion-sandbox train --data my_drawing.jpg --out mine.safetensors && "
               "diffusion-sandbox render --model mine.safetensors --out mine.gif",
    )


def spray_ring(state) -> None:
    """A learner's drawing: a ring of radius 1.2 sprayed with 36 small dabs."""
    for a in np.linspace(0, 2 * np.pi, 36, endpoint=False):
        state.spray(1.2 * np.cos(a), 1.2 * np.sin(a), radius=0.15, density=12)


def blobs(points: np.ndarray, min_share: float = 0.05) -> int:
    """Separate shapes in a drawing: single-linkage clusters holding at least `min_share` of the
    points, cut at gaps wider than 4x the typical nearest-neighbour distance (and 20% of the RMS
    radius), so a sparse spray stays one shape."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial import cKDTree

    p = np.asarray(points, np.float64)
    if len(p) > 1500:
        p = p[np.random.default_rng(0).choice(len(p), 1500, replace=False)]
    nn = cKDTree(p).query(p, k=2)[0][:, 1]
    cut = max(4.0 * float(np.median(nn)), 0.2 * measure.rms_radius(p))
    labels = fcluster(linkage(p, "single"), cut, criterion="distance")
    counts = np.bincount(labels)
    return int((counts >= min_share * len(p)).sum())
