"""The whole app, launched for real and called through gradio_client, as a student's browser or a script would."""

import shutil

import pytest
from gradio_client import Client, handle_file

from models import loading
from tests.conftest import MNIST_EXAMPLES, drawing


def editor(path) -> dict:
    """What a sketchpad sends: background, layers and the flattened composite."""
    return {"background": handle_file(str(path)), "layers": [], "composite": handle_file(str(path))}


@pytest.fixture
def launched(monkeypatch):
    """Launch build_app() on a free port with the pretrained folder given; yield a connected client."""
    apps = []

    def launch(pretrained_root):
        monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(pretrained_root))
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        loading.clear_cache()
        import app as gallery

        demo = gallery.build_app()
        demo.launch(prevent_thread_lock=True, server_port=None, quiet=True, max_file_size=gallery.MAX_FILE_SIZE,
                    i18n=gallery.make_i18n())
        apps.append(demo)
        return Client(demo.local_url, verbose=False, download_files=False)

    yield launch
    for demo in apps:
        demo.close()
    loading.clear_cache()


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
