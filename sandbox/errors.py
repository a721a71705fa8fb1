"""The one exception type for user mistakes.

Anything the user can get wrong (a bad file, an unknown preset, steps <= 0) raises `UserError`
with a message that fits on one line and says what to do. The command line prints it as
`error: <message>` and exits with status 2; the window shows it as a message. Programming errors
stay ordinary exceptions with tracebacks.

`UserError` subclasses `ValueError`, so Python code that already catches `ValueError` for bad
arguments (as numpy and scikit-learn users do) catches ours too.
"""


class UserError(ValueError):
    """A mistake in what the user asked for or gave us; the message is shown as is."""
