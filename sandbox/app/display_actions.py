"""The window's actions that need the display: fullscreen, screenshots, the file dialog, help."""
from __future__ import annotations

import time
from pathlib import Path

import pygame

from sandbox.errors import UserError
from sandbox.fileio import atomic_path, check_writable

from typing import TYPE_CHECKING

from .dialog import FileDialog

if TYPE_CHECKING:
    from sandbox.view import Theme

    from .state import AppState


def window_position() -> tuple[int, int] | None:
    """Where the window is on the desktop (None: no window, a driver that cannot say, or a
    pygame-ce before 2.5, which has no get/set_window_position)."""
    try:
        x, y = pygame.display.get_window_position()
    except (pygame.error, AttributeError, TypeError, ValueError):
        return None
    return int(x), int(y)


def move_window(pos: tuple[int, int]) -> None:
    move = getattr(pygame.display, "set_window_position", None)   # pygame-ce >= 2.5
    if move is not None:
        move(pos)


class DisplayActions:
    """Mixin for App (uses its screen, state and dialog: declared here for the type checker)."""

    state: "AppState"
    screen: pygame.Surface
    windowed_size: tuple[int, int]
    windowed_pos: tuple[int, int] | None
    dialog: FileDialog | None
    advanced: bool
    frames: int
    _shot: Path | None
    _shot_at: float

    def theme(self) -> "Theme":
        raise NotImplementedError

    def toggle_fullscreen(self) -> None:
        st = self.state
        try:
            if not st.fullscreen:
                self._enter_fullscreen()
                st.fullscreen = True
            else:
                self._leave_fullscreen()
                st.fullscreen = False
        except pygame.error as e:
            st.fullscreen = False
            self._leave_fullscreen()
            st.say(f"fullscreen is not available here ({e})", "warn")
        if self.dialog is not None:
            self.dialog.resize(self.screen.get_size())

    def _enter_fullscreen(self) -> None:
        """Fill the screen from its top-left corner. SDL asks the window manager to go fullscreen
        and only resizes the window: with no window manager (Xvfb, kiosks, some projector PCs) the
        window kept its place, a black band above it and the time bar off the bottom. So the window
        moves to the display's corner first, and `_leave_fullscreen` puts it back."""
        self.windowed_size = self.screen.get_size()
        self.windowed_pos = window_position()
        corner = (0, 0) if pygame.display.get_num_displays() <= 1 else None  # SDL: display 0 is at 0,0
        if corner is not None and self.windowed_pos not in (None, corner):
            move_window(corner)
        self.screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        if corner is None and self.windowed_pos is not None:
            # several displays: fullscreen puts the window on the one it was on, and SDL then reports
            # that display's corner; take the window there and go fullscreen again
            corner = window_position()
            if corner not in (None, self.windowed_pos):
                pygame.display.set_mode(self.windowed_size, pygame.RESIZABLE)
                move_window(corner)
                self.screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)

    def _leave_fullscreen(self) -> None:
        """Back to the size and place the window had before fullscreen."""
        self.screen = pygame.display.set_mode(self.windowed_size, pygame.RESIZABLE)
        if self.windowed_pos is not None and window_position() != self.windowed_pos:
            move_window(self.windowed_pos)

    def toggle_help(self) -> None:
        self.state.help_visible = not self.state.help_visible

    def toggle_advanced(self) -> None:
        self.advanced = not self.advanced

    def escape(self) -> None:
        st = self.state
        if self.dialog is not None:
            self.close_dialog()
        elif st.help_visible:
            st.help_visible = False
        elif st.training.running:
            st.stop()
        elif st.fullscreen:
            self.toggle_fullscreen()

    def screenshot(self, path=None) -> Path:
        """Save the window as PNG at the end of this frame (several requests: one file)."""
        stamp = time.strftime('%Y%m%d-%H%M%S')
        path = Path(path) if path else self.state.out_dir / f"sandbox-{stamp}-{self.frames}.png"
        now = time.monotonic()
        if now - self._shot_at < 0.5:  # a held key repeats: one file, not dozens
            return path
        self._shot_at = now
        self._shot = path
        return path

    def _save_screenshot(self, path: Path) -> None:
        check_writable(path, make_parents=True)   # read-only folder: the same one line as elsewhere
        try:
            with atomic_path(path) as tmp:
                pygame.image.save(self.screen, str(tmp))
        except pygame.error as e:
            raise UserError(f"could not save screenshot {path}: {e}") from None
        self.state.say(f"saved screenshot {path}")

    def open_dialog(self) -> None:
        if self.dialog is None:
            self.dialog = FileDialog(self.screen.get_size(), theme=self.theme())

    def close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog = None

    def _dialog_event(self, ev) -> bool:
        """The open file dialog gets first go at events; True if it took the event."""
        if self.dialog is None:
            return False
        taken, picked, closed = self.dialog.event(ev)
        if closed or picked is not None:
            self.close_dialog()
        if picked is not None:
            self.state.load_file(picked)
        return taken
