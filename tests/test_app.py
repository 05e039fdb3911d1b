"""The whole app, launched for real and called through gradio_client, as a student's browser or a script would."""

import shutil

import pytest

from tests.conftest import MNIST_EXAMPLES, drawing, editor


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


def test_mcp_server_lists_every_tab_api(tiny_models, monkeypatch):
    """`python app.py --mcp`: each tab's public api is an MCP tool."""
    import json
    import urllib.request

    from models import loading

    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tiny_models))
    loading.clear_cache()
    import app as gallery

    demo = gallery.build_app()
    demo.launch(prevent_thread_lock=True, quiet=True, mcp_server=True, i18n=gallery.make_i18n())
    try:
        with urllib.request.urlopen(demo.local_url + "gradio_api/mcp/schema", timeout=30) as r:
            tools = {tool["name"] for tool in json.load(r)}
    finally:
        demo.close()
    assert {"ae_denoise", "vae_decode", "vae_encode", "vae_interpolate"} <= tools
