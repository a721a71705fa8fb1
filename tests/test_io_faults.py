"""IO faults end in one line and exit status 2, and the file that was there stays as it was:
a read-only folder, a missing folder, a full disk, a folder in the way; and --no-clobber refuses.

A full disk and a read-only folder are real where the test may mount a tiny tmpfs (root with
CAP_SYS_ADMIN, as in CI's container here); elsewhere OSError(ENOSPC / EROFS) is raised from the
write itself (os.replace), which is the same code path one level lower.
"""
import errno
import os
import subprocess

import pytest

from sandbox.cli import main
from sandbox.modelio import shipped_model_path

MODEL = str(shipped_model_path("moons", "flow"))
OLD = b"x,y\n0.5,0.5\n"  # what the user had at the output path before


def _mount(folder, *opts) -> bool:
    if os.geteuid() != 0:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(("size=16k",) + opts), "tmpfs", str(folder)],
                       capture_output=True)
    return r.returncode == 0


@pytest.fixture
def tiny_disk(tmp_path, monkeypatch):
    """A folder on a 16 KB tmpfs holding the old file, or a normal folder whose writes fail ENOSPC."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = _mount(folder)
    (folder / "out.csv").write_bytes(OLD)
    (folder / "fill").write_bytes(b"\0" * 8_000) if mounted else None
    if not mounted:
        def full(*a, **k):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(os, "replace", full)
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.fixture
def read_only(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = _mount(folder)
    (folder / "out.csv").write_bytes(OLD)
    if mounted:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    else:
        def ro(*a, **k):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        monkeypatch.setattr(os, "replace", ro)
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=False)


def _one_line_exit_2(capsys, argv, needle):
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and "Traceback" not in err and needle in err, (rc, err)


def test_full_disk(capsys, tiny_disk):
    out = tiny_disk / "out.csv"
    _one_line_exit_2(capsys, ["sample", "--model", MODEL, "--n", "5000", "--steps", "4", "--out", str(out)],
                     "disk is full")
    assert out.read_bytes() == OLD
    assert sorted(p.name for p in tiny_disk.iterdir()) in (["fill", "out.csv"], ["out.csv"])  # no temp file left


def test_full_disk_train(capsys, tiny_disk):
    out = tiny_disk / "m.safetensors"
    out.write_bytes(b"old model")
    _one_line_exit_2(capsys, ["train", "--steps", "2", "--n", "50", "--out", str(out)], "disk is full")
    assert out.read_bytes() == b"old model"


def test_read_only_folder(capsys, read_only):
    out = read_only / "out.csv"
    _one_line_exit_2(capsys, ["sample", "--model", MODEL, "--n", "100", "--steps", "4", "--out", str(out)],
                     "read-only")
    assert out.read_bytes() == OLD


def test_read_only_folder_render(capsys, read_only):
    out = read_only / "out.png"
    _one_line_exit_2(capsys, ["render", "--model", MODEL, "--particles", "50", "--steps", "4", "--size", "64x64",
                              "--out", str(out)], "read-only")


def test_missing_folder_and_folder_in_the_way(capsys, tmp_path):
    _one_line_exit_2(capsys, ["sample", "--model", MODEL, "--out", str(tmp_path / "nope" / "x.csv")], "does not exist")
    (tmp_path / "d.csv").mkdir()
    _one_line_exit_2(capsys, ["sample", "--model", MODEL, "--out", str(tmp_path / "d.csv")], "is a folder")
    (tmp_path / "m.safetensors").mkdir()
    _one_line_exit_2(capsys, ["train", "--steps", "2", "--out", str(tmp_path / "m.safetensors")], "is a folder")


def test_no_clobber_refuses_and_keeps_the_file(capsys, tmp_path):
    out = tmp_path / "out.csv"
    out.write_bytes(OLD)
    _one_line_exit_2(capsys, ["sample", "--model", MODEL, "--n", "10", "--out", str(out), "--no-clobber"],
                     "--no-clobber")
    assert out.read_bytes() == OLD
    assert main(["sample", "--model", MODEL, "--n", "10", "--steps", "4", "--out", str(out)]) == 0  # default: replace
    assert out.read_bytes() != OLD


@pytest.mark.parametrize("code,needle", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"),
                                         (errno.EACCES, "permission denied")])
def test_write_failures_inside_the_atomic_write(capsys, tmp_path, monkeypatch, code, needle):
    out = tmp_path / "out.csv"
    out.write_bytes(OLD)

    def fail(*a, **k):
        raise OSError(code, os.strerror(code))
    monkeypatch.setattr(os, "replace", fail)
    _one_line_exit_2(capsys, ["sample", "--model", MODEL, "--n", "20", "--steps", "4", "--out", str(out)], needle)
    assert out.read_bytes() == OLD and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_window_writes_into_a_read_only_or_full_folder_say_one_line(read_only, tiny_disk, tmp_path):
    """Seen under Xvfb with the window started in a read-only folder: Ctrl+S showed 'internal error:
    SafetensorError ...' with a traceback on stderr; GIF recording said 'recording ...' and failed
    later. Every window export now refuses at once in one line; a session that does not fit on the
    disk is a UserError too (safetensors raises its own error type, not OSError)."""
    from sandbox.app.state import AppState
    from sandbox.app.window import App
    from sandbox.errors import UserError

    st = AppState("moons", auto_train=False, autosave=False, out_dir=read_only)
    st.wait_idle()
    for action in (st.save_session, lambda: st.record("gif"), lambda: st.record("html"), st.save_canvas):
        with pytest.raises(UserError, match="read-only|cannot write") as e:
            action()
        assert "\n" not in str(e.value)
    import sandbox

    with pytest.raises(UserError, match="read-only|cannot write") as e:   # the notebook's MP4 too
        sandbox.animate(sandbox.shipped("moons"), 50, steps=3).save(read_only / "x.mp4", size="64x64")
    assert "OSError" not in str(e.value)
    assert (read_only / "out.csv").read_bytes() == OLD
    with pytest.raises(UserError, match="could not save session|disk is full|cannot write"):
        st.save_session(tiny_disk / "out.csv")        # replaces what was there, or leaves it whole
    assert (tiny_disk / "out.csv").read_bytes() == OLD
    assert sorted(p.name for p in tiny_disk.iterdir()) in (["fill", "out.csv"], ["out.csv"])

    app = App(None, size=(640, 480), load_shipped=False, auto_train=False, autosave=False, out_dir=read_only)
    try:
        app.screenshot()
        app.run_frames(1)
        said = [m.text for m in app.state.messages if m.level == "error"]
        assert app.errors == 0 and said and ("read-only" in said[-1] or "cannot write" in said[-1]), said
    finally:
        app.close()
