"""Lesson 6: the ideal denoiser of a finite training set. E[x0 | x_t] over exactly the training
points is the best possible answer to the training objective, and it only ever reproduces the
training points; a trained network generalises because it is smoother than that.
"""
from __future__ import annotations

import numpy as np
import torch

from . import exact, measure
from .lesson import Lesson, Step, failed, passed

PRESET, POINTS = "moons", 40
COPY_RADIUS = 0.02     # a sample within 2% of the data radius of a training point is a copy


def lesson() -> Lesson:
    memo: dict = {}

    def start(state) -> None:
        state.set_compare(False)
        state.set_preset(PRESET, n=POINTS)
        # many small Euler steps: the last one lands on E[x0 | x_t] at t = 0.01, a single point
        state.set_pane(0, objective="flow", sampler="euler", steps=100)
        exact.use_model(state, exact.point_set_model(state.drawing.points, f"{PRESET} ({POINTS} points)"))
        state.clear_released()
        state.set_progress(0.0)
        state.play(True)

    def copies(state, x: torch.Tensor) -> float:
        return measure.copy_fraction(x, state.drawing.points, COPY_RADIUS * measure.rms_radius(state.drawing.points))

    def check_release(state):
        if not state.released:
            return failed("Release a particle (R, then click; or right-click) somewhere on the canvas, even far "
                          "from the points.", released=0)
        s, why = measure.pane_result(state)
        if s is None:
            return failed(why)
        ends = torch.as_tensor(np.stack([p[-1] for p in state.released]), dtype=torch.float32)
        dist, idx = measure.nearest(ends, state.drawing.points)
        size = measure.rms_radius(state.drawing.points)
        share = copies(state, measure.final(s))
        memo["ideal_copies"] = share
        return passed(
            f"Your particle ended {float(dist[-1]) / size:.4f} data radii from training point #{int(idx[-1])}, and "
            f"{share:.0%} of all {len(measure.final(s))} samples sit on a training point. This denoiser is the "
            f"exact optimum of the training loss for these {POINTS} points, yet it can only copy them.",
            released=len(state.released), end_distance=float(dist[-1]) / size, copy_fraction=share,
            model=("exact" if exact.is_exact(measure.model_of(state, 0)) else "trained"))

    def check_trained(state):
        model = measure.model_of(state, 0)
        if model is None or exact.is_exact(model):
            return failed("The pane still shows the ideal denoiser: press Train to fit a network to the same "
                          f"{POINTS} points.", trained=False)
        s, why = measure.pane_result(state)
        if s is None:
            return failed(why)
        share = copies(state, measure.final(s))
        ideal = memo.get("ideal_copies")
        if ideal is None:
            from sandbox.app import engine

            ideal_model = exact.point_set_model(state.drawing.points)
            ideal = copies(state, measure.final(engine.sample(ideal_model, state.x_T, state.panes[0].settings)))
        q = measure.quality(measure.final(s), state.drawing.points)["ratio"]
        return passed(
            f"Your network puts {share:.0%} of its samples on a training point; the ideal denoiser {ideal:.0%}. "
            "The network was trained on the same loss, but a small smooth function of (x, t) cannot follow the "
            "ideal answer's sharp switches between points, so it fills the gaps along the moons: it "
            "generalises. Train it much longer or much wider, and watch whether it starts to copy.",
            trained=True, copy_fraction=share, ideal_copy_fraction=ideal, ratio=q,
            train_steps=state.settings.train.train_steps)

    return Lesson(
        id="ideal_denoiser",
        title="6. The ideal (memorising) denoiser",
        goal="The best possible denoiser of a finite training set only reproduces that set; trained models "
             "generalise because they are not that good.",
        steps=(
            Step(f"The pane shows the ideal denoiser of these {POINTS} points: E[x0 | x_t] computed exactly. "
                 "Release a particle anywhere (R, then click), even far from the points. Where does it end?",
                 start, check_release, demo=lambda st: st.release_particle_at(4.0, -3.0)),
            Step(f"Press Train: a network learns the same {POINTS} points with the same loss. Do its samples "
                 "copy the points too?", None, check_trained, demo=lambda st: st.train()),
        ),
        render="diffusion-sandbox lesson ideal_denoiser --render lesson6/",
    )
