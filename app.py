"""Generative Models Gallery (生成モデル・ギャラリー): one Gradio app, one tab per concept.

    python app.py                    # http://127.0.0.1:7860, language from the browser
    python app.py --lang ja --share  # Japanese for everyone, with a public share link
    python app.py --port 8080
    python app.py --mcp              # also an MCP server: each tab's api becomes a tool

Each tab lives in its own module under ``demos/`` (plain functions, then ``create_demo(page)``) and declares
itself once as ``TAB`` (demos/kit.py); this file only lists them, in order, and places them in tabs. Models load
lazily, on first use, so start-up stays fast.
"""

import argparse
import os

# No usage analytics from a classroom (and no network attempts on machines without it).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from demos import (  # noqa: E402
    ae,
    cartoongan,
    conditional,
    cyclegan,
    dcgan,
    dcgan_windows,
    ddpm,
    deepdream,
    gan_lab,
    pix2pix,
    vae,
    vqvae,
)
from demos.i18n import COMMON, LANGUAGES, make_i18n  # noqa: E402
from demos.image_input import upload_budget_app_kwargs  # noqa: E402
from demos.kit import Page, delete_cache, fair_queue, linked_tab  # noqa: E402
from demos.page_cache import PageCache  # noqa: E402

# The gallery's tabs, in order. Each module declares its tab once (``TAB = Tab(id=...)``); the tab ids and the
# share links' ``?tab=<id>`` come from here.
TABS = [ae.TAB, vae.TAB, gan_lab.TAB, dcgan.TAB, dcgan_windows.TAB, conditional.TAB, pix2pix.TAB, cyclegan.TAB,
        cartoongan.TAB, deepdream.TAB, ddpm.TAB, vqvae.TAB]

MAX_FILE_SIZE = "10mb"
CSS = """
.explanation { font-size: 0.95em; }
.explanation .katex-display { overflow-x: auto; overflow-y: hidden; }  /* a wide equation scrolls on a phone */
.weights-missing { border: 2px solid #d97706; border-radius: 8px; padding: 8px 12px; background: #fffbeb;
                   color: #78350f; }
.pixelated img { image-rendering: pixelated; }
.fit-box img { object-fit: contain; }
.dcgan-grid .grid-container { grid-template-columns: repeat(4, minmax(0, 1fr)) !important; }
/* A picture's label wraps left of its buttons (full screen, download) instead of running under them. (A drawing pad's
   toolbar is wider: its labels are kept short.) */
.block:has(.icon-button-wrapper.top-panel):not(.digit-canvas) > label.float {
  max-width: max(calc(100% - 56px), 7em); }  /* (in a narrow box: not one character a line) */
"""


TOAST_TITLES_JS = r"""() => {
  const words = (document.getElementById("toast-titles")?.textContent || "").trim().split("|");
  const titles = {Error: words[0], Warning: words[1], Info: words[2]};
  const retitle = () => {
    // Gradio 6.31: <span class="toast-title warning">Warning <span class="toast-count">(2)</span></span>
    // Only a text that changes is written: the observer sees every write (characterData), even of the same text.
    const rename = (node, text) => { if (node.textContent !== text) node.textContent = text; };
    document.querySelectorAll(".toast-title").forEach((title) => {
      const word = [...title.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
      if (word && titles[word.textContent.trim()]) rename(word, titles[word.textContent.trim()] + " ");
    });
    document.querySelectorAll(".paginate").forEach((box) => {  // the examples' "Pages:"
      const first = box.firstChild;
      if (first && first.nodeType === Node.TEXT_NODE && first.textContent.trim() === "Pages:" && words[3]) {
        rename(first, words[3] + " ");
      }
    });
    if (words[4]) {  // Gradio's client refuses an upload over the size limit in English, whatever the language
      document.querySelectorAll('[data-testid="toast-text"]').forEach((text) => {
        const m = text.textContent.trim().match(/^File\(s\) exceed the maximum allowed size of (.+?): (.+)$/s);
        if (m) rename(text, words[4].replace("%LIMIT%", m[1]).replace("%NAMES%", m[2]));
      });
    }
  };
  new MutationObserver(retitle).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def mcp_results_as_outputs() -> None:
    """Work around Gradio 6.31's MCP server: for a client that asks for no progress notifications (most do not), it
    took the tuple of a tool's outputs for one output, so images came back as the text of a tuple of file paths and a
    tool with a ``gr.State`` output (``ddpm_sample``) failed with "pop index out of range". Here the outputs are a
    list, as in its streaming path."""
    try:
        from gradio import mcp
    except ImportError:
        return
    if getattr(mcp.GradioMCPServer, "_execute_tool_without_progress", None) is None:
        return

    async def execute_tool_without_progress(self, job) -> list:
        result = await mcp.run_sync(job.result)
        return list(result) if isinstance(result, tuple) else [result]

    mcp.GradioMCPServer._execute_tool_without_progress = execute_tool_without_progress


def build_app(tabs=TABS, lang: str | None = None) -> gr.Blocks:
    """The whole gallery: title and intro, then one gr.Tab per entry of ``tabs``. ``lang``: ``--lang``."""
    # Each tab is built as its own Blocks first (so that it also runs alone), then rendered in its gr.Tab. The tab
    # is made first and handed to the demo, which computes its first results when the student opens that tab
    # (Page.when_shown), not all of them at once when the page opens.
    pages = []
    for tab in tabs:
        gr_tab = gr.Tab(tab.ui("title"), id=tab.id, render=False)
        pages.append((gr_tab, tab.build(Page(tab, gr_tab, lang, tabs))))
    # Uploads, results and the tabs' own files expire from Gradio's cache (demos/kit.py: GALLERY_CACHE_CHECK_S,
    # GALLERY_CACHE_MAX_AGE_S).
    with gr.Blocks(title="Generative Models Gallery / 生成モデル・ギャラリー", delete_cache=delete_cache()) as app:
        gr.Markdown(COMMON.ui("app.title"))
        gr.Markdown(COMMON.ui("app.intro"))
        # Gradio titles its messages "Error" / "Warning" / "Info" and pages examples with "Pages:" in English
        # whatever the language; the page replaces them with these words, in the page's language (TOAST_TITLES_JS).
        gr.Markdown(COMMON.ui("toast.titles"), visible="hidden", elem_id="toast-titles")
        # Every tab title stays in view (on two lines on a projector's 1366 px) instead of behind a "…" menu.
        with gr.Tabs(overflow_behavior="wrap") as tab_box:
            for gr_tab, demo in pages:
                gr_tab.render()
                with gr_tab:
                    demo.render()

        def tab_from_link(request: gr.Request):
            """Open the tab named by a share link (``?tab=vae``); stay on the first one otherwise."""
            return gr.Tabs(selected=linked_tab(tabs, request).id)

        app.load(tab_from_link, None, tab_box, queue=False, api_visibility="private")
        app.load(None, js=TOAST_TITLES_JS)
    mcp_results_as_outputs()  # for ``--mcp``
    # How many requests of one event run at once. The tabs' work takes milliseconds, so a small limit keeps the
    # two cores busy without piling threads on each other (see bench/load_test.py for the figures).
    app.queue(default_concurrency_limit=int(os.environ.get("GALLERY_CONCURRENCY", 2)))
    # A bounded queue, and at most one waiting heavy job per client (demos/kit.py: fair_queue).
    return fair_queue(app)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Launch the Generative Models Gallery.")
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                   help="0.0.0.0 to serve your local network (a classroom)")
    p.add_argument("--share", action="store_true", help="also create a public *.gradio.live link")
    p.add_argument("--lang", choices=LANGUAGES, default=os.environ.get("GALLERY_LANG") or None,
                   help="show every visitor this language (default: the browser's)")
    p.add_argument("--mcp", action="store_true",
                   help="also serve every tab's api as MCP tools at /gradio_api/mcp/ (for AI assistants)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # One torch thread per request by default: requests run side by side (heavy ones in the turns of
    # demos/turns.py, two at once), and on 2 cores one thread each served them faster than two threads each did
    # (README, "A class at once"). GALLERY_TORCH_THREADS=2 gives a lone request both cores.
    import torch

    torch.set_num_threads(int(os.environ.get("GALLERY_TORCH_THREADS") or 1))
    build_app(lang=args.lang).launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        i18n=make_i18n(TABS, args.lang),
        max_file_size=MAX_FILE_SIZE,
        css=CSS,
        mcp_server=args.mcp,
        app_kwargs=app_kwargs(),
    )


def app_kwargs() -> dict:
    """The middleware in front of the app: bytes per client and time window (demos/image_input.py), and the page and
    its config built once, not once per student (demos/page_cache.py; this app has no login)."""
    from starlette.middleware import Middleware

    kwargs = upload_budget_app_kwargs()
    return {**kwargs, "middleware": [*kwargs["middleware"], Middleware(PageCache)]}


if __name__ == "__main__":
    main()
