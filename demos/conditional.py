"""Conditional generation tab: you pick the digit, the model draws it (cGAN, AC-GAN, cVAE).

What it teaches: a conditional generator takes a label y besides its noise z. The label decides *what* is drawn
(the content: which digit), z decides *how* (the style: slant, thickness, size). Three ways to train one:

* **cGAN** (Mirza & Osindero 2014): both players see the label, G(z, y) and D(x, y);
* **AC-GAN** (Odena, Olah & Shlens 2017): D does not see the label but answers two questions, "real or fake?"
  and "which digit?", and G is rewarded when the second answer is the digit it was asked for;
* **cVAE** (Sohn, Lee & Yan 2015): the label enters the encoder q(z | x, y) and the decoder p(x | z, y), so z
  has no need to store the class and keeps only the style: encode your digit, decode it with every label.

On the tab: samples of the chosen model and digit (for the AC-GAN with its discriminator's verdict under each
digit); the "style × content" grid of the three models side by side (one z per row, one class per column); your
own digit redrawn as every digit by the cVAE; and the cGAN sliding between two labels,
y = (1 − α)·onehot(a) + α·onehot(b), with z fixed.

Weights: ``pretrained/cgan-mnist`` and ``pretrained/acgan-mnist`` (``models.conditional.ConditionalGenerator``),
``pretrained/acgan-mnist-discriminator`` (``ACGANDiscriminator``), ``pretrained/cvae-mnist`` (``ConditionalVAE``),
trained by ``training/train_cgan.py``, ``train_acgan.py`` and ``train_cvae.py``; ``pretrained/mnist-classifier``
(optional) guesses which digit you drew.

Run this tab alone with ``python -m demos.conditional``.
"""

from pathlib import Path

import gradio as gr
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont
import torch
from torch.nn import functional as F

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
from demos.kit import Page, Tab, demo_cache
from demos.share import query_value, share_query, share_row, wire_share
from models.conditional import ACGANDiscriminator, ConditionalGenerator, ConditionalVAE, one_hot, z_batch
from models.imaging import to_pil, to_uint8
from models.mnist_classifier import MnistClassifier

# The cGAN's objective, in matplotlib's mathtext, for the slides (the same in both languages).
CGAN_TEX = (r"\min_G\ \max_D\ \ \mathbb{E}_{x,y}[\log D(x|y)]"
            r" + \mathbb{E}_{z,y}[\log(1 - D(G(z|y)|y))]")

TAB = Tab(id="conditional", strings={
    "title": {"en": "Conditional generation", "ja": "条件付き生成"},
    "slide_caption": {
        "en": ("Conditional generators of MNIST digits: the label y chooses the digit (the columns), the noise z the "
               "style (one z per row). cGAN, AC-GAN and cVAE side by side."),
        "ja": ("MNIST の数字の条件付き生成：ラベル y が数字（列）を、ノイズ z がスタイル（行ごとに 1 つの z）を決めま"
               "す。cGAN・AC-GAN・cVAE を並べています。"),
    },
    "slide_equation": {"en": CGAN_TEX, "ja": CGAN_TEX},
    "model": {"en": "Model", "ja": "モデル"},
    "model_cgan": {"en": "cGAN (conditional GAN)", "ja": "cGAN（条件付き GAN）"},
    "model_acgan": {"en": "AC-GAN (GAN with a classifier)", "ja": "AC-GAN（補助分類器つき GAN）"},
    "model_cvae": {"en": "cVAE (conditional VAE)", "ja": "cVAE（条件付き VAE）"},
    "digit": {"en": "Digit y", "ja": "数字 y"},
    "all": {"en": "all ten", "ja": "10 個すべて"},
    "n": {"en": "Samples (all ten: rows)", "ja": "個数（すべてなら行数）"},
    "run": {"en": "Generate", "ja": "生成する"},
    "truncation": {"en": "GANs' truncation ψ", "ja": "GAN の切り詰め ψ"},
    "truncation_info": {
        "en": "the GANs' z drawn within [−ψ, ψ]: smaller = cleaner, less varied digits; 3 = none",
        "ja": "GAN の z を [−ψ, ψ] の範囲から引きます。小さいほど整った、変化の少ない数字に。3 = 切り詰めなし",
    },
    "samples": {"en": "Generated digits", "ja": "生成された数字"},
    "samples_note": {
        "en": ("Sample *i* uses the *i*-th z of the seed, whatever the digit: change the digit and each sample keeps "
               "its style."),
        "ja": "*i* 番目のサンプルは、数字が何でもシードの *i* 番目の z を使います。数字を変えても各サンプルのスタイル"
              "はそのままです。",
    },
    "verdict_legend": {
        "en": ("**The AC-GAN's discriminator, under each digit:** its class guess and how sure it is (green: the digit "
               "asked for, red: another one), and the bar: P(real), how real it finds the digit, from 0 to 1."),
        "ja": ("**AC-GAN の識別器の判定（各数字の下）：** 推定したクラスとその確信度（緑：指定した数字、赤：別の数"
               "字）、棒グラフは P(本物)：その数字を本物だと思う確率（0〜1）です。"),
    },
    "verdict_summary": {
        "en": "Classed as the digit asked for: **{match} of {n}**. Mean P(real): **{p}**.",
        "ja": "指定した数字だと判定された数：**{n} 個中 {match} 個**。P(本物) の平均：**{p}**。",
    },
    "gallery_title": {"en": "Each digit on its own (to download)", "ja": "数字を 1 枚ずつ（ダウンロード用）"},
    "gallery": {"en": "The generated digits, one by one", "ja": "生成された数字（1 枚ずつ）"},
    "caption": {"en": "class {y}", "ja": "クラス {y}"},
    "caption_row": {"en": "z no. {row}, class {y}", "ja": "{row} 番目の z、クラス {y}"},
    "caption_verdict": {
        "en": "{caption} · D: {guess} ({conf} %), P(real) {p}",
        "ja": "{caption}・識別器：{guess}（{conf} %）、P(本物) {p}",
    },
    "grids_title": {
        "en": "Style × content: one z per row, one class per column",
        "ja": "スタイル × 内容：行ごとに 1 つの z、列ごとに 1 つのクラス",
    },
    "grids_note": {
        "en": ("Each row keeps one noise vector z (the *style*) for all ten columns; each column asks for one class "
               "y = 0 … 9 (the *content*). Along a row the digit changes but the hand stays: slant, thickness, size. "
               "The three models use the same seed, but each has its own z (64 numbers for the GANs, 4 for the "
               "cVAE): compare rows within a grid, not between grids."),
        "ja": ("各行は 10 列すべてで同じノイズ z（*スタイル*）を使い、各列はクラス y = 0 … 9（*内容*）を 1 つずつ指定"
               "します。行に沿って数字は変わっても、書き方（傾き・太さ・大きさ）は変わりません。3 つのモデルは同じシー"
               "ドを使いますが、z はそれぞれ別物です（GAN は 64 個、cVAE は 4 個の数）。比べるのは同じグリッドの中の"
               "行どうしにしましょう。"),
    },
    "rows": {"en": "Rows (one z each)", "ja": "行数（行ごとに z を 1 つ）"},
    "grid_verdict": {
        "en": ("The AC-GAN's discriminator classes **{match} of {n}** digits of its grid as their column's digit; "
               "mean P(real): **{p}**."),
        "ja": "AC-GAN の識別器は、グリッドの **{n} 個中 {match} 個** を列の数字だと判定しました。P(本物) の平均："
              "**{p}**。",
    },
    "restyle_title": {
        "en": "cVAE: your digit, redrawn as every digit",
        "ja": "cVAE：あなたの数字を、すべての数字で描き直す",
    },
    "restyle_note": {
        "en": ("The encoder $q(z \\mid x, y)$ reads your digit *and its label*, so $z = \\mu$ needs to keep only what "
               "the label does not say: the style. The decoder then draws $p(x \\mid z, y)$ with that $z$ and each "
               "$y = 0, \\dots, 9$. Give it the wrong label and see what happens."),
        "ja": ("エンコーダ $q(z \\mid x, y)$ はあなたの数字と *そのラベル* を読むので、$z = \\mu$ にはラベルが伝えない"
               "こと、つまりスタイルだけを残せば足ります。デコーダはその $z$ と各 $y = 0, \\dots, 9$ で "
               "$p(x \\mid z, y)$ を描きます。わざと違うラベルを与えるとどうなるか試してみましょう。"),
    },
    "canvas": {"en": "Your digit", "ja": "あなたの数字"},  # short: the pad's tools cover the end of a longer label
    "label": {"en": "Which digit is it?", "ja": "どの数字ですか？"},
    "auto": {"en": "the classifier's guess", "ja": "分類器の推定"},
    "restyle_run": {"en": "Redraw as every digit", "ja": "すべての数字で描き直す"},
    "examples": {"en": "MNIST test digits", "ja": "MNIST テストデータの数字"},
    "restyled": {
        "en": "Your style, digits 0–9 (framed: the label given)",
        "ja": "あなたのスタイルの 0〜9（枠：与えたラベル）",
    },
    "seen": {"en": "As the model sees it (28×28)", "ja": "モデルに入力される画像（28×28）"},
    "restyle_gallery": {"en": "Digits 0–9 in your style, one by one", "ja": "あなたのスタイルの 0〜9（1 枚ずつ）"},
    "label_auto": {
        "en": "Label given to the encoder: **{y}**, the classifier's guess ({conf} % sure). Wrong? Choose the digit.",
        "ja": "エンコーダに与えたラベル：**{y}**（分類器の推定、確信度 {conf} %）。違っていたら数字を選んでください。",
    },
    "label_chosen": {
        "en": "Label given to the encoder: **{y}** (your choice).",
        "ja": "エンコーダに与えたラベル：**{y}**（あなたの選択）。",
    },
    "need_label": {
        "en": "The classifier that guesses the digit is not available: please choose which digit it is (0–9).",
        "ja": "数字を推定する分類器が使えません。どの数字か（0〜9）を選んでください。",
    },
    "morph_title": {"en": "cGAN: sliding between two labels", "ja": "cGAN：2 つのラベルの間をスライド"},
    "morph_note": {
        "en": ("z stays fixed (the first z of the seed) and the label is a mix of two one-hot vectors, "
               "$y = (1-\\alpha)\\,\\mathrm{onehot}(a) + \\alpha\\,\\mathrm{onehot}(b)$. The generator was trained on "
               "pure labels only: in between, does the digit morph smoothly, or jump?"),
        "ja": ("z は固定したまま（シードの最初の z）、ラベルを 2 つのワンホットベクトルの混合 "
               "$y = (1-\\alpha)\\,\\mathrm{onehot}(a) + \\alpha\\,\\mathrm{onehot}(b)$ にします。生成器は純粋なラベル"
               "だけで学習しています。その中間で、数字はなめらかに変わるでしょうか、それとも急に切り替わるでしょうか。"),
    },
    "label_a": {"en": "Label a (α = 0)", "ja": "ラベル a（α = 0）"},
    "label_b": {"en": "Label b (α = 1)", "ja": "ラベル b（α = 1）"},
    "alpha": {"en": "α", "ja": "混合率 α"},
    "morph_now": {"en": "At this α", "ja": "この α での数字"},
    "morph_strip": {"en": "From a to b in 8 steps (α = 0, 1/7, …, 1)", "ja": "a から b へ 8 段階（α = 0, 1/7, …, 1）"},
    "morph_y": {
        "en": "The label now: $y = {wa}\\,\\mathrm{{onehot}}({a}) + {wb}\\,\\mathrm{{onehot}}({b})$",
        "ja": "いまのラベル：$y = {wa}\\,\\mathrm{{onehot}}({a}) + {wb}\\,\\mathrm{{onehot}}({b})$",
    },
})

MODELS = ("cgan", "acgan", "cvae")
MODEL_NAMES = {"cgan": "cGAN", "acgan": "AC-GAN", "cvae": "cVAE"}
SLUGS = {"cgan": "cgan-mnist", "acgan": "acgan-mnist", "cvae": "cvae-mnist"}
DISCRIMINATOR_SLUG = "acgan-mnist-discriminator"
CLASSIFIER_SLUG = "mnist-classifier"
TRAINING_COMMANDS = {kind: f"python training/train_{kind}.py --data-dir ../shared/data" for kind in MODELS}
CLASSIFIER_COMMAND = "python training/train_mnist_classifier.py --data-dir ../shared/data"
ALL = "all"                    # the digit choice "all ten": n rows, each z with the ten classes
AUTO = "auto"                  # the label choice "the classifier's guess"
DIGITS = tuple(range(10))
DIGIT_VALUES = tuple(map(str, DIGITS))  # the digit choices' values: "0" … "9" (a script may send 7 too)
# name: (low, high, default) of the settings
LIMITS = {"n": (1, 64, 8), "rows": (1, 8, 4), "alpha": (0.0, 1.0, 0.5), "truncation": (0.5, 3.0, 1.25)}
PSI_NONE = 3.0  # the truncation slider's end: no truncation (plain z ~ N(0, I))
DEFAULTS = {"model": "acgan", "digit": "3", "seed": 0, "a": "1", "b": "7", "label": AUTO}
MORPH_STEPS = 8
PER_ROW = (4, 8)               # the samples of one digit: rows of 4 (up to 16 samples), else of 8
LABEL_ROOM = 30                # px left blank above a picture: the page writes its label over that corner
EXAMPLES = Path(__file__).parent / "examples"
RESTYLE_EXAMPLE = str(EXAMPLES / "mnist" / "4_0004.png")
SCALE = 4                      # a 28-px digit is shown 112 px wide, with crisp pixels
GAP = 6                        # px between the digits of a picture
MATCH, MISMATCH = (0, 130, 40), (200, 30, 30)  # the class guess: the digit asked for, another one
BAR, BAR_BACK = (40, 90, 200), (215, 215, 215)
FRAME = (230, 120, 0)          # the label given, in the restyled row


# --- models (loaded lazily, once) ----------------------------------------------------------------------------------

def load_model(kind: str) -> ConditionalGenerator | ConditionalVAE:
    """The generator of ``kind`` (cgan, acgan) or the cVAE, or a Problem that says how to get the weights."""
    check_choice(kind, MODELS)
    cls = ConditionalVAE if kind == "cvae" else ConditionalGenerator
    return load_or_explain(cls, SLUGS[kind], TRAINING_COMMANDS[kind])


def load_discriminator() -> ACGANDiscriminator:
    return load_or_explain(ACGANDiscriminator, DISCRIMINATOR_SLUG, TRAINING_COMMANDS["acgan"])


def load_classifier() -> MnistClassifier:
    return load_or_explain(MnistClassifier, CLASSIFIER_SLUG, CLASSIFIER_COMMAND)


def load_all() -> None:
    """Every model of the tab (a Problem for the first one missing)."""
    for kind in MODELS:
        load_model(kind)
    load_discriminator()


# --- plain functions: drawing digits ------------------------------------------------------------------------------

def latent_size(model) -> int:
    """The length of z: ``nz`` for a GAN generator, ``latent_dim`` for the cVAE."""
    return model.latent_dim if isinstance(model, ConditionalVAE) else model.nz


@torch.inference_mode()
def draw(model, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Digits (B, 1, 28, 28) in [0, 1] for noise z (B, nz) and class vectors y (B, 10): G(z, y), or the cVAE's
    decoder p(x | z, y)."""
    if isinstance(model, ConditionalVAE):
        return model.decode(z, y)
    return model(z, y)


def labels_of(digit, n: int) -> torch.Tensor:
    """The classes (B,) of ``sample_digits``: n times ``digit``, or with ``ALL`` the ten classes n times over."""
    if digit == ALL:
        return torch.arange(10).repeat(n)
    return torch.full((n,), int(digit))


def truncation_of(psi: float) -> float | None:
    """The ψ handed to ``z_batch``: None (no truncation) at the slider's end ``PSI_NONE``."""
    return None if psi >= PSI_NONE else float(psi)


def latents(seed: int, n: int, size: int, digit, psi: float = PSI_NONE) -> torch.Tensor:
    """The z (B, size) of ``sample_digits``: the n first z of ``seed`` (truncated to [−ψ, ψ], the truncation trick),
    each repeated ten times with ``ALL`` (one z per row of ten classes)."""
    z = z_batch(seed, n, size, truncation_of(psi))
    return z.repeat_interleave(10, dim=0) if digit == ALL else z


def sample_digits(model, digit, n: int, seed: int, psi: float = PSI_NONE) -> torch.Tensor:
    """n digits of class ``digit`` (0–9), sample i from the i-th z of ``seed``; with ``ALL``, n rows of ten: row i
    is the i-th z with y = 0 … 9 (the style × content grid). (B, 1, 28, 28) in [0, 1]. ``psi``: the GANs' truncation
    (the cVAE always draws z from its prior N(0, I))."""
    z = latents(seed, n, latent_size(model), digit, PSI_NONE if isinstance(model, ConditionalVAE) else psi)
    return draw(model, z, one_hot(labels_of(digit, n)))


def label_mix(a: int, b: int, alphas) -> torch.Tensor:
    """Soft labels (K, 10): y = (1 − α)·onehot(a) + α·onehot(b) for each α of ``alphas``."""
    alphas = torch.as_tensor(alphas, dtype=torch.float32).reshape(-1, 1)
    ya, yb = one_hot(torch.tensor([a])), one_hot(torch.tensor([b]))
    return (1 - alphas) * ya + alphas * yb


def morph(model, z: torch.Tensor, a: int, b: int, alphas) -> torch.Tensor:
    """The digits (K, 1, 28, 28) of one fixed z (nz,) with the labels ``label_mix(a, b, alphas)``."""
    y = label_mix(a, b, alphas)
    return draw(model, z.reshape(1, -1).expand(len(y), -1), y)


@torch.inference_mode()
def restyle(cvae: ConditionalVAE, x: torch.Tensor, label: int) -> torch.Tensor:
    """Your digit x (1, 1, 28, 28) encoded with its label, z = μ(x, y), then decoded with y = 0 … 9:
    (10, 1, 28, 28), the digit ``label`` being its reconstruction."""
    mu, _logvar = cvae.encode(x, one_hot(torch.tensor([int(label)])))
    return cvae.decode(mu.expand(10, -1), one_hot(torch.arange(10)))


@torch.inference_mode()
def judge(discriminator: ACGANDiscriminator, images: torch.Tensor) -> dict:
    """The AC-GAN discriminator's verdict on digits (B, 1, 28, 28): P(real) (B,), the class guess (B,) and its
    probability (B,)."""
    real_logit, class_logits = discriminator(images)
    confidence, guess = F.softmax(class_logits, dim=1).max(dim=1)
    return {"p_real": torch.sigmoid(real_logit), "guess": guess, "confidence": confidence}


@torch.inference_mode()
def guess_digit(classifier: MnistClassifier, x: torch.Tensor) -> tuple[int, float]:
    """The classifier's guess for one digit x (1, 1, 28, 28) and its probability."""
    p = F.softmax(classifier(x), dim=1)[0]
    return int(p.argmax()), float(p.max())


# --- plain functions: pictures -------------------------------------------------------------------------------------

def _font(size: int) -> PIL.ImageFont.ImageFont:
    return PIL.ImageFont.load_default(size=size)


def digits_picture(images: torch.Tensor, columns: int, scale: int = SCALE, header=None, verdict: dict | None = None,
                   asked: torch.Tensor | None = None, framed: int | None = None, top: int = 0) -> PIL.Image.Image:
    """Digits (N, 1, 28, 28) in rows of ``columns``, each enlarged ``scale`` times with crisp pixels, on white.

    ``header``: a text above each column (the classes 0–9). ``verdict`` (``judge``) and ``asked`` (N,): under each
    digit the discriminator's class guess with its confidence (green: the class asked for, red: another) and a bar
    of P(real). ``framed``: the index of a digit to frame (the label given, when restyling). ``top``: blank pixels
    above it all. Only digits and numbers are written: the legend is on the page, in the student's language."""
    n = len(images)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    cell = 28 * scale
    header_size = max(cell // 3, 26) if header is not None else 0
    head = top + header_size
    band = max(30, cell * 2 // 5) if verdict is not None else 0
    width = columns * (cell + GAP) + GAP
    height = head + rows * (cell + band + GAP) + GAP
    picture = PIL.Image.new("RGB", (width, height), "white")
    draw_on = PIL.ImageDraw.Draw(picture)
    pixels = to_uint8(images, keep_shape=True)
    font = _font(max(12, cell // 5))
    for i in range(n):
        row, col = divmod(i, columns)
        left, upper = GAP + col * (cell + GAP), head + GAP + row * (cell + band + GAP)
        digit = PIL.Image.fromarray(pixels[i, 0]).resize((cell, cell), PIL.Image.NEAREST)
        picture.paste(digit.convert("RGB"), (left, upper))
        if framed == i:
            draw_on.rectangle((left - 3, upper - 3, left + cell + 2, upper + cell + 2), outline=FRAME, width=3)
        if verdict is not None:
            guess, conf = int(verdict["guess"][i]), float(verdict["confidence"][i])
            colour = MATCH if asked is not None and guess == int(asked[i]) else MISMATCH
            draw_on.text((left + cell // 2, upper + cell + 2), f"{guess} · {round(100 * conf)}%", fill=colour,
                         font=font, anchor="mt")
            bar_top, bar_height = upper + cell + band - 9, 7
            draw_on.rectangle((left, bar_top, left + cell - 1, bar_top + bar_height), fill=BAR_BACK)
            filled = round((cell - 1) * float(verdict["p_real"][i]))
            if filled > 0:
                draw_on.rectangle((left, bar_top, left + filled, bar_top + bar_height), fill=BAR)
    if header is not None:
        header_font = _font(max(12, header_size * 4 // 5))
        for col, text in enumerate(list(header)[:columns]):
            draw_on.text((GAP + col * (cell + GAP) + cell // 2, head + GAP // 2), str(text), fill=(60, 60, 60),
                         font=header_font, anchor="mb")
    return picture


def gallery_items(images: torch.Tensor, captions) -> list[tuple[PIL.Image.Image, str]]:
    """Each digit as its own square white-on-black image (112 px), with its caption."""
    return [(to_pil(x, scale=SCALE), caption) for x, caption in zip(images, captions)]


def mean_text(x: torch.Tensor) -> str:
    return f"{float(x.mean()):.2f}"


# --- Gradio handlers ------------------------------------------------------------------------------------------------

def check_digit(digit, allow_all: bool = True):
    """0–9 (an int; "7" counts as 7), or ``ALL``; anything else is a Problem."""
    if allow_all and digit == ALL:
        return ALL
    try:
        if isinstance(digit, bool) or (isinstance(digit, float) and not digit.is_integer()):
            raise ValueError(digit)
        value = int(digit)
    except (TypeError, ValueError, OverflowError):
        value = None
    check_choice(value, (*DIGITS, ALL) if allow_all else DIGITS)
    return value


def conditional_generate(model: str = "acgan", digit: str = "3", n: int = 8, seed: int = 0,
                         truncation: float = LIMITS["truncation"][2]) -> dict:
    """api ``/conditional_generate``: n digits (1–64) of class ``digit`` ("0"–"9"; a number 0–9 is taken too) from
    ``model`` (cgan, acgan or cvae), sample i from the i-th z of ``seed``; ``digit`` "all": n rows of ten, each row
    one z with the classes 0–9. ``truncation`` ψ (0.5–3, 3 = none): z drawn from N(0, I) truncated to [−ψ, ψ].
    Returns, in order: one picture of the digits (for the AC-GAN with its
    discriminator's verdict under each digit), a gallery with each digit as its own image (112 px, white on black,
    captioned; in row order), and a summary of the verdict (Markdown, AC-GAN only)."""
    check_choice(model, MODELS)
    digit = check_digit(digit)
    n = int(check_range(n, *LIMITS["n"][:2], TAB.phrase("n")))
    seed = check_seed(seed)
    psi = check_psi(truncation)
    generator = load_model(model)
    images = sample_digits(generator, digit, n, seed, psi)
    asked = labels_of(digit, n)
    captions = [TAB.text("caption_row", row=i // 10 + 1, y=int(y)) if digit == ALL else TAB.text("caption", y=int(y))
                for i, y in enumerate(asked)]
    verdict, summary = None, ""
    if model == "acgan":
        verdict = judge(load_discriminator(), images)
        captions = [TAB.text("caption_verdict", caption=caption, guess=int(g), conf=round(100 * float(c)),
                             p=f"{float(p):.2f}")
                    for caption, g, c, p in zip(captions, verdict["guess"], verdict["confidence"], verdict["p_real"])]
        match = int((verdict["guess"] == asked).sum())
        summary = TAB.text("verdict_legend") + "\n\n" + TAB.text("verdict_summary", match=match, n=len(images),
                                                                     p=mean_text(verdict["p_real"]))
    columns = 10 if digit == ALL else PER_ROW[0] if n <= 16 else PER_ROW[1]
    scale = SCALE if len(images) <= 80 else 2
    shown_width = min(columns, len(images)) * (28 * scale + GAP)  # shrunk to the page's ~480 px: more room above
    picture = digits_picture(images, columns, scale=scale, header=DIGITS if digit == ALL else None, verdict=verdict,
                             asked=asked, top=round(LABEL_ROOM * max(1.0, shown_width / 480)))
    return {"samples": picture, "gallery": gallery_items(images, captions), "verdict": summary}


def check_psi(psi) -> float:
    return check_range(psi, *LIMITS["truncation"][:2], TAB.phrase("truncation"))


@demo_cache(maxsize=16)
def style_grids(seed: int, rows: int, psi: float = PSI_NONE) -> dict:
    """The style × content grids of the three models for ``seed`` (rows of one z, columns y = 0 … 9), and the
    AC-GAN discriminator's verdict on its grid: how many digits it classes as their column's, of how many, and the
    mean P(real) (computed once per seed and number of rows; no text, which is in the student's language)."""
    out = {}
    for kind in MODELS:
        images = sample_digits(load_model(kind), ALL, rows, seed, psi)
        out[f"grid_{kind}"] = digits_picture(images, 10, scale=2, header=DIGITS, top=40)  # under the page's buttons
        if kind == "acgan":
            verdict = judge(load_discriminator(), images)
            out["verdict"] = {"match": int((verdict["guess"] == labels_of(ALL, rows)).sum()), "n": len(images),
                              "p": mean_text(verdict["p_real"])}
    return out


def show_style_grids(seed: int, rows: int, psi: float = PSI_NONE) -> dict:
    """The three grids (``style_grids``) for the controls' values, and the AC-GAN's verdict in words."""
    seed = check_seed(seed)
    rows = int(check_range(rows, *LIMITS["rows"][:2], TAB.phrase("rows")))
    grids = style_grids(seed, rows, check_psi(psi))
    return {**{f"grid_{kind}": grids[f"grid_{kind}"] for kind in MODELS},
            "grid_verdict": TAB.text("grid_verdict", **grids["verdict"])}


def numbers_as_text(radio):
    """Let ``radio`` (choices "0" … "9") take a digit sent as a number too (a script's 7 is "7"): its check
    (demos/controls.py) reads the number as text first."""
    def coerce(payload):
        return str(payload) if isinstance(payload, int) and not isinstance(payload, bool) else payload

    radio.coerce = coerce
    return radio


def check_label(label):
    """``AUTO`` or a digit 0–9."""
    return AUTO if label == AUTO else check_digit(label, allow_all=False)


def cvae_restyle(image, label: str = "auto") -> dict:
    """api ``/cvae_restyle``: your digit (a drawing or an image) encoded by the cVAE with its label ("0"–"9", a number
    0–9 is taken too; "auto", the default: the MNIST classifier's guess), z = μ, then decoded as every digit 0–9.
    Returns, in order: one picture of the ten digits (the label given framed), a gallery of the ten digits 0–9 in
    order, each its own image (112 px, white on black), the digit as the model sees it (28×28, enlarged), and which
    label was used (Markdown)."""
    label = check_label(label)
    cvae = load_model("cvae")
    x = image_to_digit(image)
    if label == AUTO:
        try:
            classifier = load_classifier()
        except gr.Error:
            raise TAB.problem("need_label") from None
        label, confidence = guess_digit(classifier, x)
        note = TAB.text("label_auto", y=label, conf=round(100 * confidence))
    else:
        note = TAB.text("label_chosen", y=label)
    images = restyle(cvae, x, label)
    return {"restyled": digits_picture(images, 5, framed=label, top=LABEL_ROOM),
            "restyle_gallery": gallery_items(images, [TAB.text("caption", y=y) for y in DIGITS]),
            "seen": to_pil(x, scale=SCALE), "restyle_note": note}


def cvae_restyle_live(image, label) -> dict:
    """``cvae_restyle`` for the live events (drawing, upload, example, label): a blank or cleared pad changes
    nothing."""
    try:
        return cvae_restyle(image, label)
    except gr.Error:
        return {}


def cgan_morph(seed: int, a: int, b: int, alpha: float, psi: float = PSI_NONE) -> dict:
    """The cGAN's digit for the first z of ``seed`` and the label y = (1 − α)·onehot(a) + α·onehot(b), with the
    strip of ``MORPH_STEPS`` steps from a to b and the label vector written out."""
    seed = check_seed(seed)
    a, b = check_digit(a, allow_all=False), check_digit(b, allow_all=False)
    alpha = check_range(alpha, *LIMITS["alpha"][:2], TAB.phrase("alpha"))
    generator = load_model("cgan")
    z = z_batch(seed, 1, generator.nz, truncation_of(check_psi(psi)))[0]
    steps = morph(generator, z, a, b, torch.linspace(0, 1, MORPH_STEPS))
    # shown about 2/3 of its size: more room for the label written over its corner
    return {**cgan_morph_now(seed, a, b, alpha, psi),
            "morph_strip": digits_picture(steps, MORPH_STEPS, top=2 * LABEL_ROOM)}


def cgan_morph_now(seed: int, a: int, b: int, alpha: float, psi: float = PSI_NONE) -> dict:
    """Only the digit at α (live, as the slider moves) and the label vector."""
    seed = check_seed(seed)
    a, b = check_digit(a, allow_all=False), check_digit(b, allow_all=False)
    alpha = check_range(alpha, *LIMITS["alpha"][:2], TAB.phrase("alpha"))
    generator = load_model("cgan")
    z = z_batch(seed, 1, generator.nz, truncation_of(check_psi(psi)))[0]
    now = morph(generator, z, a, b, [alpha])
    return {"morph_now": to_pil(now, scale=10),
            "morph_y": TAB.text("morph_y", wa=f"{1 - alpha:.2f}", a=a, wb=f"{alpha:.2f}", b=b)}


def reseed(model: str, digit, n: int, seed: int, rows: int, a: int, b: int, alpha: float,
           psi: float = PSI_NONE) -> dict:
    """Everything that follows the seed (and ψ): the samples, the three grids and the cGAN's morph."""
    return {**conditional_generate(model, digit, n, seed, psi), **show_style_grids(seed, rows, psi),
            **cgan_morph(seed, a, b, alpha, psi)}


def after_generate(seed: int, rows: int, a: int, b: int, alpha: float, psi: float = PSI_NONE) -> dict:
    """After "Generate": the grids and the morph follow its seed and ψ too."""
    return {**show_style_grids(seed, rows, psi), **cgan_morph(seed, a, b, alpha, psi)}


# --- share links and opening the tab --------------------------------------------------------------------------------

# The settings a share link carries (the controls' names), in the order of ``conditional_share_query``.
SETTINGS = ("model", "digit", "n", "seed", "rows", "a", "b", "alpha", "label", "psi")


def conditional_share_query(model, digit, n, seed, rows, a, b, alpha, label, psi=LIMITS["truncation"][2]) -> str:
    """The query string of a share link to this tab with these settings (never the student's drawing)."""
    return share_query(TAB, model=model, digit=digit, n=int(n or 1), seed=int(seed or 0), rows=int(rows or 1),
                       a=a, b=b, alpha=round(float(alpha), 2), label=label, psi=round(float(psi), 2))


def settings_from_query(request: gr.Request | None) -> dict:
    """{name: value} of ``SETTINGS`` from a share link; defaults for what is absent or not valid."""
    n_low, n_high, n_default = LIMITS["n"]
    rows_low, rows_high, rows_default = LIMITS["rows"]
    alpha_low, alpha_high, alpha_default = LIMITS["alpha"]
    return {
        "model": query_value(request, "model", str, choices=MODELS, default=DEFAULTS["model"]),
        "digit": query_value(request, "digit", str, choices=(*DIGIT_VALUES, ALL), default=DEFAULTS["digit"]),
        "n": query_value(request, "n", int, n_low, n_high, default=n_default),
        "seed": query_value(request, "seed", int, 0, MAX_SEED, default=DEFAULTS["seed"]),
        "rows": query_value(request, "rows", int, rows_low, rows_high, default=rows_default),
        "a": query_value(request, "a", str, choices=DIGIT_VALUES, default=DEFAULTS["a"]),
        "b": query_value(request, "b", str, choices=DIGIT_VALUES, default=DEFAULTS["b"]),
        "alpha": query_value(request, "alpha", float, alpha_low, alpha_high, default=alpha_default),
        "label": query_value(request, "label", str, choices=(AUTO, *DIGIT_VALUES), default=DEFAULTS["label"]),
        "psi": query_value(request, "psi", float, *LIMITS["truncation"][:2], default=LIMITS["truncation"][2]),
    }


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): load the weights and compute every section with
    the share link's settings (or the defaults), the cVAE on a real MNIST test digit; if a model is missing, show
    why and disable only this tab."""
    settings = settings_from_query(request)
    values = {name: gr.update(value=value) for name, value in settings.items()}
    buttons = ("run", "restyle_run")
    try:
        load_all()
    except gr.Error as err:
        return {"status": show_weights_problem(err), **dict.fromkeys(buttons, gr.update(interactive=False)),
                **values}
    s = settings
    with PIL.Image.open(RESTYLE_EXAMPLE) as img:
        example = img.copy()
    try:
        restyled = cvae_restyle(example, s["label"])
    except gr.Error:  # "auto" without the classifier: the example's own label
        restyled = cvae_restyle(example, int(Path(RESTYLE_EXAMPLE).name[0]))
    return {"status": gr.update(visible=False), **dict.fromkeys(buttons, gr.update(interactive=True)), **values,
            "canvas": RESTYLE_EXAMPLE, **restyled,
            **reseed(s["model"], s["digit"], s["n"], s["seed"], s["rows"], s["a"], s["b"], s["alpha"], s["psi"])}


# --- the tab ----------------------------------------------------------------------------------------------------------

INLINE_MATH = [{"left": "$", "right": "$", "display": False}]
PICTURE = {"type": "pil", "format": "png", "interactive": False, "buttons": ["download"],
           "elem_classes": ["pixelated"]}


@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown)."""
    _ = TAB.ui
    one_per_digit = {}  # the first MNIST test digit of each class shipped with the app
    for path in sorted((EXAMPLES / "mnist").glob("*.png")):
        one_per_digit.setdefault(path.name[0], str(path))
    digit_choices = [(d, d) for d in DIGIT_VALUES]
    with gr.Blocks() as demo:
        status = weights_status()
        # The first screen: the controls, the samples (with the AC-GAN's verdict) and the explanation.
        with gr.Row():
            with gr.Column(scale=3, min_width=260) as controls_column:
                # The models' names, the same in both languages, on one line (the explanation says what they are).
                model = controls.Radio([(MODEL_NAMES[kind], kind) for kind in MODELS], value=DEFAULTS["model"],
                                       label=_("model"))
                digit = numbers_as_text(controls.Radio([*digit_choices, (_("all"), ALL)], value=DEFAULTS["digit"],
                                                       label=_("digit")))
                n = controls.Slider(*LIMITS["n"][:2], value=LIMITS["n"][2], step=1, label=_("n"))
                psi = controls.Slider(*LIMITS["truncation"][:2], value=LIMITS["truncation"][2], step=0.05,
                                      label=_("truncation"), info=_("truncation_info"))
                seed, dice = seed_input(DEFAULTS["seed"])
                run = gr.Button(_("run"), variant="primary")
                share_button, share_link = share_row()
            with gr.Column(scale=5, min_width=340):
                samples = gr.Image(label=_("samples"), height=360, **PICTURE)
                verdict = gr.Markdown()
                gr.Markdown(_("samples_note"))
            with gr.Column(scale=4, min_width=300):
                TAB.explanation()
        with gr.Accordion(_("gallery_title"), open=False):
            gallery = gr.Gallery(label=_("gallery"), columns=10, height="auto", object_fit="contain", format="png",
                                 buttons=["download"])

        with gr.Accordion(_("grids_title"), open=True):
            with gr.Row(equal_height=True):
                gr.Markdown(_("grids_note"))
                rows = controls.Slider(*LIMITS["rows"][:2], value=LIMITS["rows"][2], step=1, label=_("rows"),
                                       scale=0, min_width=220)
            with gr.Row():
                grids = {}
                for kind in MODELS:
                    # A caption above rather than a label on it: a label would hide the classes written on top.
                    with gr.Column(min_width=300):
                        gr.Markdown(_(f"model_{kind}"))
                        grids[kind] = gr.Image(label=_(f"model_{kind}"), show_label=False, **PICTURE)
            grid_verdict = gr.Markdown()

        with gr.Accordion(_("restyle_title"), open=True):
            gr.Markdown(_("restyle_note"), latex_delimiters=INLINE_MATH)
            with gr.Row():
                with gr.Column(scale=3, min_width=280):
                    canvas = digit_canvas(_("canvas"), height=300, elem_id="conditional-canvas")
                    examples = gr.Examples([[p] for p in one_per_digit.values()], inputs=[canvas],
                                           label=_("examples"))
                with gr.Column(scale=2, min_width=220):
                    label = numbers_as_text(controls.Radio([(_("auto"), AUTO), *digit_choices],
                                                           value=DEFAULTS["label"], label=_("label")))
                    restyle_run = gr.Button(_("restyle_run"), variant="primary")
                    restyle_note = gr.Markdown()
                    seen = gr.Image(label=_("seen"), height=150, **PICTURE)
                with gr.Column(scale=6, min_width=360):
                    restyled = gr.Image(label=_("restyled"), **PICTURE)
                    with gr.Accordion(_("gallery_title"), open=False):
                        restyle_gallery = gr.Gallery(label=_("restyle_gallery"), columns=10, height="auto",
                                                     object_fit="contain", format="png", buttons=["download"])

        with gr.Accordion(_("morph_title"), open=True):
            gr.Markdown(_("morph_note"), latex_delimiters=INLINE_MATH)
            with gr.Row():
                with gr.Column(scale=3, min_width=260):
                    a = numbers_as_text(controls.Radio(digit_choices, value=DEFAULTS["a"], label=_("label_a")))
                    b = numbers_as_text(controls.Radio(digit_choices, value=DEFAULTS["b"], label=_("label_b")))
                    alpha = controls.Slider(*LIMITS["alpha"][:2], value=LIMITS["alpha"][2], step=0.01,
                                            label=_("alpha"))
                    morph_y = gr.Markdown(latex_delimiters=INLINE_MATH)
                with gr.Column(scale=2, min_width=220):
                    morph_now = gr.Image(label=_("morph_now"), height=280, **PICTURE)
                with gr.Column(scale=6, min_width=360):
                    morph_strip = gr.Image(label=_("morph_strip"), **PICTURE)
        with controls_column:  # the button under the controls, for the pictures of every section
            page.slide_button([samples, *grids.values()], [model, digit, n, seed])

        # Events. A batch of digits takes milliseconds: the choices redraw at once, the sliders when let go (α live).
        # The api's outputs keep their order (gradio_client sees a tuple): what each handler returns, by name.
        private = dict(api_visibility="private")
        quiet = dict(show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        gen_inputs = [model, digit, n, seed, psi]
        gen_outputs = {"samples": samples, "gallery": gallery, "verdict": verdict}
        grid_outputs = {**{f"grid_{kind}": grids[kind] for kind in MODELS}, "grid_verdict": grid_verdict}
        morph_inputs = [seed, a, b, alpha, psi]
        now_outputs = {"morph_now": morph_now, "morph_y": morph_y}
        morph_outputs = {**now_outputs, "morph_strip": morph_strip}
        seeded_inputs = [model, digit, n, seed, rows, a, b, alpha, psi]
        seeded_outputs = {**gen_outputs, **grid_outputs, **morph_outputs}

        generated = page.on(run.click, conditional_generate, gen_inputs, gen_outputs,
                            api_name="conditional_generate")
        page.on(generated.success, after_generate, [seed, rows, a, b, alpha, psi], {**grid_outputs, **morph_outputs},
                **quiet)
        for changed in (model.input, digit.input, n.release):
            page.on(changed, conditional_generate, gen_inputs, gen_outputs, **quiet)
        page.on(seed.submit, reseed, seeded_inputs, seeded_outputs, **quiet)
        rolled = page.on(dice.click, new_seed, None, seed, queue=False, **private)
        page.on(rolled.then, reseed, seeded_inputs, seeded_outputs, **quiet)
        page.on(psi.release, reseed, seeded_inputs, seeded_outputs, **quiet)
        page.on(rows.release, show_style_grids, [seed, rows, psi], grid_outputs, **quiet)

        restyle_outputs = {"restyled": restyled, "restyle_gallery": restyle_gallery, "seen": seen,
                           "restyle_note": restyle_note}
        page.on(restyle_run.click, cvae_restyle, [canvas, label], restyle_outputs, api_name="cvae_restyle")
        for changed in (*wire_canvas(page, demo, canvas), canvas.upload, examples.load_input_event.then, label.input):
            page.on(changed, cvae_restyle_live, [canvas, label], restyle_outputs, **quiet)

        for changed in (a.input, b.input):
            page.on(changed, cgan_morph, morph_inputs, morph_outputs, **quiet)
        page.on(alpha.input, cgan_morph_now, morph_inputs, now_outputs, **quiet)

        settings = {"model": model, "digit": digit, "n": n, "seed": seed, "rows": rows, "a": a, "b": b,
                    "alpha": alpha, "label": label, "psi": psi}
        wire_share(page, share_button, share_link, conditional_share_query, list(settings.values()))
        page.when_shown(demo, open_tab, {
            "status": status, "run": run, "restyle_run": restyle_run, "canvas": canvas, **settings,
            **seeded_outputs, **restyle_outputs})
    return demo


if __name__ == "__main__":
    TAB.launch()
