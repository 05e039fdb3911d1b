"""CartoonGAN tab: turn a photo into a cartoon.

Chen, Lai & Liu, "CartoonGAN: Generative Adversarial Networks for Photo Cartoonization", CVPR 2018.
A generator G maps photos to drawings; it is trained with

    L(G, D) = L_adv(G, D) + ω · L_con(G),   L_con = ‖ φ(G(p)) − φ(p) ‖₁

where φ are features of a pretrained CNN (the content must survive) and the discriminator D sees
real cartoons as "real" and both G's outputs and *edge-smoothed* cartoons as "fake" (so G must
draw crisp edges). Training starts with an initialisation phase on L_con alone; the tab shows that
generator beside the final one, so students see what the adversarial term adds.

Weights: ``pretrained/cartoongan-openmoji`` and ``pretrained/cartoongan-openmoji-init`` (trained by
``training/train_cartoongan.py``: real photos → OpenMoji drawings); the original styles
``cartoongan-{hayao,hosoda,paprika,shinkai}`` when converted by ``training/convert_cartoongan_weights.py``
and available locally or on the Hub.

Run this tab alone with ``python -m demos.cartoongan_photo2cartoon``.
"""

import torch
from torch.nn import functional as F

import gradio as gr

from demos.common import check_range, explanation, heavy_queue, load_or_explain, show_weights_problem, weights_status
from demos.i18n import _
from demos.image_input import photo_input_with_examples, photo_to_tensor, tensor_to_pil
from demos.share import query_value, share_query, share_row, when_shown, wire_share
from models.cartoongan import CartoonGenerator
from models.loading import WeightsUnavailableError, load_pretrained

SLUG = "cartoongan-openmoji"
INIT_SLUG = "cartoongan-openmoji-init"
RELEASED_STYLES = ("hayao", "hosoda", "paprika", "shinkai")
TRAINING_COMMAND = "python training/train_cartoongan.py --data-dir ../shared/data"
RESOLUTION = (64, 1024, 512)  # min, max, default of the longer side


def available_styles() -> list[str]:
    """Our style always; the released ones whose converted weights can be loaded (locally or from the Hub)."""
    styles = ["openmoji"]
    for style in RELEASED_STYLES:
        try:
            load_pretrained(CartoonGenerator, f"cartoongan-{style}")
            styles.append(style)
        except WeightsUnavailableError:
            pass
    return styles


@torch.inference_mode()
def cartoonize_tensor(generator: CartoonGenerator, x: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) in [0, 1] -> the cartoon of the same size: reflect-pad to a multiple of 4, run G, crop back."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % 4, (-w) % 4
    padded = F.pad(x, [0, pw, 0, ph], mode="reflect") if (ph or pw) else x
    return generator(padded)[..., :h, :w]


def cartoonize(image, resolution: int, request: gr.Request | None = None):
    """The tab's main action (api ``/cartoonize``): (input as used, final generator, initialisation-only generator)."""
    side = int(check_range(resolution, *RESOLUTION[:2], "cg.resolution", request))
    final = load_or_explain(CartoonGenerator, SLUG, TRAINING_COMMAND, request)
    init = load_or_explain(CartoonGenerator, INIT_SLUG, TRAINING_COMMAND, request)
    x = photo_to_tensor(image, side, request)
    return tensor_to_pil(x), tensor_to_pil(cartoonize_tensor(final, x)), tensor_to_pil(cartoonize_tensor(init, x))


def cartoonize_styles(image, resolution: int, request: gr.Request | None = None):
    """api ``/cartoonize_styles``: the photo in every available style, as a gallery."""
    side = int(check_range(resolution, *RESOLUTION[:2], "cg.resolution", request))
    x = photo_to_tensor(image, side, request)
    return [(tensor_to_pil(cartoonize_tensor(load_pretrained(CartoonGenerator, f"cartoongan-{s}"), x)), s)
            for s in available_styles()]


def cg_share_query(resolution) -> str:
    """The query string of a share link to this tab (the resolution; never the photo)."""
    return share_query("cg", resolution=int(resolution))


def open_tab(request: gr.Request | None = None):
    """Load both generators when the tab is first shown (or show why not, disabling only this tab) and restore the
    resolution of a share link. Returns (status, run button, styles button, styles grid, resolution)."""
    resolution = query_value(request, "resolution", int, RESOLUTION[0], RESOLUTION[1], default=RESOLUTION[2])
    try:
        load_or_explain(CartoonGenerator, SLUG, TRAINING_COMMAND, request)
        load_or_explain(CartoonGenerator, INIT_SLUG, TRAINING_COMMAND, request)
    except gr.Error as err:
        off = gr.update(interactive=False)
        return show_weights_problem(err), off, off, gr.update(), resolution
    several = len(available_styles()) > 1  # the all-styles button and grid only when there is more than our style
    return (gr.update(visible=False), gr.update(interactive=True), gr.update(interactive=True, visible=several),
            gr.update(visible=several), resolution)


def create_demo(tab: gr.Tab | None = None) -> gr.Blocks:
    """The tab's Blocks; in the gallery, ``tab`` is the ``gr.Tab`` it is shown in (see ``when_shown``)."""
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=280):
                photo = photo_input_with_examples(_("cg.input"), _("dd.examples"), height=300)
                resolution = gr.Slider(*RESOLUTION[:2], value=RESOLUTION[2], step=32, label=_("cg.resolution"))
                run = gr.Button(_("cg.run"), variant="primary")
                styles_btn = gr.Button(_("cg.all_styles"), visible=False)
                share_button, share_link = share_row()
            with gr.Column(scale=5, min_width=360):
                final = gr.Image(label=_("cg.final"), type="pil", interactive=False, buttons=["download"], height=420)
                with gr.Row():
                    seen = gr.Image(label=_("cg.as_used"), type="pil", interactive=False, height=220)
                    init = gr.Image(label=_("cg.init"), type="pil", interactive=False, height=220)
                gallery = gr.Gallery(label=_("cg.styles"), columns=5, height="auto", visible=False)
            with gr.Column(scale=3, min_width=280):
                explanation("cg.explain")
        run.click(cartoonize, [photo, resolution], [seen, final, init], api_name="cartoonize", **heavy_queue())
        styles_btn.click(cartoonize_styles, [photo, resolution], gallery, api_name="cartoonize_styles", **heavy_queue())
        wire_share(share_button, share_link, cg_share_query, [resolution])
        when_shown(demo, tab, open_tab, [status, run, styles_btn, gallery, resolution])
    return demo


if __name__ == "__main__":
    from demos.i18n import make_i18n

    create_demo().launch(i18n=make_i18n(), max_file_size="10mb")
