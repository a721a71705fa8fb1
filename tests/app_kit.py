"""Shared set-up of the AppState tests (tests/test_app_state.py, test_app_sampling.py,
test_app_training.py, test_app_files.py; test_web.py): the tiny training settings, the exact
three-mode model dressed as a model, and a fresh AppState with no display.

Models are either the exact Gaussian-mixture denoiser (sandbox.oracle, dressed as a model) or
tiny networks trained for a few dozen steps, so every test runs in seconds.
"""
import numpy as np
import pytest
import torch

from sandbox.app import engine
from sandbox.app.settings import Settings, TrainSettings
from sandbox.app.state import AppState
from sandbox.datasets import Normalizer
from sandbox.oracle import GaussianMixture, MixtureField
from sandbox.paths import FlowPath

TINY = TrainSettings(train_steps=25, batch_size=64, width=16, depth=1, lr=3e-3, eval_every=0)
MEANS = np.array([[3.0, 1.0], [5.0, 1.0], [4.0, 3.0]])  # data coordinates, far from the origin


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """Autosaves and remembered folders go to the test's own folder (test files use it autouse)."""
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))


def exact_model(means=MEANS, std=0.05, path=None):
    """The exact denoiser of a mixture of tight Gaussians at `means` (data coordinates)."""
    norm = Normalizer(np.asarray(means).mean(0), 1.7)
    mc = torch.tensor(norm.forward(np.asarray(means, np.float64)), dtype=torch.float32)
    k = len(means)
    covs = (std / norm.scale) ** 2 * torch.eye(2).repeat(k, 1, 1)
    field = MixtureField(GaussianMixture(torch.ones(k), mc, covs), path or FlowPath())
    return engine.ExactModel(field, norm, name="three")


def make_state(tmp_path, **kw) -> AppState:
    kw.setdefault("settings", Settings(train=TINY, particles=300))
    return AppState(None, load_shipped=False, auto_train=False, out_dir=tmp_path, **kw)


def with_model(st: AppState, model) -> AppState:
    st.models[engine.model_key(model)] = model
    st.resample()
    st.wait_idle()
    return st
