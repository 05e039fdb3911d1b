"""Latency of the CartoonGAN tab, warm, in-process (run it on 2 cores, like a free CPU Space).

    python bench/bench_cartoongan.py            # prints a Markdown table
    python bench/bench_cartoongan.py --repeats 10

Rows: ``/cartoonize`` on a 512-px photo (long side; the issue's target ≤ 1.5 s) — both generators (final and
initialisation-only) run, so the row also shows the cost of one generator alone.
Uses the real weights in ``pretrained/cartoongan-openmoji{,-init}``; timings are asserted nowhere.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import row, run_alone, time_ms  # noqa: E402


def rows(repeats: int = 10) -> list[dict]:
    import PIL.Image

    from demos import cartoongan as cg
    from demos.image_input import photo_to_tensor
    from models.cartoongan import CartoonGenerator
    from models.loading import load_pretrained

    photo = PIL.Image.open(ROOT / "demos" / "examples" / "photos" / "chelsea.jpg").convert("RGB").resize((768, 512))
    x = photo_to_tensor(photo, 512)
    final = load_pretrained(CartoonGenerator, cg.SLUG)
    return [
        row("CartoonGAN: one generator on a 512×341 photo", time_ms(lambda: cg.cartoonize_tensor(final, x), repeats),
            1500),
        row("CartoonGAN `/cartoonize` handler: final and init-only generators, 512 px", time_ms(
            lambda: cg.cartoonize(photo, 512), repeats)),
    ]


if __name__ == "__main__":
    run_alone(rows, __doc__, repeats=10)
