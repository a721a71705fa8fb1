"""The one exception type for user mistakes.

Anything the user can get wrong (a bad file, an unknown preset, steps <= 0) raises `UserError`
with a message that fits on one line and says what to do. The command line prints it as
`error: <message>` and exits with status 2; the window shows it as a message; Jupyter and IPython
show `UserError: <message>` alone, without the frames of the package behind it
(`_render_traceback_`, the hook IPython asks an exception for; `DIFFUSION_SANDBOX_TRACEBACK=1` gives
the full traceback back). Programming errors stay ordinary exceptions with tracebacks.

`UserError` subclasses `ValueError`, so Python code that already catches `ValueError` for bad
arguments (as numpy and scikit-learn users do) catches ours too.
"""
import os
from contextlib import contextmanager


class _OneLineInIPython:
    """Shown by Jupyter and IPython as `Name: message` alone (`_shown_as`, default the class's name)."""
    _shown_as: str | None = None

    @property
    def _render_traceback_(self):
        # IPython asks hasattr(error, "_render_traceback_") and shows the lines it returns instead
        # of every frame down to the check that failed; an AttributeError keeps the full traceback.
        if os.environ.get("DIFFUSION_SANDBOX_TRACEBACK", "") not in ("", "0"):
            raise AttributeError("_render_traceback_")
        return lambda: [f"\x1b[0;31m{self._shown_as or type(self).__name__}\x1b[0m: {self}"]


class UserError(_OneLineInIPython, ValueError):
    """A mistake in what the user asked for or gave us; the message is shown as is."""


def unknown_options(given, known, kind: str = "option", where: str = "it takes",
                    listing: str | None = None) -> "UserError | None":
    """The UserError for the names in `given` that `known` lacks (None if none): each with the
    nearest known name ("did you mean 'steps'?", difflib), then the known ones:
    "unknown {kind} 'step' (did you mean 'steps'?); {where} T, batch_size, ..." (or `listing`).
    """
    from difflib import get_close_matches

    known = [str(k) for k in known]
    bad = [str(g) for g in given if g not in known]
    if not bad:
        return None
    parts = []
    for name in bad:
        near = get_close_matches(name, known, n=1, cutoff=0.6)
        parts.append(f"{name!r} (did you mean {near[0]!r}?)" if near else repr(name))
    listing = listing or f"{where} {', '.join(known)}"
    return UserError(f"unknown {kind}{'s' if len(bad) > 1 else ''} {', '.join(parts)}; {listing}")


class Interrupted(_OneLineInIPython, KeyboardInterrupt):
    """Ctrl-C (Jupyter's Kernel > Interrupt) inside an API call: still a KeyboardInterrupt, shown in
    Jupyter and IPython as one line that says what stopped, not the frames of torch it stopped in."""
    _shown_as = "KeyboardInterrupt"


@contextmanager
def interruptible(what: str, kept: str = "nothing was kept"):
    """Turn a KeyboardInterrupt inside the block into `Interrupted("{what} interrupted; {kept}: ...")`."""
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt:
        raise Interrupted(f"{what} interrupted; {kept}: run the cell again") from None
