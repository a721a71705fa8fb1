"""Exporter: MP4 / GIF / PNG written through the shared renderer, read back with imageio."""
import imageio.v2 as imageio
import imageio.v3 as iio
import numpy as np
import pygame
import pytest
import torch
from PIL import Image

from sandbox.errors import UserError
from sandbox.export import (export_animation, export_frame, fit_viewport, iter_frames, parse_size,
                            progress_plan)
from sandbox.trajectory import Trajectory
from sandbox.view import Theme, ViewOptions, Viewport, render_frame

BARE = ViewOptions(trajectories=False, contours=False, data=False, label=False, axes=False, legend=False)


def _traj(n=300, steps=10, seed=0):
    """Straight paths from noise to a ring of radius 1.5 (canonical coordinates)."""
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn(n, 2, generator=g)
    a = torch.rand(n, generator=g) * 2 * np.pi
    x0 = 1.5 * torch.stack([a.cos(), a.sin()], 1)
    ts = torch.linspace(1, 0, steps + 1)
    xs = torch.stack([(1 - t) * x0 + t * eps for t in ts])
    return Trajectory(xs=xs, ts=ts, nfe=steps, sampler="test")


def _moving_dot():
    """One particle going from (-1, 0) to (1, 0) in 2 sampler steps."""
    xs = torch.tensor([[[-1.0, 0.0]], [[0.0, 0.0]], [[1.0, 0.0]]])
    return Trajectory(xs=xs, ts=torch.tensor([1.0, 0.5, 0.0]), nfe=2)


def test_parse_size_and_plan():
    assert parse_size("1280x720") == (1280, 720) and parse_size((64, 48)) == (64, 48)
    for bad in ("0x0", "3841x100", "12x", "abc", "100x-5"):
        with pytest.raises(UserError):
            parse_size(bad)
    plan = progress_plan(fps=10, seconds=2, hold_start=0.5, hold_end=1.0)
    assert len(plan) == 5 + 20 + 10 and plan[0] == 0 and plan[-1] == 1
    assert np.all(np.diff(plan) >= 0)
    assert len(progress_plan(fps=30, frames=7, hold_start=0, hold_end=0)) == 7
    with pytest.raises(UserError, match="0.01 seconds at 30 frames per second is 0 frames of motion.*0.067 seconds"):
        progress_plan(fps=30, seconds=0.01)   # inside --seconds' range: the line says what to give instead
    assert len(progress_plan(fps=30, seconds=0.067, hold_start=0, hold_end=0)) == 2
    for kw in ({"fps": 0, "seconds": 1}, {"fps": 10, "seconds": 0}, {"fps": 10, "frames": 1}):
        with pytest.raises(UserError):
            progress_plan(**kw)


def test_mp4_size_frames_and_motion(tmp_path):
    out = export_animation(_traj(), tmp_path / "a.mp4", size=(160, 96), fps=10, frames=12,
                           hold_start=0.3, hold_end=0.5, progress_bar=False)
    frames = np.stack([f for f in imageio.get_reader(out)])  # list() trips on its len() = inf
    assert frames.shape == (3 + 12 + 5, 96, 160, 3)
    diffs = np.abs(np.diff(frames.astype(int), axis=0)).mean(axis=(1, 2, 3))
    assert diffs[3:14].min() > 0.05        # every motion frame changes
    assert diffs[15:].max() < 0.5           # the held end is (up to compression) still
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]  # no temporary file left


def test_gif_size_duration_loop(tmp_path):
    out = export_animation(_traj(), tmp_path / "a.gif", size=(120, 80), fps=25, frames=10,
                           hold_start=0.2, hold_end=0.4, progress_bar=False)
    frames = iio.imread(out, index=None)
    assert frames.shape[1:3] == (80, 120) and len(frames) >= 10
    assert len({f.tobytes() for f in frames}) >= 10  # motion frames all differ
    with Image.open(out) as im:
        assert im.info["loop"] == 0
        total = 0
        for k in range(im.n_frames):  # Pillow merges identical held frames, adding their delays
            im.seek(k)
            total += im.info["duration"]
    assert total == pytest.approx(1000 * (5 + 10 + 10) / 25, abs=10)


def test_interpolates_between_sampler_steps(tmp_path):
    """2 sampler steps, 9 frames: the dot moves every frame (linearly), not only at steps."""
    theme = Theme()
    frames = list(iter_frames(_moving_dot(), np.linspace(0, 1, 9), size=(200, 100),
                              options=BARE, theme=theme,
                              viewport=Viewport((0, 0, 200, 100), (0, 0), 1.25)))
    xs = []
    for f in frames:
        hit = np.argwhere(np.all(f == theme.particle, axis=-1))
        assert len(hit) > 0
        xs.append(hit[:, 1].mean())
    step = np.diff(xs)
    assert np.all(step > 0) and np.ptp(step) < 2  # equal strides: linear in progress
    assert xs[0] == pytest.approx(100 - 40, abs=1.5) and xs[-1] == pytest.approx(100 + 40, abs=1.5)


def test_frames_are_the_shared_renderer(tmp_path):
    """What the exporter writes is exactly what render_frame draws (window and files agree)."""
    traj, size = _traj(), (320, 180)
    vp = fit_viewport(size, traj)
    theme = Theme.named("light")
    frame = next(iter_frames(traj, [0.4], size=size, theme=theme, label="x", viewport=vp))
    surf = pygame.Surface(size, 0, 32)
    render_frame(surf, vp, traj, 0.4, theme=theme.scaled(theme.scale * 180 / 720), label="x",
                 traces=100)
    np.testing.assert_array_equal(frame, pygame.surfarray.array3d(surf).transpose(1, 0, 2))


def test_png_still_and_viewport(tmp_path):
    traj = _traj()
    out = export_frame(traj, tmp_path / "s.png", progress=1.0, size=(200, 150), options=BARE)
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape == (150, 200, 3)
    hit = np.argwhere(np.all(img == Theme().particle, axis=-1))
    # the viewport holds noise and samples: the final ring is centred and inside the frame
    assert abs(hit[:, 0].mean() - 75) < 6 and abs(hit[:, 1].mean() - 100) < 6
    assert hit[:, 0].min() > 5 and hit[:, 0].max() < 145


def test_bad_outputs(tmp_path):
    traj = _traj(n=10, steps=2)
    with pytest.raises(UserError, match=".mp4 or .gif"):
        export_animation(traj, tmp_path / "a.avi", progress_bar=False)
    with pytest.raises(UserError, match="even"):
        export_animation(traj, tmp_path / "a.mp4", size=(101, 100), frames=2, progress_bar=False)
    with pytest.raises(UserError, match="does not exist"):
        export_animation(traj, tmp_path / "nope" / "a.gif", size=(32, 32), frames=2,
                         progress_bar=False)
    with pytest.raises(UserError, match=".png"):
        export_frame(traj, tmp_path / "a.jpg")
    assert list(tmp_path.iterdir()) == []


def test_output_permissions_follow_umask(tmp_path):
    """Files are readable by others as usual (a temp file's private 0600 mode must not leak)."""
    import os

    mask = os.umask(0o022)
    try:
        out = export_frame(_traj(n=10, steps=2), tmp_path / "p.png", size=(32, 32))
    finally:
        os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o644
