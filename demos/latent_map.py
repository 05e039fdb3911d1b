"""Drawing a 2-D latent space as a picture, and mapping clicks on that picture back to latent points.

The map is a scatter of the encoded MNIST test digits coloured by class (the classic VAE figure).
It is drawn with NumPy and PIL rather than a plotting library, so that redrawing a marker on every
slider tick costs about a millisecond. The only words in the picture are z₁, z₂, numbers and the class
digits, so the same picture serves both languages; its title is the label of the component showing it.
(Pillow's built-in font has neither Japanese nor the subscript digits: z₁ is drawn as "z" and a small "1".)
"""

from dataclasses import dataclass, field

import numpy as np
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont

# Matplotlib's "tab10" colours, one per digit class.
CLASS_COLOURS = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
]
SIZE = 440
# Margins of the plot area inside the image. The top one stays empty: the page shows the component's label
# over the picture's top-left corner. The left one holds the tick labels and z₂, the bottom one the ticks and z₁.
LEFT, RIGHT, TOP, BOTTOM = 62, 44, 40, 44
FONT_SIZE = 14
AXIS_GREY = (60, 60, 60)


def font(size: int = FONT_SIZE) -> PIL.ImageFont.ImageFont:
    """Pillow's built-in font (Latin letters and digits only)."""
    return PIL.ImageFont.load_default(size=size)


def draw_axis_name(draw: PIL.ImageDraw.ImageDraw, x: float, y: float, index: int, centred: bool):
    """Write z₁ or z₂ with its baseline at y, starting at x (or centred on x): a "z" and a smaller, lower digit."""
    letter, digit = font(18), font(12)
    width = letter.getlength("z") + digit.getlength(str(index))
    left = x - width / 2 if centred else x
    draw.text((left, y), "z", fill=(0, 0, 0), font=letter, anchor="ls")
    draw.text((left + letter.getlength("z"), y + 4), str(index), fill=(0, 0, 0), font=digit, anchor="ls")


@dataclass(frozen=True)
class LatentMap:
    """A rendered scatter of latent points and the affine map between latent and pixel coordinates."""

    image: PIL.Image.Image
    low: tuple[float, float]   # (z1, z2) at the lower-left corner of the plot area
    high: tuple[float, float]  # (z1, z2) at the upper-right corner
    points: np.ndarray | None = field(default=None, repr=False, compare=False)  # the (N, 2) points drawn
    labels: np.ndarray | None = field(default=None, repr=False, compare=False)  # their classes (N,)

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

    def zoomed(self, centre: tuple[float, float], half_width: float) -> "LatentMap":
        """The same points drawn again over the square centre ± half_width, with bigger dots (a magnifying glass)."""
        low = (centre[0] - half_width, centre[1] - half_width)
        high = (centre[0] + half_width, centre[1] + half_width)
        return render_latent_map(self.points, self.labels, low=low, high=high, dot=5)

    def with_marks(self, points=(), ellipses=(), path=None, samples=()) -> PIL.Image.Image:
        """A copy of the map with crosshair ``points`` [(z1, z2)], 1-σ ``ellipses`` [(μ1, μ2, σ1, σ2)], a polyline
        ``path`` [(z1, z2), ...] and small dots numbered 1, 2, … for ``samples`` [(z1, z2)] drawn on it."""
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
        for number, (z1, z2) in enumerate(samples, start=1):
            x, y = self.to_pixel(z1, z2)
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=(0, 0, 0), outline=(255, 255, 255))
            draw.text((x + 6, y - 6), str(number), fill=(0, 0, 0), font=font(13), anchor="lb",
                      stroke_width=2, stroke_fill=(255, 255, 255))
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
    """About ``count`` round numbers (steps of 1, 2, 2.5 or 5 times a power of ten) between low and high."""
    raw = (high - low) / count
    step = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * step:
            step *= m
            break
    start = np.ceil(low / step) * step
    return [float(round(t / step) * step) for t in np.arange(start, high + 1e-9 * step, step)]


def draw_points(canvas: np.ndarray, base: LatentMap, mu: np.ndarray, labels: np.ndarray, dot: int, seed: int):
    """Paint each point as a dot × dot square of its class colour, inside the plot area only."""
    x0, y0, x1, y1 = base.plot_box
    order = np.random.default_rng(seed).permutation(len(mu))  # no class painted systematically on top
    px, py = base.to_pixel(mu[order, 0], mu[order, 1])
    px, py = np.round(px).astype(int), np.round(py).astype(int)
    colours = np.array(CLASS_COLOURS, dtype=np.uint8)[labels[order]]
    for dx in range(-(dot // 2), dot - dot // 2):
        for dy in range(-(dot // 2), dot - dot // 2):
            inside = (px + dx >= x0) & (px + dx < x1) & (py + dy >= y0) & (py + dy < y1)
            canvas[py[inside] + dy, px[inside] + dx] = colours[inside]


def draw_axes(draw: PIL.ImageDraw.ImageDraw, base: LatentMap):
    """The frame, the ticks with their numbers, z₁ under the plot and z₂ left of it, and the class legend."""
    x0, y0, x1, y1 = base.plot_box
    small = font()
    draw.rectangle([x0, y0, x1, y1], outline=AXIS_GREY)
    for t in nice_ticks(base.low[0], base.high[0]):
        x, _ = base.to_pixel(t, base.low[1])
        draw.line([x, y1, x, y1 + 4], fill=AXIS_GREY)
        draw.text((x, y1 + 6), f"{t:g}", fill=AXIS_GREY, font=small, anchor="mt")
    for t in nice_ticks(base.low[1], base.high[1]):
        _, y = base.to_pixel(base.low[0], t)
        draw.line([x0 - 4, y, x0, y], fill=AXIS_GREY)
        draw.text((x0 - 6, y), f"{t:g}", fill=AXIS_GREY, font=small, anchor="rm")
    draw_axis_name(draw, (x0 + x1) / 2, SIZE - 8, 1, centred=True)
    draw_axis_name(draw, 4, (y0 + y1) / 2 + 4, 2, centred=False)
    for digit, colour in enumerate(CLASS_COLOURS):  # legend down the right-hand side
        y = y0 + 6 + digit * 22
        draw.rectangle([x1 + 8, y, x1 + 18, y + 10], fill=colour)
        draw.text((x1 + 22, y + 5), str(digit), fill=(0, 0, 0), font=small, anchor="lm")


def render_latent_map(mu: np.ndarray, labels: np.ndarray, seed: int = 0, low=None, high=None,
                      dot: int = 2) -> LatentMap:
    """Scatter of ``mu`` (N, 2) coloured by ``labels`` (N,), with axes and a class legend, over the square
    [low, high] (default: one that holds nearly all the points)."""
    if low is None or high is None:
        low, high = square_extent(mu)
    base = LatentMap(PIL.Image.new("RGB", (SIZE, SIZE), (255, 255, 255)), low, high)
    canvas = np.asarray(base.image).copy()
    draw_points(canvas, base, mu, labels, dot, seed)
    img = PIL.Image.fromarray(canvas)
    draw_axes(PIL.ImageDraw.Draw(img), base)
    return LatentMap(img, low, high, points=mu, labels=labels)
