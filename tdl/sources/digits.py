"""Source: the built-in class-conditional digits model (8x8, trained by tdl/digits/train.py).

Runs any sampler of `sandbox.samplers` on the shipped denoiser with classifier-free guidance
(`sandbox.field.GuidedField`) and keeps, for every state x_t of the path (t = 1 ... 0), both x_t and
the guided prediction x0_hat(x_t, t) as images. Offline, a second or two on a CPU.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import torch

from sandbox.errors import UserError
from tdl.trajectory import TrajectoryData

CAPTURES = ("x0", "xt")
_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_ANY = re.compile(r"^\s*(any|all|unconditional|none|a handwritten digit|digit|)\s*$", re.I)


def parse_prompt(prompt: int | str) -> int:
    """A prompt -> its class 0..9, or 10 (the null class: unconditional) for "any" / "".

    Accepts 3, "3", "a handwritten 3", "three", "the digit seven".
    """
    if isinstance(prompt, (int, np.integer)) and not isinstance(prompt, bool):
        if 0 <= int(prompt) <= 9:
            return int(prompt)
        raise UserError(f"digit prompts are 0..9, got {prompt}")
    text = str(prompt)
    if _ANY.match(text):
        return 10
    found = set(re.findall(r"(?<![0-9])[0-9](?![0-9])", text))
    found |= {str(i) for i, w in enumerate(_WORDS) if re.search(rf"\b{w}\b", text, re.I)}
    if len(found) != 1:
        raise UserError(f"cannot read one digit 0-9 in the prompt {text!r}; try 'a handwritten 3' or 3")
    return int(found.pop())


def prompt_text(cls: int) -> str:
    return "a handwritten digit" if cls == 10 else f"a handwritten {cls}"


def sample_path(field, labels: torch.Tensor, steps: int, guidance: float, sampler: str, seed: int,
                progress: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run `sampler` on the guided field. Returns `ts (S,)`, `xs (S, I, 64)`, `x0s (S, I, 64)` with
    S = steps + 1 (row 0 at t = 1, last row at t = 0 where x0_hat = x)."""
    from sandbox.field import GuidedField
    from sandbox.progress import progress_bar
    from sandbox.samplers import SAMPLERS, sample

    if sampler not in SAMPLERS:
        raise UserError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
    device = next(field.net.parameters()).device
    guided = GuidedField(field, guidance, null_label=field.net.null_class)
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    x_T = torch.randn(len(labels), field.net.cfg.dim, generator=g).to(device)
    options = {"labels": labels, "generator": g}  # every sampler takes it (DDIM eta > 0 too)
    ts, xs, x0s = [], [], []
    for t, x in progress_bar(sample(guided, sampler, x_T, steps, **options), show=progress, total=steps + 1,
                             desc="digits", leave=False):
        tt = torch.full((len(labels),), float(t), device=device)
        ts.append(float(t))
        xs.append(x)
        x0s.append(guided.x0(x, tt, labels))
    return torch.tensor(ts, dtype=torch.float64), torch.stack(xs), torch.stack(x0s)


def digits(prompts: Sequence[int | str] | None = None, instances_per_prompt: int = 20, steps: int = 20,
           guidance: float = 2.0, seed: int = 0, capture: str = "x0", sampler: str = "ddim",
           device: str = "cpu", weights: str | None = None, progress: bool = True) -> TrajectoryData:
    """Trajectories of the digits model: I = len(prompts) * instances_per_prompt instances.

    prompts: digits 0-9 or texts such as "a handwritten 3" (default: one per digit); "any" is
    unconditional. features: the captured state flattened, `(S, I, 64)` in [-1, 1] (capture "x0": the
    prediction x0_hat; "xt": the noisy state). images / images_xt: both as `(S, I, 8, 8, 1)` uint8.
    """
    from tdl.digits.model import to_uint8_images
    from tdl.digits.weights import load_field

    if capture not in CAPTURES:
        raise UserError(f"capture must be one of {', '.join(CAPTURES)}, got {capture!r}")
    if isinstance(instances_per_prompt, bool) or int(instances_per_prompt) < 1:
        raise UserError(f"instances_per_prompt must be a positive integer, got {instances_per_prompt}")
    prompts = list(range(10)) if prompts is None else list(prompts)
    if not prompts:
        raise UserError("give at least one prompt")
    classes = [parse_prompt(p) for p in prompts]
    n = int(instances_per_prompt)
    from sandbox.limits import check_fits

    # every step of every instance: features, x0 and x_t (float32, 64 pixels) and their uint8 images
    # (instances_per_prompt=10**9 raised MemoryError); bad step counts are the sampler's to refuse
    rows = min(steps, 1000) + 1 if isinstance(steps, int) and steps > 0 else 2
    check_fits("instances", n * len(classes), rows * 64 * 16.0)
    field, meta = load_field(weights, device)
    prompt_index = np.repeat(np.arange(len(classes)), n)
    labels = torch.tensor(classes, device=device).repeat_interleave(n)
    ts, xs, x0s = sample_path(field, labels, steps, guidance, sampler, seed, progress)
    features = (x0s if capture == "x0" else xs).cpu().numpy()
    return TrajectoryData(
        features=features, times=ts.numpy(), prompts=[prompt_text(c) for c in classes],
        prompt_index=prompt_index, images=to_uint8_images(x0s), images_xt=to_uint8_images(xs),
        source="digits",
        meta={"capture": capture, "sampler": sampler, "steps": int(steps), "guidance": float(guidance),
              "seed": int(seed), "classes": classes, "weights": str(weights or "assets/digits/denoiser"),
              "objective": meta.get("objective"), "feature_space": f"digits {capture} pixels in [-1, 1]"},
    )
