"""The evolutionary embedding recovers known structure; determinism; the generator; errors; parametric."""
import os

import pytest
import torch

from sandbox.errors import UserError
from tdl.embedding import EmbedConfig, embed, iterate, prepare
from tdl.metrics import evaluate, evaluate_display, step_separation
from tdl.parametric import ParametricConfig, ParametricEmbedding, band_limits
from tdl.synthetic import branching



@pytest.fixture(scope="module")
def split():
    """One cluster that splits into 4 over 6 steps (64 instances, 20 dimensions)."""
    return branching(steps=6, instances=64, dim=20, clusters=4, seed=0)


def purity(Y, labels, k=5):
    """Share of each point's k nearest neighbours (in Y) that have its label."""
    d = torch.cdist(Y.double(), Y.double())
    d.fill_diagonal_(float("inf"))
    nn = d.topk(k, largest=False).indices
    return (labels[nn] == labels[:, None]).double().mean().item()


@pytest.mark.parametrize("layout", ["radial", "rectilinear"])
def test_recovers_a_splitting_cluster(split, layout):
    X, labels = split
    cfg = EmbedConfig(layout=layout, n_iter=300, perplexity=10)
    r = embed(X, cfg)
    m = evaluate(r.intermediate, r)
    assert r.Y.shape == (6, 64, 2) and r.method == "exact"
    assert m["trustworthiness_opt"] > 0.72  # random positions give about 0.5 (radial defaults: 0.738)
    assert m["step_separation"] > 0.98
    assert purity(r.Y[-1], labels) > 0.7  # the 4 final clusters are found (chance: 0.25)
    assert purity(r.Y[0], labels) < 0.45  # and not yet at the noisy first step, as in the data
    # the alignment loss is what aligns instances across steps
    free = embed(X, EmbedConfig(layout=layout, n_iter=300, perplexity=10, align_weight=0.0))
    assert m["instance_alignment_norm"] < 0.8 * evaluate(free.intermediate, free)["instance_alignment_norm"]


def test_displacement_is_what_keeps_steps_in_their_rings(split):
    X, _ = split
    with_d = evaluate(*(lambda r: (r.intermediate, r))(embed(X, EmbedConfig(n_iter=300, perplexity=10))))
    without = embed(X, EmbedConfig(n_iter=300, perplexity=10, disp_weight=0.0))
    assert with_d["step_separation"] > evaluate(without.intermediate, without)["step_separation"]


def test_approximate_method_matches_exact_quality(split):
    X, labels = split
    X = X[:3]
    r = embed(X, EmbedConfig(method="approx", n_iter=250, perplexity=10, grid_spacing=0.6))
    assert r.method == "approx"
    m = evaluate(r.intermediate, r)
    exact = embed(X, EmbedConfig(method="exact", n_iter=250, perplexity=10))
    assert m["trustworthiness_opt"] > evaluate(exact.intermediate, exact)["trustworthiness_opt"] - 0.03
    assert m["step_separation"] > 0.95


def test_deterministic_on_cpu(split):
    X, _ = split
    a = embed(X, EmbedConfig(n_iter=60, perplexity=10, seed=3))
    b = embed(X, EmbedConfig(n_iter=60, perplexity=10, seed=3))
    c = embed(X, EmbedConfig(n_iter=60, perplexity=10, seed=4))
    assert torch.equal(a.Y, b.Y)
    assert not torch.equal(a.Y, c.Y)


def test_iterate_is_a_generator_that_embed_runs(split):
    X, _ = split
    cfg = EmbedConfig(n_iter=20, perplexity=10, log_every=5)
    x = prepare(X, cfg)
    states = list(iterate(x, cfg))
    assert [s.iteration for s in states] == list(range(20))
    assert [s.losses is not None for s in states] == [i % 5 == 0 or i == 19 for i in range(20)]
    seen = []
    r = embed(X, cfg, callback=lambda s: seen.append(s.iteration))
    assert seen == list(range(20)) and len(r.history) == 5
    assert torch.equal(r.Y_opt, states[-1].Y)
    assert torch.equal(r.Y, states[-1].display())


def test_features_are_reduced_by_pca_first():
    X, _ = branching(steps=2, instances=30, dim=80, clusters=2, seed=1)
    r = embed(X, EmbedConfig(n_iter=5, perplexity=5, pca_dim=12))
    assert r.intermediate.shape == (2, 30, 12)


@pytest.mark.parametrize("kwargs, features, match", [
    ({"layout": "spiral"}, (2, 20, 5), "layout"),
    ({"method": "fast"}, (2, 20, 5), "method"),
    ({}, (20, 5), "steps, instances"),
    ({}, (2, 3, 5), "instances"),
    ({"n_iter": 0}, (2, 20, 5), "n_iter"),
])
def test_user_errors(kwargs, features, match):
    with pytest.raises(UserError, match=match):
        embed(torch.randn(*features), EmbedConfig(**kwargs))
    bad = torch.randn(2, 20, 5)
    bad[0, 0, 0] = float("nan")
    with pytest.raises(UserError, match="NaN"):
        embed(bad)


def test_parametric_embeds_training_and_new_samples(split, tmp_path):
    X, labels = split
    X, labels = X[:, :48], labels[:48]
    cfg = ParametricConfig(epochs=150, perplexity=8, hidden=64, depth=2, pca_dim=10)
    model = ParametricEmbedding.fit(X, cfg)
    Y = model.embed_all(X)  # (S, I, 2) display coordinates
    x = model.pca.transform(X)
    Y_opt = torch.stack([model.transform_opt(X[s], s) for s in range(X.shape[0])])
    m = evaluate_display(x, Y, Y_opt, "radial")
    assert m["trustworthiness_opt"] > 0.7 and m["step_separation"] > 0.95
    assert purity(Y[-1], labels) > 0.6
    # new samples from the same process land next to training points of their own cluster
    X_new, labels_new = branching(steps=6, instances=64, dim=20, clusters=4, seed=0, instance_seed=1)
    new = model.transform(X_new[-1, 48:], step=5)
    nearest = torch.cdist(new, Y[-1]).argmin(dim=1)
    assert (labels[nearest] == labels_new[48:]).double().mean().item() > 0.6
    # save / load gives the same function
    old_umask = os.umask(0o022)
    try:
        path = model.save(tmp_path / "param")
    finally:
        os.umask(old_umask)
    assert path.stat().st_mode & 0o777 == 0o644        # was 0600 (mkstemp + safetensors' writer)
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]   # no temporary left
    back = ParametricEmbedding.load(path)
    assert torch.allclose(back.transform(X[2], 2), model.transform(X[2], 2), atol=1e-5)
    with pytest.raises(UserError):
        model.transform(X[0], step=9)


def test_parametric_keeps_every_step_on_its_ring_held_out_too(split):
    """The ring head: separation 1 at every step for training and new instances, even noisy steps."""
    X, _ = split
    model = ParametricEmbedding.fit(X[:, :40], ParametricConfig(epochs=30, perplexity=8, hidden=32, depth=2,
                                                               pca_dim=10))
    for layout_X in (X[:, :40], X[:, 40:]):  # training instances, then held-out ones
        _, per_step = step_separation(model.embed_all(layout_X), "radial")
        assert min(per_step) >= 0.95
    # an old model without the ring head would not guarantee it: the head is what does it
    lo, hi = band_limits(X.shape[0], model.config)
    assert (lo >= 0).all() and (hi > lo).all()


def test_principal_start_turns_each_step_onto_the_next():
    """Each step's principal plane is rotated/reflected onto the next step's (orthogonal Procrustes):
    a step that is the next one turned and mirrored starts where the next one does."""
    import math

    from tdl.embedding import principal_start
    g = torch.Generator().manual_seed(0)
    base = torch.randn(30, 2, generator=g, dtype=torch.float64) * torch.tensor([3.0, 1.0], dtype=torch.float64)
    c, s = math.cos(1.0), math.sin(1.0)
    R = torch.tensor([[c, -s], [s, c]], dtype=torch.float64) @ torch.tensor([[1.0, 0], [0, -1.0]], dtype=torch.float64)
    x = torch.stack([torch.cat((base @ R, torch.zeros(30, 3, dtype=torch.float64)), 1),
                     torch.cat((base, torch.zeros(30, 3, dtype=torch.float64)), 1)])  # (2, 30, 5)
    y = principal_start(x)
    assert torch.allclose(y[0], y[1], atol=1e-9)
    assert torch.allclose(y[1].norm(dim=1), (base - base.mean(0)).norm(dim=1), atol=1e-9)  # a rigid copy


def test_init_auto_starts_large_radial_layouts_from_the_principal_plane():
    """Radial, 500 per step: a random start splits a group that the data keeps whole into two arcs
    (seed 0: one arc per data group 0.65); the principal-plane angles keep every group in one arc."""
    from tdl.embedding import PCA_INIT_MIN
    from tdl.metrics import arcs
    from tdl.synthetic import branching, branching_nodes
    n, m = 500, PCA_INIT_MIN["rectilinear"]
    assert EmbedConfig().resolved(n).init == "pca_angle"
    assert EmbedConfig().resolved(20_000).init == "pca_angle"
    rect = EmbedConfig(layout="rectilinear")
    assert (rect.resolved(m).init, rect.resolved(m).disp_weight) == ("pca", 0.5)
    assert (rect.resolved(m - 1).init, rect.resolved(m - 1).disp_weight) == ("random", 0.35)
    assert EmbedConfig(layout="rectilinear", disp_weight=1.0).resolved(m).disp_weight == 1.0
    assert EmbedConfig.reference().resolved(m).init == "random"
    X, _ = branching(10, 500, 128, seed=0)
    nodes = branching_nodes(10, 500)
    one = {init: arcs((r := embed(X, EmbedConfig(init=init, n_iter=300))).Y, r.intermediate, nodes)["one_arc_2d"]
           for init in ("auto", "random")}
    assert one["auto"] == 1.0 and one["random"] < 1.0, one  # random: 0.85 or 0.9 by the machine's arithmetic


def test_principal_start_puts_the_first_axis_across_the_band():
    """Rectilinear: the step axis (x) is squeezed to the band, so the first principal coordinate goes
    on the cross axis (y); radial: (x, y) as the principal plane."""
    from tdl.embedding import initial_positions, principal_start
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 40, 6, generator=g) * torch.tensor([5.0, 1.0, 0.1, 0.1, 0.1, 0.1])
    p = principal_start(x)
    for layout, col in (("radial", 0), ("rectilinear", 1)):
        y = initial_positions(3, 40, EmbedConfig(layout=layout, init="pca"), "cpu", torch.float64, x)
        for s in range(3):  # each step scaled on its own
            corr = torch.corrcoef(torch.stack((y[s, :, col], p[s, :, 0])))[0, 1]
            assert corr > 0.999, (layout, s, corr)


def test_init_auto_keeps_every_data_group_in_one_arc_at_200_per_step():
    """Radial, 200 per step (the default figure's size): from the reference's random start (seed 1) two
    sibling leaves that are one group in the data are put on opposite sides of the rings (one arc per
    data group 0.85, 0.9 on another CPU); starting each point at its principal-plane angle ("pca_angle",
    what "auto" picks from PCA_ANGLE_MIN) keeps every group in one arc, with no swaps the data lacks."""
    from tdl.embedding import PCA_ANGLE_MIN
    from tdl.metrics import arcs, swaps
    from tdl.synthetic import branching_nodes
    n = PCA_ANGLE_MIN["radial"]
    assert n <= 200
    assert EmbedConfig().resolved(n).init == "pca_angle"
    assert EmbedConfig().resolved(n - 1).init == "random"
    assert EmbedConfig(layout="rectilinear").resolved(n).init == "random"
    X, labels = branching(10, 200, 128, seed=1)
    nodes = branching_nodes(10, 200)
    one = {}
    for init in ("auto", "random"):
        r = embed(X, EmbedConfig(init=init, seed=1))
        one[init] = arcs(r.Y, r.intermediate, nodes)["one_arc_2d"]
        if init == "auto":
            s = swaps(r.Y[5:], r.intermediate[5:], labels, "radial", r.config.stretch, r.config.radius)
            assert s["swap_2d"] == 0.0, s
    assert one["auto"] == 1.0 and one["random"] < 1.0, one  # random: 0.85 or 0.9 by the machine's arithmetic


def test_pca_angle_start_takes_the_principal_angle_and_the_random_radius():
    import math

    from tdl.embedding import initial_positions, principal_start
    from tdl.layout import split
    x = torch.randn(4, 50, 6, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    cfg = EmbedConfig(init="pca_angle", seed=3)
    y = initial_positions(4, 50, cfg, "cpu", torch.float64, x)
    ref = initial_positions(4, 50, EmbedConfig(init="random", seed=3), "cpu", torch.float64)
    along, across = split(y, "radial")
    p = principal_start(x)
    want = torch.remainder(torch.atan2(p[..., 1], p[..., 0]), 2 * math.pi)
    assert torch.allclose(torch.cos(across), torch.cos(want), atol=1e-9)
    assert torch.allclose(torch.sin(across), torch.sin(want), atol=1e-9)
    assert torch.allclose(along, split(ref, "radial")[0], atol=1e-9)  # radii as the reference's start


def test_alignment_scale_follows_the_layout_and_the_reference_keeps_it_constant():
    assert EmbedConfig().resolved(200).align_scale == "persistence"
    assert EmbedConfig(layout="rectilinear").resolved(200).align_scale == "constant"
    assert EmbedConfig.reference().resolved(200).align_scale == "constant"
    with pytest.raises(UserError, match="align_scale"):
        EmbedConfig(align_scale="bogus").validate(3, 10)


def test_layout_defaults_resolve_by_layout_and_explicit_values_win():
    import dataclasses

    from sandbox.errors import UserError
    from tdl.embedding import LAYOUT_DEFAULTS, iterate
    for layout, defaults in LAYOUT_DEFAULTS.items():
        cfg = EmbedConfig(layout=layout).resolved(200)
        assert {k: getattr(cfg, k) for k in defaults} == defaults
    assert LAYOUT_DEFAULTS["radial"] != LAYOUT_DEFAULTS["rectilinear"]  # else this test proves nothing
    # "auto" follows a layout changed later (a filled-in number would keep the first layout's)
    moved = dataclasses.replace(EmbedConfig(), layout="rectilinear").resolved(200)
    assert moved.n_iter == LAYOUT_DEFAULTS["rectilinear"]["n_iter"]
    assert EmbedConfig(layout="rectilinear", n_iter=7, perplexity=5.0, align_weight=0.0).resolved(200).n_iter == 7
    # the generator runs (and reports) the layout's iteration count
    x = torch.randn(2, 20, 5, generator=torch.Generator().manual_seed(0))
    state = next(iterate(x, EmbedConfig(layout="rectilinear")))
    assert state.n_iter == LAYOUT_DEFAULTS["rectilinear"]["n_iter"]
    assert state.config.perplexity == LAYOUT_DEFAULTS["rectilinear"]["perplexity"]
    for bad in ({"n_iter": "many"}, {"perplexity": -1.0}, {"align_weight": -0.1}, {"n_iter": 0}):
        with pytest.raises(UserError):
            EmbedConfig(**bad).validate(2, 20)
