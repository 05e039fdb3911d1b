"""Warm timings of the DDPM tab's handlers on the real weights (``pretrained/ddpm-mnist``), for the README.

    OMP_NUM_THREADS=2 python bench/bench_ddpm.py            # run it on 2 cores, like a free CPU Space
    python bench/bench_ddpm.py --repeats 5
    python bench/bench_ddpm.py --quick                      # only the default's handler and the ratio

Rows (name, median_ms, p95_ms, target_ms):

* the first streamed frame of ``ddpm_sample`` (16 digits, DDPM 1000, show every 25 steps): time until the first
  (x_t, x̂_0, ε_θ) pictures are yielded;
* 16 digits with the tab's default sampler (DPM-Solver++, ``DEFAULT_STEPS`` steps, pictures every 10 steps: what
  the tab opens on and Generate does unless the student changes it), with 50
  DDIM steps and with 1000 DDPM steps ("watch all 1000 steps"): the whole handler (streaming pictures and the stored
  trajectory included);
* the sampler the tab runs (our loop with the tab's U-Net, ``DiffusionModel.fast_unet``: a frozen channels-last
  trace, bf16 where the CPU computes bf16 in hardware, else fp32) against diffusers' ``DDPMPipeline`` (the plain
  U-Net) for the same work: 16 digits, 100 DDPM steps, the same seed. Measured in one process, alternately (a busy
  moment hits both), the median of several runs each; the ratio is pipeline / ours (the issue's target: ≥ 3). The
  line above the table says which precision ran and how far the two results are apart.

The long runs are repeated fewer times than ``repeats`` (at most 3 for DDPM 1000, 5 for the ratio). Each row is
printed as soon as it is measured; ``--quick`` measures only the default's handler and the ratio.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def _row(name, seconds, target_ms=None, **extra):
    ms = [1000 * s for s in seconds]
    return {"name": name, "median_ms": statistics.median(ms), "p95_ms": _percentile(ms, 0.95), "target_ms": target_ms,
            **extra}


def _time(fn, repeats: int, cpu: list | None = None) -> list[float]:
    """Wall times of ``repeats`` calls after a warm-up; their CPU times (this process) are appended to ``cpu``."""
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - t)
        if cpu is not None:
            cpu.append(time.process_time() - c)
    return out


def rows(repeats: int = 20, quick: bool = False, report=None) -> list[dict]:
    """The rows (see above); ``quick``: only the default sampler's handler and the ratio; ``report(row)`` is called
    as soon as each row is measured."""
    import torch
    from diffusers import DDPMPipeline

    from demos import ddpm as dd
    from models.ddpm import make_scheduler, native_bf16, sample

    model = dd.load_model("")  # pretrained/ddpm-mnist (or the Hub), loaded once
    sampler, steps = dd.DEFAULT_SAMPLER, dd.DEFAULT_STEPS[dd.DEFAULT_SAMPLER]

    def first_frame():
        stream = dd.ddpm_sample("", "ddpm", 1000, 16, 0, 25)
        next(stream)
        stream.close()

    def run(sampler, steps, every=25):
        def go():
            for _ in dd.ddpm_sample("", sampler, steps, 16, 0, every):
                pass
        return go

    name = dd.sampler_name(sampler)
    out = []

    def add(row):
        out.append(row)
        if report is not None:
            report(row)

    cpu = []
    wall = _time(run(sampler, steps, dd.LIMITS["every"][2]), repeats, cpu)
    add(_row(f"DDPM tab: 16 digits, {steps} {name} steps, the default (whole handler, pictures every "
             f"{dd.LIMITS['every'][2]} steps)", wall, 1500,
             note=f"the default's handler: CPU time of this process, median {1000 * statistics.median(cpu):.0f} ms"))
    if not quick:
        add(_row("DDPM tab: first streamed frame (16 digits, DDPM 1000)", _time(first_frame, repeats), 500))
        add(_row("DDPM tab: 16 digits, 50 DDIM steps (whole handler)", _time(run("ddim", 50), repeats), 1500))
        add(_row("DDPM tab: 16 digits, 1000 DDPM steps, \"watch all 1000 steps\" (whole handler)",
                 _time(run("ddpm", 1000), min(repeats, 3)), 20000))

    # The tab's sampler vs diffusers' pipeline, same work and seed, alternately (so that a busy moment hits both).
    fast = model.fast_unet  # what the tab samples with
    pipe = DDPMPipeline(unet=model.unet, scheduler=model.scheduler("ddpm"))
    pipe.set_progress_bar_config(disable=True)
    ours, theirs, cpu_ours, cpu_theirs = [], [], [], []
    with torch.inference_mode():
        for i in range(min(repeats, 5) + 1):
            t, c = time.perf_counter(), time.process_time()
            mine = sample(fast, make_scheduler("ddpm", model.scheduler_config), 16, 100,
                          generator=torch.Generator().manual_seed(0))
            a, ca = time.perf_counter() - t, time.process_time() - c
            t, c = time.perf_counter(), time.process_time()
            image = pipe(batch_size=16, num_inference_steps=100, generator=torch.Generator().manual_seed(0),
                         output_type="pt").images
            b, cb = time.perf_counter() - t, time.process_time() - c
            if i:  # the first round is the warm-up
                ours.append(a)
                theirs.append(b)
                cpu_ours.append(ca)
                cpu_theirs.append(cb)
    speedup = statistics.median(theirs) / statistics.median(ours)
    cpu_speedup = statistics.median(cpu_theirs) / statistics.median(cpu_ours)
    difference = float((mine - image).abs().max())  # same seed, same work: the same digits, up to the precision
    # The CPU time of this process is less disturbed than the wall time by other processes on the same cores (with
    # one thread it is the work itself; with several, OpenMP's waiting counts too).
    note = (f"U-Net of the tab: {fast.precision} (native bf16 on this CPU: {native_bf16()}); largest difference "
            f"between the two results (pixels in [0, 1]): {difference:.2g}; CPU time of this process, medians: "
            f"pipeline {statistics.median(cpu_theirs):.2f} s, ours {statistics.median(cpu_ours):.2f} s "
            f"(pipeline / ours = {cpu_speedup:.2f}×)")
    add(_row("DDPM: DDPMPipeline, 16 digits × 100 DDPM steps", theirs, note=note))
    add(_row(f"DDPM: the tab's sampler ({fast.precision}), same work and seed (pipeline / ours = {speedup:.2f}×; "
             f"target ≥ 3×)", ours, statistics.median(theirs) / 3 * 1000, ratio=speedup, precision=fast.precision,
             max_difference=difference, cpu_ratio=cpu_speedup))
    return out


def unet_calls(repeats: int = 10) -> str:
    """One U-Net call on 16 digits: its FLOPs (``torch.utils.flop_counter``), the median time of the plain module, of
    the fp32 trace and of the bf16 trace, with its GroupNorms in bf16 and in fp32 (``models.ddpm.GroupNormFP32``, what
    the tab runs) (forced: where the CPU has no bf16 instructions oneDNN emulates it), and what
    the fp32 trace makes of the CPU (GFLOP/s) — the context of the ratio. Printed below the table."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from demos import ddpm as dd
    from models.ddpm import FastUNet

    model = dd.load_model("")
    x, t = torch.randn(16, *model.image_shape, generator=torch.Generator().manual_seed(0)), torch.tensor(500)
    with FlopCounterMode(display=False) as flops, torch.inference_mode():
        model.unet(x, t)
    gflop = flops.get_total_flops() / 1e9
    candidates = {"plain module": model.unet, "fp32 trace": FastUNet(model.unet, precision="fp32"),
                  "bf16 trace with bf16 GroupNorms": FastUNet(model.unet, precision="bf16", fp32_group_norm=False),
                  "bf16 trace (GroupNorms in fp32: the tab's)": FastUNet(model.unet, precision="bf16")}
    for name in [name for name, unet in candidates.items() if name.startswith("bf16") and unet.precision != "bf16"]:
        del candidates[name]  # it failed its self-check: it would run fp32
    with torch.inference_mode():
        times = {name: statistics.median(_time(lambda unet=unet: unet(x, t), repeats))
                 for name, unet in candidates.items()}
    parts = ", ".join(f"{name} {1000 * s:.0f} ms" for name, s in times.items())
    return (f"one U-Net call on 16 digits: {gflop:.2f} GFLOP; {parts} (fp32 trace: "
            f"{gflop / times['fp32 trace']:.0f} GFLOP/s)")


def main():
    import torch

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--quick", action="store_true", help="only the default sampler's handler and the ratio")
    args = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| measurement | median | p95 | target |\n|---|---|---|---|", flush=True)

    def report(r):
        target = f"≤ {r['target_ms']:.0f} ms" if r["target_ms"] else ""
        print(f"| {r['name']} | {r['median_ms']:.0f} ms | {r['p95_ms']:.0f} ms | {target} |", flush=True)

    result = rows(args.repeats, args.quick, report)
    print("\n" + "\n".join(r["note"] for r in result if r.get("note")))
    print(unet_calls())
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
