"""Decoding captured latents to images in bounded memory: thumbnails, and image features on the way.

`LatentDecoder(vae, thumb_size, extractor, chunk)` takes latents `(N, C, h, w)` on any device and
returns `(thumbnails (N, th, tw, 3) uint8, features (N, D) float32 | None)`. It decodes `chunk`
latents at a time through the VAE, computes the extractor's features on the full-resolution images
(an extractor reads them at its own input size, never the thumbnail) and keeps only the thumbnails,
so memory stays at one chunk of full-size images however many steps are decoded.

VAEs that are unstable in float16 (SDXL's; `config.force_upcast`, which is also diffusers' default
when a config does not say, as SD 1.5's does not) decode in float32 when the pipeline runs in
float16, exactly when diffusers' own pipelines upcast.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

DEFAULT_THUMB = 64


def thumb_shape(h: int, w: int, size: int | None) -> tuple[int, int]:
    """`(th, tw)`: the longest side scaled to `size` (aspect kept); None or 0 = full resolution."""
    if not size or max(h, w) <= size:
        return h, w
    s = size / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


class LatentDecoder:
    def __init__(self, vae, thumb_size: int | None = DEFAULT_THUMB, extractor=None, chunk: int = 8):
        self.vae, self.thumb_size, self.extractor, self.chunk = vae, thumb_size, extractor, max(1, int(chunk))
        p = next(vae.parameters())
        self.device, self.dtype = p.device, p.dtype
        if p.dtype == torch.float16 and bool(vae.config.get("force_upcast", False)):
            vae.to(torch.float32)  # SDXL's VAE overflows in float16
            self.dtype = torch.float32
        self.scale = float(vae.config.get("scaling_factor", 1.0))
        self.shift = float(vae.config.get("shift_factor", None) or 0.0)

    @torch.no_grad()
    def images(self, latents: torch.Tensor) -> torch.Tensor:
        """`(n, C, h, w)` latents -> `(n, 3, H, W)` float images in [0, 1] on the VAE's device."""
        z = latents.to(self.device, self.dtype) / self.scale + self.shift
        return ((self.vae.decode(z).sample.float().clamp(-1, 1) + 1) / 2)

    @torch.no_grad()
    def __call__(self, latents: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        thumbs, feats = [], []
        for i in range(0, len(latents), self.chunk):
            x = self.images(latents[i:i + self.chunk])
            if self.extractor is not None:
                feats.append(self.extractor.embed(x).float().flatten(1).cpu())
            th, tw = thumb_shape(x.shape[-2], x.shape[-1], self.thumb_size)
            if (th, tw) != tuple(x.shape[-2:]):
                x = F.interpolate(x, size=(th, tw), mode="bilinear", antialias=True, align_corners=False)
            thumbs.append((x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu())
        t = torch.cat(thumbs).numpy() if thumbs else np.zeros((0, 0, 0, 3), np.uint8)
        return t, (torch.cat(feats).numpy() if feats else None)
