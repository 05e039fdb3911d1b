"""pix2pix edges → cats: the networks, the edge extractor shared by training and the tab, the training
script (dry run, resume, eval), and the tab's handlers on tiny generators, with bad inputs."""

import json
from pathlib import Path

import gradio as gr
import numpy as np
import PIL.Image
import pytest
import torch

from demos import pix2pix as tab
from models import loading
from models.edges import canny_edges, photo_to_lines, sketch_to_lines, thicken
from models.pix2pix import PatchDiscriminator, UNetGenerator, checkerboard_score
from tests.conftest import drawing
from tests.tiny_pix2pix import make_tiny_pretrained_pix2pix

ROOT = Path(__file__).resolve().parent.parent
CHELSEA = ROOT / "demos" / "examples" / "photos" / "chelsea.jpg"


@pytest.fixture
def tiny_p2p(tmp_path, monkeypatch):
    make_tiny_pretrained_pix2pix(tmp_path)
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loading.clear_cache()
    yield tmp_path
    loading.clear_cache()


# --- models ----------------------------------------------------------------------------------

def test_unet_and_patchgan_shapes():
    g = UNetGenerator(base_channels=4, max_multiplier=2).eval()
    x = torch.rand(2, 1, 128, 128)
    with torch.no_grad():
        y = g(x)
    assert y.shape == (2, 3, 128, 128) and 0 <= float(y.min()) and float(y.max()) <= 1
    d = PatchDiscriminator(base_channels=4)
    assert d(x, y).shape == (2, 1, 14, 14)  # one logit per 70x70 patch


def test_skip_connections_carry_the_input():
    """Every output pixel depends on the input, and a change at one place changes the output most there."""
    torch.manual_seed(0)
    g = UNetGenerator(base_channels=8, max_multiplier=2).eval()
    x = torch.ones(1, 1, 128, 128)
    x2 = x.clone()
    x2[..., 10:14, 10:14] = 0
    with torch.no_grad():
        diff = (g(x) - g(x2)).abs().mean(1)[0]
    assert diff[8:16, 8:16].mean() > 3 * diff[100:, 100:].mean()


def test_dropout_noise_only_when_asked():
    torch.manual_seed(0)
    g = UNetGenerator(base_channels=4, max_multiplier=2).eval()
    x = torch.rand(1, 1, 128, 128)
    with torch.no_grad():
        assert torch.equal(g(x), g(x))
        assert not torch.equal(g(x, dropout_noise=True), g(x, dropout_noise=True))


def test_default_generator_is_small_enough():
    n = sum(p.numel() for p in UNetGenerator().parameters())
    assert n * 4 < 10e6  # fp32 weights of one slug well under 14 MB


TINY_OPTIONS = [dict(upsample="resize"), dict(encoder="lite0", upsample="resize"), dict(encoder="lite0")]


@pytest.mark.parametrize("options", TINY_OPTIONS)
def test_generator_options_build_save_and_load(tmp_path, options):
    torch.manual_seed(0)
    g = UNetGenerator(base_channels=4, max_multiplier=2, **options).eval()
    x = torch.rand(2, 1, 128, 128)
    with torch.no_grad():
        y = g(x)
    assert y.shape == (2, 3, 128, 128) and 0 <= float(y.min()) and float(y.max()) <= 1
    g.save_pretrained(tmp_path)                                  # the options live in config.json
    config = json.loads((tmp_path / "config.json").read_text())
    assert all(config[k] == v for k, v in options.items())
    again = UNetGenerator.from_pretrained(tmp_path, strict=True).eval()
    with torch.no_grad():
        assert torch.equal(again(x), y)


def test_default_options_are_the_shipped_architecture():
    """The defaults must keep loading the shipped weights (strict=True through config.json)."""
    from safetensors import safe_open

    with safe_open(str(ROOT / "pretrained" / "pix2pix-edges2cats" / "model.safetensors"), "pt") as f:
        shipped = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    config = json.loads((ROOT / "pretrained" / "pix2pix-edges2cats" / "config.json").read_text())
    mine = {k: tuple(v.shape) for k, v in UNetGenerator(**config).state_dict().items()}
    assert mine == shipped


def test_lite0_encoder_starts_from_imagenet_weights():
    from models.efficientnet_lite import EfficientNetLite0

    lite = EfficientNetLite0.from_pretrained(ROOT / "pretrained" / "efficientnet-lite0", strict=True)
    g = UNetGenerator(base_channels=4, max_multiplier=2, encoder="lite0")
    assert not torch.equal(g.encoder._blocks[5]._depthwise_conv.weight, lite._blocks[5]._depthwise_conv.weight)
    g.init_encoder(lite)
    assert torch.equal(g.encoder._blocks[5]._depthwise_conv.weight, lite._blocks[5]._depthwise_conv.weight)
    assert torch.equal(g.encoder._bn0.running_var, lite._bn0.running_var)
    assert not hasattr(g.encoder, "_fc")                          # no classifier in the generator's weights
    skips = g.encode(torch.rand(1, 1, 128, 128))
    assert [tuple(s.shape[1:]) for s in skips] == [(16, 64, 64), (24, 32, 32), (40, 16, 16), (112, 8, 8),
                                                   (320, 4, 4)]


def period2(images: torch.Tensor) -> float:
    """Size of the 2x2-periodic component of images (N, C, H, W): how far the mean of each of the four pixel
    positions of a 2x2 cell (away from the borders) is from their average."""
    inner = images[..., 8:-8, 8:-8]
    phases = torch.stack([inner[..., a::2, b::2].mean(dim=(-2, -1)) for a in (0, 1) for b in (0, 1)])  # (4, N, C)
    return float((phases - phases.mean(0)).abs().mean())


@pytest.mark.parametrize("encoder", ["unet", "lite0"])
def test_resize_convolution_makes_no_checkerboard_of_a_blank_page(encoder):
    """Odena et al. 2016: from a blank input (no lines at all), transposed convolutions with a random init already
    draw a 2-pixel checkerboard; resize-convolutions with the same init do not (their output is not flat either:
    the zero padding at the borders spreads inwards, but not as a 2-pixel pattern)."""
    blank = torch.ones(1, 1, 128, 128)
    out = {}
    for upsample in ("transpose", "resize"):
        torch.manual_seed(0)
        g = UNetGenerator(base_channels=8, max_multiplier=2, encoder=encoder, upsample=upsample).eval()
        with torch.no_grad():
            out[upsample] = g(blank)
    assert period2(out["transpose"]) > 0.02                       # a visible pattern (pixels in [0, 1])
    assert period2(out["resize"]) < min(0.005, 0.1 * period2(out["transpose"]))


def test_checkerboard_score_finds_a_faint_checkerboard():
    with PIL.Image.open(CHELSEA) as img:
        photo = torch.from_numpy(np.asarray(img.convert("RGB").resize((128, 128)), dtype=np.float32) / 255)
    photo = photo.permute(2, 0, 1)[None]                                            # (1, 3, 128, 128)
    board = (torch.arange(128)[:, None] + torch.arange(128)[None, :]) % 2 * 2 - 1   # ±1, period 2 px
    assert checkerboard_score(photo) < 5                               # a photo's spectrum: no peak there
    assert checkerboard_score((photo + 0.01 * board).clamp(0, 1)) > 100   # ±1 % of the range: a tall peak


# --- edges -----------------------------------------------------------------------------------

def test_canny_finds_the_border_of_a_square_thin_and_only_there():
    img = torch.ones(1, 3, 64, 64)
    img[:, :, 16:48, 16:48] = 0.0
    e = canny_edges(img, sigma=1.0)
    assert e.shape == (1, 1, 64, 64)
    assert e[0, 0, 32, 10:22].sum() <= 2 and e[0, 0, 32, 10:22].sum() >= 1  # one thin line across the left side
    assert e[0, 0, 30:34, 30:34].sum() == 0 and e[0, 0, :5, :5].sum() == 0  # nothing inside nor far outside
    lines = photo_to_lines(img, sigma=1.0)
    assert set(lines.unique().tolist()) <= {0.0, 1.0} and lines.mean() > 0.9  # black lines on white


def test_flat_image_has_no_edges():
    assert canny_edges(torch.full((2, 3, 32, 32), 0.4)).sum() == 0


def test_sketch_to_lines_and_thicken():
    s = torch.ones(1, 3, 256, 256)
    s[:, :, 100:103, 20:200] = 0.0  # a 3-px black stroke
    lines = sketch_to_lines(s, 128)
    assert lines.shape == (1, 1, 128, 128) and lines[0, 0, 51, 50] == 0 and lines[0, 0, 10, 10] == 1
    assert (1 - thicken(lines, 1)).sum() > (1 - lines).sum()


def test_examples_round_trip_to_the_same_edges():
    """An exported example (128-px edges enlarged 2x) gives back exactly a 128-px binary edge map."""
    files = tab.example_files()
    assert len(files) >= 4
    for f in files:
        with PIL.Image.open(f) as img:
            assert img.size == (256, 256)
            lines = tab.sketch_to_input(img.copy())
            arr = np.asarray(img.convert("L"), dtype=np.float32)[::2, ::2] / 255.0
        assert torch.equal(lines[0, 0], torch.from_numpy((arr > 0.75).astype(np.float32)))
        assert Path(f).stat().st_size < 5000


# --- training script -------------------------------------------------------------------------

def test_training_dry_run_resume_and_eval(tmp_path):
    from training import train_pix2pix

    out, out_l1, ckpt = tmp_path / "g", tmp_path / "g1", tmp_path / "ckpt"
    common = ["--dry-run", "--device", "cpu", "--output-dir", str(out), "--l1-output-dir", str(out_l1),
              "--checkpoint-dir", str(ckpt)]
    train_pix2pix.main(train_pix2pix.parse_args(common))
    for folder in (out, out_l1):
        UNetGenerator.from_pretrained(folder, strict=True)
        card = (folder / "README.md").read_text()
        assert "FID-Lite0" in card and "PSNR" in card and (folder / "SHA256SUMS").is_file()
    assert (ckpt / "samples.png").is_file() and json.loads((ckpt / "state.json").read_text())["position"]["step"] == 3
    train_pix2pix.main(train_pix2pix.parse_args(     # a checkpoint without an average, resumed with one
        common + ["--resume", str(ckpt), "--checkpoint-dir", str(tmp_path / "c2"), "--ema", "0.9"]))
    assert (tmp_path / "c2" / "generator_ema.safetensors").is_file()
    grid = tmp_path / "grid.png"
    train_pix2pix.main(train_pix2pix.parse_args(common + ["--eval-only", "--grid", str(grid), "--update-cards"]))
    assert grid.is_file()
    card = (out / "README.md").read_text()
    assert "trained on 12 pairs" in card and "3 steps" in card and "on the 8 of them" in card


def test_dry_run_with_the_new_options_eval_and_export(tmp_path):
    from training import train_pix2pix

    ckpt = tmp_path / "run" / "checkpoint"
    common = ["--dry-run", "--device", "cpu", "--threads", "1", "--output-dir", str(tmp_path / "g"),
              "--checkpoint-dir", str(ckpt)]
    train_pix2pix.main(train_pix2pix.parse_args(common + ["--encoder", "lite0", "--upsample", "resize",
                                                          "--perceptual-weight", "10", "--no-l1-baseline"]))
    state = json.loads((ckpt / "state.json").read_text())
    assert state["generator_config"]["encoder"] == "lite0" and state["position"]["step"] == 3
    assert not (ckpt / "generator_l1.safetensors").exists() and not (tmp_path / "g1").exists()
    command = state["history"][0]["command"]
    assert "--encoder lite0" in command and "--perceptual-weight 10" in command and "--no-l1-baseline" in command
    # The checkpoint against the generator in --output-dir: figures and a before/after grid on test inputs; and
    # publishing it: config with the options, weights, card with the run's command and figures, checksums.
    grid, out = tmp_path / "before_after.png", tmp_path / "pix2pix-edges2cats-v2"
    train_pix2pix.main(train_pix2pix.parse_args(
        common + ["--eval-only", "--resume", str(ckpt), "--grid", str(grid), "--export-to", str(out)]))
    with PIL.Image.open(grid) as img:
        assert img.size == (4 * 128, 8 * 128)           # edges | before | after | real, for the 8 fake test pairs
    g = UNetGenerator.from_pretrained(out, strict=True)
    assert g.encoder_kind == "lite0" and (out / "SHA256SUMS").is_file()
    card = (out / "README.md").read_text()
    assert "--encoder lite0" in card and "3 steps" in card and "FID-Lite0" in card and "Odena" in card

    # --start-from: the published generator trained further (architecture from its config.json; with lr 0 its
    # parameters stay exactly the published ones, so they were loaded, not initialised afresh)
    again = tmp_path / "again"
    train_pix2pix.main(train_pix2pix.parse_args(
        ["--dry-run", "--device", "cpu", "--threads", "1", "--no-l1-baseline", "--start-from", str(out), "--lr", "0",
         "--output-dir", str(again), "--checkpoint-dir", str(tmp_path / "again-ckpt")]))
    state = json.loads((tmp_path / "again-ckpt" / "state.json").read_text())
    assert state["generator_config"] == json.loads((out / "config.json").read_text())
    assert "--start-from" in state["history"][0]["command"]
    before = dict(UNetGenerator.from_pretrained(out, strict=True).named_parameters())
    for name, p in UNetGenerator.from_pretrained(again, strict=True).named_parameters():
        assert torch.equal(p, before[name]), name


def test_resume_continues_at_the_saved_step_as_if_never_interrupted(tmp_path, monkeypatch):
    """A run stopped after 3 of 6 steps and resumed gives the very weights of a run never stopped: model,
    optimizers, step, schedule and random-number states (batches, dropout) all come back."""
    from safetensors.torch import load_file

    from training import train_pix2pix

    def run(ckpt, *extra):
        train_pix2pix.main(train_pix2pix.parse_args(
            ["--dry-run", "--steps", "6", "--device", "cpu", "--upsample", "resize", "--output-dir",
             str(tmp_path / ckpt.name / "g"), "--l1-output-dir", str(tmp_path / ckpt.name / "g1"),
             "--checkpoint-dir", str(ckpt), "--ema", "0.5", *extra]))

    whole, parts = tmp_path / "whole", tmp_path / "parts"
    run(whole)
    real_batch, calls = train_pix2pix.batch, []

    def stop_after_three(*args, **kwargs):
        calls.append(1)
        if len(calls) > 3:
            raise KeyboardInterrupt                                   # e.g. the machine was switched off
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(train_pix2pix, "batch", stop_after_three)
    with pytest.raises(KeyboardInterrupt):
        run(parts)
    assert json.loads((parts / "state.json").read_text())["position"]["step"] == 3
    monkeypatch.setattr(train_pix2pix, "batch", real_batch)
    run(parts, "--resume", str(parts))
    state = json.loads((parts / "state.json").read_text())
    assert state["position"]["step"] == 6
    assert [(h["from_step"], h["to_step"]) for h in state["history"]] == [(0, 3), (3, 6)]
    for name in ("generator", "generator_ema", "generator_l1", "discriminator"):
        a, b = load_file(str(whole / f"{name}.safetensors")), load_file(str(parts / f"{name}.safetensors"))
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a), name


def test_weight_average_follows_the_generator():
    """--ema: after each step the average moves (1 − decay) of the way to the trained weights (BatchNorm statistics
    too); counters are copied; the published generator is the average, its card says so."""
    from training.train_pix2pix import WeightAverage, card

    g = UNetGenerator(base_channels=4, max_multiplier=2, encoder="lite0")
    average = UNetGenerator(base_channels=4, max_multiplier=2, encoder="lite0").requires_grad_(False)
    average.load_state_dict(g.state_dict())
    start = {k: v.clone() for k, v in average.state_dict().items()}
    with torch.no_grad():
        for v in g.state_dict().values():
            v.add_(1) if v.is_floating_point() else v.add_(5)
    ema = WeightAverage(average, g, decay=0.75)
    ema.update()
    ema.update()
    for k, v in average.state_dict().items():
        want = start[k] + (1 - 0.75**2) if v.is_floating_point() else start[k] + 5
        assert torch.allclose(v, want, atol=1e-6), k
    assert any("running_mean" in k for k in average.state_dict())
    assert "moving average (decay 0.999)" in card("x", True, "", "", 1, 1, {}, 0.0, 0.999)["description"]
    assert "moving average" not in card("x", False, "", "", 1, 1, {}, 0.0, 0.999)["description"]


def test_resume_of_a_missing_checkpoint_starts_afresh(tmp_path):
    from training import train_pix2pix

    ckpt = tmp_path / "ckpt"
    train_pix2pix.main(train_pix2pix.parse_args(
        ["--dry-run", "--device", "cpu", "--no-l1-baseline", "--output-dir", str(tmp_path / "g"),
         "--checkpoint-dir", str(ckpt), "--resume", str(ckpt)]))
    assert json.loads((ckpt / "state.json").read_text())["position"]["step"] == 3


def test_batches_crop_photo_and_edges_alike():
    from training.train_pix2pix import all_edges, batch, fake_photos

    g = torch.Generator().manual_seed(0)
    photos = fake_photos(3, 144, g)
    edges = all_edges(photos)
    x, y = batch(photos, edges, 6, 0.0, g)
    assert x.shape == (6, 1, 128, 128) and y.shape == (6, 3, 128, 128)
    # Each edge map is the edge map of some crop (or flipped crop) of its photo.
    full = edges.float() / 255.0
    for i in range(6):
        found = any(torch.equal(x[i, 0], c[0, oy:oy + 128, ox:ox + 128])
                    or torch.equal(x[i, 0].flip(-1), c[0, oy:oy + 128, ox:ox + 128])
                    for c in full for oy in range(17) for ox in range(17))
        assert found


def test_test_split_is_fixed_and_disjoint():
    from training.train_pix2pix import EXAMPLE_NAMES, SPLIT_FILE, TEST_COUNT

    names = SPLIT_FILE.read_text().split()
    assert len(names) == len(set(names)) == TEST_COUNT
    assert set(EXAMPLE_NAMES) <= set(names)  # the tab's examples are held-out photos


# --- tab -------------------------------------------------------------------------------------

def images(result: dict) -> tuple:
    """A handler's pictures in the api's order: (edges as used, cGAN + L1, L1 only)."""
    return result["edges"], result["gan"], result["l1"]


def test_sketch_handler_outputs(tiny_p2p):
    edges, gan, l1 = images(tab.pix2pix({"composite": drawing(256)}, False, 0))
    assert edges.size == gan.size == l1.size == (256, 256)
    assert gan.mode == l1.mode == "RGB" and edges.mode == "L"
    assert gan.tobytes() != l1.tobytes()  # two different generators


def test_photo_handler_extracts_the_same_edges_as_training(tiny_p2p):
    from training.train_pix2pix import square

    with PIL.Image.open(CHELSEA) as img:
        photo = img.copy()
    edges, gan, l1 = images(tab.pix2pix_photo(photo, False, 0))
    x = torch.from_numpy(square(CHELSEA, 128)).permute(2, 0, 1)[None].float() / 255.0
    expected = photo_to_lines(x)
    got = torch.from_numpy(np.asarray(edges, dtype=np.float32)[::2, ::2] / 255.0)
    # Same function; the resizes (PIL vs torch bicubic) differ by a few grey levels, so nearly all pixels agree.
    assert (got == expected[0, 0]).float().mean() > 0.97


def test_dropout_noise_is_seeded(tiny_p2p):
    sketch = {"composite": drawing(256)}
    a = tab.pix2pix(sketch, True, 5)["gan"].tobytes()
    assert a == tab.pix2pix(sketch, True, 5)["gan"].tobytes() and a != tab.pix2pix(sketch, True, 6)["gan"].tobytes()


@pytest.mark.parametrize("image", [
    drawing(256, mode="RGBA"),                                               # RGBA strokes on transparent
    drawing(300, mode="L"),                                                  # greyscale
    drawing(200, mode="RGB", ink=(0, 0, 0), background=(255, 255, 255)),     # RGB, not 256 px
    PIL.Image.new("I;16", (64, 64), 65535),                                  # 16-bit, white ...
])
def test_sketch_modes(tiny_p2p, image):
    if image.mode == "I;16":
        arr = np.full((64, 64), 65535, dtype=np.uint16)
        arr[30:33, 5:60] = 0
        image = PIL.Image.fromarray(arr)
    edges, gan, l1 = images(tab.pix2pix(image, False, 0))
    assert gan.size == (256, 256) and np.asarray(edges).min() == 0


def test_huge_and_wide_sketch_is_shrunk_with_a_notice(tiny_p2p):
    big = PIL.Image.new("RGB", (3000, 1000), "white")
    big.paste((0, 0, 0), (100, 400, 2900, 430))
    with pytest.warns(UserWarning):  # gr.Warning outside a request is a UserWarning
        edges, gan, _l1 = images(tab.pix2pix(big, False, 0))
    assert gan.size == (256, 256) and np.asarray(edges).min() == 0


@pytest.mark.parametrize("value", [
    None,
    {"background": None, "layers": [], "composite": None},
    {"background": None, "layers": [], "composite": PIL.Image.new("RGBA", (256, 256))},   # cleared canvas
    PIL.Image.new("RGB", (256, 256), "white"),                                           # blank paper
    "not an image",
])
def test_empty_or_bad_sketch_is_a_clear_error_and_live_ignores_it(tiny_p2p, value):
    with pytest.raises(gr.Error):
        tab.pix2pix(value, False, 0)
    assert tab.pix2pix_live(value, False, 0) == {}  # every output left as it is


def test_dark_image_in_the_sketchpad_gets_a_warning(tiny_p2p):
    with pytest.warns(UserWarning):
        tab.pix2pix(PIL.Image.new("RGB", (256, 256), "black"), False, 0)


@pytest.mark.parametrize("photo", [
    PIL.Image.new("RGBA", (200, 150), (0, 0, 0, 0)),
    PIL.Image.new("L", (90, 300), 128),
    PIL.Image.new("P", (64, 64)),
    PIL.Image.new("CMYK", (64, 64)),
    np.zeros((50, 70, 3), dtype=np.uint8),
])
def test_photo_modes(tiny_p2p, photo):
    edges, gan, l1 = images(tab.pix2pix_photo(photo, False, 0))
    assert edges.size == gan.size == l1.size == (256, 256)


def test_a_photo_without_edges_gets_a_notice(tiny_p2p):
    """A tiny or flat photo gives an (almost) blank edge map: still translated, with a notice that says why the
    result is a blur; a photo with edges gets none."""
    import warnings

    with pytest.warns(UserWarning, match="edges"):
        edges, gan, _l1 = images(tab.pix2pix_photo(PIL.Image.new("RGB", (8, 8), "red"), False, 0))
    assert gan.size == (256, 256) and np.asarray(edges).min() > 0  # no line at all
    striped = np.zeros((128, 128, 3), dtype=np.uint8)
    striped[:, 64:] = 255
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tab.pix2pix_photo(PIL.Image.fromarray(striped), False, 0)


def test_bad_photos_and_seeds(tiny_p2p):
    with pytest.raises(gr.Error):
        tab.pix2pix_photo(None, False, 0)
    with pytest.raises(gr.Error):
        tab.pix2pix_photo(PIL.Image.new("RGB", (3, 3)), False, 0)
    for seed in (-1, "abc", 2**40):
        with pytest.raises(gr.Error):
            tab.pix2pix({"composite": drawing(256)}, True, seed)


def test_open_tab_and_missing_weights(tiny_p2p, tmp_path, monkeypatch):
    ok = tab.open_tab(None)
    assert ok["status"]["visible"] is False and ok["run_sketch"]["interactive"] is True
    assert ok["run_photo"]["interactive"] is True
    assert ok["sketch"] == tab.example_files()[0] and isinstance(ok["gan"], PIL.Image.Image) and len(ok) == 4 + 3 + 2
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path / "nothing"))
    loading.clear_cache()
    off = tab.open_tab(None)
    message = off["status"]["value"]
    assert off["status"]["visible"] is True and "pix2pix-edges2cats" in message and "train_pix2pix.py" in message
    assert off["run_sketch"]["interactive"] is False and off["run_photo"]["interactive"] is False
    with pytest.raises(gr.Error):
        tab.pix2pix({"composite": drawing(256)}, False, 0)


def test_share_link_restores_dropout_and_seed(tiny_p2p):
    from urllib.parse import parse_qsl

    from tests.test_ae import LinkRequest

    query = tab.p2p_share_query(True, 42)
    assert query == "?tab=pix2pix&dropout=1&seed=42"
    settings = ("dropout", "seed")
    assert [tab.open_tab(LinkRequest(**dict(parse_qsl(query[1:]))))[k] for k in settings] == [True, 42]
    assert [tab.open_tab(LinkRequest(dropout="yes", seed="-3"))[k] for k in settings] == [False, 0]


def test_api_of_the_tab_alone(tiny_p2p):
    from gradio_client import Client, handle_file

    from demos.i18n import make_i18n
    from demos.kit import Page

    demo = tab.create_demo(Page(tab.TAB))
    demo.launch(prevent_thread_lock=True, quiet=True, i18n=make_i18n([tab.TAB]), max_file_size="10mb")
    try:
        client = Client(demo.local_url, verbose=False, download_files=False)
        example = tab.example_files()[0]
        sketch = {"background": handle_file(example), "layers": [], "composite": handle_file(example)}
        edges, gan, l1 = client.predict(sketch, False, 0, api_name="/pix2pix")
        assert edges and gan and l1
        outs = client.predict(handle_file(str(CHELSEA)), True, 3, api_name="/pix2pix_photo")
        assert len(outs) == 3
        path = tiny_p2p / "blank.png"
        PIL.Image.new("RGB", (64, 64), "white").save(path)
        with pytest.raises(Exception):
            client.predict({"background": handle_file(str(path)), "layers": [], "composite": handle_file(str(path))},
                           False, 0, api_name="/pix2pix")
    finally:
        demo.close()
