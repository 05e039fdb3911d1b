"""AE denoising tab: the handlers on tiny models, and bad inputs."""

import gradio as gr
import PIL.Image
import pytest
import torch

from demos import ae
from models.autoencoder import ConvAutoencoder
from tests.conftest import drawing


def test_denoise_digit_is_seeded_and_reports_psnr():
    torch.manual_seed(0)
    den, plain = ConvAutoencoder(channels=4, latent_dim=8).eval(), ConvAutoencoder(channels=4, latent_dim=8).eval()
    clean = (torch.rand(1, 1, 28, 28) > 0.8).float()
    a = ae.denoise_digit(clean, "gaussian", 0.5, 3, den, plain)
    b = ae.denoise_digit(clean, "gaussian", 0.5, 3, den, plain)
    assert torch.equal(a["noisy"], b["noisy"]) and a["psnr_noisy"] == b["psnr_noisy"]
    mse = ((a["noisy"] - clean) ** 2).mean().item()
    assert a["psnr_noisy"] == pytest.approx(10 * torch.log10(torch.tensor(1 / mse)).item(), rel=1e-5)
    for key in ("denoised", "plain"):
        assert a[key].shape == (1, 1, 28, 28)


def test_main_handler_outputs(tiny_models, mnist_digit):
    out = ae.ae_denoise(mnist_digit, "salt_pepper", 0.5, 0.2, 0.5, 7)
    clean, noisy, denoised, plain, removed, table, repeated = (out[name] for name in (
        "clean", "noisy", "denoised", "plain", "removed", "psnr", "repeated"))
    assert repeated.size == ((6 * 30 - 2) * 6, 28 * 6)  # noisy + 5 numbers of passes
    for img in (clean, noisy, denoised, plain):
        assert isinstance(img, PIL.Image.Image) and img.size == (280, 280)
    assert removed.mode == "RGB" and removed.size == (280, 280)
    assert len([row for row in table.splitlines() if "dB" in row]) == 3  # noisy, denoising AE, plain AE


@pytest.mark.parametrize("args", [
    ("gaussian", 1.5, 0.2, 0.5, 0),     # σ above the slider's range
    ("mask", 0.5, 0.2, -0.1, 0),       # negative fraction
    ("gaussian", float("nan"), 0.2, 0.5, 0),
    ("speckle", 0.5, 0.2, 0.5, 0),     # unknown noise kind
    ("gaussian", 0.5, 0.2, 0.5, -3),   # bad seed
    ("gaussian", 0.5, 0.2, 0.5, "abc"),
])
def test_out_of_range_values_are_clear_errors(tiny_models, mnist_digit, args):
    with pytest.raises(gr.Error):
        ae.ae_denoise(mnist_digit, *args)


def test_empty_sketch_error_and_live_events_ignore_it(tiny_models):
    blank = {"background": None, "layers": [], "composite": PIL.Image.new("RGBA", (280, 280))}
    with pytest.raises(gr.Error):
        ae.ae_denoise(blank, "gaussian", 0.5, 0.2, 0.5, 0)
    assert ae.ae_denoise_live(blank, "gaussian", 0.5, 0.2, 0.5, 0) == {}  # every output left as it is
    outs = ae.ae_denoise_live({"composite": drawing()}, "mask", 0.5, 0.2, 0.5, 0)
    assert isinstance(outs["clean"], PIL.Image.Image)


def test_an_upload_that_cannot_be_used_says_why(tiny_models):
    """A stroke or a cleared pad that leaves no digit changes nothing silently (the live handler), but an uploaded
    image that gives no digit is said to the student (the pad's upload event runs the main handler)."""
    from demos.kit import Page

    with gr.Blocks() as demo:
        ae.create_demo(Page(ae.TAB))
    canvas = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "ae-canvas")
    uploads = [dep for dep in demo.fns.values() if (canvas._id, "upload") in [tuple(t) for t in dep.targets]]
    assert len(uploads) == 1
    blank = {"background": None, "layers": [], "composite": PIL.Image.new("RGB", (64, 64), "white")}
    with pytest.raises(gr.Error, match="empty"):
        uploads[0].fn(blank, "gaussian", 0.5, 0.2, 0.5, 0, None)


def test_missing_weights_give_a_message_that_says_how_to_get_them(tmp_path, monkeypatch, mnist_digit):
    from models import loading

    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loading.clear_cache()
    with pytest.raises(gr.Error) as err:
        ae.ae_denoise(mnist_digit, "gaussian", 0.5, 0.2, 0.5, 0)
    assert "ae-mnist" in err.value.message and "train_autoencoder.py" in err.value.message
    loading.clear_cache()


def test_removed_map_colours():
    noisy = torch.zeros(1, 1, 28, 28)
    noisy[..., 0, 0] = 1.0
    den = torch.zeros(1, 1, 28, 28)
    den[..., 0, 1] = 1.0
    img = ae.removed_map(noisy, den, scale=1)
    assert img.getpixel((0, 0)) == (255, 0, 0) and img.getpixel((1, 0)) == (0, 0, 255)


def test_repeated_denoising_keeps_the_asked_passes():
    torch.manual_seed(0)
    den = ConvAutoencoder(channels=4, latent_dim=8).eval()
    x = torch.rand(1, 1, 28, 28)
    kept = ae.repeat_denoiser(den, x, passes=(1, 3))
    assert len(kept) == 3 and kept[0] is x
    assert torch.allclose(kept[2], den.reconstruct(den.reconstruct(den.reconstruct(x))))


def test_open_tab_disables_only_this_tab_when_weights_are_missing(tmp_path, monkeypatch, tiny_models):
    from models import loading

    ok = ae.open_tab(None)
    assert ok["status"]["visible"] is False and ok["run"]["interactive"] is True and len(ok) == 7 + 7
    assert "canvas" not in ok  # the pad holds its example from the start (a value set later fires its upload event)
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loading.clear_cache()
    off = ae.open_tab(None)
    assert off["status"]["visible"] is True and "ae-mnist" in off["status"]["value"]
    assert off["run"]["interactive"] is False


class LinkRequest:
    """What gr.Request carries when the page was opened from a share link."""

    def __init__(self, **params):
        self.query_params = {k: str(v) for k, v in params.items()}
        self.headers = {"accept-language": "en"}


def test_share_link_round_trip(tiny_models):
    query = ae.ae_share_query("mask", 0.5, 0.2, 0.7, 42)
    assert query.startswith("?tab=ae&") and "noise=mask" in query and "mask=0.7" in query and "seed=42" in query
    from urllib.parse import parse_qsl

    params = dict(parse_qsl(query[1:]))
    out = ae.open_tab(LinkRequest(**params))
    kind, sigma, sp, mask, seed = (out[name] for name in (
        "noise_kind", "slider_gaussian", "slider_salt_pepper", "slider_mask", "seed"))
    assert kind["value"] == "mask" and mask["value"] == 0.7 and mask["visible"] and not sigma["visible"]
    assert seed["value"] == 42
    # the results shown are those of the shared settings
    expected = ae.ae_denoise(PIL.Image.open(ae.FIRST_EXAMPLE), "mask", 0.5, 0.2, 0.7, 42)
    assert out["noisy"].tobytes() == expected["noisy"].tobytes()


def test_broken_share_links_fall_back_to_defaults(tiny_models):
    out = ae.open_tab(LinkRequest(noise="speckle", sigma="lots", mask="7", seed="-1"))
    kind, sigma, sp, mask, seed = (out[name] for name in (
        "noise_kind", "slider_gaussian", "slider_salt_pepper", "slider_mask", "seed"))
    assert kind["value"] == "gaussian" and sigma["value"] == 0.5 and mask["value"] == 0.5 and seed["value"] == 0
