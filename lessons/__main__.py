"""`python -m lessons` lists the lessons; `python -m lessons NAME` opens the window on one.

With no display (no DISPLAY/WAYLAND_DISPLAY, or SDL_VIDEODRIVER=dummy) it prints the lesson and a
command that renders its animation without a window, and exits with status 1 (as
`diffusion-sandbox` does); `--print` prints it without trying the window. Exit 2 on a user mistake.
"""
from __future__ import annotations

import argparse
import sys

from sandbox.errors import UserError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lessons", description="Self-guided lessons in the diffusion sandbox.")
    p.add_argument("name", nargs="?", help="lesson id or number (omit to list them)")
    p.add_argument("--print", dest="print_only", action="store_true", help="print the lesson, do not open the window")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen")
    p.add_argument("--render", metavar="DIR",
                   help="no window: write each step's animation (GIF, MP4, PNG, web page) into DIR")
    p.add_argument("--size", default="960x600", metavar="WxH", help="--render frame size (default 960x600)")
    p.add_argument("--seconds", type=float, default=3.0, help="--render motion length in seconds (default 3)")
    return p


def render(names: list[str], out: str, size: str, seconds: float) -> int:
    from lessons import LESSONS, get_lesson
    from lessons.render import RenderOptions, render_lesson
    from sandbox.export import parse_size

    opts = RenderOptions(size=parse_size(size), seconds=float(seconds))
    if not 0 < opts.seconds <= 60:
        from sandbox.errors import UserError

        raise UserError(f"--seconds must be in (0, 60], got {seconds}")
    order = list(LESSONS)
    for name in names or order:
        lesson = get_lesson(name)
        render_lesson(lesson, out, opts, number=order.index(lesson.id) + 1)
    return 0


def list_lessons() -> str:
    from lessons import LESSONS

    from lessons import progress

    done = progress.done()
    lines = ["Lessons (open one with: diffusion-sandbox lesson NAME; [x] = finished):", ""]
    for i, (key, make) in enumerate(LESSONS.items(), 1):
        lesson = make()
        mark = "[x]" if key in done else "[ ]"
        lines.append(f"  {mark} {i}. {key:<18} {lesson.title.split('. ', 1)[-1]}: {lesson.goal}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.render:
            return render([args.name] if args.name else [], args.render, args.size, args.seconds)
        if not args.name:
            print(list_lessons())
            return 0
        from lessons import lesson_id
        from sandbox.cli.commands import display_available

        lesson_id(args.name)       # an unknown name: one line, and no window
        # the lessons import torch (3-10 s): where a window can open, it opens first and says so
        ok, why = (False, "") if args.print_only else display_available()
        if not ok:
            from lessons import get_lesson

            lesson = get_lesson(args.name)
            print(lesson.text())
            if args.print_only:
                return 0
            print(f"\nno display ({why}): run this on a machine with a screen to follow the lesson in the window.",
                  file=sys.stderr)
            return 1
        from sandbox.app.opening import LESSON_SIZE, fit_to_desktop, loading

        def load():
            from lessons import get_lesson
            from lessons.window import run

            return get_lesson(args.name), run

        size = fit_to_desktop(LESSON_SIZE)
        loaded = loading(load, size, "Diffusion sandbox: lesson")
        if loaded is None:         # closed while loading
            return 0
        from lessons.runner import LessonRunner

        lesson, run = loaded
        return int(run(LessonRunner(lesson), size=size, fullscreen=args.fullscreen) or 0)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
