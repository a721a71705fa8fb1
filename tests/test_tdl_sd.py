"""tdl on text-to-image pipelines (CPU, offline): the random-weight builder, the scheduler matrix,
decoding to thumbnails, seeds per instance, sharded sampling with two processes, prompt sets,
compare-features, GLIDE's --model."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from sandbox.errors import UserError
from tdl.sources.diffusers_source import continuous_time, diffusers_pipeline

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """SD 1.5's architecture at tiny scale, random weights, saved as a pipeline folder (64x64 images)."""
    from tdl.testing.random_models import save_sd15
    return save_sd15(tmp_path_factory.mktemp("sd15-tiny"), scale="tiny")


# --- builder ----------------------------------------------------------------------------------------
def test_full_size_configs_have_the_published_parameter_counts():
    """Built on the meta device (no memory): SD 1.5's UNet / VAE / text encoder are 859.52 M / 83.65 M /
    123.06 M parameters (the published models' counts); CLIP and DINOv2 image towers their sizes."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from tdl.testing.random_models import _configs, build_vision

    c = _configs("sd15.json")
    with torch.device("meta"):
        counts = {k: sum(p.numel() for p in m.parameters()) for k, m in (
            ("unet", UNet2DConditionModel(**c["unet"])), ("vae", AutoencoderKL(**c["vae"])),
            ("text", CLIPTextModel(CLIPTextConfig(**c["text_encoder"]))))}
    assert counts == {"unet": 859_520_964, "vae": 83_653_863, "text": 123_060_480}
    with torch.device("meta"):
        sizes = {n: sum(p.numel() for p in build_vision(n, "full", device="meta")[0].parameters()) / 1e6
                 for n in ("clip-vit-b-32", "clip-vit-l-14", "dinov2-small")}
    assert 87 < sizes["clip-vit-b-32"] < 89 and 303 < sizes["clip-vit-l-14"] < 305 and 21 < sizes["dinov2-small"] < 23


def test_tiny_builder_runs_and_the_local_tokenizer_pads_to_77(tiny, tmp_path):
    from transformers import CLIPTokenizer

    from tdl.features import get_extractor
    from tdl.testing.random_models import save_vision

    tok = CLIPTokenizer.from_pretrained(tiny / "tokenizer")
    ids = tok(["a cat", "a much longer prompt"], padding="max_length", max_length=tok.model_max_length).input_ids
    assert len(ids[0]) == 77 and ids[0][0] == 512 and ids[0][-1] == 513 and ids[0] != ids[1]
    for name, kind in (("clip-vit-b-32", "clip"), ("dinov2-small", "dinov2")):
        ext = get_extractor(kind, str(save_vision(name, tmp_path / name, scale="tiny")))
        out = ext(np.random.default_rng(0).integers(0, 255, (3, 40, 40, 3), dtype=np.uint8))
        assert out.shape[0] == 3 and np.isfinite(out).all()


# --- scheduler matrix ----------------------------------------------------------------------------------
@pytest.fixture
def unet_inputs(monkeypatch):
    from diffusers import UNet2DConditionModel

    calls, forward = [], UNet2DConditionModel.forward

    def spy(self, sample, timestep, *args, **kwargs):
        out = forward(self, sample, timestep, *args, **kwargs)
        calls.append((sample.detach().clone(), out[0].detach().clone()))
        return out

    monkeypatch.setattr(UNet2DConditionModel, "forward", spy)
    return calls


SCHEDULERS = {"ddim": ("DDIMScheduler", 1), "pndm": ("PNDMScheduler", 2), "euler": ("EulerDiscreteScheduler", 1),
              "heun": ("HeunDiscreteScheduler", 2), "dpm++": ("DPMSolverMultistepScheduler", 1),
              "unipc": ("UniPCMultistepScheduler", 1)}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_matrix_one_row_per_distinct_time(tiny, unet_inputs, name):
    """S = steps + 1 for every scheduler; times decrease to 0 and are the scheduler's; the last row is
    the pipeline's own result; each row's x0 is the guided prediction from the network call on that
    row's x_t (epsilon model: x0 = (x - sqrt(1 - ab) eps) / sqrt(ab) with ab = 1 / (1 + sigma^2) of the
    variance-preserving input)."""
    from diffusers import DiffusionPipeline

    steps, w = 4, 3.0
    cls, calls_per_step = SCHEDULERS[name]
    kw = dict(prompts=["a cat"], seeds=[0, 1], steps=steps, guidance=w, scheduler=name, progress=False)
    tr = diffusers_pipeline(str(tiny), capture="x0", **kw)
    n_calls = len(unet_inputs)
    xt = diffusers_pipeline(str(tiny), capture="xt", **kw)
    assert tr.meta["scheduler"] == cls and tr.features.shape == (steps + 1, 2, 4 * 8 * 8)
    assert n_calls == tr.meta["network_calls"] and n_calls in (steps, steps + 1, 2 * steps - 1)
    assert np.all(np.diff(tr.times) < 0) and tr.times[-1] == 0.0
    assert len(set(tr.meta["timesteps"])) == steps
    pipe = DiffusionPipeline.from_pretrained(tiny, local_files_only=True)
    from tdl.sources.schedulers import set_scheduler
    set_scheduler(pipe, name)
    np.testing.assert_allclose(tr.times[:-1], [continuous_time(pipe.scheduler, t) for t in tr.meta["timesteps"]])
    pipe.set_progress_bar_config(disable=True)
    ref = pipe(["a cat"] * 2, num_inference_steps=steps, guidance_scale=w, output_type="latent",
               generator=[torch.Generator("cpu").manual_seed(s) for s in (0, 1)]).images
    np.testing.assert_allclose(tr.features[-1], ref.flatten(1).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(tr.features[-1], xt.features[-1])
    second = unet_inputs[n_calls:2 * n_calls]  # the xt run's calls; batch = [uncond; cond]
    for k in range(steps):
        x = xt.features[k]
        match = [(inp, out) for inp, out in second
                 if np.allclose(inp.chunk(2)[1].flatten(1).numpy(), x, atol=1e-6)]
        assert match, f"row {k}: no network call on this row's x_t"
        inp, out = match[-1]
        uncond, cond = out.chunk(2)
        eps = (uncond + w * (cond - uncond)).flatten(1).double().numpy()
        # the VP input x = alpha x0 + sigma eps: alpha from the row's time on the training grid
        # (x0-matching alpha: least squares over the row, which the known eps makes exact)
        xv = x.astype(np.float64)
        x0 = tr.features[k].astype(np.float64)
        # solve x = a x0 + s eps with a^2 + s^2 = 1 for a (one number per row, all instances)
        A = np.stack([x0.ravel(), eps.ravel()], 1)
        (a, s), *_ = np.linalg.lstsq(A, xv.ravel(), rcond=None)
        assert a ** 2 + s ** 2 == pytest.approx(1.0, abs=2e-3), (name, k, a, s)
        np.testing.assert_allclose(a * x0 + s * eps, xv, atol=2e-4)


# --- decoding, seeds, batches -----------------------------------------------------------------------
def test_decode_subset_thumbnails_and_features_from_full_size(tiny):
    from tdl.features import Pixels
    from tdl.sources.decode import LatentDecoder

    kw = dict(prompts=["a cat", "a dog"], seeds=[3, 4], steps=4, guidance=2.0, progress=False)
    tr = diffusers_pipeline(str(tiny), decode="both", decode_steps=3, image_size=16, batch_size=3, **kw)
    assert tr.images.shape == (5, 4, 16, 16, 3) and tr.images_xt.shape == tr.images.shape
    assert tr.meta["image_steps"] == [0, 2, 4] and tr.image_rows().tolist() == [1, 0, 1, 0, 1]
    assert tr.images[1].max() == 0 and tr.images[2].max() > 0
    assert tr.meta["instance_seeds"] == [3, 4, 3, 4] and tr.prompt_index.tolist() == [0, 0, 1, 1]
    one = diffusers_pipeline(str(tiny), batch_size=1, **kw)  # seeds per instance: batches do not matter
    np.testing.assert_allclose(one.features, tr.features, rtol=1e-5, atol=1e-5)
    px = diffusers_pipeline(str(tiny), features="pixels", decode_steps=[0, -1], **kw)
    assert px.features.shape == (2, 4, 64 * 64 * 3) and px.times.tolist() == [tr.times[0], 0.0]
    from diffusers import AutoencoderKL
    vae = AutoencoderKL.from_pretrained(tiny / "vae")
    full = LatentDecoder(vae, None).images(torch.from_numpy(tr.features[-1]).reshape(4, 4, 8, 8))
    np.testing.assert_allclose(px.features[-1], Pixels()(full.permute(0, 2, 3, 1)), atol=1e-4)
    from tdl.features import extract
    sub = extract(tr, "pixels", progress=False)  # thumbnails of the decoded rows only
    assert sub.features.shape == (3, 4, 16 * 16 * 3) and sub.meta["selected_steps"] == [0, 2, 4]


def test_float16_vae_that_needs_it_decodes_in_float32(tiny):
    from diffusers import AutoencoderKL

    from tdl.sources.decode import LatentDecoder
    vae = AutoencoderKL.from_pretrained(tiny / "vae").half()
    vae.register_to_config(force_upcast=False)  # SDXL's fp16-fixed VAEs, e.g.
    assert LatentDecoder(vae, 16).dtype == torch.float16
    vae.register_to_config(force_upcast=True)  # SDXL's VAE (and diffusers' default) declares this
    dec = LatentDecoder(vae, 16)
    assert dec.dtype == torch.float32 and next(vae.parameters()).dtype == torch.float32


def test_bad_sd_options_are_one_line_errors(tiny, capsys):
    from tdl.cli import main

    base = ["sample", "--source", "diffusers", "--model", str(tiny), "--quiet", "--device", "cpu"]
    for extra, msg in ((["--scheduler", "nope"], "unknown scheduler"), (["--height", "100"], "multiple of 8"),
                       (["--dtype", "half"], "--dtype"), (["--decode-steps", "x"], "--decode-steps"),
                       (["--image-size", "-3"], "--image-size"), (["--prompt-set", "nope"], "no prompt set"),
                       (["--seeds", "1", "--instances-per-prompt", "2"], "not both")):
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert msg in err and err.count("\n") == 1, err


# --- several processes ---------------------------------------------------------------------------------
def test_two_processes_give_the_one_process_file(tiny, tmp_path):
    """torchrun with two CPU processes (accelerate's PartialState underneath): shards merge into what
    one process makes, instance order included (bit for bit when both run on one thread, checked by
    hand; here the reference runs in this process, so within float tolerance)."""
    args = ["-m", "tdl", "sample", "--source", "diffusers", "--model", str(tiny), "--prompts", "a cat", "a dog",
            "--seeds", "0", "1", "--steps", "2", "--batch-size", "1", "--image-size", "16", "--decode-steps", "2",
            "--device", "cpu", "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          *args, "--out", str(tmp_path / "two.npz")], env=env, capture_output=True, text=True,
                         timeout=300)
    assert two.returncode == 0, two.stderr[-2000:]
    assert "merged 2 shards" in two.stdout and not list(tmp_path.glob("*.shard-*"))
    from tdl.trajectory import TrajectoryData
    b = TrajectoryData.load(tmp_path / "two.npz")
    a = diffusers_pipeline(str(tiny), prompts=["a cat", "a dog"], seeds=[0, 1], steps=2, batch_size=1,
                           image_size=16, decode="x0", decode_steps=2, progress=False)  # one process
    np.testing.assert_allclose(a.features, b.features, rtol=1e-5, atol=1e-5)
    assert np.abs(a.images.astype(int) - b.images).max() <= 1
    assert a.prompt_index.tolist() == b.prompt_index.tolist() and b.meta["processes"] == 2
    assert b.meta["instance_seeds"] == a.meta["instance_seeds"] == [0, 1, 0, 1]


def test_merge_shards_restores_order_and_refuses_overlaps(tiny):
    from tdl.sources.shards import merge_shards

    kw = dict(prompts=["a", "b", "c"], seeds=[0, 1], steps=2, progress=False)
    parts = [diffusers_pipeline(str(tiny), shard=(r, 3), **kw) for r in range(3)]
    whole = diffusers_pipeline(str(tiny), **kw)
    merged = merge_shards(parts[::-1])
    np.testing.assert_allclose(merged.features, whole.features, atol=1e-5)
    assert merged.prompt_index.tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(UserError, match="overlap"):
        merge_shards([parts[0], parts[0]])


# --- prompt sets, compare-features, GLIDE ----------------------------------------------------------------
def test_prompt_sets_ship_as_text(tmp_path):
    from tdl.prompts import PROMPT_SETS, load_prompt_set

    for name in PROMPT_SETS:
        prompts = load_prompt_set(name)
        assert len(prompts) >= 8 and len(set(prompts)) == len(prompts) and not any(p.startswith("#") for p in prompts)
    f = tmp_path / "mine.txt"
    f.write_text("# comment\na red cube\n\na blue ball\n")
    assert load_prompt_set(str(f)) == ["a red cube", "a blue ball"]
    with pytest.raises(UserError, match="no prompt set"):
        load_prompt_set("nonexistent")


def test_compare_features_prints_side_by_side(tiny, tmp_path, capsys):
    from tdl.cli import main

    traj = tmp_path / "t.npz"
    assert main(["sample", "--source", "diffusers", "--model", str(tiny), "--prompts", "a cat", "a dog", "a hat",
                 "--seeds", "0", "1", "2", "3", "--steps", "3", "--image-size", "16", "--decode-steps", "3",
                 "--quiet", "--device", "cpu", "--out", str(traj)]) == 0
    capsys.readouterr()
    assert main(["compare-features", str(traj), "--features", "source", "pixels", "--iterations", "60",
                 "--quiet", "--device", "cpu", "--out", str(tmp_path / "c.png")]) == 0
    out = capsys.readouterr().out
    head = out.splitlines()[0].split()
    assert head == ["metric", "source", "pixels"]
    dims = next(line for line in out.splitlines() if line.startswith("dim")).split()
    assert dims[1:] == ["256", str(16 * 16 * 3)] and (tmp_path / "c.png").stat().st_size > 0
    assert main(["compare-features", str(traj), "--features", "nope", "--quiet"]) == 2


def test_glide_model_flag_is_the_checkpoint(monkeypatch, tmp_path):
    from tdl import sources
    from tdl.cli import build_parser
    from tdl.commands import sample_trajectory
    from tdl.sources.glide import find_checkpoint, glide

    seen = {}

    def fake(prompts=("x",), instances_per_prompt=4, steps=50, guidance=3.0, seed=0, device="cpu", capture="x0",
             checkpoint=None, progress=True, options=None):
        seen["checkpoint"] = checkpoint
        raise UserError("stop")

    import inspect
    assert list(inspect.signature(fake).parameters) == list(inspect.signature(glide).parameters)
    monkeypatch.setitem(sources.SOURCES, "glide", fake)
    args = build_parser().parse_args(["sample", "--source", "glide", "--model", "/models/base.pt", "--device", "cpu"])
    with pytest.raises(UserError, match="stop"):
        sample_trajectory(args)
    assert seen["checkpoint"] == "/models/base.pt"
    with pytest.raises(UserError, match="--model"):
        find_checkpoint(str(tmp_path / "base.pt"))


def test_glide_source_matches_the_package_loop_on_a_tiny_model(tmp_path):
    """Only where OpenAI's glide_text2im is importable (not on PyPI; CI skips): a tiny model made by the
    package, saved as a checkpoint, sampled by `tdl` and by the package's own loop with its notebook's
    guidance function: same final images, same x0 predictions at every step."""
    gm = pytest.importorskip("glide_text2im.model_creation")
    from tdl.sources.glide import glide

    tiny = dict(image_size=16, num_channels=32, num_res_blocks=1, channel_mult="1,2", num_head_channels=16,
                attention_resolutions="8", dropout=0.0, text_ctx=16, xf_width=32, xf_layers=1, xf_heads=2)
    opts = {**gm.model_and_diffusion_defaults(), **tiny, "timestep_respacing": "5", "use_fp16": False}
    torch.manual_seed(0)
    model, diffusion = gm.create_model_and_diffusion(**opts)
    with torch.no_grad():  # torch.empty embeddings (a checkpoint fills them), zero-initialised output
        for p in (model.positional_embedding, model.padding_embedding):  # layers: perturb all, so the
            p.normal_(0, 0.02)  # text and the guidance change the output
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.eval()
    torch.save(model.state_dict(), tmp_path / "tiny.pt")
    n, w, prompt = 2, 3.0, "a red cube"
    tr = glide(prompts=[prompt], instances_per_prompt=n, steps=5, guidance=w, seed=7,
               checkpoint=str(tmp_path / "tiny.pt"), options=tiny, progress=False)

    def model_fn(x_t, ts, **kwargs):  # glide_text2im's notebooks/text2im.ipynb, verbatim in substance
        half = x_t[: len(x_t) // 2]
        out = model(torch.cat([half, half], dim=0), ts, **kwargs)
        eps, rest = out[:, :3], out[:, 3:]
        cond_eps, uncond_eps = torch.split(eps, len(eps) // 2, dim=0)
        half_eps = uncond_eps + w * (cond_eps - uncond_eps)
        return torch.cat([torch.cat([half_eps, half_eps], dim=0), rest], dim=1)

    tok = model.tokenizer
    t, m = tok.padded_tokens_and_mask(tok.encode(prompt), opts["text_ctx"])
    ut, um = tok.padded_tokens_and_mask([], opts["text_ctx"])
    kw = {"tokens": torch.tensor([t] * n + [ut] * n), "mask": torch.tensor([m] * n + [um] * n, dtype=torch.bool)}
    x_T = torch.randn(n, 3, 16, 16, generator=torch.Generator("cpu").manual_seed(7)).repeat(2, 1, 1, 1)
    torch.manual_seed(7)
    with torch.no_grad():
        steps = list(diffusion.p_sample_loop_progressive(model_fn, (2 * n, 3, 16, 16), noise=x_T, clip_denoised=True,
                                                         device="cpu", model_kwargs=kw, progress=False))
    x0 = torch.stack([s["pred_xstart"][:n] for s in steps] + [steps[-1]["sample"][:n]])
    np.testing.assert_allclose(tr.features, x0.flatten(2).numpy(), atol=1e-5)
    assert tr.features.shape == (6, n, 3 * 16 * 16) and tr.times[-1] == 0.0
    unguided = glide(prompts=[prompt], instances_per_prompt=n, steps=5, guidance=1.0, seed=7,
                     checkpoint=str(tmp_path / "tiny.pt"), options=tiny, progress=False)
    assert np.abs(unguided.features[1:] - tr.features[1:]).max() > 1e-3  # the comparison can fail


def test_partly_decoded_trajectory_in_figure_explorer_and_web_page(tiny, tmp_path, monkeypatch):
    """Rows not decoded show no image: the figure's thumbnails sit on decoded steps, the explorer shows
    none there, the web page marks them."""
    from tdl.embedding import EmbedConfig
    from tdl.explorer_state import ExplorerState
    from tdl.pipeline import embed_trajectory
    from tdl.plot import plot_tree
    from tdl.webview import tree_payload

    tr = diffusers_pipeline(str(tiny), prompts=["a cat", "a dog"], seeds=[0, 1, 2], steps=4, decode="x0",
                            decode_steps=[0, 4], image_size=16, progress=False)
    tree = embed_trajectory(tr, EmbedConfig(n_iter=30, perplexity=2), progress=False)
    import tdl.plot
    drawn, real = [], tdl.plot.draw_thumbnails
    monkeypatch.setattr(tdl.plot, "draw_thumbnails", lambda fig, ax, Y, im, picks, *a, **k: drawn.extend(picks) or
                        real(fig, ax, Y, im, picks, *a, **k))
    assert plot_tree(tree, tmp_path / "t.png", tr, thumbnails=4, dpi=50).stat().st_size > 0
    assert drawn and {s for s, _ in drawn} <= {0, 4} and 0 in {s for s, _ in drawn}  # half-way -> step 0
    st = ExplorerState.from_tree(tree, tr)
    st.hovered = (2, 0)
    assert st.hovered_image() is None
    st.hovered = (4, 0)
    assert st.hovered_image().shape == (16, 16, 3)
    assert tree_payload(tree, tr)["thumb_rows"] == [True, False, False, False, True]


def test_vae_and_clip_features_of_sd_trajectories(tiny, tmp_path):
    """--features vae (the pipeline's own VAE folder) and clip (a saved random-weight CLIP) on the
    decoded full-size images (random weights: the VAE's encoding is not the sampled latent)."""
    from tdl.testing.random_models import save_vision

    kw = dict(prompts=["a cat"], seeds=[0, 1], steps=3, decode_steps=[-1], progress=False)
    vae = diffusers_pipeline(str(tiny), features="vae", feature_model=str(tiny), **kw)
    lat = diffusers_pipeline(str(tiny), **kw)
    assert vae.features.shape == (1, 2, 4 * 8 * 8) and vae.meta["features"] == "vae"
    assert np.isfinite(vae.features).all() and not np.allclose(vae.features, lat.features[-1:])
    clip = diffusers_pipeline(str(tiny), features="clip",
                              feature_model=str(save_vision("clip-vit-b-32", tmp_path / "c", scale="tiny")), **kw)
    assert clip.features.shape == (1, 2, 16) and clip.times.tolist() == [0.0]


def test_extract_quiet_shows_no_loading_bar(tmp_path, capfd):
    """compare-features --quiet still drew transformers' 'Loading weights' bar for clip."""
    import transformers.utils.logging as tl

    from tdl.features import extract
    from tdl.testing.random_models import save_vision
    from tdl_synthetic import synthetic

    clip = save_vision("clip-vit-b-32", tmp_path / "clip", scale="tiny")
    _, traj = synthetic(S=3, P=1, per=4)
    traj.images = np.random.default_rng(0).integers(0, 255, (3, 4, 16, 16, 3), dtype=np.uint8)
    tl.enable_progress_bar()
    capfd.readouterr()
    out = extract(traj, "clip", model=str(clip), progress=False)
    assert out.features.shape[:2] == (3, 4) and "Loading" not in capfd.readouterr().err
    tl.enable_progress_bar()


def test_the_pipelines_own_bar_says_what_it_counts(tiny, capfd):
    """Under tdl's 'sampling' bar, each batch's pipeline bar read only '0/2 [00:00, ?it/s]'."""
    diffusers_pipeline(str(tiny), prompts=["a cat"], seeds=[0], steps=2, progress=True)
    assert "denoising steps of the batch" in capfd.readouterr().err
