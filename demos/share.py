"""Share links: a tab's settings (never the student's images) in the page URL, so a teacher can send
the exact example to a class. ``?tab=vae&z1=0.5&z2=-1.2`` opens the VAE tab at that point.

Each tab builds its link with ``share_query(TAB, ...)`` and reads it back in its ``open_tab`` with
``query_value``; ``app.py`` picks the tab itself from ``tab=`` (``kit.linked_tab``).
"""

import math
from urllib.parse import urlencode

import gradio as gr

from demos.i18n import COMMON

# The browser turns the query string made in Python into a full link to the current page.
SHARE_JS = "(query) => window.location.origin + window.location.pathname + query"


def share_query(tab, **settings) -> str:
    """``?tab=<tab id>&name=value...`` with floats written short (0.5, not 0.5000000001). ``tab``: a ``Tab``."""
    clean = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in settings.items()}
    return "?" + urlencode({"tab": tab.id, **clean})


def query_value(request: gr.Request | None, name: str, cast=float, low=None, high=None, choices=None, default=None):
    """The setting ``name`` from the page URL, or ``default`` when it is absent or not valid (never an error:
    a mistyped link still opens the tab)."""
    params = getattr(request, "query_params", None) if request is not None else None
    if not params or name not in params:
        return default
    try:
        value = cast(params[name])
    except (TypeError, ValueError):
        return default
    if isinstance(value, float) and not math.isfinite(value):
        return default
    if (low is not None and value < low) or (high is not None and value > high):
        return default
    if choices is not None and value not in choices:
        return default
    return value


def share_row():
    """A "link to this" button and the box that shows the link (with a copy button)."""
    with gr.Row(equal_height=True):
        button = gr.Button(COMMON.ui("share.button"), size="sm", scale=1, min_width=120)
        link = gr.Textbox(label=COMMON.ui("share.label"), show_label=False, placeholder="https://…",
                          buttons=["copy"], interactive=False, scale=4, container=False)
    return button, link


def wire_share(page, button: gr.Button, link: gr.Textbox, make_query, inputs):
    """Clicking ``button`` fills ``link`` with the page's URL and ``make_query(*inputs)``."""
    page.on(button.click, make_query, inputs, link, queue=False, api_visibility="private").then(
        None, link, link, js=SHARE_JS, queue=False, api_visibility="private")
