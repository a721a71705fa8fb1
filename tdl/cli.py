"""`tdl`: the Tree of Diffusion Life from the command line.

`tdl run` makes a figure in one command (built-in digits model, offline); `sample`, `embed`, `plot`
and `explore` are its stages. Every user mistake ends as one line `error: ...` on stderr and exit
status 2 (argparse's own errors too); Ctrl-C exits 130. Heavy imports (torch, matplotlib, pygame)
happen inside the commands (`tdl/commands.py`), so `--help` and argument errors are fast.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sandbox.cli.parser import VersionAction
from sandbox.errors import UserError
from tdl.feature_registry import EXTRACTORS

EXAMPLES = """examples:
  tdl run                                         digits model -> tdl-out/tree.png (offline)
  tdl run --layout rectilinear --out-dir digits-rect
  tdl sample --source digits --prompts 3 5 8 --instances-per-prompt 30 --steps 25 --out traj.npz
  tdl sample --source sandbox2d --preset moons --instances 300 --out moons.npz
  tdl sample --source diffusers --model ./stable-diffusion-v1-5 --prompt-set objects --seeds 0 1 2 3 \\
             --dtype float16 --scheduler dpm++ --steps 30 --device cuda --out sd.npz
  tdl sample --source diffusers --model ./stable-diffusion-v1-5 --prompts "a cat" "a dog" \\
             --features clip --feature-model ./clip-vit-base-patch32 --device cuda --out sd-clip.npz
  accelerate launch -m tdl sample --source diffusers --model ./sd15 --prompt-set objects --out sd.npz
  tdl compare-features sd.npz --features pixels vae clip --feature-model vae=./sd15 clip=./clip-b32
  tdl embed traj.npz --layout radial --out tree.npz
  tdl plot tree.npz --out tree.svg --thumbnails 20
  tdl plot tree.npz --out tree.html                  interactive page, one file, opens offline
  tdl explore tree.npz
"""
SOURCES = "digits, sandbox2d, diffusers, glide"
FEATURES = ", ".join(EXTRACTORS)  # tdl/feature_registry.py


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line, like every other error of this program."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=34)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tdl", formatter_class=_formatter, epilog=EXAMPLES,
                description="Tree of Diffusion Life: one picture of how a diffusion model's samples "
                            "evolve over the denoising steps.")
    p.add_argument("--version", action=VersionAction)
    sub = p.add_subparsers(dest="command", metavar="{run,sample,embed,plot,explore,compare-features}",
                           parser_class=_Parser)

    r = sub.add_parser("run", help="sample -> embed -> plot in one go (start here)",
                       formatter_class=_formatter, epilog=EXAMPLES,
                       description="Sample trajectories, embed them and draw the figure, into one folder.")
    r.add_argument("--out-dir", type=Path, default=Path("tdl-out"), metavar="DIR",
                   help="folder for traj.npz, tree.npz and the figure (default tdl-out)")
    r.add_argument("--format", default="png", metavar="EXT",
                   help="figure format: png, svg, pdf, or html: the interactive page (default png)")
    _sample_args(r)
    _embed_args(r)
    _plot_args(r)
    _common(r)

    s = sub.add_parser("sample", help="collect trajectories from a model", formatter_class=_formatter,
                       epilog=EXAMPLES, description="Run a diffusion model and record every step.")
    _sample_args(s)
    s.add_argument("--out", type=Path, default=Path("traj.npz"), metavar="FILE",
                   help="trajectory file (default traj.npz)")
    _common(s)

    e = sub.add_parser("embed", help="evolutionary embedding of a trajectory", formatter_class=_formatter,
                       epilog=EXAMPLES, description="PCA, then the evolutionary embedding; prints "
                                                    "and saves the quality metrics.")
    e.add_argument("trajectory", type=Path, help="a file written by `tdl sample`")
    _embed_args(e)
    e.add_argument("--parametric-model", type=Path, metavar="FILE",
                   help="place the trajectory with a saved parametric embedding (no optimisation)")
    e.add_argument("--out", type=Path, default=Path("tree.npz"), metavar="FILE",
                   help="tree file (default tree.npz)")
    _common(e)

    pl = sub.add_parser("plot", help="draw a tree as PNG, SVG, PDF or an interactive HTML page",
                        formatter_class=_formatter,
                        epilog=EXAMPLES, description="Draw the static figure of an embedded tree.")
    pl.add_argument("tree", type=Path, help="a file written by `tdl embed`")
    pl.add_argument("--out", type=Path, default=Path("tree.png"), metavar="FILE",
                    help="figure .png, .svg or .pdf, or .html: the interactive view as one "
                         "self-contained page (default tree.png)")
    pl.add_argument("--traj", type=Path, metavar="FILE",
                    help="its trajectory (images, 2D paths); default: the one the tree was made from")
    _plot_args(pl)

    x = sub.add_parser("explore", help="open the interactive explorer window", formatter_class=_formatter,
                       description="Hover a point to see its image, click one to follow its path, "
                                   "filter prompts, scrub steps. Press H in the window for help.")
    x.add_argument("tree", type=Path, help="a file written by `tdl embed`")
    x.add_argument("--traj", type=Path, metavar="FILE",
                   help="its trajectory, for the images (default: the one the tree was made from)")
    x.add_argument("--size", default="1100x760", help="window size WxH (default 1100x760)")
    x.add_argument("--frames", type=int, help=argparse.SUPPRESS)  # tests: run N frames, even headless
    c = sub.add_parser("compare-features", help="embed one trajectory with several feature extractors",
                       formatter_class=_formatter, epilog=EXAMPLES,
                       description="Extract features from a trajectory's images with each extractor, embed "
                                   "each, and print (and plot) the metrics side by side.")
    c.add_argument("trajectory", type=Path, help="a file written by `tdl sample` (with images)")
    c.add_argument("--features", nargs="+", required=True, metavar="NAME",
                   help=f"extractors to compare: {FEATURES}, or 'source' (the trajectory's own features)")
    c.add_argument("--feature-model", nargs="+", default=[], metavar="NAME=PATH",
                   help="model folder per extractor, e.g. clip=./clip-vit-base-patch32 vae=./sd15")
    c.add_argument("--which", default="x0", metavar="WHAT", help="images to read: x0 (default) or xt")
    c.add_argument("--out", type=Path, metavar="FILE", help="figure of the metrics per step (.png/.svg/.pdf)")
    _embed_args(c)
    _common(c)
    return p


# each source's function, whose keyword defaults are the flags' defaults (read from the source: no torch)
SOURCE_FUNCS = {"digits": ("tdl.sources.digits", "digits"), "sandbox2d": ("tdl.sources.sandbox2d", "sandbox2d"),
                "diffusers": ("tdl.sources.diffusers_source", "diffusers_pipeline"),
                "glide": ("tdl.sources.glide", "glide")}


def _source_defaults(param: str) -> str:
    """'digits 20, sandbox2d the model's, diffusers 25, glide 50': the default of `param` per source that
    takes it (None: the model's own choice)."""
    from sandbox.cli.defaults import function_defaults

    out = []
    for name, (module, func) in SOURCE_FUNCS.items():
        found = function_defaults(module, func)
        if param in found:
            v = found[param]
            shown = "the model's" if v is None else f"{v:g}" if isinstance(v, float) else str(v)
            out.append(f"{name} {shown}")
    return ", ".join(out) or "the source's"


def _sample_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sampling")
    g.add_argument("--source", default="digits", metavar="NAME",
                   help=f"{SOURCES} (default digits: built in, offline)")
    g.add_argument("--prompts", nargs="+", metavar="P",
                   help="prompts (digits: 0-9 or 'a handwritten 3'; default: the source's)")
    g.add_argument("--prompt-set", metavar="NAME", help="prompts from a shipped set (objects, faces, styles) "
                                                        "or a text file, one prompt a line")
    g.add_argument("--instances-per-prompt", type=int, metavar="N",
                   help=f"samples per prompt (default {_source_defaults('instances_per_prompt')})")
    g.add_argument("--seeds", type=int, nargs="+", metavar="N",
                   help="diffusers: one instance per prompt and seed (default --seed .. --seed + "
                        "instances-per-prompt - 1)")
    g.add_argument("--instances", type=int, metavar="N",
                   help=f"samples in all (sandbox2d; default {_source_defaults('instances')})")
    g.add_argument("--steps", type=int, metavar="S",
                   help=f"sampler steps, the trajectory has S + 1 (default {_source_defaults('steps')})")
    g.add_argument("--guidance", type=float, metavar="G",
                   help=f"classifier-free guidance scale (default {_source_defaults('guidance')})")
    g.add_argument("--sampler", metavar="NAME", help="sampler name (digits, sandbox2d; diffusers: as --scheduler; "
                                                     f"default {_source_defaults('sampler')})")
    g.add_argument("--model", metavar="PATH", help="model: a folder or hub id in the local cache (diffusers), a "
                                                   "saved 2D model (sandbox2d), weights (digits), base.pt (glide)")
    g.add_argument("--preset", metavar="NAME", help="sandbox2d: a shipped 2D preset model instead of --model")
    g.add_argument("--capture", metavar="WHAT", help="what each step records: x0 (the model's prediction of "
                                                     "the clean image) or xt (the noisy state)")
    g.add_argument("--features", metavar="NAME",
                   help=f"feature extractor: {FEATURES} (default: what the source records)")
    g.add_argument("--feature-model", metavar="PATH", help="local folder or cached id for clip/dinov2/vae")
    d = p.add_argument_group("diffusers")
    d.add_argument("--scheduler", metavar="NAME", help="ddim, pndm, euler, euler_a, heun, lms, dpm++, unipc, deis, "
                                                       "kdpm2, ... or a diffusers class name (default: the model's)")
    d.add_argument("--dtype", metavar="T", help="float16, bfloat16 or float32 (default float32)")
    d.add_argument("--height", type=int, metavar="PX", help="image height (default: the model's)")
    d.add_argument("--width", type=int, metavar="PX", help="image width (default: the model's)")
    d.add_argument("--batch-size", type=int, metavar="N", help="instances per pipeline call (default 8)")
    d.add_argument("--decode", metavar="WHAT", help="decode x0 (default), xt, both or none to images")
    d.add_argument("--decode-steps", metavar="N|LIST",
                   help="rows to decode: all (default), a count (evenly spaced, the final sample included) "
                        "or a list 0,10,50")
    d.add_argument("--image-size", metavar="PX", help="decoded images' longest side (default 64: thumbnails), "
                                                      "or full")
def _embed_args(p: argparse.ArgumentParser) -> None:
    from types import SimpleNamespace

    from sandbox.cli.defaults import dataclass_defaults, module_literal

    # EmbedConfig's defaults, read from tdl/embedding.py's source (importing it would load torch)
    _EC = SimpleNamespace(**{"pca_fit": "?", "perplexity": 0, "n_iter": "?", "disp_weight": 0, "align_weight": 0,
                             "free_iters": 0,
                             "method": "?", **dataclass_defaults("tdl.config", "EmbedConfig")})
    per_layout = module_literal("tdl.config", "LAYOUT_DEFAULTS", {})  # the "auto" values, by layout

    def by_layout(name: str) -> str:
        return ", ".join(f"{v[name]:g} {k}" for k, v in per_layout.items() if name in v) or "?"
    g = p.add_argument_group("embedding")
    g.add_argument("--layout", default="radial", metavar="NAME", help="radial (default) or rectilinear")
    g.add_argument("--pca-dim", type=int, default=50, metavar="D", help="intermediate PCA dimensions (default 50)")
    g.add_argument("--pca-fit", metavar="FIT", help=f"per_step or all (default {_EC.pca_fit}; see docs/TDL.md)")
    g.add_argument("--perplexity", type=float, metavar="X",
                   help=f"t-SNE perplexity within each step (default {by_layout('perplexity')})")
    g.add_argument("--iterations", type=int, metavar="N",
                   help=f"optimisation iterations (default {by_layout('n_iter')})")
    g.add_argument("--displacement-weight", type=float, metavar="W",
                   help="weight of the pull of each step to its ring/band "
                        "(default: 2 radial, 0.35 rectilinear) "
                        "(rectilinear from 5000 instances per step: 0.5)")
    g.add_argument("--alignment-weight", type=float, metavar="W",
                   help=f"weight of the alignment of each instance across steps (default {by_layout('align_weight')})")
    g.add_argument("--init", metavar="HOW",
                   help="start of the optimisation: auto (default: random; radial from 200 instances per step "
                        "pca_angle, rectilinear from 5000 pca), random (the reference's), pca (each step's principal "
                        "plane), pca_angle (its angles on random radii) or aligned (one angle per instance)")
    g.add_argument("--align-scale", metavar="HOW",
                   help="alignment between two steps: auto (default: persistence radial, constant rectilinear), "
                        "constant (the reference's) or persistence (scaled by the share of nearest neighbours "
                        "the data keeps between the steps)")
    g.add_argument("--free-iterations", type=int, metavar="N",
                   help="plain per-step t-SNE for N iterations first, then rings/bands from those layouts "
                        f"(default {_EC.free_iters}: the reference's start; see docs/TDL.md)")
    g.add_argument("--method", metavar="M", help=f"affinities/repulsion: auto, exact or approx (default {_EC.method})")
    g.add_argument("--display", metavar="HOW", help="radial rings on screen: conformal (default: scaled across as "
                   "along, neighbourhoods kept) or shift (the reference's: only moved out, thin arcs)")
    g.add_argument("--parametric", action="store_true",
                   help="embed with a small network mapping (features, step) to 2D, saved beside the tree "
                        "(FILE.parametric.safetensors) to place new samples later; --iterations: its epochs")


def _plot_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("figure")
    g.add_argument("--thumbnails", type=int, default=10, metavar="N",
                   help="images drawn at chosen points (default 10)")
    g.add_argument("--thumbnail-steps", type=int, nargs="+", metavar="S",
                   help="steps the thumbnails show (default: spread from a quarter of the way to the final step)")
    g.add_argument("--color-by", default="auto", metavar="WHAT",
                   help="auto (default: prompt; with a single prompt, final), prompt, final (the direction "
                        "each final sample lies in) or commitment (each instance's commitment step)")
    g.add_argument("--no-lines", action="store_true", help="do not join each instance across steps")
    g.add_argument("--dpi", type=int, default=150, metavar="N", help="resolution of PNG figures (default 150)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    p.add_argument("--device", default="auto", metavar="DEV",
                   help="auto (default: CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads (default: the cores idle now, at least 1; see docs/TDL.md)")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `tdl` and `python -m tdl`; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    import warnings
    show = warnings.showwarning

    said: set[str] = set()

    def one_line(message, category, *rest, **kw):  # our own warnings: one clear line, no source path
        if category.__module__.startswith("tdl."):
            if str(message) not in said:   # compare-features embeds once per extractor: said once
                said.add(str(message))
                print(f"warning: {message}", file=sys.stderr)
        else:
            show(message, category, *rest, **kw)
    warnings.showwarning = one_line
    try:
        from sandbox.limits import SEED, check_int
        check_int("--seed", getattr(args, "seed", None), *SEED)  # torch takes 0..2**63-1, as sandbox's CLI
        for seed in getattr(args, "seeds", None) or []:
            check_int("--seeds", seed, *SEED)
        from tdl import commands

        if hasattr(args, "threads"):
            from tdl.threads import apply
            apply(args.threads)
        return int(getattr(commands, args.command.replace("-", "_"))(args) or 0)
    except UserError as e:
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `tdl run | head`: the reader had enough, not an error (as sandbox's CLI)
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:  # the environment's fault (full disk, read-only folder...): one line, as in sandbox's CLI
        from sandbox.fileio import describe_os_error
        print(f"error: {describe_os_error(e)}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as e:  # torch reports a failed allocation as a RuntimeError
        if not isinstance(e, MemoryError) and not any(k in str(e) for k in ("out of memory", "can't allocate memory")):
            raise
        print("error: out of memory; ask for fewer prompts, instances or steps (or a smaller batch)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
