"""TDL metrics against scikit-learn and hand-made layouts; the saved tree file."""
import math

import numpy as np
import pytest
import torch
from sklearn.manifold import trustworthiness as sk_trustworthiness

from sandbox.errors import UserError
from tdl import layout as lay
from tdl.metrics import continuity, evaluate_display, instance_alignment, step_separation, trustworthiness
from tdl.tree import TreeData

def assert_close(a, b, rtol=1e-7, atol=1e-9):
    """numpy's check (torch.testing's first call costs seconds of imports)."""
    np.testing.assert_allclose(np.asarray(a.detach() if hasattr(a, "detach") else a),
                               np.asarray(b.detach() if hasattr(b, "detach") else b), rtol=rtol, atol=atol)




@pytest.mark.parametrize("k", [3, 7])
def test_trustworthiness_and_continuity_match_sklearn(k):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(3, 40, 6, generator=g, dtype=torch.float64)
    Y = X[..., :2] + 0.7 * torch.randn(3, 40, 2, generator=g, dtype=torch.float64)
    T, C = trustworthiness(X, Y, k), continuity(X, Y, k)
    for s in range(3):
        assert T[s].item() == pytest.approx(sk_trustworthiness(X[s].numpy(), Y[s].numpy(), n_neighbors=k), abs=1e-12)
        assert C[s].item() == pytest.approx(sk_trustworthiness(Y[s].numpy(), X[s].numpy(), n_neighbors=k), abs=1e-12)
    assert torch.all(T < 1) and torch.all(T > 0.3)


def test_trustworthiness_is_one_for_an_isometry():
    X = torch.randn(2, 30, 2, dtype=torch.float64)
    rot = torch.tensor([[0.6, -0.8], [0.8, 0.6]], dtype=torch.float64)
    assert_close(trustworthiness(X, X @ rot + 3), torch.ones(2, dtype=torch.float64))


def test_instance_alignment_radial_wraps_angles():
    S, I = 4, 50
    base = torch.linspace(0, 2 * math.pi, I + 1, dtype=torch.float64)[:-1]
    phi = base[None] + 0.1 * torch.arange(S, dtype=torch.float64)[:, None]  # crosses 2 pi for some
    Y = lay.from_polar(torch.full((S, I), 30.0, dtype=torch.float64) + 35 * torch.arange(S)[:, None], phi)
    raw, norm = instance_alignment(Y, "radial")
    assert raw == pytest.approx(0.1, abs=1e-9)
    assert norm == pytest.approx(0.1 / (math.pi / 2), abs=1e-9)


def test_instance_alignment_rectilinear():
    S, I = 3, 20
    y = torch.arange(I, dtype=torch.float64)[None] + 0.5 * torch.arange(S, dtype=torch.float64)[:, None]
    Y = torch.stack((35.0 * torch.arange(S, dtype=torch.float64)[:, None].expand(S, I), y), -1)
    raw, norm = instance_alignment(Y, "rectilinear")
    assert raw == pytest.approx(0.5)
    pair = (torch.arange(I)[:, None] - torch.arange(I)[None]).abs().double().mean().item()
    assert norm == pytest.approx(0.5 / pair)
    # unrelated positions (a random permutation per step) give about 1
    perm = torch.stack([torch.randperm(I, generator=torch.Generator().manual_seed(s)) for s in range(S)])
    assert instance_alignment(torch.stack((Y[..., 0], y.gather(1, perm)), -1), "rectilinear")[1] > 0.5


@pytest.mark.parametrize("layout", ["radial", "rectilinear"])
def test_step_separation(layout):
    S, I = 4, 10
    c = lay.centres(S, layout)
    along = c[:, None].expand(S, I).clone()
    along[2, :5] = c[3]  # half of step 2 sits in step 3's ring/band
    across = torch.linspace(0.1, 6.0, I, dtype=torch.float64)[None].expand(S, I)
    Y = lay.join(along, across, layout)
    total, per = step_separation(Y, layout)
    assert per == pytest.approx([1.0, 1.0, 0.5, 1.0])
    assert total == pytest.approx(3.5 / 4)


def test_evaluate_display_reports_everything():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(3, 30, 5, generator=g)
    Y_opt = X[..., :2] * 3
    Y = lay.stretch(Y_opt, "rectilinear")
    m = evaluate_display(X, Y, Y_opt, "rectilinear")
    for key in ("trustworthiness", "continuity", "instance_alignment", "instance_alignment_norm",
                "step_separation", "trustworthiness_per_step", "trustworthiness_opt"):
        assert key in m
    # rectilinear stretch is a translation per step: neighbourhoods are the same
    assert m["trustworthiness"] == pytest.approx(m["trustworthiness_opt"])
    assert len(m["trustworthiness_per_step"]) == 3


def test_large_steps_estimate_trust_and_continuity_from_queries(monkeypatch):
    """Beyond EXACT_METRICS_MAX instances per step the I x I ranks give way to the sampled estimate: the
    same numbers where the queries cover every point, close to them where they do not."""
    from tdl import metrics
    g = torch.Generator().manual_seed(2)
    X = torch.randn(2, 120, 6, generator=g)
    Y_opt = X[..., :2] + 0.3 * torch.randn(2, 120, 2, generator=g)
    Y = lay.stretch(Y_opt, "rectilinear")
    exact = evaluate_display(X, Y, Y_opt, "rectilinear")
    monkeypatch.setattr(metrics, "EXACT_METRICS_MAX", 100)
    monkeypatch.setattr(metrics, "QUERIES", 500)       # every point a query: the exact measure
    every = evaluate_display(X, Y, Y_opt, "rectilinear")
    monkeypatch.setattr(metrics, "QUERIES", 60)        # half of them: an estimate
    half = evaluate_display(X, Y, Y_opt, "rectilinear")
    assert exact["metric_queries"] == 120 and half["metric_queries"] == 60
    for key in ("trustworthiness", "continuity", "trustworthiness_opt", "continuity_opt"):
        assert every[key] == pytest.approx(exact[key], abs=1e-12), key
        assert half[key] == pytest.approx(exact[key], abs=0.03) and half[key] != exact[key], key


def make_tree(S=3, I=5):
    return TreeData(Y=np.random.default_rng(0).normal(size=(S, I, 2)), layout="radial",
                    times=np.linspace(1, 0, S), prompts=["a cat", "a dog"], prompt_index=np.arange(I) % 2,
                    metrics={"trustworthiness": 0.9}, config={"perplexity": 30.0}, source="traj.npz")


def test_tree_round_trip(tmp_path):
    tree = make_tree()
    path = tree.save(tmp_path / "tree")
    assert path.name == "tree.npz" and sorted(p.name for p in tmp_path.iterdir()) == ["tree.npz"]
    back = TreeData.load(path)
    np.testing.assert_array_equal(back.Y, tree.Y)
    np.testing.assert_array_equal(back.times, tree.times)
    np.testing.assert_array_equal(back.prompt_index, tree.prompt_index)
    assert (back.layout, back.prompts, back.metrics, back.config, back.source) == \
        (tree.layout, tree.prompts, tree.metrics, tree.config, tree.source)


def test_tree_errors(tmp_path):
    with pytest.raises(UserError, match="no tree file"):
        TreeData.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(UserError, match="corrupt|not a readable"):
        TreeData.load(bad)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, header=np.array([{"format": "tdl-tree"}], dtype=object))
    with pytest.raises(UserError):
        TreeData.load(pickled)
    foreign = tmp_path / "traj.npz"
    np.savez(foreign, header=np.array('{"format": "tdl-trajectory"}'))
    with pytest.raises(UserError, match="trajectory"):
        TreeData.load(foreign)
    with pytest.raises(UserError, match="layout"):
        TreeData(Y=np.zeros((2, 3, 2)), layout="spiral", times=np.zeros(2), prompts=["a"], prompt_index=np.zeros(3))
    with pytest.raises(UserError, match="prompt_index"):
        TreeData(Y=np.zeros((2, 3, 2)), layout="radial", times=np.zeros(2), prompts=["a"], prompt_index=np.zeros(4))
    with pytest.raises(UserError, match="JSON"):
        TreeData(Y=np.zeros((2, 3, 2)), layout="radial", times=np.zeros(2), prompts=["a"],
                 prompt_index=np.zeros(3), metrics={"x": object()}).save(tmp_path / "t.npz")
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("instances", [48, 144])
def test_no_swaps_the_data_lacks_at_two_sizes(instances):
    """Groups that stay put in the data (fixed centres, decaying noise) must not jump in the picture."""
    import warnings

    from tdl.embedding import EmbedConfig, FewInstancesWarning, embed
    from tdl.metrics import arcs, swaps
    from tdl.synthetic import many_prompts
    X, labels = many_prompts(steps=8, instances=instances, dim=32, prompts=4, seed=1)
    for layout in ("radial", "rectilinear"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", FewInstancesWarning)  # enough instances: no warning
            r = embed(X, EmbedConfig(layout=layout, n_iter=300, perplexity=10))
        # from step 2 on (before, the noise hides the groups and the picture may still reorder them)
        s = swaps(r.Y[2:], r.intermediate[2:], labels, layout, r.config.stretch, r.config.radius)
        assert s["swap_features"] == 0.0
        assert s["swap_2d"] == 0.0, (layout, s)
        a = arcs(r.Y, r.intermediate, labels)  # and every group in one arc/band piece, as in the data
        assert a["one_arc_features"] == 1.0 and a["one_arc_2d"] == 1.0, (layout, a)


def test_radial_swap_is_an_arc_at_the_optimisation_radius():
    """A group whose mean angle moves by 90 degrees jumps (an arc of 31 at R = 20 > 30); 60 degrees does not."""
    from tdl import layout as lay
    from tdl.metrics import swaps
    S, I = 3, 20
    labels = np.arange(I) % 2
    phi = np.where(labels == 0, 0.0, np.pi)[None].repeat(S, 0)
    phi[1, labels == 0] = np.pi / 3  # 60 degrees: 21 < 30, no jump
    phi[2, labels == 0] = np.pi / 3 + np.pi / 2  # then 90 degrees more: a jump
    rho = 20.0 + 35.0 * np.arange(S)[:, None].repeat(I, 1)  # the display radius does not matter
    Y = lay.from_polar(torch.as_tensor(rho), torch.as_tensor(phi)).numpy()
    X = np.repeat(np.where(labels[:, None] == 0, 0.0, 1.0), 3, 1)[None].repeat(S, 0)
    s = swaps(Y, X, labels, "radial", band=30.0, radius=20.0)
    assert s["swap_features"] == 0.0 and s["swap_2d"] == pytest.approx(0.5 / 2)


def test_group_pieces_counts_arcs():
    from tdl.metrics import group_pieces
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    angle = np.concatenate([rng.uniform(0, 1, 20), rng.uniform(2, 3, 20), rng.uniform(4, 5, 20)])
    whole = np.stack([np.cos(angle), np.sin(angle)], -1) * 20
    broken = whole.copy()
    broken[:10] = -broken[:10]  # half of group 0 moved to the other side of the ring (between groups 1 and 2)
    broken[10, :] = whole[45]  # one stray point of group 0 inside group 2: not a second arc
    p = group_pieces(np.stack([whole, broken]), labels)
    assert p[0].tolist() == [1, 1, 1]
    assert p[1].tolist() == [2, 1, 1]


def test_swap_measure_sees_a_jump():
    from tdl.metrics import swaps
    S, I = 4, 20
    labels = np.arange(I) % 2
    Y = np.zeros((S, I, 2))
    Y[..., 0] = np.arange(S)[:, None] * 10.0  # rectilinear: x is the step
    Y[..., 1] = np.where(labels == 0, 0.0, 5.0)[None]
    Y[2:, labels == 0, 1] = 50.0  # group 0 jumps far between steps 1 and 2
    X = np.repeat(np.where(labels[:, None] == 0, 0.0, 1.0), 3, 1)[None].repeat(S, 0)
    s = swaps(Y, X, labels, "rectilinear", band=10.0)
    assert s["swap_features"] == 0.0 and s["swap_2d"] == pytest.approx(0.5 / 3)


def test_too_few_instances_warn_with_the_minimum(tmp_path):
    from tdl.embedding import MIN_INSTANCES, FewInstancesWarning, embed, EmbedConfig
    with pytest.warns(FewInstancesWarning, match=f"at least {MIN_INSTANCES}"):
        embed(torch.randn(3, 6, 5), EmbedConfig(n_iter=5))


def test_sampled_trustworthiness_is_the_exact_measure_with_every_point_and_near_it_with_some():
    from tdl.metrics import trustworthiness_sampled
    g = torch.Generator().manual_seed(11)
    X = torch.randn(3, 300, 10, generator=g, dtype=torch.float64)
    Y = X[..., :2] + 0.3 * torch.randn(3, 300, 2, generator=g, dtype=torch.float64)
    exact = trustworthiness(X, Y)
    assert torch.allclose(trustworthiness_sampled(X, Y, queries=300), exact, rtol=0, atol=1e-12)
    some = trustworthiness_sampled(X, Y, queries=150, chunk=64)
    assert (some - exact).abs().max() < 0.03 and not torch.allclose(some, exact)


def test_conformal_display_scales_thin_rings_and_keeps_thick_ones_in_their_band():
    """Oracle: a ring thin enough for its band is shown scaled by centre / R as a whole (a similarity,
    so its neighbourhoods are exactly those of the optimisation); a thick one is capped to `fill` of
    the band and stays inside it. "shift" (the reference) only moves the radius out."""
    from tdl import layout as lay
    g = torch.Generator().manual_seed(0)
    S, I, R, off = 4, 50, 20.0, 35.0
    phi = 2 * math.pi * torch.rand(S, I, generator=g, dtype=torch.float64)
    thin = torch.cat((torch.rand(1, I, generator=g, dtype=torch.float64) * 3,
                      R + 0.05 * torch.randn(S - 1, I, generator=g, dtype=torch.float64)))
    Y = lay.from_polar(thin, phi)
    D = lay.stretch(Y, "radial", off, "conformal", R)
    scale = torch.cat((torch.ones(1), (R + off * torch.arange(1, S)) / R)).double()
    assert torch.allclose(D, Y * scale[:, None, None], atol=1e-9)
    thick = torch.cat((thin[:1], R + 5 * torch.randn(S - 1, I, generator=g, dtype=torch.float64)))
    D = lay.stretch(lay.from_polar(thick, phi), "radial", off, "conformal", R, fill=0.8)
    dev = lay.to_polar(D)[0][1:] - lay.centres(S, "radial", R, off)[1:, None]
    assert dev.abs().max() <= 0.4 * off + 1e-9 and dev.abs().max() > 0.3 * off
    assert step_separation(D, "radial", R, off)[0] == 1.0
    assert torch.allclose(lay.to_polar(D)[1], phi)  # angles never change
    shifted = lay.stretch(lay.from_polar(thick, phi), "radial", off, "shift", R)
    assert torch.allclose(lay.to_polar(shifted)[0], thick + off * torch.arange(S)[:, None])
    rect = torch.randn(S, I, 2, generator=g, dtype=torch.float64)  # rectilinear: a translation either way
    assert torch.equal(lay.stretch(rect, "rectilinear", off, "conformal", R), lay.stretch(rect, "rectilinear", off))


def test_group_pieces_take_the_data_groups_of_each_step():
    """Labels 0 and 1 are one group in the data (before a split), label 2 another. Apart (2 between them)
    they are two pieces of that group although each label is one arc; side by side, one piece.
    Groups may change with the step (labels `(S, I)`)."""
    from tdl.metrics import arcs, group_pieces
    from tdl.synthetic import branching_nodes
    labels = np.repeat(np.arange(3), 20)
    nodes = np.where(labels < 2, 0, 1)
    t = np.linspace(0, 1, 20)

    def ring(starts):
        a = np.concatenate([s0 + t for s0 in starts])
        return np.stack([np.cos(a), np.sin(a)], -1) * 20

    apart, together = ring([0.0, 4.0, 2.0]), ring([0.0, 1.05, 4.0])
    Y = np.stack([apart, together])
    assert group_pieces(Y, labels).tolist() == [[1, 1, 1], [1, 1, 1]]  # as labels: all fine
    assert group_pieces(Y, nodes).tolist() == [[2, 1], [1, 1]]  # as the data's groups: apart is broken
    per_step = np.stack([nodes, labels])  # step 1: the split has happened, three groups
    assert group_pieces(Y, per_step).tolist() == [[2, 1, 0], [1, 1, 1]]  # 0: label 2 absent at step 0
    a = arcs(np.concatenate([Y, Y]), np.concatenate([together[None]] * 4), np.concatenate([per_step, per_step]))
    # the later half, steps 2 (apart: group 0, 2/3 of the instances, broken) and 3 (whole)
    assert a["one_arc_features"] == 1.0 and a["one_arc_2d"] == pytest.approx((1 / 3 + 1) / 2)
    nodes = branching_nodes(steps=8, instances=16, clusters=8)  # depth 0, 0, 1, 1, 2, 2, 3, 3
    assert nodes[0].tolist() == [0] * 16 and nodes[-1].tolist() == (torch.arange(16) % 8).tolist()
    assert nodes[2].tolist() == ((torch.arange(16) % 8) // 4).tolist()
