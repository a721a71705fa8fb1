"""Feature extractors on tiny random models saved to disk and loaded back through the real loaders."""
import numpy as np
import pytest
import torch

from sandbox.errors import UserError
from tdl.features import EXTRACTORS, extract, get_extractor
from tdl.trajectory import TrajectoryData



def rgb_images(n=5, size=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)


def test_registry_names():
    assert {"pixels", "vae", "clip", "dinov2", "digits_encoder"} <= set(EXTRACTORS)
    with pytest.raises(UserError, match="unknown feature extractor"):
        get_extractor("nope")


def test_pixels_uint8_and_float_agree():
    imgs = rgb_images(4, 6)
    px = EXTRACTORS["pixels"](batch_size=3)
    f = px(imgs)
    np.testing.assert_allclose(f, imgs.reshape(4, -1) / 255.0, rtol=0, atol=1e-7)
    np.testing.assert_allclose(px(imgs.astype(np.float32) / 255.0), f, atol=1e-7)


def test_digits_encoder_matches_the_network():
    from tdl.digits.model import from_images, load_data, to_uint8_images
    from tdl.digits.weights import load

    imgs = to_uint8_images(load_data()[0][:7])
    f = EXTRACTORS["digits_encoder"](batch_size=3)(imgs)
    net, _ = load("encoder")
    with torch.no_grad():
        ref = net.features(from_images(imgs)).numpy()
    np.testing.assert_allclose(f, ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(UserError, match="8x8"):
        EXTRACTORS["digits_encoder"]()(rgb_images(1, 16))


def test_clip_on_tiny_model_matches_transformers_processor(tmp_path):
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    cfg = CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                           image_size=32, patch_size=8, projection_dim=16)
    model = CLIPVisionModelWithProjection(cfg).eval()
    model.save_pretrained(tmp_path)
    proc = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    proc.save_pretrained(tmp_path)
    imgs = rgb_images(5, 32)
    f = EXTRACTORS["clip"](model=str(tmp_path), batch_size=2)(imgs)
    with torch.no_grad():
        ref = model(**proc(images=list(imgs), return_tensors="pt")).image_embeds.numpy()
    assert f.shape == (5, 16)
    np.testing.assert_allclose(f, ref, rtol=1e-4, atol=1e-4)
    # grey 8x8 digits go through too (repeated to RGB, resized to the model's 32x32)
    assert EXTRACTORS["clip"](model=str(tmp_path))(rgb_images(3, 8)[..., :1]).shape == (3, 16)


def test_dinov2_on_tiny_model_matches_transformers_processor(tmp_path):
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    model = Dinov2Model(Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, mlp_ratio=2,
                                     image_size=32, patch_size=8)).eval()
    model.save_pretrained(tmp_path)
    proc = BitImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32},
                             image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])
    proc.save_pretrained(tmp_path)
    imgs = rgb_images(4, 32, seed=1)
    f = EXTRACTORS["dinov2"](model=str(tmp_path))(imgs)
    with torch.no_grad():
        ref = model(**proc(images=list(imgs), return_tensors="pt")).pooler_output.numpy()
    assert f.shape == (4, 32)
    np.testing.assert_allclose(f, ref, rtol=1e-4, atol=1e-4)


def test_vae_from_vae_folder_and_pipeline_folder(tmp_path):
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=[4, 8], in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        norm_num_groups=2, scaling_factor=0.5).eval()
    vae.save_pretrained(tmp_path / "pipe" / "vae")
    imgs = rgb_images(3, 16, seed=2)
    with torch.no_grad():
        x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255.0 * 2 - 1
        ref = (vae.encode(x).latent_dist.mean * 0.5).flatten(1).numpy()
    for path in (tmp_path / "pipe", tmp_path / "pipe" / "vae"):
        f = EXTRACTORS["vae"](model=str(path), batch_size=2)(imgs)
        assert f.shape == (3, 4 * 8 * 8)
        np.testing.assert_allclose(f, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["clip", "dinov2", "vae"])
def test_missing_models_are_clear_errors(tmp_path, name):
    with pytest.raises(UserError, match="hf download") as e:
        EXTRACTORS[name](model=str(tmp_path / "absent"))
    assert "\n" not in str(e.value)


def test_extract_on_a_digits_trajectory():
    from tdl.sources import SOURCES

    tr = SOURCES["digits"](prompts=[1, 7], instances_per_prompt=2, steps=3, progress=False)
    enc = EXTRACTORS["digits_encoder"]()
    for which, images in (("x0", tr.images), ("xt", tr.images_xt)):
        out = extract(tr, "digits_encoder", which=which, progress=False)
        assert out.features.shape == (4, 4, 32) and out.meta["features"] == "digits_encoder"
        assert out.meta["features_of"] == which and out.images is tr.images
        np.testing.assert_allclose(out.features[2], enc(images[2]), rtol=1e-5, atol=1e-5)  # other batching
    bare = TrajectoryData(features=tr.features, times=tr.times, prompts=tr.prompts, prompt_index=tr.prompt_index)
    with pytest.raises(UserError, match="no x0 images"):
        extract(bare, "pixels")
