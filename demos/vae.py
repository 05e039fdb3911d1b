"""VAE latent explorer tab: walk the 2-D latent space of a variational autoencoder.

What it teaches: a VAE (Kingma & Welling, ICLR 2014) encodes each digit as a *distribution*
q(z|x) = N(μ, σ²) and is trained to maximise the ELBO, whose KL term pulls every q(z|x)
towards the prior N(0, I). The result is a latent space without holes: any point decodes to
something digit-like, neighbouring points decode to similar digits, and a straight walk from
one digit to another passes through plausible shapes. The same network trained without the
KL term (β = 0: a plain autoencoder with a 2-D bottleneck) is shown beside it: its codes
spread out in stretched clusters with empty gaps, and points in the gaps decode to blurs.

On the tab: the latent map (click it), z1/z2 sliders, the decoded manifold grid, interpolation
between two digits (linear vs spherical), and "encode your drawing" with μ, σ, the ELBO and the
reparameterisation trick made visible (samples z = μ + σ ⊙ ε around μ, and what they decode to).

Weights: ``pretrained/vae-mnist`` (β = 1) and ``pretrained/vae-mnist-beta0`` (β = 0), both
``models.vae.VAE`` trained on MNIST by ``training/train_vae.py``; each folder also holds
``latent_map.safetensors`` (μ of the 10,000 MNIST test digits) for the map.

Run this tab alone with ``python -m demos.vae``.
"""

import math
from pathlib import Path
from statistics import NormalDist

import gradio as gr
import numpy as np
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont
import torch
from safetensors.torch import load_file

from demos import controls
from demos.common import (
    check_choice,
    check_range,
    load_or_explain,
    show_weights_problem,
    weights_problem,
    weights_status,
)
from demos.image_input import composite_of, digit_canvas, image_to_digit, wire_canvas
from demos.kit import Page, Tab, demo_cache
from demos.latent_map import LatentMap, render_latent_map
from demos.share import query_value, share_query, share_row, wire_share
from models.imaging import grid, to_pil
from models.loading import WeightsUnavailableError, load_extra_file
from models.vae import VAE, kl_divergence, lerp, reconstruction_nll, slerp

# The ELBO, in matplotlib's mathtext, for the slides (the same in both languages).
ELBO_TEX = r"\log p_\theta(x) \geq \mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)] - D_\mathrm{KL}(q_\phi(z|x)\,\|\,p(z))"

TAB = Tab(id="vae", strings={
    "title": {"en": "VAE latent space", "ja": "VAE の潜在空間"},
    "map": {"en": "VAE latent space (click to decode)", "ja": "VAE の潜在空間（クリックで復号）"},
    "decoded": {"en": "Decoded at z", "ja": "z から復号した画像"},
    "z1": {"en": "z₁", "ja": "z₁"},
    "z2": {"en": "z₂", "ja": "z₂"},
    "compare_title": {
        "en": "Why the KL term matters: the same network trained without it (β = 0)",
        "ja": "KL 項の役割：KL 項なし（β = 0）で学習した同じネットワークとの比較",
    },
    "compare_note": {
        "en": (
            "Left: the latent space of a plain autoencoder with the same 2-D bottleneck (β = 0, no KL term). Click it "
            "to decode a point. Compare it with the VAE's map above: the clusters are stretched and far apart, the "
            "scale is arbitrary, and points between the clusters decode to shapes that are not digits."
        ),
        "ja": (
            "左は、同じ 2 次元のボトルネックを持つ通常のオートエンコーダ（β = 0、KL "
            "項なし）の潜在空間です。クリックするとその点を復号します。上の VAE "
            "の図と比べてみましょう。クラスタが引き伸ばされて互いに離れ、座標のスケールにも決まりがなく、クラスタの間の"
            "点からは数字に見えない形が出てきます。"
        ),
    },
    "beta0_map": {
        "en": "Plain autoencoder (β = 0) latent space (click to decode)",
        "ja": "通常のオートエンコーダ（β = 0）の潜在空間（クリックで復号）",
    },
    "slide_caption": {
        "en": (
            "The 2-D latent space of a VAE trained on MNIST: each test digit at its encoder mean μ, coloured by its "
            "class, and the digit the decoder draws at the marked point z."
        ),
        "ja": (
            "MNIST で学習した VAE の 2 次元潜在空間：テストデータの各数字をエンコーダの平均 μ の位置にクラス別の色で"
            "描き、十字の点 z からデコーダが描いた数字を並べています。"
        ),
    },
    "slide_equation": {"en": ELBO_TEX, "ja": ELBO_TEX},
    "beta0_decoded": {
        "en": "Plain autoencoder, decoded at the clicked point",
        "ja": "通常のオートエンコーダ：クリックした点から復号した画像",
    },
    "manifold_title": {"en": "The decoded manifold (the classic figure)", "ja": "復号された多様体（おなじみの図）"},
    "manifold_note": {
        "en": (
            "Each cell is the decoder's output at one point of a regular grid of latent points. For the VAE the grid "
            "follows the quantiles of the prior N(0, 1) from 5 % to 95 %, as in Kingma & Welling's paper; for the "
            "plain autoencoder it spans the range of its map."
        ),
        "ja": (
            "各マスは、格子状に並べた潜在空間の点をデコーダに通した出力です。VAE では Kingma と Welling "
            "の論文と同じく、事前分布 N(0, 1) の 5 % から 95 % "
            "までの分位点で格子を作っています。通常のオートエンコーダでは、その潜在空間の図の範囲全体に格子を張っていま"
            "す。"
        ),
    },
    "manifold_vae": {"en": "VAE (β = 1)", "ja": "VAE（β = 1）"},
    "manifold_beta0": {"en": "Plain autoencoder (β = 0)", "ja": "通常のオートエンコーダ（β = 0）"},
    "interp_title": {"en": "Interpolation between two digits", "ja": "2 つの数字の間の補間"},
    "digit_a": {"en": "Digit A (draw or upload)", "ja": "数字 A（描く・アップロード）"},
    "digit_b": {"en": "Digit B (draw or upload)", "ja": "数字 B（描く・アップロード）"},
    "frames": {"en": "Number of frames", "ja": "フレーム数"},
    "interp_mode": {"en": "Path", "ja": "補間の経路"},
    "linear": {"en": "Linear", "ja": "線形"},
    "spherical": {"en": "Spherical (slerp)", "ja": "球面線形（slerp）"},
    "interp_run": {"en": "Interpolate", "ja": "補間する"},
    "interp_note": {
        "en": (
            "Both digits are encoded to their means $\\mu_A, \\mu_B$; the frames decode $z_t = (1-t)\\,\\mu_A + "
            "t\\,\\mu_B$ (linear) or the spherical path between them (slerp, which keeps the distance from the origin "
            "where the prior puts its mass)."
        ),
        "ja": (
            "2 つの数字をそれぞれ平均 $\\mu_A, \\mu_B$ に符号化し、線形補間 $z_t = (1-t)\\,\\mu_A + t\\,\\mu_B$ "
            "または球面線形補間（slerp：事前分布の確率が集中する、原点からの距離を保つ経路）上の点を復号します。"
        ),
    },
    "examples_a": {"en": "MNIST test digits for A", "ja": "A に使う MNIST テストデータの数字"},
    "examples_b": {"en": "MNIST test digits for B", "ja": "B に使う MNIST テストデータの数字"},
    "interp_vae": {"en": "VAE: decoded frames from A to B", "ja": "VAE：A から B へ復号したフレーム"},
    "path_map": {"en": "VAE latent space: the path from A to B", "ja": "VAE の潜在空間：A から B への経路"},
    "beta0_path_map": {
        "en": "Plain autoencoder (β = 0): the path from A to B",
        "ja": "通常のオートエンコーダ（β = 0）：A から B への経路",
    },
    "interp_beta0": {
        "en": "Plain autoencoder (β = 0): decoded frames from A to B",
        "ja": "通常のオートエンコーダ（β = 0）：A から B へ復号したフレーム",
    },
    "encode_title": {"en": "Encode your drawing: μ, σ and the ELBO", "ja": "自分の絵を符号化する：μ、σ と ELBO"},
    "your_drawing": {"en": "Your drawing", "ja": "あなたの絵"},
    "encode_run": {"en": "Encode", "ja": "符号化する"},
    "encode_examples": {"en": "Examples", "ja": "例"},
    "as_seen": {"en": "As the model sees it (28×28)", "ja": "モデルに入力される画像（28×28）"},
    "recon_vae": {"en": "VAE reconstruction (decoded μ)", "ja": "VAE による再構成（μ を復号）"},
    "recon_beta0": {"en": "Plain autoencoder reconstruction", "ja": "通常のオートエンコーダによる再構成"},
    "code_map": {"en": "VAE latent space: μ (cross) and σ (ellipse)", "ja": "VAE の潜在空間：μ（十字）と σ（楕円）"},
    "beta0_code_map": {
        "en": "Plain autoencoder (β = 0): the code of your drawing",
        "ja": "通常のオートエンコーダ（β = 0）：あなたの絵の符号",
    },
    "reparam_note": {
        "en": (
            "**The reparameterisation trick, seen.** The VAE does not decode μ alone: it draws $z = \\mu + \\sigma "
            "\\odot \\varepsilon$ with $\\varepsilon \\sim \\mathcal N(0, I)$. Left: the map enlarged around "
            "μ, with 8 such samples (numbered dots, seed 0) and the ellipse μ ± σ. Right: what each sample decodes "
            "to, and how it differs from the decoded μ (red: more ink, blue: less, 8 times stronger). The "
            "reconstruction term in the table is the average over 64 samples like these."
        ),
        "ja": (
            "**再パラメータ化トリックを見る。** VAE は μ だけを復号するのではなく、$z = \\mu + \\sigma \\odot "
            "\\varepsilon$（$\\varepsilon \\sim \\mathcal N(0, I)$）を引いて復号します。左は μ "
            "の周りを拡大した図で、番号つきの点がそのサンプル 8 個（シード 0）、楕円が μ ± σ です。右は各サンプルを"
            "復号した数字と、μ を復号した数字との違い（赤：インクが多い所、青：少ない所。8 倍に強調）です。"
            "表の再構成項は、このようなサンプル 64 個の平均です。"
        ),
    },
    "zoom": {"en": "Around μ, enlarged: 8 samples", "ja": "μ の周りを拡大（サンプル 8 個）"},
    "samples": {"en": "Samples 1–8, decoded", "ja": "サンプル 1〜8 を復号した数字"},
    "sample_changes": {"en": "Sample − decoded μ (×8)", "ja": "サンプル − μ の復号（8 倍）"},
    "quantity": {"en": "Quantity", "ja": "項目"},
    "value": {"en": "Value", "ja": "値"},
    "nats": {"en": "nats", "ja": "nats"},
    "recon_term": {"en": "Reconstruction term E_q[−log p(x∣z)]", "ja": "再構成項 E_q[−log p(x∣z)]"},
    "kl_term": {"en": "KL(q(z∣x) ‖ N(0, I))", "ja": "KL(q(z∣x) ‖ N(0, I))"},
    "elbo_note": {
        "en": (
            "−ELBO = reconstruction + KL is an upper bound on −log p(x): the lower, the more probable the model finds "
            "your drawing. Half of the MNIST test digits score below {typical} nats. On the map, the cross is μ and "
            "the ellipse is μ ± σ, often too small to see there: the encoder is very sure where a digit belongs. "
            "The enlarged map below shows it."
        ),
        "ja": (
            "−ELBO = 再構成項 + KL は −log p(x) の上界です。小さいほど、モデルはあなたの絵を「ありそう」だと考えていま"
            "す。MNIST テストデータの半数は {typical} nats 未満です。図の十字が μ、楕円が μ ± σ を表します。σ "
            "はこの図では小さすぎて見えないことがよくあります（エンコーダは数字の位置をかなり確信しているのです）。"
            "下の拡大図で見てみましょう。"
        ),
    },
})

SLUG = "vae-mnist"
BETA0_SLUG = "vae-mnist-beta0"
TRAINING_COMMAND = "python training/train_vae.py --data-dir ../shared/data"
LATENT_MAP_FILE = "latent_map.safetensors"
EXAMPLES = Path(__file__).parent / "examples"
GRID = 15          # the manifold figure is GRID x GRID decoded digits
ELBO_SAMPLES = 64  # Monte-Carlo samples of z for the reconstruction term of a drawing
SHOWN_SAMPLES = 8  # of those, the first 8 are drawn on the enlarged map and decoded
CHANGE_GAIN = 8    # a sample's difference from the decoded μ is shown 8 times stronger
# The examples computed when the tab opens: a pair to interpolate and a digit to encode (MNIST test digits).
INTERP_EXAMPLE = (EXAMPLES / "mnist" / "1_0002.png", EXAMPLES / "mnist" / "7_0000.png")
ENCODE_EXAMPLE = EXAMPLES / "mnist" / "2_0035.png"
MAX_FRAMES = 24
DIGIT_SCALE = 10   # a decoded 28-px digit is shown 280 px wide, with crisp pixels
PATHS = ("linear", "spherical")  # the interpolation paths


# --- models and maps (loaded once, lazily) -------------------------------------------------

def load_models() -> tuple[VAE, VAE]:
    """(VAE, β = 0 autoencoder), or a Problem that says how to get the weights."""
    return (load_or_explain(VAE, SLUG, TRAINING_COMMAND),
            load_or_explain(VAE, BETA0_SLUG, TRAINING_COMMAND))


def latent_map(slug: str) -> LatentMap:
    """The rendered scatter of the test digits' μ for ``slug`` (read and drawn once)."""
    try:
        return load_extra_file(slug, LATENT_MAP_FILE, _render_map_file)
    except WeightsUnavailableError as err:
        raise weights_problem(err, TRAINING_COMMAND) from err


def _render_map_file(path: Path) -> LatentMap:
    data = load_file(str(path))
    return render_latent_map(data["mu"].numpy(), data["labels"].numpy())


# --- plain functions (testable without Gradio) ---------------------------------------------

@torch.inference_mode()
def decode_point(model: VAE, z1: float, z2: float) -> torch.Tensor:
    """The decoder's mean image p(x|z) at z = (z1, z2), shape (1, 1, 28, 28)."""
    return model.decode(torch.tensor([[z1, z2]], dtype=torch.float32))


@torch.inference_mode()
def manifold_grid(model: VAE, low: tuple[float, float], high: tuple[float, float], n: int = GRID,
                  gaussian: bool = False) -> PIL.Image.Image:
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
    return to_pil(grid(model.decode(z), nrow=n, pad=0))


@demo_cache(maxsize=4)
def cached_manifold(slug: str) -> PIL.Image.Image:
    """The decoded grid of ``slug`` (computed once): over N(0, 1)'s quantiles for the VAE, its map's range for
    β = 0."""
    model = load_or_explain(VAE, slug, TRAINING_COMMAND)
    m = latent_map(slug)
    return manifold_grid(model, m.low, m.high, gaussian=not model.is_deterministic)


@torch.inference_mode()
def encode_digit(model: VAE, x: torch.Tensor, samples: int = ELBO_SAMPLES, seed: int = 0,
                 shown: int = SHOWN_SAMPLES) -> dict:
    """μ, σ, the reconstruction and the ELBO split (nats) of one digit ``x`` (1, 1, 28, 28).

    The reconstruction term averages −log p(x|z) over ``samples`` draws z = μ + σ ⊙ ε, ε ~ N(0, I) (seeded);
    the first ``shown`` of them are returned too ("z_samples", (shown, 2)), with their decoded images."""
    mu, logvar = model.encode(x)
    g = torch.Generator().manual_seed(seed)
    z = model.reparameterize(mu.expand(samples, -1), logvar.expand(samples, -1), g)
    recon = reconstruction_nll(model.decode_logits(z), x.expand(samples, -1, -1, -1)).mean()
    kl = kl_divergence(mu, logvar)[0]
    return {
        "mu": mu[0].tolist(),
        "sigma": torch.exp(0.5 * logvar)[0].tolist(),
        "reconstruction": model.decode(mu),
        "recon_nll": float(recon),
        "kl": float(kl),
        "neg_elbo": float(recon + kl),
        "z_samples": z[:shown],
        "decoded_samples": model.decode(z[:shown]),
    }


def zoom_half_width(sigma: list[float]) -> float:
    """Half the side of the enlarged map around μ: three σ of the wider direction (at least 0.05)."""
    return max(3 * max(sigma), 0.05)


def ink_changes(images: torch.Tensor, reference: torch.Tensor, gain: float = CHANGE_GAIN) -> torch.Tensor:
    """(N, 1, 28, 28) images minus ``reference`` as colour images (N, 3, 28, 28): red where an image has more ink,
    blue where it has less, ``gain`` times stronger."""
    diff = (images - reference) * gain
    return torch.cat([diff.clamp(0, 1), torch.zeros_like(diff), (-diff).clamp(0, 1)], dim=1)


def numbered_grid(images: torch.Tensor, per_row: int = 4, scale: int = 4) -> PIL.Image.Image:
    """(N, C, 28, 28) images in rows of ``per_row``, enlarged, each numbered 1…N in its lower-left corner (like the
    dots on the enlarged map; the page puts the picture's label over its upper-left corner)."""
    img = to_pil(grid(images, nrow=per_row), scale=scale).convert("RGB")
    draw = PIL.ImageDraw.Draw(img)
    for i in range(len(images)):
        row, column = divmod(i, per_row)
        corner = (column * 30 * scale + 3, (row * 30 + 28) * scale - 2)  # a cell is 28 px and a 2-px gap
        draw.text(corner, str(i + 1), fill=(255, 220, 0), font=PIL.ImageFont.load_default(size=6 * scale),
                  anchor="ld")
    return img


@torch.inference_mode()
def interpolate(model: VAE, x_a: torch.Tensor, x_b: torch.Tensor, frames: int, spherical: bool):
    """Latent path (frames, 2) between the codes μ(x_a) and μ(x_b), and its decoded images (frames, 1, 28, 28)."""
    mu_a, _ = model.encode(x_a)
    mu_b, _ = model.encode(x_b)
    t = torch.linspace(0, 1, frames)
    path = (slerp if spherical else lerp)(mu_a[0], mu_b[0], t)
    return path, model.decode(path)


def frames_rows(images: torch.Tensor, most_per_row: int = 6, scale: int = 4) -> PIL.Image.Image:
    """(T, 1, 28, 28) frames read like text: rows of equal length (at most ``most_per_row`` frames, so that each
    stays large on a phone too), with a 2-px gap between frames."""
    rows = math.ceil(len(images) / most_per_row)
    return to_pil(grid(images, nrow=math.ceil(len(images) / rows)), scale=scale)


# --- Gradio handlers ----------------------------------------------------------------------

def vae_decode(z1: float, z2: float) -> dict:
    """api ``/vae_decode``: decode z = (z1, z2) with the VAE; returns the digit and the map with the point marked."""
    m = latent_map(SLUG)
    z1 = check_range(z1, -50.0, 50.0, TAB.phrase("z1"))
    z2 = check_range(z2, -50.0, 50.0, TAB.phrase("z2"))
    vae, _beta0 = load_models()
    return {"digit": to_pil(decode_point(vae, z1, z2), scale=DIGIT_SCALE), "map": m.with_marks(points=[(z1, z2)])}


def click_vae_map(evt: gr.SelectData) -> dict:
    """Clicking the VAE map moves the sliders to the clicked point (their change event decodes it)."""
    z1, z2 = latent_map(SLUG).to_latent(*evt.index)
    return {"z1": round(z1, 2), "z2": round(z2, 2)}


def beta0_decode(z1: float, z2: float) -> dict:
    """Decode z = (z1, z2) with the plain (β = 0) autoencoder: the digit, its map with the point marked, a caption."""
    _vae, beta0 = load_models()
    m = latent_map(BETA0_SLUG)
    return {"beta0_digit": to_pil(decode_point(beta0, z1, z2), scale=DIGIT_SCALE),
            "beta0_map": m.with_marks(points=[(z1, z2)]),
            "beta0_z": f"z = ({z1:.2f}, {z2:.2f})"}


def click_beta0_map(evt: gr.SelectData) -> dict:
    """Clicking the β = 0 map decodes that point with the plain autoencoder."""
    return beta0_decode(*latent_map(BETA0_SLUG).to_latent(*evt.index))


def elbo_table(r: dict) -> str:
    """The results of ``encode_digit`` as a Markdown table (μ, σ, the two terms, −ELBO) and a note below it."""
    nats = TAB.text("nats")
    return (
        f"| {TAB.text('quantity')} | {TAB.text('value')} |\n|---|---|\n"
        f"| μ | ({r['mu'][0]:.2f}, {r['mu'][1]:.2f}) |\n"
        f"| σ | ({r['sigma'][0]:.3f}, {r['sigma'][1]:.3f}) |\n"
        f"| {TAB.text('recon_term')} | {r['recon_nll']:.1f} {nats} |\n"
        f"| {TAB.text('kl_term')} | {r['kl']:.2f} {nats} |\n"
        f"| **−ELBO** | **{r['neg_elbo']:.1f} {nats}** |\n\n"
        f"{TAB.text('elbo_note', typical=typical_neg_elbo())}"
    )


def vae_encode(image) -> dict:
    """api ``/vae_encode``: encode a drawing. Returns, in order: the drawing as the model sees it, the VAE's and the
    plain autoencoder's reconstructions, the VAE map with μ ± σ, the plain autoencoder's map with its code, the ELBO
    table (Markdown), the VAE map enlarged around μ with 8 samples z = μ + σ ⊙ ε, those samples decoded, and each
    of them minus the decoded μ (red: more ink, blue: less)."""
    vae, beta0 = load_models()
    x = image_to_digit(image)
    r = encode_digit(vae, x)
    r0 = encode_digit(beta0, x, samples=1)
    mu_and_sigma = {"points": [r["mu"]], "ellipses": [(*r["mu"], *r["sigma"])]}
    zoom = latent_map(SLUG).zoomed(r["mu"], zoom_half_width(r["sigma"]))
    return {"seen": to_pil(x, scale=DIGIT_SCALE), "recon": to_pil(r["reconstruction"], scale=DIGIT_SCALE),
            "recon_beta0": to_pil(r0["reconstruction"], scale=DIGIT_SCALE),
            "code_map": latent_map(SLUG).with_marks(**mu_and_sigma),
            "code_map_beta0": latent_map(BETA0_SLUG).with_marks(points=[r0["mu"]]),
            "elbo": elbo_table(r),
            "zoom": zoom.with_marks(**mu_and_sigma, samples=r["z_samples"].tolist()),
            "samples": numbered_grid(r["decoded_samples"]),
            "changes": numbered_grid(ink_changes(r["decoded_samples"], r["reconstruction"]))}


def interpolate_uploaded(image_a, image_b, frames: int, mode: str) -> dict:
    """An image uploaded as A or B: the interpolation again, once both digits are there (nothing otherwise)."""
    if composite_of(image_a) is None or composite_of(image_b) is None:
        return {}
    return vae_interpolate(image_a, image_b, frames, mode)


def _median_neg_elbo(path: Path) -> float:
    return float(load_file(str(path))["neg_elbo"].median())


def typical_neg_elbo() -> str:
    """Median −ELBO of the MNIST test digits (stored beside the weights, read once), for the note."""
    return f"{load_extra_file(SLUG, LATENT_MAP_FILE, _median_neg_elbo):.0f}"


def vae_interpolate(image_a, image_b, frames: int, mode: str) -> dict:
    """api ``/vae_interpolate``: decode a walk from digit A to digit B in both latent spaces. Returns, in order: the
    VAE's frames and the plain autoencoder's (each one picture, in rows of at most 6 frames), and the path on each
    map."""
    frames = int(check_range(frames, 2, MAX_FRAMES, TAB.phrase("frames")))
    check_choice(mode, PATHS)
    vae, beta0 = load_models()
    x_a = image_to_digit(image_a, what=" (A)")
    x_b = image_to_digit(image_b, what=" (B)")
    path, imgs = interpolate(vae, x_a, x_b, frames, mode == "spherical")
    path0, imgs0 = interpolate(beta0, x_a, x_b, frames, mode == "spherical")
    return {"strip": frames_rows(imgs), "strip_beta0": frames_rows(imgs0),
            "path_map": latent_map(SLUG).with_marks(path=path.tolist()),
            "path_map_beta0": latent_map(BETA0_SLUG).with_marks(path=path0.tolist())}


def manifolds() -> dict:
    """The two decoded manifold grids (cached)."""
    load_models()
    return {"grid": cached_manifold(SLUG), "grid_beta0": cached_manifold(BETA0_SLUG)}


def vae_share_query(z1: float, z2: float, frames: int, mode: str) -> str:
    """The query string of a share link to this tab at z = (z1, z2) with these interpolation settings."""
    return share_query(TAB, z1=round(float(z1), 2), z2=round(float(z2), 2), frames=int(frames), path=mode)


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): load the weights and draw both maps (at the point
    of a share link, if any), interpolate a pair of test digits and encode one, so that every section opens on an
    example; if anything is missing, show why and disable only this tab."""
    frames = query_value(request, "frames", int, 2, MAX_FRAMES, default=10)
    path = query_value(request, "path", str, choices=PATHS, default="linear")
    settings = {"frames": gr.update(value=frames), "mode": gr.update(value=path)}
    try:
        load_models()
        m, m0 = latent_map(SLUG), latent_map(BETA0_SLUG)
        z1 = query_value(request, "z1", float, m.low[0], m.high[0], default=0.0)
        z2 = query_value(request, "z2", float, m.low[1], m.high[1], default=0.0)
        decoded = vae_decode(z1, z2)
    except gr.Error as err:
        off = gr.update(interactive=False)
        return {"status": show_weights_problem(err), "z1": off, "z2": off, "interp_run": off, "encode_run": off,
                **settings}
    with PIL.Image.open(INTERP_EXAMPLE[0]) as a, PIL.Image.open(INTERP_EXAMPLE[1]) as b:
        interpolated = vae_interpolate(a.copy(), b.copy(), frames, path)
    with PIL.Image.open(ENCODE_EXAMPLE) as img:
        encoded = vae_encode(img.copy())
    on = gr.update(interactive=True)
    centre = ((m0.low[0] + m0.high[0]) / 2, (m0.low[1] + m0.high[1]) / 2)
    return {"status": gr.update(visible=False), **decoded, **beta0_decode(*centre), **interpolated, **encoded,
            "canvas_a": str(INTERP_EXAMPLE[0]), "canvas_b": str(INTERP_EXAMPLE[1]), "canvas_c": str(ENCODE_EXAMPLE),
            "z1": gr.update(minimum=round(m.low[0], 2), maximum=round(m.high[0], 2), value=z1, interactive=True),
            "z2": gr.update(minimum=round(m.low[1], 2), maximum=round(m.high[1], 2), value=z2, interactive=True),
            "interp_run": on, "encode_run": on, **settings}


# --- the tab -----------------------------------------------------------------------------

INLINE_MATH = [{"left": "$", "right": "$", "display": False}]
DIGIT_VIEW = {"type": "pil", "interactive": False, "height": 300, "elem_classes": ["pixelated"]}
MAP_VIEW = {"type": "pil", "interactive": False, "height": 440}


@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown)."""
    _ = TAB.ui
    mnist = {p.stem: str(p) for p in sorted((EXAMPLES / "mnist").glob("*.png"))}
    pairs = [[mnist["1_0002"], mnist["7_0000"]], [mnist["0_0003"], mnist["6_0011"]],
             [mnist["4_0004"], mnist["9_0007"]], [mnist["3_0018"], mnist["8_0061"]]]
    with gr.Blocks() as demo:
        status = weights_status()
        # The first screen: the map (click it) and the sliders beside the decoded digit, then the explanation.
        with gr.Row():
            with gr.Column(scale=5, min_width=320):
                vae_map = gr.Image(label=_("map"), buttons=["download"], **MAP_VIEW)
            with gr.Column(scale=3, min_width=260):
                decoded = gr.Image(label=_("decoded"), **DIGIT_VIEW)
                z1 = controls.Slider(-4, 4, value=0.0, step=0.01, label=_("z1"))
                z2 = controls.Slider(-4, 4, value=0.0, step=0.01, label=_("z2"))
                share_button, share_link = share_row()
                page.slide_button(results=[decoded, vae_map], settings=[z1, z2])
            with gr.Column(scale=4, min_width=300):
                TAB.explanation()
        with gr.Accordion(_("compare_title"), open=True):
            gr.Markdown(_("compare_note"))
            with gr.Row():
                beta0_map = gr.Image(label=_("beta0_map"), **MAP_VIEW)
                with gr.Column():
                    beta0_decoded = gr.Image(label=_("beta0_decoded"), **DIGIT_VIEW)
                    beta0_z = gr.Markdown()
        with gr.Accordion(_("manifold_title"), open=False) as manifold_acc:
            gr.Markdown(_("manifold_note"))
            with gr.Row():
                vae_grid = gr.Image(label=_("manifold_vae"), type="pil", interactive=False, elem_classes=["pixelated"])
                beta0_grid = gr.Image(label=_("manifold_beta0"), type="pil", interactive=False,
                                      elem_classes=["pixelated"])
        with gr.Accordion(_("interp_title"), open=False):
            with gr.Row():
                canvas_a = digit_canvas(_("digit_a"), height=300, elem_id="vae-canvas-a")
                canvas_b = digit_canvas(_("digit_b"), height=300, elem_id="vae-canvas-b")
                with gr.Column():
                    frames = controls.Slider(2, MAX_FRAMES, value=10, step=1, label=_("frames"))
                    mode = controls.Radio([(_("linear"), "linear"), (_("spherical"), "spherical")], value="linear",
                                          label=_("interp_mode"))
                    interp_btn = gr.Button(_("interp_run"), variant="primary")
                    gr.Markdown(_("interp_note"), latex_delimiters=INLINE_MATH)
            with gr.Row():
                gr.Examples([[a] for a, _b in pairs], inputs=[canvas_a], label=_("examples_a"))
                gr.Examples([[b] for _a, b in pairs], inputs=[canvas_b], label=_("examples_b"))
            with gr.Row():
                interp_strip = gr.Image(label=_("interp_vae"), type="pil", interactive=False,
                                        elem_classes=["pixelated"])
                interp_strip0 = gr.Image(label=_("interp_beta0"), type="pil", interactive=False,
                                         elem_classes=["pixelated"])
            with gr.Row():
                interp_map = gr.Image(label=_("path_map"), **MAP_VIEW)
                interp_map0 = gr.Image(label=_("beta0_path_map"), **MAP_VIEW)
        with gr.Accordion(_("encode_title"), open=False):
            with gr.Row():
                canvas_c = digit_canvas(_("your_drawing"), height=300, elem_id="vae-canvas-c")
                with gr.Column():
                    encode_btn = gr.Button(_("encode_run"), variant="primary")
                    encode_examples = gr.Examples(
                        [[mnist["5_0008"]], [mnist["2_0035"]], [str(EXAMPLES / "ood" / "letter_A.png")]],
                        inputs=[canvas_c], label=_("encode_examples"))
                elbo_md = gr.Markdown(latex_delimiters=INLINE_MATH)
            with gr.Row():
                enc_input = gr.Image(label=_("as_seen"), **DIGIT_VIEW)
                enc_recon = gr.Image(label=_("recon_vae"), **DIGIT_VIEW)
                enc_recon0 = gr.Image(label=_("recon_beta0"), **DIGIT_VIEW)
            with gr.Row():
                enc_map = gr.Image(label=_("code_map"), **MAP_VIEW)
                enc_map0 = gr.Image(label=_("beta0_code_map"), **MAP_VIEW)
            gr.Markdown(_("reparam_note"), latex_delimiters=INLINE_MATH)
            with gr.Row():
                enc_zoom = gr.Image(label=_("zoom"), **MAP_VIEW)
                with gr.Column():
                    enc_samples = gr.Image(label=_("samples"), type="pil", interactive=False,
                                           elem_classes=["pixelated"])
                    enc_changes = gr.Image(label=_("sample_changes"), type="pil", interactive=False,
                                           elem_classes=["pixelated"])

        # Events. Decoding one point takes about a millisecond, so the sliders decode live on .change.
        # The api's outputs keep their order (gradio_client sees a tuple): what each handler returns, by name.
        live = dict(show_progress="hidden", trigger_mode="always_last")
        decode_outputs = {"digit": decoded, "map": vae_map}
        page.on(z1.change, vae_decode, [z1, z2], decode_outputs, api_name="vae_decode", **live)
        page.on(z2.change, vae_decode, [z1, z2], decode_outputs, api_visibility="private", **live)
        page.on(vae_map.select, click_vae_map, None, {"z1": z1, "z2": z2}, api_visibility="private")
        beta0_outputs = {"beta0_digit": beta0_decoded, "beta0_map": beta0_map, "beta0_z": beta0_z}
        page.on(beta0_map.select, click_beta0_map, None, beta0_outputs, api_visibility="private")
        page.on(manifold_acc.expand, manifolds, None, {"grid": vae_grid, "grid_beta0": beta0_grid},
                api_visibility="private")
        interp_outputs = {"strip": interp_strip, "strip_beta0": interp_strip0, "path_map": interp_map,
                          "path_map_beta0": interp_map0}
        page.on(interp_btn.click, vae_interpolate, [canvas_a, canvas_b, frames, mode], interp_outputs,
                api_name="vae_interpolate")
        encode_outputs = {"seen": enc_input, "recon": enc_recon, "recon_beta0": enc_recon0, "code_map": enc_map,
                          "code_map_beta0": enc_map0, "elbo": elbo_md, "zoom": enc_zoom, "samples": enc_samples,
                          "changes": enc_changes}
        page.on(encode_btn.click, vae_encode, canvas_c, encode_outputs, api_name="vae_encode")
        page.on(encode_examples.load_input_event.then, vae_encode, canvas_c, encode_outputs, api_visibility="private")
        # An uploaded image is used at once, like an example (the buttons are for drawings).
        page.on(canvas_c.upload, vae_encode, canvas_c, encode_outputs, api_visibility="private")
        for pad in (canvas_a, canvas_b):
            page.on(pad.upload, interpolate_uploaded, [canvas_a, canvas_b, frames, mode], interp_outputs,
                    api_visibility="private")
        for pad in (canvas_a, canvas_b, canvas_c):
            wire_canvas(page, demo, pad)

        wire_share(page, share_button, share_link, vae_share_query, [z1, z2, frames, mode])
        page.when_shown(demo, open_tab, {
            "status": status, **decode_outputs, **beta0_outputs, **interp_outputs, **encode_outputs,
            "canvas_a": canvas_a, "canvas_b": canvas_b, "canvas_c": canvas_c, "z1": z1, "z2": z2,
            "interp_run": interp_btn, "encode_run": encode_btn, "frames": frames, "mode": mode})
    return demo


if __name__ == "__main__":
    TAB.launch()
