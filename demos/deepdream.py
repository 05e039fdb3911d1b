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

Network: EfficientNet-Lite0 with ImageNet weights (``pretrained/efficientnet-lite0``, see
``models/efficientnet_lite.py``); the original used GoogLeNet. Its 1,000 class names are in English
(``imagenet_classes.json``) and Japanese (``imagenet_classes.ja.json``, same order).

The tab opens on scikit-image's astronaut (``examples/photos/astronaut.jpg``) dreamed with the default settings (or a
share link's), computed once per process.

Run this tab alone with ``python -m demos.deepdream``.
"""

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
from demos.image_input import EXAMPLE_PHOTOS, photo_input, photo_to_tensor
from demos.kit import Page, Tab, demo_cache, generated_file, heavy_queue
from demos.share import query_value, share_query, share_row, wire_share
from models.efficientnet_lite import EfficientNetLite0
from models.imaging import to_pil
from models.loading import WeightsUnavailableError, load_extra_file

TAB = Tab(id="deepdream", old_ids=("dd",), strings={
    "title": {"en": "DeepDream", "ja": "DeepDream（ディープドリーム）"},
    "input": {"en": "Your photo", "ja": "写真"},
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
    "layer_block13": {"en": "block 13 (late: object parts)", "ja": "ブロック 13（深い：物体の部分）"},
    "layer_block15": {"en": "block 15 (late: object parts)", "ja": "ブロック 15（深い：物体の部分）"},
    "layer_head": {"en": "head (last: whole objects)", "ja": "ヘッド（最終：物体全体）"},
    "objective": {"en": "What to maximise", "ja": "最大化する量"},
    "mean_square": {"en": "Mean of squares", "ja": "二乗平均"},
    "l2": {"en": "L2 norm", "ja": "L2 ノルム"},
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
LAYERS = ("block2", "block4", "block7", "block10", "block13", "block15", "head")
OBJECTIVES = ("mean_square", "l2")
# name: (min, max, default) of the numeric controls, checked again in the handler
LIMITS = {
    "resolution": (64, 512, 448),
    "octaves": (1, 6, 3),
    "octave_scale": (1.1, 2.0, 1.4),
    "iterations": (1, 30, 8),
    "step": (0.001, 0.1, 0.02),
    "jitter": (0, 64, 16),
    "zoom_frames": (2, 24, 8),
}
FIRST_PHOTO = EXAMPLE_PHOTOS / "astronaut.jpg"  # what the tab opens on


def load_model() -> EfficientNetLite0:
    """The network, loaded once, or a Problem saying how to get its weights."""
    model = load_or_explain(EfficientNetLite0, SLUG, TRAINING_COMMAND)
    model.requires_grad_(False)  # we differentiate with respect to the image only
    return model


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


# --- the algorithm -------------------------------------------------------------------------

def activation_objective(feats: torch.Tensor, objective: str) -> torch.Tensor:
    """How excited the layer is: the mean of the squared activations, or their L2 norm."""
    return feats.pow(2).mean() if objective == "mean_square" else feats.norm() / math.sqrt(feats.numel())


def guided_objective(feats: torch.Tensor, guide_feats: torch.Tensor) -> torch.Tensor:
    """For each position of the image, the dot product with the best-matching position of the guide, averaged."""
    x = feats[0].flatten(1)        # C x HW
    g = guide_feats[0].flatten(1)  # C x H'W'
    return (x.T @ g).max(dim=1).values.mean()


def ascent_step(model, img, layer, objective_fn, step, jitter, generator):
    """One normalised gradient-ascent step on ``img`` (1, 3, H, W), with a random jitter (roll) around it."""
    dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=generator)) if jitter else (0, 0)
    x = torch.roll(img, shifts=(dy, dx), dims=(2, 3)).detach().requires_grad_(True)
    loss = objective_fn(model.features(x, upto=layer_index(layer))[layer])
    (grad,) = torch.autograd.grad(loss, x)
    x = x.detach() + step * grad / (grad.abs().mean() + 1e-8)
    return torch.roll(x, shifts=(-dy, -dx), dims=(2, 3)).clamp(0, 1)


def octave_sizes(h: int, w: int, octaves: int, scale: float) -> list[tuple[int, int]]:
    """Image sizes from the smallest octave to the full size (never below 32 px)."""
    sizes = [(max(32, round(h / scale**k)), max(32, round(w / scale**k))) for k in range(octaves)]
    return sizes[::-1]


def deepdream(model, img, layer="block7", octaves=3, octave_scale=1.4, iterations=8, step=0.02, jitter=16, seed=0,
              objective="mean_square", guide=None):
    """Dream on ``img`` (1, 3, H, W) in [0, 1]; yields (octave number, image at full size) after each octave.

    The detail dreamed at one octave (dreamed − original, at that scale) is enlarged and added to
    the next, larger copy of the original, so structures grow from coarse to fine."""
    generator = torch.Generator().manual_seed(seed)
    if guide is not None:
        with torch.no_grad():
            guide_feats = model.features(guide, upto=layer_index(layer))[layer]
        def objective_fn(f):
            return guided_objective(f, guide_feats)
    else:
        def objective_fn(f):
            return activation_objective(f, objective)
    h, w = img.shape[-2:]
    detail = None
    for k, size in enumerate(octave_sizes(h, w, octaves, octave_scale)):
        base = F.interpolate(img, size=size, mode="bilinear", align_corners=False, antialias=True)
        if detail is None:
            x = base
        else:
            x = (base + F.interpolate(detail, size=size, mode="bilinear", align_corners=False)).clamp(0, 1)
        for _step in range(iterations):
            x = ascent_step(model, x, layer, objective_fn, step, jitter, generator)
        detail = x - base
        yield k + 1, F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False).clamp(0, 1)


@torch.no_grad()
def amplified(model, before, after, layer, top=5) -> dict:
    """Which channels of ``layer`` grew most (mean activation after − before), and for the last layer which
    ImageNet classes the network now sees more of (logit after − before): ``{"channels": [(channel, growth)],
    "classes": [(class index, growth)]}``."""
    a = model.features(before, upto=layer_index(layer))
    b = model.features(after, upto=layer_index(layer))
    growth = (b[layer].mean(dim=(0, 2, 3)) - a[layer].mean(dim=(0, 2, 3)))
    values, idx = growth.topk(min(top, growth.numel()))
    result = {"channels": list(zip(idx.tolist(), values.tolist()))}
    if layer == "head":
        logits = model._fc(b["pooled"]) - model._fc(a["pooled"])
        values, idx = logits[0].topk(top)
        result["classes"] = list(zip(idx.tolist(), values.tolist()))
    return result


def zoom_in(img, zoom: float):
    """Crop the centre by ``zoom`` and enlarge back to the same size: the next frame of an infinite zoom."""
    h, w = img.shape[-2:]
    ch, cw = max(8, round(h / zoom)), max(8, round(w / zoom))
    top, left = (h - ch) // 2, (w - cw) // 2
    return F.interpolate(img[..., top:top + ch, left:left + cw], size=(h, w), mode="bilinear", align_corners=False)


# --- Gradio handlers -----------------------------------------------------------------------

def _settings(resolution, octaves, octave_scale, iterations, step, jitter, seed, layer, objective):
    check_choice(layer, LAYERS)
    check_choice(objective, OBJECTIVES)
    values = {name: check_range(value, *LIMITS[name][:2], TAB.phrase(name)) for name, value in
              (("resolution", resolution), ("octaves", octaves), ("octave_scale", octave_scale),
               ("iterations", iterations), ("step", step), ("jitter", jitter))}
    for name in ("resolution", "octaves", "iterations", "jitter"):
        values[name] = int(values[name])
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
                  iterations: int, step: float, jitter: int, seed: int, guide=None, progress=gr.Progress()):
    """The tab's main action (api ``/deepdream``): streams the dream so far and a status line after each octave,
    then the amplified channels/classes (outputs: dream | status | panel)."""
    s, seed = _settings(resolution, octaves, octave_scale, iterations, step, jitter, seed, layer, objective)
    model = load_model()
    img = photo_to_tensor(image, s["resolution"])
    guide_t = photo_to_tensor(guide, s["resolution"], what=" (guide)") if guide is not None else None
    dreamed = img
    for k, dreamed in deepdream(model, img, layer, s["octaves"], s["octave_scale"], s["iterations"], s["step"],
                                s["jitter"], seed, objective, guide_t):
        progress(k / s["octaves"], desc=TAB.text("octave", k=k, n=s["octaves"]))
        yield {"dream": to_pil(dreamed), "progress": TAB.text("octave", k=k, n=s["octaves"])}
    yield dream_outputs(img, dreamed, amplified(model, img, dreamed, layer), layer)


def dream_outputs(img: torch.Tensor, dreamed: torch.Tensor, growth: dict, layer: str) -> dict:
    """The finished dream as the tab's outputs, by name (the texts in the current language)."""
    return {"dream": to_pil(dreamed), "progress": TAB.text("done", h=img.shape[-2], w=img.shape[-1]),
            "panel": panel_markdown(growth, layer)}


def deepdream_zoom(image, layer: str, objective: str, resolution: int, frames: int, iterations: int, step: float,
                   jitter: int, seed: int, progress=gr.Progress()):
    """api ``/deepdream_zoom``: an endless zoom — each frame is the last one zoomed by 5 % and dreamed again.
    Streams the frames (outputs: frame | None), then the animated GIF in both outputs (the image shows it
    playing; the file is for downloading)."""
    s, seed = _settings(resolution, 1, 1.4, iterations, step, jitter, seed, layer, objective)
    frames = int(check_range(frames, *LIMITS["zoom_frames"][:2], TAB.phrase("zoom_frames")))
    model = load_model()
    x = photo_to_tensor(image, min(s["resolution"], 256))
    pictures = []
    for i in range(frames):
        for _k, x in deepdream(model, x, layer, 1, 1.4, s["iterations"], s["step"], s["jitter"], seed + i, objective):
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
# The settings restored from a share link (the controls' names in ``open_tab``), in the order of the api's inputs.
SETTINGS = ("layer", "objective", "resolution", "octaves", "octave_scale", "iterations", "step", "jitter", "seed")


def deepdream_share_query(layer, objective, resolution, octaves, octave_scale, iterations, step, jitter,
                          seed) -> str:
    """The query string of a share link to this tab with these settings (the photo is not included)."""
    values = dict(zip((name for name, _cast in SHARED_NUMBERS),
                      (resolution, octaves, octave_scale, iterations, step, jitter)))
    numbers = {name: cast(values[name]) for name, cast in SHARED_NUMBERS}
    return share_query(TAB, layer=layer, objective=objective, **numbers, seed=int(seed or 0))


def settings_from_query(request: gr.Request | None) -> dict:
    """{name: value} of the nine settings (``SETTINGS``) from a share link, with the defaults for whatever is absent
    or invalid."""
    numbers = {name: query_value(request, name, cast, LIMITS[name][0], LIMITS[name][1], default=LIMITS[name][2])
               for name, cast in SHARED_NUMBERS}
    return {"layer": query_value(request, "layer", str, choices=LAYERS, default="block7"),
            "objective": query_value(request, "objective", str, choices=OBJECTIVES, default="mean_square"),
            **numbers, "seed": query_value(request, "seed", int, 0, MAX_SEED, default=0)}


@demo_cache(maxsize=8)
def first_dream(layer, objective, resolution, octaves, octave_scale, iterations, step, jitter, seed) -> tuple:
    """(photo, dream, ``amplified``'s result) for ``FIRST_PHOTO`` with these settings (``SETTINGS``, already
    checked): computed once per setting, not once per student."""
    model = load_model()
    with PIL.Image.open(FIRST_PHOTO) as photo:
        img = photo_to_tensor(photo, resolution)
    for _octave, dreamed in deepdream(model, img, layer, octaves, octave_scale, iterations, step, jitter, seed,
                                      objective):
        pass  # the last octave's image is the dream
    return img, dreamed, amplified(model, img, dreamed, layer)


# Students who open the tab together wait for one computation of the first view, not one each.
_first_view_lock = threading.Lock()


def first_view(settings: dict) -> dict:
    """What the tab opens on: ``FIRST_PHOTO`` in the photo box and its dream with ``settings`` in the outputs."""
    with _first_view_lock:
        img, dreamed, growth = first_dream(*(settings[name] for name in SETTINGS))
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
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=280):
                photo = photo_input(_("input"), height=220)
                layer = controls.Dropdown([(_(f"layer_{name}"), name) for name in LAYERS], value="block7",
                                          label=_("layer"), info=_("layer_info"))
                run = gr.Button(_("run"), variant="primary")  # near the top: visible with the dream on a projector
                gr.Examples([[str(p)] for p in sorted(EXAMPLE_PHOTOS.glob("*.jpg"))], inputs=[photo],
                            label=_("examples"))
                with gr.Accordion(_("settings"), open=False):
                    objective = controls.Radio([(_("mean_square"), "mean_square"), (_("l2"), "l2")],
                                               value="mean_square", label=_("objective"))
                    # one slider a row (their labels and numbers need the column's width), in the order of SETTINGS
                    sliders = {name: controls.Slider(*LIMITS[name][:2], value=LIMITS[name][2], step=step,
                                                     label=_(name))
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
                page.slide_button(results=[photo, dream], settings=[layer, objective, *sliders.values(), seed])
                with gr.Accordion(_("zoom_title"), open=False):
                    zoom_frames = controls.Slider(*LIMITS["zoom_frames"][:2], value=LIMITS["zoom_frames"][2], step=1,
                                                  label=_("zoom_frames"))
                    zoom_run = gr.Button(_("zoom_run"))
                    zoom_frame = gr.Image(label=_("zoom_frame"), type="pil", interactive=False, height=300)
                    zoom_file = gr.File(label=_("zoom_file"), interactive=False)
            with gr.Column(scale=3, min_width=280):
                TAB.explanation()

        settings = {"layer": layer, "objective": objective, **sliders, "seed": seed}  # in the order of SETTINGS
        # The api's outputs, in this order (gradio_client sees a tuple): what the handlers yield, by name.
        page.on(run.click, deepdream_run, [photo, *settings.values(), guide],
                {"dream": dream, "progress": progress_md, "panel": panel}, api_name="deepdream", **heavy_queue())
        page.on(zoom_run.click, deepdream_zoom,
                [photo, layer, objective, sliders["resolution"], zoom_frames, sliders["iterations"], sliders["step"],
                 sliders["jitter"], seed],
                {"frame": zoom_frame, "file": zoom_file}, api_name="deepdream_zoom", **heavy_queue())
        page.on(dice.click, new_seed, None, seed, queue=False, api_visibility="private")
        wire_share(page, share_button, share_link, deepdream_share_query, list(settings.values()))
        page.when_shown(demo, open_tab, {"status": status, "run": run, "zoom_run": zoom_run, "photo": photo,
                                         "dream": dream, "progress": progress_md, "panel": panel, **settings})
    return demo


if __name__ == "__main__":
    TAB.launch()
