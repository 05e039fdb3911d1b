"""A tiny random DCGAN generator and window data saved exactly like ``pretrained/dcgan-bedrooms`` (for tests and
for launching the app fast), and ``use_tiny_dcgan``, what the DCGAN tabs' tests run on."""

import json
import os
from pathlib import Path

import torch

from models.dcgan import Generator
from models.loading import write_checksums

SLUG = "dcgan-bedrooms"
ROOT = Path(__file__).resolve().parent.parent


def tiny_window_data(feature_maps: int, detector_dim: int = 40 + 112) -> dict:
    """window_feature_maps.json with the real file's fields and made-up numbers."""
    g = torch.Generator().manual_seed(0)
    weights = torch.randn(feature_maps, generator=g)
    window_maps = [int(c) for c in torch.argsort(weights, descending=True) if weights[c] > 0]
    ks = [0, len(window_maps)]
    data = {
        "description": "tiny test data", "layer": "up3", "feature_maps": feature_maps, "labelled_samples": 12,
        "boxes": 6, "boxes_file": "training/data/dcgan_window_boxes.json", "window_maps": window_maps,
        "probe": {"weights": weights.tolist(), "bias": -1.0, "scale": [1.0] * feature_maps, "held_out_auc": 0.5},
        "detector": {"mean": [0.0] * detector_dim, "std": [1.0] * detector_dim,
                     "weights": (0.1 * torch.randn(detector_dim, generator=g)).tolist(), "bias": -1.0,
                     "held_out_auc": 0.5},
        "map_means": [0.5] * feature_maps,
    }
    curve = {"k": ks, "window": [0.10, 0.05], "random_mean": [0.10, 0.09], "random_min": [0.10, 0.08],
             "random_max": [0.10, 0.10], "samples": 8, "random_draws": 2, "feature_maps": feature_maps}
    data["score_curve"] = curve
    data["score_curves"] = {"zero": curve, "mean": dict(curve, window=[0.10, 0.07])}
    return data


def make_tiny_pretrained_dcgan(root: Path) -> Path:
    """Write a 4-channel-wide generator and its window data under ``root``/dcgan-bedrooms."""
    torch.manual_seed(0)
    folder = Path(root) / SLUG
    g = Generator(ngf=4)
    g.save_pretrained(folder)
    (folder / "window_feature_maps.json").write_text(json.dumps(tiny_window_data(g.ngf)))
    write_checksums(folder)
    return Path(root)


def use_tiny_dcgan(tmp_path: Path, monkeypatch):
    """For a fixture (``yield from``): point the loader at a tiny generator, its window data and the real
    EfficientNet-Lite0 (for the window detector), offline; forget every loaded model and cached result before and
    after. Yields the pretrained root."""
    from demos.kit import clear_caches

    root = make_tiny_pretrained_dcgan(tmp_path / "pretrained")
    os.symlink(ROOT / "pretrained" / "efficientnet-lite0", root / "efficientnet-lite0")
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    clear_caches()
    yield root
    clear_caches()
