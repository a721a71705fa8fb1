"""What a drawn picture claims to be: the model object and the settings that produced it.

Every `Sampled` the window draws carries a `Source`. The window's promise (issue 9, item 1) is
checked by `violations(state)`: a pane shows either samples whose source is the model the pane's
settings ask for *now* (the very object in `state.models`), a labelled preview of the run that is
training that model, or nothing with a note that says why ("no model for these settings — Train").
The property test drives random action sequences and calls it after every action.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .settings import PaneSettings

if TYPE_CHECKING:
    from .state import AppState

NO_MODEL = "model for these settings \u2014 press Train"


def no_model_note(pane: PaneSettings) -> str:
    """The empty pane's note, e.g. 'no DDPM (ε, cosine) model for these settings — press Train'."""
    return f"no {pane.title().split(' · ')[0]} {NO_MODEL}"


@dataclass(frozen=True, eq=False)
class Source:
    """Identity of a sampled picture. `model` is compared by identity (`is`), never by value."""

    model: Any                    # the model object sampled (a DiffusionModel or ExactModel)
    pane: PaneSettings            # objective / prediction / schedule / sampler / steps
    guidance: float
    cls: int
    noise: tuple[int, int]        # (noise seed, particles): which initial noise
    preview_run: int = 0          # > 0: a preview of training run number `preview_run`

    def shows(self, model: Any) -> bool:
        return self.preview_run == 0 and self.model is model

    def settings_match(self, pane: PaneSettings, guidance: float, cls: int,
                       noise: tuple[int, int]) -> bool:
        """The exact settings (not only the model) are the current ones."""
        return (self.pane == pane and self.guidance == guidance and self.cls == cls
                and self.noise == noise)


def violations(state: "AppState", settled: bool = False) -> list[str]:
    """Broken promises in what `state` would draw now ([] = none).

    settled=True (after `wait_idle`): also every sampler setting must be the current one.
    """
    out = []
    n = 2 if state.compare else 1
    for i in range(n):
        pane = state.panes[i]
        want = pane.settings.model_key()
        model = state.models.get(want)
        s = pane.sampled
        tag = f"pane {'AB'[i]} ({pane.settings.title()})"
        if s is None:
            if not pane.note:
                out.append(f"{tag}: empty without a note")
            elif model is None and state.training.key != want and NO_MODEL not in pane.note:
                out.append(f"{tag}: no model but the note says {pane.note!r}")
            continue
        src = s.source
        if src.preview_run:
            if not (state.training.running and state.training.run == src.preview_run
                    and state.training.key == want):
                out.append(f"{tag}: shows a preview of run {src.preview_run} that is not training it")
            continue
        if model is None:
            out.append(f"{tag}: shows samples but there is no model for its settings")
        elif not src.shows(model):
            out.append(f"{tag}: shows samples of another model than the current one")
        elif src.pane.model_key() != want:
            out.append(f"{tag}: samples were made for {src.pane.model_key()}")
        if settled and model is not None and not src.settings_match(
                pane.settings, state.settings.guidance, state.settings.cls, state.noise_id):
            out.append(f"{tag}: settled, but samples were made with other settings")
        if state.offer is not None and src.model is state.offer.model:
            out.append(f"{tag}: shows the offered (not accepted) model")
    if state.released and state.released_model is not state.models.get(state.panes[0].settings.model_key()):
        out.append("a released particle's path comes from another model")
    if state.score is not None and state.score.model is not state.models.get(state.panes[0].settings.model_key()):
        out.append("the score belongs to another model")
    return out
