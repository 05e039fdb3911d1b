"""DDPM step by step: the forward (noising) and the reverse (denoising) process of a diffusion model.

What it teaches (Ho, Jain & Abbeel, NeurIPS 2020; Song, Meng & Ermon, ICLR 2021; Lu et al., arXiv:2211.01095):

* **Forward process** — noise is added in closed form, x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε; one slider over t
  with the same ε shows the digit dissolving, beside β_t, ᾱ_t and the signal-to-noise ratio ᾱ_t/(1−ᾱ_t).
* **Reverse process** — from pure noise x_T the U-Net predicts the noise ε_θ(x_t, t) at every step; the
  scheduler turns it into the predicted clean image x̂_0 and the next x_{t−1}. We stream x_t and x̂_0 while
  it runs, keep the trajectory, and a slider over t looks back at any step afterwards (no recomputation).
  The tab opens on such a run (``DEFAULT_SAMPLER``: SDE-DPM-Solver++, 20 steps, computed once and cached);
  "watch all 1000 steps" runs DDPM with every one of its T = 1000 steps.
* **DPM-Solver++** (Lu et al. 2022) — a second-order multistep solver of the same reverse process written as an
  ODE in x̂_0, and its stochastic form SDE-DPM-Solver++ (the default: 20 steps, as good as DDPM's 1000 by the
  classifier's judgement).
* **Samplers compared** — the same x_T with DPM-Solver++ 10 / 20, SDE-DPM-Solver++ 20, DDIM 20 / 50 and DDPM 1000
  steps.
* **Branch** — restart the reverse process from one stored x_t (a timestep t of one image) with fresh noise:
  several futures; from large t different digits, from small t the same digit, from the last step one future.
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

from demos import controls
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
from demos.i18n import warn
from demos.image_input import digit_canvas, image_to_digit, wire_canvas
from demos.kit import Page, Tab, demo_cache, heavy_queue
from demos.share import query_value, share_query, share_row, wire_share
from demos.turns import give_way, mark_long
from models import loading
from models.ddpm import SCHEDULER_CONFIG, initial_noise, make_scheduler, q_sample, read_unet_pipeline, reverse_steps
from models.imaging import grid, strip, to_pil, to_uint8, to_unit
from models.loading import (
    HubModelRefused,
    HubUnreachable,
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
        "en": "How much signal and noise x_t holds (grey line: the chosen t)",
        "ja": "x_t に含まれる信号とノイズの割合（灰色の線：選んだ t）",
    },
    "plot_beta": {"en": "Noise schedule β_t (linear)", "ja": "ノイズスケジュール β_t（線形）"},
    "plot_snr": {
        "en": "Signal-to-noise ratio: log₁₀ SNR(t) = log₁₀ ᾱ_t / (1−ᾱ_t)",
        "ja": "信号対雑音比：log₁₀ SNR(t) = log₁₀ ᾱ_t / (1−ᾱ_t)",
    },
    "t_axis": {"en": "timestep t", "ja": "タイムステップ t"},
    # The plots' series names with words (data values, made at run time in the event's language; CURVE_COLORS
    # colours them). The others are formulas: ᾱ_t, β_t, log₁₀ SNR.
    "curve_signal": {"en": "signal √ᾱ_t", "ja": "信号 √ᾱ_t"},
    "curve_noise": {"en": "noise √(1−ᾱ_t)", "ja": "ノイズ √(1−ᾱ_t)"},
    "curve_t": {"en": "chosen t", "ja": "選んだ t"},
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
    "sampler_dpmsolver": {
        "en": "DPM-Solver++ (deterministic, few steps)",
        "ja": "DPM ソルバー++（決定的・少ないステップ）",
    },
    "sampler_sde_dpmsolver": {
        "en": "SDE-DPM-Solver++ (stochastic, few steps)",
        "ja": "確率的 DPM ソルバー++（少ないステップ）",
    },
    # The samplers' names in the status lines, the comparison and the slides (DDPM and DDIM are names in both).
    "name_ddpm": {"en": "DDPM", "ja": "DDPM"},
    "name_ddim": {"en": "DDIM", "ja": "DDIM"},
    "name_dpmsolver": {"en": "DPM-Solver++", "ja": "DPM ソルバー++"},
    "name_sde_dpmsolver": {"en": "SDE-DPM-Solver++", "ja": "確率的 DPM ソルバー++"},
    "steps": {"en": "Number of steps", "ja": "ステップ数"},
    "steps_info": {
        "en": (
            "Trained with T = 1000; fewer steps skip t evenly (DDPM 100 steps: t = 990, 980, …, 0; the DPM-Solvers "
            "with 20 steps: t = 999, 949, …, 50)."
        ),
        "ja": (
            "T = 1000 で学習。ステップ数を減らすと t を等間隔に飛ばします（DDPM 100 ステップ：t = 990, 980, …, 0。"
            "DPM ソルバー++ 20 ステップ：t = 999, 949, …, 50）。"
        ),
    },
    "watch_all": {"en": "Watch all 1000 steps", "ja": "1000 ステップすべてを見る"},
    "n": {"en": "Number of images", "ja": "画像の枚数"},
    "every": {"en": "Show every k steps", "ja": "k ステップごとに表示"},
    "every_raised": {"en": "Shown every {k} steps: a run shows at most {frames} pictures.",
                     "ja": "{k} ステップごとに表示します（1 回の生成で表示するのは {frames} 枚まで）。"},
    "run": {"en": "Generate", "ja": "生成する"},
    "r_xt": {"en": "x_t (at the end: the result)", "ja": "x_t（最後は生成結果）"},
    "r_x0": {"en": "x̂₀ (the predicted result)", "ja": "x̂₀（予測した完成画像）"},
    "r_eps": {"en": "ε_θ(x_t, t) (predicted noise)", "ja": "ε_θ(x_t, t)（予測したノイズ）"},
    "scrub": {"en": "Timestep t shown", "ja": "表示するタイムステップ t"},
    "scrub_info": {
        "en": "Right: the first step (from x_T, pure noise), left: the last step (the smallest t the sampler visits: "
              "0 for DDPM and DDIM, 50 for 20 DPM-Solver++ steps). Shows the nearest stored step at once (nothing is "
              "recomputed).",
        "ja": (
            "右端：最初のステップ（x_T、純粋なノイズから）、左端：最後のステップ（サンプラーが通る最小の t。"
            "DDPM と DDIM では 0、DPM ソルバー++ 20 ステップでは 50）。保存された最も近いステップをすぐに表示します"
            "（再計算はしません）。"
        ),
    },
    "status": {
        "en": "{sampler}: step {i} / {steps}, t = {t} ({s} s)",
        "ja": "{sampler}：ステップ {i} / {steps}、t = {t}（{s} 秒）",
    },
    "done": {
        "en": (
            "Done: {n} images with {steps} {sampler} steps in {s} s ({ms} ms per step). Move the t slider below the "
            "images to look back at any step."
        ),
        "ja": (
            "完了：{sampler} {steps} ステップで {n} 枚を {s} 秒で生成しました（1 ステップ {ms} ms）。"
            "画像の下の t のスライダーで途中のステップを見られます。"
        ),
    },
    "example": {
        "en": (
            "An example, computed when the tab opened: {n} images with {steps} {sampler} steps, seed {seed}. Move the "
            "t slider below the images to look back at any step, or press Generate."
        ),
        "ja": (
            "タブを開いたときに計算した例：{sampler} {steps} ステップ、{n} 枚、シード {seed}。"
            "画像の下の t のスライダーで途中のステップを見るか、「生成する」を押してください。"
        ),
    },
    "press_generate": {
        "en": "Press Generate: {n} images with {steps} {sampler} steps.",
        "ja": "「生成する」を押してください：{sampler} {steps} ステップで {n} 枚を生成します。",
    },
    "scrub_status": {
        "en": "{sampler} step {i} / {steps}, t = {t}: x_t, the x̂₀ predicted at this step, and ε_θ.",
        "ja": "{sampler} ステップ {i} / {steps}、t = {t}：x_t、このステップで予測した x̂₀、ε_θ。",
    },
    "no_trajectory": {
        "en": "Generate images first: the t slider and the branches work on the stored trajectory of a run.",
        "ja": "先に画像を生成してください。t のスライダーと分岐は、生成時に保存した軌跡を使います。",
    },
    "slide_caption": {
        "en": (
            "The reverse process of a DDPM trained on MNIST: from pure noise x_T, the U-Net predicts the noise "
            "ε_θ(x_t, t) at each step; x̂₀ is its current guess of the final digits."
        ),
        "ja": (
            "MNIST で学習した DDPM の逆過程：純粋なノイズ x_T から、U-Net が各ステップでノイズ ε_θ(x_t, t) "
            "を予測します。x̂₀ はその時点での最終的な数字の予想です。"
        ),
    },
    "slide_equation": {
        "en": r"x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\left(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\,"
              r"\epsilon_\theta(x_t, t)\right) + \sigma_t z",
        "ja": r"x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\left(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\,"
              r"\epsilon_\theta(x_t, t)\right) + \sigma_t z",
    },
    "branch_title": {
        "en": "Branch: several futures of one noisy image",
        "ja": "分岐：1 枚のノイズ画像から複数の未来へ",
    },
    "branch_note": {
        "en": (
            "Choose a timestep t and one image of the batch: the reverse process restarts from its stored x_t with "
            "fresh noise. From a large t the futures end as different digits, from a small t they only differ in "
            "details, and from the last step they are all the same image (that step adds no noise). (The "
            "deterministic samplers add noise in their branches, otherwise every future would be the same: DDIM "
            "with η = 1, DPM-Solver++ in its stochastic form, SDE-DPM-Solver++.)"
        ),
        "ja": (
            "タイムステップ t とバッチ内の画像を 1 枚選びます。保存された x_t から新しいノイズで逆過程をやり直します。"
            "t が大きいと別々の数字になり、t が小さいと細部だけが変わり、最後のステップからはすべて同じ画像になります"
            "（最後のステップはノイズを加えないため）。（決定的なサンプラーは分岐でノイズを加えます。そうしないと"
            "すべての未来が同じになるためです。DDIM は η = 1、DPM ソルバー++ はその確率的な版を使います。）"
        ),
    },
    "branch_t": {"en": "Branch from timestep t", "ja": "分岐するタイムステップ t"},
    "image": {"en": "Image of the batch (0 = top left)", "ja": "バッチ内の画像（0 = 左上）"},
    "futures": {"en": "Number of futures", "ja": "未来の数"},
    "branch_run": {"en": "Sample futures from this step", "ja": "このステップから未来をサンプリング"},
    "branch_where": {
        "en": "Branches from image {k} (row {row}, column {col}) at step {i} / {steps}, t = {t}: its x_t is the start.",
        "ja": "画像 {k}（{row} 行 {col} 列）のステップ {i} / {steps}、t = {t} から分岐します。その x_t が出発点です。",
    },
    "branch_where_last": {
        "en": (
            "Branches from image {k} (row {row}, column {col}) at the last step, {i} / {steps} (t = {t}): that step "
            "adds no noise, so every future would be the same image. Choose a larger t."
        ),
        "ja": (
            "画像 {k}（{row} 行 {col} 列）の最後のステップ {i} / {steps}（t = {t}）から分岐します。このステップは"
            "ノイズを加えないので、すべての未来が同じ画像になります。もっと大きな t を選んでください。"
        ),
    },
    "branch_origin": {"en": "Start: x_t", "ja": "出発点：x_t"},
    "branch_out": {"en": "Futures", "ja": "未来"},
    "branch_running": {"en": "Branching: {done} / {total} steps", "ja": "分岐中：{done} / {total} ステップ"},
    "branch_done": {
        "en": "{k} futures of image {image} from step {i} / {steps} (t = {t}) in {s} s.",
        "ja": "画像 {image} のステップ {i} / {steps}（t = {t}）から {k} 通りの未来を {s} 秒で生成しました。",
    },
    "branch_differ": {
        "en": "Per pixel they differ by {spread} grey levels of 255 on average (0 = all the same).",
        "ja": "未来どうしの違いは 1 画素あたり平均 {spread} 階調です（255 階調中、0 = すべて同じ）。",
    },
    "branch_same": {
        "en": (
            "They are all the same image: from the last step no noise is added, so there is only one future. Choose a "
            "larger t."
        ),
        "ja": (
            "すべて同じ画像です。最後のステップはノイズを加えないので、未来は 1 つしかありません。"
            "もっと大きな t を選んでください。"
        ),
    },
    "compare_title": {
        "en": "DDPM, DDIM and DPM-Solver++: the same starting noise, different numbers of steps",
        "ja": "DDPM・DDIM・DPM ソルバー++：同じ初期ノイズ、異なるステップ数",
    },
    "compare_note": {
        "en": (
            "The same x_T (from the seed and number of images above) with DPM-Solver++ 10 / 20 steps, its stochastic "
            "form with 20 steps, DDIM 20 / 50 steps and DDPM 1000 steps. DDIM (Song et al. 2021) reuses the trained "
            "network with a deterministic update that can skip steps; DPM-Solver++ (Lu et al. 2022) solves the same "
            "process as an ODE with a second-order step that also uses the previous prediction."
        ),
        "ja": (
            "同じ x_T（上のシードと枚数から）を DPM ソルバー++ 10 / 20 ステップ、"
            "その確率的な版 20 ステップ、DDIM 20 / 50 ステップ、DDPM 1000 ステップで生成します。"
            "DDIM（Song ら 2021）は学習済みの同じネットワークを、ステップを飛ばせる決定的な更新式で使います。"
            "DPM ソルバー++（2022）は同じ過程を常微分方程式として解き、1 つ前の予測も使う 2 次の更新で"
            "ステップ数を減らします。"
        ),
    },
    "compare_run": {"en": "Compare", "ja": "比較する"},
    # The pictures of the comparison, one per run of COMPARE_RUNS (``compare_label``: "++" written "pp", "-" "_").
    "run_dpmsolverpp10": {"en": "DPM-Solver++ 10", "ja": "DPM ソルバー++ 10 ステップ"},
    "run_dpmsolverpp20": {"en": "DPM-Solver++ 20", "ja": "DPM ソルバー++ 20 ステップ"},
    "run_sde_dpmsolverpp20": {"en": "SDE-DPM-Solver++ 20", "ja": "確率的 DPM ソルバー++ 20 ステップ"},
    "run_ddim20": {"en": "DDIM 20", "ja": "DDIM 20 ステップ"},
    "run_ddim50": {"en": "DDIM 50", "ja": "DDIM 50 ステップ"},
    "run_ddpm1000": {"en": "DDPM 1000", "ja": "DDPM 1000 ステップ"},
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
            "downloads the model once), then press this button again."
        ),
        "ja": (
            "「{repo}」はまだ読み込まれていません。先に「Hugging Face Hub の他のモデル」の「読み込む」を押してください"
            "（モデルを一度だけダウンロードします）。その後で、このボタンをもう一度押してください。"
        ),
    },
    "err_hub_unreachable": {
        "en": ("“{repo}” could not be loaded: this server cannot reach the Hugging Face Hub (no network, or the Hub "
               "is down). Models loaded before still work."),
        "ja": ("「{repo}」を読み込めませんでした：このサーバーから Hugging Face Hub に接続できません"
               "（ネットワークがない、または Hub が停止中）。以前に読み込んだモデルは使えます。"),
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
SAMPLERS = ("ddpm", "ddim", "dpmsolver++", "sde-dpmsolver++")
# The sampler the tab opens on, and the steps a sampler starts with when the student switches to it. Measured with
# training/evaluate_ddpm.py (1,000 digits each, README "DDPM MNIST"), the share the gallery's classifier recognises
# with confidence ≥ 0.9: SDE-DPM-Solver++ 10 / 20 steps 93.5 / 94.8 %, DPM-Solver++ 20 steps 91.7 % (no step count of
# the deterministic solver reached 92 %: its ODE stays near 91.5–92 %), DDIM 50 90.3 %, DDPM 100 / 1000 93.7 / 93.4 %.
# The default, SDE-DPM-Solver++ with 20 steps, is one U-Net call per step like the others (README "Speed").
DEFAULT_SAMPLER = "sde-dpmsolver++"
DEFAULT_STEPS = {"ddpm": 100, "ddim": 50, "dpmsolver++": 20, "sde-dpmsolver++": 20}
# "Watch all 1000 steps": DDPM with every step of its T = 1000 (about 18 s for 16 digits on 2 CPU cores).
WATCH_ALL = ("ddpm", 1000)
# A run of this many steps or more (16 digits: ~30 s of CPU and more) tells the heavy line at once that it is long, so
# that the short clicks of a class go before it (demos/turns.py: mark_long).
LONG_RUN_STEPS = 500
# A run streams at most this many frames, each three pictures that Gradio saves as files for the browser (at every = 1,
# DDPM's 1000 steps wrote thousands of files and took several times as long as the sampling); "every" is raised to fit.
MAX_STREAMED = 100
# name: (low, high, default)
LIMITS = {
    "t": (0, 999, 250),
    "n": (1, 16, 16),
    "steps": (1, 1000, DEFAULT_STEPS[DEFAULT_SAMPLER]),
    "every": (1, 250, 10),
    "futures": (1, 16, 8),
    "image": (0, 15, 0),
    "branch_t": (0, 999, 600),  # from t ≈ 600 the futures of one image are often different digits, from 400 not
}
# The deterministic samplers' branches add noise (otherwise every future is the same): DDIM with η = 1 (in
# ddpm_branch), DPM-Solver++ as SDE-DPM-Solver++ (the same timesteps and x̂_0, plus fresh noise).
BRANCH_SAMPLER = {"dpmsolver++": "sde-dpmsolver++"}
COMPARE_RUNS = (("dpmsolver++", 10), ("dpmsolver++", 20), ("sde-dpmsolver++", 20), ("ddim", 20), ("ddim", 50),
                ("ddpm", 1000))  # fast ones first
FORWARD_STRIP_T = (0, 50, 100, 200, 300, 500, 700, 999)
OPEN_MAX_STEPS = 100  # the tab opens on a computed run if its settings (the default's, a share link's) need at most
# this many steps (else it asks to press Generate)
MAX_FRAMES = 200  # a run keeps at most this many of its steps (for the t slider and the branches)
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
    except HubUnreachable as err:  # no network, or the Hub is down: said in the student's words
        raise TAB.problem("err_hub_unreachable", repo=model_id) from err
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


def batch_picture(images, size: int = 400) -> PIL.Image.Image:
    """(B, C, H, W) in [0, 1] (tensor or uint8 array) → a square-ish grid with 1-px grey lines around every image,
    enlarged with crisp pixels to about ``size`` (shown at about 300 px, it stays sharp on a projector and a slide)."""
    picture = grid(images, pad=1, background=128, border=True)
    return to_pil(picture, scale=max(1, size // max(picture.shape[:2])))


def batch_pixels(x01: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) in [0, 1] → uint8 (B, C, H, W), whatever B (how a trajectory keeps its pictures)."""
    return to_uint8(x01, keep_shape=True)


# --- forward process ---------------------------------------------------------------------

def digit_to_model_space(digit: torch.Tensor) -> torch.Tensor:
    """(1, 1, 28, 28) in [0, 1] → (1, 1, 32, 32) in [-1, 1], padded like the training data."""
    return F.pad(digit, (2, 2, 2, 2), value=0.0) * 2 - 1


# The colour of each series of the plots, by its name in either language (the names are data values, made in the
# event's language by ``schedule_curves``).
CURVE_COLORS = {"ᾱ_t": "#1f77b4", "β_t": "#1f77b4", "log₁₀ SNR": "#1f77b4", **{
    TAB.strings.table[name][lang]: color for lang in ("en", "ja")
    for name, color in (("curve_signal", "#ff7f0e"), ("curve_noise", "#d62728"), ("curve_t", "#7f7f7f"))}}


def schedule_curves(alphas_cumprod: torch.Tensor, betas: torch.Tensor, t: int) -> tuple[pd.DataFrame, ...]:
    """Data of the three plots (every 10th step + a grey vertical marker at t): (ᾱ_t, √ᾱ_t, √(1−ᾱ_t)), β_t,
    log₁₀ SNR. The series are named in the current event's language."""
    ts = [*range(0, len(betas), 10), len(betas) - 1]
    abar = alphas_cumprod[ts].double()

    def curve(name, values):
        return [{"t": s, "value": float(v), "curve": name} for s, v in zip(ts, values)]

    def marker(lo, hi):
        return [{"t": t, "value": float(lo), "curve": TAB.text("curve_t")},
                {"t": t, "value": float(hi), "curve": TAB.text("curve_t")}]

    snr = (abar / (1 - abar)).log10()
    abar_curves = (curve("ᾱ_t", abar) + curve(TAB.text("curve_signal"), abar.sqrt())
                   + curve(TAB.text("curve_noise"), (1 - abar).sqrt()))
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
    """api ``/ddpm_forward``: x_0 | x_t | ε | x_t at several t (same ε) | ᾱ plot | β plot | SNR plot | values (each
    plot an update: its table and its x-axis title).

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
    # the plots' table, and their x-axis title in the event's language (Gradio translates labels, not plot titles)
    plot_abar, plot_beta, plot_snr = (gr.update(value=frame, x_title=TAB.text("t_axis"))
                                      for frame in schedule_curves(abar, betas, t))
    return {"x0": to_pil(to_unit(x0), scale=8), "xt": to_pil(to_unit(r["x_t"]), scale=8),
            "eps": to_pil(noise_to_unit(r["eps"]), scale=8), "strip": to_pil(strip(to_unit(r["strip"])), scale=4),
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
    """An empty trajectory: the settings of a run, and (filled by ``reverse_process``) its stored steps: their
    index ``i``, timestep ``t``, x_t, x̂_0 and ε_θ, then the generated batch ``final``."""
    stride = max(1, math.ceil(steps / MAX_FRAMES))
    return {"model": (model_id or "").strip(), "sampler": sampler, "steps": steps, "n": n, "seed": seed,
            "stride": stride, "i": [], "t": [], "x_t": [], "x0": [], "eps": []}


def keep_frame(traj: dict, step: dict) -> None:
    """Store one step for the t slider and the branches: x_t exactly enough to restart from it (float16), x̂_0 and
    ε_θ as pictures."""
    traj["i"].append(step["i"])
    traj["t"].append(step["t"])
    traj["x_t"].append(step["x_t"].detach().to(torch.float16).numpy().copy())
    traj["x0"].append(batch_pixels(to_unit(step["x0"])))
    traj["eps"].append(batch_pixels(noise_to_unit(step["eps"])))


def reverse_process(model, traj: dict):
    """Run the reverse process of ``traj``'s settings from its seeded x_T, yielding every step (see
    ``models.ddpm.reverse_steps``). Every ``stride``-th step and the last are kept in ``traj``; at the end the
    generated batch is ``traj["final"]``."""
    generator = torch.Generator().manual_seed(traj["seed"])
    x = initial_noise((traj["n"], *model.image_shape), generator=generator)
    scheduler = model.scheduler(traj["sampler"])
    for step in reverse_steps(model.fast_unet, scheduler, x, traj["steps"], generator=generator):
        if step["i"] % traj["stride"] == 0 or step["i"] == traj["steps"] - 1:
            keep_frame(traj, step)
        yield step
        x = step["x_prev"]
        give_way()  # in the heavy queue: a waiting job computes now if this run's turn is over (demos/turns.py)
    traj["final"] = batch_pixels(to_unit(x))


def sampler_name(sampler: str) -> str:
    """A sampler's name in the current event's language (DDPM, DDIM, DPM-Solver++)."""
    return TAB.text({"ddpm": "name_ddpm", "ddim": "name_ddim", "dpmsolver++": "name_dpmsolver",
                     "sde-dpmsolver++": "name_sde_dpmsolver"}[sampler])


def status_line(sampler, i, steps, t, seconds) -> str:
    return TAB.text("status", sampler=sampler_name(sampler), i=i + 1, steps=steps, t=t, s=f"{seconds:.1f}")


def finished(traj: dict, status: str) -> dict:
    """The reverse section after a run: the generated batch (in the x_t box), the last x̂_0 and ε_θ, ``status``, the
    trajectory, and the t slider over its timesteps, at the end (its smallest t)."""
    t_first, t_last = traj["t"][0], traj["t"][-1]
    return {"r_xt": batch_picture(traj["final"]), "r_x0": batch_picture(traj["x0"][-1]),
            "r_eps": batch_picture(traj["eps"][-1]), "run_status": status, "trajectory": traj,
            "scrub": gr.update(minimum=t_last, maximum=max(t_first, t_last + 1), value=t_last, interactive=True)}


def ddpm_sample(model_id: str, sampler: str, steps: int, n: int, seed: int, every: int):
    """api ``/ddpm_sample``: the reverse process from x_T ~ N(0, I) (seeded), streaming (x_t, x̂_0, ε_θ, status)
    every ``every`` steps; the last output is the generated batch, with the trajectory kept for the t slider
    (outputs: x_t | x̂_0 | ε_θ | status | trajectory | t slider). No progress bar: the status line says the step."""
    model, steps, n, seed = _sample_settings(model_id, sampler, steps, n, seed)
    every = int(check_range(every, *LIMITS["every"][:2], TAB.phrase("every")))
    if every < steps / MAX_STREAMED:
        every = math.ceil(steps / MAX_STREAMED)
        warn(TAB.text("every_raised", k=every, frames=MAX_STREAMED))
    if steps >= LONG_RUN_STEPS:
        mark_long()  # in the heavy line: a long job from its first turn (short clicks go first; demos/turns.py)
    traj = new_trajectory(model_id, sampler, steps, n, seed)
    start = time.perf_counter()
    for step in reverse_process(model, traj):
        i = step["i"]
        if i % every == 0 and i < steps - 1:  # the trajectory and the t slider stay as they are until the end
            yield {"r_xt": batch_picture(to_unit(step["x_t"])), "r_x0": batch_picture(to_unit(step["x0"])),
                   "r_eps": batch_picture(noise_to_unit(step["eps"])),
                   "run_status": status_line(sampler, i, steps, step["t"], time.perf_counter() - start)}
    seconds = time.perf_counter() - start
    yield finished(traj, TAB.text("done", sampler=sampler_name(sampler), steps=steps, n=n, s=f"{seconds:.1f}",
                                  ms=f"{1000 * seconds / steps:.0f}"))


def ddpm_watch_all(model_id: str, n: int, seed: int, every: int):
    """The "watch all 1000 steps" button (private api): ``ddpm_sample`` with DDPM and every one of its T = 1000
    steps (``WATCH_ALL``), for the images and seed above; its first output also sets the sampler and steps controls
    to that run (so that a slide or a share link says what is shown)."""
    sampler, steps = WATCH_ALL
    shown = {"sampler": gr.update(value=sampler), "steps": gr.update(value=steps)}
    for out in ddpm_sample(model_id, sampler, steps, n, seed, every):
        yield {**shown, **out}
        shown = {}


@demo_cache(maxsize=4)
def example_trajectory(model, sampler: str, steps: int, n: int, seed: int) -> dict:
    """The run the tab opens on (our model, the page's settings): computed once, then shown to every page."""
    traj = new_trajectory("", sampler, steps, n, seed)
    for _step in reverse_process(model, traj):
        pass
    return traj


def open_example(sampler: str, steps: int, n: int, seed: int) -> dict:
    """The reverse section when the tab opens: a finished run with these settings if it is quick (at most
    ``OPEN_MAX_STEPS`` steps; cached), else a line that asks to press Generate."""
    names = {"sampler": sampler_name(sampler), "steps": steps, "n": n}
    if steps > OPEN_MAX_STEPS:
        return {"run_status": TAB.text("press_generate", **names)}
    traj = example_trajectory(load_model(""), sampler, steps, n, seed)
    return finished(traj, TAB.text("example", seed=seed, **names))


def has_run(traj) -> bool:
    """Whether ``traj`` is a finished run (its stored steps and its result), not None or a run cut short."""
    return bool(traj and traj.get("i") and "final" in traj)


def nearest_frame(traj: dict, t: float) -> int:
    """The index of the stored step whose timestep is nearest to ``t``."""
    return min(range(len(traj["t"])), key=lambda f: abs(traj["t"][f] - t))


def stored_t(traj, t):
    """A t slider let go: the timestep of the stored step it shows (the nearest), so that it reads what is shown."""
    if not has_run(traj):
        return t
    return traj["t"][nearest_frame(traj, float(check_range(t, 0, MAX_TIMESTEPS, TAB.phrase("t"))))]


def ddpm_scrub(traj, t) -> dict:
    """The t slider: show the stored step nearest to timestep ``t`` (no model call): x_t, x̂_0, ε_θ, and which step
    it is."""
    if not has_run(traj):
        return {"run_status": TAB.text("no_trajectory")}
    f = nearest_frame(traj, float(check_range(t, 0, MAX_TIMESTEPS, TAB.phrase("scrub"))))
    x_t = to_unit(torch.from_numpy(traj["x_t"][f].astype(np.float32)))
    return {"r_xt": batch_picture(x_t), "r_x0": batch_picture(traj["x0"][f]), "r_eps": batch_picture(traj["eps"][f]),
            "run_status": TAB.text("scrub_status", i=traj["i"][f] + 1, steps=traj["steps"], t=traj["t"][f],
                                   sampler=sampler_name(traj["sampler"]))}


def scrub_released(traj, t) -> dict:
    """The t slider let go (or set in its box, or reset): the stored step nearest to t, and the slider moved to its
    timestep."""
    return {**ddpm_scrub(traj, t), "scrub": stored_t(traj, t)}


# --- branches ------------------------------------------------------------------------------

def branch_start(traj, t, image) -> tuple[int, int]:
    """Where a branch starts: (the stored step nearest to timestep ``t``, the image of the batch), checked."""
    if not has_run(traj):
        raise TAB.problem("no_trajectory")
    t = check_range(t, 0, MAX_TIMESTEPS, TAB.phrase("branch_t"))
    image = int(check_range(image, 0, traj["n"] - 1, TAB.phrase("image")))
    return nearest_frame(traj, t), image


def branch_where(traj: dict, f: int, image: int) -> str:
    """Which image and which step a branch starts from, in words; from the last step every future is the same."""
    row, column = divmod(image, math.ceil(math.sqrt(traj["n"])))  # as ``grid`` lays the batch out
    last = f == len(traj["i"]) - 1
    return TAB.text("branch_where_last" if last else "branch_where", k=image, row=row + 1, col=column + 1,
                    i=traj["i"][f] + 1, steps=traj["steps"], t=traj["t"][f])


def start_picture(traj: dict, f: int, image: int) -> PIL.Image.Image:
    """The stored x_t a branch starts from."""
    return batch_picture(to_unit(torch.from_numpy(traj["x_t"][f][image:image + 1].astype(np.float32))))


def branch_preview(traj, t, image) -> dict:
    """The branch sliders moved: the x_t the branch would start from and where it is (no model call)."""
    if not has_run(traj):
        return {"where": TAB.text("no_trajectory")}
    f, image = branch_start(traj, t, min(int(image or 0), traj["n"] - 1))
    return {"origin": start_picture(traj, f, image), "where": branch_where(traj, f, image)}


def branch_controls(traj, t, image) -> dict:
    """After a run: the branch sliders fitted to it (t up to its first timestep, one of its n images, both kept
    where they were when they fit) and the start they point at."""
    if not has_run(traj):
        return {}
    t = min(float(t), traj["t"][0])
    image = min(int(image), traj["n"] - 1)
    return {"branch_t": gr.update(maximum=traj["t"][0], value=t),
            "image": gr.update(maximum=max(traj["n"] - 1, 1), value=image),
            **branch_preview(traj, t, image)}


def futures_picture(x01) -> PIL.Image.Image:
    """The futures in one row (up to 4) or two (their box is wide), enlarged to about 300 px high."""
    picture = grid(x01, nrow=len(x01) if len(x01) <= 4 else math.ceil(len(x01) / 2), pad=1, background=128,
                   border=True)
    return to_pil(picture, scale=max(1, 300 // picture.shape[0]))


def branch_t_released(traj, t, image) -> dict:
    """The branch's t slider let go (or set in its box): ``branch_preview``, and the slider moved to the timestep of
    the stored step it points at."""
    return {**branch_preview(traj, t, image), "branch_t": stored_t(traj, t)}


def ddpm_branch(traj, t, image: int, futures: int, seed: int):
    """The "branch" button (private api): from the stored x_t of image ``image`` at the stored step nearest to
    timestep ``t``, run the rest of the reverse process ``futures`` times with fresh noise (seeded). DDIM uses η = 1
    here, and DPM-Solver++ its stochastic form SDE-DPM-Solver++ (same timesteps), otherwise every future would be the
    same. Streams the futures' x̂_0, then (x_t it started from, futures, status: how much the futures differ). No
    progress bar: the status line says the step."""
    f, image = branch_start(traj, t, image)
    futures = int(check_range(futures, *LIMITS["futures"][:2], TAB.phrase("futures")))
    seed = check_seed(seed)
    model = load_model(traj["model"])
    start_index = traj["i"][f]
    remaining = traj["steps"] - start_index
    check_work(model, futures, remaining)
    # The last step adds no noise: every future is the same image, computed once (in bf16, copies of one input in a
    # batch can come out a rounding apart, which would read as "they differ by 0.0 grey levels").
    last_step = remaining == 1
    x = torch.from_numpy(traj["x_t"][f][image:image + 1].astype(np.float32))
    x = x.repeat(1 if last_step else futures, 1, 1, 1)
    generator = torch.Generator().manual_seed(seed)
    scheduler = model.scheduler(BRANCH_SAMPLER.get(traj["sampler"], traj["sampler"]))
    origin = start_picture(traj, f, image)
    every = max(1, remaining // 10)
    start = time.perf_counter()
    for step in reverse_steps(model.fast_unet, scheduler, x, traj["steps"], generator=generator,
                              start_index=start_index, eta=1.0):
        x = step["x_prev"]
        give_way()
        done = step["i"] - start_index + 1
        if done % every == 0 and done < remaining:
            yield {"origin": origin, "futures": futures_picture(to_unit(step["x0"])),
                   "status": TAB.text("branch_running", done=done, total=remaining)}
    pixels = batch_pixels(to_unit(x))
    if last_step:
        pixels = np.repeat(pixels, futures, axis=0)
    status = TAB.text("branch_done", k=futures, image=image, i=start_index + 1, steps=traj["steps"], t=traj["t"][f],
                      s=f"{time.perf_counter() - start:.1f}")
    if futures > 1:
        spread = np.ptp(pixels, axis=0)  # per pixel: the brightest future minus the darkest, in grey levels
        same = not spread.any()
        status += " " + (TAB.text("branch_same") if same else TAB.text("branch_differ", spread=f"{spread.mean():.1f}"))
    yield {"origin": origin, "futures": futures_picture(pixels), "status": status}


def compare_name(sampler: str, steps: int) -> str:
    """The name of one run of the comparison among the outputs of ``ddpm_compare`` (``ddim10``, ``ddpm1000``...)."""
    return f"{sampler}{steps}"


def compare_label(sampler: str, steps: int) -> str:
    """The name of the string that labels one run's picture in the comparison (``run_ddim10``, ...)."""
    return "run_" + compare_name(sampler, steps).replace("++", "pp").replace("-", "_")


def ddpm_compare(model_id: str, n: int, seed: int, progress=gr.Progress()):
    """api ``/ddpm_compare``: the same x_T with DPM-Solver++ 10 / 20, DDIM 10 / 20 / 50 and DDPM 1000 steps; streams
    each result as it is done, with a table of wall times (outputs: the six runs, as ``COMPARE_RUNS`` | table)."""
    n = int(check_range(n, *LIMITS["n"][:2], TAB.phrase("n")))
    seed = check_seed(seed)
    model = load_model(model_id)
    check_work(model, n, sum(steps for _k, steps in COMPARE_RUNS))
    images = {}
    rows = []
    for k, (sampler, steps) in enumerate(COMPARE_RUNS):
        generator = torch.Generator().manual_seed(seed)
        x = initial_noise((n, *model.image_shape), generator=generator)  # the same x_T for every run
        start, waited = time.perf_counter(), 0.0
        for step in reverse_steps(model.fast_unet, model.scheduler(sampler), x, steps, generator=generator):
            x = step["x_prev"]
            if step["i"] % 100 == 0:
                progress((k + step["i"] / steps) / len(COMPARE_RUNS), desc=f"{sampler_name(sampler)} {steps}")
            paused = time.perf_counter()
            give_way()  # other students' heavy jobs may compute between two steps: not counted in the timing
            waited += time.perf_counter() - paused
        seconds = time.perf_counter() - start - waited
        images[compare_name(sampler, steps)] = batch_picture(to_unit(x))
        rows.append(f"| {sampler_name(sampler)} | {steps} | {seconds:.2f} s | {1000 * seconds / steps:.0f} ms |")
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
    invalid (the steps: the link's sampler's ``DEFAULT_STEPS``)."""
    sampler = query_value(request, "sampler", str, choices=SAMPLERS, default=DEFAULT_SAMPLER)
    low, high, _default = LIMITS["steps"]
    return {
        "t": _limit(request, "t"),
        "fseed": query_value(request, "fseed", int, 0, MAX_SEED, default=0),
        "sampler": sampler,
        "steps": query_value(request, "steps", int, low, high, default=DEFAULT_STEPS[sampler]),
        "n": _limit(request, "n"),
        "seed": query_value(request, "seed", int, 0, MAX_SEED, default=0),
        "every": _limit(request, "every"),
    }


def steps_for_sampler(sampler: str):
    """A sampler's usual number of steps here (``DEFAULT_STEPS``), set when the student switches."""
    return gr.update(value=DEFAULT_STEPS.get(sampler, LIMITS["steps"][2]))


def lock_scrub():
    """The t slider is locked while a new trajectory is being made."""
    return gr.update(interactive=False)


def unlock_scrub(traj):
    """After a run that failed (e.g. a refused setting): the t slider works again on the trajectory kept before."""
    return gr.update(interactive=has_run(traj))


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): take a share link's settings, show the forward
    process of a real test digit (needs no weights), check the U-Net and show a finished run (``open_example``) with
    the branch controls pointing into it; if the weights are missing, say why and disable only the buttons that need
    them. Returns updates by name: the banner, the four buttons, the canvas, the settings (``SETTINGS``), the outputs
    of ``ddpm_forward``, ``finished`` and ``branch_controls``."""
    settings = settings_from_query(request)
    shown_settings = {name: gr.update(value=value) for name, value in settings.items()}
    with PIL.Image.open(FIRST_EXAMPLE) as img:
        forward = ddpm_forward(img.copy(), settings["t"], settings["fseed"])
    opened = {"canvas": FIRST_EXAMPLE, "limits": hub_limits_text(), **shown_settings, **forward}
    try:
        load_model("")
    except gr.Error as err:
        off = gr.update(interactive=False)
        return {"status": show_weights_problem(err), "run": off, "watch_all": off, "compare": off, "branch": off,
                **opened}
    example = open_example(settings["sampler"], settings["steps"], settings["n"], settings["seed"])
    branch = branch_controls(example.get("trajectory"), LIMITS["branch_t"][2], LIMITS["image"][2])
    on = gr.update(interactive=True)
    return {"status": gr.update(visible=False), "run": on, "watch_all": on, "compare": on, "branch": on, **opened,
            **example, **branch}


def hub_limits_text() -> str:
    """What the "other models" box accepts, with this server's limits (shown under its note)."""
    return TAB.text("other_limits", params=f"{loading.HUB_MAX_PARAMS / 1e6:g}", size=MAX_SAMPLE_SIZE, T=MAX_TIMESTEPS,
                    s=f"{loading.HUB_DEADLINE_S:g}")


# Pictures of 32-px digits, enlarged: shown with crisp pixels (app.py's CSS) at 256 px or more.
IMAGE_OPTS = dict(type="pil", interactive=False, buttons=["download"], elem_classes=["pixelated"])


def forward_section() -> dict:
    """Part 1, the forward process: the digit (canvas and examples), t and the seed of ε, then x_0, ε and x_t, the
    strip over t and the three plots of the schedule. Returns the components by name."""
    _ = TAB.ui
    c = {}
    gr.Markdown(_("forward_title"))
    with gr.Row():
        with gr.Column(scale=1, min_width=240):
            c["canvas"] = digit_canvas(_("input"), height=260, elem_id="ddpm-canvas")
        with gr.Column(scale=1, min_width=260):
            c["t"] = controls.Slider(*LIMITS["t"][:2], value=LIMITS["t"][2], step=1, label=_("t"), info=_("t_info"))
            c["fseed"], c["fdice"] = seed_input(0)
            c["values"] = gr.Markdown(latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    mnist_examples = sorted(str(p) for p in (EXAMPLES / "mnist").glob("*.png"))
    c["examples"] = gr.Examples([[p] for p in mnist_examples], inputs=[c["canvas"]], label=_("examples"),
                                examples_per_page=8)
    with gr.Row():  # x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε: the two ingredients, then x_t (the result) twice as large
        c["x0"] = gr.Image(label=_("x0"), min_width=150, scale=1, **IMAGE_OPTS)
        c["eps"] = gr.Image(label=_("eps"), min_width=150, scale=1, **IMAGE_OPTS)
        c["xt"] = gr.Image(label=_("xt"), min_width=260, scale=2, **IMAGE_OPTS)
    c["strip"] = gr.Image(label=_("strip"), **IMAGE_OPTS)
    # No fixed height: with one, Gradio 6.31 cuts off the legend below the plot.
    plot_opts = {"x": "t", "y": "value", "color": "curve", "min_width": 240, "x_title": "t", "y_title": " ",
                 "color_title": " ", "color_map": CURVE_COLORS, "x_axis_format": "d"}
    c["plot_abar"] = gr.LinePlot(label=_("plot_abar"), **plot_opts)  # wide: its legend has four entries
    with gr.Row():
        c["plot_beta"] = gr.LinePlot(label=_("plot_beta"), **plot_opts)
        c["plot_snr"] = gr.LinePlot(label=_("plot_snr"), **plot_opts)
    return c


def reverse_section(page: Page) -> dict:
    """Part 2, the reverse process: the settings and Generate on the left; the status, x_t, x̂_0 and ε_θ, the t slider
    and "save as slide" on the right (side by side on a projector, one under the other on a phone)."""
    _ = TAB.ui
    c = {}
    gr.Markdown(_("reverse_title"))
    with gr.Row():
        with gr.Column(scale=2, min_width=300):
            c["sampler"] = controls.Radio([(_("sampler_ddpm"), "ddpm"), (_("sampler_ddim"), "ddim"),
                                           (_("sampler_dpmsolver"), "dpmsolver++"),
                                           (_("sampler_sde_dpmsolver"), "sde-dpmsolver++")],
                                          value=DEFAULT_SAMPLER, label=_("sampler"))
            c["steps"] = controls.Slider(*LIMITS["steps"][:2], value=LIMITS["steps"][2], step=1, label=_("steps"),
                                         info=_("steps_info"))
            c["n"] = controls.Slider(*LIMITS["n"][:2], value=LIMITS["n"][2], step=1, label=_("n"))
            c["every"] = controls.Slider(*LIMITS["every"][:2], value=LIMITS["every"][2], step=1, label=_("every"))
            c["seed"], c["dice"] = seed_input(0)
            c["run"] = gr.Button(_("run"), variant="primary")
            c["watch_all"] = gr.Button(_("watch_all"))
        with gr.Column(scale=5, min_width=300):
            c["run_status"] = gr.Markdown(min_height=48)  # two lines: the images below do not jump
            with gr.Row():
                c["r_xt"] = gr.Image(label=_("r_xt"), height=300, min_width=200, **IMAGE_OPTS)
                c["r_x0"] = gr.Image(label=_("r_x0"), height=300, min_width=200, **IMAGE_OPTS)
                c["r_eps"] = gr.Image(label=_("r_eps"), height=300, min_width=200, **IMAGE_OPTS)
            with gr.Row(equal_height=True):
                c["scrub"] = controls.Slider(*LIMITS["t"][:2], value=0, step=1, label=_("scrub"),
                                             info=_("scrub_info"), interactive=False, scale=2)
                page.slide_button([c["r_xt"], c["r_x0"], c["r_eps"]],
                                  [c["sampler"], c["steps"], c["n"], c["seed"], c["scrub"]])
    c["trajectory"] = gr.State(None)
    return c


def branch_section() -> dict:
    """The branches: t, the image, the number of futures and their seed; the button with where it starts; the
    start x_t and the futures."""
    _ = TAB.ui
    c = {}
    with gr.Accordion(_("branch_title"), open=False):
        gr.Markdown(_("branch_note"))
        with gr.Row():
            c["branch_t"] = controls.Slider(*LIMITS["branch_t"][:2], value=LIMITS["branch_t"][2], step=1,
                                            label=_("branch_t"))
            c["image"] = controls.Slider(*LIMITS["image"][:2], value=LIMITS["image"][2], step=1, label=_("image"))
            c["futures"] = controls.Slider(*LIMITS["futures"][:2], value=LIMITS["futures"][2], step=1,
                                           label=_("futures"))
            with gr.Column(min_width=160):
                c["b_seed"], c["b_dice"] = seed_input(1)
        with gr.Row(equal_height=True):
            c["branch"] = gr.Button(_("branch_run"), variant="primary", scale=1, min_width=200)
            with gr.Column(scale=3):
                c["where"] = gr.Markdown()
        c["b_status"] = gr.Markdown()
        with gr.Row():
            c["origin"] = gr.Image(label=_("branch_origin"), height=300, min_width=200, scale=1, **IMAGE_OPTS)
            c["futures_out"] = gr.Image(label=_("branch_out"), height=300, min_width=300, scale=2, **IMAGE_OPTS)
    return c


def compare_section() -> dict:
    """The samplers compared: one button, the runs of ``COMPARE_RUNS`` and their wall times."""
    _ = TAB.ui
    c = {}
    with gr.Accordion(_("compare_title"), open=False):
        gr.Markdown(_("compare_note"))
        c["compare"] = gr.Button(_("compare_run"))
        with gr.Row():
            for s, k in COMPARE_RUNS:
                c[compare_name(s, k)] = gr.Image(label=_(compare_label(s, k)), height=300, min_width=160,
                                                 **IMAGE_OPTS)
        c["table"] = gr.Markdown()
    return c


def other_models_section() -> dict:
    """The box for other models of the Hub: their id, "Load" and what was loaded."""
    _ = TAB.ui
    c = {}
    with gr.Accordion(_("other_title"), open=False):
        gr.Markdown(_("other_note"))
        c["limits"] = gr.Markdown()
        with gr.Row(equal_height=True):
            c["model_id"] = gr.Textbox(label=_("model_id"), placeholder="google/ddpm-cifar10-32", scale=4)
            c["load"] = gr.Button(_("model_load"), scale=1)
        c["info"] = gr.Markdown()
    return c


@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown)."""
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=8, min_width=480):
                f = forward_section()
            with gr.Column(scale=4, min_width=300):
                TAB.explanation()
        r = reverse_section(page)
        b = branch_section()
        c = compare_section()
        o = other_models_section()
        share_button, share_link = share_row()

        private = dict(queue=False, api_visibility="private")
        quiet = dict(show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        # The api's outputs, in these orders (gradio_client sees tuples): what the handlers return, by name.
        fwd_in = [f["canvas"], f["t"], f["fseed"]]
        fwd_out = {name: f[name] for name in ("x0", "xt", "eps", "strip", "plot_abar", "plot_beta", "plot_snr",
                                              "values")}
        page.on(f["t"].release, ddpm_forward, fwd_in, fwd_out, api_name="ddpm_forward", show_progress="hidden",
                trigger_mode="always_last")
        for drawn in wire_canvas(page, demo, f["canvas"]):
            page.on(drawn, ddpm_forward_live, fwd_in, fwd_out, **quiet)
        page.on(f["canvas"].upload, ddpm_forward, fwd_in, fwd_out, **quiet)  # an upload that fails says why
        page.on(f["examples"].load_input_event.then, ddpm_forward_live, fwd_in, fwd_out, **quiet)
        page.on(f["fseed"].submit, ddpm_forward_live, fwd_in, fwd_out, **quiet)
        rolled = page.on(f["fdice"].click, new_seed, None, f["fseed"], **private)
        page.on(rolled.then, ddpm_forward_live, fwd_in, fwd_out, **quiet)

        page.on(r["sampler"].input, steps_for_sampler, r["sampler"], r["steps"], **private)  # not a share link's
        shown = {name: r[name] for name in ("r_xt", "r_x0", "r_eps", "run_status")}
        sample_out = {**shown, "trajectory": r["trajectory"], "scrub": r["scrub"]}
        branch_in = [r["trajectory"], b["branch_t"], b["image"]]
        preview_out = {"origin": b["origin"], "where": b["where"]}
        branch_fit = {"branch_t": b["branch_t"], "image": b["image"], **preview_out}
        locked = page.on(r["run"].click, lock_scrub, None, r["scrub"], **private)
        sampled = page.on(locked.then, ddpm_sample, [o["model_id"], r["sampler"], r["steps"], r["n"], r["seed"],
                                                     r["every"]], sample_out, api_name="ddpm_sample", **heavy_queue())
        page.on(sampled.success, branch_controls, branch_in, branch_fit, **private)
        page.on(sampled.failure, unlock_scrub, r["trajectory"], r["scrub"], **private)
        # "Watch all 1000 steps": the same run with DDPM × 1000 (private: /ddpm_sample does it for an api client).
        locked_all = page.on(r["watch_all"].click, lock_scrub, None, r["scrub"], **private)
        watched = page.on(locked_all.then, ddpm_watch_all, [o["model_id"], r["n"], r["seed"], r["every"]],
                          {**sample_out, "sampler": r["sampler"], "steps": r["steps"]}, api_visibility="private",
                          **heavy_queue())
        page.on(watched.success, branch_controls, branch_in, branch_fit, **private)
        page.on(watched.failure, unlock_scrub, r["trajectory"], r["scrub"], **private)
        page.on(r["dice"].click, new_seed, None, r["seed"], **private)
        # Sliders: "input" while dragged; "release" when let go, typed in their box or reset.
        page.on(r["scrub"].input, ddpm_scrub, [r["trajectory"], r["scrub"]], shown, **quiet)
        page.on(r["scrub"].release, scrub_released, [r["trajectory"], r["scrub"]], {**shown, "scrub": r["scrub"]},
                **quiet)
        page.on(b["branch_t"].input, branch_preview, branch_in, preview_out, **quiet)
        page.on(b["branch_t"].release, branch_t_released, branch_in, {**preview_out, "branch_t": b["branch_t"]},
                **quiet)
        for event in (b["image"].input, b["image"].release):
            page.on(event, branch_preview, branch_in, preview_out, **quiet)
        # Private: it works on the trajectory kept in the browser session, which an API client does not have.
        page.on(b["branch"].click, ddpm_branch, [*branch_in, b["futures"], b["b_seed"]],
                {"origin": b["origin"], "futures": b["futures_out"], "status": b["b_status"]},
                api_visibility="private", **heavy_queue())
        page.on(b["b_dice"].click, new_seed, None, b["b_seed"], **private)
        page.on(c["compare"].click, ddpm_compare, [o["model_id"], r["n"], r["seed"]],
                {**{compare_name(*run): c[compare_name(*run)] for run in COMPARE_RUNS}, "table": c["table"]},
                api_name="ddpm_compare", **heavy_queue())
        page.on(o["load"].click, model_info, o["model_id"], o["info"], api_visibility="private", **HUB_LOAD_QUEUE)
        page.on(o["model_id"].submit, model_info, o["model_id"], o["info"], api_visibility="private", **HUB_LOAD_QUEUE)

        settings = {"t": f["t"], "fseed": f["fseed"], **{name: r[name] for name in SETTINGS[2:]}}
        wire_share(page, share_button, share_link, ddpm_share_query, list(settings.values()))
        page.when_shown(demo, open_tab, {"status": status, "run": r["run"], "watch_all": r["watch_all"],
                                         "compare": c["compare"],
                                         "branch": b["branch"], "canvas": f["canvas"], "limits": o["limits"],
                                         **settings, **fwd_out, **sample_out, **branch_fit})
    return demo


if __name__ == "__main__":
    TAB.launch()
