"""The shipped assets of diffusion-sandbox, installed as the package `diffusion_sandbox_assets`.

This folder is the repository's top-level `assets/`; pyproject.toml maps the import package onto it
(`[tool.setuptools.package-dir]`), so wheels, sdists and editable installs all carry it. Code never
reads it by path: `sandbox.resources` finds every file through `importlib.resources`.

    models/   the 2D preset models (<preset>-<flow|ddpm>.safetensors; scripts/train_presets.py)
    digits/   TDL's built-in digits denoiser and encoder (python -m tdl.digits.train)
"""
