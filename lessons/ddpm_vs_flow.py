"""Lesson 3: DDPM and flow matching side by side, from the same noise. Straightness of the paths,
where DDPM's zig-zag comes from (fresh noise each step), and what straight paths buy: few steps.
"""
from __future__ import annotations

from sandbox.app import names

from . import measure
from .lesson import Lesson, Step, actions, failed, passed, train_if_missing

FEW_STEPS = 10


def lesson() -> Lesson:
    memo: dict = {}

    def start(state) -> None:
        state.set_compare(False)
        state.set_preset("moons")
        ddpm = next((k for k in state.models if k[0] == "ddpm"), ("ddpm", "eps", "cosine"))
        state.set_pane(0, objective="flow", sampler="euler", steps=50)
        state.set_pane(1, objective="ddpm", prediction=ddpm[1], schedule=ddpm[2], sampler="ddpm", steps=50)

    def both(state):
        """(A, B, "") when both panes show samples, else (None, None, why)."""
        if not state.compare:
            return None, None, "Compare mode is off: press C (or the Compare button) to show both panes."
        a, why = measure.pane_result(state, 0)
        if a is None:
            return None, None, f"Left pane: {why}"
        b, why = measure.pane_result(state, 1)
        if b is None:
            return None, None, f"Right pane: {why}"
        return a, b, ""

    def check_side_by_side(state):
        a, b, why = both(state)
        if a is None:
            return failed(why, compare=state.compare)
        pa, pb = state.panes[0].settings, state.panes[1].settings
        if pa.objective != "flow" or pb.objective != "ddpm" or pb.sampler != "ddpm":
            return failed("Keep flow matching on the left and DDPM with its own (ancestral) sampler on the right.",
                          left=pa.title(), right=pb.title())
        sa, sb = measure.straightness(a), measure.straightness(b)
        memo["ancestral"] = sb
        return passed(
            f"Same noise, two models. Flow matching ({_name(pa.sampler)}, {a.nfe} evaluations): straightness {sa:.2f}. "
            f"DDPM ancestral ({b.nfe} evaluations): {sb:.2f} (1 = straight lines). Both reach the moons, "
            "so why are DDPM's paths so crooked? Look at the trajectories closely.",
            flow_straightness=sa, ddpm_straightness=sb, flow_nfe=a.nfe, ddpm_nfe=b.nfe)

    def check_deterministic(state):
        a, b, why = both(state)
        if a is None:
            return failed(why)
        pb = state.panes[1].settings
        if pb.objective != "ddpm":
            return failed("Keep the right pane on DDPM; change only its sampler.", right=pb.title())
        if measure.is_stochastic(pb.sampler):
            return failed(f"{_name(pb.sampler)} still adds fresh noise at every step. Pick a sampler that does not "
                          "(DDIM, or an ODE solver: Euler, Heun, midpoint).", sampler=pb.sampler)
        sb, sa = measure.straightness(b), measure.straightness(a)
        before = memo.get("ancestral")
        if before is not None and sb <= before:
            return failed(f"With {_name(pb.sampler)} the paths are no straighter ({sb:.2f} vs {before:.2f}). Press "
                          "Check again once the right pane has re-sampled.", ddpm_straightness=sb)
        memo["late"] = (measure.late_share(a), measure.late_share(b))
        was = f" (ancestral: {before:.2f})" if before is not None else ""
        than = "straighter than" if sa > sb else "less straight than" if sa < sb else "as straight as"
        return passed(
            f"The same DDPM model with {_name(pb.sampler)}: straightness {sb:.2f}{was}. The zig-zag was the sampler's "
            f"fresh noise, not the model. Flow matching's paths ({sa:.2f}) are {than} these: flow matching "
            "trains on straight lines from noise to ONE data point, but a noise point could lead to many, so "
            "the model first heads for their average and then turns towards the moon it picks.",
            ddpm_straightness=sb, ancestral_straightness=before, flow_straightness=sa, sampler=pb.sampler,
            flow_late_share=memo["late"][0], ddpm_late_share=memo["late"][1])

    def check_few_steps(state):
        a, b, why = both(state)
        if a is None:
            return failed(why)
        pa, pb = state.panes[0].settings, state.panes[1].settings
        for side, p in (("left", pa), ("right", pb)):
            if p.steps > FEW_STEPS:
                # the Down key steps pane A only: the right pane has its own slider, low in the panel
                how = ("Down arrow key, or the steps slider" if side == "left" else
                       "the 'B steps' slider below 'B sampler' in the panel; scroll the panel with the mouse wheel")
                return failed(f"The {side} pane still uses {p.steps} steps; set it to {FEW_STEPS} or fewer "
                              f"({how}).", **{f"{side}_steps": p.steps})
            if measure.is_stochastic(p.sampler):
                return failed(f"Use deterministic samplers in both panes ({side}: {_name(p.sampler)}).")
        qa = measure.quality(measure.final(a), state.drawing.points)["ratio"]
        qb = measure.quality(measure.final(b), state.drawing.points)["ratio"]
        la, lb = memo.get("late") or (measure.late_share(a), measure.late_share(b))
        better = "flow matching" if qa < qb else "DDPM"
        # 7 steps against 1 decides nothing about the two objectives
        fair = "" if pa.steps == pb.steps else " (at different step counts: give both the same for a fair comparison)"
        at = (f"{names.steps(pa.steps)} each" if pa.steps == pb.steps    # was 'At 1 and 1 steps'
              else f"{names.steps(pa.steps)} (flow matching) and {names.steps(pb.steps)} (DDPM)")
        return passed(
            f"At {at}: flow matching's samples are {measure.times(qa)} the data-vs-data "
            f"distance, DDPM's {measure.times(qb)}: {better} holds up better here{fair}. A clue: flow matching's "
            f"particles cover {la:.0%} of their way in the second half of the time, DDPM's {lb:.0%}. Steps are "
            "spread evenly in time, so the model whose particles move evenly wastes fewer of them.",
            flow_ratio=qa, ddpm_ratio=qb, flow_late_share=la, ddpm_late_share=lb,
            flow_steps=pa.steps, ddpm_steps=pb.steps)

    return Lesson(
        id="ddpm_vs_flow",
        title="3. DDPM vs flow matching",
        goal="Compare the paths of DDPM and flow matching from the same noise: their shape, where the "
             "zig-zag comes from, and which one survives few steps.",
        steps=(
            Step("Left: flow matching. Right: DDPM with its ancestral sampler; both 50 steps from the same noise. "
                 "Turn on compare mode (C) and press Train for any model that is missing.",
                 start, check_side_by_side, hint="Training in compare mode trains both panes' models.",
                 demo=actions(lambda st: st.set_compare(True), train_if_missing)),
            Step("Make DDPM's paths straight WITHOUT retraining: change only the right pane's sampler.",
                 None, check_deterministic, demo=lambda st: st.set_pane(1, sampler="ddim")),
            Step(f"Now cut both panes to {FEW_STEPS} steps or fewer (deterministic samplers). Which one "
                 "still looks like the moons?", None, check_few_steps,
                 demo=actions(lambda st: st.set_pane(0, steps=FEW_STEPS), lambda st: st.set_pane(1, steps=FEW_STEPS))),
        ),
        render="diffusion-sandbox render --dataset moons --out moons.gif",
    )


def _name(sampler: str) -> str:
    """What the window's sampler row calls it ("DDPM ancestral", not the id "ddpm")."""
    return names.display("sampler", sampler)
