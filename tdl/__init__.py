"""Tree of Diffusion Life: every denoising step of many samples in one 2D picture (docs/API.md).

    import tdl
    traj = tdl.sample("digits")          # TrajectoryData
    tree = tdl.embed(traj)               # TreeData
    tdl.plot(tree, traj)                 # interactive in Jupyter; .save("tree.html" | "tree.png")

Attributes load on first use, so `import tdl` (and `tdl --help`) stays light.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sandbox.errors import UserError


_LAZY = {"sample": "tdl.api", "embed": "tdl.api", "TreeData": "tdl.tree", "TrajectoryData": "tdl.trajectory",
         "EmbedConfig": "tdl.config", "TreeView": "tdl.webview"}
# `plot` is also a submodule (tdl/plot.py, the figures): that module is callable as tdl.plot(tree, ...)
__all__ = ["EmbedConfig", "TrajectoryData", "TreeData", "TreeView", "UserError", "__version__", "embed", "plot",
           "sample"]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # the distribution's, read on first use
        import sandbox
        value: Any = sandbox.__version__
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name == "plot":
        value = importlib.import_module("tdl.plot")
    else:
        raise AttributeError(f"module 'tdl' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"plot"})


if TYPE_CHECKING:
    __version__: str
    from tdl import plot
    from tdl.api import embed, sample
    from tdl.embedding import EmbedConfig
    from tdl.trajectory import TrajectoryData
    from tdl.tree import TreeData
    from tdl.webview import TreeView
