"""Edge maps for pix2pix edges → cats: a Canny edge detector in plain torch, drawn black on white.

The same function makes the training inputs (from the cat photos, on the GPU) and the tab's inputs
(from an uploaded photo, on the CPU), so the generator always sees the kind of picture it was trained
on. A sketch drawn in the tab (black strokes on white) is turned into the same format by
:func:`sketch_to_lines`.

Canny (1986), in five steps, all batched tensor operations:

1. grey level, then a Gaussian blur of standard deviation ``sigma`` (fewer, smoother edges when larger);
2. Sobel gradients gx, gy, their magnitude and direction;
3. non-maximum suppression: a pixel stays only if its magnitude is the largest along its gradient
   direction (edges one pixel thin);
4. two thresholds, taken per image as quantiles of the magnitudes (so a dim and a bright photo give
   similar amounts of edges): *strong* pixels above ``high``, *weak* ones above ``low``;
5. hysteresis: weak pixels are kept only when connected to a strong one (grown by repeated 3x3 max-pooling).

pix2pix's edges2cats (Isola et al. 2017; Hesse's demo) used HED edges; Canny needs no network.
"""

import torch
from torch.nn import functional as F

from models.imaging import gaussian_blur, luma


@torch.no_grad()
def canny_edges(photos: torch.Tensor, sigma: float = 2.0, low: float = 0.75, high: float = 0.90,
                hysteresis_steps: int = 64) -> torch.Tensor:
    """Canny edges of RGB (N, 3, H, W) or grey (N, 1, H, W) images in [0, 1] → (N, 1, H, W) in {0, 1}, 1 = edge.

    ``low`` and ``high`` are quantiles of the gradient magnitude over each image's pixels.
    """
    x = photos.float()
    gray = luma(x) if x.shape[1] == 3 else x[:, :1]
    g = gaussian_blur(gray, sigma)                                            # replicated borders
    gp = F.pad(g, (1, 1, 1, 1), mode="replicate")
    sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], device=x.device)
    gx = F.conv2d(gp, sobel_x.view(1, 1, 3, 3))
    gy = F.conv2d(gp, sobel_x.T.contiguous().view(1, 1, 3, 3))
    mag = torch.hypot(gx, gy)                                                   # (N, 1, H, W)

    # Non-maximum suppression along the gradient direction, quantised to 0°, 45°, 90°, 135°.
    angle = torch.rad2deg(torch.atan2(gy, gx)) % 180.0
    sector = (((angle + 22.5) // 45.0) % 4).long()                              # 0: horizontal gradient, 2: vertical
    mp = F.pad(mag, (1, 1, 1, 1))
    H, W = mag.shape[-2:]
    shifted = lambda dy, dx: mp[..., 1 + dy:1 + dy + H, 1 + dx:1 + dx + W]  # noqa: E731
    neighbours = [(shifted(0, 1), shifted(0, -1)), (shifted(1, 1), shifted(-1, -1)),
                  (shifted(1, 0), shifted(-1, 0)), (shifted(1, -1), shifted(-1, 1))]
    keep = torch.zeros_like(mag, dtype=torch.bool)
    for s, (a, b) in enumerate(neighbours):
        keep |= (sector == s) & (mag >= a) & (mag >= b)
    thin = mag * keep

    # Per-image thresholds from quantiles of the (blurred-image) gradient magnitude.
    flat = mag.flatten(1)
    lo = torch.quantile(flat, low, dim=1).view(-1, 1, 1, 1)
    hi = torch.quantile(flat, high, dim=1).view(-1, 1, 1, 1)
    hi = torch.maximum(hi, torch.full_like(hi, 1e-3))                          # a flat image has no edges
    weak = (thin > lo) & (thin > 0)
    strong = thin >= hi
    for _ in range(hysteresis_steps):                                           # grow strong edges into weak ones
        grown = (F.max_pool2d(strong.float(), 3, stride=1, padding=1) > 0) & weak
        grown |= strong
        if torch.equal(grown, strong):
            break
        strong = grown
    return strong.float()


def photo_to_lines(photos: torch.Tensor, **kwargs) -> torch.Tensor:
    """The pix2pix input made from photos (N, 3, H, W) in [0, 1]: black lines (0) on white (1), (N, 1, H, W)."""
    return 1.0 - canny_edges(photos, **kwargs)


def sketch_to_lines(sketch: torch.Tensor, size: int = 128) -> torch.Tensor:
    """A drawing (N, C, H, W) in [0, 1], dark strokes on a light background, as a pix2pix input (N, 1, size, size).

    Area-averaged down to ``size`` and thresholded, so that strokes of any brush width become lines of
    one to a few pixels, black on white like the training edges.
    """
    x = sketch.float()
    gray = x.mean(dim=1, keepdim=True) if x.shape[1] != 1 else x
    if gray.shape[-2:] != (size, size):
        gray = F.interpolate(gray, size=(size, size), mode="area")
    return (gray > 0.75).float()


def thicken(lines: torch.Tensor, pixels: int = 1) -> torch.Tensor:
    """Make the black lines of (N, 1, H, W) lines-on-white images thicker by ``pixels`` on each side."""
    if pixels <= 0:
        return lines
    return -F.max_pool2d(-lines, 2 * pixels + 1, stride=1, padding=pixels)
