"""Opening the window: its size on this desktop, and what it shows while Python loads.

Importing the window loads PyTorch (3 s on an idle 2-core laptop, 10 s on a busy one), and a window
opened only after that leaves a teacher in front of a class looking at nothing. `loading(load,
size)` opens the window first, with the app's background and 'loading ... N s', and runs `load`
(the heavy imports) in a thread while it keeps the window answering: redrawn, movable, closable.

Imports pygame and nothing else of the project's, so it shows within a second of the command.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Callable, TypeVar

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

T = TypeVar("T")

SIZE = (1280, 800)          # the window's size where the desktop has room
LESSON_SIZE = (1440, 860)   # a lesson's window: the sandbox and the lesson's column
MIN_WINDOW = (640, 480)
DECORATIONS = 64   # pixels of height left for the title bar and a task bar

# the dark theme's colours (the window always opens dark); sandbox.view.theme is not imported
# here because it loads numpy first. tests/test_window.py holds these equal to Theme.dark()
BACKGROUND = (17, 19, 26)
PANEL = (28, 31, 41)
TEXT = (225, 228, 235)
TEXT_DIM = (140, 146, 160)


def fit_to_desktop(size: tuple[int, int]) -> tuple[int, int]:
    """The window size asked for, shrunk to fit the desktop it opens on (a 1440x860 lesson window
    on a 1280x800 laptop put its Check button and the panel off the screen). Drivers without a
    real desktop (dummy, offscreen: tests, CI) keep the size asked for."""
    pygame.display.init()
    try:
        if pygame.display.get_driver() in ("dummy", "offscreen"):
            return tuple(size)  # type: ignore[return-value]
        dw, dh = pygame.display.get_desktop_sizes()[0]
    except (pygame.error, IndexError):
        return tuple(size)  # type: ignore[return-value]
    if dw <= 0 or dh <= 0:
        return tuple(size)  # type: ignore[return-value]
    return (max(min(int(size[0]), dw), MIN_WINDOW[0]), max(min(int(size[1]), dh - DECORATIONS), MIN_WINDOW[1]))


def draw_loading(surface: pygame.Surface, line: str, what: str = "Diffusion sandbox") -> None:
    """The window's look while it loads: its background, the panel's column, the time bar's strip,
    and in the middle the name and `line` ('loading ... N s': the count shows it is not stuck)."""
    w, h = surface.get_size()
    surface.fill(BACKGROUND)
    unit = max(12, min(w, h) // 40)            # text that reads from the back of a room
    panel_w = min(300, w // 4)
    pygame.draw.rect(surface, PANEL, (0, 0, panel_w, h))
    pygame.draw.rect(surface, PANEL, (0, h - 2 * unit - 8, w, 2 * unit + 8))
    if not pygame.font.get_init():
        pygame.font.init()
    cx, cy = panel_w + (w - panel_w) // 2, (h - 2 * unit) // 2
    title = pygame.font.Font(None, int(unit * 2.6)).render(what, True, TEXT)
    surface.blit(title, title.get_rect(midbottom=(cx, cy)))
    sub = pygame.font.Font(None, int(unit * 1.6)).render(line, True, TEXT_DIM)
    surface.blit(sub, sub.get_rect(midtop=(cx, cy + unit // 2)))


def loading(load: Callable[[], T], size: tuple[int, int], what: str = "Diffusion sandbox") -> T | None:
    """Open the window at `size`, show it loading while `load()` runs in a thread, and return what
    `load` returned; None when the window was closed before it finished. An exception in `load`
    is raised here, in the caller's thread."""
    pygame.display.init()
    screen = pygame.display.set_mode(tuple(size), pygame.RESIZABLE)
    pygame.display.set_caption(what)
    out: dict[str, object] = {}

    def work() -> None:
        try:
            out["value"] = load()
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            out["error"] = e

    thread = threading.Thread(target=work, name="loading", daemon=True)
    start = time.monotonic()
    thread.start()
    closed = False
    while thread.is_alive():
        for ev in [] if closed else pygame.event.get():
            if ev.type == pygame.QUIT:     # gone at once; the import finishes behind
                closed = True
                pygame.display.quit()
                break
            if ev.type == pygame.VIDEORESIZE:
                screen = pygame.display.get_surface() or screen
        if not closed:
            draw_loading(screen, f"loading PyTorch ...  {int(time.monotonic() - start)} s", what)
            pygame.display.flip()
        thread.join(0.1)
    if "error" in out:          # the caller says what went wrong in one line: no window left behind
        pygame.display.quit()
        raise out["error"]  # type: ignore[misc]
    if closed:
        return None
    return out.get("value")  # type: ignore[return-value]
