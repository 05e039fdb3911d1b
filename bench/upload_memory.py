"""Peak memory of the server under worst-case image uploads (issue 13, item 1): is every image checked from its
header, and decoded reduced, before Gradio or a tab decodes it?

    python bench/upload_memory.py                      # app.py with its own weights, 4 clients at once
    python bench/upload_memory.py --pretrained DIR     # with other weights (the tests use tiny ones)
    python bench/upload_memory.py --no-limits          # the same with the pixel limits lifted
    python bench/upload_memory.py --root /tmp/before --pretrained pretrained   # another checkout (before the fix)
    python bench/upload_memory.py --apis /deepdream /cartoonize /cyclegan --clients 16   # the heavy tabs' uploads

Launches ``app.py`` in a subprocess, loads every model the calls use, reads its resident memory (idle), then sends
``--clients`` uploads at once, each to another image api (so that they run side by side), twice: a 220 KB PNG that
declares 15000×15000 px (refused from its header), then the largest images still accepted (a baseline JPEG of
``MAX_IMAGE_PIXELS``, decoded reduced, and a PNG of ``MAX_DECODE_PIXELS``, decoded at full size). Prints idle,
peak (``VmHWM``) and their difference in MB; the exit status is 1 when the difference is above ``--budget-mb``.
"""

import argparse
import io
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmark import DIGIT, free_port, memory_mb, wait_for  # noqa: E402

# Image apis that run side by side (each event has its own concurrency; the heavy tabs share one queue): the
# drawing pads of three tabs and a photo input.
APIS = ("/ae_denoise", "/vae_encode", "/pix2pix", "/pix2pix_photo", "/ddpm_forward")


def png_declaring(width: int, height: int) -> bytes:
    """A valid grey PNG of ``width``×``height`` px, all black: a few hundred KB that decode to width×height bytes (and
    four times that as RGBA)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # a filter byte, then the pixels
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def worst_case_files(folder: Path, max_pixels: int, max_decode_pixels: int) -> dict[str, Path]:
    """The bomb and the largest images accepted (both drawn: a stroke on white, so that every tab has work)."""
    import PIL.Image
    import PIL.ImageDraw

    def drawn(width, height):
        img = PIL.Image.new("L", (width, height), 255)
        PIL.ImageDraw.Draw(img).line([(width // 4, height // 4), (3 * width // 4, 3 * height // 4)], fill=0,
                                     width=max(8, width // 20))
        return img

    files = {"bomb.png": png_declaring(15000, 15000)}
    side = int((max_pixels * 4 / 3) ** 0.5)
    buf = io.BytesIO()
    drawn(side, max_pixels // side).convert("RGB").save(buf, format="JPEG", quality=80)
    files["largest.jpg"] = buf.getvalue()
    side = int(max_decode_pixels ** 0.5)
    buf = io.BytesIO()
    drawn(side, max_decode_pixels // side).save(buf, format="PNG", compress_level=1)
    files["largest.png"] = buf.getvalue()
    paths = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths[name] = folder / name
    return paths


def call(client, api: str, image: Path | None):
    """``api`` with each parameter at its default and every image input given ``image`` (the MNIST digit if None)."""
    from gradio_client import handle_file

    image = image or DIGIT
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"][api]["parameters"]
    args = []
    for p in params:
        if p["component"] in ("Sketchpad", "ImageEditor"):
            args.append({"background": handle_file(str(image)), "layers": [], "composite": handle_file(str(image))})
        elif p["component"] == "Image":
            args.append(handle_file(str(image)))
        else:
            args.append(p["parameter_default"])
    return client.predict(*args, api_name=api)


def outcome(client, api, image) -> str:
    try:
        call(client, api, image)
        return "ok"
    except Exception as err:  # noqa: BLE001  (the app's answer, reported)
        message = str(err)
        return "refused: too large" if "too large" in message else f"error: {message[:120]}"


def reset_peak(pid: int) -> bool:
    """Start VmHWM again from the current RSS (Linux: write 5 to clear_refs); False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def measure(pretrained: str | None = None, clients: int = 4, no_limits: bool = False, timeout: float = 300,
            log=print, root: Path = ROOT, apis: tuple = APIS) -> dict:
    """Launch the app, attack it (``clients`` at once, spread over ``apis``), return {"idle_mb", "peak_mb",
    "increase_mb", "answers"}."""
    from gradio_client import Client

    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    if pretrained:
        env["GALLERY_PRETRAINED_DIR"] = str(Path(pretrained).resolve())
    if no_limits:
        env.update(GALLERY_MAX_IMAGE_PIXELS=str(10**9), GALLERY_MAX_DECODE_PIXELS=str(10**9))
    from demos import image_input

    max_pixels = int(env.get("GALLERY_MAX_IMAGE_PIXELS", image_input.MAX_IMAGE_PIXELS))
    max_decode = int(env.get("GALLERY_MAX_DECODE_PIXELS", image_input.MAX_DECODE_PIXELS))
    port = free_port()
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory() as tmp:
        files = worst_case_files(Path(tmp), min(max_pixels, image_input.MAX_IMAGE_PIXELS),
                                 min(max_decode, image_input.MAX_DECODE_PIXELS))
        env.setdefault("GRADIO_TEMP_DIR", str(Path(tmp) / "cache"))  # the uploads go with the folder
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=root, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_for(url, timeout=max(1.0, deadline - time.monotonic()))
            apis = [apis[i % len(apis)] for i in range(clients)]
            connections = [Client(url, verbose=False, download_files=False) for _ in apis]
            with ThreadPoolExecutor(len(apis)) as pool:
                warm = list(pool.map(lambda ca: outcome(ca[0], ca[1], None), zip(connections, apis)))
            assert all(w == "ok" for w in warm), warm
            time.sleep(1)
            idle, _ = memory_mb(proc.pid)
            reset_peak(proc.pid)
            answers = {}
            for name, path in files.items():
                with ThreadPoolExecutor(len(apis)) as pool:
                    answers[name] = list(pool.map(lambda ca: outcome(ca[0], ca[1], path), zip(connections, apis)))
                rss, peak = memory_mb(proc.pid)
                log(f"{name}: {answers[name]}  (RSS {rss:.0f} MB, peak {peak:.0f} MB)")
                if time.monotonic() > deadline:
                    raise TimeoutError("the uploads took longer than the timeout")
            _, peak = memory_mb(proc.pid)
        finally:
            proc.kill()
            proc.wait()
    return {"idle_mb": idle, "peak_mb": peak, "increase_mb": peak - idle, "answers": answers}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pretrained", help="weights folder (GALLERY_PRETRAINED_DIR); default: the app's")
    p.add_argument("--clients", type=int, default=4, help="uploads at once (default 4)")
    p.add_argument("--apis", nargs="+", default=list(APIS),
                   help=f"the image apis they upload to, in turn (default: {' '.join(APIS)})")
    p.add_argument("--budget-mb", type=float, default=1536, help="largest increase over idle allowed (default 1536)")
    p.add_argument("--no-limits", action="store_true", help="lift the pixel limits (shows the attack)")
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app.py to launch (default: this one)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    result = measure(args.pretrained, args.clients, args.no_limits, args.timeout, root=args.root,
                     apis=tuple(args.apis))
    print(f"idle {result['idle_mb']:.0f} MB, peak {result['peak_mb']:.0f} MB, "
          f"increase {result['increase_mb']:.0f} MB (budget {args.budget_mb:.0f} MB)")
    return 0 if result["increase_mb"] <= args.budget_mb else 1


if __name__ == "__main__":
    sys.exit(main())
