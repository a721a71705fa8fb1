"""The file dialog: open points (CSV, NPY, a picture), a model or a session.

Drawn with the window's own widgets and theme (it scales with the presenter scale and follows the
high-contrast theme), so it looks like the rest of the app. It lists folders and the files of the
chosen type only, opens nothing but what the app can load, and never deletes or renames anything.
The last folder is remembered across runs (a small text file in the cache folder). Keyboard:
type a name (added to the folder shown) or a path starting with / or ~ (replaces it; Ctrl+A clears
the box) and press Enter: a folder opens, a file loads. Up/Down pick in the list, Enter opens the
pick, Backspace on the bare folder goes up, Esc cancels.

`event(ev)` returns (taken, picked path or None, closed), so the window loop stays independent of
how the dialog works inside.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pygame

from sandbox.datasets.loaders import CSV_EXTS, IMAGE_EXTS, NPY_EXTS
from sandbox.view.theme import Theme, blend

from .widgets import Button, Segmented, row_metrics, text_image, text_width

TITLE = "Open points (CSV, NPY, picture), a model or a session"
FILTERS = {
    "all": ("all I can open", tuple(CSV_EXTS) + tuple(NPY_EXTS) + tuple(IMAGE_EXTS) + (".safetensors",)),
    "points": ("points", tuple(CSV_EXTS) + tuple(NPY_EXTS)),
    "pictures": ("pictures", tuple(IMAGE_EXTS)),
    "models": ("models, sessions", (".safetensors",)),
}
DOUBLE_CLICK_S = 0.45


def _memory_file() -> Path:
    from .session import cache_dir

    return cache_dir() / "last_folder.txt"


def last_folder() -> Path:
    """The folder the dialog last opened a file from (or the current folder)."""
    try:
        p = Path(_memory_file().read_text(encoding="utf-8").strip())
        if p.is_dir():
            return p
    except (OSError, ValueError):
        pass
    return Path.cwd()


def remember_folder(folder: Path) -> None:
    """Best effort: a read-only cache folder only means the next dialog starts elsewhere."""
    from sandbox.errors import UserError

    try:
        from sandbox.fileio import atomic_path

        target = _memory_file()
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            Path(tmp).write_text(str(folder), encoding="utf-8")
    except (OSError, ValueError, UserError):
        pass


class FileDialog:
    def __init__(self, size: tuple[int, int], start: Path | None = None, theme: Theme | None = None):
        self.size = tuple(size)
        self.theme = theme or Theme()
        self.filter = "all"
        self.folder = Path(start) if start is not None else last_folder()
        self.entries: list[tuple[str, Path, bool]] = []      # (shown name, path, is folder)
        self.selected = -1
        self.scroll = 0
        self.error = ""
        self.text = ""
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.path_rect = pygame.Rect(0, 0, 0, 0)
        self.list_rect = pygame.Rect(0, 0, 0, 0)
        self._last_click = (-1, 0.0)
        self._result: tuple[str | None, bool] | None = None
        self.buttons = [
            Button("up", self.go_up, tip="The parent folder (Backspace in an empty box)."),
            Button("open", self.open_selected, enabled=lambda: self._target() is not None),
            Button("cancel", self.cancel),
        ]
        self.filters = Segmented([(k, v[0]) for k, v in FILTERS.items()], lambda: self.filter,
                                 self.set_filter)
        self.chdir(self.folder)
        try:
            pygame.key.start_text_input()
        except pygame.error:
            pass

    # ---- model ---------------------------------------------------------------------------------
    def chdir(self, folder: Path) -> None:
        try:
            folder = Path(folder).expanduser().resolve()
            names = sorted(os.scandir(folder), key=lambda e: e.name.lower())
        except (OSError, ValueError) as e:
            self.error = f"cannot open folder {folder}: {getattr(e, 'strerror', None) or e}"
            return
        exts = FILTERS[self.filter][1]
        dirs, files = [], []
        for entry in names:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                dirs.append((entry.name + "/", Path(entry.path), True))
            elif Path(entry.name).suffix.lower() in exts:
                files.append((entry.name, Path(entry.path), False))
        self.folder = folder
        up = [("../", folder.parent, True)] if folder.parent != folder else []
        self.entries = up + dirs + files
        self.selected = next((i for i, e in enumerate(self.entries) if not e[2]), -1)
        self.scroll = 0
        self.text = str(folder) + os.sep if str(folder) != os.sep else os.sep
        self._fresh = True        # typing a name appends to the folder; typing "/" starts afresh
        self.error = "" if files or dirs else f"no {FILTERS[self.filter][0]} files here"

    def set_filter(self, key: str) -> None:
        self.filter = key
        self.chdir(self.folder)

    def go_up(self) -> None:
        self.chdir(self.folder.parent)

    def cancel(self) -> None:
        self._result = (None, True)

    def _target(self) -> Path | None:
        if 0 <= self.selected < len(self.entries):
            return self.entries[self.selected][1]
        return None

    def open_selected(self) -> None:
        if 0 <= self.selected < len(self.entries):
            _, path, is_dir = self.entries[self.selected]
            self._open(path, is_dir)

    def _open(self, path: Path, is_dir: bool) -> None:
        if is_dir:
            self.chdir(path)
            return
        remember_folder(path.parent)
        self._result = (str(path), True)

    def submit_text(self) -> None:
        """Enter in the path box: a folder opens, a file of a type the app reads loads."""
        raw = self.text.strip()
        if not raw:
            return
        p = Path(raw).expanduser()
        if not p.is_absolute():
            p = self.folder / p
        try:
            if p.is_dir():
                self.chdir(p)
            elif p.is_file():
                if p.suffix.lower() not in FILTERS["all"][1]:
                    self.error = f"{p.name}: not a file the sandbox can open ({', '.join(FILTERS['all'][1])})"
                else:
                    self._open(p, False)
            else:
                self.error = f"{raw}: no such file or folder"
        except (OSError, ValueError) as e:
            self.error = f"{raw}: {getattr(e, 'strerror', None) or e}"

    # ---- layout --------------------------------------------------------------------------------
    def _layout(self) -> None:
        theme = self.theme
        W, H = self.size
        rh, gap, pad = row_metrics(theme)
        w = min(W - 20, max(theme.font_px * 40, 640))
        h = min(H - 20, max(theme.font_px * 30, 480))
        self.rect = pygame.Rect(0, 0, w, h)
        self.rect.center = (W // 2, H // 2)
        inner = self.rect.inflate(-2 * pad, -2 * pad)
        y = inner.y + rh + gap                                  # under the title
        self.path_rect = pygame.Rect(inner.x, y, inner.w, rh)
        y += rh + gap
        self.filters.nlines = self.filters.lines(inner.w, theme)
        self.filters.rect = pygame.Rect(inner.x, y, inner.w, self.filters.nlines * rh)
        y += self.filters.rect.h + gap
        bottom = inner.bottom - rh
        self.list_rect = pygame.Rect(inner.x, y, inner.w, max(rh, bottom - gap - (rh if self.error else 0) - y))
        bw = max(b.min_width(theme) for b in self.buttons)
        x = inner.right
        for b in reversed(self.buttons[1:]):
            b.rect = pygame.Rect(x - bw, bottom, bw, rh)
            x -= bw + gap
        self.buttons[0].rect = pygame.Rect(inner.x, bottom, bw, rh)

    def _line_h(self) -> int:
        return int(self.theme.font(0.9).get_linesize() * 1.25)

    def _visible_rows(self) -> int:
        return max(1, self.list_rect.h // self._line_h())

    def _entry_at(self, pos) -> int:
        if not self.list_rect.collidepoint(pos):
            return -1
        i = self.scroll + (pos[1] - self.list_rect.y) // self._line_h()
        return i if 0 <= i < len(self.entries) else -1

    def _show_selected(self) -> None:
        n = self._visible_rows()
        if self.selected < self.scroll:
            self.scroll = max(0, self.selected)
        elif self.selected >= self.scroll + n:
            self.scroll = self.selected - n + 1

    # ---- events --------------------------------------------------------------------------------
    def event(self, ev) -> tuple[bool, str | None, bool]:
        """(taken, picked path or None, closed) for one event."""
        self._result = None
        self._layout()
        t = ev.type
        if t == pygame.KEYDOWN:
            self._key(ev)
        elif t == pygame.TEXTINPUT:
            typed = str(getattr(ev, "text", ""))
            if self._fresh and typed[:1] in ("/", "~", "\\") or self._fresh and typed[1:2] == ":":
                self.text = ""    # a new absolute path replaces the folder shown
            self._fresh = False
            self.text += typed
            self.error = ""
        elif t == pygame.MOUSEWHEEL:
            most = max(0, len(self.entries) - self._visible_rows())
            self.scroll = int(min(max(self.scroll - 3 * int(getattr(ev, "y", 0)), 0), most))
        elif t == pygame.MOUSEBUTTONDOWN and getattr(ev, "button", 0) == 1:
            self._click(ev)
        elif t not in (pygame.MOUSEMOTION, pygame.MOUSEBUTTONUP, pygame.KEYUP, pygame.TEXTEDITING):
            return False, None, False
        if self._result is not None:
            return True, self._result[0], self._result[1]
        return True, None, False

    def _key(self, ev) -> None:
        k = getattr(ev, "key", None)
        if k == pygame.K_ESCAPE:
            self.cancel()
        elif k in (pygame.K_RETURN, pygame.K_KP_ENTER):
            folder_text = str(self.folder) + os.sep
            if self.text.strip() and self.text != folder_text:
                self.submit_text()
            else:
                self.open_selected()
        elif k == pygame.K_BACKSPACE:
            if self.text == str(self.folder) + os.sep or not self.text:
                self.go_up()
            else:
                self.text = self.text[:-1]
                self._fresh = False
        elif k in (pygame.K_UP, pygame.K_DOWN) and self.entries:
            d = -1 if k == pygame.K_UP else 1
            self.selected = min(max(self.selected + d, 0), len(self.entries) - 1)
            self._show_selected()
        elif k in (pygame.K_a, pygame.K_u, pygame.K_l) and getattr(ev, "mod", 0) & pygame.KMOD_CTRL:
            self.text, self._fresh = "", False      # select-all-and-type, as in a browser's address bar
        elif k == pygame.K_v and getattr(ev, "mod", 0) & (pygame.KMOD_CTRL | pygame.KMOD_META):
            try:
                pasted = pygame.scrap.get_text() if hasattr(pygame.scrap, "get_text") else ""
            except pygame.error:
                pasted = ""
            self.text += pasted or ""

    def _click(self, ev) -> None:
        pos = ev.pos
        for b in self.buttons:
            if b.rect.collidepoint(pos):
                b.handle(ev)
                return
        if self.filters.rect.collidepoint(pos):
            self.filters.handle(ev)
            return
        i = self._entry_at(pos)
        if i >= 0:
            now = time.monotonic()
            double = self._last_click[0] == i and now - self._last_click[1] < DOUBLE_CLICK_S
            self._last_click = (i, now)
            self.selected = i
            _, path, is_dir = self.entries[i]
            if double or is_dir:  # one click opens a folder; a file needs a double click or Open
                self._open(path, is_dir)
            return
        if not self.rect.collidepoint(pos):
            return  # a click outside does nothing: the dialog is modal

    def resize(self, size) -> None:
        self.size = tuple(size)

    # ---- drawing -------------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, dt: float = 0.0, theme: Theme | None = None) -> None:
        if theme is not None:
            self.theme = theme
        self.size = surface.get_size()
        self._layout()
        theme = self.theme
        # dim the window behind
        shade = pygame.Surface(self.size, pygame.SRCALPHA)
        shade.fill((*theme.background, 160))
        surface.blit(shade, (0, 0))
        pygame.draw.rect(surface, theme.panel, self.rect, border_radius=8)
        pygame.draw.rect(surface, theme.panel_border, self.rect, width=2, border_radius=8)
        rh, gap, pad = row_metrics(theme)
        title = text_image(theme, TITLE, theme.text, 1.0, True, max_w=self.rect.w - 2 * pad)
        surface.blit(title, title.get_rect(midleft=(self.rect.x + pad, self.rect.y + pad + rh // 2)))
        # the path box, with a caret
        pygame.draw.rect(surface, theme.background, self.path_rect, border_radius=4)
        pygame.draw.rect(surface, theme.accent, self.path_rect, width=2, border_radius=4)
        room = self.path_rect.w - 16
        shown = self.text
        while shown and text_width(theme, shown + "|") > room:
            shown = shown[1:]  # keep the end of a long path in view
        img = text_image(theme, shown + "|", theme.text, 0.9)
        surface.blit(img, img.get_rect(midleft=(self.path_rect.x + 8, self.path_rect.centery)))
        self.filters.draw(surface, theme)
        # the list
        lr = self.list_rect
        pygame.draw.rect(surface, blend(theme.background, theme.panel, 0.5), lr, border_radius=4)
        pygame.draw.rect(surface, theme.panel_border, lr, width=1, border_radius=4)
        lh = self._line_h()
        prev = surface.get_clip()
        surface.set_clip(lr)
        for row, i in enumerate(range(self.scroll, min(len(self.entries), self.scroll + self._visible_rows()))):
            name, _, is_dir = self.entries[i]
            r = pygame.Rect(lr.x + 2, lr.y + row * lh, lr.w - 4, lh)
            sel = i == self.selected
            if sel:
                pygame.draw.rect(surface, theme.accent, r, border_radius=3)
            col = theme.background if sel else (theme.accent if is_dir else theme.text)
            img = text_image(theme, name, col, 0.9, max_w=r.w - 12)
            surface.blit(img, img.get_rect(midleft=(r.x + 8, r.centery)))
        surface.set_clip(prev)
        if len(self.entries) > self._visible_rows():  # a scroll bar
            n, vis = len(self.entries), self._visible_rows()
            th = max(12, lr.h * vis // n)
            ty = lr.y + (lr.h - th) * self.scroll // max(1, n - vis)
            pygame.draw.rect(surface, theme.text_dim, (lr.right - 7, ty, 5, th), border_radius=2)
        if self.error:
            img = text_image(theme, self.error, theme.error, 0.85, max_w=self.rect.w - 2 * pad)
            surface.blit(img, img.get_rect(topleft=(lr.x, lr.bottom + gap // 2)))
        for b in self.buttons:
            b.draw(surface, theme)

    def close(self) -> None:
        try:
            pygame.key.stop_text_input()
        except pygame.error:
            pass
