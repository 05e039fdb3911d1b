"""pix2pix tab: draw a cat's edges (or upload a photo) and watch two generators paint a cat.

Isola, Zhu, Zhou & Efros, "Image-to-Image Translation with Conditional Adversarial Networks",
CVPR 2017 — the edges2cats demo that made it famous (Christopher Hesse, 2017). A U-Net generator G
turns an edge map x into a photo; it is trained with

    G* = arg min_G max_D  L_cGAN(G, D) + λ · E‖y − G(x)‖₁ ,   λ = 100,

where the PatchGAN discriminator D sees (edges, photo) pairs and scores every 70x70 patch. The tab
shows that generator beside one trained with the L1 term alone, on the same photos, so students
see what the adversarial term adds: sharp texture instead of a blurry per-pixel median.

Inputs are always made the way the training pairs were: a sketch is shrunk to 128x128 and
binarised (black lines on white); a photo's centre square is shrunk to 128x128 and its edges are
found by ``models.edges.photo_to_lines`` (Canny), the very function that made the training inputs.

Weights: ``pretrained/pix2pix-edges2cats`` (cGAN + L1) and ``pretrained/pix2pix-edges2cats-l1``
(L1 only), both ``models.pix2pix.UNetGenerator`` with an EfficientNet-Lite0 encoder (transfer learning from
ImageNet) and resize-convolutions in the decoder (Odena et al. 2016: no checkerboard), trained by
``training/train_pix2pix.py`` on real cat photos. The examples are edge maps of held-out test photos
(``demos/examples/pix2pix``).

Run this tab alone with ``python -m demos.pix2pix``.
"""

from pathlib import Path

import gradio as gr
import numpy as np
import PIL.Image
import torch
from torch.nn import functional as F

from demos.common import (
    MAX_SEED,
    check_seed,
    load_or_explain,
    new_seed,
    seed_input,
    show_weights_problem,
    weights_status,
)
from demos.i18n import COMMON, warn
from demos.image_input import (
    MAX_SIDE,
    DigitCanvas,
    composite_of,
    photo_input_with_examples,
    photo_to_tensor,
    to_float_array,
    wire_canvas,
    wire_photo,
)
from demos.kit import Page, Tab
from demos.share import query_value, share_query, share_row, wire_share
from models.edges import photo_to_lines, sketch_to_lines
from models.imaging import to_pil
from models.pix2pix import UNetGenerator

TAB = Tab(id="pix2pix", strings={
    "title": {"en": "pix2pix: edges → cats", "ja": "pix2pix：線画 → 猫"},
    "sketch_tab": {"en": "✏️ Draw", "ja": "✏️ 描く"},
    "photo_tab": {"en": "📷 Photo", "ja": "📷 写真"},
    "sketch": {"en": "Your sketch", "ja": "線画"},  # short: the pad's tools cover the end of a longer label
    "sketch_hint": {
        "en": (
            "Draw the outline of a cat in black on white — ears, eyes, nose, the body — or pick an edge map of a "
            "held-out test photo below and change it."
        ),
        "ja": (
            "白地に黒い線で、猫の輪郭（耳・目・鼻・体）を描いてください。下のテスト写真の線画を選んで描き足すこともできます。"
        ),
    },
    "photo": {"en": "A photo (its edges are extracted)", "ja": "写真（エッジを抽出します）"},
    "photo_hint": {
        "en": (
            "Upload a photo: its centre square is shrunk to 128×128 and its edges are found with the Canny detector, "
            "exactly as for the training pairs."
        ),
        "ja": (
            "写真をアップロードすると、中央の正方形を 128×128 に縮小し、学習データと同じ Canny 法でエッジを抽出します。"
        ),
    },
    "examples": {
        "en": "Edge maps of test photos (never seen in training)",
        "ja": "テスト写真の線画（学習には使っていません）",
    },
    "photo_examples": {"en": "Example photos", "ja": "写真の例"},
    "dropout": {
        "en": "Dropout at test time (the paper's only noise)",
        "ja": "テスト時にもドロップアウト（論文で唯一のノイズ）",
    },
    "run_sketch": {"en": "Translate the sketch", "ja": "線画を変換"},
    "run_photo": {"en": "Extract edges and translate", "ja": "エッジを抽出して変換"},
    "edges": {"en": "Input to the generators (128×128 edge map)", "ja": "生成器への入力（128×128 の線画）"},
    "gan": {"en": "pix2pix: cGAN + λ·L1", "ja": "pix2pix：cGAN + λ·L1"},
    "l1": {"en": "L1 loss only", "ja": "L1 損失のみ"},
    "note": {
        "en": (
            "Both generators are the same U-Net — its encoder is EfficientNet-Lite0 with ImageNet weights, its decoder "
            "enlarges by resize-convolutions (no checkerboard) — trained on the same photos; only the loss differs "
            "(and the L1-only one trained for fewer steps). Outputs are 128×128, shown enlarged."
        ),
        "ja": (
            "2 つの生成器は同じ U-Net（エンコーダーは ImageNet で学習済みの EfficientNet-Lite0、デコーダーは"
            "市松模様の出ないリサイズ畳み込み）で、同じ写真で学習しました。違いは損失関数だけです（L1 のみの方は"
            "学習ステップが少なめ）。出力は 128×128 を拡大表示しています。"
        ),
    },
    "err_empty": {
        "en": "The sketch is empty: no lines were found. Draw the outline of a cat first, or pick an example.",
        "ja": "線画が空です（線が見つかりません）。先に猫の輪郭を描くか、例を選んでください。",
    },
    "warn_dense": {
        "en": (
            "More than {percent}% of this drawing is dark, so it does not look like a line drawing. For a photo, use "
            "the 📷 Photo tab, which extracts its edges."
        ),
        "ja": (
            "この画像は {percent}% 以上が暗く、線画には見えません。写真なら、エッジを抽出する「📷 "
            "写真」タブを使ってください。"
        ),
    },
    "warn_no_edges": {
        "en": "Almost no edges were found in this photo (too small, too blurred or too flat), so the generators get "
              "a nearly blank page. Try a larger, sharper photo.",
        "ja": ("この写真にはエッジがほとんど見つかりませんでした（小さすぎる・ぼやけている・のっぺりしている）。"
               "生成器にはほぼ白紙が渡ります。もっと大きく、くっきりした写真を試してください。"),
    },
    "slide_caption": {
        "en": "pix2pix: a conditional GAN (U-Net generator, PatchGAN discriminator) turns a line drawing into a cat "
              "photo; the GAN loss makes it sharp, the L1 loss alone blurry.",
        "ja": "pix2pix：条件付き GAN（U-Net の生成器と PatchGAN の識別器）が線画を猫の写真に変換します。"
              "GAN 損失があるとくっきりし、L1 損失だけではぼやけます。",
    },
    "slide_equation": {
        "en": r"G^* = \arg\min_G \max_D\ \mathcal{L}_{cGAN}(G, D) + \lambda\, \mathbb{E}_{x,y,z}\,\|y - G(x, z)\|_1",
        "ja": r"G^* = \arg\min_G \max_D\ \mathcal{L}_{cGAN}(G, D) + \lambda\, \mathbb{E}_{x,y,z}\,\|y - G(x, z)\|_1",
    },
})

SLUG = "pix2pix-edges2cats"
L1_SLUG = "pix2pix-edges2cats-l1"
TRAINING_COMMAND = "python training/train_pix2pix.py --data-dir ../shared/data"
SIZE = 128                 # the generators' input and output size
DISPLAY = 256              # outputs are shown enlarged to this size
DENSE = 0.5                # a "sketch" darker than this fraction is probably not a line drawing
FEW_EDGES = 0.002          # a photo whose edge map is less dark than this (~30 of 128² pixels) has almost no edges
EXAMPLES = Path(__file__).parent / "examples" / "pix2pix"


def example_files() -> list[str]:
    return sorted(str(p) for p in EXAMPLES.glob("*.png"))


def load_models() -> tuple[UNetGenerator, UNetGenerator]:
    """(cGAN + L1 generator, L1-only generator), loaded once, or a Problem saying how to get the weights."""
    return (load_or_explain(UNetGenerator, SLUG, TRAINING_COMMAND),
            load_or_explain(UNetGenerator, L1_SLUG, TRAINING_COMMAND))


# --- inputs as the generators were trained on ----------------------------------------------

def sketch_to_input(value) -> torch.Tensor:
    """A sketchpad value (or any image) → the generators' input (1, 1, 128, 128): black lines (0) on white (1).

    Transparency is flattened on white, a non-square drawing is padded with white to a square, then it is
    area-averaged to 128x128 and binarised. An empty drawing is a Problem; a mostly dark one gets a warning."""
    img = composite_of(value)
    if isinstance(img, np.ndarray):
        img = PIL.Image.fromarray(img)
    if img is None:
        raise TAB.problem("err_empty")
    if not isinstance(img, PIL.Image.Image) or min(img.size) < 1:
        raise COMMON.problem("err.unreadable")
    if max(img.size) > MAX_SIDE:
        warn(COMMON.text("warn.downscaled", w=img.size[0], h=img.size[1], side=MAX_SIDE))
        img = img.copy()
        img.thumbnail((MAX_SIDE, MAX_SIDE))
    grey, alpha = to_float_array(img)                                           # (H, W) in [0, 1]
    if alpha is not None:
        grey = grey * alpha + (1.0 - alpha)                                     # transparent = white paper
    x = torch.from_numpy(np.ascontiguousarray(grey, dtype=np.float32))[None, None]
    h, w = x.shape[-2:]
    side = max(h, w)
    x = F.pad(x, ((side - w) // 2, side - w - (side - w) // 2, (side - h) // 2, side - h - (side - h) // 2),
              value=1.0)
    lines = sketch_to_lines(x, SIZE)
    dark = 1.0 - float(lines.mean())
    if dark == 0.0:
        raise TAB.problem("err_empty")
    if dark > DENSE:
        warn(TAB.text("warn_dense", percent=round(100 * DENSE)))
    return lines


def photo_to_input(image) -> torch.Tensor:
    """A photo → its centre square at 128x128 → Canny edges as the generators' input (1, 1, 128, 128). A photo with
    almost no edges gets a notice (the generators then paint a blank page)."""
    x = photo_to_tensor(image, 4 * SIZE)                                        # (1, 3, H, W), longer side ≤ 512
    h, w = x.shape[-2:]
    s = min(h, w)
    x = x[..., (h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    x = F.interpolate(x, size=(SIZE, SIZE), mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)
    lines = photo_to_lines(x)
    if 1.0 - float(lines.mean()) < FEW_EDGES:
        warn(TAB.text("warn_no_edges"))
    return lines


# --- the translation -----------------------------------------------------------------------

@torch.inference_mode()
def translate(generator: UNetGenerator, lines: torch.Tensor, dropout_noise: bool = False,
              seed: int = 0) -> torch.Tensor:
    """G(x) for an edge map (1, 1, 128, 128) → (1, 3, 128, 128) in [0, 1]. With ``dropout_noise`` the decoder's
    dropout stays on (seeded), as the paper did at test time."""
    if not dropout_noise:
        return generator(lines)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return generator(lines, dropout_noise=True)


def _run(lines: torch.Tensor, dropout_noise: bool, seed) -> dict:
    seed = check_seed(seed)
    gan, l1 = load_models()
    dropout_noise = bool(dropout_noise)
    scale = DISPLAY // SIZE  # the edge map enlarged with crisp pixels, the photos smoothly
    return {"edges": to_pil(lines, scale=scale),
            "gan": to_pil(translate(gan, lines, dropout_noise, seed), scale=scale, smooth=True),
            "l1": to_pil(translate(l1, lines, dropout_noise, seed), scale=scale, smooth=True)}


def pix2pix(sketch, dropout_noise: bool = False, seed: int = 0) -> dict:
    """The tab's main action (api ``/pix2pix``): a sketch → the edge map as used, the cGAN + L1 output and the
    L1-only output."""
    return _run(sketch_to_input(sketch), dropout_noise, seed)


def pix2pix_photo(photo, dropout_noise: bool = False, seed: int = 0) -> dict:
    """api ``/pix2pix_photo``: a photo → its Canny edges → the edge map as used, the cGAN + L1 output and the
    L1-only output."""
    return _run(photo_to_input(photo), dropout_noise, seed)


def pix2pix_live(sketch, dropout_noise: bool = False, seed: int = 0) -> dict:
    """``pix2pix`` for the live events (a stroke drawn, an example picked): an empty or cleared canvas, or a
    bad value, leaves the outputs as they are."""
    try:
        return pix2pix(sketch, dropout_noise, seed)
    except gr.Error:
        return {}


def p2p_share_query(dropout_noise: bool, seed) -> str:
    """The query string of a share link to this tab: the dropout switch and the seed (never the drawing)."""
    return share_query(TAB, dropout=int(bool(dropout_noise)), seed=int(seed or 0))


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): load the weights; if they are missing, show why
    and disable only this tab. Otherwise take the settings of a share link (if any), put the first test edge map on
    the sketchpad and show its results."""
    settings = {"dropout": bool(query_value(request, "dropout", int, 0, 1, default=0)),
                "seed": query_value(request, "seed", int, 0, MAX_SEED, default=0)}
    try:
        load_models()
    except gr.Error as err:
        off = gr.update(interactive=False)
        return {"status": show_weights_problem(err), "run_sketch": off, "run_photo": off, **settings}
    on = gr.update(interactive=True)
    opened = {"status": gr.update(visible=False), "run_sketch": on, "run_photo": on}
    examples = example_files()
    if not examples:
        return {**opened, **settings}
    with PIL.Image.open(examples[0]) as img:
        first = pix2pix(img.copy(), settings["dropout"], settings["seed"])
    return {**opened, "sketch": examples[0], **first, **settings}


def sketchpad(label, **kwargs) -> DigitCanvas:
    """A 256x256 drawing area with a thin black brush (like the edges2cats demo); uploads are accepted too."""
    return DigitCanvas(
        label=label,
        type="pil",
        image_mode="RGBA",
        sources=("upload", "clipboard"),
        canvas_size=(DISPLAY, DISPLAY),
        fixed_canvas=True,
        elem_classes=["digit-canvas"],  # the pen after "clear", a message for a dropped PDF (image_input.wire_canvas)
        brush=gr.Brush(default_size=3, colors=["#000000"], color_mode="fixed"),
        layers=False,
        transforms=(),
        **kwargs,
    )


@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown)."""
    _ = TAB.ui
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=300):
                with gr.Tabs():
                    with gr.Tab(_("sketch_tab")):
                        gr.Markdown(_("sketch_hint"))
                        sketch = sketchpad(_("sketch"), height=340, elem_id="pix2pix-canvas")
                        run_sketch = gr.Button(_("run_sketch"), variant="primary")
                        examples = gr.Examples([[p] for p in example_files()], inputs=[sketch], label=_("examples"),
                                               examples_per_page=8)
                    with gr.Tab(_("photo_tab")):
                        gr.Markdown(_("photo_hint"))
                        photo = photo_input_with_examples(_("photo"), _("photo_examples"), height=300)
                        run_photo = gr.Button(_("run_photo"), variant="primary")
                with gr.Row(equal_height=True):
                    dropout = gr.Checkbox(False, label=_("dropout"), scale=3)
                    with gr.Column(scale=2, min_width=160):
                        seed, dice = seed_input(0)
                share_button, share_link = share_row()
            with gr.Column(scale=5, min_width=380):
                image_opts = dict(type="pil", interactive=False, buttons=["download"], min_width=180)
                with gr.Row():
                    out_gan = gr.Image(label=_("gan"), height=320, **image_opts)
                    out_l1 = gr.Image(label=_("l1"), height=320, **image_opts)
                with gr.Row():
                    out_edges = gr.Image(label=_("edges"), height=240, **image_opts)
                    with gr.Column(min_width=220):  # beside the input on a wide screen, below it on a phone
                        gr.Markdown(_("note"))
                page.slide_button([out_edges, out_gan, out_l1], [dropout, seed])
            with gr.Column(scale=4, min_width=300):
                TAB.explanation()

        # The api's outputs, in this order (gradio_client sees a tuple): what pix2pix returns, by name.
        outputs = {"edges": out_edges, "gan": out_gan, "l1": out_l1}
        page.on(run_sketch.click, pix2pix, [sketch, dropout, seed], outputs, api_name="pix2pix")
        page.on(run_photo.click, pix2pix_photo, [photo, dropout, seed], outputs, api_name="pix2pix_photo")
        wire_photo(page, photo)
        quiet = dict(show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        for drawn in wire_canvas(page, demo, sketch):
            page.on(drawn, pix2pix_live, [sketch, dropout, seed], outputs, **quiet)
        page.on(sketch.upload, pix2pix, [sketch, dropout, seed], outputs, **quiet)  # a failed upload says why
        page.on(examples.load_input_event.then, pix2pix_live, [sketch, dropout, seed], outputs, **quiet)
        page.on(dice.click, new_seed, None, seed, queue=False, api_visibility="private")
        wire_share(page, share_button, share_link, p2p_share_query, [dropout, seed])
        page.when_shown(demo, open_tab, {"status": status, "run_sketch": run_sketch, "run_photo": run_photo,
                                         "sketch": sketch, **outputs, "dropout": dropout, "seed": seed})
    return demo


if __name__ == "__main__":
    TAB.launch()
