"""The score panel: training loss, the quality ratio against the data-vs-data baseline, a badge.

Drawn over the top right of the canvas; collapsible to its header (click it). Sizes follow the
canvas and the presenter scale; where the chart would take over 40% of the canvas's height (large
presenter scales on small screens) the panel is the header and the score in one line. The number
in the header and badge is `metrics.split_half` of the samples on screen against the drawing (the
lessons' number), so it belongs to the model shown and disappears when that model changes. The
curve is the training run's own score history as a ratio to its baseline, with the baseline drawn
as the reference line at 1x.
"""
from __future__ import annotations

import numpy as np
import pygame

from .draw import draw_text
from .labels import draw_text_fit
from .theme import Theme, blend

GRADE_COLORS = {"good": (0, 158, 115), "ok": (230, 159, 0), "poor": (213, 94, 0)}
# the chart may take this much of the canvas's height; taller (3x at 1024x768 drew a 544x300 chart over
# 63% of a 564x459 pane) it gives way to the one-line score
CHART_MAX = 0.4


def panel_rect(canvas: pygame.Rect, theme: Theme, top: int, collapsed: bool,
               history: bool = True) -> pygame.Rect:
    """Where the panel goes: right side of the canvas, below the pane headers at `top`.
    Without a training history (a shipped or loaded model) it is the header and one line."""
    pad = max(6, int(6 * theme.scale))
    # never narrower than its header: triangle, "training 600/600", the badge
    need = (theme.font(0.85).size("training 6000/6000")[0] + theme.font(0.75, True).size("good")[0]
            + 6 * pad + theme.font_px)
    lo = min(max(220 * theme.scale, need), canvas.w - 20)
    w = int(np.clip(canvas.w * 0.3, lo, max(lo, 440 * theme.scale)))
    head = int(theme.font_px * 1.6)
    if collapsed:
        h = head
    else:
        h = int(max(w * 0.55, head * 5)) if history else 0
        if h > canvas.h * CHART_MAX:    # no room for a chart (a large presenter scale on a small screen)
            h = 0
        h = h or int(head * 2.1)       # the header and the score in one line
    return pygame.Rect(canvas.right - w - 10, top, w, h)


def has_history(status) -> bool:
    return bool(status.running or len(status.losses) >= 2)


def draw(surf: pygame.Surface, rect: pygame.Rect, theme: Theme, status, score, collapsed: bool,
         eta: str = "") -> pygame.Rect:
    """Draw the panel; returns the header's rectangle (a click there collapses / expands).

    status: app.training.TrainStatus (losses, scores, baseline, step, total, running);
    score: the shown model's Score (ratio, grade) or None.
    """
    pygame.draw.rect(surf, blend(theme.background, theme.panel, 0.94), rect, border_radius=6)
    pygame.draw.rect(surf, theme.panel_border, rect, width=1, border_radius=6)
    head_h = int(theme.font_px * 1.6)
    head = pygame.Rect(rect.x, rect.y, rect.w, head_h)
    pad = max(6, int(6 * theme.scale))
    heads = header(status, score, eta)
    prev = surf.get_clip()
    surf.set_clip(rect)
    try:
        tri = max(4, int(theme.font_px * 0.3))      # a drawn triangle: the font has no arrow glyphs
        cx, cy = head.x + pad + tri, head.centery
        pts = ([(cx - tri // 2, cy - tri), (cx + tri // 2 + 1, cy), (cx - tri // 2, cy + tri)] if collapsed
               else [(cx - tri, cy - tri // 2), (cx + tri, cy - tri // 2), (cx, cy + tri // 2 + 1)])
        pygame.draw.polygon(surf, theme.text_dim, pts)
        right = head.right - pad
        font = theme.font(0.85)
        if score is not None:
            right = _badge_rect(theme, score.grade, (head.right - pad, head.centery)).x - pad
            if not status.running and font.size(heads[-1])[0] > right - (cx + 2 * tri):
                # no room for the number beside the badge (3x in a compare pane on 1024x768 drew
                # '0....'): the grade in words after the number, no badge
                heads, right = [f"{score.ratio:.2f}\u00d7 {score.grade}", heads[-1]], head.right - pad
            else:
                _badge(surf, theme, score.grade, (head.right - pad, head.centery))
        # the longest wording that fits between the triangle and the badge (presenter scale in a
        # compare pane leaves little room), never drawn under the badge
        room = right - (cx + 2 * tri)
        text = next((h for h in heads if font.size(h)[0] <= room), heads[-1])
        graded = score is None or right < head.right - pad or score.grade in text   # the grade is shown
        if font.size(text)[0] <= room:
            draw_text(surf, text, (cx + 2 * tri, head.centery), theme, mult=0.85, anchor="midleft")
        else:
            draw_text_fit(surf, text, (cx + 2 * tri, head.centery - font.get_height() // 2),
                          max(room, 1), theme, mult=0.85)
        if collapsed:
            return head
        if not has_history(status) or rect.h < 3 * head_h:     # the one-line form (see panel_rect)
            if score is not None:
                r = f"{score.ratio:.2f}\u00d7"
                lines = [f"samples vs data {r}  \u00b7  data vs data = 1\u00d7", f"samples vs data {r}",
                         f"vs data {r}"]
                if not graded:      # the header had room for the number only
                    g = score.grade
                    lines = [f"{g}: samples vs data {r}", f"{g} (data = 1\u00d7)", g]
                small = theme.font(0.7)
                line = next((t for t in lines if small.size(t)[0] <= rect.w - 2 * pad), lines[-1])
                draw_text_fit(surf, line, (head.x + pad, head.bottom + pad // 2), rect.w - 2 * pad, theme,
                              mult=0.7)
            return head
        plot = pygame.Rect(rect.x + int(theme.font_px * 2.6), head.bottom + pad,
                           rect.w - int(theme.font_px * 2.6) - pad,
                           rect.h - head_h - 2 * pad - int(theme.font_px * 1.3))
        if plot.w < 20 or plot.h < 20:
            return head
        _axes(surf, plot, theme)
        _curves(surf, plot, theme, status, score)
    finally:
        surf.set_clip(prev)
    return head


def header(status, score, eta: str = "") -> list[str]:
    """The header's wordings, longest first (the panel draws the longest that fits beside the badge)."""
    if status.running:
        run = f"training {status.step}/{status.total}"
        texts = [run + f"  \u00b7  {eta}", run, f"{status.step}/{status.total}"] if eta else \
            [run, f"{status.step}/{status.total}"]
        what = getattr(status, "message", "")      # "training DDPM (ε, linear)": which model, where there is room
        named = f"{what} {status.step}/{status.total}"
        return ([named + f"  \u00b7  {eta}"] if eta else []) + [named] + texts if what else texts
    if score is not None:
        return [f"score {score.ratio:.2f}\u00d7", f"{score.ratio:.2f}\u00d7"]
    return ["score"]


def _badge_rect(theme: Theme, grade: str, right_mid) -> pygame.Rect:
    w, h = theme.font(0.75, bold=True).size(grade)
    r = pygame.Rect(0, 0, w + int(10 * theme.scale), h + int(4 * theme.scale))
    r.midright = right_mid
    return r


def _badge(surf, theme: Theme, grade: str, right_mid) -> pygame.Rect:
    font = theme.font(0.75, bold=True)
    img = font.render(grade, True, (255, 255, 255))
    r = _badge_rect(theme, grade, right_mid)
    pygame.draw.rect(surf, GRADE_COLORS.get(grade, theme.text_dim), r, border_radius=r.h // 2)
    surf.blit(img, img.get_rect(center=r.center))
    return r


def _axes(surf, plot: pygame.Rect, theme: Theme) -> None:
    # the presenter scale thickens every line of the chart, as it does on the canvas (1 px at 2x read
    # as nothing from the back of a room)
    pygame.draw.line(surf, theme.text_dim, plot.bottomleft, plot.bottomright, theme.line_px)
    pygame.draw.line(surf, theme.text_dim, plot.bottomleft, plot.topleft, theme.line_px)


def ema(v: np.ndarray) -> np.ndarray:
    """Exponential moving average of a noisy per-batch curve (span ~ len / 30, at least 5)."""
    a = 2.0 / (1 + max(5, len(v) // 30))
    out = np.empty_like(v)
    acc = v[0]
    for i, x in enumerate(v):
        acc = a * x + (1 - a) * acc
        out[i] = acc
    return out


def title(score, theme: Theme, width: int) -> str:
    """The chart's title line: the longest wording of the shown model's score that fits `width` pixels
    (large presenter scales leave little room; the loss label sits under it)."""
    texts = [f"{lead}{score.ratio:.2f}\u00d7 ({score.grade})"
             for lead in ("shown model: samples vs data ", "samples vs data ", "")]
    return next((t for t in texts if theme.font(0.7).size(t)[0] <= width), texts[-1])


def _curves(surf, plot: pygame.Rect, theme: Theme, status, score) -> None:
    """Left axis: quality ratio (log, 0.8x..8x) with the 1x baseline line; loss (thin, its own
    scale, right-hand label); x: training step."""
    total = max(status.total, 1)
    lo, hi = np.log10(0.8), np.log10(8.0)

    def y_of(ratio):
        r = np.log10(np.clip(ratio, 0.8, 8.0))
        return plot.bottom - (r - lo) / (hi - lo) * plot.h

    # the data-vs-data baseline: 1x, where fresh data would score
    yb = int(y_of(1.0))
    dash = 4 * theme.line_px
    for x0 in range(plot.x, plot.right, 2 * dash):
        pygame.draw.line(surf, theme.accent, (x0, yb), (min(x0 + dash, plot.right), yb), theme.line_px)
    for tick in (1.0, 2.0, 4.0):
        draw_text(surf, f"{tick:g}\u00d7", (plot.x - 4, int(y_of(tick))), theme, mult=0.65,
                  anchor="midright", color=theme.text_dim)
    draw_text(surf, "step", (plot.right, plot.bottom + 2), theme, mult=0.65, anchor="topright",
              color=theme.text_dim)
    draw_text(surf, "0", (plot.x, plot.bottom + 2), theme, mult=0.65, anchor="topleft",
              color=theme.text_dim)
    losses = np.asarray(status.losses, dtype=np.float64)
    good = losses[np.isfinite(losses) & (losses > 0)]
    if len(good) >= 2:
        e = np.log10(ema(good))
        idx = np.linspace(0, len(e) - 1, min(len(e), max(plot.w, 2))).astype(int)
        y = e[idx]
        a, b = float(y.min()), float(y.max())
        b = a + 1 if b - a < 1e-6 else b
        xs = plot.x + idx / max(total - 1, 1) * plot.w
        ys = plot.bottom - (y - a) / (b - a) * plot.h * 0.9
        pygame.draw.lines(surf, blend(theme.background, theme.text_dim, 0.7), False,
                          np.stack([xs, ys], 1).tolist(), theme.line_px)
        top = plot.y if score is None else plot.y + theme.font(0.7).get_linesize()  # under the title line
        draw_text(surf, f"loss {np.exp(np.log(10) * e[-1]):.3g}", (plot.right, top), theme,
                  mult=0.65, anchor="topright", color=theme.text_dim)
    if status.scores and status.baseline:
        st = np.array([s for s, _ in status.scores], np.float64)
        r = np.array([v for _, v in status.scores], np.float64) / status.baseline
        pts = np.stack([plot.x + st / total * plot.w, y_of(r)], 1)
        if len(pts) >= 2:
            pygame.draw.lines(surf, theme.particle, False, pts.tolist(), max(1, theme.line_px))
        for p in pts:
            pygame.draw.circle(surf, theme.particle, p.tolist(), max(2, theme.point_px + 1))
    # at the left end (the score curve ends near 1x on the right), over the curves on the panel's colour:
    # the loss falls through 1x there and crossed the word out (seen at 2x on 1920x1080)
    label = theme.font(0.65).render("data", True, theme.accent)
    r = label.get_rect(bottomleft=(plot.x + 3 + theme.line_px, yb - 2))
    pygame.draw.rect(surf, blend(theme.background, theme.panel, 0.94), r.inflate(4, 0))
    surf.blit(label, r)
    if score is not None:
        draw_text(surf, title(score, theme, plot.w - 6), (plot.x + 6, plot.y), theme, mult=0.7, color=theme.text)
