"""Source: any diffusers text-to-image pipeline, from a local folder or the Hugging Face cache.

Capture, per denoising step k (timestep tau_k of the scheduler):
- x_t: the latent the network saw, `scheduler.scale_model_input(latents, tau_k)`, i.e. in the
  variance-preserving scale `alpha x0 + sigma eps` for every scheduler (Euler-type schedulers keep
  `x0 + s eps` internally; this divides by sqrt(1 + s^2)), so schedulers are comparable;
- x0_hat: the guided prediction of the clean latent. A thin wrapper around `scheduler.step` keeps the
  step's `pred_original_sample` when the scheduler returns one (DDIM, DDPM, Euler, LMS, Heun, ...);
  otherwise it is derived from the guided model output and the scheduler's noise level at that step
  (`derive_x0`: epsilon, v_prediction, sample or flow prediction).
The pipeline's `callback_on_step_end` closes each step and hands over the updated latents. A
scheduler that calls the network twice at one time (PNDM's first step, Heun / KDPM2's corrector)
keeps the last call at each distinct time (`schedulers.collapse_repeats`), so every scheduler gives
one row per distinct time and the final latents (the finished sample) form the last row at t = 0:
S = steps + 1 (`meta["network_calls"]` counts the calls).
Times follow the sandbox: t = (tau + 1) / T for DDPM-type schedulers (ARCHITECTURE.md), t = sigma
for flow-matching ones.

Instances are prompts x seeds (prompt-major); each instance has its own CPU generator seeded with its
seed (initial noise and any step noise), so an instance's trajectory does not depend on the batch it
ran in, on the device count (`shard`) or on the other prompts. Batches of `batch_size` instances
(default at most 8) go through the pipeline; after each batch the chosen rows are decoded to
thumbnails (and image features) in chunks, so memory stays bounded (`tdl/sources/decode.py`).
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import torch

from sandbox.errors import UserError
from tdl.sources.schedulers import collapse_repeats, set_scheduler
from tdl.trajectory import TrajectoryData

DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
CAPTURES = ("x0", "xt")
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def _quiet_loading(progress: bool) -> None:
    """Loading bars only with progress; transformers' notes about optional backends never."""
    import diffusers.utils.logging as dl
    import transformers.utils.logging as tl
    tl.set_verbosity_error()
    for lib in (dl, tl):
        (lib.enable_progress_bar if progress else lib.disable_progress_bar)()


def load_pipeline(model: str, device: str = "cpu", dtype: str = "float32", progress: bool = True):
    """`DiffusionPipeline.from_pretrained(model, local_files_only=True)`; UserError when it is not here."""
    try:
        from diffusers import DiffusionPipeline
        _quiet_loading(progress)
    except ImportError:
        raise UserError("the diffusers source needs diffusers and transformers: pip install 'diffusion-sandbox[tdl]' "
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

    After a run: `xt`, `x0` lists of `(B, C, h, w)` float32 tensors on the pipeline's device (moved
    once per batch, not per step, so capture adds no synchronisation), `timesteps`, `final`.
    keep: which of "xt", "x0" to keep (the others are not stored).
    """

    def __init__(self, scheduler, keep=("xt", "x0")):
        self.scheduler, self.keep = scheduler, set(keep)
        self.xt: list[torch.Tensor] = []
        self.x0: list[torch.Tensor] = []
        self.timesteps: list[float] = []
        self.main: list[bool] = []  # False: a second-order scheduler's corrector call
        self.final: torch.Tensor | None = None
        self._pending: tuple | None = None

    def __enter__(self) -> "StepRecorder":
        original = self.scheduler.step

        def step(model_output, timestep, sample, *args, return_dict: bool = True, **kwargs):
            # second-order schedulers (Heun, KDPM2) evaluate a corrector at a state off the path
            main = bool(getattr(self.scheduler, "state_in_first_order", True))
            x_in = self.scheduler.scale_model_input(sample, timestep) if "xt" in self.keep else None
            out = original(model_output, timestep, sample, *args, return_dict=True, **kwargs)
            x0 = None
            if "x0" in self.keep:
                x0 = getattr(out, "pred_original_sample", None)
                if x0 is None:
                    x0 = getattr(out, "denoised", None)  # LCM's name for it
                if x0 is None:
                    done = getattr(self.scheduler, "step_index", None)  # incremented by the step just taken
                    index = done - 1 if done is not None else 0
                    x0 = derive_x0(self.scheduler, model_output, timestep, sample, index)
                x0 = x0.detach().float()
            self._pending = (float(timestep), None if x_in is None else x_in.detach().float(), x0, main)
            return out if return_dict else out.to_tuple()

        self.scheduler.step = step
        return self

    def __exit__(self, *exc) -> None:
        del self.scheduler.step  # the class's method again

    def on_step_end(self, pipe, i: int, t, kwargs: dict) -> dict:
        if self._pending is None:
            raise RuntimeError("the pipeline called its step callback without a scheduler step")
        tau, x_in, x0, main = self._pending
        self._pending = None
        self.timesteps.append(tau)
        self.main.append(main)
        self.xt.append(x_in)
        self.x0.append(x0)
        self.final = kwargs["latents"].detach().float()
        return kwargs

    def kept(self) -> list[int]:
        """Indices of the calls that make rows: main (not corrector) calls, the last at each distinct time."""
        main = [k for k, m in enumerate(self.main) if m]
        return [main[k] for k in collapse_repeats([self.timesteps[k] for k in main])]

    def rows(self, which: str) -> torch.Tensor:
        """`(S, B, C, h, w)`: one row per kept call, then the final latents."""
        recs = self.x0 if which == "x0" else self.xt
        return torch.stack([recs[k] for k in self.kept()] + [self.final])

    def distinct_timesteps(self) -> list[float]:
        return [self.timesteps[k] for k in self.kept()]


DEFAULT_BATCH = 8  # instances per pipeline call (x 2 with guidance): bounded memory on any GPU
DECODES = {False: (), None: (), "none": (), True: ("x0",), "x0": ("x0",), "xt": ("xt",), "both": ("x0", "xt")}


def decode_rows(spec, S: int) -> np.ndarray:
    """Rows to decode of S: None / "all" = every row; an int n = n rows evenly spaced from the first
    to the last (the final sample always among them); a list = those rows (negative from the end)."""
    if spec is None or (isinstance(spec, str) and spec == "all"):
        return np.arange(S)
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        if spec < 1:
            raise UserError(f"decode steps must be >= 1, got {spec}")
        return np.unique(np.round(np.linspace(0, S - 1, min(int(spec), S))).astype(int))
    rows = np.asarray([int(r) for r in spec])
    if len(rows) == 0 or (rows < -S).any() or (rows >= S).any():
        raise UserError(f"decode steps must be rows 0..{S - 1} (or negative from the end), got {list(spec)}")
    return np.unique(rows % S)


def instance_list(prompts: list[str], seeds: list[int]) -> list[tuple[int, int]]:
    """(prompt number, seed) of every instance, prompt-major: I = len(prompts) * len(seeds)."""
    return [(p, s) for p in range(len(prompts)) for s in seeds]


def diffusers_pipeline(model=DEFAULT_MODEL, prompts: Sequence[str] = ("a photo of a cat",),
                       instances_per_prompt: int = 4, steps: int = 25, guidance: float = 7.5, seed: int = 0,
                       decode: bool | str = False, device: str = "cpu", capture: str = "x0",
                       height: int | None = None, width: int | None = None, dtype: str = "float32",
                       scheduler: str | None = None, seeds: Sequence[int] | None = None,
                       batch_size: int | None = None, decode_steps=None, image_size: int | None = 64,
                       features: str | None = None, feature_model: str | None = None,
                       shard: tuple[int, int] | None = None, progress: bool = True) -> TrajectoryData:
    """Trajectories of a diffusers pipeline.

    model: a local folder / cached hub id, or a pipeline object. Instances: every prompt with every
    seed of `seeds` (default `seed, seed + 1, ..., seed + instances_per_prompt - 1`).
    features: None = the captured latents flattened `(S, I, C*h*w)`; an extractor name of
    `tdl.features.EXTRACTORS` ("clip", "dinov2", "vae", "pixels") = that extractor on the decoded
    full-resolution images of the captured kind, and then the trajectory has only the decoded rows.
    decode: False, "x0" / True (images = decoded x0_hat), "xt" (images_xt = decoded x_t) or "both";
    decode_steps: which rows (`decode_rows`); image_size: thumbnails' longest side (None = full size);
    rows not decoded stay zero and `meta["image_steps"]` lists the decoded ones.
    scheduler: a name of `tdl.sources.schedulers.SCHEDULERS` or a diffusers class name (None: the
    pipeline's). shard: (rank, world) = run only instances rank, rank + world, ... (sharded runs,
    `tdl.sources.shards`).
    """
    from sandbox.progress import progress_bar

    from tdl.sources.decode import LatentDecoder

    if capture not in CAPTURES:
        raise UserError(f"capture must be one of {', '.join(CAPTURES)}, got {capture!r}")
    decode = DECODES.get(decode) if isinstance(decode, (bool, str, type(None))) else None
    if decode is None:
        raise UserError("decode must be False, True, 'x0', 'xt' or 'both'")
    if features and capture not in decode:
        decode = tuple(sorted(set(decode) | {capture}))  # features are computed from these images
    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    seeds = list(range(int(seed), int(seed) + int(instances_per_prompt))) if seeds is None else [int(s) for s in seeds]
    if not prompts or not seeds or int(steps) < 1:
        raise UserError("need at least one prompt, one seed (instance per prompt) and one step")
    if batch_size is not None and int(batch_size) < 1:
        raise UserError(f"batch size must be >= 1, got {batch_size}")
    if image_size is not None and int(image_size) < 0:
        raise UserError(f"image size must be >= 0 (0: full resolution), got {image_size}")
    everyone = instance_list(prompts, seeds)
    mine = list(range(len(everyone))) if shard is None else list(range(len(everyone)))[shard[0]::shard[1]]
    extractor = None
    if features:
        from tdl.features import get_extractor
        extractor = get_extractor(features, feature_model, device)
    pipe = model if not isinstance(model, (str, bytes)) and hasattr(model, "scheduler") \
        else load_pipeline(str(model), device, dtype, progress)
    set_scheduler(pipe, scheduler)
    # the pipeline's own bar (one per batch, under tdl's "sampling" bar) was unlabelled: "0/25 it/s"
    pipe.set_progress_bar_config(disable=not progress, leave=False, desc="denoising steps of the batch")
    size = {k: int(v) for k, v in (("height", height), ("width", width)) if v is not None}
    bs = int(batch_size or DEFAULT_BATCH)
    keep = {capture} | set(decode)
    decoder = LatentDecoder(pipe.vae, image_size or None, extractor) if decode else None
    feats, thumbs, timesteps, calls, rows = [], {k: [] for k in decode}, None, None, None
    t_sample = t_decode = 0.0
    bar = progress_bar(total=len(mine), show=progress, desc="sampling", unit="inst")
    for b0 in range(0, len(mine), bs):
        batch = [everyone[g] for g in mine[b0:b0 + bs]]
        rec = StepRecorder(pipe.scheduler, keep)
        t0 = time.perf_counter()
        with rec:
            pipe(prompt=[prompts[p] for p, _ in batch], num_images_per_prompt=1, num_inference_steps=int(steps),
                 guidance_scale=float(guidance), generator=[torch.Generator("cpu").manual_seed(s) for _, s in batch],
                 output_type="latent", callback_on_step_end=rec.on_step_end,
                 callback_on_step_end_tensor_inputs=["latents"], **size)
        if not rec.timesteps:
            raise UserError(f"{type(pipe).__name__} ran no step through its callback; tdl cannot capture it")
        lat = {k: rec.rows(k) for k in keep}  # (S, b, C, h, w) on the device
        if timesteps is None:
            timesteps, calls = rec.distinct_timesteps(), len(rec.timesteps)
            rows = decode_rows(decode_steps, len(timesteps) + 1) if decode else np.arange(len(timesteps) + 1)
        if extractor is None:
            feats.append(lat[capture].flatten(2).cpu())
        _sync(pipe)
        t1 = time.perf_counter()
        t_sample += t1 - t0
        for which in decode:
            sel = lat[which][torch.as_tensor(rows, device=lat[which].device)]  # (R, b, C, h, w)
            bar.set_postfix_str(f"decoding {which}")
            img, f = decoder(sel.flatten(0, 1))
            thumbs[which].append(img.reshape(len(rows), len(batch), *img.shape[1:]))
            if extractor is not None and which == capture:
                feats.append(torch.from_numpy(f.reshape(len(rows), len(batch), -1)))
        t_decode += time.perf_counter() - t1
        bar.set_postfix_str("")
        bar.update(len(batch))
    bar.close()
    S = len(timesteps) + 1
    times = np.array([continuous_time(pipe.scheduler, tau) for tau in timesteps] + [0.0])
    features_arr = torch.cat(feats, dim=1).numpy()
    images = {}
    for which, parts in thumbs.items():
        got = np.concatenate(parts, axis=1)  # (R, I, h, w, 3)
        if extractor is None and len(rows) < S:
            full = np.zeros((S, *got.shape[1:]), np.uint8)
            full[rows] = got
            got = full
        images[which] = got
    meta_rows = {}
    if extractor is not None:
        times = times[rows]
    elif decode:
        meta_rows = {"image_steps": [int(r) for r in rows]} if len(rows) < S else {}
    return TrajectoryData(
        features=features_arr, times=times, prompts=prompts,
        prompt_index=np.array([everyone[g][0] for g in mine], dtype=np.int64),
        images=images.get("x0"), images_xt=images.get("xt"), source="diffusers",
        meta={"model": str(model) if isinstance(model, (str, bytes)) else type(model).__name__,
              "pipeline": type(pipe).__name__, "scheduler": type(pipe.scheduler).__name__,
              "prediction_type": pipe.scheduler.config.get("prediction_type", "epsilon"),
              "timesteps": [float(t) for t in timesteps], "network_calls": calls, "steps": int(steps),
              "guidance": float(guidance), "seed": int(seed), "seeds": seeds,
              "instance_seeds": [everyone[g][1] for g in mine], "instance_ids": mine,
              "capture": capture, "latent_shape": list(lat[capture].shape[2:]), "dtype": dtype,
              "batch_size": bs, "image_size": int(image_size or 0), **meta_rows,
              **({"decoded_rows": [int(r) for r in rows]} if extractor is not None else {}),
              "timing_s": {"sample": round(t_sample, 3), "decode": round(t_decode, 3)}, **_peak_memory(pipe),
              "feature_space": (f"{features} features of decoded {capture} images" if extractor is not None
                                else f"diffusers {capture} latents (variance-preserving scale)"),
              **({"features": features, "features_of": capture,
                  "feature_model": getattr(extractor, "model_name", None)} if extractor is not None else {})},
    )


def _peak_memory(pipe) -> dict:
    dev = getattr(pipe, "device", None)
    if dev is None or torch.device(dev).type != "cuda":
        return {}
    return {"peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated(dev) / 2 ** 30, 2)}


def _sync(pipe) -> None:
    dev = getattr(pipe, "device", None)
    if dev is not None and torch.device(dev).type == "cuda":
        torch.cuda.synchronize(dev)
