"""What arrives from AppState's worker threads, collected once a frame (`poll`): samples for a pane,
released paths, a judged or finished run, a saved recording, and the queued train-as-I-draw run;
`wait_idle` blocks until all of it is in (tests, lessons). Functions of the state (no mixin): every
attribute they use is AppState's."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import pane_actions, training_actions

if TYPE_CHECKING:
    from .state import AppState


def poll(st: "AppState") -> None:
    """Collect finished background work: samples, released paths, judged and finished runs."""
    for done in st._tasks.poll():
        if done.bug or done.error:
            if done.bug:
                st.bug(done.bug)
            else:
                st.say(str(done.error), "error")
            if done.tag == "judge":
                st._show_models()    # no verdict: the pane waiting for it shows the model it has
        elif done.tag.startswith("pane"):
            pane_actions.take_samples(st, int(done.tag[4:]), *done.value)
        elif done.tag.startswith("release"):
            pane_actions.take_released(st, done.value)
        elif done.tag == "judge":
            training_actions.on_judged(st, *done.value)
        elif done.tag == "record":
            st.say(f"saved {done.value}")
    for out in st.trainer.poll():
        training_actions.on_outcome(st, out)
    if st._live_pending and st.trainer.idle and not st.drawing.in_stroke:
        st._live_pending = False
        training_actions.train_live(st)


def wait_idle(st: "AppState", timeout: float = 60.0) -> None:
    """Block until sampling and training are finished, then collect them (tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st._tasks.wait(timeout)
        st.trainer.join(max(0.0, deadline - time.monotonic()))
        st._poll()
        if st._tasks.settled() and st.trainer.idle and not st._live_pending:  # busy() is False while a
            # result that the poll above started (a judged model's samples) waits to be collected
            return
    raise TimeoutError("background work did not finish")
