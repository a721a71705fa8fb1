"""The pygame window: a thin shell that turns events into AppState actions and draws the state.

`run()` is what `diffusion-sandbox` opens. `App(...).run_frames(n)` runs the same loop for n
frames without waiting for the clock (tests post real events with pygame.event.post). Every
event and every frame is guarded: a user mistake (UserError) becomes a message, anything else is
shown, counted in `state.errors` and printed, and the window lives on.

`App` holds the window's attributes and the loop; the rest are functions of it in files of their
own: where things go in `window_layout.py`, events in `window_input.py`, keyboard focus in
`window_focus.py`, drawing a frame in `window_draw.py`, tooltips in `window_tips.py`.
"""
from __future__ import annotations

import gc
import os
import sys
import traceback
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from sandbox.errors import UserError  # noqa: E402
from sandbox.view import RenderCache, Theme, Viewport  # noqa: E402

from . import opening, window_draw, window_focus, window_input, window_layout, window_tips  # noqa: E402
from .dialog import FileDialog  # noqa: E402
from .display_actions import DisplayActions  # noqa: E402
from .panel import Panel  # noqa: E402
from .state import AppState  # noqa: E402
from .timebar import TimeBar  # noqa: E402


def _cap_torch_threads() -> None:
    """Leave a core to the UI: torch ops release the GIL, but a busy pool starves the frame loop."""
    try:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    except (ImportError, RuntimeError):
        pass


class App(DisplayActions):
    """The window. Fullscreen, screenshots, the file dialog and overlays' toggles live in
    `display_actions.py`; the methods below that a subclass (lessons/window.py), the shortcuts or
    the tests call hand over to the window_*.py functions."""

    def __init__(self, dataset: str | None = "smiley", model=None, size=(1280, 800),
                 fullscreen: bool = False, state: AppState | None = None, **state_kw):
        # display and fonts only: the sandbox makes no sound, and initialising the mixer on a
        # machine without a sound card prints ALSA errors
        pygame.display.init()
        pygame.font.init()
        self.windowed_size = tuple(size)
        self.windowed_pos: tuple[int, int] | None = None    # where the window was before fullscreen
        self.screen = pygame.display.set_mode(self.windowed_size, pygame.RESIZABLE)
        pygame.display.set_caption("Diffusion sandbox")
        if state is None:          # the model loads and samples before the first frame
            opening.draw_loading(self.screen, "loading the model ...")
            pygame.display.flip()
        _cap_torch_threads()
        self.state = state if state is not None else AppState(dataset, model, **state_kw)
        self.panel = Panel(self)
        self.timebar = TimeBar(self)
        self.advanced = False
        self.caches = [RenderCache(), RenderCache()]
        self.view: tuple[tuple[float, float], float] | None = None
        self._epoch = -1
        self.mouse = (0, 0)
        self.drag: str | None = None
        self.dialog: FileDialog | None = None
        self._banner: tuple[pygame.Rect, pygame.Rect] | None = None
        self._tip: tuple[tuple, str, float] | None = None    # rect under the pointer, its tip, how long
        self.tooltip_rect: pygame.Rect | None = None
        # what the last frame drew where (the layout test checks these)
        self.toast_rects: list[pygame.Rect] = []
        self.help_rect: pygame.Rect | None = None
        self.pane_headers: dict[int, tuple[str, int, int]] = {}   # pane: (header, width, room)
        self.pane_labels: dict[int, pygame.Rect | None] = {}       # pane: its time label and key
        self.chart_rect: pygame.Rect | None = None
        self.banner_rect: pygame.Rect | None = None
        self._score_head: pygame.Rect | None = None     # click: collapse / expand the score panel
        self._offer_buttons: tuple[pygame.Rect, pygame.Rect] | None = None   # use new / keep previous
        self.focus_index: int | None = None      # keyboard focus: index into focus_order()
        self.running = True
        self.frames = 0
        self._pending_size: tuple[int, int] | None = None   # resizes are applied once per frame (a drag sends dozens)
        self._shot = None           # a screenshot asked for during this frame
        self._shot_at = -1e9
        self.pane_rects: list[pygame.Rect] = []
        self.canvas = pygame.Rect(0, 0, 1, 1)
        if fullscreen:
            self.toggle_fullscreen()
        # everything loaded so far (torch, the model) lives as long as the window:
        # keep it out of the collector's full passes, which otherwise stall a frame for ~100 ms
        gc.collect()
        gc.freeze()

    # ---- loop --------------------------------------------------------------------------------
    def run(self, max_frames: int | None = None) -> int:
        clock = pygame.time.Clock()
        try:
            while self.running and (max_frames is None or self.frames < max_frames):
                dt = clock.tick(60) / 1000.0
                self.frame(dt)
        finally:
            self.close()
        return 0

    def run_frames(self, n: int, dt: float = 1 / 60) -> None:
        """n frames as fast as possible, each with a fixed time step (tests)."""
        for _ in range(int(n)):
            if not self.running:
                break
            self.frame(dt)

    def frame(self, dt: float) -> None:
        for ev in pygame.event.get():
            self._guard(self.dispatch, ev)
        self._guard(window_layout.apply_resize, self)
        self._guard(self.state.step, dt)
        self._guard(self.draw, dt)
        if self._shot is not None:  # after drawing, so the file shows this frame
            path, self._shot = self._shot, None
            self._guard(self._save_screenshot, path)
        pygame.display.flip()
        self.frames += 1

    def _guard(self, fn, *args) -> None:
        try:
            fn(*args)
        except UserError as e:
            self.state.say(str(e), "error")
        except Exception as e:  # noqa: BLE001 - the window must survive; the error is counted
            traceback.print_exc(file=sys.stderr)
            self.state.bug(f"internal error: {type(e).__name__}: {e}")

    @property
    def errors(self) -> int:
        return self.state.errors

    def close(self) -> None:
        try:
            self.state.close()
        finally:
            pygame.display.quit()

    def quit(self) -> None:
        self.running = False

    # ---- layout (window_layout.py) -----------------------------------------------------------
    def theme(self) -> Theme:
        return Theme.named(self.state.theme_name, self.state.presenter_scale)

    def right_column(self, theme: Theme) -> int:
        """Width kept free on the right of the canvas and time bar (a subclass's extra panel)."""
        return 0

    def layout(self, theme: Theme) -> None:
        window_layout.layout(self, theme)

    def fit_view(self, samples: bool = False) -> None:
        """Centre the view on the drawing (and, with samples=True, the current samples)."""
        window_layout.fit_view(self, samples)

    def viewport(self, i: int) -> Viewport:
        return window_layout.viewport(self, i)

    def pane_at(self, pos) -> int | None:
        return window_layout.pane_at(self, pos)

    def toast_area(self, theme: Theme) -> pygame.Rect:
        return window_layout.toast_area(self, theme)

    def resize(self, size) -> None:
        window_layout.resize(self, size)

    # ---- events (window_input.py) and keyboard focus (window_focus.py) -----------------------
    def dispatch(self, ev: pygame.event.Event) -> None:
        window_input.dispatch(self, ev)

    def on_key(self, ev) -> None:
        window_input.on_key(self, ev)

    def on_mouse(self, ev) -> None:
        window_input.on_mouse(self, ev)

    def focus_order(self) -> list:
        return window_focus.focus_order(self)

    @property
    def focused(self):
        return window_focus.focused(self)

    # ---- drawing (window_draw.py) and tooltips (window_tips.py) ------------------------------
    def draw(self, dt: float = 0.0) -> None:
        window_draw.draw(self, dt)

    TIP_DELAY = 0.6   # seconds the pointer rests on a control before its tooltip shows
    _tip_forced = False   # tests and screenshots show the tooltip at once, without a real pointer

    def tip_target(self, pos) -> tuple[Any, str] | None:
        """(widget, tooltip text) under `pos`, if any (panel or time bar)."""
        return window_tips.tip_target(self, pos)


def run(dataset: str = "smiley", model_path=None, fullscreen: bool = False, model=None,
        size=opening.SIZE, **kw) -> int:
    """Open the window (what `diffusion-sandbox` with no arguments calls)."""
    app = App(dataset=dataset, model=model_path or model, size=opening.fit_to_desktop(size), fullscreen=fullscreen,
              **kw)
    return app.run()


if __name__ == "__main__":
    raise SystemExit(run())
