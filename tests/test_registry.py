"""One registry per concept: a sampler registered in one place reaches the CLI and the window."""
import subprocess
import sys

import pytest
import torch

from sandbox import registry
from sandbox.errors import UserError


def _toy(field, x_T, steps, **kw):
    """A 'sampler' that jumps to the denoiser's x0 in one step per step (enough to run)."""
    x = x_T
    yield 1.0, x
    for k in range(steps):
        t = 1.0 - k / steps
        x = field.x0(x, torch.full((x.shape[0],), t))
        yield 1.0 - (k + 1) / steps, x
    return steps


@pytest.fixture
def toy():
    info = registry.SamplerInfo("toy", "Toy", "Jumps to the denoiser's guess.", ("flow", "ddpm"), False, 3, _toy)
    registry.register_sampler(info)
    yield info
    registry.SAMPLERS.unregister("toy")


def test_toy_sampler_reaches_cli_window_and_model(toy):
    from sandbox.app.settings import SAMPLERS_FOR, PaneSettings
    from sandbox.cli.parser import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for cmd in ("sample", "render"):
        action = next(a for a in sub.choices[cmd]._actions if a.dest == "sampler")
        assert "toy" in action.choices and "toy" in action.help
    assert "toy" in SAMPLERS_FOR["flow"] and "toy" in SAMPLERS_FOR["ddpm"]
    assert PaneSettings("flow", sampler="toy").checked().sampler == "toy"
    # and it samples a real model with its declared default steps
    from sandbox.datasets import make_preset
    from sandbox.train import TrainConfig, train

    for ev in train(TrainConfig(steps=2, eval_every=0, width=16, depth=1), make_preset("moons", n=64)):
        pass
    traj = ev.model.sample(10, sampler="toy")
    assert traj.steps == 3 and traj.sampler == "toy"


def test_window_lists_follow_the_registry():
    from sandbox.app import engine
    from sandbox.app.settings import OBJECTIVE_NAMES, SAMPLERS_FOR

    assert SAMPLERS_FOR["flow"] == tuple(n for n, i in registry.SAMPLERS.items() if "flow" in i.paths)
    assert "ddpm" in SAMPLERS_FOR["ddpm"] and "ddpm" not in SAMPLERS_FOR["flow"]
    assert OBJECTIVE_NAMES["flow"] == registry.OBJECTIVES["flow"].display
    assert not hasattr(engine, "DETERMINISTIC")
    assert registry.deterministic_twin("ddpm") == "ddim" and registry.deterministic_twin("euler_maruyama") == "euler"
    for name, info in registry.SAMPLERS.items():
        twin = registry.SAMPLERS[registry.deterministic_twin(name)]
        assert not twin.stochastic and set(info.paths) <= set(twin.paths)


def test_every_declaration_is_complete():
    for reg in (registry.SAMPLERS, registry.OBJECTIVES, registry.PREDICTIONS, registry.SCHEDULES,
                registry.PRESETS):
        for name, info in reg.items():
            assert info.name == name and info.display and info.tooltip.endswith(".")
    for info in registry.SAMPLERS.values():
        assert callable(registry.resolve(info.fn)) and info.default_steps >= 1
        assert set(info.paths) <= {"ddpm", "flow"}
    for info in registry.PRESETS.values():
        assert callable(registry.resolve(info.fn)) and info.noise > 0
    from tdl.feature_registry import EXTRACTORS

    for name, info in EXTRACTORS.items():
        assert info.name == name and info.tooltip and isinstance(registry.resolve(info.cls), type)


def test_unknown_names_are_one_line_user_errors():
    with pytest.raises(UserError, match="unknown sampler 'nope'; choose one of ddpm, ddim"):
        registry.SAMPLERS["nope"]
    with pytest.raises(KeyError):  # still a KeyError for dict-style callers
        registry.PRESETS["nope"]
    assert registry.PRESETS["8gaussians"].name == "eight_gaussians"
    with pytest.raises(ValueError):
        registry.register_sampler(registry.SAMPLERS["ddpm"])


def test_default_steps_adapt_to_the_chain():
    assert registry.SAMPLERS["ddpm"].steps_for(20) == 20
    assert registry.SAMPLERS["ddpm"].steps_for(None) == registry.SAMPLERS["ddpm"].default_steps


def test_registry_imports_no_torch():
    code = "import sys, sandbox.registry, tdl.feature_registry, sandbox.cli.parser; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_docs_are_generated_from_the_registry():
    import pathlib

    script = pathlib.Path(__file__).resolve().parent.parent / "scripts" / "registry_docs.py"
    out = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
