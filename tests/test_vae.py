"""VAE latent explorer tab: the handlers on tiny models."""

import gradio as gr
import numpy as np
import PIL.Image
import pytest
import torch

from demos import vae as vae_tab
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
    out = vae_tab.vae_decode(0.5, -0.5)
    digit, marked = out["digit"], out["map"]
    assert digit.size == (224, 224) and isinstance(marked, PIL.Image.Image)
    clicked = vae_tab.click_vae_map(Click(200, 200))
    z1, z2 = clicked["z1"], clicked["z2"]
    m = vae_tab.latent_map(vae_tab.SLUG)
    assert m.low[0] <= z1 <= m.high[0] and m.low[1] <= z2 <= m.high[1]
    out0 = vae_tab.click_beta0_map(Click(100, 100))
    img, label = out0["beta0_digit"], out0["beta0_z"]
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
    out = vae_tab.vae_encode(mnist_digit)
    seen, recon, recon0, vae_map, beta0_map, table = (out[name] for name in (
        "seen", "recon", "recon_beta0", "code_map", "code_map_beta0", "elbo"))
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
    out = vae_tab.vae_interpolate(mnist_digit, drawing(), 5, "spherical")
    strip, strip0, m, m0 = (out[name] for name in ("strip", "strip_beta0", "path_map", "path_map_beta0"))
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
    grids = vae_tab.manifolds()
    grid, grid0 = grids["grid"], grids["grid_beta0"]
    assert grid.size == grid0.size == (vae_tab.GRID * 28, vae_tab.GRID * 28)


def test_open_tab(tiny_models, tmp_path, monkeypatch):
    from models import loading

    ok = vae_tab.open_tab(None)
    assert ok["status"]["visible"] is False and isinstance(ok["digit"], PIL.Image.Image)
    assert ok["encode_run"]["interactive"] is True
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loading.clear_cache()
    off = vae_tab.open_tab(None)
    assert off["status"]["visible"] is True and "vae-mnist" in off["status"]["value"]
    assert off["encode_run"]["interactive"] is False


def test_share_link_round_trip(tiny_models):
    from urllib.parse import parse_qsl

    query = vae_tab.vae_share_query(0.4, -0.3, 7, "spherical")
    params = dict(parse_qsl(query[1:]))
    assert params == {"tab": "vae", "z1": "0.4", "z2": "-0.3", "frames": "7", "path": "spherical"}

    class LinkRequest:
        query_params = params
        headers = {}

    out = vae_tab.open_tab(LinkRequest())
    assert out["z1"]["value"] == 0.4 and out["z2"]["value"] == -0.3
    assert out["frames"]["value"] == 7 and out["mode"]["value"] == "spherical"
    assert out["digit"].tobytes() == vae_tab.vae_decode(0.4, -0.3)["digit"].tobytes()
