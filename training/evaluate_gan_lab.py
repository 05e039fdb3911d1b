"""Measure the GAN lab's losses on the two mixtures of the mode-collapse papers, at the tab's default settings.

A GAN that draws only some of the modes of its data ("mode collapse") can still draw perfect points, so a GAN on
2-D data is judged by counting modes. The two usual test sets (``models.gan_lab.modes_of``):

* **ring**: 8 Gaussians on a circle of radius 2, σ = 0.02 (Metz et al. 2017, "Unrolled GANs");
* **grid**: 25 Gaussians at {-4, -2, 0, 2, 4}², σ = 0.05 (Srivastava et al. 2017, "VEEGAN").

For every loss and dataset, ``--seeds`` runs (seeds 0, 1, …) train ``--steps`` D+G steps each, the way the tab
trains (``models.gan_lab.LabRun``), then G draws 2,500 points from the run's fixed evaluation z and we count
(``count_modes``, ``js_divergence``):

* **modes captured**: modes with at least max(1, 10 % of 2,500 / K) high-quality points (32 on the ring, 10 on the
  grid);
* **high-quality share**: the share of points within 3σ of their nearest centre;
* **JS**: the Jensen–Shannon divergence (bits, 0…1) between 50×50 histograms of the points and of 2,500 real points.

The table gives mean ± standard deviation over the seeds, and the median training speed (steps per second, wall
clock and CPU time: on a busy machine the wall-clock figure drops, the CPU-time figure much less). The "real data"
row of each dataset measures 2,500 real points the same way: what a perfect generator would score (its JS, between
two independent real samples, is not 0: two finite samples never have identical histograms).

Every loss runs at the tab's defaults (``LabSettings()``), except where ``RECOMMENDED`` says otherwise (WGAN with
weight clipping: RMSProp, 5 critic updates per G update); the table's "settings" column names such changes.
``--plain`` runs every loss at the plain defaults instead.

Usage (from the project root)::

    python training/evaluate_gan_lab.py                    # 5 losses × 2 datasets × 5 seeds × 3,000 steps:
                                                           # ~15-30 min on one CPU thread (see the steps/s column)
    python training/evaluate_gan_lab.py --datasets ring --losses nonsaturating,wgan_gp --seeds 2 --steps 2000
    python training/evaluate_gan_lab.py --out-json runs/gan_lab_eval.json
    python training/evaluate_gan_lab.py --dry-run          # 2 seeds, 20 steps, one loss: checks that it all runs
"""

import argparse
import dataclasses
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.gan_lab import (  # noqa: E402
    EVAL_SIZE,
    LOSSES,
    RECOMMENDED,
    LabRun,
    LabSettings,
    count_modes,
    half_width,
    js_divergence,
    modes_of,
    sample_real,
)

DATASETS = ("ring", "grid")  # the datasets with modes to count
REAL_SEED = 2**40  # the seed of the "real data" reference sample: no run uses it


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated: " + ",".join(DATASETS))
    p.add_argument("--losses", default=",".join(LOSSES), help="comma-separated: " + ",".join(LOSSES))
    p.add_argument("--seeds", type=int, default=5, help="runs per loss and dataset, with seeds 0 … seeds-1")
    p.add_argument("--steps", type=int, default=3000, help="D+G training steps per run")
    p.add_argument("--plain", action="store_true", help="every loss at the plain defaults (ignore RECOMMENDED)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--out-json", default=None, help="write every run's figures here")
    p.add_argument("--dry-run", action="store_true", help="2 seeds, 20 steps, one loss: checks that it all runs")
    return p.parse_args(argv)


def settings_for(dataset: str, loss: str, seed: int, plain: bool = False) -> LabSettings:
    """The settings of one run: the defaults, with the loss's recommended changes unless ``plain``."""
    changes = {} if plain else RECOMMENDED[loss]
    return LabSettings(dataset=dataset, loss=loss, seed=seed, **changes).checked()


def describe_changes(settings: LabSettings) -> str:
    """The settings that differ from the defaults (other than dataset, loss and seed), for the table."""
    defaults = LabSettings()
    changed = [f"{name} {getattr(settings, name):g}" if isinstance(getattr(settings, name), float)
               else f"{name} {getattr(settings, name)}"
               for name in ("optimizer", "lr_d", "lr_g", "d_steps", "clip", "gp_lambda", "noise")
               if getattr(settings, name) != getattr(defaults, name)]
    return ", ".join(changed) or "defaults"


def train_and_measure(settings: LabSettings, steps: int) -> dict:
    """Train one run for ``steps`` D+G steps; its final figures (``LabRun.summary`` without the samples) and speed."""
    run = LabRun(settings)
    wall, cpu = time.perf_counter(), time.process_time()
    run.train(steps)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    summary = {key: value for key, value in run.summary().items() if key not in ("samples", "centers")}
    return {**summary, "seed": settings.seed, "settings": describe_changes(settings),
            "steps_per_second": steps / wall, "steps_per_cpu_second": steps / max(cpu, 1e-9)}


def real_reference(dataset: str) -> dict:
    """The figures of real points measured like a generator's: modes and quality of 2,500 real points, and the JS
    divergence between two independent samples of 2,500 (what a perfect generator would score)."""
    real = sample_real(dataset, EVAL_SIZE, torch.Generator().manual_seed(REAL_SEED))
    other = sample_real(dataset, EVAL_SIZE, torch.Generator().manual_seed(REAL_SEED + 1))
    modes = count_modes(real, modes_of(dataset))
    return {"modes_captured": modes.captured, "modes_total": modes.total,
            "high_quality_share": modes.high_quality_share, "js": js_divergence(other, real, half_width(dataset))}


def mean_sd(values: list[float], digits: int) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f}"


def table(results: dict, references: dict) -> str:
    """The Markdown table: one row per dataset and loss (runs pooled over seeds), and a "real data" row per dataset."""
    lines = ["| dataset | loss | settings | modes captured (of K) | high-quality share | JS (bits) | steps/s (median: "
             "wall / CPU) |",
             "|---|---|---|---|---|---|---|"]
    for dataset, by_loss in results.items():
        ref = references[dataset]
        lines.append(f"| {dataset} | real data | 2,500 fresh real points | {ref['modes_captured']} of "
                     f"{ref['modes_total']} | {ref['high_quality_share']:.3f} | {ref['js']:.3f} | – |")
        for loss, runs in by_loss.items():
            modes = mean_sd([r["modes_captured"] for r in runs], 1) + f" of {runs[0]['modes_total']}"
            quality = mean_sd([r["high_quality_share"] for r in runs], 3)
            js = mean_sd([r["js"] for r in runs], 3)
            speed = (f"{statistics.median(r['steps_per_second'] for r in runs):.0f} / "
                     f"{statistics.median(r['steps_per_cpu_second'] for r in runs):.0f}")
            lines.append(f"| {dataset} | {loss} | {runs[0]['settings']} | {modes} | {quality} | {js} | {speed} |")
    return "\n".join(lines)


def thresholds(steps: int, seeds: int) -> str:
    """The protocol in words, printed under the table."""
    defaults = ", ".join(f"{name} {value}" for name, value in dataclasses.asdict(LabSettings()).items()
                         if name not in ("dataset", "loss", "seed"))
    needed = {dataset: math.ceil(max(1.0, 0.1 * EVAL_SIZE / len(modes_of(dataset).centers))) for dataset in DATASETS}
    return (f"{seeds} seed(s) per row, {steps} D+G steps per run. Defaults: {defaults}.\n"
            f"Measured on {EVAL_SIZE} samples of the fixed evaluation z: high quality = within 3σ of the nearest "
            "centre (ring σ = 0.02, grid σ = 0.05); a mode is captured with ≥ max(1, 10 % of N/K) high-quality samples "
            f"(ring: {needed['ring']}, grid: {needed['grid']}); JS on 50×50 cells over [-w, w]² "
            f"(ring w = {half_width('ring'):g}, grid w = {half_width('grid'):g}).")


def main(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    datasets, losses, seeds, steps = args.datasets.split(","), args.losses.split(","), args.seeds, args.steps
    if args.dry_run:  # one loss (the default one, if asked for), 2 seeds, 20 steps
        losses = [LabSettings().loss] if LabSettings().loss in losses else losses[:1]
        seeds, steps = min(seeds, 2), min(steps, 20)
    for name in datasets:
        if name not in DATASETS:
            raise SystemExit(f"unknown dataset {name!r}: choose from {', '.join(DATASETS)}")
    for name in losses:
        if name not in LOSSES:
            raise SystemExit(f"unknown loss {name!r}: choose from {', '.join(LOSSES)}")

    start = time.perf_counter()
    results = {dataset: {} for dataset in datasets}
    for dataset in datasets:
        for loss in losses:
            runs = results[dataset][loss] = []
            for seed in range(seeds):
                runs.append(train_and_measure(settings_for(dataset, loss, seed, args.plain), steps))
                r = runs[-1]
                print(f"{dataset} {loss} seed {seed}: {r['modes_captured']}/{r['modes_total']} modes, "
                      f"high quality {r['high_quality_share']:.3f}, JS {r['js']:.3f}, "
                      f"{r['steps_per_second']:.0f} steps/s", flush=True)
    references = {dataset: real_reference(dataset) for dataset in datasets}

    print()
    print(table(results, references))
    print()
    print(thresholds(steps, seeds))
    print(f"Total time: {time.perf_counter() - start:.0f} s with {torch.get_num_threads()} thread(s).")
    if args.out_json:
        Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
        report = {"steps": steps, "seeds": seeds, "plain": args.plain, "references": references, "runs": results}
        Path(args.out_json).write_text(json.dumps(report, indent=1))
        print(f"wrote {args.out_json}")


if __name__ == "__main__":
    main(parse_args())
