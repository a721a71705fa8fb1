"""AppState's settings actions: pane A's and B's sampler settings and the training settings, checked,
with the hints about slow or poor choices said when a choice is made. Functions of the state (no
mixin): every attribute they use is AppState's."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sandbox.errors import UserError

from .settings import SAMPLERS_FOR, PaneSettings, TrainSettings

if TYPE_CHECKING:
    from .state import AppState


def set_pane_settings(st: "AppState", i: int, pane: PaneSettings, resample: bool = True) -> None:
    """Pane i's settings become `pane` (checked); with `resample`, the panes show the models they ask for."""
    pane = pane.checked()
    if i == 0:
        st.settings = replace(st.settings, pane=pane)
    else:
        st.settings = replace(st.settings, other=pane)
    st.panes[i].settings = pane
    if resample:
        st._show_models()


def set_pane(st: "AppState", i: int = 0, **changes: Any) -> None:
    """Change pane i's objective / prediction / schedule / sampler / steps.

    Choosing DDPM without naming the prediction and schedule lands on a DDPM model that
    exists (the shipped ones are ε + linear) rather than on an empty pane."""
    cur = st.panes[i].settings
    unknown = set(changes) - set(PaneSettings.__dataclass_fields__)
    if unknown:
        raise UserError(f"unknown setting {sorted(unknown)[0]!r}")
    new = replace(cur, **changes).checked()
    if (new.objective == "ddpm" and cur.objective != "ddpm" and "prediction" not in changes
            and "schedule" not in changes and new.model_key() not in st.models):
        have = [k for k in st.models if k[0] == "ddpm"]
        if have:
            new = replace(new, prediction=have[0][1], schedule=have[0][2])
    before = st.hints()
    set_pane_settings(st, i, new)
    if i == 0:
        say_new_hints(st, before)


def cycle_sampler(st: "AppState", i: int = 0, step: int = 1) -> None:
    cur = st.panes[i].settings
    names = SAMPLERS_FOR[cur.objective]
    k = (names.index(cur.sampler) + step) % len(names) if cur.sampler in names else 0
    st.set_pane(i, sampler=names[k])


def set_train(st: "AppState", **changes: Any) -> None:
    unknown = set(changes) - set(TrainSettings.__dataclass_fields__)
    if unknown:
        raise UserError(f"unknown training setting {sorted(unknown)[0]!r}")
    t = replace(st.settings.train, **changes).checked()
    before = st.hints()
    st.settings = replace(st.settings, train=t)
    say_new_hints(st, before)


def say_new_hints(st: "AppState", before: list[str]) -> None:
    """A choice known to train slowly or poorly is said when it is made, not only at Train."""
    for h in st.hints():
        if h not in before:
            st.say(h, "warn")


MAX_PARTICLES = 10_000


def set_guidance(st: "AppState", w: float) -> None:
    st.settings = replace(st.settings, guidance=float(np.clip(w, 0.0, 10.0)))
    st._show_models()


def set_class(st: "AppState", k: int) -> None:
    """Class to sample (-1 = all)."""
    st.settings = replace(st.settings, cls=int(k))
    st._show_models()


def set_particles(st: "AppState", n: int) -> None:
    st.settings = replace(st.settings, particles=int(np.clip(n, 10, MAX_PARTICLES)))
    st._new_noise()
    st._show_models()
