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

Run this tab alone with ``python -m demos.ddpm``.
"""

import functools
import math
import os
import re
import time
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import PIL.Image
import torch
from torch.nn import functional as F

from demos.common import (
    MAX_SEED,
    check_choice,
    check_range,
    check_seed,
    new_seed,
    seed_input,
    show_weights_problem,
    weights_problem,
    weights_status,
)
from demos.image_input import digit_canvas, image_to_digit
from demos.kit import Page, Tab, demo_cache, heavy_queue
from demos.share import query_value, share_query, share_row, wire_share
from models import loading
from models.ddpm import SCHEDULER_CONFIG, initial_noise, make_scheduler, q_sample, read_unet_pipeline, reverse_steps
from models.imaging import grid, strip, to_pil, to_uint8, to_unit
from models.loading import (
    HubModelRefused,
    WeightsUnavailableError,
    cached_hub_folder,
    fetch_hub_folder,
    load_hub_folder,
    load_pretrained_folder,
)

TAB = Tab(id="ddpm", strings={
    "title": {"en": "DDPM step by step", "ja": "DDPM をステップごとに"},
    "forward_title": {
        "en": "### 1. Forward process: adding noise in closed form",
        "ja": "### 1. 拡散過程（フォワード）：閉じた式でノイズを加える",
    },
    "input": {"en": "x₀: your digit", "ja": "x₀：あなたの数字"},
    "examples": {"en": "Real MNIST test digits", "ja": "MNIST テストデータの実際の数字"},
    "t": {"en": "Timestep t", "ja": "タイムステップ t"},
    "t_info": {
        "en": "0 = almost clean … 999 = pure noise (diffusers counts from 0). The noise ε stays the same.",
        "ja": "0 = ほぼきれい … 999 = 完全なノイズ（diffusers は 0 から数えます）。ノイズ ε は同じものを使います。",
    },
    "x0": {"en": "x₀ (clean)", "ja": "x₀（元の画像）"},
    "xt": {"en": "Noisy x_t", "ja": "ノイズを加えた x_t"},
    "eps": {"en": "ε (the same at every t)", "ja": "ε（どの t でも同じ）"},
    "strip": {
        "en": "x_t at t = 0, 50, 100, 200, 300, 500, 700, 999 (same ε)",
        "ja": "t = 0, 50, 100, 200, 300, 500, 700, 999 での x_t（同じ ε）",
    },
    "plot_abar": {
        "en": "ᾱ_t (blue), signal √ᾱ_t (orange) and noise √(1−ᾱ_t) (red); grey line: the chosen t",
        "ja": "ᾱ_t（青）、信号 √ᾱ_t（橙）とノイズ √(1−ᾱ_t)（赤）。灰色の線：選んだ t",
    },
    "plot_beta": {"en": "Noise schedule β_t (linear)", "ja": "ノイズスケジュール β_t（線形）"},
    "plot_snr": {
        "en": "Signal-to-noise ratio: log₁₀ SNR(t) = log₁₀ ᾱ_t / (1−ᾱ_t)",
        "ja": "信号対雑音比：log₁₀ SNR(t) = log₁₀ ᾱ_t / (1−ᾱ_t)",
    },
    "forward_values": {
        "en": (
            "At t = {t}: $\\beta_t$ = {beta}, $\\bar\\alpha_t$ = {abar}, so $x_t$ = {signal}·$x_0$ + "
            "{noise}·$\\varepsilon$ (signal-to-noise ratio {snr})."
        ),
        "ja": (
            "t = {t} では $\\beta_t$ = {beta}、$\\bar\\alpha_t$ = {abar}。したがって $x_t$ = {signal}·$x_0$ + "
            "{noise}·$\\varepsilon$ （信号対雑音比 {snr}）。"
        ),
    },
    "reverse_title": {
        "en": "### 2. Reverse process: from noise to digits, one step at a time",
        "ja": "### 2. 逆過程（リバース）：ノイズから数字へ、1 ステップずつ",
    },
    "sampler": {"en": "Sampler", "ja": "サンプラー"},
    "sampler_ddpm": {"en": "DDPM (stochastic)", "ja": "DDPM（確率的）"},
    "sampler_ddim": {"en": "DDIM (deterministic, skips steps)", "ja": "DDIM（決定的・ステップを飛ばせる）"},
    "steps": {"en": "Number of steps", "ja": "ステップ数"},
    "n": {"en": "Number of images", "ja": "画像の枚数"},
    "every": {"en": "Show every k steps", "ja": "k ステップごとに表示"},
    "run": {"en": "Generate", "ja": "生成する"},
    "r_xt": {"en": "x_t (the current noisy images)", "ja": "x_t（現在のノイズ画像）"},
    "r_x0": {"en": "x̂₀ (what the model thinks the end result is)", "ja": "x̂₀（モデルが予想する最終結果）"},
    "r_eps": {"en": "ε_θ(x_t, t) (the predicted noise)", "ja": "ε_θ(x_t, t)（予測されたノイズ）"},
    "scrub": {"en": "Scrub through the trajectory", "ja": "軌跡をたどる"},
    "scrub_info": {
        "en": "After a run: move through the stored steps instantly (nothing is recomputed).",
        "ja": "生成後、保存されたステップをすぐに行き来できます（再計算はしません）。",
    },
    "status": {
        "en": "{sampler}: step {i} / {steps} (t = {t}), {s} s",
        "ja": "{sampler}：ステップ {i} / {steps}（t = {t}）、{s} 秒",
    },
    "done": {
        "en": (
            "Done: {n} images with {steps} {sampler} steps in {s} s ({ms} ms per step). Scrub through the steps with "
            "the slider below."
        ),
        "ja": (
            "完了：{sampler} {steps} ステップで {n} 枚を {s} 秒で生成しました（1 ステップ {ms} "
            "ms）。下のスライダーでステップをたどれます。"
        ),
    },
    "scrub_status": {
        "en": "{sampler} step {i} / {steps}: t = {t}. Left: x_t, middle: x̂₀ predicted at this step, right: ε_θ.",
        "ja": "{sampler} ステップ {i} / {steps}：t = {t}。左：x_t、中央：このステップで予測した x̂₀、右：ε_θ。",
    },
    "no_trajectory": {
        "en": "Generate images first: the slider and the branches work on the stored trajectory of a run.",
        "ja": "先に画像を生成してください。スライダーと分岐は、生成時に保存した軌跡を使います。",
    },
    "branch_title": {
        "en": "Branch from here: several futures of one noisy image",
        "ja": "ここから分岐：1 枚のノイズ画像から複数の未来を",
    },
    "branch_note": {
        "en": (
            "Pick a step with the scrub slider and one image of the batch; the reverse process restarts from that "
            "stored x_t with fresh noise. Early branches end as different digits, late ones only differ in details. "
            "(With DDIM the branches use η = 1, i.e. they add noise, otherwise every future would be the same.)"
        ),
        "ja": (
            "軌跡スライダーでステップを、バッチの中から画像を 1 枚選びます。保存された x_t "
            "から新しいノイズで逆過程をやり直します。早い段階で分岐すると別の数字になり、遅い段階では細部だけが変わりま"
            "す。（DDIM の場合、分岐では η = 1（ノイズを加える）を使います。そうしないとすべての未来が同じになるためで"
            "す。）"
        ),
    },
    "image": {"en": "Image of the batch (0 = top left)", "ja": "バッチ内の画像（0 = 左上）"},
    "futures": {"en": "Number of futures", "ja": "未来の数"},
    "branch_run": {"en": "Sample futures from this step", "ja": "このステップから未来をサンプリング"},
    "branch_origin": {"en": "Start: x_t", "ja": "出発点：x_t"},
    "branch_out": {"en": "Futures", "ja": "未来"},
    "branch_running": {"en": "Branching: {done} / {total} steps", "ja": "分岐中：{done} / {total} ステップ"},
    "branch_done": {
        "en": "{k} futures from step {i} (t = {t}) in {s} s.",
        "ja": "ステップ {i}（t = {t}）から {k} 通りの未来を {s} 秒で生成しました。",
    },
    "compare_title": {
        "en": "DDPM vs DDIM: the same starting noise, different numbers of steps",
        "ja": "DDPM と DDIM：同じ初期ノイズ、異なるステップ数",
    },
    "compare_note": {
        "en": (
            "The same x_T (from the seed and number of images above) with DDIM 10 / 20 / 50 steps and DDPM 1000 steps. "
            "DDIM (Song et al. 2021) reuses the trained network with a deterministic update that can skip steps."
        ),
        "ja": (
            "同じ x_T（上のシードと枚数から）を DDIM 10 / 20 / 50 ステップと DDPM 1000 "
            "ステップで生成します。DDIM（Song ら 2021）は学習済みの同じネットワークを、ステップを飛ばせる決定的な更新式"
            "で使います。"
        ),
    },
    "compare_run": {"en": "Compare", "ja": "比較する"},
    "compare_table": {
        "en": "| sampler | steps | wall time | per step |\n|---|---|---|---|",
        "ja": "| サンプラー | ステップ | 所要時間 | 1 ステップあたり |\n|---|---|---|---|",
    },
    "other_title": {"en": "Other models from the Hugging Face Hub", "ja": "Hugging Face Hub の他のモデル"},
    "other_note": {
        "en": (
            "Any unconditional diffusers DDPM/DDIM pipeline with safetensors weights, e.g. `google/ddpm-cifar10-32`, "
            "when this server can reach the Hub. Leave empty for our MNIST model. Large models are slow on a CPU: use "
            "few images and DDIM steps."
        ),
        "ja": (
            "safetensors の重みを持つ条件なしの diffusers DDPM/DDIM "
            "パイプラインなら使えます（例：`google/ddpm-cifar10-32`）。サーバーが Hub に接続できる場合のみ。空欄なら "
            "MNIST のモデルを使います。大きなモデルは CPU では遅いので、枚数を減らし DDIM "
            "のステップ数を少なくしてください。"
        ),
    },
    "other_limits": {
        "en": (
            "This server takes models of at most {params} M parameters, {size}×{size} px images and {T} timesteps, "
            "waits at most {s} s for the Hub, and keeps the last few models on disk. Press **Load** first; "
            "then Generate and Compare use the loaded model."
        ),
        "ja": (
            "このサーバーで使えるのは、パラメータ {params} M 以下、画像 {size}×{size} px 以下、タイムステップ {T} "
            "以下のモデルです。Hub の応答は最大 {s} 秒まで待ち、最近のいくつかのモデルをディスクに保存します。先に"
            "「読み込む」を押してください。その後「生成する」と「比較する」で読み込んだモデルを使えます。"
        ),
    },
    "model_id": {"en": "Hub repo id (empty = ddpm-mnist)", "ja": "Hub のリポジトリ ID（空欄 = ddpm-mnist）"},
    "model_load": {"en": "Load", "ja": "読み込む"},
    "model_info": {
        "en": (
            "**{name}**: {params} M parameters, images {c}×{h}×{w}, block channels ({channels}), T = {T}, {schedule} β "
            "schedule."
        ),
        "ja": (
            "**{name}**：パラメータ {params} M、画像 {c}×{h}×{w}、ブロックのチャネル数 ({channels})、T = {T}、β "
            "スケジュール {schedule}。"
        ),
    },
    "err_repo_id": {
        "en": "“{repo}” is not a Hub repo id. Write it as owner/name, e.g. google/ddpm-cifar10-32.",
        "ja": (
            "「{repo}」は Hub のリポジトリ ID ではありません。owner/name "
            "の形で書いてください（例：google/ddpm-cifar10-32）。"
        ),
    },
    "err_hub_model": {
        "en": "The model “{repo}” could not be loaded: {reason}",
        "ja": "モデル「{repo}」を読み込めませんでした：{reason}",
    },
    "err_load_first": {
        "en": (
            "“{repo}” is not loaded yet. Press **Load** under “Other models from the Hugging Face Hub” first (it "
            "downloads the model once), then generate."
        ),
        "ja": (
            "「{repo}」はまだ読み込まれていません。先に「Hugging Face Hub の他のモデル」の「読み込む」を押してください"
            "（モデルを一度だけダウンロードします）。その後で生成してください。"
        ),
    },
    "err_hub_slow": {
        "en": "The Hub did not answer within {s} s, so “{repo}” was not loaded. Try again later.",
        "ja": "Hub が {s} 秒以内に応答しなかったため、「{repo}」を読み込めませんでした。後でもう一度試してください。",
    },
    "err_hub_params": {
        "en": "“{repo}” has {params} M parameters; this server takes models of at most {max} M. It was not downloaded.",
        "ja": "「{repo}」のパラメータは {params} M です。このサーバーでは {max} M までです。ダウンロードしていません。",
    },
    "err_hub_disk": {
        "en": (
            "“{repo}” needs {size} MB on disk; this server keeps at most {max} MB of Hub models. It was not "
            "downloaded."
        ),
        "ja": (
            "「{repo}」にはディスクが {size} MB 必要です。このサーバーが Hub のモデルに使えるのは {max} MB "
            "までです。ダウンロードしていません。"
        ),
    },
    "err_hub_timesteps": {
        "en": "“{repo}” declares {T} diffusion timesteps; this server takes at most {max}. It was not downloaded.",
        "ja": (
            "「{repo}」の拡散タイムステップ数は {T} です。このサーバーでは {max} までです。ダウンロードしていません。"
        ),
    },
    "err_hub_config": {
        "en": "“{repo}” has an unusable {what} in its config ({value}). It was not downloaded.",
        "ja": "「{repo}」の設定の {what} が使えない値です（{value}）。ダウンロードしていません。",
    },
    "err_too_big": {
        "en": "This model makes {size} images; on this CPU only models up to {max}×{max} are allowed.",
        "ja": "このモデルの画像サイズは {size} です。この CPU では {max}×{max} までのモデルしか使えません。",
    },
    "err_too_much": {
        "en": (
            "{n} images × {steps} steps is too much work for this model on a CPU. Use at most {most} steps for {n} "
            "images, or fewer images."
        ),
        "ja": (
            "{n} 枚 × {steps} ステップは、このモデルを CPU で動かすには重すぎます。{n} 枚なら {most} "
            "ステップ以下にするか、枚数を減らしてください。"
        ),
    },
})

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
MAX_WORK = float(os.environ.get("GALLERY_DDPM_MAX_WORK", 2.5e10))
# Models of the "other models" box are checked from their config files before their weights are downloaded (the
# parameter count, the download deadline and the disk cache are models/loading.py's HUB_* limits).
MAX_SAMPLE_SIZE = int(os.environ.get("GALLERY_DDPM_MAX_SAMPLE_SIZE", 64))  # pixels, each side
MAX_TIMESTEPS = int(os.environ.get("GALLERY_DDPM_MAX_TIMESTEPS", 4000))  # the scheduler's num_train_timesteps
MAX_CHANNELS = int(os.environ.get("GALLERY_DDPM_MAX_CHANNELS", 4))  # image channels (grey, RGB, RGBA)
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9_.-]{1,96}$")
# The "Load" button of the box downloads (at most loading.HUB_DEADLINE_S): its own queue, never the heavy one, so
# that a slow Hub cannot hold the samplers of the whole class.
HUB_LOAD_QUEUE = {"concurrency_id": "ddpm_hub_load", "concurrency_limit": 1}


# --- models ------------------------------------------------------------------------------

def load_model(model_id: str | None = None, download: bool = False):
    """Our ``ddpm-mnist`` (empty ``model_id``) or an unconditional pipeline of the Hub, loaded once, or a Problem.

    A Hub model is downloaded only with ``download`` (the "Load" button, outside the heavy queue); the samplers
    take it from the box's cache on disk (no network) or ask the student to load it first."""
    model_id = (model_id or "").strip()
    try:
        if model_id in ("", SLUG):
            return load_pretrained_folder(SLUG, read_unet_pipeline)
        if not REPO_ID.match(model_id) or ".." in model_id:
            raise TAB.problem("err_repo_id", repo=model_id[:100])
        if download:  # the "Load" button: bounded in time, parameters, sizes and disk (models/loading.py)
            fetch_hub_folder(model_id, check=functools.partial(check_hub_model, model_id))
        cached = cached_hub_folder(model_id)
        if cached is None:
            raise TAB.problem("err_load_first", repo=model_id)
        return other_model(model_id, cached.commit)
    except HubModelRefused as err:
        raise hub_problem(model_id, err) from err
    except WeightsUnavailableError as err:
        if model_id in ("", SLUG):
            raise weights_problem(err, TRAINING_COMMAND) from err
        raise TAB.problem("err_hub_model", repo=model_id, reason=err.reason) from err


def hub_problem(repo: str, err: HubModelRefused):
    """A limit of models/loading.py that refused a Hub model, in the student's words."""
    v = err.values
    if err.code == "not_downloaded":
        return TAB.problem("err_load_first", repo=repo)
    if err.code == "deadline":
        return TAB.problem("err_hub_slow", repo=repo, s=f"{v['seconds']:g}")
    if err.code == "params":
        return TAB.problem("err_hub_params", repo=repo, params=f"{v['n_params'] / 1e6:.1f}",
                           max=f"{v['limit'] / 1e6:g}")
    if err.code == "disk":
        return TAB.problem("err_hub_disk", repo=repo, size=f"{v['size'] / 1e6:.0f}", max=f"{v['limit'] / 1e6:.0f}")
    return TAB.problem("err_hub_model", repo=repo, reason=err.reason)


def check_hub_model(repo: str, configs, n_params: int) -> None:
    """What a Hub model must be to run here, from its config files (U-Net, scheduler), before its weights are
    downloaded and again before it is loaded (and traced, which runs it)."""
    unet, scheduler = configs[0], configs[-1]
    size = unet.get("sample_size")
    sizes = [size, size] if isinstance(size, int) else size
    if (not isinstance(sizes, list) or len(sizes) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in sizes)):
        raise TAB.problem("err_hub_config", repo=repo, what="sample_size", value=str(size)[:40])
    if max(sizes) > MAX_SAMPLE_SIZE:
        raise TAB.problem("err_too_big", size=f"{sizes[0]}×{sizes[1]}", max=MAX_SAMPLE_SIZE)
    channels = unet.get("in_channels", 3)
    if not isinstance(channels, int) or not 1 <= channels <= MAX_CHANNELS:
        raise TAB.problem("err_hub_config", repo=repo, what="in_channels", value=str(channels)[:40])
    steps = scheduler.get("num_train_timesteps", 1000)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise TAB.problem("err_hub_config", repo=repo, what="num_train_timesteps", value=str(steps)[:40])
    if steps > MAX_TIMESTEPS:
        raise TAB.problem("err_hub_timesteps", repo=repo, T=steps, max=MAX_TIMESTEPS)
    if n_params > loading.HUB_MAX_PARAMS:  # loading.py refuses them first; this is for copies already on disk
        raise TAB.problem("err_hub_params", repo=repo, params=f"{n_params / 1e6:.1f}",
                          max=f"{loading.HUB_MAX_PARAMS / 1e6:g}")


@demo_cache(maxsize=2)
def other_model(repo_id: str, commit: str):
    """A model of the Hub by repo id, from its copy in the box's cache (``fetch_hub_folder`` put it there); only the
    last two are kept in memory (users can type any repo id). ``commit``: that of the copy on disk, so that an updated
    repo loads again."""
    return load_hub_folder(repo_id, read_unet_pipeline, cache=False, download=False,
                           check=functools.partial(check_hub_model, repo_id))


def check_work(model, n: int, steps: int) -> None:
    _c, h, w = model.image_shape
    if max(h, w) > MAX_SAMPLE_SIZE:
        raise TAB.problem("err_too_big", size=f"{h}×{w}", max=MAX_SAMPLE_SIZE)
    work = n * steps * model.n_params * h * w / 1024
    if work > MAX_WORK:
        most = max(1, int(MAX_WORK / (n * model.n_params * h * w / 1024)))
        raise TAB.problem("err_too_much", n=n, steps=steps, most=most)


def model_info(model_id: str) -> str:
    """The "Load" button (api-private, outside the heavy queue): download a Hub model if needed (bounded: see
    ``load_model``), load it, and describe it."""
    model = load_model(model_id, download=True)
    c, h, w = model.image_shape
    cfg = model.scheduler_config
    return TAB.text("model_info", name=(model_id or SLUG).strip(), params=f"{model.n_params / 1e6:.2f}",
                    c=c, h=h, w=w, T=cfg.get("num_train_timesteps", "?"), schedule=cfg.get("beta_schedule", "?"),
                    channels=", ".join(str(x) for x in model.unet.config.block_out_channels))


# --- pictures ------------------------------------------------------------------------------

def noise_to_unit(eps: torch.Tensor) -> torch.Tensor:
    """Noise ~N(0, 1) → [0, 1] for display (±2σ maps to black/white)."""
    return (eps.float() / 4 + 0.5).clamp(0, 1)


def batch_picture(images, size: int = 360) -> PIL.Image.Image:
    """(B, C, H, W) in [0, 1] (tensor or uint8 array) → a square-ish grid with 1-px grey lines around every image,
    enlarged with crisp pixels to about ``size``."""
    picture = grid(images, pad=1, background=128, border=True)
    return to_pil(picture, scale=max(1, size // max(picture.shape[:2])))


def batch_pixels(x01: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) in [0, 1] → uint8 (B, C, H, W), whatever B (how a trajectory keeps its pictures)."""
    return to_uint8(x01, keep_shape=True)


# --- forward process ---------------------------------------------------------------------

def digit_to_model_space(digit: torch.Tensor) -> torch.Tensor:
    """(1, 1, 28, 28) in [0, 1] → (1, 1, 32, 32) in [-1, 1], padded like the training data."""
    return F.pad(digit, (2, 2, 2, 2), value=0.0) * 2 - 1


CURVE_COLORS = {"ᾱ_t": "#1f77b4", "√ᾱ_t": "#ff7f0e", "√(1−ᾱ_t)": "#d62728", "β_t": "#1f77b4",
                "log₁₀ SNR": "#1f77b4", "t": "#7f7f7f"}


def schedule_curves(alphas_cumprod: torch.Tensor, betas: torch.Tensor, t: int) -> tuple[pd.DataFrame, ...]:
    """Data of the three plots (every 10th step + a grey vertical marker at t): (ᾱ_t, √ᾱ_t, √(1−ᾱ_t)), β_t,
    log₁₀ SNR."""
    ts = [*range(0, len(betas), 10), len(betas) - 1]
    abar = alphas_cumprod[ts].double()

    def curve(name, values):
        return [{"t": s, "value": float(v), "curve": name} for s, v in zip(ts, values)]

    def marker(lo, hi):
        return [{"t": t, "value": float(lo), "curve": "t"}, {"t": t, "value": float(hi), "curve": "t"}]

    snr = (abar / (1 - abar)).log10()
    abar_curves = curve("ᾱ_t", abar) + curve("√ᾱ_t", abar.sqrt()) + curve("√(1−ᾱ_t)", (1 - abar).sqrt())
    return (pd.DataFrame(abar_curves + marker(0, 1)),
            pd.DataFrame(curve("β_t", betas[ts]) + marker(0, betas.max())),
            pd.DataFrame(curve("log₁₀ SNR", snr) + marker(snr.min(), snr.max())))


@torch.inference_mode()
def forward_process(x0: torch.Tensor, t: int, seed: int, alphas_cumprod: torch.Tensor) -> dict:
    """x_t for one t and for the strip's t values, all with the same ε (drawn from ``seed``)."""
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    strip = torch.cat([q_sample(x0, s, eps, alphas_cumprod) for s in FORWARD_STRIP_T])
    return {"eps": eps, "x_t": q_sample(x0, t, eps, alphas_cumprod), "strip": strip}


def ddpm_forward(image, t: int, seed: int) -> dict:
    """api ``/ddpm_forward``: x_0 | x_t | ε | x_t at several t (same ε) | ᾱ plot | β plot | SNR plot | values.

    Needs only the noise schedule (T = 1000, β linear 1e-4 … 0.02), not the U-Net: it works without weights."""
    digit = image_to_digit(image)
    t = int(check_range(t, *LIMITS["t"][:2], TAB.phrase("t")))
    seed = check_seed(seed)
    scheduler = make_scheduler("ddpm", SCHEDULER_CONFIG)
    abar, betas = scheduler.alphas_cumprod, scheduler.betas
    x0 = digit_to_model_space(digit)
    r = forward_process(x0, t, seed, abar)
    a = float(abar[t])
    values = TAB.text("forward_values", t=t, beta=f"{float(betas[t]):.5f}", abar=f"{a:.4f}",
                      signal=f"{math.sqrt(a):.4f}", noise=f"{math.sqrt(1 - a):.4f}", snr=f"{a / (1 - a):.4g}")
    plot_abar, plot_beta, plot_snr = schedule_curves(abar, betas, t)
    return {"x0": to_pil(to_unit(x0), scale=6), "xt": to_pil(to_unit(r["x_t"]), scale=6),
            "eps": to_pil(noise_to_unit(r["eps"]), scale=6), "strip": to_pil(strip(to_unit(r["strip"])), scale=3),
            "plot_abar": plot_abar, "plot_beta": plot_beta, "plot_snr": plot_snr, "values": values}


def ddpm_forward_live(image, t, seed) -> dict:
    """``ddpm_forward`` for the live events: a blank or cleared canvas leaves the outputs as they are."""
    try:
        return ddpm_forward(image, t, seed)
    except gr.Error:
        return {}


# --- reverse process -----------------------------------------------------------------------

def _sample_settings(model_id, sampler, steps, n, seed):
    check_choice(sampler, SAMPLERS)
    steps = int(check_range(steps, *LIMITS["steps"][:2], TAB.phrase("steps")))
    n = int(check_range(n, *LIMITS["n"][:2], TAB.phrase("n")))
    seed = check_seed(seed)
    model = load_model(model_id)
    check_work(model, n, steps)
    return model, steps, n, seed


def new_trajectory(model_id: str, sampler: str, steps: int, n: int, seed: int) -> dict:
    stride = max(1, math.ceil(steps / MAX_FRAMES))
    return {"model": (model_id or "").strip(), "sampler": sampler, "steps": steps, "n": n, "seed": seed,
            "stride": stride, "i": [], "t": [], "x_t": [], "x0": [], "eps": []}


def keep_frame(traj: dict, step: dict) -> None:
    """Store one step for the scrub slider: x_t exactly enough to restart from it (float16), x̂_0 and ε_θ as
    pictures."""
    traj["i"].append(step["i"])
    traj["t"].append(step["t"])
    traj["x_t"].append(step["x_t"].detach().to(torch.float16).numpy().copy())
    traj["x0"].append(batch_pixels(to_unit(step["x0"])))
    traj["eps"].append(batch_pixels(noise_to_unit(step["eps"])))


def status_line(sampler, i, steps, t, seconds) -> str:
    return TAB.text("status", sampler=sampler.upper(), i=i + 1, steps=steps, t=t, s=f"{seconds:.1f}")


def ddpm_sample(model_id: str, sampler: str, steps: int, n: int, seed: int, every: int, progress=gr.Progress()):
    """api ``/ddpm_sample``: the reverse process from x_T ~ N(0, I) (seeded), streaming (x_t, x̂_0, ε_θ, status)
    every ``every`` steps; the last output is the generated batch, with the trajectory kept for the scrub slider
    (outputs: x_t | x̂_0 | ε_θ | status | trajectory | scrub slider)."""
    model, steps, n, seed = _sample_settings(model_id, sampler, steps, n, seed)
    every = int(check_range(every, *LIMITS["every"][:2], TAB.phrase("every")))
    scheduler = model.scheduler(sampler)
    generator = torch.Generator().manual_seed(seed)
    x = initial_noise((n, *model.image_shape), generator=generator)
    traj = new_trajectory(model_id, sampler, steps, n, seed)
    start = time.perf_counter()
    for step in reverse_steps(model.fast_unet, scheduler, x, steps, generator=generator):
        i = step["i"]
        last = i == steps - 1
        if i % traj["stride"] == 0 or last:
            keep_frame(traj, step)
        x = step["x_prev"]
        if i % every == 0 or last:
            status = status_line(sampler, i, steps, step["t"], time.perf_counter() - start)
            progress((i + 1) / steps, desc=status)
            if not last:  # the trajectory and the scrub slider stay as they are until the end
                yield {"xt": batch_picture(to_unit(step["x_t"])), "x0": batch_picture(to_unit(step["x0"])),
                       "eps": batch_picture(noise_to_unit(step["eps"])), "run_status": status}
    seconds = time.perf_counter() - start
    traj["final"] = batch_pixels(to_unit(x))
    frames = len(traj["i"])
    yield {"xt": batch_picture(traj["final"]), "x0": batch_picture(traj["x0"][-1]),
           "eps": batch_picture(traj["eps"][-1]),
           "run_status": TAB.text("done", sampler=sampler.upper(), steps=steps, n=n, s=f"{seconds:.1f}",
                                  ms=f"{1000 * seconds / steps:.0f}"),
           "trajectory": traj,
           "scrub": gr.update(minimum=0, maximum=frames - 1, value=frames - 1, step=1, interactive=True)}


def ddpm_scrub(traj, frame) -> dict:
    """Show a stored step of the trajectory (no model call): x_t, x̂_0, ε_θ, and which step it is."""
    if not traj or not traj.get("i"):
        return {"run_status": TAB.text("no_trajectory")}
    f = int(min(max(int(frame or 0), 0), len(traj["i"]) - 1))
    x_t = to_unit(torch.from_numpy(traj["x_t"][f].astype(np.float32)))
    return {"xt": batch_picture(x_t), "x0": batch_picture(traj["x0"][f]), "eps": batch_picture(traj["eps"][f]),
            "run_status": TAB.text("scrub_status", i=traj["i"][f] + 1, steps=traj["steps"], t=traj["t"][f],
                                   sampler=traj["sampler"].upper())}


def ddpm_branch(traj, frame, image: int, futures: int, seed: int, progress=gr.Progress()):
    """The "branch from here" button (private api): from the stored x_t of image ``image`` at scrub position
    ``frame``, run the rest of the reverse process ``futures`` times with fresh noise (seeded). DDIM uses η = 1
    here, otherwise every future would be the same. Streams the futures, then (x_t it started from, futures,
    status)."""
    if not traj or not traj.get("i"):
        raise TAB.problem("no_trajectory")
    f = int(check_range(frame, 0, len(traj["i"]) - 1, TAB.phrase("scrub")))
    image = int(check_range(image, 0, traj["n"] - 1, TAB.phrase("image")))
    futures = int(check_range(futures, *LIMITS["futures"][:2], TAB.phrase("futures")))
    seed = check_seed(seed)
    model = load_model(traj["model"])
    remaining = traj["steps"] - traj["i"][f]
    check_work(model, futures, remaining)
    x_t = torch.from_numpy(traj["x_t"][f][image:image + 1].astype(np.float32))
    x = x_t.repeat(futures, 1, 1, 1)
    generator = torch.Generator().manual_seed(seed)
    scheduler = model.scheduler(traj["sampler"])
    start_index = traj["i"][f]
    origin = batch_picture(to_unit(x_t), size=160)
    every = max(1, remaining // 10)
    start = time.perf_counter()
    for step in reverse_steps(model.fast_unet, scheduler, x, traj["steps"], generator=generator,
                              start_index=start_index, eta=1.0):
        x = step["x_prev"]
        done = step["i"] - start_index + 1
        if done % every == 0 and done < remaining:
            progress(done / remaining)
            yield {"origin": origin, "futures": batch_picture(to_unit(step["x0"])),
                   "status": TAB.text("branch_running", done=done, total=remaining)}
    yield {"origin": origin, "futures": batch_picture(to_unit(x)),
           "status": TAB.text("branch_done", k=futures, i=start_index + 1, t=traj["t"][f],
                              s=f"{time.perf_counter() - start:.1f}")}


def compare_name(sampler: str, steps: int) -> str:
    """The name of one run of the comparison among the outputs of ``ddpm_compare`` (``ddim10``, ``ddpm1000``...)."""
    return f"{sampler}{steps}"


def ddpm_compare(model_id: str, n: int, seed: int, progress=gr.Progress()):
    """api ``/ddpm_compare``: the same x_T with DDIM 10 / 20 / 50 and DDPM 1000 steps; streams each result as it is
    done, then a table of wall times (outputs: the four runs, as ``COMPARE_RUNS`` | table)."""
    n = int(check_range(n, *LIMITS["n"][:2], TAB.phrase("n")))
    seed = check_seed(seed)
    model = load_model(model_id)
    check_work(model, n, sum(steps for _k, steps in COMPARE_RUNS))
    images = {}
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
        images[compare_name(sampler, steps)] = batch_picture(to_unit(x), size=240)
        rows.append(f"| {sampler.upper()} | {steps} | {seconds:.2f} s | {1000 * seconds / steps:.0f} ms |")
        yield {**images, "table": TAB.text("compare_table") + "\n" + "\n".join(rows)}


# --- the tab -----------------------------------------------------------------------------

# The settings a share link carries (the controls' names in ``open_tab``), in the order of ``ddpm_share_query``.
SETTINGS = ("t", "fseed", "sampler", "steps", "n", "seed", "every")


def ddpm_share_query(t, fseed, sampler, steps, n, seed, every) -> str:
    """The query string of a share link to this tab with these settings (the digit is not included)."""
    return share_query(TAB, t=int(t or 0), fseed=int(fseed or 0), sampler=sampler, steps=int(steps or 1),
                       n=int(n or 1), seed=int(seed or 0), every=int(every or 1))


def _limit(request, name: str) -> int:
    low, high, default = LIMITS[name]
    return query_value(request, name, int, low, high, default=default)


def settings_from_query(request: gr.Request | None) -> dict:
    """{name: value} of the settings (``SETTINGS``) from a share link, with the defaults for whatever is absent or
    invalid."""
    return {
        "t": _limit(request, "t"),
        "fseed": query_value(request, "fseed", int, 0, MAX_SEED, default=0),
        "sampler": query_value(request, "sampler", str, choices=SAMPLERS, default="ddpm"),
        "steps": _limit(request, "steps"),
        "n": _limit(request, "n"),
        "seed": query_value(request, "seed", int, 0, MAX_SEED, default=0),
        "every": _limit(request, "every"),
    }


def steps_for_sampler(sampler: str):
    """DDPM is usually run with all 1000 steps, DDIM with far fewer: a sensible default when switching."""
    return gr.update(value=1000 if sampler == "ddpm" else 50)


def lock_scrub():
    """The scrub slider is locked while a new trajectory is being made."""
    return gr.update(interactive=False)


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): take a share link's settings, show the forward
    process of a real test digit (needs no weights), and check the U-Net; if its weights are missing, say why and
    disable only the buttons that need it. Returns updates by name: the banner, the three buttons, the canvas, the
    settings (``SETTINGS``) and the outputs of ``ddpm_forward``."""
    settings = settings_from_query(request)
    controls = {name: gr.update(value=value) for name, value in settings.items()}
    with PIL.Image.open(FIRST_EXAMPLE) as img:
        forward = ddpm_forward(img.copy(), settings["t"], settings["fseed"])
    try:
        load_model("")
    except gr.Error as err:
        off = gr.update(interactive=False)
        return {"status": show_weights_problem(err), "run": off, "compare": off, "branch": off,
                "canvas": FIRST_EXAMPLE, "limits": hub_limits_text(), **controls, **forward}
    on = gr.update(interactive=True)
    return {"status": gr.update(visible=False), "run": on, "compare": on, "branch": on, "canvas": FIRST_EXAMPLE,
            "limits": hub_limits_text(), **controls, **forward}


def hub_limits_text() -> str:
    """What the "other models" box accepts, with this server's limits (shown under its note)."""
    return TAB.text("other_limits", params=f"{loading.HUB_MAX_PARAMS / 1e6:g}", size=MAX_SAMPLE_SIZE, T=MAX_TIMESTEPS,
                    s=f"{loading.HUB_DEADLINE_S:g}")


@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown)."""
    _ = TAB.ui
    mnist_examples = sorted(str(p) for p in (EXAMPLES / "mnist").glob("*.png"))
    image_opts = dict(type="pil", interactive=False, buttons=["download"])
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=8, min_width=480):
                # ---- forward process
                gr.Markdown(_("forward_title"))
                with gr.Row():
                    with gr.Column(scale=2, min_width=220):
                        canvas = digit_canvas(_("input"), height=260)
                        examples = gr.Examples([[p] for p in mnist_examples], inputs=[canvas], label=_("examples"),
                                               examples_per_page=10)
                    with gr.Column(scale=3, min_width=260):
                        t_slider = gr.Slider(*LIMITS["t"][:2], value=LIMITS["t"][2], step=1, label=_("t"),
                                             info=_("t_info"))
                        fseed, fdice = seed_input(0)
                        with gr.Row():
                            f_x0 = gr.Image(label=_("x0"), height=150, min_width=90, **image_opts)
                            f_xt = gr.Image(label=_("xt"), height=150, min_width=90, **image_opts)
                            f_eps = gr.Image(label=_("eps"), height=150, min_width=90, **image_opts)
                        f_values = gr.Markdown(latex_delimiters=[{"left": "$", "right": "$", "display": False}])
                f_strip = gr.Image(label=_("strip"), **image_opts)
                plot_opts = {"x": "t", "y": "value", "color": "curve", "height": 260, "min_width": 240, "y_title": " ",
                             "color_map": CURVE_COLORS}
                plot_abar = gr.LinePlot(label=_("plot_abar"), color_title=" ", **plot_opts)
                with gr.Row():
                    plot_beta = gr.LinePlot(label=_("plot_beta"), color_title=" ", **plot_opts)
                    plot_snr = gr.LinePlot(label=_("plot_snr"), color_title=" ", **plot_opts)

                # ---- reverse process
                gr.Markdown(_("reverse_title"))
                with gr.Row():
                    sampler = gr.Radio([(_("sampler_ddpm"), "ddpm"), (_("sampler_ddim"), "ddim")], value="ddpm",
                                       label=_("sampler"), scale=2)
                    steps = gr.Slider(*LIMITS["steps"][:2], value=LIMITS["steps"][2], step=1, label=_("steps"),
                                      scale=3)
                with gr.Row():
                    n = gr.Slider(*LIMITS["n"][:2], value=LIMITS["n"][2], step=1, label=_("n"))
                    every = gr.Slider(*LIMITS["every"][:2], value=LIMITS["every"][2], step=1, label=_("every"))
                with gr.Row(equal_height=True):
                    with gr.Column(scale=2, min_width=160):
                        seed, dice = seed_input(0)
                    run = gr.Button(_("run"), variant="primary", scale=3)
                run_status = gr.Markdown()
                with gr.Row():
                    r_xt = gr.Image(label=_("r_xt"), min_width=150, **image_opts)
                    r_x0 = gr.Image(label=_("r_x0"), min_width=150, **image_opts)
                    r_eps = gr.Image(label=_("r_eps"), min_width=150, **image_opts)
                scrub = gr.Slider(0, 1, value=0, step=1, label=_("scrub"), info=_("scrub_info"), interactive=False)
                trajectory = gr.State(None)

                with gr.Accordion(_("branch_title"), open=False):
                    gr.Markdown(_("branch_note"))
                    with gr.Row():
                        b_image = gr.Slider(*LIMITS["image"][:2], value=LIMITS["image"][2], step=1,
                                            label=_("image"))
                        b_futures = gr.Slider(*LIMITS["futures"][:2], value=LIMITS["futures"][2], step=1,
                                              label=_("futures"))
                        with gr.Column(min_width=160):
                            b_seed, b_dice = seed_input(1)
                    branch = gr.Button(_("branch_run"))
                    with gr.Row():
                        b_origin = gr.Image(label=_("branch_origin"), min_width=120, scale=1, **image_opts)
                        b_out = gr.Image(label=_("branch_out"), min_width=200, scale=2, **image_opts)
                    b_status = gr.Markdown()

                with gr.Accordion(_("compare_title"), open=False):
                    gr.Markdown(_("compare_note"))
                    compare = gr.Button(_("compare_run"))
                    with gr.Row():
                        c_out = {compare_name(s, k): gr.Image(label=f"{s.upper()} {k}", min_width=120, **image_opts)
                                 for s, k in COMPARE_RUNS}
                    c_table = gr.Markdown()

                with gr.Accordion(_("other_title"), open=False):
                    gr.Markdown(_("other_note"))
                    limits_md = gr.Markdown()
                    with gr.Row(equal_height=True):
                        model_id = gr.Textbox(label=_("model_id"), placeholder="google/ddpm-cifar10-32", scale=4)
                        info_button = gr.Button(_("model_load"), scale=1)
                    info_md = gr.Markdown()
                share_button, share_link = share_row()
            with gr.Column(scale=4, min_width=300):
                TAB.explanation()

        private = dict(queue=False, api_visibility="private")
        quiet = dict(show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        # The api's outputs, in these orders (gradio_client sees tuples): what the handlers return, by name.
        fwd_in = [canvas, t_slider, fseed]
        fwd_out = {"x0": f_x0, "xt": f_xt, "eps": f_eps, "strip": f_strip, "plot_abar": plot_abar,
                   "plot_beta": plot_beta, "plot_snr": plot_snr, "values": f_values}
        page.on(t_slider.release, ddpm_forward, fwd_in, fwd_out, api_name="ddpm_forward", show_progress="hidden",
                trigger_mode="always_last")
        page.on(canvas.change, ddpm_forward_live, fwd_in, fwd_out, **quiet)
        page.on(examples.load_input_event.then, ddpm_forward_live, fwd_in, fwd_out, **quiet)
        page.on(fseed.submit, ddpm_forward_live, fwd_in, fwd_out, **quiet)
        rolled = page.on(fdice.click, new_seed, None, fseed, **private)
        page.on(rolled.then, ddpm_forward_live, fwd_in, fwd_out, **quiet)

        page.on(sampler.input, steps_for_sampler, sampler, steps, **private)  # not a share link's
        shown = {"xt": r_xt, "x0": r_x0, "eps": r_eps, "run_status": run_status}
        locked = page.on(run.click, lock_scrub, None, scrub, **private)
        page.on(locked.then, ddpm_sample, [model_id, sampler, steps, n, seed, every],
                {**shown, "trajectory": trajectory, "scrub": scrub}, api_name="ddpm_sample", **heavy_queue())
        page.on(dice.click, new_seed, None, seed, **private)
        page.on(scrub.input, ddpm_scrub, [trajectory, scrub], shown, **quiet)
        # Private: it works on the trajectory kept in the browser session, which an API client does not have.
        page.on(branch.click, ddpm_branch, [trajectory, scrub, b_image, b_futures, b_seed],
                {"origin": b_origin, "futures": b_out, "status": b_status}, api_visibility="private", **heavy_queue())
        page.on(b_dice.click, new_seed, None, b_seed, **private)
        page.on(compare.click, ddpm_compare, [model_id, n, seed], {**c_out, "table": c_table},
                api_name="ddpm_compare", **heavy_queue())
        page.on(info_button.click, model_info, model_id, info_md, api_visibility="private", **HUB_LOAD_QUEUE)
        page.on(model_id.submit, model_info, model_id, info_md, api_visibility="private", **HUB_LOAD_QUEUE)

        settings = {"t": t_slider, "fseed": fseed, "sampler": sampler, "steps": steps, "n": n, "seed": seed,
                    "every": every}
        wire_share(page, share_button, share_link, ddpm_share_query, list(settings.values()))
        page.when_shown(demo, open_tab, {"status": status, "run": run, "compare": compare, "branch": branch,
                                         "canvas": canvas, "limits": limits_md, **settings, **fwd_out})
    return demo


if __name__ == "__main__":
    TAB.launch()
