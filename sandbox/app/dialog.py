"""The file dialog (pygame_gui's UIFileDialog), kept behind a three-method wrapper so the window
loop does not depend on pygame_gui's event protocol."""
from __future__ import annotations

from pathlib import Path

import pygame

TITLE = "Open points (CSV, NPY, picture), a model or a session"


class FileDialog:
    def __init__(self, size: tuple[int, int], start: Path | None = None):
        import pygame_gui

        self._gui = pygame_gui
        self.manager = pygame_gui.UIManager(size)
        W, H = size
        rect = pygame.Rect(0, 0, min(640, W - 40), min(520, H - 40))
        rect.center = (W // 2, H // 2)
        self.window = pygame_gui.windows.UIFileDialog(
            rect, self.manager, window_title=TITLE, initial_file_path=str(start or Path.cwd()),
            allow_existing_files_only=True)

    def event(self, ev) -> tuple[bool, str | None, bool]:
        """(taken, picked path or None, closed) for one event."""
        gui = self._gui
        if ev.type == pygame.KEYDOWN and getattr(ev, "key", None) == pygame.K_ESCAPE:
            return True, None, True
        if ev.type == gui.UI_FILE_DIALOG_PATH_PICKED:
            return True, str(getattr(ev, "text", "")), True
        if ev.type == gui.UI_WINDOW_CLOSE and getattr(ev, "ui_element", None) is self.window:
            return True, None, True
        if ev.type >= pygame.USEREVENT and not hasattr(ev, "ui_element"):
            return False, None, False  # a stray user event: only pygame_gui's own go in
        self.manager.process_events(ev)
        taken = ev.type in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP, pygame.MOUSEMOTION,
                            pygame.MOUSEWHEEL, pygame.KEYDOWN, pygame.KEYUP, pygame.TEXTINPUT)
        return taken, None, False

    def resize(self, size) -> None:
        self.manager.set_window_resolution(size)

    def draw(self, surface: pygame.Surface, dt: float) -> None:
        self.manager.update(dt)
        self.manager.draw_ui(surface)

    def close(self) -> None:
        self.window.kill()
