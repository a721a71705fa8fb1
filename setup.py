"""Only the package list, which pyproject.toml cannot express: every package found under sandbox/,
tdl/ and lessons/, plus the top-level assets/ folder installed as `diffusion_sandbox_assets`
(mapped in pyproject.toml's [tool.setuptools.package-dir]). Everything else is in pyproject.toml."""
from setuptools import find_namespace_packages, setup

code = find_namespace_packages(include=["sandbox", "sandbox.*", "tdl", "tdl.*", "lessons", "lessons.*"],
                               exclude=["*.__pycache__"])
assets = ["diffusion_sandbox_assets", "diffusion_sandbox_assets.models", "diffusion_sandbox_assets.digits"]
setup(packages=code + assets)
