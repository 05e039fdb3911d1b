"""Pieces every tab uses: loading its models with a clear message, the explanation panel, seeds."""

import os
import random

import gradio as gr

from demos.i18n import _, text
from models.loading import WeightsUnavailableError, load_pretrained

# KaTeX delimiters for every explanation panel: $$...$$ for display maths, $...$ inline.
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]
MAX_SEED = 2**31 - 1


def heavy_queue() -> dict:
    """Queue settings of the slow events (DeepDream, DDPM sampling, CycleGAN, CartoonGAN): they share one queue,
    ``heavy``, that runs ``GALLERY_HEAVY_CONCURRENCY`` (default 1) of them at a time, so that a class pressing
    "dream" together waits in line instead of taking both cores from the light tabs (``bench/load_test.py
    --heavy-clients`` measures the difference)."""
    return {"concurrency_limit": int(os.environ.get("GALLERY_HEAVY_CONCURRENCY", 1)), "concurrency_id": "heavy"}


def load_or_explain(cls, slug: str, training_command: str, request: gr.Request | None = None):
    """``load_pretrained(cls, slug)``, turning a missing or corrupt weights file into a gr.Error that says
    how to get the weights, in the user's language."""
    try:
        return load_pretrained(cls, slug)
    except WeightsUnavailableError as err:
        raise gr.Error(weights_message(err, training_command, request), duration=None) from err


def weights_message(err: WeightsUnavailableError, training_command: str, request: gr.Request | None = None) -> str:
    return text("err.weights", request, slug=err.slug, reason=err.reason, command=training_command)


def weights_status() -> gr.Markdown:
    """The tab's banner that says why it is disabled (hidden while its weights load fine)."""
    return gr.Markdown(visible=False, elem_classes=["weights-missing"])


def show_weights_problem(err: gr.Error) -> dict:
    """The update that shows ``err`` (from ``load_or_explain``) in the tab's ``weights_status`` banner."""
    return gr.update(value="⚠️ " + err.message, visible=True)


def explanation(key: str) -> gr.Markdown:
    """The tab's explanation panel (ja / en, with KaTeX equations)."""
    return gr.Markdown(_(key), latex_delimiters=LATEX, elem_classes=["explanation"])


def seed_input(value: int = 0) -> tuple[gr.Number, gr.Button]:
    """A seed box and a 🎲 button; wire the button to ``new_seed``."""
    with gr.Row(equal_height=True):
        seed = gr.Number(value=value, label=_("common.seed"), precision=0, minimum=0, maximum=MAX_SEED, scale=4)
        dice = gr.Button("🎲", scale=1, min_width=40, elem_classes=["dice"])
    return seed, dice


def new_seed() -> int:
    return random.randint(0, 99_999)


def check_seed(seed, request: gr.Request | None = None) -> int:
    """A valid seed from whatever the client sent, or a gr.Error."""
    try:
        seed = int(seed)
    except (TypeError, ValueError, OverflowError):
        raise gr.Error(text("err.seed", request, max=MAX_SEED)) from None
    if not 0 <= seed <= MAX_SEED:
        raise gr.Error(text("err.seed", request, max=MAX_SEED))
    return seed


def check_range(value, low: float, high: float, name_key: str, request: gr.Request | None = None) -> float:
    """``value`` as a float inside [low, high], or a gr.Error that names the control."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    if not low <= value <= high:  # also False for NaN
        raise gr.Error(text("err.range", request, name=text(name_key, request), low=low, high=high))
    return value
