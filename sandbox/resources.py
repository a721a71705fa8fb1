"""Where the shipped files are: the one place that finds assets (preset models, digits weights).

The repository's top-level `assets/` folder is installed as the package `diffusion_sandbox_assets`
(pyproject.toml maps it) and read through `importlib.resources`, so the same lookup works from a
wheel, a plain or an editable install, the checkout and a zip on sys.path (whose files are copied
out, a folder at a time so that sidecar files stay beside their weights). A missing file is one
UserError saying the installation is incomplete; it never suggests writing into site-packages.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path

from sandbox.errors import UserError

PACKAGE = "diffusion_sandbox_assets"
REINSTALL = ("the installation of diffusion-sandbox is incomplete: reinstall it "
             "(in a checkout of the repository: scripts/setup.sh, or pip install -e .)")


def _root():
    try:
        return resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise UserError(f"the shipped assets (package {PACKAGE}) are not installed: {REINSTALL}") from None


def _ref(*parts: str):
    ref = _root()
    for p in parts:  # one part at a time: before Python 3.11 a Traversable need not join several
        ref = ref / p
    return ref


def asset_exists(*parts: str) -> bool:
    """Whether `assets/<parts...>` is shipped, e.g. asset_exists("models", "moons-flow.safetensors")."""
    try:
        return _ref(*parts).is_file()
    except UserError:
        return False


def asset_path(*parts: str) -> Path:
    """A real file path of `assets/<parts...>`; UserError (one line) when it is not installed."""
    ref = _ref(*parts)
    if not ref.is_file():
        raise UserError(f"assets/{'/'.join(parts)} is missing: {REINSTALL}")
    if isinstance(ref, Path):  # an ordinary folder: wheel, sdist, editable install, checkout
        return ref
    return _extracted(parts[:-1]) / parts[-1]


def asset_names(folder: str) -> list[str]:
    """The names of the files shipped in `assets/<folder>/`, sorted ([] when there is no such folder)."""
    try:
        d = _ref(folder)
        return sorted(f.name for f in d.iterdir() if f.is_file()) if d.is_dir() else []
    except UserError:
        return []


@cache
def _extracted(folder: tuple[str, ...]) -> Path:
    """Copy one asset folder out of a zip into a temporary folder, removed when the process exits."""
    out = Path(tempfile.mkdtemp(prefix="diffusion-sandbox-assets-"))
    atexit.register(shutil.rmtree, out, True)
    for f in _ref(*folder).iterdir():
        if f.is_file():
            (out / f.name).write_bytes(f.read_bytes())
    return out
