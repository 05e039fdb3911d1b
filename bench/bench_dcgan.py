"""Latency of the two DCGAN tabs, warm, in-process, on this machine (run it on 2 cores, like a free CPU Space).

    OMP_NUM_THREADS=2 python bench/bench_dcgan.py            # prints a Markdown table
    python bench/bench_dcgan.py --repeats 50

Rows
* the generator alone on 16 z, and the grid handler (``/dcgan_grid``: 16 samples, enlarged for display) —
  the issue's target: a 16-sample grid ≤ 150 ms;
* ``/dcgan_arithmetic`` (3 buckets of 3, both 3x3 neighbourhoods) and ``/dcgan_walk`` (8 frames, linear and
  spherical, with the GIF);
* ``/dcgan_forget_windows`` without the detector: 8 samples drawn normally, with the window maps zeroed and with
  random maps zeroed (the issue's target for a before/after pair: ≤ 300 ms), and with the detector's tint.

Uses the real weights in ``pretrained/dcgan-bedrooms``; timings are not asserted anywhere.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import row, run_alone, time_ms  # noqa: E402


def rows(repeats: int = 20) -> list[dict]:
    import torch

    from demos import dcgan as dca
    from demos import dcgan_windows as dcw
    from models.dcgan import z_batch

    g = dca.load_generator()
    z = z_batch(0, g.nz)
    n_window = len(dcw.window_data()["window_maps"])

    def generator_only():
        with torch.inference_mode():
            g(z)

    out = []
    for name, fn, target in (
        ("DCGAN G on 16 z (64x64)", generator_only, None),
        ("DCGAN /dcgan_grid: 16 samples", lambda: dca.dcgan_grid(0), 150),
        ("DCGAN /dcgan_arithmetic: 3+3+3 samples, two 3x3 neighbourhoods", lambda: dca.dcgan_arithmetic(
            "0:1, 0:2, 0:3", "0:4, 0:5, 0:6", "1:0, 1:1, 1:2", 0.25, 0), None),
        ("DCGAN /dcgan_walk: 8 frames, linear + spherical, GIF", lambda: dca.dcgan_walk("0:0", "0:1", 8), None),
        (f"DCGAN /dcgan_forget_windows: 8 samples, normal / {n_window} window maps / random maps zeroed",
         lambda: dcw.dcgan_forget_windows(0, n_window, "zero", 0, False), 300),
        ("DCGAN /dcgan_forget_windows with the window detector's tint",
         lambda: dcw.dcgan_forget_windows(0, n_window, "zero", 0, True), None),
    ):
        out.append(row(name, time_ms(fn, repeats), target))
    return out


if __name__ == "__main__":
    run_alone(rows, __doc__, repeats=20)
