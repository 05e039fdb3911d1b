"""What opening the gallery costs the server. Each tab computes something when the student first sees it (loads
its models, shows a first example): the tab the page opens on does it at once, the others when they are first
selected (``demos/share.py: when_shown``). One page open still sends every tab's "load" event to the queue, which
answers at once for the tabs not shown.

    python bench/page_open.py                 # the first visitor, then a class of 10 at once
    python bench/page_open.py --students 20

1. The first visitor of a freshly started app, in Chromium (Debian's, through Playwright): the time until the
   first tab shows its result (the AE tab's denoised digit; the AE models load then), and how many events
   the page sent to the queue.
2. A class opening the page at once: N students send the page's load events (read from the app's /config) the
   way the browser does (``clients/browser_protocol.py``'s protocol), without N browsers rendering on the same two
   cores (ten Chromium pages on this machine take far longer to draw than the server takes to answer): the time
   until each student's first tab is ready, and until all of the page's load events are answered. Not a test.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmark import free_port, wait_for  # noqa: E402
from bench.timing import percentile  # noqa: E402
from clients.browser_protocol import BrowserProtocolClient  # noqa: E402
from tests.test_browser import CHROMIUM_ARGS  # noqa: E402

# The src of the visible AE "denoised" output image (English page).
FIRST_RESULT_JS = """() => {
    const labels = [...document.querySelectorAll('[data-testid="block-label"]')]
        .filter(l => l.textContent.trim() === 'Denoising AE' && l.offsetParent !== null);
    return labels.length > 0 && !!labels[0].closest('.block').querySelector('img');
}"""


def visit(browser, url: str) -> tuple[float, int]:
    """Open the page in a new browser context: (seconds to the first result, events sent to the queue)."""
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    joins = []
    page.on("request", lambda r: joins.append(r.url) if "/queue/join" in r.url else None)
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_function(FIRST_RESULT_JS, timeout=120_000, polling=50)
    seconds = time.perf_counter() - t0
    page.wait_for_timeout(2000)  # let the other tabs' load events go out too, to count them
    context.close()
    return seconds, len(joins)


def open_like_a_browser(url: str, loads: list[dict], out: list, lock: threading.Lock):
    """One student's page open, server side: every load event joins the queue, then wait until all are
    completed. Appends {fn index: seconds from the first join until completed}."""
    client = BrowserProtocolClient(url)
    t0 = time.perf_counter()
    events = {client.join(dep["id"], []): dep["id"] for dep in loads}
    joining = time.perf_counter() - t0
    completed = client.completions(events)
    failed = [msg.get("output") for msg in completed.values() if not msg.get("success")]
    if failed:
        raise RuntimeError(f"a load event failed: {failed[0]}")
    with lock:
        out.append({events[e]: joining + msg["seconds"] for e, msg in completed.items()})


def main(args):
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", GALLERY_LANG="en")
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            seconds, events = visit(browser, url)
            browser.close()
        print(f"first visitor, in Chromium (the AE models load): first tab's result after {seconds:.2f} s, "
              f"{events} events sent to the queue while opening")
        loads = [d for d in httpx.get(url + "config").json()["dependencies"]
                 if any(t[1] == "load" for t in d["targets"])]
        first_tab = min(d["id"] for d in loads)  # the AE tab's, the first one registered
        for students in (1, args.students):
            out, lock = [], threading.Lock()
            threads = [threading.Thread(target=open_like_a_browser, args=(url, loads, out, lock))
                       for _ in range(students)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            firsts, alls = [d[first_tab] for d in out], [max(d.values()) for d in out]
            print(f"{students} student(s) opening at once ({len(loads)} load events each): first tab ready after "
                  f"median {statistics.median(firsts):.2f} s (p95 {percentile(firsts, 0.95):.2f} s), "
                  f"every load event answered after "
                  f"median {statistics.median(alls):.2f} s (p95 {percentile(alls, 0.95):.2f} s)")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def parse_args(argv=None):
    import shutil

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=10)
    p.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
