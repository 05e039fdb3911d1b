"""What enters the app and what it writes, attacked (issue 13, items 1, 2 and 9): an image is checked from its
header before anything decodes it and a large one is decoded reduced (a 220 KB PNG declaring 15000×15000 px used to
take the server to 4.3 GB); what one client may send is bounded per time window; every file the app writes lives in
Gradio's cache and expires (200 walks used to leave 200 folders in /tmp for ever); a GIF is never left half-written
under its name by a process killed while writing it."""

import base64
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gradio as gr
import httpx
import numpy as np
import PIL.Image
import PIL.ImageFile
import pytest
from gradio.components.image_editor import EditorData
from gradio.data_classes import DataWithFiles, FileData, ImageData

from bench.upload_memory import measure, png_declaring
from demos import dcgan, image_input, kit
from demos import deepdream as dd
from demos.i18n import Refused
from demos.image_input import DigitCanvas, PhotoInput, decode_image, photo_to_tensor, upload_budget_app_kwargs
from tests.conftest import ROOT, drawing
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """The attack: a valid PNG of 220 KB that declares 15000×15000 px (900 MB as RGBA once decoded)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(png_declaring(15000, 15000))
    assert path.stat().st_size < 300_000
    return path


@pytest.fixture
def no_decoding(monkeypatch):
    """Any decode of image data fails the test (reading a header is not decoding)."""
    def decoded(self, *args, **kwargs):
        raise AssertionError(f"an image of {self.size} was decoded")

    monkeypatch.setattr(PIL.ImageFile.ImageFile, "load", decoded)


def canvas() -> DigitCanvas:
    return DigitCanvas(type="pil", image_mode="RGBA", render=False)


def sketch(background=None, composite=None, layers=()) -> EditorData:
    def file(p):
        return FileData(path=str(p), orig_name=Path(p).name) if p is not None else None

    return EditorData(background=file(background), composite=file(composite), layers=[file(p) for p in layers])


def blob(kind: str, data: bytes, sketch_id: str = "s1", index=None) -> DataWithFiles:
    return DataWithFiles(data={"type": kind, "id": sketch_id, "index": index}, files=[(f"{kind}.png", data)])


def refusal(value) -> str:
    """What a component's check handed the event instead of an image (``Refused``), in both languages."""
    assert isinstance(value, Refused), value
    return value.text.render("ja") + " / " + value.text.render("en")


def assert_too_large(message: str):
    assert "too large" in message and "大きすぎます" in message, message


def encoded(img: PIL.Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


# --- item 1: memory -----------------------------------------------------------------------------------------------

def test_a_small_file_declaring_a_huge_image_is_refused_from_its_header(bomb, tmp_path, no_decoding):
    """Wherever an image enters: a sketch's background, composite or a layer, a photo as a file or as a data: URL,
    and the bytes the drawing pad sends first. Nothing is decoded (``no_decoding``)."""
    small = tmp_path / "small.png"
    drawing(size=64).save(small)
    for value in (sketch(bomb, bomb), sketch(None, bomb), sketch(bomb, None), sketch(small, small, layers=[bomb])):
        assert_too_large(refusal(canvas().preprocess(value)))
    data_url = "data:image/png;base64," + base64.b64encode(bomb.read_bytes()).decode()
    for value in (ImageData(path=str(bomb), orig_name="bomb.png"), ImageData(url=data_url)):
        assert_too_large(refusal(PhotoInput(type="pil", render=False).preprocess(value)))
    with pytest.raises(gr.Error) as err:
        canvas().accept_blobs(blob("composite", bomb.read_bytes()))
    assert_too_large(err.value.message)


def test_images_too_large_to_decode_whole_are_refused_unless_the_decoder_can_reduce_them(tmp_path):
    """PNG, WebP, GIF and progressive JPEG cannot be decoded reduced: above MAX_DECODE_PIXELS they are refused (from
    the header); a baseline JPEG up to MAX_IMAGE_PIXELS is decoded at 1/2 to 1/8 of its side by the JPEG decoder,
    never below MAX_SIDE, and the notice reports the size uploaded."""
    big_png = tmp_path / "big.png"
    big_png.write_bytes(png_declaring(5000, 4000))
    with pytest.raises(image_input.ImageTooLarge) as err:
        decode_image(big_png)
    assert err.value.size == (5000, 4000) and err.value.decodable
    photo = PIL.Image.new("RGB", (7000, 5000), "white")
    progressive = encoded(photo, "JPEG", progressive=True)
    with pytest.raises(image_input.ImageTooLarge):
        decode_image(progressive)
    baseline = tmp_path / "photo.jpg"
    baseline.write_bytes(encoded(photo, "JPEG"))
    decoded = PhotoInput(type="pil", render=False).preprocess(ImageData(path=str(baseline), orig_name="photo.jpg"))
    assert decoded.size == (1750, 1250)  # decoded at 1/4 (1/8 would be below MAX_SIDE)
    assert image_input.uploaded_size(decoded) == (7000, 5000)
    warnings = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(image_input.gr, "Warning", lambda msg, **kw: warnings.append(msg))
        assert photo_to_tensor(decoded, 256).shape == (1, 3, 183, 256)
    assert "7000" in warnings[0] and "5000" in warnings[0]
    # Other formats within the limit: decoded, then reduced at once (palette images too).
    palette = tmp_path / "palette.png"
    PIL.Image.new("P", (3000, 2500)).save(palette)
    reduced = decode_image(palette)
    assert reduced.size == (1500, 1250) and image_input.uploaded_size(reduced) == (3000, 2500)
    # SVG, EPS and other formats are not images here.
    svg = _write(tmp_path / "x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert "image" in refusal(canvas().preprocess(sketch(composite=svg)))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_sketch_still_becomes_a_digit(tmp_path):
    """The checked decoding gives the handlers what Gradio's did: RGBA images of the drawing."""
    path = tmp_path / "digit.png"
    drawing(mode="RGBA", background=(255, 255, 255, 255)).save(path)
    value = canvas().preprocess(sketch(path, path))
    assert value["composite"].mode == "RGBA" and value["composite"].size == (280, 280) and value["layers"] == []
    assert image_input.image_to_digit(value).shape == (1, 1, 28, 28)
    canvas_blobs = canvas()
    canvas_blobs.accept_blobs(blob("composite", path.read_bytes(), "abc"))
    from_blobs = canvas_blobs.preprocess(EditorData(id="abc"))
    assert from_blobs["composite"].size == (280, 280) and canvas_blobs.blob_storage == {}


def test_the_drawing_pad_cannot_fill_the_memory_with_images_sent_ahead(tmp_path, monkeypatch):
    """Gradio keeps what the pad sends (``accept_blobs``) in memory until the event that names it; a layer index
    of 10⁹ used to allocate a list of 10⁹ entries. Now: few layers, and at most MAX_PENDING_SKETCH_BYTES waiting."""
    png = encoded(drawing(size=280), "PNG")
    pad = canvas()
    start = time.monotonic()
    with pytest.raises(gr.Error):
        pad.accept_blobs(blob("layer", png, index=10**9))
    assert time.monotonic() - start < 1 and pad.blob_storage == {}
    monkeypatch.setattr(image_input, "MAX_PENDING_SKETCH_BYTES", 10 * len(png))
    for i in range(50):
        pad.accept_blobs(blob("composite", png, f"sketch{i}"))
    assert sum(len(b.composite) for b in pad.blob_storage.values()) <= 10 * len(png)
    assert "sketch49" in pad.blob_storage and "sketch0" not in pad.blob_storage  # the oldest were dropped
    too_many = sketch(layers=[_write(tmp_path / "l.png", png)] * (image_input.MAX_SKETCH_LAYERS + 1))
    assert "layers" in refusal(canvas().preprocess(too_many))


def test_limits_are_read_from_the_environment():
    env = dict(os.environ, GALLERY_MAX_IMAGE_PIXELS="1000", GALLERY_MAX_DECODE_PIXELS="500",
               GALLERY_MAX_PENDING_SKETCH_BYTES="7", GALLERY_MAX_SKETCH_LAYERS="5", GALLERY_UPLOAD_WINDOW_S="3",
               GALLERY_UPLOAD_BYTES_PER_WINDOW="9", GALLERY_MAX_REQUEST_BYTES="11", GALLERY_PROXY_HOPS="2",
               GALLERY_CACHE_CHECK_S="13", GALLERY_CACHE_MAX_AGE_S="17")
    code = ("import PIL.Image; from demos import image_input as i, kit as k; "
            "print(i.MAX_IMAGE_PIXELS, i.MAX_DECODE_PIXELS, i.MAX_PENDING_SKETCH_BYTES, i.MAX_SKETCH_LAYERS, "
            "i.UPLOAD_WINDOW_S, i.UPLOAD_BYTES_PER_WINDOW, i.MAX_REQUEST_BYTES, i.PROXY_HOPS, k.delete_cache(), "
            "PIL.Image.MAX_IMAGE_PIXELS)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["1000", "500", "7", "5", "3", "9", "11", "2", "(13,", "17)", "1000"], out.stderr


def test_memory_stays_bounded_under_concurrent_worst_case_uploads(tiny_root):
    """bench/upload_memory.py against the launched app (tiny models): 4 clients at once upload the bomb, then the
    largest JPEG and PNG still accepted; peak RSS stays within 1.5 GB of idle (it was 4.3 GB for one bomb)."""
    result = measure(pretrained=tiny_root, clients=4, timeout=400, log=lambda *_: None)
    answers = result["answers"]
    assert answers["bomb.png"] == ["refused: too large"] * 4, answers
    assert answers["largest.jpg"] == ["ok"] * 4 and answers["largest.png"] == ["ok"] * 4, answers
    assert result["increase_mb"] < 1536, result


# --- item 2: uploads per client -------------------------------------------------------------------------------------

@pytest.fixture
def budget_app(monkeypatch):
    """A small app with a photo input, launched behind ``UploadBudget`` with small limits; yields its url."""
    monkeypatch.setattr(image_input, "UPLOAD_BYTES_PER_WINDOW", 250_000)
    monkeypatch.setattr(image_input, "MAX_REQUEST_BYTES", 100_000)
    monkeypatch.setattr(image_input, "PROXY_HOPS", 1)
    with gr.Blocks() as demo:
        photo = image_input.photo_input("photo")
        size = gr.Textbox()
        gr.Button().click(lambda img: str(img.size), photo, size, api_name="size")
    demo.launch(prevent_thread_lock=True, quiet=True, max_file_size="10mb", app_kwargs=upload_budget_app_kwargs())
    yield demo.local_url.rstrip("/")
    demo.close()


def test_uploads_are_capped_per_client_and_time_window(budget_app, tmp_path):
    from gradio_client import Client, handle_file

    photo = tmp_path / "photo.png"
    drawing(size=64).save(photo)
    assert Client(budget_app, verbose=False).predict(handle_file(str(photo)), api_name="/size") == "(64, 64)"
    files = {"files": ("photo.png", b"\0" * 100_000, "image/png")}
    me, other = {"x-forwarded-for": "203.0.113.7"}, {"x-forwarded-for": "198.51.100.1"}
    with httpx.Client(timeout=30) as http:
        for _ in range(2):
            assert http.post(f"{budget_app}/gradio_api/upload", files=files, headers=me).status_code == 200
        refused = http.post(f"{budget_app}/gradio_api/upload", files=files, headers=me)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert "try again" in refused.text and "もう一度" in refused.text
        assert http.post(f"{budget_app}/gradio_api/upload", files=files, headers=other).status_code == 200

        def stream():  # no Content-Length: counted as it arrives, cut off when over
            yield (b'--x\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
                   b"Content-Type: image/png\r\n\r\n")
            for _ in range(40):
                yield b"\0" * 10_000
            yield b"\r\n--x--\r\n"

        streamed = http.post(f"{budget_app}/gradio_api/upload", content=stream(),
                             headers={**other, "content-type": "multipart/form-data; boundary=x"})
        assert streamed.status_code == 429
        # Any other request (JSON, data: URLs, the pad's images, which Gradio holds in memory) is small.
        large = http.post(f"{budget_app}/gradio_api/queue/join", content=b"{" + b" " * 150_000 + b"}",
                          headers={"x-forwarded-for": "192.0.2.9", "content-type": "application/json"})
        assert large.status_code == 413 and "too large" in large.text


# --- item 2: disk, and item 9 ---------------------------------------------------------------------------------------

def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_walks_and_zooms_leave_no_orphan_files(tiny_models, tmp_path, monkeypatch):
    """200 walks and zooms (the plain functions): every GIF is in Gradio's cache, nothing elsewhere; the files older
    than CACHE_MAX_AGE_S go at the next write. (Before: 200 folders in /tmp, never removed.)"""
    cache, elsewhere = tmp_path / "cache", tmp_path / "tmp"
    elsewhere.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    monkeypatch.setattr("tempfile.tempdir", str(elsewhere))
    photo = PIL.Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    gifs = [dcgan.dcgan_walk("0:0", "0:1", 2)["walk_gif"],  # the real ones first
            list(dd.deepdream_zoom(photo, "block2", "mean_square", 64, 2, 1, 0.02, 0, 0))[-1]["file"]]
    assert [Path(g).name for g in gifs] == ["dcgan_walk.gif", "deepdream_zoom.gif"]
    assert all(PIL.Image.open(g).n_frames >= 2 for g in gifs)
    # The rest with the models' work stubbed out (the files are the point; the real calls above wrote theirs).
    walk = dcgan.latent_walk(dcgan.load_generator(), (0, 0), (0, 1), 2)
    monkeypatch.setattr(dcgan, "latent_walk", lambda *args: walk)
    monkeypatch.setattr(dd, "deepdream", lambda model, x, *args: iter([(1, x)]))
    for i in range(99):
        gifs.append(dcgan.dcgan_walk("0:0", "0:1", 2)["walk_gif"])
        gifs.append(list(dd.deepdream_zoom(photo, "block2", "mean_square", 64, 2, 1, 0.02, 0, i))[-1]["file"])
    assert len(set(gifs)) == 200
    assert _files_under(elsewhere) == []
    written = _files_under(cache)
    assert written == sorted(Path(g) for g in gifs) and all(p.is_relative_to(kit.generated_folder()) for p in written)
    monkeypatch.setattr(kit, "CACHE_MAX_AGE_S", -1)  # everything is now old: swept at the next write
    last = dcgan.dcgan_walk("0:0", "0:1", 2)["walk_gif"]
    assert _files_under(cache) == [Path(last)] and len(list(kit.generated_folder().iterdir())) == 1


def test_gradio_expires_what_the_app_served(tiny_models, launched, tmp_path, monkeypatch):
    """The app's Blocks sets ``delete_cache``: an upload and a walk's GIF served through the api are removed once
    older than CACHE_MAX_AGE_S (1 s here), by Gradio itself."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(kit, "CACHE_CHECK_S", 1)
    monkeypatch.setattr(kit, "CACHE_MAX_AGE_S", 1)
    client = launched(tiny_models)
    *_, gif, _caption = client.predict("0:0", "0:1", 2, api_name="/dcgan_walk")
    path = Path(gif["path"])
    assert path.name == "dcgan_walk.gif" and path.is_relative_to(tmp_path / "cache") and path.exists()
    wait_until(lambda: not path.exists(), timeout=30, poll=0.5)


KILLED_ZOOM = """
import sys, time
import PIL.Image
from demos import deepdream as dd

def slow_gif(im, fp, filename):  # writes the start of the GIF, then is killed
    fp.write(b"GIF89a")
    fp.flush()
    print("writing", flush=True)
    time.sleep(120)

PIL.Image.SAVE_ALL["GIF"] = slow_gif
dd.deepdream = lambda model, x, *args: iter([(1, x)])
dd.load_model = lambda: None
list(dd.deepdream_zoom(PIL.Image.new("RGB", (64, 48), "gray"), "block2", "mean_square", 64, 2, 1, 0.02, 0, 0))
"""


def test_a_zoom_killed_while_writing_its_gif_leaves_no_gif(tmp_path):
    """``kill -9`` during the GIF's write: no file under the GIF's name (the student's download is whole or absent);
    the half-written file is swept later. (Before: a 0-byte or truncated deepdream_zoom.gif stayed.)"""
    env = dict(os.environ, GRADIO_TEMP_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_ZOOM], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    left = _files_under(tmp_path / "cache")
    assert len(left) == 1 and left[0].name.startswith(".deepdream_zoom.gif.") and left[0].name.endswith(".part")
    assert not list((tmp_path / "cache").rglob("deepdream_zoom.gif"))
    os.utime(left[0].parent, (time.time() - 3600, time.time() - 3600))  # an hour later, the next write sweeps it
    kit.expire_generated(left[0].parent.parent)
    assert _files_under(tmp_path / "cache") == []


# --- item 8: the app's own checks first, in the student's language --------------------------------------------------

def test_controls_answer_in_the_students_language_quoting_the_input(tiny_root, launched):
    """Gradio's own checks (a slider's range, a radio's choices, a number sent as text) used to answer first, in
    English ("Value -1 is less than minimum value 0."), or anonymously. Now the control names itself and the value
    sent, in the language of the browser (demos/controls.py, raised by Page.on)."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    url = launched(tiny_root).src

    def error(lang: str, *args, api_name: str) -> str:
        with pytest.raises(AppError) as err:
            Client(url, headers={"Accept-Language": lang}, verbose=False).predict(*args, api_name=api_name)
        return str(err.value)

    assert "シード" in (message := error("ja", -1, api_name="/dcgan_grid")) and "-1" in message, message
    assert "シード" in (message := error("ja", "xyz", api_name="/dcgan_grid")) and "xyz" in message, message
    assert "Seed" in (message := error("en-US", "xyz", api_name="/dcgan_grid")) and "xyz" in message, message
    message = error("ja", 99, 0, api_name="/vae_decode")  # a slider of -4 … 4
    assert "z₁" in message and "99" in message and "以下" in message, message
    message = error("ja", None, None, 5, "zigzag", api_name="/vae_interpolate")
    assert "zigzag" in message and "選択肢" in message and "linear" in message, message
    message = error("en", None, None, 5, "zigzag", api_name="/vae_interpolate")
    assert "zigzag" in message and "not one of the choices" in message, message
    assert "Value" not in message and "minimum" not in message


@pytest.mark.parametrize("size,expected", [((64, 1), "64×1"), ((6000, 90), "6000×90")])
def test_a_photo_too_small_or_too_thin_is_reported_at_its_uploaded_size(tmp_path, size, expected):
    """``写真が小さすぎます（64×1 px）`` used to report the size after the reduced decoding and the shrinking."""
    path = tmp_path / "strip.jpg"
    PIL.Image.new("RGB", size, "white").save(path)
    photo = PhotoInput(type="pil", render=False).preprocess(ImageData(path=str(path), orig_name="strip.jpg"))
    with pytest.raises(gr.Error) as err:
        photo_to_tensor(photo, 256)
    assert expected in err.value.message, err.value.message
