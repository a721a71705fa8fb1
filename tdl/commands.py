"""What each `tdl` subcommand does (the parser is `tdl/cli.py`): one function per command, taking
the parsed arguments, turning them into configs (`tdl/flags.py`, which checks every flag) and calling the
stages (the sources, then `tdl/pipeline.py`, then `tdl/plot.py`). Messages go to stderr, results (paths,
metrics) to stdout.
"""
from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

from sandbox.errors import UserError
from tdl.flags import EVOLUTIONARY_ONLY  # noqa: F401 - its name here before tdl/flags.py
from tdl.flags import (MODEL_PARAMS, SOURCE_FLAGS, check_device, check_parametric, check_positive,
                       diffusers_options, embed_config, figure_options, figure_path)


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- stages -----------------------------------------------------------------------------------
def sample_trajectory(args, procs=None):
    """Run the chosen source (and feature extractor) from parsed arguments -> TrajectoryData.

    procs: a `tdl.sources.shards.Processes` of a sharded launch (this process runs its share)."""
    from tdl.sources import SOURCES
    if args.source not in SOURCES:
        raise UserError(f"unknown source {args.source!r}; choose one of {', '.join(SOURCES)}")
    for name in ("instances_per_prompt", "instances", "steps"):
        check_positive(name, getattr(args, name))
    if getattr(args, "prompt_set", None):
        if args.prompts:
            raise UserError("give --prompts or --prompt-set, not both")
        from tdl.prompts import load_prompt_set
        args.prompts = load_prompt_set(args.prompt_set)
    if args.seeds is not None and args.instances_per_prompt is not None:
        raise UserError("give --seeds or --instances-per-prompt, not both")
    diffusers_options(args)
    fn = SOURCES[args.source]
    params = inspect.signature(fn).parameters
    kwargs = {}
    for name in SOURCE_FLAGS:
        value = getattr(args, name, None)
        if value is None:
            continue
        if name not in params:
            raise UserError(f"the {args.source} source does not take --{name.replace('_', '-')}")
        kwargs[name] = value
    if args.model is not None:
        key = next((k for k in MODEL_PARAMS if k in params), None)
        if key is None:
            raise UserError(f"the {args.source} source does not take --model")
        kwargs[key] = args.model
    device = check_device(args.device)
    if procs is not None and procs.sharded:
        if "shard" not in params:
            raise UserError(f"the {args.source} source cannot be split over processes; run it in one")
        kwargs["shard"] = (procs.rank, procs.world)
        device = procs.device(device)
    progress = not args.quiet and (procs is None or procs.is_main)
    for name, value in (("seed", args.seed), ("device", device), ("progress", progress)):
        if name in params:
            kwargs[name] = value
    if args.features:  # checked before sampling, which can take long
        from tdl.features import EXTRACTORS, extract
        if args.features not in EXTRACTORS:
            raise UserError(f"unknown feature extractor {args.features!r}; choose one of {', '.join(EXTRACTORS)}")
        if "features" in params:  # the source extracts them from full-size images while decoding
            kwargs["features"], kwargs["feature_model"] = args.features, args.feature_model
    elif args.feature_model:
        raise UserError("--feature-model needs --features (clip, dinov2 or vae)")
    traj = fn(**kwargs)
    if args.features and "features" not in params:
        traj = extract(traj, args.features, which=args.capture or "x0", device=device,
                       model=args.feature_model, progress=progress)
    return traj


def format_metrics(metrics: dict, times=None) -> str:
    """A table of the per-step metrics (one row a step, `*_per_step` lists) and then the others."""
    per_step = {k.removesuffix("_per_step"): v for k, v in metrics.items()
                if isinstance(v, list) and v and all(isinstance(x, (int, float)) for x in v)}
    lines = []
    if per_step:
        n = max(len(v) for v in per_step.values())
        widths = [max(len(c), 8) for c in per_step]
        lines.append("step       t  " + "  ".join(f"{c:>{w}}" for c, w in zip(per_step, widths)))
        for s in range(n):
            t = f"{times[s]:7.3f}" if times is not None and s < len(times) else f"{'-':>7}"
            cells = [f"{v[s]:{w}.3f}" if s < len(v) else f"{'-':>{w}}" for v, w in zip(per_step.values(), widths)]
            lines.append(f"{s:4d} {t}  " + "  ".join(cells))
    for k, v in metrics.items():
        if isinstance(v, bool) or isinstance(v, (list, dict)) or v is None:
            continue
        if isinstance(v, float):
            v = f"{v:.2f} s" if k.startswith("runtime") else f"{v:.3f}"
        lines.append(f"{k}: {v}")
    return "\n".join(lines)


def _find_trajectory(tree_path: Path, tree, explicit: Path | None):
    """The trajectory a tree was made from (explicit path, else its recorded source), or None."""
    from tdl.trajectory import TrajectoryData
    if explicit is not None:
        traj = TrajectoryData.load(explicit)
    else:
        candidates = [tree_path.parent / tree.source, Path(tree.source)] if tree.source else []
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            if tree.source:
                _say(f"note: trajectory {tree.source} not found: no images (give it with --traj)")
            return None
        try:
            traj = TrajectoryData.load(found)
        except UserError as e:
            _say(f"note: {e}; drawing without images")
            return None
    if traj.features.shape[:2] != tree.Y.shape[:2]:
        raise UserError(f"the trajectory has {traj.num_steps} x {traj.num_instances} points but the tree "
                        f"{tree.num_steps} x {tree.num_instances}: not the tree's trajectory")
    return traj


# --- commands ---------------------------------------------------------------------------------
def sample(args) -> int:
    from sandbox.fileio import check_writable
    from tdl.sources.shards import Processes, write_sharded
    check_writable(args.out, make_parents=True)  # before minutes of sampling, not after
    procs = Processes()
    traj = sample_trajectory(args, procs)
    if procs.sharded:
        done = write_sharded(traj, args.out, procs)
        if done is None:
            return 0
        path, traj = done
        print(f"merged {procs.world} shards (one per process)")
    else:
        path = traj.save(args.out)
    print(f"wrote {path}: {traj.num_steps} steps x {traj.num_instances} instances, "
          f"{traj.dim}-d features ({traj.source})")
    return 0


def _embed_to_tree(traj, config, args, out: Path, source: str):
    """The tree of `traj`: evolutionary embedding, or the parametric one (trained and saved beside
    `out`, or a saved one given with --parametric-model)."""
    from tdl import pipeline
    progress = not args.quiet
    given = getattr(args, "parametric_model", None)
    if given is not None:
        from tdl.parametric import ParametricEmbedding
        model = ParametricEmbedding.load(given, device=config.device)
        return pipeline.place_trajectory(traj, model, source=source)
    if args.parametric:
        return pipeline.embed_parametric(traj, config, out.with_suffix(".parametric.safetensors"),
                                         epochs=args.iterations, source=source, progress=progress)
    return pipeline.embed_trajectory(traj, config, source=source, progress=progress)


def embed(args) -> int:
    from tdl.trajectory import TrajectoryData
    check_parametric(args)
    config = embed_config(args)
    traj = TrajectoryData.load(args.trajectory)
    out = Path(args.out)
    from sandbox.fileio import check_writable
    check_writable(out, make_parents=True)  # before the embedding's iterations, not after
    source = os.path.relpath(Path(args.trajectory).resolve(), out.resolve().parent)
    tree = _embed_to_tree(traj, config, args, out, source)
    path = tree.save(out)
    print(format_metrics(tree.metrics, tree.times))
    print(f"wrote {path} ({tree.layout}, {tree.num_steps} steps x {tree.num_instances} instances)")
    if tree.config.get("parametric"):
        print(f"wrote {path.parent / tree.config['parametric']} (place new trajectories with "
              f"`tdl embed NEW.npz --parametric-model {path.parent / tree.config['parametric']}`)")
    return 0


def plot(args) -> int:
    from tdl.plot import check_figure_path, plot_tree
    from tdl.tree import TreeData
    page = Path(args.out).suffix.lower() in (".html", ".htm")  # the interactive view as one offline page
    if not page:
        try:
            check_figure_path(args.out)
        except UserError as e:  # `tdl plot` also writes the interactive page: say so
            raise UserError(f"{e}, or .html for the interactive page") from None
    tree = TreeData.load(args.tree)
    traj = _find_trajectory(Path(args.tree), tree, args.traj)
    if page:
        from tdl.webview import TreeView
        out = TreeView(tree, traj).save(args.out)
        print(f"wrote {out} (interactive page: hover, click, scrub steps; opens offline)")
        return 0
    out = plot_tree(tree, args.out, traj, thumbnails=args.thumbnails, lines=not args.no_lines, dpi=args.dpi,
                    **figure_options(args, tree, traj))
    print(f"wrote {out}")
    return 0


def explore(args) -> int:
    from tdl.explorer import open_explorer
    from tdl.tree import TreeData
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise UserError(f"--size must look like 1100x760, got {args.size!r}") from None
    if w < 400 or h < 300:
        raise UserError(f"--size must be at least 400x300, got {args.size}")
    tree = TreeData.load(args.tree)
    traj = _find_trajectory(Path(args.tree), tree, args.traj)
    open_explorer(tree, traj, size=(w, h), max_frames=args.frames, allow_headless=args.frames is not None,
                  tree_path=str(args.tree))
    return 0


def run(args) -> int:
    check_parametric(args)
    out_dir = Path(args.out_dir)
    fig_path = figure_path(out_dir, args.format)
    config = embed_config(args)
    if args.thumbnails < 0 or args.dpi <= 0:
        raise UserError("--thumbnails must be >= 0 and --dpi >= 1")
    from sandbox.fileio import check_writable

    check_writable(out_dir / "traj.npz", make_parents=True)   # a read-only --out-dir: now, not after sampling
    _say(f"[1/3] sampling trajectories ({args.source})")
    traj = sample_trajectory(args)
    traj_path = traj.save(out_dir / "traj.npz")
    _say(f"      {traj_path}: {traj.num_steps} steps x {traj.num_instances} instances, {traj.dim}-d features")
    _say(f"[2/3] embedding ({config.layout}{', parametric' if args.parametric else ''})")
    tree_out = out_dir / "tree.npz"
    tree = _embed_to_tree(traj, config, args, tree_out, source=traj_path.name)
    tree_path = tree.save(tree_out)
    print(format_metrics(tree.metrics, tree.times))
    _say("[3/3] drawing the figure")
    if fig_path.suffix.lower() in (".html", ".htm"):
        from tdl.webview import TreeView
        fig = TreeView(tree, traj).save(fig_path)
    else:
        from tdl.plot import plot_tree
        fig = plot_tree(tree, fig_path, traj, thumbnails=args.thumbnails, lines=not args.no_lines, dpi=args.dpi,
                        **figure_options(args, tree, traj))
    print(f"figure: {fig}")
    print(f"explore it: tdl explore {tree_path}")
    return 0


def compare_features(args) -> int:
    from tdl.compare import compare, format_table, plot_comparison
    from tdl.plot import check_figure_path
    from tdl.trajectory import TrajectoryData
    config = embed_config(args)
    if args.which not in ("x0", "xt"):
        raise UserError(f"--which must be x0 or xt, got {args.which!r}")
    if args.out is not None:
        check_figure_path(args.out)
    models = {}
    for item in args.feature_model:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise UserError(f"--feature-model takes NAME=PATH (e.g. clip=./clip-vit-base-patch32), got {item!r}")
        models[name] = path
    traj = TrajectoryData.load(args.trajectory)
    results = compare(traj, list(args.features), config, which=args.which, device=config.device,
                      models=models, progress=not args.quiet)
    print(format_table(results))
    if args.out is not None:
        out = plot_comparison(results, traj.times, args.out)
        print(f"wrote {out}")
    return 0
