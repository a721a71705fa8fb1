"""The public API: light import, errors that are ValueErrors, numpy in, data coordinates out."""
import subprocess
import sys

import numpy as np
import pytest
import torch

import sandbox
import tdl


def test_import_is_light_and_complete():
    code = ("import sys, sandbox, tdl; assert 'torch' not in sys.modules and 'numpy' not in sys.modules, "
            "sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy')); "
            "print(sandbox.__version__, len(sandbox.__all__))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    version, n = run.stdout.split()
    assert version == sandbox.__version__ and version[0].isdigit() and int(n) > 15
    assert sandbox.__all__ == sorted([*sandbox._LAZY, "train", "metrics", "UserError", "__version__"])
    assert tdl.__all__ == sorted([*tdl._LAZY, "plot", "UserError", "__version__"])
    for name in sandbox.__all__:
        assert getattr(sandbox, name) is not None, name
    for name in tdl.__all__:
        assert getattr(tdl, name) is not None, name
    assert callable(sandbox.train) and callable(tdl.plot)
    assert sandbox.train.TrainConfig is sandbox.TrainConfig  # still the module underneath


def test_user_error_is_a_value_error():
    assert issubclass(sandbox.UserError, ValueError)
    with pytest.raises(ValueError, match="2 columns"):
        sandbox.points(np.zeros((5, 3)))
    with pytest.raises(sandbox.UserError, match="neither a file nor a preset"):
        sandbox.points("no-such-thing")
    with pytest.raises(sandbox.UserError, match="unknown training option"):
        sandbox.train(np.random.default_rng(0).normal(size=(50, 2)), stpes=3)
    with pytest.raises(sandbox.UserError, match="coords"):
        sandbox.shipped("moons").sample(10, coords="pixels")
    with pytest.raises(sandbox.UserError, match="no such file"):  # the loader's own message survives
        sandbox.points("missing.csv")


def test_numpy_in_data_coordinates_out():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(800, 2)) * [30.0, 5.0] + [100.0, -40.0]  # far from canonical units
    model = sandbox.train(data, steps=150, eval_every=0, width=64, seed=0)
    traj = sandbox.sample(model, 600, seed=1, steps=10)
    assert traj.coords == "data"
    x = traj.final.numpy()
    assert abs(x[:, 0].mean() - 100) < 5 and abs(x[:, 1].mean() + 40) < 3  # the data's units
    z = sandbox.sample(model, 600, seed=1, steps=10, coords="canonical")
    assert z.coords == "canonical" and abs(float(z.final.mean())) < 0.3
    assert np.allclose(model.normalizer.inverse(z.final.numpy()), x, atol=1e-3)
    # compare takes numpy, tensors, PointSets and trajectories, all giving the same answer
    a = sandbox.compare(x, data)
    b = sandbox.compare(torch.as_tensor(x), sandbox.points(data))
    c = sandbox.compare(traj, data)
    assert a.value == pytest.approx(b.value, rel=1e-5) and a.value == pytest.approx(c.value, rel=1e-5)
    assert a.ratio < 3.0, a  # trained: close to the data in its own units
    assert sandbox.compare(z, data).ratio > 10  # canonical vs data coordinates: far (the old silent bug)
    # the engine's own compare takes numpy too
    assert sandbox.metrics.compare(x, data.astype(np.float32)).value == pytest.approx(a.value, rel=1e-5)


def test_repr_html():
    model = sandbox.shipped("moons")
    card = model._repr_html_()
    assert "flow matching" in card and "moons" in card and "<script" not in card
    traj = sandbox.sample(model, 300, steps=5)
    html = traj._repr_html_()
    assert "DSW.mount" in html and "dsw-" in html
    anim = sandbox.animate(model, 300, steps=5)
    assert "DSW.mount" in anim._repr_html_()
    # the caption names things as the CLI's render does: display names, not registry ids
    assert anim.title == "two moons  \u00b7  flow matching  \u00b7  Euler\u2013Maruyama 5 steps", anim.title


def test_points_from_files_pictures_and_presets(tmp_path):
    from PIL import Image

    pic = np.full((40, 60), 255, np.uint8)
    pic[10:30, 5:20] = 0  # one dark block on the left: all points land there
    Image.fromarray(pic).save(tmp_path / "block.png")
    ps = sandbox.points(tmp_path / "block.png", n=300, seed=0)
    assert ps.points.shape == (300, 2)
    x, y = ps.points[:, 0], ps.points[:, 1]  # picture units: column / 60, (40 - row) / 60
    assert x.min() >= 5 / 60 - 1e-6 and x.max() <= 20 / 60 + 1e-6
    assert y.min() >= 10 / 60 - 1e-6 and y.max() <= 30 / 60 + 1e-6
    np.savetxt(tmp_path / "p.csv", np.random.default_rng(0).normal(size=(20, 2)), delimiter=",")
    assert len(sandbox.points(str(tmp_path / "p.csv"))) == 20
    assert sandbox.points("moons", n=50).name == "moons"
    events = list(sandbox.training(ps, steps=3, eval_every=0, width=16))
    assert [e.step for e in events] == [1, 2, 3] and isinstance(events[-1].model, sandbox.DiffusionModel)


def test_conditional_sampling_by_class_name():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 2)) * 0.3 + [-3, 0], rng.normal(size=(300, 2)) * 0.3 + [3, 0]
    data = sandbox.PointSet(np.vstack([a, b]), np.repeat([0, 1], 300), ["left", "right"], "two")
    model = sandbox.train(data, steps=200, eval_every=0, width=64, conditional=True)
    right = sandbox.sample(model, 200, labels="right", guidance=2.0, steps=10).final.numpy()
    left = sandbox.sample(model, 200, labels=0, guidance=2.0, steps=10).final.numpy()
    assert right[:, 0].mean() > 2 and left[:, 0].mean() < -2
    with pytest.raises(sandbox.UserError, match="unknown class 'middle'"):
        sandbox.sample(model, 10, labels="middle")
    html = sandbox.animate(model, 100, steps=5, labels=["left", "right"] * 50)._repr_html_()
    assert '"classes":["left","right"]' in html


def test_videos_of_data_in_any_units_look_the_same(tmp_path):
    """The exporter's grid is in world units: a data-coordinate animation is drawn in canonical
    ones, so data in kilometres and in millimetres give the same picture."""
    model = sandbox.shipped("moons")
    traj = sandbox.sample(model, 300, steps=5)
    frames = []
    for k, factor in enumerate((1.0, 1000.0)):
        scaled = type(traj)(traj.xs * factor, traj.ts, traj.nfe, traj.labels, traj.sampler, "data")
        out = sandbox.animate(scaled, data=model.data_sample() * factor).save(tmp_path / f"f{k}.png", size="160x120")
        frames.append(np.asarray(__import__("PIL.Image").Image.open(out).convert("RGB"), dtype=int))
    assert np.abs(frames[0] - frames[1]).mean() < 1.0


def test_warm_start_is_passed_through_or_refused_clearly():
    import inspect

    from sandbox.train import train as train_loop

    data = sandbox.preset("moons", n=500)
    model = sandbox.train(data, steps=150, eval_every=0, width=32, depth=2)
    if "init" not in inspect.signature(train_loop).parameters:
        with pytest.raises(sandbox.UserError, match="warm start"):
            sandbox.train(data, steps=2, init=model)
        return
    warm = next(sandbox.training(data, steps=5, eval_every=0, init=model))  # width/depth from the model
    cold = next(sandbox.training(data, steps=5, eval_every=0, width=32, depth=2))
    assert warm.loss < cold.loss  # the trained weights start far closer
    with pytest.raises(sandbox.UserError, match="init must be a DiffusionModel"):
        sandbox.train(data, steps=2, init="moons.safetensors")


def test_warm_start_takes_the_init_models_network(monkeypatch):
    """What `sandbox.train(..., init=model)` hands the engine's loop: the model, and a config with
    the model's architecture and objective (so the weights fit), the caller's other settings."""
    import sandbox.train as train_module

    seen = {}

    def loop(cfg, pointset, device=None, init=None):
        seen.update(cfg=cfg, init=init)
        yield train_module.TrainEvent(1, torch.tensor(0.5), None, None, init)

    monkeypatch.setattr(train_module, "train", loop)
    model = sandbox.shipped("moons", objective="ddpm")
    prior = model.config["train"]
    out = sandbox.train(sandbox.preset("moons", n=100), steps=7, lr=1e-3, init=model)
    cfg = seen["cfg"]
    assert out is model and seen["init"] is model
    assert (cfg.objective, cfg.width, cfg.depth, cfg.fourier) == ("ddpm", prior["width"], prior["depth"],
                                                                   prior["fourier"])
    assert cfg.steps == 7 and cfg.lr == 1e-3


def test_non_2d_trajectories_keep_the_plain_repr():
    traj = sandbox.Trajectory(torch.zeros(3, 4, 5), torch.tensor([1.0, 0.5, 0.0]), 2)
    assert traj._repr_html_() is None
    with pytest.raises(sandbox.UserError, match="cannot read points"):
        sandbox.points(object())


def test_sample_refuses_what_the_cli_refuses():
    """`sandbox.sample(model, 10**10)` reached torch (an 80 GB allocation, RuntimeError) and seed=-1
    passed; the Python API now has the CLI's ranges and memory check."""
    model = sandbox.shipped("moons")
    for kwargs, needle in [(dict(n=10 ** 10), "number of samples must be from 1 to 10_000_000"),
                           (dict(n=10, seed=-1), "seed must be from 0"),
                           (dict(n=10, steps=0), "steps must be from 1"),
                           (dict(n=9_000_000, steps=100_000), "more than this machine can spare")]:
        with pytest.raises(sandbox.UserError, match=needle):
            sandbox.sample(model, **kwargs)
    assert sandbox.sample(model, 5, seed=2 ** 63 - 1).final.shape == (5, 2)


def test_train_on_a_preset_name_draws_it_large():
    """sandbox.train("rings") trains on datasets.TRAIN_DRAW points of the preset, as the CLI does;
    an array is used as it is."""
    import sandbox
    from sandbox.datasets import TRAIN_DRAW

    assert sandbox.train("rings", steps=2, width=16, depth=1).data_summary["n"] == TRAIN_DRAW
    pts = np.random.default_rng(0).normal(size=(60, 2))
    assert sandbox.train(pts, steps=2, width=16, depth=1).data_summary["n"] == 60


def test_the_api_trains_and_samples_with_the_clis_thread_policy(monkeypatch):
    """In a notebook at load 11 on 2 cores, sandbox.train('moons') took 355 s wall (100 s CPU) with
    torch's two threads spin-waiting; the CLI takes ~4 s with one (sandbox/threads.py). The API now
    uses the policy while it works and gives the user's torch setting back."""
    monkeypatch.delenv("DIFFUSION_SANDBOX_THREADS", raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = set()
        for event in sandbox.training(np.random.default_rng(0).normal(size=(200, 2)), steps=3, eval_every=0):
            seen.add(torch.get_num_threads())
        assert seen == {1} and torch.get_num_threads() == 2
        model = event.model
        real = model.sample
        def spy(*a, **k):
            seen.add(("s", torch.get_num_threads()))
            return real(*a, **k)

        monkeypatch.setattr(model, "sample", spy)
        sandbox.sample(model, 10, steps=2)
        assert ("s", 1) in seen and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
