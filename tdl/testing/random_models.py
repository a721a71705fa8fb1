"""Test-only: real-architecture networks with random weights, built from published configs (no hub).

The configs are data (`configs/sd15.json`, `configs/vision.json`, copied from the published
`config.json` files); `scale="tiny"` applies each file's "tiny" overrides (small widths and depths,
same block structure) for CPU tests, `scale="full"` builds them as published: SD 1.5's UNet
(860 M parameters), VAE (84 M) and CLIP ViT-L/14 text encoder (123 M), CLIP ViT-B/32 and ViT-L/14
image towers, DINOv2 small and base. They run at the real cost; their outputs are meaningless.

The tokenizer cannot be downloaded either. `local_clip_tokenizer` writes a CLIP BPE tokenizer whose
vocabulary is the 256 byte symbols of CLIP's byte-level alphabet, each also with the end-of-word
mark `</w>`, plus <|startoftext|> and <|endoftext|> (514 ids, all below the text encoder's 49408),
and no merges: every word is spelled out symbol by symbol, padded/truncated to 77 tokens as CLIP's.
Sequence length and the text encoder's cost are those of the real tokenizer; the ids are not.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import torch

SCALES = ("full", "tiny")
VISION = ("clip-vit-b-32", "clip-vit-l-14", "dinov2-small", "dinov2-base")


def _configs(name: str) -> dict:
    return json.loads(resources.files("tdl.testing").joinpath("configs", name).read_text())


def _scaled(cfg: dict, tiny: dict | None, scale: str) -> dict:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    return {**cfg, **(tiny or {})} if scale == "tiny" else dict(cfg)


def _bytes_to_unicode() -> list[str]:
    """CLIP's (and GPT-2's) byte -> printable-character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def local_clip_tokenizer(folder: str | Path, max_length: int = 77):
    """Write the byte-level CLIP tokenizer described above to `folder` and load it (CLIPTokenizer)."""
    from transformers import CLIPTokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    symbols = _bytes_to_unicode()
    vocab = {s: i for i, s in enumerate(symbols)}
    vocab.update({s + "</w>": 256 + i for i, s in enumerate(symbols)})
    vocab.update({"<|startoftext|>": 512, "<|endoftext|>": 513})
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "model_max_length": max_length, "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "do_lower_case": True,
        "tokenizer_class": "CLIPTokenizer"}))
    return CLIPTokenizer.from_pretrained(str(folder))


def build_sd15(scale: str = "full", device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
               seed: int = 0, tokenizer_dir: str | Path | None = None):
    """A StableDiffusionPipeline of SD 1.5's architecture with random weights (PNDM, no safety checker)."""
    import tempfile

    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    c = _configs("sd15.json")
    tiny = c["tiny"]
    torch.manual_seed(seed)
    with torch.device(device):  # initialise on the device: seconds instead of a minute on a CPU
        unet = UNet2DConditionModel(**_scaled(c["unet"], tiny["unet"], scale))
        vae = AutoencoderKL(**_scaled(c["vae"], tiny["vae"], scale))
        text = CLIPTextModel(CLIPTextConfig(**_scaled(c["text_encoder"], tiny["text_encoder"], scale)))
    tok = local_clip_tokenizer(tokenizer_dir or tempfile.mkdtemp(prefix="tdl-tokenizer-"))
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text, tokenizer=tok,
                                   scheduler=PNDMScheduler.from_config(c["scheduler"]), safety_checker=None,
                                   feature_extractor=None, image_encoder=None, requires_safety_checker=False)
    return pipe.to(device=device, dtype=dtype)


def build_vision(name: str, scale: str = "full", device: str | torch.device = "cpu", seed: int = 0):
    """`(model, preprocessor dict)` for one of VISION: CLIPVisionModelWithProjection or Dinov2Model."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection, Dinov2Config, Dinov2Model

    c = _configs("vision.json")
    if name not in VISION:
        raise ValueError(f"unknown vision model {name!r}; one of {VISION}")
    entry, tiny = c[name], c["tiny"]
    cfg = _scaled(entry["config"], tiny[entry["kind"]], scale)
    torch.manual_seed(seed)
    with torch.device(device):
        if entry["kind"] == "clip":
            model = CLIPVisionModelWithProjection(CLIPVisionConfig(**cfg))
        else:
            model = Dinov2Model(Dinov2Config(**cfg))
    pre = {**entry["preprocessor"], **(tiny["preprocessor"] if scale == "tiny" else {})}
    return model.eval(), pre


def save_vision(name: str, folder: str | Path, scale: str = "full", seed: int = 0) -> Path:
    """`build_vision` saved as a model folder that `tdl.features` loads (`--feature-model FOLDER`)."""
    model, pre = build_vision(name, scale, seed=seed)
    folder = Path(folder)
    model.save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(pre))
    return folder


def save_sd15(folder: str | Path, scale: str = "full", dtype: torch.dtype = torch.float32,
              device: str = "cpu", seed: int = 0) -> Path:
    """`build_sd15` saved with `save_pretrained` (a folder `tdl sample --model FOLDER` reads)."""
    folder = Path(folder)
    pipe = build_sd15(scale, device, dtype, seed)
    pipe.save_pretrained(folder)
    return folder
