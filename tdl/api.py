"""The Tree of Diffusion Life from Python (docs/API.md): sample -> embed -> plot.

    import tdl
    traj = tdl.sample("digits", prompts=[3, 5, 8], instances_per_prompt=20, steps=25)
    tree = tdl.embed(traj)                 # TreeData: Y (steps, instances, 2)
    tdl.plot(tree, traj)                   # a TreeView: interactive in Jupyter, .save("tree.html")
"""
from __future__ import annotations

import inspect
import os
from typing import Any

from sandbox.errors import UserError, interruptible, unknown_options


def sample(source: str = "digits", **options: Any):
    """Trajectories from a source (`digits`, `sandbox2d`, `diffusers`, `glide`) -> TrajectoryData.

    options: that source's own (e.g. prompts, instances_per_prompt, steps, seed, device, preset);
    progress: a bar; by default in Jupyter only (the digits' defaults take a minute on a busy CPU).
    """
    from sandbox.progress import in_notebook

    from tdl.sources import SOURCES

    if source not in SOURCES:
        raise UserError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    fn = SOURCES[source]
    params = inspect.signature(fn).parameters
    error = unknown_options(options, params, "option", f"the {source} source takes")
    if error is not None:
        raise error
    if "progress" in params and options.get("progress") is None:
        options["progress"] = in_notebook()
    from tdl.threads import policy

    with policy(), interruptible(f"tdl.sample({source!r})"):
        return fn(**options)


def embed(traj, progress: bool | None = None, **config: Any):
    """The evolutionary embedding of a TrajectoryData -> TreeData.

    config: any `tdl.embedding.EmbedConfig` field (layout, n_iter, perplexity, seed, device, ...);
    progress: a bar; None = in Jupyter only (200 instances x 21 steps: minutes on a busy CPU).
    """
    from dataclasses import fields

    from sandbox.progress import in_notebook

    from tdl.embedding import EmbedConfig
    from tdl.pipeline import embed_trajectory
    from tdl.trajectory import TrajectoryData

    if not isinstance(traj, TrajectoryData):
        raise UserError(f"embed needs a TrajectoryData (from tdl.sample or TrajectoryData.load), "
                        f"got {type(traj).__name__}")
    known = sorted(f.name for f in fields(EmbedConfig))
    error = unknown_options(config, known, "embedding option", "EmbedConfig has")
    if error is not None:
        raise error
    from tdl.threads import policy

    with policy(), interruptible("the embedding"):
        return embed_trajectory(traj, EmbedConfig(**config), progress=in_notebook() if progress is None else progress)


def plot(tree, traj=None, out: str | os.PathLike | None = None, **options: Any):
    """A `TreeView` of `tree` (TreeData or a saved tree's path), with `traj` for thumbnails (for a
    path: by default the trajectory the tree was made from, found as `tdl plot` finds it).

    With `out`, also writes it (.html: the interactive page; .png / .svg / .pdf: the figure;
    options: thumbnails, lines, dpi) and returns the path instead.
    """
    from tdl.tree import TreeData
    from tdl.trajectory import TrajectoryData
    from tdl.webview import TreeView

    if isinstance(traj, (str, os.PathLike)):
        traj = TrajectoryData.load(traj)
    if isinstance(tree, (str, os.PathLike)):
        from pathlib import Path

        from tdl.commands import _find_trajectory
        path = Path(tree)
        tree = TreeData.load(path)
        if traj is None:  # the trajectory it was made from, as `tdl plot` finds it
            traj = _find_trajectory(path, tree, None)
    if not isinstance(tree, TreeData):
        raise UserError(f"plot needs a TreeData (from tdl.embed or a tree file), got {type(tree).__name__}")
    view = TreeView(tree, traj)
    error = unknown_options(options, [p for p in inspect.signature(view.save).parameters if p != "out"],
                            "option", "tdl.plot(..., out=FILE) takes")
    if error is not None:
        raise error
    if out is None:
        if options:
            raise UserError(f"{', '.join(options)} only apply when writing a file (out=...)")
        return view
    with interruptible(f"writing {out}", "the file was left as it was"):
        return view.save(out, **options)
