"""`diffusion-sandbox render`: a model's samples travelling from noise to data, to GIF, MP4, PNG or a
self-contained web page, one sampler or two side by side (`--compare`).

Arguments are checked before anything slow happens, with the checks the other commands share
(`sandbox/cli/commands.py`).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from sandbox import limits
from sandbox.cli.commands import (_check_sample_memory, _check_sampling, _class_names, _load_model, _sample,
                                  _suffix, _writable)
from sandbox.errors import UserError
from sandbox.limits import check_float, check_int


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
