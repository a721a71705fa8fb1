"""Trajectory -> MP4 / GIF animation or PNG still, drawn by the same `render_frame` as the window.

Frames are rendered offscreen (a plain pygame.Surface needs no display), read back as (H, W, 3)
uint8 and streamed to imageio-ffmpeg (H.264, yuv420p) or collected for a GIF with one shared
palette (so colours do not flicker between frames). Motion is smooth at any frame rate because
`render_frame` interpolates between sampler steps. Files are written to a temporary name in the
target folder and moved into place with `os.replace`, so a crash never leaves half a file.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from sandbox import limits
from sandbox.fileio import atomic_path, check_writable
from sandbox.errors import UserError  # noqa: E402
from sandbox.view import RenderCache, Theme, ViewOptions, Viewport, render_frame  # noqa: E402

ANIMATION_EXTS = (".mp4", ".gif")
MIN_SIDE, MAX_SIDE = limits.FRAME_SIDE


def parse_size(text: str | tuple[int, int]) -> tuple[int, int]:
    """'1280x720' (or a (w, h) pair) -> (1280, 720); UserError unless 16 <= w, h <= 3840."""
    if isinstance(text, str):
        parts = text.lower().replace("×", "x").split("x")
        try:
            w, h = (int(p) for p in parts)
        except ValueError:
            raise UserError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 1280x720") from None
    else:
        w, h = (int(v) for v in text)
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise UserError(f"size {w}x{h} is out of range; width and height must be "
                        f"{MIN_SIDE}..{MAX_SIDE} pixels")
    return w, h


def check_animation(out: Path, size) -> tuple[int, int]:
    """UserError unless `out` is .mp4/.gif and `size` suits it; returns (W, H)."""
    ext = Path(out).suffix.lower()
    if ext not in ANIMATION_EXTS:
        raise UserError(f"{out}: unknown animation type '{ext or '(none)'}'; use .mp4 or .gif")
    size = parse_size(size)
    if ext == ".mp4" and (size[0] % 2 or size[1] % 2):
        raise UserError(f"MP4 (H.264) needs an even width and height, got {size[0]}x{size[1]}")
    return size


def progress_plan(fps: float, seconds: float | None = None, frames: int | None = None,
                  hold_start: float = 0.5, hold_end: float = 1.0) -> np.ndarray:
    """Progress (0 noise -> 1 data) of every frame: a still start, the motion, a still end.

    frames (motion frames) wins over seconds; holds are in seconds. Returns (F,) float64.
    """
    if not (0 < fps <= 120):
        raise UserError(f"frame rate must be in (0, 120], got {fps}")
    if frames is None:
        if seconds is None or not (0 < seconds <= 600):
            raise UserError(f"seconds must be in (0, 600], got {seconds}")
        frames = int(round(seconds * fps))
        if frames < 2:   # render --seconds 0.01 (inside its range) said only "got 0"
            raise UserError(f"{seconds:g} seconds at {fps:g} frames per second is {frames} frames of motion; "
                            f"an animation needs at least 2: give at least {2 / fps:.2g} seconds")
    if frames < 2:
        raise UserError(f"an animation needs at least 2 frames of motion, got {frames}")
    if hold_start < 0 or hold_end < 0:
        raise UserError("hold times must be >= 0")
    motion = np.linspace(0.0, 1.0, frames)
    return np.concatenate([np.zeros(int(round(hold_start * fps))), motion,
                           np.ones(int(round(hold_end * fps)))])


def fit_viewport(size: tuple[int, int], traj=None, data=None, margin: float = 1.1) -> Viewport:
    """A viewport centred on the samples and data that also shows the noise.

    Extremes are cut at quantiles, so a few far outliers do not shrink the picture.
    """
    w, h = size
    xs = None
    if traj is not None:
        xs = traj.xs.detach().cpu().numpy() if hasattr(traj.xs, "detach") else np.asarray(traj.xs)
    targets = [] if xs is None else [xs[-1]]
    if data is not None:
        targets.append(np.asarray(getattr(data, "points", data)))
    everything = targets + ([] if xs is None else [xs[0]])
    if not everything:
        return Viewport((0, 0, w, h), (0.0, 0.0), 3.0)

    def finite(clouds):
        p = np.concatenate([c.reshape(-1, 2) for c in clouds]).astype(np.float64)
        return p[np.isfinite(p).all(axis=1)]

    goal, allp = finite(targets or everything), finite(everything)
    if len(allp) == 0:
        return Viewport((0, 0, w, h), (0.0, 0.0), 3.0)
    if len(goal) == 0:
        goal = allp
    center = 0.5 * (np.quantile(goal, 0.005, axis=0) + np.quantile(goal, 0.995, axis=0))
    # 1% / 99%: the data gets more of the frame; a few noise points may start outside
    lo, hi = np.quantile(allp, 0.01, axis=0), np.quantile(allp, 0.99, axis=0)
    half = np.maximum(np.abs(lo - center), np.abs(hi - center)) * margin
    # the shorter side of the frame spans 2 * half_extent (Viewport): fit both axes
    he = max(half[0] * min(w, h) / w, half[1] * min(w, h) / h, 0.5)
    return Viewport((0, 0, w, h), (float(center[0]), float(center[1])), float(he))


def _theme_for(theme: Theme | None, size: tuple[int, int]) -> Theme:
    theme = Theme() if theme is None else theme
    return theme.scaled(theme.scale * min(size) / 720)  # text and lines keep their share of the frame


def surface_pixels(surface: pygame.Surface) -> np.ndarray:
    """(H, W, 3) uint8 copy of the surface's pixels."""
    return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))


def iter_frames(traj, progresses, *, size: tuple[int, int] = (1280, 720), data=None,
                options: ViewOptions = ViewOptions(), theme: Theme | None = None,
                label: str | None = None, traces: int = 100,
                viewport: Viewport | None = None) -> Iterator[np.ndarray]:
    """Yield one (H, W, 3) uint8 frame per progress value; repeated values are not redrawn.

    traj and data share one coordinate system (the CLI uses the model's canonical one). A list of
    trajectories (and of labels) is drawn as panes side by side, at one scale (render --compare).
    """
    size = parse_size(size)
    theme = _theme_for(theme, size)
    panes = list(traj) if isinstance(traj, (list, tuple)) else [traj]
    labels = list(label) if isinstance(label, (list, tuple)) else [label] * len(panes)
    vps = [viewport] if viewport is not None and len(panes) == 1 else _pane_viewports(size, panes, data)
    surface = pygame.Surface(size, 0, 32)
    caches = [RenderCache() for _ in panes]
    last_p: float | None = None
    last = np.zeros((size[1], size[0], 3), np.uint8)
    for p in progresses:
        if p != last_p:
            if len(panes) > 1:
                surface.fill(theme.panel_border)   # the gap between the panes
            for vp, t, lab, cache in zip(vps, panes, labels, caches):
                render_frame(surface, vp, t, float(p), data=data, options=options, theme=theme,
                             label=lab, traces=traces, cache=cache)
            last_p, last = p, surface_pixels(surface)
        yield last


def _pane_viewports(size: tuple[int, int], panes: list, data) -> list[Viewport]:
    """One viewport per pane, side by side with a 4 px gap, all centred and scaled alike (fitted to
    every pane's noise and samples) so the panes compare at a glance."""
    w, h = size
    k, gap = len(panes), 4 if len(panes) > 1 else 0
    pw = (w - gap * (k - 1)) // k

    def ends(i):
        return np.concatenate([np.asarray(t.xs[i].detach().cpu() if hasattr(t.xs, "detach") else t.xs[i])
                               for t in panes])
    from types import SimpleNamespace

    fit = fit_viewport((pw, h), SimpleNamespace(xs=np.stack([ends(0), ends(-1)])), data)
    return [Viewport((i * (pw + gap), 0, pw, h), fit.center, fit.half_extent) for i in range(k)]


def export_animation(traj, out_path: str | os.PathLike, *, size=(1280, 720), fps: float = 30,
                     seconds: float | None = 6.0, frames: int | None = None,
                     hold_start: float = 0.5, hold_end: float = 1.0, data=None,
                     options: ViewOptions = ViewOptions(), theme: Theme | None = None,
                     label: str | None = None, traces: int = 100,
                     viewport: Viewport | None = None, progress_bar: bool | None = None) -> Path:
    """Write the animation of `traj` (noise -> data) to .mp4 or .gif; returns the path.

    size: (W, H) or 'WxH'; seconds or frames: duration of the motion; hold_start/hold_end:
    seconds of still frames at noise / at the samples. progress_bar: None = a bar on a terminal only
    (the command line), True = always (`Animation.save(progress=True)` in a notebook), False = none.
    """
    out = Path(out_path)
    ext = out.suffix.lower()
    size = check_animation(out, size)
    check_writable(out)   # before any frame is drawn (ffmpeg would report a read-only folder as noise)
    plan = progress_plan(fps, seconds, frames, hold_start, hold_end)
    frames_iter = iter_frames(traj, plan, size=size, data=data, options=options, theme=theme,
                              label=label, traces=traces, viewport=viewport)
    from sandbox.progress import progress_bar as make_bar

    bar = make_bar(frames_iter, show=progress_bar, total=len(plan), unit="frame", desc=f"render {out.name}",
                   leave=False)
    with atomic_path(out) as tmp:
        (_write_mp4 if ext == ".mp4" else _write_gif)(bar, tmp, fps)
    return out


def _write_mp4(frames, path: Path, fps: float) -> None:
    import imageio.v2 as imageio

    writer = imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                pixelformat="yuv420p", quality=6.5, macro_block_size=2,
                                output_params=["-movflags", "+faststart"], ffmpeg_log_level="error")
    try:
        for frame in frames:
            writer.append_data(frame)
    finally:
        writer.close()


def _write_gif(frames, path: Path, fps: float) -> None:
    """GIF through Pillow: one palette for all frames, loop forever, exact average frame rate."""
    from PIL import Image

    images, palette = [], None
    for frame in frames:
        img = Image.fromarray(frame)
        if palette is None:  # the first frame has the background, the data, text and the noise
            palette = img.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
        images.append(img.quantize(palette=palette, dither=Image.Dither.NONE))
    # GIF delays are in 1/100 s: round the cumulative time so the average rate is exact
    stamps = np.round(np.arange(len(images) + 1) * 100.0 / fps).astype(int)
    durations = (np.diff(stamps) * 10).tolist()
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], loop=0,
                   duration=durations, optimize=False, disposal=1)


def export_frame(traj, out_path: str | os.PathLike, *, progress: float = 1.0, size=(1280, 720),
                 data=None, options: ViewOptions = ViewOptions(), theme: Theme | None = None,
                 label: str | None = None, traces: int = 100,
                 viewport: Viewport | None = None) -> Path:
    """Write one frame at `progress` as a PNG (screenshots, README pictures); returns the path."""
    out = Path(out_path)
    if out.suffix.lower() != ".png":
        raise UserError(f"{out}: a still frame is saved as .png, not '{out.suffix or '(none)'}'")
    frame = next(iter_frames(traj, [progress], size=size, data=data, options=options, theme=theme,
                             label=label, traces=traces, viewport=viewport))
    from PIL import Image

    with atomic_path(out) as tmp:
        Image.fromarray(frame).save(tmp, format="PNG")
    return out


def write_frames(frames, out_path: str | os.PathLike, fps: float = 30) -> Path:
    """Write (H, W, 3) uint8 frames drawn by anyone (lessons' scenes) to .mp4, .gif or .png (the
    first frame), atomically; returns the path."""
    out = Path(out_path)
    ext = out.suffix.lower()
    if ext not in ANIMATION_EXTS + (".png",):
        raise UserError(f"{out}: unknown output type '{ext or '(none)'}'; use .mp4, .gif or .png")
    check_writable(out)
    with atomic_path(out) as tmp:
        if ext == ".png":
            from PIL import Image

            Image.fromarray(next(iter(frames))).save(tmp, format="PNG")
        else:
            (_write_mp4 if ext == ".mp4" else _write_gif)(frames, tmp, fps)
    return out
