"""Generative Models Gallery (生成モデル・ギャラリー): one Gradio app, one tab per concept.

    python app.py                    # http://127.0.0.1:7860, language from the browser
    python app.py --lang ja --share  # Japanese for everyone, with a public share link
    python app.py --port 8080
    python app.py --mcp              # also an MCP server: each tab's api becomes a tool

Each tab lives in its own module under ``demos/`` (handlers + ``create_demo()``); this file only
places them in tabs. Models load lazily, on first use, so start-up stays fast.
"""

import argparse
import os

# No usage analytics from a classroom (and no network attempts on machines without it).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from demos import (  # noqa: E402
    ae_denoising,
    cartoongan_photo2cartoon,
    cyclegan_horse2cloudhorse,
    dcgan_bedroom_arithmetic,
    dcgan_window_forgetting,
    ddpm_step_by_step,
    deepdream,
    pix2pix_edges2cats,
    vae_latent_explorer,
)
from demos.i18n import LANGUAGES, _, make_i18n  # noqa: E402
from demos.share import TAB_IDS, linked_tab  # noqa: E402

MAX_FILE_SIZE = "10mb"
CSS = """
.explanation { font-size: 0.95em; }
.weights-missing { border: 2px solid #d97706; border-radius: 8px; padding: 8px 12px; background: #fffbeb; color: #78350f; }
.pixelated img { image-rendering: pixelated; }
"""


def tab_from_link(request: gr.Request):
    """Open the tab named by a share link (``?tab=vae``); stay on the first one otherwise."""
    return gr.Tabs(selected=linked_tab(request))


def build_app() -> gr.Blocks:
    """The whole gallery: title and intro, then one tab per demo module."""
    # Each tab is built as its own Blocks first (so that it also runs alone), then rendered in its gr.Tab. The tab
    # is made first and handed to the demo, which computes its first results when the student opens that tab
    # (demos/share.py: when_shown), not all nine at once when the page opens.
    tab_ae = gr.Tab(_("tab.ae"), id="ae", render=False)
    tab_vae = gr.Tab(_("tab.vae"), id="vae", render=False)
    tab_dcgan = gr.Tab(_("tab.dca"), id="dcgan", render=False)
    tab_windows = gr.Tab(_("tab.dcw"), id="dcgan_windows", render=False)
    tab_pix2pix = gr.Tab(_("tab.p2p"), id="pix2pix", render=False)
    tab_cyclegan = gr.Tab(_("tab.cyc"), id="cyclegan", render=False)
    tab_cg = gr.Tab(_("tab.cg"), id="cg", render=False)
    tab_dd = gr.Tab(_("tab.dd"), id="dd", render=False)
    tab_ddpm = gr.Tab(_("tab.ddpm"), id="ddpm", render=False)
    pages = [
        (tab_ae, ae_denoising.create_demo(tab_ae)),
        (tab_vae, vae_latent_explorer.create_demo(tab_vae)),
        (tab_dcgan, dcgan_bedroom_arithmetic.create_demo(tab_dcgan)),
        (tab_windows, dcgan_window_forgetting.create_demo(tab_windows)),
        (tab_pix2pix, pix2pix_edges2cats.create_demo(tab_pix2pix)),
        (tab_cyclegan, cyclegan_horse2cloudhorse.create_demo(tab_cyclegan)),
        (tab_cg, cartoongan_photo2cartoon.create_demo(tab_cg)),
        (tab_dd, deepdream.create_demo(tab_dd)),
        (tab_ddpm, ddpm_step_by_step.create_demo(tab_ddpm)),
    ]
    assert tuple(tab.id for tab, _demo in pages) == TAB_IDS
    with gr.Blocks(title="Generative Models Gallery / 生成モデル・ギャラリー") as app:
        gr.Markdown(_("app.title"))
        gr.Markdown(_("app.intro"))
        with gr.Tabs() as tabs:
            for tab, demo in pages:
                tab.render()
                with tab:
                    demo.render()
        app.load(tab_from_link, None, tabs, queue=False, api_visibility="private")
    # How many requests of one event run at once. The tabs' work takes milliseconds, so a small limit keeps the
    # two cores busy without piling threads on each other (see bench/load_test.py for the figures).
    app.queue(default_concurrency_limit=int(os.environ.get("GALLERY_CONCURRENCY", 2)))
    return app


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
    if os.environ.get("GALLERY_TORCH_THREADS"):
        import torch

        torch.set_num_threads(int(os.environ["GALLERY_TORCH_THREADS"]))
    if args.lang:
        os.environ["GALLERY_LANG"] = args.lang  # also read by the handlers for their messages
    build_app().launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        i18n=make_i18n(args.lang),
        max_file_size=MAX_FILE_SIZE,
        css=CSS,
        mcp_server=args.mcp,
    )


if __name__ == "__main__":
    main()
