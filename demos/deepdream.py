"""DeepDream tab: make a pretrained CNN "see more" of what it already sees in a photo.

Mordvintsev, Olah & Tyka, "Inceptionism: Going Deeper into Neural Networks" (Google Research
blog, 2015). Instead of changing the network to fit an image, change the image to excite the
network: gradient *ascent* on the pixels to increase a layer's activations,

    x ← x + η · g / mean|g|,   g = ∇_x L(x),   L(x) = mean of a_l(x)²  (or ‖a_l(x)‖₂),

with three tricks from the original code: the gradient is normalised (so η is a step in pixel
units), the image is shifted by a random *jitter* before each step (so the pattern does not lock
onto the pixel grid), and the work is done over *octaves* — from a small copy of the photo up to
full size, carrying the detail dreamed so far to the next scale. Early layers amplify textures
and strokes; late layers amplify object parts (eyes, fur, wheels...). "Guided" dreaming (the same
blog's "controlling dreams") maximises instead the similarity of each position's features to the
best-matching features of a guide image.

A fourth trick comes from Mordvintsev's later notebook ("DeepDreaming with TensorFlow", 2016): the
gradient is normalised band by band of a Laplacian pyramid (``lap_normalize``), which turns the
high-frequency red/green noise of deep layers into large, smooth shapes. The objective can also be
the mean square of a few *chosen channels* of a layer, or the mean logit of chosen ImageNet
*classes*. The presets (``PRESETS``: animal faces, buildings, patterns) are such settings, found by
trying (``bench/deepdream_presets.py`` draws them: docs/figures/deepdream_presets.jpg).

Network: EfficientNet-Lite0 with ImageNet weights (``pretrained/efficientnet-lite0``, see
``models/efficientnet_lite.py``); the original used GoogLeNet. Its 1,000 class names are in English
(``imagenet_classes.json``) and Japanese (``imagenet_classes.ja.json``, same order).

The tab opens on scikit-image's astronaut (``examples/photos/astronaut.jpg``) dreamed with the default preset (or a
share link's settings), computed once per process.

Run this tab alone with ``python -m demos.deepdream``.
"""

import functools
import json
import math
import threading
from pathlib import Path

import gradio as gr
import PIL.Image
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
from demos.i18n import current_language
from demos.image_input import EXAMPLE_PHOTOS, photo_input, photo_to_tensor, wire_photo
from demos.kit import Page, Tab, demo_cache, generated_file, heavy_queue
from demos.remember import Remembered
from demos.share import query_value, share_query, share_row, wire_share
from demos.turns import give_way
from models.efficientnet_lite import (
    EfficientNetLite0,
    fold_batch_norms,
    padded_in_convolution,
    pointwise_as_matmul,
)
from models.imaging import to_pil
from models.loading import WeightsUnavailableError, load_extra_file

TAB = Tab(id="deepdream", old_ids=("dd",), strings={
    "title": {"en": "DeepDream", "ja": "DeepDream（ディープドリーム）"},
    "input": {"en": "Your photo", "ja": "写真"},
    "preset": {"en": "Preset", "ja": "プリセット"},
    "preset_info": {
        "en": "Each sets the layer, what to maximise and the sliders; change any of them for your own (Custom).",
        "ja": "層・最大化する量・スライダーをまとめて設定します。どれかを変えると「カスタム」になります。",
    },
    "preset_faces": {"en": "Animal faces", "ja": "動物の顔"},
    "preset_buildings": {"en": "Buildings", "ja": "建物"},
    "preset_patterns": {"en": "Patterns", "ja": "模様"},
    "preset_custom": {"en": "Custom", "ja": "カスタム"},
    "examples": {"en": "Example photos (scikit-image)", "ja": "写真の例（scikit-image）"},
    "layer": {"en": "Layer to amplify", "ja": "強調する層"},
    "layer_info": {
        "en": "Early layers amplify textures and strokes; late layers amplify object parts.",
        "ja": "浅い層はテクスチャや線を、深い層は物体の部分を強調します。",
    },
    # short enough for the dropdown of a narrow column
    "layer_block2": {"en": "block 2 (early: edges)", "ja": "ブロック 2（浅い：エッジ）"},
    "layer_block4": {"en": "block 4 (early: textures)", "ja": "ブロック 4（浅い：テクスチャ）"},
    "layer_block7": {"en": "block 7 (middle: patterns)", "ja": "ブロック 7（中間：模様）"},
    "layer_block10": {"en": "block 10 (middle: motifs)", "ja": "ブロック 10（中間：模様の部品）"},
    "layer_block12": {"en": "block 12 (late: object parts)", "ja": "ブロック 12（深い：物体の部分）"},
    "layer_block13": {"en": "block 13 (late: object parts)", "ja": "ブロック 13（深い：物体の部分）"},
    "layer_block15": {"en": "block 15 (late: object parts)", "ja": "ブロック 15（深い：物体の部分）"},
    "layer_head": {"en": "head (last: whole objects)", "ja": "ヘッド（最終：物体全体）"},
    "objective": {"en": "What to maximise", "ja": "最大化する量"},
    "mean_square": {"en": "Mean of squares", "ja": "二乗平均"},
    "l2": {"en": "L2 norm", "ja": "L2 ノルム"},
    "channels": {"en": "Chosen channels (mean of squares)", "ja": "選んだチャネル（二乗平均）"},
    "classes": {"en": "ImageNet classes (mean logit)", "ja": "ImageNet クラス（ロジットの平均）"},
    "targets": {"en": "Channels or classes (numbers)", "ja": "チャネルまたはクラス（番号）"},
    "targets_info": {
        "en": ("For “chosen channels”: channels of the layer; for “ImageNet classes”: class numbers (0–999; e.g. "
               "151-268 are the dogs, 281-285 the cats). Commas between them, a-b for a range."),
        "ja": ("「選んだチャネル」なら層のチャネル番号、「ImageNet クラス」ならクラス番号（0〜999。例：151-268 は犬、"
               "281-285 は猫）。カンマで区切り、a-b で範囲を表します。"),
    },
    "err_targets": {
        "en": "“{value}” is not a list of numbers from 0 to {high} (e.g. “84, 63” or “151-268”).",
        "ja": "「{value}」は 0〜{high} の番号の並びではありません（例：「84, 63」や「151-268」）。",
    },
    "err_all_classes": {
        "en": "All 1,000 classes: the objective (their mean logit minus the mean of all logits) is then always 0 and "
              "the dream would not change the photo. Choose some classes (e.g. “151-268”, the dogs).",
        "ja": "1000 クラスすべてです。目的関数（選んだクラスのロジットの平均 − 全ロジットの平均）が常に 0 になり、"
              "写真は変わりません。一部のクラスを選んでください（例：「151-268」は犬）。",
    },
    "octaves": {"en": "Octaves", "ja": "オクターブ数"},
    "octave_scale": {"en": "Octave scale", "ja": "オクターブの倍率"},
    "iterations": {"en": "Iterations per octave", "ja": "オクターブごとの反復回数"},
    "step": {"en": "Step size η", "ja": "ステップ幅 η"},
    "jitter": {"en": "Jitter (pixels)", "ja": "ジッター（画素）"},
    "resolution": {"en": "Resolution (longer side, px)", "ja": "解像度（長辺の画素数）"},
    "settings": {
        "en": "More settings (octaves, step…)",
        "ja": "詳しい設定（オクターブなど）",
    },
    "guided_title": {"en": "Guided dreaming (optional)", "ja": "ガイド付きの夢（任意）"},
    "guided_note": {
        "en": (
            "Give a guide image: the dream then makes each part of your photo look more like the best-matching part of "
            "the guide, at the chosen layer."
        ),
        "ja": (
            "ガイド画像を与えると、選んだ層において、写真の各部分がガイド画像の最もよく似た部分により近づくように夢を見"
            "ます。"
        ),
    },
    "guide": {"en": "Guide image", "ja": "ガイド画像"},
    "run": {"en": "Dream", "ja": "夢を見る"},
    "output": {"en": "The dream (updated after each octave)", "ja": "夢（オクターブごとに更新）"},
    "zoom_title": {"en": "Endless zoom animation", "ja": "無限ズームのアニメーション"},
    "zoom_frames": {"en": "Frames", "ja": "フレーム数"},
    "zoom_run": {"en": "Make the zoom animation", "ja": "ズームアニメーションを作る"},
    "zoom_frame": {
        "en": "Each frame as it is made, then the animation",
        "ja": "作成中のフレーム（完成後はアニメーション）",
    },
    "zoom_file": {"en": "Animated GIF (download)", "ja": "アニメーション GIF（ダウンロード）"},
    "panel_channels": {
        "en": "Channels of {layer} that grew most (mean activation, after − before)",
        "ja": "{layer} で最も増えたチャネル（平均活性の増加量）",
    },
    "panel_classes": {
        "en": "ImageNet classes the network now sees more of (logit, after − before)",
        "ja": "ネットワークがより強く見るようになった ImageNet クラス（ロジットの増加量）",
    },
    "octave": {"en": "Octave {k} of {n} done", "ja": "オクターブ {k}／{n} 完了"},
    "done": {"en": "Done: {w}×{h} px.", "ja": "完了：{w}×{h} px。"},
    "frame": {"en": "Frame {i} of {n}", "ja": "フレーム {i}／{n}"},
    "slide_caption": {
        "en": ("Gradient ascent on the pixels changes the photo so that a fixed ImageNet network (EfficientNet-Lite0) "
               "sees more of what it already sees at the chosen layer."),
        "ja": ("画素についての勾配上昇で、固定した ImageNet ネットワーク（EfficientNet-Lite0）が選んだ層ですでに"
               "見ているものを、さらに強く見るように写真を変えます。"),
    },
    "slide_equation": {
        "en": r"x \leftarrow x + \eta\, g\, /\, \mathrm{mean}|g|, \quad g = \nabla_x \|a_l(x)\|^2",
        "ja": r"x \leftarrow x + \eta\, g\, /\, \mathrm{mean}|g|, \quad g = \nabla_x \|a_l(x)\|^2",
    },
})

SLUG = "efficientnet-lite0"
TRAINING_COMMAND = "python training/convert_efficientnet_lite0.py"
# Layers offered, from early (textures) to late (object parts): the name in EfficientNetLite0.features.
LAYERS = ("block2", "block4", "block7", "block10", "block12", "block13", "block15", "head")
CHANNELS = {"block2": 24, "block4": 40, "block7": 80, "block10": 112, "block12": 192, "block13": 192, "block15": 320,
            "head": 1280}  # how many channels each layer has
OBJECTIVES = ("mean_square", "l2", "channels", "classes")
# name: (min, max, default) of the numeric controls, checked again in the handler; the defaults are the "faces" preset's
LIMITS = {
    "resolution": (64, 640, 512),
    "octaves": (1, 8, 5),
    "octave_scale": (1.1, 2.0, 1.5),
    "iterations": (1, 30, 5),
    "step": (0.001, 0.1, 0.04),
    "jitter": (0, 64, 16),
    "zoom_frames": (2, 24, 8),
}
# The presets, found by trying (``python -m bench.deepdream_presets`` draws each on the example photos:
# docs/figures/deepdream_presets.jpg). Faces and patterns take half the ascent steps of the first presets with twice
# the step (the same distance travelled), and faces 5 octaves of 1.5 instead of 6 of 1.4: the same look for about
# half the CPU (a class shares two cores: README, "A class at once"); buildings needs its 60 small steps.
# The channels were picked by dreaming each channel of the layer alone on the
# example photos and keeping those whose dream most raised the ImageNet logits of the dogs (faces) or of churches,
# palaces, castles, mosques… (buildings), then looking at the dreams.
PRESETS = {
    "faces": {"layer": "block10", "objective": "channels", "targets": "84, 63, 86, 26, 57, 65, 51, 30",
              "octaves": 5, "octave_scale": 1.5, "iterations": 5, "step": 0.04, "jitter": 16},
    "buildings": {"layer": "block12", "objective": "channels", "targets": "148, 80, 60, 4, 58",
                  "octaves": 6, "octave_scale": 1.4, "iterations": 10, "step": 0.02, "jitter": 16},
    "patterns": {"layer": "block7", "objective": "mean_square", "targets": "",
                 "octaves": 4, "octave_scale": 1.4, "iterations": 5, "step": 0.025, "jitter": 16},
}
PRESET_NAMES = (*PRESETS, "custom")
DEFAULT_PRESET = "faces"
# Custom's starting point (and what a share link made before the presets falls back to).
CUSTOM = {"layer": "block10", "objective": "mean_square", "targets": "",
          **{name: LIMITS[name][2] for name in ("octaves", "octave_scale", "iterations", "step", "jitter")}}
FIRST_PHOTO = EXAMPLE_PHOTOS / "astronaut.jpg"  # what the tab opens on


def load_model() -> EfficientNetLite0:
    """The network, loaded once, or a Problem saying how to get its weights: the copy made for dreaming
    (``dreaming_copy``)."""
    return dreaming_copy(load_or_explain(EfficientNetLite0, SLUG, TRAINING_COMMAND))


@functools.lru_cache(maxsize=2)
def dreaming_copy(model: EfficientNetLite0) -> EfficientNetLite0:
    """``model`` made faster for dreaming, made once: batch norms folded into the convolutions
    (``fold_batch_norms``), no padded copies of the activations where the convolution can pad by itself
    (``padded_in_convolution``), the 1x1 convolutions computed as matrix products (``pointwise_as_matmul``) and the
    weights stored channels-last (the pixel's channels side by side in memory, which the CPU's convolution kernels
    prefer); the same function up to rounding, faster per dream on one core (``python bench/bench_deepdream.py``).
    No gradients for the weights: we differentiate with respect to the image only."""
    folded = pointwise_as_matmul(padded_in_convolution(fold_batch_norms(model)))
    return folded.to(memory_format=torch.channels_last).requires_grad_(False)


def _read_classes(path: Path) -> list[str]:
    return json.loads(path.read_text())


def imagenet_classes(lang: str | None = None) -> list[str]:
    """The 1,000 ImageNet class names in ``lang`` (default: the language of the current event): English
    (``imagenet_classes.json``) or Japanese (``imagenet_classes.ja.json``, in the same order)."""
    if (lang or current_language()) == "ja":
        try:
            return load_extra_file(SLUG, "imagenet_classes.ja.json", _read_classes)
        except WeightsUnavailableError:  # a copy of the weights made before the Japanese names: English ones
            pass
    return load_extra_file(SLUG, "imagenet_classes.json", _read_classes)


def layer_index(layer: str) -> int | None:
    """How far ``features`` must run for ``layer`` (None: to the end)."""
    return int(layer[5:]) if layer.startswith("block") else None


def parse_targets(text: str, high: int) -> list[int]:
    """"84, 63" → [84, 63]; "151-153, 281" → [151, 152, 153, 281]: numbers from 0 to ``high``, or a Problem."""
    numbers = []
    try:
        if len(str(text)) > 1000:
            raise ValueError(text)
        for part in str(text).replace("、", ",").split(","):
            if part.strip():
                low, _, top = part.partition("-")
                first, last = int(low), int(top or low)
                if not 0 <= first <= last <= high:
                    raise ValueError(part)
                numbers += range(first, last + 1)
    except ValueError:
        numbers = []
    if not numbers:
        raise TAB.problem("err_targets", value=str(text)[:80], high=high)
    return list(dict.fromkeys(numbers))  # each once, in the order given


# --- the algorithm -------------------------------------------------------------------------

def activation_objective(feats: torch.Tensor, objective: str) -> torch.Tensor:
    """How excited the layer is: the mean of the squared activations, or their L2 norm."""
    return feats.pow(2).mean() if objective == "mean_square" else feats.norm() / math.sqrt(feats.numel())


def channel_objective(feats: torch.Tensor, channels) -> torch.Tensor:
    """The mean of the squared activations of some channels only: the dream draws what those channels detect
    (each channel of a late block responds to a kind of object part: dog snouts, eyes, arches…)."""
    return feats[:, list(channels)].pow(2).mean()


def class_objective(logits: torch.Tensor, classes) -> torch.Tensor:
    """The mean logit of some ImageNet classes minus the mean of all 1,000 logits (Simonyan et al., "Deep inside
    convolutional networks", 2014, visualised classes this way). Subtracting the mean makes the dream raise *these*
    classes rather than every logit at once."""
    return logits[:, list(classes)].mean() - logits.mean()


def guided_objective(feats: torch.Tensor, guide_feats: torch.Tensor) -> torch.Tensor:
    """For each position of the image, the dot product with the best-matching position of the guide, averaged."""
    x = feats[0].flatten(1)        # C x HW
    g = guide_feats[0].flatten(1)  # C x H'W'
    return (x.T @ g).max(dim=1).values.mean()


def make_objective(model, layer: str, objective: str, targets=(), guide=None):
    """(how far the network must run: ``upto`` of ``features``, the function of its features to maximise)."""
    upto = layer_index(layer)
    if guide is not None:
        with torch.no_grad():
            guide_feats = model.features(guide, upto=upto)[layer]
        return upto, lambda f: guided_objective(f[layer], guide_feats)
    if objective == "classes":  # the logits: the whole network, whatever the layer
        return None, lambda f: class_objective(model._fc(f["pooled"]), targets)
    if objective == "channels":
        return upto, lambda f: channel_objective(f[layer], targets)
    return upto, lambda f: activation_objective(f[layer], objective)


_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16  # a small Gaussian-like blur, 5 taps


def _blur_half(x: torch.Tensor) -> torch.Tensor:
    """Blur with the 5×5 binomial kernel and keep every other pixel: one level down a Gaussian pyramid."""
    kernel = (_BINOMIAL[:, None] * _BINOMIAL[None, :]).to(x).expand(x.shape[1], 1, 5, 5)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), kernel, stride=2, groups=x.shape[1])


def lap_normalize(grad: torch.Tensor, levels: int = 4) -> torch.Tensor:
    """Laplacian-pyramid gradient normalisation ("lapnorm", from Mordvintsev's notebook "DeepDreaming with
    TensorFlow", 2016): split the gradient into ``levels`` frequency bands (the finest details, details twice as
    large, …, the coarsest blur), scale each band to unit RMS and add them up again.

    The raw gradient of a deep layer is mostly pixel-sized detail, which the dream turns into high-frequency
    red/green noise; after this every scale has the same weight, so the dream also draws large, smooth shapes."""
    bands = []
    for _ in range(levels - 1):
        if min(grad.shape[-2:]) < 8:
            break
        low = _blur_half(grad)
        bands.append(grad - F.interpolate(low, size=grad.shape[-2:], mode="bilinear", align_corners=False))
        grad = low
    out = grad / (grad.pow(2).mean().sqrt() + 1e-8)  # the coarsest band
    for band in reversed(bands):
        out = F.interpolate(out, size=band.shape[-2:], mode="bilinear", align_corners=False)
        out = out + band / (band.pow(2).mean().sqrt() + 1e-8)
    return out


def ascent_step(model, img, upto, objective_fn, step, jitter, generator, lapnorm_levels=4):
    """One normalised gradient-ascent step on ``img`` (1, 3, H, W), with a random jitter (roll) around it and the
    gradient smoothed by ``lap_normalize`` (``lapnorm_levels`` = 0: the raw gradient, as in the original code)."""
    dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=generator)) if jitter else (0, 0)
    x = torch.roll(img, shifts=(dy, dx), dims=(2, 3)).contiguous(memory_format=torch.channels_last)
    x = x.detach().requires_grad_(True)
    loss = objective_fn(model.features(x, upto=upto))
    (grad,) = torch.autograd.grad(loss, x)
    if lapnorm_levels:
        grad = lap_normalize(grad, lapnorm_levels)
    x = x.detach() + step * grad / (grad.abs().mean() + 1e-8)
    return torch.roll(x, shifts=(-dy, -dx), dims=(2, 3)).clamp(0, 1)


def octave_sizes(h: int, w: int, octaves: int, scale: float) -> list[tuple[int, int]]:
    """Image sizes from the smallest octave to the full size (never below 32 px)."""
    sizes = [(max(32, round(h / scale**k)), max(32, round(w / scale**k))) for k in range(octaves)]
    return sizes[::-1]


def deepdream(model, img, layer="block10", octaves=6, octave_scale=1.4, iterations=10, step=0.02, jitter=16, seed=0,
              objective="mean_square", guide=None, targets=(), lapnorm_levels=4):
    """Dream on ``img`` (1, 3, H, W) in [0, 1]; yields (octave number, image at full size) after each octave.
    ``targets``: the channels (objective "channels") or ImageNet classes ("classes") to maximise.

    The detail dreamed at one octave (dreamed − original, at that scale) is enlarged and added to
    the next, larger copy of the original, so structures grow from coarse to fine."""
    generator = torch.Generator().manual_seed(seed)
    upto, objective_fn = make_objective(model, layer, objective, targets, guide)
    h, w = img.shape[-2:]
    detail = None
    for k, size in enumerate(octave_sizes(h, w, octaves, octave_scale)):
        base = F.interpolate(img, size=size, mode="bilinear", align_corners=False, antialias=True)
        if detail is None:
            x = base
        else:
            x = (base + F.interpolate(detail, size=size, mode="bilinear", align_corners=False)).clamp(0, 1)
        for _step in range(iterations):
            x = ascent_step(model, x, upto, objective_fn, step, jitter, generator, lapnorm_levels)
            give_way()  # in the heavy queue: let a waiting job compute if this one's turn is over (demos/turns.py)
        detail = x - base
        yield k + 1, F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False).clamp(0, 1)


@torch.no_grad()
def amplified(model, before, after, layer, top=5) -> dict:
    """Which channels of ``layer`` grew most (mean activation after − before), and which ImageNet classes the
    network now sees more of (logit after − before): ``{"channels": [(channel, growth)], "classes": [(class index,
    growth)]}``."""
    a, b = model.features(before), model.features(after)
    growth = (b[layer].mean(dim=(0, 2, 3)) - a[layer].mean(dim=(0, 2, 3)))
    values, idx = growth.topk(min(top, growth.numel()))
    logits = model._fc(b["pooled"]) - model._fc(a["pooled"])
    class_values, class_idx = logits[0].topk(top)
    return {"channels": list(zip(idx.tolist(), values.tolist())),
            "classes": list(zip(class_idx.tolist(), class_values.tolist()))}


def zoom_in(img, zoom: float):
    """Crop the centre by ``zoom`` and enlarge back to the same size: the next frame of an infinite zoom."""
    h, w = img.shape[-2:]
    ch, cw = max(8, round(h / zoom)), max(8, round(w / zoom))
    top, left = (h - ch) // 2, (w - cw) // 2
    return F.interpolate(img[..., top:top + ch, left:left + cw], size=(h, w), mode="bilinear", align_corners=False)


# --- Gradio handlers -----------------------------------------------------------------------

def _settings(resolution, octaves, octave_scale, iterations, step, jitter, seed, layer, objective, targets=""):
    check_choice(layer, LAYERS)
    check_choice(objective, OBJECTIVES)
    values = {name: check_range(value, *LIMITS[name][:2], TAB.phrase(name)) for name, value in
              (("resolution", resolution), ("octaves", octaves), ("octave_scale", octave_scale),
               ("iterations", iterations), ("step", step), ("jitter", jitter))}
    for name in ("resolution", "octaves", "iterations", "jitter"):
        values[name] = int(values[name])
    values["targets"] = []
    if objective in ("channels", "classes"):
        values["targets"] = parse_targets(targets, CHANNELS[layer] - 1 if objective == "channels" else 999)
    if objective == "classes" and len(values["targets"]) == 1000:  # their mean minus the mean of all: always 0
        raise TAB.problem("err_all_classes")
    return values, check_seed(seed)


def panel_markdown(result: dict, layer: str) -> str:
    """``amplified``'s result as Markdown, with the layer and the class names in the current language."""
    lines = [f"**{TAB.text('panel_channels', layer=TAB.text(f'layer_{layer}'))}**", ""]
    lines += [f"- #{c}: +{v:.3f}" for c, v in result["channels"]]
    if "classes" in result:
        names = imagenet_classes()
        lines += ["", f"**{TAB.text('panel_classes')}**", ""]
        lines += [f"- {names[i]}: {v:+.2f}" for i, v in result["classes"]]
    return "\n".join(lines)


def deepdream_run(image, layer: str, objective: str, resolution: int, octaves: int, octave_scale: float,
                  iterations: int, step: float, jitter: int, seed: int, guide=None, targets: str = "",
                  progress=gr.Progress()):
    """The tab's main action (api ``/deepdream``): streams the dream so far and a status line after each octave,
    then the amplified channels/classes (outputs: dream | status | panel).

    ``objective``: "mean_square" or "l2" of the whole layer, "channels" (the mean of squares of the channels of the
    layer listed in ``targets``, e.g. "84, 63") or "classes" (the mean logit of the ImageNet classes listed in
    ``targets``, e.g. "151-268" for the dogs, minus the mean of all logits; the layer is then not used).
    The presets of the tab are these settings (``PRESETS``): faces (the default) = block10, channels "84, 63, 86, 26,
    57, 65, 51, 30", 5 octaves × 1.5, 5 iterations, step 0.04, jitter 16; buildings = block12, channels "148, 80, 60,
    4, 58", 6 octaves × 1.4, 10 iterations, step 0.02; patterns = block7, mean_square, 4 octaves × 1.4, 5 iterations,
    step 0.025."""
    s, seed = _settings(resolution, octaves, octave_scale, iterations, step, jitter, seed, layer, objective, targets)
    model = load_model()
    img = photo_to_tensor(image, s["resolution"])
    guide_t = photo_to_tensor(guide, s["resolution"], what=" (guide)") if guide is not None else None
    dreamed = img
    for k, dreamed in deepdream(model, img, layer, s["octaves"], s["octave_scale"], s["iterations"], s["step"],
                                s["jitter"], seed, objective, guide_t, s["targets"]):
        progress(k / s["octaves"], desc=TAB.text("octave", k=k, n=s["octaves"]))
        yield {"dream": to_pil(dreamed), "progress": TAB.text("octave", k=k, n=s["octaves"])}
    yield dream_outputs(img, dreamed, amplified(model, img, dreamed, layer), layer)


def dream_outputs(img: torch.Tensor, dreamed: torch.Tensor, growth: dict, layer: str) -> dict:
    """The finished dream as the tab's outputs, by name (the texts in the current language)."""
    return {"dream": to_pil(dreamed), "progress": TAB.text("done", h=img.shape[-2], w=img.shape[-1]),
            "panel": panel_markdown(growth, layer)}


def deepdream_zoom(image, layer: str, objective: str, resolution: int, frames: int, iterations: int, step: float,
                   jitter: int, seed: int, targets: str = "", progress=gr.Progress()):
    """api ``/deepdream_zoom``: an endless zoom — each frame is the last one zoomed by 5 % and dreamed again.
    Streams the frames (outputs: frame | None), then the animated GIF in both outputs (the image shows it
    playing; the file is for downloading). ``objective`` and ``targets`` as for ``/deepdream``."""
    s, seed = _settings(resolution, 1, 1.4, iterations, step, jitter, seed, layer, objective, targets)
    frames = int(check_range(frames, *LIMITS["zoom_frames"][:2], TAB.phrase("zoom_frames")))
    model = load_model()
    x = photo_to_tensor(image, min(s["resolution"], 256))
    pictures = []
    for i in range(frames):
        for _k, x in deepdream(model, x, layer, 1, 1.4, s["iterations"], s["step"], s["jitter"], seed + i, objective,
                               None, s["targets"]):
            pass
        pictures.append(to_pil(x))
        progress((i + 1) / frames, desc=TAB.text("frame", i=i + 1, n=frames))
        yield {"frame": pictures[-1], "file": None}
        x = zoom_in(x, 1.05)
    path = generated_file("deepdream_zoom.gif", lambda partial: pictures[0].save(
        partial, format="GIF", save_all=True, append_images=pictures[1:], duration=120, loop=0))
    yield {"frame": str(path), "file": str(path)}


# --- the tab -----------------------------------------------------------------------------

# The numeric settings that a share link carries, with their types (the seed is added separately).
SHARED_NUMBERS = (("resolution", int), ("octaves", int), ("octave_scale", float), ("iterations", int),
                  ("step", float), ("jitter", int))
# The settings before the guide in the api's inputs, in their order.
API_SETTINGS = ("layer", "objective", "resolution", "octaves", "octave_scale", "iterations", "step", "jitter", "seed")
# The settings restored from a share link (the controls' names in ``open_tab``): those, the api's ``targets`` (after
# the guide) and the preset (which only fills the others in).
SETTINGS = (*API_SETTINGS, "targets", "preset")


def preset_values(preset: str) -> dict:
    """What choosing ``preset`` sets (layer, objective, targets and the sliders but the resolution); nothing for
    "custom", which keeps the current settings."""
    return dict(PRESETS.get(preset, {}))


def deepdream_share_query(layer, objective, resolution, octaves, octave_scale, iterations, step, jitter, seed,
                          targets="", preset="custom") -> str:
    """The query string of a share link to this tab with these settings (the photo is not included)."""
    values = dict(zip((name for name, _cast in SHARED_NUMBERS),
                      (resolution, octaves, octave_scale, iterations, step, jitter)))
    numbers = {name: cast(values[name]) for name, cast in SHARED_NUMBERS}
    return share_query(TAB, preset=preset, layer=layer, objective=objective, targets=targets or "", **numbers,
                       seed=int(seed or 0))


def settings_from_query(request: gr.Request | None) -> dict:
    """{name: value} of the settings (``SETTINGS``) from a share link. What is absent or invalid comes from the
    link's preset; a link without one (made before the presets) is a Custom one, a bare link opens on the default
    preset. A named preset whose settings the link changed becomes "custom"."""
    params = getattr(request, "query_params", None) or {}
    preset = query_value(request, "preset", str, choices=PRESET_NAMES, default=None)
    if preset is None:
        preset = "custom" if any(name in params for name in API_SETTINGS + ("targets",)) else DEFAULT_PRESET
    base = PRESETS.get(preset, CUSTOM)
    settings = {name: query_value(request, name, cast, LIMITS[name][0], LIMITS[name][1],
                                  default=base.get(name, LIMITS[name][2])) for name, cast in SHARED_NUMBERS}
    settings |= {"layer": query_value(request, "layer", str, choices=LAYERS, default=base["layer"]),
                 "objective": query_value(request, "objective", str, choices=OBJECTIVES, default=base["objective"]),
                 "seed": query_value(request, "seed", int, 0, MAX_SEED, default=0),
                 "targets": query_value(request, "targets", str, default=base["targets"])}
    if settings["objective"] in ("channels", "classes"):
        try:
            _settings(64, 1, 1.4, 1, 0.02, 0, 0, settings["layer"], settings["objective"], settings["targets"])
        except gr.Error:  # targets that do not fit the layer or the classes
            settings["objective"], settings["targets"] = "mean_square", ""
    named = preset_values(preset)
    if any(settings[name] != value for name, value in named.items()):
        preset = "custom"
    return {**settings, "preset": preset}


@demo_cache(maxsize=8)
def first_dream(layer, objective, resolution, octaves, octave_scale, iterations, step, jitter, seed,
                targets="") -> tuple:
    """(photo, dream, ``amplified``'s result) for ``FIRST_PHOTO`` with these settings (``API_SETTINGS`` and the
    targets, already checked): computed once per setting, not once per student."""
    model = load_model()
    with PIL.Image.open(FIRST_PHOTO) as photo:
        img = photo_to_tensor(photo, resolution)
    s, _seed = _settings(resolution, octaves, octave_scale, iterations, step, jitter, seed, layer, objective, targets)
    for _octave, dreamed in deepdream(model, img, layer, octaves, octave_scale, iterations, step, jitter, seed,
                                      objective, None, s["targets"]):
        pass  # the last octave's image is the dream
    return img, dreamed, amplified(model, img, dreamed, layer)


# Students who open the tab together wait for one computation of the first view, not one each.
_first_view_lock = threading.Lock()


def first_view(settings: dict) -> dict:
    """What the tab opens on: ``FIRST_PHOTO`` in the photo box and its dream with ``settings`` in the outputs."""
    with _first_view_lock:
        img, dreamed, growth = first_dream(*(settings[name] for name in API_SETTINGS), settings["targets"])
    return {"photo": str(FIRST_PHOTO), **dream_outputs(img, dreamed, growth, settings["layer"])}


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): load the network; if its weights are missing, say
    so and disable only this tab. Also restore the settings of a share link (by name, as ``SETTINGS``) and show the
    example photo dreamed with them (``first_view``)."""
    settings = settings_from_query(request)
    try:
        load_model()
    except gr.Error as err:
        off = gr.update(interactive=False)
        return {"status": show_weights_problem(err), "run": off, "zoom_run": off, **settings}
    on = gr.update(interactive=True)
    return {**first_view(settings), "status": gr.update(visible=False), "run": on, "zoom_run": on, **settings}


@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown)."""
    _ = TAB.ui
    first = {**CUSTOM, **PRESETS[DEFAULT_PRESET]}
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=280):
                photo = photo_input(_("input"), height=220)
                preset = controls.Radio([(_(f"preset_{name}"), name) for name in PRESET_NAMES], value=DEFAULT_PRESET,
                                        label=_("preset"), info=_("preset_info"))
                layer = controls.Dropdown([(_(f"layer_{name}"), name) for name in LAYERS], value=first["layer"],
                                          label=_("layer"), info=_("layer_info"))
                run = gr.Button(_("run"), variant="primary")  # near the top: visible with the dream on a projector
                gr.Examples([[str(p)] for p in sorted(EXAMPLE_PHOTOS.glob("*.jpg"))], inputs=[photo],
                            label=_("examples"))
                with gr.Accordion(_("settings"), open=False):
                    objective = controls.Radio([(_(name), name) for name in OBJECTIVES], value=first["objective"],
                                               label=_("objective"))
                    targets = gr.Textbox(first["targets"], label=_("targets"), info=_("targets_info"), max_lines=1,
                                         max_length=400)
                    # one slider a row (their labels and numbers need the column's width), in the order of SETTINGS
                    sliders = {name: controls.Slider(*LIMITS[name][:2], value=first.get(name, LIMITS[name][2]),
                                                     step=step, label=_(name))
                               for name, step in (("resolution", 32), ("octaves", 1), ("octave_scale", 0.05),
                                                  ("iterations", 1), ("step", 0.001), ("jitter", 1))}
                    seed, dice = seed_input(0)
                with gr.Accordion(_("guided_title"), open=False):
                    gr.Markdown(_("guided_note"))
                    guide = photo_input(_("guide"), height=200)
                share_button, share_link = share_row()
            with gr.Column(scale=6, min_width=320):
                # "fit-box": the app's CSS may enlarge a small dream (a low resolution) to fill its box
                dream = gr.Image(label=_("output"), type="pil", interactive=False, height=420,
                                 buttons=["download", "fullscreen"], elem_classes=["fit-box"])
                progress_md = gr.Markdown()
                panel = gr.Markdown()
                page.slide_button(results=[photo, dream],
                                  settings=[preset, layer, objective, targets, *sliders.values(), seed])
                with gr.Accordion(_("zoom_title"), open=False):
                    zoom_frames = controls.Slider(*LIMITS["zoom_frames"][:2], value=LIMITS["zoom_frames"][2], step=1,
                                                  label=_("zoom_frames"))
                    zoom_run = gr.Button(_("zoom_run"))
                    zoom_frame = gr.Image(label=_("zoom_frame"), type="pil", interactive=False, height=300)
                    zoom_file = gr.File(label=_("zoom_file"), interactive=False)
            with gr.Column(scale=3, min_width=280):
                TAB.explanation()

        settings = {"layer": layer, "objective": objective, **sliders, "seed": seed}  # in the order of API_SETTINGS
        wire_photo(page, photo)
        wire_photo(page, guide)
        # The api's outputs, in this order (gradio_client sees a tuple): what the handlers yield, by name.
        page.on(run.click, deepdream_run, [photo, *settings.values(), guide, targets],
                {"dream": dream, "progress": progress_md, "panel": panel}, api_name="deepdream",
                remember=Remembered(), **heavy_queue())  # the same photo and settings again: at once
        page.on(zoom_run.click, deepdream_zoom,
                [photo, layer, objective, sliders["resolution"], zoom_frames, sliders["iterations"], sliders["step"],
                 sliders["jitter"], seed, targets],
                {"frame": zoom_frame, "file": zoom_file}, api_name="deepdream_zoom", **heavy_queue())
        page.on(dice.click, new_seed, None, seed, queue=False, api_visibility="private")
        # A preset fills in the settings it names; changing one of them by hand makes the preset "Custom".
        preset_controls = {"layer": layer, "objective": objective, "targets": targets,
                           **{name: sliders[name] for name in ("octaves", "octave_scale", "iterations", "step",
                                                               "jitter")}}
        page.on(preset.input, preset_values, preset, preset_controls, queue=False, api_visibility="private")
        for control in preset_controls.values():
            page.on(control.input, lambda: {"preset": "custom"}, None, {"preset": preset}, queue=False,
                    api_visibility="private")
        wire_share(page, share_button, share_link, deepdream_share_query,
                   [*settings.values(), targets, preset])
        page.when_shown(demo, open_tab, {"status": status, "run": run, "zoom_run": zoom_run, "photo": photo,
                                         "dream": dream, "progress": progress_md, "panel": panel, **settings,
                                         "targets": targets, "preset": preset})
    return demo


if __name__ == "__main__":
    TAB.launch()
