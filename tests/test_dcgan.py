"""DCGAN: the networks, the sample-naming rule, DiffAugment, the training script's dry run, and the arithmetic tab's
handlers on a tiny generator (plus a gradio_client call). The window-forgetting tab: tests/test_dcgan_windows.py."""

import json
from types import SimpleNamespace

import gradio as gr
import numpy as np
import PIL.Image
import pytest
import torch

from models import dcgan
from models.dcgan import Discriminator, Generator
from tests.tiny_dcgan import use_tiny_dcgan

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


# --- sample names: seed:index → z ------------------------------------------------------------------

def old_z_batch(seed: int, nz: int = 100) -> torch.Tensor:
    """The rule as demos/dcgan_bedroom_arithmetic.py and training/label_windows.py each wrote it before it moved to
    models/dcgan.py: shared links, the api and the hand-drawn window boxes depend on it never changing."""
    return torch.randn(16, nz, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("seed", [0, 3, 12345, 2**31 - 1])
def test_sample_names_give_the_same_z_as_before(seed):
    assert dcgan.SAMPLE_BATCH == 16
    assert torch.equal(dcgan.z_batch(seed), old_z_batch(seed))
    assert torch.equal(dcgan.z_batch(seed, 7), old_z_batch(seed, 7))
    tokens = [(seed, 5), (0, 15), (seed, 0)]
    assert torch.equal(dcgan.z_for(tokens), torch.stack([old_z_batch(s)[i] for s, i in tokens]))
    assert dcgan.z_for([], 100).shape == (0, 100)


def test_the_tab_and_the_labelling_tools_share_the_rule():
    from demos import dcgan as tab
    from training import find_window_feature_maps as fw
    from training import label_windows as lw

    assert tab.z_batch is dcgan.z_batch and tab.z_for is dcgan.z_for and lw.z_batch is dcgan.z_batch
    boxes = lw.read_boxes(lw.DEFAULT_BOXES)  # the real hand-labelled samples
    z, _ = fw.labelled_z(boxes, 100)
    names = sorted(boxes, key=lambda s: tuple(int(v) for v in s.split(":")))
    expected = torch.stack([old_z_batch(int(n.split(":")[0]))[int(n.split(":")[1])] for n in names])
    assert len(names) > 100 and torch.equal(z, expected)


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
    common = ["--dry-run", "--output-dir", str(out), "--first-epoch-output-dir", str(first),
              "--checkpoint-dir", str(ckpt), "--ngf", "4", "--ndf", "4", "--device", "cpu"]
    train_dcgan.main(train_dcgan.parse_args(common))
    for folder in (out, first):
        Generator.from_pretrained(folder, strict=True)
        card = (folder / "README.md").read_text()
        assert "FID-Lite0" in card and "DiffAugment" in card and (folder / "SHA256SUMS").is_file()
    for name in ("generator.safetensors", "generator_ema.safetensors", "discriminator.safetensors",
                 "generator_best.safetensors", "fid.csv", "progress.png", "samples_latest.png", "samples_final.png",
                 "nearest.png"):
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
                                   str(tmp_path / "g1"), "--checkpoint-dir", str(tmp_path / "c"), "--ngf", "4",
                                   "--ndf", "4", "--max-minutes", "0.0001", "--device", "cpu"])
    train_dcgan.main(args)
    assert json.loads((tmp_path / "c" / "state.json").read_text())["step"] == 1  # stopped after its first step
    Generator.from_pretrained(tmp_path / "g", strict=True)


# --- the tab on a tiny generator ----------------------------------------------------------------

@pytest.fixture
def tiny_dcgan(tmp_path, monkeypatch):
    yield from use_tiny_dcgan(tmp_path, monkeypatch)


def test_grid_and_naming(tiny_dcgan):
    from demos import dcgan as tab

    items = tab.dcgan_grid(7)
    assert len(items) == 16 and items[3][1] == "7:3" and items[0][0].size == (128, 128)
    assert torch.equal(tab.z_for([(7, 3)])[0], tab.z_batch(7)[3])
    assert tab.parse_tokens(" 1:2, 3:4 5：6、7:8") == [(1, 2), (3, 4), (5, 6), (7, 8)]
    for bad in ("1:16", "x", "1:2:3", "-1:2", ", ".join(["0:1"] * 9)):
        with pytest.raises(gr.Error):
            tab.parse_tokens(bad)
    with pytest.raises(gr.Error):
        tab.dcgan_grid(-3)


def test_pictures_are_those_of_before(tiny_dcgan):
    """The grid as the tab drew it before models/imaging.py: [-1, 1] → bytes, 2 px white gaps, 2x bicubic."""
    from demos import dcgan as tab

    images = torch.rand(5, 3, 64, 64) * 2 - 1
    nrow, pad = 3, 2
    canvas = np.full((2 * (64 + pad) - pad, nrow * (64 + pad) - pad, 3), 255, np.uint8)
    arr = ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    for i in range(5):
        r, c = divmod(i, nrow)
        canvas[r * (64 + pad):r * (64 + pad) + 64, c * (64 + pad):c * (64 + pad) + 64] = arr[i]
    old = PIL.Image.fromarray(canvas)
    old = old.resize((old.width * 2, old.height * 2), PIL.Image.BICUBIC)
    new = tab.grid_picture(images, nrow)
    assert new.size == old.size
    assert np.abs(np.asarray(new, dtype=int) - np.asarray(old, dtype=int)).max() <= 1  # equal up to rounding


def test_pick_sample_fills_and_empties_buckets(tiny_dcgan):
    from demos import dcgan as tab

    evt = SimpleNamespace(index=5)
    out = tab.pick_sample("A", 3, "", "1:1", "", "0:0", "0:1", evt)
    a, b, c, start, end = (out[name] for name in tab.TARGETS)
    assert (a, b, c, start, end) == ("3:5", "1:1", "", "0:0", "0:1")
    assert tab.pick_sample("A", 3, a, b, c, start, end, evt)["A"] == ""  # a second click takes it out
    assert tab.pick_sample("end", 3, a, b, c, start, end, evt)["end"] == "3:5"


def test_pick_sample_gets_the_clicked_sample_from_gradio(tiny_dcgan):
    """Wired with ``page.on``, Gradio still hands ``pick_sample`` the click (``gr.SelectData``)."""
    from gradio import helpers

    from demos import dcgan as tab
    from demos.kit import Page

    boxes = {name: gr.Textbox(render=False) for name in tab.TARGETS}
    handler = Page(tab.TAB).handler(tab.pick_sample, boxes)
    click = gr.SelectData(None, {"index": 5, "value": None, "selected": True})
    inputs, _progress, event_index, _props = helpers.special_args(handler, ["A", 3, "", "", "", "0:0", "0:1"],
                                                                  event_data=click)
    assert event_index == 7
    out = handler(*inputs)
    assert out[boxes["A"]] == "3:5" and out[boxes["end"]] == "0:1"


def test_arithmetic_and_walk(tiny_dcgan):
    from demos import dcgan as tab

    out = tab.dcgan_arithmetic("0:1, 0:2, 0:3", "0:4, 0:5, 0:6", "1:0, 1:1, 1:2", 0.25, 0)
    assert list(out) == ["figure", "averaged", "single", "caption"]  # the api's order
    figure, averaged, single, caption = out.values()
    assert averaged.size == single.size == (3 * 64 * 2 + 2 * 2 * 2,) * 2
    assert figure.size[0] == 4 * 64 * 2 + 3 * 2 * 2 and "3/3/3" in caption
    g = tab.load_generator()
    r = tab.vector_arithmetic(g, [(0, 1), (0, 2)], [(0, 4)], [(1, 0)], sigma=0.0)
    expected = tab.z_for([(0, 1), (0, 2)]).mean(0) - tab.z_for([(0, 4)])[0] + tab.z_for([(1, 0)])[0]
    assert torch.allclose(r["z_averaged"], expected)
    assert torch.allclose(r["averaged"][0], r["averaged"][4], atol=1e-6)  # σ = 0: the neighbourhood is the point
    with pytest.raises(gr.Error):
        tab.dcgan_arithmetic("0:1", "", "0:2")
    with pytest.raises(gr.Error):
        tab.dcgan_arithmetic("0:1", "0:2", "0:3", 7.0)
    out = tab.dcgan_walk("0:0", "0:1", 5)
    assert list(out) == ["walk_linear", "walk_spherical", "walk_gif", "walk_caption"]  # the api's order
    linear, spherical, gif, caption = out.values()
    assert linear.size == spherical.size == (5 * 128 + 4 * 4, 128) and gif.endswith(".gif")
    with PIL.Image.open(gif) as anim:
        assert anim.n_frames == 5 + 3  # there and back
        assert anim.size == (2 * 256 + 2 * 4, 256)  # linear | spherical, 256 px each on the page
    w = tab.latent_walk(g, (0, 0), (0, 1), 5)
    assert float(w["spherical_norms"].min()) > float(w["linear_norms"].min())
    with pytest.raises(gr.Error):
        tab.dcgan_walk("0:0, 0:2", "0:1", 5)


def test_the_gif_keeps_its_frames_and_colours(tmp_path):
    """One palette for all frames (with dithering): each frame still looks like its picture, not like the first."""
    from demos import dcgan as tab

    plain = [np.full((32, 48, 3), colour, np.uint8) for colour in ((200, 30, 30), (30, 200, 30), (30, 30, 200))]
    ramp = np.broadcast_to(np.linspace(0, 255, 48).astype(np.uint8)[None, :, None], (32, 48, 3)).copy()
    originals = [*plain, ramp]
    tab.save_gif([PIL.Image.fromarray(a) for a in originals], tmp_path / "walk.gif", duration_ms=100)
    with PIL.Image.open(tmp_path / "walk.gif") as anim:
        assert anim.n_frames == 4 and anim.info["loop"] == 0 and anim.info["duration"] == 100
        for i, original in enumerate(originals):
            anim.seek(i)
            error = np.abs(np.asarray(anim.convert("RGB"), dtype=int) - original.astype(int)).mean()
            assert error < 8, (i, error)


def test_bucket_previews_show_every_sample(tiny_dcgan):
    from demos import dcgan as tab

    three = tab.bucket_preview("0:1, 0:2, 5:3")
    assert three.size == (3 * 128 + 2 * 4, 128)  # the three samples side by side, nothing cut off
    expected = tab.grid_picture(tab.load_generator()(tab.z_for([(0, 1), (0, 2), (5, 3)])), nrow=3)
    assert np.array_equal(np.asarray(three), np.asarray(expected))
    assert tab.bucket_preview("4:0").size == (128, 128)
    for unfinished in ("", None, "0:", "0:1, x"):  # being typed: an empty picture, no error
        assert tab.bucket_preview(unfinished) is None


def test_slide_strings():
    """The slide's equation is one line of matplotlib mathtext, the same in both languages."""
    from demos import dcgan as tab

    equation = tab.TAB.strings.table["slide_equation"]
    assert equation["en"] == equation["ja"] and "\n" not in equation["en"]
    assert all(tab.TAB.strings.table["slide_caption"][lang].strip() for lang in ("en", "ja"))
    mathtext = pytest.importorskip("matplotlib.mathtext")
    mathtext.MathTextParser("path").parse(f"${equation['en']}$")  # raises on what mathtext cannot draw


def test_open_tab_with_a_share_link(tiny_dcgan):
    from demos import dcgan as tab

    request = SimpleNamespace(query_params={"seed": "4", "a": "4:1,4:2", "b": "4:3", "c": "bad", "frames": "99"},
                              headers={})
    out = tab.open_tab(request)
    assert out["status"]["visible"] is False and out["seed"]["value"] == 4 and len(out["grid"]) == 16
    assert out["A"]["value"] == "4:1,4:2" and out["C"]["value"] == tab.DEFAULT["C"]
    assert out["frames"]["value"] == tab.LIMITS["frames"][2]
    assert [out[f"preview_{name}"].width for name in "ABC"] == [2 * 128 + 4, 128, 3 * 128 + 2 * 4]  # previews
    assert "tab=dcgan" in tab.dca_share_query(4, "4:1", "4:2", "4:3", 0.25, 0, "0:0", "0:1", 8)


def test_open_tab_without_weights(tiny_dcgan, tmp_path, monkeypatch):
    from demos import dcgan as tab
    from demos.kit import clear_caches

    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path / "nothing"))
    clear_caches()
    off = tab.open_tab(None)
    assert off["status"]["visible"] is True and "dcgan-bedrooms" in off["status"]["value"]
    assert off["new_batch"]["interactive"] is False and off["run"]["interactive"] is False
    assert "grid" not in off and "figure" not in off  # left as they are


def test_api(tiny_dcgan):
    from gradio_client import Client

    from demos import dcgan as tab
    from demos.i18n import make_i18n
    from demos.kit import Page

    demo = tab.create_demo(Page(tab.TAB))
    demo.launch(prevent_thread_lock=True, quiet=True, i18n=make_i18n([tab.TAB]), max_file_size="10mb")
    try:
        client = Client(demo.local_url, verbose=False, download_files=False)
        figure, averaged, single, caption = client.predict("0:1, 0:2", "0:3", "1:4", 0.2, 1,
                                                           api_name="/dcgan_arithmetic")
        assert figure and averaged and single and "2/1/1" in caption
        with pytest.raises(Exception):
            client.predict("0:1", "", "1:4", 0.2, 1, api_name="/dcgan_arithmetic")
        assert len(client.predict(5, api_name="/dcgan_grid")) == 16
        *_strips, gif, caption = client.predict("0:0", "2:3", 4, api_name="/dcgan_walk")
        assert gif["path"].endswith("dcgan_walk.gif")  # shown on the page (it plays), and downloadable
    finally:
        demo.close()


def test_the_bucket_selector_is_above_the_grid(tiny_dcgan):
    """Issue 14: where a click puts a sample is chosen above the grid, in sight while clicking (it was below)."""
    from demos import dcgan as tab
    from demos.kit import Page

    demo = tab.create_demo(Page(tab.TAB))
    blocks = list(demo.blocks.values())
    target = next(b for b in blocks if isinstance(b, gr.Radio))
    grid = next(b for b in blocks if isinstance(b, gr.Gallery))
    def column(block):
        while not isinstance(block, gr.Column):
            block = block.parent
        return block

    assert column(target) is column(grid) and blocks.index(target) < blocks.index(grid)
    previews = [b for b in blocks if isinstance(b, gr.Image) and b.height == 90]
    assert len(previews) == 3  # one picture per bucket (a gallery showed 1⅓ of its 3 samples)
