"""AE denoising tab: a denoising autoencoder vs a plain autoencoder on the same noisy digit.

What it teaches: an autoencoder x̂ = g(f(x)) trained to copy clean digits has never seen
noise, so it copies much of the noise too; a *denoising* autoencoder (Vincent et al., ICML
2008) is trained on corrupted inputs x̃ with the clean x as target, so it learns where clean
digits live and pulls inputs towards them. Applied again and again, it walks even a letter or a
scribble towards a digit (the out-of-distribution examples), while a real digit stays put.

Weights: ``pretrained/ae-mnist`` (denoising) and ``pretrained/ae-mnist-plain`` (plain), both
``models.autoencoder.ConvAutoencoder`` trained on MNIST by ``training/train_autoencoder.py``.

Run this tab alone with ``python -m demos.ae_denoising``.
"""

from pathlib import Path

import numpy as np
import PIL.Image
import torch

import gradio as gr

from demos.common import (MAX_SEED, check_range, check_seed, explanation, load_or_explain, new_seed, seed_input,
                          show_weights_problem, weights_status)
from demos.i18n import _, text
from demos.image_input import digit_canvas, image_to_digit, to_pil
from demos.share import query_value, share_query, share_row, when_shown, wire_share
from models.autoencoder import ConvAutoencoder
from models.noise import add_noise, psnr

SLUG = "ae-mnist"
PLAIN_SLUG = "ae-mnist-plain"
TRAINING_COMMAND = "python training/train_autoencoder.py --data-dir ../shared/data"
N_OUTPUTS = 7  # what ae_denoise returns
ITERATION_PASSES = (1, 2, 4, 8, 16)  # the "apply it again and again" strip shows D^n(x̃) for these n
EXAMPLES = Path(__file__).parent / "examples"
FIRST_EXAMPLE = str(EXAMPLES / "mnist" / "2_0001.png")
# kind: (slider label key, name in share links, min, max, default) — the three corruptions of the lecture.
NOISE_SLIDERS = {
    "gaussian": ("ae.sigma", "sigma", 0.0, 1.0, 0.5),
    "salt_pepper": ("ae.sp_rate", "sp", 0.0, 0.6, 0.2),
    "mask": ("ae.mask_fraction", "mask", 0.0, 0.9, 0.5),
}


def load_models(request: gr.Request | None = None) -> tuple[ConvAutoencoder, ConvAutoencoder]:
    """(denoising AE, plain AE), loaded once, or a gr.Error saying how to get the weights."""
    return (
        load_or_explain(ConvAutoencoder, SLUG, TRAINING_COMMAND, request),
        load_or_explain(ConvAutoencoder, PLAIN_SLUG, TRAINING_COMMAND, request),
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


def strip(images: list[torch.Tensor], scale: int = 4) -> PIL.Image.Image:
    """A row of (1, 1, 28, 28) images with a 2-px white gap between them."""
    canvas = np.full((28, 30 * len(images) - 2), 255, dtype=np.uint8)
    for i, x in enumerate(images):
        canvas[:, 30 * i:30 * i + 28] = (x.reshape(28, 28).clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    img = PIL.Image.fromarray(canvas)
    return img.resize((img.width * scale, img.height * scale), PIL.Image.NEAREST)


def removed_map(noisy: torch.Tensor, denoised: torch.Tensor, scale: int = 8) -> PIL.Image.Image:
    """What the denoiser changed: red where it removed ink (noisy > denoised), blue where it added ink."""
    diff = (noisy - denoised).reshape(28, 28).numpy()
    rgb = np.zeros((28, 28, 3), dtype=np.float32)
    rgb[..., 0] = np.clip(diff, 0, 1)
    rgb[..., 2] = np.clip(-diff, 0, 1)
    img = PIL.Image.fromarray((rgb * 255).round().astype(np.uint8))
    return img.resize((28 * scale, 28 * scale), PIL.Image.NEAREST)


def psnr_table(result: dict, request: gr.Request | None = None) -> str:
    gain = result["psnr_denoised"] - result["psnr_noisy"]
    return (
        f"| | PSNR |\n|---|---|\n"
        f"| {text('ae.noisy', request)} | {result['psnr_noisy']:.2f} dB |\n"
        f"| {text('ae.denoised', request)} | **{result['psnr_denoised']:.2f} dB** ({gain:+.2f} dB) |\n"
        f"| {text('ae.plain', request)} | {result['psnr_plain']:.2f} dB |\n\n"
        f"{text('ae.psnr_note', request)}"
    )


def ae_denoise(image, noise_kind: str, sigma: float, sp_rate: float, mask_fraction: float, seed: int,
               request: gr.Request | None = None):
    """The tab's main action (api ``/ae_denoise``):
    clean | noisy | denoising AE | plain AE | removed | PSNR table | the denoiser applied again and again."""
    return _denoise_and_show(image_to_digit(image, request), noise_kind, sigma, sp_rate, mask_fraction, seed, request)


def ae_denoise_live(image, noise_kind: str, sigma: float, sp_rate: float, mask_fraction: float, seed: int,
                    request: gr.Request | None = None):
    """``ae_denoise`` for the live events (canvas, sliders): a blank or cleared canvas leaves the outputs as they are."""
    try:
        clean = image_to_digit(image, request)
    except gr.Error:
        return [gr.update()] * N_OUTPUTS
    return _denoise_and_show(clean, noise_kind, sigma, sp_rate, mask_fraction, seed, request)


def _denoise_and_show(clean: torch.Tensor, noise_kind, sigma, sp_rate, mask_fraction, seed, request):
    if noise_kind not in NOISE_SLIDERS:
        raise gr.Error(text("err.choice", request, value=noise_kind, choices=", ".join(NOISE_SLIDERS)))
    key, _param, low, high, _default = NOISE_SLIDERS[noise_kind]
    level = check_range({"gaussian": sigma, "salt_pepper": sp_rate, "mask": mask_fraction}[noise_kind], low, high, key, request)
    seed = check_seed(seed, request)
    denoiser, plain = load_models(request)
    r = denoise_digit(clean, noise_kind, level, seed, denoiser, plain)
    return (to_pil(clean), to_pil(r["noisy"]), to_pil(r["denoised"]), to_pil(r["plain"]),
            removed_map(r["noisy"], r["denoised"]), psnr_table(r, request), strip(r["repeated"]))


def show_slider_for(noise_kind: str):
    return [gr.update(visible=kind == noise_kind) for kind in NOISE_SLIDERS]


def ae_share_query(noise_kind: str, sigma: float, sp_rate: float, mask_fraction: float, seed: int) -> str:
    """The query string of a share link to this tab with these settings."""
    levels = dict(zip((param for _k, param, *_r in NOISE_SLIDERS.values()), (sigma, sp_rate, mask_fraction)))
    return share_query("ae", noise=noise_kind, **levels, seed=int(seed or 0))


def settings_from_query(request: gr.Request | None) -> tuple[str, list[float], int]:
    """(noise kind, [σ, s&p rate, mask fraction], seed) from a share link, with defaults for what is absent."""
    kind = query_value(request, "noise", str, choices=NOISE_SLIDERS, default="gaussian")
    levels = [query_value(request, param, float, low, high, default=default)
              for _key, param, low, high, default in NOISE_SLIDERS.values()]
    return kind, levels, query_value(request, "seed", int, 0, MAX_SEED, default=0)


def open_tab(request: gr.Request | None = None):
    """When the student first sees the tab (see ``when_shown``): load the weights; if they are missing, show why and disable only this tab.
    Otherwise take the settings of a share link (if any), put a real MNIST test digit on the canvas and
    show its results. Returns updates for (status, run button, canvas, noise kind, the three sliders,
    seed, *the outputs of ae_denoise)."""
    kind, levels, seed = settings_from_query(request)
    controls = [gr.update(value=kind), *[gr.update(value=v, visible=k == kind) for k, v in zip(NOISE_SLIDERS, levels)],
                gr.update(value=seed)]
    try:
        load_models(request)
    except gr.Error as err:
        return (show_weights_problem(err), gr.update(interactive=False), gr.update(),
                *controls, *[gr.update()] * N_OUTPUTS)
    with PIL.Image.open(FIRST_EXAMPLE) as img:
        first = ae_denoise(img.copy(), kind, *levels, seed, request)
    return (gr.update(visible=False), gr.update(interactive=True), FIRST_EXAMPLE, *controls, *first)


def create_demo(tab: gr.Tab | None = None) -> gr.Blocks:
    """The tab's Blocks; in the gallery, ``tab`` is the ``gr.Tab`` it is shown in (see ``when_shown``)."""
    mnist_examples = sorted(str(p) for p in (EXAMPLES / "mnist").glob("*.png"))
    ood_examples = sorted(str(p) for p in (EXAMPLES / "ood").glob("*.png"))
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=280):
                gr.Markdown(_("ae.input_hint"))
                canvas = digit_canvas(_("ae.input"), height=330)
                example_sets = [
                    gr.Examples([[p] for p in mnist_examples], inputs=[canvas], label=_("ae.examples_mnist"), examples_per_page=20),
                    gr.Examples([[p] for p in ood_examples], inputs=[canvas], label=_("ae.examples_ood")),
                ]
            with gr.Column(scale=5, min_width=360):
                with gr.Row():
                    noise_kind = gr.Radio(
                        [(_("ae.gaussian"), "gaussian"), (_("ae.salt_pepper"), "salt_pepper"), (_("ae.mask"), "mask")],
                        value="gaussian", label=_("ae.noise_kind"), scale=3)
                    with gr.Column(scale=2, min_width=160):
                        sliders = [
                            gr.Slider(low, high, value=default, step=0.05, label=_(key), visible=kind == "gaussian")
                            for kind, (key, _param, low, high, default) in NOISE_SLIDERS.items()
                        ]
                with gr.Row(equal_height=True):
                    with gr.Column(scale=2, min_width=160):
                        seed, dice = seed_input(0)
                    run = gr.Button(_("ae.run"), variant="primary", scale=3)
                image_opts = dict(type="pil", height=170, buttons=["download"], interactive=False, min_width=100)
                with gr.Row():
                    out_clean = gr.Image(label=_("ae.clean"), **image_opts)
                    out_noisy = gr.Image(label=_("ae.noisy"), **image_opts)
                    out_removed = gr.Image(label=_("ae.removed"), **image_opts)
                with gr.Row():
                    out_denoised = gr.Image(label=_("ae.denoised"), **image_opts)
                    out_plain = gr.Image(label=_("ae.plain"), **image_opts)
                psnr_md = gr.Markdown()
                out_repeated = gr.Image(label=_("ae.repeated"), type="pil", interactive=False, buttons=["download"])
                share_button, share_link = share_row()
            with gr.Column(scale=4, min_width=300):
                explanation("ae.explain")

        inputs = [canvas, noise_kind, *sliders, seed]
        outputs = [out_clean, out_noisy, out_denoised, out_plain, out_removed, psnr_md, out_repeated]
        run.click(ae_denoise, inputs, outputs, api_name="ae_denoise")
        quiet = dict(show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        canvas.change(ae_denoise_live, inputs, outputs, **quiet)
        for examples in example_sets:  # setting the canvas from an example fires no change event of its own
            examples.load_input_event.then(ae_denoise_live, inputs, outputs, **quiet)
        noise_kind.change(show_slider_for, noise_kind, sliders, queue=False, api_visibility="private").then(
            ae_denoise_live, inputs, outputs, **quiet)
        for slider in sliders:
            slider.release(ae_denoise_live, inputs, outputs, **quiet)
        seed.submit(ae_denoise_live, inputs, outputs, **quiet)
        dice.click(new_seed, None, seed, queue=False, api_visibility="private").then(ae_denoise_live, inputs, outputs, **quiet)

        wire_share(share_button, share_link, ae_share_query, [noise_kind, *sliders, seed])
        when_shown(demo, tab, open_tab, [status, run, canvas, noise_kind, *sliders, seed, *outputs])
    return demo


if __name__ == "__main__":
    from demos.i18n import make_i18n

    create_demo().launch(i18n=make_i18n(), max_file_size="10mb")
