"""Bad input never takes the app down: every image input of every tab, fed through the API with files of
all kinds, and generated inputs (hypothesis) fed to the handlers. Each gives a result or a clear gr.Error,
and the app keeps serving."""

import io

import gradio as gr
import numpy as np
import PIL.Image
import pytest
from gradio_client import handle_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demos import ae, vae
from demos.image_input import image_to_digit
from tests.conftest import drawing, editor

MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]


def encode(img: PIL.Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def image_files() -> dict[str, bytes | None]:
    """name -> file content (None: the content is stored under "_bytes_" + name; see must_be_refused)."""
    stroke = drawing(mode="RGBA", background=(255, 255, 255, 255))
    grey16 = PIL.Image.fromarray(np.array(drawing(mode="L"), dtype=np.uint16) * 257)
    frames = [drawing(mode="RGBA", background=(255, 255, 255, 255)).convert("P"), PIL.Image.new("P", (280, 280), 255)]
    anim = io.BytesIO()
    frames[0].save(anim, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    png = encode(stroke, "PNG")
    return {
        "digit.png": png,
        "digit.jpg": encode(stroke.convert("RGB"), "JPEG"),
        "digit.webp": encode(stroke, "WEBP"),
        "animated.gif": anim.getvalue(),
        "transparent.png": encode(drawing(mode="RGBA"), "PNG"),
        "grey_alpha.png": encode(drawing(mode="RGBA").convert("LA"), "PNG"),
        "palette.png": encode(stroke.convert("P"), "PNG"),
        "sixteen_bit.png": encode(grey16, "PNG"),
        "cmyk.jpg": encode(stroke.convert("RGB").convert("CMYK"), "JPEG"),
        "huge.png": encode(drawing(size=10_000, mode="L"), "PNG", compress_level=1),  # 100 Mpx: refused, undecoded
        "large.jpg": encode(drawing(size=6_000, mode="L"), "JPEG"),  # 36 Mpx: decoded at 1/4 by the JPEG decoder
        "one_pixel.png": None,  # a single white pixel: nothing drawn (None: the content is under "_bytes_" + name)
        "empty_sketch.png": None,  # a transparent canvas
        "truncated.png": None,
        "text_renamed.png": None,
        "zero_bytes.png": None,
    } | {
        "_bytes_one_pixel.png": encode(PIL.Image.new("RGB", (1, 1), "white"), "PNG"),
        "_bytes_empty_sketch.png": encode(PIL.Image.new("RGBA", (280, 280)), "PNG"),
        "_bytes_truncated.png": png[: len(png) // 2],
        "_bytes_text_renamed.png": "これは画像ではありません / not an image".encode(),
        "_bytes_zero_bytes.png": b"",
    }


IMAGE_COMPONENTS = {"Sketchpad", "ImageEditor", "Image"}


def public_apis(client) -> dict[str, list[dict]]:
    """Every public api of the launched app and its parameters (so tabs added later are covered too)."""
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    return {name: e["parameters"] for name, e in endpoints.items()}


def image_payload(component: str, path):
    return editor(path) if component in ("Sketchpad", "ImageEditor") else handle_file(str(path))


def call_with(client, api, params, good_image, **override):
    """Call ``api`` with every parameter at its default (images: ``good_image``) except those in ``override``."""
    args = []
    for p in params:
        name = p["parameter_name"]
        if name in override:
            args.append(override[name])
        elif p["component"] in IMAGE_COMPONENTS:
            args.append(image_payload(p["component"], good_image))
        else:
            args.append(p["parameter_default"])
    return client.predict(*args, api_name=api)


def must_be_refused(name: str, component: str) -> bool:
    """Broken files always, and images too large (demos/image_input.py: MAX_IMAGE_PIXELS, MAX_DECODE_PIXELS); a blank
    image only where a drawing is expected (a blank photo is still a photo, but a 1x1 one is too small to work on)."""
    if name in ("truncated.png", "text_renamed.png", "zero_bytes.png", "one_pixel.png", "huge.png"):
        return True
    return name == "empty_sketch.png" and component in ("Sketchpad", "ImageEditor")


def check_every_image_input(client, tmp_path, expected_inputs: int, settings: dict | None = None):
    """Feed every file of ``image_files`` to every image input of every public api of ``client``'s app
    (``settings``: values for other parameters, e.g. to keep heavy work small)."""
    settings = settings or {}
    files = image_files()
    for name, content in files.items():
        if not name.startswith("_bytes_"):
            (tmp_path / name).write_bytes(content if content is not None else files["_bytes_" + name])
    good = tmp_path / "digit.png"
    apis = public_apis(client)
    image_params = [(api, p) for api, params in apis.items() for p in params if p["component"] in IMAGE_COMPONENTS]
    assert len(image_params) >= expected_inputs
    for api, p in image_params:
        for name, content in files.items():
            if name.startswith("_bytes_"):
                continue
            params = {k: v for k, v in settings.items() if any(q["parameter_name"] == k for q in apis[api])}
            bad = {**params, p["parameter_name"]: image_payload(p["component"], tmp_path / name)}
            if not must_be_refused(name, p["component"]):
                assert call_with(client, api, apis[api], good, **bad), (api, name)
            else:
                with pytest.raises(Exception) as err:
                    call_with(client, api, apis[api], good, **bad)
                message = str(err.value)
                assert "image" in message or "empty" in message or "small" in message, (
                    api, p["parameter_name"], name, message)
    return apis, good


# Settings that keep the heavy tabs' work small (a dream of one octave, a few diffusion steps); every other
# parameter keeps its default. The inputs under test are checked before any of this work starts anyway.
SMALL = {"resolution": 64, "octaves": 1, "iterations": 1, "frames": 2, "steps": 10, "n": 2, "futures": 2, "every": 5}


def test_every_image_input_of_every_api(tiny_models, launched, tmp_path):
    client = launched(tiny_models)
    # AE, VAE encode, VAE interpolate A/B, pix2pix sketch and photo, CycleGAN, CartoonGAN ×2, DeepDream photo + guide,
    # DeepDream zoom, DDPM forward
    apis, good = check_every_image_input(client, tmp_path, expected_inputs=13, settings=SMALL)
    assert call_with(client, "/vae_decode", apis["/vae_decode"], good)  # and the app still answers


def small(params) -> dict:
    """The SMALL settings that ``params`` (one api's parameters) has."""
    return {k: v for k, v in SMALL.items() if any(q["parameter_name"] == k for q in params)}


def test_out_of_range_values_of_every_api(tiny_models, launched, tmp_path):
    client = launched(tiny_models)
    good = tmp_path / "digit.png"
    drawing(mode="L").save(good)
    apis = public_apis(client)
    checked = 0
    for api, params in apis.items():
        for p in params:
            if p["component"] in ("Slider", "Number"):
                for value in (1e12, -1e12, float("nan")):
                    with pytest.raises(Exception):
                        call_with(client, api, params, good, **{**small(params), p["parameter_name"]: value})
                checked += 1
            if p["component"] == "Radio":
                with pytest.raises(Exception):
                    call_with(client, api, params, good, **{**small(params), p["parameter_name"]: "not-a-choice"})
                checked += 1
        assert call_with(client, api, params, good, **small(params))  # valid values still work afterwards
    assert checked >= 40


images = st.builds(
    lambda mode, w, h, seed, strokes: _random_image(mode, w, h, seed, strokes),
    st.sampled_from(MODES), st.integers(1, 96), st.integers(1, 96), st.integers(0, 2**16), st.integers(0, 4),
)


def _random_image(mode, w, h, seed, strokes):
    rng = np.random.default_rng(seed)
    img = PIL.Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) if strokes == 0 else \
        PIL.Image.new("RGB", (w, h), "white")
    if strokes:
        from PIL import ImageDraw

        draw = ImageDraw.Draw(img)
        for _ in range(strokes):
            draw.line([tuple(rng.integers(0, max(w, h), 2)), tuple(rng.integers(0, max(w, h), 2))], fill=0,
                      width=int(rng.integers(1, 6)))
    return img.convert(mode)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(img=images)
def test_any_image_becomes_a_digit_or_a_clear_error(img):
    try:
        x = image_to_digit(img)
    except gr.Error as err:
        assert err.message
        return
    assert x.shape == (1, 1, 28, 28) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sigma=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3), st.none()),
       seed=st.one_of(st.integers(), st.floats(allow_nan=True), st.text(max_size=3), st.none()),
       kind=st.sampled_from(["gaussian", "salt_pepper", "mask", "", "GAUSSIAN"]))
def test_any_settings_give_a_result_or_a_clear_error(tiny_models, mnist_digit, sigma, seed, kind):
    try:
        out = ae.ae_denoise(mnist_digit, kind, sigma, 0.2, 0.5, seed)
    except gr.Error as err:
        assert err.message
        return
    assert len(out) == 7


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(z1=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3)),
       z2=st.floats(-100, 100), frames=st.one_of(st.integers(-5, 100), st.floats(allow_nan=True)))
def test_any_vae_values_give_a_result_or_a_clear_error(tiny_models, mnist_digit, z1, z2, frames):
    for call in (lambda: vae.vae_decode(z1, z2),
                 lambda: vae.vae_interpolate(mnist_digit, mnist_digit, frames, "linear")):
        try:
            call()
        except gr.Error as err:
            assert err.message
