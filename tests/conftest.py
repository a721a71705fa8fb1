"""Test set-up: no display, no sound, no network, CPU only, few threads."""
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """The tests' tensors are small: one torch thread is as fast, and on a busy 2-core machine two
    threads make tiny networks many times slower (the pool spins waiting for a core)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_sessionstart(session):
    """An environment installed before assets/ became the package `diffusion_sandbox_assets` finds no
    shipped model: say how to fix it once, instead of failing dozens of tests one by one."""
    import importlib.util

    if importlib.util.find_spec("diffusion_sandbox_assets") is None:
        pytest.exit("the shipped assets are not installed in this environment: rerun scripts/setup.sh --dev "
                    "(or pip install -e '.[dev]')", returncode=3)
