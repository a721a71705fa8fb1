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
    from sandbox.app.opening import SIZE, fit_to_desktop, loading

    def load():
        from sandbox.app.window import run

        return run

    size = fit_to_desktop(SIZE)
    run = loading(load, size)      # the window shows 'loading ...' while torch imports
    if run is None:                # closed before it had loaded
        return 0
    given: dict[str, Any] = {k: v for k, v in kwargs.items() if v is not None}
    return int(run(size=size, fullscreen=bool(getattr(args, "fullscreen", False)), **given) or 0)
