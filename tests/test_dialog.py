"""The file dialog: filters by type, Enter in the path box, remembers the folder, deletes nothing."""

import pygame
import pytest

from sandbox.app import dialog as dlg
from sandbox.app.dialog import FileDialog


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    pygame.display.init()
    pygame.font.init()
    yield


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    for name in ("a.csv", "b.npy", "c.png", "m.safetensors", "notes.md", ".hidden.csv"):
        (d / name).write_bytes(b"x")
    (d / "sub" / "inner.csv").write_text("0,0\n1,1\n")
    return d


def key(d, k, mod=0):
    return d.event(pygame.event.Event(pygame.KEYDOWN, key=k, mod=mod, unicode="", scancode=0))


def shown(d):
    return [name for name, _, _ in d.entries]


def test_lists_only_files_it_can_open_and_filters_by_type(folder):
    d = FileDialog((1280, 800), start=folder)
    assert shown(d) == ["../", "sub/", "a.csv", "b.npy", "c.png", "m.safetensors"]   # no .md, no hidden
    d.set_filter("pictures")
    assert shown(d) == ["../", "sub/", "c.png"]
    d.set_filter("models")
    assert shown(d) == ["../", "sub/", "m.safetensors"]
    d.set_filter("points")
    assert shown(d) == ["../", "sub/", "a.csv", "b.npy"]


def test_enter_in_the_path_box_opens_folders_and_picks_files(folder):
    d = FileDialog((1280, 800), start=folder)
    d.text = str(folder / "sub")
    assert key(d, pygame.K_RETURN) == (True, None, False)
    assert d.folder == (folder / "sub").resolve() and "inner.csv" in shown(d)
    d.text = "inner.csv"                                           # relative to the folder
    taken, picked, closed = key(d, pygame.K_RETURN)
    assert closed and picked == str((folder / "sub" / "inner.csv").resolve())
    d = FileDialog((1280, 800), start=folder)
    d.text = str(folder / "nothing-here")
    assert key(d, pygame.K_RETURN) == (True, None, False) and "no such file or folder" in d.error
    d.text = str(folder / "notes.md")
    assert key(d, pygame.K_RETURN)[1] is None and "not a file the sandbox can open" in d.error


def type_(d, text):
    for ch in text:
        d.event(pygame.event.Event(pygame.TEXTINPUT, text=ch))


def test_typing_keys_and_clicks(folder):
    d = FileDialog((1280, 800), start=folder)
    type_(d, "c.png")                                             # a name: added to the folder
    assert d.text == str(folder.resolve() / "c.png")
    d.chdir(folder / "sub")
    type_(d, str(folder / "c.png"))                               # an absolute path: replaces it
    assert d.text == str(folder / "c.png")
    key(d, pygame.K_a, pygame.KMOD_CTRL)
    assert d.text == ""
    type_(d, str(folder / "c.png"))
    key(d, pygame.K_BACKSPACE)
    assert d.text.endswith("c.pn")
    d.chdir(folder)                                               # untouched box: Enter opens the pick
    key(d, pygame.K_DOWN)
    assert d.entries[d.selected][0] == "b.npy"
    assert key(d, pygame.K_RETURN)[1] == str((folder / "b.npy").resolve())
    d = FileDialog((1280, 800), start=folder)
    surf = pygame.Surface((1280, 800))
    d.draw(surf)
    cancel = d.buttons[-1]
    assert d.event(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=cancel.rect.center)) == (True, None, True)
    assert key(d, pygame.K_ESCAPE) == (True, None, True)
    assert [b.text for b in d.buttons] == ["up", "open", "cancel"]            # no delete button


def test_remembers_the_last_folder(folder):
    d = FileDialog((1280, 800), start=folder / "sub")
    d.text = "inner.csv"
    assert key(d, pygame.K_RETURN)[2]
    assert dlg.last_folder() == (folder / "sub").resolve()
    assert FileDialog((1280, 800)).folder == (folder / "sub").resolve()


def test_unreadable_folder_is_a_message(folder):
    d = FileDialog((1280, 800), start=folder)
    d.chdir(folder / "a.csv")                                     # not a folder
    assert d.error.startswith("cannot open folder") and d.folder == folder.resolve()
