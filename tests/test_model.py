"""The MLP: time embedding against diffusers, Fourier features, class embedding, shapes, gradients."""
import math

import pytest
import torch

from sandbox.model import MLP, MLPConfig, sinusoidal_embedding


def test_time_embedding_equals_diffusers():
    from diffusers.models.embeddings import get_timestep_embedding

    t = torch.rand(50, generator=torch.Generator().manual_seed(0))
    ours = sinusoidal_embedding(t, 32, scale=1000.0)
    ref = get_timestep_embedding(t * 1000.0, 32, flip_sin_to_cos=False, downscale_freq_shift=0)
    assert torch.allclose(ours, ref, atol=1e-4)  # float32 sin of arguments up to 1000


def test_time_embedding_closed_form():
    emb = sinusoidal_embedding(torch.tensor([0.0, 0.5]), 4, scale=2.0)
    # half = 2, frequencies 1 and 1/100; arguments 0 and (1, 0.01)
    expected = torch.tensor([[0.0, 0.0, 1.0, 1.0], [math.sin(1.0), math.sin(0.01), math.cos(1.0), math.cos(0.01)]])
    assert torch.allclose(emb, expected, atol=1e-6)


@pytest.mark.parametrize("cfg", [MLPConfig(), MLPConfig(width=16, depth=1, fourier_features=8, num_classes=3),
                                 MLPConfig(width=8, depth=2, time_embed_dim=4, dim=3)])
def test_shapes_and_scalar_time(cfg):
    net = MLP(cfg)
    x = torch.randn(7, cfg.dim)
    out = net(x, torch.full((7,), 0.3))
    assert out.shape == (7, cfg.dim)
    assert torch.allclose(net(x, 0.3), out)


def test_fourier_features_are_seeded_buffers():
    a, b = MLP(MLPConfig(fourier_features=8, seed=1)), MLP(MLPConfig(fourier_features=8, seed=1))
    c = MLP(MLPConfig(fourier_features=8, seed=2))
    assert torch.equal(a.fourier_B, b.fourier_B) and not torch.equal(a.fourier_B, c.fourier_B)
    assert "fourier_B" in a.state_dict()
    assert all(p is not a.fourier_B for p in a.parameters())  # fixed, not trained
    g = MLP(MLPConfig(fourier_features=16, fourier_scale=3.0, seed=0)).fourier_B
    assert 2.0 < float(g.std()) < 4.0


def test_class_embedding_and_null_class():
    torch.manual_seed(0)
    net = MLP(MLPConfig(width=16, depth=1, num_classes=2))
    assert net.null_class == 2 and net.class_embed.num_embeddings == 3
    x, t = torch.randn(5, 2), torch.rand(5)
    null = torch.full((5,), 2)
    assert torch.equal(net(x, t, None), net(x, t, null))
    assert not torch.allclose(net(x, t, torch.zeros(5, dtype=torch.long)), net(x, t, null))
    # an unconditional net ignores labels entirely
    unc = MLP(MLPConfig(width=16, depth=1))
    assert torch.equal(unc(x, t, None), unc(x, t, torch.zeros(5, dtype=torch.long)))


def test_every_parameter_gets_a_gradient():
    net = MLP(MLPConfig(width=16, depth=2, fourier_features=4, num_classes=2))
    labels = torch.tensor([0, 1, 2, 1])
    net(torch.randn(4, 2), torch.rand(4), labels).pow(2).sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


def test_config_round_trip_and_bad_config():
    cfg = MLPConfig(width=32, depth=2, fourier_features=4, fourier_scale=2.5, num_classes=3)
    assert MLPConfig.from_dict({**cfg.to_dict(), "unknown": 1}) == cfg
    with pytest.raises(ValueError):
        MLP(MLPConfig(width=0))


def test_ddim_with_eta_is_seeded_through_the_model():
    """Every sampler gets the seeded generator, so DDIM with eta > 0 repeats with its seed."""
    from sandbox.datasets import make_preset
    from sandbox.train import TrainConfig, build_model

    model = build_model(TrainConfig(objective="ddpm", width=16, depth=1), make_preset("moons", 200),
                        torch.device("cpu"))
    run = lambda seed: model.sample(300, sampler="ddim", steps=10, eta=0.5, seed=seed).final  # noqa: E731
    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))
    x_T = torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    a = model.sample(300, sampler="ddim", steps=10, eta=0.5, seed=1, x_T=x_T).final
    b = model.sample(300, sampler="ddim", steps=10, eta=0.5, seed=2, x_T=x_T).final
    assert not torch.equal(a, b)  # same start: only the injected noise differs


def test_flow_model_samples_stay_bounded_when_the_net_extrapolates():
    """A flow net extrapolates linearly far from its data; Heun then fed ever larger velocities to a
    rare far noise point (a 4000-step moons model sent 1 sample in 2000 to |x| ~ 1e4..5e10). The
    model's field clamps x0 to 1.5x the data's box, as for DDPM, so samples stay near the data."""
    import torch

    from sandbox import samplers
    from sandbox.modelio import load_model, shipped_model_path

    model = load_model(shipped_model_path("moons", "flow"))
    net = model.net

    class Extrapolating(torch.nn.Module):  # the net plus a steep linear term far from the data
        def forward(self, x, t, labels=None):
            far = (x.norm(dim=1, keepdim=True) - 3.0).clamp(min=0.0)
            return net(x, t, labels) - 40.0 * far * x

    model.net = Extrapolating()
    x_T = torch.tensor([[0.1, 0.2], [4.0, 0.0], [0.0, -4.5], [3.5, 3.5]])
    box = model.clip_box()
    assert box is not None and 1.0 < box < 10.0
    final = samplers.run(model.field(), "heun", x_T, 20).final
    assert torch.isfinite(final).all() and final.abs().max() <= 1.01 * box
    unclipped = samplers.run(model.field(clip=False), "heun", x_T, 20).final
    assert not (torch.isfinite(unclipped).all() and unclipped.abs().max() <= 1.01 * box)  # the failure it guards
