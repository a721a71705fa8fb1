"""The file format shared by tdl's trajectories and trees: one `.npz` of plain arrays plus a JSON
header stored as a 0-d string array. Loading never unpickles (`allow_pickle=False`), so a file
cannot run code; every problem with a file is a one-line UserError.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from sandbox.errors import UserError
from sandbox.fileio import atomic_path


def npz_path(path: str | os.PathLike) -> Path:
    """`path` with `.npz` added if missing (numpy would add it silently otherwise)."""
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save_npz(path: Path, header: dict, arrays: dict[str, np.ndarray], what: str) -> Path:
    """Write `header` (JSON) and the non-None `arrays` to `path` atomically; `what` names the
    kind of file in errors ("trajectory", "tree")."""
    try:
        header_json = json.dumps(header)
    except TypeError as e:
        raise UserError(f"{what} metadata must be JSON-serialisable: {e}") from None
    arrays = {k: v for k, v in arrays.items() if v is not None}
    with atomic_path(path, make_parents=True) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, header=np.array(header_json), **arrays)
    return path


def load_npz(path: str | os.PathLike, fmt: str, version: int, names: tuple[str, ...],
             required: tuple[str, ...], what: str, make_hint: str,
             other_formats: dict[str, str] | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """`(header, arrays)` of a file written by `save_npz` with header format `fmt`.

    `names`: arrays to read if present; `required`: those that must be there; `make_hint`: the
    command that makes such a file, for the missing-file message; `other_formats`: what to say
    when the file is of another tdl format (format -> hint).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no {what} file at {path} (make one with `{make_hint}`)")
    try:
        with np.load(path, allow_pickle=False) as z:
            if "header" not in z.files:
                raise UserError(f"{path} is not a tdl {what} file (no header)")
            header = json.loads(str(z["header"][()]))
            arrays = {name: z[name] for name in names if name in z.files}
    except UserError:
        raise
    except ValueError:  # includes object arrays, refused without unpickling
        raise UserError(f"{path} is not a readable tdl {what} file (expected the .npz that tdl writes)") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError, json.JSONDecodeError):
        raise UserError(f"{path} is corrupt or not a tdl {what} file (expected the .npz that tdl writes)") from None
    if not isinstance(header, dict) or header.get("format") != fmt:
        other = header.get("format") if isinstance(header, dict) else None
        hint = (other_formats or {}).get(other)
        raise UserError(f"{path} is not a tdl {what} file" + (f" ({hint})" if hint else ""))
    if header.get("version", 0) > version:
        raise UserError(f"{path} was written by a newer tdl (format version {header['version']})")
    missing = [n for n in required if n not in arrays]
    if missing:
        raise UserError(f"{path} is missing the {', '.join(missing)} array(s)")
    return header, arrays
