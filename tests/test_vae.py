"""VAE latent explorer tab: the handlers on tiny models."""

import gradio as gr
import numpy as np
import PIL.Image
import pytest
import torch

from demos import vae as vae_tab
from demos.image_input import image_to_digit
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
    # a sample dot is drawn where it belongs (black), far from the other marks
    dotted = np.asarray(m.with_marks(samples=[(1.5, -1.5)]))
    x, y = (round(v) for v in m.to_pixel(1.5, -1.5))
    assert dotted[y, x].tolist() == [0, 0, 0]
    # a click outside the plot area is clamped to the plotted range
    z1, z2 = m.to_latent(-100, 10_000)
    assert z1 == pytest.approx(m.low[0]) and z2 == pytest.approx(m.low[1])


def test_the_zoomed_map_covers_the_window_and_keeps_the_points():
    rng = np.random.default_rng(0)
    m = render_latent_map(rng.normal(size=(300, 2)).astype(np.float32), rng.integers(0, 10, 300))
    zoom = m.zoomed((0.5, -0.2), 0.1)
    assert zoom.low == pytest.approx((0.4, -0.3)) and zoom.high == pytest.approx((0.6, -0.1))
    assert zoom.image.size == m.image.size and len(zoom.points) == 300
    assert zoom.to_latent(*zoom.to_pixel(0.55, -0.25)) == pytest.approx((0.55, -0.25))


def test_map_text_stays_out_of_the_top_left_corner():
    """The page shows the component's label over the picture's top-left corner (about 36 px high and 250 px wide on
    the 440-px map): nothing is drawn there (it used to hide z₂)."""
    rng = np.random.default_rng(0)
    m = render_latent_map(rng.normal(size=(300, 2)).astype(np.float32), rng.integers(0, 10, 300))
    marked = m.with_marks(points=[m.high], path=[m.low, m.high])  # marks at the top edge stay below the label, too
    for img in (m.image, marked):
        assert (np.asarray(img)[:36, :250] == 255).all()


def test_decode_and_click(tiny_models):
    out = vae_tab.vae_decode(0.5, -0.5)
    digit, marked = out["digit"], out["map"]
    assert digit.size == (280, 280) and isinstance(marked, PIL.Image.Image)
    clicked = vae_tab.click_vae_map(Click(200, 200))
    z1, z2 = clicked["z1"], clicked["z2"]
    m = vae_tab.latent_map(vae_tab.SLUG)
    assert m.low[0] <= z1 <= m.high[0] and m.low[1] <= z2 <= m.high[1]
    out0 = vae_tab.click_beta0_map(Click(100, 100))
    img, label = out0["beta0_digit"], out0["beta0_z"]
    assert img.size == (280, 280) and "z = (" in label


@pytest.mark.parametrize("z", [(float("nan"), 0.0), (1e9, 0.0), ("x", 1.0)])
def test_decode_rejects_bad_values(tiny_models, z):
    with pytest.raises(gr.Error):
        vae_tab.vae_decode(*z)


def test_encode_reports_the_elbo_split(tiny_models, mnist_digit):
    x = image_to_digit(mnist_digit)
    model = VAE.from_pretrained(tiny_models / "vae-mnist", strict=True)
    r = vae_tab.encode_digit(model, x, samples=8)
    assert r["neg_elbo"] == pytest.approx(r["recon_nll"] + r["kl"])
    assert r["kl"] >= 0 and all(s > 0 for s in r["sigma"])
    out = vae_tab.vae_encode(mnist_digit)
    seen, recon, recon0, vae_map, beta0_map, table = (out[name] for name in (
        "seen", "recon", "recon_beta0", "code_map", "code_map_beta0", "elbo"))
    assert "ELBO" in table and "KL" in table and recon.size == (280, 280)
    header = table.splitlines()[0]
    assert header == "| Quantity | Value |"
    with pytest.raises(gr.Error):
        vae_tab.vae_encode({"composite": PIL.Image.new("RGBA", (100, 100))})


def test_the_elbo_table_has_a_header_in_the_ui_language(tiny_models, mnist_digit):
    from demos.i18n import language

    with language("ja"):
        table = vae_tab.vae_encode(mnist_digit)["elbo"]
    assert table.splitlines()[0] == "| 項目 | 値 |" and "再構成項" in table


def test_the_samples_are_mu_plus_sigma_times_epsilon(tiny_models, mnist_digit):
    """The shown samples are the first of the ELBO's draws z = μ + σ ⊙ ε, ε ~ N(0, I): seeded, spread like σ."""
    x = image_to_digit(mnist_digit)
    model = VAE.from_pretrained(tiny_models / "vae-mnist", strict=True)
    r = vae_tab.encode_digit(model, x, samples=2000, shown=8)
    z, decoded = r["z_samples"], r["decoded_samples"]
    assert z.shape == (8, 2) and decoded.shape == (8, 1, 28, 28)
    assert torch.allclose(decoded, model.decode(z))
    again = vae_tab.encode_digit(model, x, samples=2000, shown=8)
    assert torch.equal(again["z_samples"], z)  # seeded: the same drawing gives the same samples
    assert not torch.equal(vae_tab.encode_digit(model, x, samples=2000, seed=1)["z_samples"], z)
    # ε = (z − μ) / σ over all 2000 draws has mean 0 and standard deviation 1 in each direction
    every = vae_tab.encode_digit(model, x, samples=2000, shown=2000)["z_samples"]
    eps = (every - torch.tensor(r["mu"])) / torch.tensor(r["sigma"])
    assert eps.mean(0).abs().max() < 0.1 and (eps.std(0) - 1).abs().max() < 0.1


def test_encode_shows_the_samples_around_mu(tiny_models, mnist_digit):
    out = vae_tab.vae_encode(mnist_digit)
    zoom, samples, changes = out["zoom"], out["samples"], out["changes"]
    cell = 30 * 4  # 28-px digits and 2-px gaps, 4 times enlarged
    assert samples.size == changes.size == (4 * cell - 8, 2 * cell - 8)
    assert zoom.size == out["code_map"].size and zoom.tobytes() != out["code_map"].tobytes()


def test_ink_changes_are_red_for_more_and_blue_for_less():
    reference = torch.full((1, 1, 28, 28), 0.5)
    images = reference.repeat(2, 1, 1, 1)
    images[0, 0, 0, 0] = 0.6   # more ink
    images[1, 0, 0, 0] = 0.45  # less ink
    changes = vae_tab.ink_changes(images, reference, gain=4)
    assert changes.shape == (2, 3, 28, 28)
    assert changes[0, :, 0, 0].tolist() == pytest.approx([0.4, 0.0, 0.0])
    assert changes[1, :, 0, 0].tolist() == pytest.approx([0.0, 0.0, 0.2])
    assert changes[:, :, 1:, :].abs().max() == 0


def test_zoom_window_follows_sigma():
    assert vae_tab.zoom_half_width([0.1, 0.2]) == pytest.approx(0.6)
    assert vae_tab.zoom_half_width([0.001, 0.002]) == pytest.approx(0.05)  # never a pinhole


def test_interpolation(tiny_models, mnist_digit):
    model = VAE.from_pretrained(tiny_models / "vae-mnist", strict=True)
    x_a = torch.zeros(1, 1, 28, 28)
    x_b = image_to_digit(mnist_digit)
    for spherical in (False, True):
        path, imgs = vae_tab.interpolate(model, x_a, x_b, 6, spherical)
        assert path.shape == (6, 2) and imgs.shape == (6, 1, 28, 28)
        assert torch.allclose(path[0], model.encode(x_a)[0][0], atol=1e-5)
        assert torch.allclose(path[-1], model.encode(x_b)[0][0], atol=1e-5)
    out = vae_tab.vae_interpolate(mnist_digit, drawing(), 5, "spherical")
    strip, strip0, m, m0 = (out[name] for name in ("strip", "strip_beta0", "path_map", "path_map_beta0"))
    assert strip.size == ((5 * 30 - 2) * 4, 28 * 4)  # one row of 5 frames, 4 times enlarged
    assert vae_tab.frames_rows(torch.zeros(10, 1, 28, 28)).size == ((5 * 30 - 2) * 4, (2 * 30 - 2) * 4)  # 5 + 5
    assert vae_tab.frames_rows(torch.zeros(24, 1, 28, 28)).size == ((6 * 30 - 2) * 4, (4 * 30 - 2) * 4)
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
    # every section opens on an example: the interpolation of a test pair, the encoding of a test digit
    assert ok["canvas_c"].endswith("2_0035.png") and isinstance(ok["samples"], PIL.Image.Image)
    assert isinstance(ok["strip"], PIL.Image.Image) and "ELBO" in ok["elbo"]
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


def test_the_words_match_the_numbers():
    """The labels and the note say how many samples are shown and averaged, and the gain: the same as the code."""
    table = vae_tab.TAB.strings.table
    for lang in ("en", "ja"):
        note = table["reparam_note"][lang]
        assert f"{vae_tab.SHOWN_SAMPLES} " in note and f"{vae_tab.ELBO_SAMPLES} " in note
        assert f"{vae_tab.CHANGE_GAIN}" in table["sample_changes"][lang] and f"{vae_tab.CHANGE_GAIN} " in note
        assert f"1–{vae_tab.SHOWN_SAMPLES}" in table["samples"][lang].replace("〜", "–")
        assert f"{vae_tab.SHOWN_SAMPLES}" in table["zoom"][lang]
