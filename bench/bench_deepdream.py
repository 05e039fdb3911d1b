"""Time of the DeepDream tab's default dream, warm, in-process, on this machine: the network as loaded vs the copy
the tab dreams with (``demos.deepdream.dreaming_copy``: batch norms folded into the convolutions, channels-last).

    python bench/bench_deepdream.py               # one thread, as the app gives each heavy job; 4 rounds
    python bench/bench_deepdream.py --rounds 6 --threads 2

The two are timed alternately (one dream of each per round), so that the machine's changing speed affects both
alike; printed: each one's median over the rounds and the ratio of the medians. The dream is the tab's default:
the first photo, the default preset, the default resolution. Timings are not asserted anywhere.
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
    from models.efficientnet_lite import EfficientNetLite0
    from models.loading import load_pretrained

    torch.set_num_threads(args.threads)
    plain = load_pretrained(EfficientNetLite0, tab.SLUG).eval().requires_grad_(False)
    dreaming = tab.dreaming_copy(plain)
    s = {**tab.PRESETS[tab.DEFAULT_PRESET], "resolution": tab.LIMITS["resolution"][2]}
    targets = tab.parse_targets(s["targets"], 10**6) if s.get("targets") else ()
    with PIL.Image.open(tab.FIRST_PHOTO) as photo:
        img = tab.photo_to_tensor(photo, s["resolution"])

    def dream(model):
        for _octave, _image in tab.deepdream(model, img, s["layer"], s["octaves"], s["octave_scale"],
                                             s["iterations"], s["step"], s["jitter"], 0, s["objective"], None,
                                             targets):
            pass

    times = {"as loaded": [], "dreaming copy": []}
    dream(dreaming)  # warm-up
    for _ in range(args.rounds):
        for name, model in (("as loaded", plain), ("dreaming copy", dreaming)):
            t = time.perf_counter()
            dream(model)
            times[name].append(time.perf_counter() - t)
    print(f"torch {torch.__version__}, {args.threads} thread(s); preset {tab.DEFAULT_PRESET!r}, "
          f"{s['resolution']} px, {s['octaves']} octaves x {s['iterations']} iterations; {args.rounds} rounds\n")
    print("| network | median | all rounds |")
    print("|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts):.2f} s | {', '.join(f'{t:.2f}' for t in ts)} |")
    ratio = statistics.median(times["as loaded"]) / statistics.median(times["dreaming copy"])
    print(f"\nratio of the medians (as loaded / dreaming copy): {ratio:.2f}x")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
