"""Time of the DeepDream tab's default dream, warm, in-process, on this machine: the network as loaded, with its batch
norms folded into the convolutions (channels-last), and the copy the tab dreams with
(``demos.deepdream.dreaming_copy``: folded, padding inside the stride-1 convolutions, the 1x1 convolutions as
matrix products, channels-last).

    python bench/bench_deepdream.py               # one thread, as the app gives each heavy job; 4 rounds
    python bench/bench_deepdream.py --rounds 6 --threads 2

The three are timed alternately (one dream of each per round), so that the machine's changing speed affects them
alike; printed: each one's median over the rounds and the ratios of the medians to the network as loaded. The
dream is the tab's default: the first photo, the default preset, the default resolution. Timings are not asserted
anywhere.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(args):
    import PIL.Image
    import torch

    from demos import deepdream as tab
    from models.efficientnet_lite import EfficientNetLite0, fold_batch_norms
    from models.loading import load_pretrained

    torch.set_num_threads(args.threads)
    plain = load_pretrained(EfficientNetLite0, tab.SLUG).eval().requires_grad_(False)
    folded = fold_batch_norms(plain).to(memory_format=torch.channels_last).requires_grad_(False)
    dreaming = tab.dreaming_copy(plain)
    s = {**tab.PRESETS[tab.DEFAULT_PRESET], "resolution": tab.LIMITS["resolution"][2]}
    targets = tab.parse_targets(s["targets"], 10**6) if s.get("targets") else ()
    with PIL.Image.open(tab.FIRST_PHOTO) as photo:
        img = tab.photo_to_tensor(photo, s["resolution"])

    def dream(model):
        for _octave, image in tab.deepdream(model, img, s["layer"], s["octaves"], s["octave_scale"],
                                            s["iterations"], s["step"], s["jitter"], 0, s["objective"], None,
                                            targets):
            pass
        return image

    networks = {"as loaded": plain, "batch norms folded": folded,
                "dreaming copy (folded, padding in the conv, 1x1 as matmul)": dreaming}
    times = {name: [] for name in networks}
    dream(dreaming)  # warm-up
    dreams = {}
    for _ in range(args.rounds):
        for name, model in networks.items():
            t = time.perf_counter()
            dreams[name] = dream(model)
            times[name].append(time.perf_counter() - t)
    print(f"torch {torch.__version__}, {args.threads} thread(s); preset {tab.DEFAULT_PRESET!r}, "
          f"{s['resolution']} px, {s['octaves']} octaves x {s['iterations']} iterations; {args.rounds} rounds\n")
    print("| network | median | all rounds |")
    print("|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts):.2f} s | {', '.join(f'{t:.2f}' for t in ts)} |")
    for reference in ("as loaded", "batch norms folded"):  # a dream is chaotic in rounding: 0 means bitwise equal
        print(f"\nthe dreams' largest pixel difference (in [0, 1]) from the one with the network {reference}: "
              + ", ".join(f"{name} {float((image - dreams[reference]).abs().max()):.2g}"
                          for name, image in dreams.items()))
    base = statistics.median(times["as loaded"])
    print("\nratios of the medians (as loaded / this): "
          + ", ".join(f"{name} {base / statistics.median(ts):.2f}x" for name, ts in times.items()))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
