"""Lesson 4: few-step sampling. With the exact denoiser of a mixture (no training error at all),
every difference between two step counts is the ODE solver's error; find a solver that stays
accurate on a budget of function evaluations.
"""
from __future__ import annotations

from sandbox.app import names

from . import exact, measure
from .lesson import Lesson, Step, failed, passed

PRESET = "three_modes"
FEW = 5               # step 1: Euler with this many steps or fewer
BUDGET = 10           # step 2: function evaluations per particle
ERROR_BOUND = 0.05    # step 2: mean distance to the exact ODE's end point, in data radii
REFERENCE = ("heun", 200)


def _share(steps: int) -> str:
    """How long one Euler step follows one arrow: '1/5 of the time', or all of it for one step."""
    return "the whole time" if steps <= 1 else f"1/{steps} of the time"


def lesson() -> Lesson:
    memo: dict = {}

    def start(state) -> None:
        exact.start_on_mixture(state, PRESET, "euler", 50)
        state.set_progress(1.0)

    def error(state, s) -> dict:
        """Distance of each particle's end from where the same particle ends under a 200-step Heun
        solve of the same model (the exact ODE for practical purposes), in data radii (canonical units),
        and sample quality against the data relative to that reference's."""
        from sandbox.app import engine
        from sandbox.app.settings import PaneSettings

        model = measure.model_of(state, 0)
        key = (id(model), len(state.x_T), float(abs(state.x_T).sum()), state.settings.guidance, state.settings.cls)
        if memo.get("ref_key") != key:
            pane = PaneSettings(objective=state.panes[0].settings.objective, sampler=REFERENCE[0], steps=REFERENCE[1])
            ref = engine.sample(model, state.x_T, pane, state.settings.guidance, state.settings.cls)
            memo["ref_key"], memo["ref"] = key, measure.final(ref)
            memo["ref_quality"] = measure.quality(memo["ref"], state.drawing.points)["sw"]
        ref = memo["ref"]
        x = measure.final(s)
        err = float((x - ref).norm(dim=1).mean()) / float(model.normalizer.scale)
        q = measure.quality(x, state.drawing.points)["sw"] / memo["ref_quality"]
        return {"error": err, "quality_vs_exact": q, "nfe": s.nfe, "sampler": s.traj.sampler, "steps": s.traj.steps}

    def ready(state):
        p = state.panes[0].settings
        if measure.is_stochastic(p.sampler):
            return None, (f"{_name(p.sampler)} adds noise; this lesson is about ODE solvers: "
                          "pick Euler, Heun or midpoint.")
        return measure.pane_result(state)

    def check_euler_few(state):
        p = state.panes[0].settings
        if p.sampler != "euler":
            return failed(f"Use Euler for this step (now {_name(p.sampler)}): S cycles the sampler.",
                          sampler=p.sampler)
        if p.steps > FEW:
            return failed(f"Euler with {p.steps} steps still looks fine; go down to {FEW} steps or fewer "
                          "(Down arrow key).",
                          steps=p.steps)
        s, why = ready(state)
        if s is None:
            return failed(why)
        m = error(state, s)
        return passed(
            f"Euler, {names.steps(m['steps'])}: particles end {m['error']:.3f} data radii from where the exact ODE "
            f"takes them, and the samples are {measure.times(m['quality_vs_exact'])} as far from the data as the "
            "exact solution's. The model is exact here, so all of this is the solver: each step follows the arrow "
            f"in a straight line for {_share(m['steps'])} while the true path curves.", **m)

    def check_budget(state):
        s, why = ready(state)
        if s is None:
            return failed(why)
        m = error(state, s)
        if m["nfe"] > BUDGET:
            return failed(f"{_name(m['sampler'])} with {m['steps']} steps costs {m['nfe']} evaluations per particle; "
                          f"the budget is {BUDGET}. (A second-order solver costs 2 per step.)", **m)
        if not m["error"] <= ERROR_BOUND:          # written so that a NaN fails
            why = (" Heun's last step is a plain Euler step (its second evaluation would be at t = 0, pure data)."
                   if m["sampler"] == "heun" else "")
            return failed(f"{m['nfe']} evaluations, but particles end {m['error']:.3f} data radii from the exact "
                          f"ODE's end (goal: {ERROR_BOUND} or less).{why} Try another way to spend {BUDGET} "
                          "evaluations.", **m)
        return passed(
            f"{_name(m['sampler'])}, {m['steps']} steps, {m['nfe']} evaluations: error {m['error']:.3f} data radii, "
            f"sample quality {measure.times(m['quality_vs_exact'])} the exact solution's. A second-order solver's "
            "error shrinks like h\u00b2 instead of h, which pays for its second evaluation per step; but not every "
            "second-order method does equally well on the same budget: did you try both Heun and midpoint?", **m)

    return Lesson(
        id="few_steps",
        title="4. Few-step sampling",
        goal="Separate the sampler's error from the model's, and find an ODE solver that stays accurate with "
             "few function evaluations.",
        steps=(
            Step("This pane shows the EXACT denoiser of a three-Gaussian mixture (no training error), sampled "
                 "with Euler in 50 steps. Cut the steps to 5 or fewer (Down arrow key) and watch the modes.",
                 start, check_euler_few, demo=lambda st: st.set_pane(0, steps=FEW)),
            Step(f"Find a solver and step count that lands within {ERROR_BOUND} data radii of the exact ODE's "
                 f"end while costing at most {BUDGET} evaluations per particle (shown as NFE in the pane).",
                 None, check_budget, hint="S cycles the sampler; the Up and Down arrow keys change the steps.",
                 demo=lambda st: st.set_pane(0, sampler="midpoint", steps=5)),
        ),
        render="diffusion-sandbox render --dataset three_modes --sampler euler --steps 5 --out euler5.gif",
    )


def _name(sampler: str) -> str:
    """What the window's sampler row calls it ("Heun"), not the id ("heun")."""
    return names.display("sampler", sampler)
