"""Train the 2-D-latent VAE (slug ``vae-mnist``) and the same network with β = 0, a plain 2-D autoencoder
(slug ``vae-mnist-beta0``), on MNIST.

Loss per image (nats), Bernoulli decoder on the grey levels in [0, 1]:

    −ELBO_β(x) = E_{q(z|x)}[−log p(x∣z)] + β · KL(q(z|x) ‖ N(0, I))

β = 1 is the VAE of Kingma & Welling (2014). With β = 0 the KL term vanishes and the encoder is
used deterministically (z = μ), which is an ordinary autoencoder with a 2-D bottleneck; the gallery
shows its latent map beside the VAE's so that students see what the KL term does.

Besides the weights, each output folder gets ``latent_map.safetensors``: the encoder means μ of the
10,000 MNIST test digits and their labels, from which the app draws the latent map (the app must
not need the dataset).

Usage (from the project root)::

    python training/train_vae.py --data-dir ../shared/data          # both models, a few minutes on 2 cores
    python training/train_vae.py --eval-only                        # the ELBO table of the README
    python training/train_vae.py --dry-run --output-dir /tmp/vae --beta0-output-dir /tmp/vae0
"""

import argparse
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.vae import VAE, kl_divergence, negative_elbo, reconstruction_nll  # noqa: E402
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

LATENT_MAP_FILE = "latent_map.safetensors"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing MNIST/raw")
    p.add_argument("--download", action="store_true", help="let torchvision download MNIST (needs network)")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / "vae-mnist"))
    p.add_argument("--beta0-output-dir", default=str(PROJECT_ROOT / "pretrained" / "vae-mnist-beta0"))
    p.add_argument("--which", choices=("both", "vae", "beta0"), default="both")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-samples", type=int, default=10, help="Monte-Carlo samples of z per test image for the ELBO")
    p.add_argument("--dry-run", action="store_true", help="a few steps on fake data, for tests")
    p.add_argument("--eval-only", action="store_true", help="evaluate the saved models on the MNIST test set")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="e.g. my-org/vae-mnist")
    p.add_argument("--beta0-hub-repo-id", help="e.g. my-org/vae-mnist-beta0")
    return p.parse_args(argv)


def train_one(model: VAE, images, args, generator, desc: str):
    """Minimise −ELBO_β = reconstruction + β·KL, averaged over the batch."""
    def loss_fn(model, x):
        logits, mu, logvar = model(x, generator)
        return (reconstruction_nll(logits, x) + model.beta * kl_divergence(mu, logvar)).mean()

    return fit(model, images, loss_fn, args, generator, desc)


@torch.inference_mode()
def evaluate(model: VAE, images, samples: int, seed: int = 0, batch_size: int = 1000) -> dict:
    """Mean −ELBO over the test images (nats) and its split into reconstruction and KL."""
    g = torch.Generator().manual_seed(seed)
    sums = torch.zeros(3)
    for start in range(0, images.shape[0], batch_size):
        x = images[start:start + batch_size]
        neg_elbo, recon, kl = negative_elbo(model, x, samples=samples, generator=g)
        sums += torch.stack([neg_elbo.sum(), recon.sum(), kl.sum()])
    neg_elbo, recon, kl = (sums / images.shape[0]).tolist()
    return {"neg_elbo": neg_elbo, "reconstruction": recon, "kl": kl}


@torch.inference_mode()
def save_latent_map(model: VAE, images, labels, output_dir: Path, samples: int, seed: int = 0):
    """μ, log σ² and −ELBO (nats) of every test digit, with its label: what the app's latent map draws."""
    mu, logvar = model.encode(images)
    neg_elbo, _, _ = negative_elbo(model, images, samples=samples, generator=torch.Generator().manual_seed(seed))
    tensors = {"mu": mu, "logvar": logvar, "neg_elbo": neg_elbo, "labels": labels.to(torch.int64)}
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(Path(output_dir) / LATENT_MAP_FILE))


def metrics_table(results: dict) -> str:
    lines = ["| model | −ELBO (nats) | reconstruction E[−log p(x∣z)] | KL(q‖p) |", "|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['neg_elbo']:.2f} | {r['reconstruction']:.2f} | {r['kl']:.2f} |")
    return "\n".join(lines)


def card(args, slug: str, beta: float, table: str, seconds: float) -> dict:
    which = "vae" if beta > 0 else "beta0"
    return {
        "title": f"{slug}: " + ("variational autoencoder with a 2-D latent on MNIST" if beta > 0
                               else "plain autoencoder with a 2-D bottleneck (VAE network, β = 0) on MNIST"),
        "description": (
            "An MLP VAE (Kingma & Welling, 2014) with a 2-D Gaussian latent and a Bernoulli decoder, "
            "so the whole latent space can be drawn and explored." if beta > 0 else
            "The same MLP as `vae-mnist`, trained without the KL term (β = 0, z = μ): an ordinary autoencoder. "
            "Its latent map shows the gaps and stretched clusters that the KL term prevents."
        ) + f" `{LATENT_MAP_FILE}` holds the encoder means of the 10,000 MNIST test digits, for the app's latent map.",
        "data": "MNIST (LeCun, Cortes & Burges), the 60,000 training images (grey levels in [0, 1] used as Bernoulli "
                "targets, no binarisation); figures on the 10,000 test images. MNIST is available under CC BY-SA 3.0.",
        "training_command": f"python training/train_vae.py --which {which} --epochs {args.epochs} --seed {args.seed}"
                            f"  # {seconds / 60:.1f} min on a 2-core CPU",
        "metrics": f"On the full MNIST test set, {args.eval_samples} samples of z per image (seed 0); reproduce with "
                   "`python training/train_vae.py --eval-only`. For the β = 0 model the 'KL' column is what the KL "
                   "term would be for its encoder's Gaussian; it was not trained with it.\n\n" + table,
        "usage": f"from models.vae import VAE\nmodel = VAE.from_pretrained(\"pretrained/{slug}\", strict=True)",
    }


def main(args):
    generator = seed_everything(args.seed)
    if args.dry_run:
        train_x, _ = fake_mnist(512, generator)
        test_x, test_y = fake_mnist(200, generator)
        args.epochs = min(args.epochs, 1)
        args.eval_samples = 1
    else:
        train_x, _ = load_mnist(args.data_dir, train=True, download=args.download)
        test_x, test_y = load_mnist(args.data_dir, train=False, download=args.download)

    jobs = {"vae-mnist": (1.0, args.output_dir, args.hub_repo_id),
            "vae-mnist-beta0": (0.0, args.beta0_output_dir, args.beta0_hub_repo_id)}
    if args.which == "vae":
        jobs.pop("vae-mnist-beta0")
    elif args.which == "beta0":
        jobs.pop("vae-mnist")

    if args.eval_only:
        results = {slug: evaluate(VAE.from_pretrained(out, strict=True), test_x, args.eval_samples)
                   for slug, (_, out, _) in jobs.items()}
        print(metrics_table(results))
        return

    trained, results = {}, {}
    for slug, (beta, out, _) in jobs.items():
        seed_everything(args.seed)
        model = VAE(latent_dim=2, hidden=args.hidden, beta=beta)
        t0 = time.time()
        train_one(model, train_x, args, generator, slug)
        trained[slug] = (model, time.time() - t0)
        results[slug] = evaluate(model, test_x, args.eval_samples)
    table = metrics_table(results)
    print(table)
    for slug, (model, seconds) in trained.items():
        beta, out, repo = jobs[slug]
        save_model(model, out, card(args, slug, beta, table, seconds),
                   lambda folder: save_latent_map(model, test_x, test_y, folder, args.eval_samples))
        print(f"saved {out}")
        if args.push_to_hub:
            push_folder(out, repo)


if __name__ == "__main__":
    main(parse_args())
