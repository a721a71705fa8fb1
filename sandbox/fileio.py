"""Atomic writes: a crash, Ctrl-C or a full disk never leaves half a file where the user's was.

    with atomic_path("moons.safetensors") as tmp:
        save_file(tensors, tmp)              # write anything to tmp; on success it replaces the target

The temporary file sits beside the target (same filesystem, so `os.replace` is atomic) and keeps
the target's suffix, so libraries that pick a format from the extension (imageio, matplotlib)
still work. It is created with ordinary permissions (0666 minus the umask), unlike mkstemp's 0600.
"""
from __future__ import annotations

import errno
import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sandbox.errors import UserError


@contextmanager
def atomic_path(path: str | os.PathLike, *, make_parents: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary path beside `path`; move it onto `path` when the block succeeds.

    A missing folder is a UserError unless `make_parents` creates it. On any exception the
    temporary file is removed and `path` is left as it was.
    """
    path = _checked_target(path, make_parents)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}"
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:  # read-only folder, full disk, quota...: one line; the old file is untouched
        raise UserError(f"cannot write {path}: {describe_os_error(e, with_path=False)}") from None
    finally:
        try:
            if os.path.exists(tmp):
                os.unlink(tmp)
        except OSError:
            pass


def _checked_target(path: str | os.PathLike, make_parents: bool) -> Path:
    path = Path(path)
    folder = path.parent
    if make_parents:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # read-only file system, no permission, a file in the way: one line
            why = ("a file is in the way of that folder" if e.errno in (errno.EEXIST, errno.ENOTDIR)
                   else describe_os_error(e, with_path=False))
            raise UserError(f"{path}: cannot make folder '{folder}': {why}") from None
    elif not folder.is_dir():
        raise UserError(f"{path}: folder '{folder}' does not exist")
    if path.is_dir():
        raise UserError(f"{path}: is a folder; give a file name")
    return path


def check_writable(path: str | os.PathLike, *, make_parents: bool = False) -> Path:
    """Fail before a long computation rather than after it: `atomic_path`'s checks plus a probe
    file made and removed beside `path` (read-only folder or file system, no permission).
    Nothing stays written; a problem is a UserError of one line."""
    path = _checked_target(path, make_parents)
    probe = path.parent / f".{path.name}.{secrets.token_hex(4)}.probe"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as e:
        raise UserError(f"cannot write {path}: {describe_os_error(e, with_path=False)}") from None
    return path


def describe_os_error(e: OSError, with_path: bool = True) -> str:
    """One line for an OSError, with a hint for the common ones."""
    hint = {errno.ENOSPC: "the disk is full; free some space or write elsewhere",
            errno.EDQUOT: "the disk quota is exceeded; free some space or write elsewhere",
            errno.EROFS: "the folder is on a read-only file system; write elsewhere",
            errno.EACCES: "permission denied; write to a folder you may write to",
            errno.EPERM: "permission denied; write to a folder you may write to",
            errno.EISDIR: "that is a folder; give a file name",
            errno.ENOENT: "no such file or folder"}.get(e.errno or -1, e.strerror or type(e).__name__)
    where = e.filename if with_path and e.filename else None
    return f"{where}: {hint}" if where else hint
