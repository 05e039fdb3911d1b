""""Save as slide": a tab's current result as one 1920×1080 PNG for a lecture, in the UI's language.

``Page.slide_button`` (demos/kit.py) puts the button on a tab and calls ``render_slide`` with the tab's title, its
``slide_caption`` and ``slide_equation`` strings, the images of its results and the values of its settings::

    ┌────────────────────────────────────────────────────────────┐
    │ Title (bold, 64 px)                                        │
    │ caption (34 px, wrapped, at most 3 lines)                  │
    │ ┌───────┐ ┌───────┐ ┌───────┐            Settings          │
    │ │ image │ │ image │ │ image │            label: value      │
    │ └───────┘ └───────┘ └───────┘            label: value      │
    │   label     label     label                                │
    ├────────────────────────────────────────────────────────────┤
    │              key equation (matplotlib mathtext)            │
    └────────────────────────────────────────────────────────────┘

Text is drawn with PIL in Noto Sans CJK JP (a subset kept in demos/fonts/, rebuilt by demos/fonts/make_subset.py),
falling back to matplotlib's DejaVu Sans for what Noto lacks (subscript digits ₀–₉, ᾱ); emoji are left out.

The equation (``slide_equation``) is TeX for matplotlib's *mathtext*, a subset of LaTeX, drawn in Computer Modern.
Write it without dollars (the whole string is maths) or as text with ``$…$`` parts (the text may be Japanese;
the maths may not: mathtext draws a box for a Japanese character). Mathtext draws ``\\frac \\dfrac \\sqrt \\sum
\\int \\prod \\mathbb \\mathcal \\mathbf \\boldsymbol \\mathrm \\text \\operatorname \\hat \\bar \\tilde \\vec
\\overline \\left( \\right) \\Vert \\| \\mid \\langle \\rangle \\odot \\cdot \\times \\sim \\approx \\leq \\geq
\\nabla \\partial \\log \\exp \\min \\max \\arg``, the spaces ``\\, \\; \\quad`` and Greek letters. It does not
know ``\\lVert \\rVert \\lvert \\rvert \\le \\ge \\tfrac \\displaystyle \\limits \\big \\Big`` (this module turns
them into ``\\Vert \\vert \\leq \\geq \\frac`` or drops them), nor at all ``\\bm \\operatorname* \\textrm \\color
\\boxed \\stackrel \\coloneqq \\underbrace \\overbrace``, ``\\\\`` line breaks or environments (``aligned``,
``cases``): write one line, e.g.
``\\mathcal{L} = \\mathbb{E}_{q_\\phi(z|x)}[\\log p_\\theta(x|z)] - D_{KL}(q_\\phi(z|x)\\,\\Vert\\,p(z))``.
An equation mathtext cannot parse is drawn as its TeX source (``render_equation`` raises the reason;
tests/test_slide.py checks every tab's equation, in both languages).
"""

import functools
import io
import math
import re
import threading
from pathlib import Path

import matplotlib
import numpy as np
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.ft2font import FT2Font
from matplotlib.mathtext import MathTextParser

from demos.i18n import COMMON, Text, current_language, label_phrase

SIZE = (1920, 1080)
MARGIN = 96  # left and right
TOP = 56
GAP = 28  # between the blocks of the slide
INK = (17, 24, 39)  # the text: almost black
MUTED = (75, 85, 99)  # labels and settings names
ACCENT = (79, 70, 229)  # indigo, as the app's colours
BAND = (238, 242, 255)  # the equation band
FRAME = (209, 213, 219)  # the thin line around each image

TITLE_PX, MIN_TITLE_PX = 64, 56
CAPTION_PX, CAPTION_LINES = 34, 3
LABEL_PX = 28
SETTINGS_PX, SETTINGS_HEADING_PX, SETTINGS_WIDTH = 30, 36, 500
EQUATION_PX, BAND_HEIGHT = 60, 180
SMALL_IMAGE = 128  # images up to this side are enlarged by a whole factor, pixel for pixel (nearest neighbour)

FONTS = Path(__file__).parent / "fonts"
REGULAR = FONTS / "NotoSansCJKjp-Regular-subset.otf"
BOLD = FONTS / "NotoSansCJKjp-Bold-subset.otf"
_DEJAVU = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FALLBACK = {REGULAR: _DEJAVU / "DejaVuSans.ttf", BOLD: _DEJAVU / "DejaVuSans-Bold.ttf"}
ASCENT = 1.16  # Noto Sans CJK's ascender, in ems: the baseline of a line is this far below its top

# KaTeX spellings mathtext does not know, and what it knows instead (see the module's docstring).
MATHTEXT_ALIASES = [
    (r"\\[lr]Vert(?![A-Za-z])", r"\\Vert"), (r"\\[lr]vert(?![A-Za-z])", r"\\vert"),
    (r"\\le(?![A-Za-z])", r"\\leq"), (r"\\ge(?![A-Za-z])", r"\\geq"), (r"\\tfrac(?![A-Za-z])", r"\\frac"),
    (r"\\(displaystyle|limits|nolimits|[bB]igg?[lr]?)(?![A-Za-z])\s*", ""),
]



def _matplotlib_knows_its_own_fonts() -> None:
    """Mathtext finds Computer Modern and STIX by family name in matplotlib's font list, which is cached on disk
    (``~/.cache/matplotlib``). A cache written by another matplotlib (another virtual environment, a copy of
    the home folder) can lack matplotlib's own fonts: every symbol would then be drawn as a box. Add them."""
    known = {font.fname for font in fontManager.ttflist}
    for path in sorted(_DEJAVU.glob("*.ttf")):
        if str(path) not in known:
            fontManager.addfont(str(path))


# mathtext's parser is shared by all threads and is not safe to use from two at once.
_MATHTEXT_LOCK = threading.Lock()


# --- Reading what the tab shows -------------------------------------------------------------------------------

def label_text(label) -> str:
    """A component's label (a ``gr.I18n`` key, plain text or None) in the current event's language."""
    phrase = label_phrase(label)
    return phrase.render() if isinstance(phrase, Text) else phrase


def images_of(value) -> list[PIL.Image.Image]:
    """The images of a gr.Image or gr.Gallery value as an event receives it: a numpy array, a PIL image or a file
    path in Gradio's cache; for a gallery a list of ``(image, caption)`` pairs or of images (Gradio 6.31 passes
    pairs; its ``GalleryData``, with ``.root`` and ``.image.path``, is read too). None or empty: []. Files are
    opened with ``decode_image`` (checked from their header); a gallery's videos are left out."""
    if value is None:
        return []
    value = getattr(value, "root", value)  # GalleryData
    if not isinstance(value, (list, tuple)):
        return [_image(value)]
    images = []
    for item in value:
        if isinstance(item, (list, tuple)) and len(item) == 2 and (item[1] is None or isinstance(item[1], str)):
            item = item[0]  # (image, caption)
        try:
            images.append(_image(item))
        except (OSError, ValueError):  # a video, or a file decode_image refuses: not on the slide
            continue
    return images


def _image(item) -> PIL.Image.Image:
    from demos.image_input import decode_image

    if isinstance(item, PIL.Image.Image):
        return item
    if isinstance(item, np.ndarray):
        return _array_image(item)
    if isinstance(item, dict):  # an image as JSON: {"path": ...} or {"image": {"path": ...}}
        item = item.get("image", item)
        item = item.get("path") if isinstance(item, dict) else item
    elif hasattr(item, "image"):  # GalleryImage
        item = item.image
    item = getattr(item, "path", item)  # FileData
    if isinstance(item, (str, Path)):
        return decode_image(item)
    raise ValueError(f"not an image: {type(item).__name__}")


def _array_image(array: np.ndarray) -> PIL.Image.Image:
    """A numpy image (H×W, H×W×1, H×W×3 or H×W×4; uint8, bool, or floats in [0, 1]) as a PIL image."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype.kind == "f":
        scale = 255 if np.nanmax(array, initial=0) <= 1 else 1
        array = np.nan_to_num(array * scale).clip(0, 255).round().astype(np.uint8)
    elif array.dtype != np.uint8:
        array = array.clip(0, 255).astype(np.uint8)
    return PIL.Image.fromarray(array)


def setting_text(component, value) -> str:
    """A control's value as the student sees it: the label of a radio's or dropdown's choice (translated), yes/no
    for a checkbox, numbers short (7, 0.25, 3.14), lists joined with commas."""
    import gradio as gr

    if isinstance(component, gr.Checkbox):
        return COMMON.text("slide.yes" if value else "slide.no")
    if isinstance(component, (gr.Radio, gr.Dropdown)):
        choices = getattr(component, "choices", None) or []
        if getattr(component, "type", "value") == "index" and isinstance(value, int) and 0 <= value < len(choices):
            return label_text(choices[value][0])
        names = {choice_value: name for name, choice_value in choices}
        values = value if isinstance(value, list) else [value]
        return ", ".join(label_text(names[v]) if v in names else _plain(v) for v in values)
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return _plain(value)


def _plain(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


# --- Text with the slide's fonts -------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _font_file(path: Path) -> bytes:
    return path.read_bytes()


@functools.lru_cache(maxsize=None)
def font_characters(path: Path) -> frozenset[str]:
    """The characters a font file has (its cmap)."""
    return frozenset(chr(code) for code in FT2Font(str(path)).get_charmap())


def _font(path: Path, size: int) -> PIL.ImageFont.FreeTypeFont:
    # A new FreeType face per slide (from bytes kept in memory): faces are not shared between threads.
    return PIL.ImageFont.truetype(io.BytesIO(_font_file(path)), size)


def missing_characters(text: str, bold: bool = False) -> set[str]:
    """The characters of ``text`` that neither the Japanese font nor its fallback has (they are left out)."""
    main = BOLD if bold else REGULAR
    have = font_characters(main) | font_characters(FALLBACK[main])
    return {c for c in text if c not in have and c.isprintable() and not c.isspace()}


# A line may break after any Japanese character (but not before closing punctuation), and between English words.
_CJK = "\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef"
_TOKEN = re.compile(f"[「『（【〈]*[{_CJK}][、。，．・：；！？）」』】〉ー]*|[^\\s{_CJK}]+\\s*|\\s+")


class Writer:
    """Draws one size and weight of text on a slide: Noto Sans CJK JP, DejaVu Sans where Noto has no glyph."""

    def __init__(self, draw: PIL.ImageDraw.ImageDraw, px: int, bold: bool = False):
        main = BOLD if bold else REGULAR
        self.draw, self.px = draw, px
        self.faces = [(font_characters(main), _font(main, px)),
                      (font_characters(FALLBACK[main]), _font(FALLBACK[main], px))]
        self.line_height = round(px * 1.5)

    def runs(self, text: str) -> list[tuple[PIL.ImageFont.FreeTypeFont, str]]:
        """``text`` cut into pieces each drawn with one font (an accent stays with its letter)."""
        runs = []
        for cluster in re.findall(r".[\u0300-\u036f]*", text, flags=re.S):
            font = next((f for chars, f in self.faces if all(c in chars for c in cluster)), None)
            if font is None:
                continue  # no font has it (emoji): left out
            if runs and runs[-1][0] is font:
                runs[-1] = (font, runs[-1][1] + cluster)
            else:
                runs.append((font, cluster))
        return runs

    def width(self, text: str) -> float:
        return sum(font.getlength(piece) for font, piece in self.runs(text))

    def write(self, x: float, top: float, text: str, fill=INK, center: bool = False) -> None:
        """One line of text whose top is ``top``, from ``x`` (or centred on ``x``)."""
        if center:
            x -= self.width(text) / 2
        baseline = top + round(self.px * ASCENT)
        for font, piece in self.runs(text):
            self.draw.text((x, baseline), piece, font=font, fill=fill, anchor="ls")
            x += font.getlength(piece)

    def fit(self, text: str, width: float, cut: bool = False) -> str:
        """``text``, cut with "…" if it is wider than ``width`` (or ``cut``: ending with "…" anyway)."""
        if not cut and self.width(text) <= width:
            return text
        text = text[:int(width / (0.2 * self.px)) + 1]  # no character is narrower than 0.2 em
        while text and self.width(text + "…") > width:
            text = text[:-1]
        return text.rstrip() + "…"

    def wrap(self, text: str, width: float, max_lines: int) -> list[str]:
        """``text`` in lines of at most ``width``: English breaks between words, Japanese between characters
        (punctuation stays with the character before it); past ``max_lines`` the last line ends with "…"."""
        tokens = re.findall(_TOKEN, " ".join(text.split()))
        lines, line = [], ""
        for token in tokens:
            if line and self.width((line + token).rstrip()) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
        if line.strip():
            lines.append(line.rstrip())
        if len(lines) > max_lines:
            lines = lines[:max_lines - 1] + [self.fit(lines[max_lines - 1], width, cut=True)]
        return [self.fit(line, width) for line in lines]  # a single word wider than the line


# --- The equation ----------------------------------------------------------------------------------------------

def mathtext(tex: str) -> str:
    """``tex`` as mathtext reads it: in ``$…$`` (unless it has its own), with KaTeX-only spellings replaced."""
    for pattern, replacement in MATHTEXT_ALIASES:
        tex = re.sub(pattern, replacement, tex)
    return tex if "$" in tex else f"${tex.strip()}$"


def render_equation(tex: str, px: float = EQUATION_PX, color=INK) -> PIL.Image.Image:
    """The equation ``tex`` drawn by matplotlib's mathtext, ``px`` pixels per em, on a transparent RGBA image just
    large enough. Raises ValueError (with mathtext's reason) for TeX that mathtext cannot parse."""
    prop = FontProperties(fname=REGULAR, size=px, math_fontfamily="cm")  # text in Noto, maths in Computer Modern
    with _MATHTEXT_LOCK:
        _matplotlib_knows_its_own_fonts()
        try:
            drawn = MathTextParser("agg").parse(mathtext(tex), dpi=72, prop=prop)  # 72 dpi: 1 pt = 1 px
        except ValueError as err:
            raise ValueError(f"matplotlib's mathtext cannot draw the equation {tex!r}:\n{err}") from None
    coverage = np.asarray(drawn.image)  # how much ink each pixel has, 0–255
    picture = PIL.Image.new("RGBA", (coverage.shape[1], coverage.shape[0]), color)
    picture.putalpha(PIL.Image.fromarray(coverage))
    return picture


def _equation_band(slide: PIL.Image.Image, tex: str, top: int) -> None:
    """The band at the bottom of the slide with the equation, as large as fits (its TeX source if mathtext
    cannot draw it)."""
    draw = PIL.ImageDraw.Draw(slide)
    draw.rectangle((0, top, SIZE[0], SIZE[1]), fill=BAND)
    draw.rectangle((0, top, SIZE[0], top + 5), fill=ACCENT)
    room_w, room_h = SIZE[0] - 2 * MARGIN, SIZE[1] - top - 40
    try:
        picture = render_equation(tex)
        scale = min(1, room_w / picture.width, room_h / picture.height)
        if scale < 1:  # drawn again smaller, rather than shrunk (sharper)
            picture = render_equation(tex, EQUATION_PX * scale * 0.98)
    except ValueError:
        writer = Writer(draw, 40)
        writer.write(SIZE[0] / 2, top + (SIZE[1] - top - writer.line_height) / 2, writer.fit(tex, room_w),
                     center=True)
        return
    x = (SIZE[0] - picture.width) // 2
    y = top + 3 + (SIZE[1] - top - picture.height) // 2
    slide.paste(picture, (x, y), picture)


# --- The images ------------------------------------------------------------------------------------------------

def _as_rgb(image: PIL.Image.Image) -> PIL.Image.Image:
    """The image on white, in RGB (transparency flattened)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        flat = PIL.Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        return flat
    if image.mode in ("I", "I;16", "F"):
        array = np.asarray(image, dtype=np.float64)
        low, high = array.min(), array.max()
        return PIL.Image.fromarray(((array - low) / ((high - low) or 1) * 255).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def shown_size(size: tuple[int, int], box: tuple[float, float]) -> tuple[int, int]:
    """The size an image of ``size`` is shown at in ``box``: as large as fits; a small image (≤ SMALL_IMAGE)
    only by a whole factor, so that every pixel becomes an equal square block."""
    w, h = size
    scale = min(box[0] / w, box[1] / h)
    if max(w, h) <= SMALL_IMAGE and scale >= 1:
        scale = math.floor(scale)
    return max(1, int(w * scale)), max(1, int(h * scale))


def enlarge(image: PIL.Image.Image, size: tuple[int, int]) -> PIL.Image.Image:
    """``image`` resized to ``size``: nearest neighbour for small images (pixels stay sharp squares, as a digit
    of 28×28 should look), Lanczos for photos."""
    small = max(image.size) <= SMALL_IMAGE and size[0] >= image.size[0]
    return image.resize(size, PIL.Image.Resampling.NEAREST if small else PIL.Image.Resampling.LANCZOS)


def grid_columns(sizes: list[tuple[int, int]], box: tuple[float, float], label_h: int, gap: int) -> int:
    """The number of columns that shows the images largest (the most pixels in all) in ``box``."""
    def shown_area(columns: int) -> float:
        rows = math.ceil(len(sizes) / columns)
        cell = ((box[0] - (columns - 1) * gap) / columns, (box[1] - (rows - 1) * gap) / rows - label_h)
        if min(cell) < 8:
            return 0
        return sum(w * h for w, h in (shown_size(size, cell) for size in sizes))

    return max(range(1, len(sizes) + 1), key=shown_area)


def _images(slide: PIL.Image.Image, images: list[tuple[str, PIL.Image.Image]],
            box: tuple[int, int, int, int]) -> int:
    """The images in a grid centred in ``box`` (left, top, right, bottom), each with its label under it; a label
    shared by all of them (a gallery) is written once, under the grid. Returns the top of the grid."""
    draw = PIL.ImageDraw.Draw(slide)
    labels = Writer(draw, LABEL_PX)
    left, top, right, bottom = box
    names = [label for label, _ in images]
    shared = names[0] if len(images) > 1 and len(set(names)) == 1 else ""
    if shared:
        bottom -= labels.line_height
        names = [""] * len(names)
    gap = 24 if len(images) <= 6 else 16
    pictures = [_as_rgb(image) for _, image in images]
    sizes = [p.size for p in pictures]
    room = (right - left, bottom - top)

    def layout(label_h: int):
        """(columns, rows, the images' shown sizes, the cell size) with ``label_h`` pixels of label under each."""
        columns = grid_columns(sizes, room, label_h, gap)
        rows = math.ceil(len(images) / columns)
        cell = ((room[0] - (columns - 1) * gap) / columns, (room[1] - (rows - 1) * gap) / rows - label_h)
        shown = [shown_size(size, cell) for size in sizes]
        return columns, rows, shown, (max(w for w, _ in shown), max(h for _, h in shown))

    def label_width(cell_w: int) -> float:
        return max(cell_w, 120) + gap - 8

    # Labels on one line, or on two where one line is too narrow for some label.
    label_h = labels.line_height if any(names) else 0
    columns, rows, shown, (cell_w, cell_h) = layout(label_h)
    if any(labels.width(name) > label_width(cell_w) for name in names):
        label_h = 2 * labels.line_height
        columns, rows, shown, (cell_w, cell_h) = layout(label_h)
    # Cells as large as the largest image shown, the grid centred in the box.
    grid_w, grid_h = columns * cell_w + (columns - 1) * gap, rows * (cell_h + label_h) + (rows - 1) * gap
    x0, y0 = left + (room[0] - grid_w) // 2, top + (room[1] - grid_h) // 2
    for i, (picture, size, name) in enumerate(zip(pictures, shown, names)):
        row, column = divmod(i, columns)
        if row == rows - 1:  # the last row, perhaps not full, is centred too
            in_row = len(images) - row * columns
            x_row = left + (room[0] - (in_row * cell_w + (in_row - 1) * gap)) // 2
        else:
            x_row = x0
        cx = x_row + column * (cell_w + gap) + cell_w // 2
        cy = y0 + row * (cell_h + label_h + gap)
        x, y = cx - size[0] // 2, cy + (cell_h - size[1]) // 2
        slide.paste(enlarge(picture, size), (x, y))
        draw.rectangle((x - 1, y - 1, x + size[0], y + size[1]), outline=FRAME, width=1)
        for k, line in enumerate(labels.wrap(name, label_width(cell_w), label_h // labels.line_height)):
            labels.write(cx, cy + cell_h + 4 + k * labels.line_height, line, fill=MUTED, center=True)
    if shared:
        labels.write(left + room[0] / 2, y0 + grid_h + 4, labels.fit(shared, room[0]), fill=MUTED, center=True)
    return y0


def settings_width(draw: PIL.ImageDraw.ImageDraw, settings: list[tuple[str, str]]) -> int:
    """The width of the settings column: its longest line, between 280 px and SETTINGS_WIDTH."""
    heading, lines = Writer(draw, SETTINGS_HEADING_PX, bold=True), Writer(draw, SETTINGS_PX)
    widest = max([heading.width(COMMON.text("slide.settings"))]
                 + [lines.width(f"{label}{_colon()}{value}") for label, value in settings])
    return int(min(max(widest + 8, 280), SETTINGS_WIDTH))


def settings_height(count: int) -> int:
    """The height of the settings column with ``count`` lines."""
    return round(SETTINGS_HEADING_PX * 1.5) + 16 + count * round(SETTINGS_PX * 1.5)


def _colon() -> str:
    return "：" if current_language() == "ja" else ": "


def _settings(draw: PIL.ImageDraw.ImageDraw, settings: list[tuple[str, str]], box: tuple[int, int, int, int]):
    """The heading and one "label: value" line per setting; those that do not fit end with "…"."""
    left, top, right, bottom = box
    heading, lines = Writer(draw, SETTINGS_HEADING_PX, bold=True), Writer(draw, SETTINGS_PX)
    heading.write(left, top, heading.fit(COMMON.text("slide.settings"), right - left))
    draw.rectangle((left, top + heading.line_height, left + 64, top + heading.line_height + 3), fill=ACCENT)
    y = top + heading.line_height + 16
    room = int((bottom - y) // lines.line_height)
    shown = settings if len(settings) <= room else settings[:max(room - 1, 0)]
    for label, value in shown:
        name = f"{label}{_colon()}" if label else ""
        # the name takes what the value leaves, but at least half the line when both are long
        name_w = min(lines.width(name), max(right - left - lines.width(value), (right - left) / 2))
        lines.write(left, y, lines.fit(name, name_w + 1), fill=MUTED)
        lines.write(left + name_w, y, lines.fit(value, right - left - name_w))
        y += lines.line_height
    if len(shown) < len(settings):
        lines.write(left, y, "…", fill=MUTED)


# --- The slide -------------------------------------------------------------------------------------------------

def render_slide(*, title: str, caption: str, equation: str, images: list[tuple[str, PIL.Image.Image]],
                 settings: list[tuple[str, str]]) -> PIL.Image.Image:
    """One 1920×1080 RGB slide: the title, the caption, the ``images`` (``(label, image)``, 1 to ~16) as large as
    the room allows, the ``settings`` (``(label, value)``) beside them and the ``equation`` (mathtext TeX) in a
    band at the bottom. All text is drawn as given (already in the student's language) except the "Settings"
    heading, in the current event's language."""
    slide = PIL.Image.new("RGB", SIZE, "white")
    draw = PIL.ImageDraw.Draw(slide)
    width = SIZE[0] - 2 * MARGIN

    px = TITLE_PX
    while px > MIN_TITLE_PX and Writer(draw, px, bold=True).width(title) > width:
        px -= 2
    heading = Writer(draw, px, bold=True)
    heading.write(MARGIN, TOP, heading.fit(title, width))
    y = TOP + heading.line_height + 8
    draw.rectangle((MARGIN, y, MARGIN + 120, y + 6), fill=ACCENT)
    y += 6 + 20

    text = Writer(draw, CAPTION_PX)
    for line in text.wrap(caption, width, CAPTION_LINES) if caption.strip() else []:
        text.write(MARGIN, y, line)
        y += text.line_height
    y += GAP

    bottom = SIZE[1] - (BAND_HEIGHT if equation.strip() else 0) - GAP
    right = SIZE[0] - MARGIN
    panel = settings_width(draw, settings) if settings else 0
    grid_top = _images(slide, images, (MARGIN, y, right - (panel + 64 if panel else 0), bottom)) if images else y
    if settings:  # beside the images, level with their top if there is room
        top = grid_top if grid_top + settings_height(len(settings)) <= bottom else y
        _settings(draw, settings, (right - panel, top, right, bottom))
    if equation.strip():
        _equation_band(slide, equation, SIZE[1] - BAND_HEIGHT)
    return slide
