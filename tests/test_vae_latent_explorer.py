"""VAE latent explorer tab: the handlers on tiny models."""

import numpy as np
import PIL.Image
import pytest
import torch

import gradio as gr

from demos import vae_latent_explorer as vae_tab
from demos.latent_map import render_latent_map
from models.vae import VAE
from tests.conftest import drawing


class Click:
    def __init__(self, x, y):
        self.index = [x, y]


def test_latent_map_pixels_and_latents_round_trip():
    rng = np.random.default_rng(0)
    m = render_latent_map(rng.normal(size=(300, 2)).astype(np.float32), rng.integers(0, 10, 300))
    for z in [(0.0, 0.0), (1.0, -1.5), (-2.0, 0.5)]:
        back = m.to_latent(*m.to_pixel(*z))
        assert np.allclose(back, z, atol=1e-6)
    marked = m.with_marks(points=[(0, 0)], ellipses=[(0, 0, 1, 0.5)], path=[(-1, -1), (1, 1)])
    assert marked.size == m.image.size and marked.tobytes() != m.image.tobytes()
    # a click outside the plot area is clamped to the plotted range
    z1, z2 = m.to_latent(-100, 10_000)
    assert z1 == pytest.approx(m.low[0]) and z2 == pytest.approx(m.low[1])


def test_decode_and_click(tiny_models):
    digit, marked = vae_tab.vae_decode(0.5, -0.5)
    assert digit.size == (224, 224) and isinstance(marked, PIL.Image.Image)
    z1, z2 = vae_tab.click_vae_map(Click(200, 200), None)
    m = vae_tab.latent_map(vae_tab.SLUG)
    assert m.low[0] <= z1 <= m.high[0] and m.low[1] <= z2 <= m.high[1]
    img, marked0, label = vae_tab.click_beta0_map(Click(100, 100), None)
    assert img.size == (224, 224) and "z = (" in label


@pytest.mark.parametrize("z", [(float("nan"), 0.0), (1e9, 0.0), ("x", 1.0)])
def test_decode_rejects_bad_values(tiny_models, z):
    with pytest.raises(gr.Error):
        vae_tab.vae_decode(*z)


def test_encode_reports_the_elbo_split(tiny_models, mnist_digit):
    x = torch.from_numpy(np.asarray(mnist_digit, dtype=np.float32) / 255)[None, None]
    model = VAE.from_pretrained(tiny_models / "vae-mnist", strict=True)
    r = vae_tab.encode_digit(model, x, samples=8)
    assert r["neg_elbo"] == pytest.approx(r["recon_nll"] + r["kl"])
    assert r["kl"] >= 0 and all(s > 0 for s in r["sigma"])
    seen, recon, recon0, vae_map, beta0_map, table = vae_tab.vae_encode(mnist_digit)
    assert "ELBO" in table and "KL" in table and recon.size == (224, 224)
    with pytest.raises(gr.Error):
        vae_tab.vae_encode({"composite": PIL.Image.new("RGBA", (100, 100))})


def test_interpolation(tiny_models, mnist_digit):
    model = VAE.from_pretrained(tiny_models / "vae-mnist", strict=True)
    x_a = torch.zeros(1, 1, 28, 28)
    x_b = torch.from_numpy(np.asarray(mnist_digit, dtype=np.float32) / 255)[None, None]
    for spherical in (False, True):
        path, imgs = vae_tab.interpolate(model, x_a, x_b, 6, spherical)
        assert path.shape == (6, 2) and imgs.shape == (6, 1, 28, 28)
        assert torch.allclose(path[0], model.encode(x_a)[0][0], atol=1e-5)
        assert torch.allclose(path[-1], model.encode(x_b)[0][0], atol=1e-5)
    strip, strip0, m, m0 = vae_tab.vae_interpolate(mnist_digit, drawing(), 5, "spherical")
    assert strip.size == ((5 * 30 - 2) * 3, 28 * 3)
    with pytest.raises(gr.Error):
        vae_tab.vae_interpolate(mnist_digit, drawing(), 500, "linear")
    with pytest.raises(gr.Error):
        vae_tab.vae_interpolate(mnist_digit, None, 5, "linear")
    with pytest.raises(gr.Error):
        vae_tab.vae_interpolate(mnist_digit, drawing(), 5, "zigzag")


def test_manifold_grid(tiny_models):
    model = VAE.from_pretrained(tiny_models / "vae-mnist", strict=True)
    assert vae_tab.manifold_grid(model, (-2, -2), (2, 2), n=4).size == (112, 112)
    assert vae_tab.manifold_grid(model, (-2, -2), (2, 2), n=3, gaussian=True).size == (84, 84)
    grid, grid0 = vae_tab.manifolds()
    assert grid.size == grid0.size == (vae_tab.GRID * 28, vae_tab.GRID * 28)


def test_open_tab(tiny_models, tmp_path, monkeypatch):
    from models import loading

    ok = vae_tab.open_tab(None)
    assert ok[0]["visible"] is False and isinstance(ok[1], PIL.Image.Image) and ok[9]["interactive"] is True
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loading.clear_cache()
    off = vae_tab.open_tab(None)
    assert off[0]["visible"] is True and "vae-mnist" in off[0]["value"] and off[9]["interactive"] is False


def test_share_link_round_trip(tiny_models):
    from urllib.parse import parse_qsl

    query = vae_tab.vae_share_query(0.4, -0.3, 7, "spherical")
    params = dict(parse_qsl(query[1:]))
    assert params == {"tab": "vae", "z1": "0.4", "z2": "-0.3", "frames": "7", "path": "spherical"}

    class LinkRequest:
        query_params = params
        headers = {}

    out = vae_tab.open_tab(LinkRequest())
    assert out[6]["value"] == 0.4 and out[7]["value"] == -0.3 and out[10]["value"] == 7 and out[11]["value"] == "spherical"
    assert out[1].tobytes() == vae_tab.vae_decode(0.4, -0.3)[0].tobytes()
