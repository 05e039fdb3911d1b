"""Speed of the GAN lab tab, in-process, on this machine (run it on 2 idle cores, like a free CPU Space).

    python bench/bench_gan_lab.py                 # prints two Markdown tables
    python bench/bench_gan_lab.py --repeats 9

Rows
* training speed at the tab's default sizes (MLPs of 2 × 64 units, batch 256), one D+G step per ``step()`` — each
  loss with the optimizer settings it starts with in the tab (WGAN with clipping: RMSProp and 5 critic updates per
  G update) — in steps per second, the median of ``--repeats`` runs of 200 steps; the issue's target: ≥ 200;
* one picture of the view (D's output on a 64×64 grid, 512 real and generated points, G's gradient, the manifold,
  the charts, quantised PNG, inline): one run, and two runs side by side;
* the play loop as the server runs it (``demos.gan_lab.advance``: pictures after each ~0.12 s of training, chunks of
  at most 2 s): pictures per second over chunks of play — the refresh rate of a student's view, less the network's
  delay; the issue's target: ≥ 5.

Timings are not asserted anywhere (tests check behaviour; a busy CI machine would make speed tests flaky).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import print_rows, row, time_ms  # noqa: E402


def training_rates(repeats: int, steps: int = 200) -> list[tuple[str, float]]:
    """(loss, median steps per second) at the tab's defaults."""
    from demos import gan_lab as lab
    from models.gan_lab import LOSSES, LabRun, LabSettings

    rates = []
    for loss in LOSSES:
        run = LabRun(LabSettings(loss=loss, **lab.recommended(loss)))
        run.train(20)  # warm-up
        per_run = []
        for _ in range(repeats):
            t = time.perf_counter()
            run.train(steps)
            per_run.append(steps / (time.perf_counter() - t))
        rates.append((loss, statistics.median(per_run)))
    return rates


def frame_rows(repeats: int) -> list[dict]:
    from demos import gan_lab as lab
    from models.gan_lab import LabSettings

    single = lab.new_session(LabSettings())
    single.run.train(300)
    double = lab.new_session(LabSettings(), "wgan_gp")
    double.run.train(300)
    double.other.train(300)
    return [row("one picture of one run (view, charts, PNG)",
                time_ms(lambda: lab.show_frame(single, lab.SHOW), repeats)),
            row("one picture of two runs side by side", time_ms(lambda: lab.show_frame(double, lab.SHOW), repeats))]


def play_rate(chunks: int, compare: str = "none") -> float:
    """Pictures per second of the play loop (``advance``) over ``chunks`` chunks, as the server produces them."""
    from demos import gan_lab as lab
    from models.gan_lab import LabSettings

    session = lab.new_session(LabSettings(), compare)
    lab.play(session)
    pictures, start = 0, time.perf_counter()
    for _ in range(chunks):
        pictures += sum("frame" in out for out in lab.advance(session, False, lab.DEFAULT_SHOW))
    return pictures / (time.perf_counter() - start)


def main(args):
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| loss (tab defaults) | training steps per second (median) | target |")
    print("|---|---|---|")
    for loss, rate in training_rates(args.repeats):
        print(f"| {loss} | {rate:.0f} | ≥ 200 |")
    print()
    print_rows(frame_rows(args.repeats))
    print()
    print("| play loop | pictures per second | target |")
    print("|---|---|---|")
    print(f"| one run (non-saturating) | {play_rate(args.chunks):.1f} | ≥ 5 |")
    print(f"| two runs (non-saturating beside WGAN-GP) | {play_rate(args.chunks, 'wgan_gp'):.1f} | ≥ 5 |")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--chunks", type=int, default=3, help="chunks of play (2 s each) for the refresh rate")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    main(p.parse_args())
