"""`Player`: a web view (kind + JSON payload) as a notebook fragment or ONE self-contained page.

The JavaScript (`dsw.js`) and CSS (`dsw.css`) are package data read with importlib.resources
and written inline, so a page opens offline with no CDN and no server; a notebook output needs
no kernel round trip. `dsw.js` defines `window.DSW` once; every fragment then calls
`DSW.mount(element, payload)`.
"""
from __future__ import annotations

import html
import os
import uuid
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from sandbox.errors import UserError
from sandbox.web.encode import to_json


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    """The text of a packaged web file (dsw.js, dsw.css)."""
    return resources.files("sandbox.web").joinpath(name).read_text(encoding="utf-8")


def _script_safe(js: str) -> str:
    return js.replace("</script", "<\\/script")


@dataclass
class Player:
    """kind: "animation" | "tree"; payload: the JSON the player reads; title: the page title."""

    kind: str
    payload: dict
    title: str = "diffusion sandbox"

    def _mount(self, element_id: str) -> str:
        data = to_json({**self.payload, "kind": self.kind})
        return (f"<script>{_script_safe(asset('dsw.js'))}\n"
                f"DSW.mount(document.getElementById({to_json(element_id)}), {data});</script>")

    def fragment(self) -> str:
        """HTML for a notebook output cell (styles scoped to the .dsw root)."""
        element_id = f"dsw-{uuid.uuid4().hex[:12]}"
        # shown only where scripts do not run (an untrusted notebook, a static preview)
        note = ("<div class=\"dsw-note\">interactive player: it needs JavaScript (in Jupyter: trust "
                "the notebook or run the cell again)</div>")
        return (f"<style>{asset('dsw.css')}</style>"
                f"<div class=\"dsw\" id=\"{element_id}\">{note}</div>{self._mount(element_id)}")

    def page(self) -> str:
        """A whole HTML document: scripts, styles and data inline; nothing is fetched."""
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                f"<title>{html.escape(self.title)}</title><style>{asset('dsw.css')}</style></head>"
                "<body class=\"dsw-page\"><div class=\"dsw\" id=\"dsw-main\"></div>"
                f"{self._mount('dsw-main')}</body></html>\n")

    def save(self, out: str | os.PathLike) -> Path:
        """Write `page()` to `out` (.html), atomically; returns the path."""
        return _save_page(self.page(), out)

    def _repr_html_(self) -> str:
        return self.fragment()


@dataclass
class PlayerRow:
    """Players side by side on one page (a lesson step in compare mode shows both panes); each keeps
    its own controls. The script is written once."""

    players: list[Player]
    title: str = "diffusion sandbox"

    def page(self) -> str:
        boxes, mounts = [], []
        for k, p in enumerate(self.players):
            boxes.append(f"<div class=\"dsw\" id=\"dsw-{k}\" style=\"flex: 1 1 420px; margin: 0\"></div>")
            data = to_json({**p.payload, "kind": p.kind})
            mounts.append(f"DSW.mount(document.getElementById({to_json(f'dsw-{k}')}), {data});")
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                f"<title>{html.escape(self.title)}</title><style>{asset('dsw.css')}</style></head>"
                "<body class=\"dsw-page\"><div style=\"display: flex; flex-wrap: wrap; gap: 16px; "
                "justify-content: center\">" + "".join(boxes) + "</div>"
                f"<script>{_script_safe(asset('dsw.js'))}\n" + "\n".join(mounts) + "</script></body></html>\n")

    def save(self, out: str | os.PathLike) -> Path:
        return _save_page(self.page(), out)


def _save_page(text: str, out: str | os.PathLike) -> Path:
    """Write a page to `out` (.html), atomically; returns the path."""
    from sandbox.fileio import atomic_path

    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"{out}: a web page is saved as .html, not '{out.suffix or '(none)'}'")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"{out}: folder '{folder}' does not exist")
    try:
        with atomic_path(out) as tmp:
            Path(tmp).write_text(text, encoding="utf-8")
    except OSError as e:
        raise UserError(f"{out}: cannot write ({e.strerror or type(e).__name__})") from None
    return out
