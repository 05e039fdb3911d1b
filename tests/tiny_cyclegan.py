"""Tiny random CycleGAN generators saved exactly like ``pretrained/`` (for tests and for launching the app fast)."""

from pathlib import Path

import torch

from models.cyclegan import CycleGANGenerator
from models.loading import write_checksums

SLUGS = ("cyclegan-horse2cloudhorse", "cyclegan-cloudhorse2horse")


def make_tiny_pretrained_cyclegan(root: Path) -> Path:
    """Write both generators (G and F), 4 channels wide with one residual block, under ``root``."""
    torch.manual_seed(0)
    for slug in SLUGS:
        CycleGANGenerator(base_channels=4, res_blocks=1).save_pretrained(Path(root) / slug)
        write_checksums(Path(root) / slug)
    return Path(root)
