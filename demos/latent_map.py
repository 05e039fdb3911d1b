"""Drawing a 2-D latent space as a picture, and mapping clicks on that picture back to latent points.

The map is a scatter of the encoded MNIST test digits coloured by class (the classic VAE figure).
It is drawn with NumPy and PIL rather than a plotting library, so that redrawing a marker on every
slider tick costs about a millisecond.
"""

from dataclasses import dataclass

import numpy as np
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont

# Matplotlib's "tab10" colours, one per digit class.
CLASS_COLOURS = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
]
SIZE = 400
LEFT, RIGHT, TOP, BOTTOM = 36, 40, 30, 26  # margins of the plot area inside the image (axes, legend)


@dataclass(frozen=True)
class LatentMap:
    """A rendered scatter of latent points and the affine map between latent and pixel coordinates."""

    image: PIL.Image.Image
    low: tuple[float, float]   # (z1, z2) at the lower-left corner of the plot area
    high: tuple[float, float]  # (z1, z2) at the upper-right corner

    @property
    def plot_box(self) -> tuple[int, int, int, int]:
        return LEFT, TOP, SIZE - RIGHT, SIZE - BOTTOM

    def to_pixel(self, z1: float, z2: float) -> tuple[float, float]:
        x0, y0, x1, y1 = self.plot_box
        px = x0 + (z1 - self.low[0]) / (self.high[0] - self.low[0]) * (x1 - x0)
        py = y1 - (z2 - self.low[1]) / (self.high[1] - self.low[1]) * (y1 - y0)
        return px, py

    def to_latent(self, px: float, py: float) -> tuple[float, float]:
        """Latent point under pixel (px, py), clamped to the plotted range."""
        x0, y0, x1, y1 = self.plot_box
        fx = min(max((px - x0) / (x1 - x0), 0.0), 1.0)
        fy = min(max((y1 - py) / (y1 - y0), 0.0), 1.0)
        return self.low[0] + fx * (self.high[0] - self.low[0]), self.low[1] + fy * (self.high[1] - self.low[1])

    def with_marks(self, points=(), ellipses=(), path=None) -> PIL.Image.Image:
        """A copy of the map with crosshair ``points`` [(z1, z2)], 1-σ ``ellipses`` [(μ1, μ2, σ1, σ2)]
        and a polyline ``path`` [(z1, z2), ...] drawn on it."""
        img = self.image.copy()
        draw = PIL.ImageDraw.Draw(img)
        if path is not None and len(path) > 1:
            pts = [self.to_pixel(*p) for p in path]
            draw.line(pts, fill=(0, 0, 0), width=2)
            for x, y in pts:
                draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=(255, 255, 255), outline=(0, 0, 0))
        for m1, m2, s1, s2 in ellipses:
            xa, ya = self.to_pixel(m1 - s1, m2 + s2)
            xb, yb = self.to_pixel(m1 + s1, m2 - s2)
            draw.ellipse([min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)], outline=(0, 0, 0), width=2)
        for z1, z2 in points:
            x, y = self.to_pixel(z1, z2)
            draw.line([x - 9, y, x + 9, y], fill=(0, 0, 0), width=3)
            draw.line([x, y - 9, x, y + 9], fill=(0, 0, 0), width=3)
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=(255, 255, 255), outline=(0, 0, 0), width=2)
        return img


def square_extent(mu: np.ndarray, quantile: float = 0.995,
                  margin: float = 0.1) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square range centred on the data that holds all but the most extreme (1 - quantile) of the points."""
    lo = np.quantile(mu, 1 - quantile, axis=0)
    hi = np.quantile(mu, quantile, axis=0)
    centre = (lo + hi) / 2
    half = float((hi - lo).max()) / 2 * (1 + margin)
    return (float(centre[0] - half), float(centre[1] - half)), (float(centre[0] + half), float(centre[1] + half))


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    raw = (high - low) / count
    step = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * step:
            step *= m
            break
    start = np.ceil(low / step) * step
    return [float(t) for t in np.arange(start, high + 1e-9, step)]


def render_latent_map(mu: np.ndarray, labels: np.ndarray, seed: int = 0) -> LatentMap:
    """Scatter of ``mu`` (N, 2) coloured by ``labels`` (N,), with axes and a class legend."""
    low, high = square_extent(mu)
    img = PIL.Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    base = LatentMap(img, low, high)
    x0, y0, x1, y1 = base.plot_box
    canvas = np.asarray(img).copy()
    order = np.random.default_rng(seed).permutation(len(mu))  # no class painted systematically on top
    px, py = base.to_pixel(mu[order, 0], mu[order, 1])
    px, py = np.round(px).astype(int), np.round(py).astype(int)
    colours = np.array(CLASS_COLOURS, dtype=np.uint8)[labels[order]]
    for dx in (0, 1):
        for dy in (0, 1):
            inside = (px + dx >= x0) & (px + dx < x1) & (py + dy >= y0) & (py + dy < y1)
            canvas[py[inside] + dy, px[inside] + dx] = colours[inside]
    img = PIL.Image.fromarray(canvas)
    draw = PIL.ImageDraw.Draw(img)
    font = PIL.ImageFont.load_default(size=11)
    draw.rectangle([x0, y0, x1, y1], outline=(60, 60, 60))
    for t in nice_ticks(low[0], high[0]):
        x, _ = base.to_pixel(t, low[1])
        draw.line([x, y1, x, y1 + 4], fill=(60, 60, 60))
        draw.text((x, y1 + 5), f"{t:g}", fill=(60, 60, 60), font=font, anchor="mt")
    for t in nice_ticks(low[1], high[1]):
        _, y = base.to_pixel(low[0], t)
        draw.line([x0 - 4, y, x0, y], fill=(60, 60, 60))
        draw.text((x0 - 6, y), f"{t:g}", fill=(60, 60, 60), font=font, anchor="rm")
    draw.text((x1, SIZE - 2), "z1", fill=(0, 0, 0), font=font, anchor="rd")
    draw.text((2, y0), "z2", fill=(0, 0, 0), font=font, anchor="lt")
    for digit, colour in enumerate(CLASS_COLOURS):  # legend down the right-hand side
        y = y0 + 6 + digit * 20
        draw.rectangle([x1 + 8, y, x1 + 17, y + 9], fill=colour)
        draw.text((x1 + 21, y + 5), str(digit), fill=(0, 0, 0), font=font, anchor="lm")
    return LatentMap(img, low, high)
