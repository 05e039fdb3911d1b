"""CycleGAN: the networks, the training script's pieces (crops, history pool, split, dry run, resume,
evaluation) and the tab's handlers on tiny random generators (aspect ratio, bad inputs, an API call)."""

import json
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch
from torch import nn

from models.cyclegan import CycleGANGenerator, InstanceNorm, PatchDiscriminator
from tests.tiny_cyclegan import SLUGS, make_tiny_pretrained_cyclegan


def test_shapes_and_range():
    g = CycleGANGenerator(base_channels=4, res_blocks=2).eval()
    x = torch.rand(2, 3, 36, 52)
    with torch.no_grad():
        y = g(x)
    assert y.shape == x.shape and 0 <= float(y.min()) and float(y.max()) <= 1
    d = PatchDiscriminator(base_channels=4)
    with torch.no_grad():
        assert d(torch.rand(2, 3, 128, 128)).shape == (2, 1, 14, 14)  # 70x70 PatchGAN: H/8 - 2


@pytest.mark.parametrize("upsample", ["resize", "bilinear"])
def test_resize_convolutions_instead_of_transposed_ones(tmp_path, upsample):
    """``upsample="resize"`` / ``"bilinear"``: no transposed convolution left, the same shapes, and the choice travels
    in config.json."""
    g = CycleGANGenerator(base_channels=4, res_blocks=1, upsample=upsample).eval()
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in g.modules())
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in CycleGANGenerator(base_channels=4).modules()) == 2
    x = torch.rand(1, 3, 36, 52)
    with torch.no_grad():
        y = g(x)
    assert y.shape == x.shape and 0 <= float(y.min()) and float(y.max()) <= 1
    g.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["upsample"] == upsample
    again = CycleGANGenerator.from_pretrained(tmp_path, strict=True).eval()
    with torch.no_grad():
        assert torch.equal(again(x), y)
    with pytest.raises(ValueError, match="upsample"):
        CycleGANGenerator(upsample="cubic")


def test_bilinear_doubling_has_the_weights_of_the_resize_convolution_and_no_2_pixel_blocks():
    """A generator trained with nearest-neighbour resize-convolutions loads, weight for weight, into one that doubles
    bilinearly (how the bilinear pair was started: ``train_cyclegan.py --start-from``); the nearest-neighbour doubling
    repeats every pixel in 2x2 blocks, the bilinear one does not."""
    nearest = CycleGANGenerator(base_channels=4, res_blocks=1, upsample="resize")
    bilinear = CycleGANGenerator(base_channels=4, res_blocks=1, upsample="bilinear")
    bilinear.load_state_dict(nearest.state_dict(), strict=True)
    up_nearest, up_bilinear = (next(m for m in net.modules() if isinstance(m, nn.Upsample))
                               for net in (nearest, bilinear))
    x = torch.rand(1, 2, 5, 7)
    blocks = up_nearest(x)
    assert torch.equal(blocks[..., 0::2, 0::2], blocks[..., 1::2, 1::2])
    assert not torch.equal(up_bilinear(x)[..., 0::2, 0::2], up_bilinear(x)[..., 1::2, 1::2])


def test_instance_norm_is_torchs():
    x = torch.randn(2, 5, 9, 7) * 3 + 1
    assert torch.allclose(InstanceNorm()(x), nn.InstanceNorm2d(5)(x), atol=1e-5)
    assert not list(InstanceNorm().parameters())


def test_default_width_is_small():
    n = sum(p.numel() for p in CycleGANGenerator().parameters())
    assert n * 4 < 9e6  # fp32 bytes of one generator: two of them stay well under 20 MB


def test_random_batch_crops_and_flips():
    from training.train_cyclegan import random_batch

    images = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6).to(torch.uint8)
    gen = torch.Generator().manual_seed(0)
    x = random_batch(images, 16, 4, gen)
    assert x.shape == (16, 3, 4, 4) and x.dtype == torch.float32
    found_flip = False
    for crop in x:
        crop = (crop * 255).round().to(torch.uint8)
        windows = [images[i, :, t:t + 4, s:s + 4] for i in range(2) for t in range(3) for s in range(3)]
        plain = any(torch.equal(crop, w) for w in windows)
        flipped = any(torch.equal(crop, w.flip(2)) for w in windows)
        assert plain or flipped
        found_flip |= flipped and not plain
    assert found_flip


def test_random_batch_grayscale_share():
    from training.train_cyclegan import random_batch

    images = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    images[:, 0] = 200                                                          # a red picture
    x = random_batch(images, 400, 4, torch.Generator().manual_seed(0), grayscale_prob=0.25)
    grey = (x[:, 0] == x[:, 1]).all(dim=(1, 2)) & (x[:, 1] == x[:, 2]).all(dim=(1, 2))
    assert 0.15 < grey.float().mean() < 0.35                                    # about a quarter
    assert torch.allclose(x[grey][:, 0], torch.full((4, 4), 0.299 * 200 / 255))  # luma, not a channel copy
    assert (x[~grey][:, 0] > 0.7).all() and (x[~grey][:, 1] == 0).all()        # the rest keep their colour



def test_random_batch_gamma_share_brightens_and_darkens():
    from training.train_cyclegan import random_batch

    images = torch.full((1, 3, 4, 4), 128, dtype=torch.uint8)                  # mid grey, 0.502
    x = random_batch(images, 400, 4, torch.Generator().manual_seed(0), gamma_prob=0.5)
    level = x.mean(dim=(1, 2, 3))
    same = (level - 128 / 255).abs() < 1e-3
    assert 0.4 < 1 - same.float().mean() < 0.6                                 # about half changed
    assert (level > 0.6).any() and (level < 0.4).any()                         # brighter and darker
    assert level.min() >= (128 / 255) ** 2 - 1e-4 and level.max() <= (128 / 255) ** 0.5 + 1e-4   # γ in [1/2, 2]
    # a grey stays grey (up to rounding: x^γ may be computed per channel by different vector paths)
    assert torch.allclose(x, x[:, :1].expand_as(x), rtol=0, atol=1e-6)


def test_history_pool_returns_old_or_new_images():
    from training.train_cyclegan import HistoryPool

    pool = HistoryPool(3, torch.Generator().manual_seed(0))
    first = torch.zeros(3, 1, 2, 2)
    assert torch.equal(pool.query(first), first)  # filling up: the new images come back
    seen_old = False
    for k in range(1, 20):
        out = pool.query(torch.full((2, 1, 2, 2), float(k)))
        assert out.shape == (2, 1, 2, 2)
        assert all(float(img[0, 0, 0]) <= k for img in out)
        seen_old |= any(float(img[0, 0, 0]) < k for img in out)
    assert seen_old and pool.images.shape[0] == 3


def test_black_and_white_photos_are_told_from_colour_ones():
    from training.train_cyclegan import is_black_and_white, to_grayscale

    g = torch.Generator().manual_seed(0)
    colour = torch.rand(2, 3, 16, 16, generator=g)
    grey = to_grayscale(colour)
    jpeg_noise = (grey + (torch.rand(2, 3, 16, 16, generator=g) - 0.5) * 6 / 255).clamp(0, 1)  # ±3/255 per channel
    sepia_ish = grey * torch.tensor([1.0, 0.85, 0.6])[:, None, None]  # a toned photo has colour
    assert is_black_and_white(torch.cat([grey, jpeg_noise, colour, sepia_ish])).tolist() == [True] * 4 + [False] * 4


def test_test_split_is_fixed_and_disjoint(tmp_path):
    from training.train_cyclegan import split_files

    folder = tmp_path / "hcaptcha" / "horse"
    folder.mkdir(parents=True)
    for i in range(30):
        PIL.Image.new("RGB", (8, 8)).save(folder / f"{i}.jpg")
    train, test = split_files(tmp_path, "horse", 0.1, 0)
    assert len(test) == 3 and len(train) == 27 and not set(train) & set(test)
    assert split_files(tmp_path, "horse", 0.1, 0) == (train, test)


def test_training_dry_run_resume_and_eval(tmp_path, capsys):
    from training import train_cyclegan as tc

    g_dir, f_dir, ckpt = tmp_path / "g", tmp_path / "f", tmp_path / "ckpt"
    common = ["--dry-run", "--output-dir", str(g_dir), "--reverse-output-dir", str(f_dir),
              "--checkpoint-dir", str(ckpt)]
    tc.main(tc.parse_args(common + ["--steps", "2"]))
    for folder in (g_dir, f_dir):
        CycleGANGenerator.from_pretrained(folder, strict=True)
        assert (folder / "SHA256SUMS").is_file() and (folder / "test_split.json").is_file()
        assert "CycleGAN" in (folder / "README.md").read_text()
    assert json.loads((ckpt / "state.json").read_text())["step"] == 2
    assert list(ckpt.glob("samples_*.png"))
    tc.main(tc.parse_args(common + ["--steps", "4", "--resume", str(ckpt), "--checkpoint-dir", str(tmp_path / "c2")]))
    assert json.loads((tmp_path / "c2" / "state.json").read_text())["step"] == 4
    # --start-from: the saved pair trained on (new discriminators), saved elsewhere; the originals untouched
    g2, f2 = tmp_path / "g2", tmp_path / "f2"
    before = {k: v.clone() for k, v in CycleGANGenerator.from_pretrained(g_dir, strict=True).state_dict().items()}
    tc.main(tc.parse_args(["--dry-run", "--start-from", str(g_dir), str(f_dir), "--output-dir", str(g2),
                           "--reverse-output-dir", str(f2), "--checkpoint-dir", str(tmp_path / "c3"), "--steps", "2"]))
    tuned = CycleGANGenerator.from_pretrained(g2, strict=True).state_dict()
    assert tuned.keys() == before.keys() and any(not torch.equal(tuned[k], before[k]) for k in before)
    assert max(float((tuned[k].float() - before[k].float()).abs().max()) for k in before) < 0.01  # trained on, not anew
    assert all(torch.equal(v, before[k]) for k, v in CycleGANGenerator.from_pretrained(g_dir).state_dict().items())
    r = tc.main(tc.parse_args(common + ["--eval-only", "--eval-dir", str(tmp_path / "eval"), "--write-card"]))
    assert "FID-Lite0" in (g_dir / "README.md").read_text() and (f_dir / "training.json").is_file()
    from models.loading import verify_checksum
    verify_checksum("g", g_dir / "model.safetensors")  # the rewritten folder still matches its SHA256SUMS
    assert r["fid_g_a2b"] >= 0 and 0 <= r["cycle_l1_a"] <= 1 and 0 <= r["cycle_l1_b"] <= 1
    assert (tmp_path / "eval" / "a2b_000.png").is_file() and (tmp_path / "eval" / "metrics.json").is_file()
    assert r["checkerboard_g"] > 0 and 0 <= r["cycle_l1_grey_a"] <= r["cycle_l1_grey_a_max"] <= 1
    assert r["n_bright_a"] == 1 and r["cycle_l1_bright_a"] in r["per_image_cycle_l1_a"]   # 5 % of 4 test images
    # --before: the same pair as "before" gives the same figures, and a before/after picture
    figure = tmp_path / "before_after.png"
    again = tc.main(tc.parse_args(common + ["--eval-only", "--before", str(g_dir), str(f_dir),
                                            "--figure", str(figure)]))
    assert again["fid_g_a2b"] == pytest.approx(r["fid_g_a2b"]) and figure.is_file()
    # --figure-photos: any horse photo of the data folder as one more column
    (tmp_path / "data" / "hcaptcha" / "horse").mkdir(parents=True)
    PIL.Image.new("RGB", (50, 40), "white").save(tmp_path / "data" / "hcaptcha" / "horse" / "white.jpg")
    wider = tmp_path / "wider.png"
    tc.main(tc.parse_args(common + ["--eval-only", "--before", str(g_dir), str(f_dir), "--figure", str(wider),
                                    "--data-dir", str(tmp_path / "data"), "--figure-photos", "horse/white.jpg"]))
    printed = capsys.readouterr().out
    assert "horse/white.jpg (before): cycle L1" in printed and "mean brightness 1.000 → back" in printed
    columns = PIL.Image.open(wider).width / PIL.Image.open(figure).width
    assert PIL.Image.open(wider).height == PIL.Image.open(figure).height and 1.05 < columns < 1.2   # 10 columns, not 9


def test_instance_norm_forgets_brightness_and_global_stats_remember_it():
    """The paper's generator gives the same translation for a photo and a brighter, lower-contrast copy of it (the
    first instance norm removes both); with ``global_stats`` the FiLM layer starts as the identity and, once trained
    (here: set by hand), sees the difference."""
    from models.cyclegan import GlobalStatsFiLM

    torch.manual_seed(0)
    plain = CycleGANGenerator(base_channels=4, res_blocks=1, upsample="resize").eval()
    x = torch.rand(1, 3, 32, 32) * 0.5
    brighter = 0.4 * x + 0.55
    with torch.no_grad():
        assert float((plain(x) - plain(brighter)).abs().max()) < 1e-4
        remembering = CycleGANGenerator(base_channels=4, res_blocks=1, upsample="resize", global_stats=True).eval()
        missing, unexpected = remembering.load_state_dict(plain.state_dict(), strict=False)
        assert not unexpected and set(missing) == {"film.linear.weight", "film.linear.bias"}
        assert isinstance(remembering.film, GlobalStatsFiLM)
        assert torch.equal(remembering(x), plain(x))                  # zero-initialised: the paper's generator
        remembering.film.linear.weight.normal_()
        assert float((remembering(x) - remembering(brighter)).abs().max()) > 0.01


def test_start_from_with_global_stats_trains_only_the_film(tmp_path):
    """--start-from --global-stats --film-only: the saved pair gains FiLM layers and only those are trained (after
    --d-warmup steps of discriminators alone); the result loads with strict=True and its config says global_stats."""
    from training import train_cyclegan as tc

    g_dir, f_dir = tmp_path / "g", tmp_path / "f"
    tc.main(tc.parse_args(["--dry-run", "--output-dir", str(g_dir), "--reverse-output-dir", str(f_dir),
                           "--checkpoint-dir", str(tmp_path / "c1"), "--steps", "1"]))
    before = CycleGANGenerator.from_pretrained(g_dir, strict=True).state_dict()
    g2, f2 = tmp_path / "g2", tmp_path / "f2"
    tc.main(tc.parse_args(["--dry-run", "--start-from", str(g_dir), str(f_dir), "--global-stats", "--film-only",
                           "--d-warmup", "2", "--film-lr", "0.01", "--output-dir", str(g2),
                           "--reverse-output-dir", str(f2), "--checkpoint-dir", str(tmp_path / "c2"), "--steps", "4"]))
    assert json.loads((g2 / "config.json").read_text())["global_stats"] is True
    tuned = CycleGANGenerator.from_pretrained(g2, strict=True).state_dict()
    assert all(torch.equal(tuned[k], v) for k, v in before.items())           # the saved weights untouched
    assert float(tuned["film.linear.weight"].abs().max()) > 0                 # the FiLM layer learned
    card = (g2 / "README.md").read_text()   # both runs' commands, the first one's first
    assert card.count("python training/train_cyclegan.py") == 2 and "brightness" in card
    assert card.index("--device cuda --batch-size 2") < card.index("--start-from") < card.index("--film-only")
    # during --d-warmup only the discriminators learn: 4 warm-up steps of 4 leave the new layer at zero
    # (and without --film-lr, G's rate is --lr: the card still says how it was made)
    g3, f3 = tmp_path / "g3", tmp_path / "f3"
    tc.main(tc.parse_args(["--dry-run", "--start-from", str(g_dir), str(f_dir), "--global-stats", "--film-only",
                           "--d-warmup", "4", "--gamma-prob", "0.5", "--output-dir", str(g3),
                           "--reverse-output-dir", str(f3), "--checkpoint-dir", str(tmp_path / "c3"), "--steps", "4"]))
    assert not CycleGANGenerator.from_pretrained(g3, strict=True).film.linear.weight.any()
    card3 = (g3 / "README.md").read_text()
    assert "--film-only --d-warmup 4" in card3 and "--gamma-prob 0.5" in card3 and "random gamma" in card3
    with pytest.raises(SystemExit):
        tc.main(tc.parse_args(["--dry-run", "--film-only", "--output-dir", str(tmp_path / "x")]))


def test_start_from_switches_a_resize_pair_to_bilinear_doubling(tmp_path):
    """--start-from --upsample bilinear: a pair saved with nearest-neighbour resize-convolutions trains on with bilinear
    doubling (same weights), its config and card say so; a transposed-convolution pair cannot switch."""
    from training import train_cyclegan as tc

    g_dir, f_dir = tmp_path / "g", tmp_path / "f"
    tc.main(tc.parse_args(["--dry-run", "--upsample", "resize", "--output-dir", str(g_dir), "--reverse-output-dir",
                           str(f_dir), "--checkpoint-dir", str(tmp_path / "c1"), "--steps", "1"]))
    g2, f2 = tmp_path / "g2", tmp_path / "f2"
    tc.main(tc.parse_args(["--dry-run", "--start-from", str(g_dir), str(f_dir), "--upsample", "bilinear",
                           "--output-dir", str(g2), "--reverse-output-dir", str(f2), "--checkpoint-dir",
                           str(tmp_path / "c2"), "--steps", "2"]))
    for folder in (g2, f2):
        assert json.loads((folder / "config.json").read_text())["upsample"] == "bilinear"
        net = CycleGANGenerator.from_pretrained(folder, strict=True)
        assert next(m for m in net.modules() if isinstance(m, nn.Upsample)).mode == "bilinear"
    card = (g2 / "README.md").read_text()
    assert card.index("--upsample resize") < card.index("--start-from") < card.index("--upsample bilinear")
    assert "resize-convolutions with bilinear doubling to upsample" in card
    t_dir, tf_dir = tmp_path / "t", tmp_path / "tf"
    tc.main(tc.parse_args(["--dry-run", "--output-dir", str(t_dir), "--reverse-output-dir", str(tf_dir),
                           "--checkpoint-dir", str(tmp_path / "c3"), "--steps", "1"]))
    with pytest.raises(SystemExit, match="share their weights"):
        tc.main(tc.parse_args(["--dry-run", "--start-from", str(t_dir), str(tf_dir), "--upsample", "bilinear",
                               "--output-dir", str(tmp_path / "x"), "--reverse-output-dir", str(tmp_path / "y"),
                               "--checkpoint-dir", str(tmp_path / "c4"), "--steps", "1"]))


def test_brightest_images():
    from training.train_cyclegan import brightest_images

    x = torch.stack([torch.full((3, 4, 4), (7 * i % 40) / 40) for i in range(40)])   # 40 grey levels, shuffled
    assert brightest_images(x).tolist() == [17, 34]          # 5 %: two (39/40 and 38/40), brightest first
    assert brightest_images(x[:4]).tolist() == [3]           # at least one: 0, 7/40, 14/40, 21/40


def test_lr_schedule_is_constant_then_linear_to_zero():
    from training.train_cyclegan import lr_factor

    assert lr_factor(0.0, 0.5) == lr_factor(0.49, 0.5) == 1.0
    assert lr_factor(0.75, 0.5) == pytest.approx(0.5) and lr_factor(1.0, 0.5) == 0.0 and lr_factor(1.2, 0.5) == 0.0


# --- the tab ---------------------------------------------------------------------------------

@pytest.fixture
def tiny_cyclegan(pretrained_root):
    make_tiny_pretrained_cyclegan(pretrained_root)
    return pretrained_root


# The images cyclegan() returns, by name, in the api's order (then "figures").
IMAGES = ("as_used", "translated", "reconstructed", "heat", "amplified", "noisy")


def test_translate_keeps_the_aspect_ratio(tiny_cyclegan):
    from demos import cyclegan as tab

    photo = PIL.Image.new("RGB", (303, 201), "sienna")
    for direction in ("a2b", "b2a"):
        out = tab.cyclegan(photo, direction, 101, 10, 2)
        images, figures = [out[name] for name in IMAGES], out["figures"]
        assert [im.size for im in images] == [(101, 67)] * 6  # not multiples of 4: padded, then cropped back
        assert "0." in figures
    tall = PIL.Image.new("RGB", (50, 130), "white")
    out = tab.cyclegan(tall, "a2b", 64, 10, 0)
    assert {out[name].size for name in IMAGES} == {(25, 64)}


def test_run_cycle_figures(tiny_cyclegan):
    from demos import cyclegan as tab

    g, f = tab.load_generators("a2b")
    x = torch.rand(1, 3, 30, 42)
    r = tab.run_cycle(g, f, x, amplify=10, noise=0)
    assert r["cycle_l1_noisy"] == pytest.approx(r["cycle_l1"]) and r["noise_gain"] == 0
    expected = float((tab.translate(f, tab.quantize(tab.translate(g, x))) - x).abs().mean())
    assert r["cycle_l1"] == pytest.approx(expected, rel=1e-5)
    r = tab.run_cycle(g, f, x, amplify=10, noise=4)
    assert 0 < r["noise_l1"] <= 4 / 255 and r["noise_gain"] > 0
    for key in ("translated", "reconstructed", "heat", "amplified", "noisy_reconstruction"):
        assert r[key].shape == x.shape and 0 <= float(r[key].min()) and float(r[key].max()) <= 1


def test_heatmap_and_high_pass():
    from demos.cyclegan import heatmap, high_pass

    err = torch.linspace(0, 0.5, 20).reshape(1, 1, 4, 5)
    h = heatmap(err, vmax=0.25)
    assert h.shape == (1, 3, 4, 5) and float(h[0, :, 0, 0].sum()) < 0.1 and float(h[0, :, -1, -1].sum()) > 2.5
    flat = torch.full((1, 3, 9, 9), 0.3)
    assert float(high_pass(flat).abs().max()) < 1e-6
    assert high_pass(torch.rand(1, 3, 1, 1)).shape == (1, 3, 1, 1)


def test_bad_inputs_and_missing_weights(tiny_cyclegan, tmp_path, monkeypatch):
    import gradio as gr

    from demos import cyclegan as tab
    from models import loading

    photo = PIL.Image.new("RGB", (64, 64))
    with pytest.raises(gr.Error):
        tab.cyclegan(None, "a2b", 256, 10, 2)
    with pytest.raises(gr.Error):
        tab.cyclegan(photo, "sideways", 256, 10, 2)
    with pytest.raises(gr.Error):
        tab.cyclegan(photo, "a2b", 5000, 10, 2)
    with pytest.raises(gr.Error):
        tab.cyclegan(photo, "a2b", 256, float("nan"), 2)
    with pytest.raises(gr.Error):
        tab.cyclegan(photo, "a2b", 256, 10, -1)
    with pytest.raises(gr.Error):
        tab.cyclegan(PIL.Image.new("RGB", (3, 200)), "a2b", 256, 10, 2)  # too thin
    rgba = PIL.Image.fromarray(np.zeros((40, 60, 4), dtype=np.uint8), "RGBA")
    assert tab.cyclegan(rgba, "b2a", 256, 10, 2)["as_used"].size == (60, 40)  # small images are not enlarged
    assert tab.open_tab(None)["run"]["interactive"] is True
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path / "nothing"))
    loading.clear_cache()
    off = tab.open_tab(None)
    assert off["status"]["visible"] is True and SLUGS[0] in off["status"]["value"]
    assert off["run"]["interactive"] is False
    with pytest.raises(gr.Error):
        tab.cyclegan(photo, "a2b", 256, 10, 2)


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    """A data folder with every photo that examples.json and failures.json name (random pixels)."""
    from demos import cyclegan as tab

    names = json.loads((tab.EXAMPLES / "examples.json").read_text())
    failures = tab.EXAMPLES / "failures.json"
    files = names["a2b"] + names["b2a"]
    files += [i["file"] for i in json.loads(failures.read_text())] if failures.is_file() else []
    rng = np.random.default_rng(0)
    for name in files:
        path = tmp_path / "data" / "hcaptcha" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        PIL.Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)).save(path)
    monkeypatch.setenv("GALLERY_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_examples_are_test_images(fake_data, monkeypatch):
    from demos import cyclegan as tab
    rows = tab.example_rows()
    names = json.loads((tab.EXAMPLES / "examples.json").read_text())
    assert len(rows) == len(names["a2b"]) + len(names["b2a"]) and not list(tab.EXAMPLES.glob("*.jpg"))
    assert {d for path, d in rows if "/horse/" in path} == {"a2b"}
    assert {d for path, d in rows if "/horse_made_of_clouds/" in path} == {"b2a"}
    monkeypatch.setenv("GALLERY_DATA_DIR", str(fake_data.parent / "nowhere"))
    assert tab.example_rows() == []  # no data folder: no examples (and no crash)
    saved = Path(__file__).resolve().parent.parent / "pretrained" / "cyclegan-horse2cloudhorse" / "test_split.json"
    if saved.is_file():  # the names really are held-out test images of the trained weights
        split = json.loads(saved.read_text())
        assert set(split["test_a"]) >= set(names["a2b"]) and set(split["test_b"]) >= set(names["b2a"])
        failures = tab.EXAMPLES / "failures.json"
        if failures.is_file():
            assert {i["file"] for i in json.loads(failures.read_text())} <= set(split["test_a"] + split["test_b"])


def test_failure_gallery(tiny_cyclegan, fake_data, tmp_path, monkeypatch):
    from demos import cyclegan as tab

    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "failures.json").write_text(json.dumps([
        {"file": "horse/1045.jpg", "en": "too blue", "ja": "青すぎる"},
        {"file": "horse_made_of_clouds/1005.jpg", "en": "ghost", "ja": "幽霊"},
        {"file": "horse/missing.jpg", "en": "not installed", "ja": "なし"}]))
    monkeypatch.setattr(tab, "EXAMPLES", folder)
    items = tab.failure_items()
    assert [caption for _img, caption in items] == ["too blue", "ghost"]
    assert items[0][0].size == (4 * 128, 128)
    out = tab.open_tab(None)
    gallery, captions = out["failures"], out["captions"]
    assert gallery["visible"] is True and gallery["value"].size == (28 + 4 * 128, 2 * 128 + 4)
    assert captions["value"] == "1. too blue\n2. ghost"


def test_api_call(tiny_cyclegan, tmp_path, monkeypatch):
    from gradio_client import Client, handle_file

    from demos import cyclegan as tab
    from demos.i18n import make_i18n
    from demos.kit import Page

    cycles = []
    real_run_cycle = tab.run_cycle
    monkeypatch.setattr(tab, "run_cycle", lambda *a, **k: cycles.append(1) or real_run_cycle(*a, **k))
    path, same = tmp_path / "wide.png", tmp_path / "the same photo again.png"
    for p in (path, same):
        PIL.Image.new("RGB", (90, 50), "tan").save(p)
    demo = tab.create_demo(Page(tab.TAB))
    demo.launch(prevent_thread_lock=True, quiet=True, i18n=make_i18n([tab.TAB]))
    try:
        client = Client(demo.local_url, verbose=False)
        out = client.predict(handle_file(str(path)), "a2b", 64, 10, 2, api_name="/cyclegan")
        assert len(out) == 7
        with PIL.Image.open(out[1]) as img:
            assert img.size == (64, 36)
            assert img.format == "PNG"  # lossless: a downloaded translation keeps the signal that F reads
        assert "0." in out[6]
        # the same photo (another file) with the same settings: answered from memory (demos/remember.py)
        again = client.predict(handle_file(str(same)), "a2b", 64, 10, 2, api_name="/cyclegan")
        assert len(cycles) == 1 and again[6] == out[6]
        with PIL.Image.open(out[1]) as a, PIL.Image.open(again[1]) as b:
            assert a.tobytes() == b.tobytes()
        client.predict(handle_file(str(same)), "a2b", 64, 10, 3, api_name="/cyclegan")  # other noise: computed
        assert len(cycles) == 2
    finally:
        demo.close()


def test_share_link_restores_the_settings(tiny_cyclegan):
    from urllib.parse import parse_qsl

    from demos import cyclegan as tab
    from tests.test_ae import LinkRequest

    query = tab.cyc_share_query("b2a", 192, 20, 4)
    assert query.startswith("?tab=cyclegan&")
    settings = ("direction", "resolution", "amplify", "noise")
    out = tab.open_tab(LinkRequest(**dict(parse_qsl(query[1:]))))
    assert [out[name] for name in settings] == ["b2a", 192, 20.0, 4.0]
    out = tab.open_tab(LinkRequest(direction="sideways", resolution="1e9", noise="nan"))
    broken = [out[name] for name in settings]
    assert broken == ["a2b", *[tab.LIMITS[n][2] for n in ("resolution", "amplify", "noise")]]


def test_first_view_is_the_example_computed_once(tiny_cyclegan, monkeypatch):
    """The tab opens on the example photo's cycle with a share link's settings (or the defaults), computed once
    however many students open it; the figures are in each student's language."""
    from demos import cyclegan as tab
    from demos.i18n import language
    from tests.test_ae import LinkRequest

    monkeypatch.setenv("GALLERY_DATA_DIR", str(tiny_cyclegan / "no-data"))  # no failure strips to compute
    cycles = []
    real_run_cycle = tab.run_cycle

    def counted(*args, **kwargs):
        cycles.append(1)
        return real_run_cycle(*args, **kwargs)

    monkeypatch.setattr(tab, "run_cycle", counted)
    first = tab.open_tab(None)
    assert first["photo"] == str(tab.FIRST_PHOTO) and first["run"]["interactive"] is True
    assert {first[name].size for name in IMAGES} == {(256, 170)}  # chelsea.jpg (451×300) at the default 256 px
    assert first["figures"].startswith("**Cycle error**")
    with language("ja"):
        again = tab.open_tab(None)
    assert len(cycles) == 1  # the second student got the first one's result
    assert again["figures"].startswith("**サイクル誤差**")
    assert all(again[name].tobytes() == first[name].tobytes() for name in IMAGES)
    # pressing the button with the same settings gives the same pictures
    with PIL.Image.open(tab.FIRST_PHOTO) as img:
        defaults = [tab.LIMITS[name][2] for name in ("resolution", "amplify", "noise")]
        pressed = tab.cyclegan(img.convert("RGB"), "a2b", *defaults)
    assert all(pressed[name].tobytes() == first[name].tobytes() for name in IMAGES)
    linked = tab.open_tab(LinkRequest(direction="b2a", resolution="128"))
    assert len(cycles) == 3 and linked["translated"].size == (128, 85) and "$|G(F(x)) - x|$" in linked["figures"]
