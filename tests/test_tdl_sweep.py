"""bench/tdl_sweep.py: variants parse, runs pair with the reference by seed, the table's margins."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import tdl_sweep  # noqa: E402


def test_parse_variant_reads_numbers_and_words():
    assert tdl_sweep.parse_variant("a=n_iter:750,perplexity:25.5,init:pca") == (
        "a", {"n_iter": 750, "perplexity": 25.5, "init": "pca"})
    assert tdl_sweep.parse_variant("defaults=") == ("defaults", {})


def test_summary_pairs_each_variant_with_the_reference_of_the_same_seed():
    rows = []
    for seed, (ref, ours) in enumerate([(0.90, 0.92), (0.80, 0.81), (0.70, 0.70)]):
        for variant, v in (("reference", ref), ("x", ours)):
            rows.append({"layout": "radial", "data": "drift", "variant": variant, "seed": seed, "over": {},
                         "trust": v, "final": v - 0.5, "purity": 1.0 if variant == "x" else 1.01, "cpu": 1.0})
    rows.append({**rows[-1], "seed": 9, "trust": 0.0})  # a seed the reference lacks: left out
    table = tdl_sweep.summarise(rows)
    line = next(li for li in table.splitlines() if "| x |" in li)
    assert "+0.0100±0.0058 / +0.0100±0.0058 / -0.0100±0.0000 (n=3)" in line  # mean of 0.02, 0.01, 0
    assert "| 2/3 | -0.0100 |" in line


def test_one_run_scores_the_figure():
    task = {"data": "branching", "variant": "defaults", "over": {"n_iter": 30}, "seed": 0, "layout": "rectilinear",
            "digits": None, "steps": 4, "instances": 30, "dim": 16}
    out = tdl_sweep.run_one(task)
    assert 0.5 < out["trust"] <= 1 and 0 < out["final"] <= 1 and 0 <= out["purity"] <= 1
    assert out["variant"] == "defaults" and out["seed"] == 0


def test_ref_variants_start_from_the_reference_settings():
    task = {"variant": "ref+it1000", "over": {"n_iter": 1000}, "layout": "rectilinear", "seed": 3}
    cfg = tdl_sweep.config_for(task)
    assert cfg.n_iter == 1000 and cfg.learning_rate == 500.0 and cfg.disp_weight == 1.0 and cfg.seed == 3
    plain = tdl_sweep.config_for({**task, "variant": "it1000"})
    assert plain.n_iter == 1000 and plain.learning_rate == "auto" and plain.disp_weight == "auto"
