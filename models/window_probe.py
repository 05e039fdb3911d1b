"""The two linear "window" read-outs of the DCGAN window-forgetting experiment (Radford et al. 2015, §6.3.1),
stored as plain numbers in ``pretrained/dcgan-bedrooms/window_feature_maps.json``
(fitted by ``training/find_window_feature_maps.py``):

* the **feature probe** — the paper's logistic regression on the generator's second-highest conv layer:
  p(window at a location) = σ(Σ_c w_c · h_c / s_c + b) over the maps h_c of ``Generator.features``.
  Maps with w_c > 0 are the "window maps" that the experiment drops.
* the **image detector** — a logistic regression on EfficientNet-Lite0 features of the *output image*
  (blocks 4 and 10), trained on the same hand-drawn boxes. It measures windows in what G draws, so it
  can score images whose G features were edited (the feature probe cannot: dropping the window maps
  lowers its logits by construction).
"""

import torch
from torch.nn import functional as F

DETECTOR_LAYERS = ("block4", "block10")
DETECTOR_INPUT = 192   # the 64 px images are enlarged to this before EfficientNet-Lite0
DETECTOR_GRID = 24     # block4's map at that size: one cell ≈ 2.7 px of the 64 px image


def probe_logits(h: torch.Tensor, weights, bias: float, scale) -> torch.Tensor:
    """Feature-probe logits (N, H, W) for G's maps h (N, C, H, W)."""
    w = torch.as_tensor(weights, dtype=h.dtype) / torch.as_tensor(scale, dtype=h.dtype)
    return torch.einsum("nchw,c->nhw", h, w) + bias


def detector_features(cnn, images01: torch.Tensor) -> torch.Tensor:
    """EfficientNet-Lite0 features (N, 40 + 112, 24, 24) of images (N, 3, 64, 64) in [0, 1]."""
    x = F.interpolate(images01, size=(DETECTOR_INPUT, DETECTOR_INPUT), mode="bilinear", align_corners=False)
    f = cnn.features(x, upto=10)
    return torch.cat([F.interpolate(f[name], size=(DETECTOR_GRID, DETECTOR_GRID), mode="bilinear", align_corners=False)
                      for name in DETECTOR_LAYERS], dim=1)


def detector_probability(cnn, images01: torch.Tensor, detector: dict) -> torch.Tensor:
    """p(window) (N, 24, 24) of each cell of images (N, 3, 64, 64) in [0, 1], from the stored detector
    (``{"mean", "std", "weights", "bias"}``)."""
    f = detector_features(cnn, images01)
    mean = torch.as_tensor(detector["mean"]).view(1, -1, 1, 1)
    std = torch.as_tensor(detector["std"]).view(1, -1, 1, 1)
    w = torch.as_tensor(detector["weights"])
    return torch.sigmoid(torch.einsum("nchw,c->nhw", (f - mean) / std, w) + detector["bias"])


def window_score(cnn, images01: torch.Tensor, detector: dict, batch_size: int = 100) -> torch.Tensor:
    """The predicted window area of each image (N,): the mean of p(window) over its cells (a fraction of the image)."""
    return torch.cat([detector_probability(cnn, images01[i:i + batch_size], detector).mean(dim=(1, 2))
                      for i in range(0, images01.shape[0], batch_size)])
