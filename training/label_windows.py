"""A small helper for labelling windows on generated bedrooms by hand (the DCGAN paper's §6.3.1: "we drew
bounding boxes around windows on 150 samples").

Samples are named ``seed:index``: the index-th of the 16 z that ``models.dcgan.z_batch(seed)`` draws — the same
naming as the gallery's DCGAN tabs (the boxes in ``training/data/dcgan_window_boxes.json`` depend on it).

    # 1. render contact sheets: 16 samples per seed, enlarged 4x, with a ruler every 8 px (of 64)
    python training/label_windows.py sheet --seeds 0-9 --out runs/window-labels
    # 2. look at each sheet and write the boxes into the JSON (x0, y0, x1, y1 in 64x64 pixels)
    # 3. draw the boxes back onto the sheets and check every one by eye
    python training/label_windows.py overlay --seeds 0-9 --boxes training/data/dcgan_window_boxes.json \
        --out runs/window-labels
    # summary: how many samples and boxes are labelled
    python training/label_windows.py stats --boxes training/data/dcgan_window_boxes.json
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.ImageDraw
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.dcgan import Generator, z_batch  # noqa: E402
from models.imaging import to_uint8, to_unit  # noqa: E402
from training.common import PROJECT_ROOT  # noqa: E402

ZOOM = 4
DEFAULT_BOXES = PROJECT_ROOT / "training" / "data" / "dcgan_window_boxes.json"


def parse_seeds(spec: str) -> list[int]:
    """'0-3,7' → [0, 1, 2, 3, 7]."""
    seeds = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    return seeds


@torch.inference_mode()
def samples(g: Generator, seed: int) -> np.ndarray:
    """(16, 64, 64, 3) uint8 samples of ``seed``."""
    return to_uint8(to_unit(g(z_batch(seed, g.nz)))).transpose(0, 2, 3, 1)


def sheet(images: np.ndarray, seed: int, boxes: dict | None = None) -> PIL.Image.Image:
    """4x4 samples enlarged ZOOM times with a ruler (a tick every 8 px of the 64 px image), index captions,
    and the labelled boxes (red) if given."""
    cell = 64 * ZOOM
    margin, gap = 28, 34
    side = margin + 4 * (cell + gap)
    canvas = PIL.Image.new("RGB", (side, side), "white")
    draw = PIL.ImageDraw.Draw(canvas)
    for i, img in enumerate(images):
        r, c = divmod(i, 4)
        x0, y0 = margin + c * (cell + gap), margin + r * (cell + gap)
        canvas.paste(PIL.Image.fromarray(img).resize((cell, cell), PIL.Image.NEAREST), (x0, y0))
        for t in range(0, 65, 8):  # ruler ticks on the top and left edges, faint grid inside
            draw.line([(x0 + t * ZOOM, y0 - 6), (x0 + t * ZOOM, y0)], fill="black")
            draw.line([(x0 - 6, y0 + t * ZOOM), (x0, y0 + t * ZOOM)], fill="black")
            if t % 16 == 0:
                draw.text((x0 + t * ZOOM - 4, y0 - 18), str(t), fill="black")
                draw.text((x0 - 22, y0 + t * ZOOM - 5), str(t), fill="black")
        for t in range(8, 64, 8):  # a dotted cyan line every 8 px (the other pixels stay as they are)
            for k in range(0, cell, 8):
                canvas.putpixel((x0 + t * ZOOM, y0 + k), (0, 255, 255))
                canvas.putpixel((x0 + k, y0 + t * ZOOM), (0, 255, 255))
        draw.text((x0 + cell - 40, y0 + cell + 4), f"{seed}:{i}", fill="black")
        for box in (boxes or {}).get(f"{seed}:{i}", []):
            bx0, by0, bx1, by1 = box
            draw.rectangle([x0 + bx0 * ZOOM, y0 + by0 * ZOOM, x0 + bx1 * ZOOM - 1, y0 + by1 * ZOOM - 1], outline="red",
                           width=3)
    return canvas


def read_boxes(path: Path) -> dict[str, list[list[int]]]:
    """{'seed:index': [[x0, y0, x1, y1], ...]} of every labelled sample (an empty list: looked at, no window)."""
    data = json.loads(Path(path).read_text())
    return {item["sample"]: item["boxes"] for item in data["samples"]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=("sheet", "overlay", "stats"))
    p.add_argument("--weights", default=str(PROJECT_ROOT / "pretrained" / "dcgan-bedrooms"))
    p.add_argument("--seeds", default="0-9")
    p.add_argument("--boxes", default=str(DEFAULT_BOXES))
    p.add_argument("--out", default=str(PROJECT_ROOT / "runs" / "window-labels"))
    args = p.parse_args(argv)
    if args.command == "stats":
        boxes = read_boxes(Path(args.boxes))
        n_boxes = sum(len(b) for b in boxes.values())
        with_windows = sum(1 for b in boxes.values() if b)
        print(f"{len(boxes)} samples labelled, {n_boxes} boxes, {with_windows} samples with at least one window")
        return
    g = Generator.from_pretrained(args.weights, strict=True).eval()
    boxes = read_boxes(Path(args.boxes)) if args.command == "overlay" else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for seed in parse_seeds(args.seeds):
        path = out / f"{args.command}_{seed:03d}.png"
        sheet(samples(g, seed), seed, boxes).save(path)
        print(path)


if __name__ == "__main__":
    main()
