"""GAN lab tab: train a small GAN live on points in the plane, and watch the game.

What it teaches (lecture notes §12: eq. 12.28, the non-saturating loss, eq. 12.29): a GAN is a two-player game.
The discriminator D learns where real points are (its output, the background colour); the generator G moves its
points along D's gradient (the arrows) towards where D says "real". With the original minimax loss
log(1 − D(G(z))) G gets almost no gradient while D wins (saturation); the non-saturating loss −log D(G(z)) fixes
that; G may still put all its points on a few modes (mode collapse); WGAN replaces D by a critic kept Lipschitz
(weight clipping, or WGAN-GP's gradient penalty) whose gradients never vanish.

Everything is small enough to train in the browser's sight on 2 CPU cores (``models/gan_lab.py``: MLPs of a few
thousand parameters, hundreds of steps per second). There are no weights to download: each run starts from its
seed. Inspired by GAN Lab (Kahng et al. 2018), with the saturating loss, LSGAN, WGAN and WGAN-GP, mode counts,
a divergence over time and a second run side by side.

How the page trains: "play" starts a timer; each tick runs one *chunk* on the server (``chunk_seconds()``: 2 s
while a few students play, shorter, down to 0.5 s, when many do; a picture every ~``FRAME_S`` seconds, training in
between, or one at the end of a shortened chunk), so that 30 students take turns on one core, each soon again, and
the other tabs stay responsive (the chunks compute at the heavy jobs' lower priority, ``demos/turns.py``). The
lab's other events (a new run, a step, a changed setting, a redraw) have a queue of their own, so they answer in a
fraction of a second instead of waiting behind the class's chunks. Each browser session keeps its own run
(``LabSession`` in a ``gr.State``). The pictures are drawn with PIL and sent inline (no file per frame).

Run this tab alone with ``python -m demos.gan_lab``.
"""

import base64
import io
import math
import os
import threading
import time
from dataclasses import dataclass, field

import gradio as gr
import numpy as np
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont
import torch

from demos import controls, turns
from demos.common import MAX_SEED, check_choice, check_range, check_seed, new_seed, seed_input
from demos.i18n import warn
from demos.image_input import composite_of, digit_canvas, ink_map, pen_ready_on, wire_canvas
from demos.kit import COMMON, Page, Tab, generated_file
from demos.share import query_value, share_query, share_row, wire_share
from demos.slide import REGULAR
from models.gan_lab import (
    DATASETS,
    LIMITS,
    LOSSES,
    NOISES,
    OPTIMIZERS,
    RECOMMENDED,
    LabRun,
    LabSettings,
    LabView,
    count_modes,
    half_width,
    modes_of,
)

# The value function of eq. 12.28, for the slides (the same in both languages).
MINIMAX_TEX = r"\min_G\ \max_D\ \ \mathbb{E}_{x}[\log D(x)] + \mathbb{E}_{z}[\log(1 - D(G(z)))]"

TAB = Tab(id="gan_lab", strings={
    "title": {"en": "GAN lab", "ja": "GAN ラボ"},
    "slide_caption": {
        "en": ("A GAN trained live on points in the plane: the background is D's output, green dots the real data, "
               "purple dots G's samples, arrows the way G's gradient moves them."),
        "ja": ("平面上の点で GAN をその場で学習：背景は D の出力、緑の点が本物のデータ、紫の点が G のサンプル、"
               "矢印は G の勾配が点を動かす向きです。"),
    },
    "slide_equation": {"en": MINIMAX_TEX, "ja": MINIMAX_TEX},
    "dataset": {"en": "Data", "ja": "データ"},
    "data_ring": {"en": "ring of 8", "ja": "8 個のリング"},
    "data_grid": {"en": "5×5 grid", "ja": "5×5 の格子"},
    "data_moons": {"en": "two moons", "ja": "2 つの月"},
    "data_spiral": {"en": "spiral", "ja": "らせん"},
    "data_drawn": {"en": "your drawing", "ja": "あなたの絵"},
    "loss": {"en": "Loss", "ja": "損失"},
    "loss_saturating": {"en": "minimax (saturating)", "ja": "ミニマックス（飽和する）"},
    "loss_nonsaturating": {"en": "non-saturating", "ja": "非飽和"},
    "loss_lsgan": {"en": "least squares (LSGAN)", "ja": "最小二乗（LSGAN）"},
    "loss_wgan": {"en": "WGAN (weight clipping)", "ja": "WGAN（重みクリッピング）"},
    "loss_wgan_gp": {"en": "WGAN-GP (gradient penalty)", "ja": "WGAN-GP（勾配ペナルティ）"},
    "compare": {"en": "Second run beside it, with the loss", "ja": "横に 2 つ目の学習（損失）"},
    "compare_none": {"en": "none", "ja": "なし"},
    "play": {"en": "▶ Play", "ja": "▶ 再生"},
    "pause": {"en": "❚❚ Pause", "ja": "❚❚ 停止"},
    "step1": {"en": "1 step", "ja": "1 ステップ"},
    "step10": {"en": "10 steps", "ja": "10 ステップ"},
    "train_d": {"en": "Train D only", "ja": "D だけ学習"},
    "train_g": {"en": "Train G only", "ja": "G だけ学習"},
    "reset": {"en": "Reset", "ja": "リセット"},
    "slow": {"en": "Slow motion", "ja": "スローモーション"},
    "view": {"en": "The game, live", "ja": "ゲームの様子（ライブ）"},
    "show": {"en": "Show", "ja": "表示"},
    "show_heat": {"en": "D's output", "ja": "D の出力"},
    "show_real": {"en": "real points", "ja": "本物の点"},
    "show_fake": {"en": "generated points", "ja": "生成された点"},
    "show_arrows": {"en": "G's gradient", "ja": "G の勾配"},
    "show_manifold": {"en": "G's manifold", "ja": "G の多様体"},
    "show_modes": {"en": "modes (3σ)", "ja": "モード（3σ）"},
    "legend_title": {"en": "What the picture shows", "ja": "図の見方"},
    "legend": {
        "en": ("**Background:** D's output — green where D says *real*, purple where it says *fake* (for WGAN: the "
               "critic's value, high = green). **Dots:** green real data, purple G's samples. **Arrows:** where G's "
               "gradient moves its samples. **Grey mesh:** G's manifold, a regular grid of z bent into the plane. "
               "**Circles:** the modes' 3σ, the \"high-quality\" zone."),
        "ja": ("**背景：** D の出力。D が *本物* と言う所は緑、*偽物* と言う所は紫（WGAN では critic の値、"
               "高いほど緑）。**点：** 緑が本物のデータ、紫が G のサンプル。**矢印：** G の勾配がサンプルを動かす向き。"
               "**灰色の網：** G の多様体（z の規則正しい格子が平面でどう曲げられるか）。**円：** 各モードの 3σ "
               "（「高品質」の範囲）。"),
    },
    "settings": {"en": "Hyperparameters", "ja": "ハイパーパラメータ"},
    "settings_note": {
        "en": ("Changes to the loss, optimizer, learning rates, D steps, c, λ and noise apply at once, even while it "
               "plays; the data, sizes, batch and seed start a new run."),
        "ja": ("損失・最適化手法・学習率・D のステップ数・c・λ・ノイズの変更は再生中でもすぐ反映されます。"
               "データ・サイズ・バッチ・シードを変えると新しい学習が始まります。"),
    },
    "optimizer": {"en": "Optimizer", "ja": "最適化手法"},
    "lr_d": {"en": "D's learning rate", "ja": "D の学習率"},
    "lr_g": {"en": "G's learning rate", "ja": "G の学習率"},
    "d_steps": {"en": "D steps per G step", "ja": "G 1 回あたりの D のステップ数"},
    "clip": {"en": "WGAN clipping c", "ja": "WGAN のクリッピング c"},
    "gp_lambda": {"en": "WGAN-GP penalty λ", "ja": "WGAN-GP のペナルティ λ"},
    "hidden": {"en": "Neurons per layer", "ja": "層あたりのニューロン数"},
    "layers": {"en": "Hidden layers", "ja": "隠れ層の数"},
    "latent_dim": {"en": "Latent dimension (z)", "ja": "潜在次元（z）"},
    "noise": {"en": "Noise z", "ja": "ノイズ z"},
    "noise_gaussian": {"en": "Gaussian", "ja": "ガウス"},
    "noise_uniform": {"en": "uniform", "ja": "一様"},
    "batch_size": {"en": "Batch size", "ja": "バッチサイズ"},
    "wgan_rmsprop": {
        "en": "WGAN with weight clipping trains with RMSProp, as in the paper (momentum made it unstable).",
        "ja": "重みクリッピングの WGAN は、論文と同じく RMSProp で学習します（モーメンタムでは不安定でした）。",
    },
    "draw_title": {"en": "Draw your own data", "ja": "自分でデータを描く"},
    "draw_note": {
        "en": ("Draw strokes: the real points are sampled along them. Choosing **your drawing** above (or drawing "
               "here) starts a new run on it."),
        "ja": "線を描くと、その線に沿って本物の点がサンプルされます。上で **あなたの絵** を選ぶ（またはここに描く）と、"
              "それで新しい学習が始まります。",
    },
    "canvas": {"en": "Your data (draw)", "ja": "あなたのデータ（描く）"},
    "api_too_much": {
        "en": "With these settings one call trains at most {most} steps (more hidden units, layers, batch or D steps "
              "cost more per step): ask for fewer steps.",
        "ja": "この設定では 1 回の呼び出しで学習できるのは {most} ステップまでです（隠れユニット・層・バッチ・D の"
              "ステップが多いほど 1 ステップが重くなります）。ステップ数を減らしてください。",
    },
    "empty_drawing": {
        "en": "Your drawing is empty: draw a few strokes in the box below (\"Draw your own data\"), then try again.",
        "ja": "絵が空です。下の「自分でデータを描く」に線を描いてから、もう一度試してください。",
    },
    "status": {
        "en": "**{name}** · step {step} · D loss {d} · G loss {g} · |∇G| {grad} · JS {js}{modes}",
        "ja": "**{name}**・ステップ {step}・D の損失 {d}・G の損失 {g}・|∇G| {grad}・JS {js}{modes}",
    },
    "status_modes": {
        "en": " · modes {captured}/{total} · high quality {hq} %",
        "ja": "・モード {captured}/{total}・高品質 {hq} %",
    },
    "chart_d_loss": {"en": "D's loss", "ja": "D の損失"},
    "chart_g_loss": {"en": "G's loss", "ja": "G の損失"},
    "chart_grad": {"en": "G's gradient (log scale)", "ja": "G の勾配（対数目盛）"},
    "chart_modes": {"en": "modes captured", "ja": "捉えたモードの数"},
    "chart_hq": {"en": "high-quality samples (%)", "ja": "高品質サンプル（%）"},
    "chart_js": {"en": "JS divergence (bits)", "ja": "JS ダイバージェンス（ビット）"},
    "chart_weights": {"en": "critic's weights (±c dashed)", "ja": "critic の重み（破線が ±c）"},
    "chart_no_modes": {"en": "(no modes for these data)", "ja": "（このデータにはモードなし）"},
    "chart_step": {"en": "step", "ja": "ステップ"},
    "api_picture": {"en": "After training", "ja": "学習後"},
    "api_summary": {"en": "Summary", "ja": "まとめ"},
    "steps": {"en": "Steps", "ja": "ステップ数"},
    "no_session": {
        "en": "This page's run was lost (the server restarted): press Reset.",
        "ja": "このページの学習が失われました（サーバーが再起動しました）。「リセット」を押してください。",
    },
})

_ = TAB.ui

# --- settings -------------------------------------------------------------------------------------------------------

COMPARE_NONE = "none"
OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSProp"}  # the same in both languages
# Learning rates are picked from a list, as in TensorFlow Playground (a slider cannot span 1e-5 … 1e-2 usefully).
LEARNING_RATES = (1e-5, 3e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2)
SHOW = ("heat", "real", "fake", "arrows", "manifold", "modes")
MIN_FRACTION = 0.1  # a mode is captured with ≥ 10 % of its fair share of high-quality samples (models/gan_lab.py)
API_MAX_STEPS = 2000  # /gan_lab_run: at most this many steps in one call ...
API_MAX_WORK_X = 6  # ... and at most the work of 6 × 2000 steps at the default settings (~10 s of CPU; see step_work)

# How the page trains while "play" is on (see the module docstring).
CHUNK_S = float(os.environ.get("GALLERY_GAN_LAB_CHUNK_S", 2.0))  # one event trains at most this long
MIN_CHUNK_S = 0.5  # ... and, however many students play, at least this long (a picture costs ~50 ms)
ROUND_S = 8.0  # with many players, chunks shorten so that all of them take a turn in about this long
PLAYER_WINDOW_S = 30.0  # a session is "playing" if it ran a chunk this recently
FRAME_S = 0.16  # a picture this often while playing: training fills what drawing the last picture left
MIN_TRAIN_S = 0.04  # but at least this much training between two pictures
DRAW_S = 0.05  # about what a picture takes (one run; the first frame of a chunk trains FRAME_S - DRAW_S)
TICK_S = 0.1  # the timer: the next chunk starts this long after the last one ended
SLOW_TICK_S = 0.35  # slow motion: one step per tick
clock = time.perf_counter  # (tests replace it)
# One chunk at a time: the lab's training never takes more than one core of a free Space's two, whatever the number
# of players (the other tabs stay responsive; two at a time made the lab livelier and the heavy tabs slower, README
# "A class at once"); only its short control events may run beside a chunk. A session's own events never overlap its
# chunk (``LabSession.lock``).
LAB_QUEUE = {"concurrency_id": "gan_lab", "concurrency_limit": int(os.environ.get("GALLERY_GAN_LAB_CONCURRENCY", 1))}
# The other events of the lab (new run, steps, changes, redraws: ~0.1 s each) take turns in a queue of their own.
CONTROLS_QUEUE = {"concurrency_id": "gan_lab_controls", "concurrency_limit": 1}
_last_chunk: dict[int, float] = {}  # id(session) -> when it last started a chunk (``chunk_seconds``)
_last_chunk_lock = threading.Lock()


def chunk_seconds(session) -> float:
    """How long ``session``'s next chunk trains: ``CHUNK_S`` (2 s) while at most four sessions play, then
    ``ROUND_S`` / players, not under ``MIN_CHUNK_S``: 30 students wait ~15 s between chunks instead of a minute
    (the same training per minute for each: one core shared by all)."""
    now = clock()
    with _last_chunk_lock:
        _last_chunk[id(session)] = now
        for key, started in list(_last_chunk.items()):
            if not 0 <= now - started <= PLAYER_WINDOW_S:
                del _last_chunk[key]
        players = len(_last_chunk)
    return max(MIN_CHUNK_S, min(CHUNK_S, ROUND_S / players))


def defaults() -> LabSettings:
    return LabSettings()


# The settings that follow the loss: choosing a loss sets them to what it is usually trained with.
FOLLOW_LOSS = ("optimizer", "lr_d", "lr_g", "d_steps")


def follow_loss(old: str, new: str) -> dict:
    """The optimizer settings that change when the loss goes from ``old`` to ``new``: WGAN with weight clipping
    trains with its own (RMSProp, 5 critic steps), so going to it or leaving it sets ``recommended(new)``; between the
    other losses nothing changes (a comparison at the same optimizer settings)."""
    return recommended(new) if "wgan" in (old, new) else {}


def recommended(loss: str) -> dict:
    """The optimizer, learning rates and D steps a loss starts with: the defaults, except for WGAN with weight
    clipping (RMSProp and 5 critic steps, as in Arjovsky et al. 2017, §3; ``models.gan_lab.RECOMMENDED``)."""
    d = defaults()
    return {name: RECOMMENDED.get(loss, {}).get(name, getattr(d, name)) for name in FOLLOW_LOSS}


def check_settings(dataset, loss, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, hidden, layers, latent_dim, noise,
                   batch_size, seed) -> LabSettings:
    """The controls' values as ``LabSettings``, or a Problem naming the control that is out of range."""
    check_choice(dataset, DATASETS)
    check_choice(loss, LOSSES)
    check_choice(optimizer, OPTIMIZERS)
    check_choice(noise, NOISES)
    numbers = {}
    for name, value in (("lr_d", lr_d), ("lr_g", lr_g), ("d_steps", d_steps), ("clip", clip),
                        ("gp_lambda", gp_lambda), ("hidden", hidden), ("layers", layers),
                        ("latent_dim", latent_dim), ("batch_size", batch_size)):
        low, high, _default = LIMITS[name]
        numbers[name] = check_range(value, low, high, TAB.phrase(name))
    for name in ("d_steps", "hidden", "layers", "latent_dim", "batch_size"):
        numbers[name] = int(round(numbers[name]))
    return LabSettings(dataset=dataset, loss=loss, optimizer=optimizer, noise=noise, seed=check_seed(seed), **numbers)


# --- the student's drawing --------------------------------------------------------------------------------------

MAX_DRAWN_POINTS = 4000


def points_from_drawing(value) -> torch.Tensor:
    """The inked pixels of the sketchpad as points (N, 2) in the data's square [-w, w]² (w = half_width("drawn"));
    a Problem if nothing is drawn."""
    img = composite_of(value)
    if img is None:
        raise TAB.problem("empty_drawing")
    ink = ink_map(img.convert("RGBA") if img.mode not in ("RGBA", "LA") else img)
    rows, cols = np.nonzero(ink > 0.5)
    if len(rows) < 5:
        raise TAB.problem("empty_drawing")
    h, w = ink.shape
    side = max(h, w)
    half = half_width("drawn")
    x = ((cols + 0.5) - w / 2) / (side / 2) * half
    y = (h / 2 - (rows + 0.5)) / (side / 2) * half
    points = np.stack([x, y], axis=1).astype(np.float32)
    if len(points) > MAX_DRAWN_POINTS:  # evenly thinned, the same each time
        points = points[np.linspace(0, len(points) - 1, MAX_DRAWN_POINTS).astype(int)]
    return torch.from_numpy(points)


# --- one browser session's runs -------------------------------------------------------------------------------------

@dataclass
class LabSession:
    """What one browser session trains: its run, the second run beside it (another loss) if any, whether it plays.

    ``lock`` keeps the training chunk and a change of settings from touching the networks at the same time."""

    run: LabRun
    other: LabRun | None = None
    playing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def runs(self) -> list[LabRun]:
        return [self.run] if self.other is None else [self.run, self.other]


def new_session(settings: LabSettings, compare: str = COMPARE_NONE, points: torch.Tensor | None = None) -> LabSession:
    """A fresh session: one run with ``settings`` and, unless ``compare`` is "none", a second one with the same data
    and seed and the loss ``compare``."""
    if settings.dataset == "drawn" and (points is None or len(points) == 0):
        raise TAB.problem("empty_drawing")
    check_choice(compare, (COMPARE_NONE, *LOSSES))
    run = LabRun(settings, points=points)
    other = None
    if compare != COMPARE_NONE:
        # the same data, seed, sizes and optimizer settings, another loss (WGAN with clipping: its own optimizer)
        other_settings = LabSettings(**{**vars(settings), "loss": compare, **follow_loss(settings.loss, compare)})
        other = LabRun(other_settings, points=points)
    return LabSession(run=run, other=other)


def apply_live(session: LabSession, loss: str, optimizer: str, lr_d, lr_g, d_steps, clip, gp_lambda, noise) -> None:
    """Settings that change a run in place (even mid-play). The second run keeps its own loss."""
    check_choice(loss, LOSSES)
    check_choice(optimizer, OPTIMIZERS)
    check_choice(noise, NOISES)
    values = {}
    for name, value in (("lr_d", lr_d), ("lr_g", lr_g), ("d_steps", d_steps), ("clip", clip),
                        ("gp_lambda", gp_lambda)):
        low, high, _default = LIMITS[name]
        values[name] = check_range(value, low, high, TAB.phrase(name))
    values["d_steps"] = int(round(values["d_steps"]))
    with session.lock:
        session.run.update(loss=loss, optimizer=optimizer, noise=noise, **values)
        if session.other is not None:  # the second run keeps its loss (WGAN with clipping: its own optimizer)
            common = {"noise": noise, "clip": values["clip"], "gp_lambda": values["gp_lambda"]}
            if "wgan" not in (loss, session.other.settings.loss):
                common.update(optimizer=optimizer, lr_d=values["lr_d"], lr_g=values["lr_g"], d_steps=values["d_steps"])
            session.other.update(**common)


@dataclass
class ModesNow:
    """``count_modes`` now, with which modes are captured (their circles are drawn green)."""

    captured: int
    total: int
    high_quality_share: float
    captured_modes: list[bool]


@torch.inference_mode()
def mode_count(run: LabRun) -> ModesNow | None:
    """The modes ``run``'s generator captures now, on its fixed evaluation batch (None for data without modes)."""
    if run.mixture is None:
        return None
    count = count_modes(run.G(run.eval_z), run.mixture, min_fraction=MIN_FRACTION)
    needed = max(1.0, MIN_FRACTION * len(run.eval_z) / count.total)
    return ModesNow(count.captured, count.total, count.high_quality_share, [n >= needed for n in count.per_mode])


# --- drawing a frame ------------------------------------------------------------------------------------------------

PLANE = 400  # px, one run's plane
CHART_W, CHART_H = 204, 133
GREEN, PURPLE = np.array([22, 163, 74]), np.array([147, 51, 234])
REAL_DOT, FAKE_DOT = (21, 128, 61), (126, 34, 206)
RUN_COLOURS = ((37, 99, 235), (234, 88, 12))  # run A blue, run B orange in the charts
INK, GRID_INK, MESH = (31, 41, 55), (209, 213, 219), (148, 163, 184)


# The fonts of each thread: a FreeType face must not be used by two threads at once (demos/slide.py), and the lab's
# pictures are drawn by several (the play loop, /gan_lab_run, the slide button).
_FONTS = threading.local()


def _font(size: int) -> PIL.ImageFont.FreeTypeFont:
    fonts = _FONTS.__dict__.setdefault("by_size", {})
    if size not in fonts:
        try:
            fonts[size] = PIL.ImageFont.truetype(str(REGULAR), size)
        except OSError:  # the font file is missing: PIL's own (Latin only)
            fonts[size] = PIL.ImageFont.load_default(size=size)
    return fonts[size]


def heat_picture(view: LabView, size: int) -> PIL.Image.Image:
    """D's output on the plane: purple (fake) – white – green (real)."""
    d = view.d_grid.astype(np.float32)
    if view.d_grid_kind == "critic":  # a critic's value has no scale of its own: centre and stretch it
        d = d - np.median(d)
        scale = np.percentile(np.abs(d), 98) or 1.0
        d = 0.5 + 0.5 * np.clip(d / scale, -1, 1)
    else:  # a probability, or LSGAN's output (targets 0 fake, 1 real)
        d = np.clip(d, 0.0, 1.0)
    strength = (np.abs(d - 0.5) * 2)[..., None] * 0.55
    colour = np.where((d >= 0.5)[..., None], GREEN, PURPLE)
    rgb = 255 * (1 - strength) + colour * strength
    img = PIL.Image.fromarray(rgb.astype(np.uint8), "RGB")
    return img.resize((size, size), PIL.Image.BILINEAR)


def plane_picture(view: LabView, show: set, title: str, size: int = PLANE, sigma: float = 0.0,
                  captured: list | None = None):
    """One run's plane: D's output, G's manifold, the modes (their 3σ circle, green when captured), real and
    generated points, G's gradient."""
    img = heat_picture(view, size) if "heat" in show else PIL.Image.new("RGB", (size, size), "white")
    draw = PIL.ImageDraw.Draw(img)
    w = view.half_width

    def px(points: np.ndarray) -> np.ndarray:
        return np.stack([(points[..., 0] + w) / (2 * w) * size, (w - points[..., 1]) / (2 * w) * size], axis=-1)

    for v in (-w / 2, 0, w / 2):  # light axes
        x = (v + w) / (2 * w) * size
        draw.line([(x, 0), (x, size)], fill=GRID_INK if v else (170, 170, 170), width=1)
        draw.line([(0, x), (size, x)], fill=GRID_INK if v else (170, 170, 170), width=1)
    if "manifold" in show:
        mesh = px(view.manifold)
        for i in range(mesh.shape[0]):
            draw.line([tuple(p) for p in mesh[i]], fill=MESH, width=1)
        for j in range(mesh.shape[1]):
            draw.line([tuple(p) for p in mesh[:, j]], fill=MESH, width=1)
    if "modes" in show and view.centers is not None:
        radius = max(5.0, 3 * sigma / (2 * w) * size)
        for k, (cx, cy) in enumerate(px(view.centers)):
            hit = captured is not None and k < len(captured) and captured[k]
            draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius],
                         outline=(21, 128, 61) if hit else (120, 120, 120), width=2 if hit else 1)
    if "real" in show:
        for x, y in px(view.real):
            draw.ellipse([x - 1.6, y - 1.6, x + 1.6, y + 1.6], fill=REAL_DOT)
    if "fake" in show:
        for x, y in px(view.fake):
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=FAKE_DOT)
    if "arrows" in show and len(view.fake):
        arrows = view.fake_arrows * np.array([1.0, -1.0])  # y grows downwards on the picture
        lengths = np.linalg.norm(arrows, axis=1)
        top = np.percentile(lengths, 95)
        if top > 0:
            scaled = arrows / top * 28  # the 95th percentile gets 28 px; the scale of |∇| is in the charts
            start = px(view.fake)
            for (x, y), (dx, dy), length in zip(start[::4], scaled[::4], lengths[::4]):
                if length <= 0:
                    continue
                ex, ey = x + dx, y + dy
                draw.line([(x, y), (ex, ey)], fill=(55, 48, 163), width=1)
                norm = math.hypot(dx, dy) or 1.0
                ux, uy = dx / norm, dy / norm
                head = min(5.0, norm / 2)
                draw.polygon([(ex, ey), (ex - head * (ux - uy / 2), ey - head * (uy + ux / 2)),
                              (ex - head * (ux + uy / 2), ey - head * (uy - ux / 2))], fill=(55, 48, 163))
    draw.rectangle([0, 0, size - 1, size - 1], outline=(156, 163, 175))
    font = _font(16)
    box = draw.textbbox((6, 4), title, font=font)
    draw.rectangle([box[0] - 3, box[1] - 2, box[2] + 3, box[3] + 2], fill=(255, 255, 255))
    draw.text((6, 4), title, fill=INK, font=font)
    return img


def smooth(ys: np.ndarray, window: int) -> np.ndarray:
    """The running mean of the last ``window`` values (the chart's bold line over the faint raw one)."""
    if window <= 1 or len(ys) < 3:
        return ys
    sums = np.cumsum(np.insert(ys, 0, 0.0))
    counts = np.minimum(np.arange(1, len(ys) + 1), window)
    return (sums[1:] - sums[np.maximum(np.arange(1, len(ys) + 1) - window, 0)]) / counts


def chart_picture(title: str, series: list, width: int = CHART_W, height: int = CHART_H, log: bool = False,
                  y_range: tuple | None = None, message: str | None = None, legend: tuple = ()) -> PIL.Image.Image:
    """A small line chart: ``series`` = [(xs, ys, colour), ...] over the training steps; long, noisy series get a
    running mean drawn over the faint raw values. ``legend``: (text, colour) pairs written at the top right."""
    img = PIL.Image.new("RGB", (width, height), "white")
    draw = PIL.ImageDraw.Draw(img)
    font, small = _font(14), _font(12)
    draw.text((4, 1), title, fill=INK, font=font)
    x = width - 4
    for text, colour in reversed(legend):
        x -= draw.textlength(text, font=font)
        draw.text((x, 1), text, fill=colour, font=font)
        x -= 6
    left, top, right, bottom = 50, 22, width - 6, height - 17
    draw.rectangle([left, top, right, bottom], outline=GRID_INK)
    if message:  # in as many lines as the frame's width needs (one character at a time: Japanese has no spaces)
        lines = [""]
        for char in message:
            if lines[-1] and draw.textlength(lines[-1] + char, font=small) > right - left - 12:
                lines.append("")
            lines[-1] += char
        y = (top + bottom) / 2 - 8 * len(lines)
        for line in lines:
            draw.text((left + 6, y), line, fill=(107, 114, 128), font=small)
            y += 16
        return img
    cleaned = []
    for xs, ys, colour in series:
        xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        ok = np.isfinite(ys) & np.isfinite(xs)
        if log:
            ok &= ys > 0
        xs, ys = xs[ok], ys[ok]
        if log:
            ys = np.log10(ys)
        if len(xs):
            cleaned.append((xs, ys, colour))
    if not cleaned:
        return img
    x_low = min(float(xs.min()) for xs, _, _ in cleaned)
    x_high = max(float(xs.max()) for xs, _, _ in cleaned)
    if y_range is not None:
        y_low, y_high = y_range
    else:
        y_low = min(float(np.percentile(ys, 1)) for _, ys, _ in cleaned)
        y_high = max(float(np.percentile(ys, 99)) for _, ys, _ in cleaned)
    if y_high - y_low < 1e-9:
        y_low, y_high = y_low - 0.5, y_high + 0.5
    x_high = max(x_high, x_low + 1)
    for xs, ys, colour in cleaned:
        if len(xs) > 400:  # at most ~400 points per line
            keep = np.linspace(0, len(xs) - 1, 400).astype(int)
            xs, ys = xs[keep], ys[keep]
        u = left + (xs - x_low) / (x_high - x_low) * (right - left)

        def v_of(values):
            return bottom - (np.clip(values, y_low, y_high) - y_low) / (y_high - y_low) * (bottom - top)

        if len(xs) == 1:
            draw.ellipse([u[0] - 2, v_of(ys)[0] - 2, u[0] + 2, v_of(ys)[0] + 2], fill=colour)
            continue
        window = max(1, len(ys) // 25)
        if window > 1:  # the raw values faint, their running mean bold
            faint = tuple(int(255 - (255 - c) * 0.35) for c in colour)
            draw.line(list(zip(u.tolist(), v_of(ys).tolist())), fill=faint, width=1)
        draw.line(list(zip(u.tolist(), v_of(smooth(ys, window)).tolist())), fill=colour, width=2)

    def tick(value: float) -> str:
        if log:
            return f"1e{value:.0f}" if abs(value - round(value)) < 0.05 else f"{10 ** value:.2g}"
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2g}"

    draw.text((left - 3 - draw.textlength(tick(y_high), font=small), top - 2), tick(y_high), fill=(107, 114, 128),
              font=small)
    draw.text((left - 3 - draw.textlength(tick(y_low), font=small), bottom - 12), tick(y_low), fill=(107, 114, 128),
              font=small)
    draw.text((left, bottom + 2), f"{x_low:.0f}", fill=(107, 114, 128), font=small)
    label = f"{x_high:.0f} {TAB.text('chart_step')}"
    draw.text((right - draw.textlength(label, font=small), bottom + 2), label, fill=(107, 114, 128), font=small)
    return img


def histogram_picture(title: str, runs: list, width: int = CHART_W, height: int = CHART_H) -> PIL.Image.Image:
    """The critic's weights of the WGAN runs (clipping piles them up at ±c)."""
    img = PIL.Image.new("RGB", (width, height), "white")
    draw = PIL.ImageDraw.Draw(img)
    draw.text((4, 1), title, fill=INK, font=_font(14))
    left, top, right, bottom = 10, 22, width - 10, height - 17
    draw.rectangle([left, top, right, bottom], outline=GRID_INK)
    c = max(run.settings.clip for run, _view, _colour in runs)
    edges = np.linspace(-1.25 * c, 1.25 * c, 41)
    counts = [np.histogram(np.clip(view.d_weights, edges[0], edges[-1]), edges)[0] for _run, view, _c in runs]
    peak = max(1, max(int(h.max()) for h in counts))
    bar = (right - left) / (len(edges) - 1)
    for i, (h, (_run, _view, colour)) in enumerate(zip(counts, runs)):
        for j, n in enumerate(h):
            if n:
                x0 = left + j * bar + (bar / 2 if i else 0)
                y0 = bottom - n / peak * (bottom - top - 4)
                draw.rectangle([x0, y0, x0 + bar / (2 if len(runs) > 1 else 1) - 1, bottom], fill=colour)
    for sign in (-1, 1):
        x = left + (sign * c - edges[0]) / (edges[-1] - edges[0]) * (right - left)
        for y in range(top, bottom, 6):
            draw.line([(x, y), (x, y + 3)], fill=(220, 38, 38), width=1)
    small = _font(12)
    draw.text((left, bottom + 2), f"−{1.25 * c:g}", fill=(107, 114, 128), font=small)
    label = f"{1.25 * c:g}"
    draw.text((right - draw.textlength(label, font=small), bottom + 2), label, fill=(107, 114, 128), font=small)
    return img


def loss_name(loss: str) -> str:
    return TAB.text(f"loss_{loss}")


def run_title(run: LabRun, letter: str | None) -> str:
    name = loss_name(run.settings.loss)
    return f"{letter}: {name} · {run.steps}" if letter else f"{name} · {run.steps}"


def charts(runs: list, views: list, width: int = CHART_W) -> list[PIL.Image.Image]:
    """The charts over the training steps: losses, G's gradient, modes, high-quality share, JS, and, for WGAN with
    clipping, the critic's weights."""
    colours = RUN_COLOURS[:len(runs)]
    legend = (("A", colours[0]), ("B", colours[1])) if len(runs) > 1 else ()

    def series(key: str, x_key: str = "step", scale: float = 1.0):
        return [(run.history[x_key], np.asarray(run.history[key], dtype=np.float64) * scale, colour)
                for run, colour in zip(runs, colours) if key in run.history]

    w = dict(width=width, legend=legend)
    pictures = [chart_picture(TAB.text("chart_d_loss"), series("d_loss"), **w),  # (frame_picture counts them)
                chart_picture(TAB.text("chart_g_loss"), series("g_loss"), **w),
                chart_picture(TAB.text("chart_grad"), series("g_grad_norm"), log=True, **w)]
    mixture = modes_of(runs[0].settings.dataset)
    if mixture is not None:
        k = len(mixture.centers)
        pictures.append(chart_picture(TAB.text("chart_modes"), series("modes_captured", "metric_step"),
                                      y_range=(0, k), **w))
        pictures.append(chart_picture(TAB.text("chart_hq"), series("high_quality_share", "metric_step", 100.0),
                                      y_range=(0, 100), **w))
    else:
        pictures.append(chart_picture(TAB.text("chart_modes"), [], message=TAB.text("chart_no_modes"), **w))
    pictures.append(chart_picture(TAB.text("chart_js"), series("js", "metric_step"), y_range=(0, 1), **w))
    clipped = [(run, view, colour) for run, view, colour in zip(runs, views, colours) if run.settings.loss == "wgan"]
    if clipped:
        pictures.append(histogram_picture(TAB.text("chart_weights"), clipped, width=width))
    return pictures


def frame_pictures(session: LabSession, show: set, counts: list | None = None) -> tuple[PIL.Image.Image,
                                                                                      PIL.Image.Image]:
    """The view in two pictures: the plane of each run, and the charts (one run: 2 columns beside its plane; two
    runs: below both planes). ``counts``: each run's ``mode_count`` if already computed."""
    runs = session.runs()
    views = [run.view() for run in runs]
    letters = ("A", "B") if len(runs) > 1 else (None,)
    counts = counts or [mode_count(run) for run in runs]
    planes = []
    for run, view, letter, count in zip(runs, views, letters, counts):
        mixture = modes_of(run.settings.dataset)
        planes.append(plane_picture(view, show, run_title(run, letter), sigma=mixture.sigma if mixture else 0.0,
                                    captured=count.captured_modes if count is not None else None))
    if len(runs) == 1:
        plane, columns, chart_w = planes[0], 2, CHART_W
        small = charts(runs, views)
    else:
        plane = PIL.Image.new("RGB", (2 * PLANE + 8, PLANE), "white")
        plane.paste(planes[0], (0, 0))
        plane.paste(planes[1], (PLANE + 8, 0))
        count = 4 + (2 if modes_of(runs[0].settings.dataset) else 1) + any(r.settings.loss == "wgan" for r in runs)
        columns = math.ceil(count / 2)
        chart_w = plane.width // columns
        small = charts(runs, views, chart_w)
    board = PIL.Image.new("RGB", (columns * chart_w, math.ceil(len(small) / columns) * CHART_H), "white")
    for i, chart in enumerate(small):
        board.paste(chart, ((i % columns) * chart_w, (i // columns) * CHART_H))
    return plane, board


def frame_picture(session: LabSession, show: set) -> PIL.Image.Image:
    """The whole view as one picture (for /gan_lab_run): one run's plane with its charts beside it, or two runs'
    planes with the charts below."""
    plane, board = frame_pictures(session, show)
    if session.other is None:
        img = PIL.Image.new("RGB", (plane.width + 8 + board.width, max(plane.height, board.height)), "white")
        img.paste(plane, (0, 0))
        img.paste(board, (plane.width + 8, 0))
    else:
        img = PIL.Image.new("RGB", (plane.width, plane.height + 4 + board.height), "white")
        img.paste(plane, (0, 0))
        img.paste(board, (0, plane.height + 4))
    return img


def png_data(img: PIL.Image.Image) -> str:
    """A data: URL of ``img`` (no file written per frame). 128 colours are plenty for these pictures and a third of
    the bytes of full colour: 5 frames a second per student."""
    buffer = io.BytesIO()
    img.quantize(128, method=PIL.Image.Quantize.FASTOCTREE).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def as_html(plane: PIL.Image.Image, board: PIL.Image.Image, side_by_side: bool, alt: str = "") -> str:
    """The two pictures inline. One run: the plane and the charts side by side where there is room, one above the
    other on a phone; two runs: the planes, then the charts."""
    if side_by_side:
        cell = "flex:1 1 260px;min-width:0;max-width:{w}px"
        return ('<div style="display:flex;flex-wrap:wrap;gap:8px;justify-content:center">'
                f'<img class="gan-lab-frame" src="{png_data(plane)}" alt="{alt}" '
                f'style="{cell.format(w=plane.width)};height:auto">'
                f'<img class="gan-lab-charts" src="{png_data(board)}" alt="" '
                f'style="{cell.format(w=board.width)};height:auto;align-self:flex-start"></div>')
    return (f'<img class="gan-lab-frame" src="{png_data(plane)}" alt="{alt}" style="width:100%;max-width:'
            f'{plane.width}px;height:auto;display:block;margin:auto">'
            f'<img class="gan-lab-charts" src="{png_data(board)}" alt="" style="width:100%;max-width:'
            f'{board.width}px;height:auto;display:block;margin:4px auto 0">')


def status_text(session: LabSession, counts: list | None = None) -> str:
    """The status line of each run; ``counts``: each run's ``mode_count`` if already computed."""
    lines = []
    letters = ("A", "B") if session.other is not None else (None,)
    counts = counts or [mode_count(run) for run in session.runs()]
    for run, letter, count in zip(session.runs(), letters, counts):
        h = run.history

        def last(key: str) -> str:
            values = h.get(key) or []
            finite = [v for v in values[-1:] if v == v]
            return f"{finite[-1]:.3g}" if finite else "–"

        modes = ""
        if count is not None:
            modes = TAB.text("status_modes", captured=count.captured, total=count.total,
                             hq=f"{100 * count.high_quality_share:.0f}")
        name = loss_name(run.settings.loss) if letter is None else f"{letter}: {loss_name(run.settings.loss)}"
        lines.append(TAB.text("status", name=name, step=run.steps, d=last("d_loss"), g=last("g_loss"),
                              grad=last("g_grad_norm"), js=last("js"), modes=modes))
    return "  \n".join(lines)


def show_frame(session: LabSession, show) -> dict:
    """The view and the status line of ``session`` (its lock held while the networks are read)."""
    show = set(show or ())
    with session.lock:
        counts = [mode_count(run) for run in session.runs()]  # drawn on the plane and written in the status
        plane, board = frame_pictures(session, show, counts)
        status = status_text(session, counts)
    return {"frame": as_html(plane, board, session.other is None, alt=TAB.text("view")), "status": status}


# --- the events ---------------------------------------------------------------------------------------------------


def need(session: LabSession | None) -> LabSession:
    if session is None:
        raise TAB.problem("no_session")
    return session


def reset(dataset, loss, compare, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, hidden, layers, latent_dim, noise,
          batch_size, seed, drawing, show) -> dict:
    """A new run (and the second one, if chosen) from these settings, at step 0; play stops."""
    settings = check_settings(dataset, loss, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, hidden, layers,
                              latent_dim, noise, batch_size, seed)
    points = points_from_drawing(drawing) if settings.dataset == "drawn" else None
    session = new_session(settings, compare, points)
    return {"session": session, "timer": gr.Timer(active=False), **show_frame(session, show)}


def choose_dataset(session, dataset, loss, compare, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, hidden, layers,
                   latent_dim, noise, batch_size, seed, drawing, show) -> dict:
    """The data radio: a new run on the chosen data (``reset``). "Your drawing" with nothing drawn yet says so and
    puts the radio back on the data that the picture still shows."""
    if dataset == "drawn":
        try:
            points_from_drawing(drawing)
        except gr.Error:
            warn(TAB.text("empty_drawing"))
            return {"dataset": session.run.settings.dataset if isinstance(session, LabSession) else defaults().dataset}
    return reset(dataset, loss, compare, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, hidden, layers, latent_dim,
                 noise, batch_size, seed, drawing, show)


def train_steps(session, n: int, what: str, show) -> dict:
    """``n`` steps of ``what`` ("both": D then G; "d": D only; "g": G only), then the view."""
    session = need(session)
    with session.lock:
        for run in session.runs():
            run.train(n, what)
    return show_frame(session, show)


def step_once(session, show) -> dict:
    return train_steps(session, 1, "both", show)


def step_ten(session, show) -> dict:
    return train_steps(session, 10, "both", show)


def train_d_once(session, show) -> dict:
    """GAN Lab's "train D only": one update of D, G unchanged."""
    return train_steps(session, 1, "d", show)


def train_g_once(session, show) -> dict:
    """GAN Lab's "train G only": one update of G, D unchanged."""
    return train_steps(session, 1, "g", show)


def play(session) -> dict:
    need(session).playing = True
    return {"timer": gr.Timer(active=True)}


def pause(session) -> dict:
    if session is not None:
        session.playing = False
    return {"timer": gr.Timer(active=False)}


def train_and_draw(session, slow: bool, train_s: float, show) -> tuple[dict, float]:
    """One frame of play: ``train_s`` seconds of training (slow motion: one step), then the picture; returns it and
    the seconds drawing took."""
    with session.lock:
        if slow:
            for run in session.runs():
                run.train(1)
        else:  # the two runs take the same number of steps
            done = session.run.train_for(train_s / len(session.runs()), max_steps=10_000)
            if session.other is not None:
                session.other.train(max(done, 1))
    drawing = time.perf_counter()
    frame = show_frame(session, show)
    return frame, time.perf_counter() - drawing


def advance(session, slow: bool, show):
    """One timer tick while playing: for ``chunk_seconds()`` (at most ``CHUNK_S``), a picture every ~``FRAME_S`` s
    with training in between (the time drawing the last picture left of ``FRAME_S``, at least ``MIN_TRAIN_S``; slow
    motion: one step per picture; a shortened chunk, while many play: one picture, at its end); it stops at the
    next picture when "pause" is pressed."""
    if session is None or not session.playing:
        yield {"timer": gr.Timer(active=False)}
        return
    length = chunk_seconds(session)
    # While the class shares the lab (chunks shorter than CHUNK_S), one picture per chunk, at its end: a student's
    # view then moves once a turn either way, and the ~50 ms of each picture not drawn go to training.
    frame_s = FRAME_S if length >= CHUNK_S else length
    start, train_s = clock(), frame_s - DRAW_S
    while session.playing:
        # Training and drawing run at a lower priority than even the heavy jobs (demos/turns.py: LAB_NICE): a light
        # request of another tab gets a core at once, a heavy click soon, the lab takes whatever CPU is left.
        frame, drawn_in = turns.in_background(train_and_draw, session, slow, train_s, show, nice=turns.LAB_NICE)
        train_s = max(MIN_TRAIN_S, frame_s - drawn_in)
        if slow:
            yield {**frame, "timer": gr.Timer(value=SLOW_TICK_S, active=session.playing)}
            return
        yield frame
        if clock() - start >= length - (frame_s - DRAW_S):
            break
    yield {"timer": gr.Timer(value=TICK_S, active=session.playing)}


def change_live(session, loss, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, noise, show) -> dict:
    """A change of optimizer, rates, D steps, c, λ or noise, applied to the running session."""
    session = need(session)
    apply_live(session, loss, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, noise)
    return show_frame(session, show)


def change_loss(session, loss, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, noise, show) -> dict:
    """A new loss, mid-run: the networks stay; the optimizer settings stay too, except to or from WGAN with clipping
    (``follow_loss``)."""
    session = need(session)
    check_choice(loss, LOSSES)
    r = {"optimizer": optimizer, "lr_d": lr_d, "lr_g": lr_g, "d_steps": d_steps,
         **follow_loss(session.run.settings.loss, loss)}
    apply_live(session, loss, r["optimizer"], r["lr_d"], r["lr_g"], r["d_steps"], clip, gp_lambda, noise)
    note = TAB.text("wgan_rmsprop") if loss == "wgan" else ""
    return {**show_frame(session, show), **r, "optimizer_note": note}


def gan_lab_slide(session, settings: dict) -> dict:
    """The "save as slide" file: the whole view now (both runs, every layer, the charts) with the caption, the
    settings and eq. 12.28 as one 1920×1080 PNG in the UI's language (demos/slide.py). ``settings``: the controls'
    values by component, as an event with a set of inputs receives them."""
    from demos import slide

    session = need(session)
    with session.lock:
        picture = frame_picture(session, set(SHOW))
        steps = session.run.steps
    rows = [(slide.label_text(c.label), slide.setting_text(c, v)) for c, v in settings.items()
            if isinstance(c, (gr.Radio, gr.Dropdown, gr.Number, gr.Slider))]
    image = slide.render_slide(title=TAB.text("title"), caption=TAB.text("slide_caption"),
                               equation=TAB.text("slide_equation"),
                               images=[(f"{TAB.text('chart_step')} {steps}", picture)],
                               settings=rows)
    path = generated_file("gan_lab-slide.png", lambda target: image.save(target, format="PNG"))
    return {"slide_file": gr.update(value=path, visible=True)}


def redraw(session, show) -> dict:
    return show_frame(need(session), show)


def gan_lab_run(dataset: str = "ring", loss: str = "nonsaturating", steps: int = 1000, seed: int = 0,
                optimizer: str | None = None, lr_d: float | None = None, lr_g: float | None = None,
                d_steps: int | None = None, hidden: int = LIMITS["hidden"][2], layers: int = LIMITS["layers"][2],
                latent_dim: int = LIMITS["latent_dim"][2], batch_size: int = LIMITS["batch_size"][2],
                clip: float = LIMITS["clip"][2], gp_lambda: float = LIMITS["gp_lambda"][2],
                noise: str = "gaussian") -> dict:
    """Train a GAN on 2-D points for ``steps`` steps (1–2000) from ``seed``; return the picture of the result and a
    JSON summary: modes_captured, modes_total, high_quality_share, js, d_loss, g_loss, g_grad_norm, samples (2,500
    generated points as [x, y]) and centers (the modes' centres). The same inputs give the same numbers.

    dataset: ring | grid | moons | spiral; loss: saturating | nonsaturating | lsgan | wgan | wgan_gp; optimizer:
    adam | sgd | rmsprop. optimizer, lr_d, lr_g and d_steps left empty: the loss's own (Adam 1e-3 and 1 D step;
    WGAN with clipping: RMSProp 1e-4 and 5 critic steps)."""
    if dataset == "drawn":
        raise TAB.problem("empty_drawing")
    check_choice(loss, LOSSES)
    steps = int(check_range(steps, 1, API_MAX_STEPS, TAB.phrase("steps")))
    given = {"optimizer": optimizer, "lr_d": lr_d, "lr_g": lr_g, "d_steps": d_steps}
    r = {**recommended(loss), **{k: v for k, v in given.items() if v not in (None, "")}}
    settings = check_settings(dataset, loss, r["optimizer"], r["lr_d"], r["lr_g"], r["d_steps"], clip, gp_lambda,
                              hidden, layers, latent_dim, noise, batch_size, seed)
    most = max(1, int(API_MAX_WORK_X * API_MAX_STEPS * DEFAULT_STEP_WORK / step_work(settings)))
    if steps > most:
        raise TAB.problem("api_too_much", most=most)
    session = new_session(settings)
    session.run.train(steps)
    return {"picture": frame_picture(session, set(SHOW)), "summary": session.run.summary()}


def step_work(s: LabSettings) -> float:
    """About how much computing one training step of ``s`` takes (relative units, for ``gan_lab_run``'s limit): each
    pass of D or G through a batch costs about batch × layers × hidden² (its matrix products); a step is
    ``d_steps`` updates of D (twice the work with the gradient penalty, which differentiates D's gradient) and one
    of G."""
    per_pass = s.batch_size * s.layers * s.hidden ** 2
    return per_pass * (s.d_steps * (2 if s.loss == "wgan_gp" else 1) + 1)


DEFAULT_STEP_WORK = step_work(defaults())  # a step at the tab's default settings (``gan_lab_run``'s unit)


# --- share links and opening the tab --------------------------------------------------------------------------------

NUMERIC = ("lr_d", "lr_g", "d_steps", "clip", "gp_lambda", "hidden", "layers", "latent_dim", "batch_size")
SETTINGS = ("dataset", "loss", "compare", "optimizer", *NUMERIC, "noise", "seed", "slow")


def gan_lab_share_query(dataset, loss, compare, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, hidden, layers,
                        latent_dim, batch_size, noise, seed, slow) -> str:
    """The query string of a share link with every setting of the tab (never the drawing)."""
    return share_query(TAB, dataset=dataset, loss=loss, compare=compare, optimizer=optimizer, lr_d=float(lr_d),
                       lr_g=float(lr_g), d_steps=int(d_steps), clip=float(clip), gp_lambda=float(gp_lambda),
                       hidden=int(hidden), layers=int(layers), latent_dim=int(latent_dim),
                       batch_size=int(batch_size), noise=noise, seed=int(seed or 0), slow=int(bool(slow)))


def settings_from_query(request: gr.Request | None) -> dict:
    """{name: value} of ``SETTINGS`` from a share link; defaults for what is absent or not valid. "drawn" falls
    back to the ring (a link never carries a drawing)."""
    d = defaults()
    values = {
        "dataset": query_value(request, "dataset", str, choices=tuple(x for x in DATASETS if x != "drawn"),
                               default=d.dataset),
        "loss": query_value(request, "loss", str, choices=LOSSES, default=d.loss),
        "compare": query_value(request, "compare", str, choices=(COMPARE_NONE, *LOSSES), default=COMPARE_NONE),
        "optimizer": query_value(request, "optimizer", str, choices=OPTIMIZERS, default=d.optimizer),
        "noise": query_value(request, "noise", str, choices=NOISES, default=d.noise),
        "seed": query_value(request, "seed", int, 0, MAX_SEED, default=d.seed),
        "slow": bool(query_value(request, "slow", int, 0, 1, default=0)),
    }
    for name in NUMERIC:
        low, high, default = LIMITS[name]
        cast = float if name in ("lr_d", "lr_g", "clip", "gp_lambda") else int
        values[name] = query_value(request, name, cast, low, high, default=default)
    for name in ("lr_d", "lr_g"):  # the nearest rate of the list
        values[name] = min(LEARNING_RATES, key=lambda r: abs(math.log(r / values[name])))
    return values


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab: the share link's settings (or the defaults) and a new run at step 0."""
    s = settings_from_query(request)
    settings = check_settings(s["dataset"], s["loss"], s["optimizer"], s["lr_d"], s["lr_g"], s["d_steps"], s["clip"],
                              s["gp_lambda"], s["hidden"], s["layers"], s["latent_dim"], s["noise"],
                              s["batch_size"], s["seed"])
    session = new_session(settings, s["compare"])
    return {"session": session, **{name: gr.update(value=value) for name, value in s.items()},
            **show_frame(session, DEFAULT_SHOW)}


# --- the tab --------------------------------------------------------------------------------------------------------

DEFAULT_SHOW = ("heat", "real", "fake", "arrows", "manifold", "modes")
MIN_FRACTION = 0.1  # a mode is captured with ≥ 10 % of its fair share of high-quality samples (models/gan_lab.py)


@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown)."""
    d = defaults()
    rates = [(f"{r:g}", r) for r in LEARNING_RATES]
    with gr.Blocks() as demo:
        session = gr.State(None)
        timer = gr.Timer(TICK_S, active=False)
        with gr.Row():
            with gr.Column(scale=3, min_width=250):
                with gr.Row():
                    play_button = gr.Button(_("play"), variant="primary", min_width=90)
                    pause_button = gr.Button(_("pause"), min_width=90)
                with gr.Row():
                    step1 = gr.Button(_("step1"), size="sm", min_width=70)
                    step10 = gr.Button(_("step10"), size="sm", min_width=70)
                with gr.Row():
                    train_d = gr.Button(_("train_d"), size="sm", min_width=70)
                    train_g = gr.Button(_("train_g"), size="sm", min_width=70)
                with gr.Row(equal_height=True):
                    slow = gr.Checkbox(False, label=_("slow"), min_width=100)
                    reset_button = gr.Button(_("reset"), size="sm", variant="stop", min_width=80)
                dataset = controls.Radio([(_(f"data_{x}"), x) for x in DATASETS], value=d.dataset, label=_("dataset"))
                loss = controls.Radio([(_(f"loss_{x}"), x) for x in LOSSES], value=d.loss, label=_("loss"))
                compare = controls.Dropdown([(_("compare_none"), COMPARE_NONE), *[(_(f"loss_{x}"), x) for x in LOSSES]],
                                            value=COMPARE_NONE, label=_("compare"))
                seed, dice = seed_input(d.seed)
                share_button, share_link = share_row()
                with gr.Column(min_width=160, elem_classes=["slide-export"]):
                    slide_button = gr.Button(COMMON.ui("slide.button"), size="sm", variant="secondary")
                    slide_file = gr.File(label=COMMON.ui("slide.file"), visible=False, interactive=False)
            with gr.Column(scale=8, min_width=360):
                frame = gr.HTML(label=_("view"), elem_classes=["gan-lab-view"])
                status = gr.Markdown()
                show = gr.CheckboxGroup([(_(f"show_{x}"), x) for x in SHOW], value=list(DEFAULT_SHOW),
                                        label=_("show"))
                with gr.Accordion(_("legend_title"), open=False):
                    gr.Markdown(_("legend"))
            with gr.Column(scale=4, min_width=300):
                TAB.explanation()
        with gr.Accordion(_("settings"), open=True):
            gr.Markdown(_("settings_note"))
            with gr.Row():
                optimizer = controls.Radio([(OPTIMIZER_NAMES[x], x) for x in OPTIMIZERS], value=d.optimizer,
                                           label=_("optimizer"), min_width=200)
                lr_d = controls.Dropdown(rates, value=d.lr_d, label=_("lr_d"), min_width=120)
                lr_g = controls.Dropdown(rates, value=d.lr_g, label=_("lr_g"), min_width=120)
                d_steps = controls.Slider(*LIMITS["d_steps"][:2], value=d.d_steps, step=1, label=_("d_steps"),
                                          min_width=160)
                noise = controls.Radio([(_(f"noise_{x}"), x) for x in NOISES], value=d.noise, label=_("noise"),
                                       min_width=160)
            optimizer_note = gr.Markdown()
            with gr.Row():
                clip = controls.Slider(*LIMITS["clip"][:2], value=d.clip, step=0.001, label=_("clip"), min_width=160)
                gp_lambda = controls.Slider(*LIMITS["gp_lambda"][:2], value=d.gp_lambda, step=0.05,
                                            label=_("gp_lambda"), min_width=160)
                hidden = controls.Slider(*LIMITS["hidden"][:2], value=d.hidden, step=1, label=_("hidden"),
                                         min_width=160)
                layers = controls.Slider(*LIMITS["layers"][:2], value=d.layers, step=1, label=_("layers"),
                                         min_width=140)
                latent_dim = controls.Slider(*LIMITS["latent_dim"][:2], value=d.latent_dim, step=1,
                                             label=_("latent_dim"), min_width=140)
                batch_size = controls.Slider(*LIMITS["batch_size"][:2], value=d.batch_size, step=16,
                                             label=_("batch_size"), min_width=160)
        with gr.Accordion(_("draw_title"), open=False) as draw_section:
            gr.Markdown(_("draw_note"))
            canvas = digit_canvas(_("canvas"), height=320, elem_id="gan-lab-canvas")
        with gr.Accordion("API", open=False, visible=False):  # /gan_lab_run, for scripts and MCP
            api_inputs = dict(
                dataset=gr.Textbox("ring"), loss=gr.Textbox("nonsaturating"), steps=gr.Number(1000),
                seed=gr.Number(0), optimizer=gr.Textbox(None), lr_d=gr.Number(None), lr_g=gr.Number(None),
                d_steps=gr.Number(None), hidden=gr.Number(d.hidden), layers=gr.Number(d.layers),
                latent_dim=gr.Number(d.latent_dim), batch_size=gr.Number(d.batch_size), clip=gr.Number(d.clip),
                gp_lambda=gr.Number(d.gp_lambda), noise=gr.Textbox("gaussian"))
            api_run = gr.Button()
            api_picture = gr.Image(label=_("api_picture"), type="pil", format="png")
            api_summary = gr.JSON(label=_("api_summary"))

        # Events. The chunks of training take turns in one queue (``LAB_QUEUE``), the lab's other events in another
        # (``CONTROLS_QUEUE``): a new run or a step never waits behind the whole class's chunks.
        quiet = dict(show_progress="hidden", api_visibility="private", **CONTROLS_QUEUE)
        view_outputs = {"frame": frame, "status": status}
        settings = {"dataset": dataset, "loss": loss, "compare": compare, "optimizer": optimizer, "lr_d": lr_d,
                    "lr_g": lr_g, "d_steps": d_steps, "clip": clip, "gp_lambda": gp_lambda, "hidden": hidden,
                    "layers": layers, "latent_dim": latent_dim, "noise": noise, "batch_size": batch_size,
                    "seed": seed}
        reset_inputs = [dataset, loss, compare, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, hidden, layers,
                        latent_dim, noise, batch_size, seed, canvas, show]
        reset_outputs = {"session": session, "timer": timer, **view_outputs}

        page.on(play_button.click, play, session, {"timer": timer}, queue=False, api_visibility="private")
        page.on(pause_button.click, pause, session, {"timer": timer}, queue=False, api_visibility="private")
        page.on(timer.tick, advance, [session, slow, show], {"timer": timer, **view_outputs}, trigger_mode="once",
                show_progress="hidden", api_visibility="private", **LAB_QUEUE)
        for button, fn in ((step1, step_once), (step10, step_ten), (train_d, train_d_once), (train_g, train_g_once)):
            page.on(button.click, fn, [session, show], view_outputs, **quiet)
        for changed in (reset_button.click, compare.input, hidden.release, layers.release, latent_dim.release,
                        batch_size.release, seed.submit):
            page.on(changed, reset, reset_inputs, reset_outputs, **quiet)
        page.on(dataset.input, choose_dataset, [session, *reset_inputs], {**reset_outputs, "dataset": dataset}, **quiet)
        rolled = page.on(dice.click, new_seed, None, seed, queue=False, api_visibility="private")
        page.on(rolled.then, reset, reset_inputs, reset_outputs, **quiet)
        live_inputs = [session, loss, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, noise, show]
        for changed in (optimizer.input, lr_d.input, lr_g.input, d_steps.release, clip.release, gp_lambda.release,
                        noise.input):
            page.on(changed, change_live, live_inputs, view_outputs, **quiet)
        page.on(loss.input, change_loss, live_inputs,
                {**view_outputs, "optimizer": optimizer, "lr_d": lr_d, "lr_g": lr_g, "d_steps": d_steps,
                 "optimizer_note": optimizer_note}, **quiet)
        page.on(show.input, redraw, [session, show], view_outputs, **quiet)
        slide_settings = [dataset, loss, compare, optimizer, lr_d, lr_g, d_steps, hidden, layers, latent_dim, seed]

        def save_slide(values: dict) -> dict:  # a set of inputs: the values by component
            return gan_lab_slide(values[session], {c: values[c] for c in slide_settings})

        page.on(slide_button.click, save_slide, {session, *slide_settings}, {"slide_file": slide_file},
                api_visibility="private")
        pen_ready_on(page, draw_section.expand, canvas)  # the pad starts empty: ready to draw when it opens
        for drawn in (*wire_canvas(page, demo, canvas), canvas.upload):
            page.on(drawn, draw_and_reset, reset_inputs, {**reset_outputs, "dataset": dataset}, **quiet)

        page.on(api_run.click, gan_lab_run, list(api_inputs.values()), {"picture": api_picture,
                                                                        "summary": api_summary},
                api_name="gan_lab_run", concurrency_id="gan_lab_api", concurrency_limit=1)

        wire_share(page, share_button, share_link, gan_lab_share_query,
                   [dataset, loss, compare, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, hidden, layers,
                    latent_dim, batch_size, noise, seed, slow])
        page.when_shown(demo, open_tab, {"session": session, **settings, "slow": slow, **view_outputs})
    return demo


def draw_and_reset(dataset, loss, compare, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, hidden, layers,
                   latent_dim, noise, batch_size, seed, drawing, show) -> dict:
    """The student drew on the pad: a new run on the drawing (the data switch to "your drawing")."""
    if composite_of(drawing) is None:
        return {}
    try:
        points_from_drawing(drawing)
    except gr.Error:  # an empty pad (cleared): nothing to train on yet
        return {}
    return {"dataset": "drawn", **reset("drawn", loss, compare, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda,
                                        hidden, layers, latent_dim, noise, batch_size, seed, drawing, show)}


if __name__ == "__main__":
    TAB.launch()
