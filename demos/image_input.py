"""Turning whatever a student gives us (a drawing, a photo, a scan, a 16-bit PNG, ...) into a
28x28 MNIST-style digit, with clear errors for what cannot be used.

MNIST digits are white ink on black, size-normalised to fit a 20x20 box and centred by their
centre of mass in a 28x28 frame (LeCun et al., 1998). A drawing on the gallery's canvas is
dark ink on a light (or transparent) background, so we detect the polarity, crop to the ink,
scale and centre it the same way; otherwise the models would see something unlike anything
they were trained on.
"""

import base64
import io
import json
import math
import os
import re
import threading
import time
import urllib.parse
from pathlib import Path

import gradio as gr
import numpy as np
import PIL.Image
import PIL.ImageOps
import torch
from gradio import image_utils
from gradio.components.base import server
from gradio.data_classes import FileData

from demos.i18n import COMMON, Problem, Refused, Strings, Text, warn

EXAMPLE_PHOTOS = Path(__file__).parent / "examples" / "photos"
# Images whose longer side is above this are shrunk first (with a notice): the models only need 28 px.
MAX_SIDE = 1024


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# What an uploaded image may be (README, "Security and limits"; each has its environment variable). The size is read
# from the file's header before anything is decoded: a 250 KB PNG can declare 15000×15000 px, 900 MB once decoded.
# Largest image accepted, in pixels (width × height).
MAX_IMAGE_PIXELS = _env_int("GALLERY_MAX_IMAGE_PIXELS", 50_000_000)
# Largest image decoded at full size, in pixels. A larger baseline JPEG is decoded reduced by the JPEG decoder itself
# (1/2 to 1/8 of its side, never below MAX_SIDE); a larger image of another kind (PNG, WebP, GIF, progressive JPEG,
# which cannot be decoded reduced) is refused.
MAX_DECODE_PIXELS = _env_int("GALLERY_MAX_DECODE_PIXELS", 16_000_000)
# The image formats accepted (anything else, SVG or EPS included, is "not an image").
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")  # JPEG includes MPO (two-picture JPEGs)
# The drawing pad sends its images first (Gradio keeps them in memory until their event comes): at most this many
# bytes wait in all (the oldest are dropped), and at most this many layers per drawing.
MAX_PENDING_SKETCH_BYTES = _env_int("GALLERY_MAX_PENDING_SKETCH_BYTES", 64_000_000)
MAX_SKETCH_LAYERS = _env_int("GALLERY_MAX_SKETCH_LAYERS", 4)
# PIL's own check, for any image opened elsewhere: it warns above this and refuses at twice this.
PIL.Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# What one client (one address) may send to the app per time window, in bytes: every request body counts (uploads,
# the drawing pad's images, data: URLs, MCP calls). Beyond it the app answers 429 "try again in N s" until the
# window ends (``UploadBudget``).
UPLOAD_WINDOW_S = _env_int("GALLERY_UPLOAD_WINDOW_S", 600)
UPLOAD_BYTES_PER_WINDOW = _env_int("GALLERY_UPLOAD_BYTES_PER_WINDOW", 200_000_000)
# Largest request body other than a file upload (``/upload`` streams files to disk, each at most the app's
# max_file_size): JSON, data: URLs, the drawing pad's images, which Gradio reads into memory.
MAX_REQUEST_BYTES = _env_int("GALLERY_MAX_REQUEST_BYTES", 16_000_000)
# How many proxies in front of the app append the client's address to X-Forwarded-For (1 on a Hugging Face Space,
# which sets SPACE_ID): the client is the address the outermost one saw. 0: the connection's own address.
PROXY_HOPS = _env_int("GALLERY_PROXY_HOPS", 1 if os.environ.get("SPACE_ID") else 0)

# Gradio decodes uploads before any event can see the browser's language: these messages are shown in both.
STRINGS = Strings("image_input", {
    "too_large": {
        "en": "The image is too large{size}: at most {limit} million pixels, please.",
        "ja": "画像が大きすぎます{size}。{limit} 百万画素以下の画像にしてください。",
    },
    "too_large_to_decode": {
        "en": ("The image is too large{size}: PNG, WebP, GIF and progressive JPEG images may have at most {limit} "
               "million pixels (a plain JPEG up to {jpeg_limit} million)."),
        "ja": ("画像が大きすぎます{size}。PNG・WebP・GIF・プログレッシブ JPEG は {limit} 百万画素まで（通常の JPEG は "
               "{jpeg_limit} 百万画素まで）です。"),
    },
    "over_budget": {
        "en": "Too much was sent from your address in the last {window} minutes; please try again in {wait} s.",
        "ja": "この {window} 分間にあなたのアドレスから送られたデータが多すぎます。{wait} 秒後にもう一度どうぞ。",
    },
    "request_too_large": {
        "en": "This request is too large ({size} MB; at most {limit} MB).",
        "ja": "このリクエストは大きすぎます（{size} MB。{limit} MB まで）。",
    },
    "too_many_layers": {
        "en": "The drawing has too many layers ({n}; at most {limit}).",
        "ja": "描画のレイヤーが多すぎます（{n} 枚。{limit} 枚まで）。",
    },
})


def _both(text) -> str:
    return f"{text.render('ja')} / {text.render('en')}"


class ImageTooLarge(ValueError):
    """An image refused from its header: more pixels than ``MAX_IMAGE_PIXELS`` (``decodable``: False), or more than
    ``MAX_DECODE_PIXELS`` and no way to decode it reduced."""

    def __init__(self, size: tuple[int, int] | int | None, decodable: bool = False):
        self.size, self.decodable = size, decodable  # (width, height), or only the number of pixels
        super().__init__(self.message())

    def message(self) -> str:
        """In both languages (for a refusal outside any event: an HTTP answer)."""
        return _both(self.text())

    def text(self) -> Text:
        if isinstance(self.size, tuple):
            size = Text("", {"en": " ({w}×{h} px)", "ja": "（{w}×{h} px）"}, {"w": self.size[0], "h": self.size[1]})
        elif self.size:
            size = Text("", {"en": " ({n} million pixels)", "ja": "（{n} 百万画素）"}, {"n": f"{self.size / 1e6:.0f}"})
        else:
            size = ""
        mega = {"limit": f"{MAX_IMAGE_PIXELS / 1e6:g}"}
        if self.decodable:
            mega = {"limit": f"{MAX_DECODE_PIXELS / 1e6:g}", "jpeg_limit": f"{MAX_IMAGE_PIXELS / 1e6:g}"}
        return STRINGS.phrase("too_large_to_decode" if self.decodable else "too_large", size=size, **mega)


def _image_file(source) -> io.BytesIO | str:
    """A file-like object or path for ``source``: a path, bytes, or a ``data:`` URL."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source)
    if isinstance(source, Path):
        return str(source)
    if isinstance(source, str) and source.startswith("data:"):
        header, _, data = source.partition(",")
        raw = base64.b64decode(data) if header.endswith(";base64") else urllib.parse.unquote_to_bytes(data)
        return io.BytesIO(raw)
    if isinstance(source, str):
        return source
    raise ValueError(f"not an image source: {type(source).__name__}")


def image_header(source) -> PIL.Image.Image:
    """The image of ``source`` (a path, bytes or a ``data:`` URL) opened, not decoded: PIL reads only the header.
    Raises ``ImageTooLarge`` if it declares more than ``MAX_IMAGE_PIXELS``, PIL's errors if it is not an image of
    ``IMAGE_FORMATS``."""
    try:
        im = PIL.Image.open(_image_file(source), formats=IMAGE_FORMATS)
    except PIL.Image.DecompressionBombError as err:  # PIL's own limit, twice ours: the size is in its message only
        pixels = re.search(r"\((\d+) pixels\)", str(err))
        raise ImageTooLarge(int(pixels.group(1)) if pixels else None) from err
    w, h = im.size
    if w < 1 or h < 1:
        im.close()
        raise ValueError("an image without pixels")
    if w * h > MAX_IMAGE_PIXELS:
        im.close()
        raise ImageTooLarge((w, h))
    return im


def _can_be_decoded_reduced(im: PIL.Image.Image) -> bool:
    """A baseline JPEG: its decoder scales by 1/2, 1/4 or 1/8 while decoding (a progressive one still needs a buffer
    of the whole image's coefficients, as large as the image)."""
    return im.format in ("JPEG", "MPO") and not (im.info.get("progressive") or im.info.get("progression"))


def decode_image(source) -> PIL.Image.Image:
    """``source`` (a path, bytes or a ``data:`` URL) checked from its header, then decoded, reduced where it is large:
    a baseline JPEG by its decoder (``Image.draft``), any other image after decoding (``Image.reduce``), its longer
    side kept at ``MAX_SIDE`` or more (what the tabs use at most). ``info["uploaded_size"]`` is the size uploaded.
    Never a full decode of more than ``MAX_DECODE_PIXELS``."""
    im = image_header(source)
    w, h = im.size
    try:
        if _can_be_decoded_reduced(im) and max(w, h) > MAX_SIDE:
            scale = MAX_SIDE / max(w, h)
            im.draft(None, (max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))))
        if im.size[0] * im.size[1] > MAX_DECODE_PIXELS:
            raise ImageTooLarge((w, h), decodable=True)
        im.load()
    except BaseException:
        im.close()
        raise
    if max(im.size) >= 2 * MAX_SIDE:
        if im.mode in ("1", "P") or im.mode.startswith("I;16"):  # modes ``reduce`` does not take
            im = im.convert({"1": "L", "P": "RGBA"}.get(im.mode, "I"))
        im = im.reduce(max(im.size) // MAX_SIDE)
    im.info["uploaded_size"] = (w, h)
    return im


class _Refused(Exception):
    def __init__(self, status: int, text, retry_after: int | None = None):
        super().__init__(status)
        self.status, self.body, self.retry_after = status, _both(text).encode(), retry_after

    async def send(self, send) -> None:
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(self.body)).encode())]
        if self.retry_after is not None:
            headers.append((b"retry-after", str(self.retry_after).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def _refusal_in(err: BaseException) -> "_Refused | None":
    if isinstance(err, _Refused):
        return err
    for inner in getattr(err, "exceptions", ()):  # an ExceptionGroup from a task group
        if (found := _refusal_in(inner)) is not None:
            return found
    for linked in (err.__cause__, err.__context__):  # raised again as another error
        if linked is not None and (found := _refusal_in(linked)) is not None:
            return found
    return None


class UploadBudget:
    """ASGI middleware: what each client may send (``UPLOAD_BYTES_PER_WINDOW`` bytes per ``UPLOAD_WINDOW_S``; a
    request other than ``/upload`` at most ``MAX_REQUEST_BYTES``), counted as the bytes arrive; beyond it the request
    is answered 429 (or 413) before the app reads any more. Gradio limits the size of each file, not how many."""

    def __init__(self, app):
        self.app = app
        self.spent: dict[str, tuple[float, int]] = {}  # client -> (start of its window, bytes sent in it)
        self.lock = threading.Lock()

    @staticmethod
    def client(scope) -> str:
        if PROXY_HOPS > 0:
            for name, value in scope.get("headers", ()):
                if name == b"x-forwarded-for":
                    hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
                    if hops:
                        return hops[-min(PROXY_HOPS, len(hops))]
        return (scope.get("client") or ("?",))[0]

    def charge(self, client: str, n: int, now: float | None = None) -> int:
        """Counts ``n`` more bytes from ``client``; 0 if they fit in its window, else the seconds until it ends (then
        they are not counted)."""
        now = time.monotonic() if now is None else now
        with self.lock:
            if len(self.spent) > 10_000:  # forget the windows that are over
                self.spent = {c: v for c, v in self.spent.items() if now - v[0] < UPLOAD_WINDOW_S}
            start, spent = self.spent.get(client, (now, 0))
            if now - start >= UPLOAD_WINDOW_S:
                start, spent = now, 0
            if spent + n > UPLOAD_BYTES_PER_WINDOW:
                self.spent[client] = (start, spent)
                return max(1, math.ceil(start + UPLOAD_WINDOW_S - now))
            self.spent[client] = (start, spent + n)
            return 0

    def over_budget(self, wait: int) -> _Refused:
        return _Refused(429, STRINGS.phrase("over_budget", window=f"{UPLOAD_WINDOW_S / 60:g}", wait=wait), wait)

    @staticmethod
    def too_large(size: int, limit: float) -> _Refused:
        return _Refused(413, STRINGS.phrase("request_too_large", size=f"{size / 1e6:.1f}", limit=f"{limit / 1e6:g}"))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        client = self.client(scope)
        limit = math.inf if scope["path"].rstrip("/").endswith("/upload") else MAX_REQUEST_BYTES
        declared = next((int(v) for k, v in scope.get("headers", ()) if k == b"content-length" and v.isdigit()), 0)
        if declared > limit:
            await self.too_large(declared, limit).send(send)
            return
        received, started = 0, False

        async def metered_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request" and message.get("body"):
                received += len(message["body"])
                if received > limit:
                    raise self.too_large(received, limit)
                if wait := self.charge(client, len(message["body"])):
                    raise self.over_budget(wait)
            return message

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        if wait := self.wait_for(client, max(declared, 1)):  # refused before a byte is read
            await self.over_budget(wait).send(send)
            return
        try:
            await self.app(scope, metered_receive, watched_send)
        except Exception as err:
            refused = _refusal_in(err)
            if refused is None:
                raise
            if not started:
                await refused.send(send)

    def wait_for(self, client: str, n: int) -> int:
        """0 if ``n`` more bytes from ``client`` fit in its window, else the seconds until it ends."""
        now = time.monotonic()
        with self.lock:
            start, spent = self.spent.get(client, (now, 0))
            if now - start >= UPLOAD_WINDOW_S:
                return 0
            return max(1, math.ceil(start + UPLOAD_WINDOW_S - now)) if spent + n > UPLOAD_BYTES_PER_WINDOW else 0


def upload_budget_app_kwargs() -> dict:
    """``app_kwargs`` for ``Blocks.launch`` that put ``UploadBudget`` in front of the app."""
    from starlette.middleware import Middleware

    return {"middleware": [Middleware(UploadBudget)]}


def uploaded_size(img: PIL.Image.Image) -> tuple[int, int]:
    """The size of ``img`` as it was uploaded (before ``decode_image`` reduced it)."""
    return tuple(img.info.get("uploaded_size", img.size))


class ClearDecodeErrors:
    """Mixed into an image component: its images are checked from their header and decoded reduced where large
    (``decode_image``), and their decoding errors reach the student as a clear message.

    Gradio decodes uploads before our handlers run; a broken file would otherwise end in an anonymous "Error".
    That step cannot see the browser's language: it hands the event a ``Refused``, which ``Page.on`` says in the
    student's language.
    """

    def preprocess(self, payload):
        try:
            return self.decode(payload)
        except ImageTooLarge as err:
            return Refused(err.text())
        except Problem as problem:
            return Refused(problem.text)
        except (PIL.UnidentifiedImageError, PIL.Image.DecompressionBombError, OSError, ValueError, SyntaxError):
            return Refused(COMMON.phrase("err.unreadable"))

    def decode(self, payload):
        """The component's value for ``payload`` (each image through ``decode_image``)."""
        raise NotImplementedError


class DigitCanvas(ClearDecodeErrors, gr.Sketchpad):
    """A sketchpad that also accepts uploads (see ``digit_canvas``)."""

    def get_block_name(self) -> str:  # rendered by the same front-end component as gr.Sketchpad
        return "imageeditor"

    def get_block_class(self) -> str:  # and described as a Sketchpad in the api info
        return "sketchpad"

    def decode(self, payload):
        if payload is not None and len(payload.layers or []) > MAX_SKETCH_LAYERS:
            raise STRINGS.problem("too_many_layers", n=len(payload.layers), limit=MAX_SKETCH_LAYERS)
        if payload is not None:  # every header first (the images sent ahead were checked as they came)
            for file in (payload.background, *(payload.layers or ()), payload.composite):
                if isinstance(file, FileData):
                    image_header(file.path).close()
        return gr.Sketchpad.preprocess(self, payload)

    def convert_and_format_image(self, file, flatten_on_white: bool = False):
        """Gradio's ``ImageEditor.convert_and_format_image`` (one of background, layers, composite, as a file or as
        the bytes the pad sent), decoded by ``decode_image``."""
        if file is None:
            return None
        im = decode_image(file.path if isinstance(file, FileData) else bytes(file))
        if flatten_on_white and self.image_mode not in ("RGBA", "LA", "PA") and (
                "A" in im.getbands() or "transparency" in im.info):
            im = PIL.Image.alpha_composite(PIL.Image.new("RGBA", im.size, "white"), im.convert("RGBA"))
        if self.image_mode is not None and im.mode != self.image_mode:
            im = im.convert(self.image_mode)
        name = Path(file.orig_name).stem if isinstance(file, FileData) and file.orig_name else "image"
        return image_utils.format_image(im, self.type, self.GRADIO_CACHE, name=name, format="png")

    @server
    def accept_blobs(self, data):
        """Gradio's: the pad sends each image of a drawing before its event, which then names it by id. Here each is
        checked from its header first, its layer index bounded, and at most ``MAX_PENDING_SKETCH_BYTES`` wait in
        all (the oldest drawings are dropped: their event then finds no image)."""
        kind, index = data.data.get("type"), data.data.get("index")
        if kind == "layer" and index not in (None, "null") and not 0 <= int(index) < MAX_SKETCH_LAYERS:
            raise gr.Error(_both(STRINGS.phrase("too_many_layers", n=int(index) + 1, limit=MAX_SKETCH_LAYERS)))
        try:
            image_header(data.files[0][1]).close()
        except ImageTooLarge as err:
            raise gr.Error(err.message()) from err
        except (PIL.UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
            raise gr.Error(_both(COMMON.phrase("err.unreadable"))) from err
        with _PENDING_LOCK:
            result = super().accept_blobs(data)
            pending = self.blob_storage
            pending[data.data["id"]] = pending.pop(data.data["id"])  # the most recent last
            total = sum(_blob_bytes(blobs) for blobs in pending.values())
            while total > MAX_PENDING_SKETCH_BYTES and len(pending) > 1:
                total -= _blob_bytes(pending.pop(next(iter(pending))))
        return result

    def api_info(self) -> dict:
        """Gradio's schema with its ``$defs`` inlined: an MCP client validates a tool's arguments against the tool's
        schema, in which Gradio puts this one under the image's property while its ``$ref``s point at the root
        (``PointerToNowhere: '/$defs/FileData'``). Inlined, background and composite are files that Gradio's MCP
        server takes as URLs or ``data:`` URLs."""
        return _inline_refs(super().api_info())


_PENDING_LOCK = threading.Lock()


def _blob_bytes(blobs) -> int:
    return sum(len(b) for b in (blobs.background, blobs.composite, *blobs.layers) if b is not None)


def _inline_refs(schema: dict) -> dict:
    """``schema`` with every ``{"$ref": "#/$defs/X"}`` replaced by X itself and no ``$defs``; a file that may be
    null is just a file (Gradio's MCP server finds files by their position, which an ``anyOf`` would hide)."""
    defs = schema.get("$defs", {})

    def inline(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return inline({**defs[node["$ref"].split("/")[-1]], **{k: v for k, v in node.items() if k != "$ref"}})
            options = node.get("anyOf")
            if options and len(options) == 2 and {"type": "null"} in options:
                other = next(o for o in options if o != {"type": "null"})
                if "$ref" in other:
                    return inline({**other, **{k: v for k, v in node.items() if k != "anyOf"}})
            return {k: inline(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)


class PhotoInput(ClearDecodeErrors, gr.Image):
    """An image upload (or webcam, or paste) for the photo tabs."""

    def get_block_name(self) -> str:
        return "image"

    def get_block_class(self) -> str:
        return "image"

    def decode(self, payload):
        """Gradio's ``image_utils.preprocess_image`` with the image decoded by ``decode_image``."""
        if payload is None:
            return None
        source = payload.url if payload.url and payload.url.startswith("data:") else payload.path
        if source is None:
            raise ValueError("Image path is None.")
        im = decode_image(source)
        size = im.info["uploaded_size"]
        orientation = im.getexif().get(274, 1)  # EXIF orientation: 1 as stored, 5 to 8 turned by a quarter
        if orientation != 1:
            im = PIL.ImageOps.exif_transpose(im)
            size = size[::-1] if orientation in (5, 6, 7, 8) else size
        if self.image_mode is not None and im.mode != self.image_mode:
            im = im.convert(self.image_mode)
        im.info["uploaded_size"] = size
        name = Path(payload.orig_name).stem if payload.orig_name else "image"
        return image_utils.format_image(im, self.type, self.GRADIO_CACHE, name=name, format="png")


def digit_canvas(label, **kwargs) -> DigitCanvas:
    """The gallery's standard digit input: draw with a thick black brush, or upload / paste an image.

    The canvas stays 280×280 whatever is loaded (``fixed_canvas``): a 28-px MNIST example or a large photo is
    scaled to fit it, so the brush (22 px, as thick as an MNIST stroke at 10×) draws the same on all of them."""
    return DigitCanvas(
        label=label,
        type="pil",
        image_mode="RGBA",
        sources=("upload", "clipboard"),
        canvas_size=(280, 280),
        fixed_canvas=True,
        elem_classes=["digit-canvas"],
        brush=gr.Brush(default_size=22, colors=["#000000"], color_mode="fixed"),
        layers=False,
        transforms=(),
        **kwargs,
    )


# The drawing pad's own behaviour, fixed from the page (Gradio offers no setting for any of these):
# - after "clear" it selects its image tool, so a student's strokes select the placeholder text: select the pen;
# - a file that is not an image (a PDF) dropped on it is silently ignored: say so, in the student's language;
# - Gradio 6.31's pad takes its first change for its own loading and sends no change event for it; a pad that
#   holds an image from the start (an example) loads it without one, so the student's first stroke was lost:
#   after the first stroke on a pad the page clicks its hidden "first stroke" button, whose event sends the drawing.
_SELECT_PEN_JS = """() => {
  const select = (tries) => {  // (a pad in a section that has just opened may not be drawn yet: try again)
    const pad = document.getElementById(%(pad)s);
    const pen = [...(pad?.querySelectorAll("button[aria-label]") || [])].find((b) => %(pen)s.includes(b.ariaLabel));
    if (pen && pen.offsetParent) pen.click();
    else if (tries > 0) setTimeout(() => select(tries - 1), 100);
  };
  setTimeout(() => select(20), 100);
}"""
_PAD_JS = """() => {
  if (window.galleryPads) return;
  window.galleryPads = true;
  const refuse = (event, files) => {
    const pad = event.target.closest?.(".digit-canvas");
    if (!pad || !files || !files.length || [...files].every((f) => f.type.startsWith("image/"))) return;
    event.preventDefault();
    event.stopPropagation();
    document.getElementById(pad.id + "-not-image")?.click();
  };
  document.addEventListener("drop", (e) => refuse(e, e.dataTransfer?.files), true);
  document.addEventListener("change", (e) => e.target.type === "file" && refuse(e, e.target.files), true);
  const stroked = new Set();
  let drawing = null;
  document.addEventListener("pointerdown", (e) => {
    const pad = e.target.tagName === "CANVAS" ? e.target.closest?.(".digit-canvas") : null;
    drawing = pad && pad.id && !stroked.has(pad.id) ? pad : null;
  }, true);
  document.addEventListener("pointerup", () => {
    if (!drawing) return;
    const pad = drawing;
    drawing = null;
    stroked.add(pad.id);
    setTimeout(() => document.getElementById(pad.id + "-first-stroke")?.click(), 300);
  }, true);
}"""


def wire_canvas(page, demo: gr.Blocks, canvas: DigitCanvas) -> list:
    """The pen ready after "clear", a message for a dropped file that is not an image, and the student's first
    stroke sent (``canvas`` needs an ``elem_id``, unique in the app). Returns the triggers of "the drawing
    changed", for a tab that answers each stroke: ``for drawn in wire_canvas(...): page.on(drawn, ...)``."""
    pen_ready_on(page, canvas.clear, canvas)
    refuse = gr.Button(visible="hidden", elem_id=f"{canvas.elem_id}-not-image")
    page.on(refuse.click, not_an_image, None, None, api_visibility="private")
    first_stroke = gr.Button(visible="hidden", elem_id=f"{canvas.elem_id}-first-stroke")
    page.on(demo.load, None, js=_PAD_JS)
    return [canvas.change, first_stroke.click]


def pen_ready_on(page, trigger, canvas: DigitCanvas) -> None:
    """Select the pen of ``canvas`` when ``trigger`` fires (after "clear"; when a section holding an empty pad
    opens): Gradio's empty pad starts on its image tool, so a first stroke would draw nothing."""
    from demos.gradio_words import gradio_words

    pens = json.dumps(sorted({words["image_editor.brush"] for words in gradio_words().values()}))
    page.on(trigger, None, js=_SELECT_PEN_JS % {"pad": json.dumps(canvas.elem_id), "pen": pens})


def not_an_image():
    raise COMMON.problem("err.not_image")


def photo_input(label, **kwargs) -> PhotoInput:
    """The gallery's standard photo input: upload, webcam or paste; given to handlers as a PIL image."""
    return PhotoInput(label=label, type="pil", image_mode=None, sources=("upload", "webcam", "clipboard"), **kwargs)


def wire_photo(page, photo: PhotoInput) -> None:
    """A file that cannot be read as an image is refused as soon as it arrives, in the student's language (without
    this, the box just stays empty until the tab's button is pressed; a text file named .png passes the browser's
    checks)."""
    page.on(photo.upload, photo_uploaded, photo, None, api_visibility="private", show_progress="hidden")


def photo_uploaded(photo) -> None:
    """Nothing to compute: a photo the component could not decode reaches ``Page.on`` as a ``Refused``, which it says
    (PhotoInput.preprocess)."""


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
    uploaded_w, uploaded_h = uploaded_size(img)
    if min(uploaded_w, uploaded_h) < 8:
        raise COMMON.problem("err.too_small", w=uploaded_w, h=uploaded_h)
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
    if min(img.size) < 8:  # a long thin strip, shrunk to ``max_side``
        raise COMMON.problem("err.too_thin", w=uploaded_w, h=uploaded_h, side=max_side, sw=img.size[0], sh=img.size[1])
    if max(uploaded_w, uploaded_h) > MAX_SIDE:
        warn(COMMON.text("warn.downscaled", w=uploaded_w, h=uploaded_h, side=max_side))
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()



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
    elif img.mode.startswith("I") or img.mode == "F":  # 16- or 32-bit grey (a float image may hold NaN or ±inf)
        arr = np.nan_to_num(np.asarray(img, dtype=np.float32), nan=0.0, posinf=65535.0, neginf=0.0)
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


def exact_mnist(ink: np.ndarray) -> np.ndarray | None:
    """The 28×28 digit of an MNIST image shown k times larger with nearest-neighbour (the canvas examples are 10×,
    so that the pen draws on them at the canvas's scale), read back exactly; None if ``ink`` is not one."""
    k = ink.shape[0] // 28
    if ink.shape != (28 * k, 28 * k) or k < 1:
        return None
    blocks = ink.reshape(28, k, 28, k)
    if np.ptp(blocks, axis=(1, 3)).max() > 1.5 / 255:  # every k×k block one grey level: an upscaled MNIST digit
        return None
    return blocks[:, 0, :, 0].astype(np.float32)


def mnist_normalize(ink: np.ndarray) -> np.ndarray | None:
    """Crop to the ink, fit it in a 20x20 box (aspect kept), centre its mass in 28x28. None if there is no ink.
    An MNIST digit (28×28, or shown k× larger) is kept as it is."""
    if (exact := exact_mnist(ink)) is not None:
        return exact if exact.max() > 0.1 else None
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
    if max(uploaded_size(img)) > MAX_SIDE:
        warn(COMMON.text("warn.downscaled", w=uploaded_size(img)[0], h=uploaded_size(img)[1], side=MAX_SIDE))
        img = img.copy()
        img.thumbnail((MAX_SIDE, MAX_SIDE))
    digit = mnist_normalize(ink_map(img))
    if digit is None:
        raise COMMON.problem("err.empty", what=what)
    return torch.from_numpy(digit)[None, None]

