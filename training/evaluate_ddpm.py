"""Measure the DDPM of ``pretrained/ddpm-mnist`` with the MNIST classifier of ``pretrained/mnist-classifier``.

A generative model has no test accuracy, so we let a good classifier (≥ 99 % on the MNIST test set) judge
``--n`` generated digits (the 32×32 samples, centre-cropped to 28×28) per sampler:

* **confident**: the share of samples classified with probability ≥ 0.9 (recognisable digits);
* **class shares**: how the predicted classes are spread (each should be 5–15 %; a missing class = mode collapse);
* **Fréchet distance** between Gaussians fitted to the classifier's penultimate features of the samples and of
  the 10,000 MNIST test digits (the idea of FID, Heusel et al. 2017, with an MNIST network instead of
  Inception-v3, so the numbers are not comparable with published FIDs). For scale, the same distance for
  ``--n`` real *training* digits is printed as the "real data" row: the floor a perfect model would reach.

Usage (from the project root)::

    python training/evaluate_ddpm.py                                   # DDPM 1000, DDIM 50 and 20 steps on CPU
                                                                       # (slow: DDPM 1000 is ~1e6 U-Net image-steps)
    python training/evaluate_ddpm.py --samplers ddim:50,ddim:20        # the fast ones only
    python training/evaluate_ddpm.py --samplers dpmsolver++:20,dpmsolver++:15   # DPM-Solver++ (Lu et al. 2022)
    python training/evaluate_ddpm.py --samplers dpmsolver++:20 --unet bf16      # the U-Net traced in bfloat16
    python training/evaluate_ddpm.py --samplers dpmsolver++:20 --scheduler-overrides '{"thresholding": false}'
    python training/evaluate_ddpm.py --device cuda --samplers ddpm:1000 --out-json runs/ddpm_eval_ddpm1000.json
    python training/evaluate_ddpm.py --dry-run                         # tiny fake models (tests)

Samplers: ``ddpm``, ``ddim``, ``dpmsolver++`` (``models.ddpm.make_scheduler``: all made from the pipeline's scheduler
config; DPM-Solver++ clips x̂_0 as the config's ``clip_sample`` asks, through its ``thresholding``).

Samples are drawn from ``--seed`` in batches of ``--batch-size`` (each batch with its own seed ``seed + k``), with our
sampling loop (``models.ddpm.sample``), which matches ``DDPMPipeline`` for the same seed. On a CPU the U-Net runs as
``models.ddpm.FastUNet`` (``--unet``): ``tab`` is what the DDPM tab runs (bf16 where the CPU computes bf16 in
hardware, else fp32; ``GALLERY_DDPM_PRECISION`` overrides), ``fp32`` the fp32 trace (outputs within ~1e-6 of the
plain module), ``bf16`` the bf16 trace even where bf16 is only emulated (slow there: use it to measure quality),
``eager`` the plain module. The same ``--seed`` gives the same x_T and noise for every choice, so two runs that differ
only in ``--unet`` compare the precision alone.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.ddpm import SAMPLER_NAMES, FastUNet, read_unet_pipeline, sample, save_png  # noqa: E402
from models.frechet import frechet_distance, gaussian_stats  # noqa: E402
from models.imaging import grid  # noqa: E402
from models.loading import DIFFUSERS_UNET_LAYOUTS, verify_tree_checksums  # noqa: E402
from models.mnist_classifier import MnistClassifier  # noqa: E402
from training.common import DEFAULT_DATA_DIR, PROJECT_ROOT, fake_mnist, load_mnist  # noqa: E402

CONFIDENCE = 0.9


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pipeline", default=str(PROJECT_ROOT / "pretrained" / "ddpm-mnist"),
                   help="the diffusers pipeline folder")
    p.add_argument("--classifier", default=str(PROJECT_ROOT / "pretrained" / "mnist-classifier"))
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing MNIST/raw")
    p.add_argument("--samplers", default="ddpm:1000,ddim:50,ddim:20",
                   help=f"comma-separated kind:steps, kind one of {', '.join(k for k in SAMPLER_NAMES)}")
    p.add_argument("--unet", choices=("tab", "fp32", "bf16", "eager"), default="tab",
                   help="how the U-Net runs on a CPU (see above); ignored on a GPU")
    p.add_argument("--scheduler-overrides", default=None,
                   help="a JSON object set last on every scheduler's config (ablations), e.g. "
                        "'{\"thresholding\": false}'")
    p.add_argument("--n", type=int, default=1000, help="samples per sampler")
    p.add_argument("--batch-size", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--out-json", default=None, help="write the figures here")
    p.add_argument("--grid-dir", default=None, help="save a 10×10 grid of the first 100 samples of each sampler here")
    p.add_argument("--dry-run", action="store_true", help="tiny random models and fake data (tests)")
    return p.parse_args(argv)


def generate(unet, scheduler_config, kind: str, steps: int, n: int, batch_size: int, seed: int, device,
             after_batch=None, overrides: dict | None = None) -> torch.Tensor:
    """n samples (n, 1, 32, 32) in [0, 1] on the CPU; ``after_batch(samples so far)`` after each batch."""
    from models.ddpm import make_scheduler

    out = []
    for k, start in enumerate(range(0, n, batch_size)):
        g = torch.Generator(device=device).manual_seed(seed + k)
        scheduler = make_scheduler(kind, scheduler_config, overrides)
        out.append(sample(unet, scheduler, min(batch_size, n - start), steps, generator=g, device=device).float().cpu())
        if after_batch is not None:
            after_batch(torch.cat(out))
    return torch.cat(out)


def judge(classifier, digits: torch.Tensor, test_stats) -> dict:
    """Confident share, class shares and Fréchet distance of digits (N, 1, 28, 28) in [0, 1]."""
    probs, feats, labels = classifier.predict(digits)
    conf = probs.max(1).values
    shares = torch.bincount(labels, minlength=10).float() / len(labels)
    return {
        "confident_share": float((conf >= CONFIDENCE).float().mean()),
        "mean_confidence": float(conf.mean()),
        "class_shares": [round(float(s), 4) for s in shares],
        "min_class_share": float(shares.min()),
        "max_class_share": float(shares.max()),
        "frechet_distance": frechet_distance(*gaussian_stats(feats.double()), *test_stats),
    }


def table(rows: dict) -> str:
    lines = ["| samples | confident (p ≥ 0.9) | class shares min–max | Fréchet distance (classifier features) | time |",
             "|---|---|---|---|---|"]
    for name, r in rows.items():
        t = f"{r['seconds']:.0f} s" if "seconds" in r else "—"
        lines.append(f"| {name} | {100 * r['confident_share']:.1f} % | {100 * r['min_class_share']:.1f}–"
                     f"{100 * r['max_class_share']:.1f} % | {r['frechet_distance']:.2f} | {t} |")
    return "\n".join(lines)


def main(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.dry_run:
        from models.ddpm import SCHEDULER_CONFIG, make_unet

        torch.manual_seed(0)
        unet, scheduler_config = make_unet((8, 16)), dict(SCHEDULER_CONFIG)
        classifier = MnistClassifier(channels=4, feature_dim=16).eval()
        g = torch.Generator().manual_seed(0)
        test_x, _ = fake_mnist(200, g)
        train_x, _ = fake_mnist(200, g)
        args.n = min(args.n, 20)
        args.samplers = ",".join(f"{s.split(':')[0]}:{2 + i}" for i, s in enumerate(args.samplers.split(",")))
    else:
        folder = Path(args.pipeline)
        verify_tree_checksums("ddpm-mnist", folder, DIFFUSERS_UNET_LAYOUTS[0])
        model = read_unet_pipeline(folder, DIFFUSERS_UNET_LAYOUTS[0])
        unet, scheduler_config = model.unet, model.scheduler_config
        classifier = MnistClassifier.from_pretrained(args.classifier, strict=True).eval()
        test_x, _ = load_mnist(args.data_dir, train=False)
        train_x, _ = load_mnist(args.data_dir, train=True)
    unet = unet.to(device).eval()
    precision = "eager"
    if device.type == "cpu" and args.unet != "eager":  # channels-last + a frozen trace (fp32 or bf16)
        unet = FastUNet(unet, precision="auto" if args.unet == "tab" else args.unet)
        precision = unet.precision
        if args.unet in ("fp32", "bf16") and precision != args.unet:
            raise SystemExit(f"the {args.unet} trace failed its self-check (it runs as {precision}); nothing measured")
    print(f"U-Net: {precision} on {device} ({torch.get_num_threads()} threads)", flush=True)
    overrides = json.loads(args.scheduler_overrides) if args.scheduler_overrides else None

    test_stats = gaussian_stats(classifier.predict(test_x)[1].double())
    pick = torch.randperm(train_x.shape[0], generator=torch.Generator().manual_seed(args.seed))[:args.n]
    rows = {f"real MNIST training digits ({len(pick)})": judge(classifier, train_x[pick], test_stats)}
    for spec in args.samplers.split(","):
        kind, steps = spec.strip().split(":")
        if kind not in SAMPLER_NAMES:
            raise SystemExit(f"unknown sampler {kind!r} in --samplers; one of {', '.join(SAMPLER_NAMES)}")
        extra = "" if precision in ("fp32", "eager") else f", {precision}"
        name = f"{SAMPLER_NAMES[kind]} {int(steps)} steps{extra} ({args.n})"
        start = time.time()
        def progress(so_far, name=name, start=start):
            """Figures of the samples so far (a long CPU run can be stopped and still say something)."""
            if len(so_far) < args.n:
                r = judge(classifier, so_far[:, :, 2:30, 2:30], test_stats)
                print(f"  {name}: {len(so_far)} samples after {time.time() - start:.0f} s: "
                      f"confident {100 * r['confident_share']:.1f} %, FD {r['frechet_distance']:.2f}", flush=True)

        images = generate(unet, scheduler_config, kind, int(steps), args.n, args.batch_size, args.seed, device,
                          progress, overrides)
        seconds = time.time() - start
        digits = images[:, :, 2:30, 2:30]  # undo the 2-px padding of the training data
        rows[name] = {**judge(classifier, digits, test_stats), "seconds": seconds, "device": str(device),
                      "unet": precision, "sampler": kind, "steps": int(steps), "scheduler_overrides": overrides}
        print(name, json.dumps(rows[name]), flush=True)
        if args.grid_dir:
            Path(args.grid_dir).mkdir(parents=True, exist_ok=True)
            picture = grid(images[:100], nrow=10, pad=2, background=128, border=True)
            save_png(picture, Path(args.grid_dir) / f"eval_{kind}{int(steps)}{extra.replace(', ', '_')}.png")
    print(table(rows))
    if args.out_json:
        Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out_json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))
    return rows


if __name__ == "__main__":
    main(parse_args())
