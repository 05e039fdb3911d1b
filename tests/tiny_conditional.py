"""Tiny random models for the conditional-generation tab's slugs, saved exactly like ``pretrained/cgan-mnist``,
``acgan-mnist``, ``acgan-mnist-discriminator`` and ``cvae-mnist`` (weights and SHA256SUMS), for tests and a tiny
app."""

from pathlib import Path

import torch

from models.conditional import ACGANDiscriminator, ConditionalGenerator, ConditionalVAE
from models.loading import write_checksums

TINY_NZ = 8       # z of the tiny GAN generators
TINY_LATENT = 4   # z of the tiny cVAE


def make_tiny_pretrained_conditional(root: Path) -> Path:
    """Write the four tiny models under ``root`` (each a few thousand parameters)."""
    root = Path(root)
    torch.manual_seed(0)
    models = {
        "cgan-mnist": ConditionalGenerator(nz=TINY_NZ, channels=4),
        "acgan-mnist": ConditionalGenerator(nz=TINY_NZ, channels=4),
        "acgan-mnist-discriminator": ACGANDiscriminator(channels=4),
        "cvae-mnist": ConditionalVAE(latent_dim=TINY_LATENT, hidden=16),
    }
    for slug, model in models.items():
        model.save_pretrained(root / slug)
        write_checksums(root / slug)
    return root
