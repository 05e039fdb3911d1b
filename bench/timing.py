"""The one timing helper of the bench scripts: median and 95th percentile of warm runs, in milliseconds."""

import argparse
import statistics
import time


def percentile(xs, q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def time_ms(fn, repeats: int, warmup: int = 1) -> tuple[float, float]:
    """(median, p95) in ms of ``repeats`` calls of ``fn()`` after ``warmup`` calls (lazy loading, allocations)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def row(name: str, timing: tuple[float, float], target_ms: float | None = None) -> dict:
    return {"name": name, "median_ms": round(timing[0], 1), "p95_ms": round(timing[1], 1), "target_ms": target_ms}


def print_rows(rows: list[dict]) -> None:
    print("| measurement | median | p95 | target |")
    print("|---|---|---|---|")
    for r in rows:
        target = f"≤ {r['target_ms']:.0f} ms" if r["target_ms"] else ""
        print(f"| {r['name']} | {r['median_ms']:.1f} ms | {r['p95_ms']:.1f} ms | {target} |")


def run_alone(rows, doc: str, repeats: int = 20) -> None:
    """``python bench/bench_<tab>.py [--repeats N]``: print that script's ``rows(repeats)`` as a Markdown table."""
    import torch

    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=repeats)
    args = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print_rows(rows(args.repeats))
