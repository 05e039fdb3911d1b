"""DCGAN window forgetting: the window probe on synthetic features, the scripts that label windows and find the
window maps, and the tab's handlers on a tiny generator (plus a gradio_client call)."""

import json
from types import SimpleNamespace

import gradio as gr
import PIL.Image
import pytest
import torch

from models import loading
from models.dcgan import Generator
from tests.tiny_dcgan import use_tiny_dcgan

# --- the window probe ------------------------------------------------------------------------

def test_box_mask_and_auc():
    from training.find_window_feature_maps import auc, box_mask

    m = box_mask([[0, 0, 16, 8]], 32)
    assert m.shape == (32, 32) and int(m.sum()) == 8 * 4 and bool(m[0, 0]) and not bool(m[4, 0])
    assert auc(torch.tensor([0.1, 0.2, 0.8, 0.9]), torch.tensor([0.0, 0.0, 1.0, 1.0])) == 1.0
    assert auc(torch.tensor([0.9, 0.8, 0.2, 0.1]), torch.tensor([0.0, 0.0, 1.0, 1.0])) == 0.0


def test_probe_finds_the_window_maps_on_synthetic_features():
    """Maps 2 and 5 fire inside the boxes, the others are noise: the logistic regression gives them the
    largest weights, and the fitted probe separates held-out locations."""
    from training.find_window_feature_maps import auc, box_mask, fit_logistic, positives_and_negatives

    g = torch.Generator().manual_seed(0)
    n, c = 40, 8
    boxes = [[[8 + i % 20, 10, 30 + i % 20, 30]] for i in range(n)]
    masks = torch.stack([box_mask(b, 32) for b in boxes])
    h = torch.rand(n, c, 32, 32, generator=g)
    h[:, 2] += 1.5 * masks
    h[:, 5] += 0.8 * masks
    x, y = positives_and_negatives(h[:30], masks[:30], g)
    assert int(y.sum()) == int(masks[:30].sum()) and int((1 - y).sum()) == int(y.sum())
    w, b = fit_logistic(x, y)
    assert set(torch.argsort(w, descending=True)[:2].tolist()) == {2, 5}
    logits = torch.einsum("nchw,c->nhw", h[30:], w) + b
    assert auc(logits.flatten(), masks[30:].flatten().float()) > 0.95


def test_find_window_feature_maps_dry_run(tmp_path):
    from training import find_window_feature_maps as fw

    result = fw.main(fw.parse_args(["--dry-run", "--weights-dir", str(tmp_path / "g"),
                                    "--plot", str(tmp_path / "plot.png")]))
    data = json.loads((tmp_path / "g" / "window_feature_maps.json").read_text())
    assert data["window_maps"] == result["window_maps"] and data["feature_maps"] == 4
    assert len(data["detector"]["weights"]) == 40 + 112 and data["score_curve"]["k"][0] == 0
    assert "window_feature_maps.json" in (tmp_path / "g" / "SHA256SUMS").read_text()
    loading.verify_checksum("x", tmp_path / "g" / "window_feature_maps.json")
    assert PIL.Image.open(tmp_path / "plot.png").size == (640, 400)


def test_labelling_helper(tmp_path):
    from training import label_windows as lw

    assert lw.parse_seeds("0-2,7") == [0, 1, 2, 7]
    g = Generator(ngf=4).eval()
    Generator.save_pretrained(g, tmp_path / "g")
    boxes = {"samples": [{"sample": "3:1", "boxes": [[4, 4, 20, 30]]}, {"sample": "3:2", "boxes": []}]}
    (tmp_path / "boxes.json").write_text(json.dumps(boxes))
    lw.main(["overlay", "--weights", str(tmp_path / "g"), "--seeds", "3", "--boxes", str(tmp_path / "boxes.json"),
             "--out", str(tmp_path / "out")])
    img = PIL.Image.open(tmp_path / "out" / "overlay_003.png").convert("RGB")
    x0, y0 = 28 + (64 * 4 + 34), 28  # sample 1: first row, second column
    assert img.getpixel((x0 + 4 * 4 + 1, y0 + 15 * 4)) == (255, 0, 0)  # on the box's left edge
    assert lw.read_boxes(tmp_path / "boxes.json") == {"3:1": [[4, 4, 20, 30]], "3:2": []}


# --- the tab on a tiny generator ----------------------------------------------------------------

@pytest.fixture
def tiny_dcgan(tmp_path, monkeypatch):
    yield from use_tiny_dcgan(tmp_path, monkeypatch)


def test_forgetting_windows(tiny_dcgan):
    from demos import dcgan_windows as tab
    from models.dcgan import z_batch

    data = tab.window_data()
    n = len(data["window_maps"])
    g = tab.load_generator()
    z = z_batch(2, g.nz)[:8]
    r0 = tab.forget(g, z, data["window_maps"], 0, 0)
    rm = tab.forget(g, z, data["window_maps"], 1, 0, fill=data["map_means"])
    h = g.features(z)
    h[:, data["window_maps"][0]] = 0.5
    assert torch.allclose(rm["windows"], g.decode_from(h), atol=1e-6)
    assert torch.equal(r0["normal"], r0["windows"]) and torch.equal(r0["normal"], r0["random"])
    r = tab.forget(g, z, data["window_maps"], n, 0)
    assert not torch.equal(r["normal"], r["windows"]) and len(r["random_maps"]) == n
    assert tab.random_maps(4, 2, 1) == tab.random_maps(4, 2, 1)
    out = tab.dcgan_forget_windows(2, n, "zero", 0, False)
    assert list(out) == ["figure", "caption"]  # the api's order
    figure, caption = out.values()
    assert figure.size == (8 * 128 + 7 * 4, 3 * 128 + 2 * 4) and str(data["window_maps"][0]) in caption
    assert "%" in tab.dcgan_forget_windows(2, 1, "mean", 0, True)["caption"]
    for bad in ((2, n + 1, "zero", 0, False), (-1, 1, "zero", 0, False), (2, 1, "zero", "x", False),
                (2, 1, "half", 0, False)):
        with pytest.raises(gr.Error):
            tab.dcgan_forget_windows(*bad)
    frame = tab.curve_frame(data["score_curve"])
    assert len(frame) == 4 and set(frame.columns) == {"k", "window area (%)", "maps dropped"}
    shown = tab.dcw_plot("mean")
    plot, summary = shown["plot"]["value"], shown["summary"]
    assert plot["window area (%)"].tolist()[1] == pytest.approx(7.0) and "AUC" in summary
    out = tab.open_tab(SimpleNamespace(query_params={"k": "1", "seed": "3", "how": "mean"}, headers={}))
    assert out["status"]["visible"] is False and out["k"]["value"] == 1 and out["k"]["maximum"] == n
    assert out["how"]["value"] == "mean"
    assert "AUC" in out["summary"]


def test_the_plot_speaks_the_language_of_the_event(tiny_dcgan):
    """Axis titles, legend title and series names in the student's language; each series keeps its colour."""
    from demos import dcgan_windows as tab
    from demos.i18n import language

    for lang, words in (("ja", ("窓マップ", "ランダムなマップ", "予測された窓の面積（%）", "落とした k 個のマップ")),
                        ("en", ("window maps", "random maps", "predicted window area (%)", "The k maps dropped"))):
        with language(lang):
            plot = tab.dcw_plot("zero")["plot"]
        window, random, y_title, color_title = words
        assert set(plot["value"]["maps dropped"]) == {window, random}
        assert plot["y_title"] == y_title and plot["color_title"] == color_title and plot["x_title"] == "k"
        assert tab.CURVE_COLORS[window] != tab.CURVE_COLORS[random]


def test_slide_strings():
    from demos import dcgan_windows as tab

    equation = tab.TAB.strings.table["slide_equation"]
    assert equation["en"] == equation["ja"] and "\n" not in equation["en"]
    mathtext = pytest.importorskip("matplotlib.mathtext")
    mathtext.MathTextParser("path").parse(f"${equation['en']}$")  # raises on what mathtext cannot draw


def test_tab_without_window_data(tiny_dcgan):
    from demos import dcgan as dca
    from demos import dcgan_windows as dcw
    from demos.kit import clear_caches

    (tiny_dcgan / "dcgan-bedrooms" / "window_feature_maps.json").unlink()
    clear_caches()
    off = dcw.open_tab(None)
    assert off["status"]["visible"] is True and "find_window_feature_maps" in off["status"]["value"]
    assert off["run"]["interactive"] is False
    assert dca.open_tab(None)["status"]["visible"] is False  # the arithmetic tab does not need the window data


def test_api(tiny_dcgan):
    from gradio_client import Client

    from demos import dcgan_windows as tab
    from demos.i18n import make_i18n
    from demos.kit import Page

    demo = tab.create_demo(Page(tab.TAB))
    demo.launch(prevent_thread_lock=True, quiet=True, i18n=make_i18n([tab.TAB]), max_file_size="10mb")
    try:
        client = Client(demo.local_url, verbose=False, download_files=False)
        figure, caption = client.predict(1, 1, "zero", 0, False, api_name="/dcgan_forget_windows")
        assert figure and "1" in caption
    finally:
        demo.close()
