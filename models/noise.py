"""The three corruptions from the lecture, applied to images with values in [0, 1].

* Gaussian:        x̃ = clip(x + σ·ε, 0, 1),  ε ~ N(0, I)
* salt & pepper:   a fraction ``rate`` of the pixels is set to 0 or 1 (half each)
* masking:         a fraction ``fraction`` of the pixels is set to 0 ("dropout" noise)

Every function takes a ``torch.Generator`` so that the same seed gives the same noise,
in the demo, in training and in the evaluation.
"""

import torch

NOISE_KINDS = ("gaussian", "salt_pepper", "mask")


def gaussian_noise(x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return (x + sigma * eps).clamp(0.0, 1.0)


def salt_pepper_noise(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype)
    salt = torch.rand(x.shape, generator=generator, dtype=x.dtype) < 0.5
    hit = u < rate
    return torch.where(hit, salt.to(x.dtype), x)


def mask_noise(x: torch.Tensor, fraction: float, generator: torch.Generator | None = None) -> torch.Tensor:
    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= fraction
    return x * keep.to(x.dtype)


def add_noise(x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Corrupt ``x`` with one of ``NOISE_KINDS`` at strength ``level`` (σ, rate or fraction)."""
    if kind == "gaussian":
        return gaussian_noise(x, level, generator)
    if kind == "salt_pepper":
        return salt_pepper_noise(x, level, generator)
    if kind == "mask":
        return mask_noise(x, level, generator)
    raise ValueError(f"unknown noise kind {kind!r}; expected one of {NOISE_KINDS}")


def psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image, for images in [0, 1]: 10·log10(1 / MSE)."""
    mse = ((x - y) ** 2).flatten(1).mean(dim=1).clamp_min(1e-10)
    return 10.0 * torch.log10(1.0 / mse)
