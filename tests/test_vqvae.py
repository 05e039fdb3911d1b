"""VQ-VAE tab: the plain functions and handlers on tiny models (K = 8 codes), bad codes, share links, missing
weights, and its three apis through gradio_client."""

import json
from urllib.parse import parse_qsl

import gradio as gr
import PIL.Image
import pytest
import torch

from demos import vqvae as vq
from demos.kit import clear_caches
from tests.conftest import MNIST_EXAMPLES, drawing, editor
from tests.test_ae import LinkRequest
from tests.tiny_vqvae import TINY_DEAD_CODE, TINY_K


class Click:
    """What gr.SelectData carries for a click on an image: the pixel (x, y)."""

    def __init__(self, x, y):
        self.index = [x, y]


@pytest.fixture
def shown(tiny_models, mnist_digit) -> dict:
    """What the tab shows after encoding the MNIST 2 (states included)."""
    return vq.encode_and_show(mnist_digit)


def differs(a: PIL.Image.Image, b: PIL.Image.Image) -> bool:
    return a.tobytes() != b.tobytes()


# --- codes as JSON --------------------------------------------------------------------------------------------------

def test_codes_json_round_trip():
    codes = torch.arange(49).reshape(7, 7) % TINY_K
    text = vq.codes_to_json(codes)
    assert len(text.splitlines()) == 7 and json.loads(text) == codes.tolist()
    assert torch.equal(vq.parse_codes(text, TINY_K), codes)


@pytest.mark.parametrize("text, words", [
    ("[[1, 2", ["JSON"]),                                     # not JSON
    ("", ["JSON"]),
    (None, ["JSON"]),
    ("{\"codes\": 1}", ["7 rows", "dict"]),                   # not a list
    (json.dumps([[0] * 7] * 6), ["7 rows", "6 ×"]),           # 6 rows
    (json.dumps([[0] * 7] * 6 + [[0] * 8]), ["7 rows", "8"]),  # a row of 8
    (json.dumps([[0] * 7] * 6 + [[0] * 6 + [8]]), ["Row 7, column 7", "8", "0 to 7"]),   # K = 8: 0 … 7
    (json.dumps([[0] * 7] * 6 + [[-1] + [0] * 6]), ["Row 7, column 1", "-1"]),
    (json.dumps([[0] * 7] * 6 + [[0, 1.5] + [0] * 5]), ["Row 7, column 2", "1.5"]),
    (json.dumps([[0] * 7] * 6 + [[0, True] + [0] * 5]), ["Row 7, column 2", "true"]),
    (json.dumps([[0] * 7] * 6 + [[0, "3"] + [0] * 5]), ["Row 7, column 2", "\"3\""]),
    ("[]", ["7 rows", "got []"]),                             # empty (was "got 0 × .")
    ("[" * 5000, ["JSON"]),                                   # far too long
    ("[" * 3000 + "]" * 3000, ["JSON"]),                      # nested too deep for Python's json
])
def test_bad_codes_are_clear_errors(text, words):
    with pytest.raises(gr.Error) as err:
        vq.parse_codes(text, TINY_K)
    assert all(word in err.value.message for word in words), err.value.message


def test_bad_codes_in_japanese():
    from demos.i18n import language

    with language("ja"), pytest.raises(gr.Error) as err:
        vq.parse_codes(json.dumps([[0] * 7] * 6 + [[0] * 6 + [99]]), TINY_K)
    assert "7 行 7 列" in err.value.message and "0 から 7 まで" in err.value.message


# --- pictures -------------------------------------------------------------------------------------------------------

def test_code_map_picture_cells_and_clicks():
    codes = torch.arange(49).reshape(7, 7) % TINY_K
    img = vq.code_map_picture(codes, selected=(2, 5))
    assert img.size == (7 * vq.CELL_PX, 7 * vq.CELL_PX)
    # a cell's colour is its code's (away from the number in the middle), and a cell not written yet is grey
    assert img.getpixel((3, 3 * vq.CELL_PX + 5)) == vq.code_colour(int(codes[3, 0]))
    partly = codes.clone()
    partly[4:] = -1
    assert vq.code_map_picture(partly).getpixel((10, 6 * vq.CELL_PX + 5)) == vq.EMPTY
    assert vq.cell_at(5 * vq.CELL_PX + 3, 2 * vq.CELL_PX + 40) == (2, 5)
    assert vq.cell_at(-5, 10_000) == (6, 0)  # clamped
    assert len({vq.code_colour(k) for k in range(64)}) == 64


def test_meanings_grid_and_picking_a_code_by_clicking_it(tiny_models, shown):
    m = vq.load_vqvae()
    digits = vq.code_meanings(m, shown["edited_state"], (3, 3))
    assert digits.shape == (TINY_K, 1, 28, 28)
    for k in (0, TINY_K - 1):
        assert torch.allclose(digits[k], vq.decode_maps(m, vq.with_code(shown["edited_state"], (3, 3), k))[0])
    img = vq.meanings_picture(digits, (3, 3), current=2, dead={TINY_DEAD_CODE})
    tw, th = vq._tile_size()
    assert img.size == (3 * (tw + vq.TILE_PAD) + vq.TILE_PAD, vq.TOP_PX + 3 * (th + vq.TILE_PAD) + vq.TILE_PAD)  # 3 × 3
    for code in range(TINY_K):
        row, col = divmod(code, 3)
        centre = (vq.TILE_PAD + col * (tw + vq.TILE_PAD) + tw // 2,
                  vq.TOP_PX + vq.TILE_PAD + row * (th + vq.TILE_PAD) + th // 2)
        assert vq.code_at(*centre, TINY_K) == code
    assert vq.code_at(2 * (tw + vq.TILE_PAD) + 20, vq.TOP_PX + 2 * (th + vq.TILE_PAD) + 20, TINY_K) is None  # 9th
    assert vq.crop_origin((0, 6)) == (0, 8) and vq.crop_origin((3, 3)) == (4, 4)


def test_usage_histogram_and_codebook_text(tiny_models):
    view = vq.codebook()
    assert view["usage"].size == (640, 250)
    text = view["usage_text"]
    assert "Perplexity" in text and f"{TINY_K - 1} of {TINY_K}" in text and f"Dead codes (no test digit uses them): " \
        f"{TINY_DEAD_CODE}." in text


# --- encoding, editing, decoding ----------------------------------------------------------------------------------

def test_encode_api(tiny_models, mnist_digit):
    out = vq.vqvae_encode(mnist_digit)
    assert list(out) == ["code_map", "recon", "codes"]
    assert out["code_map"].size == (336, 336) and out["recon"].size == (280, 280)
    codes = vq.parse_codes(out["codes"], TINY_K)
    model = vq.load_vqvae()
    x = vq.image_to_digit(mnist_digit)
    assert torch.equal(codes, model.encode(x)[0])
    assert out["recon"].tobytes() == vq.digit_picture(model.reconstruct(x)).tobytes()
    with pytest.raises(gr.Error):
        vq.vqvae_encode({"background": None, "layers": [], "composite": PIL.Image.new("RGBA", (280, 280))})
    # live: left as it is (one state given back unchanged: Gradio refuses an empty dict of outputs)
    assert vq.encode_live({"composite": PIL.Image.new("RGBA", (280, 280))}, [3, 3]) == {"cell_state": [3, 3]}
    assert isinstance(vq.encode_live({"composite": drawing()}, [1, 1])["code_map"], PIL.Image.Image)


def test_decode_api_and_a_cell_edit_changes_the_digit(tiny_models, mnist_digit):
    encoded = vq.vqvae_encode(mnist_digit)
    same = vq.vqvae_decode(encoded["codes"])["recon"]
    assert same.tobytes() == encoded["recon"].tobytes()
    codes = json.loads(encoded["codes"])
    other = (codes[3][3] + 1) % TINY_K
    edited = vq.vqvae_decode(json.dumps(vq.with_code(codes, (3, 3), other)))["recon"]
    assert differs(edited, same)
    with pytest.raises(gr.Error, match="column"):
        vq.vqvae_decode(json.dumps(vq.with_code(codes, (3, 3), TINY_K)))


def test_click_a_cell_change_its_code_and_reset(tiny_models, shown):
    encoded = shown["encoded_state"]
    digit = shown["digit_state"]
    assert shown["cell_state"] == [3, 3] and shown["edited_state"] == encoded
    assert "0 of 49 cells" in shown["cell_info"]
    picked = vq.select_cell(digit, encoded, encoded, Click(1 * vq.CELL_PX + 10, 4 * vq.CELL_PX + 10))
    assert picked["cell_state"] == [4, 1] and picked["code"]["value"] == encoded[4][1]
    assert "row 5, column 2" in picked["cell_info"]
    new = (encoded[4][1] + 3) % TINY_K
    changed = vq.set_code(digit, encoded, encoded, [4, 1], new)
    assert changed["edited_state"][4][1] == new and changed["edited_state"] != encoded
    assert differs(changed["recon"], shown["recon"]) and differs(changed["code_map"], picked["code_map"])
    assert "1 of 49 cells" in changed["cell_info"] and json.loads(changed["codes"])[4][1] == new
    # clicking a code in the codebook grid does the same
    tw, th = vq._tile_size()
    tile_of_2 = (vq.TILE_PAD + 2 * (tw + vq.TILE_PAD) + 10, vq.TOP_PX + vq.TILE_PAD + 20)
    by_click = vq.pick_code(digit, encoded, changed["edited_state"], [4, 1], Click(*tile_of_2))
    assert by_click["edited_state"][4][1] == 2 and by_click["code"]["value"] == 2
    back = vq.reset_codes(digit, encoded, [4, 1])
    assert back["edited_state"] == encoded and back["recon"].tobytes() == shown["recon"].tobytes()
    with pytest.raises(gr.Error):
        vq.set_code(digit, encoded, encoded, [4, 1], TINY_K)
    # nothing encoded yet: the clicks do nothing
    assert vq.select_cell(None, None, None, Click(5, 5)) == {"edited_state": None}
    assert vq.set_code(None, None, None, None, 1) == vq.pick_code(None, None, None, None, Click(5, 5))
    assert vq.pick_code(digit, encoded, encoded, [4, 1], Click(1, 1)) == {"edited_state": encoded}  # between tiles
    assert vq.reset_codes(None, None, [4, 1]) == {"cell_state": [4, 1]}
    # the JSON decoded in the page becomes the edited map
    adopted = vq.adopt_codes(json.dumps(vq.with_code(encoded, (0, 0), 7)), digit, encoded, [0, 0])
    assert adopted["edited_state"][0][0] == 7 and adopted["code"]["value"] == 7


def test_comparison_of_the_three_bottlenecks(tiny_models, shown):
    table = shown["compare_table"]
    rows = [row for row in table.splitlines() if row.startswith("| ") and "dB" in row]
    assert len(rows) == 3
    assert "8 × 32 = 256 bits" in table       # the tiny AE: 8 numbers
    assert "2 × 32 = 64 bits" in table        # the 2-D VAE
    assert "49 · log₂ 8 = 147 bits" in table  # the VQ-VAE: 49 codes of 3 bits
    for name in ("seen", "ae", "vae", "vq"):
        assert shown[name].size == (140, 140)


def test_comparison_without_the_ae_weights(tiny_root, tmp_path, monkeypatch, mnist_digit):
    root = tmp_path / "pretrained"
    root.mkdir()
    for slug in ("vqvae-mnist", "vae-mnist"):
        (root / slug).symlink_to(tiny_root / slug)
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    clear_caches()
    out = vq.encode_and_show(mnist_digit)
    assert out["ae"] is None and "ae-mnist" in out["compare_table"] and "not available" in out["compare_table"]
    assert "147 bits" in out["compare_table"]
    clear_caches()


# --- sampling -------------------------------------------------------------------------------------------------------

def test_sampling_streams_the_49_cells_row_by_row(tiny_models):
    steps = list(vq.vqvae_sample(4, 3, 1.0, "any"))
    assert len(steps) == 7  # after rows 1-6, then the result
    for r, step in enumerate(steps[:-1]):
        assert set(step) == {"maps", "digits", "sample_status"}
        assert f"cell {7 * (r + 1)} of 49" in step["sample_status"]
    last = steps[-1]
    assert len(last["gallery"]) == 4 and all(isinstance(img, PIL.Image.Image) for img, _caption in last["gallery"])
    assert all(caption.startswith("class ") for _img, caption in last["gallery"])
    assert "Classes drawn first" in last["sample_status"]
    # the same seed gives the same digits, streamed or not
    quick = vq.last_result(vq.sample_steps(4, 3, 1.0, "any", stream=False))
    assert quick["digits"].tobytes() == last["digits"].tobytes()
    assert [c for _i, c in quick["gallery"]] == [c for _i, c in last["gallery"]]
    # a class: every digit has it
    fixed = vq.last_result(vq.vqvae_sample(3, 0, 0.5, "7"))
    assert [c for _i, c in fixed["gallery"]] == ["class 7"] * 3 and "Classes drawn" not in fixed["sample_status"]


def test_many_samples_stream_the_same_rows(tiny_models):
    steps = list(vq.vqvae_sample(64, 0, 1.0, "any"))
    assert len(steps) == 7 and len(steps[-1]["gallery"]) == 64
    assert all("digits" in step for step in steps)


@pytest.mark.parametrize("args", [(0, 0, 1.0, "any"), (65, 0, 1.0, "any"), (4, -1, 1.0, "any"), (4, 0, 2.5, "any"),
                                  (4, 0, float("nan"), "any"), (4, 0, 1.0, "10"), (4, 0, 1.0, "x")])
def test_bad_sampling_settings_are_clear_errors(tiny_models, args):
    with pytest.raises(gr.Error):
        next(vq.vqvae_sample(*args))


# --- opening the tab, share links, missing weights ----------------------------------------------------------------

def test_open_tab(tiny_models):
    out = vq.open_tab(None)
    assert out["status"]["visible"] is False and out["sample_run"]["interactive"] is True
    assert out["canvas"] == vq.FIRST_EXAMPLE and out["cell_state"] == [3, 3]
    assert len(out["gallery"]) == 16 and isinstance(out["digits"], PIL.Image.Image)
    assert out["code"]["maximum"] == TINY_K - 1
    assert [out[name]["value"] for name in vq.SETTINGS] == [16, 0, 1.0, "any"]


def test_share_link_round_trip(tiny_models, shown):
    edited = vq.with_code(shown["encoded_state"], (2, 4), 6)
    query = vq.vqvae_share_query(8, 42, 0.5, "3", [2, 4], edited)
    params = dict(parse_qsl(query[1:]))
    assert params == {"tab": "vqvae", "n": "8", "seed": "42", "temperature": "0.5", "label": "3", "row": "3",
                      "col": "5", "code": "6"}
    out = vq.open_tab(LinkRequest(**params))
    assert [out[name]["value"] for name in vq.SETTINGS] == [8, 42, 0.5, "3"]
    assert out["cell_state"] == [2, 4] and out["edited_state"] == edited and out["code"]["value"] == 6
    assert len(out["gallery"]) == 8 and all(caption == "class 3" for _img, caption in out["gallery"])
    expected = vq.last_result(vq.vqvae_sample(8, 42, 0.5, "3"))
    assert out["digits"].tobytes() == expected["digits"].tobytes()


def test_broken_share_links_fall_back_to_defaults(tiny_models):
    out = vq.open_tab(LinkRequest(n="500", seed="-4", temperature="hot", label="11", row="9", col="0", code="99"))
    assert [out[name]["value"] for name in vq.SETTINGS] == [16, 0, 1.0, "any"]
    assert out["cell_state"] == [3, 3] and out["edited_state"] == out["encoded_state"]


def test_missing_weights_disable_only_this_tab(tiny_root, tmp_path, monkeypatch):
    from demos import ae

    root = tmp_path / "pretrained"
    root.mkdir()
    for folder in tiny_root.iterdir():
        if not folder.name.startswith("vqvae"):
            (root / folder.name).symlink_to(folder)
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    clear_caches()
    off = vq.open_tab(None)
    assert off["status"]["visible"] is True and "vqvae-mnist" in off["status"]["value"]
    assert "train_vqvae.py" in off["status"]["value"]
    assert all(off[name]["interactive"] is False for name in ("encode_run", "sample_run", "reset", "decode_run"))
    assert ae.open_tab(None)["status"]["visible"] is False  # the other tabs work
    with pytest.raises(gr.Error, match="vqvae-mnist"):
        vq.vqvae_decode(json.dumps([[0] * 7] * 7))
    # only the prior missing: the tab works, sampling is disabled and says why
    (root / "vqvae-mnist").symlink_to(tiny_root / "vqvae-mnist")
    clear_caches()
    half = vq.open_tab(None)
    assert "vqvae-mnist-prior" in half["status"]["value"] and "train_vqvae_prior.py" in half["status"]["value"]
    assert half["sample_run"]["interactive"] is False and half["encode_run"]["interactive"] is True
    assert isinstance(half["code_map"], PIL.Image.Image)
    clear_caches()


# --- the apis through gradio_client -------------------------------------------------------------------------------

def test_apis_of_the_tab_alone(tiny_models):
    from gradio_client import Client

    from demos.i18n import make_i18n
    from demos.kit import Page

    demo = vq.create_demo(Page(vq.TAB))
    demo.launch(prevent_thread_lock=True, quiet=True, i18n=make_i18n([vq.TAB]), max_file_size="10mb")
    try:
        client = Client(demo.local_url, verbose=False, download_files=False)
        apis = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert set(apis) == {"/vqvae_encode", "/vqvae_decode", "/vqvae_sample"}
        picture, recon, codes = client.predict(editor(MNIST_EXAMPLES / "2_0001.png"), api_name="/vqvae_encode")
        assert picture and recon and vq.parse_codes(codes, TINY_K).shape == (7, 7)
        digit = client.predict(codes, api_name="/vqvae_decode")
        assert digit
        with pytest.raises(Exception, match="Row 1, column 1"):
            client.predict(json.dumps([[TINY_K] * 7] * 7), api_name="/vqvae_decode")
        ja = Client(demo.local_url, headers={"Accept-Language": "ja"}, verbose=False, download_files=False)
        with pytest.raises(Exception, match="正しい JSON ではありません"):
            ja.predict("[[1, 2", api_name="/vqvae_decode")
        picture, gallery, *_rest = client.predict(5, 1, 0.8, api_name="/vqvae_sample")
        assert picture and len(gallery) == 5 and all(item["image"] for item in gallery)
        fixed = client.predict(3, 1, 1.0, "4", api_name="/vqvae_sample")[1]
        assert [item["caption"] for item in fixed] == ["class 4"] * 3
        with pytest.raises(Exception):
            client.predict(65, 1, 1.0, api_name="/vqvae_sample")
    finally:
        demo.close()
