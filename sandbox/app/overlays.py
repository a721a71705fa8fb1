"""Things drawn over the canvas: live loss chart, messages (toasts), tooltips, help, restore banner."""
from __future__ import annotations

import numpy as np
import pygame

from sandbox.view.draw import draw_text
from sandbox.view.score_panel import ema
from sandbox.view.theme import Theme, blend

from .keys import help_rows
from .widgets import text_image


def _box(surf, theme: Theme, rect, alpha_blend: float = 0.92) -> None:
    pygame.draw.rect(surf, blend(theme.background, theme.panel, alpha_blend), rect, border_radius=6)
    pygame.draw.rect(surf, theme.panel_border, rect, width=1, border_radius=6)


def loss_chart(surf, rect: pygame.Rect, theme: Theme, status) -> None:
    """Live loss (log scale, smoothed) and the quality score against the data-vs-data baseline."""
    losses = np.asarray(status.losses, dtype=np.float64)
    if len(losses) < 2 and not status.running:
        return
    _box(surf, theme, rect)
    pad = max(6, rect.h // 14)
    title = f"loss  step {status.step}/{status.total}"
    draw_text(surf, title, (rect.x + pad, rect.y + pad // 2), theme, mult=0.8, color=theme.text_dim)
    plot = pygame.Rect(rect.x + pad, rect.y + pad + theme.font_px, rect.w - 2 * pad,
                       rect.h - 2 * pad - 2 * theme.font_px)
    if status.total > 0:  # progress bar along the bottom of the plot
        frac = min(1.0, status.step / status.total)
        pygame.draw.rect(surf, theme.accent, (plot.x, plot.bottom + 2, int(plot.w * frac), 3))
    good = losses[np.isfinite(losses) & (losses > 0)]
    if len(good) >= 2:
        # exponential moving average (per-batch loss is noisy), then thin to <= plot width points
        smooth = ema(good)
        idx = np.linspace(0, len(smooth) - 1, min(len(smooth), max(plot.w, 2))).astype(int)
        y = np.log10(smooth[idx])
        lo, hi = float(y.min()), float(y.max())
        if hi - lo < 1e-6:
            hi = lo + 1
        xs = plot.x + np.linspace(0, plot.w, len(y))
        ys = plot.bottom - (y - lo) / (hi - lo) * plot.h
        pygame.draw.lines(surf, theme.particle, False, np.stack([xs, ys], 1).tolist(), theme.line_px)
        draw_text(surf, f"{smooth[-1]:.4f}", (plot.right, plot.y), theme, mult=0.75, anchor="topright")
    if status.scores:
        s = status.scores[-1][1]
        txt = f"score {s:.3f}"
        if status.baseline:
            txt += f"  (data vs data {status.baseline:.3f}, ratio {s / status.baseline:.2f})"
        draw_text(surf, txt, (rect.x + pad, rect.bottom - pad // 2), theme, mult=0.75,
                  anchor="bottomleft", color=theme.text)


def wrap(text: str, font, width: int) -> list[str]:
    """Greedy word wrap to `width` pixels (a word longer than the line gets a line of its own)."""
    lines, line = [], ""
    for word in str(text).split():
        trial = f"{line} {word}" if line else word
        if line and font.size(trial)[0] > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + [line] if line else lines


def toasts(msgs, limit: int = 3) -> list[tuple[str, str, int]]:
    """What the toast stack shows: (text, level, repeats), newest last. A message repeated (a held
    key, a retried action) shows once with a count, and at most `limit` show at once."""
    out: list[list] = []
    for m in msgs:
        if out and out[-1][0] == m.text:
            out[-1][2] += 1
        else:
            out = [o for o in out if o[0] != m.text] + [[m.text, m.level, 1]]
    return [tuple(o) for o in out[-limit:]]


def messages(surf, rect: pygame.Rect, theme: Theme, msgs,
             avoid: pygame.Rect | None = None) -> list[pygame.Rect]:
    """Recent messages stacked above the bottom of the canvas, wrapped to its width; the oldest
    are dropped rather than drawn over the pane titles. Returns the boxes drawn."""
    font = theme.font(0.9)
    pad = max(3, theme.font_px // 4)
    width = max(40, min(rect.w - 4 * pad, theme.font_px * 40))
    y = rect.bottom - pad
    boxes = []
    for text, level, n in reversed(toasts(msgs)):
        col = theme.error if level == "error" else (theme.highlight if level == "warn" else theme.text)
        lines = wrap(text[:240] + (f"  (\u00d7{n})" if n > 1 else ""), font, width)[:3]
        lh = font.get_linesize()
        box = pygame.Rect(0, 0, max(font.size(t)[0] for t in lines) + 2 * pad, lh * len(lines) + pad)
        box.midbottom = (rect.centerx, y)
        if box.top < rect.top or (avoid is not None and box.colliderect(avoid)):
            break     # older messages give way to the pane titles and the score panel
        pygame.draw.rect(surf, theme.background, box, border_radius=4)
        pygame.draw.rect(surf, blend(theme.background, col, 0.5), box, width=1, border_radius=4)
        for k, t in enumerate(lines):
            img = font.render(t, True, col)
            surf.blit(img, img.get_rect(midtop=(box.centerx, box.y + pad // 2 + k * lh)))
        boxes.append(box)
        y = box.top - pad
    return boxes


def tooltip(surf, text: str, pos, anchor: pygame.Rect, theme: Theme) -> pygame.Rect:
    """A wrapped tooltip below (or above) the control at `anchor`, kept inside the window."""
    font = theme.font(0.85)
    pad = max(4, theme.font_px // 3)
    W, H = surf.get_size()
    width = max(80, min(theme.font_px * 22, W - 4 * pad))
    lines = wrap(text, font, width)
    lh = font.get_linesize()
    box = pygame.Rect(0, 0, max(font.size(t)[0] for t in lines) + 2 * pad, lh * len(lines) + pad)
    box.topleft = (pos[0] + theme.font_px // 2, anchor.bottom + 4)
    if box.bottom > H - 2:
        box.bottom = anchor.top - 4
    box.right = min(box.right, W - 2)
    box.left = max(box.left, 2)
    box.top = max(box.top, 2)
    pygame.draw.rect(surf, blend(theme.background, theme.panel, 0.5), box, border_radius=5)
    pygame.draw.rect(surf, theme.accent, box, width=1, border_radius=5)
    for k, t in enumerate(lines):
        surf.blit(font.render(t, True, theme.text), (box.x + pad, box.y + pad // 2 + k * lh))
    return box


def help_overlay(surf, rect: pygame.Rect, theme: Theme) -> pygame.Rect:
    """All shortcuts, in as many columns as the window height needs; the text shrinks (down to a
    readable minimum) until the columns fit the window, so a large presenter scale clips nothing."""
    rows = help_rows()
    title = "Keyboard and mouse   (H or Esc closes)"
    # relative steps, then on down to 9 px: 3x on a 1024x768 projector ran 187 px off both sides at 0.36
    mults = [0.85, 0.75, 0.65, 0.56, 0.48, 0.42, 0.36]
    while theme.font_px * mults[-1] * 0.9 >= 9:
        mults.append(mults[-1] * 0.9)
    for mult in mults:
        font = theme.font(mult)
        lh = int(font.get_linesize() * 1.1)
        key_w = max(font.size(k)[0] for k, _ in rows) + lh
        what_w = max(font.size(w)[0] for _, w in rows) + lh
        head = lh * 2 + 10
        per_col = max(1, (rect.h - 40 - head) // lh)
        ncol = -(-len(rows) // per_col)
        per_col = -(-len(rows) // ncol)
        w = ncol * (key_w + what_w) + 24
        if w <= rect.w - 20 and theme.font(mult, True).size(title)[0] + 24 <= rect.w - 20:
            break
    box = pygame.Rect(0, 0, w, head + per_col * lh + 16)   # the test checks it fits the window
    box.center = rect.center
    _box(surf, theme, box, 1.0)
    prev = surf.get_clip()
    surf.set_clip(box)
    draw_text(surf, title, (box.x + 12, box.y + 10), theme, bold=True, mult=mult / 0.85)
    for k, (keys, what) in enumerate(rows):
        c, r = divmod(k, per_col)
        x, y = box.x + 12 + c * (key_w + what_w), box.y + head + r * lh
        draw_text(surf, keys, (x, y), theme, mult=mult, color=theme.accent)
        draw_text(surf, what, (x + key_w, y), theme, mult=mult)
    surf.set_clip(prev)
    return box


def restore_banner(surf, rect: pygame.Rect, theme: Theme, n_points: int,
                   avoid: pygame.Rect | None = None) -> tuple[pygame.Rect, pygame.Rect, pygame.Rect]:
    """'Restore your unsaved drawing?' with two buttons; returns the (restore, dismiss, whole box)
    rects. The buttons go under the question when the canvas is too narrow for one line; the box
    keeps clear of `avoid` (the score panel)."""
    font = theme.font(1.0)
    text = f"Restore your unsaved drawing ({n_points} points)?"
    lh = int(theme.font_px * 2)
    pad = max(6, theme.font_px // 2)
    bw = max(font.size(t)[0] for t in ("restore", "dismiss")) + 2 * pad
    tw = font.size(text)[0]
    one_line = tw + 2 * bw + 5 * pad <= rect.w - 20
    width = tw + 2 * bw + 5 * pad if one_line else min(rect.w - 20, max(tw, 2 * bw + pad) + 2 * pad)
    box = pygame.Rect(0, 0, width, (lh + 2 * pad) if one_line else (2 * lh + 3 * pad))
    box.midtop = (rect.centerx, rect.y + lh + 8)
    if avoid is not None and box.colliderect(avoid):   # the score panel: beside it, else below it
        if avoid.left - 8 - box.w >= rect.x + 8:
            box.right = avoid.left - 8
        else:
            box.top = avoid.bottom + 8
    # never past the canvas (3x on 1024x768 put it over the time bar's buttons): over the chart instead
    box.bottom = min(box.bottom, rect.bottom - 4)
    box.top = max(box.top, rect.y)
    _box(surf, theme, box, 1.0)
    img = text_image(theme, text, theme.text, 1.0, max_w=box.w - 2 * pad)
    surf.blit(img, img.get_rect(midleft=(box.x + pad, box.y + pad + lh // 2)))
    by = box.y + pad if one_line else box.y + 2 * pad + lh
    dismiss = pygame.Rect(box.right - bw - pad, by, bw, lh)
    restore = pygame.Rect(dismiss.x - bw - pad, by, bw, lh)
    for r, t, on in ((restore, "restore", True), (dismiss, "dismiss", False)):
        pygame.draw.rect(surf, theme.accent if on else theme.panel, r, border_radius=4)
        pygame.draw.rect(surf, theme.panel_border, r, width=1, border_radius=4)
        draw_text(surf, t, r.center, theme, anchor="center", color=theme.background if on else theme.text)
    return restore, dismiss, box
