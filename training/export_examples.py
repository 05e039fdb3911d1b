"""Write the small example images that the app shows (no dataset needed at run time).

* ``demos/examples/mnist/<label>_<index>.png`` — real MNIST test digits, two of each class, picked by index so
  anyone can regenerate the same files; black on white and 10× larger (280×280, nearest-neighbour), like a
  drawing on the app's canvas;
* ``demos/examples/ood/*.png`` — out-of-distribution inputs drawn here with PIL (a letter A,
  a star, a spiral) as black strokes on white, like a drawing on the app's canvas;
* ``demos/examples/photos/*.jpg`` — scikit-image's astronaut, chelsea, coffee and rocket photos
  (public domain / CC0, see the README there), for the DeepDream tab.

    python training/export_examples.py --data-dir ../shared/data
"""

import argparse
import math
import sys
from pathlib import Path

import PIL.Image
import PIL.ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.imaging import to_pil  # noqa: E402
from training.common import DEFAULT_DATA_DIR, PROJECT_ROOT, load_mnist  # noqa: E402

PER_CLASS = 2


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "demos" / "examples"))
    return p.parse_args(argv)


def draw_ood(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    size, w = 280, 22
    shapes = {
        "letter_A": [[(70, 240), (140, 40), (210, 240)], [(100, 160), (180, 160)]],
        "star": [[(140 + 110 * math.sin(k * 4 * math.pi / 5), 150 - 110 * math.cos(k * 4 * math.pi / 5))
                  for k in range(6)]],
        "spiral": [[(140 + r * math.cos(r / 12), 140 + r * math.sin(r / 12)) for r in range(5, 120, 2)]],
    }
    for name, strokes in shapes.items():
        img = PIL.Image.new("L", (size, size), 255)
        draw = PIL.ImageDraw.Draw(img)
        for stroke in strokes:
            draw.line(stroke, fill=0, width=w, joint="curve")
        img.save(out / f"{name}.png")


def export_photos(out: Path):
    from skimage import data

    out.mkdir(parents=True, exist_ok=True)
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        img = PIL.Image.fromarray(getattr(data, name)()).convert("RGB")
        img.thumbnail((512, 512))
        img.save(out / f"{name}.jpg", quality=90)


def main(args):
    out = Path(args.output_dir)
    (out / "mnist").mkdir(parents=True, exist_ok=True)
    images, labels = load_mnist(args.data_dir, train=False)
    for digit in range(10):
        for index in (labels == digit).nonzero().flatten()[:PER_CLASS].tolist():
            # Black ink on white, at the canvas's 280 px (10×, nearest-neighbour): the pen draws on it at the same
            # scale as on an empty canvas, and the app reads the 28×28 digit back exactly (image_input.exact_mnist).
            to_pil(1 - images[index, 0], scale=10).save(out / "mnist" / f"{digit}_{index:04d}.png")
    draw_ood(out / "ood")
    export_photos(out / "photos")
    print(f"wrote examples under {out}")


if __name__ == "__main__":
    main(parse_args())
