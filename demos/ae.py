"""AE denoising tab: a denoising autoencoder vs a plain autoencoder on the same noisy digit.

What it teaches: an autoencoder x̂ = g(f(x)) trained to copy clean digits has never seen
noise, so it copies much of the noise too; a *denoising* autoencoder (Vincent et al., ICML
2008) is trained on corrupted inputs x̃ with the clean x as target, so it learns where clean
digits live and pulls inputs towards them. Applied again and again, it walks even a letter or a
scribble towards a digit (the out-of-distribution examples), while a real digit stays put.

Weights: ``pretrained/ae-mnist`` (denoising) and ``pretrained/ae-mnist-plain`` (plain), both
``models.autoencoder.ConvAutoencoder`` trained on MNIST by ``training/train_autoencoder.py``.

Run this tab alone with ``python -m demos.ae``.
"""

from pathlib import Path

import gradio as gr
import numpy as np
import PIL.Image
import torch

from demos import controls
from demos.common import (
    MAX_SEED,
    check_choice,
    check_range,
    check_seed,
    load_or_explain,
    new_seed,
    seed_input,
    show_weights_problem,
    weights_status,
)
from demos.image_input import digit_canvas, image_to_digit, wire_canvas
from demos.kit import Page, Tab
from demos.share import query_value, share_query, share_row, wire_share
from models.autoencoder import ConvAutoencoder
from models.imaging import strip, to_pil
from models.noise import add_noise, psnr

TAB = Tab(id="ae", strings={
    "title": {"en": "AE denoising", "ja": "AE によるノイズ除去"},
    "input": {"en": "Your digit", "ja": "数字の入力"},
    "input_hint": {
        "en": "Draw a digit with the brush (✏️), upload an image, or pick an example below.",
        "ja": "ブラシ（✏️）で数字を描くか、画像をアップロードするか、下の例から選んでください。",
    },
    "examples_mnist": {"en": "Real MNIST test digits", "ja": "MNIST テストデータの実際の数字"},
    "examples_ood": {"en": "Not digits (out of distribution)", "ja": "数字ではない画像（分布外）"},
    "noise_kind": {"en": "Noise", "ja": "ノイズの種類"},
    "gaussian": {"en": "Gaussian", "ja": "ガウスノイズ"},
    "salt_pepper": {"en": "Salt & pepper", "ja": "ごま塩ノイズ"},
    "mask": {"en": "Masking", "ja": "マスキング"},
    "sigma": {"en": "Gaussian noise σ", "ja": "ガウスノイズの標準偏差 σ"},
    "sp_rate": {"en": "Salt & pepper rate", "ja": "ごま塩ノイズの割合"},
    "mask_fraction": {"en": "Fraction of pixels masked", "ja": "マスクする画素の割合"},
    "run": {"en": "Add noise and denoise", "ja": "ノイズを加えて除去する"},
    "clean": {"en": "Clean input", "ja": "元の入力"},
    "noisy": {"en": "Noisy input", "ja": "ノイズ入りの入力"},
    "denoised": {"en": "Denoising AE", "ja": "デノイジング AE"},
    "plain": {"en": "Plain AE", "ja": "通常の AE"},
    "removed": {"en": "Removed (red) / added (blue)", "ja": "除去（赤）／追加（青）"},
    "psnr_note": {
        "en": "PSNR against the clean input; higher is closer.",
        "ja": "PSNR は元の入力との比較です。値が大きいほど元の入力に近いことを表します。",
    },
    "repeated": {
        "en": "**The denoising AE applied again and again:** noisy input, then after 1, 2, 4, 8 and 16 passes",
        "ja": "**デノイジング AE を繰り返し適用：** ノイズ入りの入力、1・2・4・8・16 回適用した後",
    },
    "slide_caption": {
        "en": "A denoising autoencoder is trained to rebuild the clean digit from a corrupted one; a plain AE only "
              "learned to copy its input.",
        "ja": "デノイジング・オートエンコーダは劣化した数字から元の数字を復元するように学習します。"
              "通常の AE は入力を写すことしか学んでいません。",
    },
    "slide_equation": {
        "en": r"\min_{\theta,\phi}\ \mathbb{E}_{x}\,\mathbb{E}_{\tilde{x} \sim C(\tilde{x}|x)}\,"
              r"L(x,\ g_\theta(f_\phi(\tilde{x})))",
        "ja": r"\min_{\theta,\phi}\ \mathbb{E}_{x}\,\mathbb{E}_{\tilde{x} \sim C(\tilde{x}|x)}\,"
              r"L(x,\ g_\theta(f_\phi(\tilde{x})))",
    },
})

SLUG = "ae-mnist"
PLAIN_SLUG = "ae-mnist-plain"
TRAINING_COMMAND = "python training/train_autoencoder.py --data-dir ../shared/data"
ITERATION_PASSES = (1, 2, 4, 8, 16)  # the "apply it again and again" strip shows D^n(x̃) for these n
EXAMPLES = Path(__file__).parent / "examples"
FIRST_EXAMPLE = str(EXAMPLES / "mnist" / "2_0001.png")
# kind: (slider label, name in share links, min, max, default) — the three corruptions of the lecture.
NOISE_SLIDERS = {
    "gaussian": ("sigma", "sigma", 0.0, 1.0, 0.5),
    "salt_pepper": ("sp_rate", "sp", 0.0, 0.6, 0.2),
    "mask": ("mask_fraction", "mask", 0.0, 0.9, 0.5),
}


def load_models() -> tuple[ConvAutoencoder, ConvAutoencoder]:
    """(denoising AE, plain AE), loaded once, or a Problem saying how to get the weights."""
    return (
        load_or_explain(ConvAutoencoder, SLUG, TRAINING_COMMAND),
        load_or_explain(ConvAutoencoder, PLAIN_SLUG, TRAINING_COMMAND),
    )


@torch.inference_mode()
def denoise_digit(clean: torch.Tensor, kind: str, level: float, seed: int, denoiser, plain) -> dict:
    """Corrupt ``clean`` (1, 1, 28, 28) with noise ``kind`` at ``level`` (seeded), and let both autoencoders
    rebuild it. Returns the images and the PSNR (dB) of each against the clean digit."""
    noisy = add_noise(clean, kind, level, torch.Generator().manual_seed(seed))
    denoised = denoiser.reconstruct(noisy)
    plain_out = plain.reconstruct(noisy)
    return {
        "noisy": noisy,
        "denoised": denoised,
        "plain": plain_out,
        "repeated": repeat_denoiser(denoiser, noisy),
        "psnr_noisy": float(psnr(noisy, clean)),
        "psnr_denoised": float(psnr(denoised, clean)),
        "psnr_plain": float(psnr(plain_out, clean)),
    }


@torch.inference_mode()
def repeat_denoiser(denoiser, x: torch.Tensor, passes=ITERATION_PASSES) -> list[torch.Tensor]:
    """x, D(x), D(D(x)), ... kept after the numbers of passes in ``passes``.

    A denoising autoencoder's step r(x) − x points towards regions where training data are
    denser (Alain & Bengio, "What regularized auto-encoders learn from the data-generating
    distribution", JMLR 2014), so applying it again and again walks an input towards the digits
    it has learned: an input that is not a digit drifts, a real digit stays where it is.
    """
    kept, y = [x], x
    for n in range(1, max(passes) + 1):
        y = denoiser.reconstruct(y)
        if n in passes:
            kept.append(y)
    return kept


def repeated_strip(images: list[torch.Tensor], scale: int = 6) -> PIL.Image.Image:
    """A row of (1, 1, 28, 28) images with a 2-px white gap between them."""
    return to_pil(strip(torch.cat(images)), scale=scale)


def removed_map(noisy: torch.Tensor, denoised: torch.Tensor, scale: int = 10) -> PIL.Image.Image:
    """What the denoiser changed: red where it removed ink (noisy > denoised), blue where it added ink."""
    diff = (noisy - denoised).reshape(28, 28).numpy()
    rgb = np.zeros((28, 28, 3), dtype=np.float32)
    rgb[..., 0] = np.clip(diff, 0, 1)
    rgb[..., 2] = np.clip(-diff, 0, 1)
    img = PIL.Image.fromarray((rgb * 255).round().astype(np.uint8))
    return img.resize((28 * scale, 28 * scale), PIL.Image.NEAREST)


def psnr_table(result: dict) -> str:
    gain = result["psnr_denoised"] - result["psnr_noisy"]
    return (
        f"| | PSNR |\n|---|---|\n"
        f"| {TAB.text('noisy')} | {result['psnr_noisy']:.2f} dB |\n"
        f"| {TAB.text('denoised')} | **{result['psnr_denoised']:.2f} dB** ({gain:+.2f} dB) |\n"
        f"| {TAB.text('plain')} | {result['psnr_plain']:.2f} dB |\n\n"
        f"{TAB.text('psnr_note')}"
    )


def ae_denoise(image, noise_kind: str, sigma: float, sp_rate: float, mask_fraction: float, seed: int) -> dict:
    """The tab's main action (api ``/ae_denoise``):
    clean | noisy | denoising AE | plain AE | removed | PSNR table | the denoiser applied again and again."""
    return _denoise_and_show(image_to_digit(image), noise_kind, sigma, sp_rate, mask_fraction, seed)


def ae_denoise_live(image, noise_kind: str, sigma: float, sp_rate: float, mask_fraction: float, seed: int) -> dict:
    """``ae_denoise`` for the live events (canvas, sliders): a blank or cleared canvas leaves the outputs as they
    are."""
    try:
        clean = image_to_digit(image)
    except gr.Error:
        return {}
    return _denoise_and_show(clean, noise_kind, sigma, sp_rate, mask_fraction, seed)


def _denoise_and_show(clean: torch.Tensor, noise_kind, sigma, sp_rate, mask_fraction, seed) -> dict:
    check_choice(noise_kind, NOISE_SLIDERS)
    name, _param, low, high, _default = NOISE_SLIDERS[noise_kind]
    level = check_range({"gaussian": sigma, "salt_pepper": sp_rate, "mask": mask_fraction}[noise_kind], low, high,
                        TAB.phrase(name))
    seed = check_seed(seed)
    denoiser, plain = load_models()
    r = denoise_digit(clean, noise_kind, level, seed, denoiser, plain)
    return {"clean": to_pil(clean, scale=10), "noisy": to_pil(r["noisy"], scale=10),
            "denoised": to_pil(r["denoised"], scale=10), "plain": to_pil(r["plain"], scale=10),
            "removed": removed_map(r["noisy"], r["denoised"]), "psnr": psnr_table(r),
            "repeated": repeated_strip(r["repeated"])}


def show_slider_for(noise_kind: str):
    return [gr.update(visible=kind == noise_kind) for kind in NOISE_SLIDERS]


def ae_share_query(noise_kind: str, sigma: float, sp_rate: float, mask_fraction: float, seed: int) -> str:
    """The query string of a share link to this tab with these settings."""
    levels = dict(zip((param for _k, param, *_r in NOISE_SLIDERS.values()), (sigma, sp_rate, mask_fraction)))
    return share_query(TAB, noise=noise_kind, **levels, seed=int(seed or 0))


def settings_from_query(request: gr.Request | None) -> tuple[str, list[float], int]:
    """(noise kind, [σ, s&p rate, mask fraction], seed) from a share link, with defaults for what is absent."""
    kind = query_value(request, "noise", str, choices=NOISE_SLIDERS, default="gaussian")
    levels = [query_value(request, param, float, low, high, default=default)
              for _key, param, low, high, default in NOISE_SLIDERS.values()]
    return kind, levels, query_value(request, "seed", int, 0, MAX_SEED, default=0)


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): load the weights; if they are missing, show why
    and disable only this tab. Otherwise take the settings of a share link (if any), put a real MNIST test digit on
    the canvas and show its results."""
    kind, levels, seed = settings_from_query(request)
    controls = {"noise_kind": gr.update(value=kind), "seed": gr.update(value=seed),
                **{f"slider_{k}": gr.update(value=v, visible=k == kind) for k, v in zip(NOISE_SLIDERS, levels)}}
    try:
        load_models()
    except gr.Error as err:
        return {"status": show_weights_problem(err), "run": gr.update(interactive=False), **controls}
    with PIL.Image.open(FIRST_EXAMPLE) as img:
        first = ae_denoise(img.copy(), kind, *levels, seed)
    return {"status": gr.update(visible=False), "run": gr.update(interactive=True), **controls, **first}


@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown)."""
    _ = TAB.ui
    mnist_examples = sorted(str(p) for p in (EXAMPLES / "mnist").glob("*.png"))
    ood_examples = sorted(str(p) for p in (EXAMPLES / "ood").glob("*.png"))
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=280):
                gr.Markdown(_("input_hint"))
                canvas = digit_canvas(_("input"), height=330, elem_id="ae-canvas", value=FIRST_EXAMPLE)
                example_sets = [
                    gr.Examples([[p] for p in mnist_examples], inputs=[canvas], label=_("examples_mnist"),
                                examples_per_page=20),
                    gr.Examples([[p] for p in ood_examples], inputs=[canvas], label=_("examples_ood")),
                ]
            with gr.Column(scale=6, min_width=360):
                with gr.Row():
                    noise_kind = controls.Radio(
                        [(_("gaussian"), "gaussian"), (_("salt_pepper"), "salt_pepper"), (_("mask"), "mask")],
                        value="gaussian", label=_("noise_kind"), scale=3)
                    with gr.Column(scale=2, min_width=160):
                        sliders = {
                            kind: controls.Slider(low, high, value=default, step=0.05, label=_(name),
                                                  visible=kind == "gaussian")
                            for kind, (name, _param, low, high, default) in NOISE_SLIDERS.items()
                        }
                with gr.Row(equal_height=True):
                    with gr.Column(scale=3, min_width=200):
                        seed, dice = seed_input(0)
                    run = gr.Button(_("run"), variant="primary", scale=2)
                # The digits are 28 px, shown 10× with nearest-neighbour (280 px): big enough for a projector.
                image_opts = dict(type="pil", height=300, buttons=["download"], interactive=False, min_width=200,
                                  elem_classes=["pixelated"])
                with gr.Row():
                    out_noisy = gr.Image(label=_("noisy"), **image_opts)
                    out_denoised = gr.Image(label=_("denoised"), **image_opts)
                with gr.Row():
                    out_plain = gr.Image(label=_("plain"), **image_opts)
                    out_removed = gr.Image(label=_("removed"), **image_opts)
                with gr.Row():
                    out_clean = gr.Image(label=_("clean"), **image_opts)
                    with gr.Column(min_width=240):  # beside the input on a wide screen, below it on a phone
                        psnr_md = gr.Markdown()
                gr.Markdown(_("repeated"))
                out_repeated = gr.Image(show_label=False, type="pil", interactive=False, buttons=["download"],
                                        elem_classes=["pixelated"])
                with gr.Row():
                    share_button, share_link = share_row()
                    page.slide_button([out_noisy, out_denoised, out_plain, out_removed],
                                      [noise_kind, *sliders.values(), seed])
            with gr.Column(scale=3, min_width=280):
                TAB.explanation()

        inputs = [canvas, noise_kind, *sliders.values(), seed]
        # The api's outputs, in this order (gradio_client sees a tuple): what ae_denoise returns, by name.
        outputs = {"clean": out_clean, "noisy": out_noisy, "denoised": out_denoised, "plain": out_plain,
                   "removed": out_removed, "psnr": psnr_md, "repeated": out_repeated}
        page.on(run.click, ae_denoise, inputs, outputs, api_name="ae_denoise")
        quiet = dict(show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        for drawn in wire_canvas(page, demo, canvas):  # each stroke
            page.on(drawn, ae_denoise_live, inputs, outputs, **quiet)
        page.on(canvas.upload, ae_denoise, inputs, outputs, **quiet)  # an upload that fails says why
        for examples in example_sets:  # setting the canvas from an example fires no change event of its own
            page.on(examples.load_input_event.then, ae_denoise_live, inputs, outputs, **quiet)
        shown = page.on(noise_kind.change, show_slider_for, noise_kind, list(sliders.values()), queue=False,
                        api_visibility="private")
        page.on(shown.then, ae_denoise_live, inputs, outputs, **quiet)
        for slider in sliders.values():
            page.on(slider.release, ae_denoise_live, inputs, outputs, **quiet)
        page.on(seed.submit, ae_denoise_live, inputs, outputs, **quiet)
        rolled = page.on(dice.click, new_seed, None, seed, queue=False, api_visibility="private")
        page.on(rolled.then, ae_denoise_live, inputs, outputs, **quiet)

        wire_share(page, share_button, share_link, ae_share_query, [noise_kind, *sliders.values(), seed])
        page.when_shown(demo, open_tab, {
            "status": status, "run": run, "noise_kind": noise_kind, "seed": seed,
            **{f"slider_{kind}": slider for kind, slider in sliders.items()}, **outputs})
    return demo


if __name__ == "__main__":
    TAB.launch()
