"""Drive the app in headless Chromium (Debian's, through Playwright) and save a screenshot of every tab
in Japanese and in English, after performing its main action. Used for the README's pictures and to
look at the app as a student would.

    apt-get install chromium fonts-noto-cjk          # once
    python bench/screenshots.py --out docs/screenshots

Not a test: it prints what it did, the browser console errors and the Gradio error toasts it saw.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmark import free_port, wait_for  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TABS = {"ae": {"ja": "AE によるノイズ除去", "en": "AE denoising"}, "vae": {"ja": "VAE の潜在空間", "en": "VAE latent space"}}


def shrink(path: Path):
    """Screenshots go into the README: a 256-colour palette keeps them a fraction of the size."""
    import PIL.Image

    with PIL.Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256, method=PIL.Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


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


def deepdream_action(page, lang):
    """Pick chelsea and dream (the tab runs alone: python -m demos.deepdream)."""
    page.locator("button.gallery-item").nth(1).click()
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="夢を見る" if lang == "ja" else "Dream", exact=True).click()
    page.wait_for_timeout(6000)


# Tabs built and tested but not yet placed in app.py: (module, action)
STANDALONE = {"deepdream": ("demos.deepdream", deepdream_action)}


def launch(command: list[str]):
    port = free_port()
    proc = subprocess.Popen([sys.executable, *command, "--port", str(port)] if command[0] == "app.py" else
                            [sys.executable, *command], cwd=ROOT,
                            env=dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", GRADIO_SERVER_PORT=str(port)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    wait_for(url)
    return proc, url


def main(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    problems = []
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)

        def visit(url, lang, name, action, tab_name=None):
            ctx = browser.new_context(locale={"ja": "ja-JP", "en": "en-US"}[lang], viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
            page.goto(url)
            page.wait_for_timeout(3000)
            if tab_name:
                page.get_by_role("tab", name=tab_name).click()
                page.wait_for_timeout(1500)
            action(page, lang)
            problems.extend(f"{lang}/{name} toast: {t}" for t in page.locator(".toast-body").all_inner_texts())
            path = out / f"{name}_{lang}.png"
            page.screenshot(path=str(path), full_page=True)
            shrink(path)
            print("saved", path)
            ctx.close()

        proc, url = launch(["app.py"])
        try:
            for lang in ("ja", "en"):
                for tab, names in TABS.items():
                    visit(url, lang, tab, {"ae": ae_action, "vae": vae_action}[tab], names[lang])
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        for name, (module, action) in STANDALONE.items():
            proc, url = launch(["-m", module])
            try:
                for lang in ("ja", "en"):
                    visit(url, lang, name, action)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        browser.close()
    print("\n".join(problems) if problems else "no console errors, no error toasts")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    p.add_argument("--chromium", default="/usr/bin/chromium")
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
