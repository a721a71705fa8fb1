"""Lesson 1: from noise to data. Play the smiley, stop half-way, follow single particles, and see
what the model "knows" at high noise (its guess of the clean point is close to the data's mean).
"""
from __future__ import annotations

import numpy as np
import torch

from . import measure
from .lesson import Lesson, Step, actions, failed, passed

MID_TOLERANCE = 0.05   # progress within 0.45..0.55 counts as "the middle"
NEAR_NOISE = 0.2       # progress <= 0.2: t >= 0.8
RELEASES = 3


def lesson() -> Lesson:
    def start(state) -> None:
        state.set_compare(False)
        state.set_preset("smiley")
        # the shipped model's kind, a deterministic sampler: particles released together stay together
        kind = state.panes[0].settings.objective
        state.set_pane(0, sampler="euler" if kind == "flow" else "ddim", steps=50)
        state.set_progress(0.0)
        state.play(True)

    def check_middle(state):
        if state.playing:
            return failed("The animation is still playing: pause it first (Space), then drag the time slider.",
                          playing=True, progress=state.progress)
        p = state.progress
        s, why = measure.pane_result(state)
        if s is None:
            return failed(why, progress=p)
        traj = s.traj
        if abs(p - 0.5) > MID_TOLERANCE:
            # in the words on screen (the canvas's 't = 0.09 · step 46/50'), not the slider's fraction
            where = "towards the noise" if p < 0.5 else "towards the data"
            return failed(f"You stopped at t = {traj.time_at(p):.2f}, {where}. Drag the slider to the middle "
                          f"(t = {traj.time_at(0.5):.2f}, step {traj.steps // 2}/{traj.steps}).", progress=p)
        x0, xp, x1 = traj.at(0.0).float(), traj.at(p).float(), traj.at(1.0).float()
        # how much of each particle's way (noise -> its sample) is still ahead of it, on average
        way = float((xp - x1).norm(dim=1).mean() / (x0 - x1).norm(dim=1).mean().clamp(min=1e-12))
        size = measure.rms_radius(state.drawing.points)
        spread = float(((xp - xp.mean(0)) ** 2).sum(1).mean().sqrt()) / size
        t = traj.time_at(p)
        return passed(
            f"Half-way in steps (t = {t:.2f}), each particle still has {way:.0%} of its way to go (straight-line "
            f"distance to where it ends), and the cloud is {spread:.2f}× as wide as the face. Is the face "
            "already recognisable? Scrub slowly: when do the eyes appear?",
            progress=p, t=t, remaining=way, cloud_width=spread)

    def before_release(state) -> None:
        state.clear_released()
        state.set_tool("release")

    def check_release(state):
        got = len(state.released)
        if got < RELEASES:
            return failed(f"{got} particle(s) released so far; click {RELEASES - got} more place(s) on the canvas "
                          "(release tool: R, or right-click).", released=got)
        paths = [np.asarray(p, np.float64) for p in state.released[-RELEASES:]]   # each (S+1, 2)
        starts = np.stack([p[0] for p in paths])
        ends = np.stack([p[-1] for p in paths])
        dist, _ = measure.nearest(torch.as_tensor(ends, dtype=torch.float32), state.drawing.points)
        size = measure.rms_radius(state.drawing.points)
        lengths = [float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum()) for p in paths]
        chords = [float(np.linalg.norm(p[-1] - p[0])) for p in paths]
        gaps = np.linalg.norm(starts[:, None] - starts[None], axis=-1)
        gap_start = float(gaps.max())
        gap_end = float(np.linalg.norm(ends[:, None] - ends[None], axis=-1).max())
        # the two that started closest: the question below is about them
        i, j = divmod(int(np.argmin(gaps + np.diag(np.full(len(gaps), np.inf)))), len(gaps))
        pair = (float(gaps[i, j]), float(np.linalg.norm(ends[i] - ends[j])))
        return passed(
            f"Your {RELEASES} particles travelled {', '.join(f'{l:.2f}' for l in lengths)} (straight-line "
            f"distance {', '.join(f'{c:.2f}' for c in chords)}) and ended {float(dist.max()) / size:.0%} of the "
            f"face's size or less from a data point. The two that started closest ({pair[0]:.2f} apart) ended "
            f"{pair[1]:.2f} apart. Release two particles very close together \u2014 do they always end close "
            "together?",
            released=got, path_lengths=lengths, chords=chords, end_to_data=dist.tolist(),
            start_spread=gap_start, end_spread=gap_end, closest_start=pair[0], closest_end=pair[1])

    def check_field(state):
        if not state.options.field:
            return failed("Turn on the vector field view (key 4, or the field button).", field=False)
        p = state.progress
        s, why = measure.pane_result(state)
        if s is None:
            return failed(why, progress=p)
        if p > NEAR_NOISE:
            how = "pause (Space) and drag" if state.playing else "drag"   # playing, the check hits any time
            return failed(f"The arrows are shown at t = {s.traj.time_at(p):.2f}; {how} the slider close to the "
                          f"noise (t = {s.traj.time_at(NEAR_NOISE):.1f} or more, the left end) to see what the "
                          "model does there.", progress=p)
        guess = denoiser_spread(state, s, p)
        late = denoiser_spread(state, s, 0.95)
        return passed(
            f"At t = {s.traj.time_at(p):.2f} the model's guesses of the clean point E[x0 | x_t] spread only "
            f"{guess:.0%} as wide as the face (at t = {s.traj.time_at(0.95):.2f}: {late:.0%}). From almost pure "
            "noise the best guess is close to the average of the data, so every arrow points roughly to the "
            "centre; the details appear only as the noise fades.",
            progress=p, spread_now=guess, spread_late=late)

    return Lesson(
        id="noise_to_data",
        title="1. From noise to data",
        goal="See sampling as particles carried from a cloud of noise (t = 1) to the data (t = 0), and what "
             "the model knows along the way.",
        steps=(
            Step("The smiley's model turns random noise into a face. Watch it once, then pause (Space) and drag "
                 "the time slider to the middle: half-way from noise to data.", start, check_middle,
                 demo=actions(lambda st: st.play(False), lambda st: st.set_progress(0.5))),
            Step(f"Follow single particles: with the release tool (R) click {RELEASES} places on the canvas. Each "
                 "click drops one particle into the noise there and draws its path.", before_release,
                 check_release, hint="A right-click releases a particle with any tool.",
                 demo=actions(*(lambda st, p=p: st.release_particle_at(*p) for p in ((0.0, 0.0), (0.6, 0.4),
                                                                                     (0.62, 0.4))))),
            Step("What does the model do at high noise? Turn on the vector field (key 4) and drag the slider "
                 "back near the noise (left end).", None, check_field,
                 demo=actions(lambda st: st.options.field or st.toggle("field"), lambda st: st.play(False),
                              lambda st: st.set_progress(0.1))),
        ),
        render="diffusion-sandbox render --dataset smiley --out smiley.gif",
    )


def denoiser_spread(state, sampled, progress: float) -> float:
    """RMS spread of the model's E[x0 | x_t] at the particles' positions at `progress`, relative
    to the data's RMS radius (both in the model's canonical frame, where the data's is about 1)."""
    from sandbox.app import engine

    model = measure.model_of(state, 0)
    f = engine.DataField(model, state.settings.guidance, state.settings.cls)
    x = torch.as_tensor(f.to_canonical(sampled.traj.at(progress).numpy()))
    t = torch.full((len(x),), float(sampled.traj.time_at(progress)))
    with torch.no_grad():
        x0 = f.x0(x, t, None if f.label is None else torch.full((len(x),), f.label))
    data = torch.as_tensor(f.to_canonical(state.drawing.points))
    spread = lambda z: float(((z - z.mean(0)) ** 2).sum(1).mean().sqrt())  # noqa: E731
    return spread(x0.float()) / spread(data.float())
