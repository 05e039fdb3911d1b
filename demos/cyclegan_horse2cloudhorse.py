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

Run this tab alone with ``python -m demos.cyclegan_horse2cloudhorse``.
"""

import functools
import json
import os
from pathlib import Path

import PIL.Image
import torch
from torch.nn import functional as F

import gradio as gr

from demos.common import (LATEX, check_range, explanation, heavy_queue, load_or_explain, show_weights_problem,
                          weights_status)
from demos.i18n import _, request_language, text
from demos.image_input import photo_input, photo_to_tensor, tensor_to_pil
from demos.share import query_value, share_query, share_row, when_shown, wire_share
from models.cyclegan import CycleGANGenerator

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
    stops = torch.tensor([[0.0, 0.0, 0.02], [0.34, 0.06, 0.43], [0.73, 0.21, 0.33], [0.98, 0.55, 0.04], [0.99, 1.0, 0.64]])
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

def load_generators(direction: str, request: gr.Request | None = None):
    """(forward, backward) generators for ``direction``: a2b = (G, F), b2a = (F, G); gr.Error if missing."""
    if direction not in DIRECTIONS:
        raise gr.Error(text("err.choice", request, value=direction, choices=", ".join(DIRECTIONS)))
    g = load_or_explain(CycleGANGenerator, SLUG_G, TRAINING_COMMAND, request)
    f = load_or_explain(CycleGANGenerator, SLUG_F, TRAINING_COMMAND, request)
    return (g, f) if direction == "a2b" else (f, g)


def figures_markdown(r: dict, direction: str, noise: float, request: gr.Request | None = None) -> str:
    return text("cyc.figures", request, cycle=f"{r['cycle_l1']:.4f}", noisy=f"{r['cycle_l1_noisy']:.4f}",
                noise=f"{noise:g}", gain=f"{r['noise_gain']:.1f}", vmax=f"{ERROR_RANGE:g}",
                forward="G" if direction == "a2b" else "F", backward="F" if direction == "a2b" else "G")


def cyclegan(image, direction: str, resolution: int, amplify: float, noise: float,
             request: gr.Request | None = None):
    """The tab's main action (api ``/cyclegan``): (input as used, translation, reconstruction, error heat map,
    amplified fine detail of the translation, reconstruction from the translation plus noise, figures)."""
    side = int(check_range(resolution, *LIMITS["resolution"][:2], "cyc.resolution", request))
    amplify = check_range(amplify, *LIMITS["amplify"][:2], "cyc.amplify", request)
    noise = check_range(noise, *LIMITS["noise"][:2], "cyc.noise", request)
    forward, backward = load_generators(direction, request)
    x = photo_to_tensor(image, side, request)
    r = run_cycle(forward, backward, x, amplify, noise)
    return (tensor_to_pil(x), tensor_to_pil(r["translated"]), tensor_to_pil(r["reconstructed"]),
            tensor_to_pil(r["heat"]), tensor_to_pil(r["amplified"]), tensor_to_pil(r["noisy_reconstruction"]),
            figures_markdown(r, direction, noise, request))


def data_dir() -> Path:
    """Where the training photos are (for the examples and failures; they are not shipped with the app)."""
    return Path(os.environ.get("GALLERY_DATA_DIR", Path(__file__).resolve().parent.parent.parent / "shared" / "data"))


def example_rows() -> list[list]:
    """[[path, direction]]: the held-out test photos named in ``examples/cyclegan/examples.json`` — copies shipped in
    that folder if any, else the originals in the data folder if it is there, else none."""
    shipped = [[str(p), "a2b"] for p in sorted(EXAMPLES.glob("horse_*.jpg"))]
    shipped += [[str(p), "b2a"] for p in sorted(EXAMPLES.glob("cloudhorse_*.jpg"))]
    if shipped:
        return shipped
    names = json.loads((EXAMPLES / "examples.json").read_text())
    rows = [[data_dir() / "hcaptcha" / name, d] for d in DIRECTIONS for name in names[d]]
    return [[str(path), d] for path, d in rows if path.is_file()]


def _direction_of(name: str) -> str:
    return "b2a" if name.startswith("horse_made_of_clouds/") else "a2b"


@functools.lru_cache(maxsize=32)
def failure_strip(forward, backward, path: str) -> PIL.Image.Image:
    """input | translation | reconstruction | error heat map of the photo at ``path``, side by side, at its own
    size (at most 256 px); computed once per pair of generators."""
    with PIL.Image.open(path) as img:
        x = photo_to_tensor(img.convert("RGB"), 256)
    r = run_cycle(forward, backward, x, noise=0)
    return tensor_to_pil(torch.cat([x, r["translated"], r["reconstructed"], r["heat"]], dim=3))


def failure_items(request: gr.Request | None = None) -> list[tuple[PIL.Image.Image, str]]:
    """(strip, caption in the user's language) for each failure in ``examples/cyclegan/failures.json`` whose photo
    is in the data folder; computed with the loaded generators."""
    index = EXAMPLES / "failures.json"
    if not index.is_file():
        return []
    lang = request_language(request)
    items = []
    for item in json.loads(index.read_text()):
        path = data_dir() / "hcaptcha" / item["file"]
        if not path.is_file():
            continue
        forward, backward = load_generators(_direction_of(item["file"]), request)
        items.append((failure_strip(forward, backward, str(path)), item.get(lang, item["en"])))
    return items


def cyc_share_query(direction: str, resolution, amplify, noise) -> str:
    """The query string of a share link to this tab with these settings (never the photo)."""
    return share_query("cyclegan", direction=direction, resolution=int(resolution), amplify=float(amplify),
                       noise=float(noise))


def settings_from_query(request: gr.Request | None) -> list:
    """[direction, resolution, amplify, noise] from a share link, the defaults for whatever is absent or invalid."""
    numbers = [query_value(request, name, cast, LIMITS[name][0], LIMITS[name][1], default=LIMITS[name][2])
               for name, cast in (("resolution", int), ("amplify", float), ("noise", float))]
    return [query_value(request, "direction", str, choices=DIRECTIONS, default="a2b"), *numbers]


def open_tab(request: gr.Request | None = None):
    """Load both generators when the tab is first shown (if weights are missing, say so and disable only this tab);
    show the failures, numbered, with their captions in the user's language below; restore a share link's
    settings. Returns (status, run, failures, captions, direction, resolution, amplify, noise)."""
    settings = settings_from_query(request)
    try:
        load_generators("a2b", request)
    except gr.Error as err:
        return show_weights_problem(err), gr.update(interactive=False), gr.update(), gr.update(), *settings
    items = failure_items(request)
    captions = "\n".join(f"{i}. {caption}" for i, (_strip, caption) in enumerate(items, 1))
    return (gr.update(visible=False), gr.update(interactive=True),
            gr.update(value=stack_strips([strip for strip, _caption in items]) if items else None, visible=bool(items)),
            gr.update(value=captions, visible=bool(items)), *settings)


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


def create_demo(tab: gr.Tab | None = None) -> gr.Blocks:
    """The tab's Blocks; in the gallery, ``tab`` is the ``gr.Tab`` it is shown in (see ``when_shown``)."""
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=280):
                photo = photo_input(_("cyc.input"), height=260)
                direction = gr.Radio([(_("cyc.a2b"), "a2b"), (_("cyc.b2a"), "b2a")], value="a2b",
                                     label=_("cyc.direction"))
                rows = example_rows()
                if rows:
                    gr.Examples(rows, inputs=[photo, direction], label=_("cyc.examples"), examples_per_page=12,
                                visible_columns=[0])  # picking one also sets its direction
                resolution = gr.Slider(*LIMITS["resolution"][:2], value=LIMITS["resolution"][2], step=32,
                                       label=_("cyc.resolution"))
                amplify = gr.Slider(*LIMITS["amplify"][:2], value=LIMITS["amplify"][2], step=1, label=_("cyc.amplify"))
                noise = gr.Slider(*LIMITS["noise"][:2], value=LIMITS["noise"][2], step=0.5, label=_("cyc.noise"))
                run = gr.Button(_("cyc.run"), variant="primary")
                share_button, share_link = share_row()
            with gr.Column(scale=5, min_width=360):
                with gr.Row():
                    seen = gr.Image(label=_("cyc.as_used"), type="pil", interactive=False, buttons=["fullscreen"])
                    translated = gr.Image(label=_("cyc.translated"), type="pil", interactive=False, buttons=["download"])
                    reconstructed = gr.Image(label=_("cyc.reconstructed"), type="pil", interactive=False, buttons=["fullscreen"])
                with gr.Row():
                    heat = gr.Image(label=_("cyc.heat"), type="pil", interactive=False, buttons=["fullscreen"])
                    amplified = gr.Image(label=_("cyc.amplified"), type="pil", interactive=False, buttons=["fullscreen"])
                    noisy = gr.Image(label=_("cyc.noisy"), type="pil", interactive=False, buttons=["fullscreen"])
                figures = gr.Markdown(latex_delimiters=LATEX)
                with gr.Accordion(_("cyc.failures"), open=False):
                    gr.Markdown(_("cyc.failures_note"))
                    failures = gr.Image(label=_("cyc.failures"), type="pil", interactive=False, visible=False,
                                        show_label=False, buttons=["fullscreen"])
                    failure_captions = gr.Markdown(visible=False)
            with gr.Column(scale=3, min_width=280):
                explanation("cyc.explain")
        run.click(cyclegan, [photo, direction, resolution, amplify, noise],
                  [seen, translated, reconstructed, heat, amplified, noisy, figures], api_name="cyclegan",
                  **heavy_queue())
        wire_share(share_button, share_link, cyc_share_query, [direction, resolution, amplify, noise])
        when_shown(demo, tab, open_tab, [status, run, failures, failure_captions, direction, resolution, amplify, noise])
    return demo


if __name__ == "__main__":
    from demos.i18n import make_i18n

    create_demo().launch(i18n=make_i18n(), max_file_size="10mb")
