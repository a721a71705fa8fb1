"""The `tdl` command line's flags, checked and turned into configs before any work starts (the
commands themselves are `tdl/commands.py`): the sources' keyword arguments and the diffusers-only
flags, the `EmbedConfig` of `tdl embed`, `tdl run` and `tdl compare-features`, the figure's options,
and the flags the parametric embedding cannot honour. Each mistake is one UserError line naming the flag.
"""
from __future__ import annotations

from pathlib import Path

from sandbox.errors import UserError

SOURCE_FLAGS = ("prompts", "instances_per_prompt", "instances", "steps", "guidance", "sampler", "preset", "capture",
                "seeds", "scheduler", "dtype", "height", "width", "batch_size", "decode", "decode_steps",
                "image_size")
MODEL_PARAMS = ("model", "model_path", "weights", "checkpoint")  # what each source calls its --model


def check_positive(name: str, value) -> None:
    if value is not None and value <= 0:
        raise UserError(f"--{name.replace('_', '-')} must be >= 1, got {value}")


def check_device(name: str) -> str:
    """`name` resolved ("auto": CUDA, then Apple's MPS, then the CPU); UserError if not usable here."""
    from sandbox.train import resolve_device
    return str(resolve_device(name))


def diffusers_options(args) -> None:
    """Turn the diffusers-only flags' text into values (in place); `--sampler` means `--scheduler` there."""
    if args.source == "diffusers" and args.sampler is not None:
        if args.scheduler is not None:
            raise UserError("give --scheduler or --sampler, not both")
        args.scheduler, args.sampler = args.sampler, None
    if args.source == "diffusers" and args.decode is None:
        args.decode = "x0"  # thumbnails for the figure and the explorer
    if args.decode is not None:
        if args.decode not in ("x0", "xt", "both", "none"):
            raise UserError(f"--decode must be x0, xt, both or none, got {args.decode!r}")
    if args.dtype is not None and args.dtype not in ("float16", "bfloat16", "float32"):
        raise UserError(f"--dtype must be float16, bfloat16 or float32, got {args.dtype!r}")
    for name in ("height", "width", "batch_size"):
        check_positive(name, getattr(args, name))
    for name in ("height", "width"):
        v = getattr(args, name)
        if v is not None and v % 8:
            raise UserError(f"--{name} must be a multiple of 8 (the VAE's factor), got {v}")
    if args.image_size is not None:
        text = str(args.image_size).lower()
        if text == "full":
            args.image_size = 0
        elif text.isdigit() and int(text) > 0:
            args.image_size = int(text)
        else:
            raise UserError(f"--image-size must be a number of pixels or 'full', got {args.image_size!r}")
    if args.decode_steps is not None:
        text = str(args.decode_steps).strip().lower()
        try:
            if text == "all":
                args.decode_steps = None
            elif "," in text:
                args.decode_steps = [int(v) for v in text.split(",") if v.strip()]
            else:
                args.decode_steps = int(text)
                check_positive("decode_steps", args.decode_steps)
        except ValueError:
            raise UserError(f"--decode-steps must be all, a count or a list like 0,10,50, "
                            f"got {args.decode_steps!r}") from None


def embed_config(args):
    """An `EmbedConfig` from parsed arguments (flags left out keep the config's defaults)."""
    from tdl.embedding import ALIGN_SCALES, INITS, METHODS, EmbedConfig
    from tdl.intermediate import FITS
    from tdl.layout import DISPLAYS, check_layout
    check_layout(args.layout)
    for flag, allowed in (("--method", METHODS), ("--display", DISPLAYS), ("--init", INITS),
                          ("--align-scale", ALIGN_SCALES), ("--pca-fit", FITS)):
        value = getattr(args, flag[2:].replace("-", "_"), None)
        if value is not None and value not in allowed:
            raise UserError(f"unknown {flag} {value!r}; choose one of {', '.join(allowed)}")
    check_positive("pca_dim", args.pca_dim)
    check_positive("iterations", args.iterations)
    free = getattr(args, "free_iterations", None)
    if free is not None and free < 0:
        raise UserError(f"--free-iterations must be >= 0, got {free}")
    if args.perplexity is not None and args.perplexity <= 0:
        raise UserError(f"--perplexity must be > 0, got {args.perplexity}")
    chosen = {"layout": args.layout, "pca_dim": args.pca_dim, "pca_fit": args.pca_fit, "perplexity": args.perplexity,
              "n_iter": args.iterations, "disp_weight": args.displacement_weight,
              "align_weight": args.alignment_weight, "method": args.method, "seed": args.seed,
              "display": getattr(args, "display", None), "free_iters": free,
              "init": getattr(args, "init", None), "align_scale": getattr(args, "align_scale", None),
              "device": check_device(args.device)}
    return EmbedConfig(**{k: v for k, v in chosen.items() if v is not None})


def figure_path(out_dir: Path, fmt: str) -> Path:
    from tdl.plot import check_figure_path
    path = out_dir / f"tree.{fmt.lower().lstrip('.')}"
    return path if path.suffix == ".html" else check_figure_path(path)


def figure_options(args, tree, traj) -> dict:
    """--thumbnail-steps and --color-by as `plot_tree` keywords."""
    steps = getattr(args, "thumbnail_steps", None)
    if steps is not None and any(s < 0 or s >= tree.num_steps for s in steps):
        raise UserError(f"--thumbnail-steps must be in 0..{tree.num_steps - 1}, got {' '.join(map(str, steps))}")
    what = getattr(args, "color_by", "auto") or "auto"
    if what in ("auto", "prompt", "final"):
        if what == "final" and traj is None:
            raise UserError("--color-by final needs the trajectory (give it with --traj)")
        return {"thumbnail_steps": steps, "color_by": what}
    if what == "commitment":
        if traj is None:
            raise UserError("--color-by commitment needs the trajectory (give it with --traj)")
        from tdl.commitment import commitment
        c = commitment(traj.features, traj.prompt_index)
        return {"thumbnail_steps": steps, "color_by": c.instance_step, "color_label": "commitment step (-1: never)"}
    raise UserError(f"unknown --color-by {what!r}; choose auto, prompt, final or commitment")


# flags of the evolutionary embedding that the parametric one has no use for (its own weights are per
# point, on another scale; it draws with its own ring head)
EVOLUTIONARY_ONLY = (("--displacement-weight", "displacement_weight"), ("--alignment-weight", "alignment_weight"),
                     ("--method", "method"), ("--display", "display"), ("--pca-fit", "pca_fit"),
                     ("--free-iterations", "free_iterations"), ("--init", "init"),
                     ("--align-scale", "align_scale"))


def check_parametric(args) -> None:
    """One line, before any work, for flag combinations the parametric embedding cannot honour."""
    parametric = getattr(args, "parametric", False) or getattr(args, "parametric_model", None) is not None
    if getattr(args, "parametric", False) and getattr(args, "parametric_model", None) is not None:
        raise UserError("give --parametric (train one) or --parametric-model (use a saved one), not both")
    unused = [flag for flag, dest in EVOLUTIONARY_ONLY if getattr(args, dest, None) is not None]
    if parametric and unused:
        raise UserError(f"{', '.join(unused)} set{'s' if len(unused) == 1 else ''} the evolutionary embedding "
                        "(rings by optimisation); the parametric one does not use "
                        f"{'it' if len(unused) == 1 else 'them'}: drop {'it' if len(unused) == 1 else 'them'} "
                        "or --parametric")
