"""The whole app, launched for real and called through gradio_client, as a student's browser or a script would."""

import shutil

import pytest

from tests.conftest import MNIST_EXAMPLES, ROOT, drawing, editor


def test_every_tab_api_answers(tiny_models, launched, tmp_path):
    client = launched(tiny_models)
    digit = MNIST_EXAMPLES / "2_0001.png"
    out = client.predict(editor(digit), "gaussian", 0.5, 0.2, 0.5, 1, api_name="/ae_denoise")
    assert len(out) == 7 and "PSNR" in out[5]
    decoded, marked = client.predict(0.3, -0.2, api_name="/vae_decode")
    assert decoded and marked
    drawn = tmp_path / "drawn.png"
    drawing().save(drawn)
    out = client.predict(editor(drawn), api_name="/vae_encode")
    assert "ELBO" in out[5]
    out = client.predict(editor(digit), editor(drawn), 4, "spherical", api_name="/vae_interpolate")
    assert len(out) == 4


EVERY_API = ("ae_denoise", "vae_decode", "vae_encode", "vae_interpolate", "dcgan_grid", "dcgan_arithmetic",
             "dcgan_walk", "dcgan_forget_windows", "pix2pix", "pix2pix_photo", "cyclegan", "cartoonize",
             "cartoonize_styles", "deepdream", "deepdream_zoom", "ddpm_forward", "ddpm_sample", "ddpm_compare",
             "vqvae_encode", "vqvae_decode", "vqvae_sample", "conditional_generate", "cvae_restyle", "gan_lab_run")


def test_the_other_tabs_answer_in_the_whole_app(tiny_models, launched, tmp_path):
    """The main action of every tab after AE and VAE, through the launched gallery (tiny models, small settings)."""
    from gradio_client import handle_file

    client = launched(tiny_models)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {e.lstrip("/") for e in endpoints} == set(EVERY_API)
    photo = ROOT / "demos" / "examples" / "photos" / "chelsea.jpg"
    digit = MNIST_EXAMPLES / "2_0001.png"
    assert len(client.predict(1, api_name="/dcgan_grid")) == 16
    figure, averaged, single, caption = client.predict("0:1, 0:2", "0:3", "1:4", 0.2, 1, api_name="/dcgan_arithmetic")
    assert figure and averaged and single
    figure, caption = client.predict(1, 2, "zero", 0, False, api_name="/dcgan_forget_windows")
    assert figure
    edges = sorted((ROOT / "demos" / "examples" / "pix2pix").glob("*.png"))[0]
    assert all(client.predict(editor(edges), False, 0, api_name="/pix2pix"))
    out = client.predict(handle_file(str(photo)), "a2b", 64, 10, 2, api_name="/cyclegan")
    assert out[1]
    seen, final, init = client.predict(handle_file(str(photo)), 96, api_name="/cartoonize")
    assert final and init
    dream, progress, panel = client.predict(handle_file(str(photo)), "block4", "mean_square", 64, 1, 1.4, 1, 0.02, 4, 0,
                                            None, api_name="/deepdream")
    assert dream
    forward = client.predict(editor(digit), 300, 0, api_name="/ddpm_forward")
    assert "t = 300" in forward[-1]
    assert client.predict("", "ddim", 5, 2, 0, 2, api_name="/ddpm_sample")[0]
    picture, summary = client.predict("grid", "lsgan", 5, 1, hidden=16, layers=1, batch_size=32,
                                      api_name="/gan_lab_run")
    assert picture and summary["modes_total"] == 25 and summary["steps"] == 5


def test_bad_inputs_get_clear_errors_and_the_app_keeps_serving(tiny_models, launched, tmp_path):
    client = launched(tiny_models)
    fake = tmp_path / "not_an_image.png"
    fake.write_text("hello, I am text")
    with pytest.raises(Exception) as err:
        client.predict(editor(fake), "gaussian", 0.5, 0.2, 0.5, 1, api_name="/ae_denoise")
    assert "image" in str(err.value)
    blank = tmp_path / "blank.png"
    drawing(mode="RGBA", ink=(0, 0, 0, 0)).save(blank)
    with pytest.raises(Exception) as err:
        client.predict(editor(blank), "gaussian", 0.5, 0.2, 0.5, 1, api_name="/ae_denoise")
    assert "empty" in str(err.value)
    with pytest.raises(Exception):
        client.predict(editor(MNIST_EXAMPLES / "2_0001.png"), "gaussian", 7.0, 0.2, 0.5, 1, api_name="/ae_denoise")
    # still serving
    assert client.predict(0.0, 0.0, api_name="/vae_decode")


def test_missing_weights_disable_only_their_tab(tiny_models, launched, tmp_path):
    root = tmp_path / "pretrained"
    shutil.copytree(tiny_models, root)
    shutil.rmtree(root / "vae-mnist")
    client = launched(root)
    with pytest.raises(Exception) as err:
        client.predict(0.0, 0.0, api_name="/vae_decode")
    assert "vae-mnist" in str(err.value) and "train_vae.py" in str(err.value)
    out = client.predict(editor(MNIST_EXAMPLES / "2_0001.png"), "mask", 0.5, 0.2, 0.5, 1, api_name="/ae_denoise")
    assert "PSNR" in out[5]


def test_mcp_server_serves_every_tab_api_as_a_tool_a_client_can_call(tiny_models, monkeypatch, tmp_path):
    """`python app.py --mcp`: each tab's public api is an MCP tool, and a real MCP client (the ``mcp`` package, over
    streamable HTTP) calls every one of them end to end, images included as data: URLs. (The tools with a drawing
    pad failed with ``PointerToNowhere: '/$defs/FileData'``: their schema nested ``$defs`` under the property.)"""
    import asyncio
    import base64
    import json
    import urllib.request

    from gradio_client import Client
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    from models import loading
    from tests.test_faults import IMAGE_COMPONENTS, SMALL

    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tiny_models))
    loading.clear_cache()
    import app as gallery

    # The values of parameters that an MCP client must give (no default): DDPM's model (empty: our own), VQ-VAE codes.
    REQUIRED_VALUES = {"model_id": "", "codes": json.dumps([[0] * 7] * 7)}
    drawn = tmp_path / "drawn.png"
    drawing(size=64, mode="RGBA", background=(255, 255, 255, 255)).save(drawn)
    image = "data:image/png;base64," + base64.b64encode(drawn.read_bytes()).decode()

    def arguments(params) -> dict:
        """Every parameter at its default (left out where that is None) except images (the drawing) and the heavy
        tabs' settings (small)."""
        args = {}
        for p in params:
            name = p["parameter_name"]
            if p["component"] in IMAGE_COMPONENTS:
                args[name] = image if p["component"] == "Image" else {"background": image, "layers": [],
                                                                         "composite": image}
            elif name in REQUIRED_VALUES:
                args[name] = REQUIRED_VALUES[name]
            elif SMALL.get(name, p["parameter_default"]) is not None:
                args[name] = SMALL.get(name, p["parameter_default"])
        return args

    async def call_every_tool(url: str, endpoints: dict, params: dict) -> dict:
        async with streamablehttp_client(url, timeout=60, sse_read_timeout=300) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                results = {}
                for tool in tools:
                    results[tool.name] = await asyncio.wait_for(
                        session.call_tool(tool.name, arguments(params[endpoints[tool.name]])), timeout=300)
                return results

    demo = gallery.build_app()
    demo.launch(prevent_thread_lock=True, quiet=True, mcp_server=True, i18n=gallery.make_i18n(gallery.TABS))
    try:
        with urllib.request.urlopen(demo.local_url + "gradio_api/mcp/schema", timeout=30) as r:
            schema = json.load(r)
        endpoints = {tool["name"]: tool["meta"]["endpoint_name"] for tool in schema}
        apis = Client(demo.local_url, verbose=False).view_api(print_info=False, return_format="dict")
        params = {name.lstrip("/"): e["parameters"] for name, e in apis["named_endpoints"].items()}
        results = asyncio.run(call_every_tool(demo.local_url + "gradio_api/mcp/", endpoints, params))
    finally:
        demo.close()
    # a tool is named after its handler: the same as the api name except DeepDream's (``deepdream`` is the algorithm)
    assert {"deepdream_run" if name == "deepdream" else name for name in EVERY_API} <= set(endpoints)
    assert set(results) == set(endpoints)
    failed = {name: [c.text for c in r.content if c.type == "text"][:1] for name, r in results.items() if r.isError}
    assert not failed
    for name in ("ae_denoise", "vae_encode", "vae_interpolate", "pix2pix", "ddpm_forward", "cartoonize"):
        assert any(c.type == "image" for c in results[name].content), name  # images in, images out


def test_the_browser_protocol_client_of_the_load_test_gets_the_same_answers(tiny_models, launched):
    """clients/browser_protocol.py (the load test's stand-in for a browser) uploads, queues and reads the events like
    Gradio's JavaScript client: same results as gradio_client, and an app error is raised, not hidden."""
    from clients.browser_protocol import BrowserProtocolClient

    client = launched(tiny_models)
    browser = BrowserProtocolClient(client.src)
    digit = MNIST_EXAMPLES / "2_0001.png"
    out = browser.predict(editor(digit), "gaussian", 0.5, 0.2, 0.5, 1, api_name="/ae_denoise")
    assert out[5] == client.predict(editor(digit), "gaussian", 0.5, 0.2, 0.5, 1, api_name="/ae_denoise")[5]
    assert out[2]["url"]  # the denoised digit, as a file the page shows
    with pytest.raises(RuntimeError, match="/ae_denoise failed"):
        browser.predict(editor(digit), "no such noise", 0.5, 0.2, 0.5, 1, api_name="/ae_denoise")


def test_the_browser_protocol_client_sends_again_over_a_reset_connection():
    """Like a browser, the load test's client repeats a request once when the kept-alive connection it reused was
    closed by the server under it ("connection reset by peer"); a second failure is the server's answer."""
    import httpx

    from clients.browser_protocol import BrowserProtocolClient

    calls, failures = [], {"/config": 1, "/gradio_api/queue/join": 1}

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if failures.get(request.url.path, 0) > 0:
            failures[request.url.path] -= 1
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        if request.url.path == "/config":
            return httpx.Response(200, json={"dependencies": [{"id": 0, "api_name": "f"}], "components": []})
        return httpx.Response(200, json={"event_id": "e1"})

    client = BrowserProtocolClient("http://gallery", transport=httpx.MockTransport(server))
    assert client.fn_index == {"/f": 0} and client.join(0, [1]) == "e1"
    assert calls == ["/config", "/config", "/gradio_api/queue/join", "/gradio_api/queue/join"]
    failures["/gradio_api/queue/join"] = 2  # twice in a row: not hidden
    with pytest.raises(httpx.RemoteProtocolError):
        client.join(0, [1])


def test_a_tab_computes_its_first_results_when_first_shown():
    """demos/kit.py: Page.when_shown — in the gallery a tab's open_tab runs when the page opens on it (the first
    tab, or the one a share link names, old ids included) or the first time it is selected, once; alone, when its
    page opens."""
    import gradio as gr

    from demos.kit import Page, Tab

    calls = []

    def open_tab(request=None):
        calls.append(request.query_params)
        return {"out": "first results"}

    class Request:  # the gr.Request of a page opened with this query
        def __init__(self, **query):
            self.query_params = query
            self.headers = {}

    first = Tab(id="ae", strings={"title": {"en": "AE", "ja": "AE"}})
    tab = Tab(id="vae", strings={"title": {"en": "VAE", "ja": "VAE"}}, old_ids=("v",))
    gr_tab = gr.Tab("VAE", id="vae", render=False)
    with gr.Blocks() as demo:
        out = gr.Textbox()
        Page(tab, gr_tab, gallery=[first, tab]).when_shown(demo, open_tab, {"out": out})
    on_page_open, on_select = (dep.fn for dep in demo.fns.values())
    shown = next(c for c in demo.blocks.values() if isinstance(c, gr.State))
    assert on_page_open(Request()) == {shown: False} and not calls  # the page opens on the first tab
    assert on_page_open(Request(tab="vae", z1="0.5")) == {shown: True, out: "first results"}
    assert calls == [{"tab": "vae", "z1": "0.5"}]
    assert on_page_open(Request(tab="v")) == {shown: True, out: "first results"}  # a link with the old id
    assert on_select(False, Request()) == {shown: True, out: "first results"} and len(calls) == 3  # first selected
    # shown already: left as it is (every output skips: Gradio refuses an empty dict of outputs)
    assert on_select(True, Request()) == {shown: gr.skip(), out: gr.skip()} and len(calls) == 3
    # A page opened on this tab also "selects" it as it opens: the page-open event computes it, once.
    assert on_select(False, Request(tab="vae")) == {shown: gr.skip(), out: gr.skip()} and len(calls) == 3
    with gr.Blocks() as alone:
        Page(tab).when_shown(alone, open_tab, {"out": gr.Textbox()})
    [load] = alone.fns.values()
    assert load.fn.__wrapped__ is open_tab


def test_every_heavy_event_gets_the_configured_limit(monkeypatch, tiny_models):
    """GALLERY_HEAVY_EVENTS reaches every event of the shared "heavy" queue. (Gradio keeps the lowest limit given for
    one concurrency id: one event that set its own limit of 1 used to pin the whole queue to 1.)"""
    import app

    monkeypatch.setenv("GALLERY_HEAVY_EVENTS", "2")
    gallery = app.build_app()
    heavy = [fn for fn in gallery.fns.values() if fn.concurrency_id == "heavy"]
    names = {fn.api_name for fn in heavy}
    assert {"deepdream", "deepdream_zoom", "cyclegan", "cartoonize", "cartoonize_styles", "ddpm_sample",
            "vqvae_sample"} <= names
    assert all(fn.concurrency_limit == 2 for fn in heavy), {fn.api_name: fn.concurrency_limit for fn in heavy}
    gallery.close()


def test_add_a_tab_in_a_few_lines(launched_app):
    """The README's "Add a tab" is true: its code, run as written, makes a tab that works in the gallery, in both
    languages, through a real gradio_client call."""
    import re
    import types

    from gradio_client import Client

    import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Add a tab"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    hello = types.ModuleType("demos.hello")
    exec(compile(code, "README.md: Add a tab", "exec"), hello.__dict__)

    tabs = [app.TABS[0], hello.TAB]
    client: Client = launched_app(app.build_app(tabs), tabs)
    assert client.predict("Ada", api_name="/hello") == "Hello, Ada!"
    ja = Client(client.src, headers={"Accept-Language": "ja"}, verbose=False)
    assert ja.predict("Ada", api_name="/hello") == "こんにちは、Ada さん！"
    with pytest.raises(Exception, match="先に名前を入力してください"):
        ja.predict("  ", api_name="/hello")
