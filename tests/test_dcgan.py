"""DCGAN: the networks, DiffAugment, the training script's dry run, the window probe on synthetic features,
the labelling helper, and both tabs' handlers on a tiny generator (plus a gradio_client call each)."""

import json
import os
from types import SimpleNamespace

import PIL.Image
import pytest
import torch

import gradio as gr

from models import loading
from models.dcgan import Discriminator, Generator
from tests.conftest import ROOT
from tests.tiny_dcgan import make_tiny_pretrained_dcgan


# --- the networks ----------------------------------------------------------------------------

def test_shapes_and_feature_split():
    g, d = Generator(ngf=4).eval(), Discriminator(ndf=4)
    z = torch.randn(3, 100)
    with torch.no_grad():
        x = g(z)
        h = g.features(z)
        assert x.shape == (3, 3, 64, 64) and -1 <= float(x.min()) and float(x.max()) <= 1
        assert h.shape == (3, 4, 32, 32) and g.feature_maps == 4
        assert torch.allclose(g.decode_from(h), x)
        dropped = h.clone()
        dropped[:, [1, 3]] = 0
        assert torch.allclose(g(z, drop_maps=[1, 3]), g.decode_from(dropped))
        assert torch.equal(g(z, drop_maps=[]), x)
        dropped[:, [1, 3]] = 0.25
        assert torch.allclose(g(z, drop_maps=[1, 3], fill=[0.25] * 4), g.decode_from(dropped))
        assert d(x).shape == (3,)


def test_round_trip(tmp_path):
    g = Generator(ngf=4)
    g.save_pretrained(tmp_path / "g")
    assert json.loads((tmp_path / "g" / "config.json").read_text()) == {"nz": 100, "ngf": 4, "nc": 3}
    again = Generator.from_pretrained(tmp_path / "g", strict=True)
    assert all(torch.equal(a, b) for a, b in zip(g.state_dict().values(), again.state_dict().values()))


# --- DiffAugment and the training script ----------------------------------------------------------

def test_diffaugment_is_differentiable_and_does_what_it_says():
    from training import train_dcgan as t

    x = torch.rand(64, 3, 64, 64, requires_grad=True)
    out = t.diff_augment(x * 2 - 1, "color,translation,cutout")
    out.sum().backward()
    assert out.shape == x.shape and x.grad is not None and float(x.grad.abs().sum()) > 0
    ones = torch.ones(64, 3, 64, 64)
    cut = t.rand_cutout(ones)
    assert abs(float((cut == 0).float().mean()) - 0.25) < 0.08  # a 32x32 square of 64x64, sometimes clipped
    shifted = t.rand_translation(ones)
    assert set(shifted.unique().tolist()) <= {0.0, 1.0} and float(shifted.mean()) > 0.8
    flipped = t.real_batch(torch.zeros(5, 3, 64, 64, dtype=torch.uint8), 8)
    assert flipped.shape == (8, 3, 64, 64) and float(flipped.min()) == -1


def test_training_dry_run_resume_and_eval(tmp_path, capsys):
    from training import train_dcgan

    out, first, ckpt = tmp_path / "dcgan-bedrooms", tmp_path / "dcgan-bedrooms-epoch1", tmp_path / "ckpt"
    common = ["--dry-run", "--output-dir", str(out), "--first-epoch-output-dir", str(first), "--checkpoint-dir", str(ckpt),
              "--ngf", "4", "--ndf", "4", "--device", "cpu"]
    train_dcgan.main(train_dcgan.parse_args(common))
    for folder in (out, first):
        Generator.from_pretrained(folder, strict=True)
        card = (folder / "README.md").read_text()
        assert "FID-Lite0" in card and "DiffAugment" in card and (folder / "SHA256SUMS").is_file()
    for name in ("generator.safetensors", "generator_ema.safetensors", "discriminator.safetensors", "generator_best.safetensors",
                 "fid.csv", "progress.png", "samples_latest.png", "samples_final.png", "nearest.png"):
        assert (ckpt / name).is_file(), name
    state = json.loads((ckpt / "state.json").read_text())
    assert state["step"] == 2 and [r["label"] for r in state["fid"]] == ["epoch 1", "final"]
    train_dcgan.main(train_dcgan.parse_args(common + ["--resume", str(ckpt)]))
    assert json.loads((ckpt / "state.json").read_text())["step"] > 2
    train_dcgan.main(train_dcgan.parse_args(common + ["--eval-only"]))
    printed = capsys.readouterr().out
    assert "dcgan-bedrooms-epoch1: FID-Lite0" in printed and "dcgan-bedrooms: FID-Lite0" in printed


def test_max_minutes_stops_training(tmp_path):
    from training import train_dcgan

    args = train_dcgan.parse_args(["--dry-run", "--output-dir", str(tmp_path / "g"), "--first-epoch-output-dir",
                                   str(tmp_path / "g1"), "--checkpoint-dir", str(tmp_path / "c"), "--ngf", "4", "--ndf", "4",
                                   "--max-minutes", "0.0001", "--device", "cpu"])
    train_dcgan.main(args)
    assert json.loads((tmp_path / "c" / "state.json").read_text())["step"] == 1  # stopped after its first step
    Generator.from_pretrained(tmp_path / "g", strict=True)


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

    result = fw.main(fw.parse_args(["--dry-run", "--weights-dir", str(tmp_path / "g"), "--plot", str(tmp_path / "plot.png")]))
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


# --- the tabs on a tiny generator ----------------------------------------------------------------

@pytest.fixture
def tiny_dcgan(tmp_path, monkeypatch):
    root = make_tiny_pretrained_dcgan(tmp_path / "pretrained")
    os.symlink(ROOT / "pretrained" / "efficientnet-lite0", root / "efficientnet-lite0")
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loading.clear_cache()
    yield root
    loading.clear_cache()


def test_grid_and_naming(tiny_dcgan):
    from demos import dcgan_bedroom_arithmetic as tab

    items = tab.dcgan_grid(7)
    assert len(items) == 16 and items[3][1] == "7:3" and items[0][0].size == (128, 128)
    assert torch.equal(tab.z_of([(7, 3)])[0], tab.z_batch(7)[3])
    assert tab.parse_tokens(" 1:2, 3:4 5：6、7:8") == [(1, 2), (3, 4), (5, 6), (7, 8)]
    for bad in ("1:16", "x", "1:2:3", "-1:2", ", ".join(["0:1"] * 9)):
        with pytest.raises(gr.Error):
            tab.parse_tokens(bad)
    with pytest.raises(gr.Error):
        tab.dcgan_grid(-3)


def test_pick_sample_fills_and_empties_buckets(tiny_dcgan):
    from demos import dcgan_bedroom_arithmetic as tab

    evt = SimpleNamespace(index=5)
    a, b, c, start, end = tab.pick_sample("A", 3, "", "1:1", "", "0:0", "0:1", evt, None)
    assert (a, b, c, start, end) == ("3:5", "1:1", "", "0:0", "0:1")
    assert tab.pick_sample("A", 3, a, b, c, start, end, evt, None)[0] == ""  # a second click takes it out
    assert tab.pick_sample("end", 3, a, b, c, start, end, evt, None)[4] == "3:5"


def test_arithmetic_and_walk(tiny_dcgan):
    from demos import dcgan_bedroom_arithmetic as tab

    figure, averaged, single, caption = tab.dcgan_arithmetic("0:1, 0:2, 0:3", "0:4, 0:5, 0:6", "1:0, 1:1, 1:2", 0.25, 0)
    assert averaged.size == single.size == (3 * 64 * 2 + 2 * 2 * 2,) * 2
    assert figure.size[0] == 4 * 64 * 2 + 3 * 2 * 2 and "3/3/3" in caption
    g = tab.load_generator()
    r = tab.vector_arithmetic(g, [(0, 1), (0, 2)], [(0, 4)], [(1, 0)], sigma=0.0)
    expected = tab.z_of([(0, 1), (0, 2)]).mean(0) - tab.z_of([(0, 4)])[0] + tab.z_of([(1, 0)])[0]
    assert torch.allclose(r["z_averaged"], expected)
    assert torch.allclose(r["averaged"][0], r["averaged"][4], atol=1e-6)  # σ = 0: the neighbourhood is the point
    with pytest.raises(gr.Error):
        tab.dcgan_arithmetic("0:1", "", "0:2")
    with pytest.raises(gr.Error):
        tab.dcgan_arithmetic("0:1", "0:2", "0:3", 7.0)
    linear, spherical, gif, caption = tab.dcgan_walk("0:0", "0:1", 5)
    assert linear.size == spherical.size == (5 * 128 + 4 * 4, 128) and gif.endswith(".gif")
    with PIL.Image.open(gif) as anim:
        assert anim.n_frames == 5 + 3  # there and back
    w = tab.latent_walk(g, (0, 0), (0, 1), 5)
    assert float(w["spherical_norms"].min()) > float(w["linear_norms"].min())
    with pytest.raises(gr.Error):
        tab.dcgan_walk("0:0, 0:2", "0:1", 5)


def test_open_tab_with_a_share_link(tiny_dcgan):
    from demos import dcgan_bedroom_arithmetic as tab

    request = SimpleNamespace(query_params={"seed": "4", "a": "4:1,4:2", "b": "4:3", "c": "bad", "frames": "99"}, headers={})
    out = tab.open_tab(request)
    assert out[0]["visible"] is False and out[1]["value"] == 4 and len(out[2]) == 16
    assert out[3]["value"] == "4:1,4:2" and out[5]["value"] == tab.DEFAULT["C"] and out[10]["value"] == tab.LIMITS["frames"][2]
    assert [len(p) for p in out[-3:]] == [2, 1, 3]  # the bucket previews
    assert "tab=dcgan" in tab.dca_share_query(4, "4:1", "4:2", "4:3", 0.25, 0, "0:0", "0:1", 8)


def test_forgetting_windows(tiny_dcgan):
    from demos import dcgan_window_forgetting as tab

    data = tab.window_data()
    n = len(data["window_maps"])
    g = tab.load_generator()
    z = tab.z_batch(2, g.nz)[:8]
    r0 = tab.forget(g, z, data["window_maps"], 0, 0)
    rm = tab.forget(g, z, data["window_maps"], 1, 0, fill=data["map_means"])
    h = g.features(z)
    h[:, data["window_maps"][0]] = 0.5
    assert torch.allclose(rm["windows"], g.decode_from(h), atol=1e-6)
    assert torch.equal(r0["normal"], r0["windows"]) and torch.equal(r0["normal"], r0["random"])
    r = tab.forget(g, z, data["window_maps"], n, 0)
    assert not torch.equal(r["normal"], r["windows"]) and len(r["random_maps"]) == n
    assert tab.random_maps(4, 2, 1) == tab.random_maps(4, 2, 1)
    figure, caption = tab.dcgan_forget_windows(2, n, "zero", 0, False)
    assert figure.size == (8 * 128 + 7 * 4, 3 * 128 + 2 * 4) and str(data["window_maps"][0]) in caption
    figure, caption = tab.dcgan_forget_windows(2, 1, "mean", 0, True)
    assert "%" in caption
    for bad in ((2, n + 1, "zero", 0, False), (-1, 1, "zero", 0, False), (2, 1, "zero", "x", False), (2, 1, "half", 0, False)):
        with pytest.raises(gr.Error):
            tab.dcgan_forget_windows(*bad)
    frame = tab.curve_frame(data["score_curve"])
    assert len(frame) == 4 and set(frame.columns) == {"k", "window area (%)", "maps dropped"}
    plot, summary = tab.dcw_plot("mean")
    assert plot["window area (%)"].tolist()[1] == pytest.approx(7.0) and "AUC" in summary
    out = tab.open_tab(SimpleNamespace(query_params={"k": "1", "seed": "3", "how": "mean"}, headers={}))
    assert out[0]["visible"] is False and out[3]["value"] == 1 and out[3]["maximum"] == n and out[4]["value"] == "mean"
    assert "AUC" in out[10]


def test_tabs_without_window_data_or_weights(tiny_dcgan, tmp_path, monkeypatch):
    from demos import dcgan_bedroom_arithmetic as dca
    from demos import dcgan_window_forgetting as dcw

    (tiny_dcgan / "dcgan-bedrooms" / "window_feature_maps.json").unlink()
    loading.clear_cache()
    off = dcw.open_tab(None)
    assert off[0]["visible"] is True and "find_window_feature_maps" in off[0]["value"] and off[1]["interactive"] is False
    assert dca.open_tab(None)[0]["visible"] is False  # the arithmetic tab does not need the window data
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path / "nothing"))
    loading.clear_cache()
    off = dca.open_tab(None)
    assert off[0]["visible"] is True and "dcgan-bedrooms" in off[0]["value"] and off[-12]["interactive"] is False


def test_api_of_both_tabs(tiny_dcgan):
    from gradio_client import Client

    from demos import dcgan_bedroom_arithmetic as dca
    from demos import dcgan_window_forgetting as dcw
    from demos.i18n import make_i18n

    for module in (dca, dcw):
        demo = module.create_demo()
        demo.launch(prevent_thread_lock=True, quiet=True, i18n=make_i18n(), max_file_size="10mb")
        try:
            client = Client(demo.local_url, verbose=False, download_files=False)
            if module is dca:
                figure, averaged, single, caption = client.predict("0:1, 0:2", "0:3", "1:4", 0.2, 1, api_name="/dcgan_arithmetic")
                assert figure and averaged and single and "2/1/1" in caption
                with pytest.raises(Exception):
                    client.predict("0:1", "", "1:4", 0.2, 1, api_name="/dcgan_arithmetic")
                assert len(client.predict(5, api_name="/dcgan_grid")) == 16
                *_strips, gif, caption = client.predict("0:0", "2:3", 4, api_name="/dcgan_walk")
                assert gif
            else:
                figure, caption = client.predict(1, 1, "zero", 0, False, api_name="/dcgan_forget_windows")
                assert figure and "1" in caption
        finally:
            demo.close()
