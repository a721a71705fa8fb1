"""Atomic writes keep the old file on failure and give ordinary permissions on success."""
import os
import stat

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
