"""CartoonGAN tab: turn a photo into a cartoon.

Chen, Lai & Liu, "CartoonGAN: Generative Adversarial Networks for Photo Cartoonization", CVPR 2018.
A generator G maps photos to drawings; it is trained with

    L(G, D) = L_adv(G, D) + ω · L_con(G),   L_con = ‖ φ(G(p)) − φ(p) ‖₁

where φ are features of a pretrained CNN (the content must survive) and the discriminator D sees
real cartoons as "real" and both G's outputs and *edge-smoothed* cartoons as "fake" (so G must
draw crisp edges). Training starts with an initialisation phase on L_con alone; the tab shows that
generator beside the final one, so students see what the adversarial term adds.

"Keep the photo's colours" (on by default) shows the cartoon's lightness with the photo's colours
(Gatys et al. 2016's luminance-only transfer, ``models.cartoongan.keep_photo_colours``): our generator
learnt OpenMoji's palette along with its outlines; this keeps the outlines and flat shading, not the palette.

Weights: ``pretrained/cartoongan-openmoji`` and ``pretrained/cartoongan-openmoji-init`` (trained by
``training/train_cartoongan.py``: real photos → OpenMoji drawings); the original styles
``cartoongan-{hayao,hosoda,paprika,shinkai}`` when converted by ``training/convert_cartoongan_weights.py``
and available locally or on the Hub.

The tab opens on scikit-image's coffee cup (``examples/photos/coffee.jpg``) cartoonized, computed once per process.

Run this tab alone with ``python -m demos.cartoongan``.
"""

import threading

import gradio as gr
import PIL.Image
import torch
from torch.nn import functional as F

from demos import controls
from demos.common import check_range, load_or_explain, show_weights_problem, weights_status
from demos.image_input import EXAMPLE_PHOTOS, photo_input, photo_to_tensor, wire_photo
from demos.kit import Page, Tab, demo_cache, heavy_queue
from demos.remember import Remembered
from demos.share import query_value, share_query, share_row, wire_share
from demos.turns import give_way
from models.cartoongan import CartoonGenerator, keep_photo_colours
from models.imaging import to_pil
from models.loading import WeightsUnavailableError, load_pretrained

TAB = Tab(id="cartoongan", old_ids=("cg",), strings={
    "title": {"en": "CartoonGAN", "ja": "CartoonGAN（カートゥーン化）"},
    "input": {"en": "Your photo (upload or webcam)", "ja": "写真（アップロードまたはカメラ）"},
    "resolution": {
        "en": "Resolution (longer side, px; the aspect ratio is kept)",
        "ja": "解像度（長辺の画素数。縦横比は保たれます）",
    },
    "run": {"en": "Cartoonize", "ja": "カートゥーンにする"},
    "keep_colours": {
        "en": "Keep the photo's colours (the cartoon's lightness, the photo's colour: Gatys et al. 2016)",
        "ja": "写真の色を保つ（明るさはカートゥーン、色は写真から：Gatys ら 2016）",
    },
    "all_styles": {"en": "Every available style", "ja": "利用できるすべてのスタイル"},
    "as_used": {"en": "Input", "ja": "入力"},
    "final": {"en": "CartoonGAN (adversarial + content loss)", "ja": "CartoonGAN（敵対的損失 + コンテンツ損失）"},
    "init": {"en": "Initialisation phase only (content loss)", "ja": "初期化フェーズのみ（コンテンツ損失）"},
    "styles": {"en": "All styles", "ja": "すべてのスタイル"},
    # the same words as the DeepDream tab's examples: both show scikit-image's photos (examples/photos)
    "examples": {"en": "Example photos (scikit-image)", "ja": "写真の例（scikit-image）"},
    "slide_caption": {
        "en": ("CartoonGAN redraws the photo as a cartoon (in OpenMoji's style); on the right, the generator after the "
               "initialisation phase alone (content loss only). φ: features of a pretrained CNN (here "
               "EfficientNet-Lite0; the paper used VGG)."),
        "ja": ("CartoonGAN は写真をカートゥーン（OpenMoji の画風）に描き直します。右は初期化フェーズだけ（コンテンツ"
               "損失のみ）の生成器です。φ は学習済み CNN の特徴（ここでは EfficientNet-Lite0、論文では VGG）。"),
    },
    "slide_equation": {
        "en": r"\mathcal{L}(G, D) = \mathcal{L}_{adv}(G, D) + \omega\,\|\varphi(G(p)) - \varphi(p)\|_1",
        "ja": r"\mathcal{L}(G, D) = \mathcal{L}_{adv}(G, D) + \omega\,\|\varphi(G(p)) - \varphi(p)\|_1",
    },
})

SLUG = "cartoongan-openmoji"
INIT_SLUG = "cartoongan-openmoji-init"
RELEASED_STYLES = ("hayao", "hosoda", "paprika", "shinkai")
TRAINING_COMMAND = "python training/train_cartoongan.py --data-dir ../shared/data"
RESOLUTION = (64, 1024, 512)  # min, max, default of the longer side
FIRST_PHOTO = EXAMPLE_PHOTOS / "coffee.jpg"  # what the tab opens on


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


@torch.inference_mode()
def cartoon_of(generator: CartoonGenerator, x: torch.Tensor, keep_colours: bool) -> torch.Tensor:
    """The cartoon of ``x`` (1, 3, H, W), with the photo's colours when ``keep_colours``."""
    cartoon = cartoonize_tensor(generator, x)
    return keep_photo_colours(x, cartoon) if keep_colours else cartoon


def load_generators() -> tuple[CartoonGenerator, CartoonGenerator]:
    """(final generator, initialisation-only generator), loaded once, or a Problem saying how to get them."""
    return (load_or_explain(CartoonGenerator, SLUG, TRAINING_COMMAND),
            load_or_explain(CartoonGenerator, INIT_SLUG, TRAINING_COMMAND))


def cartoonize(image, resolution: int, keep_colours: bool = True) -> dict:
    """The tab's main action (api ``/cartoonize``): (input as used, final generator, initialisation-only
    generator); with ``keep_colours`` the final cartoon has the photo's colours."""
    side = int(check_range(resolution, *RESOLUTION[:2], TAB.phrase("resolution")))
    return cartoons(photo_to_tensor(image, side), bool(keep_colours))


def cartoons(x: torch.Tensor, keep_colours: bool) -> dict:
    """The photo ``x`` (1, 3, H, W) through both generators, as the tab's outputs by name (the initialisation-only
    generator reproduces the photo, colours included: it is shown as it is)."""
    final, init = load_generators()
    return {"as_used": to_pil(x), "final": to_pil(cartoon_of(final, x, keep_colours)),
            "init": to_pil(cartoonize_tensor(init, x))}


@demo_cache(maxsize=4)
def first_cartoons(side: int, keep_colours: bool) -> dict:
    """``cartoons`` of ``FIRST_PHOTO`` at ``side`` px: computed once per setting, not once per student."""
    with PIL.Image.open(FIRST_PHOTO) as img:
        return cartoons(photo_to_tensor(img, side), keep_colours)


# Students who open the tab together wait for one computation of the first view, not one each.
_first_view_lock = threading.Lock()


def first_view(side: int, keep_colours: bool) -> dict:
    """What the tab opens on: ``FIRST_PHOTO`` in the photo box and its cartoons at ``side`` px in the outputs."""
    with _first_view_lock:
        return {"photo": str(FIRST_PHOTO), **first_cartoons(side, keep_colours)}


def cartoonize_styles(image, resolution: int, keep_colours: bool = True):
    """api ``/cartoonize_styles``: the photo in every available style, as a gallery."""
    side = int(check_range(resolution, *RESOLUTION[:2], TAB.phrase("resolution")))
    x = photo_to_tensor(image, side)
    gallery = []
    for style in available_styles():
        give_way()  # in the heavy queue: a waiting job may compute between two styles (demos/turns.py)
        generator = load_pretrained(CartoonGenerator, f"cartoongan-{style}")
        gallery.append((to_pil(cartoon_of(generator, x, bool(keep_colours))), style))
    return gallery


def cg_share_query(resolution, keep_colours) -> str:
    """The query string of a share link to this tab (the resolution and the colour setting; never the photo)."""
    return share_query(TAB, resolution=int(resolution), colours=int(bool(keep_colours)))


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): load both generators (or show why not, disabling
    only this tab), restore the resolution of a share link and show the example photo cartoonized at it."""
    resolution = query_value(request, "resolution", int, RESOLUTION[0], RESOLUTION[1], default=RESOLUTION[2])
    keep_colours = bool(query_value(request, "colours", int, 0, 1, default=1))
    try:
        load_generators()
    except gr.Error as err:
        off = gr.update(interactive=False)
        return {"status": show_weights_problem(err), "run": off, "styles_button": off, "resolution": resolution,
                "keep_colours": keep_colours}
    several = len(available_styles()) > 1  # the all-styles button and grid only when there is more than our style
    return {**first_view(resolution, keep_colours), "status": gr.update(visible=False),
            "run": gr.update(interactive=True), "styles_button": gr.update(interactive=True, visible=several),
            "styles": gr.update(visible=several), "resolution": resolution, "keep_colours": keep_colours}


@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown)."""
    _ = TAB.ui
    # "fit-box": the app's CSS may enlarge small pictures (a low resolution) to fill their box on a projector.
    image_opts = dict(type="pil", interactive=False, buttons=["download", "fullscreen"], elem_classes=["fit-box"])
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=280):
                photo = photo_input(_("input"), height=220)
                resolution = controls.Slider(*RESOLUTION[:2], value=RESOLUTION[2], step=32, label=_("resolution"))
                keep_colours = gr.Checkbox(True, label=_("keep_colours"))
                run = gr.Button(_("run"), variant="primary")  # near the top: visible with the cartoon on a projector
                gr.Examples([[str(p)] for p in sorted(EXAMPLE_PHOTOS.glob("*.jpg"))], inputs=[photo],
                            label=_("examples"))
                styles_button = gr.Button(_("all_styles"), visible=False)
                share_button, share_link = share_row()
            with gr.Column(scale=6, min_width=360):
                final = gr.Image(label=_("final"), height=400, **image_opts)
                with gr.Row():
                    seen = gr.Image(label=_("as_used"), height=260, **image_opts)
                    init = gr.Image(label=_("init"), height=260, **image_opts)
                page.slide_button(results=[seen, final, init], settings=[resolution, keep_colours])
                gallery = gr.Gallery(label=_("styles"), columns=5, height="auto", visible=False)
            with gr.Column(scale=3, min_width=280):
                TAB.explanation()
        # The api's outputs, in this order (gradio_client sees a tuple): what cartoonize returns, by name.
        outputs = {"as_used": seen, "final": final, "init": init}
        wire_photo(page, photo)
        page.on(run.click, cartoonize, [photo, resolution, keep_colours], outputs, api_name="cartoonize",
                remember=Remembered(), **heavy_queue())  # the same photo again: at once (demos/remember.py)
        page.on(styles_button.click, cartoonize_styles, [photo, resolution, keep_colours], gallery,
                api_name="cartoonize_styles", **heavy_queue())
        wire_share(page, share_button, share_link, cg_share_query, [resolution, keep_colours])
        page.when_shown(demo, open_tab, {"status": status, "run": run, "styles_button": styles_button,
                                         "styles": gallery, "resolution": resolution, "keep_colours": keep_colours,
                                         "photo": photo, **outputs})
    return demo


if __name__ == "__main__":
    TAB.launch()
