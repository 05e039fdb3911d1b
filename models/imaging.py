"""Small picture helpers shared by the demos, the models' sampling code and the training scripts.

Conventions: models work in [-1, 1] (GANs, DDPM) or [0, 1] (AE, VAE); pictures are shown from [0, 1].
``to_unit`` maps the first to the second; ``to_uint8`` makes pixels; ``grid`` and ``strip`` lay several images out
with a gap between them; ``to_pil`` makes a PIL image, enlarged with crisp pixels for small digits. ``luma`` and
``gaussian_blur`` are the grey level and the blur that the edge detector and the training metrics share;
``srgb_to_lab`` and ``lab_to_srgb`` convert to and from CIELAB, where distances follow perceived colour differences.
"""

import math

import numpy as np
import PIL.Image
import torch
from torch.nn import functional as F


def luma(x: torch.Tensor) -> torch.Tensor:
    """RGB (N, 3, H, W) -> its grey level (N, 1, H, W): ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B."""
    return 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]


def gaussian_blur(x: torch.Tensor, sigma: float, padding: str = "replicate") -> torch.Tensor:
    """Separable Gaussian blur (standard deviation ``sigma`` px, radius ⌈3σ⌉) of every channel of (N, C, H, W);
    ``padding``: how the borders are extended, "replicate" or "reflect" (``torch.nn.functional.pad``'s modes)."""
    radius = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = (k / k.sum()).repeat(x.shape[1], 1, 1, 1)                                  # (C, 1, 1, 2r+1)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode=padding), k, groups=x.shape[1])          # along rows
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode=padding), k.transpose(2, 3), groups=x.shape[1])


_RGB_TO_XYZ = torch.tensor([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
_WHITE_D65 = torch.tensor([0.95047, 1.0, 1.08883])


def srgb_to_lab(x: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1] (N, 3, H, W) -> CIELAB (D65 white): lightness L* in [0, 100], colour a* and b* roughly in
    [-128, 127]."""
    linear = torch.where(x <= 0.04045, x / 12.92, ((x.clamp(min=0) + 0.055) / 1.055) ** 2.4)
    xyz = torch.einsum("ij,njhw->nihw", _RGB_TO_XYZ.to(x), linear) / _WHITE_D65.to(x)[:, None, None]
    f = torch.where(xyz > (6 / 29) ** 3, xyz.clamp(min=1e-12) ** (1 / 3), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], dim=1)


def lab_to_srgb(lab: torch.Tensor) -> torch.Tensor:
    """CIELAB (N, 3, H, W) -> sRGB in [0, 1], the inverse of ``srgb_to_lab``; colours outside sRGB are clipped."""
    fy = (lab[:, 0] + 16) / 116
    f = torch.stack([fy + lab[:, 1] / 500, fy, fy - lab[:, 2] / 200], dim=1)
    xyz = torch.where(f > 6 / 29, f ** 3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE_D65.to(lab)[:, None, None]
    linear = torch.einsum("ij,njhw->nihw", torch.linalg.inv(_RGB_TO_XYZ).to(lab), xyz).clamp(0, 1)
    return torch.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear.clamp(min=1e-12) ** (1 / 2.4) - 0.055)


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Model space [-1, 1] → image space [0, 1] (clamped, float)."""
    return (x.float() / 2 + 0.5).clamp(0, 1)


def to_uint8(x, keep_shape: bool = False) -> np.ndarray:
    """An image in [0, 1] (tensor or float array) or already uint8 → uint8 pixels.

    Shapes: (C, H, W) → (H, W, C) for C = 3, (H, W) for C = 1; a leading batch of one is dropped ((1, C, H, W));
    (N, C, H, W) with N > 1 stays (N, C, H, W). With ``keep_shape`` every shape stays as it is (e.g. a batch of
    any size, N = 1 included, to store and lay out later with ``grid``)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().float().clamp(0, 1).cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    if keep_shape:
        return arr
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 3 and arr.shape[0] in (1, 3):
        arr = arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)
    return arr


def grid(images, nrow: int | None = None, pad: int = 2, background: int = 255, border: bool = False) -> np.ndarray:
    """(N, C, H, W) images in [0, 1] (or uint8) → one uint8 picture, ``nrow`` images per row (default: a square-ish
    grid), ``pad`` pixels of ``background`` between them (and around them with ``border``).
    Returns (H', W') for grey images, (H', W', 3) for colour."""
    if isinstance(images, torch.Tensor):
        images = images.detach().float().clamp(0, 1).cpu().numpy()
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    n, c, h, w = arr.shape
    ncol = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / ncol)
    edge = pad if border else 0
    canvas = np.full((rows * (h + pad) - pad + 2 * edge, ncol * (w + pad) - pad + 2 * edge, c), background, np.uint8)
    for i in range(n):
        r, q = divmod(i, ncol)
        top, left = edge + r * (h + pad), edge + q * (w + pad)
        canvas[top:top + h, left:left + w] = arr[i].transpose(1, 2, 0)
    return canvas[..., 0] if c == 1 else canvas


def strip(images, pad: int = 2, background: int = 255) -> np.ndarray:
    """(N, C, H, W) images in one row (see ``grid``)."""
    return grid(images, nrow=len(images), pad=pad, background=background)


def to_pil(x, scale: int = 1, smooth: bool = False) -> PIL.Image.Image:
    """An image (tensor in [0, 1], float or uint8 array; see ``to_uint8`` for shapes) → PIL ("L" or "RGB"),
    enlarged ``scale`` times with crisp pixels (nearest neighbour) or, with ``smooth``, bicubic."""
    img = PIL.Image.fromarray(to_uint8(x))
    if scale == 1:
        return img
    return img.resize((img.width * scale, img.height * scale), PIL.Image.BICUBIC if smooth else PIL.Image.NEAREST)
