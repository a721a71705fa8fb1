"""Full-size Stable Diffusion 1.5 (random weights, built from the published configs) on one GPU:
images/s of the plain diffusers pipeline vs `tdl sample --source diffusers` (capture), peak memory,
file size, then the embedding of the captured trajectories. Prints a table; writes logs to --out-dir.

    python bench/tdl_sd_gpu.py --out-dir OUT [--prompts 64 --seeds 4 --steps 50 --batch-size 32]

Runs (same pipeline object, fp16, PNDM = SD 1.5's default scheduler, same prompts and seeds):
  plain      pipe(prompt=[...], generator=[one per instance], output_type="latent"): no capture
  capture    tdl.sources.diffusers_pipeline(pipe, decode="none"): every step's x0 kept, no decoding
  plain2     the plain run again (drift check)
  cli        `python -m tdl sample ...` in a fresh process with x0 decoded at 10 rows (thumbnails),
             writing the trajectory file (its own load, warm-up and file write included in wall)
then `python -m tdl embed` and `python -m tdl plot` on that file.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch


def words(n: int) -> list[str]:
    from tdl.prompts import load_prompt_set
    base = load_prompt_set("objects") + load_prompt_set("faces") + load_prompt_set("styles")
    objs = [p.removeprefix("a photo of ") for p in load_prompt_set("objects")]
    extra = [f"{o}, {style}" for style in ("oil painting", "pencil sketch", "watercolor") for o in objs]
    out = (base + extra)[:n]
    assert len(set(out)) == n, "not enough distinct prompts"
    return out


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def plain(pipe, prompts, seeds, steps, bs):
    todo = [(p, s) for p in prompts for s in seeds]
    sync()
    t0 = time.perf_counter()
    for i in range(0, len(todo), bs):
        b = todo[i:i + bs]
        pipe(prompt=[p for p, _ in b], num_images_per_prompt=1, num_inference_steps=steps, guidance_scale=7.5,
             generator=[torch.Generator("cpu").manual_seed(s) for _, s in b], output_type="latent")
    sync()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/tdl-sd-bench"))
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--scale", default="full", help="full, or tiny for a dry run of this script on a CPU")
    ap.add_argument("--device", default="cuda")
    a = ap.parse_args()
    out, work = a.out_dir, a.work
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    import diffusers
    import transformers

    from tdl.sources.diffusers_source import diffusers_pipeline
    from tdl.testing.random_models import build_sd15, save_vision
    cuda = a.device.startswith("cuda")
    log = {"gpu": torch.cuda.get_device_name(0) if cuda else "cpu", "torch": torch.__version__,
           "diffusers": diffusers.__version__,
           "transformers": transformers.__version__, "prompts": a.prompts, "seeds": a.seeds, "steps": a.steps,
           "batch_size": a.batch_size}
    print(json.dumps(log), flush=True)
    prompts = words(a.prompts)
    (work / "prompts.txt").write_text("\n".join(prompts) + "\n")
    seeds = list(range(a.seeds))
    n = len(prompts) * len(seeds)

    t = time.perf_counter()
    pipe = build_sd15(a.scale, device=a.device, dtype=torch.float16 if cuda else torch.float32)
    pipe.set_progress_bar_config(disable=True)
    log["build_s"] = time.perf_counter() - t
    log["params_M"] = {k: sum(p.numel() for p in getattr(pipe, k).parameters()) / 1e6
                       for k in ("unet", "vae", "text_encoder")}
    t = time.perf_counter()
    pipe.save_pretrained(work / "sd15")
    log["save_s"] = time.perf_counter() - t
    print(json.dumps(log), flush=True)

    plain(pipe, prompts[:1], seeds[:1] * 1, 5, a.batch_size)  # warm-up (kernels, allocator)
    rows = []
    for name in ("plain", "capture", "plain2"):
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        if name.startswith("plain"):
            wall = plain(pipe, prompts, seeds, a.steps, a.batch_size)
            extra = {}
        else:
            t = time.perf_counter()
            tr = diffusers_pipeline(pipe, prompts=prompts, seeds=seeds, steps=a.steps, guidance=7.5, decode="none",
                                    batch_size=a.batch_size, progress=False, dtype="float16")
            sync()
            wall = time.perf_counter() - t
            extra = {"rows": tr.num_steps, "feature_dim": tr.dim, "features_GB_in_RAM": tr.features.nbytes / 1e9}
            del tr
        peak = torch.cuda.max_memory_allocated() / 2 ** 30 if cuda else 0.0
        rows.append({"run": name, "images": n, "wall_s": round(wall, 2), "images_per_s": round(n / wall, 3),
                     "peak_gib": round(peak, 2), **extra})
        print(json.dumps(rows[-1]), flush=True)
    log["runs"] = rows
    del pipe
    if cuda:
        torch.cuda.empty_cache()

    # full-size image encoders: saved folders for --features / compare-features
    for name in ("clip-vit-b-32", "dinov2-small"):
        save_vision(name, work / name, scale=a.scale)

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmds = {}
    traj = work / "sd15-traj.npz"
    cmds["sample"] = [sys.executable, "-m", "tdl", "sample", "--source", "diffusers", "--model", str(work / "sd15"),
                      "--prompt-set", str(work / "prompts.txt"), "--seeds", *map(str, seeds), "--steps",
                      str(a.steps), "--dtype", "float16" if cuda else "float32", "--batch-size", str(a.batch_size),
                      "--decode", "x0",
                      "--decode-steps", "10", "--device", a.device, "--quiet", "--out", str(traj)]
    cmds["embed"] = [sys.executable, "-m", "tdl", "embed", str(traj), "--device", a.device, "--quiet",
                     "--out", str(work / "sd15-tree.npz")]
    cmds["plot"] = [sys.executable, "-m", "tdl", "plot", str(work / "sd15-tree.npz"), "--out",
                    str(out / "sd15-tree.png"), "--thumbnails", "12", "--dpi", "110"]
    small = work / "sd15-clip.npz"
    cmds["features_clip"] = [sys.executable, "-m", "tdl", "sample", "--source", "diffusers", "--model",
                             str(work / "sd15"), "--prompt-set", "objects", "--seeds", "0", "1",
                             "--steps", str(min(20, a.steps)),
                             "--dtype", "float16" if cuda else "float32", "--features", "clip", "--feature-model",
                             str(work / "clip-vit-b-32"), "--decode-steps", "6", "--device", a.device, "--quiet",
                             "--out", str(small)]
    cmds["compare"] = [sys.executable, "-m", "tdl", "compare-features", str(traj), "--features", "source", "pixels",
                       "clip", "dinov2", "--feature-model", f"clip={work / 'clip-vit-b-32'}",
                       f"dinov2={work / 'dinov2-small'}", "--device", a.device, "--quiet", "--iterations", "300",
                       "--out", str(out / "compare.png")]
    log["cli"] = {}
    for name, cmd in ([] if a.skip_cli else cmds.items()):
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t
        (out / f"{name}.log").write_text(" ".join(cmd) + "\n\n" + r.stdout + "\n" + r.stderr[-5000:])
        info = {"rc": r.returncode, "wall_s": round(wall, 2), "stdout_tail": r.stdout[-1500:]}
        if r.returncode != 0:
            info["stderr_tail"] = r.stderr[-1500:]
        if name == "sample" and r.returncode == 0:
            from tdl.trajectory import TrajectoryData
            tr = TrajectoryData.load(traj)
            info.update(file_MB=round(traj.stat().st_size / 1e6, 1), rows=tr.num_steps, instances=tr.num_instances,
                        timing=tr.meta.get("timing_s"), peak_gib=tr.meta.get("peak_gpu_memory_gib"),
                        image_steps=tr.meta.get("image_steps"), image_shape=list(tr.images.shape),
                        images_per_s_sampling=round(n / tr.meta["timing_s"]["sample"], 3),
                        images_per_s_sampling_and_decoding=round(n / (tr.meta["timing_s"]["sample"]
                                                                      + tr.meta["timing_s"]["decode"]), 3))
        log["cli"][name] = info
        print(name, json.dumps(info), flush=True)
        (out / "log.json").write_text(json.dumps(log, indent=1))
    (out / "log.json").write_text(json.dumps(log, indent=1))
    print("\n| run | images | wall s | images/s | peak GiB |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['run']} | {r['images']} | {r['wall_s']} | {r['images_per_s']} | {r['peak_gib']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
