""""Save as slide" (demos/slide.py, Page.slide_button in demos/kit.py): a 1920×1080 PNG with real Japanese glyphs,
pixel-exact small images, the equation, and the button working in a launched app in both languages."""

import importlib
import json
import logging
import pkgutil
import uuid
from pathlib import Path

import gradio as gr
import httpx
import numpy as np
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont
import pytest
from gradio.components.gallery import GalleryData, GalleryImage
from gradio.data_classes import ImageData

from demos import controls, slide
from demos.i18n import COMMON, language, make_i18n
from demos.kit import Page, Tab, generated_folder

ROOT = Path(__file__).resolve().parent.parent
MNIST = ROOT / "demos" / "examples" / "mnist"
WHITE = (255, 255, 255)


def slide_of(**kwargs) -> PIL.Image.Image:
    args = {"title": "", "caption": "", "equation": "", "images": [], "settings": []} | kwargs
    return slide.render_slide(**args)


def ink(image: PIL.Image.Image, box=None) -> int:
    """How many pixels of ``box`` are dark (text, formulas)."""
    pixels = np.asarray(image.crop(box) if box else image).astype(int)
    return int((pixels.sum(axis=2) < 300).sum())


# --- Fonts -----------------------------------------------------------------------------------------------------

def test_the_fonts_are_committed_small_and_licensed():
    fonts = [slide.REGULAR, slide.BOLD]
    assert all(font.is_file() for font in fonts)
    assert sum(font.stat().st_size for font in fonts) <= 3_000_000
    assert "SIL OPEN FONT LICENSE Version 1.1" in (slide.FONTS / "OFL.txt").read_text(encoding="utf-8")


def test_japanese_is_drawn_with_real_glyphs():
    title = "生成モデル・ギャラリー"
    assert set(title) <= slide.font_characters(slide.REGULAR) and set(title) <= slide.font_characters(slide.BOLD)
    glyphs = []
    for c in "生成モデル":
        picture = PIL.Image.new("RGB", (120, 120), "white")
        slide.Writer(PIL.ImageDraw.Draw(picture), 80).write(10, 0, c)
        glyphs.append(np.asarray(picture))
    # a font without Japanese draws the same box (.notdef) for every character; real glyphs all differ
    assert all(ink(PIL.Image.fromarray(g)) > 100 for g in glyphs)
    assert len({g.tobytes() for g in glyphs}) == len(glyphs)
    tofu = PIL.Image.new("RGB", (120, 120), "white")
    PIL.ImageDraw.Draw(tofu).text((10, 0), "生", font=PIL.ImageFont.truetype(str(slide.FALLBACK[slide.REGULAR]), 80),
                                   fill="black")
    assert not np.array_equal(np.asarray(tofu), glyphs[0])


def app_japanese_text() -> dict[str, str]:
    """Every Japanese string of the app: each Strings table of demos/ (the tabs' strings, COMMON, ...), the Japanese
    explanations and ImageNet class names."""
    import app  # noqa: F401  (every tab registers its strings)
    import demos
    from demos import i18n

    for module in pkgutil.iter_modules(demos.__path__):
        importlib.import_module(f"demos.{module.name}")
    texts = {strings.key(name): templates["ja"] for strings in i18n._ALL_STRINGS
             for name, templates in strings.table.items() if "ja" in templates}
    for path in (ROOT / "demos" / "explanations").glob("*.ja.md"):
        texts[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    classes = ROOT / "pretrained" / "efficientnet-lite0" / "imagenet_classes.ja.json"
    if classes.is_file():
        texts[str(classes.relative_to(ROOT))] = json.dumps(json.loads(classes.read_text(encoding="utf-8")),
                                                          ensure_ascii=False)
    return texts


def is_emoji(c: str) -> bool:
    return ord(c) >= 0x1F000  # pictographs: no font of the slides has them, they are left out


def test_every_japanese_string_of_the_app_is_covered_by_the_fonts():
    texts = app_japanese_text()
    assert len(texts) > 100 and any("生成モデル" in t for t in texts.values())
    missing = {key: "".join(sorted(c for c in slide.missing_characters(text) | slide.missing_characters(text, True)
                                   if not is_emoji(c)))
               for key, text in texts.items()}
    missing = {key: chars for key, chars in missing.items() if chars}
    assert not missing, (f"characters missing from demos/fonts/*.otf: {''.join(sorted(set(''.join(missing.values()))))}"
                         f" (in {sorted(missing)[:10]}); run `python demos/fonts/make_subset.py` again")


def test_characters_no_font_has_are_left_out():
    picture = PIL.Image.new("RGB", (400, 100), "white")
    writer = slide.Writer(PIL.ImageDraw.Draw(picture), 40)
    assert writer.width("🔗 リンク") == writer.width(" リンク")
    assert "".join(piece for _, piece in writer.runs("x̂₀ と ᾱ")) == "x̂₀ と ᾱ"  # Noto and DejaVu Sans share it


# --- Layout ----------------------------------------------------------------------------------------------------

def test_a_slide_is_1920_by_1080_rgb_with_a_large_title():
    digits = [PIL.Image.open(path) for path in sorted(MNIST.glob("*.png"))[:3]]
    with language("ja"):
        picture = slide_of(title="AE によるノイズ除去", caption="説明文", equation=r"x = y",
                           images=[(f"画像 {i}", d) for i, d in enumerate(digits)], settings=[("シード", "0")])
    assert picture.size == (1920, 1080) and picture.mode == "RGB"
    assert picture.getpixel((5, 5)) == WHITE  # white background, generous margins
    rows = np.nonzero(np.asarray(picture.crop((0, 0, 1920, 200))).sum(axis=2).min(axis=1) < 300)[0]
    assert rows.max() - rows.min() >= 40  # the title's ink is taller than 40 px (64 px type)


def test_small_images_are_enlarged_pixel_for_pixel():
    rng = np.random.default_rng(0)
    digit = rng.integers(0, 255, (28, 28, 3), dtype=np.uint8)
    picture = np.asarray(slide_of(images=[("", PIL.Image.fromarray(digit))]))
    ys, xs = np.nonzero((picture[200:] != 255).any(axis=2))  # below the title's accent bar
    top, left = ys.min() + 200 + 1, xs.min() + 1  # inside the 1-px frame
    side = ys.max() + 200 - top
    assert side % 28 == 0 and side // 28 >= 10  # as large as fits, by a whole factor
    k = side // 28
    shown = picture[top:top + side, left:left + side]
    assert np.array_equal(shown, np.kron(digit, np.ones((k, k, 1), dtype=np.uint8)))  # equal square blocks


def test_photos_are_resized_smoothly_and_galleries_laid_out_in_a_grid():
    assert slide.shown_size((28, 28), (300, 300)) == (280, 280)
    assert slide.shown_size((640, 480), (300, 300)) == (300, 225)
    black_and_white = np.random.default_rng(0).choice([0, 255], (200, 200)).astype(np.uint8)
    photo = PIL.Image.fromarray(black_and_white)  # larger than 128 px: a photo
    assert len(np.unique(np.asarray(slide.enlarge(photo, (700, 700))))) > 2  # interpolated (greys), not repeated
    digit = PIL.Image.fromarray(black_and_white[:28, :28])
    assert set(np.unique(np.asarray(slide.enlarge(digit, (280, 280))))) == {0, 255}  # pixels repeated
    assert slide.grid_columns([(64, 64)] * 16, (1200, 600), 0, 16) in (4, 8)
    assert slide.grid_columns([(28, 28)] * 3, (1200, 600), 40, 24) == 3


def test_long_captions_wrap_and_long_settings_are_cut():
    caption = "A long caption that goes on and on about what the model does. " * 12
    settings = [(f"setting {i}", "a value " * 20) for i in range(40)]
    with language("en"):
        picture = slide_of(title="T", caption=caption, images=[("x", PIL.Image.new("L", (28, 28), 128))],
                           settings=settings)
    draw = PIL.ImageDraw.Draw(picture)
    lines = slide.Writer(draw, slide.CAPTION_PX).wrap(caption, 1728, slide.CAPTION_LINES)
    assert len(lines) == slide.CAPTION_LINES and lines[-1].endswith("…")
    assert all(slide.Writer(draw, slide.CAPTION_PX).width(line) <= 1728 for line in lines)
    ja = slide.Writer(draw, slide.CAPTION_PX).wrap("ノイズを加えた数字を元に戻します。" * 10, 800, 10)
    assert len(ja) > 1 and not any(line.startswith(("、", "。")) for line in ja)
    right = np.asarray(picture.crop((1920 - 90, 0, 1920, 1080)))
    assert (right == 255).all()  # nothing runs into the right margin


# --- The equation ----------------------------------------------------------------------------------------------

VAE = r"\mathcal{L} = \mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)] - D_{KL}(q_\phi(z|x)\,\|\,p(z))"
BAND = (0, 1080 - slide.BAND_HEIGHT + 8, 1920, 1080)


def test_the_equation_is_drawn_in_its_band():
    image = [("", PIL.Image.new("L", (28, 28), 220))]  # light: no ink of its own where the band would be
    assert ink(slide_of(images=image, equation=VAE), BAND) > 2000
    assert ink(slide_of(images=image, equation=""), BAND) == 0
    drawn = slide.render_equation(VAE)
    assert drawn.mode == "RGBA" and drawn.height >= 44 and drawn.width > 500


def test_katex_spellings_mathtext_lacks_are_translated():
    assert slide.mathtext(r"\lVert x \rVert \le \tfrac{1}{2}") == r"$\Vert x \Vert \leq \frac{1}{2}$"
    assert slide.mathtext(r"\left( x \right) \leftarrow") == r"$\left( x \right) \leftarrow$"
    assert slide.mathtext(r"損失 $L = x^2$") == r"損失 $L = x^2$"  # text with its own maths: as it is
    slide.render_equation(r"\lVert x \rVert_2 \ge \displaystyle\sum_i x_i")


def test_bad_tex_is_a_clear_error_or_drawn_as_its_source():
    with pytest.raises(ValueError, match=r"mathtext cannot draw the equation '\\\\frac\{a\}\{'"):
        slide.render_equation(r"\frac{a}{")
    picture = slide_of(images=[("", PIL.Image.new("L", (28, 28), 0))], equation=r"\frac{a}{")
    assert ink(picture, BAND) > 100  # the TeX source, as text


def tabs_with_equations():
    import app

    return [tab for tab in app.TABS if "slide_equation" in tab.strings.table]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_tabs_equation_renders(lang, caplog):
    for tab in tabs_with_equations():
        tex = tab.strings.table["slide_equation"][lang]
        with caplog.at_level(logging.WARNING, logger="matplotlib"):
            drawn = slide.render_equation(tex)  # raises for TeX that mathtext cannot parse
        assert ink(drawn.convert("RGB")) > 0 or np.asarray(drawn)[..., 3].max() > 0, tab.id
        boxes = [r.getMessage() for r in caplog.records if "dummy symbol" in r.getMessage()]
        assert not boxes, f"{tab.id}: mathtext draws a box for {boxes}"
        caplog.clear()


# --- Reading the tab's components --------------------------------------------------------------------------------

STRINGS = {
    "title": {"en": "Slide test", "ja": "スライドのテスト"},
    "slide_caption": {"en": "A digit and its settings.", "ja": "数字とその設定です。"},
    "slide_equation": {"en": r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon",
                       "ja": r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon"},
    "strength": {"en": "Strength", "ja": "強さ"},
    "result": {"en": "Result", "ja": "結果"},
    "gaussian": {"en": "Gaussian", "ja": "ガウス"},
    "samples": {"en": "Samples", "ja": "サンプル"},
}
TAB = Tab(id="slide_test", strings=STRINGS)


def test_label_and_setting_texts_are_in_the_events_language():
    radio = gr.Radio([(TAB.ui("gaussian"), "gaussian"), ("mask", "mask")], value="gaussian")
    multi = gr.Dropdown([(TAB.ui("gaussian"), "gaussian"), ("mask", "mask")], multiselect=True)
    with language("ja"):
        assert slide.label_text(TAB.ui("strength")) == "強さ"
        assert slide.setting_text(radio, "gaussian") == "ガウス"
        assert slide.setting_text(gr.Checkbox(), True) == COMMON.text("slide.yes") == "はい"
        assert slide.setting_text(multi, ["gaussian", "mask"]) == "ガウス, mask"
    with language("en"):
        assert slide.label_text(TAB.ui("strength")) == "Strength"
        assert slide.label_text("plain") == "plain" and slide.label_text(None) == ""
        assert slide.setting_text(radio, "gaussian") == "Gaussian"
        assert slide.setting_text(gr.Checkbox(), False) == "no"
        assert slide.setting_text(gr.Radio(["a", "b"], type="index"), 1) == "b"
    number = gr.Number()
    assert [slide.setting_text(number, v) for v in (7, 7.0, 0.123456, 2.5e-4, 12345.6, -1.5)] == [
        "7", "7", "0.123", "0.00025", "12346", "-1.5"]
    assert slide.setting_text(gr.Textbox(), "linear") == "linear"


def test_images_of_every_form_gradio_passes(tmp_path):
    path = str(tmp_path / "digit.png")
    PIL.Image.new("L", (28, 28)).save(path)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    array = np.zeros((28, 28, 3), dtype=np.uint8)
    assert slide.images_of(None) == [] and slide.images_of([]) == []
    assert slide.images_of(array)[0].size == (28, 28)
    assert slide.images_of(np.zeros((8, 8), dtype=np.float32))[0].mode == "L"
    assert slide.images_of(PIL.Image.new("RGB", (5, 5)))[0].size == (5, 5)
    assert slide.images_of(path)[0].size == (28, 28)
    gallery = slide.images_of([(path, None), (path, "caption"), (str(video), None), (array, None)])
    assert [image.size for image in gallery] == [(28, 28)] * 3  # the video is left out
    assert len(slide.images_of([path, PIL.Image.new("RGB", (5, 5))])) == 2
    data = GalleryData(root=[GalleryImage(image=ImageData(path=path), caption=None)])
    assert slide.images_of(data)[0].size == (28, 28)


def test_files_are_opened_with_the_header_check(tmp_path, monkeypatch):
    from demos import image_input

    monkeypatch.setattr(image_input, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(image_input.ImageTooLarge):
        slide.images_of(str(MNIST / "2_0001.png"))  # 784 px > 100: refused from the header


# --- The button in a launched app --------------------------------------------------------------------------------

@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    with gr.Blocks() as demo:
        strength = controls.Slider(0, 1, value=0.25, step=0.05, label=TAB.ui("strength"))
        result = gr.Image(value=str(MNIST / "2_0001.png"), label=TAB.ui("result"), interactive=False)
        samples = gr.Gallery(value=[str(MNIST / "3_0018.png"), (str(MNIST / "4_0004.png"), "4")],
                             label=TAB.ui("samples"))
        empty = gr.Image(label=TAB.ui("result"), interactive=False)
        page.slide_button([result, samples], [strength])
        page.slide_button([empty], [strength])
    return demo


def click(url: str, lang: str, nth: int) -> dict:
    """Press the ``nth`` slide button of the page as a browser does: read the page's config (the components'
    values), join the queue with the event's inputs, and read the result from the event stream."""
    headers = {"Accept-Language": lang}
    config = httpx.get(url + "config", headers=headers).json()
    values = {c["id"]: c["props"].get("value") for c in config["components"]}
    events = [(i, d) for i, d in enumerate(config["dependencies"]) if d["api_visibility"] == "private"]
    fn_index, event = events[nth]
    session = uuid.uuid4().hex
    body = {"data": [values[i] for i in event["inputs"]], "event_data": None, "fn_index": fn_index,
            "trigger_id": event["targets"][0][0], "session_hash": session}
    assert httpx.post(url + "gradio_api/queue/join", json=body, headers=headers).status_code == 200
    with httpx.stream("GET", url + "gradio_api/queue/data", params={"session_hash": session}, headers=headers,
                      timeout=120) as stream:
        for line in stream.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                return message["output"]
    raise AssertionError("the event never completed")


@pytest.fixture
def launched_tab():
    demo = TAB.build(Page(TAB))
    demo.launch(prevent_thread_lock=True, quiet=True, i18n=make_i18n([TAB]))
    yield demo.local_url
    demo.close()


def test_the_slide_button_makes_a_png_in_the_users_language(launched_tab):
    digits = [PIL.Image.open(MNIST / name) for name in ("2_0001.png", "3_0018.png", "4_0004.png")]
    for lang in ("ja", "en"):
        output = click(launched_tab, lang, 0)
        update = output["data"][0]
        path = Path(update["value"]["path"])
        assert update["visible"] and path.name == "slide_test-slide.png"
        assert generated_folder() in path.parents  # in Gradio's cache: served, then expired
        made = PIL.Image.open(path)
        assert made.format == "PNG" and made.size == (1920, 1080)
        with language(lang):  # the very slide of that language: title, caption, labels and settings translated
            expected = slide.render_slide(
                title=STRINGS["title"][lang], caption=STRINGS["slide_caption"][lang],
                equation=STRINGS["slide_equation"][lang],
                images=[(STRINGS["result"][lang], digits[0])] + [(STRINGS["samples"][lang], d) for d in digits[1:]],
                settings=[(STRINGS["strength"][lang], "0.25")])
        assert np.array_equal(np.asarray(made.convert("RGB")), np.asarray(expected))
    error = click(launched_tab, "ja", 1)  # a result not computed yet
    assert "スライドにする結果がまだありません" in str(error.get("error"))
