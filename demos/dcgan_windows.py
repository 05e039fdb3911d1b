"""DCGAN window-forgetting tab: make the generator "forget" to draw windows (Radford et al. 2015, §6.3.1).

What it teaches: the units of a GAN generator learn object-level features without being told. The paper
drew boxes around windows on generated bedrooms, fitted a logistic regression on the generator's
second-highest convolution layer to tell "window" locations from others, and zeroed every feature map with
a positive weight. The same z then gave the same bedrooms — beds, walls, layout — but the windows vanished
or turned into other things (walls, doors, mirrors).

On the tab: the same samples drawn normally, with the top-k window maps zeroed, and with k *random* maps
zeroed (the control: dropping any k maps changes the image a little; only the window maps remove
windows). A plot of a window score against k, computed over many samples: the predicted window area of an
image detector trained on the same hand-drawn boxes (logistic regression on EfficientNet-Lite0 features).

Data: ``pretrained/dcgan-bedrooms/window_feature_maps.json``, made by ``training/find_window_feature_maps.py``
from the boxes in ``training/data/dcgan_window_boxes.json``.

Run this tab alone with ``python -m demos.dcgan_windows``.
"""

import json
from pathlib import Path

import gradio as gr
import pandas as pd
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
    weights_problem,
    weights_status,
)
from demos.dcgan import SLUG, grid_picture, load_generator
from demos.kit import Page, Tab
from demos.share import query_value, share_query, share_row, wire_share
from models.dcgan import z_batch
from models.efficientnet_lite import EfficientNetLite0
from models.imaging import to_unit
from models.loading import WeightsUnavailableError, load_extra_file
from models.window_probe import detector_probability

TAB = Tab(id="dcgan_windows", strings={
    "title": {"en": "DCGAN: forgetting windows", "ja": "DCGAN：窓を忘れさせる"},
    "k": {
        "en": "k = window maps dropped (largest probe weight first)",
        "ja": "k = 落とす窓マップの数（プローブの重みの大きい順）",
    },
    "k_info": {
        "en": "The paper dropped every map with a positive weight: the maximum.",
        "ja": "論文は重みが正のマップをすべて落としました（最大値）。",
    },
    "how": {"en": "How a map is dropped", "ja": "マップの落とし方"},
    "how_zero": {"en": "set to zero (the paper)", "ja": "ゼロにする（論文）"},
    "how_mean": {"en": "set to its average activation", "ja": "平均の活性値にする"},
    "how_info": {
        "en": (
            "Zeroing also removes the map's average contribution, which tints the picture; the average keeps it and "
            "removes only the map's pattern."
        ),
        "ja": (
            "ゼロにするとマップの平均的な寄与も消えて色味が変わります。平均値にすると寄与は残り、マップの模様だけが消え"
            "ます。"
        ),
    },
    "control_seed": {"en": "Seed of the random maps (control)", "ja": "ランダムなマップのシード（対照）"},
    "show_detector": {
        "en": "Tint what the window detector sees (red; slower)",
        "ja": "窓検出器が見ている場所を赤く表示（遅くなります）",
    },
    "run": {"en": "Draw", "ja": "描画"},
    "figure": {
        "en": "Top: normal · middle: top-k window maps dropped · bottom: k random maps dropped",
        "ja": "上：通常 · 中：上位 k 個の窓マップを除去 · 下：ランダムな k 個のマップを除去",
    },
    "plot": {
        "en": "Predicted window area vs k, over many samples",
        "ja": "k に対する予測窓面積（多数のサンプルの平均）",
    },
    "plot_y": {"en": "predicted window area (%)", "ja": "予測された窓の面積（%）"},
    "plot_color": {"en": "The k maps dropped", "ja": "落とした k 個のマップ"},
    "curve_window": {"en": "window maps", "ja": "窓マップ"},
    "curve_random": {"en": "random maps", "ja": "ランダムなマップ"},
    "caption": {
        "en": (
            "Samples {seed}:0…{seed}:7. Dropped {k} of the {n} window maps (of {total} maps in the layer): {maps}. "
            "Control: random maps {random}."
        ),
        "ja": (
            "サンプル {seed}:0…{seed}:7。{n} 個の窓マップ（この層のマップは全 {total} 個）のうち {k} "
            "個を落としました：{maps}。対照：ランダムなマップ {random}。"
        ),
    },
    "areas": {
        "en": (
            " Window area predicted by the detector (mean of the 8) — normal: {normal} %, windows dropped: {windows} "
            "%, random maps dropped: {random} %."
        ),
        "ja": (
            " 検出器が予測した窓面積（8 枚の平均）— 通常：{normal} %、窓マップを除去：{windows} "
            "%、ランダムなマップを除去：{random} %。"
        ),
    },
    "slide_caption": {
        "en": (
            "The same generated bedrooms drawn normally (top), with the generator's k \"window\" feature maps "
            "dropped (middle) and with k random maps dropped (bottom): the windows vanish only in the middle row."
        ),
        "ja": (
            "同じ生成寝室を、通常どおり（上）、生成器の「窓」特徴マップ k 個を落として（中）、ランダムな k "
            "個のマップを落として（下）描いたもの。窓が消えるのは中段だけです。"
        ),
    },
    "slide_equation": {
        "en": r"p_{ij} = \sigma\left(\sum_c w_c\, h_{c,ij} + b\right),\qquad h_c \leftarrow 0 \quad (w_c > 0)",
        "ja": r"p_{ij} = \sigma\left(\sum_c w_c\, h_{c,ij} + b\right),\qquad h_c \leftarrow 0 \quad (w_c > 0)",
    },
    "summary": {
        "en": (
            "Probe fitted on {samples} hand-labelled samples ({boxes} window boxes): {n} of {total} maps have a "
            "positive weight (held-out AUC of the probe {probe_auc}). Window detector on the output images: held-out "
            "AUC {det_auc}. Over {scored} fresh samples the predicted window area is {base} % with nothing dropped, "
            "{win} % with the {k} window maps dropped and {rand} % with {k} random maps dropped (mean of {draws} "
            "draws)."
        ),
        "ja": (
            "手作業でラベル付けした {samples} サンプル（窓のボックス {boxes} 個）でプローブを学習：全 {total} 個のうち "
            "{n} 個のマップの重みが正（プローブの検証用 AUC {probe_auc}）。出力画像に対する窓検出器の検証用 AUC "
            "{det_auc}。新しい {scored} サンプルで、予測窓面積は何も落とさないとき {base} %、{k} "
            "個の窓マップを落とすと {win} %、ランダムな {k} 個のマップを落とすと {rand} %（{draws} 回の抽選の平均）。"
        ),
    },
})

WINDOW_FILE = "window_feature_maps.json"
WINDOW_COMMAND = "python training/find_window_feature_maps.py"
N_SAMPLES = 8          # the first 8 samples of a seed (named seed:0 … seed:7 as in the arithmetic tab)
HOW = ("zero", "mean")  # zero the maps (the paper), or set them to their average activation
# The plot's colours, by series name in either language: window maps orange, random maps grey.
CURVE_COLORS = {**dict.fromkeys(TAB.strings.table["curve_window"].values(), "#ea580c"),
                **dict.fromkeys(TAB.strings.table["curve_random"].values(), "#6b7280")}


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def window_data() -> dict:
    """The probe, the window maps, the detector and the score curve (read once)."""
    try:
        return load_extra_file(SLUG, WINDOW_FILE, _read_json)
    except WeightsUnavailableError as err:
        raise weights_problem(err, WINDOW_COMMAND) from err


def load_detector_cnn() -> EfficientNetLite0:
    return load_or_explain(EfficientNetLite0, "efficientnet-lite0", "python training/convert_efficientnet_lite0.py")


# --- plain functions (testable without Gradio) ---------------------------------------------

def random_maps(n_maps: int, k: int, seed: int) -> list[int]:
    """k distinct maps out of n_maps, drawn with ``seed`` (the control)."""
    return torch.randperm(n_maps, generator=torch.Generator().manual_seed(seed))[:k].tolist()


@torch.inference_mode()
def forget(g, z: torch.Tensor, window_maps: list[int], k: int, control_seed: int, fill=None) -> dict:
    """The samples of z drawn normally, with the top-k window maps dropped, and with k random maps dropped
    (zeroed, or set to ``fill``). The second-highest layer is computed once and decoded three times."""
    h = g.features(z)
    control = random_maps(g.feature_maps, k, control_seed)
    return {
        "normal": g.decode_from(h),
        "windows": g.decode_from(g.drop(h, window_maps[:k], fill)),
        "random": g.decode_from(g.drop(h, control, fill)),
        "random_maps": control,
    }


def curve_for(data: dict, how: str) -> dict:
    return data.get("score_curves", {}).get(how, data["score_curve"])


@torch.inference_mode()
def tint_windows(cnn, images: torch.Tensor, detector: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 3, 64, 64) in [-1, 1] with the detector's window cells (p > 0.5) tinted red, and the
    predicted window area of each (N,)."""
    x01 = to_unit(images)
    p = detector_probability(cnn, x01, detector)                                  # (N, 24, 24)
    area = p.mean(dim=(1, 2))
    mask = (F.interpolate(p[:, None], size=images.shape[-2:], mode="bilinear", align_corners=False) > 0.5).float()
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    tinted = x01 * (1 - 0.45 * mask) + red * 0.45 * mask
    return tinted * 2 - 1, area


def curve_frame(curve: dict) -> pd.DataFrame:
    """The score-vs-k curve as a long table for gr.LinePlot (window area in %); the series are named in the
    event's language."""
    rows = []
    for key, name in (("window", TAB.text("curve_window")), ("random_mean", TAB.text("curve_random"))):
        rows += [{"k": k, "window area (%)": 100 * v, "maps dropped": name} for k, v in zip(curve["k"], curve[key])]
    return pd.DataFrame(rows)


# --- Gradio handlers ----------------------------------------------------------------------

def dcgan_forget_windows(seed, k, how: str = "zero", control_seed=0, show_detector: bool = False) -> dict:
    """api ``/dcgan_forget_windows``: samples seed:0…7 drawn normally (top row), with the top-k window maps
    dropped (middle row) and with k random maps dropped (bottom row); ``how``: "zero" (the paper) or "mean"
    (each dropped map set to its average activation). Returns {"figure": ..., "caption": ...}, in this order."""
    seed = check_seed(seed)
    control_seed = check_seed(control_seed)
    check_choice(how, HOW)
    data = window_data()
    n_window = len(data["window_maps"])
    k = int(check_range(k, 0, n_window, TAB.phrase("k")))
    g = load_generator()
    fill = data["map_means"] if how == "mean" else None
    r = forget(g, z_batch(seed, g.nz)[:N_SAMPLES], data["window_maps"], k, control_seed, fill)
    rows = [r["normal"], r["windows"], r["random"]]
    areas = ""
    if show_detector:
        cnn = load_detector_cnn()
        tinted = [tint_windows(cnn, x, data["detector"]) for x in rows]
        rows = [t for t, _a in tinted]
        areas = TAB.text("areas", normal=f"{100 * float(tinted[0][1].mean()):.1f}",
                         windows=f"{100 * float(tinted[1][1].mean()):.1f}",
                         random=f"{100 * float(tinted[2][1].mean()):.1f}")
    figure = grid_picture(torch.cat(rows), nrow=N_SAMPLES)
    caption = TAB.text("caption", seed=seed, k=k, n=n_window, total=g.feature_maps,
                       maps=", ".join(map(str, data["window_maps"][:k])) or "—",
                       random=", ".join(map(str, sorted(r["random_maps"]))) or "—") + areas
    return {"figure": figure, "caption": caption}


def dcw_share_query(seed, k, how, control_seed, show_detector) -> str:
    return share_query(TAB, seed=int(seed or 0), k=int(k), how=str(how), control=int(control_seed or 0),
                       detector=int(bool(show_detector)))


def dcw_plot(how: str) -> dict:
    """The score-vs-k plot (its table, and its axis and legend titles in the event's language) and the summary for
    the chosen way of dropping maps: {"plot": ..., "summary": ...}."""
    check_choice(how, HOW)
    data = window_data()
    # x: just "k" (a longer title collides with the legend's title on a phone)
    plot = gr.update(value=curve_frame(curve_for(data, how)), x_title="k", y_title=TAB.text("plot_y"),
                     color_title=TAB.text("plot_color"))
    return {"plot": plot, "summary": summary_markdown(data, how)}


def summary_markdown(data: dict, how: str = "zero") -> str:
    probe, det, curve = data["probe"], data["detector"], curve_for(data, how)
    last = len(curve["k"]) - 1
    return TAB.text("summary", samples=data["labelled_samples"], boxes=data["boxes"], n=len(data["window_maps"]),
                    total=data["feature_maps"], probe_auc=f"{probe.get('held_out_auc', float('nan')):.2f}",
                    det_auc=f"{det.get('held_out_auc', float('nan')):.2f}", scored=curve["samples"],
                    base=f"{100 * curve['window'][0]:.1f}", k=curve["k"][last],
                    win=f"{100 * curve['window'][last]:.1f}", rand=f"{100 * curve['random_mean'][last]:.1f}",
                    draws=curve["random_draws"])


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): load G and the window maps; set the k slider's
    range; draw the (share link's) example and the plot. Returns updates by name: status, run, seed, k, how,
    control_seed, show_detector, figure, caption, plot, summary."""
    seed = query_value(request, "seed", int, 0, MAX_SEED, default=0)
    control = query_value(request, "control", int, 0, MAX_SEED, default=0)
    how = query_value(request, "how", str, choices=HOW, default="zero")
    show = bool(query_value(request, "detector", int, 0, 1, default=0))
    settings = {"seed": gr.update(value=seed), "how": gr.update(value=how), "control_seed": gr.update(value=control),
                "show_detector": gr.update(value=show)}
    try:
        data = window_data()
        load_generator()
    except gr.Error as err:
        off = gr.update(interactive=False)
        return {"status": show_weights_problem(err), "run": off, "k": off, **settings}
    n = len(data["window_maps"])
    k = query_value(request, "k", int, 0, n, default=n)
    return {"status": gr.update(visible=False), "run": gr.update(interactive=True), **settings,
            "k": gr.update(minimum=0, maximum=n, value=k, interactive=True),
            **dcgan_forget_windows(seed, k, how, control, show), **dcw_plot(how)}


# --- the tab -----------------------------------------------------------------------------

@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown). At 1366×768: the controls and the
    before/after figure side by side; the plot over many samples and the explanation below."""
    _ = TAB.ui
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=260):
                seed, dice = seed_input(0)
                k = controls.Slider(0, 48, value=0, step=1, label=_("k"), info=_("k_info"))
                run = gr.Button(_("run"), variant="primary")
                # the options below redraw the figure as soon as they change
                how = controls.Radio([(_("how_zero"), "zero"), (_("how_mean"), "mean")], value="zero",
                                     label=_("how"), info=_("how_info"))
                control_seed = controls.Number(value=0, label=_("control_seed"), precision=0, minimum=0,
                                               maximum=MAX_SEED)
                show_detector = gr.Checkbox(value=False, label=_("show_detector"))
            with gr.Column(scale=9, min_width=340):
                figure = gr.Image(label=_("figure"), type="pil", interactive=False,
                                  buttons=["download", "fullscreen"], height=380)  # a height keeps the label off it
                caption = gr.Markdown()
                with gr.Row():
                    page.slide_button(results=[figure], settings=[seed, k, how, control_seed, show_detector])
                    with gr.Column(scale=3, min_width=260):
                        share_button, share_link = share_row()
        with gr.Row():
            with gr.Column(scale=6, min_width=340):
                # no height: with one, Gradio 6.31 cuts off the legend under the plot
                plot = gr.LinePlot(x="k", y="window area (%)", color="maps dropped", label=_("plot"),
                                   color_map=CURVE_COLORS)
                summary = gr.Markdown()
            with gr.Column(scale=4, min_width=280):
                TAB.explanation()

        inputs = [seed, k, how, control_seed, show_detector]
        # The api's outputs, in this order (gradio_client sees a tuple): what dcgan_forget_windows returns, by name.
        outputs = {"figure": figure, "caption": caption}
        page.on(run.click, dcgan_forget_windows, inputs, outputs, api_name="dcgan_forget_windows")
        quiet = dict(show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        page.on(k.release, dcgan_forget_windows, inputs, outputs, **quiet)
        page.on(seed.submit, dcgan_forget_windows, inputs, outputs, **quiet)
        page.on(control_seed.submit, dcgan_forget_windows, inputs, outputs, **quiet)
        page.on(show_detector.input, dcgan_forget_windows, inputs, outputs, **quiet)
        redrawn = page.on(how.input, dcgan_forget_windows, inputs, outputs, **quiet)
        page.on(redrawn.then, dcw_plot, how, {"plot": plot, "summary": summary}, **quiet)
        rolled = page.on(dice.click, new_seed, None, seed, queue=False, api_visibility="private")
        page.on(rolled.then, dcgan_forget_windows, inputs, outputs, **quiet)
        wire_share(page, share_button, share_link, dcw_share_query, inputs)
        page.when_shown(demo, open_tab, {
            "status": status, "run": run, "seed": seed, "k": k, "how": how, "control_seed": control_seed,
            "show_detector": show_detector, **outputs, "plot": plot, "summary": summary})
    return demo


if __name__ == "__main__":
    TAB.launch()
