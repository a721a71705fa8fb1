"""TDL sources: digits (offline, shipped weights), the 2D sandbox, diffusers on a tiny pipeline, GLIDE's adapter."""
import json
import shutil

import numpy as np
import pytest
import torch

from sandbox.errors import UserError
from tdl.sources import SOURCES
from tdl.sources.digits import parse_prompt
from tdl.trajectory import TrajectoryData



# --- digits -----------------------------------------------------------------------------------
def test_parse_prompt():
    prompts = (3, "7", "a handwritten 3", "the digit seven", "Zero", "any")
    assert [parse_prompt(p) for p in prompts] == [3, 7, 3, 7, 0, 10]
    for bad in ("a handwritten 12", "3 or 4", "a cat", 11):
        with pytest.raises(UserError):
            parse_prompt(bad)


def test_digits_source_end_to_end(tmp_path):
    tr = SOURCES["digits"](prompts=["a handwritten 3", 5], instances_per_prompt=3, steps=6, seed=1, progress=False)
    S, I = 7, 6
    assert tr.features.shape == (S, I, 64) and tr.images.shape == tr.images_xt.shape == (S, I, 8, 8, 1)
    assert tr.times[0] == 1.0 and tr.times[-1] == 0.0 and np.all(np.diff(tr.times) < 0)
    assert tr.prompts == ["a handwritten 3", "a handwritten 5"] and tr.prompt_index.tolist() == [0, 0, 0, 1, 1, 1]
    # capture x0: the features are the predictions, and the last row is the sample itself
    from tdl.digits.model import to_uint8_images
    np.testing.assert_array_equal(to_uint8_images(tr.features), tr.images)
    np.testing.assert_array_equal(tr.images[-1], tr.images_xt[-1])
    assert tr.images_xt[0].std() > tr.images_xt[-1].std() * 0.5  # row 0 is noise
    # seeded: the same call gives the same trajectory; capture "xt" gives the noisy states
    xt = SOURCES["digits"](prompts=["a handwritten 3", 5], instances_per_prompt=3, steps=6, seed=1,
                           capture="xt", progress=False)
    np.testing.assert_array_equal(xt.images, tr.images)
    np.testing.assert_array_equal(to_uint8_images(xt.features), tr.images_xt)
    back = TrajectoryData.load(tr.save(tmp_path / "d.npz"))
    np.testing.assert_array_equal(back.features, tr.features)
    with pytest.raises(UserError):
        SOURCES["digits"](capture="z", progress=False)
    with pytest.raises(UserError):
        SOURCES["digits"](sampler="nope", progress=False)


# --- 2D sandbox ------------------------------------------------------------------------------
def test_sandbox2d_source_true_paths():
    from sandbox.datasets import make_preset

    tr = SOURCES["sandbox2d"](preset="moons", instances=40, steps=8, seed=0, train_steps=200, progress=False)
    assert tr.features.shape == (9, 40, 2) and tr.positions2d.shape == (9, 40, 2)
    assert tr.times[0] == 1.0 and tr.times[-1] == 0.0
    # features are canonical coordinates, positions2d the same states in data coordinates: an affine map
    A = np.c_[tr.features.reshape(-1, 2), np.ones(9 * 40)]
    coef, res, *_ = np.linalg.lstsq(A, tr.positions2d.reshape(-1, 2), rcond=None)
    assert np.abs(A @ coef - tr.positions2d.reshape(-1, 2)).max() < 1e-4
    assert abs(coef[0, 1]) < 1e-6 and abs(coef[0, 0] - coef[1, 1]) < 1e-5  # one scale, no rotation
    assert np.allclose(tr.features[0].std(0), 1.0, atol=0.35)  # noise at t = 1 is N(0, I)
    if len(tr.prompts) > 1:  # moons has two classes: instances spread over them
        assert sorted(set(tr.prompt_index.tolist())) == list(range(len(tr.prompts)))
    # the true paths end on the data (in data coordinates): mean distance to the nearest data point
    # measured 0.10-0.13 at the end and 0.39-0.51 at the start (seeds 0-2)
    data = make_preset("moons", n=2000, seed=0).points

    def near(p):
        return np.sqrt(((p[:, None] - data[None]) ** 2).sum(-1)).min(1).mean()

    assert near(tr.positions2d[-1]) < 0.2 < 0.3 < near(tr.positions2d[0])


def test_sandbox2d_from_a_saved_model_file(tmp_path):
    from sandbox.modelio import save_model
    from tdl.sources.sandbox2d import quick_model

    path = save_model(quick_model("eight_gaussians", train_steps=30), tmp_path / "m.safetensors")
    tr = SOURCES["sandbox2d"](model_path=str(path), instances=16, steps=3, guidance=2.0, progress=False)
    assert tr.features.shape == (4, 16, 2) and tr.meta["model"] == str(path)
    assert len(tr.prompts) == 8 and np.bincount(tr.prompt_index).tolist() == [2] * 8


def test_sandbox2d_capture_x0_ends_on_the_samples():
    tr = SOURCES["sandbox2d"](preset="moons", instances=10, steps=4, train_steps=50, capture="x0", progress=False)
    xt = SOURCES["sandbox2d"](preset="moons", instances=10, steps=4, train_steps=50, progress=False)
    np.testing.assert_allclose(tr.positions2d, xt.positions2d, atol=1e-5)  # same seed, same paths
    np.testing.assert_allclose(tr.features[-1], xt.features[-1], atol=1e-5)
    assert np.abs(tr.features[1] - xt.features[1]).max() > 0.1  # predictions, not states


# --- diffusers --------------------------------------------------------------------------------
BETAS = np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=np.float64) ** 2  # "scaled_linear", by hand
ALPHAS_CUMPROD = np.cumprod(1.0 - BETAS)


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    """A tiny StableDiffusionPipeline built from configs (no download), saved to disk."""
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(4, 8), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=2)
    vae = AutoencoderKL(block_out_channels=[4, 8], in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        norm_num_groups=2)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16)
    text = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32,
                                        intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                                        vocab_size=len(vocab), max_position_embeddings=16))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionPipeline(unet=unet, scheduler=scheduler, vae=vae, text_encoder=text, tokenizer=tokenizer,
                                   safety_checker=None, feature_extractor=None, image_encoder=None,
                                   requires_safety_checker=False)
    path = tmp_path_factory.mktemp("tiny_sd")
    pipe.save_pretrained(path)
    return path


def with_scheduler(base, tmp_path, cls_name: str, **config):
    """A copy of the tiny pipeline whose scheduler is `cls_name` (same betas) with `config` changes."""
    path = tmp_path / cls_name
    shutil.copytree(base, path)
    cfg_file = path / "scheduler" / "scheduler_config.json"
    cfg = json.loads(cfg_file.read_text())
    cfg.update({"_class_name": cls_name, **config})
    cfg_file.write_text(json.dumps(cfg))
    model_index = json.loads((path / "model_index.json").read_text())
    model_index["scheduler"] = ["diffusers", cls_name]
    (path / "model_index.json").write_text(json.dumps(model_index))
    return path


@pytest.fixture
def unet_calls(monkeypatch):
    """Every UNet call of the run: (latent input, timestep, output), recorded beside the real code."""
    from diffusers import UNet2DConditionModel

    calls, forward = [], UNet2DConditionModel.forward

    def spy(self, sample, timestep, *args, **kwargs):
        out = forward(self, sample, timestep, *args, **kwargs)
        calls.append((sample.detach().clone(), float(timestep), out[0].detach().clone()))
        return out

    monkeypatch.setattr(UNet2DConditionModel, "forward", spy)
    return calls


@pytest.mark.parametrize("scheduler,config", [
    ("DDIMScheduler", {}),  # returns pred_original_sample
    ("EulerDiscreteScheduler", {"timestep_spacing": "trailing"}),  # sigma-scaled latents, returns it too
    ("DPMSolverMultistepScheduler", {"prediction_type": "v_prediction"}),  # returns none: we derive it
])
def test_diffusers_x0_matches_recomputation(tiny_sd, tmp_path, unet_calls, scheduler, config):
    path = with_scheduler(tiny_sd, tmp_path, scheduler, **config)
    w, steps = 3.0, 4
    tr = SOURCES["diffusers"](model=str(path), prompts=["a cat"], instances_per_prompt=2, steps=steps,
                              guidance=w, seed=0, progress=False)
    assert tr.features.shape == (steps + 1, 2, 4 * 8 * 8) and len(unet_calls) == steps
    assert tr.meta["scheduler"] == scheduler and tr.times[-1] == 0.0
    xt = SOURCES["diffusers"](model=str(path), prompts=["a cat"], instances_per_prompt=2, steps=steps,
                              guidance=w, seed=0, capture="xt", progress=False).features
    kind = config.get("prediction_type", "epsilon")
    for k, (x_in, tau, out) in enumerate(unet_calls[steps:]):  # the second run; batch = [uncond; cond]
        uncond, cond = out.chunk(2)
        guided = uncond + w * (cond - uncond)
        x = x_in.chunk(2)[1].double()  # the network's input: variance-preserving scale for every scheduler
        ab = ALPHAS_CUMPROD[int(tau)]
        if kind == "epsilon":
            x0 = (x - (1 - ab) ** 0.5 * guided) / ab ** 0.5
        else:  # v = alpha eps - sigma x0
            x0 = ab ** 0.5 * x - (1 - ab) ** 0.5 * guided
        np.testing.assert_allclose(tr.features[k], x0.flatten(1).numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(xt[k], x.flatten(1).numpy(), rtol=1e-5, atol=1e-5)
        assert tr.times[k] == pytest.approx((tau + 1) / 1000)
    np.testing.assert_array_equal(tr.features[-1], xt[-1])  # the finished sample


def test_diffusers_final_and_decode_match_the_pipeline(tiny_sd):
    from diffusers import StableDiffusionPipeline

    tr = SOURCES["diffusers"](model=str(tiny_sd), prompts=["a cat", "a dog"], instances_per_prompt=2, steps=3,
                              guidance=2.0, seed=5, decode="both", progress=False)
    assert tr.prompt_index.tolist() == [0, 0, 1, 1] and tr.images.shape == (4, 4, 16, 16, 3)
    assert tr.images_xt.shape == tr.images.shape
    pipe = StableDiffusionPipeline.from_pretrained(tiny_sd, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    g = [torch.Generator("cpu").manual_seed(s) for s in (5, 6)]  # instance k of every prompt: seed + k
    out = pipe("a dog", num_images_per_prompt=2, num_inference_steps=3, guidance_scale=2.0, generator=g,
               output_type="np")
    ref = (out.images * 255).round().astype(np.uint8)  # the pipeline's own decode of its final latents
    assert np.abs(tr.images[-1, 2:].astype(int) - ref.astype(int)).max() <= 1


def test_diffusers_missing_model_is_a_clear_error(tmp_path):
    for model in (str(tmp_path / "nothing"), "nobody/not-a-cached-model"):
        with pytest.raises(UserError, match="hf download") as e:
            SOURCES["diffusers"](model=model, progress=False)
        assert "\n" not in str(e.value)


# --- GLIDE --------------------------------------------------------------------------------------
def test_glide_without_package_says_how_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "glide_text2im" else real(name, *a))
    with pytest.raises(UserError, match="pip install git\\+https://github.com/openai/glide-text2im"):
        SOURCES["glide"](progress=False)


class FakeGlideDiffusion:
    """The interface of glide_text2im's GaussianDiffusion.p_sample_loop_progressive, on DDIM maths."""

    def __init__(self, ab):
        self.ab = ab  # alphas_cumprod of the respaced steps: index i = step i, noisier as i grows

    def p_sample_loop_progressive(self, model, shape, noise=None, **kw):
        img = noise
        for i in reversed(range(len(self.ab))):
            t = torch.full((shape[0],), i)
            eps = model(img, t)[:, :3]
            a = self.ab[i]
            x0 = ((img - (1 - a) ** 0.5 * eps) / a ** 0.5).clamp(-1, 1)
            a_prev = self.ab[i - 1] if i > 0 else 1.0
            img_next = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
            yield {"sample": img_next, "pred_xstart": x0}
            img = img_next


def test_glide_adapter_on_fake_progressive_loop():
    from tdl.sources.glide import collect_progressive, guided_model_fn

    def net(x, t, **kw):  # eps depends on the batch half through a fake "text" signal
        cond = torch.cat([torch.ones(len(x) // 2), torch.zeros(len(x) // 2)])[:, None, None, None]
        return torch.cat([0.5 * x + cond, torch.zeros_like(x)], dim=1)

    n, w = 2, 3.0
    ab = [0.9, 0.5, 0.1]
    x_T = torch.randn(n, 3, 4, 4, generator=torch.Generator().manual_seed(0)).repeat(2, 1, 1, 1)
    xt, x0 = collect_progressive(FakeGlideDiffusion(ab).p_sample_loop_progressive(
        guided_model_fn(net, w), (2 * n, 3, 4, 4), noise=x_T), x_T, n)
    assert xt.shape == x0.shape == (4, n, 3, 4, 4)
    torch.testing.assert_close(xt[0], x_T[:n])
    x = x_T[:n]
    for k, i in enumerate(reversed(range(3))):  # recompute by hand: guided eps = 0.5 x + w * 1
        eps = 0.5 * x + w
        ref = ((x - (1 - ab[i]) ** 0.5 * eps) / ab[i] ** 0.5).clamp(-1, 1)
        torch.testing.assert_close(xt[k], x)
        torch.testing.assert_close(x0[k], ref)
        a_prev = ab[i - 1] if i > 0 else 1.0
        x = a_prev ** 0.5 * ref + (1 - a_prev) ** 0.5 * eps
    torch.testing.assert_close(xt[-1], x)
    torch.testing.assert_close(x0[-1], x)


def test_sandbox2d_ddpm_samplers_take_the_presets_ddpm_model():
    # every preset ships a flow and a DDPM model; the DDPM-only samplers used to be refused
    # ("does not run on a flow model") though the user had chosen no model
    tr = SOURCES["sandbox2d"](preset="moons", sampler="ddim", instances=6, steps=3, progress=False)
    assert tr.meta["kind"] == "ddpm" and tr.meta["sampler"] == "ddim" and "moons-ddpm" in tr.meta["model"]
    flow = SOURCES["sandbox2d"](preset="moons", sampler="heun", instances=6, steps=2, progress=False)
    assert flow.meta["kind"] == "flow"
    with pytest.raises(UserError, match="needs a class-conditional model"):  # ignored before, recorded as 3
        SOURCES["sandbox2d"](preset="moons", guidance=3.0, instances=6, steps=2, progress=False)
