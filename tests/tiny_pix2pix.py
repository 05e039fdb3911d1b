"""Tiny random pix2pix generators saved like ``pretrained/`` (for tests and for launching the app quickly)."""

from pathlib import Path

import torch

from models.loading import write_checksums
from models.pix2pix import UNetGenerator

SLUGS = ("pix2pix-edges2cats", "pix2pix-edges2cats-l1")


def make_tiny_pretrained_pix2pix(root: Path) -> Path:
    """Write tiny random ``UNetGenerator``s for both pix2pix slugs under ``root``."""
    root = Path(root)
    for i, slug in enumerate(SLUGS):
        torch.manual_seed(10 + i)
        UNetGenerator(base_channels=4, max_multiplier=2).save_pretrained(root / slug)
        write_checksums(root / slug)
    return root
