"""Whatever a student gives us becomes an MNIST-like digit, or a clear error in their language."""

import io

import gradio as gr
import numpy as np
import PIL.Image
import pytest
from gradio.components.image_editor import EditorData
from gradio.data_classes import FileData

from demos.i18n import Refused
from demos.image_input import MAX_SIDE, DigitCanvas, image_to_digit, ink_map, mnist_normalize
from tests.conftest import drawing


class FakeRequest:
    def __init__(self, lang):
        self.headers = {"accept-language": lang}


def assert_digit_like(x):
    assert x.shape == (1, 1, 28, 28)
    arr = x[0, 0].numpy()
    assert arr.max() > 0.5 and arr[0].max() < 0.05 and arr[:, 0].max() < 0.05  # ink in the middle, black border
    ys, xs = np.nonzero(arr > 0.2)
    assert 9 <= ys.mean() <= 19 and 9 <= xs.mean() <= 19  # centred like MNIST


@pytest.mark.parametrize("make", [
    lambda: drawing(mode="RGBA"),                                             # black strokes on transparent canvas
    lambda: drawing(mode="RGBA", background=(255, 255, 255, 255)),            # black on opaque white
    lambda: drawing(mode="RGBA", ink=(255, 255, 255, 255)),                   # white strokes on transparent
    lambda: drawing(mode="L"),                                                # greyscale scan, dark on light
    lambda: drawing(mode="RGBA").convert("LA"),                               # grey + alpha
    lambda: drawing(mode="RGBA", background=(255, 255, 255, 255)).convert("P"),  # palette
    lambda: drawing(mode="RGBA", background=(255, 255, 255, 255)).convert("RGB").convert("CMYK"),
    lambda: PIL.Image.fromarray((np.array(drawing(mode="L"), dtype=np.uint16) * 257)),  # 16-bit grey
    lambda: PIL.Image.fromarray(255 - np.array(drawing(mode="L"))),           # white on black, like MNIST
])
def test_all_kinds_of_images_become_centred_digits(make):
    assert_digit_like(image_to_digit(make()))


def test_float_images_with_nan_and_inf_are_read_as_finite_grey():
    from demos.image_input import photo_to_tensor, to_float_array

    arr = np.array(drawing(mode="L"), dtype=np.float32)
    arr[:3] = np.nan
    arr[3:5] = np.inf
    arr[5:7] = -np.inf
    img = PIL.Image.fromarray(arr)  # mode F
    grey, alpha = to_float_array(img)
    assert alpha is None and np.isfinite(grey).all() and grey.min() >= 0 and grey.max() <= 1
    assert grey[:3].max() == 0 and grey[3:5].min() == 1 and grey[5:7].max() == 0
    x = photo_to_tensor(PIL.Image.fromarray(np.full((40, 40), np.nan, np.float32)), 64)
    assert x.shape == (1, 3, 40, 40) and bool(x.isfinite().all())


def test_sketchpad_dict_and_numpy_are_accepted():
    img = drawing(mode="RGBA")
    assert_digit_like(image_to_digit({"background": None, "layers": [], "composite": img}))
    assert_digit_like(image_to_digit(np.array(img)))


def test_real_mnist_digit_passes_unchanged(mnist_digit):
    x = image_to_digit(mnist_digit)
    assert np.allclose(x[0, 0].numpy() * 255, np.array(mnist_digit), atol=0.5)


@pytest.mark.parametrize("lang,word", [("ja-JP,ja;q=0.9", "空"), ("en-US,en;q=0.9", "empty")])
def test_empty_sketch_is_a_clear_error_in_the_users_language(lang, word):
    """The language comes from the event's request, as ``Page.on`` wires it (demos/kit.py: event_handler)."""
    from demos.kit import event_handler

    handler = event_handler(image_to_digit)
    blank = PIL.Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    with pytest.raises(gr.Error) as err:
        handler({"background": None, "layers": [], "composite": blank}, "", FakeRequest(lang))
    assert word in err.value.message
    with pytest.raises(gr.Error):
        handler(PIL.Image.new("RGB", (50, 50), "white"), "", FakeRequest(lang))
    with pytest.raises(gr.Error):
        handler(None, "", FakeRequest(lang))


def test_tiny_and_huge_images(monkeypatch):
    warnings = []
    monkeypatch.setattr(gr, "Warning", lambda msg, *a, **k: warnings.append(msg))
    with pytest.raises(gr.Error):
        image_to_digit(PIL.Image.new("L", (1, 1), 255))
    assert_digit_like(image_to_digit(drawing(size=40, mode="L")))  # a small drawing is enlarged
    huge = drawing(size=4000, mode="L")
    assert_digit_like(image_to_digit(huge))
    assert warnings and "4000" in warnings[0] and str(MAX_SIDE) in warnings[0]


def test_normalisation_keeps_aspect_ratio():
    ink = np.zeros((200, 100), dtype=np.float32)
    ink[20:180, 40:60] = 1.0  # a tall bar, like a 1
    out = mnist_normalize(ink)
    ys, xs = np.nonzero(out > 0.5)
    assert ys.max() - ys.min() + 1 >= 18 and xs.max() - xs.min() + 1 <= 5


def test_ink_map_polarity():
    white_bg = np.array(drawing(mode="L"), dtype=np.float32) / 255
    assert ink_map(PIL.Image.fromarray((white_bg * 255).astype(np.uint8)))[0, 0] == 0.0


def _upload(tmp_path, name: str, data: bytes) -> EditorData:
    path = tmp_path / name
    path.write_bytes(data)
    return EditorData(background=FileData(path=str(path), orig_name=name), layers=[],
                      composite=FileData(path=str(path), orig_name=name))


@pytest.mark.parametrize("name,data", [
    ("notes.png", b"this is a text file, renamed"),
    ("broken.png", None),  # a PNG cut in half
])
def test_unreadable_uploads_are_a_clear_error(tmp_path, name, data):
    if data is None:
        buf = io.BytesIO()
        drawing(mode="L").save(buf, format="PNG")
        data = buf.getvalue()[:200]
    canvas = DigitCanvas(type="pil", image_mode="RGBA", render=False)
    refused = canvas.preprocess(_upload(tmp_path, name, data))  # said by the event, in the student's language
    assert isinstance(refused, Refused)
    assert "画像" in refused.text.render("ja") and "image" in refused.text.render("en")


def test_canvas_is_rendered_by_the_image_editor_frontend():
    assert DigitCanvas(render=False).get_block_name() == "imageeditor"


def test_inputs_are_described_as_the_components_they_extend():
    from demos.image_input import PhotoInput

    assert DigitCanvas(render=False).get_block_class() == "sketchpad"
    assert PhotoInput(render=False).get_block_name() == PhotoInput(render=False).get_block_class() == "image"



def test_an_unreadable_photo_is_refused_as_soon_as_it_is_uploaded(tmp_path):
    """The photo tabs say at once that an uploaded file is not an image (``wire_photo``), in the student's language,
    not only when their button is pressed; a readable photo passes silently."""
    from gradio.data_classes import ImageData

    from demos import cyclegan
    from demos.image_input import photo_input, wire_photo
    from demos.kit import Page

    with gr.Blocks() as demo:
        photo = photo_input("photo")
        wire_photo(Page(cyclegan.TAB), photo)
    uploaded = [dep for dep in demo.fns.values() if (photo._id, "upload") in [tuple(t) for t in dep.targets]]
    assert len(uploaded) == 1
    handler = uploaded[0].fn
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is a text file, renamed")
    refused = photo.preprocess(ImageData(path=str(bad), orig_name="notes.png"))
    with pytest.raises(gr.Error, match="画像"):
        handler(refused, FakeRequest("ja"))
    with pytest.raises(gr.Error, match="could not be read as an image"):
        handler(refused, FakeRequest("en"))
    good = tmp_path / "photo.png"
    PIL.Image.new("RGB", (40, 30), "tan").save(good)
    assert handler(photo.preprocess(ImageData(path=str(good), orig_name="photo.png")), FakeRequest("en")) is None
