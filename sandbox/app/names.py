"""Display names and one-sentence explanations for what the window shows: never an id on screen.

Samplers, objectives, predictions, schedules and presets declare their display name and tooltip
once, in `sandbox.registry`; this module reads them (a name no registry knows, such as a loaded
file's, is shown as it is). `JARGON` holds the one plain sentence for
each term the window uses that is not a registered choice (NFE, straightness, ratio, ...).
"""
from __future__ import annotations

_REGISTRY = {"sampler": "SAMPLERS", "objective": "OBJECTIVES", "prediction": "PREDICTIONS",
             "schedule": "SCHEDULES", "preset": "PRESETS"}
_OTHER = {"theme": {"high-contrast": "high contrast"}}

# one plain sentence per piece of jargon the window shows
JARGON = {
    "NFE": "NFE (number of function evaluations): how many times the network ran per sample; "
           "fewer means faster sampling.",
    "straightness": "Straightness: 1.0 means every particle travelled in a straight line from "
                    "noise to data; lower means curved paths that need more steps.",
    "ratio": "Ratio: the distance between samples and data divided by the distance between two "
             "halves of the data itself; near 1 is as good as it gets.",
    "OT pairing": "OT pairing: during training, each noise point is matched to its nearest data "
                  "point in the batch, which makes the learned paths straighter.",
    "eta": "Eta: how much fresh noise DDIM adds per step; 0 is deterministic, 1 is like DDPM.",
    "guidance": "Guidance: how strongly samples are pushed towards the chosen class; 1 is the "
                "plain model, higher gives tighter, less varied samples.",
    "prediction": "What the DDPM network outputs: the noise (\u03b5), the clean point (x0) or a "
                  "blend of both (v); all describe the same model.",
    "schedule": "How fast noise is added over time: linear adds it early, cosine spreads it out "
                "more evenly.",
}


def _entry(kind: str, key: str):
    """The registry's declaration for `key`, or None."""
    attr = _REGISTRY.get(kind)
    if attr is None:
        return None
    from sandbox import registry

    return getattr(registry, attr).get(key)


def steps(n: int) -> str:
    """'1 step', '50 steps' (a one-step sampler is a real choice in the lessons)."""
    return f"{int(n)} step" if int(n) == 1 else f"{int(n)} steps"


def display(kind: str, key) -> str:
    """What the user reads for an id of `kind` ("sampler", "preset", "objective", ...)."""
    key = str(key)
    name = getattr(_entry(kind, key), "display", None)
    if isinstance(name, str) and name:
        return name
    # not registered: a file's name (a drawing loaded from two_blobs.csv) is shown as it is
    return _OTHER.get(kind, {}).get(key) or key


def tip(kind: str, key) -> str:
    """One plain sentence about an id of `kind`, or "" if there is nothing to say."""
    text = getattr(_entry(kind, str(key)), "tooltip", None)
    return text if isinstance(text, str) else ""
