"""What each `diffusion-sandbox` subcommand does, given its parsed arguments.

Each returns an exit status (0 ok, 1 no display) or raises `UserError`. Arguments are checked
before anything slow happens (loading torch, training), so a typo fails in a fraction of a second.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any
from pathlib import Path

from sandbox import limits
from sandbox.errors import UserError
from sandbox.limits import check_float, check_int

NO_DISPLAY_HINT = ("to make an animation without a window: "
                   "diffusion-sandbox render --dataset smiley --out smiley.gif")


def program_name(argv0: str | None = None) -> str:
    """How to type this program again: `.venv/bin/diffusion-sandbox` (the README's first command)
    when that is how it was run and PATH finds no such program (or another one), `python -m
    sandbox` for the module, else `diffusion-sandbox`."""
    import shutil
    argv0 = sys.argv[0] if argv0 is None else argv0
    name = os.path.basename(argv0)
    if name == "__main__.py" and os.path.basename(os.path.dirname(argv0)) == "sandbox":
        return "python -m sandbox"  # (python -m pytest's argv[0] is pytest's own __main__.py)
    if os.path.dirname(argv0) and name.startswith("diffusion-sandbox"):
        found = shutil.which(name)
        if found is None or os.path.realpath(found) != os.path.realpath(argv0):
            return argv0
    return "diffusion-sandbox"


# --- checks -------------------------------------------------------------------------------
def _suffix(path: Path, allowed: tuple[str, ...], what: str) -> None:
    if path.suffix.lower() not in allowed:
        raise UserError(f"{path}: unknown {what} type '{path.suffix or '(none)'}'; "
                        f"use {' or '.join(allowed)}")


def _writable(path: Path, no_clobber: bool = False) -> None:
    """Fail before the slow part if the output cannot be written: a missing or read-only folder,
    a folder in the way, or (with --no-clobber) an existing file."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"{path}: folder '{folder}' does not exist")
    if path.is_dir():
        raise UserError(f"{path}: is a folder; give a file name")
    if no_clobber and path.exists():
        raise UserError(f"{path} exists and --no-clobber was given; choose another name or drop --no-clobber")
    if not os.access(folder, os.W_OK):  # (root passes this; the write itself then fails cleanly)
        raise UserError(f"{path}: folder '{folder}' is read-only (not writable for you); write elsewhere")


def _check_seed(args: argparse.Namespace) -> None:
    check_int("--seed", args.seed, *limits.SEED)


def _check_sampling(args: argparse.Namespace) -> None:
    check_int("--steps", args.steps, *limits.SAMPLER_STEPS)
    _check_seed(args)
    if args.eta is not None:
        check_float("--eta", args.eta, *limits.ETA)
    if args.guidance is not None:
        check_float("--guidance", args.guidance, *limits.GUIDANCE)


def _check_sample_memory(flag: str, n: int, steps: int | None) -> None:
    """Refuse a sample/render request that cannot fit before anything is allocated: the trajectory
    keeps (steps + 1) x n x 2 float32, and a default-size net's activations for n points (x2 for
    guidance) at every call."""
    per_point = 4.0 * 2 * ((steps or 200) + 1) + 4.0 * (128 * 5 + 66) * 2
    limits.check_fits(flag, n, per_point, what=f"{steps or 'the default'} steps")


# --- shared pieces ------------------------------------------------------------------------
def _device(name: str):
    from sandbox.threads import apply_thread_policy
    from sandbox.train import resolve_device

    apply_thread_policy()  # CPU threads for training and sampling (sandbox/threads.py)
    return resolve_device(name)


def _load_model(path: Path, device_name: str):
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not a model file")
    from sandbox.modelio import load_model

    device = _device(device_name)
    try:
        return load_model(path, device=device)
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to read a user's file is their file's fault
        raise UserError(f"{path}: not a diffusion-sandbox model ({type(e).__name__})") from None


def _class_names(model) -> list[str]:
    return list(model.class_names) if model.num_classes else []


def _labels(model, label: str | None, n: int, seed: int):
    """(n,) int64 classes: all --label (index or name); without it, for a conditional model,
    classes drawn in the training data's proportions (so a picture shows every class)."""
    import numpy as np
    import torch

    names = _class_names(model)
    if label is None:
        if not names:
            return None
        seen = model.data_summary.get("sample_labels") or []
        freq = np.bincount(np.asarray(seen, dtype=np.int64), minlength=len(names))[: len(names)]
        p = freq / freq.sum() if freq.sum() > 0 else np.full(len(names), 1 / len(names))
        return torch.from_numpy(np.random.default_rng(seed).choice(len(names), size=n, p=p))
    if not names:
        raise UserError("--label needs a class-conditional model (train with --conditional)")
    if label in names:
        k = names.index(label)
    else:
        try:
            k = int(label)
        except ValueError:
            raise UserError(f"unknown class {label!r}; the model has {', '.join(names)}") from None
        if not 0 <= k < len(names):
            raise UserError(f"class {k} out of range; the model has classes 0..{len(names) - 1}")
    return torch.full((n,), k, dtype=torch.int64)


def _sample(model, args: argparse.Namespace, n: int):
    """Run the model's sampler; returns the Trajectory (canonical coordinates)."""
    opts = {k: getattr(args, k) for k in ("sampler", "steps", "eta", "guidance")
            if getattr(args, k) is not None}
    if args.guidance is not None and not model.num_classes:
        raise UserError("--guidance needs a class-conditional model (train with --conditional)")
    labels = _labels(model, args.label, n, args.seed)
    if labels is not None:
        opts["labels"] = labels
    return model.sample(n, seed=args.seed, coords="canonical", **opts)


# --- commands -----------------------------------------------------------------------------
def _check_train(args: argparse.Namespace) -> None:
    for flag, rng in (("steps", limits.STEPS), ("batch_size", limits.BATCH), ("width", limits.WIDTH),
                      ("depth", limits.DEPTH), ("T", limits.T_CHAIN), ("fourier", limits.FOURIER),
                      ("n", limits.N_POINTS)):
        check_int(f"--{flag.replace('_', '-')}", getattr(args, flag), *rng)
    check_float("--lr", args.lr, *limits.LR)
    _check_seed(args)
    from sandbox.cli.defaults import dataclass_defaults
    from sandbox.limits import check_fits, mlp_bytes

    d = dataclass_defaults("sandbox.train_config", "TrainConfig")  # what an unset flag trains with (no torch import)
    width, depth = args.width or d.get("width", 128), args.depth or d.get("depth", 3)
    batch = args.batch_size or d.get("batch_size", 384)
    in_dim = 2 + d.get("time_embed_dim", 32) + 2 * (args.fourier if args.fourier is not None else d.get("fourier", 16))
    check_fits("--batch-size", batch, mlp_bytes(width, depth, in_dim, batch=1, train=True)
               - mlp_bytes(width, depth, in_dim, batch=0, train=True),
               fixed=mlp_bytes(width, depth, in_dim, batch=0, train=True), what=f"a {width}x{depth} network")
    check_fits("--width", width, mlp_bytes(width, depth, in_dim, batch=batch, train=True) / width,
               what=f"depth {depth} and batch {batch}")


def train(args: argparse.Namespace) -> int:
    _check_train(args)
    if args.out is not None:
        _suffix(args.out, (".safetensors",), "model file")
        _writable(args.out, args.no_clobber)
    if args.init is not None and (not args.init.is_file()):
        raise UserError(f"{args.init}: no such model file (--init)")
    from sandbox.datasets import TRAIN_DRAW, load_points, make_preset

    n = TRAIN_DRAW if args.n is None else args.n
    data = load_points(args.data, n=n, seed=args.seed) if args.data \
        else make_preset(args.dataset or "moons", n=n, seed=args.seed)
    if args.conditional and data.labels is None:
        raise UserError(f"--conditional needs labelled data, and {data.name} has no classes")
    from tqdm import tqdm

    from sandbox.modelio import save_model
    from sandbox.train import TrainConfig, train as train_loop

    init = None
    if args.init is not None:
        init = _load_model(args.init, args.device)
        if args.objective is None:
            args.objective = init.objective.config()["type"]
    cfg = _train_config(TrainConfig, args)
    out = args.out or Path(f"{Path(data.name).stem}.safetensors")
    _writable(out, args.no_clobber)
    device = _device(args.device)
    start, event = time.perf_counter(), None
    with tqdm(total=cfg.steps, unit="step", desc=f"train {data.name}", leave=False,
              disable=None) as bar:  # disable=None: a bar on a terminal, nothing in logs
        for event in train_loop(cfg, data, device, init=init):
            bar.update(event.step - bar.n)  # steps are 1-based
            post = {"loss": f"{event.loss:.4f}"}
            if event.score is not None and event.baseline:
                post["score"] = f"{event.score / event.baseline:.2f}x data"
            if event.stopped:
                post["stopped"] = event.stopped
            bar.set_postfix(post, refresh=event.stopped is not None)
    if event is None:
        raise UserError("training produced no model (0 steps?)")
    _writable(out, args.no_clobber)  # again: a file may have appeared while we trained
    save_model(event.model, out)
    score = (f", score {event.score / event.baseline:.2f}x data-vs-data"
             if event.score is not None and event.baseline else "")
    why = f"; {event.stopped}" if event.stopped else ""
    print(f"saved {out} ({data.name}, {cfg.objective}{', warm start from ' + str(args.init) if init else ''}, "
          f"{event.step} steps in {time.perf_counter() - start:.1f} s{why}, loss {event.loss:.4f}{score})")
    return 0


def _train_config(TrainConfig, args: argparse.Namespace):
    """Flags the user gave -> TrainConfig; unset flags keep TrainConfig's defaults."""
    names = ("objective", "prediction", "schedule", "T", "ot", "steps", "lr", "batch_size",
             "width", "depth", "fourier", "seed", "conditional")
    return TrainConfig(**{k: getattr(args, k) for k in names if getattr(args, k) is not None})


def sample(args: argparse.Namespace) -> int:
    check_int("--n", args.n, *limits.SAMPLES)
    _check_sampling(args)
    _suffix(args.out, (".csv", ".npy"), "points file")
    _writable(args.out, args.no_clobber)
    _check_sample_memory("--n", args.n, args.steps)
    import numpy as np

    from sandbox.datasets import PointSet, save_points

    model = _load_model(args.model, args.device)
    traj = _sample(model, args, args.n)
    points = model.normalizer.inverse(traj.final.detach().cpu().numpy())
    if not np.isfinite(points).all():
        raise UserError(f"{args.model}: the model produced NaN/inf samples; retrain it")
    labels = None if traj.labels is None else traj.labels.cpu().numpy()
    names = _class_names(model) if labels is not None else []
    save_points(PointSet(points, labels, names, "samples"), args.out)
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def render(args: argparse.Namespace) -> int:
    _check_sampling(args)
    check_int("--particles", args.particles, *limits.PARTICLES)
    check_int("--traces", args.traces, *limits.TRACES)
    check_float("--hold", args.hold, *limits.HOLD)
    check_float("--seconds", args.seconds, *limits.SECONDS)
    check_float("--fps", args.fps, *limits.FPS)
    check_float("--at", args.at, 0.0, 1.0)
    _suffix(args.out, (".mp4", ".gif", ".png", ".html"), "output")
    _writable(args.out, args.no_clobber)
    _check_sample_memory("--particles", args.particles, args.steps)
    from sandbox.export import check_animation, parse_size, progress_plan

    if args.out.suffix.lower() == ".html":
        size = None  # the page's player sizes itself
    elif args.out.suffix.lower() != ".png":
        size = check_animation(args.out, args.size)
        progress_plan(args.fps, args.seconds, hold_end=args.hold)  # validate before any work
    else:
        size = parse_size(args.size)
        if not 0 <= args.at <= 1:
            raise UserError(f"--at must be in [0, 1], got {args.at}")
    if args.dataset is not None:
        from sandbox.datasets import canonical_name

        name = canonical_name(args.dataset)
        from sandbox.modelio import shipped_model_path

        model_path = Path(shipped_model_path(name, args.objective))
    else:
        model_path = args.model
    model = _load_model(model_path, args.device)
    traj = _sample(model, args, args.particles).to("cpu")
    if getattr(args, "compare", None):   # pane B: the same model, seed (so the same noise) and labels
        traj = [traj, _sample(model, argparse.Namespace(**{**vars(args), "sampler": args.compare, "eta": None}),
                              args.particles).to("cpu")]
    data = _background(model, args)
    _write(traj, data, model, args, size)
    return 0


def _background(model, args: argparse.Namespace):
    """The data drawn faintly behind, in the model's canonical coordinates (or None)."""
    if args.no_data:
        return None
    from sandbox.datasets import PRESETS, load_points, make_preset

    if args.data is not None:
        points = load_points(args.data, seed=args.seed).points
    elif len(model.data_sample()):  # the training data kept in the model file
        points = model.data_sample()
    elif model.data_summary.get("name") in PRESETS:
        points = make_preset(model.data_summary["name"], n=2000, seed=args.seed).points
    else:
        return None
    return model.normalizer.forward(points)


def _write(traj, data, model, args: argparse.Namespace, size) -> None:
    from sandbox.export import export_animation, export_frame
    from sandbox.view import Theme, ViewOptions

    from sandbox.cli.parser import THEMES

    options = ViewOptions(contours=not args.no_contours, trajectories=not args.no_trajectories,
                          data=data is not None)
    panes = traj if isinstance(traj, list) else [traj]
    labels = [args.title if args.title is not None else _title(model, t, args) for t in panes]
    what = " beside ".join(f"{_sampler_name(t)} {_steps(t.steps)}" for t in panes)
    if args.out.suffix.lower() == ".html":  # the notebook player as one self-contained page
        from sandbox.web import trajectory_player
        from sandbox.web.page import PlayerRow
        from sandbox.web.player import MAX_PARTICLES

        players = [trajectory_player(t, data=data, contours=options.contours,
                                     traces=args.traces if options.trajectories else 0, title=lab,
                                     class_names=_class_names(model), theme=THEMES[args.theme])
                   for t, lab in zip(panes, labels)]
        (players[0] if len(players) == 1 else PlayerRow(players, " | ".join(labels))).save(args.out)
        n = panes[0].xs.shape[1]
        shown = f"{n} particles" if n <= MAX_PARTICLES else f"{n} particles, the page plays {MAX_PARTICLES} of them"
        print(f"wrote {args.out} (interactive page, {shown}, {what}; opens offline in any browser)")
        return
    traj = panes[0] if len(panes) == 1 else panes
    label = labels[0] if len(labels) == 1 else labels
    common = dict(size=size, data=data, options=options, theme=Theme.named(THEMES[args.theme]),
                  label=label, traces=args.traces)
    if args.out.suffix.lower() == ".png":
        export_frame(traj, args.out, progress=args.at, **common)
    else:
        export_animation(traj, args.out, fps=args.fps, seconds=args.seconds, hold_end=args.hold,
                         **common)
    print(f"wrote {args.out} ({size[0]}x{size[1]}, {panes[0].xs.shape[1]} particles, {what})")


def _sampler_name(traj) -> str:
    """The sampler's display name ('Euler-Maruyama'), as the picture's caption says it."""
    from sandbox.registry import SAMPLERS

    return SAMPLERS[traj.sampler].display if traj.sampler in SAMPLERS else (traj.sampler or "sampler")


def _steps(n: int) -> str:
    """'1 step', '50 steps' (render --steps 1 said 'Heun 1 steps')."""
    return f"{int(n)} step" if int(n) == 1 else f"{int(n)} steps"


def _title(model, traj, args: argparse.Namespace) -> str:
    from sandbox.registry import PRESETS, SAMPLERS

    name = args.dataset or model.data_summary.get("name") or args.model.stem
    name = PRESETS[name].display if name in PRESETS else name  # display names, never ids
    sampler = SAMPLERS[traj.sampler].display if traj.sampler in SAMPLERS else traj.sampler
    bits = [str(name), "flow matching" if model.kind == "flow" else "DDPM",
            f"{sampler} {_steps(traj.steps)}"]
    return "  \u00b7  ".join(b for b in bits if b)


def display_available() -> tuple[bool, str]:
    """Whether a window can open here, and why not."""
    driver = os.environ.get("SDL_VIDEODRIVER", "").strip().lower()
    if driver in ("dummy", "offscreen"):
        return False, f"SDL_VIDEODRIVER={driver}"
    if sys.platform.startswith("linux") and not driver and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False, "neither DISPLAY nor WAYLAND_DISPLAY is set"
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    try:
        pygame.display.init()
    except pygame.error as e:
        return False, str(e).split("\n")[0]
    return True, ""


def window(args: argparse.Namespace) -> int:
    kwargs = {"dataset": getattr(args, "dataset", None), "model_path": getattr(args, "model", None)}
    if kwargs["model_path"] is not None and not kwargs["model_path"].is_file():
        raise UserError(f"{kwargs['model_path']}: no such file")
    if kwargs["dataset"] is not None:
        from sandbox.datasets import canonical_name

        kwargs["dataset"] = canonical_name(kwargs["dataset"])
    ok, why = display_available()
    if not ok:
        hint = NO_DISPLAY_HINT.replace("diffusion-sandbox", program_name())
        if kwargs["model_path"] is not None:   # the render of what was asked for
            hint = hint.replace("--dataset smiley --out smiley.gif",
                                f"--model {kwargs['model_path']} --out {kwargs['model_path'].stem}.gif")
        elif kwargs["dataset"]:
            hint = hint.replace("smiley", str(kwargs["dataset"]))
        print(f"no display ({why}); {hint}", file=sys.stderr)
        return 1
    from sandbox.app.window import run

    given: dict[str, Any] = {k: v for k, v in kwargs.items() if v is not None}
    return int(run(fullscreen=bool(getattr(args, "fullscreen", False)), **given) or 0)
