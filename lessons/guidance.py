"""Lesson 5: classifier-free guidance. On a labelled mixture (eight Gaussians, one class each) the
guided denoiser x0_u + w (x0_c - x0_u) ignores the class at w = 0, is the conditional model at
w = 1, and beyond 1 exaggerates the class: purity up, variety down, pushed away from the others.
The exact mixture denoiser is used so that what changes is guidance alone.
"""
from __future__ import annotations

import torch

from . import exact, measure
from .lesson import Lesson, Step, actions, failed, passed

PRESET = "eight_gaussians"
PURITY = 0.95
STRONG = 4.0


def lesson() -> Lesson:
    def start(state) -> None:
        # midpoint: at w = 1 it keeps the modes' width (Heun at 20 steps narrows them by ~15% here)
        exact.start_on_mixture(state, PRESET, "midpoint", 20)
        state.set_class(-1)
        state.set_guidance(0.0)
        state.set_progress(1.0)

    def class_samples(state, guidance: float):
        """Samples of pane A's model for the chosen class at another guidance (same noise)."""
        from sandbox.app import engine

        s = engine.sample(measure.model_of(state, 0), state.x_T, state.panes[0].settings, guidance,
                          state.settings.cls)
        return measure.final(s)

    def stats(state, x: torch.Tensor) -> dict:
        """purity; spread of the samples / spread of the class's data; how far the samples' mean
        moved from the class's data mean, away from the centre of all data (data radii)."""
        d = state.drawing
        cls = state.settings.cls
        pts = torch.as_tensor(d.points).float()
        mine = pts[torch.as_tensor(d.labels) == cls]
        near = x[class_mask(state, x)]
        size = measure.rms_radius(d.points)
        if len(near) < 2:
            return {"purity": 0.0, "spread": 0.0, "outward": 0.0}
        spread = float(near.std(0).norm() / mine.std(0).norm())
        centre, cmean = pts.mean(0), mine.mean(0)
        out_dir = (cmean - centre) / (cmean - centre).norm().clamp(min=1e-9)
        outward = float(((near.mean(0) - cmean) * out_dir).sum()) / size
        return {"purity": measure.class_purity(x, d.points, d.labels, cls), "spread": spread, "outward": outward}

    def chosen(state):
        cls = state.settings.cls
        if cls < 0:
            return None, "Pick a class first: the class picker (or its buttons) next to guidance."
        s, why = measure.pane_result(state)
        return s, why

    def check_purity(state):
        s, why = chosen(state)
        if s is None:
            return failed(why, cls=state.settings.cls)
        w, cls = state.settings.guidance, state.settings.cls
        m = stats(state, measure.final(s))
        m.update(guidance=w, cls=cls)
        if m["purity"] < PURITY:
            return failed(f"At guidance {w:g}, {m['purity']:.0%} of the samples are in mode {cls} (goal: "
                          f"{PURITY:.0%}). Raise the guidance.", **m)
        p0 = stats(state, class_samples(state, 0.0))["purity"] if w != 0 else m["purity"]
        return passed(
            f"At guidance {w:g}, {m['purity']:.0%} of the samples are in mode {cls}; at 0 only {p0:.0%} (about one "
            "in eight: w = 0 is the unconditional model, it ignores the class). w = 1 is exactly the conditional "
            "model p(x | class).", purity_at_zero=p0, **m)

    def check_strong(state):
        s, why = chosen(state)
        if s is None:
            return failed(why)
        w = state.settings.guidance
        if w < STRONG:
            return failed(f"Guidance is {w:g}; push it to {STRONG:g} or more.", guidance=w)
        m = stats(state, measure.final(s))
        one = stats(state, class_samples(state, 1.0))
        m.update(guidance=w, cls=state.settings.cls, spread_at_1=one["spread"], outward_at_1=one["outward"])
        return passed(
            f"At guidance {w:g} the mode is {m['spread']:.0%} as wide as the data's (at w = 1: {one['spread']:.0%}) "
            f"and its centre moved {_signed(m['outward'])} data radii away from the other classes (w = 1: "
            f"{_signed(one['outward'])}). Guidance above 1 steps past the conditional model: samples become more "
            "typical of their class and less varied, and can leave the data altogether.", **m)

    return Lesson(
        id="guidance",
        title="5. Classifier-free guidance",
        goal="See what the guidance scale does on a labelled data set: w = 0 ignores the class, w = 1 is the "
             "conditional model, w > 1 trades variety for class fidelity.",
        steps=(
            Step("Eight Gaussians, one class each, with their exact denoiser. Guidance is 0. Pick a class, then "
                 f"raise the guidance until at least {PURITY:.0%} of the samples land in that class's mode.",
                 start, check_purity, demo=actions(lambda st: st.set_class(2), lambda st: st.set_guidance(1.0))),
            Step(f"Now push the guidance to {STRONG:g} or more. Watch the chosen mode: its width and where it sits.",
                 None, check_strong, demo=lambda st: st.set_guidance(STRONG)),
        ),
        render="diffusion-sandbox train --dataset eight_gaussians --conditional --out eg.safetensors && "
               "diffusion-sandbox render --model eg.safetensors --label 2 --guidance 4 --out guided.gif",
    )


def _signed(x: float) -> str:
    """+0.17, and +0.00 for a shift that rounds to zero (seen: 'w = 1: -0.00')."""
    return f"{round(x, 2) + 0.0:+.2f}"


def class_mask(state, x: torch.Tensor) -> torch.Tensor:
    """(n,) True where a sample's nearest data point is of the chosen class."""
    _, idx = measure.nearest(x, state.drawing.points)
    return torch.as_tensor(state.drawing.labels)[idx] == state.settings.cls
