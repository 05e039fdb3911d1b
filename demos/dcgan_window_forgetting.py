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

Run this tab alone with ``python -m demos.dcgan_window_forgetting``.
"""

import json
from pathlib import Path

import pandas as pd
import torch
from torch.nn import functional as F

import gradio as gr

from demos.common import MAX_SEED, check_range, check_seed, explanation, load_or_explain, new_seed, seed_input, show_weights_problem, weights_status
from demos.dcgan_bedroom_arithmetic import SLUG, load_generator, tile, z_batch
from demos.i18n import _, text
from demos.share import query_value, share_query, share_row, when_shown, wire_share
from models.efficientnet_lite import EfficientNetLite0
from models.loading import WeightsUnavailableError, load_extra_file
from models.window_probe import detector_probability

WINDOW_FILE = "window_feature_maps.json"
WINDOW_COMMAND = "python training/find_window_feature_maps.py"
N_SAMPLES = 8          # the first 8 samples of a seed (named seed:0 … seed:7 as in the arithmetic tab)
HOW = ("zero", "mean")  # zero the maps (the paper), or set them to their average activation


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def window_data(request: gr.Request | None = None) -> dict:
    """The probe, the window maps, the detector and the score curve (read once)."""
    try:
        return load_extra_file(SLUG, WINDOW_FILE, _read_json)
    except WeightsUnavailableError as err:
        raise gr.Error(text("err.weights", request, slug=err.slug, reason=err.reason, command=WINDOW_COMMAND), duration=None) from err


def load_detector_cnn(request: gr.Request | None = None) -> EfficientNetLite0:
    return load_or_explain(EfficientNetLite0, "efficientnet-lite0", "python training/convert_efficientnet_lite0.py", request)


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
    x01 = (images.clamp(-1, 1) + 1) / 2
    p = detector_probability(cnn, x01, detector)                                  # (N, 24, 24)
    area = p.mean(dim=(1, 2))
    mask = (F.interpolate(p[:, None], size=images.shape[-2:], mode="bilinear", align_corners=False) > 0.5).float()
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    tinted = x01 * (1 - 0.45 * mask) + red * 0.45 * mask
    return tinted * 2 - 1, area


def curve_frame(curve: dict, request: gr.Request | None = None) -> pd.DataFrame:
    """The score-vs-k curve as a long table for gr.LinePlot (window area in %)."""
    rows = []
    names = (("window", text("dcw.curve_window", request)), ("random_mean", text("dcw.curve_random", request)))
    for key, name in names:
        rows += [{"k": k, "window area (%)": 100 * v, "maps dropped": name} for k, v in zip(curve["k"], curve[key])]
    return pd.DataFrame(rows)


# --- Gradio handlers ----------------------------------------------------------------------

def dcgan_forget_windows(seed, k, how: str = "zero", control_seed=0, show_detector: bool = False,
                         request: gr.Request | None = None):
    """api ``/dcgan_forget_windows``: samples seed:0…7 drawn normally (top row), with the top-k window maps
    dropped (middle row) and with k random maps dropped (bottom row); ``how``: "zero" (the paper) or "mean"
    (each dropped map set to its average activation). Returns (figure, caption)."""
    seed = check_seed(seed, request)
    control_seed = check_seed(control_seed, request)
    if how not in HOW:
        raise gr.Error(text("err.choice", request, value=how, choices=", ".join(HOW)))
    data = window_data(request)
    n_window = len(data["window_maps"])
    k = int(check_range(k, 0, n_window, "dcw.k", request))
    g = load_generator(request)
    fill = data["map_means"] if how == "mean" else None
    r = forget(g, z_batch(seed, g.nz)[:N_SAMPLES], data["window_maps"], k, control_seed, fill)
    rows = [r["normal"], r["windows"], r["random"]]
    areas = ""
    if show_detector:
        cnn = load_detector_cnn(request)
        tinted = [tint_windows(cnn, x, data["detector"]) for x in rows]
        rows = [t for t, _a in tinted]
        areas = text("dcw.areas", request, normal=f"{100 * float(tinted[0][1].mean()):.1f}",
                     windows=f"{100 * float(tinted[1][1].mean()):.1f}", random=f"{100 * float(tinted[2][1].mean()):.1f}")
    figure = tile(torch.cat(rows), nrow=N_SAMPLES)
    caption = text("dcw.caption", request, k=k, n=n_window, total=g.feature_maps,
                   maps=", ".join(map(str, data["window_maps"][:k])) or "—",
                   random=", ".join(map(str, sorted(r["random_maps"]))) or "—") + areas
    return figure, caption


def dcw_share_query(seed, k, how, control_seed, show_detector) -> str:
    return share_query("dcgan_windows", seed=int(seed or 0), k=int(k), how=str(how), control=int(control_seed or 0),
                       detector=int(bool(show_detector)))


def dcw_plot(how: str, request: gr.Request | None = None):
    """The score-vs-k plot and the summary for the chosen way of dropping maps."""
    if how not in HOW:
        raise gr.Error(text("err.choice", request, value=how, choices=", ".join(HOW)))
    data = window_data(request)
    return curve_frame(curve_for(data, how), request), summary_markdown(data, how, request)


def summary_markdown(data: dict, how: str = "zero", request: gr.Request | None = None) -> str:
    probe, det, curve = data["probe"], data["detector"], curve_for(data, how)
    last = len(curve["k"]) - 1
    return text("dcw.summary", request, samples=data["labelled_samples"], boxes=data["boxes"], n=len(data["window_maps"]),
                total=data["feature_maps"], probe_auc=f"{probe.get('held_out_auc', float('nan')):.2f}",
                det_auc=f"{det.get('held_out_auc', float('nan')):.2f}", scored=curve["samples"],
                base=f"{100 * curve['window'][0]:.1f}", k=curve["k"][last], win=f"{100 * curve['window'][last]:.1f}",
                rand=f"{100 * curve['random_mean'][last]:.1f}", draws=curve["random_draws"])


def open_tab(request: gr.Request | None = None):
    """When the student first sees the tab (see ``when_shown``): load G and the window maps; set the k slider's range; draw the (share link's)
    example and the plot. Returns updates for (status, run, seed, k, how, control seed, detector, figure, caption,
    plot, summary)."""
    seed = query_value(request, "seed", int, 0, MAX_SEED, default=0)
    control = query_value(request, "control", int, 0, MAX_SEED, default=0)
    how = query_value(request, "how", str, choices=HOW, default="zero")
    show = bool(query_value(request, "detector", int, 0, 1, default=0))
    try:
        data = window_data(request)
        load_generator(request)
    except gr.Error as err:
        off = gr.update(interactive=False)
        return (show_weights_problem(err), off, gr.update(value=seed), off, gr.update(value=how), gr.update(value=control),
                gr.update(value=show), *[gr.update()] * 4)
    n = len(data["window_maps"])
    k = query_value(request, "k", int, 0, n, default=n)
    figure, caption = dcgan_forget_windows(seed, k, how, control, show, request)
    return (gr.update(visible=False), gr.update(interactive=True), gr.update(value=seed),
            gr.update(minimum=0, maximum=n, value=k, interactive=True), gr.update(value=how), gr.update(value=control),
            gr.update(value=show), figure, caption, *dcw_plot(how, request))


# --- the tab -----------------------------------------------------------------------------

def create_demo(tab: gr.Tab | None = None) -> gr.Blocks:
    """The tab's Blocks; in the gallery, ``tab`` is the ``gr.Tab`` it is shown in (see ``when_shown``)."""
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=260):
                seed, dice = seed_input(0)
                k = gr.Slider(0, 48, value=0, step=1, label=_("dcw.k"), info=_("dcw.k_info"))
                how = gr.Radio([(_("dcw.how_zero"), "zero"), (_("dcw.how_mean"), "mean")], value="zero",
                               label=_("dcw.how"), info=_("dcw.how_info"))
                control_seed = gr.Number(value=0, label=_("dcw.control_seed"), precision=0, minimum=0, maximum=MAX_SEED)
                show_detector = gr.Checkbox(value=False, label=_("dcw.show_detector"))
                run = gr.Button(_("dcw.run"), variant="primary")
                share_button, share_link = share_row()
            with gr.Column(scale=6, min_width=420):
                figure = gr.Image(label=_("dcw.figure"), type="pil", interactive=False, buttons=["download"])
                caption = gr.Markdown()
                plot = gr.LinePlot(x="k", y="window area (%)", color="maps dropped", label=_("dcw.plot"), height=320)
                summary = gr.Markdown()
            with gr.Column(scale=3, min_width=260):
                explanation("dcw.explain")

        inputs = [seed, k, how, control_seed, show_detector]
        run.click(dcgan_forget_windows, inputs, [figure, caption], api_name="dcgan_forget_windows")
        quiet = dict(show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        k.release(dcgan_forget_windows, inputs, [figure, caption], **quiet)
        seed.submit(dcgan_forget_windows, inputs, [figure, caption], **quiet)
        show_detector.input(dcgan_forget_windows, inputs, [figure, caption], **quiet)
        how.input(dcgan_forget_windows, inputs, [figure, caption], **quiet).then(dcw_plot, how, [plot, summary], **quiet)
        dice.click(new_seed, None, seed, queue=False, api_visibility="private").then(
            dcgan_forget_windows, inputs, [figure, caption], **quiet)
        wire_share(share_button, share_link, dcw_share_query, inputs)
        when_shown(demo, tab, open_tab, [status, run, seed, k, how, control_seed, show_detector, figure, caption, plot, summary])
    return demo


if __name__ == "__main__":
    from demos.i18n import make_i18n

    create_demo().launch(i18n=make_i18n(), max_file_size="10mb")
