"""Objectives against oracles: hand-derived x_t and targets, diffusers' add_noise / get_velocity,
exact inversion by to_x0, the exact mixture denoiser as the loss minimiser, brute-force OT."""
import itertools

import pytest
import torch

from sandbox import oracle, ot
from sandbox.objectives import DDPMObjective, FlowObjective, drop_labels, make_objective
from sandbox.schedules import cosine, linear


def _x0(n=64, seed=0):
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed)) * 0.7 + 0.3


@pytest.mark.parametrize("prediction", ["eps", "x0", "v"])
@pytest.mark.parametrize("make", [linear, cosine])
def test_ddpm_batch_matches_hand_derivation_and_diffusers(prediction, make):
    from diffusers import DDPMScheduler

    sched = make(1000)
    obj = DDPMObjective(sched, prediction)
    x0 = _x0()
    x_t, t, tgt = obj.training_batch(x0, torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)  # replay the same draws by hand
    i = torch.randint(0, 1000, (64,), generator=g)
    eps = torch.randn(64, 2, generator=g)
    ab = sched.alphas_cumprod[i].float()[:, None]
    assert torch.allclose(t, (i + 1).float() / 1000)
    assert torch.allclose(x_t, ab.sqrt() * x0 + (1 - ab).sqrt() * eps, atol=1e-5)
    ref = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear" if make is linear else "squaredcos_cap_v2")
    assert torch.allclose(x_t, ref.add_noise(x0, eps, i), atol=1e-5)
    expected = {"eps": eps, "x0": x0, "v": ref.get_velocity(x0, eps, i)}[prediction]
    assert torch.allclose(tgt, expected, atol=1e-5)


def test_flow_batch_matches_hand_derivation():
    obj = FlowObjective()
    x0 = _x0()
    x_t, t, tgt = obj.training_batch(x0, torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    t_ref = torch.rand(64, generator=g)
    eps = torch.randn(64, 2, generator=g)
    assert torch.equal(t, t_ref)
    assert torch.allclose(x_t, (1 - t_ref)[:, None] * x0 + t_ref[:, None] * eps, atol=1e-6)
    assert torch.allclose(tgt, eps - x0, atol=1e-6)


@pytest.mark.parametrize("obj", [DDPMObjective(linear(1000), p) for p in ("eps", "x0", "v")]
                         + [DDPMObjective(cosine(100), "v"), FlowObjective()], ids=lambda o: str(o.config()))
def test_to_x0_inverts_the_exact_target(obj):
    x0 = _x0(256)
    eps = torch.randn(256, 2, generator=torch.Generator().manual_seed(1))
    # t over the whole range, including both ends of the training grid
    t = torch.cat([torch.tensor([1.0 / getattr(obj, "T", 1000), 1.0]),
                   torch.rand(254, generator=torch.Generator().manual_seed(2))])
    if isinstance(obj, DDPMObjective):
        t = (torch.round(t * obj.T).clamp(1, obj.T)) / obj.T
    else:
        t = t.clamp(max=0.999)  # x_t carries no information on x0 at exactly t = 1 for flow
    x_t = obj.sample_xt(x0, eps, t)
    recovered = obj.to_x0(obj.target(x0, eps, t), x_t, t)
    assert torch.allclose(recovered, x0, atol=2e-4)
    # a scalar t works as well
    assert torch.allclose(obj.to_x0(obj.target(x0, eps, t[5:6].expand(256)), obj.sample_xt(x0, eps, t[5:6].expand(256)),
                                    float(t[5])), x0, atol=2e-4)


class ExactNet(torch.nn.Module):
    """The exact denoiser of a Gaussian mixture, answering in the objective's output units,
    optionally perturbed: x0_hat -> scale * x0_hat + shift."""

    def __init__(self, mixture, obj, shift=0.0, scale=1.0):
        super().__init__()
        self.mixture, self.obj, self.shift, self.scale = mixture, obj, shift, scale

    def forward(self, x, t, labels=None):
        a, s = self.obj.path.alpha(t)[:, None], self.obj.path.sigma(t)[:, None]
        x0 = self.mixture.posterior_mean(x, a[:, 0], s[:, 0]) * self.scale + self.shift
        eps = (x - a * x0) / s
        if isinstance(self.obj, FlowObjective):
            return eps - x0
        return {"eps": eps, "x0": x0, "v": a * eps - s * x0}[self.obj.prediction]


@pytest.mark.parametrize("obj", [DDPMObjective(linear(1000), p) for p in ("eps", "x0", "v")] + [FlowObjective()],
                         ids=lambda o: str(o.config()))
def test_exact_denoiser_minimises_the_loss(obj):
    mix = oracle.eight_gaussians(radius=1.0, std=0.1)
    x0 = mix.sample(8192, torch.Generator().manual_seed(0))

    def loss(net):  # common random numbers: the same batch for every candidate
        return float(obj.loss(net, x0, generator=torch.Generator().manual_seed(7)))

    exact = loss(ExactNet(mix, obj))
    for shift, scale in [(0.05, 1.0), (0.0, 1.05), (-0.02, 0.97)]:
        assert exact < loss(ExactNet(mix, obj, shift, scale))


def test_ot_coupling_equals_brute_force():
    g = torch.Generator().manual_seed(0)
    for b in range(1, 7):
        x0, x1 = torch.randn(b, 2, generator=g), torch.randn(b, 2, generator=g)
        best = min(sum(float(((x0[i] - x1[p[i]]) ** 2).sum()) for i in range(b))
                   for p in itertools.permutations(range(b)))
        perm = ot.ot_permutation(x0, x1)
        assert sorted(perm.tolist()) == list(range(b))
        assert abs(ot.mean_pair_cost(x0, x1[perm]) * b - best) < 1e-5


def test_ot_blocks_are_each_an_exact_assignment():
    g = torch.Generator().manual_seed(2)
    x0, x1 = torch.randn(300, 2, generator=g), torch.randn(300, 2, generator=g)
    coupled = ot.ot_couple(x0, x1, block=128)
    for i in range(0, 300, 128):  # blocks 128, 128, 44: each a permutation of its own rows, optimal there
        a, b, c = x0[i:i + 128], x1[i:i + 128], coupled[i:i + 128]
        assert torch.equal(torch.sort(c[:, 0]).values, torch.sort(b[:, 0]).values)
        assert abs(ot.mean_pair_cost(a, c) - ot.mean_pair_cost(a, b[ot.ot_permutation(a, b)])) < 1e-9
    assert torch.equal(ot.ot_couple(x0[:100], x1[:100], block=128), x1[:100][ot.ot_permutation(x0[:100], x1[:100])])


def test_ot_flow_objective_pairs_closer():
    g = torch.Generator().manual_seed(1)
    x0 = _x0(256)
    eps = torch.randn(256, 2, generator=g)
    coupled = FlowObjective(ot=True).couple(x0, eps)
    assert ot.mean_pair_cost(x0, coupled) < 0.5 * ot.mean_pair_cost(x0, eps)
    assert torch.equal(torch.sort(coupled[:, 0]).values, torch.sort(eps[:, 0]).values)  # a permutation
    assert FlowObjective(ot=False).couple(x0, eps) is eps


def test_label_dropout_and_null_class():
    labels = torch.randint(0, 3, (4000,), generator=torch.Generator().manual_seed(0))
    out = drop_labels(labels, 3, 0.25, 4000, "cpu", torch.Generator().manual_seed(1))
    dropped = out == 3
    assert 0.22 < float(dropped.float().mean()) < 0.28
    assert torch.equal(out[~dropped], labels[~dropped])
    assert torch.equal(drop_labels(None, 3, 0.1, 5, "cpu"), torch.full((5,), 3))
    assert drop_labels(labels, 0, 0.1, 4000, "cpu") is None


def test_loss_passes_dropped_labels_to_the_net():
    seen = {}

    def net(x, t, labels):
        seen["labels"] = labels
        return torch.zeros_like(x)

    x0 = _x0(1000)
    labels = torch.zeros(1000, dtype=torch.long)
    FlowObjective().loss(net, x0, labels, torch.Generator().manual_seed(0), label_dropout=0.5, num_classes=2)
    frac_null = float((seen["labels"] == 2).float().mean())
    assert 0.4 < frac_null < 0.6 and set(seen["labels"].tolist()) == {0, 2}
    # zero network output: the loss is the mean squared target, replayed by hand
    g = torch.Generator().manual_seed(4)
    torch.rand(1000, generator=g)
    expected = float(((torch.randn(1000, 2, generator=g) - x0) ** 2).mean())
    got = float(FlowObjective().loss(net, x0, generator=torch.Generator().manual_seed(4)))
    assert abs(got - expected) < 1e-6


@pytest.mark.parametrize("obj", [FlowObjective(ot=True), DDPMObjective(cosine(50), "v"), DDPMObjective(linear(1000))])
def test_config_round_trip(obj):
    again = make_objective(obj.config())
    assert again.config() == obj.config()
    t = torch.linspace(0.02, 1, 50)
    assert torch.allclose(again.path.alpha(t), obj.path.alpha(t))


# --- stable targets (Xu et al. 2023) against the memorising oracle of the training points ----------
def _stable_case(obj, n_data=40, batch=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    data = torch.randn(n_data, 2, generator=g) * 0.8
    x0 = data[torch.randint(0, n_data, (batch,), generator=g)]
    return data, x0


@pytest.mark.parametrize("obj", [FlowObjective(), DDPMObjective(linear(1000), "eps"),
                                 DDPMObjective(cosine(1000), "v"), DDPMObjective(cosine(1000), "x0")],
                         ids=["flow", "ddpm-linear-eps", "ddpm-cosine-v", "ddpm-cosine-x0"])
def test_stable_target_is_the_posterior_mean_of_the_target(obj):
    """With every training point as reference the target is E[target | x_t] under the empirical
    data: the oracle's memorising denoiser (oracle.PointSetField, a separate implementation) turned
    into the objective's target."""
    from sandbox.objectives import Reference

    data, x0 = _stable_case(obj)
    x_t, t, tgt = obj.training_batch(x0, torch.Generator().manual_seed(5), Reference(data, size=10_000))
    x0_hat = oracle.PointSetField(data, obj.path).x0(x_t, t)
    a, s = obj.coefs(t, x0)
    expected = obj.target(x0_hat, (x_t - a * x0_hat) / s, t)
    small = (s[:, 0] <= 1e-3)  # there the plain target is used (the posterior is the own point)
    assert torch.allclose(tgt[~small], expected[~small], atol=2e-3, rtol=1e-3)
    plain = obj.training_batch(x0, torch.Generator().manual_seed(5))[2]
    assert not torch.allclose(tgt, plain, atol=1e-2)  # it does change the targets


def test_stable_target_reference_batch_counts_the_own_point_and_respects_labels():
    """A reference batch smaller than the data adds each row's own x0; labels restrict the
    posterior to the row's class, and the null label (a dropped label) to none."""
    from sandbox.objectives import posterior_x0

    g = torch.Generator().manual_seed(1)
    ref, x0 = torch.randn(30, 2, generator=g), torch.randn(8, 2, generator=g)
    ref_labels, labels = torch.randint(0, 3, (30,), generator=g), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    a, s = torch.rand(8, 1, generator=g) * 0.9 + 0.1, torch.rand(8, 1, generator=g) * 0.9 + 0.1
    x_t = a * x0 + s * torch.randn(8, 2, generator=g)
    got = posterior_x0(x_t, a, s, x0, ref, True, labels, ref_labels, null_label=3)
    path = ColumnPath(a, s)
    for i in range(8):
        keep = ref_labels == labels[i] if labels[i] != 3 else torch.ones(30, dtype=torch.bool)
        pts = torch.cat([x0[i:i + 1], ref[keep]])
        want = oracle.PointSetField(pts, path).x0(x_t[i:i + 1], torch.tensor([float(i)]))
        assert torch.allclose(got[i], want[0], atol=1e-5)


class ColumnPath:
    """A path whose alpha, sigma at 'time' i are the i-th entries of two columns (test helper)."""

    def __init__(self, a, s):
        self.a, self.s = a[:, 0], s[:, 0]

    def alpha(self, t):
        return self.a[t.long()]

    def sigma(self, t):
        return self.s[t.long()]


def test_stable_targets_skip_ot_pairs():
    """An OT-coupled pair is not drawn from the independent posterior: plain targets, same draws."""
    from sandbox.objectives import Reference

    data, x0 = _stable_case(FlowObjective())
    ot_obj = FlowObjective(ot=True)
    assert not ot_obj.stable() and FlowObjective().stable()
    plain = ot_obj.training_batch(x0, torch.Generator().manual_seed(2))
    with_ref = ot_obj.training_batch(x0, torch.Generator().manual_seed(2), Reference(data, size=10_000))
    assert all(torch.equal(p, q) for p, q in zip(plain, with_ref))
