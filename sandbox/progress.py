"""Progress bars that suit where they are shown.

In a Jupyter notebook with ipywidgets installed a bar is a widget (tqdm.auto); anywhere else,
a notebook without ipywidgets included, it is tqdm's text bar, which a notebook redraws in place
on one line. Choosing here spares notebook users tqdm.auto's "IProgress not found" warning, which
it prints on import when ipywidgets is missing, whether a bar is shown or not.
"""
from __future__ import annotations

import sys
from typing import Any


def has_widgets() -> bool:
    from importlib.util import find_spec

    return find_spec("ipywidgets") is not None


def tqdm_class() -> Any:
    """tqdm.auto's class where ipywidgets can draw it, tqdm's text bar otherwise."""
    if has_widgets():
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm


def in_notebook() -> bool:
    """Inside a Jupyter kernel (not a terminal IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def progress_bar(iterable: Any = None, *, show: bool | None = True, **options: Any) -> Any:
    """A tqdm bar over `iterable` (or one updated by hand). show: True = always (the caller asked for
    it), False = never, None = only when stderr is a terminal (the command line: logs stay clean)."""
    if options.get("leave") is False and in_notebook() and not has_widgets():
        # a notebook cannot erase a text line: leave=False left an empty red stderr box under the cell;
        # the finished bar ("100% 800/800 [00:08]") says more (a widget bar still hides itself)
        options["leave"] = True
    return tqdm_class()(iterable, disable=None if show is None else not show, **options)
