"""Latency of the pix2pix tab, warm, in-process, on this machine (run it on 2 cores, like a free CPU Space).

    OMP_NUM_THREADS=2 python bench/bench_pix2pix.py            # prints a Markdown table
    python bench/bench_pix2pix.py --repeats 50

Rows
* one translation by the cGAN + L1 generator (an edge map at the model's 128x128);
* the tab's whole sketch action (``/pix2pix`` handler, a 256x256 sketch): binarise, both generators, images out;
* the tab's whole photo action (``/pix2pix_photo`` handler, a 256x256 photo): Canny edges, both generators —
  the issue's target is ≤ 400 ms for a 256-px input.

Uses the real weights in ``pretrained/``; timings are not asserted anywhere.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import row, run_alone, time_ms  # noqa: E402

PHOTO = ROOT / "demos" / "examples" / "photos" / "chelsea.jpg"
TARGET_MS = 400


def rows(repeats: int = 20) -> list[dict]:
    import PIL.Image

    from demos import pix2pix as tab

    gan, _l1 = tab.load_models()
    with PIL.Image.open(tab.example_files()[0]) as img:
        sketch = img.convert("RGB").resize((256, 256), PIL.Image.NEAREST)
    photo = PIL.Image.open(PHOTO).convert("RGB").resize((256, 256), PIL.Image.BICUBIC)
    lines = tab.sketch_to_input(sketch)
    out = []
    for name, fn, target in (
        ("pix2pix G (cGAN + L1): one 128x128 edge map", lambda: tab.translate(gan, lines), None),
        ("pix2pix /pix2pix: 256x256 sketch → both generators", lambda: tab.pix2pix(sketch, False, 0), TARGET_MS),
        ("pix2pix /pix2pix_photo: 256x256 photo → Canny → both generators", lambda: tab.pix2pix_photo(photo, False, 0),
         TARGET_MS),
    ):
        out.append(row(name, time_ms(fn, repeats), target))
    return out


if __name__ == "__main__":
    run_alone(rows, __doc__, repeats=20)
