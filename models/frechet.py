"""Fréchet distance between two sets of feature vectors, and FID-Lite0.

Heusel et al. (2017) compare generated and real images by fitting a Gaussian N(μ, Σ) to deep
features of each set and measuring

    d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^{1/2}).

The usual FID uses Inception-v3 features; we only have EfficientNet-Lite0 here, so the gallery's
figures are called **FID-Lite0** (its 1,280-d pooled features of 224x224 inputs) and are not
comparable with published FIDs. The same function serves Fréchet distances on other features
(e.g. an MNIST classifier's penultimate layer).
"""

import torch
from torch.nn import functional as F


def gaussian_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and covariance (D, D), in float64, of features (N, D)."""
    f = features.double()
    mu = f.mean(dim=0)
    centred = f - mu
    return mu, centred.T @ centred / (f.shape[0] - 1)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """d² between N(mu1, sigma1) and N(mu2, sigma2).

    Tr((Σ₁Σ₂)^{1/2}) is computed as the sum of the square roots of the eigenvalues of the symmetric
    matrix Σ₁^{1/2} Σ₂ Σ₁^{1/2}, which has the same eigenvalues and is numerically safer.
    """
    mu1, mu2, sigma1, sigma2 = (t.double() for t in (mu1, mu2, sigma1, sigma2))
    vals, vecs = torch.linalg.eigh(sigma1)
    sqrt1 = vecs @ torch.diag(vals.clamp_min(0).sqrt()) @ vecs.T
    middle = sqrt1 @ sigma2 @ sqrt1
    tr_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    return float((mu1 - mu2).pow(2).sum() + torch.trace(sigma1) + torch.trace(sigma2) - 2 * tr_sqrt)


@torch.inference_mode()
def lite0_features(model, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Pooled EfficientNet-Lite0 features (N, 1280) of RGB images (N, 3, H, W) in [0, 1], resized to 224x224."""
    out = []
    for start in range(0, images.shape[0], batch_size):
        x = images[start:start + batch_size].float()
        if x.shape[-2:] != (224, 224):
            x = F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False, antialias=True)
        out.append(model.features(x)["pooled"])
    return torch.cat(out)


def fid_lite0(model, images_a: torch.Tensor, images_b: torch.Tensor, batch_size: int = 64) -> float:
    """FID-Lite0 between two image sets (N, 3, H, W) in [0, 1]."""
    return frechet_distance(*gaussian_stats(lite0_features(model, images_a, batch_size)),
                            *gaussian_stats(lite0_features(model, images_b, batch_size)))
