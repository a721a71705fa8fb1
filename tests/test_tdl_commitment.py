"""The commitment step, on trajectories where it is known by construction (tdl.synthetic.commit_at)."""
import numpy as np
import pytest

from tdl.commitment import _first_from_which, commitment
from tdl.synthetic import commit_at, switches


def test_first_from_which_counts_only_the_last_unbroken_run():
    ok = np.array([[1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 1, 0], [1, 1, 1, 1]], dtype=bool)
    assert _first_from_which(ok).tolist() == [2, 2, 0, 3]
    assert _first_from_which(np.array([[1], [0]], dtype=bool)).tolist() == [-1]


@pytest.mark.parametrize("step", [3, 7])
def test_commitment_step_is_where_the_groups_separate(step):
    X, labels = commit_at(steps=12, instances=60, groups=3, step=step)
    c = commitment(X, labels)
    assert c.group_step.tolist() == [step] * 3
    assert (c.recall[step:] == 1).all() and (c.recall[:step].max() < 0.9)
    assert (c.instance_step <= step).all() and np.median(c.instance_step) == step
    m = c.as_metrics(["a", "b", "c"])
    assert m["commitment_step"] == {"a": step, "b": step, "c": step}


def test_switching_instances_commit_after_their_switch():
    X, labels = switches(steps=30, instances=120, dim=32, groups=3, switch_share=0.3, seed=1, noise=0.2)
    c = commitment(X, labels)
    # about 30 % of each group joins it at steps 10-19: its recall reaches 0.9 only after most have
    assert ((c.group_step >= 10) & (c.group_step < 20)).all()
    assert 0.4 < (c.instance_step == 0).mean() < 0.85  # most never switch: known from the first step
