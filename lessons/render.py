"""Every step of a lesson as its teaching animation, with no window: `diffusion-sandbox lesson N --render DIR`.

For each step: run its setup on a headless AppState (as the window would), then its `demo` (what a
learner does to pass), wait for the samplers, and draw `lessons.scene.draw_step` over the
progress of the animation into GIF and MP4 (sandbox.export's writers, atomic), a PNG still of the
step as its demo leaves it, and a self-contained HTML page (sandbox.web's player: the animation, or
the step's own, e.g. lesson 8's tree). Files are named `NN-<lesson id>-stepK.<ext>` in DIR.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

FORMATS = ("gif", "mp4", "png", "html")


@dataclass(frozen=True)
class RenderOptions:
    size: tuple[int, int] = (960, 600)
    fps: float = 20.0
    seconds: float = 3.0          # motion; plus half a second still at each end
    formats: tuple[str, ...] = ("gif", "mp4", "png", "html")
    theme: str = "dark"
    train_steps: int | None = None  # None: the window's defaults (lessons that train)


def make_state(out_dir: Path, train_steps: int | None = None, particles: int | None = None):
    """A headless AppState like the lesson window's: shipped models, no autosave, no auto-training."""
    from dataclasses import replace

    from sandbox.app.settings import Settings
    from sandbox.app.state import AppState

    s = Settings() if particles is None else Settings(particles=int(particles))
    if train_steps is not None:
        s = replace(s, train=replace(s.train, train_steps=int(train_steps)))
    return AppState(None, settings=s, load_shipped=True, auto_train=False, autosave=False, out_dir=out_dir)


def plan(step, fps: float, seconds: float) -> np.ndarray:
    """Progress of each frame: still, motion 0 -> 1 (1 -> 0 for a step that plays the forward
    process), still."""
    from sandbox.export import progress_plan

    p = progress_plan(fps, seconds, hold_start=0.5, hold_end=0.5)
    return 1.0 - p if getattr(step, "reverse", False) else p


def frames(step, state, progresses, size, theme, caption: str = "") -> Iterator[np.ndarray]:
    """(H, W, 3) uint8 frames of `step` at each progress, with `caption` at the top right."""
    import pygame

    from sandbox.export import surface_pixels
    from sandbox.view import RenderCache
    from sandbox.view.draw import draw_text

    from .scene import draw_step, pane_viewports

    surface = pygame.Surface(size, 0, 32)
    rect = pygame.Rect(0, 0, *size)
    vps = pane_viewports(state, rect)
    caches = [RenderCache() for _ in vps]
    last_p, last = None, None
    for p in progresses:
        if p != last_p:
            draw_step(step, state, surface, rect, theme, float(p), caches=caches, viewports=vps)
            if caption:
                pad = int(8 * theme.scale)
                y = rect.top + pad
                if len(vps) > 1 or step.scene is not None:  # several panes: the right one's header is up there
                    y += theme.font(1.0).get_linesize() + pad // 2
                draw_text(surface, caption, (rect.right - pad, y), theme, anchor="topright",
                          backdrop=True, mult=0.85)
            last_p, last = p, surface_pixels(surface)
        yield last


def web_player(step, state, title: str):
    """The step as sandbox.web's self-contained player: its own (`step.web`), else pane A's animation
    over the drawing, and pane B's beside it in compare mode (lesson 3's page showed only the flow pane);
    None when there is nothing to play."""
    if step.web is not None:
        return step.web(state, title)
    shown = [p.sampled for p in (state.panes[:2] if state.compare else state.panes[:1])]
    if any(s is None for s in shown):
        return None
    from sandbox.app.names import display
    from sandbox.web import trajectory_player
    from sandbox.web.page import PlayerRow

    d = state.drawing
    names = list(d.class_names) if d.num_classes > 1 else None
    players = [trajectory_player(s.traj, data=d.points if len(d) else None, class_names=names,
                                 title=title if len(shown) == 1 else
                                 f"{title} \u00b7 {display('objective', s.source.pane.objective)}")
               for s in shown]
    return players[0] if len(players) == 1 else PlayerRow(players, title)


def render_lesson(lesson, out_dir, options: RenderOptions = RenderOptions(), number: int | None = None,
                  state=None, say=print) -> list[Path]:
    """Write every step's animation of `lesson` into `out_dir`; returns the files written."""
    from lessons.lesson import train_if_missing
    from lessons.runner import LessonRunner
    from sandbox.errors import UserError
    from sandbox.export import write_frames
    from sandbox.view import Theme

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: is a file, not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    bad = [f for f in options.formats if f not in FORMATS]
    if bad:
        raise UserError(f"unknown format {bad[0]!r}; choose from {', '.join(FORMATS)}")
    w, h = options.size
    if "mp4" in options.formats and (w % 2 or h % 2):
        raise UserError(f"MP4 needs an even width and height, got {w}x{h}")
    own = state is None
    st = make_state(out_dir, options.train_steps) if own else state
    theme = Theme.named(options.theme).scaled(min(options.size) / 720)
    runner = LessonRunner(lesson)
    written: list[Path] = []
    prefix = f"{number:02d}-{lesson.id}" if number is not None else lesson.id
    try:
        for k, step in enumerate(lesson.steps, 1):
            runner.enter(k - 1, st)    # as Next would, without needing the previous check to pass
            st.wait_idle(600)
            if runner.result is not None and not runner.result.passed:
                raise UserError(f"lesson {lesson.id} step {k}: {runner.result.feedback}")
            if step.demo is not None:
                step.demo(st)
                st.wait_idle(600)
            if len(st.drawing) and step.scene is None:
                train_if_missing(st)     # as the window's auto-training would: a drawing comes to life
                st.wait_idle(600)
            if st.errors:
                raise UserError(f"lesson {lesson.id} step {k}: {st.messages[-1].text if st.messages else 'error'}")
            progresses = plan(step, options.fps, options.seconds)
            caption = f"{lesson.title}  \u00b7  step {k}/{len(lesson.steps)}"
            for fmt in options.formats:
                path = out_dir / f"{prefix}-step{k}.{fmt}"
                if fmt == "html":
                    player = web_player(step, st, caption)
                    if player is None:
                        continue
                    written.append(player.save(path))
                elif fmt == "png":   # the step as the learner leaves it (the end, if it plays)
                    at = 1.0 if st.playing else st.progress
                    still = next(frames(step, st, [at], options.size, theme, caption))
                    written.append(write_frames([still], path, options.fps))
                else:
                    written.append(write_frames(frames(step, st, progresses, options.size, theme, caption), path,
                                                options.fps))
                say(f"wrote {path}")
    finally:
        if own:
            st.close()
    return written
