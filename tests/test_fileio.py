"""Atomic writes keep the old file on failure and give ordinary permissions on success."""
import errno
import os
import stat
from pathlib import Path

import pytest

from sandbox.errors import UserError
from sandbox.fileio import atomic_path


def test_success_replaces_target_with_normal_permissions(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".csv" and tmp.parent == tmp_path
        tmp.write_text("new")
    assert target.read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert list(tmp_path.iterdir()) == [target]


def test_failure_keeps_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_missing_folder_is_a_user_error_unless_asked_to_create(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        with atomic_path(tmp_path / "no" / "a.csv"):
            pass
    with atomic_path(tmp_path / "yes" / "a.csv", make_parents=True) as tmp:
        tmp.write_text("x")
    assert (tmp_path / "yes" / "a.csv").read_text() == "x"


def test_folder_that_cannot_be_made_is_one_user_error(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("a file")
    for folder in (tmp_path / "f", tmp_path / "f" / "sub"):
        with pytest.raises(UserError, match="a file is in the way"):
            with atomic_path(folder / "a.csv", make_parents=True):
                pass

    def read_only(self, *a, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(self))
    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(UserError, match="cannot make folder .*read-only file system"):
        with atomic_path(tmp_path / "new" / "a.csv", make_parents=True):
            pass


def test_tdl_output_folder_in_the_way_is_one_line(tmp_path, capsys):
    """`tdl run` in a read-only folder or with a file named like its output folder ended in a
    traceback (save_npz made the folder outside the one-line error path)."""
    from tdl.cli import main
    (tmp_path / "out").write_text("a file")
    rc = main(["sample", "--source", "digits", "--prompts", "3", "--instances-per-prompt", "2",
               "--steps", "3", "--out", str(tmp_path / "out" / "t.npz")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("error: ") and "in the way" in err[-1], err
