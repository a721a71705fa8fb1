"""Progress bars that suit where they are shown.

In a Jupyter notebook with ipywidgets installed a bar is a widget (tqdm.auto); anywhere else,
a notebook without ipywidgets included, it is tqdm's text bar, which a notebook redraws in place
on one line. Choosing here spares notebook users tqdm.auto's "IProgress not found" warning, which
it prints on import when ipywidgets is missing, whether a bar is shown or not.
"""
from __future__ import annotations

from typing import Any


def tqdm_class() -> Any:
    """tqdm.auto's class where ipywidgets can draw it, tqdm's text bar otherwise."""
    from importlib.util import find_spec

    if find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm


def progress_bar(iterable: Any = None, *, show: bool | None = True, **options: Any) -> Any:
    """A tqdm bar over `iterable` (or one updated by hand). show: True = always (the caller asked for
    it), False = never, None = only when stderr is a terminal (the command line: logs stay clean)."""
    return tqdm_class()(iterable, disable=None if show is None else not show, **options)
