"""CartoonGAN: the networks' shapes, and the converter of the released styles, checked against an
implementation of the released code's forward pass on a state dict made here with its parameter names."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from models.cartoongan import CartoonDiscriminator, CartoonGenerator
from training import convert_cartoongan_weights as convert


def test_shapes():
    g = CartoonGenerator(base_channels=8, res_blocks=2).eval()
    x = torch.rand(2, 3, 36, 52)
    with torch.no_grad():
        y = g(x)
    assert y.shape == x.shape and 0 <= float(y.min()) and float(y.max()) <= 1
    d = CartoonDiscriminator(base_channels=4)
    with torch.no_grad():
        assert d(x).shape == (2, 1, 9, 13)


def released_state_dict(seed=0) -> dict:
    """A state dict with the released models' names and shapes (64 channels, 8 blocks), random values."""
    g = torch.Generator().manual_seed(seed)
    ours = CartoonGenerator(base_channels=64, res_blocks=8).state_dict()
    back = {v: k for k, v in convert.released_to_ours().items()}
    released = {}
    for key, value in ours.items():
        module, _, param = key.rpartition(".")
        offset = 1.0 if param == "scale" else 0.0
        released[f"{back[module]}.{param}"] = torch.randn(value.shape, generator=g) * 0.05 + offset
    return released


def released_forward(sd: dict, x_bgr: torch.Tensor) -> torch.Tensor:
    """The released Transformer's forward pass (CartoonGAN-Test-Pytorch-Torch), written from its structure."""
    def conv(name, h, stride=1, padding=0):
        return F.conv2d(h, sd[f"{name}.weight"], sd[f"{name}.bias"], stride, padding)

    def deconv(name, h):
        return F.conv_transpose2d(h, sd[f"{name}.weight"], sd[f"{name}.bias"], 2, 1, 1)

    def inorm(name, h):
        n = h.shape[2] * h.shape[3]
        t = h.view(h.shape[0], h.shape[1], n)
        mean = t.mean(2)[..., None, None]
        var = t.var(2)[..., None, None] * ((n - 1) / n)
        scale, shift = sd[f"{name}.scale"][None, :, None, None], sd[f"{name}.shift"][None, :, None, None]
        return (h - mean) / torch.sqrt(var + 1e-9) * scale + shift

    pad = nn.ReflectionPad2d
    y = F.relu(inorm("in01_1", conv("conv01_1", pad(3)(x_bgr))))
    y = F.relu(inorm("in02_1", conv("conv02_2", conv("conv02_1", y, 2, 1), 1, 1)))
    t = F.relu(inorm("in03_1", conv("conv03_2", conv("conv03_1", y, 2, 1), 1, 1)))
    for i in range(4, 12):
        y = F.relu(inorm(f"in{i:02d}_1", conv(f"conv{i:02d}_1", pad(1)(t))))
        t = inorm(f"in{i:02d}_2", conv(f"conv{i:02d}_2", pad(1)(y))) + t
    y = F.relu(inorm("in12_1", conv("deconv01_2", deconv("deconv01_1", t), 1, 1)))
    y = F.relu(inorm("in13_1", conv("deconv02_2", deconv("deconv02_1", y), 1, 1)))
    return torch.tanh(conv("deconv03_1", pad(3)(y)))


def test_converter_matches_the_released_forward_pass(tmp_path):
    released = released_state_dict()
    path = tmp_path / "Test_net_G_float.pth"
    torch.save(released, path)
    out = tmp_path / "cartoongan-test"
    convert.main(convert.parse_args(["--weights", str(path), "--style", "test", "--output-dir", str(out)]))
    model = CartoonGenerator.from_pretrained(out, strict=True).eval()
    assert model.bgr and (out / "SHA256SUMS").is_file() and "CartoonGAN" in (out / "README.md").read_text()
    x = torch.rand(1, 3, 32, 40)
    with torch.no_grad():
        ours = model(x)
        # the released code's convention: BGR in [-1, 1] in, BGR in [-1, 1] out
        theirs = (released_forward(released, (x * 2 - 1).flip(1)).flip(1) + 1) / 2
    assert torch.allclose(ours, theirs, atol=1e-4)


def test_converter_refuses_foreign_state_dicts():
    released = released_state_dict()
    released["conv99_1.weight"] = torch.zeros(1)
    with pytest.raises(ValueError):
        convert.convert_state_dict(released)
    released.pop("conv99_1.weight")
    released.pop("in01_1.scale")
    with pytest.raises(RuntimeError):
        CartoonGenerator(64, 8, bgr=True).load_state_dict(convert.convert_state_dict(released), strict=True)


def test_training_dry_run_and_resume(tmp_path, capsys, monkeypatch):
    from training import train_cartoongan

    out, init, ckpt = tmp_path / "cg", tmp_path / "cg0", tmp_path / "ckpt"
    common = ["--dry-run", "--output-dir", str(out), "--init-output-dir", str(init), "--checkpoint-dir", str(ckpt),
              "--base-channels", "8", "--res-blocks", "2", "--batch-size", "2"]
    train_cartoongan.main(train_cartoongan.parse_args(common))
    for folder in (out, init):
        CartoonGenerator.from_pretrained(folder, strict=True)
        assert "OpenMoji" in (folder / "README.md").read_text() and (folder / "SHA256SUMS").is_file()
    assert (ckpt / "generator.safetensors").is_file()
    train_cartoongan.main(train_cartoongan.parse_args(common + ["--resume", str(ckpt)]))
    train_cartoongan.main(train_cartoongan.parse_args(common + ["--eval-only"]))
    assert f"{out}: content loss" in capsys.readouterr().out

    # --start-from: a new adversarial phase from the saved final generator (the init folder is left alone)
    init_weights = (init / "model.safetensors").read_bytes()
    again = tmp_path / "cg-again"
    layers = []   # which block each training step's content loss compared (the evaluation keeps block 10)
    loss, default = train_cartoongan.content_loss, train_cartoongan.CONTENT_LAYER
    monkeypatch.setattr(train_cartoongan, "content_loss",
                        lambda cnn, y, x, layer=default: layers.append(layer) or loss(cnn, y, x, layer))
    train_cartoongan.main(train_cartoongan.parse_args(
        [*common, "--output-dir", str(again), "--start-from", str(out), "--content-weight", "1",
         "--colour-weight", "5", "--d-warmup", "3", "--content-layer", "block2"]))
    assert layers.count("block2") == 2 and set(layers) == {"block2", train_cartoongan.CONTENT_LAYER}
    log = capsys.readouterr().err
    assert "discriminator warm-up" in log and "3/3" in log
    assert (init / "model.safetensors").read_bytes() == init_weights
    assert "--start-from" in (again / "README.md").read_text()
    CartoonGenerator.from_pretrained(again, strict=True)
    with pytest.raises(SystemExit, match="--colour-weight"):   # the lightness term without a weight: said, not ignored
        train_cartoongan.main(train_cartoongan.parse_args([*common, "--colour-lightness-only"]))


def test_content_loss_compares_the_chosen_block():
    from models.efficientnet_lite import EfficientNetLite0
    from training.train_cartoongan import CONTENT_LAYER, content_loss, parse_args

    cnn = EfficientNetLite0.from_pretrained("pretrained/efficientnet-lite0", strict=True).eval().requires_grad_(False)
    a, b = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)).chunk(2)
    for layer in ("block4", CONTENT_LAYER):
        fa, fb = cnn.features(a, upto=15)[layer], cnn.features(b, upto=15)[layer]
        assert torch.allclose(content_loss(cnn, a, b, layer), (fa - fb).abs().mean(), rtol=1e-5)
    assert content_loss(cnn, a, b) == content_loss(cnn, a, b, CONTENT_LAYER)
    assert parse_args([]).content_layer == CONTENT_LAYER
    assert parse_args(["--content-layer", "block4"]).content_layer == "block4"
    with pytest.raises(SystemExit):
        parse_args(["--content-layer", "head"])


def test_load_photos_holds_out_the_last_files_of_each_class(tmp_path):
    import PIL.Image

    from training.train_cartoongan import load_photos

    for cls, shade in (("horse", 50), ("dog", 200)):
        (tmp_path / "hcaptcha" / cls).mkdir(parents=True)
        for i in range(20):   # 5 % held out: the last one of each class
            PIL.Image.new("RGB", (40, 30), (shade, i, 0)).save(tmp_path / "hcaptcha" / cls / f"{i:02d}.jpg")
    train, test = load_photos(tmp_path, 16, ("horse", "dog"))
    assert train.shape == (38, 3, 16, 16) and test.shape == (2, 3, 16, 16)
    assert abs(int(test[0, 1].float().mean()) - 19) <= 2 and abs(int(test[1, 0].float().mean()) - 200) <= 3
    none, same = load_photos(tmp_path, 16, ("horse", "dog"), held_out_only=True)
    assert none is None and torch.equal(same, test)


def test_colour_difference_in_cielab():
    from models.imaging import lab_to_srgb, srgb_to_lab
    from training.train_cartoongan import colour_difference, colour_loss

    white, black = torch.ones(2, 3, 32, 32), torch.zeros(2, 3, 32, 32)
    assert torch.allclose(srgb_to_lab(white)[:, :, 0, 0], torch.tensor([100.0, 0.0, 0.0]), atol=0.05)
    red = torch.zeros(1, 3, 32, 32)
    red[:, 0] = 1                                                   # sRGB red: L 53.2, a 80.1, b 67.2
    assert torch.allclose(srgb_to_lab(red)[0, :, 5, 5], torch.tensor([53.24, 80.09, 67.20]), atol=0.3)
    assert colour_difference(white, white) == 0.0
    assert abs(colour_difference(white, black) - 100.0) < 0.1       # ΔE between white and black
    # outlines (thin black lines) barely change the blurred colours; a recoloured region does
    lines = white.clone()
    lines[:, :, ::8, :] = 0
    assert colour_difference(white, lines) < colour_difference(white, red.expand(2, -1, -1, -1)) / 3
    fake = torch.rand(2, 3, 32, 32, requires_grad=True)
    colour_loss(fake, white).backward()
    assert fake.grad.abs().sum() > 0
    # lightness only: a hue change of the same lightness costs nothing, a darker region does
    grey_as_light_as_red = lab_to_srgb(torch.cat([srgb_to_lab(red)[:, :1], torch.zeros(1, 2, 32, 32)], dim=1))
    assert colour_loss(grey_as_light_as_red, red, lightness_only=True) < 1e-3 < colour_loss(grey_as_light_as_red, red)
    assert abs(float(colour_loss(black[:1], white[:1], lightness_only=True)) - 1.0) < 1e-3   # L* 0 vs 100
    assert colour_loss(torch.full((1, 3, 32, 32), 0.3), red, lightness_only=True) > 0.1   # L* 33 vs 53


def test_lab_round_trip_and_keeping_the_photos_colours():
    from models.cartoongan import keep_photo_colours
    from models.imaging import lab_to_srgb, srgb_to_lab

    x = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    assert (lab_to_srgb(srgb_to_lab(x)) - x).abs().max() < 1e-4
    photo = torch.tensor([0.65, 0.45, 0.3])[None, :, None, None].expand(1, 3, 32, 32)  # flat light brown
    cartoon = torch.full((1, 3, 32, 32), 0.6)
    cartoon[:, :, :, :16] = 0.4                         # grey cartoon: a dark half and a light half, no colour
    kept = keep_photo_colours(photo, cartoon)
    lab, photo_lab, cartoon_lab = srgb_to_lab(kept), srgb_to_lab(photo), srgb_to_lab(cartoon)
    assert (lab[:, 0] - cartoon_lab[:, 0]).abs().max() < 1.0  # the cartoon's lightness (clipped to sRGB: ΔE < 1) ...
    assert (lab[:, 1:] - photo_lab[:, 1:]).abs().max() < 1.0            # ... with the photo's colour
    assert kept[0, 0].mean() > kept[0, 2].mean() + 0.2                  # brown, not grey any more
    assert torch.allclose(keep_photo_colours(photo, photo), photo, atol=1e-4)  # a photo is its own colours


def test_edge_smoothing_blurs_only_the_edges():
    from training.train_cartoongan import edge_smoothed

    img = torch.full((1, 3, 32, 32), 255, dtype=torch.uint8)
    img[:, :, 8:24, 8:24] = 0  # a black square on white: edges along its border
    out = edge_smoothed(img)
    assert out[0, 0, 16, 16] == 0 and out[0, 0, 2, 2] == 255  # flat regions untouched
    assert 0 < int(out[0, 0, 8, 16]) < 255  # the border is now grey


@pytest.fixture
def tiny_cartoon_models(pretrained_root):
    from models import loading

    for slug in ("cartoongan-openmoji", "cartoongan-openmoji-init"):
        CartoonGenerator(base_channels=4, res_blocks=1).save_pretrained(pretrained_root / slug)
        loading.write_checksums(pretrained_root / slug)
    return pretrained_root


def test_cartoonize_keeps_the_aspect_ratio(tiny_cartoon_models):
    import PIL.Image

    from demos import cartoongan as tab

    photo = PIL.Image.new("RGB", (303, 201), "orange")
    out = tab.cartoonize(photo, 101)
    seen, final, init = out["as_used"], out["final"], out["init"]
    assert seen.size == final.size == init.size == (101, 67)  # not multiples of 4: padded, then cropped back
    assert tab.available_styles() == ["openmoji"]  # the released styles are neither local nor reachable
    as_drawn = tab.cartoonize(photo, 101, keep_colours=False)["final"]
    assert as_drawn.tobytes() != final.tobytes() and as_drawn.size == final.size
    assert [caption for _img, caption in tab.cartoonize_styles(photo, 64)] == ["openmoji"]


def test_cartoonize_bad_inputs_and_missing_weights(tiny_cartoon_models, tmp_path, monkeypatch):
    import gradio as gr
    import PIL.Image

    from demos import cartoongan as tab
    from models import loading

    with pytest.raises(gr.Error):
        tab.cartoonize(None, 256)
    with pytest.raises(gr.Error):
        tab.cartoonize(PIL.Image.new("RGB", (64, 64)), 5000)
    assert tab.open_tab(None)["run"]["interactive"] is True
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path / "nothing"))
    loading.clear_cache()
    off = tab.open_tab(None)
    assert off["status"]["visible"] is True and "cartoongan-openmoji" in off["status"]["value"]
    assert off["run"]["interactive"] is False


def test_share_link_restores_the_resolution(tiny_cartoon_models):
    from urllib.parse import parse_qsl

    from demos import cartoongan as tab
    from tests.test_ae import LinkRequest

    query = tab.cg_share_query(384, False)
    assert query == "?tab=cartoongan&resolution=384&colours=0"
    opened = tab.open_tab(LinkRequest(**dict(parse_qsl(query[1:]))))
    assert opened["resolution"] == 384 and opened["keep_colours"] is False
    assert tab.open_tab(LinkRequest(resolution="384"))["keep_colours"] is True  # older links: the default
    assert tab.open_tab(LinkRequest(resolution="99999"))["resolution"] == tab.RESOLUTION[2]
    assert tab.TAB.opens_on("cg")  # links handed out before the tab was renamed (?tab=cg) still open it


def test_first_view_is_the_example_computed_once(tiny_cartoon_models, monkeypatch):
    """The tab opens on the example photo cartoonized at a share link's resolution (or the default), computed once
    however many students open it, and the same as pressing the button."""
    import PIL.Image

    from demos import cartoongan as tab
    from tests.test_ae import LinkRequest

    runs = []
    real = tab.cartoonize_tensor

    def counted(generator, x):
        runs.append(x.shape[-2:])
        return real(generator, x)

    monkeypatch.setattr(tab, "cartoonize_tensor", counted)
    first = tab.open_tab(None)
    assert first["photo"] == str(tab.FIRST_PHOTO) and first["run"]["interactive"] is True
    assert first["as_used"].size == first["final"].size == first["init"].size == (512, 341)  # coffee.jpg at 512 px
    again = tab.open_tab(None)
    assert len(runs) == 2  # final and init, once: the second student got the first one's cartoons
    assert all(again[name].tobytes() == first[name].tobytes() for name in ("as_used", "final", "init"))
    with PIL.Image.open(tab.FIRST_PHOTO) as img:
        pressed = tab.cartoonize(img.convert("RGB"), tab.RESOLUTION[2])
    assert all(pressed[name].tobytes() == first[name].tobytes() for name in ("as_used", "final", "init"))
    assert tab.open_tab(LinkRequest(resolution="128"))["final"].size == (128, 85)


def test_the_tab_builds_alone(tiny_cartoon_models):
    import gradio as gr

    from demos import cartoongan as tab
    from demos.kit import Page

    assert isinstance(tab.create_demo(Page(tab.TAB)), gr.Blocks)


def test_every_style_gives_way_to_other_heavy_jobs(tiny_cartoon_models, monkeypatch):
    """All the styles at full size is long work: between two styles it lets a waiting heavy job compute if its turn
    is over (demos/turns.py)."""
    import PIL.Image

    from demos import cartoongan as tab

    calls = []
    monkeypatch.setattr(tab, "give_way", lambda: calls.append(1))
    tab.cartoonize_styles(PIL.Image.new("RGB", (80, 60), "orange"), 64)
    assert len(calls) == len(tab.available_styles())
