"""Shared set-up of the window-truth tests (tests/test_truth.py, tests/test_truth_window.py): tiny
training, the exact three-mode model, a fresh AppState on its data, and the identity check."""
import numpy as np
import torch

from sandbox.app import engine
from sandbox.app.identity import violations
from sandbox.app.settings import Settings, TrainSettings
from sandbox.app.state import AppState
from sandbox.datasets import Normalizer
from sandbox.oracle import GaussianMixture, MixtureField
from sandbox.paths import DDPMPath, FlowPath
from sandbox.schedules import get_schedule


TINY = TrainSettings(train_steps=30, batch_size=64, width=16, depth=1, lr=3e-3, eval_every=0)
MEANS = np.array([[3.0, 1.0], [5.0, 1.0], [4.0, 3.0]])


def exact(kind: str = "flow", schedule: str = "linear"):
    norm = Normalizer(MEANS.mean(0), 1.7)
    mc = torch.tensor(norm.forward(MEANS), dtype=torch.float32)
    covs = (0.05 / norm.scale) ** 2 * torch.eye(2).repeat(3, 1, 1)
    path = FlowPath() if kind == "flow" else DDPMPath(get_schedule(schedule, 100))
    return engine.ExactModel(MixtureField(GaussianMixture(torch.ones(3), mc, covs), path), norm,
                             name="three")


def fresh(tmp_path, **kw) -> AppState:
    st = AppState(None, load_shipped=False, auto_train=False, autosave=False, out_dir=tmp_path,
                  settings=Settings(train=TINY, particles=200), **kw)
    rng = np.random.default_rng(0)
    st.drawing.replace(MEANS[rng.integers(0, 3, 300)] + 0.05 * rng.normal(size=(300, 2)))
    return st


def check(st: AppState, settled: bool = False) -> None:
    bad = violations(st, settled=settled)
    assert not bad, bad
