"""Background work other than training: sampling for display and recording animations.

One worker thread runs the jobs in order; each job has a generation number so a result that an
newer request made stale (the user moved the steps slider again) is dropped. Results are picked
up by the main thread in `poll()`; nothing here touches pygame's display.
"""
from __future__ import annotations

import sys
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from sandbox.errors import UserError


@dataclass
class Done:
    tag: str
    value: Any = None
    error: str | None = None      # a user-facing message (UserError)
    bug: str | None = None        # an unexpected exception (counted by the window)


class Tasks:
    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-task")
        self._pending: list[tuple[str, int, Future]] = []
        self._gen: dict[str, int] = {}

    def submit(self, tag: str, fn: Callable[[], Any]) -> None:
        """Run fn() in the worker; an earlier job with the same tag becomes stale."""
        g = self._gen.get(tag, 0) + 1
        self._gen[tag] = g
        for t, _, fut in self._pending:
            if t == tag:
                fut.cancel()   # not started yet: it would only be dropped when it finished
        self._pending.append((tag, g, self._pool.submit(fn)))

    def busy(self, tag: str | None = None) -> bool:
        return any(not f.done() and (tag is None or t == tag) for t, _, f in self._pending)

    def settled(self) -> bool:
        """Nothing running and nothing finished that `poll()` has not collected: a job can finish between
        a poll and a `busy()` check, and its result would wait uncollected (`results.wait_idle`)."""
        return not self._pending

    def poll(self) -> list[Done]:
        out, keep = [], []
        for tag, g, fut in self._pending:
            if not fut.done():
                keep.append((tag, g, fut))
                continue
            if g != self._gen.get(tag):
                continue  # stale
            try:
                out.append(Done(tag, fut.result()))
            except UserError as e:
                out.append(Done(tag, error=str(e)))
            except Exception as e:  # noqa: BLE001 - reported, counted, never raised into the UI
                traceback.print_exception(type(e), e, e.__traceback__, file=sys.stderr)
                out.append(Done(tag, bug=f"{tag} failed: {type(e).__name__}: {e}"))
        self._pending = keep
        return out

    def wait(self, timeout: float = 60.0) -> None:
        """Block until every submitted job has finished (tests, quitting)."""
        for _, _, fut in list(self._pending):
            try:
                fut.result(timeout=timeout)
            except Exception:  # noqa: BLE001 - poll() reports it
                pass

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
