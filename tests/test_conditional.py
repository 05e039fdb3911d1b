"""Conditional generation tab: the plain functions on tiny models (the style × content grid shares z along a row,
n and the digit are respected, the cVAE restyles into the ten digits in order, the soft-label morph ends on the pure
labels), the handlers and their refusals, share links, missing weights, and its two apis through gradio_client."""

from urllib.parse import parse_qsl

import gradio as gr
import PIL.Image
import pytest
import torch

from demos import conditional as cond
from demos.kit import clear_caches
from models.conditional import one_hot, z_batch
from models.loading import write_checksums
from models.mnist_classifier import MnistClassifier
from tests.conftest import MNIST_EXAMPLES, editor
from tests.test_ae import LinkRequest
from tests.tiny_conditional import TINY_LATENT, TINY_NZ, make_tiny_pretrained_conditional

SLUGS = ("cgan-mnist", "acgan-mnist", "acgan-mnist-discriminator", "cvae-mnist")


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    """The tab's four tiny models and a tiny MNIST classifier, saved like pretrained/."""
    root = make_tiny_pretrained_conditional(tmp_path_factory.mktemp("pretrained"))
    torch.manual_seed(0)
    MnistClassifier(channels=4, feature_dim=16).save_pretrained(root / "mnist-classifier")
    write_checksums(root / "mnist-classifier")
    return root


def use_root(root, monkeypatch):
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    clear_caches()


@pytest.fixture
def tiny(tiny_root, monkeypatch):
    use_root(tiny_root, monkeypatch)
    yield tiny_root
    clear_caches()


def without(tiny_root, tmp_path, *left_out):
    """A pretrained folder with the tiny models except ``left_out``."""
    root = tmp_path / "pretrained"
    root.mkdir()
    for folder in tiny_root.iterdir():
        if folder.name not in left_out:
            (root / folder.name).symlink_to(folder)
    return root


def digit_4() -> PIL.Image.Image:
    with PIL.Image.open(MNIST_EXAMPLES / "4_0004.png") as img:
        return img.copy()


# --- plain functions ------------------------------------------------------------------------------------------------

def test_truncation_keeps_z_within_psi_and_the_coordinates_already_inside():
    plain, cut = z_batch(3, 200, 16), z_batch(3, 200, 16, truncation=1.0)
    assert plain.abs().max() > 2 and cut.abs().max() <= 1.0
    inside = plain.abs() <= 1.0
    assert torch.equal(cut[inside], plain[inside])  # only the coordinates outside [−ψ, ψ] are drawn again
    assert torch.equal(cut, z_batch(3, 200, 16, truncation=1.0))  # the same for the same seed
    assert cond.truncation_of(cond.PSI_NONE) is None and cond.truncation_of(0.7) == 0.7
    assert torch.equal(cond.latents(3, 4, 16, "5", cond.PSI_NONE), plain[:4])
    with pytest.raises(ValueError):
        z_batch(3, 2, 16, truncation=0.0)


def test_grid_rows_share_z_and_columns_are_the_classes(tiny):
    z = cond.latents(5, 3, TINY_NZ, cond.ALL)
    labels = cond.labels_of(cond.ALL, 3)
    assert z.shape == (30, TINY_NZ) and labels.tolist() == list(range(10)) * 3
    for row in range(3):
        for col in range(10):
            assert torch.equal(z[row * 10 + col], z_batch(5, 3, TINY_NZ)[row])  # one z for the whole row
    assert not torch.equal(z[0], z[10])  # and another one for the next row
    cvae, cgan = cond.load_model("cvae"), cond.load_model("cgan")
    assert torch.equal(cond.sample_digits(cvae, "3", 4, 5, 0.5), cond.sample_digits(cvae, "3", 4, 5))  # its prior
    assert not torch.equal(cond.sample_digits(cgan, "3", 4, 5, 0.5), cond.sample_digits(cgan, "3", 4, 5))
    for kind in cond.MODELS:
        model = cond.load_model(kind)
        size = cond.latent_size(model)
        assert size == (TINY_LATENT if kind == "cvae" else TINY_NZ)
        grid = cond.sample_digits(model, cond.ALL, 3, 5)
        assert grid.shape == (30, 1, 28, 28) and 0 <= float(grid.min()) and float(grid.max()) <= 1
        row_z = z_batch(5, 3, size)[1:2]
        for col in (0, 4, 9):
            assert torch.allclose(grid[10 + col], cond.draw(model, row_z, one_hot(torch.tensor([col])))[0])
        # sample i of one digit is the cell (i, digit) of the grid: the digit changes, the style stays
        sevens = cond.sample_digits(model, 7, 3, 5)
        assert torch.allclose(sevens, grid[[7, 17, 27]], atol=1e-6)


def test_soft_label_morph_ends_on_the_pure_labels(tiny):
    y = cond.label_mix(1, 7, [0.0, 0.25, 1.0])
    assert torch.equal(y[0], one_hot(torch.tensor([1]))[0]) and torch.equal(y[2], one_hot(torch.tensor([7]))[0])
    assert y[1, 1] == 0.75 and y[1, 7] == 0.25 and torch.allclose(y.sum(1), torch.ones(3))
    g = cond.load_model("cgan")
    z = z_batch(3, 1, g.nz)[0]
    ends = cond.morph(g, z, 1, 7, [0.0, 1.0])
    assert torch.allclose(ends[0], cond.draw(g, z[None], one_hot(torch.tensor([1])))[0])
    assert torch.allclose(ends[1], cond.draw(g, z[None], one_hot(torch.tensor([7])))[0])
    steps = cond.cgan_morph(3, 1, 7, 0.0)
    assert steps["morph_now"].size == (280, 280)
    assert r"1.00\,\mathrm{onehot}(1) + 0.00\,\mathrm{onehot}(7)" in steps["morph_y"]
    assert steps["morph_strip"].width > steps["morph_strip"].height  # 8 steps in a row
    assert cond.cgan_morph_now(3, 1, 7, 0.0)["morph_now"].tobytes() == steps["morph_now"].tobytes()


def test_restyle_returns_the_ten_digits_in_order(tiny):
    cvae = cond.load_model("cvae")
    x = cond.image_to_digit(digit_4())
    ten = cond.restyle(cvae, x, 4)
    assert ten.shape == (10, 1, 28, 28)
    mu, _ = cvae.encode(x, one_hot(torch.tensor([4])))
    for y in (0, 4, 9):
        assert torch.allclose(ten[y], cvae.decode(mu, one_hot(torch.tensor([y])))[0])
    out = cond.cvae_restyle(digit_4(), "4")
    assert [caption for _img, caption in out["restyle_gallery"]] == [f"class {y}" for y in range(10)]
    assert all(img.size == (112, 112) and img.mode == "L" for img, _caption in out["restyle_gallery"])
    assert out["restyle_gallery"][9][0].tobytes() == cond.to_pil(ten[9], scale=cond.SCALE).tobytes()
    assert "**4** (your choice)" in out["restyle_note"] and out["seen"].size == (112, 112)
    # "auto": the classifier's guess is the label
    guess, _p = cond.guess_digit(cond.load_classifier(), x)
    auto = cond.cvae_restyle(digit_4(), "auto")
    assert f"**{guess}**, the classifier's guess" in auto["restyle_note"]
    assert auto["restyled"].tobytes() == cond.cvae_restyle(digit_4(), guess)["restyled"].tobytes()


# --- handlers ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["cgan", "acgan", "cvae"])
def test_generate_respects_n_and_the_digit(tiny, model):
    out = cond.conditional_generate(model, "7", 5, 1)
    assert len(out["gallery"]) == 5 and all(caption.startswith("class 7") for _img, caption in out["gallery"])
    assert all(img.size == (112, 112) and img.mode == "L" for img, _caption in out["gallery"])
    expected = cond.sample_digits(cond.load_model(model), 7, 5, 1, cond.LIMITS["truncation"][2])  # the default ψ
    assert out["gallery"][2][0].tobytes() == cond.to_pil(expected[2], scale=cond.SCALE).tobytes()
    every = cond.conditional_generate(model, "all", 2, 1)
    captions = [caption for _img, caption in every["gallery"]]
    assert len(captions) == 20 and captions[0].startswith("z no. 1, class 0")
    assert captions[13].startswith("z no. 2, class 3")
    assert (out["verdict"] != "") == (model == "acgan")


def test_acgan_verdict_under_the_samples(tiny):
    out = cond.conditional_generate("acgan", 2, 6, 4)
    verdict = cond.judge(cond.load_discriminator(),
                         cond.sample_digits(cond.load_model("acgan"), 2, 6, 4, cond.LIMITS["truncation"][2]))
    assert verdict["p_real"].shape == (6,) and ((0 <= verdict["p_real"]) & (verdict["p_real"] <= 1)).all()
    match = int((verdict["guess"] == 2).sum())
    assert f"**{match} of 6**" in out["verdict"] and "P(real)" in out["verdict"]
    first = out["gallery"][0][1]
    assert f"D: {int(verdict['guess'][0])} ({round(100 * float(verdict['confidence'][0]))} %)" in first
    assert f"P(real) {float(verdict['p_real'][0]):.2f}" in first
    # the picture: 6 digits in one row with a verdict band under each, taller than the plain one
    plain = cond.conditional_generate("cgan", 2, 6, 4)["samples"]
    assert out["samples"].width == plain.width and out["samples"].height > plain.height


def test_style_grids_of_the_three_models(tiny):
    out = cond.show_style_grids(2, 3)
    assert set(out) == {"grid_cgan", "grid_acgan", "grid_cvae", "grid_verdict"}
    assert out["grid_cgan"].size == out["grid_cvae"].size and out["grid_cgan"].width > out["grid_cgan"].height
    assert "of 30** digits" in out["grid_verdict"]
    from demos.i18n import language

    with language("ja"):  # cached pictures, the words in the language of each event
        assert "30 個中" in cond.show_style_grids(2, 3)["grid_verdict"]


@pytest.mark.parametrize("call", [
    lambda: cond.conditional_generate("gan", 7, 5, 1),
    lambda: cond.conditional_generate("cgan", 10, 5, 1),
    lambda: cond.conditional_generate("cgan", "seven", 5, 1),
    lambda: cond.conditional_generate("cgan", 2.5, 5, 1),
    lambda: cond.conditional_generate("cgan", True, 5, 1),
    lambda: cond.conditional_generate("cgan", 7, 0, 1),
    lambda: cond.conditional_generate("cgan", 7, 65, 1),
    lambda: cond.conditional_generate("cgan", 7, float("nan"), 1),
    lambda: cond.conditional_generate("cgan", 7, 5, -1),
    lambda: cond.show_style_grids(0, 9),
    lambda: cond.cgan_morph(0, 1, 7, 1.5),
    lambda: cond.cgan_morph(0, 1, "all", 0.5),
    lambda: cond.cvae_restyle(digit_4(), 11),
    lambda: cond.cvae_restyle({"background": None, "layers": [], "composite": PIL.Image.new("RGBA", (280, 280))}, 4),
])
def test_bad_values_are_clear_errors(tiny, call):
    with pytest.raises(gr.Error) as err:
        call()
    assert err.value.message


def test_live_restyle_leaves_a_blank_pad_alone(tiny):
    assert cond.cvae_restyle_live({"composite": PIL.Image.new("RGBA", (280, 280))}, "auto") == {}
    assert len(cond.cvae_restyle_live(digit_4(), 3)["restyle_gallery"]) == 10


# --- opening the tab, share links, missing weights ----------------------------------------------------------------

def test_open_tab(tiny):
    out = cond.open_tab(None)
    assert out["status"]["visible"] is False and out["run"]["interactive"] is True
    assert [out[name]["value"] for name in cond.SETTINGS] == ["acgan", "3", 8, 0, 4, "1", "7", 0.5, "auto", 1.25]
    assert len(out["gallery"]) == 8 and out["verdict"] and len(out["restyle_gallery"]) == 10
    assert out["canvas"] == cond.RESTYLE_EXAMPLE
    assert all(isinstance(out[f"grid_{kind}"], PIL.Image.Image) for kind in cond.MODELS)
    assert isinstance(out["morph_now"], PIL.Image.Image) and isinstance(out["morph_strip"], PIL.Image.Image)


def test_share_link_round_trip(tiny):
    query = cond.conditional_share_query("cvae", "all", 3, 42, 2, "4", "9", 0.25, "5", 0.8)
    params = dict(parse_qsl(query[1:]))
    assert params == {"tab": "conditional", "model": "cvae", "digit": "all", "n": "3", "seed": "42", "rows": "2",
                      "a": "4", "b": "9", "alpha": "0.25", "label": "5", "psi": "0.8"}
    out = cond.open_tab(LinkRequest(**params))
    assert [out[name]["value"] for name in cond.SETTINGS] == ["cvae", "all", 3, 42, 2, "4", "9", 0.25, "5", 0.8]
    assert len(out["gallery"]) == 30 and out["verdict"] == ""
    assert out["samples"].tobytes() == cond.conditional_generate("cvae", "all", 3, 42, 0.8)["samples"].tobytes()
    assert "**5** (your choice)" in out["restyle_note"] and "0.75\\,\\mathrm{onehot}(4)" in out["morph_y"]


def test_broken_share_links_fall_back_to_defaults(tiny):
    out = cond.open_tab(LinkRequest(model="gan", digit="12", n="500", seed="-4", rows="x", a="all", b="-1",
                                    alpha="2", label="all", psi="0.1"))
    assert [out[name]["value"] for name in cond.SETTINGS] == ["acgan", "3", 8, 0, 4, "1", "7", 0.5, "auto", 1.25]


@pytest.mark.parametrize("missing, command", [("cvae-mnist", "train_cvae.py"),
                                              ("acgan-mnist-discriminator", "train_acgan.py"),
                                              ("cgan-mnist", "train_cgan.py")])
def test_missing_weights_disable_only_this_tab(tiny_root, tmp_path, monkeypatch, missing, command):
    use_root(without(tiny_root, tmp_path, missing), monkeypatch)
    off = cond.open_tab(None)
    assert off["status"]["visible"] is True and missing in off["status"]["value"] and command in off["status"]["value"]
    assert off["run"]["interactive"] is False and off["restyle_run"]["interactive"] is False
    assert "samples" not in off  # nothing computed
    with pytest.raises(gr.Error, match=missing):
        cond.reseed("cgan", 3, 2, 0, 1, 1, 7, 0.5)
    clear_caches()


def test_corrupt_weights_disable_the_tab(tiny_root, tmp_path, monkeypatch):
    import shutil

    root = without(tiny_root, tmp_path, "cgan-mnist")
    shutil.copytree(tiny_root / "cgan-mnist", root / "cgan-mnist")
    weights = root / "cgan-mnist" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    use_root(root, monkeypatch)
    off = cond.open_tab(None)
    assert off["status"]["visible"] is True and "cgan-mnist" in off["status"]["value"]
    clear_caches()


def test_without_the_classifier_the_student_chooses_the_label(tiny_root, tmp_path, monkeypatch):
    use_root(without(tiny_root, tmp_path, "mnist-classifier"), monkeypatch)
    with pytest.raises(gr.Error, match="choose which digit"):
        cond.cvae_restyle(digit_4(), "auto")
    assert len(cond.cvae_restyle(digit_4(), 4)["restyle_gallery"]) == 10
    out = cond.open_tab(None)  # the tab still opens: its example is restyled with its own label
    assert out["status"]["visible"] is False and "**4** (your choice)" in out["restyle_note"]
    clear_caches()


# --- the apis through gradio_client -------------------------------------------------------------------------------

def test_apis_of_the_tab_alone(tiny):
    from gradio_client import Client

    from demos.i18n import make_i18n
    from demos.kit import Page

    demo = cond.create_demo(Page(cond.TAB))
    demo.launch(prevent_thread_lock=True, quiet=True, i18n=make_i18n([cond.TAB]), max_file_size="10mb")
    try:
        client = Client(demo.local_url, verbose=False, download_files=False)
        apis = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert set(apis) == {"/conditional_generate", "/cvae_restyle"}
        assert [p["parameter_name"] for p in apis["/conditional_generate"]["parameters"]] == [
            "model", "digit", "n", "seed", "truncation"]
        picture, gallery, verdict = client.predict("cgan", "7", 5, 1, api_name="/conditional_generate")
        assert picture and len(gallery) == 5 and verdict == ""
        assert [item["caption"] for item in gallery] == ["class 7"] * 5
        as_number = client.predict("cgan", 7, 5, 1, api_name="/conditional_generate")[1]  # a number counts too
        assert [item["caption"] for item in as_number] == ["class 7"] * 5
        with PIL.Image.open(gallery[0]["image"]["path"]) as img:
            assert img.size == (112, 112) and img.width >= 28
        picture, gallery, verdict = client.predict("acgan", "all", 2, 3, api_name="/conditional_generate")
        assert len(gallery) == 20 and "P(real)" in verdict and "D: " in gallery[0]["caption"]
        picture, gallery, seen, note = client.predict(editor(MNIST_EXAMPLES / "4_0004.png"), 4,
                                                      api_name="/cvae_restyle")
        assert picture and seen and [item["caption"] for item in gallery] == [f"class {y}" for y in range(10)]
        assert len(client.predict(editor(MNIST_EXAMPLES / "4_0004.png"), api_name="/cvae_restyle")[1]) == 10
        with pytest.raises(Exception, match="cannot be 65"):
            client.predict("cgan", 7, 65, 1, api_name="/conditional_generate")
        with pytest.raises(Exception, match="not one of the choices"):
            client.predict("cgan", 10, 5, 1, api_name="/conditional_generate")
        with pytest.raises(Exception, match="not one of the choices"):
            client.predict("cgan", True, 5, 1, api_name="/conditional_generate")
        ja = Client(demo.local_url, headers={"Accept-Language": "ja"}, verbose=False, download_files=False)
        with pytest.raises(Exception, match="65 は使えません"):
            ja.predict("cgan", 7, 65, 1, api_name="/conditional_generate")
        with pytest.raises(Exception, match="選択肢にありません"):
            ja.predict(editor(MNIST_EXAMPLES / "4_0004.png"), 12, api_name="/cvae_restyle")
    finally:
        demo.close()
