"""Display names and one-sentence explanations for what the window shows: never an id on screen.

The registries (`sandbox.samplers.SAMPLERS`, the preset and objective registries) are the source:
when an entry declares `display_name` / `tooltip`, that is what the window shows. Until every
registry declares them, the tables below fill the gaps, and an unknown id is made readable
(`eight_gaussians` -> "eight gaussians") rather than shown raw.
"""
from __future__ import annotations

# fallbacks, used only where a registry entry has no display name of its own
_NAMES = {
    "sampler": {"ddpm": "DDPM ancestral", "ddim": "DDIM", "euler": "Euler", "midpoint": "midpoint",
                "heun": "Heun", "euler_maruyama": "Euler\u2013Maruyama"},
    "objective": {"ddpm": "DDPM", "flow": "flow matching"},
    "preset": {"smiley": "smiley", "three_modes": "three modes", "eight_gaussians": "eight Gaussians",
               "moons": "two moons", "swiss_roll": "Swiss roll", "checkerboard": "checkerboard",
               "spirals": "spirals", "rings": "rings"},
    "prediction": {"eps": "\u03b5 (noise)", "x0": "x0 (clean point)", "v": "v (velocity)"},
    "schedule": {"linear": "linear", "cosine": "cosine"},
    "theme": {"dark": "dark", "light": "light", "high-contrast": "high contrast"},
}

_TIPS = {
    "sampler": {
        "ddpm": "DDPM ancestral: each step removes predicted noise and adds fresh random noise, "
                "so paths zig-zag.",
        "ddim": "DDIM: the same model, stepped deterministically, so the same noise always gives "
                "the same sample.",
        "euler": "Euler: follows the model's velocity in straight steps (one network call per step).",
        "midpoint": "Midpoint: looks half a step ahead before stepping; two network calls per step, "
                    "more accurate.",
        "heun": "Heun: takes a step, checks the slope at its end and averages; two network calls "
                "per step.",
        "euler_maruyama": "Euler\u2013Maruyama: the stochastic version of the path, with random "
                          "kicks at every step that cancel out on average.",
    },
    "objective": {
        "ddpm": "DDPM: the network learns to predict the noise that was added to a data point.",
        "flow": "Flow matching: the network learns the velocity that moves noise straight to data.",
    },
}

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


def _registry_entry(kind: str, key: str):
    """The registry's declaration for `key`, or None (registries are imported lazily)."""
    try:
        if kind == "sampler":
            from sandbox.samplers import SAMPLERS as reg
        elif kind == "preset":
            from sandbox.datasets import presets as mod
            reg = getattr(mod, "PRESET_INFO", None) or getattr(mod, "PRESETS", {})
        elif kind == "objective":
            from sandbox import objectives as mod
            reg = getattr(mod, "OBJECTIVES", {})
        else:
            return None
    except ImportError:
        return None
    try:
        return reg.get(key)
    except AttributeError:
        return None


def display(kind: str, key) -> str:
    """What the user reads for an id of `kind` ("sampler", "preset", "objective", ...)."""
    key = str(key)
    entry = _registry_entry(kind, key)
    name = getattr(entry, "display_name", None) or getattr(entry, "display", None)
    if isinstance(name, str) and name:
        return name
    return _NAMES.get(kind, {}).get(key) or key.replace("_", " ")


def tip(kind: str, key) -> str:
    """One plain sentence about an id of `kind`, or "" if there is nothing to say."""
    key = str(key)
    entry = _registry_entry(kind, key)
    text = getattr(entry, "tooltip", None)
    if isinstance(text, str) and text:
        return text
    return _TIPS.get(kind, {}).get(key, "")
