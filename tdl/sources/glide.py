"""Source: OpenAI's GLIDE (base 64x64 model) through the `glide_text2im` package.

diffusers has no GLIDE pipeline. `glide_text2im` is not on PyPI; install it with
`pip install git+https://github.com/openai/glide-text2im` and download the base checkpoint
(https://openaipublic.blob.core.windows.net/diffusion/dec-2021/base.pt) on a machine with network;
`tdl sample --source glide --model PATH/base.pt` (or `checkpoint=`) reads it from anywhere, and
without one, from glide_text2im's own cache `./glide_model_cache/base.pt`.
We read the file ourselves with `torch.load(..., weights_only=True)` (tensors only, no code) instead
of the package's `load_checkpoint`, which unpickles without that guard and only knows its cache
folder; its `download.fetch_file_cached` also calls `requests.get(url)` before it looks in the
cache (openai/glide-text2im, glide_text2im/download.py at 1f791b8), so it fails offline even when
the file is there.

Capture: GLIDE's `p_sample_loop_progressive` yields, for each respaced step, a dict with the next
`sample` and `pred_xstart` (its x0 prediction, clipped to [-1, 1]) computed from the step's input x_t.
Row k holds that input x_t and pred_xstart; the last row (t = 0) the final sample. Classifier-free
guidance as in the package's notebook: the batch is [conditional; unconditional] and the guided eps
is used for both halves; we keep the conditional half.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from sandbox.errors import UserError
from tdl.trajectory import TrajectoryData

BASE_URL = "https://openaipublic.blob.core.windows.net/diffusion/dec-2021/base.pt"
INSTALL = "pip install git+https://github.com/openai/glide-text2im"


def require_glide() -> None:
    if importlib.util.find_spec("glide_text2im") is None:
        raise UserError(f"the glide source needs OpenAI's glide_text2im package (not on PyPI): {INSTALL}")


def find_checkpoint(checkpoint: str | None) -> Path:
    """The base model file: given, or glide_text2im's default cache `./glide_model_cache/base.pt`."""
    path = Path(checkpoint) if checkpoint else Path.cwd() / "glide_model_cache" / "base.pt"
    if not path.is_file():
        raise UserError(f"no GLIDE checkpoint at {path}; on a machine with network download {BASE_URL} "
                        f"and pass it with --model PATH (Python: checkpoint=PATH)")
    return path


def collect_progressive(loop: Iterable[dict], x_T: torch.Tensor, keep: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Consume a progressive sampling loop. Returns `xt, x0 (S, keep, ...)` float32 on the CPU,
    S = steps + 1: row k = (input x_t of step k, its pred_xstart); last row = final sample twice."""
    x, xt, x0 = x_T, [], []
    for out in loop:
        xt.append(x[:keep].detach().float().cpu())
        x0.append(out["pred_xstart"][:keep].detach().float().cpu())
        x = out["sample"]
    if not xt:
        raise UserError("the GLIDE sampling loop yielded no step")
    final = x[:keep].detach().float().cpu()
    return torch.stack(xt + [final]), torch.stack(x0 + [final])


def guided_model_fn(model, guidance: float):
    """The notebook's classifier-free guidance on a [cond; uncond] batch of x_t (first 3 channels = eps)."""
    def model_fn(x_t, ts, **kwargs):
        half = x_t[: len(x_t) // 2]
        out = model(torch.cat([half, half], dim=0), ts, **kwargs)
        eps, rest = out[:, :3], out[:, 3:]
        cond, uncond = torch.split(eps, len(eps) // 2, dim=0)
        half_eps = uncond + guidance * (cond - uncond)
        return torch.cat([torch.cat([half_eps, half_eps], dim=0), rest], dim=1)
    return model_fn


def _uint8(x: torch.Tensor) -> np.ndarray:
    """`(..., 3, H, W)` in [-1, 1] -> `(..., H, W, 3)` uint8."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).movedim(-3, -1).numpy()


def glide(prompts: Sequence[str] = ("a corgi in a field",), instances_per_prompt: int = 4, steps: int = 50,
          guidance: float = 3.0, seed: int = 0, device: str = "cpu", capture: str = "x0",
          checkpoint: str | None = None, progress: bool = True, options: dict | None = None) -> TrajectoryData:
    """Trajectories of GLIDE's base model (64x64 pixels): features = flattened pixels `(S, I, 3*64*64)`.

    options: overrides of `model_and_diffusion_defaults()` (a checkpoint of another size; tests)."""
    from sandbox.progress import progress_bar

    if capture not in ("x0", "xt"):
        raise UserError(f"capture must be 'x0' or 'xt', got {capture!r}")
    require_glide()
    from glide_text2im.model_creation import create_model_and_diffusion, model_and_diffusion_defaults

    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    n = int(instances_per_prompt)
    options = {**model_and_diffusion_defaults(), **(options or {})}
    options["timestep_respacing"] = str(int(steps))
    options["use_fp16"] = str(device).startswith("cuda")
    model, diffusion = create_model_and_diffusion(**options)
    model.load_state_dict(torch.load(find_checkpoint(checkpoint), map_location="cpu", weights_only=True))
    if options["use_fp16"]:
        model.convert_to_fp16()
    model.to(device).eval()
    size = options["image_size"]
    xts, x0s = [], []
    for p, prompt in enumerate(progress_bar(prompts, show=progress, desc="glide prompts")):
        tokens, mask = model.tokenizer.padded_tokens_and_mask(model.tokenizer.encode(prompt), options["text_ctx"])
        utokens, umask = model.tokenizer.padded_tokens_and_mask([], options["text_ctx"])
        kwargs = {"tokens": torch.tensor([tokens] * n + [utokens] * n, device=device),
                  "mask": torch.tensor([mask] * n + [umask] * n, dtype=torch.bool, device=device)}
        g = torch.Generator("cpu").manual_seed(int(seed) + p)
        x_T = torch.randn(n, 3, size, size, generator=g).to(device).repeat(2, 1, 1, 1)
        torch.manual_seed(int(seed) + p)  # GLIDE draws its step noise from the global generator
        loop = diffusion.p_sample_loop_progressive(guided_model_fn(model, guidance), (2 * n, 3, size, size),
                                                   noise=x_T, device=device, clip_denoised=True,
                                                   model_kwargs=kwargs, progress=progress)
        xt, x0 = collect_progressive(loop, x_T, n)
        xts.append(xt)
        x0s.append(x0)
    xt, x0 = torch.cat(xts, dim=1), torch.cat(x0s, dim=1)
    T = int(options["diffusion_steps"])
    taus = [int(diffusion.timestep_map[i]) for i in range(diffusion.num_timesteps)][::-1]
    return TrajectoryData(
        features=(x0 if capture == "x0" else xt).flatten(2).numpy(),
        times=np.array([(tau + 1) / T for tau in taus] + [0.0]),
        prompts=prompts, prompt_index=np.repeat(np.arange(len(prompts)), n),
        images=_uint8(x0), images_xt=_uint8(xt), source="glide",
        meta={"model": "glide base 64x64", "steps": int(steps), "guidance": float(guidance), "seed": int(seed),
              "capture": capture, "timesteps": taus, "feature_space": f"glide {capture} pixels in [-1, 1]"},
    )
