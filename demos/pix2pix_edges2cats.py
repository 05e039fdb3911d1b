"""pix2pix tab: draw a cat's edges (or upload a photo) and watch two generators paint a cat.

Isola, Zhu, Zhou & Efros, "Image-to-Image Translation with Conditional Adversarial Networks",
CVPR 2017 — the edges2cats demo that made it famous (Christopher Hesse, 2017). A U-Net generator G
turns an edge map x into a photo; it is trained with

    G* = arg min_G max_D  L_cGAN(G, D) + λ · E‖y − G(x)‖₁ ,   λ = 100,

where the PatchGAN discriminator D sees (edges, photo) pairs and scores every 70x70 patch. The tab
shows that generator beside one trained with the L1 term alone, on the same batches, so students
see what the adversarial term adds: sharp texture instead of a blurry per-pixel median.

Inputs are always made the way the training pairs were: a sketch is shrunk to 128x128 and
binarised (black lines on white); a photo's centre square is shrunk to 128x128 and its edges are
found by ``models.edges.photo_to_lines`` (Canny), the very function that made the training inputs.

Weights: ``pretrained/pix2pix-edges2cats`` (cGAN + L1) and ``pretrained/pix2pix-edges2cats-l1``
(L1 only), both ``models.pix2pix.UNetGenerator`` trained by ``training/train_pix2pix.py`` on real
cat photos. The examples are edge maps of held-out test photos (``demos/examples/pix2pix``).

Run this tab alone with ``python -m demos.pix2pix_edges2cats``.
"""

from pathlib import Path

import numpy as np
import PIL.Image
import torch
from torch.nn import functional as F

import gradio as gr

from demos.common import (MAX_SEED, check_seed, explanation, load_or_explain, new_seed, seed_input, show_weights_problem,
                          weights_status)
from demos.i18n import _, text
from demos.image_input import (MAX_SIDE, DigitCanvas, composite_of, photo_input_with_examples, photo_to_tensor,
                               to_float_array)
from demos.share import query_value, share_query, share_row, when_shown, wire_share
from models.edges import photo_to_lines, sketch_to_lines
from models.pix2pix import UNetGenerator

SLUG = "pix2pix-edges2cats"
L1_SLUG = "pix2pix-edges2cats-l1"
TRAINING_COMMAND = "python training/train_pix2pix.py --data-dir ../shared/data"
SIZE = 128                 # the generators' input and output size
DISPLAY = 256              # outputs are shown enlarged to this size
DENSE = 0.5                # a "sketch" darker than this fraction is probably not a line drawing
EXAMPLES = Path(__file__).parent / "examples" / "pix2pix"
N_OUTPUTS = 3              # edges as used, cGAN + L1, L1 only


def example_files() -> list[str]:
    return sorted(str(p) for p in EXAMPLES.glob("*.png"))


def load_models(request: gr.Request | None = None) -> tuple[UNetGenerator, UNetGenerator]:
    """(cGAN + L1 generator, L1-only generator), loaded once, or a gr.Error saying how to get the weights."""
    return (load_or_explain(UNetGenerator, SLUG, TRAINING_COMMAND, request),
            load_or_explain(UNetGenerator, L1_SLUG, TRAINING_COMMAND, request))


# --- inputs as the generators were trained on ----------------------------------------------

def sketch_to_input(value, request: gr.Request | None = None) -> torch.Tensor:
    """A sketchpad value (or any image) → the generators' input (1, 1, 128, 128): black lines (0) on white (1).

    Transparency is flattened on white, a non-square drawing is padded with white to a square, then it is
    area-averaged to 128x128 and binarised. An empty drawing is a gr.Error; a mostly dark one gets a warning."""
    img = composite_of(value)
    if isinstance(img, np.ndarray):
        img = PIL.Image.fromarray(img)
    if img is None:
        raise gr.Error(text("p2p.err_empty", request))
    if not isinstance(img, PIL.Image.Image) or min(img.size) < 1:
        raise gr.Error(text("err.unreadable", request))
    if max(img.size) > MAX_SIDE:
        gr.Warning(text("warn.downscaled", request, w=img.size[0], h=img.size[1], side=MAX_SIDE))
        img = img.copy()
        img.thumbnail((MAX_SIDE, MAX_SIDE))
    grey, alpha = to_float_array(img)                                           # (H, W) in [0, 1]
    if alpha is not None:
        grey = grey * alpha + (1.0 - alpha)                                     # transparent = white paper
    x = torch.from_numpy(np.ascontiguousarray(grey, dtype=np.float32))[None, None]
    h, w = x.shape[-2:]
    side = max(h, w)
    x = F.pad(x, ((side - w) // 2, side - w - (side - w) // 2, (side - h) // 2, side - h - (side - h) // 2), value=1.0)
    lines = sketch_to_lines(x, SIZE)
    dark = 1.0 - float(lines.mean())
    if dark == 0.0:
        raise gr.Error(text("p2p.err_empty", request))
    if dark > DENSE:
        gr.Warning(text("p2p.warn_dense", request, percent=round(100 * DENSE)))
    return lines


def photo_to_input(image, request: gr.Request | None = None) -> torch.Tensor:
    """A photo → its centre square at 128x128 → Canny edges as the generators' input (1, 1, 128, 128)."""
    x = photo_to_tensor(image, 4 * SIZE, request)                               # (1, 3, H, W), longer side ≤ 512
    h, w = x.shape[-2:]
    s = min(h, w)
    x = x[..., (h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    x = F.interpolate(x, size=(SIZE, SIZE), mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)
    return photo_to_lines(x)


# --- the translation -----------------------------------------------------------------------

@torch.inference_mode()
def translate(generator: UNetGenerator, lines: torch.Tensor, dropout_noise: bool = False, seed: int = 0) -> torch.Tensor:
    """G(x) for an edge map (1, 1, 128, 128) → (1, 3, 128, 128) in [0, 1]. With ``dropout_noise`` the decoder's
    dropout stays on (seeded), as the paper did at test time."""
    if not dropout_noise:
        return generator(lines)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return generator(lines, dropout_noise=True)


def lines_to_pil(lines: torch.Tensor) -> PIL.Image.Image:
    arr = (lines[0, 0].clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    return PIL.Image.fromarray(arr).resize((DISPLAY, DISPLAY), PIL.Image.NEAREST)


def photo_to_pil(x: torch.Tensor) -> PIL.Image.Image:
    arr = (x[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    return PIL.Image.fromarray(arr).resize((DISPLAY, DISPLAY), PIL.Image.BICUBIC)


def _run(lines: torch.Tensor, dropout_noise: bool, seed, request):
    seed = check_seed(seed, request)
    gan, l1 = load_models(request)
    dropout_noise = bool(dropout_noise)
    return (lines_to_pil(lines), photo_to_pil(translate(gan, lines, dropout_noise, seed)),
            photo_to_pil(translate(l1, lines, dropout_noise, seed)))


def pix2pix(sketch, dropout_noise: bool = False, seed: int = 0, request: gr.Request | None = None):
    """The tab's main action (api ``/pix2pix``): a sketch → (edge map as used, cGAN + L1 output, L1-only output)."""
    return _run(sketch_to_input(sketch, request), dropout_noise, seed, request)


def pix2pix_photo(photo, dropout_noise: bool = False, seed: int = 0, request: gr.Request | None = None):
    """api ``/pix2pix_photo``: a photo → its Canny edges → (edge map as used, cGAN + L1 output, L1-only output)."""
    return _run(photo_to_input(photo, request), dropout_noise, seed, request)


def pix2pix_live(sketch, dropout_noise: bool = False, seed: int = 0, request: gr.Request | None = None):
    """``pix2pix`` for the live events (a stroke drawn, an example picked): an empty or cleared canvas, or a
    bad value, leaves the outputs as they are."""
    try:
        return pix2pix(sketch, dropout_noise, seed, request)
    except gr.Error:
        return [gr.update()] * N_OUTPUTS


def p2p_share_query(dropout_noise: bool, seed) -> str:
    """The query string of a share link to this tab: the dropout switch and the seed (never the drawing)."""
    return share_query("pix2pix", dropout=int(bool(dropout_noise)), seed=int(seed or 0))


def open_tab(request: gr.Request | None = None):
    """When the student first sees the tab (see ``when_shown``): load the weights; if they are missing, show why and disable only this tab.
    Otherwise take the settings of a share link (if any), put the first test edge map on the sketchpad and show
    its results. Returns updates for (status, sketch button, photo button, sketchpad, *the outputs of pix2pix,
    dropout switch, seed)."""
    dropout = bool(query_value(request, "dropout", int, 0, 1, default=0))
    seed = query_value(request, "seed", int, 0, MAX_SEED, default=0)
    try:
        load_models(request)
    except gr.Error as err:
        off = gr.update(interactive=False)
        return (show_weights_problem(err), off, off, gr.update(), *[gr.update()] * N_OUTPUTS, dropout, seed)
    on = gr.update(interactive=True)
    examples = example_files()
    if not examples:
        return (gr.update(visible=False), on, on, gr.update(), *[gr.update()] * N_OUTPUTS, dropout, seed)
    with PIL.Image.open(examples[0]) as img:
        first = pix2pix(img.copy(), dropout, seed, request)
    return (gr.update(visible=False), on, on, examples[0], *first, dropout, seed)


def sketchpad(label, **kwargs) -> DigitCanvas:
    """A 256x256 drawing area with a thin black brush (like the edges2cats demo); uploads are accepted too."""
    return DigitCanvas(
        label=label,
        type="pil",
        image_mode="RGBA",
        sources=("upload", "clipboard"),
        canvas_size=(DISPLAY, DISPLAY),
        fixed_canvas=True,
        brush=gr.Brush(default_size=3, colors=["#000000"], color_mode="fixed"),
        layers=False,
        transforms=(),
        **kwargs,
    )


def create_demo(tab: gr.Tab | None = None) -> gr.Blocks:
    """The tab's Blocks; in the gallery, ``tab`` is the ``gr.Tab`` it is shown in (see ``when_shown``)."""
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=300):
                with gr.Tabs():
                    with gr.Tab(_("p2p.sketch_tab")):
                        gr.Markdown(_("p2p.sketch_hint"))
                        sketch = sketchpad(_("p2p.sketch"), height=340)
                        run_sketch = gr.Button(_("p2p.run_sketch"), variant="primary")
                        examples = gr.Examples([[p] for p in example_files()], inputs=[sketch], label=_("p2p.examples"),
                                               examples_per_page=8)
                    with gr.Tab(_("p2p.photo_tab")):
                        gr.Markdown(_("p2p.photo_hint"))
                        photo = photo_input_with_examples(_("p2p.photo"), _("p2p.photo_examples"), height=300)
                        run_photo = gr.Button(_("p2p.run_photo"), variant="primary")
                with gr.Row(equal_height=True):
                    dropout = gr.Checkbox(False, label=_("p2p.dropout"), scale=3)
                    with gr.Column(scale=2, min_width=160):
                        seed, dice = seed_input(0)
                share_button, share_link = share_row()
            with gr.Column(scale=5, min_width=380):
                image_opts = dict(type="pil", interactive=False, buttons=["download"], min_width=180)
                with gr.Row():
                    out_gan = gr.Image(label=_("p2p.gan"), height=320, **image_opts)
                    out_l1 = gr.Image(label=_("p2p.l1"), height=320, **image_opts)
                with gr.Row():
                    out_edges = gr.Image(label=_("p2p.edges"), height=240, **image_opts)
                    gr.Markdown(_("p2p.note"))
            with gr.Column(scale=4, min_width=300):
                explanation("p2p.explain")

        outputs = [out_edges, out_gan, out_l1]
        run_sketch.click(pix2pix, [sketch, dropout, seed], outputs, api_name="pix2pix")
        run_photo.click(pix2pix_photo, [photo, dropout, seed], outputs, api_name="pix2pix_photo")
        quiet = dict(show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        sketch.change(pix2pix_live, [sketch, dropout, seed], outputs, **quiet)
        examples.load_input_event.then(pix2pix_live, [sketch, dropout, seed], outputs, **quiet)
        dice.click(new_seed, None, seed, queue=False, api_visibility="private")
        wire_share(share_button, share_link, p2p_share_query, [dropout, seed])
        when_shown(demo, tab, open_tab, [status, run_sketch, run_photo, sketch, *outputs, dropout, seed])
    return demo


if __name__ == "__main__":
    from demos.i18n import make_i18n

    create_demo().launch(i18n=make_i18n(), max_file_size="10mb")
