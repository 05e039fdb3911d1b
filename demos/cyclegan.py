"""CycleGAN tab: horse photos ↔ horses made of clouds, and what the cycle hides.

Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
ICCV 2017. Two generators, G: A → B (horse → cloud horse) and F: B → A, are trained on two *unpaired*
sets of images with

    L = L_GAN(G, D_B) + L_GAN(F, D_A) + λ (‖F(G(a)) − a‖₁ + ‖G(F(b)) − b‖₁) + 0.5 λ (‖G(b) − b‖₁ + ‖F(a) − a‖₁)

The tab runs the whole cycle x → G(x) → F(G(x)) and shows where the reconstruction fails (a heat map
of |F(G(x)) − x|). Because F must rebuild x from G(x) alone, G tends to hide information about x in
G(x) as a faint, high-frequency signal (Chu, Zhmoginov & Sandler 2017, "CycleGAN, a master of
steganography"); the tab shows G(x)'s fine detail amplified, and how much the reconstruction changes
when G(x) receives an invisible amount of noise.

Weights: ``pretrained/cyclegan-horse2cloudhorse`` (G) and ``pretrained/cyclegan-cloudhorse2horse`` (F),
trained by ``training/train_cyclegan.py``. Inputs of any size: the longer side is resized to the chosen
resolution, the image is reflect-padded to a multiple of 4, translated, and cropped back, so the aspect
ratio is kept.

The tab opens on scikit-image's cat (``examples/photos/chelsea.jpg``, the only photos we may ship: the horse photos
have no licence) turned into a "cloud cat" and back, computed once per process.

Run this tab alone with ``python -m demos.cyclegan``.
"""

import json
import os
import threading
from pathlib import Path

import gradio as gr
import PIL.Image
import torch
from torch.nn import functional as F

from demos import controls
from demos.common import check_choice, check_range, load_or_explain, show_weights_problem, weights_status
from demos.i18n import current_language
from demos.image_input import EXAMPLE_PHOTOS, photo_input, photo_to_tensor, wire_photo
from demos.kit import LATEX, Page, Tab, demo_cache, heavy_queue
from demos.remember import Remembered
from demos.share import query_value, share_query, share_row, wire_share
from models.cyclegan import CycleGANGenerator
from models.imaging import strip, to_pil

TAB = Tab(id="cyclegan", strings={
    "title": {"en": "CycleGAN", "ja": "CycleGAN（馬 ↔ 雲の馬）"},
    "input": {"en": "Photo: a horse or a cloud horse", "ja": "写真：馬、または雲でできた馬"},
    "direction": {"en": "Direction", "ja": "変換の向き"},
    "a2b": {"en": "Horse → cloud horse (G), then back (F)", "ja": "馬 → 雲の馬（G）、そして元へ（F）"},
    "b2a": {"en": "Cloud horse → horse (F), then back (G)", "ja": "雲の馬 → 馬（F）、そして元へ（G）"},
    "examples": {
        "en": "Held-out test images (never seen in training)",
        "ja": "テスト用に取り分けた画像（学習には使っていません）",
    },
    "resolution": {
        "en": "Resolution (longer side, px; the aspect ratio is kept)",
        "ja": "解像度（長辺 px。縦横比は保たれます）",
    },
    "amplify": {"en": "Gain of the amplified view", "ja": "増幅表示の倍率"},
    "noise": {
        "en": "Noise added to the translation (± steps of 1/255)",
        "ja": "変換結果に加えるノイズ（± 1/255 単位）",
    },
    "run": {"en": "Translate, then back", "ja": "変換して一周させる"},
    "as_used": {"en": "Input x", "ja": "入力 x"},
    "translated": {"en": "Translation", "ja": "変換結果"},
    "reconstructed": {"en": "Back again", "ja": "元に戻した画像"},
    "heat": {"en": "Error (dark = exact)", "ja": "誤差（暗いほど正確）"},
    "amplified": {"en": "Fine detail, amplified", "ja": "細かい成分（増幅）"},
    "noisy": {"en": "Back again, after noise", "ja": "ノイズ後に戻した画像"},
    "figures": {
        "en": (
            "**Cycle error** mean $|{backward}({forward}(x)) - x|$ = **{cycle}** (pixels in [0, 1]; the heat map is "
            "brightest at {vmax}).  \nWith noise of ±{noise}/255 added to the translation (invisible): **{noisy}**. "
            "{backward} changes its output **{gain}×** as much as the noise changed its input."
        ),
        "ja": (
            "**サイクル誤差** $|{backward}({forward}(x)) - x|$ の平均 = **{cycle}**（画素値は [0, 1]。ヒートマップは "
            "{vmax} で最も明るくなります）。  \n変換結果に目に見えない ±{noise}/255 "
            "のノイズを加えると：**{noisy}**。{backward} の出力は、入力に加えたノイズの **{gain} 倍** 変化しました。"
        ),
    },
    "failures": {"en": "Honest failures (held-out test images)", "ja": "正直な失敗例（テスト用画像）"},
    "failures_note": {
        "en": (
            "Each strip: input, translation, back again, error. The failures are computed from held-out test photos, "
            "so they appear only where the training photos are installed (they are not redistributed)."
        ),
        "ja": (
            "各帯：入力、変換結果、元に戻した画像、誤差。失敗例はテスト用写真から計算するため、学習用の写真がインストー"
            "ルされている環境でのみ表示されます（写真は再配布しません）。"
        ),
    },
    "slide_caption": {
        "en": ("CycleGAN translates a photo to the other domain and back again (x → G(x) → F(G(x))); the error map "
               "shows where the cycle does not return exactly to x."),
        "ja": ("CycleGAN は写真をもう一方の領域へ変換し、さらに元へ戻します（x → G(x) → F(G(x))）。誤差マップは、"
               "一周して x に正確に戻らなかった場所を示します。"),
    },
    "slide_equation": {
        "en": r"\mathcal{L}_{cyc} = \mathbb{E}_x\,\|F(G(x)) - x\|_1 + \mathbb{E}_y\,\|G(F(y)) - y\|_1",
        "ja": r"\mathcal{L}_{cyc} = \mathbb{E}_x\,\|F(G(x)) - x\|_1 + \mathbb{E}_y\,\|G(F(y)) - y\|_1",
    },
})

SLUG_G = "cyclegan-horse2cloudhorse"   # G: A (horse photo) -> B (cloud horse)
SLUG_F = "cyclegan-cloudhorse2horse"   # F: B -> A
DIRECTIONS = ("a2b", "b2a")
TRAINING_COMMAND = "python training/train_cyclegan.py --data-dir ../shared/data --device cuda --max-minutes 20"
LIMITS = {  # min, max, default
    "resolution": (64, 512, 256),   # longer side in px
    "amplify": (1, 50, 10),         # gain of the high-pass view
    "noise": (0, 8, 2),             # amplitude of the uniform noise added to G(x), in 1/255 steps
}
ERROR_RANGE = 0.25  # |F(G(x)) - x| (mean over RGB, pixels in [0, 1]) shown at full brightness in the heat map
EXAMPLES = Path(__file__).parent / "examples" / "cyclegan"   # names of test photos (the photos are not shipped)
FIRST_PHOTO = EXAMPLE_PHOTOS / "chelsea.jpg"  # what the tab opens on: a cat, which G also turns into clouds


# --- the computation (plain functions, unit-tested) -----------------------------------------

@torch.inference_mode()
def translate(generator: CycleGANGenerator, x: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) in [0, 1] -> the translation, same size: reflect-pad to a multiple of 4, run, crop back."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % 4, (-w) % 4
    padded = F.pad(x, [0, pw, 0, ph], mode="reflect") if (ph or pw) else x
    return generator(padded)[..., :h, :w].clamp(0, 1)


def quantize(x: torch.Tensor) -> torch.Tensor:
    """To 8 bits and back, as an image saved as PNG would be."""
    return (x * 255).round() / 255


def heatmap(error: torch.Tensor, vmax: float = ERROR_RANGE) -> torch.Tensor:
    """(1, 1, H, W) errors -> (1, 3, H, W) colours: black (0) → purple → orange → light yellow (≥ vmax)."""
    stops = torch.tensor([[0.0, 0.0, 0.02], [0.34, 0.06, 0.43], [0.73, 0.21, 0.33], [0.98, 0.55, 0.04],
                          [0.99, 1.0, 0.64]])
    t = (error / vmax).clamp(0, 1) * (len(stops) - 1)
    lo = t.floor().long().clamp(max=len(stops) - 2)
    frac = (t - lo)[:, 0, ..., None]                                    # (1, H, W, 1)
    colours = stops[lo[:, 0]] * (1 - frac) + stops[lo[:, 0] + 1] * frac  # (1, H, W, 3)
    return colours.permute(0, 3, 1, 2).contiguous()


def high_pass(y: torch.Tensor, radius: int = 2) -> torch.Tensor:
    """y minus its local mean over a (2r+1)² window (reflect-padded): the fine, low-contrast part of y."""
    r = min(radius, y.shape[-2] - 1, y.shape[-1] - 1)
    if r <= 0:
        return torch.zeros_like(y)
    return y - F.avg_pool2d(F.pad(y, [r, r, r, r], mode="reflect"), 2 * r + 1, stride=1)


def run_cycle(forward: CycleGANGenerator, backward: CycleGANGenerator, x: torch.Tensor, amplify: float = 10.0,
              noise: float = 2.0, seed: int = 0) -> dict:
    """The whole cycle for one image x (1, 3, H, W) in [0, 1]:

    translated = G(x) (8-bit, as shown), reconstructed = F(G(x)), heat = |F(G(x)) − x| as colours,
    amplified = 0.5 + amplify · high_pass(G(x)), noisy_reconstruction = F(G(x) + n) with n uniform in
    ±noise/255, and the figures: cycle L1, the same with the noise, and how much F magnifies the noise.
    """
    y = quantize(translate(forward, x))
    rec = translate(backward, y)
    err = (rec - x).abs().mean(dim=1, keepdim=True)
    gen = torch.Generator().manual_seed(seed)
    n = (torch.rand(y.shape, generator=gen) * 2 - 1) * noise / 255
    y_noisy = (y + n).clamp(0, 1)
    rec_noisy = translate(backward, y_noisy)
    noise_size = float((y_noisy - y).abs().mean())
    return {
        "translated": y,
        "reconstructed": rec,
        "heat": heatmap(err),
        "amplified": (0.5 + amplify * high_pass(y)).clamp(0, 1),
        "noisy_reconstruction": rec_noisy,
        "cycle_l1": float(err.mean()),
        "cycle_l1_noisy": float((rec_noisy - x).abs().mean()),
        "noise_l1": noise_size,
        "noise_gain": float((rec_noisy - rec).abs().mean()) / noise_size if noise_size > 0 else 0.0,
    }


# --- Gradio handlers -----------------------------------------------------------------------

def load_generators(direction: str):
    """(forward, backward) generators for ``direction``: a2b = (G, F), b2a = (F, G); a Problem if missing."""
    check_choice(direction, DIRECTIONS)
    g = load_or_explain(CycleGANGenerator, SLUG_G, TRAINING_COMMAND)
    f = load_or_explain(CycleGANGenerator, SLUG_F, TRAINING_COMMAND)
    return (g, f) if direction == "a2b" else (f, g)


def figures_markdown(r: dict, direction: str, noise: float) -> str:
    return TAB.text("figures", cycle=f"{r['cycle_l1']:.4f}", noisy=f"{r['cycle_l1_noisy']:.4f}",
                    noise=f"{noise:g}", gain=f"{r['noise_gain']:.1f}", vmax=f"{ERROR_RANGE:g}",
                    forward="G" if direction == "a2b" else "F", backward="F" if direction == "a2b" else "G")


def cycle_outputs(x: torch.Tensor, r: dict, direction: str, noise: float) -> dict:
    """``run_cycle``'s results for ``x`` as the tab's outputs, by name (the figures in the current language)."""
    return {"as_used": to_pil(x), "translated": to_pil(r["translated"]), "reconstructed": to_pil(r["reconstructed"]),
            "heat": to_pil(r["heat"]), "amplified": to_pil(r["amplified"]),
            "noisy": to_pil(r["noisy_reconstruction"]), "figures": figures_markdown(r, direction, noise)}


def cyclegan(image, direction: str, resolution: int, amplify: float, noise: float) -> dict:
    """The tab's main action (api ``/cyclegan``): (input as used, translation, reconstruction, error heat map,
    amplified fine detail of the translation, reconstruction from the translation plus noise, figures)."""
    side = int(check_range(resolution, *LIMITS["resolution"][:2], TAB.phrase("resolution")))
    amplify = check_range(amplify, *LIMITS["amplify"][:2], TAB.phrase("amplify"))
    noise = check_range(noise, *LIMITS["noise"][:2], TAB.phrase("noise"))
    forward, backward = load_generators(direction)
    x = photo_to_tensor(image, side)
    return cycle_outputs(x, run_cycle(forward, backward, x, amplify, noise), direction, noise)


@demo_cache(maxsize=8)
def first_cycle(direction: str, side: int, amplify: float, noise: float) -> tuple[torch.Tensor, dict]:
    """(x, ``run_cycle``'s results) for ``FIRST_PHOTO``: computed once per setting, not once per student."""
    forward, backward = load_generators(direction)
    with PIL.Image.open(FIRST_PHOTO) as img:
        x = photo_to_tensor(img, side)
    return x, run_cycle(forward, backward, x, amplify, noise)


# Students who open the tab together wait for one computation of the first view, not one each.
_first_view_lock = threading.Lock()


def first_view(settings: dict) -> dict:
    """What the tab opens on: ``FIRST_PHOTO`` in the photo box and its cycle with ``settings`` (a share link's or
    the defaults) in the outputs."""
    direction, noise = settings["direction"], settings["noise"]
    with _first_view_lock:
        x, r = first_cycle(direction, settings["resolution"], settings["amplify"], noise)
    return {"photo": str(FIRST_PHOTO), **cycle_outputs(x, r, direction, noise)}


def data_dir() -> Path:
    """Where the training photos are (for the examples and failures; they are not shipped with the app)."""
    return Path(os.environ.get("GALLERY_DATA_DIR", Path(__file__).resolve().parent.parent.parent / "shared" / "data"))


def example_rows() -> list[list]:
    """[[path, direction]]: the held-out test photos named in ``examples/cyclegan/examples.json`` — copies shipped
    in that folder if any, else the originals in the data folder if it is there, else none."""
    shipped = [[str(p), "a2b"] for p in sorted(EXAMPLES.glob("horse_*.jpg"))]
    shipped += [[str(p), "b2a"] for p in sorted(EXAMPLES.glob("cloudhorse_*.jpg"))]
    if shipped:
        return shipped
    names = json.loads((EXAMPLES / "examples.json").read_text())
    rows = [[data_dir() / "hcaptcha" / name, d] for d in DIRECTIONS for name in names[d]]
    return [[str(path), d] for path, d in rows if path.is_file()]


def _direction_of(name: str) -> str:
    return "b2a" if name.startswith("horse_made_of_clouds/") else "a2b"


@demo_cache(maxsize=32)
def failure_strip(forward, backward, path: str) -> PIL.Image.Image:
    """input | translation | reconstruction | error heat map of the photo at ``path``, side by side, at its own
    size (at most 256 px); computed once per pair of generators."""
    with PIL.Image.open(path) as img:
        x = photo_to_tensor(img.convert("RGB"), 256)
    r = run_cycle(forward, backward, x, noise=0)
    return to_pil(strip(torch.cat([x, r["translated"], r["reconstructed"], r["heat"]]), pad=0))


def failure_items() -> list[tuple[PIL.Image.Image, str]]:
    """(strip, caption in the student's language) for each failure in ``examples/cyclegan/failures.json`` whose
    photo is in the data folder; computed with the loaded generators."""
    index = EXAMPLES / "failures.json"
    if not index.is_file():
        return []
    lang = current_language()
    items = []
    for item in json.loads(index.read_text()):
        path = data_dir() / "hcaptcha" / item["file"]
        if not path.is_file():
            continue
        forward, backward = load_generators(_direction_of(item["file"]))
        items.append((failure_strip(forward, backward, str(path)), item.get(lang, item["en"])))
    return items


def cyc_share_query(direction: str, resolution, amplify, noise) -> str:
    """The query string of a share link to this tab with these settings (never the photo)."""
    return share_query(TAB, direction=direction, resolution=int(resolution), amplify=float(amplify),
                       noise=float(noise))


def settings_from_query(request: gr.Request | None) -> dict:
    """{direction, resolution, amplify, noise} from a share link, the defaults for whatever is absent or
    invalid."""
    numbers = {name: query_value(request, name, cast, LIMITS[name][0], LIMITS[name][1], default=LIMITS[name][2])
               for name, cast in (("resolution", int), ("amplify", float), ("noise", float))}
    return {"direction": query_value(request, "direction", str, choices=DIRECTIONS, default="a2b"), **numbers}


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): load both generators (if weights are missing,
    say so and disable only this tab); restore a share link's settings and show the example photo's cycle with
    them (``first_view``); show the failures, numbered, with their captions in the student's language below."""
    settings = settings_from_query(request)
    try:
        load_generators("a2b")
    except gr.Error as err:
        return {"status": show_weights_problem(err), "run": gr.update(interactive=False), **settings}
    items = failure_items()
    captions = "\n".join(f"{i}. {caption}" for i, (_strip, caption) in enumerate(items, 1))
    return {**first_view(settings), "status": gr.update(visible=False), "run": gr.update(interactive=True),
            "failures": gr.update(value=stack_strips([s for s, _caption in items]) if items else None,
                                  visible=bool(items)),
            "captions": gr.update(value=captions, visible=bool(items)), **settings}


def stack_strips(strips: list[PIL.Image.Image], height: int = 128) -> PIL.Image.Image:
    """The failure strips one above the other (each scaled to ``height``), numbered 1, 2, ... on the left."""
    import PIL.ImageDraw

    scaled = [s.resize((round(s.width * height / s.height), height), PIL.Image.BICUBIC) for s in strips]
    margin = 28
    sheet = PIL.Image.new("RGB", (margin + max(s.width for s in scaled), len(scaled) * (height + 4) - 4), "white")
    draw = PIL.ImageDraw.Draw(sheet)
    for i, s in enumerate(scaled):
        top = i * (height + 4)
        sheet.paste(s, (margin, top))
        draw.text((8, top + height // 2 - 6), str(i + 1), fill="black")
    return sheet


@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown)."""
    _ = TAB.ui
    # PNG, not Gradio's default WebP: a lossy copy of the translation would lose the signal that F reads.
    # "fit-box": the app's CSS may enlarge small pictures (a 128-px photo) to fill their box on a projector.
    image_opts = dict(type="pil", interactive=False, format="png", height=280, elem_classes=["fit-box"])
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=280):
                photo = photo_input(_("input"), height=240)
                direction = controls.Radio([(_("a2b"), "a2b"), (_("b2a"), "b2a")], value="a2b", label=_("direction"))
                run = gr.Button(_("run"), variant="primary")
                resolution = controls.Slider(*LIMITS["resolution"][:2], value=LIMITS["resolution"][2], step=32,
                                             label=_("resolution"))
                amplify = controls.Slider(*LIMITS["amplify"][:2], value=LIMITS["amplify"][2], step=1,
                                          label=_("amplify"))
                noise = controls.Slider(*LIMITS["noise"][:2], value=LIMITS["noise"][2], step=0.5, label=_("noise"))
                rows = example_rows()
                if rows:
                    gr.Examples(rows, inputs=[photo, direction], label=_("examples"), examples_per_page=12,
                                visible_columns=[0])  # picking one also sets its direction
                share_button, share_link = share_row()
            with gr.Column(scale=6, min_width=360):
                # Two pictures a row, so that each is at least 256 px wide on a projector (1366 px).
                with gr.Row():
                    seen = gr.Image(label=_("as_used"), buttons=["fullscreen"], **image_opts)
                    translated = gr.Image(label=_("translated"), buttons=["download", "fullscreen"], **image_opts)
                with gr.Row():
                    reconstructed = gr.Image(label=_("reconstructed"), buttons=["fullscreen"], **image_opts)
                    heat = gr.Image(label=_("heat"), buttons=["fullscreen"], **image_opts)
                figures = gr.Markdown(latex_delimiters=LATEX)
                with gr.Row():
                    amplified = gr.Image(label=_("amplified"), buttons=["fullscreen"], **image_opts)
                    noisy = gr.Image(label=_("noisy"), buttons=["fullscreen"], **image_opts)
                page.slide_button(results=[seen, translated, reconstructed, heat], settings=[direction, resolution])
                with gr.Accordion(_("failures"), open=False):
                    gr.Markdown(_("failures_note"))
                    failures = gr.Image(label=_("failures"), visible=False, show_label=False, type="pil",
                                        interactive=False, buttons=["fullscreen"])
                    failure_captions = gr.Markdown(visible=False)
            with gr.Column(scale=3, min_width=280):
                TAB.explanation()
        # The api's outputs, in this order (gradio_client sees a tuple): what cyclegan returns, by name.
        outputs = {"as_used": seen, "translated": translated, "reconstructed": reconstructed, "heat": heat,
                   "amplified": amplified, "noisy": noisy, "figures": figures}
        wire_photo(page, photo)
        page.on(run.click, cyclegan, [photo, direction, resolution, amplify, noise], outputs, api_name="cyclegan",
                remember=Remembered(), **heavy_queue())  # the same photo again: at once (demos/remember.py)
        wire_share(page, share_button, share_link, cyc_share_query, [direction, resolution, amplify, noise])
        page.when_shown(demo, open_tab, {
            "status": status, "run": run, "failures": failures, "captions": failure_captions, "photo": photo,
            "direction": direction, "resolution": resolution, "amplify": amplify, "noise": noise, **outputs})
    return demo


if __name__ == "__main__":
    TAB.launch()
