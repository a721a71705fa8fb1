"""The default values of a config dataclass, read from its source without importing its module.

`--help` shows the defaults of TrainConfig and EmbedConfig, but their modules import torch (seconds).
The defaults are literals in the class body, so `ast` reads them from the module's source, found by
importlib (installed, editable or zipped alike). A default that is not a literal is left out.
tests/test_packaging.py checks that these equal the dataclasses' own defaults and that `--help`
imports no torch.
"""
from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys
from functools import cache


def _find_spec(module: str):
    """`module`'s spec without importing it or its packages (importlib.util.find_spec imports the parent
    package: tdl.sources' __init__ imports torch); None if not found."""
    parent, _, _ = module.rpartition(".")
    if not parent or parent in sys.modules:
        return importlib.util.find_spec(module)
    pspec = _find_spec(parent)
    locations = pspec.submodule_search_locations if pspec is not None else None
    return importlib.machinery.PathFinder.find_spec(module, list(locations)) if locations else None


@cache
def _module_body(module: str) -> tuple:
    """The top-level statements of `module`'s source (found by importlib, not imported); () if unreadable."""
    spec = _find_spec(module)
    get_source = getattr(spec.loader, "get_source", None) if spec and spec.loader else None
    source = get_source(module) if get_source else None
    return tuple(ast.parse(source).body) if source else ()


@cache
def dataclass_defaults(module: str, cls: str) -> dict:
    """{field: default} of `module.cls` for every field whose default is a literal; {} if unreadable."""
    for node in _module_body(module):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            out = {}
            for st in node.body:
                if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name) and st.value is not None:
                    try:
                        out[st.target.id] = ast.literal_eval(st.value)
                    except ValueError:
                        pass
            return out
    return {}


def module_literal(module: str, name: str, default=None):
    """The value of `module.name` where it is assigned a literal at module level (read from the source,
    without importing the module); `default` if unreadable."""
    for node in _module_body(module):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return default
    return default


@cache
def function_defaults(module: str, func: str) -> dict:
    """{parameter: default} of the function `module.func` for every parameter whose default is a literal
    (None included); {} if unreadable. tdl's --help quotes its sources' defaults with it."""
    for node in _module_body(module):
        if isinstance(node, ast.FunctionDef) and node.name == func:
            a = node.args
            pos = a.posonlyargs + a.args
            pairs = list(zip(pos[len(pos) - len(a.defaults):], a.defaults))
            pairs += [(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
            out = {}
            for arg, default in pairs:
                try:
                    out[arg.arg] = ast.literal_eval(default)
                except ValueError:
                    pass
            return out
    return {}
