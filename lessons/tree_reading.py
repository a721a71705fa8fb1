"""Lesson 8: reading a Tree of Diffusion Life against paths whose truth you can see.

Step 1: eight Gaussians sampled by their exact denoiser with a stochastic sampler (Euler-Maruyama,
20 steps). The same paths are shown three times: the true 2D paths, and the evolutionary embedding
(tdl) in its radial and rectilinear layouts, each instance coloured by the mode it ends in. The
learner drags the time slider to the step where the colours split into their own branches; the check
compares it with the step from which the final mode is predictable from x_t (leave-one-out k-NN on
the true positions of all particles, `lessons.commitment`), and reports the same test on the tree.
Step 2: the learner switches to Euler (no noise added): the starting noise already decides the mode.
Step 3: the built-in digits model, unconditional and stochastic (DDPM ancestral); colours are the
digit an independent classifier reads in each final image; the truth is the step from which that
classifier already reads the final digit in the model's guess x0_hat.
Everything is offline and takes seconds on a CPU; trees are cached per process.
"""
from __future__ import annotations

import threading

import numpy as np

from . import commitment, exact, measure
from .lesson import Lesson, Step, failed, passed

PRESET, STEPS = "eight_gaussians", 20
INSTANCES = 160          # instances in the 2D tree (the truth uses every particle)
DIGITS = 150             # digits sampled for step 2
N_ITER = 250             # embedding iterations (seconds on a CPU; the picture is settled by then)
TOLERANCE = 2            # steps either side of the measured commitment step
LEVEL = 0.9              # committed: accuracy >= 90% of its final value from this step on
SEED = 0
LAYOUTS = ("radial", "rectilinear")

_TREES: dict = {}


def trees(features: np.ndarray, key) -> dict:
    """{layout: (Y (S, I, 2) display coordinates, guide)} for radial and rectilinear, cached by `key`."""
    if key in _TREES:
        return _TREES[key]
    import torch

    from tdl.embedding import EmbedConfig, embed
    from tdl.plot_guides import step_guides

    out = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)        # a small problem: one thread is fastest when cores are shared
    try:
        for layout in LAYOUTS:
            res = embed(torch.as_tensor(np.asarray(features, np.float32)), EmbedConfig(layout=layout, n_iter=N_ITER),
                        progress=False)
            Y = res.Y.detach().cpu().numpy().astype(np.float64)
            if layout == "radial":  # round the whole disc, as `tdl embed` does
                from tdl.tree import fill_disc
                Y = fill_disc(Y)
            g = step_guides(Y, layout, res.config.to_dict())
            guide = ("ring", g.values, g.center) if g.kind == "ring" else ("band", g.values)
            out[layout] = (Y, guide)
            out[layout + ":config"] = {k: v for k, v in res.config.to_dict().items() if k in ("radius", "stretch")}
    finally:
        torch.set_num_threads(threads)
    _TREES[key] = out
    return out


def sandbox_paths(model, x_T: np.ndarray, sampler: str) -> dict:
    """The exact model's paths from the noise `x_T` (N, 2) with `sampler`: positions (S, N, 2) in
    data coordinates, final modes (N,), the tree of the first INSTANCES and, measured on all N
    particles, how predictable the final mode is from x_t at each step."""
    from sandbox.app import engine
    from sandbox.app.settings import PaneSettings

    s = engine.sample(model, x_T, PaneSettings(objective="flow", sampler=sampler, steps=STEPS), seed=SEED)
    pos = s.traj.xs.numpy().astype(np.float64)                                  # (S, N, 2)
    canon = np.stack([model.normalizer.forward(x) for x in pos])
    spec = exact.MIXTURES[PRESET].normalized(model.normalizer.center, model.normalizer.scale)
    modes = np.linalg.norm(canon[-1][:, None] - spec.means[None], axis=-1).argmin(1)   # (N,)
    acc = commitment.predictability(canon, modes)
    sub = slice(0, min(INSTANCES, pos.shape[1]))
    key = ("2d", PRESET, sampler, STEPS, pos.shape[1], float(np.abs(canon[:, sub]).sum()))
    return {"positions": pos[:, sub], "labels": modes[sub], "acc": acc, "commit": commitment.commit_step(acc, LEVEL),
            "trees": trees(canon[:, sub], key), "chance": commitment.chance(modes), "sampler": sampler,
            "times": s.traj.ts.numpy().astype(np.float64), "names": [f"mode {k}" for k in range(len(spec.means))]}


def digits_paths(seed: int = SEED) -> dict:
    """The digits model's unconditional paths (DDPM ancestral sampler): the model's guess of the
    clean image x0_hat at every step as features (S, N, 64) and images, the digit an independent
    classifier (`tdl.digits.quality.judge`) reads in each final image, the trees, and at each step
    the share of guesses x0_hat in which the classifier already reads the final digit."""
    from tdl.digits.quality import judge
    from tdl.sources.digits import digits

    tr = digits(prompts=["any"], instances_per_prompt=DIGITS, steps=STEPS, capture="x0", sampler="ddpm",
                seed=seed, progress=False)
    f = np.clip(tr.features, -1.0, 1.0).astype(np.float64)                     # (S, N, 64)
    read = np.stack([judge().predict(x) for x in f]).astype(np.int64)          # (S, N)
    labels = read[-1]
    acc = (read == labels[None]).mean(1)
    key = ("digits", STEPS, DIGITS, seed)
    return {"images": tr.images, "labels": labels, "acc": acc, "commit": commitment.commit_step(acc, LEVEL),
            "trees": trees(tr.features, key), "chance": commitment.chance(labels), "sampler": "ddpm",
            "times": tr.times, "names": [f"a handwritten {k}" for k in range(10)]}


def step_of(state, S: int) -> int:
    """The step the time slider points at (0 = noise ... S = the samples)."""
    return int(round(float(state.progress) * S))


def lesson() -> Lesson:
    memo: dict = {}
    work: dict = {}      # key -> thread computing paths and trees (the window keeps drawing)

    def launch(key, fn) -> threading.Thread:
        def run():
            try:
                memo[key] = fn()
            except Exception as e:  # noqa: BLE001 - shown by the check, never lost in a thread
                memo[("error", key)] = f"{type(e).__name__}: {e}"
        memo.pop(("error", key), None)
        # not a daemon: quitting waits for it (seconds); a daemon thread still inside torch when the
        # interpreter exits aborts it ("terminate called without an active exception", exit 134)
        th = work[key] = threading.Thread(target=run, daemon=False)
        th.start()
        return th

    def paths_for(state, wait: bool):
        """The 2D paths and trees of pane A's current sampler, or None while they are being computed
        (wait=False: the window's scene starts the work in a thread and draws a note meanwhile)."""
        model = measure.model_of(state, 0)
        if model is None or not exact.is_exact(model):
            return None
        sampler = state.panes[0].settings.sampler
        key = (id(model), sampler)
        if key in memo:
            return memo[key]
        th = work.get(key)
        if th is None or (wait and not th.is_alive() and ("error", key) in memo):   # a check retries a failure
            x_T = state.x_T.copy()
            th = launch(key, lambda: sandbox_paths(model, x_T, sampler))
        if wait:
            th.join()
        return memo.get(key)

    def start(state) -> None:
        exact.start_on_mixture(state, PRESET, "euler_maruyama", STEPS)
        state.clear_released()
        state.play(False)
        state.set_progress(0.0)
        paths_for(state, wait=False)     # in a thread: the window says so meanwhile

    def digits_for(wait: bool):
        """The digits' paths and trees, computed once in a thread (the window keeps drawing)."""
        th = work.get("digits")
        if "digits" not in memo and (th is None or (wait and not th.is_alive() and ("error", "digits") in memo)):
            launch("digits", digits_paths)
        if wait and "digits" in work:
            work["digits"].join()
        return memo.get("digits")

    def start_digits(state) -> None:
        state.play(False)
        state.set_progress(0.0)
        digits_for(wait=False)

    def judge_answer(state, d, thing: str, how: str):
        errors = [v for k, v in memo.items() if isinstance(k, tuple) and k[0] == "error"]
        if d is None and errors:
            return failed(f"Could not build the trees ({errors[-1]}). Press Reset step to try again.")
        if d is None:
            return failed("The exact eight-Gaussian model is gone (settings changed?): press Reset step.")
        if state.playing:
            return failed("Pause the animation (Space), then drag the time slider.", playing=True)
        S = len(d["acc"]) - 1
        k, c = step_of(state, S), d["commit"]
        acc = d["acc"]
        tree_acc = {lay: commitment.predictability(d["trees"][lay][0], d["labels"]) for lay in LAYOUTS}
        tree_commit = {lay: commitment.commit_step(a, LEVEL) for lay, a in tree_acc.items()}
        out = dict(step=k, commit=c, accuracy=float(acc[k]), final_accuracy=float(acc[-1]), chance=d["chance"],
                   sampler=d["sampler"], tree_commit_radial=tree_commit["radial"],
                   tree_commit_rectilinear=tree_commit["rectilinear"])
        if k < c - TOLERANCE:
            return failed(f"At step {k} of {S} the {thing} is not decided yet: {how} gets only {acc[k]:.0%} right "
                          f"(always guessing the most common {thing}: {d['chance']:.0%}). Move further along the "
                          "branches.", **out)
        if k > c + TOLERANCE:
            return failed(f"At step {k} of {S} the samples decided long ago: {how} already gets {acc[k]:.0%} "
                          "right. Go back towards the noise and find where the colours first split apart.", **out)
        agree = all(abs(tc - c) <= TOLERANCE for tc in tree_commit.values())
        tree_says = (f"A nearest-neighbour guess on the tree's own points settles at step {tree_commit['radial']} "
                     f"(radial) and {tree_commit['rectilinear']} (rectilinear)")
        if agree:
            tree_says += (": the tree agrees. It keeps who is near whom at each step, so branches that split there "
                          "mean samples that decide there.")
        else:
            tree_says += (f"; at your step it is {tree_acc['radial'][k]:.0%} right on the radial tree against "
                          f"{acc[k]:.0%} on the true states: here the tree shows the decision less clearly than the "
                          "paths do. It keeps neighbourhoods only approximately; read a tree with the true paths "
                          "(or the images) beside it.")
        out.update(tree_accuracy_radial=float(tree_acc["radial"][k]), tree_agrees=agree)
        return passed(
            f"Yes: the {thing} is settled from step {c} of {S} on ({how}: {acc[c]:.0%} right there, "
            f"{acc[-1]:.0%} at the end, {d['chance']:.0%} by guessing the most common); you chose step {k}. "
            + tree_says, **out)

    xt_guess = "a nearest-neighbour guess from x_t"

    def check_stochastic(state):
        if measure.is_stochastic(state.panes[0].settings.sampler) is False:
            return failed("This step is about the stochastic sampler: press Reset step.")
        return judge_answer(state, paths_for(state, wait=True), "mode", xt_guess)

    def check_deterministic(state):
        if measure.is_stochastic(state.panes[0].settings.sampler):
            return failed("Switch the sampler to Euler (deterministic: no noise is added on the way) in the "
                          "panel's sampler row, or press S to cycle samplers.", sampler=state.panes[0].settings.sampler)
        res = judge_answer(state, paths_for(state, wait=True), "mode", xt_guess)
        if res.passed:
            res = passed(res.feedback + " With no noise added on the way, the starting noise already decides "
                         "the mode.", **res.measured)
        return res

    def check_digits(state):
        return judge_answer(state, digits_for(wait=True), "digit",
                            "reading the model's current guess of the clean image with a classifier")

    def scene_2d(state, surface, rect, theme, progress) -> None:
        d = paths_for(state, wait=False)
        if d is None:
            _note(surface, rect, theme, "sampling and embedding the paths of this sampler (a few seconds) ...")
            return
        name = "stochastic" if measure.is_stochastic(d["sampler"]) else "deterministic"
        _three_panels(surface, rect, theme, progress, d,
                      lambda r, k: _paths_panel(surface, r, theme, d, k, f"true paths ({name})"))

    def scene_digits(state, surface, rect, theme, progress) -> None:
        d = digits_for(wait=False)
        if d is None:
            _note(surface, rect, theme, "sampling 150 digits and embedding their paths ...")
            return

        def left(r, k):
            from .tree_view import draw_images

            order = np.argsort(d["labels"], kind="stable")[::2][:60]
            draw_images(surface, r, d["images"][k][order], d["labels"][order], theme,
                        f"model's guess x0 at step {k}")
        _three_panels(surface, rect, theme, progress, d, left)

    def demo_commit(state, d) -> None:
        state.play(False)
        state.set_progress(d["commit"] / STEPS)

    def demo_deterministic(state) -> None:
        state.set_pane(0, sampler="euler")
        demo_commit(state, paths_for(state, wait=True))

    return Lesson(
        id="reading_a_tree",
        title="8. Reading a Tree of Diffusion Life",
        goal="A Tree of Diffusion Life shows every step of many samples in one picture; where its branches "
             "split is where the samples decide what they become.",
        steps=(
            Step(f"Left: the true paths of {INSTANCES} eight-Gaussian samples (exact model, {STEPS} steps of a "
                 "stochastic sampler), coloured by the mode each ends in. Middle and right: the same paths as a "
                 "Tree of Diffusion Life, radial (noise in the centre, samples outside) and rectilinear (noise "
                 "left, samples right). Drag the time slider to the step where the colours split into their own "
                 "branches: when do the samples commit to their mode?", start, check_stochastic, scene=scene_2d,
                 hint="The highlighted ring (radial) and line (rectilinear) follow the time slider.",
                 web=lambda st, title: tree_player(paths_for(st, wait=True), title),
                 demo=lambda st: demo_commit(st, paths_for(st, wait=True))),
            Step("Now switch the sampler to Euler, which adds no noise on the way (S cycles samplers). The tree is "
                 "redrawn for the new paths. When do the samples commit now?", None, check_deterministic,
                 web=lambda st, title: tree_player(paths_for(st, wait=True), title),
                 scene=scene_2d, demo=demo_deterministic),
            Step(f"The same tree for the built-in digits model: {DIGITS} digits drawn with no prompt and a "
                 "stochastic sampler, so nothing tells a sample which digit to become. Left: the model's guess "
                 "of the clean image at the slider's step, framed in the colour of the digit it finally "
                 "becomes. When do the samples commit to their digit?", start_digits, check_digits,
                 scene=scene_digits, demo=lambda st: demo_commit(st, digits_for(wait=True)),
                 web=lambda st, title: tree_player(digits_for(wait=True), title)),
        ),
        render="diffusion-sandbox lesson reading_a_tree --render lesson8/",
    )


def tree_player(d, title: str, layout: str = "radial"):
    """The radial tree of `d` as sandbox.web's interactive tree player (hover shows the true 2D path
    or the digit images), or None."""
    if d is None:
        return None
    from tdl.tree import TreeData
    from tdl.trajectory import TrajectoryData
    from tdl.webview import TreeView

    Y = d["trees"][layout][0]
    S, n = Y.shape[:2]
    names = d["names"][: int(d["labels"].max()) + 1]
    tree = TreeData(Y, layout, d["times"], names, d["labels"], config=d["trees"][layout + ":config"],
                    source="lesson 8")
    traj = TrajectoryData(np.zeros((S, n, 1), np.float32), d["times"], names, d["labels"],
                          images=d.get("images"), positions2d=d.get("positions"), source="lesson 8")
    player = TreeView(tree, traj).player()
    player.payload["title"] = title
    return player


def _note(surface, rect, theme, text: str) -> None:
    from sandbox.view.draw import draw_text

    surface.fill(theme.background, rect)
    draw_text(surface, text, rect.center, theme, anchor="center")


def _three_panels(surface, rect, theme, progress, d, left) -> None:
    """Left panel (drawn by `left(rect, step)`), radial tree, rectilinear tree, side by side."""
    import pygame

    from .tree_view import draw_paths

    rect = pygame.Rect(rect)
    surface.fill(theme.panel_border, rect)
    S = len(d["acc"]) - 1
    k = int(round(float(np.clip(progress, 0, 1)) * S))
    gap = 2
    w = (rect.w - 2 * gap) // 3
    boxes = [pygame.Rect(rect.x + i * (w + gap), rect.y, w, rect.h) for i in range(3)]
    if rect.w < 1.6 * rect.h:        # a tall area: the rectilinear tree gets the whole bottom row
        half = (rect.h - gap) // 2
        hw = (rect.w - gap) // 2
        boxes = [pygame.Rect(rect.x, rect.y, hw, half), pygame.Rect(rect.x + hw + gap, rect.y, rect.w - hw - gap, half),
                 pygame.Rect(rect.x, rect.y + half + gap, rect.w, rect.h - half - gap)]
    left(boxes[0], k)
    Yr, gr = d["trees"]["radial"]
    Yl, gl = d["trees"]["rectilinear"]
    draw_paths(surface, boxes[1], Yr, d["labels"], k, theme, f"radial tree  \u00b7  step {k}/{S}", True, gr)
    draw_paths(surface, boxes[2], Yl, d["labels"], k, theme, f"rectilinear tree  \u00b7  step {k}/{S}", False, gl)


def _paths_panel(surface, rect, theme, d, k, title) -> None:
    from .tree_view import draw_paths

    S = len(d["acc"]) - 1
    draw_paths(surface, rect, d["positions"], d["labels"], k, theme, f"{title}  \u00b7  step {k}/{S}", True)
