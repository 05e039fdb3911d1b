"""Tiny random models for the VQ-VAE tab's slugs, saved exactly like ``pretrained/vqvae-mnist`` and
``pretrained/vqvae-mnist-prior`` (weights, ``codebook_usage.safetensors``, SHA256SUMS), for tests and a tiny app."""

from pathlib import Path

import torch
from safetensors.torch import save_file

from models.loading import write_checksums
from models.vqvae import VQVAE, CodePrior

SLUG = "vqvae-mnist"
PRIOR_SLUG = "vqvae-mnist-prior"
TINY_K = 8           # codes in the tiny codebook
TINY_DEAD_CODE = 5   # the tiny usage histogram says that no test digit uses this code


def make_tiny_pretrained_vqvae(root: Path) -> Path:
    """Write a VQ-VAE with K = 8 codes (and its usage counts, one dead code) and a 2-layer prior under ``root``."""
    root = Path(root)
    torch.manual_seed(0)
    model = VQVAE(codebook_size=TINY_K, embedding_dim=4, channels=8)
    model.save_pretrained(root / SLUG)
    counts = torch.arange(1, TINY_K + 1, dtype=torch.int64) * 100
    counts[TINY_DEAD_CODE] = 0
    save_file({"test_counts": counts}, str(root / SLUG / "codebook_usage.safetensors"))
    write_checksums(root / SLUG)
    prior = CodePrior(codebook_size=TINY_K, d_model=16, layers=2, heads=2)
    prior.class_freq.copy_(torch.linspace(1, 2, 10) / torch.linspace(1, 2, 10).sum())
    prior.save_pretrained(root / PRIOR_SLUG)
    write_checksums(root / PRIOR_SLUG)
    return root
