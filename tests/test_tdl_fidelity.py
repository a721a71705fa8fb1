"""Small versions of the fidelity families (bench/tdl_fidelity.py runs them at 50 x 200 x 512-d over
three seeds): the defaults must not show the data less faithfully than the reference's settings run
through our code. Tolerances: at 10 x 60 one point's neighbours move the final-step number by 0.005."""
import pytest
import torch

from tdl.embedding import EmbedConfig, embed
from tdl.metrics import late_purity, trustworthiness
from tdl.synthetic import FAMILIES


def scores(X, labels, cfg):
    r = embed(X, cfg)
    tw = trustworthiness(r.intermediate, r.Y)
    return tw.mean().item(), tw[-1].item(), late_purity(r.Y, labels)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_defaults_at_least_as_faithful_as_the_reference_settings(family):
    torch.manual_seed(0)
    X, labels = FAMILIES[family](steps=10, instances=60, dim=32)
    for layout in ("radial", "rectilinear"):
        ours = scores(X, labels, EmbedConfig(layout=layout))
        ref = scores(X, labels, EmbedConfig.reference(layout=layout))
        for name, a, b, tol in zip(("display trust", "final-step trust", "late purity"), ours, ref,
                                   (0.005, 0.005, 0.01)):
            assert a >= b - tol, (family, layout, name, a, b)
