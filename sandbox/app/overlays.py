"""Things drawn over the canvas: status line, live loss chart, messages, help, restore banner."""
from __future__ import annotations

import numpy as np
import pygame

from sandbox.view.draw import draw_text
from sandbox.view.theme import Theme, blend

from .keys import help_rows


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
        a = 2.0 / (1 + max(5, len(good) // 30))
        ema = np.empty_like(good)
        acc = good[0]
        for i, v in enumerate(good):
            acc = a * v + (1 - a) * acc
            ema[i] = acc
        idx = np.linspace(0, len(ema) - 1, min(len(ema), max(plot.w, 2))).astype(int)
        y = np.log10(ema[idx])
        lo, hi = float(y.min()), float(y.max())
        if hi - lo < 1e-6:
            hi = lo + 1
        xs = plot.x + np.linspace(0, plot.w, len(y))
        ys = plot.bottom - (y - lo) / (hi - lo) * plot.h
        pygame.draw.lines(surf, theme.particle, False, np.stack([xs, ys], 1).tolist(), theme.line_px)
        draw_text(surf, f"{ema[-1]:.4f}", (plot.right, plot.y), theme, mult=0.75, anchor="topright")
    if status.scores:
        s = status.scores[-1][1]
        txt = f"score {s:.3f}"
        if status.baseline:
            txt += f"  (data vs data {status.baseline:.3f}, ratio {s / status.baseline:.2f})"
        draw_text(surf, txt, (rect.x + pad, rect.bottom - pad // 2), theme, mult=0.75,
                  anchor="bottomleft", color=theme.text)


def messages(surf, rect: pygame.Rect, theme: Theme, msgs) -> None:
    """Recent messages stacked above the bottom of the canvas."""
    y = rect.bottom - 8
    for m in reversed(msgs):
        col = theme.error if m.level == "error" else (theme.highlight if m.level == "warn" else theme.text)
        r = draw_text(surf, m.text[:160], (rect.centerx, y), theme, mult=0.9, anchor="midbottom",
                      backdrop=True, color=col)
        y = r.top - 6


def help_overlay(surf, rect: pygame.Rect, theme: Theme) -> None:
    """All shortcuts, in as many columns as the window height needs."""
    rows = help_rows()
    mult = 0.85
    font = theme.font(mult)
    lh = int(font.get_linesize() * 1.1)
    key_w = max(font.size(k)[0] for k, _ in rows) + 16
    what_w = max(font.size(w)[0] for _, w in rows) + 24
    head = lh * 2 + 10
    per_col = max(1, (rect.h - 40 - head) // lh)
    ncol = -(-len(rows) // per_col)
    per_col = -(-len(rows) // ncol)
    box = pygame.Rect(0, 0, min(rect.w - 20, ncol * (key_w + what_w) + 24), head + per_col * lh + 16)
    box.center = rect.center
    _box(surf, theme, box, 1.0)
    prev = surf.get_clip()
    surf.set_clip(box)
    draw_text(surf, "Keyboard and mouse   (H or Esc closes)", (box.x + 12, box.y + 10), theme, bold=True)
    for k, (keys, what) in enumerate(rows):
        c, r = divmod(k, per_col)
        x, y = box.x + 12 + c * (key_w + what_w), box.y + head + r * lh
        draw_text(surf, keys, (x, y), theme, mult=mult, color=theme.accent)
        draw_text(surf, what, (x + key_w, y), theme, mult=mult)
    surf.set_clip(prev)


def restore_banner(surf, rect: pygame.Rect, theme: Theme, n_points: int) -> tuple[pygame.Rect, pygame.Rect]:
    """'Restore your unsaved drawing?' with two buttons; returns (restore, dismiss) rects."""
    lh = int(theme.font_px * 2)
    box = pygame.Rect(0, 0, min(rect.w - 20, theme.font_px * 34), lh + 16)
    box.midtop = (rect.centerx, rect.y + lh + 8)
    _box(surf, theme, box, 1.0)
    draw_text(surf, f"Restore your unsaved drawing ({n_points} points)?", (box.x + 12, box.centery),
              theme, anchor="midleft")
    bw = theme.font_px * 5
    dismiss = pygame.Rect(box.right - bw - 8, box.y + 8, bw, lh)
    restore = pygame.Rect(dismiss.x - bw - 8, box.y + 8, bw, lh)
    for r, t, on in ((restore, "restore", True), (dismiss, "dismiss", False)):
        pygame.draw.rect(surf, theme.accent if on else theme.panel, r, border_radius=4)
        draw_text(surf, t, r.center, theme, anchor="center", color=theme.background if on else theme.text)
    return restore, dismiss
