"""Write random-weight, real-architecture model folders that `tdl` reads (no download):

    python bench/tdl_sd_build.py DIR [--scale full|tiny] [--dtype float16] [--device cuda]

DIR/sd15 (a StableDiffusionPipeline: `tdl sample --source diffusers --model DIR/sd15`), and the image
encoders DIR/clip-vit-b-32, DIR/clip-vit-l-14, DIR/dinov2-small (`--feature-model`), built from the
published configs in tdl/testing/configs/.
"""
import argparse
import sys
from pathlib import Path

import torch

from tdl.testing.random_models import save_sd15, save_vision


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--scale", default="full")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    save_sd15(a.dir / "sd15", a.scale, getattr(torch, a.dtype), a.device)
    for name in ("clip-vit-b-32", "clip-vit-l-14", "dinov2-small"):
        save_vision(name, a.dir / name, a.scale)
    print(f"wrote {a.dir}: sd15, clip-vit-b-32, clip-vit-l-14, dinov2-small ({a.scale})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
