"""Feature extractors: images `(B, H, W, C)` (uint8 0..255, or float in [0, 1]) -> features `(B, D)` float32.

`EXTRACTORS[name](model=None, device="cpu", batch_size=64) -> Extractor`, an object called on images.
- `pixels`: the raw pixels in [0, 1], flattened (`H * W * C`).
- `digits_encoder`: the shipped 8x8 digit encoder (assets/digits/encoder.*), 32-d.
- `vae`: a diffusers `AutoencoderKL` latent mean (times its scaling factor), flattened.
- `clip`: transformers `CLIPVisionModelWithProjection` image embeddings (`image_embeds`).
- `dinov2`: transformers `Dinov2Model` pooled output (the CLS token after the last layer norm).
Pretrained models load with `local_files_only=True` from a folder or the Hugging Face cache; a missing one
is a one-line UserError that says how to get it. Resizing for CLIP / DINOv2 is a square resize to the
model's input size (bicubic, antialiased) and its mean/std normalisation, done in torch; it equals the
transformers processors' resize-then-centre-crop for square images up to resampling differences.
`extract(traj, name, which)` replaces a trajectory's features with those of its images.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from sandbox.errors import UserError
from tdl.trajectory import TrajectoryData

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
CLIP_NORM = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))


def to_float(images: np.ndarray | torch.Tensor, device) -> torch.Tensor:
    """`(B, H, W, C)` uint8 or float in [0, 1] -> `(B, C, H, W)` float32 in [0, 1] on device."""
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
    if x.ndim != 4:
        raise UserError(f"images must be (batch, height, width, channels), got shape {tuple(x.shape)}")
    x = x.to(device).permute(0, 3, 1, 2)
    return x.float() / 255.0 if x.dtype == torch.uint8 else x.float()


def _rgb(x: torch.Tensor) -> torch.Tensor:
    """Grey images (C = 1) repeated to three channels; RGBA loses alpha."""
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x[:, :3]


def _missing(what: str, model: str) -> UserError:
    return UserError(f"no {what} {model!r} in a local folder or the Hugging Face cache; on a machine with "
                     f"network run `hf download {model}` (older: `huggingface-cli download {model}`) and copy "
                     f"the cache here or pass the downloaded folder")


class Extractor:
    """Base: batches the images, `embed((b, C, H, W) float in [0, 1]) -> (b, D)` does the work."""

    name = "base"

    def __init__(self, device: str | torch.device = "cpu", batch_size: int = 64):
        if int(batch_size) < 1:
            raise UserError(f"batch_size must be positive, got {batch_size}")
        self.device, self.batch_size = torch.device(device), int(batch_size)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def __call__(self, images: np.ndarray | torch.Tensor) -> np.ndarray:
        out = [self.embed(to_float(images[i:i + self.batch_size], self.device)).float().flatten(1).cpu()
               for i in range(0, len(images), self.batch_size)]
        return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)


class Pixels(Extractor):
    name = "pixels"

    def __init__(self, model: str | None = None, device="cpu", batch_size: int = 256):
        super().__init__(device, batch_size)

    def embed(self, x):
        return x.permute(0, 2, 3, 1)  # flattened as (H, W, C), the order of the images


class DigitsEncoderFeatures(Extractor):
    name = "digits_encoder"

    def __init__(self, model: str | None = None, device="cpu", batch_size: int = 256):
        from tdl.digits.weights import load

        super().__init__(device, batch_size)
        self.net, _ = load("encoder", model, self.device)

    def embed(self, x):
        if x.shape[-2:] != (8, 8):
            raise UserError(f"digits_encoder reads 8x8 digit images, got {x.shape[-2]}x{x.shape[-1]}")
        return self.net.features(x.mean(1, keepdim=True) * 2.0 - 1.0)


def _resize_norm(x: torch.Tensor, size: int, mean_std) -> torch.Tensor:
    x = F.interpolate(_rgb(x), size=(size, size), mode="bicubic", antialias=True, align_corners=False)
    mean, std = (torch.tensor(v, device=x.device)[None, :, None, None] for v in mean_std)
    return (x.clamp(0, 1) - mean) / std


def _processor_settings(model: str, size: int, mean_std):
    """Input size and mean/std from the model folder's preprocessor_config.json, when there is one."""
    cfg_path = Path(model) / "preprocessor_config.json"
    if not cfg_path.is_file():
        return size, mean_std
    cfg = json.loads(cfg_path.read_text())
    crop = cfg.get("crop_size", size)
    size = crop.get("height", size) if isinstance(crop, dict) else int(crop)
    if "image_mean" in cfg and "image_std" in cfg:
        mean_std = (tuple(cfg["image_mean"]), tuple(cfg["image_std"]))
    return size, mean_std


class _HFVision(Extractor):
    """A transformers vision model: `loader.from_pretrained(model, local_files_only=True)`."""

    default_model = ""
    norm = IMAGENET

    def __init__(self, model: str | None = None, device="cpu", batch_size: int = 64, image_size: int | None = None):
        super().__init__(device, batch_size)
        self.model_name = str(model or self.default_model)
        cls = self.model_class()
        try:
            self.net = cls.from_pretrained(self.model_name, local_files_only=True).to(self.device).eval()
        except (OSError, ValueError):
            raise _missing(f"{self.name} model", self.model_name) from None
        size, self.mean_std = _processor_settings(self.model_name, self.default_size(), self.norm)
        self.size = int(image_size or size)

    def default_size(self) -> int:
        return int(self.net.config.image_size)


class CLIPFeatures(_HFVision):
    name = "clip"
    default_model = "openai/clip-vit-base-patch32"
    norm = CLIP_NORM

    def model_class(self):
        from transformers import CLIPVisionModelWithProjection
        return CLIPVisionModelWithProjection

    def embed(self, x):
        return self.net(pixel_values=_resize_norm(x, self.size, self.mean_std)).image_embeds


class DINOv2Features(_HFVision):
    name = "dinov2"
    default_model = "facebook/dinov2-small"

    def model_class(self):
        from transformers import Dinov2Model
        return Dinov2Model

    def default_size(self) -> int:
        return 224  # the processors' crop; the config's 518 is the position-embedding grid

    def embed(self, x):
        return self.net(pixel_values=_resize_norm(x, self.size, self.mean_std)).pooler_output


class VAEFeatures(Extractor):
    """`AutoencoderKL.encode(2 x - 1).latent_dist.mean * scaling_factor`, flattened `(C * h * w)`.

    model: a VAE folder / hub id, or a pipeline folder / id with a `vae` subfolder.
    """

    name = "vae"
    default_model = "stabilityai/sd-vae-ft-mse"

    def __init__(self, model: str | None = None, device="cpu", batch_size: int = 16):
        from diffusers import AutoencoderKL

        super().__init__(device, batch_size)
        self.model_name = str(model or self.default_model)
        self.net = None
        for sub in (("vae",) if (Path(self.model_name) / "vae").is_dir() else (None, "vae")):
            try:
                self.net = AutoencoderKL.from_pretrained(self.model_name, subfolder=sub, local_files_only=True)
                break
            except (OSError, ValueError):
                continue
        if self.net is None:
            raise _missing("VAE", self.model_name)
        self.net = self.net.to(self.device).eval()
        self.scale = float(self.net.config.get("scaling_factor", 1.0))
        self.shift = float(self.net.config.get("shift_factor", None) or 0.0)

    def embed(self, x):
        channels = self.net.config.in_channels
        x = _rgb(x) if channels == 3 else x
        dist = self.net.encode(x.to(next(self.net.parameters()).dtype) * 2.0 - 1.0).latent_dist
        return (dist.mean - self.shift) * self.scale


# name, display name, tooltip and default model of each extractor: declared in tdl/feature_registry.py
from tdl.feature_registry import EXTRACTORS  # noqa: E402


def get_extractor(name: str, model: str | None = None, device: str = "cpu",
                  batch_size: int | None = None) -> Extractor:
    kw = {} if batch_size is None else {"batch_size": batch_size}  # unknown name: UserError
    return EXTRACTORS[name](model=model, device=device, **kw)


def extract(traj: TrajectoryData, name: str = "pixels", which: str = "x0", device: str = "cpu",
            model: str | None = None, batch_size: int | None = None, progress: bool = True) -> TrajectoryData:
    """A copy of `traj` whose features `(S, I, D)` are extractor `name` applied to its images.

    which: "x0" (the predicted clean images, `traj.images`) or "xt" (the noisy states, `traj.images_xt`).
    A trajectory whose images cover only some steps (`traj.image_rows()`) keeps only those steps.
    Images are read as stored: thumbnails if the source made thumbnails (the diffusers source computes
    features from full-size images itself when given `features=`).
    """
    from sandbox.progress import progress_bar

    if which not in ("x0", "xt"):
        raise UserError(f"which must be 'x0' or 'xt', got {which!r}")
    images = traj.images if which == "x0" else traj.images_xt
    if images is None:
        raise UserError(f"this trajectory has no {which} images (source {traj.source!r}; the diffusers source "
                        f"makes them with decode={which!r})")
    rows = traj.image_rows()
    if not rows.all():
        traj = traj.select_steps(np.flatnonzero(rows))
        images = traj.images if which == "x0" else traj.images_xt
    if not progress and name not in ("pixels", "digits_encoder"):
        _quiet_hub_loading()
    ext = get_extractor(name, model, device, batch_size)
    S, I = images.shape[:2]
    flat = images.reshape(S * I, *images.shape[2:])
    chunk = max(ext.batch_size, 1) * 4
    feats = [ext(flat[i:i + chunk]) for i in progress_bar(range(0, len(flat), chunk), show=progress,
                                                          desc=f"features {name}", leave=False)]
    feats = np.concatenate(feats).reshape(S, I, -1)
    return traj.with_features(feats, features=name, features_of=which, feature_model=getattr(ext, "model_name", None),
                              feature_space=f"{name} features of {which} images")


def _quiet_hub_loading() -> None:
    """No 'Loading weights' bars from transformers / diffusers (compare-features --quiet showed one)."""
    import importlib

    for module in ("transformers.utils.logging", "diffusers.utils.logging"):
        try:
            importlib.import_module(module).disable_progress_bar()
        except ImportError:
            pass
