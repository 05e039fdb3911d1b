"""Load test: N concurrent gradio_client clients, each sending M mixed requests over every tab's api,
against the app launched on loopback (a classroom opening the gallery at once). Not a CI test.

    python bench/load_test.py --scenario classroom  # 30 students in browsers for 3 minutes (bench/classroom.py)
    python bench/load_test.py --scenario gan_lab    # 30 students playing the GAN lab at once, 5 on other tabs
    python bench/load_test.py --scenario together   # 30 students press "Dream" on the same photo at the same moment

    python bench/load_test.py                       # 10 clients x 20 requests
    python bench/load_test.py --concurrency 1       # compare with another queue setting

Prints, per api: requests, errors, median and 95th-percentile latency. ``--concurrency`` sets
``GALLERY_CONCURRENCY`` (Gradio's default_concurrency_limit) and ``--torch-threads`` sets
``GALLERY_TORCH_THREADS`` for the launched app.

Heavy jobs beside the light tabs (do dreams freeze the AE tab?)::

    python bench/load_test.py --heavy-clients 3 --heavy-concurrency 3   # before: 3 dreams at once
    python bench/load_test.py --heavy-clients 3                         # after: the "heavy" queue runs 1 at a time
    python bench/load_test.py --clients 1 --requests 40 --apis /ae_denoise /vae_decode /vae_encode --heavy-clients 3
                                                                        # one student on AE/VAE while 3 others dream
    python bench/load_test.py --clients 1 --requests 40 --apis /ae_denoise /vae_decode /vae_encode --heavy-clients 3 \\
        --protocol browser                                              # the same, timed as a browser sees it

``--heavy-clients K`` adds K clients that keep asking for DeepDream (256 px, 2 octaves x 5 iterations; or, with
``--heavy-api /ddpm_sample``, 16 digits by 1000 DDPM steps) for as long as the light clients run;
``--heavy-concurrency`` sets ``GALLERY_HEAVY_CONCURRENCY``, how many heavy jobs the app lets be in progress at once,
computing in turns (default 2; ``demos/turns.py``).
"""

import argparse
import atexit
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradio_client import handle_file  # noqa: E402

from bench.benchmark import DIGIT, OTHER, editor, free_port, percentile, wait_for  # noqa: E402
from bench.classroom import TOGETHER_ACTIONS, own_photo  # noqa: E402
from clients.browser_protocol import BrowserProtocolClient  # noqa: E402

PHOTO = ROOT / "demos" / "examples" / "photos" / "chelsea.jpg"
# CycleGAN gets a photo nobody sent before each time (bench/classroom.py: own_photo): a repeated one would be
# answered from memory (demos/remember.py) and this test would no longer load the heavy queue.
PHOTO_FOLDER = tempfile.mkdtemp(prefix="load-test-photos-")
atexit.register(shutil.rmtree, PHOTO_FOLDER, True)
EDGES = sorted((ROOT / "demos" / "examples" / "pix2pix").glob("*.png"))[0]

REQUESTS = {
    "/ae_denoise": lambda: (editor(DIGIT), random.choice(["gaussian", "salt_pepper", "mask"]), 0.5, 0.2, 0.5,
                            random.randint(0, 999)),
    "/vae_decode": lambda: (random.uniform(-2, 2), random.uniform(-2, 2)),
    "/vae_encode": lambda: (editor(DIGIT),),
    "/vae_interpolate": lambda: (editor(DIGIT), editor(OTHER), 8, random.choice(["linear", "spherical"])),
    "/dcgan_grid": lambda: (random.randint(0, 999),),
    "/dcgan_arithmetic": lambda: ("0:1, 0:2, 0:3", "0:4, 0:5, 0:6", "1:0, 1:1, 1:2", 0.25, random.randint(0, 999)),
    "/dcgan_forget_windows": lambda: (random.randint(0, 999), 8, "zero", 0, False),
    "/pix2pix": lambda: (editor(EDGES), False, 0),
    "/cyclegan": lambda: (handle_file(own_photo(random, PHOTO_FOLDER)), random.choice(["a2b", "b2a"]), 256, 10, 2),
    "/ddpm_forward": lambda: (editor(DIGIT), random.randint(0, 999), 0),
}




HEAVY_REQUESTS = {  # one job of each heavy api: a dream of 256 px, or 16 digits by DDPM's 1000 steps
    "/deepdream": lambda: (handle_file(str(PHOTO)), "block7", "mean_square", 256, 2, 1.4, 5, 0.02, 16,
                           random.randint(0, 999), None),
    "/ddpm_sample": lambda: ("", "ddpm", 1000, 16, random.randint(0, 999), 50),
}


def heavy_loop(url, stop, times, errors, lock, api="/deepdream"):
    """Keep one heavy job in the app's queue until ``stop`` is set."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    while not stop.is_set():
        t = time.perf_counter()
        try:
            client.predict(*HEAVY_REQUESTS[api](), api_name=api)
        except Exception as err:  # counted and reported
            with lock:
                errors[f"{api} (heavy)"].append(repr(err)[:200])
            continue
        with lock:
            times[f"{api} (heavy)"].append((time.perf_counter() - t) * 1000)


def make_client(url, protocol):
    """A light client: ``gradio_client`` or one that speaks the browser's protocol (``clients/browser_protocol.py``)."""
    if protocol == "browser":
        return BrowserProtocolClient(url)
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False)


def client_loop(url, n, seed, times, errors, lock, apis=tuple(REQUESTS), protocol="gradio_client"):
    rng = random.Random(seed)
    client = make_client(url, protocol)
    for _ in range(n):
        api = rng.choice(apis)
        args = REQUESTS[api]()
        t = time.perf_counter()
        try:
            client.predict(*args, api_name=api)
            ok = True
        except Exception as err:  # counted and reported, never hidden
            ok = False
            with lock:
                errors[api].append(repr(err)[:200])
        with lock:
            if ok:
                times[api].append((time.perf_counter() - t) * 1000)


@contextlib.contextmanager
def launched_app(args):
    """``python app.py`` on a free port with the settings of ``args`` (those left out: the app's defaults); yields
    its url and process id once it serves the page, and stops it afterwards."""
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    for variable, value in (("GALLERY_CONCURRENCY", args.concurrency), ("GALLERY_TORCH_THREADS", args.torch_threads),
                            ("GALLERY_HEAVY_CONCURRENCY", args.heavy_concurrency)):
        if value:
            env[variable] = str(value)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def classroom_main(args):
    """``--scenario classroom``: the app launched as a teacher would (its defaults), a class of students."""
    from bench.classroom import classroom, gan_lab_class, lab_report, report, together, together_report

    with launched_app(args) as (url, pid):
        if args.scenario == "together":
            return together_report(together(url, args.students, args.together_action, server_pid=pid))
        if args.scenario == "gan_lab":
            results, steps = gan_lab_class(url, args.students, args.minutes)
        else:
            results = classroom(url, args.students, args.minutes, args.own_photos, server_pid=pid)
    if args.scenario == "gan_lab":
        lab_report(results, steps, args.students, args.minutes, 5)
    else:
        report(results, args.students, args.minutes,
               f"{args.students} students going through the tabs, thinking 5-15 s between clicks, "
               f"{args.own_photos:.0%} of the photos their own")


def main(args):
    if args.scenario in ("classroom", "gan_lab", "together"):
        return classroom_main(args)
    with launched_app(args) as (url, _):
        times, errors, lock = defaultdict(list), defaultdict(list), threading.Lock()
        warm_up = make_client(url, args.protocol)  # every api once, so that lazy model loading is not timed
        for api in [*(args.apis or REQUESTS), *([args.heavy_api] if args.heavy_clients else [])]:
            warm_up.predict(*{**REQUESTS, **HEAVY_REQUESTS}[api](), api_name=api)
        stop = threading.Event()
        heavy = [threading.Thread(target=heavy_loop, args=(url, stop, times, errors, lock, args.heavy_api))
                 for _ in range(args.heavy_clients)]
        for th in heavy:
            th.start()
        if heavy:
            time.sleep(5)  # let the dreams start first
        t0 = time.perf_counter()
        apis = tuple(args.apis or REQUESTS)
        threads = [threading.Thread(target=client_loop,
                                    args=(url, args.requests, i, times, errors, lock, apis, args.protocol))
                   for i in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t0
        stop.set()
        for th in heavy:
            th.join()
    total = sum(len(v) for v in times.values()) + sum(len(v) for v in errors.values())
    print(f"{args.clients} clients x {args.requests} requests = {total} in {wall:.1f} s "
          f"(concurrency limit {args.concurrency or 'app default'}, "
          f"torch threads {args.torch_threads or 'app default'}, "
          f"{args.heavy_clients} heavy {args.heavy_api} clients, "
          f"heavy concurrency {args.heavy_concurrency or 'app default (2)'}, "
          f"light clients speak the {args.protocol} protocol)\n")
    print("| api | requests | errors | median | p95 |")
    print("|---|---|---|---|---|")
    for api in [*(args.apis or REQUESTS), *([f"{args.heavy_api} (heavy)"] if args.heavy_clients else [])]:
        ts = times.get(api, [])
        n = len(ts) + len(errors.get(api, []))
        med = f"{statistics.median(ts):.0f} ms" if ts else "–"
        p95 = f"{percentile(ts, 0.95):.0f} ms" if ts else "–"
        print(f"| `{api}` | {n} | {len(errors.get(api, []))} | {med} | {p95} |")
    for api, errs in errors.items():
        print(f"\n{api} errors (first 3): {errs[:3]}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", choices=["mixed", "classroom", "gan_lab", "together"], default="mixed",
                   help="mixed: --clients x --requests over the apis; classroom: --students in browsers going "
                        "through the tabs; gan_lab: --students playing the GAN lab at once; together: --students "
                        "press the same button on the same photo at the same moment (bench/classroom.py)")
    p.add_argument("--together-action", choices=TOGETHER_ACTIONS, default="/deepdream",
                   help="together: the button they press")
    p.add_argument("--students", type=int, default=30, help="classroom: students")
    p.add_argument("--minutes", type=float, default=3.0, help="classroom: how long the class works")
    p.add_argument("--own-photos", type=float, default=0.5,
                   help="classroom: the share of the photo tabs' clicks with a student's own photo (the others: one "
                        "of the gallery's example photos)")
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--concurrency", type=int, help="Gradio's default_concurrency_limit for the app")
    p.add_argument("--torch-threads", type=int, help="torch.set_num_threads for the app")
    p.add_argument("--heavy-clients", type=int, default=0, help="clients that keep DeepDream busy meanwhile")
    p.add_argument("--heavy-api", choices=list(HEAVY_REQUESTS), default="/deepdream",
                   help="what the heavy clients ask for")
    p.add_argument("--apis", nargs="*", choices=list(REQUESTS), help="only these apis for the light clients")
    p.add_argument("--heavy-concurrency", type=int, help="GALLERY_HEAVY_CONCURRENCY for the app (default 2)")
    p.add_argument("--protocol", choices=["gradio_client", "browser"], default="gradio_client",
                   help="how the light clients call the app: gradio_client (polls every 50 ms) or the browser's "
                        "own protocol (clients/browser_protocol.py), which is what a student waits for")
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
