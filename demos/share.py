"""Share links: a tab's settings (never the student's images) in the page URL, so a teacher can send
the exact example to a class. ``?tab=vae&z1=0.5&z2=-1.2`` opens the VAE tab at that point.

Each tab builds its link with ``share_query`` and reads it back in its ``open_tab`` with ``query_value``;
``app.py`` picks the tab itself from ``tab=``.
"""

import math
from urllib.parse import urlencode

import gradio as gr

from demos.i18n import _

# The gallery's tabs in their order (their ``gr.Tab`` ids); a share link names one with ``?tab=<id>``.
TAB_IDS = ("ae", "vae", "dcgan", "dcgan_windows", "pix2pix", "cyclegan", "cg", "dd", "ddpm")

# The browser turns the query string made in Python into a full link to the current page.
SHARE_JS = "(query) => window.location.origin + window.location.pathname + query"


def share_query(tab: str, **settings) -> str:
    """``?tab=<tab>&name=value...`` with floats written short (0.5, not 0.5000000001)."""
    clean = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in settings.items()}
    return "?" + urlencode({"tab": tab, **clean})


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
        button = gr.Button(_("share.button"), size="sm", scale=1, min_width=120)
        link = gr.Textbox(label=_("share.label"), show_label=False, placeholder="https://…", buttons=["copy"],
                          interactive=False, scale=4, container=False)
    return button, link


def wire_share(button: gr.Button, link: gr.Textbox, make_query, inputs):
    """Clicking ``button`` fills ``link`` with the page's URL and ``make_query(*inputs)``."""
    button.click(make_query, inputs, link, queue=False, api_visibility="private").then(
        None, link, link, js=SHARE_JS, queue=False, api_visibility="private")


def linked_tab(request: gr.Request | None) -> str:
    """The tab the page opens on: the one a share link names, else the first."""
    return query_value(request, "tab", str, choices=TAB_IDS, default=TAB_IDS[0])


def when_shown(demo: gr.Blocks, tab: gr.Tab | None, open_tab, outputs: list):
    """Run a tab's ``open_tab(request)`` (load its models, restore a share link, show a first example) when the
    student first sees the tab, once per page.

    Alone (``tab`` is None) that is when the page opens. In the gallery it is when the page opens on this tab
    (the first tab, or the one a share link names), or else the first time the student selects it: opening the
    gallery does not compute all nine tabs at once (a class opening the page together waits for one tab, not
    nine), and a model nobody looks at is never loaded."""
    if tab is None:
        demo.load(open_tab, None, outputs, api_visibility="private")
        return
    shown = gr.State(False)
    unchanged = [gr.update()] * len(outputs)

    def on_page_open(request: gr.Request):
        if linked_tab(request) != tab.id:
            return False, *unchanged
        return True, *open_tab(request)

    def on_select(already_shown: bool, request: gr.Request):
        if already_shown:
            return True, *unchanged
        return True, *open_tab(request)

    demo.load(on_page_open, None, [shown, *outputs], api_visibility="private")
    tab.select(on_select, shown, [shown, *outputs], api_visibility="private")
