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

Every sample is named ``seed:index`` — the index-th of the 16 z drawn with that seed — so a result
can be reproduced, shared or sent to the api.

Weights: ``pretrained/dcgan-bedrooms`` (``models.dcgan.Generator``, trained on 2,911 real bedroom
photos by ``training/train_dcgan.py``).

Run this tab alone with ``python -m demos.dcgan_bedroom_arithmetic``.
"""

import re
import tempfile
from pathlib import Path

import numpy as np
import PIL.Image
import torch

import gradio as gr

from demos.common import MAX_SEED, check_range, check_seed, explanation, load_or_explain, new_seed, show_weights_problem, weights_status
from demos.i18n import _, text
from demos.share import query_value, share_query, share_row, when_shown, wire_share
from models.dcgan import Generator
from models.vae import lerp, slerp

SLUG = "dcgan-bedrooms"
TRAINING_COMMAND = "python training/train_dcgan.py --device cuda --max-minutes 15"
BATCH = 16              # a seed names 16 z: the grid shows them all
MAX_PER_BUCKET = 8
LIMITS = {"sigma": (0.0, 1.0, 0.25), "frames": (2, 16, 8)}
SCALE = 2               # 64 px samples are shown at 128 px
TARGETS = ("A", "B", "C", "start", "end")
N_ARITHMETIC, N_WALK = 4, 4  # outputs of dcgan_arithmetic and dcgan_walk
TOKEN = re.compile(r"^\s*(\d+)\s*[:：]\s*(\d+)\s*$")
# A default example (chosen by looking at the samples of the shipped weights; see notes/dcgan.md).
# A: bright rooms with a window, B: bright rooms without one, C: dim rooms without one → a dim room with a window?
DEFAULT = {"seed": 3, "A": "3:5, 3:13, 3:15", "B": "3:3, 3:4, 3:6", "C": "3:9, 3:12, 3:14", "start": "3:5", "end": "3:12"}


def load_generator(request: gr.Request | None = None) -> Generator:
    return load_or_explain(Generator, SLUG, TRAINING_COMMAND, request)


# --- plain functions (testable without Gradio) ---------------------------------------------

def z_batch(seed: int, nz: int = 100) -> torch.Tensor:
    """The 16 latent vectors (16, nz) named by ``seed``."""
    return torch.randn(BATCH, nz, generator=torch.Generator().manual_seed(seed))


def z_of(tokens: list[tuple[int, int]], nz: int = 100) -> torch.Tensor:
    """The z (len(tokens), nz) of samples named (seed, index)."""
    return torch.stack([z_batch(seed, nz)[index] for seed, index in tokens]) if tokens else torch.zeros(0, nz)


def to_pil(x: torch.Tensor, scale: int = SCALE) -> PIL.Image.Image:
    """One generated image (3, H, W) in [-1, 1] → PIL, enlarged ``scale`` times."""
    arr = ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    img = PIL.Image.fromarray(arr)
    return img.resize((img.width * scale, img.height * scale), PIL.Image.BICUBIC) if scale != 1 else img


def tile(images: torch.Tensor, nrow: int, scale: int = SCALE, pad: int = 2) -> PIL.Image.Image:
    """Images (N, 3, H, W) in [-1, 1] → one grid (nrow per row) on white."""
    n, _c, h, w = images.shape
    rows = (n + nrow - 1) // nrow
    canvas = np.full((rows * (h + pad) - pad, nrow * (w + pad) - pad, 3), 255, np.uint8)
    arr = ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    for i in range(n):
        r, c = divmod(i, nrow)
        canvas[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = arr[i]
    img = PIL.Image.fromarray(canvas)
    return img.resize((img.width * scale, img.height * scale), PIL.Image.BICUBIC) if scale != 1 else img


@torch.inference_mode()
def sample_batch(g: Generator, seed: int) -> torch.Tensor:
    """The 16 samples (16, 3, 64, 64) in [-1, 1] of ``seed``."""
    return g(z_batch(seed, g.nz))


@torch.inference_mode()
def vector_arithmetic(g: Generator, a: list, b: list, c: list, sigma: float = 0.25, noise_seed: int = 0) -> dict:
    """mean(z_A) − mean(z_B) + mean(z_C), and the same with the first sample of each bucket only.

    Returns the decoded bucket samples and means, and for both results a 3x3 neighbourhood: the
    result in the centre, the result + σ·ε (ε ~ N(0, I), seeded) around it."""
    za, zb, zc = (z_of(t, g.nz) for t in (a, b, c))
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
    za, zb = z_of([start, end], g.nz)
    t = torch.linspace(0, 1, frames)
    out = {}
    for name, path in (("linear", lerp(za, zb, t)), ("spherical", slerp(za, zb, t))):
        images = g(path)
        out[name] = images
        out[f"{name}_steps"] = (images[1:] - images[:-1]).abs().mean(dim=(1, 2, 3)) / 2  # in [0, 1] units
        out[f"{name}_norms"] = path.norm(dim=1)
    return out


def bucket_figure(result: dict, labels=("A", "B", "C")) -> PIL.Image.Image:
    """The paper's layout: each bucket's samples in a row, then (after a gap) their mean decoded."""
    rows = []
    width = max(s.shape[0] for s in result["samples"]) + 1
    blank = torch.ones(3, 64, 64)  # white in [-1, 1]
    for samples, mean in zip(result["samples"], result["means"]):
        row = list(samples) + [blank] * (width - 1 - samples.shape[0]) + [mean]
        rows += row
    fig = tile(torch.stack(rows), nrow=width)
    return fig


# --- input parsing ---------------------------------------------------------------------------

def parse_tokens(value, request: gr.Request | None = None, what: str = "") -> list[tuple[int, int]]:
    """'12:3, 12:5' → [(12, 3), (12, 5)], or a gr.Error in the user's language."""
    value = "" if value is None else str(value)
    tokens = []
    for part in filter(None, (p.strip() for p in re.split(r"[,、\s]+", value))):
        m = TOKEN.match(part)
        if not m or int(m.group(2)) >= BATCH or int(m.group(1)) > MAX_SEED:
            raise gr.Error(text("dca.err_token", request, token=part[:40], what=what, n=BATCH - 1))
        tokens.append((int(m.group(1)), int(m.group(2))))
    if len(tokens) > MAX_PER_BUCKET:
        raise gr.Error(text("dca.err_too_many", request, what=what, n=MAX_PER_BUCKET))
    return tokens


def format_tokens(tokens: list[tuple[int, int]]) -> str:
    return ", ".join(f"{s}:{i}" for s, i in tokens)


# --- Gradio handlers ----------------------------------------------------------------------

def dcgan_grid(seed, request: gr.Request | None = None):
    """api ``/dcgan_grid``: the 16 samples of ``seed``, captioned ``seed:index``."""
    seed = check_seed(seed, request)
    g = load_generator(request)
    images = sample_batch(g, seed)
    return [(to_pil(x), f"{seed}:{i}") for i, x in enumerate(images)]


def bucket_preview(value, request: gr.Request | None = None):
    """The samples of one bucket, for its small gallery (bad text shows nothing rather than an error)."""
    try:
        tokens = parse_tokens(value, request)
        g = load_generator(request)
    except gr.Error:
        return []
    if not tokens:
        return []
    with torch.inference_mode():
        images = g(z_of(tokens, g.nz))
    return [(to_pil(x), f"{s}:{i}") for x, (s, i) in zip(images, tokens)]


def pick_sample(target: str, seed, a, b, c, start, end, evt: gr.SelectData, request: gr.Request):
    """Clicking a sample of the grid puts it in the bucket (A, B, C) or walk end chosen by ``target``.
    A sample already in the bucket is taken out again."""
    seed = check_seed(seed, request)
    token = (seed, int(evt.index))
    values = dict(zip(TARGETS, (a, b, c, start, end)))
    if target in ("start", "end"):
        values[target] = format_tokens([token])
    elif target in ("A", "B", "C"):
        tokens = parse_tokens(values[target], request, f" ({target})")
        if token in tokens:
            tokens.remove(token)
        elif len(tokens) < MAX_PER_BUCKET:
            tokens.append(token)
        else:
            gr.Warning(text("dca.err_too_many", request, what=f" ({target})", n=MAX_PER_BUCKET))
        values[target] = format_tokens(tokens)
    return tuple(values[t] for t in TARGETS)


def dcgan_arithmetic(a, b, c, sigma: float = 0.25, noise_seed: int = 0, request: gr.Request | None = None):
    """api ``/dcgan_arithmetic``: decode mean(A) − mean(B) + mean(C) (each bucket: 'seed:index, ...').

    Returns (buckets with their decoded means, 3x3 neighbourhood of the averaged result, the same for
    the single-exemplar result, a caption)."""
    buckets = [parse_tokens(v, request, f" ({name})") for v, name in zip((a, b, c), "ABC")]
    empty = [name for name, t in zip("ABC", buckets) if not t]
    if empty:
        raise gr.Error(text("dca.err_empty", request, buckets=", ".join(empty)))
    sigma = check_range(sigma, *LIMITS["sigma"][:2], "dca.sigma", request)
    noise_seed = check_seed(noise_seed, request)
    g = load_generator(request)
    r = vector_arithmetic(g, *buckets, sigma=sigma, noise_seed=noise_seed)
    sizes = "/".join(str(len(t)) for t in buckets)
    caption = text("dca.caption", request, sizes=sizes, sigma=f"{sigma:g}",
                   norm=f"{float(r['z_averaged'].norm()):.1f}", norm1=f"{float(r['z_single'].norm()):.1f}",
                   typical=f"{(g.nz ** 0.5):.0f}", off=f"{(3 * g.nz) ** 0.5:.0f}")
    return bucket_figure(r), tile(r["averaged"], 3), tile(r["single"], 3), caption


def dcgan_walk(start, end, frames: int = 8, request: gr.Request | None = None):
    """api ``/dcgan_walk``: linear and spherical walks between two samples: (linear strip, spherical strip,
    animated GIF of both, a caption with the largest and the mean step between frames)."""
    ends = [parse_tokens(v, request, f" ({name})") for v, name in ((start, text("dca.start", request)), (end, text("dca.end", request)))]
    if any(len(t) != 1 for t in ends):
        raise gr.Error(text("dca.err_walk", request))
    frames = int(check_range(frames, *LIMITS["frames"][:2], "dca.frames", request))
    g = load_generator(request)
    w = latent_walk(g, ends[0][0], ends[1][0], frames)
    gif_frames = []
    for lin, sph in zip(w["linear"], w["spherical"]):
        gif_frames.append(tile(torch.stack([lin, sph]), nrow=2, scale=2))
    gif_frames += gif_frames[-2:0:-1]  # there and back
    path = Path(tempfile.mkdtemp(prefix="dcgan_walk_")) / "dcgan_walk.gif"
    gif_frames[0].save(path, save_all=True, append_images=gif_frames[1:], duration=160, loop=0)
    caption = text("dca.walk_caption", request,
                   lin_max=f"{float(w['linear_steps'].max()):.3f}", lin_mean=f"{float(w['linear_steps'].mean()):.3f}",
                   sph_max=f"{float(w['spherical_steps'].max()):.3f}", sph_mean=f"{float(w['spherical_steps'].mean()):.3f}",
                   lin_norm=f"{float(w['linear_norms'].min()):.1f}", sph_norm=f"{float(w['spherical_norms'].min()):.1f}")
    return tile(w["linear"], frames), tile(w["spherical"], frames), str(path), caption


def dca_share_query(seed, a, b, c, sigma, noise_seed, start, end, frames) -> str:
    return share_query("dcgan", seed=int(seed or 0), a=str(a or ""), b=str(b or ""), c=str(c or ""), sigma=float(sigma),
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


def open_tab(request: gr.Request | None = None):
    """When the student first sees the tab (see ``when_shown``): load G, show the grid of the (share link's or default) seed, the buckets and, when
    they are filled, their arithmetic and the walk. Returns updates for (status, seed, grid, A, B, C, start, end,
    sigma, noise seed, frames, run, walk, new batch, *arithmetic outputs, *walk outputs, the three bucket previews)."""
    seed = query_value(request, "seed", int, 0, MAX_SEED, default=DEFAULT["seed"])
    fields = [_query_tokens(request, k.lower(), DEFAULT[k]) for k in TARGETS]
    sigma = query_value(request, "sigma", float, *LIMITS["sigma"][:2], default=LIMITS["sigma"][2])
    noise_seed = query_value(request, "nseed", int, 0, MAX_SEED, default=0)
    frames = query_value(request, "frames", int, *LIMITS["frames"][:2], default=LIMITS["frames"][2])
    settings = [gr.update(value=v) for v in (*fields, sigma, noise_seed, frames)]
    try:
        grid = dcgan_grid(seed, request)
    except gr.Error as err:
        off = gr.update(interactive=False)
        return (show_weights_problem(err), gr.update(value=seed), gr.update(), *settings, off, off, off,
                *[gr.update()] * (N_ARITHMETIC + N_WALK + 3))
    try:
        arithmetic = dcgan_arithmetic(*fields[:3], sigma, noise_seed, request)
    except gr.Error:  # empty buckets: nothing to show yet
        arithmetic = [gr.update()] * N_ARITHMETIC
    try:
        walked = dcgan_walk(fields[3], fields[4], frames, request)
    except gr.Error:
        walked = [gr.update()] * N_WALK
    on = gr.update(interactive=True)
    previews = [bucket_preview(v, request) for v in fields[:3]]  # a value set to what it was fires no change event
    return (gr.update(visible=False), gr.update(value=seed), grid, *settings, on, on, on, *arithmetic, *walked, *previews)


# --- the tab -----------------------------------------------------------------------------

def create_demo(tab: gr.Tab | None = None) -> gr.Blocks:
    """The tab's Blocks; in the gallery, ``tab`` is the ``gr.Tab`` it is shown in (see ``when_shown``)."""
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=5, min_width=360):
                with gr.Row(equal_height=True):
                    seed = gr.Number(value=DEFAULT["seed"], label=_("dca.seed"), precision=0, minimum=0, maximum=MAX_SEED, scale=3)
                    new_batch = gr.Button(_("dca.new_batch"), scale=2)
                grid = gr.Gallery(label=_("dca.grid"), columns=4, rows=4, height=520, object_fit="contain",
                                  allow_preview=False, buttons=[])
                target = gr.Radio([(_("dca.to_a"), "A"), (_("dca.to_b"), "B"), (_("dca.to_c"), "C"),
                                   (_("dca.to_start"), "start"), (_("dca.to_end"), "end")], value="A",
                                  label=_("dca.target"), info=_("dca.target_info"))
                with gr.Row():
                    boxes, previews = {}, {}
                    for name in ("A", "B", "C"):
                        with gr.Column(min_width=150):
                            boxes[name] = gr.Textbox(value=DEFAULT[name], label=_(f"dca.bucket_{name.lower()}"),
                                                     placeholder="0:3, 0:7, 5:1")
                            previews[name] = gr.Gallery(show_label=False, columns=3, height=110, allow_preview=False,
                                                        buttons=[], object_fit="contain")
                with gr.Row():
                    sigma = gr.Slider(*LIMITS["sigma"][:2], value=LIMITS["sigma"][2], step=0.05, label=_("dca.sigma"))
                    noise_seed = gr.Number(value=0, label=_("dca.noise_seed"), precision=0, minimum=0, maximum=MAX_SEED)
                run = gr.Button(_("dca.run"), variant="primary")
            with gr.Column(scale=4, min_width=320):
                figure = gr.Image(label=_("dca.figure"), type="pil", interactive=False, buttons=["download"])
                with gr.Row():
                    averaged = gr.Image(label=_("dca.averaged"), type="pil", interactive=False, buttons=["download"])
                    single = gr.Image(label=_("dca.single"), type="pil", interactive=False, buttons=["download"])
                caption = gr.Markdown()
                share_button, share_link = share_row()
            with gr.Column(scale=3, min_width=260):
                explanation("dca.explain")
        with gr.Accordion(_("dca.walk_title"), open=True):
            with gr.Row(equal_height=True):
                start = gr.Textbox(value=DEFAULT["start"], label=_("dca.start"), scale=1)
                end = gr.Textbox(value=DEFAULT["end"], label=_("dca.end"), scale=1)
                frames = gr.Slider(*LIMITS["frames"][:2], value=LIMITS["frames"][2], step=1, label=_("dca.frames"), scale=2)
                walk = gr.Button(_("dca.walk_run"), variant="primary", scale=1)
            walk_linear = gr.Image(label=_("dca.walk_linear"), type="pil", interactive=False, buttons=["download"])
            walk_spherical = gr.Image(label=_("dca.walk_spherical"), type="pil", interactive=False, buttons=["download"])
            with gr.Row():
                walk_gif = gr.File(label=_("dca.walk_gif"), interactive=False)
                walk_caption = gr.Markdown()

        quiet = dict(show_progress="hidden", api_visibility="private")
        seed.submit(dcgan_grid, seed, grid, api_name="dcgan_grid")
        new_batch.click(new_seed, None, seed, queue=False, api_visibility="private").then(dcgan_grid, seed, grid, **quiet)
        fields = [boxes["A"], boxes["B"], boxes["C"], start, end]
        grid.select(pick_sample, [target, seed, *fields], fields, **quiet)
        for name in ("A", "B", "C"):
            boxes[name].change(bucket_preview, boxes[name], previews[name], trigger_mode="always_last", **quiet)
        run.click(dcgan_arithmetic, [boxes["A"], boxes["B"], boxes["C"], sigma, noise_seed], [figure, averaged, single, caption],
                  api_name="dcgan_arithmetic")
        walk.click(dcgan_walk, [start, end, frames], [walk_linear, walk_spherical, walk_gif, walk_caption], api_name="dcgan_walk")
        wire_share(share_button, share_link, dca_share_query, [seed, *fields[:3], sigma, noise_seed, start, end, frames])
        when_shown(demo, tab, open_tab, [status, seed, grid, *fields, sigma, noise_seed, frames, run, walk, new_batch,
                                  figure, averaged, single, caption, walk_linear, walk_spherical, walk_gif, walk_caption,
                                  previews["A"], previews["B"], previews["C"]])
    return demo


if __name__ == "__main__":
    from demos.i18n import make_i18n

    create_demo().launch(i18n=make_i18n(), max_file_size="10mb")
