"""Tiny random models for the DDPM tab's slugs, saved exactly like pretrained/ (for tests and a tiny app)."""

from pathlib import Path

import torch


def tiny_unet(seed: int = 0):
    """A UNet2DModel with block_out_channels=(8, 16): 32×32 grey images, attention at 16×16, milliseconds per call."""
    from models.ddpm import make_unet

    torch.manual_seed(seed)
    return make_unet((8, 16), attention=True, layers_per_block=1, norm_num_groups=8)


def save_tiny_pipeline(folder: Path, seed: int = 0) -> Path:
    """A diffusers pipeline folder (model_index.json, unet/, scheduler/, SHA256SUMS) with a tiny random U-Net."""
    from diffusers import DDPMPipeline

    from models.ddpm import make_scheduler
    from models.loading import write_tree_checksums

    folder = Path(folder)
    pipeline = DDPMPipeline(unet=tiny_unet(seed), scheduler=make_scheduler("ddpm"))
    pipeline.save_pretrained(str(folder), safe_serialization=True)
    write_tree_checksums(folder)
    return folder


def make_tiny_pretrained_ddpm(root: Path) -> Path:
    """Write ``ddpm-mnist`` (tiny pipeline) and ``mnist-classifier`` (tiny CNN) under ``root``, like pretrained/."""
    from models.loading import write_checksums
    from models.mnist_classifier import MnistClassifier

    root = Path(root)
    save_tiny_pipeline(root / "ddpm-mnist")
    torch.manual_seed(0)
    MnistClassifier(channels=4, feature_dim=16).save_pretrained(root / "mnist-classifier")
    write_checksums(root / "mnist-classifier")
    return root
