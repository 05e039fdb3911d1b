"""End to end in a real browser: Debian's Chromium driven by Playwright against the launched app, in
Japanese and in English. Skips when Chromium or Playwright is not installed (`.ci/run` installs both).

Screenshots go to $GALLERY_SCREENSHOTS (if set) or the test's temporary folder.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
TEXT = {
    "ja": {"tab_ae": "AE によるノイズ除去", "tab_vae": "VAE の潜在空間", "denoised": "デノイジング AE",
           "decoded": "z から復号した画像", "interp": "補間する", "interp_out": "VAE：A から B へ復号したフレーム",
           "section": "2 つの数字の間の補間", "link": "この設定のリンク", "title": "生成モデル・ギャラリー"},
    "en": {"tab_ae": "AE denoising", "tab_vae": "VAE latent space", "denoised": "Denoising AE",
           "decoded": "Decoded at z", "interp": "Interpolate", "interp_out": "VAE: decoded frames from A to B",
           "section": "Interpolation between two digits", "link": "Link to this",
           "title": "Generative Models Gallery"},
}

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def app_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("the app did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


# The src of the <img> inside the visible component whose label is exactly ``label`` (null when empty).
IMAGE_SRC_JS = """(label) => {
    const labels = [...document.querySelectorAll('[data-testid="block-label"]')]
        .filter(l => l.textContent.trim() === label && l.offsetParent !== null);
    const img = labels.length ? labels[0].closest('.block').querySelector('img') : null;
    return img ? img.getAttribute('src') : null;
}"""


# The tabs after AE and VAE, each with its main action as a student would do it, as i18n keys: (screenshot name, tab
# title, main button, output image, example to pick first (its index, or "upload" to upload UPLOAD instead) or None,
# number field to change first or None, choice to click first or None). CycleGAN's examples are read from the data
# folder, absent on a newcomer's machine, so it gets an upload. Several tabs show a result as soon as the page
# opens, so each action changes an input first: the same input gives the same picture again, which the page could
# not tell from no answer at all. The
# DDPM tab samples with DDIM (switching to it sets 50 steps), a second instead of DDPM's 1000 steps.
TAB_ACTIONS = [
    ("dcgan", "dcgan.title", "dcgan.run", "dcgan.averaged", None, "dcgan.noise_seed", None),
    ("dcgan_windows", "dcgan_windows.title", "dcgan_windows.run", "dcgan_windows.figure", None,
     "dcgan_windows.control_seed", None),
    ("conditional", "conditional.title", "conditional.run", "conditional.samples", None, "common.seed", None),
    ("pix2pix", "pix2pix.title", "pix2pix.run_sketch", "pix2pix.gan", 1, None, None),
    ("cyclegan", "cyclegan.title", "cyclegan.run", "cyclegan.translated", "upload", None, None),
    ("cartoongan", "cartoongan.title", "cartoongan.run", "cartoongan.final", 1, None, None),
    ("deepdream", "deepdream.title", "deepdream.run", "deepdream.output", 1, None, None),
    ("ddpm", "ddpm.title", "ddpm.run", "ddpm.r_xt", None, None, "ddpm.sampler_ddim"),
    ("vqvae", "vqvae.title", "vqvae.encode_run", "vqvae.recon", 3, None, None),
]
UPLOAD = ROOT / "demos" / "examples" / "photos" / "astronaut.jpg"


def draw_stroke(page, pad: str, start, end):
    """Draw a line on the drawing pad ``pad`` (a CSS selector) from ``start`` to ``end`` (fractions of its size)."""
    box = page.locator(f"{pad} canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1], steps=12)
    page.mouse.up()


def wait_until_quiet(page, activity: list, quiet_s=5.0, timeout_s=120.0):
    """Wait until ``quiet_s`` seconds pass without a new entry in ``activity`` (the times of the page's requests to
    the server, recorded by a ``page.on("request")`` listener), or ``timeout_s``."""
    deadline = time.time() + timeout_s
    while time.time() < deadline and time.time() - max(activity, default=0) < quiet_s:
        page.wait_for_timeout(500)


def wait_for_pad(page, pad: str, activity: list):
    """Wait until the drawing pad ``pad`` is ready for a stroke: its canvas is drawn and it has loaded its image (it
    then uploads it and fires its upload event; on a busy machine this takes tens of seconds, and a stroke made
    before it is lost when the image arrives)."""
    page.locator(f"{pad} canvas").first.wait_for(timeout=120_000)
    wait_until_quiet(page, activity)


def gallery_tabs():
    """The gallery's tabs (app.TABS): their strings name the buttons to press, in each language."""
    import app

    return app.TABS


def open_tab(page, title: str):
    """Click the tab called ``title``, through Gradio's "More tabs" menu when the tab bar has no room for it."""
    tab = page.get_by_role("tab", name=title, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.locator('button[aria-label="More tabs"]').first.click()
    page.locator("button:visible", has_text=title).last.click()


# Whether some component shows Gradio's progress indicator (its status tracker without the "hide" class).
BUSY_JS = """() => [...document.querySelectorAll('[data-testid="status-tracker"]')]
    .some(e => e.offsetParent !== null && !e.classList.contains('hide'))"""


def settle(page, timeout=15_000):
    """Wait until no component shows Gradio's progress indicator (an example travelling to its input, a tab's first
    computation), or ``timeout``; a busy page is not an error in itself, the checks after it wait for what matters.
    (Playwright's "networkidle" never comes: Gradio keeps a connection open.)"""
    page.wait_for_timeout(300)
    try:
        page.wait_for_function(f"() => !({BUSY_JS})()", timeout=timeout)
    except Exception:  # noqa: BLE001
        pass
    page.wait_for_timeout(300)


# The text a student sees in the visible tab: text nodes that are rendered, outside maths (KaTeX) and code.
VISIBLE_TEXT_JS = """(root) => {
    const out = [];
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
        const el = node.parentElement;
        if (!el || el.closest('.katex, code, pre, script, style, [aria-hidden="true"], .hidden')) continue;
        if (!el.checkVisibility || !el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
        const rect = el.getBoundingClientRect();
        if (rect.width === 0 || rect.height === 0) continue;
        out.push(node.textContent);
    }
    return out.join(' ');
}"""
# Names, units and symbols that stay as they are in the Japanese UI (model and method names, metrics, datasets).
NAMES = {
    "AE", "VAE", "ELBO", "KL", "DCGAN", "GAN", "GANs", "cGAN", "pix2pix", "CycleGAN", "CartoonGAN", "DeepDream", "DDPM",
    "DDIM", "DPM", "VQ", "VQ-VAE", "MNIST", "PSNR", "dB", "ImageNet", "EfficientNet", "EfficientNet-Lite0", "Lite0",
    "U-Net", "PatchGAN", "Net", "ReLU", "Adam", "PyTorch", "Gradio", "API", "MCP", "URL", "PNG", "JPEG", "WebP",
    "GIF", "CPU", "GPU", "px", "JSON", "LSUN", "L1", "L2", "RGB", "VGG", "VGG19", "Hub", "Hugging", "Face", "LPIPS",
    "FID", "SSIM", "Wasserstein", "WGAN", "Goodfellow", "Kingma", "Welling", "Radford", "Isola", "Zhu", "Mordvintsev",
    "Ho", "Chen", "Song", "van", "den", "Oord", "Vincent", "et", "al", "arXiv", "NeurIPS", "ICLR", "CVPR", "ICCV",
    "OpenMoji", "Noto", "Lanczos", "BCE", "MSE", "SNR", "Tanh", "tanh", "sigmoid", "Hinton", "Bengio", "Alain",
    "JMLR", "Sobel", "Canny", "HED", "scikit", "image", "skimage", "CC0", "CC", "BY", "SA", "Apache", "MIT",
    "EfficientNet-Lite", "BY-SA", "scikit-image", "GoogLeNet", "Chu", "Inception", "AUC",
    # cited as written: authors, the pix2pix paper's title and its edges2cats demo, the diffusers library, units
    "Abbeel", "Jain", "Efros", "Zhou", "Image-to-Image", "Translation", "with", "Conditional", "Adversarial",
    "Networks", "edges", "cats", "pix", "diffusers", "log", "ms", "AC-GAN", "cVAE", "Mirza", "Osindero", "Odena",
    "Olah", "Shlens", "Sohn", "Lee", "Yan", "Vinyals", "Kavukcuoglu", "Lu",
    # terms of the field quoted as such beside their Japanese (VQ-VAE: "posterior collapse", EMA, argmin, sg, …)
    "EMA", "PixelCNN", "Transformer", "argmin", "collapse", "posterior", "exp", "k-means", "one-hot", "sg",
    # the GAN lab: its losses, optimizers and metrics by their names, the papers it cites, its api's words
    "LSGAN", "WGAN-GP", "MLP", "RMSProp", "SGD", "rmsprop", "adam", "sgd", "critic", "Mao", "Arjovsky", "Gulrajani",
    "Metz", "Srivastava", "Jensen", "Shannon", "Jensen–Shannon", "JS", "Lipschitz", "clip", "truncation", "Brock",
    # CartoonGAN keeping the photo's colours: the colour space and the paper's first author
    "CIELAB", "Gatys",
    # CycleGAN's brightness layer, by the name of its technique
    "FiLM",
}
# The labels of pictures and drawing pads (in ``root``) whose text runs under their box's buttons (full screen,
# download; a pad's tools): "label [N px under]". A label hidden there cannot be read (the DCGAN tab's "A₁ − B₁ + C₁"
# was).
LABELS_UNDER_BUTTONS_JS = """(root) => {
    const out = [];
    root.querySelectorAll('.block > label').forEach((label) => {
        const buttons = label.parentElement.querySelector('.icon-button-wrapper.top-panel');
        if (!buttons || !label.offsetParent || !label.textContent.trim()) return;
        const range = document.createRange();
        range.selectNodeContents(label);
        const b = buttons.getBoundingClientRect();
        for (const r of range.getClientRects()) {
            if (r.width > 0 && r.right > b.left + 1 && r.bottom > b.top && r.top < b.bottom) {
                out.push(`${label.textContent.trim()} [${Math.round(r.right - b.left)} px under]`);
                break;
            }
        }
    });
    return out;
}"""
ENGLISH_WORD = r"[A-Za-z][A-Za-z'’-]+"
JAPANESE = r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]"


def wrong_language(text: str, lang: str) -> list[str]:
    """Words of the other language in ``text``: English words (outside NAMES) in the Japanese UI, any kana or kanji
    in the English UI."""
    import re

    if lang == "ja":
        return sorted({w for w in re.findall(ENGLISH_WORD, text) if w not in NAMES and w.strip("'’-") not in NAMES})
    return sorted(set(re.findall(JAPANESE, text)))


def image_src(page, label: str):
    return page.evaluate(IMAGE_SRC_JS, label)


def wait_for_image(page, label: str, not_src=None, timeout=60_000):
    """Wait until the component labelled ``label`` shows an image (other than ``not_src``)."""
    page.wait_for_function(f"([label, old]) => {{ const src = ({IMAGE_SRC_JS})(label); return src && src !== old; }}",
                           arg=[label, not_src], timeout=timeout)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_tab_in_a_real_browser(app_url, lang, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    t = TEXT[lang]
    shots = Path(os.environ.get("GALLERY_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # A classroom projector: 1366×768.
        page = browser.new_page(locale={"ja": "ja-JP", "en": "en-US"}[lang], viewport={"width": 1366, "height": 768},
                                accept_downloads=True)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(app_url)
        page.get_by_text(t["title"]).first.wait_for(timeout=30_000)
        from demos.i18n import make_i18n

        keys = make_i18n(gallery_tabs()).translations_dict[lang]
        wrong = {}  # tab -> words of the other language seen in it

        # Every tab title in view (no "…" menu), on the projector's width.
        titles = [keys[f"{tab.id}.title"] for tab in gallery_tabs()]
        tab_bar = page.get_by_role("tablist").first  # the gallery's (a tab may have tabs of its own)
        shown = tab_bar.get_by_role("tab").all_inner_texts()
        assert [title.strip() for title in shown] == titles
        assert all(tab.is_visible() for tab in tab_bar.get_by_role("tab").all())
        assert page.locator('button[aria-label="More tabs"]:visible').count() == 0

        # AE tab: the page opens with a real digit and its results; picking another input changes them.
        wait_for_image(page, t["denoised"])
        settle(page)
        before = image_src(page, t["denoised"])
        page.locator("button.gallery-item").nth(20).click()  # the letter A (out of distribution)
        wait_for_image(page, t["denoised"], not_src=before)
        settle(page)
        page.screenshot(path=str(shots / f"browser_ae_{lang}.png"), full_page=True)
        ae_panel = page.locator(".tabitem:visible").first.element_handle()
        wrong["ae"] = wrong_language(page.evaluate(VISIBLE_TEXT_JS, ae_panel), lang)
        hidden = {"ae": page.evaluate(LABELS_UNDER_BUTTONS_JS, ae_panel)}  # tab -> labels under their buttons
        # A slide of the result: one 1920×1080 PNG.
        page.get_by_role("button", name=keys["slide.button"], exact=True).first.click()
        link = page.locator(".tabitem:visible .slide-export a[download]").first
        link.wait_for(timeout=30_000)
        with page.expect_download() as download:
            link.click()
        import PIL.Image

        with PIL.Image.open(download.value.path()) as slide:
            assert slide.size == (1920, 1080)

        # GAN lab: the page opens on a run at step 0; ▶ trains it and the picture keeps changing; ❚❚ stops it.
        open_tab(page, keys["gan_lab.title"])
        frame = page.locator(".tabitem:visible img.gan-lab-frame").first
        frame.wait_for(timeout=120_000)
        settle(page)
        page.get_by_role("button", name=keys["gan_lab.play"], exact=True).first.click()
        pictures, deadline = {frame.get_attribute("src")}, time.time() + 60
        while len(pictures) < 5 and time.time() < deadline:
            pictures.add(frame.get_attribute("src"))
            page.wait_for_timeout(100)
        page.get_by_role("button", name=keys["gan_lab.pause"], exact=True).first.click()
        assert len(pictures) >= 5  # the first picture and at least 4 new ones while it played
        page.wait_for_timeout(2_000)  # the chunk that was running ends at its next picture
        still = frame.get_attribute("src")
        page.wait_for_timeout(2_000)
        assert frame.get_attribute("src") == still  # paused
        page.screenshot(path=str(shots / f"browser_gan_lab_{lang}.png"), full_page=True)
        wrong["gan_lab"] = wrong_language(page.evaluate(VISIBLE_TEXT_JS, page.locator(".tabitem:visible").first
                                                        .element_handle()), lang)

        # VAE tab: the map decodes on click; an interpolation between two picked test digits.
        page.get_by_role("tab", name=t["tab_vae"]).click()
        wait_for_image(page, t["decoded"])
        page.get_by_text(t["section"], exact=False).first.click()
        tab = page.locator(".tabitem:visible")
        examples = tab.locator("button.gallery-item")
        examples.nth(1).click()  # A: a 0 (the first 4 examples are for A, the next 4 for B)
        examples.nth(5).click()  # B: a 6
        settle(page)  # both canvases have received their example
        page.get_by_role("button", name=t["interp"], exact=True).click()
        wait_for_image(page, t["interp_out"])
        page.get_by_role("button", name=t["link"]).first.click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('textarea,input')].some(e => e.value.includes('tab=vae'))",
            timeout=10_000)
        page.screenshot(path=str(shots / f"browser_vae_{lang}.png"), full_page=True)
        hidden["vae"] = page.evaluate(LABELS_UNDER_BUTTONS_JS, tab.first.element_handle())

        for name, tab_key, button_key, output_key, example, number_key, choice_key in TAB_ACTIONS:
            open_tab(page, keys[tab_key])
            panel = page.locator(".tabitem:visible")
            settle(page, timeout=180_000)  # the tab's first view (DDPM: a 100-step run) may take long on a busy machine
            before = image_src(page, keys[output_key])
            if example == "upload":
                panel.locator("input[type=file]").first.set_input_files(str(UPLOAD))
                settle(page)
            elif example is not None:
                panel.locator("button.gallery-item").nth(example).click()
                settle(page)
            if number_key is not None:
                panel.get_by_label(keys[number_key], exact=True).first.fill("7")
            if choice_key is not None:
                panel.get_by_label(keys[choice_key], exact=True).first.check()
                settle(page, timeout=3_000)
            panel.get_by_role("button", name=keys[button_key], exact=True).first.click()
            try:
                wait_for_image(page, keys[output_key], not_src=before, timeout=180_000)
            finally:
                page.screenshot(path=str(shots / f"browser_{name}_{lang}.png"), full_page=True)
            wrong[name] = wrong_language(page.evaluate(VISIBLE_TEXT_JS, panel.first.element_handle()), lang)
            hidden[name] = page.evaluate(LABELS_UNDER_BUTTONS_JS, panel.first.element_handle())

        toasts = page.locator(".toast-body").all_inner_texts()
        browser.close()
    assert not errors, errors
    assert not toasts, toasts
    assert not any(wrong.values()), {tab: words for tab, words in wrong.items() if words}
    assert not any(hidden.values()), {tab: labels for tab, labels in hidden.items() if labels}


def test_drawing_on_the_ae_tab_changes_the_result(app_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    t = TEXT["ja"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="ja-JP", viewport={"width": 1366, "height": 768})
        activity = []  # when the page sent each request to the server (uploads, events)
        page.on("request", lambda r: activity.append(time.time()) if "/gradio_api/" in r.url else None)
        page.goto(app_url)
        from demos.i18n import make_i18n

        keys = make_i18n(gallery_tabs()).translations_dict["ja"]
        wait_for_image(page, t["denoised"])
        wait_for_pad(page, "#ae-canvas", activity)
        before = image_src(page, t["denoised"])
        draw_stroke(page, "#ae-canvas", (0.2, 0.2), (0.85, 0.35))
        wait_for_image(page, t["denoised"], not_src=before)
        # After "clear" the pen is still the tool: a drawn digit reaches the model.
        page.locator(f'#ae-canvas button[aria-label="{keys["image_editor.clear_canvas"]}"]').first.click()
        page.wait_for_timeout(500)
        assert "highlight" in (page.locator(f'#ae-canvas button[aria-label="{keys["image_editor.brush"]}"]')
                               .first.get_attribute("class"))
        before = image_src(page, t["denoised"])
        draw_stroke(page, "#ae-canvas", (0.5, 0.2), (0.5, 0.8))
        wait_for_image(page, t["denoised"], not_src=before)

        browser.close()


def upload_to_pix2pix_photo_box(browser, app_url: str, keys: dict, path):
    """A new Japanese page of the app on pix2pix's "from a photo" tab, the file ``path`` given to its photo box."""
    page = browser.new_page(locale="ja-JP", viewport={"width": 1366, "height": 768})
    page.goto(app_url)
    page.get_by_text(TEXT["ja"]["title"]).first.wait_for(timeout=30_000)
    open_tab(page, keys["pix2pix.title"])
    page.get_by_role("tab", name=keys["pix2pix.photo_tab"], exact=True).first.click()
    page.locator(".tabitem:visible").last.locator("input[type=file]").first.set_input_files(str(path))
    return page


def test_notices_are_titled_in_the_pages_language(app_url, tmp_path):
    """A photo larger than the app reads (pix2pix's photo box) is shrunk, with a notice: Gradio titles it "Warning"
    in English whatever the language, and app.TOAST_TITLES_JS renames it in the page's language."""
    sync_api = pytest.importorskip("playwright.sync_api")
    import PIL.Image

    from demos.i18n import COMMON, make_i18n

    keys = make_i18n(gallery_tabs()).translations_dict["ja"]
    with PIL.Image.open(UPLOAD) as photo:
        photo.convert("RGB").resize((1500, 1500)).save(tmp_path / "big.jpg")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = upload_to_pix2pix_photo_box(browser, app_url, keys, tmp_path / "big.jpg")
        settle(page)
        page.get_by_role("button", name=keys["pix2pix.run_photo"], exact=True).first.click()
        toast = page.locator(".toast-body").first
        toast.wait_for(timeout=60_000)
        page.wait_for_timeout(300)
        title = toast.locator(".toast-title").first.inner_text()
        text = toast.inner_text()
        browser.close()
    assert title.split()[0] == COMMON.text("toast.warning", lang="ja")
    assert "1500" in text and "Warning" not in text


def test_a_file_over_the_upload_limit_is_refused_in_the_pages_language(app_url, tmp_path):
    """Gradio's client refuses a file over ``max_file_size`` before uploading it, with an English message whatever the
    language; app.TOAST_TITLES_JS says it in the page's language (Japanese here), with the limit and the file's name."""
    sync_api = pytest.importorskip("playwright.sync_api")
    import app
    from demos.i18n import make_i18n

    keys = make_i18n(gallery_tabs()).translations_dict["ja"]
    big = tmp_path / "huge_photo.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(11 * 2**20))  # over the 10 MB limit; never read by the app
    assert app.MAX_FILE_SIZE == "10mb"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = upload_to_pix2pix_photo_box(browser, app_url, keys, big)
        toast = page.locator(".toast-body").first
        toast.wait_for(timeout=30_000)
        page.wait_for_timeout(300)
        text = toast.inner_text()
        browser.close()
    assert "ファイルが大きすぎます" in text and "huge_photo.png" in text and "10.0 Mb" in text
    assert "exceed" not in text and "エラー" in text
