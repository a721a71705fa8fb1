"""Source: any diffusers text-to-image pipeline, from a local folder or the Hugging Face cache.

Capture, per denoising step k (timestep tau_k of the scheduler):
- x_t: the latent the network saw, `scheduler.scale_model_input(latents, tau_k)`, i.e. in the
  variance-preserving scale `alpha x0 + sigma eps` for every scheduler (Euler-type schedulers keep
  `x0 + s eps` internally; this divides by sqrt(1 + s^2)), so schedulers are comparable;
- x0_hat: the guided prediction of the clean latent. A thin wrapper around `scheduler.step` keeps the
  step's `pred_original_sample` when the scheduler returns one (DDIM, DDPM, Euler, LMS, Heun, ...);
  otherwise it is derived from the guided model output and the scheduler's noise level at that step
  (`derive_x0`: epsilon, v_prediction, sample or flow prediction).
The pipeline's `callback_on_step_end` closes each step and hands over the updated latents; the
final latents (the finished sample) form the last row at t = 0, so S = steps + 1.
Times follow the sandbox: t = (tau + 1) / T for DDPM-type schedulers (ARCHITECTURE.md), t = sigma
for flow-matching ones.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from sandbox.errors import UserError
from tdl.trajectory import TrajectoryData

DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
CAPTURES = ("x0", "xt")
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def load_pipeline(model: str, device: str = "cpu", dtype: str = "float32"):
    """`DiffusionPipeline.from_pretrained(model, local_files_only=True)`; UserError when it is not here."""
    try:
        from diffusers import DiffusionPipeline
    except ImportError:
        raise UserError("the diffusers source needs diffusers and transformers: pip install 'diffusers-sandbox[tdl]' "
                        "(or pip install diffusers transformers)") from None
    if dtype not in DTYPES:
        raise UserError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    # float32 is the default; naming torch_dtype only when needed avoids its deprecation warning in new diffusers
    kw = {} if dtype == "float32" else {"torch_dtype": DTYPES[dtype]}
    try:
        pipe = DiffusionPipeline.from_pretrained(str(model), local_files_only=True, **kw)
    except (OSError, ValueError) as e:
        raise UserError(f"no diffusers pipeline {model!r} in a local folder or the Hugging Face cache "
                        f"({type(e).__name__}); on a machine with network run `hf download {model}` "
                        f"(older: `huggingface-cli download {model}`), copy the cache here or pass the "
                        f"downloaded folder as the model") from None
    if not hasattr(pipe, "scheduler"):
        raise UserError(f"{model!r} is a {type(pipe).__name__}, not a text-to-image diffusion pipeline")
    pipe.to(device)
    return pipe


def continuous_time(scheduler, timestep: float) -> float:
    """The sandbox's t in [0, 1] of a scheduler timestep."""
    T = int(scheduler.config.get("num_train_timesteps", 1000))
    if "FlowMatch" in type(scheduler).__name__:
        return float(timestep) / T  # flow-matching schedulers use timestep = sigma * T
    return (float(timestep) + 1.0) / T


def _from_prediction(kind: str, out: torch.Tensor, x: torch.Tensor, alpha: float, sigma: float) -> torch.Tensor:
    """x0 from a model output on x = alpha x0 + sigma eps (alpha^2 + sigma^2 = 1 for eps/v)."""
    if kind == "epsilon":
        return (x - sigma * out) / alpha
    if kind == "v_prediction":
        return alpha * x - sigma * out
    if kind == "sample":
        return out
    raise UserError(f"cannot derive x0 for prediction_type {kind!r}")


def derive_x0(scheduler, model_output: torch.Tensor, timestep, sample: torch.Tensor, index: int) -> torch.Tensor:
    """x0_hat from the (guided) model output at step `index` when the scheduler does not return it.

    sample: the scheduler's own latent (before `scale_model_input`). Noise level, by kind:
    flow matching: x = (1 - s) x0 + s v-noise, x0 = x - s v; schedulers with a DPM-Solver noise table
    (`_sigma_to_alpha_sigma_t`: DPM-Solver, UniPC, DEIS): their (alpha_t, sigma_t) at this step;
    other variance-preserving ones: alphas_cumprod[timestep].
    """
    kind = scheduler.config.get("prediction_type", "epsilon")
    x, out = sample.float(), model_output.float()
    if "FlowMatch" in type(scheduler).__name__:
        s = float(scheduler.sigmas[index])
        return x - s * out
    if hasattr(scheduler, "_sigma_to_alpha_sigma_t") and hasattr(scheduler, "sigmas"):
        a, s = scheduler._sigma_to_alpha_sigma_t(scheduler.sigmas[index])
        if kind == "flow_prediction":
            return x - float(s) * out
        return _from_prediction(kind, out, x, float(a), float(s))
    if hasattr(scheduler, "alphas_cumprod") and float(getattr(scheduler, "init_noise_sigma", 1.0)) == 1.0:
        ab = float(scheduler.alphas_cumprod[int(timestep)])
        return _from_prediction(kind, out, x, ab ** 0.5, (1 - ab) ** 0.5)
    raise UserError(f"{type(scheduler).__name__} returns no x0 prediction and tdl cannot derive one; "
                    f"use a DDIM, DDPM, Euler or DPM-Solver scheduler")


class StepRecorder:
    """Wraps `scheduler.step` while active; `on_step_end` is the pipeline's `callback_on_step_end`.

    After a run: `xt`, `x0` lists of `(B, C, h, w)` float32 CPU tensors, `timesteps`, `final`.
    """

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.xt: list[torch.Tensor] = []
        self.x0: list[torch.Tensor] = []
        self.timesteps: list[float] = []
        self.final: torch.Tensor | None = None
        self._pending: tuple | None = None

    def __enter__(self) -> "StepRecorder":
        original = self.scheduler.step

        def step(model_output, timestep, sample, *args, return_dict: bool = True, **kwargs):
            x_in = self.scheduler.scale_model_input(sample, timestep)  # what the network saw
            out = original(model_output, timestep, sample, *args, return_dict=True, **kwargs)
            x0 = getattr(out, "pred_original_sample", None)
            if x0 is None:
                x0 = getattr(out, "denoised", None)  # LCM's name for it
            if x0 is None:
                done = getattr(self.scheduler, "step_index", None)  # incremented by the step just taken
                index = done - 1 if done is not None else 0
                x0 = derive_x0(self.scheduler, model_output, timestep, sample, index)
            self._pending = (float(timestep), x_in.detach().float().cpu(), x0.detach().float().cpu())
            return out if return_dict else out.to_tuple()

        self.scheduler.step = step
        return self

    def __exit__(self, *exc) -> None:
        del self.scheduler.step  # the class's method again

    def on_step_end(self, pipe, i: int, t, kwargs: dict) -> dict:
        if self._pending is None:
            raise RuntimeError("the pipeline called its step callback without a scheduler step")
        tau, x_in, x0 = self._pending
        self._pending = None
        self.timesteps.append(tau)
        self.xt.append(x_in)
        self.x0.append(x0)
        self.final = kwargs["latents"].detach().float().cpu()
        return kwargs


@torch.no_grad()
def decode_latents(vae, latents: torch.Tensor, batch_size: int = 8) -> np.ndarray:
    """`(N, C, h, w)` latents -> `(N, H, W, 3)` uint8 through the VAE (scaling/shift factors undone)."""
    scale = float(vae.config.get("scaling_factor", 1.0))
    shift = vae.config.get("shift_factor", None) or 0.0
    p = next(vae.parameters())
    out = []
    for i in range(0, len(latents), batch_size):
        z = latents[i:i + batch_size].to(p.device, p.dtype) / scale + shift
        img = vae.decode(z).sample.float().clamp(-1, 1)
        out.append(((img + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())
    return np.concatenate(out)


def diffusers_pipeline(model: str = DEFAULT_MODEL, prompts: Sequence[str] = ("a photo of a cat",),
                       instances_per_prompt: int = 4, steps: int = 25, guidance: float = 7.5, seed: int = 0,
                       decode: bool | str = False, device: str = "cpu", capture: str = "x0",
                       height: int | None = None, width: int | None = None, dtype: str = "float32",
                       progress: bool = True) -> TrajectoryData:
    """Trajectories of a diffusers pipeline: features = flattened latents `(S, I, C*h*w)`.

    decode: False, True / "x0" (images = decoded x0_hat), "xt" (images_xt = decoded x_t) or "both".
    One pipeline call per prompt with `num_images_per_prompt = instances_per_prompt` and a CPU
    generator seeded with `seed + prompt number`, so runs repeat on any device.
    """
    from tqdm.auto import tqdm

    if capture not in CAPTURES:
        raise UserError(f"capture must be one of {', '.join(CAPTURES)}, got {capture!r}")
    decode = {False: (), True: ("x0",), "x0": ("x0",), "xt": ("xt",), "both": ("x0", "xt")}.get(decode)
    if decode is None:
        raise UserError("decode must be False, True, 'x0', 'xt' or 'both'")
    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    if not prompts or int(instances_per_prompt) < 1 or int(steps) < 1:
        raise UserError("need at least one prompt, one instance per prompt and one step")
    pipe = load_pipeline(model, device, dtype)
    pipe.set_progress_bar_config(disable=not progress, leave=False)
    size = {k: v for k, v in (("height", height), ("width", width)) if v is not None}
    xt, x0, timesteps = [], [], None
    for p, prompt in enumerate(tqdm(prompts, desc="prompts", disable=not progress)):
        rec = StepRecorder(pipe.scheduler)
        with rec:
            pipe(prompt=prompt, num_images_per_prompt=int(instances_per_prompt), num_inference_steps=int(steps),
                 guidance_scale=float(guidance), generator=torch.Generator("cpu").manual_seed(int(seed) + p),
                 output_type="latent", callback_on_step_end=rec.on_step_end,
                 callback_on_step_end_tensor_inputs=["latents"], **size)
        if not rec.xt:
            raise UserError(f"{type(pipe).__name__} ran no step through its callback; tdl cannot capture it")
        xt.append(torch.stack(rec.xt + [rec.final]))  # (S, n, C, h, w)
        x0.append(torch.stack(rec.x0 + [rec.final]))
        timesteps = rec.timesteps
    xt, x0 = torch.cat(xt, dim=1), torch.cat(x0, dim=1)  # (S, I, C, h, w)
    S, I = xt.shape[:2]
    times = [continuous_time(pipe.scheduler, tau) for tau in timesteps] + [0.0]
    images = {}
    for which in decode:
        lat = (x0 if which == "x0" else xt).flatten(0, 1)
        dec = decode_latents(pipe.vae, lat)
        images[which] = dec.reshape(S, I, *dec.shape[1:])
    chosen = x0 if capture == "x0" else xt
    return TrajectoryData(
        features=chosen.flatten(2).numpy(), times=np.array(times), prompts=prompts,
        prompt_index=np.repeat(np.arange(len(prompts)), int(instances_per_prompt)),
        images=images.get("x0"), images_xt=images.get("xt"), source="diffusers",
        meta={"model": str(model), "pipeline": type(pipe).__name__, "scheduler": type(pipe.scheduler).__name__,
              "prediction_type": pipe.scheduler.config.get("prediction_type", "epsilon"),
              "timesteps": [float(t) for t in timesteps], "steps": int(steps), "guidance": float(guidance),
              "seed": int(seed), "capture": capture, "latent_shape": list(xt.shape[2:]), "dtype": dtype,
              "feature_space": f"diffusers {capture} latents (variance-preserving scale)"},
    )
