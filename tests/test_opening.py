"""The window's first seconds: it opens and says it is loading before PyTorch is imported (under Xvfb
on the busy 2-core machine it was black for 3-12 s while Python loaded torch), it stays drawn while
the model loads, and closing it meanwhile ends the program quietly."""
from __future__ import annotations

import argparse
import threading

import pygame
import pytest

from sandbox.app import opening
from sandbox.view import Theme


def test_the_loading_colours_are_the_dark_theme_s():
    t = Theme.dark()
    assert (opening.BACKGROUND, opening.PANEL, opening.TEXT, opening.TEXT_DIM) == (
        t.background, t.panel, t.text, t.text_dim)


def test_the_window_shows_loading_while_the_heavy_imports_run():
    drawn = threading.Event()
    real_flip = pygame.display.flip
    seen: list[tuple] = []

    def flip():
        surf = pygame.display.get_surface()
        w, h = surf.get_size()
        texts = sum(surf.get_at((x, y))[:3] == opening.TEXT for x in range(w // 4, w, 2) for y in range(h // 3, h // 2))
        seen.append((tuple(surf.get_at((w - 2, 2)))[:3], tuple(surf.get_at((2, 2)))[:3], texts))
        drawn.set()
        real_flip()

    def load():
        assert drawn.wait(10), "nothing was drawn while loading"
        return "loaded"

    pygame.display.flip = flip
    try:
        assert opening.loading(load, (640, 480)) == "loaded"
    finally:
        pygame.display.flip = real_flip
    canvas, panel, texts = seen[0]
    assert canvas == opening.BACKGROUND and panel == opening.PANEL and texts > 50


def test_a_failure_while_loading_is_raised_in_the_caller():
    def load():
        raise ImportError("no torch here")

    with pytest.raises(ImportError, match="no torch here"):
        opening.loading(load, (640, 480))


def test_closing_the_window_while_it_loads_ends_quietly():
    gate = threading.Event()

    def load():
        gate.wait(10)
        return "loaded"

    real_get = pygame.event.get

    def get(*a, **k):
        gate.set()
        return [pygame.event.Event(pygame.QUIT)]

    pygame.event.get = get
    try:
        assert opening.loading(load, (640, 480)) is None
    finally:
        pygame.event.get = real_get


def test_the_command_opens_the_window_through_loading(monkeypatch):
    """`diffusion-sandbox` draws 'loading' before it imports the window (and so torch)."""
    import sandbox.app.window as window
    from sandbox.cli import commands

    calls: list[str] = []

    def run(**kw):
        calls.append(f"run {kw['size']}")
        return 0

    def loading(load, size, what="Diffusion sandbox"):
        calls.append("loading")
        return load()

    monkeypatch.setattr(commands, "display_available", lambda: (True, ""))
    monkeypatch.setattr(opening, "loading", loading)
    monkeypatch.setattr(window, "run", run)
    args = argparse.Namespace(dataset=None, model=None, fullscreen=False)
    assert commands.window(args) == 0
    assert calls == ["loading", f"run {opening.fit_to_desktop(opening.SIZE)}"]


def test_a_lesson_opens_through_loading_before_the_lessons_import(monkeypatch, capsys):
    """`diffusion-sandbox lesson NAME` imported every lesson (and so torch) before its window
    opened: 20 s of nothing under Xvfb on the busy machine. An unknown name is still one line."""
    import lessons
    import lessons.__main__ as lesson_cli
    import lessons.window
    import sandbox.cli.commands as commands

    calls: list[str] = []

    def loading(load, size, what="Diffusion sandbox"):
        calls.append("loading")
        return load()

    monkeypatch.setattr(commands, "display_available", lambda: (True, ""))
    monkeypatch.setattr(opening, "loading", loading)
    monkeypatch.setattr(lessons.window, "run", lambda runner, **kw: calls.append(runner.lesson.id) or 0)
    real_get = lessons.get_lesson
    monkeypatch.setattr(lessons, "get_lesson", lambda name: calls.append("get_lesson") or real_get(name))
    assert lesson_cli.main(["few_steps"]) == 0
    assert calls == ["loading", "get_lesson", "few_steps"]
    assert lesson_cli.main(["no_such_lesson"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
