"""Modules that are also the API function named like them: `sandbox.train(data)` is sandbox/train.py
called, `tdl.plot(tree)` tdl/plot.py (a package attribute named like a submodule is replaced by the
module when the submodule is imported, so the module itself must be the function).

Their signature and docstring are the function's, for inspect, help() and Jupyter's Shift+Tab and
`?`: they showed `(*args, **kwargs)` and the module's own docstring (the engine underneath).
"""
from __future__ import annotations

import importlib
import inspect
import sys
import types


def make_callable(module_name: str, target: str) -> None:
    """Make `sys.modules[module_name](...)` call `target` ("package.module:function")."""
    where, _, name = target.partition(":")

    def function():
        return getattr(importlib.import_module(where), name)

    class CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return function()(*args, **kwargs)

    sig = inspect.signature(function())
    me = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    CallableModule.__call__.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[me, *sig.parameters.values()])
    CallableModule.__call__.__doc__ = function().__doc__
    CallableModule.__doc__ = f"A module that is also {target.replace(':', '.')}(...) (sandbox/callmodule.py)."
    module = sys.modules[module_name]
    module.__class__ = CallableModule
    module.__signature__ = sig  # type: ignore[attr-defined]
