"""Load test: N concurrent gradio_client clients, each sending M mixed requests over every tab's api,
against the app launched on loopback (a classroom opening the gallery at once). Not a CI test.

    python bench/load_test.py                       # 10 clients x 20 requests
    python bench/load_test.py --concurrency 1       # compare with another queue setting

Prints, per api: requests, errors, median and 95th-percentile latency. ``--concurrency`` sets
``GALLERY_CONCURRENCY`` (Gradio's default_concurrency_limit) and ``--torch-threads`` sets
``GALLERY_TORCH_THREADS`` for the launched app.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmark import DIGIT, OTHER, editor, free_port, percentile, wait_for  # noqa: E402

REQUESTS = {
    "/ae_denoise": lambda: (editor(DIGIT), random.choice(["gaussian", "salt_pepper", "mask"]), 0.5, 0.2, 0.5,
                            random.randint(0, 999)),
    "/vae_decode": lambda: (random.uniform(-2, 2), random.uniform(-2, 2)),
    "/vae_encode": lambda: (editor(DIGIT),),
    "/vae_interpolate": lambda: (editor(DIGIT), editor(OTHER), 8, random.choice(["linear", "spherical"])),
}


def client_loop(url, n, seed, times, errors, lock):
    from gradio_client import Client

    rng = random.Random(seed)
    client = Client(url, verbose=False, download_files=False)
    for _ in range(n):
        api = rng.choice(list(REQUESTS))
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


def main(args):
    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    if args.concurrency:
        env["GALLERY_CONCURRENCY"] = str(args.concurrency)
    if args.torch_threads:
        env["GALLERY_TORCH_THREADS"] = str(args.torch_threads)
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url)
        times, errors, lock = defaultdict(list), defaultdict(list), threading.Lock()
        client_loop(url, 4, 0, defaultdict(list), defaultdict(list), lock)  # warm up (lazy model loading)
        t0 = time.perf_counter()
        threads = [threading.Thread(target=client_loop, args=(url, args.requests, i, times, errors, lock))
                   for i in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    total = sum(len(v) for v in times.values()) + sum(len(v) for v in errors.values())
    print(f"{args.clients} clients x {args.requests} requests = {total} in {wall:.1f} s "
          f"(concurrency limit {args.concurrency or 'app default'}, torch threads {args.torch_threads or 'app default'})\n")
    print("| api | requests | errors | median | p95 |")
    print("|---|---|---|---|---|")
    for api in REQUESTS:
        ts = times.get(api, [])
        n = len(ts) + len(errors.get(api, []))
        med = f"{statistics.median(ts):.0f} ms" if ts else "–"
        p95 = f"{percentile(ts, 0.95):.0f} ms" if ts else "–"
        print(f"| `{api}` | {n} | {len(errors.get(api, []))} | {med} | {p95} |")
    for api, errs in errors.items():
        print(f"\n{api} errors (first 3): {errs[:3]}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--concurrency", type=int, help="Gradio's default_concurrency_limit for the app")
    p.add_argument("--torch-threads", type=int, help="torch.set_num_threads for the app")
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
