"""`diffusion-sandbox`: open the window, or train / sample / render from the command line.

Every user mistake ends as one line `error: ...` on stderr and exit status 2 (argparse's own
errors too); Ctrl-C exits 130 quietly. Heavy imports (torch, pygame) happen inside the commands,
so `--help` and argument errors are fast.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sandbox import limits, registry
from sandbox.errors import UserError
from sandbox.fileio import describe_os_error

EXAMPLES = """examples:
  diffusion-sandbox                                   open the window
  diffusion-sandbox render --dataset smiley --out smiley.gif
  diffusion-sandbox train --dataset moons --objective flow --out moons.safetensors
  diffusion-sandbox train --data letter.jpg --objective ddpm --prediction v --out letter.safetensors
  diffusion-sandbox sample --model moons.safetensors --n 5000 --out points.csv
  diffusion-sandbox render --model moons.safetensors --out moons.mp4 --size 1920x1080 --seconds 8
"""
THEMES = {"dark": "dark", "light": "light", "contrast": "high-contrast", "high-contrast": "high-contrast"}


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line, like every other error of this program."""

    train_defaults = False  # set on `train`: its --help shows TrainConfig's defaults

    def error(self, message: str):
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")

    def format_help(self) -> str:
        if self.train_defaults:  # read from the source: importing sandbox.train_config would load torch
            from sandbox.cli.defaults import dataclass_defaults

            defaults = dataclass_defaults("sandbox.train_config", "TrainConfig")
            for action in self._actions:
                if action.dest in defaults and action.help and "default" not in action.help:
                    action.help += f" (default {defaults[action.dest]})"
        return super().format_help()


def program_version() -> str:
    """The installed distribution's version (pyproject.toml's), for `--version` of both commands."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("diffusion-sandbox")
    except PackageNotFoundError:  # a checkout run without installing
        return "0+unknown"


class VersionAction(argparse.Action):
    """`--version`: prints `prog X.Y.Z` and exits (the version is looked up only when asked for)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show the program's version and exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog} {program_version()}")
        parser.exit(0)


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="diffusion-sandbox", formatter_class=_formatter,
                description="Teach diffusion models in 2D: draw data, train in a second, "
                            "watch noise become data.", epilog=EXAMPLES)
    p.add_argument("--version", action=VersionAction)
    sub = p.add_subparsers(dest="command", metavar="{window,train,sample,render,lesson}",
                           parser_class=_Parser)

    w = sub.add_parser("window", help="open the interactive window (the default)",
                       description="Open the interactive window (what plain `diffusion-sandbox` does).",
                       formatter_class=_formatter)
    w.add_argument("--dataset", metavar="NAME", help=f"preset to start with: {', '.join(registry.PRESETS)}")
    w.add_argument("--model", type=Path, metavar="FILE", help="model file to open")
    w.add_argument("--fullscreen", action="store_true", help="fill the screen (for a class)")

    le = sub.add_parser("lesson", help="follow a self-guided lesson (omit NAME to list them)",
                        description="Open the window on a self-guided lesson; without NAME, list them.",
                        formatter_class=_formatter)
    le.add_argument("name", nargs="?", help="lesson id or number")
    le.add_argument("--print", dest="print_only", action="store_true", help="print the lesson, do not open the window")
    le.add_argument("--fullscreen", action="store_true", help="fill the screen")
    le.add_argument("--render", type=Path, metavar="DIR",
                    help="no window: write every step's animation (GIF, MP4, PNG, web page) into DIR "
                         "(every lesson when NAME is omitted)")
    le.add_argument("--size", default="960x600", metavar="WxH", help="--render frame size (default 960x600)")
    le.add_argument("--seconds", type=float, default=3.0, help="--render motion length (default 3)")

    t = sub.add_parser("train", help="train a model on a preset or a file",
                       description="Train a small diffusion / flow-matching model on 2D points and "
                                   "save it. Unset options keep the tuned defaults.",
                       formatter_class=_formatter, epilog=EXAMPLES)
    t.train_defaults = True
    _data_args(t)
    g = t.add_argument_group("objective")
    g.add_argument("--objective", choices=list(registry.OBJECTIVES), help=_choices_help(registry.OBJECTIVES))
    g.add_argument("--prediction", choices=list(registry.PREDICTIONS),
                   help="DDPM network target: " + _choices_help(registry.PREDICTIONS))
    g.add_argument("--schedule", choices=list(registry.SCHEDULES),
                   help="DDPM noise schedule: " + _choices_help(registry.SCHEDULES))
    g.add_argument("--T", type=int, help="DDPM chain length" + _r(limits.T_CHAIN))
    g.add_argument("--ot", action="store_true", default=None,
                   help="flow matching with minibatch optimal-transport pairs")
    g.add_argument("--conditional", action="store_true", default=None,
                   help="class-conditional model (labels of the data; guidance when sampling)")
    g = t.add_argument_group("training")
    g.add_argument("--steps", type=int, help="optimiser steps, a fixed budget with cosine learning-rate decay"
                   + _r(limits.STEPS))
    g.add_argument("--lr", type=float, help="learning rate" + _r(limits.LR))
    g.add_argument("--batch-size", type=int, help="points per step" + _r(limits.BATCH))
    g.add_argument("--width", type=int, help="hidden units per layer" + _r(limits.WIDTH))
    g.add_argument("--depth", type=int, help="hidden layers" + _r(limits.DEPTH))
    g.add_argument("--fourier", type=int, help="random Fourier features of the input (0 = off)"
                   + _r(limits.FOURIER))
    _common(t)
    t.add_argument("--init", type=Path, metavar="MODEL",
                   help="warm start: continue training this model file on the data (keeps its network, "
                        "objective and coordinates)")
    t.add_argument("--out", type=Path, metavar="FILE",
                   help="model file to write (default: <data>.safetensors); an existing file is replaced")
    _no_clobber(t)

    s = sub.add_parser("sample", help="draw samples from a model into CSV / NPY",
                       description="Sample points from a saved model (in the data's coordinates).",
                       formatter_class=_formatter, epilog=EXAMPLES)
    s.add_argument("--model", type=Path, required=True, metavar="FILE", help="model file (.safetensors)")
    s.add_argument("--n", type=int, default=5000, help="number of samples (default 5000" + _r(limits.SAMPLES, ", ")
                   + "; also limited by free memory)")
    _sampler_args(s)
    _common(s)
    s.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="points file to write (.csv or .npy); an existing file is replaced")
    _no_clobber(s)

    r = sub.add_parser("render", help="render an animation (MP4 / GIF), a web page (HTML) or a still (PNG)",
                       description="Render particles travelling from noise to data, with their "
                                   "paths, density contours and the data behind; no window needed.",
                       formatter_class=_formatter, epilog=EXAMPLES)
    src = r.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", type=Path, metavar="FILE", help="model file (.safetensors)")
    src.add_argument("--dataset", metavar="NAME", help="preset, rendered with its shipped pretrained model")
    r.add_argument("--objective", choices=list(registry.OBJECTIVES), default="flow",
                   help="which shipped model of --dataset (default flow)")
    r.add_argument("--data", type=Path, metavar="FILE",
                   help="points drawn faintly behind (default: the model's data)")
    r.add_argument("--out", type=Path, required=True, metavar="FILE", help="output: .mp4, .gif, .png or .html "
                        "(an interactive page, one file, opens offline); an existing file is replaced")
    _no_clobber(r)
    r.add_argument("--size", default="1280x720", metavar="WxH", help="WIDTHxHEIGHT (default 1280x720; each side "
                   + _r(limits.FRAME_SIDE, ", ")[2:] + " pixels)")
    r.add_argument("--fps", type=float, default=30, help="frames per second (default 30" + _r(limits.FPS, ", ") + ")")
    r.add_argument("--seconds", type=float, default=6, help="length of the motion (default 6"
                   + _r(limits.SECONDS, ", ") + ")")
    r.add_argument("--hold", type=float, default=1.0, help="seconds of still samples at the end (default 1"
                   + _r(limits.HOLD, ", ") + ")")
    r.add_argument("--at", type=float, default=1.0, help="progress 0..1 of a .png still (default 1)")
    r.add_argument("--particles", type=int, default=2000, help="particles (default 2000"
                   + _r(limits.PARTICLES, ", ") + "; also limited by free memory)")
    r.add_argument("--traces", type=int, default=100, help="particle paths drawn (default 100"
                   + _r(limits.TRACES, ", ") + ")")
    _sampler_args(r)
    r.add_argument("--compare", choices=list(registry.SAMPLERS), metavar="NAME",
                   help="a second sampler beside the first, same model and same noise (two panes; --steps "
                        "applies to both, else each takes its own default)")
    r.add_argument("--title", help="text at the top left (default: what is shown)")
    r.add_argument("--theme", choices=["dark", "light", "contrast"], default="dark",
                   help="colours: dark (default), light (print, bright rooms), contrast (high contrast "
                        "for projectors)")
    for layer in ("contours", "trajectories", "data"):
        r.add_argument(f"--no-{layer}", action="store_true", help=f"hide the {layer}")
    _common(r)
    return p


def _data_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data (one of)").add_mutually_exclusive_group()
    g.add_argument("--dataset", metavar="NAME",
                   help=f"preset: {', '.join(registry.PRESETS)} (default moons)")
    g.add_argument("--data", type=Path, metavar="FILE",
                   help="points from .csv (x,y[,label]), .npy or a picture")
    p.add_argument("--n", type=int, default=None,
                   help="points drawn from a preset or picture to train on (default 20000: the model learns the "
                        "distribution, not the luck of one small draw)" + _r(limits.N_POINTS, "; "))


def _sampler_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sampling")
    g.add_argument("--sampler", choices=list(registry.SAMPLERS), metavar="NAME",
                   help="; ".join(f"{n}: {_sampler_line(i)}" for n, i in registry.SAMPLERS.items())
                   + " (default: " + ", ".join(f"{i.default_sampler} for {i.display} models"
                                               for i in registry.OBJECTIVES.values()) + ")")
    g.add_argument("--steps", type=int, help="sampler steps (default: the sampler's, at most a DDPM model's T"
                   + _r(limits.SAMPLER_STEPS, ", ") + ")")
    g.add_argument("--eta", type=float, help="DDIM noise (0 deterministic, 1 like DDPM; default 0"
                   + _r(limits.ETA, ", ") + ")")
    g.add_argument("--guidance", type=float, help="classifier-free guidance scale for conditional models "
                   "(1 = the conditional model, 0 ignores the class; default 1" + _r(limits.GUIDANCE, ", ") + ")")
    g.add_argument("--label", metavar="CLASS", help="class to sample (index or name) for conditional models")


def _r(rng, sep: str = " ") -> str:
    lo, hi = rng
    span = f"{limits.fmt(lo)}..{limits.fmt(hi)}"
    return f" ({span})" if sep == " " else f"{sep}range {span}"


def _no_clobber(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-clobber", action="store_true",
                   help="refuse to replace an existing output file (by default it is replaced, atomically: "
                        "a failed write leaves the old file as it was)")


def _choices_help(reg) -> str:
    """Each choice with its registry sentence (the window's tooltip), so --help explains them."""
    return " ".join(f"{n}: {i.tooltip}" for n, i in reg.items())


def _sampler_line(info) -> str:
    kinds = "/".join("DDPM" if k == "ddpm" else k for k in info.paths)
    return f"{'stochastic' if info.stochastic else 'deterministic'}, {kinds}, {info.default_steps} steps"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0" + _r(limits.SEED, ", ") + ")")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help="where to compute: auto takes CUDA, then Apple's MPS, then the CPU (default auto)")


WINDOW_FLAGS = ("--dataset", "--model", "--fullscreen")   # the window's options, also without `window`


def main(argv: list[str] | None = None) -> int:
    """Entry point of `diffusion-sandbox` and `python -m sandbox`; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].split("=")[0] in WINDOW_FLAGS:
        # `diffusion-sandbox --dataset moons`: plain `diffusion-sandbox` is the window, so are its
        # options (argparse read 'moons' as an unknown command)
        argv.insert(0, "window")
    args = build_parser().parse_args(argv)
    try:
        from sandbox.cli import commands

        if args.command == "lesson":
            from lessons.__main__ import main as lesson_main

            return lesson_main(([args.name] if args.name else []) + (["--print"] if args.print_only else [])
                               + (["--fullscreen"] if args.fullscreen else [])
                               + (["--render", str(args.render), "--size", args.size, "--seconds",
                                   str(args.seconds)] if args.render is not None else []))
        from sandbox.cli.render import render

        run = {"train": commands.train, "sample": commands.sample, "render": render,
               "window": commands.window, None: commands.window}[args.command]
        return int(run(args) or 0)
    except UserError as e:
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `diffusion-sandbox lesson | head -3`: the reader had enough, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # nothing more to flush at exit
        return 0
    except OSError as e:  # the environment's fault (full disk, read-only folder...): one line, no traceback
        print(f"error: {describe_os_error(e)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: out of memory; ask for fewer points, steps or a smaller network", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
