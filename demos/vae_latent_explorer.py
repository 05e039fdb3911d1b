"""VAE latent explorer tab: walk the 2-D latent space of a variational autoencoder.

What it teaches: a VAE (Kingma & Welling, ICLR 2014) encodes each digit as a *distribution*
q(z|x) = N(μ, σ²) and is trained to maximise the ELBO, whose KL term pulls every q(z|x)
towards the prior N(0, I). The result is a latent space without holes: any point decodes to
something digit-like, neighbouring points decode to similar digits, and a straight walk from
one digit to another passes through plausible shapes. The same network trained without the
KL term (β = 0: a plain autoencoder with a 2-D bottleneck) is shown beside it: its codes
spread out in stretched clusters with empty gaps, and points in the gaps decode to blurs.

On the tab: the latent map (click it), z1/z2 sliders, the decoded manifold grid, interpolation
between two digits (linear vs spherical), and "encode your drawing" with μ, σ and the ELBO.

Weights: ``pretrained/vae-mnist`` (β = 1) and ``pretrained/vae-mnist-beta0`` (β = 0), both
``models.vae.VAE`` trained on MNIST by ``training/train_vae.py``; each folder also holds
``latent_map.safetensors`` (μ of the 10,000 MNIST test digits) for the map.

Run this tab alone with ``python -m demos.vae_latent_explorer``.
"""

from functools import lru_cache
from pathlib import Path
from statistics import NormalDist

import numpy as np
import PIL.Image
import torch
from safetensors.torch import load_file

import gradio as gr

from demos.common import check_range, explanation, load_or_explain, show_weights_problem, weights_message, weights_status
from demos.i18n import _, text
from demos.image_input import digit_canvas, image_to_digit, to_pil
from demos.latent_map import LatentMap, render_latent_map
from demos.share import query_value, share_query, share_row, when_shown, wire_share
from models.loading import WeightsUnavailableError, load_extra_file
from models.vae import VAE, kl_divergence, lerp, reconstruction_nll, slerp

SLUG = "vae-mnist"
BETA0_SLUG = "vae-mnist-beta0"
TRAINING_COMMAND = "python training/train_vae.py --data-dir ../shared/data"
LATENT_MAP_FILE = "latent_map.safetensors"
EXAMPLES = Path(__file__).parent / "examples"
GRID = 15          # the manifold figure is GRID x GRID decoded digits
ELBO_SAMPLES = 64  # Monte-Carlo samples of z for the reconstruction term of a drawing
MAX_FRAMES = 24


# --- models and maps (loaded once, lazily) -------------------------------------------------

def load_models(request: gr.Request | None = None) -> tuple[VAE, VAE]:
    """(VAE, β = 0 autoencoder), or a gr.Error that says how to get the weights."""
    return (load_or_explain(VAE, SLUG, TRAINING_COMMAND, request),
            load_or_explain(VAE, BETA0_SLUG, TRAINING_COMMAND, request))


def latent_map(slug: str, request: gr.Request | None = None) -> LatentMap:
    """The rendered scatter of the test digits' μ for ``slug`` (read and drawn once)."""
    try:
        return load_extra_file(slug, LATENT_MAP_FILE, _render_map_file)
    except WeightsUnavailableError as err:
        raise gr.Error(weights_message(err, TRAINING_COMMAND, request), duration=None) from err


def _render_map_file(path: Path) -> LatentMap:
    data = load_file(str(path))
    return render_latent_map(data["mu"].numpy(), data["labels"].numpy())


# --- plain functions (testable without Gradio) ---------------------------------------------

@torch.inference_mode()
def decode_point(model: VAE, z1: float, z2: float) -> torch.Tensor:
    """The decoder's mean image p(x|z) at z = (z1, z2), shape (1, 1, 28, 28)."""
    return model.decode(torch.tensor([[z1, z2]], dtype=torch.float32))


@torch.inference_mode()
def manifold_grid(model: VAE, low: tuple[float, float], high: tuple[float, float], n: int = GRID, gaussian: bool = False) -> PIL.Image.Image:
    """Decode an n x n grid of latent points (z2 grows upwards) into one image.

    With ``gaussian`` the grid follows the quantiles of N(0, 1) between 5 % and 95 % (the figure of
    Kingma & Welling), otherwise it spans [low, high] evenly."""
    if gaussian:
        qs = [NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, n)]
        xs, ys = qs, qs
    else:
        xs = np.linspace(low[0], high[0], n)
        ys = np.linspace(low[1], high[1], n)
    z = torch.tensor([[x, y] for y in reversed(ys) for x in xs], dtype=torch.float32)
    imgs = model.decode(z).reshape(n, n, 28, 28).permute(0, 2, 1, 3).reshape(n * 28, n * 28)
    return PIL.Image.fromarray((imgs.numpy() * 255).round().astype(np.uint8))


@lru_cache(maxsize=4)
def cached_manifold(slug: str) -> PIL.Image.Image:
    """The decoded grid of ``slug`` (computed once): over N(0, 1)'s quantiles for the VAE, its map's range for β = 0."""
    model = load_or_explain(VAE, slug, TRAINING_COMMAND)
    m = latent_map(slug)
    return manifold_grid(model, m.low, m.high, gaussian=not model.is_deterministic)


@torch.inference_mode()
def encode_digit(model: VAE, x: torch.Tensor, samples: int = ELBO_SAMPLES, seed: int = 0) -> dict:
    """μ, σ, the reconstruction and the ELBO split (nats) of one digit ``x`` (1, 1, 28, 28)."""
    mu, logvar = model.encode(x)
    g = torch.Generator().manual_seed(seed)
    z = torch.cat([model.reparameterize(mu, logvar, g) for _sample in range(samples)])
    recon = reconstruction_nll(model.decode_logits(z), x.expand(samples, -1, -1, -1)).mean()
    kl = kl_divergence(mu, logvar)[0]
    return {
        "mu": mu[0].tolist(),
        "sigma": torch.exp(0.5 * logvar)[0].tolist(),
        "reconstruction": model.decode(mu),
        "recon_nll": float(recon),
        "kl": float(kl),
        "neg_elbo": float(recon + kl),
    }


@torch.inference_mode()
def interpolate(model: VAE, x_a: torch.Tensor, x_b: torch.Tensor, frames: int, spherical: bool):
    """Latent path (frames, 2) between the codes μ(x_a) and μ(x_b), and its decoded images (frames, 1, 28, 28)."""
    mu_a, _ = model.encode(x_a)
    mu_b, _ = model.encode(x_b)
    t = torch.linspace(0, 1, frames)
    path = (slerp if spherical else lerp)(mu_a[0], mu_b[0], t)
    return path, model.decode(path)


def strip(images: torch.Tensor, scale: int = 3) -> PIL.Image.Image:
    """(T, 1, 28, 28) -> one row image with a 2-px gap between frames."""
    t = images.shape[0]
    canvas = np.full((28, t * 30 - 2), 255, dtype=np.uint8)
    for i in range(t):
        canvas[:, i * 30:i * 30 + 28] = (images[i, 0].numpy() * 255).round().astype(np.uint8)
    img = PIL.Image.fromarray(canvas)
    return img.resize((img.width * scale, img.height * scale), PIL.Image.NEAREST)


# --- Gradio handlers ----------------------------------------------------------------------

def vae_decode(z1: float, z2: float, request: gr.Request | None = None):
    """api ``/vae_decode``: decode z = (z1, z2) with the VAE; returns (digit, map with the point marked)."""
    m = latent_map(SLUG, request)
    z1 = check_range(z1, -50.0, 50.0, "vae.z1", request)
    z2 = check_range(z2, -50.0, 50.0, "vae.z2", request)
    vae, _beta0 = load_models(request)
    return to_pil(decode_point(vae, z1, z2)), m.with_marks(points=[(z1, z2)])


def click_vae_map(evt: gr.SelectData, request: gr.Request):
    """Clicking the VAE map moves the sliders to the clicked point (their change event decodes it)."""
    z1, z2 = latent_map(SLUG, request).to_latent(*evt.index)
    return round(z1, 2), round(z2, 2)


def beta0_decode(z1: float, z2: float, request: gr.Request | None = None):
    """Decode z = (z1, z2) with the plain (β = 0) autoencoder: (digit, its map with the point marked, caption)."""
    _vae, beta0 = load_models(request)
    m = latent_map(BETA0_SLUG, request)
    return to_pil(decode_point(beta0, z1, z2)), m.with_marks(points=[(z1, z2)]), f"z = ({z1:.2f}, {z2:.2f})"


def click_beta0_map(evt: gr.SelectData, request: gr.Request):
    """Clicking the β = 0 map decodes that point with the plain autoencoder."""
    return beta0_decode(*latent_map(BETA0_SLUG, request).to_latent(*evt.index), request)


def vae_encode(image, request: gr.Request | None = None):
    """api ``/vae_encode``: the drawing's μ ± σ on both maps, its reconstructions and the ELBO split."""
    vae, beta0 = load_models(request)
    x = image_to_digit(image, request)
    r = encode_digit(vae, x)
    r0 = encode_digit(beta0, x, samples=1)
    vae_map = latent_map(SLUG, request).with_marks(points=[r["mu"]], ellipses=[(*r["mu"], *r["sigma"])])
    beta0_map = latent_map(BETA0_SLUG, request).with_marks(points=[r0["mu"]])
    nats = text("vae.nats", request)
    table = (
        f"| | |\n|---|---|\n"
        f"| μ | ({r['mu'][0]:.2f}, {r['mu'][1]:.2f}) |\n"
        f"| σ | ({r['sigma'][0]:.3f}, {r['sigma'][1]:.3f}) |\n"
        f"| {text('vae.recon_term', request)} | {r['recon_nll']:.1f} {nats} |\n"
        f"| {text('vae.kl_term', request)} | {r['kl']:.2f} {nats} |\n"
        f"| **−ELBO** | **{r['neg_elbo']:.1f} {nats}** |\n\n"
        f"{text('vae.elbo_note', request, typical=typical_neg_elbo())}"
    )
    return to_pil(x), to_pil(r["reconstruction"]), to_pil(r0["reconstruction"]), vae_map, beta0_map, table


def _median_neg_elbo(path: Path) -> float:
    return float(load_file(str(path))["neg_elbo"].median())


def typical_neg_elbo() -> str:
    """Median −ELBO of the MNIST test digits (stored beside the weights, read once), for the note."""
    return f"{load_extra_file(SLUG, LATENT_MAP_FILE, _median_neg_elbo):.0f}"


def vae_interpolate(image_a, image_b, frames: int, mode: str, request: gr.Request | None = None):
    """api ``/vae_interpolate``: decode a walk from digit A to digit B in both latent spaces."""
    frames = int(check_range(frames, 2, MAX_FRAMES, "vae.frames", request))
    if mode not in ("linear", "spherical"):
        raise gr.Error(text("err.choice", request, value=mode, choices="linear, spherical"))
    vae, beta0 = load_models(request)
    x_a = image_to_digit(image_a, request, what=" (A)")
    x_b = image_to_digit(image_b, request, what=" (B)")
    path, imgs = interpolate(vae, x_a, x_b, frames, mode == "spherical")
    path0, imgs0 = interpolate(beta0, x_a, x_b, frames, mode == "spherical")
    return (strip(imgs), strip(imgs0),
            latent_map(SLUG, request).with_marks(path=path.tolist()),
            latent_map(BETA0_SLUG, request).with_marks(path=path0.tolist()))


def manifolds(request: gr.Request | None = None):
    """The two decoded manifold grids (cached)."""
    load_models(request)
    return cached_manifold(SLUG), cached_manifold(BETA0_SLUG)


def vae_share_query(z1: float, z2: float, frames: int, mode: str) -> str:
    """The query string of a share link to this tab at z = (z1, z2) with these interpolation settings."""
    return share_query("vae", z1=round(float(z1), 2), z2=round(float(z2), 2), frames=int(frames), path=mode)


def open_tab(request: gr.Request | None = None):
    """When the student first sees the tab (see ``when_shown``): load the weights and draw both maps (at the point of a share link, if any); if
    anything is missing, show why and disable only this tab. Returns updates for (status, decoded, VAE map,
    β=0 decoded, β=0 map, β=0 caption, z1, z2, interpolate button, encode button, frames, path)."""
    frames = gr.update(value=query_value(request, "frames", int, 2, MAX_FRAMES, default=10))
    mode = gr.update(value=query_value(request, "path", str, choices=("linear", "spherical"), default="linear"))
    try:
        load_models(request)
        m, m0 = latent_map(SLUG, request), latent_map(BETA0_SLUG, request)
        z1 = query_value(request, "z1", float, m.low[0], m.high[0], default=0.0)
        z2 = query_value(request, "z2", float, m.low[1], m.high[1], default=0.0)
        digit, vae_image = vae_decode(z1, z2, request)
    except gr.Error as err:
        off = gr.update(interactive=False)
        return (show_weights_problem(err), *[gr.update()] * 5, off, off, off, off, frames, mode)
    on = gr.update(interactive=True)
    centre = ((m0.low[0] + m0.high[0]) / 2, (m0.low[1] + m0.high[1]) / 2)
    return (gr.update(visible=False), digit, vae_image, *beta0_decode(*centre, request),
            gr.update(minimum=round(m.low[0], 2), maximum=round(m.high[0], 2), value=z1, interactive=True),
            gr.update(minimum=round(m.low[1], 2), maximum=round(m.high[1], 2), value=z2, interactive=True), on, on,
            frames, mode)


# --- the tab -----------------------------------------------------------------------------

def create_demo(tab: gr.Tab | None = None) -> gr.Blocks:
    """The tab's Blocks; in the gallery, ``tab`` is the ``gr.Tab`` it is shown in (see ``when_shown``)."""
    mnist = {p.stem: str(p) for p in sorted((EXAMPLES / "mnist").glob("*.png"))}
    pairs = [[mnist["1_0002"], mnist["7_0000"]], [mnist["0_0003"], mnist["6_0011"]], [mnist["4_0004"], mnist["9_0007"]],
             [mnist["3_0018"], mnist["8_0061"]]]
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=5, min_width=320):
                vae_map = gr.Image(label=_("vae.map"), type="pil", interactive=False, height=420, buttons=["download"])
            with gr.Column(scale=3, min_width=240):
                decoded = gr.Image(label=_("vae.decoded"), type="pil", interactive=False, height=220, elem_classes=["pixelated"])
                z1 = gr.Slider(-4, 4, value=0.0, step=0.01, label=_("vae.z1"))
                z2 = gr.Slider(-4, 4, value=0.0, step=0.01, label=_("vae.z2"))
                share_button, share_link = share_row()
            with gr.Column(scale=4, min_width=300):
                explanation("vae.explain")
        with gr.Accordion(_("vae.compare_title"), open=True):
            gr.Markdown(_("vae.compare_note"))
            with gr.Row():
                beta0_map = gr.Image(label=_("vae.beta0_map"), type="pil", interactive=False, height=420)
                with gr.Column():
                    beta0_decoded = gr.Image(label=_("vae.beta0_decoded"), type="pil", interactive=False, height=220)
                    beta0_z = gr.Markdown()
        with gr.Accordion(_("vae.manifold_title"), open=False) as manifold_acc:
            gr.Markdown(_("vae.manifold_note"))
            with gr.Row():
                vae_grid = gr.Image(label=_("vae.manifold_vae"), type="pil", interactive=False)
                beta0_grid = gr.Image(label=_("vae.manifold_beta0"), type="pil", interactive=False)
        with gr.Accordion(_("vae.interp_title"), open=False):
            with gr.Row():
                canvas_a = digit_canvas(_("vae.digit_a"), height=300)
                canvas_b = digit_canvas(_("vae.digit_b"), height=300)
                with gr.Column():
                    frames = gr.Slider(2, MAX_FRAMES, value=10, step=1, label=_("vae.frames"))
                    mode = gr.Radio([(_("vae.linear"), "linear"), (_("vae.spherical"), "spherical")], value="linear",
                                    label=_("vae.interp_mode"))
                    interp_btn = gr.Button(_("vae.interp_run"), variant="primary")
                    gr.Markdown(_("vae.interp_note"), latex_delimiters=[{"left": "$", "right": "$", "display": False}])
            with gr.Row():
                gr.Examples([[a] for a, _b in pairs], inputs=[canvas_a], label=_("vae.examples_a"))
                gr.Examples([[b] for _a, b in pairs], inputs=[canvas_b], label=_("vae.examples_b"))
            interp_strip = gr.Image(label=_("vae.interp_vae"), type="pil", interactive=False)
            interp_strip0 = gr.Image(label=_("vae.interp_beta0"), type="pil", interactive=False)
            with gr.Row():
                interp_map = gr.Image(label=_("vae.map"), type="pil", interactive=False, height=360)
                interp_map0 = gr.Image(label=_("vae.beta0_map"), type="pil", interactive=False, height=360)
        with gr.Accordion(_("vae.encode_title"), open=False):
            with gr.Row():
                canvas_c = digit_canvas(_("vae.your_drawing"), height=300)
                with gr.Column():
                    encode_btn = gr.Button(_("vae.encode_run"), variant="primary")
                    elbo_md = gr.Markdown(latex_delimiters=[{"left": "$", "right": "$", "display": False}])
            encode_examples = gr.Examples(
                [[mnist["5_0008"]], [mnist["2_0035"]], [str(EXAMPLES / "ood" / "letter_A.png")]], inputs=[canvas_c],
                label=_("vae.encode_examples"))
            with gr.Row():
                enc_input = gr.Image(label=_("vae.as_seen"), type="pil", interactive=False, height=160)
                enc_recon = gr.Image(label=_("vae.recon_vae"), type="pil", interactive=False, height=160)
                enc_recon0 = gr.Image(label=_("vae.recon_beta0"), type="pil", interactive=False, height=160)
            with gr.Row():
                enc_map = gr.Image(label=_("vae.map"), type="pil", interactive=False, height=360)
                enc_map0 = gr.Image(label=_("vae.beta0_map"), type="pil", interactive=False, height=360)

        # Events. Decoding one point takes about a millisecond, so the sliders decode live on .change.
        live = dict(show_progress="hidden", trigger_mode="always_last")
        z1.change(vae_decode, [z1, z2], [decoded, vae_map], api_name="vae_decode", **live)
        z2.change(vae_decode, [z1, z2], [decoded, vae_map], api_visibility="private", **live)
        vae_map.select(click_vae_map, None, [z1, z2], api_visibility="private")
        beta0_map.select(click_beta0_map, None, [beta0_decoded, beta0_map, beta0_z], api_visibility="private")
        manifold_acc.expand(manifolds, None, [vae_grid, beta0_grid], api_visibility="private")
        interp_btn.click(vae_interpolate, [canvas_a, canvas_b, frames, mode],
                         [interp_strip, interp_strip0, interp_map, interp_map0], api_name="vae_interpolate")
        encode_outputs = [enc_input, enc_recon, enc_recon0, enc_map, enc_map0, elbo_md]
        encode_btn.click(vae_encode, canvas_c, encode_outputs, api_name="vae_encode")
        encode_examples.load_input_event.then(vae_encode, canvas_c, encode_outputs, api_visibility="private")

        wire_share(share_button, share_link, vae_share_query, [z1, z2, frames, mode])
        when_shown(demo, tab, open_tab, [status, decoded, vae_map, beta0_decoded, beta0_map, beta0_z, z1, z2, interp_btn,
                                  encode_btn, frames, mode])
    return demo


if __name__ == "__main__":
    from demos.i18n import make_i18n

    create_demo().launch(i18n=make_i18n(), max_file_size="10mb")
