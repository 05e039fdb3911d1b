"""DCGAN bedroom-arithmetic tab: vector arithmetic and latent walks in the z space of a DCGAN.

What it teaches (Radford, Metz & Chintala 2015, §6): a GAN generator maps a simple noise vector
z ~ N(0, I) in R^100 to an image. Directions in z space carry meaning, so — as with word vectors,
where vec("king") − vec("man") + vec("woman") is near vec("queen") — one can do arithmetic on
concepts: take a few samples that show concept A, a few that show B, a few that show C, and decode

    z = mean(z_A) − mean(z_B) + mean(z_C).

The paper averaged three z per concept: one sample carries its own accidental details (colours,
layout), and averaging keeps what the samples share. The tab shows the same arithmetic with a single
exemplar per bucket beside it, and the result with small noise added (a 3x3 neighbourhood) to show
that the *region* around z, not one lucky point, has the property.

A latent walk (linear or spherical interpolation between two z) changes the bedroom smoothly:
no sharp jumps, which the paper took as evidence that the model did not memorise its training
photos (a memorising model would jump from one stored image to the next).

Every sample is named ``seed:index`` — the index-th of the 16 z drawn with that seed (``models.dcgan.z_batch``)
— so a result can be reproduced, shared or sent to the api.

Weights: ``pretrained/dcgan-bedrooms`` (``models.dcgan.Generator``, trained on 2,911 real bedroom
photos by ``training/train_dcgan.py``).

Run this tab alone with ``python -m demos.dcgan``.
"""

import re

import gradio as gr
import PIL.Image
import torch

from demos import controls
from demos.common import (
    MAX_SEED,
    check_range,
    check_seed,
    load_or_explain,
    new_seed,
    show_weights_problem,
    weights_status,
)
from demos.kit import Page, Tab, generated_file
from demos.share import query_value, share_query, share_row, wire_share
from models.dcgan import SAMPLE_BATCH, Generator, z_batch, z_for
from models.imaging import grid, to_pil, to_unit
from models.vae import lerp, slerp

TAB = Tab(id="dcgan", strings={
    "title": {"en": "DCGAN: bedroom arithmetic", "ja": "DCGAN：寝室のベクトル演算"},
    "seed": {"en": "Seed of the batch", "ja": "バッチのシード"},
    "new_batch": {"en": "New batch", "ja": "新しいバッチ"},
    "grid": {
        "en": "Generated bedrooms (64×64): click one to put it in, click again to take it out",
        "ja": "生成された寝室（64×64）：クリックで入れ、もう一度で取り出す",
    },
    "target": {
        "en": "A click puts the bedroom in a bucket or the walk's start/end",
        "ja": "クリックした寝室の入れ先（バケツか、ウォークの始点・終点）",
    },
    "to_a": {"en": "A +", "ja": "A ＋"},
    "to_b": {"en": "B −", "ja": "B －"},
    "to_c": {"en": "C +", "ja": "C ＋"},
    "to_start": {"en": "start", "ja": "始点"},
    "to_end": {"en": "end", "ja": "終点"},
    "preview": {"en": "The bucket's samples", "ja": "バケツのサンプル"},
    "bucket_a": {"en": "Bucket A (+): concept to keep", "ja": "バケツ A（＋）：残す概念"},
    "bucket_b": {"en": "Bucket B (−): concept to remove", "ja": "バケツ B（−）：取り除く概念"},
    "bucket_c": {"en": "Bucket C (+): concept to add", "ja": "バケツ C（＋）：加える概念"},
    "sigma": {"en": "Neighbourhood noise σ", "ja": "近傍ノイズ σ"},
    "noise_seed": {"en": "Noise seed", "ja": "ノイズのシード"},
    "run": {"en": "Compute mean(A) − mean(B) + mean(C)", "ja": "平均(A) − 平均(B) + 平均(C) を計算"},
    "figure": {
        "en": "The buckets, and their mean z decoded (right)",
        "ja": "各バケツと、その平均 z の復号（右端）",
    },
    "averaged": {
        "en": "Result: A − B + C (centre), + σ·noise around it",
        "ja": "結果：A − B + C（中央）と、周りに σ·ノイズ",
    },
    "single": {
        "en": "One sample per bucket: A₁ − B₁ + C₁",
        "ja": "各バケツ 1 サンプルだけ：A₁ − B₁ + C₁",
    },
    "caption": {
        "en": (
            "Buckets of {sizes} samples; σ = {sigma}. ‖z‖ of the averaged result: {norm}; of the single-sample result: "
            "{norm1}. A typical z ~ N(0, I) has ‖z‖ ≈ {typical}, where G was trained; the sum of three independent z "
            "has ‖z‖ ≈ {off}, off that shell, while averaging 3 z per bucket brings A − B + C back to ≈ {typical}."
        ),
        "ja": (
            "バケツのサンプル数 {sizes}、σ = {sigma}。平均した結果の ‖z‖：{norm}、1 サンプルの結果：{norm1}。z ~ N(0, "
            "I) の典型的な ‖z‖ は ≈ {typical} で、G はそこで学習されています。独立な 3 つの z の和は ‖z‖ ≈ {off} "
            "とその殻から外れますが、各バケツ 3 つの z を平均すると A − B + C は ≈ {typical} に戻ります。"
        ),
    },
    "walk_title": {"en": "Latent walk between two samples", "ja": "2 つのサンプル間の潜在空間ウォーク"},
    "start": {"en": "Walk start (seed:index)", "ja": "ウォークの始点（シード:番号）"},
    "end": {"en": "Walk end (seed:index)", "ja": "ウォークの終点（シード:番号）"},
    "frames": {"en": "Frames", "ja": "フレーム数"},
    "walk_run": {"en": "Walk", "ja": "ウォーク"},
    "walk_linear": {"en": "Linear interpolation (1 − t)·z₁ + t·z₂", "ja": "線形補間 (1 − t)·z₁ + t·z₂"},
    "walk_spherical": {"en": "Spherical interpolation (slerp)", "ja": "球面線形補間"},
    "walk_gif": {
        "en": "The walk, animated (left: linear, right: spherical; the download button saves the GIF)",
        "ja": "ウォークのアニメーション（左：線形、右：球面。ダウンロードボタンで GIF を保存）",
    },
    "walk_caption": {
        "en": (
            "Mean absolute pixel change between consecutive frames — linear: largest {lin_max}, mean {lin_mean}; "
            "spherical: largest {sph_max}, mean {sph_mean} (pixels in [0, 1]). A largest step close to the mean means "
            "no sudden jump. Smallest ‖z‖ along the path — linear: {lin_norm}, spherical: {sph_norm}."
        ),
        "ja": (
            "隣り合うフレーム間の平均絶対画素変化 — 線形：最大 {lin_max}、平均 {lin_mean}；球面：最大 {sph_max}、平均 "
            "{sph_mean}（画素値は [0, 1]）。最大が平均に近ければ急な飛びはありません。経路上の最小 ‖z‖ — "
            "線形：{lin_norm}、球面：{sph_norm}。"
        ),
    },
    "err_token": {
        "en": "“{token}”{what} is not a sample name. Use seed:index with an index from 0 to {n}, e.g. 0:3, 12:15.",
        "ja": (
            "「{token}」{what}はサンプル名ではありません。シード:番号 の形で、番号は 0 から {n} まで（例：0:3, "
            "12:15）。"
        ),
    },
    "err_too_many": {
        "en": "A bucket{what} holds at most {n} samples.",
        "ja": "バケツ{what}に入るのは最大 {n} サンプルです。",
    },
    "err_empty": {
        "en": "Still empty: bucket {buckets}. Click samples of the grid into every bucket first.",
        "ja": "バケツ {buckets} が空です。先にグリッドのサンプルをクリックして、すべてのバケツに入れてください。",
    },
    "slide_caption": {
        "en": (
            "Vector arithmetic in the latent space of a DCGAN: the mean z of each bucket of generated bedrooms, "
            "combined as A − B + C and decoded, with small noise around the result."
        ),
        "ja": (
            "DCGAN の潜在空間でのベクトル演算：生成した寝室をバケツごとに z で平均し、A − B + C "
            "を復号した結果（周りは小さなノイズを加えたもの）。"
        ),
    },
    "slide_equation": {
        "en": r"z = \bar{z}_A - \bar{z}_B + \bar{z}_C,\quad \bar{z}_X = \frac{1}{|X|}\sum_{z \in X} z",
        "ja": r"z = \bar{z}_A - \bar{z}_B + \bar{z}_C,\quad \bar{z}_X = \frac{1}{|X|}\sum_{z \in X} z",
    },
    "err_walk": {
        "en": "Give exactly one sample (seed:index) as the start and one as the end of the walk.",
        "ja": "ウォークの始点と終点に、それぞれちょうど 1 つのサンプル（シード:番号）を指定してください。",
    },
})

SLUG = "dcgan-bedrooms"
TRAINING_COMMAND = "python training/train_dcgan.py --device cuda --max-minutes 15"
MAX_PER_BUCKET = 8
LIMITS = {"sigma": (0.0, 1.0, 0.25), "frames": (2, 16, 8)}
SCALE = 2               # 64 px samples are shown at 128 px
GIF_SCALE = 4           # and at 256 px in the animated walk
TARGETS = ("A", "B", "C", "start", "end")
TOKEN = re.compile(r"^\s*(\d+)\s*[:：]\s*(\d+)\s*$")
# A default example (chosen by looking at the samples of the shipped weights; see notes/dcgan.md).
# A: bright rooms with a window, B: bright rooms without one, C: dim rooms without one → a dim room with a window?
DEFAULT = {"seed": 3, "A": "3:5, 3:13, 3:15", "B": "3:3, 3:4, 3:6", "C": "3:9, 3:12, 3:14", "start": "3:5",
           "end": "3:12"}


def load_generator() -> Generator:
    return load_or_explain(Generator, SLUG, TRAINING_COMMAND)


# --- plain functions (testable without Gradio) ---------------------------------------------

def picture(x: torch.Tensor, scale: int = SCALE) -> PIL.Image.Image:
    """One generated image (3, H, W) in [-1, 1] → PIL, enlarged ``scale`` times (bicubic)."""
    return to_pil(to_unit(x), scale=scale, smooth=True)


def grid_picture(images: torch.Tensor, nrow: int, scale: int = SCALE) -> PIL.Image.Image:
    """Generated images (N, 3, H, W) in [-1, 1] → one grid (``nrow`` per row, 2 px of white between them),
    enlarged ``scale`` times (bicubic)."""
    return to_pil(grid(to_unit(images), nrow=nrow), scale=scale, smooth=True)


@torch.inference_mode()
def sample_batch(g: Generator, seed: int) -> torch.Tensor:
    """The 16 samples (16, 3, 64, 64) in [-1, 1] of ``seed``."""
    return g(z_batch(seed, g.nz))


@torch.inference_mode()
def vector_arithmetic(g: Generator, a: list, b: list, c: list, sigma: float = 0.25, noise_seed: int = 0) -> dict:
    """mean(z_A) − mean(z_B) + mean(z_C), and the same with the first sample of each bucket only.

    Returns the decoded bucket samples and means, and for both results a 3x3 neighbourhood: the
    result in the centre, the result + σ·ε (ε ~ N(0, I), seeded) around it."""
    za, zb, zc = (z_for(t, g.nz) for t in (a, b, c))
    means = torch.stack([za.mean(0), zb.mean(0), zc.mean(0)])
    averaged = means[0] - means[1] + means[2]
    single = za[0] - zb[0] + zc[0]
    eps = torch.randn(9, g.nz, generator=torch.Generator().manual_seed(noise_seed))
    eps[4] = 0  # the centre is the exact result
    return {
        "samples": [g(z) for z in (za, zb, zc)],
        "means": g(means),
        "averaged": g(averaged + sigma * eps),
        "single": g(single + sigma * eps),
        "z_averaged": averaged,
        "z_single": single,
    }


@torch.inference_mode()
def latent_walk(g: Generator, start: tuple[int, int], end: tuple[int, int], frames: int) -> dict:
    """Linear and spherical paths between two samples' z, decoded (frames, 3, 64, 64) each, with the
    mean absolute pixel change between consecutive frames (a sharp transition would show as one big step)."""
    za, zb = z_for([start, end], g.nz)
    t = torch.linspace(0, 1, frames)
    out = {}
    for name, path in (("linear", lerp(za, zb, t)), ("spherical", slerp(za, zb, t))):
        images = g(path)
        out[name] = images
        out[f"{name}_steps"] = (images[1:] - images[:-1]).abs().mean(dim=(1, 2, 3)) / 2  # in [0, 1] units
        out[f"{name}_norms"] = path.norm(dim=1)
    return out


def save_gif(frames: list[PIL.Image.Image], path, duration_ms: int = 160) -> None:
    """An animated GIF of ``frames`` (looping). One palette of 256 colours, made from all the frames together, and
    Floyd–Steinberg dithering: much faster than a palette per frame, and the colours do not flicker."""
    montage = PIL.Image.new("RGB", (frames[0].width, frames[0].height * len(frames)))
    for i, frame in enumerate(frames):
        montage.paste(frame, (0, i * frames[0].height))
    palette = montage.reduce(4).quantize(colors=256, method=PIL.Image.Quantize.MEDIANCUT)
    indexed = [frame.quantize(palette=palette, dither=PIL.Image.Dither.FLOYDSTEINBERG) for frame in frames]
    indexed[0].save(path, format="GIF", save_all=True, append_images=indexed[1:], duration=duration_ms, loop=0)


def bucket_figure(result: dict, labels=("A", "B", "C")) -> PIL.Image.Image:
    """The paper's layout: each bucket's samples in a row, then (after a gap) their mean decoded."""
    rows = []
    width = max(s.shape[0] for s in result["samples"]) + 1
    blank = torch.ones(3, 64, 64)  # white in [-1, 1]
    for samples, mean in zip(result["samples"], result["means"]):
        row = list(samples) + [blank] * (width - 1 - samples.shape[0]) + [mean]
        rows += row
    return grid_picture(torch.stack(rows), nrow=width)


# --- input parsing ---------------------------------------------------------------------------

def parse_tokens(value, what: str = "") -> list[tuple[int, int]]:
    """'12:3, 12:5' → [(12, 3), (12, 5)], or a Problem (``what``: which box, e.g. " (A)")."""
    value = "" if value is None else str(value)
    tokens = []
    for part in filter(None, (p.strip() for p in re.split(r"[,、\s]+", value))):
        m = TOKEN.match(part)
        if not m or int(m.group(2)) >= SAMPLE_BATCH or int(m.group(1)) > MAX_SEED:
            raise TAB.problem("err_token", token=part[:40], what=what, n=SAMPLE_BATCH - 1)
        tokens.append((int(m.group(1)), int(m.group(2))))
    if len(tokens) > MAX_PER_BUCKET:
        raise TAB.problem("err_too_many", what=what, n=MAX_PER_BUCKET)
    return tokens


def format_tokens(tokens: list[tuple[int, int]]) -> str:
    return ", ".join(f"{s}:{i}" for s, i in tokens)


# --- Gradio handlers ----------------------------------------------------------------------

def dcgan_grid(seed):
    """api ``/dcgan_grid``: the 16 samples of ``seed``, captioned ``seed:index``."""
    seed = check_seed(seed)
    g = load_generator()
    images = sample_batch(g, seed)
    return [(picture(x), f"{seed}:{i}") for i, x in enumerate(images)]


def bucket_preview(value) -> PIL.Image.Image | None:
    """The samples of one bucket side by side, shown beside its box (None, an empty picture, for an empty bucket or
    text that is not sample names: the box is still being typed in)."""
    try:
        tokens = parse_tokens(value)
        g = load_generator()
    except gr.Error:
        return None
    if not tokens:
        return None
    with torch.inference_mode():
        images = g(z_for(tokens, g.nz))
    return grid_picture(images, nrow=len(tokens))


def pick_sample(target: str, seed, a, b, c, start, end, evt: gr.SelectData) -> dict:
    """Clicking a sample of the grid puts it in the bucket (A, B, C) or walk end chosen by ``target``.
    A sample already in the bucket is taken out again. Returns the five boxes by name (``TARGETS``)."""
    seed = check_seed(seed)
    token = (seed, int(evt.index))
    values = dict(zip(TARGETS, (a, b, c, start, end)))
    if target in ("start", "end"):
        values[target] = format_tokens([token])
    elif target in ("A", "B", "C"):
        tokens = parse_tokens(values[target], f" ({target})")
        if token in tokens:
            tokens.remove(token)
        elif len(tokens) < MAX_PER_BUCKET:
            tokens.append(token)
        else:
            gr.Warning(TAB.text("err_too_many", what=f" ({target})", n=MAX_PER_BUCKET))
        values[target] = format_tokens(tokens)
    return values


def dcgan_arithmetic(a, b, c, sigma: float = 0.25, noise_seed: int = 0) -> dict:
    """api ``/dcgan_arithmetic``: decode mean(A) − mean(B) + mean(C) (each bucket: 'seed:index, ...').

    Returns, by name and in this order: the buckets with their decoded means ("figure"), the 3x3 neighbourhood of
    the averaged result ("averaged"), the same for the single-exemplar result ("single"), a caption."""
    buckets = [parse_tokens(v, f" ({name})") for v, name in zip((a, b, c), "ABC")]
    empty = [name for name, t in zip("ABC", buckets) if not t]
    if empty:
        raise TAB.problem("err_empty", buckets=", ".join(empty))
    sigma = check_range(sigma, *LIMITS["sigma"][:2], TAB.phrase("sigma"))
    noise_seed = check_seed(noise_seed)
    g = load_generator()
    r = vector_arithmetic(g, *buckets, sigma=sigma, noise_seed=noise_seed)
    sizes = "/".join(str(len(t)) for t in buckets)
    caption = TAB.text("caption", sizes=sizes, sigma=f"{sigma:g}",
                       norm=f"{float(r['z_averaged'].norm()):.1f}", norm1=f"{float(r['z_single'].norm()):.1f}",
                       typical=f"{(g.nz ** 0.5):.0f}", off=f"{(3 * g.nz) ** 0.5:.0f}")
    return {"figure": bucket_figure(r), "averaged": grid_picture(r["averaged"], 3),
            "single": grid_picture(r["single"], 3), "caption": caption}


def dcgan_walk(start, end, frames: int = 8) -> dict:
    """api ``/dcgan_walk``: linear and spherical walks between two samples. Returns, by name and in this order:
    the linear strip, the spherical strip, an animated GIF of both side by side (the path of a .gif file, 256 px per
    sample), a caption with the largest and the mean step between frames."""
    ends = [parse_tokens(v, f" ({TAB.text(name)})") for v, name in ((start, "start"), (end, "end"))]
    if any(len(t) != 1 for t in ends):
        raise TAB.problem("err_walk")
    frames = int(check_range(frames, *LIMITS["frames"][:2], TAB.phrase("frames")))
    g = load_generator()
    w = latent_walk(g, ends[0][0], ends[1][0], frames)
    gif_frames = [grid_picture(torch.stack([lin, sph]), nrow=2, scale=GIF_SCALE)
                  for lin, sph in zip(w["linear"], w["spherical"])]
    gif_frames += gif_frames[-2:0:-1]  # there and back
    path = generated_file("dcgan_walk.gif", lambda partial: save_gif(gif_frames, partial))
    steps = {name: w[f"{name}_steps"] for name in ("linear", "spherical")}
    caption = TAB.text("walk_caption",
                       lin_max=f"{float(steps['linear'].max()):.3f}", lin_mean=f"{float(steps['linear'].mean()):.3f}",
                       sph_max=f"{float(steps['spherical'].max()):.3f}",
                       sph_mean=f"{float(steps['spherical'].mean()):.3f}",
                       lin_norm=f"{float(w['linear_norms'].min()):.1f}",
                       sph_norm=f"{float(w['spherical_norms'].min()):.1f}")
    return {"walk_linear": grid_picture(w["linear"], frames), "walk_spherical": grid_picture(w["spherical"], frames),
            "walk_gif": str(path), "walk_caption": caption}


def dca_share_query(seed, a, b, c, sigma, noise_seed, start, end, frames) -> str:
    return share_query(TAB, seed=int(seed or 0), a=str(a or ""), b=str(b or ""), c=str(c or ""), sigma=float(sigma),
                       nseed=int(noise_seed or 0), start=str(start or ""), end=str(end or ""), frames=int(frames))


def _query_tokens(request, name: str, default: str) -> str:
    value = query_value(request, name, str, default=None)
    if value is None:
        return default
    try:
        parse_tokens(value)
    except gr.Error:
        return default
    return value


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): load G, show the grid of the (share link's or
    default) seed, the buckets and, when they are filled, their arithmetic and the walk. Returns updates by name:
    status, seed, grid, the five boxes (``TARGETS``), sigma, noise_seed, frames, the buttons run, walk and
    new_batch, the outputs of ``dcgan_arithmetic`` and ``dcgan_walk``, and the bucket previews preview_A/B/C."""
    seed = query_value(request, "seed", int, 0, MAX_SEED, default=DEFAULT["seed"])
    fields = [_query_tokens(request, k.lower(), DEFAULT[k]) for k in TARGETS]
    sigma = query_value(request, "sigma", float, *LIMITS["sigma"][:2], default=LIMITS["sigma"][2])
    noise_seed = query_value(request, "nseed", int, 0, MAX_SEED, default=0)
    frames = query_value(request, "frames", int, *LIMITS["frames"][:2], default=LIMITS["frames"][2])
    settings = {name: gr.update(value=v) for name, v in zip((*TARGETS, "sigma", "noise_seed", "frames"),
                                                            (*fields, sigma, noise_seed, frames))}
    try:
        first_grid = dcgan_grid(seed)
    except gr.Error as err:
        off = gr.update(interactive=False)
        return {"status": show_weights_problem(err), "seed": gr.update(value=seed), **settings,
                "run": off, "walk": off, "new_batch": off}
    try:
        arithmetic = dcgan_arithmetic(*fields[:3], sigma, noise_seed)
    except gr.Error:  # empty buckets: nothing to show yet
        arithmetic = {}
    try:
        walked = dcgan_walk(fields[3], fields[4], frames)
    except gr.Error:
        walked = {}
    on = gr.update(interactive=True)
    # a value set to what it was fires no change event: the previews are filled here
    previews = {f"preview_{name}": bucket_preview(v) for name, v in zip("ABC", fields[:3])}
    return {"status": gr.update(visible=False), "seed": gr.update(value=seed), "grid": first_grid, **settings,
            "run": on, "walk": on, "new_batch": on, **arithmetic, **walked, **previews}


# --- the tab -----------------------------------------------------------------------------

SHOWN = dict(type="pil", interactive=False, buttons=["download", "fullscreen"])  # how the results are shown


def walk_panel():
    """The latent walk's controls and results: start, end, frames, the button, and the outputs of ``dcgan_walk`` by
    name. The GIF is shown (and plays) on the page; its download button saves it."""
    _ = TAB.ui
    with gr.Accordion(_("walk_title"), open=True):
        with gr.Row():
            with gr.Column(scale=1, min_width=200):
                start = gr.Textbox(value=DEFAULT["start"], label=_("start"))
                end = gr.Textbox(value=DEFAULT["end"], label=_("end"))
                frames = controls.Slider(*LIMITS["frames"][:2], value=LIMITS["frames"][2], step=1, label=_("frames"))
                walk = gr.Button(_("walk_run"), variant="primary")
            with gr.Column(scale=3, min_width=300):
                walk_gif = gr.Image(label=_("walk_gif"), type="filepath", interactive=False,
                                    buttons=["download", "fullscreen"], height=300)
                walk_caption = gr.Markdown()
        # (a height keeps an image's label off the picture)
        walk_linear = gr.Image(label=_("walk_linear"), height=160, **SHOWN)
        walk_spherical = gr.Image(label=_("walk_spherical"), height=160, **SHOWN)
    outputs = {"walk_linear": walk_linear, "walk_spherical": walk_spherical, "walk_gif": walk_gif,
               "walk_caption": walk_caption}
    return start, end, frames, walk, outputs


@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown). At 1366×768: the grid (with where a click
    puts a sample above it), the buckets and the button, and the result side by side; the walk and the explanation
    below."""
    _ = TAB.ui
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=6, min_width=460):  # the gallery needs 4 × 100 px for its 4 columns
                target = controls.Radio([(_("to_a"), "A"), (_("to_b"), "B"), (_("to_c"), "C"),
                                         (_("to_start"), "start"), (_("to_end"), "end")], value="A",
                                        label=_("target"))
                # as tall as its rows, with no scroll bar inside ("auto" has one); the app's CSS for .dcgan-grid
                # keeps 4 columns on a phone (Gradio's cells are at least 100 px wide)
                grid_view = gr.Gallery(label=_("grid"), columns=4, height="fit-content", object_fit="contain",
                                       allow_preview=False, buttons=[], elem_classes=["dcgan-grid"])
            with gr.Column(scale=4, min_width=300):
                with gr.Row(equal_height=True):
                    seed = controls.Number(value=DEFAULT["seed"], label=_("seed"), precision=0, minimum=0,
                                           maximum=MAX_SEED, min_width=120)
                    new_batch = gr.Button(_("new_batch"), min_width=120)
                boxes, previews = {}, {}
                for name in ("A", "B", "C"):
                    with gr.Row(equal_height=True):
                        boxes[name] = gr.Textbox(value=DEFAULT[name], label=_(f"bucket_{name.lower()}"),
                                                 placeholder="0:3, 0:7, 5:1", min_width=140)
                        previews[name] = gr.Image(label=_("preview"), show_label=False, type="pil",
                                                  interactive=False, buttons=[], height=90, min_width=140)
                run = gr.Button(_("run"), variant="primary")
            with gr.Column(scale=5, min_width=330):
                averaged = gr.Image(label=_("averaged"), height=330, **SHOWN)
                with gr.Row():
                    sigma = controls.Slider(*LIMITS["sigma"][:2], value=LIMITS["sigma"][2], step=0.05,
                                            label=_("sigma"), scale=3, min_width=200)
                    noise_seed = controls.Number(value=0, label=_("noise_seed"), precision=0, minimum=0,
                                                 maximum=MAX_SEED, scale=2, min_width=110)
                with gr.Row():
                    single = gr.Image(label=_("single"), height=220, min_width=150, **SHOWN)
                    figure = gr.Image(label=_("figure"), height=220, min_width=150, **SHOWN)
                caption = gr.Markdown()
                # not the grid: a gallery would put its 16 samples on the slide one by one
                page.slide_button(results=[averaged, figure, single],
                                  settings=[seed, boxes["A"], boxes["B"], boxes["C"], sigma, noise_seed])
                share_button, share_link = share_row()
        with gr.Row():
            with gr.Column(scale=8, min_width=360):
                start, end, frames, walk, walk_outputs = walk_panel()
            with gr.Column(scale=4, min_width=280):
                TAB.explanation()

        quiet = dict(show_progress="hidden", api_visibility="private")
        page.on(seed.submit, dcgan_grid, seed, grid_view, api_name="dcgan_grid")
        rolled = page.on(new_batch.click, new_seed, None, seed, queue=False, api_visibility="private")
        page.on(rolled.then, dcgan_grid, seed, grid_view, **quiet)
        fields = {"A": boxes["A"], "B": boxes["B"], "C": boxes["C"], "start": start, "end": end}
        page.on(grid_view.select, pick_sample, [target, seed, *fields.values()], fields, **quiet)
        for name in ("A", "B", "C"):
            page.on(boxes[name].change, bucket_preview, boxes[name], previews[name], trigger_mode="always_last",
                    **quiet)
        # The api's outputs, in this order (gradio_client sees a tuple): what the handlers return, by name.
        arithmetic_outputs = {"figure": figure, "averaged": averaged, "single": single, "caption": caption}
        arithmetic_inputs = [boxes["A"], boxes["B"], boxes["C"], sigma, noise_seed]
        page.on(run.click, dcgan_arithmetic, arithmetic_inputs, arithmetic_outputs, api_name="dcgan_arithmetic")
        for changed in (sigma.release, noise_seed.submit):  # the neighbourhood follows σ and its seed at once
            page.on(changed, dcgan_arithmetic, arithmetic_inputs, arithmetic_outputs, trigger_mode="always_last",
                    **quiet)
        page.on(walk.click, dcgan_walk, [start, end, frames], walk_outputs, api_name="dcgan_walk")
        wire_share(page, share_button, share_link, dca_share_query,
                   [seed, boxes["A"], boxes["B"], boxes["C"], sigma, noise_seed, start, end, frames])
        page.when_shown(demo, open_tab, {
            "status": status, "seed": seed, "grid": grid_view, **fields, "sigma": sigma, "noise_seed": noise_seed,
            "frames": frames, "run": run, "walk": walk, "new_batch": new_batch, **arithmetic_outputs,
            **walk_outputs, **{f"preview_{name}": image for name, image in previews.items()}})
    return demo


if __name__ == "__main__":
    TAB.launch()
