"""Window frame time: median and 99th percentile per frame, headless (SDL dummy driver).

    python bench/frame_time.py                      # 1280x800, 10,000 particles, 200 traces
    python bench/frame_time.py --frames 900 --particles 20000 --device cpu

Runs the real window (`sandbox.app.window.App`) through its own loop with the animation
playing, so every frame includes event handling, the control panel, the time bar and the canvas;
and `render_frame` alone for the canvas. The model is the shipped smiley model when it is there,
else the exact denoiser of the eight-gaussians mixture (sandbox.oracle) - the frame cost does not
depend on which. Sampling happens once, before timing. Target: p99 <= 16.7 ms (60 fps).
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np  # noqa: E402


def exact_eight_gaussians():
    from sandbox.app.engine import ExactModel
    from sandbox.datasets import MIXTURES, Normalizer, make_preset
    from sandbox.oracle import MixtureField
    from sandbox.paths import FlowPath

    ps = make_preset("eight_gaussians", n=2000, seed=0)
    norm = Normalizer.fit(ps.points)
    spec = MIXTURES["eight_gaussians"].normalized(norm.center, norm.scale)
    mix = spec.oracle()
    mix.labels = None
    return ExactModel(MixtureField(mix, FlowPath()), norm, "eight_gaussians"), "eight_gaussians"


def pick_model(device: str):
    from sandbox.app import engine

    models = engine.shipped_models("smiley")
    if models:
        m = models[0]
        m.to(engine.resolve_device(device))
        return m, "smiley"
    return exact_eight_gaussians()


def stats(ts, cpu) -> tuple[float, ...]:
    """(median, p99, max) of wall time and (median, p99) of this process's CPU time, in ms.

    CPU time (all threads of this process) does not count time the OS gave to other programs,
    so it shows the frame's own cost on a machine shared with other work."""
    a, c = np.asarray(ts) * 1e3, np.asarray(cpu) * 1e3
    return (float(np.median(a)), float(np.percentile(a, 99)), float(a.max()),
            float(np.median(c)), float(np.percentile(c, 99)))


def timed(fn, frames: int):
    ts, cpu = [], []
    for _ in range(frames):
        t, c = time.perf_counter(), time.process_time()
        fn()
        ts.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return stats(ts, cpu)


def time_window(model, dataset, size, particles, traces, frames, setup=None):
    """Per-frame wall time of App.frame (events + state + drawing + flip)."""
    from sandbox.app import engine, pane_actions
    from sandbox.app.settings import Settings
    from sandbox.app.window import App

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DIFFUSION_SANDBOX_CACHE"] = tmp
        app = App(dataset, size=size, settings=Settings(particles=particles), load_shipped=False,
                  auto_train=False, autosave=False, out_dir=tmp)
        st = app.state
        st.models = {engine.model_key(model): model}
        pane_actions.adopt_settings_of(st, engine.model_key(model))
        if setup:
            setup(st)
        st.resample()
        st.wait_idle(600)
        app.run_frames(30)   # warm caches, as a user's first second does
        result = timed(lambda: app.frame(1 / 60), frames)
        misses = app.caches[0].stats["contour_miss"]
        app.close()
    return result, misses


def time_render_frame(model, size, particles, traces, frames):
    import pygame

    from sandbox.app import engine
    from sandbox.app.settings import PaneSettings
    from sandbox.view import RenderCache, Theme, Viewport, ViewOptions, render_frame

    BUSY = ViewOptions(trajectories=True, contours=True)   # the first view has them off

    pygame.display.init()
    screen = pygame.display.set_mode(size)
    x_T = np.random.default_rng(0).standard_normal((particles, 2)).astype(np.float32)
    pane = PaneSettings(objective=model.kind, sampler="euler" if model.kind == "flow" else "ddpm")
    traj = engine.sample(model, x_T, pane.checked()).traj
    data = traj.xs[-1].numpy()[:2000]
    vp = Viewport.fit((0, 0) + tuple(size), traj.xs[-1].numpy(), margin=1.4)
    cache, k = RenderCache(), [0]

    def one():
        render_frame(screen, vp, traj, (k[0] % 240) / 239, data=data, theme=Theme.dark(),
                     traces=traces, label="bench", cache=cache, options=BUSY)
        k[0] += 1

    for _ in range(30):
        one()
    result = timed(one, frames)
    pygame.display.quit()
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", default="1280x800")
    p.add_argument("--particles", type=int, default=10_000)
    p.add_argument("--traces", type=int, default=200)
    p.add_argument("--frames", type=int, default=600)
    p.add_argument("--device", default="cpu", help="where the model samples (auto|cpu|cuda|mps)")
    args = p.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    model, dataset = pick_model(args.device)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load:.1f} at start; {args.size}, {args.particles} particles, "
          f"{args.traces} traces, {args.frames} frames, model {dataset} ({model.kind})")
    rows = []
    rows.append(("render_frame only (particles, traces, contours, data)",
                 time_render_frame(model, size, args.particles, args.traces, args.frames), None))
    common = (model, dataset, size, args.particles, args.traces, args.frames)
    w, miss = time_window(*common)
    rows.append(("whole window, first view (particles, data, score panel)", w, miss))
    busy = lambda st: (st.toggle("trajectories"), st.toggle("contours"))  # noqa: E731
    w, miss = time_window(*common, setup=busy)
    rows.append(("whole window + traces + contours", w, miss))
    w, miss = time_window(*common, setup=lambda st: (busy(st), st.toggle("field"), st.toggle("mesh")))
    rows.append(("whole window + traces, contours, vector field, mesh", w, miss))
    w, miss = time_window(*common, setup=lambda st: (busy(st), st.set_compare(True)))
    rows.append(("whole window, compare (two panes)", w, miss))
    print("\n| case | median ms | p99 ms | max ms | CPU median ms | CPU p99 ms | contour recomputes |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (med, p99, mx, cmed, cp99), miss in rows:
        print(f"| {name} | {med:.2f} | {p99:.2f} | {mx:.2f} | {cmed:.2f} | {cp99:.2f} | "
              f"{'' if miss is None else miss} |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average {load:.1f} at the end (other processes share the CPU when it is above the core count)")


if __name__ == "__main__":
    main()
