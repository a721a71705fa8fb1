"""The texts drawn on a frame: the title that never runs past its width, the time label
('t = 0.42  ·  step 12/50', shorter where a pane is narrow) and the key of data and sample dots."""
from __future__ import annotations

import numpy as np
import pygame

from .draw import class_color_array, draw_text
from .theme import Theme, blend
from .timeline import locate, time_at
from .viewport import Viewport


def draw_legend(surface, vp: Viewport, theme: Theme, data_labels, sample_labels,
                 samples: bool, data: bool, avoid: pygame.Rect | None = None) -> pygame.Rect | None:
    """A small key at the bottom right: which dots are data and which are samples (above the
    time label `avoid` when the pane is too narrow for both on one line); returns where it went."""
    x, y, w, h = vp.rect
    font = theme.font(0.8)
    r = max(2, theme.point_px + 1)
    gap = int(6 * theme.scale)
    items = []
    if data:
        if data_labels is not None and len(data_labels):
            pal = theme.data_class_colors
            col = pal[int(np.asarray(data_labels).reshape(-1)[0]) % len(pal)]
        else:
            col = blend(theme.background, theme.data, theme.data_strength)
        items.append(("data", col))
    if samples:
        if sample_labels is not None and len(sample_labels):
            c = class_color_array(np.asarray(sample_labels)[:1], theme, theme.particle)[0]
            items.append(("samples", (int(c[0]), int(c[1]), int(c[2]))))
        else:
            items.append(("samples", theme.particle))
    if not items:
        return None
    widths = [font.size(t)[0] + 2 * r + gap for t, _ in items]
    total = sum(widths) + gap * (len(items) + 1)
    lh = font.get_linesize()
    box = pygame.Rect(x + w - total - gap, y + h - lh - 2 * gap, total, lh + gap)
    if avoid is not None and box.colliderect(avoid.inflate(gap, 0)):
        box.bottom = avoid.top - 2
    if box.x < x or box.y < y:
        return None
    pygame.draw.rect(surface, theme.background, box)
    cx = box.x + gap
    for (text, col), wd in zip(items, widths):
        pygame.draw.circle(surface, col, (cx + r, box.centery), r + (1 if text == "samples" else 0))
        img = font.render(text, True, theme.text_dim)
        surface.blit(img, img.get_rect(midleft=(cx + 2 * r + gap // 2, box.centery)))
        cx += wd + gap
    return box


def draw_text_fit(surface, text: str, pos, width: int, theme: Theme, bold: bool = False,
                  backdrop: bool = False, mult: float = 1.0, color=None) -> pygame.Rect:
    """draw_text that never runs past `width` pixels: a smaller size first, then an ellipsis
    (compare panes' headers must not run into each other)."""
    m = mult
    while m > 0.72 * mult and theme.font(m, bold).size(text)[0] > width:
        m -= 0.07
    font = theme.font(m, bold)
    if font.size(text)[0] > width:
        while len(text) > 1 and font.size(text + "\u2026")[0] > width:
            text = text[:-1]
        text = text.rstrip() + "\u2026"
    return draw_text(surface, text, pos, theme, bold=bold, backdrop=backdrop, mult=m, color=color)


def time_label(ts, progress: float) -> str:
    """'t = 0.42  ·  step 12/50' for the sampler times `ts` (S+1,) at `progress`."""
    return time_labels(ts, progress)[0]


def time_labels(ts, progress: float) -> list[str]:
    """The time label's wordings, longest first: 't = 0.42  ·  step 12/50', 't = 0.42  12/50', 't = 0.42'."""
    if ts is None:
        return [f"t = {1.0 - progress:.2f}"]
    S = len(ts) - 1
    i, f = locate(ts, progress)
    step = min(S, i + int(round(f)))
    t = f"t = {time_at(ts, progress):.2f}"
    return [f"{t}  \u00b7  step {step}/{S}", f"{t}  {step}/{S}", t]


def draw_time_label(surface, ts, progress: float, bottomleft, width: int, theme: Theme) -> pygame.Rect:
    """The longest wording of the time label that fits `width` (a narrow compare pane at presenter
    scale must not cut 'step 6/50' at its edge), shrunk or ellipsised only where none fits."""
    texts = time_labels(ts, progress)
    font = theme.font()
    text = next((t for t in texts if font.size(t)[0] <= width), None)
    if text is not None:
        return draw_text(surface, text, bottomleft, theme, anchor="bottomleft", backdrop=True)
    return draw_text_fit(surface, texts[-1], (bottomleft[0], bottomleft[1] - font.get_height()),
                         max(width, 1), theme, backdrop=True)
