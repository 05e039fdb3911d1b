"""Latency benchmark of the gallery on this machine (run it on 2 cores, like a free CPU Space).

    python bench/benchmark.py            # prints a Markdown table (paste it into the README)
    python bench/benchmark.py --runs 50

Measures
* cold start: ``python app.py`` until the first page is served (HTTP 200 on /), and until the first
  AE result comes back through the API (this includes loading the models lazily);
* each tab's main action, warm: the handler called in-process (the work itself), and the same
  action through ``gradio_client`` against the launched app (what a browser waits for, on loopback:
  queue, (de)serialisation and image encoding included). Median and 95th percentile.

This is a script, not a test: timings depend on the machine and are not asserted anywhere.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import percentile, time_ms  # noqa: E402,F401  (percentile: used by load_test.py)

DIGIT = ROOT / "demos" / "examples" / "mnist" / "2_0001.png"
OTHER = ROOT / "demos" / "examples" / "mnist" / "7_0000.png"
# (tab, api name, target in ms or None)
TARGETS = {"/ae_denoise": 30, "/vae_decode": 15, "/vae_encode": None, "/vae_interpolate": None}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(url)


def editor(path):
    from gradio_client import handle_file

    return {"background": handle_file(str(path)), "layers": [], "composite": handle_file(str(path))}


def api_calls():
    return {
        "/ae_denoise": lambda: ((editor(DIGIT), "gaussian", 0.5, 0.2, 0.5, 0), {}),
        "/vae_decode": lambda: ((0.5, -0.3), {}),
        "/vae_encode": lambda: ((editor(DIGIT),), {}),
        "/vae_interpolate": lambda: ((editor(DIGIT), editor(OTHER), 10, "linear"), {}),
    }


def handler_calls():
    import PIL.Image

    from demos import ae, vae

    digit = PIL.Image.open(DIGIT).copy()
    other = PIL.Image.open(OTHER).copy()
    return {
        "/ae_denoise": lambda: ae.ae_denoise(digit, "gaussian", 0.5, 0.2, 0.5, 0),
        "/vae_decode": lambda: vae.vae_decode(0.5, -0.3),
        "/vae_encode": lambda: vae.vae_encode(digit),
        "/vae_interpolate": lambda: vae.vae_interpolate(digit, other, 10, "linear"),
    }


def time_it(fn, runs: int, warmup: int = 3):
    return time_ms(fn, runs, warmup)


def memory_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB, from /proc (Linux)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def gradio_floor(runs: int):
    """Round trip of a trivial api (x + 1) in a bare Gradio app: the framework's own share of every number below."""
    import gradio as gr
    from gradio_client import Client

    with gr.Blocks() as demo:
        a, b = gr.Number(), gr.Number()
        gr.Button().click(lambda x: x + 1, a, b, api_name="inc")
    demo.queue().launch(prevent_thread_lock=True, quiet=True, server_port=free_port())
    try:
        client = Client(demo.local_url, verbose=False)
        return time_it(lambda: client.predict(1, api_name="/inc"), runs)
    finally:
        demo.close()


def deepdream_times(runs: int = 3):
    """DeepDream at 384 px, 3 octaves x 10 iterations (the issue's setting): time to the first streamed image and
    to the end, median of ``runs`` warm runs, for the deepest block layer and for the head."""
    import PIL.Image


    photo = PIL.Image.open(ROOT / "demos" / "examples" / "photos" / "chelsea.jpg").copy()
    return {layer: time_dream(photo, (layer, "mean_square", 384, 3, 1.4, 10, 0.02, 16, 0), runs)
            for layer in ("block7", "head")}


def time_dream(photo, args, runs: int) -> tuple[float, float]:
    """Median seconds of ``runs`` warm runs of the DeepDream tab's handler, ``deepdream_run(photo, *args)``, to its
    first streamed image and to its end (one more run first, as the warm-up)."""
    from demos import deepdream

    firsts, totals = [], []
    for i in range(runs + 1):
        t = time.perf_counter()
        stream = deepdream.deepdream_run(photo, *args)
        next(stream)
        first = time.perf_counter() - t
        for _ in stream:
            pass
        if i:  # the first run is the warm-up
            firsts.append(first)
            totals.append(time.perf_counter() - t)
    return statistics.median(firsts), statistics.median(totals)


def main(args):
    from gradio_client import Client

    # 1. Cold start of a fresh process.
    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url)
        first_page = time.perf_counter() - t0
        client = Client(url, verbose=False, download_files=False)
        args_, _ = api_calls()["/ae_denoise"]()
        client.predict(*args_, api_name="/ae_denoise")
        first_result = time.perf_counter() - t0

        # 2. Warm latency through the API.
        api = {}
        for name, make in api_calls().items():
            a, _ = make()
            api[name] = time_it(lambda: client.predict(*a, api_name=name), args.runs)
        # 3. Memory of the server now that every tab has loaded its models.
        rss_mb, peak_mb = memory_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    # 4. Warm latency of the handlers themselves, in this process.
    import torch

    handlers = {name: time_it(fn, args.runs) for name, fn in handler_calls().items()}
    floor = gradio_floor(args.runs)
    dreams = deepdream_times()
    # 5. The other tabs' main actions, in-process on their real weights (each tab's own bench script).
    from bench import bench_cartoongan, bench_cyclegan, bench_dcgan, bench_ddpm, bench_pix2pix

    tab_rows = []
    for module in (bench_dcgan, bench_pix2pix, bench_cyclegan, bench_cartoongan, bench_ddpm):
        tab_rows += module.rows(max(3, args.runs // 5))
    # 6. Memory of one process that holds every model of every tab (this one, now).
    all_rss, all_peak = memory_mb(os.getpid())

    print(f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} CPU cores, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), {args.runs} runs each.\n")
    print("| measurement | median | p95 | target |")
    print("|---|---|---|---|")
    print(f"| cold start: `python app.py` → first page served | {first_page:.2f} s | | ≤ 8 s |")
    print(f"| cold start → first AE result (models loaded lazily) | {first_result:.2f} s | | |")
    print(f"| the launched app after the AE and VAE calls above: RSS (peak) | {rss_mb:.0f} MB ({peak_mb:.0f} MB) | | |")
    for name, target in TARGETS.items():
        t = f"≤ {target} ms" if target else ""
        h, a = handlers[name], api[name]
        print(f"| `{name}` handler (the work itself) | {h[0]:.1f} ms | {h[1]:.1f} ms | {t} |")
        print(f"| `{name}` through gradio_client (loopback round trip) | {a[0]:.1f} ms | {a[1]:.1f} ms | |")
    print(f"| for scale: a trivial api (x + 1) of a bare Gradio app, same round trip "
          f"| {floor[0]:.1f} ms | {floor[1]:.1f} ms | |")
    print(f"| one process holding every tab's models (this benchmark, after step 5): RSS (peak) "
          f"| {all_rss:.0f} MB ({all_peak:.0f} MB) | | ≤ 2 GB |")
    for r in tab_rows:
        target = f"≤ {r['target_ms']:.0f} ms" if r["target_ms"] else ""
        print(f"| {r['name']} | {r['median_ms']:.1f} ms | {r['p95_ms']:.1f} ms | {target} |")
    for layer, (first, total) in dreams.items():
        print(f"| DeepDream handler, 384 px, 3 octaves × 10 iterations, layer {layer}: first streamed image "
              f"| {first:.2f} s | | ≤ 2 s |")
        print(f"| DeepDream handler, same, whole dream | {total:.2f} s | | ≤ 8 s |")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=30)
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
