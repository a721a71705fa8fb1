"""Small versions of the fidelity families (bench/tdl_fidelity.py runs them at 50 x 200 x 512-d over
three seeds): the defaults must not show the data less faithfully than the reference's settings run
through our code. Means over two seeds: at 10 x 60 the final step's trustworthiness alone moves by up to
0.025 from seed to seed (drift, reference settings: 0.9715-0.9953)."""
import dataclasses

import numpy as np
import pytest

from tdl.embedding import EmbedConfig, embed
from tdl.metrics import late_purity, trustworthiness
from tdl.synthetic import FAMILIES


def scores(X, labels, cfg, seeds=(0, 1)):
    out = []
    for seed in seeds:
        r = embed(X, dataclasses.replace(cfg, seed=seed))
        tw = trustworthiness(r.intermediate, r.Y)
        out.append((tw.mean().item(), tw[-1].item(), late_purity(r.Y, labels)))
    return np.mean(out, axis=0)


@pytest.mark.parametrize("layout", ["radial", "rectilinear"])
def test_defaults_at_least_as_faithful_as_the_reference_settings(layout):
    """Issue 11's bar: on at least three of the families, display trustworthiness, final-step
    trustworthiness and late purity >= the reference settings' (0.005 for sampling noise). Measured at
    this size (seed 0) drift is below in the radial layout (display trust 0.851 vs 0.878), branching in the
    rectilinear one (0.8795 vs 0.8879)."""
    short = []
    for family in sorted(FAMILIES):
        X, labels = FAMILIES[family](steps=10, instances=60, dim=32)
        ours = scores(X, labels, EmbedConfig(layout=layout))
        ref = scores(X, labels, EmbedConfig.reference(layout=layout))
        short += [(family, name, round(a, 4), round(b, 4))
                  for name, a, b in zip(("display trust", "final-step trust", "late purity"), ours, ref)
                  if a < b - 0.005]
    assert len({f for f, *_ in short}) <= 1, short
