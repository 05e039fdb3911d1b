"""Shared fixtures: tiny models saved the way the real ones are, so tests run in seconds."""

import os
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.ImageOps
import pytest
import torch
from gradio_client import Client, handle_file
from safetensors.torch import save_file

from demos.kit import clear_caches
from models.autoencoder import ConvAutoencoder
from models.cartoongan import CartoonGenerator
from models.loading import write_checksums
from models.vae import VAE
from tests.tiny_conditional import make_tiny_pretrained_conditional
from tests.tiny_cyclegan import make_tiny_pretrained_cyclegan
from tests.tiny_dcgan import make_tiny_pretrained_dcgan
from tests.tiny_ddpm import make_tiny_pretrained_ddpm
from tests.tiny_pix2pix import make_tiny_pretrained_pix2pix
from tests.tiny_vqvae import make_tiny_pretrained_vqvae

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
MNIST_EXAMPLES = ROOT / "demos" / "examples" / "mnist"

# Nothing in the tests may reach the real Hub: an unroutable endpoint makes a stray download fail fast.
os.environ.setdefault("HF_ENDPOINT", "http://127.0.0.1:9")


def make_tiny_pretrained(root: Path) -> Path:
    """Write tiny random models for every slug of the AE and VAE tabs under ``root`` (like pretrained/)."""
    torch.manual_seed(0)
    ConvAutoencoder(channels=4, latent_dim=8).save_pretrained(root / "ae-mnist")
    ConvAutoencoder(channels=4, latent_dim=8).save_pretrained(root / "ae-mnist-plain")
    for slug, beta in (("vae-mnist", 1.0), ("vae-mnist-beta0", 0.0)):
        VAE(latent_dim=2, hidden=32, beta=beta).save_pretrained(root / slug)
        g = torch.Generator().manual_seed(1)
        save_file({
            "mu": torch.randn(500, 2, generator=g),
            "logvar": torch.zeros(500, 2),
            "neg_elbo": torch.full((500,), 150.0),
            "labels": torch.randint(0, 10, (500,), generator=g),
        }, str(root / slug / "latent_map.safetensors"))
    for slug in ("cartoongan-openmoji", "cartoongan-openmoji-init"):
        CartoonGenerator(base_channels=4, res_blocks=1).save_pretrained(root / slug)
    for folder in root.iterdir():
        write_checksums(folder)
    # The other tabs' tiny models, each written (checksums included) by its own helper.
    make_tiny_pretrained_dcgan(root)
    make_tiny_pretrained_pix2pix(root)
    make_tiny_pretrained_cyclegan(root)
    make_tiny_pretrained_ddpm(root)
    make_tiny_pretrained_vqvae(root)
    make_tiny_pretrained_conditional(root)
    # DeepDream needs the real ImageNet network (it is not trained here, and small enough): a link to it.
    (root / "efficientnet-lite0").symlink_to(ROOT / "pretrained" / "efficientnet-lite0", target_is_directory=True)
    return root


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> Path:
    return make_tiny_pretrained(tmp_path_factory.mktemp("pretrained"))


@pytest.fixture
def tiny_models(tiny_root, monkeypatch):
    """Point the loader at the tiny models (and forget anything loaded before)."""
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tiny_root))
    clear_caches()
    yield tiny_root
    clear_caches()


@pytest.fixture
def mnist_digit() -> PIL.Image.Image:
    """A real MNIST test digit (a 2) shipped with the app, 28×28 white on black as in MNIST (the file holds it as
    the canvas shows it: 10× larger, black on white)."""
    with PIL.Image.open(MNIST_EXAMPLES / "2_0001.png") as shown:
        return PIL.ImageOps.invert(shown.convert("L").resize((28, 28), PIL.Image.NEAREST))


def drawing(size=280, mode="RGBA", ink=(0, 0, 0, 255), background=(0, 0, 0, 0)) -> PIL.Image.Image:
    """A thick diagonal stroke, like a student's drawing on the canvas."""
    img = PIL.Image.new(mode, (size, size), background if mode != "L" else 255)
    arr = np.array(img)
    for i in range(size // 5, size - size // 5):
        arr[i, max(0, i - size // 20):i + size // 20] = ink if mode != "L" else 0
    return PIL.Image.fromarray(arr)


def editor(path) -> dict:
    """What a sketchpad sends: background, layers and the flattened composite."""
    return {"background": handle_file(str(path)), "layers": [], "composite": handle_file(str(path))}


@pytest.fixture
def pretrained_root(tmp_path, monkeypatch):
    """The app loads its weights from ``tmp_path`` (offline), with its model caches emptied before and after the
    test: the test puts tiny models there."""
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    clear_caches()
    yield tmp_path
    clear_caches()


@pytest.fixture
def launched(monkeypatch):
    """Launch build_app() on a free port with the pretrained folder given; yield a connected client."""
    apps = []

    def launch(pretrained_root):
        monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(pretrained_root))
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        clear_caches()
        import app as gallery

        demo = gallery.build_app()
        demo.launch(prevent_thread_lock=True, server_port=None, quiet=True, max_file_size=gallery.MAX_FILE_SIZE,
                    i18n=gallery.make_i18n(gallery.TABS))
        apps.append(demo)
        return Client(demo.local_url, verbose=False, download_files=False)

    yield launch
    for demo in apps:
        demo.close()
    clear_caches()


@pytest.fixture
def launched_app():
    """Launch a given Blocks (with the i18n of ``parts``) on a free port; yield a connected client."""
    apps = []

    def launch(demo, parts):
        from demos.i18n import make_i18n

        demo.launch(prevent_thread_lock=True, server_port=None, quiet=True, i18n=make_i18n(parts))
        apps.append(demo)
        return Client(demo.local_url, verbose=False, download_files=False)

    yield launch
    for demo in apps:
        demo.close()
