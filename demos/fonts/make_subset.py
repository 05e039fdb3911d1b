"""Rebuild the Japanese fonts of the slides (demos/slide.py): subsets of Noto Sans CJK JP, Regular and Bold.

matplotlib and PIL come with no Japanese glyphs, and the whole Noto Sans CJK collection is 20 MB per weight, so
the repository keeps only the characters the slides need (about 1 MB per weight):

- ASCII, Latin-1, Greek, general punctuation, arrows, maths operators and letter-like symbols;
- hiragana, katakana, CJK and full-width punctuation;
- the JIS X 0208 level-1 kanji (the 2,965 common ones), so that most new strings work without a rebuild;
- every character of the app's strings (each ``Strings`` table of demos/, both languages), of the explanations
  (demos/explanations/*.md) and of the Japanese ImageNet class names (pretrained/efficientnet-lite0), if present.

What Noto Sans CJK lacks (subscript digits ₀–₉, ᾱ, combining accents) the slides draw with matplotlib's DejaVu Sans;
emoji are left out. Run it again after adding Japanese strings with new kanji (tests/test_slide.py says which)::

    pip install fonttools        # a dev-time tool (requirements-dev.txt); the app only reads the .otf files
    python demos/fonts/make_subset.py

It needs the Debian/Ubuntu package ``fonts-noto-cjk`` (or ``--regular``/``--bold`` pointing at the .ttc files).
The fonts are under the SIL Open Font License 1.1 (demos/fonts/OFL.txt).
"""

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

FONTS = Path(__file__).resolve().parent
ROOT = FONTS.parent.parent
NOTO = Path("/usr/share/fonts/opentype/noto")
OUTPUTS = {"regular": "NotoSansCJKjp-Regular-subset.otf", "bold": "NotoSansCJKjp-Bold-subset.otf"}

# Unicode blocks kept whole (where the font has them).
BLOCKS = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1
    (0x0370, 0x03FF),  # Greek
    (0x2000, 0x206F),  # general punctuation: – — ‘ ’ “ ” … ‖ ′ ″
    (0x2070, 0x209F),  # superscripts and subscripts (Noto CJK has few of them)
    (0x2100, 0x214F),  # letter-like symbols: ℓ ℝ ℕ
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators: − ∇ ∑ √ ≤ ≥ ∈ ∞
    (0x2460, 0x2473),  # circled numbers ① … ⑳
    (0x25A0, 0x25FF),  # geometric shapes ■ □ ▲ ○ ●
    (0x2605, 0x2606),  # ★ ☆
    (0x27E8, 0x27E9),  # ⟨ ⟩
    (0x3000, 0x303F),  # CJK punctuation: 、 。 「 」 【 】
    (0x3040, 0x309F),  # hiragana
    (0x30A0, 0x30FF),  # katakana
    (0x31F0, 0x31FF),  # small katakana
    (0xFF00, 0xFFEF),  # full-width and half-width forms: （ ） ： ！ ？
]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regular", type=Path, default=NOTO / "NotoSansCJK-Regular.ttc",
                        help="Noto Sans CJK Regular (a .ttc collection or the JP .otf)")
    parser.add_argument("--bold", type=Path, default=NOTO / "NotoSansCJK-Bold.ttc", help="Noto Sans CJK Bold")
    parser.add_argument("--output-dir", type=Path, default=FONTS)
    return parser.parse_args(argv)


def jis_level1_kanji() -> str:
    """The 2,965 kanji of JIS X 0208 level 1: rows 16–47, read through the EUC-JP codec."""
    kanji = []
    for row in range(16, 48):
        for cell in range(1, 95):
            try:
                kanji.append(bytes([0xA0 + row, 0xA0 + cell]).decode("euc_jp"))
            except UnicodeDecodeError:  # row 47 ends at cell 51
                pass
    return "".join(kanji)


def app_text() -> str:
    """Every string of the app, both languages: each ``Strings`` table of the demos/ modules, the explanations and
    the Japanese ImageNet class names."""
    sys.path.insert(0, str(ROOT))
    import demos
    from demos import i18n

    for module in pkgutil.iter_modules(demos.__path__):
        importlib.import_module(f"demos.{module.name}")
    parts = [text for strings in i18n._ALL_STRINGS for templates in strings.table.values()
             for text in templates.values()]
    parts += [path.read_text(encoding="utf-8") for path in sorted((ROOT / "demos" / "explanations").glob("*.md"))]
    classes = ROOT / "pretrained" / "efficientnet-lite0" / "imagenet_classes.ja.json"
    if classes.is_file():
        parts.append(json.dumps(json.loads(classes.read_text(encoding="utf-8")), ensure_ascii=False))
    return "".join(parts)


def wanted_characters() -> set[int]:
    codes = {code for low, high in BLOCKS for code in range(low, high + 1)}
    codes |= {ord(c) for c in jis_level1_kanji() + app_text() if c.isprintable()}
    return codes


def open_japanese_face(path: Path):
    """The Japanese face of a Noto Sans CJK collection (.ttc), or the font itself (.otf)."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() != ".ttc":
        return TTFont(path)
    for font in TTCollection(path).fonts:
        if font["name"].getDebugName(4).startswith("Noto Sans CJK JP"):
            return font
    raise SystemExit(f"{path}: no 'Noto Sans CJK JP' face in this collection")


def subset(source: Path, target: Path, codes: set[int]) -> set[int]:
    """Write the subset of ``source`` with ``codes`` to ``target``; returns the codes the font does not have."""
    from fontTools import subset as ft_subset

    font = open_japanese_face(source)
    have = set(font.getBestCmap())
    options = ft_subset.Options()
    options.hinting = False  # the slides are rendered at 28 px and more: hints only add bytes
    options.layout_features = ["kern", "palt"]  # not "locl": it pulls in the Chinese and Korean forms
    options.name_IDs = ["*"]  # keep the copyright, the licence and the names
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=codes & have)
    subsetter.subset(font)
    font.save(target)
    return codes - have


def main(argv=None) -> None:
    args = parse_args(argv)
    codes = wanted_characters()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for weight, source in (("regular", args.regular), ("bold", args.bold)):
        target = args.output_dir / OUTPUTS[weight]
        missing = subset(source, target, codes)
        print(f"{target}: {len(codes) - len(missing)} characters, {target.stat().st_size / 1e6:.2f} MB")
    asked = {ord(c) for c in app_text() if c.isprintable()}
    if lacking := sorted(chr(code) for code in asked & missing):
        print("not in Noto Sans CJK (drawn with DejaVu Sans, or left out):", " ".join(lacking))


if __name__ == "__main__":
    main()
