"""Lesson 7: the forward process and the field that undoes it. Noise the data step by step
(t = 0 -> 1) and see the density spread until the modes merge; turn on the field and see it point
back; then predict where a particle moves next and let the check measure the guess.

Everything runs on the exact denoiser of the three-Gaussian mixture (flow path x_t = (1 - t) x0
+ t eps), so every number has a closed form: the density at time t is the mixture with means
(1 - t) mu_k and covariances (1 - t)^2 C_k + t^2 I.
"""
from __future__ import annotations

import numpy as np
import torch

from . import exact, measure
from .lesson import Lesson, Step, failed, passed

PRESET = "three_modes"
STEPS = 50
MERGE_SLACK = 0.15       # step 1: up to this much noisier than the merge time still counts
EARLY = 0.021            # step 1: one slider step (of 50) before the closed form's rings join still counts:
                         # the window's rings are estimated from 2000 particles and join 0-1 step early
FIELD_T = (0.1, 0.95)    # step 2: where the arrows are worth looking at
START = (0.4, -1.55)     # step 3: the bright particle's noise (canonical coordinates)
AT_STEP, AHEAD = 20, 15  # step 3: paused at step 20 of 50 (t = 0.6), guess step 35 (t = 0.3)
GOOD_GUESS = 0.5         # step 3: error at most half the distance the particle moves


def lesson() -> Lesson:
    memo: dict = {}

    def model(state):
        return measure.model_of(state, 0)

    def spec(state):
        norm = model(state).normalizer
        return exact.MIXTURES[PRESET].normalized(norm.center, norm.scale)

    def merges(state) -> tuple[float, float]:
        """(t at which the contour rings join, t at which the last second peak goes): closed form."""
        key = ("merge", id(model(state)))
        if key not in memo:
            memo[key] = exact.merge_times(spec(state))
        return memo[key]

    def merge(state) -> float:
        return merges(state)[0]

    def start(state) -> None:
        exact.start_on_mixture(state, PRESET, "euler", STEPS)
        state.clear_released()
        if state.options.field:
            state.toggle("field")
        if not state.options.contours:
            state.toggle("contours")
        state.play(False)
        state.set_progress(1.0)          # at the data: t = 0

    def t_now(state) -> float:
        s, _ = measure.pane_result(state)
        if s is not None:
            return float(s.traj.time_at(state.progress))
        return 1.0 - state.progress     # Euler's grid is uniform in t

    def check_merge(state):
        if state.playing:
            return failed("The animation is playing: pause it (Space) and drag the time slider by hand.",
                          playing=True)
        if model(state) is None:
            return failed("The exact model is gone (settings changed?): press Reset step.")
        t = t_now(state)
        sp = spec(state)
        peaks, rings = exact.marginal_peaks(sp, t), exact.ring_pieces(sp, t)
        tm, tp = merges(state)
        seen = dict(t=t, peaks=peaks, rings=rings, merge_t=tm, peak_merge_t=tp)
        if rings > 1 and t < tm - EARLY:
            return failed(f"At t = {t:.2f} the density's contour rings are still in separate pieces ({rings} in the "
                          "closed form; the estimate on screen, from the particles, can show more). Drag further "
                          "towards the noise (left) and watch the rings join.", **seen)
        if t > tm + MERGE_SLACK:
            return failed(f"At t = {t:.2f} everything is one blob, but it became one much earlier. Come back "
                          "towards the data (right) and find the first moment the rings join.", **seen)
        s, why = measure.pane_result(state)
        if s is None:
            return failed(why)
        # the cloud's size at time t, measured on the particles and from the closed form
        norm = model(state).normalizer
        x = torch.as_tensor(norm.forward(s.traj.at(state.progress).numpy().astype(np.float64)))
        measured = float(((x - x.mean(0)) ** 2).sum(1).mean().sqrt())
        data = torch.as_tensor(norm.forward(np.asarray(state.drawing.points, np.float64)))
        r2 = float(((data - data.mean(0)) ** 2).sum(1).mean())
        predicted = float(np.sqrt((1 - t) ** 2 * r2 + 2 * t ** 2))
        if t < tm - 0.005:                # (t is float32: 0.38 reads 0.3799999)
            early = (f" The rings on screen are estimated from the particles and can join a step early; in the "
                     f"closed form they join at t = {tm:.2f}.")
        elif t < tp - 0.005:
            early = (f" The inner ring looks like a peanut: inside it the density still has {peaks} peaks, until "
                     f"t = {tp:.2f}, when the weaker one is gone.")
        else:
            early = (f" Just after they join the inner ring looks like a peanut: one peak, and a shoulder where "
                     f"the weakest mode was (its own peak went at t = {tp:.2f}).")
        return passed(
            f"The three modes' rings join at t = {tm:.2f} (closed form); you stopped at t = {t:.2f}.{early} The "
            f"forward process shrinks the data by (1 - t) and blurs it with noise of size t: the cloud's RMS "
            f"radius is now {measured:.2f} (formula sqrt((1-t)^2 R^2 + 2 t^2) = {predicted:.2f}, data radius "
            f"R = {np.sqrt(r2):.2f}). Past t = {tp:.2f} the density has a single peak and grows rounder.",
            radius=measured, radius_formula=predicted, **seen)

    def check_field(state):
        if not state.options.field:
            return failed("Turn on the vector field (key 4, or the field button in the view row).", field=False)
        t = t_now(state)
        if not FIELD_T[0] <= t <= FIELD_T[1]:
            return failed(f"At t = {t:.2f} the arrows say little; drag the slider to a time between "
                          f"{FIELD_T[0]} and {FIELD_T[1]}.", field=True, t=t)
        if model(state) is None:
            return failed("The exact model is gone (settings changed?): press Reset step.")
        a = field_agreement(model(state), spec(state), t)
        return passed(
            f"At t = {t:.2f} every arrow is -velocity = (E[x0 | x_t] - x_t) / t: it points from each point "
            f"straight at the model's guess of its clean point. The score (grad log p_t) points within "
            f"{a['angle_deg']:.0f} degrees of it on average: both say \"back towards the data\". {a['inward']:.0%} "
            f"of the arrows point towards the mode that is most likely for their point.",
            field=True, t=t, **a)

    def before_guess(state) -> None:
        memo.pop("guess", None)
        state.clear_released()
        m = model(state)
        if m is None:
            return
        from sandbox.app import engine

        s = engine.sample(m, np.asarray([START], np.float32), state.panes[0].settings)
        path = s.traj.xs[:, 0].numpy()
        memo["path"], memo["ts"] = path, s.traj.ts.numpy()
        state.released.append(path)
        if not state.options.field:
            state.toggle("field")
        state.play(False)
        state.set_progress(AT_STEP / STEPS)

    def pick(state, x: float, y: float) -> None:
        memo["guess"] = (float(x), float(y))

    def marks(state) -> list:
        return [memo["guess"]] if "guess" in memo else []

    def check_guess(state):
        if "path" not in memo:
            return failed("Press Reset step: the bright particle is missing.")
        if "guess" not in memo:
            return failed(f"Click on the canvas where you think the bright particle will be at step "
                          f"{AT_STEP + AHEAD} (t = {1 - (AT_STEP + AHEAD) / STEPS:.1f}).", guessed=False)
        path, ts = memo["path"], memo["ts"]
        now, truth = path[AT_STEP], path[AT_STEP + AHEAD]
        g = np.asarray(memo["guess"])
        size = measure.rms_radius(state.drawing.points)
        err = float(np.linalg.norm(g - truth)) / size
        moved = float(np.linalg.norm(truth - now)) / size
        # one straight step along the arrow: what Euler with a single big step would predict
        m = model(state)
        v = straight_step(m, now, float(ts[AT_STEP]), float(ts[AT_STEP + AHEAD]))
        straight = float(np.linalg.norm(v - truth)) / size
        out = dict(guessed=True, error=err, moved=moved, straight_error=straight)
        if err > GOOD_GUESS * moved:
            return failed(f"Your guess is {err:.2f} data radii from where the particle will be; it moves "
                          f"{moved:.2f} in those {AHEAD} steps. Follow the arrow under the bright particle: it "
                          "points where the particle goes next. Click again to move your guess.", **out)
        return passed(
            f"Your guess is {err:.2f} data radii from the particle's real position at step {AT_STEP + AHEAD} "
            f"(it moved {moved:.2f}). Following today's arrow in a straight line for the whole "
            f"{AHEAD} steps lands {straight:.2f} away: the arrows change as t changes, which is why the sampler "
            "takes many small steps. Press Space and watch it go.", **out)

    return Lesson(
        id="forward_and_score",
        title="7. The forward process and the score",
        goal="Noise destroys the data step by step (t = 0 -> 1); the model's field, pointing back towards the "
             "data, is what undoes it.",
        steps=(
            Step("The three blobs are the data (t = 0, the right end of the time slider). Drag the slider slowly "
                 "to the left: this is the forward process, the data shrinking and blurring into noise. Stop at "
                 "the first moment the three bumps of the density (contour rings) have merged into one.",
                 start, check_merge, hint="The label at the bottom left shows t; the contours show the density.",
                 demo=lambda st: _demo_merge(st, merge), reverse=True),
            Step("Now turn on the vector field (key 4). The arrows show where each point moves as the noise is "
                 "removed. Where do they point?", None, check_field, demo=_demo_field),
            Step(f"The bright particle is paused at step {AT_STEP} of {STEPS} (t = {1 - AT_STEP / STEPS:.1f}). "
                 f"Where will it be {AHEAD} steps later (t = {1 - (AT_STEP + AHEAD) / STEPS:.1f})? Read the arrows "
                 "and click your guess on the canvas (a cross marks it), then press Check.",
                 before_guess, check_guess, pick=pick, marks=marks,
                 demo=lambda st: _demo_guess(st, memo, pick)),
        ),
        render="diffusion-sandbox lesson forward_and_score --render lesson7/",
    )


def straight_step(model, x_data: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Where x (data coordinates) lands after one straight Euler step along the model's field from t0 to t1."""
    from sandbox.paths import velocity_from_x0

    f = model.field()
    norm = model.normalizer
    x = torch.as_tensor(norm.forward(np.asarray([x_data], np.float64)), dtype=torch.float32)
    t = torch.full((1,), t0)
    with torch.no_grad():
        v = velocity_from_x0(f.path, x, t, f.x0(x, t))
    y = (x + (t1 - t0) * v).numpy().astype(np.float64)
    return np.asarray(norm.inverse(y))[0]


def field_agreement(model, spec, t: float, side: int = 25, extent: float = 2.0) -> dict:
    """On a grid over the cloud at time t (canonical frame): mean angle between -velocity and the
    exact score, and the share of arrows pointing towards their point's most likely mode centre."""
    from sandbox.paths import score_from_x0, velocity_from_x0

    f = model.field()
    g = np.linspace(-extent, extent, side)
    xx, yy = np.meshgrid(g, g)
    x = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], 1), dtype=torch.float32)
    tt = torch.full((len(x),), float(t))
    with torch.no_grad():
        x0 = f.x0(x, tt)
        back = -velocity_from_x0(f.path, x, tt, x0)
        score = score_from_x0(f.path, x, tt, x0)
    cos = torch.nn.functional.cosine_similarity(back, score, dim=1).clamp(-1, 1)
    # each point's most likely mode at time t: component k of x_t is N((1-t) mu_k, (1-t)^2 C_k + t^2 I)
    mu = torch.as_tensor(spec.means, dtype=torch.float32) * (1.0 - t)                  # (K, 2)
    cov = torch.as_tensor(spec.covs, dtype=torch.float32) * (1.0 - t) ** 2 + t ** 2 * torch.eye(2)
    comp = torch.distributions.MultivariateNormal(mu, covariance_matrix=cov)
    logits = comp.log_prob(x[:, None, :]) + torch.log(torch.as_tensor(spec.weights, dtype=torch.float32))
    k = logits.argmax(1)                                                              # (N,)
    towards = ((mu[k] - x) * back).sum(1) > 0
    return {"angle_deg": float(torch.rad2deg(torch.arccos(cos)).mean()), "inward": float(towards.float().mean())}


def _demo_merge(state, merge) -> None:
    state.set_progress(1.0 - merge(state))


def _demo_field(state) -> None:
    if not state.options.field:
        state.toggle("field")
    state.set_progress(0.5)


def _demo_guess(state, memo, pick) -> None:
    if "path" in memo:
        x, y = memo["path"][AT_STEP + AHEAD]
        pick(state, float(x) + 0.05, float(y))
