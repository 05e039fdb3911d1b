"""Drive the app in headless Chromium (Debian's, through Playwright) and save a screenshot of every tab
in Japanese and in English, after performing its main action (the same actions as tests/test_browser.py).
Used for the README's pictures and to look at the app as a student would.

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
TABS = {"ae": {"ja": "AE によるノイズ除去", "en": "AE denoising"},
        "vae": {"ja": "VAE の潜在空間", "en": "VAE latent space"}}


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


# The other tabs: (screenshot name, tab title, main button, output image, example to pick first or None), i18n keys.
# The app runs without the data folder here (GALLERY_DATA_DIR points nowhere), so that no training photo (no
# licence, not to be redistributed) ends up in a committed screenshot: CycleGAN gets an upload instead (index "upload").
OTHER_TABS = [
    ("dcgan", "dcgan.title", "dcgan.run", "dcgan.averaged", None),
    ("dcgan_windows", "dcgan_windows.title", "dcgan_windows.run", "dcgan_windows.figure", None),
    ("pix2pix", "pix2pix.title", "pix2pix.run_sketch", "pix2pix.gan", 1),
    ("cyclegan", "cyclegan.title", "cyclegan.run", "cyclegan.translated", "upload"),
    ("cartoongan", "cartoongan.title", "cartoongan.run", "cartoongan.final", 1),
    ("deepdream", "deepdream.title", "deepdream.run", "deepdream.output", 1),
    ("ddpm", "ddpm.title", "ddpm.run", "ddpm.r_xt", None),
    ("vqvae", "vqvae.title", "vqvae.sample_run", "vqvae.gallery", None),
]
UPLOAD = ROOT / "demos" / "examples" / "photos" / "astronaut.jpg"


def gallery_tabs():
    """The gallery's tabs (app.TABS): their strings name the buttons to press, in each language."""
    import app

    return app.TABS


def generic_action(button_key, example):
    """Pick an example (if any), press the tab's main button and give the result time to arrive."""
    def action(page, lang):
        from demos.i18n import make_i18n

        keys = make_i18n(gallery_tabs()).translations_dict[lang]
        tab = page.locator(".tabitem:visible")
        if example == "upload":
            tab.locator("input[type=file]").first.set_input_files(str(UPLOAD))
            page.wait_for_timeout(2500)
        elif example is not None:
            tab.locator("button.gallery-item").nth(example).click()
            page.wait_for_timeout(1500)
        tab.get_by_role("button", name=keys[button_key], exact=True).first.click()
        page.wait_for_timeout(12000)
    return action


def launch(command: list[str]):
    port = free_port()
    proc = subprocess.Popen([sys.executable, *command, "--port", str(port)] if command[0] == "app.py" else
                            [sys.executable, *command], cwd=ROOT,
                            env=dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", GRADIO_SERVER_PORT=str(port),
                                     GALLERY_DATA_DIR=str(ROOT / "no-data-for-screenshots")),
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
            ctx = browser.new_context(locale={"ja": "ja-JP", "en": "en-US"}[lang],
                                      viewport={"width": 1366, "height": 768})  # a classroom projector
            page = ctx.new_page()
            page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
            page.goto(url)
            page.wait_for_timeout(3000)
            if tab_name:
                from tests.test_browser import open_tab

                open_tab(page, tab_name)
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
            from demos.i18n import make_i18n

            for lang in ("ja", "en"):
                for tab, names in TABS.items():
                    if not args.only or tab in args.only:
                        visit(url, lang, tab, {"ae": ae_action, "vae": vae_action}[tab], names[lang])
                for name, tab_key, button_key, _output, example in OTHER_TABS:
                    if args.only and name not in args.only:
                        continue
                    title = make_i18n(gallery_tabs()).translations_dict[lang][tab_key]
                    visit(url, lang, name, generic_action(button_key, example), title)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        browser.close()
    print("\n".join(problems) if problems else "no console errors, no error toasts")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--only", nargs="*", help="only these screenshots, e.g. --only cyclegan ddpm")
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
