"""Each training script's --dry-run (fake data, seconds) and what it writes."""

import json

from safetensors.torch import load_file

from models.autoencoder import ConvAutoencoder
from models.vae import VAE
from training import train_autoencoder, train_vae


def test_train_autoencoder_dry_run(tmp_path):
    out, plain = tmp_path / "ae-mnist", tmp_path / "ae-mnist-plain"
    train_autoencoder.main(train_autoencoder.parse_args(
        ["--dry-run", "--output-dir", str(out), "--plain-output-dir", str(plain),
         "--channels", "4", "--latent-dim", "8"]))
    for folder in (out, plain):
        assert json.loads((folder / "config.json").read_text()) == {"channels": 4, "latent_dim": 8}
        ConvAutoencoder.from_pretrained(folder, strict=True)
        card = (folder / "README.md").read_text()
        assert "train_autoencoder.py" in card and "PSNR" in card and "MNIST" in card


def test_train_vae_dry_run(tmp_path):
    out, beta0 = tmp_path / "vae-mnist", tmp_path / "vae-mnist-beta0"
    train_vae.main(train_vae.parse_args(
        ["--dry-run", "--output-dir", str(out), "--beta0-output-dir", str(beta0), "--hidden", "32"]))
    assert VAE.from_pretrained(out, strict=True).beta == 1.0
    assert VAE.from_pretrained(beta0, strict=True).beta == 0.0
    latent = load_file(str(out / "latent_map.safetensors"))
    assert latent["mu"].shape == (200, 2) and latent["labels"].shape == (200,)
    assert "ELBO" in (out / "README.md").read_text()


def test_noise_mix_used_for_training_covers_all_three_kinds():
    import torch

    x = torch.full((600, 1, 28, 28), 0.5)
    noisy = train_autoencoder.corrupt_mixed(x, torch.Generator().manual_seed(0))
    changed = (noisy != x).flatten(1)
    zeroed_only = ((noisy == 0) | (noisy == x)).flatten(1).all(1) & changed.any(1)   # masking
    binary = ((noisy == 0) | (noisy == 1) | (noisy == x)).flatten(1).all(1) & ~zeroed_only & changed.any(1)  # s&p
    gaussian = ~((noisy == 0) | (noisy == 1) | (noisy == x)).flatten(1).all(1)
    assert zeroed_only.sum() > 100 and binary.sum() > 100 and gaussian.sum() > 100
