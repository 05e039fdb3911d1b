"""Turning whatever a student gives us (a drawing, a photo, a scan, a 16-bit PNG, ...) into a
28x28 MNIST-style digit, with clear errors for what cannot be used.

MNIST digits are white ink on black, size-normalised to fit a 20x20 box and centred by their
centre of mass in a 28x28 frame (LeCun et al., 1998). A drawing on the gallery's canvas is
dark ink on a light (or transparent) background, so we detect the polarity, crop to the ink,
scale and centre it the same way; otherwise the models would see something unlike anything
they were trained on.
"""

from pathlib import Path

import gradio as gr
import numpy as np
import PIL.Image
import torch

from demos.i18n import COMMON
from models.imaging import to_pil

EXAMPLE_PHOTOS = Path(__file__).parent / "examples" / "photos"
# Images whose longer side is above this are shrunk first (with a notice): the models only need 28 px.
MAX_SIDE = 1024
# Refuse to decode anything above this many pixels (decompression bombs).
PIL.Image.MAX_IMAGE_PIXELS = 120_000_000


class ClearDecodeErrors:
    """Mixed into an image component: its decoding errors reach the student as a clear message.

    Gradio decodes uploads before our handlers run; a broken file would otherwise end in an
    anonymous "Error". (That step cannot see the browser's language, so the message is in both.)
    """

    def preprocess(self, payload):
        try:
            return super().preprocess(payload)
        except (PIL.UnidentifiedImageError, PIL.Image.DecompressionBombError, OSError, ValueError, SyntaxError) as err:
            unreadable = COMMON.phrase("err.unreadable")
            raise gr.Error(f"{unreadable.render('ja')} / {unreadable.render('en')} ({type(err).__name__})") from err


class DigitCanvas(ClearDecodeErrors, gr.Sketchpad):
    """A sketchpad that also accepts uploads (see ``digit_canvas``)."""

    def get_block_name(self) -> str:  # rendered by the same front-end component as gr.Sketchpad
        return "imageeditor"

    def get_block_class(self) -> str:  # and described as a Sketchpad in the api info
        return "sketchpad"


class PhotoInput(ClearDecodeErrors, gr.Image):
    """An image upload (or webcam, or paste) for the photo tabs."""

    def get_block_name(self) -> str:
        return "image"

    def get_block_class(self) -> str:
        return "image"


def digit_canvas(label, **kwargs) -> DigitCanvas:
    """The gallery's standard digit input: draw with a thick black brush, or upload / paste an image."""
    return DigitCanvas(
        label=label,
        type="pil",
        image_mode="RGBA",
        sources=("upload", "clipboard"),
        canvas_size=(280, 280),
        brush=gr.Brush(default_size=22, colors=["#000000"], color_mode="fixed"),
        layers=False,
        transforms=(),
        **kwargs,
    )


def photo_input(label, **kwargs) -> PhotoInput:
    """The gallery's standard photo input: upload, webcam or paste; given to handlers as a PIL image."""
    return PhotoInput(label=label, type="pil", image_mode=None, sources=("upload", "webcam", "clipboard"), **kwargs)


def photo_input_with_examples(label, examples_label, **kwargs) -> PhotoInput:
    """``photo_input`` with scikit-image's example photos (``examples/photos``) to pick from, below it."""
    photo = photo_input(label, **kwargs)
    gr.Examples([[str(p)] for p in sorted(EXAMPLE_PHOTOS.glob("*.jpg"))], inputs=[photo], label=examples_label)
    return photo


def photo_to_tensor(img, max_side: int, what: str = "") -> torch.Tensor:
    """Any PIL image -> (1, 3, H, W) RGB tensor in [0, 1], its longer side at most ``max_side`` (aspect kept).

    Transparency is flattened on white; 16-bit, palette, CMYK, grey images become RGB. Images larger than
    ``MAX_SIDE`` are announced with a notice (they are shrunk anyway)."""
    if isinstance(img, np.ndarray):
        img = PIL.Image.fromarray(img)
    if img is None or not isinstance(img, PIL.Image.Image):
        raise COMMON.problem("err.no_photo", what=what)
    if max(img.size) > MAX_SIDE:
        gr.Warning(COMMON.text("warn.downscaled", w=img.size[0], h=img.size[1], side=max_side))
    if img.mode.startswith("I") or img.mode == "F":
        grey, _alpha = to_float_array(img)
        img = PIL.Image.fromarray((grey * 255).round().astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA", "P") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        img = PIL.Image.alpha_composite(PIL.Image.new("RGBA", rgba.size, "white"), rgba)
    img = img.convert("RGB")
    scale = max_side / max(img.size)
    if scale < 1:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), PIL.Image.LANCZOS)
    if min(img.size) < 8:
        raise COMMON.problem("err.too_small", w=img.size[0], h=img.size[1])
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()


def tensor_to_pil(x: torch.Tensor) -> PIL.Image.Image:
    """(1, 3, H, W) tensor in [0, 1] -> RGB PIL image."""
    return to_pil(x)


def composite_of(value):
    """The flattened image of a sketchpad value (dict with 'composite'), or the image itself."""
    if isinstance(value, dict):
        return value.get("composite") if value.get("composite") is not None else value.get("background")
    return value


def to_float_array(img: PIL.Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Grey levels in [0, 1] (H, W) and the alpha channel in [0, 1] if any, for any PIL mode
    (1, L, LA, P, RGB, RGBA, CMYK, I;16, I, F, ...)."""
    alpha = None
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
        grey = np.asarray(rgba.convert("L"), dtype=np.float32) / 255.0
    elif img.mode.startswith("I") or img.mode == "F":  # 16- or 32-bit grey
        arr = np.asarray(img, dtype=np.float32)
        hi = 65535.0 if arr.max(initial=0) > 255 else 255.0
        grey = np.clip(arr / hi, 0.0, 1.0)
    else:
        grey = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    return grey, alpha


def ink_map(img: PIL.Image.Image) -> np.ndarray:
    """Ink intensity in [0, 1] (H, W): 1 where there is a stroke, 0 on the background, whatever the polarity."""
    grey, alpha = to_float_array(img)
    if alpha is not None and alpha.min() < 0.99:
        opaque = alpha > 0.5
        if not opaque.any():
            return np.zeros_like(grey)
        # Transparent background: the ink is where it is opaque and differs from the background colour.
        light_strokes = grey[opaque].mean() > 0.5
        return alpha * (grey if light_strokes else 1.0 - grey)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1.0 - grey if np.median(border) > 0.5 else grey


def mnist_normalize(ink: np.ndarray) -> np.ndarray | None:
    """Crop to the ink, fit it in a 20x20 box (aspect kept), centre its mass in 28x28. None if there is no ink."""
    if ink.shape == (28, 28):
        return ink.astype(np.float32) if ink.max() > 0.1 else None
    ys, xs = np.nonzero(ink > 0.2 * max(ink.max(), 1e-6))
    if ink.max() < 0.1 or len(ys) == 0:
        return None
    crop = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.asarray(PIL.Image.fromarray((crop * 255).astype(np.uint8)).resize((nw, nh), PIL.Image.LANCZOS),
                       dtype=np.float32) / 255.0
    small = np.clip(small, 0.0, 1.0)
    total = small.sum()
    if total <= 0:
        return None
    cy = (small.sum(axis=1) * np.arange(nh)).sum() / total
    cx = (small.sum(axis=0) * np.arange(nw)).sum() / total
    top = int(np.clip(round(14 - cy), 0, 28 - nh))
    left = int(np.clip(round(14 - cx), 0, 28 - nw))
    out = np.zeros((28, 28), dtype=np.float32)
    out[top:top + nh, left:left + nw] = small
    return out


def image_to_digit(value, what: str = "") -> torch.Tensor:
    """Sketchpad value / PIL image / array -> (1, 1, 28, 28) tensor in [0, 1],
    or a Problem (shown in the student's language)."""
    img = composite_of(value)
    if img is None:
        raise COMMON.problem("err.no_image", what=what)
    if isinstance(img, np.ndarray):
        img = PIL.Image.fromarray(img)
    if not isinstance(img, PIL.Image.Image):
        raise COMMON.problem("err.unreadable")
    if min(img.size) < 1:
        raise COMMON.problem("err.unreadable")
    if max(img.size) > MAX_SIDE:
        gr.Warning(COMMON.text("warn.downscaled", w=img.size[0], h=img.size[1], side=MAX_SIDE))
        img = img.copy()
        img.thumbnail((MAX_SIDE, MAX_SIDE))
    digit = mnist_normalize(ink_map(img))
    if digit is None:
        raise COMMON.problem("err.empty", what=what)
    return torch.from_numpy(digit)[None, None]

