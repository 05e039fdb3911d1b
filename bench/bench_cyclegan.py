"""Latency of the CycleGAN tab, warm, in-process, on this machine (run it on 2 cores, like a free CPU Space).

    OMP_NUM_THREADS=2 python bench/bench_cyclegan.py            # prints a Markdown table
    python bench/bench_cyclegan.py --repeats 50

Rows
* one translation of a 256x256 photo by G (horse -> cloud horse) and by F (the issue's target: ≤ 400 ms);
* the tab's whole action (``/cyclegan`` handler at 256 px): G, then F, then F again on the noisy translation,
  plus the heat map and the amplified view (three translations, so about three times one translation).

Uses the real weights in ``pretrained/``; timings are not asserted anywhere.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import row, run_alone, time_ms  # noqa: E402

PHOTO = ROOT / "demos" / "examples" / "photos" / "chelsea.jpg"  # any photo: the timing does not depend on it
TARGET_MS = 400


def rows(repeats: int = 20) -> list[dict]:
    import PIL.Image
    import torch

    from demos import cyclegan as tab

    g, f = tab.load_generators("a2b")
    x = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(0))
    photo = PIL.Image.open(PHOTO).convert("RGB").resize((256, 256), PIL.Image.BICUBIC)
    out = []
    for name, fn, target in (
        ("CycleGAN G: horse → cloud horse, 256x256", lambda: tab.translate(g, x), TARGET_MS),
        ("CycleGAN F: cloud horse → horse, 256x256", lambda: tab.translate(f, x), TARGET_MS),
        ("CycleGAN /cyclegan (G, F, F on noisy), 256x256", lambda: tab.cyclegan(photo, "a2b", 256, 10, 2), None),
    ):
        out.append(row(name, time_ms(fn, repeats), target))
    return out


if __name__ == "__main__":
    run_alone(rows, __doc__, repeats=20)
