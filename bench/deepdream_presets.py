"""The DeepDream presets side by side, and how long each takes: the before/after figure of the DeepDream tab.

    python -m bench.deepdream_presets                  # writes docs/figures/deepdream_presets.jpg
    python -m bench.deepdream_presets --time           # also times the tab's handler for each preset (2 threads)

Each row is a photo: the tab's example photos (scikit-image's astronaut, chelsea, coffee, rocket) and, when
scikit-image is installed (a dev requirement), its motorcycle and cameraman photos, which the presets were not
chosen on. The columns: the photo, the tab's old default (block 7, mean of squares, 3 octaves × 8 iterations, step
0.02, raw gradient: no Laplacian-pyramid normalisation), then each preset of ``demos.deepdream.PRESETS``; every
dream at the same resolution (``--resolution``, default the tab's) and seed 0.
"""

import argparse
import time
from pathlib import Path

import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont
import torch

from bench.benchmark import time_dream
from demos import deepdream as dd
from demos.image_input import EXAMPLE_PHOTOS
from models.imaging import to_pil

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "figures" / "deepdream_presets.jpg"  # JPEG: a sheet of photos (as a PNG 3.5 MB)
# The tab's default before the presets (its layer, objective and sliders; its resolution was 448 px).
OLD_DEFAULT = {"layer": "block7", "objective": "mean_square", "targets": "", "octaves": 3, "octave_scale": 1.4,
               "iterations": 8, "step": 0.02, "jitter": 16, "lapnorm_levels": 0}


def photos() -> dict[str, PIL.Image.Image]:
    """{name: RGB photo}: the tab's examples, and two more from scikit-image when it is installed."""
    found = {p.stem: PIL.Image.open(p).convert("RGB") for p in
             (EXAMPLE_PHOTOS / f"{name}.jpg" for name in ("astronaut", "chelsea", "coffee", "rocket"))}
    try:
        from skimage import data
    except ImportError:
        return found
    found["motorcycle"] = PIL.Image.fromarray(data.stereo_motorcycle()[0])
    found["cameraman"] = PIL.Image.fromarray(data.camera()).convert("RGB")
    return found


def dream(model, img: torch.Tensor, settings: dict, seed: int = 0) -> torch.Tensor:
    """``img`` dreamed with a preset's ``settings`` (the last octave)."""
    s = dict(settings)
    targets = s.pop("targets")
    targets = dd.parse_targets(targets, 999) if s["objective"] in ("channels", "classes") else []
    out = img
    for _k, out in dd.deepdream(model, img, seed=seed, targets=targets, **s):
        pass
    return out


def columns() -> dict[str, dict]:
    return {"old default": OLD_DEFAULT, **{name: dd.PRESETS[name] for name in dd.PRESETS}}


def figure(resolution: int, cell: int, out: Path) -> None:
    """Draw the figure: one row per photo, one column per setting, each picture ``cell`` px wide."""
    model = dd.load_model()
    font = PIL.ImageFont.load_default(size=max(12, cell // 16))
    titles = ["photo", *(f"{name}" + (f" ({dd.PRESETS[name]['layer']})" if name in dd.PRESETS else "")
                         for name in columns())]
    rows = []
    for name, photo in photos().items():
        img = dd.photo_to_tensor(photo, resolution)
        row = [img]
        for label, settings in columns().items():
            t = time.perf_counter()
            row.append(dream(model, img, settings))
            print(f"{name:>10} {label:>12}: {time.perf_counter() - t:5.1f} s", flush=True)
        height = round(cell * img.shape[-2] / img.shape[-1])
        rows.append([to_pil(x).resize((cell, height), PIL.Image.LANCZOS) for x in row])
    header = cell // 8
    sheet = PIL.Image.new("RGB", (cell * len(titles), header + sum(r[0].height for r in rows)), "white")
    draw = PIL.ImageDraw.Draw(sheet)
    for j, title in enumerate(titles):
        draw.text((j * cell + cell // 2, header // 2), title, fill="black", font=font, anchor="mm")
    y = header
    for row in rows:
        for j, picture in enumerate(row):
            sheet.paste(picture, (j * cell, y))
        y += row[0].height
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True, quality=88)
    print(f"wrote {out} ({sheet.width}×{sheet.height})")


def times(resolution: int, runs: int) -> None:
    """The tab's handler on the photo it opens on, for each preset: the time to the first streamed image and to the
    end (the panel included), median of ``runs`` warm runs; then the README's older row (chelsea, 384 px, block 7,
    3 octaves × 10 iterations) as a reference for the machine's state."""
    with PIL.Image.open(dd.FIRST_PHOTO) as img:
        photo = img.convert("RGB")
    for name, p in dd.PRESETS.items():
        first, total = time_dream(photo, (p["layer"], p["objective"], resolution, p["octaves"], p["octave_scale"],
                                             p["iterations"], p["step"], p["jitter"], 0, None, p["targets"]), runs)
        print(f"| DeepDream handler, {resolution} px, preset {name} ({p['layer']}, {p['octaves']} octaves × "
              f"{p['iterations']} iterations): first streamed image / whole dream | {first:.2f} s / {total:.2f} s |",
              flush=True)
    with PIL.Image.open(EXAMPLE_PHOTOS / "chelsea.jpg") as img:
        cat = img.convert("RGB")
    first, total = time_dream(cat, ("block7", "mean_square", 384, 3, 1.4, 10, 0.02, 16, 0), runs)
    print(f"| reference: DeepDream handler, 384 px, 3 octaves × 10 iterations, layer block7: first streamed image / "
          f"whole dream | {first:.2f} s / {total:.2f} s |", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--resolution", type=int, default=dd.LIMITS["resolution"][2])
    p.add_argument("--cell", type=int, default=256, help="width of each picture in the figure (px)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (the speed targets are for 2 cores)")
    p.add_argument("--time", action="store_true", help="also time the handler for each preset")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--no-figure", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if not args.no_figure:
        figure(args.resolution, args.cell, args.out)
    if args.time:
        times(args.resolution, args.runs)


if __name__ == "__main__":
    main()
