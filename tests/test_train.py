"""Training loop: reaches quality on moons, seeded, stops on divergence, rejects bad input."""
import numpy as np
import pytest
import torch

from sandbox import metrics
from sandbox.bundle import DiffusionModel
from sandbox.datasets import make_preset
from sandbox.errors import UserError
from sandbox.train import TrainConfig, lr_factor, resolve_device, train


def _run(cfg, ps):
    events = list(train(cfg, ps, "cpu"))
    return events, events[-1].model


def test_short_run_on_moons_reaches_quality():
    """300 steps (about a second) bring the samples within a small factor of data-vs-data noise;
    the untrained net is far off (so the threshold can fail)."""
    ps = make_preset("moons", 4000, seed=0, labels=False)
    cfg = TrainConfig(objective="flow", steps=300, eval_every=300)
    events, model = _run(cfg, ps)
    assert events[-1].score < 2.5 * events[-1].baseline  # the in-loop score: heun 10, one x_T draw
    data = model.normalizer.forward(torch.as_tensor(ps.points))
    ratio = metrics.compare(model.sample(2000, seed=1, coords="canonical").final, data).ratio  # default sampler
    assert ratio < 2.0, ratio
    # the plain call returns data coordinates: compared with the data as given, the same ratio
    in_data = model.sample(2000, seed=1)
    assert in_data.coords == "data"
    same = metrics.compare(in_data.final, torch.as_tensor(ps.points)).ratio
    assert abs(same - ratio) < 1e-3 * ratio, (same, ratio)
    ev = next(train(TrainConfig(**{**cfg.to_dict(), "steps": 1, "eval_every": 1}), ps, "cpu"))
    assert ev.score > 4 * ev.baseline


@pytest.mark.parametrize("objective", ["flow", "ddpm"])
def test_seeded_runs_are_identical(objective):
    ps = make_preset("smiley", 500, seed=0)
    cfg = TrainConfig(objective=objective, steps=15, eval_every=0, width=32, batch_size=64, conditional=True)
    a = [e.loss for e in train(cfg, ps, "cpu")]
    b = [e.loss for e in train(cfg, ps, "cpu")]
    c = [e.loss for e in train(TrainConfig(**{**cfg.to_dict(), "seed": 1}), ps, "cpu")]
    assert a == b and a != c and len(a) == 15


def test_ema_model_is_the_moving_average_of_the_trained_weights():
    ps = make_preset("moons", 300, seed=0, labels=False)
    base = dict(steps=6, eval_every=0, width=16, depth=1, batch_size=32)
    raw, losses = [], []
    for ev in train(TrainConfig(**base, ema=0.0), ps, "cpu"):  # without EMA the model is the trained net
        raw.append([p.detach().clone() for p in ev.model.net.parameters()])
        losses.append(ev.loss)
    events = list(train(TrainConfig(**base, ema=0.9), ps, "cpu"))
    assert [e.loss for e in events] == losses  # averaging does not change the training itself
    avg = [p.detach().clone() for p in build_initial(base, ps).parameters()]
    for k, params in enumerate(raw):
        w = 1.0 - min(0.9, (1.0 + k) / (10.0 + k))
        avg = [a + w * (p - a) for a, p in zip(avg, params)]
    for a, p in zip(avg, events[-1].model.net.parameters()):
        assert torch.allclose(a, p, atol=1e-6)
    assert not torch.allclose(raw[-1][0], avg[0])


def build_initial(base, ps):
    from sandbox.train import build_model

    return build_model(TrainConfig(**base), ps, torch.device("cpu")).net


def test_events_every_step_and_scores_every_k():
    ps = make_preset("moons", 300, seed=0, labels=False)
    cfg = TrainConfig(steps=7, eval_every=3, eval_samples=100, width=16, batch_size=32)
    events = list(train(cfg, ps, "cpu"))
    assert [e.step for e in events] == list(range(1, 8))
    assert [e.score is not None for e in events] == [False, False, True, False, False, True, True]
    assert all(e.baseline > 0 for e in events if e.score is not None)
    assert isinstance(events[-1].model, DiffusionModel) and events[-1].model.config["stats"]["steps"] == 7


def test_training_does_not_touch_the_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    for _ in train(TrainConfig(steps=2, eval_every=0, width=16), make_preset("moons", 100), "cpu"):
        pass
    assert torch.equal(torch.rand(3), expected)


def test_divergence_is_a_user_error():
    ps = make_preset("moons", 500, seed=0)
    with pytest.raises(UserError, match="training diverged.*lower the learning rate"):
        for _ in train(TrainConfig(steps=200, lr=1e3, warmup=0, eval_every=0, width=32), ps, "cpu"):
            pass


class Raw:
    """Unvalidated data (PointSet itself refuses these), to check train() is defensive."""

    def __init__(self, points):
        self.points, self.labels, self.class_names, self.name = np.asarray(points, dtype=np.float32), None, [], "raw"


@pytest.mark.parametrize("points", [[[0.0, 0.0]], np.zeros((0, 2)), [[0.0, np.nan], [1.0, 1.0]],
                                    [[np.inf, 0.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]], np.zeros((5, 3))])
def test_bad_data_is_a_user_error(points):
    with pytest.raises(UserError):
        next(train(TrainConfig(steps=2, eval_every=0), Raw(points), "cpu"))


@pytest.mark.parametrize("bad", [{"objective": "gan"}, {"prediction": "score"}, {"schedule": "sigmoid"},
                                 {"steps": 0}, {"batch_size": -1}, {"lr": 0.0}, {"lr": float("nan")},
                                 {"label_dropout": 1.0}, {"eval_every": -1}, {"width": 2.5}])
def test_bad_config_is_a_user_error(bad):
    with pytest.raises(UserError):
        next(train(TrainConfig(**bad), make_preset("moons", 100), "cpu"))


def test_conditional_needs_labels():
    with pytest.raises(UserError, match="labels"):
        next(train(TrainConfig(conditional=True), make_preset("checkerboard", 100), "cpu"))


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(UserError):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="cuda"):
            resolve_device("cuda")
    if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        with pytest.raises(UserError, match="mps"):
            resolve_device("mps")


def test_lr_schedule_warmup_then_cosine():
    assert lr_factor(0, 10, 100) == pytest.approx(0.1)
    assert lr_factor(9, 10, 100) == pytest.approx(1.0)
    assert lr_factor(10, 10, 100) == pytest.approx(1.0)
    assert lr_factor(55, 10, 100) == pytest.approx(0.5)
    assert lr_factor(100, 10, 100) == pytest.approx(0.0)


def test_ema_uses_the_public_api_and_averages():
    import pathlib

    import torch

    from sandbox.train import update_ema

    src = (pathlib.Path(__file__).resolve().parent.parent / "sandbox" / "train.py").read_text()
    assert "torch._" not in src  # no private torch API (was torch._foreach_lerp_)
    e, p = [torch.zeros(3), torch.ones(2)], [torch.ones(3), torch.zeros(2)]
    update_ema(e, p, 0.25)
    assert torch.allclose(e[0], torch.full((3,), 0.25)) and torch.allclose(e[1], torch.full((2,), 0.75))


def test_cache_folder_follows_the_os_convention(monkeypatch, tmp_path):
    import platformdirs

    from sandbox.app.session import cache_dir

    monkeypatch.delenv("DIFFUSION_SANDBOX_CACHE", raising=False)
    assert cache_dir() == pathlib_path(platformdirs.user_cache_dir("diffusion-sandbox", appauthor=False))
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path


def pathlib_path(p):
    import pathlib

    return pathlib.Path(p)


def test_training_stops_when_the_score_stops_improving():
    from sandbox.datasets import make_preset
    from sandbox.train import COOLDOWN, STOP_CAP, STOP_CONVERGED, TrainConfig, train

    cfg = TrainConfig(steps=3000, eval_every=25, patience=2, width=32, batch_size=128, eval_samples=300)
    events = list(train(cfg, make_preset("eight_gaussians", n=500)))
    last = events[-1]
    assert last.stopped == STOP_CONVERGED and last.step < cfg.steps  # ended itself, with a reason
    assert all(ev.stopped is None for ev in events[:-1])
    assert last.model.config["stats"]["stopped"] == STOP_CONVERGED
    assert last.step % cfg.eval_every == COOLDOWN % cfg.eval_every  # after the cool-down
    short = list(train(TrainConfig(steps=30, eval_every=0, width=16), make_preset("moons", n=100)))
    assert short[-1].stopped == STOP_CAP and len(short) == 30


def test_cpu_step_is_torch_adam():
    """The CPU step calls torch's functional Adam (no torch.optim.Adam object: constructing one imports
    torch._dynamo, ~1.3 s); 20 steps match the optimiser class (foreach) to float rounding."""
    from sandbox.model import MLP, MLPConfig
    from sandbox.train_step import _functional, _with_class

    def run(make):
        torch.manual_seed(0)
        net = MLP(MLPConfig(width=32, depth=2))
        g = torch.Generator().manual_seed(1)
        x = torch.randn(256, 2, generator=g)

        def loss():
            t = torch.rand(64, generator=g)
            i = torch.randint(0, 256, (64,), generator=g)
            return ((net(x[i], t) - x[i]) ** 2).mean()

        step = make(net, loss)
        losses = [float(step(1e-2 * (1 - k / 20)).detach()) for k in range(20)]
        return losses, [p.detach().clone() for p in net.parameters()]

    betas = (0.9, 0.95)
    ours = run(lambda net, loss: _functional(net, loss, betas))

    ref = run(lambda net, loss: _with_class(net, loss, 1e-2, betas, torch.device("cpu")))
    assert ours[0] == pytest.approx(ref[0], rel=1e-5)
    for a, b in zip(ours[1], ref[1]):
        assert torch.allclose(a, b, atol=1e-6)
