"""Pieces every tab uses: loading its models with a clear message, the weights banner, seeds, checked values.

Nothing here knows the student's language: errors are ``Problem``s raised by key (``COMMON.problem``), shown
in the student's language by ``Page.on`` (demos/kit.py)."""

import random

import gradio as gr

from demos import controls
from demos.i18n import COMMON, Text, shown_value
from models.loading import WeightsUnavailableError, load_pretrained

MAX_SEED = 2**31 - 1


def load_or_explain(cls, slug: str, training_command: str):
    """``load_pretrained(cls, slug)``, turning a missing or corrupt weights file into a ``Problem`` that says how to
    get the weights."""
    try:
        return load_pretrained(cls, slug)
    except WeightsUnavailableError as err:
        raise weights_problem(err, training_command) from err


def weights_problem(err: WeightsUnavailableError, training_command: str):
    """The message of a tab disabled for want of weights (stays on screen until closed)."""
    return COMMON.problem("err.weights", duration=None, slug=err.slug, reason=err.reason, command=training_command)


def weights_status() -> gr.Markdown:
    """The tab's banner that says why it is disabled (hidden while its weights load fine)."""
    return gr.Markdown(visible=False, elem_classes=["weights-missing"])


def show_weights_problem(err: gr.Error) -> dict:
    """The update that shows ``err`` (from ``load_or_explain``) in the tab's ``weights_status`` banner."""
    return gr.update(value="⚠️ " + err.message, visible=True)


def seed_input(value: int = 0) -> tuple[gr.Number, gr.Button]:
    """A seed box and a "Random seed" button (words, not a 🎲: without an emoji font a die is an empty box); wire
    the button to ``new_seed``."""
    with gr.Row(equal_height=True):
        seed = controls.Number(value=value, label=COMMON.ui("common.seed"), precision=0, minimum=0, maximum=MAX_SEED,
                               scale=3, min_width=90)
        dice = gr.Button(COMMON.ui("common.new_seed"), scale=2, min_width=90, elem_classes=["dice"])
    return seed, dice


def new_seed() -> int:
    return random.randint(0, 99_999)


def check_seed(seed) -> int:
    """A valid seed from whatever the client sent, or a Problem."""
    given = shown_value(seed)
    try:
        if isinstance(seed, float) and not seed.is_integer():
            raise ValueError(seed)
        seed = int(seed)
    except (TypeError, ValueError, OverflowError):
        raise COMMON.problem("err.seed", value=given, max=MAX_SEED) from None
    if not 0 <= seed <= MAX_SEED:
        raise COMMON.problem("err.seed", value=given, max=MAX_SEED)
    return seed


def check_range(value, low: float, high: float, name: Text) -> float:
    """``value`` as a float inside [low, high], or a Problem that names the control (``name``: its label, as
    ``TAB.phrase("sigma")``)."""
    given = shown_value(value)
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    if not low <= value <= high:  # also False for NaN
        raise COMMON.problem("err.range", name=name, value=given, low=low, high=high)
    return value


def check_choice(value, choices) -> None:
    """A Problem unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise COMMON.problem("err.choice", value=value, choices=", ".join(map(str, choices)))
