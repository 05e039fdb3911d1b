"""The nn.Modules: shapes, save/load round trips (config travels with the weights), noise, maths."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from models.autoencoder import ConvAutoencoder
from models.noise import NOISE_KINDS, add_noise, psnr
from models.vae import VAE, kl_divergence, lerp, negative_elbo, slerp


def test_autoencoder_shapes_and_range():
    model = ConvAutoencoder(channels=4, latent_dim=8).eval()
    x = torch.rand(3, 1, 28, 28)
    assert model.encode(x).shape == (3, 8)
    out = model.reconstruct(x)
    assert out.shape == (3, 1, 28, 28)
    assert 0.0 <= out.min() and out.max() <= 1.0


@pytest.mark.parametrize("cls,kwargs", [(ConvAutoencoder, {"channels": 4, "latent_dim": 8}),
                                        (VAE, {"latent_dim": 2, "hidden": 32, "beta": 0.0})])
def test_save_load_round_trip(tmp_path, cls, kwargs):
    model = cls(**kwargs).eval()
    model.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert json.loads((tmp_path / "m" / "config.json").read_text()) == kwargs
    loaded = cls.from_pretrained(tmp_path / "m", strict=True)
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    assert not loaded.training


def test_strict_loading_rejects_a_tampered_state_dict(tmp_path):
    ConvAutoencoder(channels=4, latent_dim=8).save_pretrained(tmp_path / "m")
    tensors = load_file(str(tmp_path / "m" / "model.safetensors"))
    tensors.pop(next(iter(tensors)))
    tensors["unexpected.weight"] = torch.zeros(1)
    save_file(tensors, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(RuntimeError):
        ConvAutoencoder.from_pretrained(tmp_path / "m", strict=True)


def test_noise_is_seeded_and_has_the_asked_strength():
    x = torch.rand(1, 1, 28, 28).round()
    for kind in NOISE_KINDS:
        a = add_noise(x, kind, 0.3, torch.Generator().manual_seed(5))
        b = add_noise(x, kind, 0.3, torch.Generator().manual_seed(5))
        c = add_noise(x, kind, 0.3, torch.Generator().manual_seed(6))
        assert torch.equal(a, b) and not torch.equal(a, c)
        assert 0.0 <= a.min() and a.max() <= 1.0
    big = torch.full((1, 1, 200, 200), 0.5)
    masked = add_noise(big, "mask", 0.5, torch.Generator().manual_seed(0))
    assert abs((masked == 0).float().mean().item() - 0.5) < 0.02
    sp = add_noise(big, "salt_pepper", 0.2, torch.Generator().manual_seed(0))
    assert abs((sp != 0.5).float().mean().item() - 0.2) < 0.02
    with pytest.raises(ValueError):
        add_noise(x, "speckle", 0.1)


def test_psnr():
    x = torch.zeros(2, 1, 28, 28)
    y = x + 0.1  # MSE 0.01 -> 20 dB
    assert torch.allclose(psnr(y, x), torch.tensor([20.0, 20.0]))


def test_kl_and_elbo():
    assert torch.allclose(kl_divergence(torch.zeros(1, 2), torch.zeros(1, 2)), torch.zeros(1))
    assert kl_divergence(torch.ones(1, 2), torch.zeros(1, 2)).item() == pytest.approx(1.0)
    model = VAE(latent_dim=2, hidden=32).eval()
    x = torch.rand(4, 1, 28, 28)
    neg, recon, kl = negative_elbo(model, x, samples=3, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(neg, recon + kl) and (kl >= 0).all() and (recon > 0).all()


def test_beta0_model_is_deterministic():
    model = VAE(latent_dim=2, hidden=32, beta=0.0).eval()
    mu, logvar = model.encode(torch.rand(2, 1, 28, 28))
    assert torch.equal(model.reparameterize(mu, logvar), mu)


def test_interpolation_paths():
    a, b = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 2.0])
    t = torch.linspace(0, 1, 5)
    for f in (lerp, slerp):
        path = f(a, b, t)
        assert torch.allclose(path[0], a, atol=1e-6) and torch.allclose(path[-1], b, atol=1e-6)
    # slerp between two vectors of the same length keeps that length; the straight line does not
    assert torch.allclose(slerp(a, b, t).norm(dim=1), torch.full((5,), 2.0), atol=1e-5)
    assert lerp(a, b, t).norm(dim=1)[2] < 1.5
