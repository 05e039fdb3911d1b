"""DDPM step by step: the forward (noising) and the reverse (denoising) process of a diffusion model.

What it teaches (Ho, Jain & Abbeel, NeurIPS 2020; Song, Meng & Ermon, ICLR 2021):

* **Forward process** — noise is added in closed form, x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε; one slider over t
  with the same ε shows the digit dissolving, beside β_t, ᾱ_t and the signal-to-noise ratio ᾱ_t/(1−ᾱ_t).
* **Reverse process** — from pure noise x_T the U-Net predicts the noise ε_θ(x_t, t) at every step; the
  scheduler turns it into the predicted clean image x̂_0 and the next x_{t−1}. We stream x_t and x̂_0 while
  it runs, keep the trajectory, and a slider scrubs through it afterwards (no recomputation).
* **DDPM vs DDIM** — the same x_T with 1000 stochastic DDPM steps and 50 / 20 / 10 deterministic DDIM steps.
* **Branch from here** — restart the reverse process from one stored x_t with fresh noise: several futures.
* **Other models** — any unconditional diffusers DDPM/DDIM pipeline on the Hub (e.g. ``google/ddpm-cifar10-32``).

The sampling loop is our own (``models.ddpm.reverse_steps``: ``unet(x, t)`` then ``scheduler.step``), the same
calls as diffusers' ``DDPMPipeline`` but yielding every step. Weights: ``pretrained/ddpm-mnist`` (a diffusers
pipeline folder), trained by ``training/train_ddpm.py``.

Run this tab alone with ``python -m demos.ddpm_step_by_step``.
"""

import functools
import math
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import PIL.Image
import torch
from torch.nn import functional as F

import gradio as gr

from demos.common import (MAX_SEED, check_range, check_seed, explanation, new_seed, seed_input, show_weights_problem,
                          weights_message, weights_status)
from demos.i18n import _, text
from demos.image_input import digit_canvas, image_to_digit, to_pil
from demos.share import query_value, share_query, share_row, when_shown, wire_share
from models.ddpm import SCHEDULER_CONFIG, initial_noise, make_scheduler, q_sample, read_unet_pipeline, reverse_steps
from models.loading import WeightsUnavailableError, load_hub_folder, load_pretrained_folder

SLUG = "ddpm-mnist"
TRAINING_COMMAND = "python training/train_ddpm.py --device cuda --max-minutes 20"
EXAMPLES = Path(__file__).parent / "examples"
FIRST_EXAMPLE = str(EXAMPLES / "mnist" / "2_0001.png")
SAMPLERS = ("ddpm", "ddim")
# name: (low, high, default)
LIMITS = {
    "t": (0, 999, 250),
    "n": (1, 16, 16),
    "steps": (1, 1000, 1000),
    "every": (1, 250, 25),
    "futures": (1, 16, 8),
    "image": (0, 15, 0),
}
COMPARE_RUNS = (("ddim", 10), ("ddim", 20), ("ddim", 50), ("ddpm", 1000))  # fast ones first
FORWARD_STRIP_T = (0, 50, 100, 200, 300, 500, 700, 999)
MAX_FRAMES = 200  # the scrub slider keeps at most this many steps of a trajectory
# Work allowed for one run on the CPU, in (images × steps × U-Net parameters × pixels / 32²): 16 digits ×
# 1000 steps of our 0.7 M-parameter U-Net is 1.1e10. Bigger Hub models must use fewer images or steps.
MAX_WORK = 2.5e10
MAX_SAMPLE_SIZE = 64
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9_.-]{1,96}$")


# --- models ------------------------------------------------------------------------------

def load_model(model_id: str | None = None, request: gr.Request | None = None):
    """Our ``ddpm-mnist`` (empty ``model_id``) or an unconditional pipeline of the Hub, loaded once, or a gr.Error."""
    model_id = (model_id or "").strip()
    try:
        if model_id in ("", SLUG):
            return load_pretrained_folder(SLUG, read_unet_pipeline)
        if not REPO_ID.match(model_id) or ".." in model_id:
            raise gr.Error(text("ddpm.err_repo_id", request, repo=model_id[:100]))
        return other_model(model_id)
    except WeightsUnavailableError as err:
        if model_id in ("", SLUG):
            raise gr.Error(weights_message(err, TRAINING_COMMAND, request), duration=None) from err
        raise gr.Error(text("ddpm.err_hub_model", request, repo=model_id, reason=err.reason)) from err


@functools.lru_cache(maxsize=2)
def other_model(repo_id: str):
    """A model of the Hub by repo id; only the last two are kept in memory (users can type any repo id)."""
    return load_hub_folder(repo_id, read_unet_pipeline, cache=False)


def check_work(model, n: int, steps: int, request) -> None:
    _c, h, w = model.image_shape
    if max(h, w) > MAX_SAMPLE_SIZE:
        raise gr.Error(text("ddpm.err_too_big", request, size=f"{h}×{w}", max=MAX_SAMPLE_SIZE))
    work = n * steps * model.n_params * h * w / 1024
    if work > MAX_WORK:
        most = max(1, int(MAX_WORK / (n * model.n_params * h * w / 1024)))
        raise gr.Error(text("ddpm.err_too_much", request, n=n, steps=steps, most=most))


def model_info(model_id: str, request: gr.Request | None = None) -> str:
    """A short description of the chosen model (api-private)."""
    model = load_model(model_id, request)
    c, h, w = model.image_shape
    cfg = model.scheduler_config
    return text("ddpm.model_info", request, name=(model_id or SLUG).strip(), params=f"{model.n_params / 1e6:.2f}",
                c=c, h=h, w=w, T=cfg.get("num_train_timesteps", "?"), schedule=cfg.get("beta_schedule", "?"),
                channels=", ".join(str(x) for x in model.unet.config.block_out_channels))


# --- pictures ------------------------------------------------------------------------------

def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Model space [-1, 1] → [0, 1]."""
    return (x.float() / 2 + 0.5).clamp(0, 1)


def noise_to_unit(eps: torch.Tensor) -> torch.Tensor:
    """Noise ~N(0, 1) → [0, 1] for display (±2σ maps to black/white)."""
    return (eps.float() / 4 + 0.5).clamp(0, 1)


def grid_image(images, size: int = 360) -> PIL.Image.Image:
    """(B, C, H, W) in [0, 1] (tensor or uint8 array) → a square-ish grid, enlarged with crisp pixels to about ``size``."""
    if isinstance(images, np.ndarray):
        arr = images
    else:
        arr = (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    b, c, h, w = arr.shape
    cols = math.ceil(math.sqrt(b))
    rows = math.ceil(b / cols)
    pad = 1
    canvas = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 128, dtype=np.uint8)
    for k in range(b):
        r, q = divmod(k, cols)
        canvas[pad + r * (h + pad):pad + r * (h + pad) + h, pad + q * (w + pad):pad + q * (w + pad) + w] = arr[k].transpose(1, 2, 0)
    img = PIL.Image.fromarray(canvas[:, :, 0] if c == 1 else canvas)
    scale = max(1, size // max(img.size))
    return img.resize((img.width * scale, img.height * scale), PIL.Image.NEAREST)


def as_uint8(x01: torch.Tensor) -> np.ndarray:
    return (x01.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).numpy()


# --- forward process ---------------------------------------------------------------------

def digit_to_model_space(digit: torch.Tensor) -> torch.Tensor:
    """(1, 1, 28, 28) in [0, 1] → (1, 1, 32, 32) in [-1, 1], padded like the training data."""
    return F.pad(digit, (2, 2, 2, 2), value=0.0) * 2 - 1


CURVE_COLORS = {"ᾱ_t": "#1f77b4", "√ᾱ_t": "#ff7f0e", "√(1−ᾱ_t)": "#d62728", "β_t": "#1f77b4", "log₁₀ SNR": "#1f77b4",
                "t": "#7f7f7f"}


def schedule_curves(alphas_cumprod: torch.Tensor, betas: torch.Tensor, t: int) -> tuple[pd.DataFrame, ...]:
    """Data of the three plots (every 10th step + a grey vertical marker at t): (ᾱ_t, √ᾱ_t, √(1−ᾱ_t)), β_t, log₁₀ SNR."""
    ts = [*range(0, len(betas), 10), len(betas) - 1]
    abar = alphas_cumprod[ts].double()

    def curve(name, values):
        return [{"t": s, "value": float(v), "curve": name} for s, v in zip(ts, values)]

    def marker(lo, hi):
        return [{"t": t, "value": float(lo), "curve": "t"}, {"t": t, "value": float(hi), "curve": "t"}]

    snr = (abar / (1 - abar)).log10()
    return (pd.DataFrame(curve("ᾱ_t", abar) + curve("√ᾱ_t", abar.sqrt()) + curve("√(1−ᾱ_t)", (1 - abar).sqrt()) + marker(0, 1)),
            pd.DataFrame(curve("β_t", betas[ts]) + marker(0, betas.max())),
            pd.DataFrame(curve("log₁₀ SNR", snr) + marker(snr.min(), snr.max())))


@torch.inference_mode()
def forward_process(x0: torch.Tensor, t: int, seed: int, alphas_cumprod: torch.Tensor) -> dict:
    """x_t for one t and for the strip's t values, all with the same ε (drawn from ``seed``)."""
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    strip = torch.cat([q_sample(x0, s, eps, alphas_cumprod) for s in FORWARD_STRIP_T])
    return {"eps": eps, "x_t": q_sample(x0, t, eps, alphas_cumprod), "strip": strip}


def ddpm_forward(image, t: int, seed: int, request: gr.Request | None = None):
    """api ``/ddpm_forward``: x_0 | x_t | ε | x_t at several t (same ε) | ᾱ plot | β plot | SNR plot | values.

    Needs only the noise schedule (T = 1000, β linear 1e-4 … 0.02), not the U-Net: it works without weights."""
    digit = image_to_digit(image, request)
    t = int(check_range(t, *LIMITS["t"][:2], "ddpm.t", request))
    seed = check_seed(seed, request)
    scheduler = make_scheduler("ddpm", SCHEDULER_CONFIG)
    abar, betas = scheduler.alphas_cumprod, scheduler.betas
    x0 = digit_to_model_space(digit)
    r = forward_process(x0, t, seed, abar)
    a = float(abar[t])
    values = text("ddpm.forward_values", request, t=t, beta=f"{float(betas[t]):.5f}", abar=f"{a:.4f}",
                  signal=f"{math.sqrt(a):.4f}", noise=f"{math.sqrt(1 - a):.4f}", snr=f"{a / (1 - a):.4g}")
    plots = schedule_curves(abar, betas, t)
    return (to_pil(to_unit(x0), scale=6), to_pil(to_unit(r["x_t"]), scale=6), to_pil(noise_to_unit(r["eps"]), scale=6),
            grid_row(to_unit(r["strip"])), *plots, values)


def grid_row(images: torch.Tensor, scale: int = 3) -> PIL.Image.Image:
    """(N, 1, H, W) in [0, 1] → one row with 2-px gaps, enlarged."""
    n, _c, h, w = images.shape
    canvas = np.full((h, n * (w + 2) - 2), 255, dtype=np.uint8)
    for k in range(n):
        canvas[:, k * (w + 2):k * (w + 2) + w] = as_uint8(images[k, 0])
    img = PIL.Image.fromarray(canvas)
    return img.resize((img.width * scale, img.height * scale), PIL.Image.NEAREST)


# --- reverse process -----------------------------------------------------------------------

def _sample_settings(model_id, sampler, steps, n, seed, request):
    if sampler not in SAMPLERS:
        raise gr.Error(text("err.choice", request, value=sampler, choices=", ".join(SAMPLERS)))
    steps = int(check_range(steps, *LIMITS["steps"][:2], "ddpm.steps", request))
    n = int(check_range(n, *LIMITS["n"][:2], "ddpm.n", request))
    seed = check_seed(seed, request)
    model = load_model(model_id, request)
    check_work(model, n, steps, request)
    return model, steps, n, seed


def new_trajectory(model_id: str, sampler: str, steps: int, n: int, seed: int) -> dict:
    stride = max(1, math.ceil(steps / MAX_FRAMES))
    return {"model": (model_id or "").strip(), "sampler": sampler, "steps": steps, "n": n, "seed": seed,
            "stride": stride, "i": [], "t": [], "x_t": [], "x0": [], "eps": []}


def keep_frame(traj: dict, step: dict) -> None:
    """Store one step for the scrub slider: x_t exactly enough to restart from it (float16), x̂_0 and ε_θ as pictures."""
    traj["i"].append(step["i"])
    traj["t"].append(step["t"])
    traj["x_t"].append(step["x_t"].detach().to(torch.float16).numpy().copy())
    traj["x0"].append(as_uint8(to_unit(step["x0"])))
    traj["eps"].append(as_uint8(noise_to_unit(step["eps"])))


def status_line(request, sampler, i, steps, t, seconds) -> str:
    return text("ddpm.status", request, sampler=sampler.upper(), i=i + 1, steps=steps, t=t, s=f"{seconds:.1f}")


def ddpm_sample(model_id: str, sampler: str, steps: int, n: int, seed: int, every: int,
                request: gr.Request | None = None, progress=gr.Progress()):
    """api ``/ddpm_sample``: the reverse process from x_T ~ N(0, I) (seeded), streaming (x_t, x̂_0, ε_θ, status)
    every ``every`` steps; the last output is the generated batch, with the trajectory kept for the scrub slider."""
    model, steps, n, seed = _sample_settings(model_id, sampler, steps, n, seed, request)
    every = int(check_range(every, *LIMITS["every"][:2], "ddpm.every", request))
    scheduler = model.scheduler(sampler)
    generator = torch.Generator().manual_seed(seed)
    x = initial_noise((n, *model.image_shape), generator=generator)
    traj = new_trajectory(model_id, sampler, steps, n, seed)
    start = time.perf_counter()
    hold = gr.update()
    for step in reverse_steps(model.fast_unet, scheduler, x, steps, generator=generator):
        i = step["i"]
        last = i == steps - 1
        if i % traj["stride"] == 0 or last:
            keep_frame(traj, step)
        x = step["x_prev"]
        if i % every == 0 or last:
            progress((i + 1) / steps, desc=status_line(request, sampler, i, steps, step["t"], time.perf_counter() - start))
            if not last:
                yield (grid_image(to_unit(step["x_t"])), grid_image(to_unit(step["x0"])), grid_image(noise_to_unit(step["eps"])),
                       status_line(request, sampler, i, steps, step["t"], time.perf_counter() - start), hold, hold)
    seconds = time.perf_counter() - start
    traj["final"] = as_uint8(to_unit(x))
    frames = len(traj["i"])
    yield (grid_image(traj["final"]), grid_image(traj["x0"][-1]), grid_image(traj["eps"][-1]),
           text("ddpm.done", request, sampler=sampler.upper(), steps=steps, n=n, s=f"{seconds:.1f}",
                ms=f"{1000 * seconds / steps:.0f}"),
           traj, gr.update(minimum=0, maximum=frames - 1, value=frames - 1, step=1, interactive=True))


def ddpm_scrub(traj, frame, request: gr.Request | None = None):
    """Show a stored step of the trajectory (no model call): x_t, x̂_0, ε_θ, and which step it is."""
    if not traj or not traj.get("i"):
        return gr.update(), gr.update(), gr.update(), text("ddpm.no_trajectory", request)
    f = int(min(max(int(frame or 0), 0), len(traj["i"]) - 1))
    x_t = to_unit(torch.from_numpy(traj["x_t"][f].astype(np.float32)))
    return (grid_image(x_t), grid_image(traj["x0"][f]), grid_image(traj["eps"][f]),
            text("ddpm.scrub_status", request, i=traj["i"][f] + 1, steps=traj["steps"], t=traj["t"][f],
                 sampler=traj["sampler"].upper()))


def ddpm_branch(traj, frame, image: int, futures: int, seed: int, request: gr.Request | None = None,
                progress=gr.Progress()):
    """The "branch from here" button (private api): from the stored x_t of image ``image`` at scrub position ``frame``, run the rest of
    the reverse process ``futures`` times with fresh noise (seeded). DDIM uses η = 1 here, otherwise every
    future would be the same. Streams the futures, then (x_t it started from, futures, status)."""
    if not traj or not traj.get("i"):
        raise gr.Error(text("ddpm.no_trajectory", request))
    f = int(check_range(frame, 0, len(traj["i"]) - 1, "ddpm.scrub", request))
    image = int(check_range(image, 0, traj["n"] - 1, "ddpm.image", request))
    futures = int(check_range(futures, *LIMITS["futures"][:2], "ddpm.futures", request))
    seed = check_seed(seed, request)
    model = load_model(traj["model"], request)
    remaining = traj["steps"] - traj["i"][f]
    check_work(model, futures, remaining, request)
    x_t = torch.from_numpy(traj["x_t"][f][image:image + 1].astype(np.float32))
    x = x_t.repeat(futures, 1, 1, 1)
    generator = torch.Generator().manual_seed(seed)
    scheduler = model.scheduler(traj["sampler"])
    start_index = traj["i"][f]
    origin = grid_image(to_unit(x_t), size=160)
    every = max(1, remaining // 10)
    start = time.perf_counter()
    for step in reverse_steps(model.fast_unet, scheduler, x, traj["steps"], generator=generator, start_index=start_index, eta=1.0):
        x = step["x_prev"]
        done = step["i"] - start_index + 1
        if done % every == 0 and done < remaining:
            progress(done / remaining)
            yield origin, grid_image(to_unit(step["x0"])), text("ddpm.branch_running", request, done=done, total=remaining)
    yield origin, grid_image(to_unit(x)), text("ddpm.branch_done", request, k=futures, i=start_index + 1, t=traj["t"][f],
                                               s=f"{time.perf_counter() - start:.1f}")


def ddpm_compare(model_id: str, n: int, seed: int, request: gr.Request | None = None, progress=gr.Progress()):
    """api ``/ddpm_compare``: the same x_T with DDIM 10 / 20 / 50 and DDPM 1000 steps; streams each result as it is
    done, then a table of wall times."""
    n = int(check_range(n, *LIMITS["n"][:2], "ddpm.n", request))
    seed = check_seed(seed, request)
    model = load_model(model_id, request)
    check_work(model, n, sum(steps for _k, steps in COMPARE_RUNS), request)
    images = [gr.update()] * len(COMPARE_RUNS)
    rows = []
    for k, (sampler, steps) in enumerate(COMPARE_RUNS):
        generator = torch.Generator().manual_seed(seed)
        x = initial_noise((n, *model.image_shape), generator=generator)  # the same x_T for every run
        start = time.perf_counter()
        for step in reverse_steps(model.fast_unet, model.scheduler(sampler), x, steps, generator=generator):
            x = step["x_prev"]
            if step["i"] % 100 == 0:
                progress((k + step["i"] / steps) / len(COMPARE_RUNS), desc=f"{sampler.upper()} {steps}")
        seconds = time.perf_counter() - start
        images[k] = grid_image(to_unit(x), size=240)
        rows.append(f"| {sampler.upper()} | {steps} | {seconds:.2f} s | {1000 * seconds / steps:.0f} ms |")
        table = text("ddpm.compare_table", request) + "\n" + "\n".join(rows)
        yield (*images, table)


# --- the tab -----------------------------------------------------------------------------

def ddpm_share_query(t, fseed, sampler, steps, n, seed, every) -> str:
    return share_query("ddpm", t=int(t or 0), fseed=int(fseed or 0), sampler=sampler, steps=int(steps or 1),
                       n=int(n or 1), seed=int(seed or 0), every=int(every or 1))


def _limit(request, name: str, key: str | None = None) -> int:
    low, high, default = LIMITS[key or name]
    return query_value(request, name, int, low, high, default=default)


def settings_from_query(request: gr.Request | None) -> list:
    return [
        _limit(request, "t"),
        query_value(request, "fseed", int, 0, MAX_SEED, default=0),
        query_value(request, "sampler", str, choices=SAMPLERS, default="ddpm"),
        _limit(request, "steps"),
        _limit(request, "n"),
        query_value(request, "seed", int, 0, MAX_SEED, default=0),
        _limit(request, "every"),
    ]


def steps_for_sampler(sampler: str):
    """DDPM is usually run with all 1000 steps, DDIM with far fewer: a sensible default when switching."""
    return gr.update(value=1000 if sampler == "ddpm" else 50)


def open_tab(request: gr.Request | None = None):
    """When the student first sees the tab (see ``when_shown``): take a share link's settings, show the forward process of a real test digit (needs no
    weights), and check the U-Net; if its weights are missing, say why and disable only the buttons that need it.
    Returns updates for (status, sample, compare, branch, canvas, t, forward seed, sampler, steps, n, seed, every,
    *the outputs of ddpm_forward)."""
    settings = settings_from_query(request)
    controls = [gr.update(value=v) for v in settings]
    with PIL.Image.open(FIRST_EXAMPLE) as img:
        forward = ddpm_forward(img.copy(), settings[0], settings[1], request)
    try:
        load_model("", request)
    except gr.Error as err:
        off = gr.update(interactive=False)
        return (show_weights_problem(err), off, off, off, FIRST_EXAMPLE, *controls, *forward)
    on = gr.update(interactive=True)
    return (gr.update(visible=False), on, on, on, FIRST_EXAMPLE, *controls, *forward)


def create_demo(tab: gr.Tab | None = None) -> gr.Blocks:
    """The tab's Blocks; in the gallery, ``tab`` is the ``gr.Tab`` it is shown in (see ``when_shown``)."""
    mnist_examples = sorted(str(p) for p in (EXAMPLES / "mnist").glob("*.png"))
    image_opts = dict(type="pil", interactive=False, buttons=["download"])
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=8, min_width=480):
                # ---- forward process
                gr.Markdown(_("ddpm.forward_title"))
                with gr.Row():
                    with gr.Column(scale=2, min_width=220):
                        canvas = digit_canvas(_("ddpm.input"), height=260)
                        examples = gr.Examples([[p] for p in mnist_examples], inputs=[canvas], label=_("ddpm.examples"),
                                               examples_per_page=10)
                    with gr.Column(scale=3, min_width=260):
                        t_slider = gr.Slider(*LIMITS["t"][:2], value=LIMITS["t"][2], step=1, label=_("ddpm.t"),
                                             info=_("ddpm.t_info"))
                        fseed, fdice = seed_input(0)
                        with gr.Row():
                            f_x0 = gr.Image(label=_("ddpm.x0"), height=150, min_width=90, **image_opts)
                            f_xt = gr.Image(label=_("ddpm.xt"), height=150, min_width=90, **image_opts)
                            f_eps = gr.Image(label=_("ddpm.eps"), height=150, min_width=90, **image_opts)
                        f_values = gr.Markdown(latex_delimiters=[{"left": "$", "right": "$", "display": False}])
                f_strip = gr.Image(label=_("ddpm.strip"), **image_opts)
                plot_opts = {"x": "t", "y": "value", "color": "curve", "height": 260, "min_width": 240, "y_title": " ",
                             "color_map": CURVE_COLORS}
                plot_abar = gr.LinePlot(label=_("ddpm.plot_abar"), color_title=" ", **plot_opts)
                with gr.Row():
                    plot_beta = gr.LinePlot(label=_("ddpm.plot_beta"), color_title=" ", **plot_opts)
                    plot_snr = gr.LinePlot(label=_("ddpm.plot_snr"), color_title=" ", **plot_opts)

                # ---- reverse process
                gr.Markdown(_("ddpm.reverse_title"))
                with gr.Row():
                    sampler = gr.Radio([(_("ddpm.sampler_ddpm"), "ddpm"), (_("ddpm.sampler_ddim"), "ddim")], value="ddpm",
                                       label=_("ddpm.sampler"), scale=2)
                    steps = gr.Slider(*LIMITS["steps"][:2], value=LIMITS["steps"][2], step=1, label=_("ddpm.steps"), scale=3)
                with gr.Row():
                    n = gr.Slider(*LIMITS["n"][:2], value=LIMITS["n"][2], step=1, label=_("ddpm.n"))
                    every = gr.Slider(*LIMITS["every"][:2], value=LIMITS["every"][2], step=1, label=_("ddpm.every"))
                with gr.Row(equal_height=True):
                    with gr.Column(scale=2, min_width=160):
                        seed, dice = seed_input(0)
                    run = gr.Button(_("ddpm.run"), variant="primary", scale=3)
                run_status = gr.Markdown()
                with gr.Row():
                    r_xt = gr.Image(label=_("ddpm.r_xt"), min_width=150, **image_opts)
                    r_x0 = gr.Image(label=_("ddpm.r_x0"), min_width=150, **image_opts)
                    r_eps = gr.Image(label=_("ddpm.r_eps"), min_width=150, **image_opts)
                scrub = gr.Slider(0, 1, value=0, step=1, label=_("ddpm.scrub"), info=_("ddpm.scrub_info"), interactive=False)
                trajectory = gr.State(None)

                with gr.Accordion(_("ddpm.branch_title"), open=False):
                    gr.Markdown(_("ddpm.branch_note"))
                    with gr.Row():
                        b_image = gr.Slider(*LIMITS["image"][:2], value=LIMITS["image"][2], step=1, label=_("ddpm.image"))
                        b_futures = gr.Slider(*LIMITS["futures"][:2], value=LIMITS["futures"][2], step=1,
                                              label=_("ddpm.futures"))
                        with gr.Column(min_width=160):
                            b_seed, b_dice = seed_input(1)
                    branch = gr.Button(_("ddpm.branch_run"))
                    with gr.Row():
                        b_origin = gr.Image(label=_("ddpm.branch_origin"), min_width=120, scale=1, **image_opts)
                        b_out = gr.Image(label=_("ddpm.branch_out"), min_width=200, scale=2, **image_opts)
                    b_status = gr.Markdown()

                with gr.Accordion(_("ddpm.compare_title"), open=False):
                    gr.Markdown(_("ddpm.compare_note"))
                    compare = gr.Button(_("ddpm.compare_run"))
                    with gr.Row():
                        c_out = [gr.Image(label=f"{s.upper()} {k}", min_width=120, **image_opts) for s, k in COMPARE_RUNS]
                    c_table = gr.Markdown()

                with gr.Accordion(_("ddpm.other_title"), open=False):
                    gr.Markdown(_("ddpm.other_note"))
                    with gr.Row(equal_height=True):
                        model_id = gr.Textbox(label=_("ddpm.model_id"), placeholder="google/ddpm-cifar10-32", scale=4)
                        info_button = gr.Button(_("ddpm.model_load"), scale=1)
                    info_md = gr.Markdown()
                share_button, share_link = share_row()
            with gr.Column(scale=4, min_width=300):
                explanation("ddpm.explain")

        heavy = dict(concurrency_limit=1, concurrency_id="heavy")
        quiet = dict(show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        fwd_in = [canvas, t_slider, fseed]
        fwd_out = [f_x0, f_xt, f_eps, f_strip, plot_abar, plot_beta, plot_snr, f_values]
        t_slider.release(ddpm_forward, fwd_in, fwd_out, api_name="ddpm_forward", show_progress="hidden",
                         trigger_mode="always_last")
        canvas.change(ddpm_forward_live, fwd_in, fwd_out, **quiet)
        examples.load_input_event.then(ddpm_forward_live, fwd_in, fwd_out, **quiet)
        fseed.submit(ddpm_forward_live, fwd_in, fwd_out, **quiet)
        fdice.click(new_seed, None, fseed, queue=False, api_visibility="private").then(ddpm_forward_live, fwd_in, fwd_out, **quiet)

        sampler.input(steps_for_sampler, sampler, steps, queue=False, api_visibility="private")  # not a share link's
        sample_out = [r_xt, r_x0, r_eps, run_status, trajectory, scrub]
        run.click(lambda: gr.update(interactive=False), None, scrub, queue=False, api_visibility="private").then(
            ddpm_sample, [model_id, sampler, steps, n, seed, every], sample_out, api_name="ddpm_sample", **heavy)
        dice.click(new_seed, None, seed, queue=False, api_visibility="private")
        scrub.input(ddpm_scrub, [trajectory, scrub], [r_xt, r_x0, r_eps, run_status], **quiet)
        # Private: it works on the trajectory kept in the browser session, which an API client does not have.
        branch.click(ddpm_branch, [trajectory, scrub, b_image, b_futures, b_seed], [b_origin, b_out, b_status],
                     api_visibility="private", **heavy)
        b_dice.click(new_seed, None, b_seed, queue=False, api_visibility="private")
        compare.click(ddpm_compare, [model_id, n, seed], [*c_out, c_table], api_name="ddpm_compare", **heavy)
        info_button.click(model_info, model_id, info_md, api_visibility="private")
        model_id.submit(model_info, model_id, info_md, api_visibility="private")

        wire_share(share_button, share_link, ddpm_share_query, [t_slider, fseed, sampler, steps, n, seed, every])
        when_shown(demo, tab, open_tab, [status, run, compare, branch, canvas, t_slider, fseed, sampler, steps, n, seed, every,
                                   *fwd_out])
    return demo


def ddpm_forward_live(image, t, seed, request: gr.Request | None = None):
    """``ddpm_forward`` for the live events: a blank or cleared canvas leaves the outputs as they are."""
    try:
        return ddpm_forward(image, t, seed, request)
    except gr.Error:
        return [gr.update()] * 8


if __name__ == "__main__":
    from demos.i18n import make_i18n

    create_demo().launch(i18n=make_i18n(), max_file_size="10mb")
