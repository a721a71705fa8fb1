"""The feature extractors' registry: each declares itself once (name, display name, tooltip, the
pretrained model it loads by default); `tdl/features.py` implements them, `tdl --help` lists them.

    from tdl.feature_registry import EXTRACTORS
    EXTRACTORS["pixels"](batch_size=8)        # builds the extractor (imports torch then)
    EXTRACTORS.register(ExtractorInfo("mine", "Mine", "What it sees.", MyExtractor))

No torch here, so the command line's help stays fast; classes are "module:attribute" references
imported on first use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.registry import Registry, resolve


@dataclass(frozen=True)
class ExtractorInfo:
    """cls(model=None, device="cpu", batch_size=...) -> an Extractor (tdl/features.py);
    default_model: the pretrained weights it loads when none are given ("" = none needed)."""

    name: str
    display: str
    tooltip: str
    cls: Any
    default_model: str = ""

    def __call__(self, *args, **kwargs):
        return resolve(self.cls)(*args, **kwargs)


EXTRACTORS: Registry[ExtractorInfo] = Registry("feature extractor")

for _info in (
    ExtractorInfo("pixels", "pixels", "The raw pixels in [0, 1], flattened.", "tdl.features:Pixels"),
    ExtractorInfo("digits_encoder", "digits encoder", "The shipped 8x8 digit encoder: 32 numbers per "
                  "image.", "tdl.features:DigitsEncoderFeatures"),
    ExtractorInfo("vae", "VAE latents", "A diffusers AutoencoderKL's latent mean, flattened (what Stable "
                  "Diffusion denoises).", "tdl.features:VAEFeatures", "stabilityai/sd-vae-ft-mse"),
    ExtractorInfo("clip", "CLIP", "CLIP image embeddings: what the picture shows, in the space text "
                  "prompts live in.", "tdl.features:CLIPFeatures", "openai/clip-vit-base-patch32"),
    ExtractorInfo("dinov2", "DINOv2", "DINOv2's pooled image features: self-supervised, sensitive to "
                  "shape and layout.", "tdl.features:DINOv2Features", "facebook/dinov2-small"),
):
    EXTRACTORS.register(_info)
