"""TrajectoryData: shapes, round trip through .npz, and refusal of bad files (no pickle, ever)."""
import json
import zipfile

import numpy as np
import pytest

from sandbox.errors import UserError
from tdl.trajectory import TrajectoryData


def make(S=4, I=6, D=3, images=True, seed=0) -> TrajectoryData:
    rng = np.random.default_rng(seed)
    return TrajectoryData(
        features=rng.normal(size=(S, I, D)), times=np.linspace(1, 0, S), prompts=["a cat", "a dög"],
        prompt_index=np.arange(I) % 2,
        images=rng.integers(0, 256, size=(S, I, 5, 5, 1), dtype=np.uint8) if images else None,
        images_xt=rng.integers(0, 256, size=(S, I, 5, 5, 1), dtype=np.uint8) if images else None,
        positions2d=rng.normal(size=(S, I, 2)), source="test", meta={"steps": S - 1, "nested": {"a": [1, 2]}})


def test_round_trip(tmp_path):
    tr = make()
    path = tr.save(tmp_path / "sub" / "traj.npz")
    back = TrajectoryData.load(path)
    assert back.features.dtype == np.float32 and back.features.shape == (4, 6, 3)
    np.testing.assert_array_equal(back.features, tr.features)
    np.testing.assert_array_equal(back.times, tr.times)
    np.testing.assert_array_equal(back.prompt_index, tr.prompt_index)
    np.testing.assert_array_equal(back.images, tr.images)
    np.testing.assert_array_equal(back.images_xt, tr.images_xt)
    np.testing.assert_array_equal(back.positions2d, tr.positions2d)
    assert back.prompts == ["a cat", "a dög"] and back.source == "test" and back.meta == tr.meta
    assert back.labels() == ["a cat", "a dög"] * 3
    assert not list(path.parent.glob("*.tmp"))  # atomic write leaves nothing behind


def test_optional_arrays_absent(tmp_path):
    tr = make(images=False)
    tr.positions2d = None
    back = TrajectoryData.load(tr.save(tmp_path / "t"))  # suffix added
    assert back.images is None and back.images_xt is None and back.positions2d is None


def test_with_features_keeps_the_rest():
    tr = make()
    new = tr.with_features(np.ones((4, 6, 7)), features="pixels")
    assert new.features.shape == (4, 6, 7) and new.meta["features"] == "pixels" and new.meta["steps"] == 3
    assert new.images is tr.images and tr.features.shape == (4, 6, 3)
    with pytest.raises(UserError):
        tr.with_features(np.ones((4, 5, 7)))


@pytest.mark.parametrize("bad", [
    dict(times=np.linspace(1, 0, 3)),
    dict(prompt_index=np.array([0, 1, 2, 0, 1, 0])),
    dict(images=np.zeros((4, 5, 2, 2, 1), np.uint8)),
    dict(positions2d=np.zeros((4, 6, 3))),
    dict(features=np.full((4, 6, 3), np.nan)),
])
def test_inconsistent_shapes_are_user_errors(bad):
    tr = make()
    kw = dict(features=tr.features, times=tr.times, prompts=tr.prompts, prompt_index=tr.prompt_index)
    kw.update(bad)
    with pytest.raises(UserError):
        TrajectoryData(**kw)


def test_missing_corrupt_and_foreign_files(tmp_path):
    with pytest.raises(UserError, match="no trajectory file"):
        TrajectoryData.load(tmp_path / "nope.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(UserError):
        TrajectoryData.load(tmp_path / "junk.npz")
    good = make().save(tmp_path / "good.npz")
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:200])  # truncated
    with pytest.raises(UserError):
        TrajectoryData.load(tmp_path / "cut.npz")
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))  # an npz, but not ours
    with pytest.raises(UserError, match="not a tdl trajectory"):
        TrajectoryData.load(tmp_path / "foreign.npz")
    np.savez(tmp_path / "other.npz", header=np.array(json.dumps({"format": "something else"})))
    with pytest.raises(UserError, match="not a tdl trajectory"):
        TrajectoryData.load(tmp_path / "other.npz")


class Boom:
    """Unpickling this would run code; loading must refuse before that can happen."""

    def __reduce__(self):
        return (print, ("pickle ran!",))


def test_pickle_is_never_loaded(tmp_path, capsys):
    tr = make()
    path = tmp_path / "evil.npz"
    header = np.array(json.dumps({"format": "tdl-trajectory", "version": 1, "prompts": tr.prompts}))
    evil = np.empty(1, dtype=object)
    evil[0] = Boom()
    np.savez(path, header=header, features=evil, times=tr.times, prompt_index=tr.prompt_index)
    with zipfile.ZipFile(path) as z:
        assert "features.npy" in z.namelist()
    with pytest.raises(UserError):
        TrajectoryData.load(path)
    assert "pickle ran!" not in capsys.readouterr().out
