"""Drive the app in headless Chromium (Debian's, through Playwright) and save a screenshot of every tab
in Japanese and in English, after performing its main action. Used for the README's pictures and to
look at the app as a student would.

    apt-get install chromium fonts-noto-cjk          # once
    python bench/screenshots.py --out docs/screenshots

Not a test: it prints what it did, the browser console errors and the Gradio error toasts it saw.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TABS = {"ae": {"ja": "AE によるノイズ除去", "en": "AE denoising"}, "vae": {"ja": "VAE の潜在空間", "en": "VAE latent space"}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(url)


def ae_action(page, lang):
    """Pick the out-of-distribution letter A, then switch to salt & pepper noise."""
    tab = page.locator(".tabitem:visible")
    tab.locator("button.gallery-item").nth(20).click()  # after the 20 MNIST digits: the letter A
    page.wait_for_timeout(1500)
    page.get_by_role("radio", name="ごま塩ノイズ" if lang == "ja" else "Salt & pepper").click()
    page.wait_for_timeout(1500)


def vae_action(page, lang):
    """Click the latent map, open every section, interpolate a pair of test digits, encode the letter A."""
    tab = page.locator(".tabitem:visible")
    tab.locator("img").first.click(position={"x": 120, "y": 160})
    page.wait_for_timeout(800)
    for name in ({"ja": ["復号された多様体", "2 つの数字の間の補間", "自分の絵を符号化する"],
                  "en": ["The decoded manifold", "Interpolation between two digits", "Encode your drawing"]}[lang]):
        page.get_by_text(name, exact=False).first.click()
        page.wait_for_timeout(800)
    examples = tab.locator("button.gallery-item")
    examples.nth(1).click()  # A: the second example for A (a 0); 4 for A, then 4 for B, then 3 for the encoder
    examples.nth(5).click()  # B: the second example for B (a 6)
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="補間する" if lang == "ja" else "Interpolate").click()
    page.wait_for_timeout(1500)
    tab.locator("button.gallery-item").last.click()  # the letter A
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="符号化する" if lang == "ja" else "Encode", exact=True).click()
    page.wait_for_timeout(2500)


def main(args):
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT,
                            env=dict(os.environ, GRADIO_ANALYTICS_ENABLED="False"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    problems = []
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            for lang in ("ja", "en"):
                ctx = browser.new_context(locale={"ja": "ja-JP", "en": "en-US"}[lang], viewport={"width": 1400, "height": 1000})
                page = ctx.new_page()
                page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
                page.goto(url)
                page.wait_for_timeout(3000)
                for tab, names in TABS.items():
                    page.get_by_role("tab", name=names[lang]).click()
                    page.wait_for_timeout(1500)
                    {"ae": ae_action, "vae": vae_action}[tab](page, lang)
                    toasts = page.locator(".toast-body").all_inner_texts()
                    problems += [f"{lang}/{tab} toast: {t}" for t in toasts]
                    path = out / f"{tab}_{lang}.png"
                    page.screenshot(path=str(path), full_page=True)
                    print("saved", path)
                ctx.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print("\n".join(problems) if problems else "no console errors, no error toasts")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    p.add_argument("--chromium", default="/usr/bin/chromium")
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
