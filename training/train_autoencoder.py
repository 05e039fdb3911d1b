"""Train the plain autoencoder and the denoising autoencoder on MNIST (slugs ``ae-mnist-plain`` and ``ae-mnist``).

Both use the same ``models.autoencoder.ConvAutoencoder``; they differ only in what they see:

* plain:      input x,                 target x   (learns to copy clean digits)
* denoising:  input x̃ = corrupt(x),    target x   (Vincent et al. 2008)

Each training batch of the denoising AE mixes the three corruptions of the lecture —
Gaussian (σ ~ U(0, 0.7)), salt & pepper (rate ~ U(0, 0.4)) and masking (fraction ~ U(0, 0.7)) —
so a single model handles all three. The loss is the Bernoulli negative log-likelihood
(binary cross-entropy) of the clean digit.

Usage (from the project root)::

    python training/train_autoencoder.py --data-dir ../shared/data            # both models, ~15 min on 2 cores
    python training/train_autoencoder.py --eval-only                          # the PSNR table of the README
    python training/train_autoencoder.py --dry-run --output-dir /tmp/ae ...   # smoke test on fake data
"""

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.autoencoder import ConvAutoencoder  # noqa: E402
from models.noise import add_noise, gaussian_noise, mask_noise, psnr, salt_pepper_noise  # noqa: E402
from training.common import (  # noqa: E402
    DEFAULT_DATA_DIR,
    PROJECT_ROOT,
    fake_mnist,
    fit,
    load_mnist,
    push_folder,
    save_model,
    seed_everything,
)

# The settings of the README's quality table: (noise kind, level).
EVAL_SETTINGS = (("gaussian", 0.3), ("gaussian", 0.5), ("salt_pepper", 0.2), ("mask", 0.5))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing MNIST/raw")
    p.add_argument("--download", action="store_true", help="let torchvision download MNIST (needs network)")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / "ae-mnist"), help="denoising AE folder")
    p.add_argument("--plain-output-dir", default=str(PROJECT_ROOT / "pretrained" / "ae-mnist-plain"),
                   help="plain AE folder")
    p.add_argument("--which", choices=("both", "denoising", "plain"), default="both")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--latent-dim", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dry-run", action="store_true", help="a few steps on fake data, for tests")
    p.add_argument("--eval-only", action="store_true", help="evaluate the saved models on the MNIST test set")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="Hub repo of the denoising AE, e.g. my-org/ae-mnist")
    p.add_argument("--plain-hub-repo-id", help="Hub repo of the plain AE, e.g. my-org/ae-mnist-plain")
    return p.parse_args(argv)


def corrupt_mixed(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Corrupt each image of the batch with a random kind of noise at a random strength."""
    n = x.shape[0]
    kind = torch.randint(0, 3, (n, 1, 1, 1), generator=generator)
    level = torch.rand(n, 1, 1, 1, generator=generator)
    noisy_gauss = gaussian_noise(x, 0.7 * level, generator)
    noisy_sp = salt_pepper_noise(x, 0.4 * level, generator)
    noisy_mask = mask_noise(x, 0.7 * level, generator)
    return torch.where(kind == 0, noisy_gauss, torch.where(kind == 1, noisy_sp, noisy_mask))


def train_one(model, images, args, generator, denoising: bool, desc: str):
    """Bernoulli NLL (binary cross-entropy summed over pixels) of the clean digit, from a clean or a corrupted input."""
    def loss_fn(model, x):
        inp = corrupt_mixed(x, generator) if denoising else x
        return F.binary_cross_entropy_with_logits(model(inp), x, reduction="sum") / x.shape[0]

    return fit(model, images, loss_fn, args, generator, desc)


@torch.inference_mode()
def evaluate(denoiser, plain, images, seed: int = 0, batch_size: int = 1000):
    """Mean per-image PSNR (dB) of the noisy input, the denoising AE and the plain AE, per EVAL_SETTINGS."""
    rows = []
    for kind, level in EVAL_SETTINGS:
        g = torch.Generator().manual_seed(seed)
        sums = torch.zeros(3)
        for start in range(0, images.shape[0], batch_size):
            x = images[start:start + batch_size]
            noisy = add_noise(x, kind, level, g)
            sums[0] += psnr(noisy, x).sum()
            sums[1] += psnr(denoiser.reconstruct(noisy), x).sum()
            sums[2] += psnr(plain.reconstruct(noisy), x).sum()
        noisy_db, dae_db, plain_db = (sums / images.shape[0]).tolist()
        rows.append({"noise": kind, "level": level, "psnr_noisy": noisy_db, "psnr_denoising_ae": dae_db,
                     "psnr_plain_ae": plain_db})
    return rows


def metrics_table(rows) -> str:
    names = {"gaussian": "Gaussian σ", "salt_pepper": "salt & pepper rate", "mask": "masking fraction"}
    lines = [
        "| noise | noisy input PSNR | denoising AE PSNR | gain | plain AE PSNR |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {names[r['noise']]} = {r['level']:g} | {r['psnr_noisy']:.2f} dB | {r['psnr_denoising_ae']:.2f} dB "
            f"| {r['psnr_denoising_ae'] - r['psnr_noisy']:+.2f} dB | {r['psnr_plain_ae']:.2f} dB |"
        )
    return "\n".join(lines)


def card(args, denoising: bool, table: str, seconds: float) -> dict:
    which = "denoising" if denoising else "plain"
    slug = "ae-mnist" if denoising else "ae-mnist-plain"
    return {
        "title": f"{slug}: {'denoising' if denoising else 'plain'} convolutional autoencoder on MNIST",
        "description": (
            "A convolutional autoencoder (28×28 → 64 numbers → 28×28) "
            + ("trained to rebuild clean MNIST digits from corrupted ones (Gaussian, salt & pepper and masking noise): "
               "a denoising autoencoder (Vincent et al., ICML 2008)." if denoising else
               "trained on clean MNIST digits only; the gallery shows it beside the denoising autoencoder.")
        ),
        "data": "MNIST (LeCun, Cortes & Burges), the 60,000 training images; figures on the 10,000 test images. "
                "MNIST is available under CC BY-SA 3.0.",
        "training_command": f"python training/train_autoencoder.py --which {which} --epochs {args.epochs} "
                            f"--seed {args.seed}"
                            f"  # {seconds / 60:.1f} min on a 2-core CPU",
        "metrics": "Mean per-image PSNR on the full MNIST test set (noise seed 0); "
                   "reproduce with `python training/train_autoencoder.py --eval-only`.\n\n" + table,
        "usage": f"from models.autoencoder import ConvAutoencoder\n"
                 f"model = ConvAutoencoder.from_pretrained(\"pretrained/{slug}\", strict=True)",
    }


def main(args):
    generator = seed_everything(args.seed)
    if args.dry_run:
        train_x, _ = fake_mnist(512, generator)
        test_x, _ = fake_mnist(200, generator)
        args.epochs = min(args.epochs, 1)
    else:
        train_x, _ = load_mnist(args.data_dir, train=True, download=args.download)
        test_x, _ = load_mnist(args.data_dir, train=False, download=args.download)

    if args.eval_only:
        denoiser = ConvAutoencoder.from_pretrained(args.output_dir, strict=True)
        plain = ConvAutoencoder.from_pretrained(args.plain_output_dir, strict=True)
        print(metrics_table(evaluate(denoiser, plain, test_x)))
        return

    trained = {}
    for denoising in (True, False):
        if args.which != "both" and args.which != ("denoising" if denoising else "plain"):
            continue
        seed_everything(args.seed)
        model = ConvAutoencoder(channels=args.channels, latent_dim=args.latent_dim)
        t0 = time.time()
        train_one(model, train_x, args, generator, denoising, "denoising AE" if denoising else "plain AE")
        trained[denoising] = (model, time.time() - t0)

    # Evaluate with whatever pair is available (the other one from disk when only one was trained).
    denoiser = trained[True][0] if True in trained else ConvAutoencoder.from_pretrained(args.output_dir, strict=True)
    plain = (trained[False][0] if False in trained
             else ConvAutoencoder.from_pretrained(args.plain_output_dir, strict=True))
    table = metrics_table(evaluate(denoiser, plain, test_x))
    print(table)
    for denoising, (model, seconds) in trained.items():
        out = args.output_dir if denoising else args.plain_output_dir
        save_model(model, out, card(args, denoising, table, seconds))
        print(f"saved {out}")
        if args.push_to_hub:
            push_folder(out, args.hub_repo_id if denoising else args.plain_hub_repo_id)


if __name__ == "__main__":
    main(parse_args())
