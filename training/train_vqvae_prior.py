"""Train the autoregressive prior over the VQ-VAE's codes (slug ``vqvae-mnist-prior``) and judge its digits.

A VQ-VAE alone cannot make new digits: it only turns digits into codes and back. Its authors fit a second
model, a prior p(k_1, …, k_49) over the 7×7 code grids of the training digits, sample codes from it and decode
them (van den Oord et al., 2017). Ours (``models.vqvae.CodePrior``, a small causal transformer) reads the
codes in raster order, given the class y or a "no class" token:

    −log p(k | y) = Σ_{i=1}^{49} −log p(k_i | k_<i, y)        (cross-entropy of every cell, all cells at once)

and y is replaced by "no class" for ``--p-uncond`` of the digits, so one network samples both ways.

1. The codes of the 60,000 training digits come from a saved VQ-VAE folder (``--vqvae-dir``, default
   ``pretrained/vqvae-mnist``); the prior belongs to that codebook: retrain it whenever the VQ-VAE changes.
2. AdamW, warm-up, cosine decay over whichever budget runs out first: ``--max-steps`` or ``--max-minutes``.
3. Evaluation: −log p of the test digits' codes (bits per digit, with and without the class), and
   ``--eval-samples`` generated digits judged by ``pretrained/mnist-classifier`` as in ``training/evaluate_ddpm.py``
   (share classified with confidence ≥ 0.9, class shares, Fréchet distance of the classifier's features), for the
   two ways to sample without choosing a class: the "no class" token (at each of ``--temperatures``), and
   y ~ p(y) (the training class frequencies) followed by the codes given y; beside them the same figures for real
   test digits and for their VQ-VAE reconstructions (the best the decoder allows), the share of samples given y
   that the classifier calls y, and the time to sample and decode 16 digits.

Usage (from the project root; after ``training/train_vqvae.py``)::

    python training/train_vqvae_prior.py --data-dir ../shared/data         # 12 min (--max-minutes) + ~1.5 min eval
    python training/train_vqvae_prior.py --eval-only                       # the figures of the saved prior
    python training/train_vqvae_prior.py --resume runs/vqvae-mnist-prior-ckpt
    python training/train_vqvae_prior.py --dry-run --output-dir /tmp/prior [--vqvae-dir /tmp/vqvae]  # seconds
"""

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.frechet import gaussian_stats  # noqa: E402
from models.imaging import grid, to_pil  # noqa: E402
from models.loading import sha256_of  # noqa: E402
from models.mnist_classifier import MnistClassifier  # noqa: E402
from models.vqvae import VQVAE, CodePrior  # noqa: E402
from training.common import (  # noqa: E402
    DEFAULT_DATA_DIR,
    PROJECT_ROOT,
    fake_mnist,
    load_mnist,
    push_folder,
    save_model,
    seed_everything,
)
from training.evaluate_ddpm import CONFIDENCE, judge  # noqa: E402
from training.train_vqvae import load_checkpoint, lr_factor, save_checkpoint  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing MNIST/raw")
    p.add_argument("--vqvae-dir", default=str(PROJECT_ROOT / "pretrained" / "vqvae-mnist"),
                   help="the VQ-VAE whose codes the prior learns")
    p.add_argument("--classifier", default=str(PROJECT_ROOT / "pretrained" / "mnist-classifier"))
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / "vqvae-mnist-prior"))
    p.add_argument("--checkpoint-dir", default=str(PROJECT_ROOT / "runs" / "vqvae-mnist-prior-ckpt"))
    p.add_argument("--resume", default=None, help="a --checkpoint-dir to continue from")
    p.add_argument("--max-minutes", type=float, default=12.0,
                   help="wall-time budget of data, codes and training (the evaluation comes after)")
    p.add_argument("--max-steps", type=int, default=6000)
    p.add_argument("--checkpoint-minutes", type=float, default=3.0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.05, help="the cosine decay ends at lr × this")
    p.add_argument("--warmup-steps", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--d-model", type=int, default=96)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--p-uncond", type=float, default=0.3, help="share of training digits shown with 'no class'")
    p.add_argument("--eval-samples", type=int, default=1000, help="generated digits judged, per row of the table")
    p.add_argument("--temperatures", default="1.0,0.8",
                   help="comma-separated: unconditional samples are judged at each; the first one is also used for "
                        "the samples given the class, the pictures and the timing")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads. 1 by default: on a 2-core machine shared with other work, two threads "
                        "wait for each other (measured 4-5x slower than one); 0 = torch's default (all cores), "
                        "faster on an idle machine")
    p.add_argument("--dry-run", action="store_true", help="a few steps on fake data, for tests")
    p.add_argument("--eval-only", action="store_true", help="evaluate the prior in --output-dir")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="e.g. my-org/vqvae-mnist-prior")
    return p.parse_args(argv)


@torch.inference_mode()
def encode_all(vqvae: VQVAE, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The code grids (N, 7, 7) long of images (N, 1, 28, 28)."""
    return torch.cat([vqvae.encode(images[s:s + batch_size]) for s in range(0, images.shape[0], batch_size)])


@torch.inference_mode()
def bits_per_digit(prior: CodePrior, codes: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Mean −log2 p(codes | labels) per digit (a uniform prior over K codes needs 49·log2 K bits)."""
    total = sum(prior.nll(codes[s:s + batch_size], labels[s:s + batch_size]).sum().item()
                for s in range(0, codes.shape[0], batch_size))
    return total / codes.shape[0] / math.log(2)


@torch.inference_mode()
def generate(prior: CodePrior, vqvae: VQVAE, n: int, temperature: float, seed: int, labels=None,
             batch_size: int = 250) -> torch.Tensor:
    """n digits (n, 1, 28, 28) in [0, 1]: codes from the prior (batch k with seed + k), decoded by the VQ-VAE.
    labels: None (unconditional) or a tensor of n classes."""
    out = []
    for k, s in enumerate(range(0, n, batch_size)):
        m = min(batch_size, n - s)
        g = torch.Generator().manual_seed(seed + k)
        codes = prior.sample(m, temperature, g, None if labels is None else labels[s:s + m])
        out.append(vqvae.decode_codes(codes))
    return torch.cat(out)


def time_16(prior: CodePrior, vqvae: VQVAE, temperature: float, repeats: int = 5) -> float:
    """Median wall time (s) to sample 16 code grids and decode them (after one warm-up run)."""
    times = []
    for r in range(repeats + 1):
        t0 = time.perf_counter()
        vqvae.decode_codes(prior.sample(16, temperature, torch.Generator().manual_seed(r)))
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def evaluate(prior: CodePrior, vqvae: VQVAE, classifier: MnistClassifier, test_x, test_y, args) -> dict:
    """The figures of the model card (see the module docstring)."""
    prior.eval()
    vqvae.eval()
    test_codes = encode_all(vqvae, test_x)
    n, temps = args.eval_samples, [float(t) for t in args.temperatures.split(",")]
    t = temps[0]
    r = {"bits_conditional": bits_per_digit(prior, test_codes, test_y),
         "bits_unconditional": bits_per_digit(prior, test_codes, torch.full_like(test_y, prior.no_class)),
         "bits_uniform": 49 * math.log2(prior.codebook_size), "n_test": len(test_x)}
    test_stats = gaussian_stats(classifier.predict(test_x)[1].double())
    pick = torch.randperm(len(test_x), generator=torch.Generator().manual_seed(args.seed))[:n]
    r["rows"] = {
        f"real MNIST test digits ({len(pick)})": judge(classifier, test_x[pick], test_stats),
        f"their VQ-VAE reconstructions ({len(pick)})": judge(classifier, vqvae.reconstruct(test_x[pick]), test_stats),
    }
    for temp in temps:                                                         # the "no class" token
        digits = generate(prior, vqvae, n, temp, args.seed)
        r["rows"][f"prior, no class, T = {temp:g} ({n})"] = judge(classifier, digits, test_stats)
        if temp == t:
            uncond = digits
    # unconditional in two stages: y ~ p(y), then the codes given y
    asked = prior.random_labels(n, torch.Generator().manual_seed(args.seed + 20_000))
    two_stage = generate(prior, vqvae, n, t, args.seed + 10_000, asked)
    r["rows"][f"prior, class y ~ p(y), then given y, T = {t:g} ({n})"] = judge(classifier, two_stage, test_stats)
    r["class_match"] = float((classifier.predict(two_stage)[2] == asked).float().mean())
    by_class = generate(prior, vqvae, 100, t, args.seed + 30_000, torch.arange(100) % 10)  # 0, 1, …, 9, 0, 1, …
    r["seconds_16"] = time_16(prior, vqvae, t)
    r["threads"] = torch.get_num_threads()
    r["samples"], r["samples_by_class"] = uncond[:100], by_class
    return r


def metrics_table(r: dict) -> str:
    lines = [f"| digits | confident (p ≥ {CONFIDENCE:g}) | class shares min–max | Fréchet distance "
             "(classifier features) |", "|---|---|---|---|"]
    for name, j in r["rows"].items():
        lines.append(f"| {name} | {100 * j['confident_share']:.1f} % | {100 * j['min_class_share']:.1f}–"
                     f"{100 * j['max_class_share']:.1f} % | {j['frechet_distance']:.2f} |")
    lines += ["", f"Samples given a class y that the classifier assigns to y: {100 * r['class_match']:.1f} %.",
              f"−log2 p of the codes of the {r['n_test']:,} test digits: {r['bits_unconditional']:.1f} bits per digit "
              f"without the class, {r['bits_conditional']:.1f} bits given the class (a uniform prior: "
              f"{r['bits_uniform']:.0f} bits).",
              f"Sampling and decoding 16 digits: {1000 * r['seconds_16']:.0f} ms (median of 5, "
              f"{r['threads']} CPU threads)."]
    return "\n".join(lines)


def save_pictures(r: dict, folder: Path) -> None:
    """``samples.png`` (100 unconditional samples) and ``samples_by_class.png`` (column k: class k)."""
    for key, name in (("samples", "samples.png"), ("samples_by_class", "samples_by_class.png")):
        to_pil(grid(r[key], nrow=10, pad=2, background=128, border=True)).save(Path(folder) / name)


def training_command(args) -> str:
    return (f"python training/train_vqvae_prior.py --max-minutes {args.max_minutes:g} --max-steps {args.max_steps} "
            f"--batch-size {args.batch_size} --lr {args.lr:g} --d-model {args.d_model} --layers {args.layers} "
            f"--heads {args.heads} --dropout {args.dropout:g} --p-uncond {args.p_uncond:g} --seed {args.seed}")


def card(args, table: str, step: int, seconds: float, n_params: int, vqvae_sha: str) -> dict:
    return {
        "title": "vqvae-mnist-prior: an autoregressive prior that writes MNIST digits code by code",
        "description": (
            f"A small causal transformer ({args.layers} layers, width {args.d_model}, {n_params / 1e3:.0f} k "
            "parameters; `models.vqvae.CodePrior`) over the 7×7 code grids of `vqvae-mnist`, in raster order, "
            "given the class or a 'no class' token (so it samples with or without a class). Sample codes, then "
            "decode them with `vqvae-mnist` (van den Oord et al., 2017, used a PixelCNN for this prior). "
            f"It was trained on the codes of the VQ-VAE whose model.safetensors has SHA-256 `{vqvae_sha}`; "
            "retrain it when that VQ-VAE changes. `samples.png`: 100 samples with the 'no class' token; "
            "`samples_by_class.png`: column k shows samples given class k."
        ),
        "data": "The codes that `vqvae-mnist` gives the 60,000 MNIST training images (LeCun, Cortes & Burges), with "
                f"their labels (replaced by 'no class' for {100 * args.p_uncond:.0f} % of the digits, at random); "
                "figures on the 10,000 test images. MNIST is available under CC BY-SA 3.0.",
        "training_command": training_command(args) + f"  # {step} steps in {seconds / 60:.1f} min, "
                                                       f"{torch.get_num_threads()} CPU threads",
        "metrics": f"{args.eval_samples} samples per row at the temperature T shown (seed {args.seed}), "
                   "decoded by `vqvae-mnist` and judged by `mnist-classifier` as in `training/evaluate_ddpm.py`; "
                   "Fréchet distance on the classifier's penultimate features vs the 10,000 test digits (not "
                   "comparable with published FIDs). Reproduce with `python training/train_vqvae_prior.py "
                   "--eval-only`.\n\n" + table,
        "usage": "from models.vqvae import VQVAE, CodePrior\n"
                 "vqvae = VQVAE.from_pretrained(\"pretrained/vqvae-mnist\", strict=True).eval()\n"
                 "prior = CodePrior.from_pretrained(\"pretrained/vqvae-mnist-prior\", strict=True).eval()\n"
                 "codes = prior.sample(16, temperature=1.0)              # (16, 7, 7) long, 'no class'\n"
                 "codes = prior.sample(16, label=3)                      # sixteen threes\n"
                 "codes = prior.sample(16, label=prior.random_labels(16))  # y ~ p(y), then the codes given y\n"
                 "digits = vqvae.decode_codes(codes)                     # (16, 1, 28, 28) in [0, 1]",
    }


def main(args):
    from tqdm import tqdm

    t_launch = time.time()
    if args.threads:
        torch.set_num_threads(args.threads)
    generator = seed_everything(args.seed)
    vqvae_weights = Path(args.vqvae_dir) / "model.safetensors"
    if args.dry_run:
        train_x, train_y = fake_mnist(256, generator)
        test_x, test_y = fake_mnist(100, generator)
        args.max_steps = min(args.max_steps, 3)
        args.batch_size = min(args.batch_size, 16)
        args.warmup_steps = 1
        args.eval_samples = min(args.eval_samples, 20)
        vqvae = (VQVAE.from_pretrained(args.vqvae_dir, strict=True) if vqvae_weights.is_file()
                 else VQVAE(codebook_size=8, embedding_dim=4, channels=8))
        classifier = MnistClassifier(channels=4, feature_dim=16)
    else:
        train_x, train_y = load_mnist(args.data_dir, train=True)              # (60000, 1, 28, 28), (60000,)
        test_x, test_y = load_mnist(args.data_dir, train=False)
        vqvae = VQVAE.from_pretrained(args.vqvae_dir, strict=True)
        classifier = MnistClassifier.from_pretrained(args.classifier, strict=True)
    vqvae.eval()
    classifier.eval()
    vqvae_sha = sha256_of(vqvae_weights) if vqvae_weights.is_file() else "(untrained dry-run model)"

    if args.eval_only:
        prior = CodePrior.from_pretrained(args.output_dir, strict=True).eval()
        if prior.codebook_size != vqvae.codebook_size:
            raise SystemExit(f"the prior models {prior.codebook_size} codes but {args.vqvae_dir} has "
                             f"{vqvae.codebook_size}: retrain the prior")
        r = evaluate(prior, vqvae, classifier, test_x, test_y, args)
        print(metrics_table(r))
        return r

    codes = encode_all(vqvae, train_x).reshape(-1, 49)                          # (60000, 49) long
    print(f"codes of {len(codes)} training digits in {time.time() - t_launch:.0f} s")
    prior = CodePrior(codebook_size=vqvae.codebook_size, d_model=args.d_model, layers=args.layers, heads=args.heads,
                      dropout=args.dropout)
    prior.class_freq.copy_(torch.bincount(train_y, minlength=prior.num_classes).float() / len(train_y))  # p(y)
    n_params = sum(p.numel() for p in prior.parameters())
    opt = torch.optim.AdamW(prior.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    step, elapsed_before = 0, 0.0
    if args.resume:
        step, elapsed_before = load_checkpoint(Path(args.resume), prior, opt)
        print(f"resumed from {args.resume} at step {step} ({elapsed_before / 60:.1f} min done)")
    print(f"prior: {n_params / 1e3:.0f} k parameters, {torch.get_num_threads()} threads")

    ckpt_dir = Path(args.checkpoint_dir)
    t_start = t_launch - elapsed_before
    last_ckpt = time.time()
    bar = tqdm(total=args.max_steps, initial=step, desc="prior", mininterval=5.0)
    running = None
    prior.train()
    while step < args.max_steps and time.time() - t_start < args.max_minutes * 60:
        for group in opt.param_groups:
            group["lr"] = args.lr * lr_factor(step, time.time() - t_start, args)
        idx = torch.randint(0, codes.shape[0], (args.batch_size,), generator=generator)
        k, y = codes[idx], train_y[idx]                                         # (B, 49), (B,)
        drop = torch.rand(y.shape, generator=generator) < args.p_uncond
        y = torch.where(drop, torch.full_like(y, prior.no_class), y)           # some digits without their class
        logits = prior(k, y)                                                    # (B, 49, K)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), k.reshape(-1))  # nats per cell
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(prior.parameters(), 1.0)
        opt.step()
        step += 1
        bar.update(1)
        bits = loss.item() * 49 / math.log(2)                                   # per digit
        running = bits if running is None else 0.95 * running + 0.05 * bits  # smoothed over ~20 batches
        if step % 25 == 0:
            bar.set_postfix(bits_per_digit=f"{running:.1f}", lr=f"{opt.param_groups[0]['lr']:.1e}", refresh=False)
        if time.time() - last_ckpt > args.checkpoint_minutes * 60:
            save_checkpoint(ckpt_dir, prior, opt, step, time.time() - t_start, args)
            last_ckpt = time.time()
    bar.close()
    seconds = time.time() - t_start
    print(f"training stopped at step {step} after {seconds / 60:.1f} min")
    save_checkpoint(ckpt_dir, prior, opt, step, seconds, args)

    r = evaluate(prior, vqvae, classifier, test_x, test_y, args)
    table = metrics_table(r)
    print(table)
    save_model(prior, args.output_dir, card(args, table, step, seconds, n_params, vqvae_sha),
               lambda folder: save_pictures(r, folder))
    print(f"saved {args.output_dir}")
    if args.push_to_hub:
        push_folder(args.output_dir, args.hub_repo_id)
    return r


if __name__ == "__main__":
    main(parse_args())
