"""Which lessons the learner has finished, kept between runs in `lessons.json` in the sandbox's
cache folder (`sandbox.app.session.cache_dir()`: $DIFFUSION_SANDBOX_CACHE, else the user's cache).

Reading never fails (a missing or damaged file means "nothing done yet"); writing is atomic and a
folder that cannot be written costs the record, never the lesson: `mark_done` returns False.
"""
from __future__ import annotations

import json
from pathlib import Path

FILE = "lessons.json"


def path() -> Path:
    from sandbox.app.session import cache_dir

    return cache_dir() / FILE


def done() -> set[str]:
    """Ids of the finished lessons."""
    try:
        data = json.loads(path().read_text(encoding="utf-8"))
        return {str(k) for k in data.get("done", [])} if isinstance(data, dict) else set()
    except (OSError, ValueError):
        return set()


def mark_done(lesson_id: str) -> bool:
    """Record `lesson_id` as finished; False when the file cannot be written."""
    from sandbox.fileio import atomic_path

    ids = sorted(done() | {str(lesson_id)})
    from sandbox.errors import UserError

    try:
        with atomic_path(path(), make_parents=True) as tmp:
            tmp.write_text(json.dumps({"done": ids}, indent=1) + "\n", encoding="utf-8")
    except (OSError, UserError):
        return False
    return True


def next_lesson(lesson_id: str) -> str | None:
    """The id of the lesson after `lesson_id` in teaching order, or None after the last."""
    from lessons import LESSONS

    order = list(LESSONS)
    if lesson_id not in order:
        return None
    k = order.index(lesson_id) + 1
    return order[k] if k < len(order) else None
