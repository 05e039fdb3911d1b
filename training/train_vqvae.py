"""Train the VQ-VAE of the gallery on MNIST (slug ``vqvae-mnist``): each digit → a 7×7 grid of codes from a
codebook of K = 64.

van den Oord, Vinyals & Kavukcuoglu, "Neural Discrete Representation Learning", NeurIPS 2017.

Loss per image (nats), Bernoulli decoder on the grey levels in [0, 1] (``models.vqvae``):

    L = −log p(x | z_q) + β ‖z_e − sg[e]‖²          (β = 0.25; the codebook term ‖sg[z_e] − e‖² is minimised by the
                                                     EMA update of the codes, not by this gradient)

with the straight-through estimator carrying the decoder's gradient from z_q to the encoder, and codes that
nothing chooses restarted at encoder outputs. Adam, a short warm-up, then a cosine decay of the learning rate
over whichever budget runs out first: ``--max-steps`` or ``--max-minutes`` of wall time (data loading included).

Besides the weights (the codebook and its EMA statistics are buffers in ``model.safetensors``), the folder gets
``codebook_usage.safetensors``: how often each code is used by the 10,000 MNIST test digits, for the app's
codebook view (the app must not need the dataset).

Usage (from the project root)::

    python training/train_vqvae.py --data-dir ../shared/data          # 13 min (--max-minutes) on one core
    python training/train_vqvae.py --threads 0 --max-minutes 8        # an idle machine: all its cores
    python training/train_vqvae.py --eval-only                        # PSNR, perplexity, codes used of the saved model
    python training/train_vqvae.py --resume runs/vqvae-mnist-ckpt     # continue from a checkpoint
    python training/train_vqvae.py --dry-run --output-dir /tmp/vqvae  # smoke test on fake data (seconds)

Then train the prior on its codes: ``training/train_vqvae_prior.py``.
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.noise import psnr  # noqa: E402
from models.vae import reconstruction_nll  # noqa: E402
from models.vqvae import VQVAE, perplexity  # noqa: E402
from training.common import (  # noqa: E402
    DEFAULT_DATA_DIR,
    PROJECT_ROOT,
    fake_mnist,
    load_mnist,
    push_folder,
    save_model,
    seed_everything,
)

USAGE_FILE = "codebook_usage.safetensors"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing MNIST/raw")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / "vqvae-mnist"))
    p.add_argument("--checkpoint-dir", default=str(PROJECT_ROOT / "runs" / "vqvae-mnist-ckpt"))
    p.add_argument("--resume", default=None, help="a --checkpoint-dir to continue from")
    p.add_argument("--max-minutes", type=float, default=13.0, help="wall-time budget of the training loop")
    p.add_argument("--max-steps", type=int, default=6000)
    p.add_argument("--checkpoint-minutes", type=float, default=3.0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.05, help="the cosine decay ends at lr × this")
    p.add_argument("--warmup-steps", type=int, default=100)
    p.add_argument("--codebook-size", type=int, default=64, help="K")
    p.add_argument("--embedding-dim", type=int, default=16, help="D")
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--beta", type=float, default=0.25, help="weight of the commitment term")
    p.add_argument("--decay", type=float, default=0.99, help="EMA decay of the codebook")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads. 1 by default: on a 2-core machine shared with other work, two threads "
                        "wait for each other (measured 4-5x slower than one); 0 = torch's default (all cores), "
                        "faster on an idle machine")
    p.add_argument("--dry-run", action="store_true", help="a few steps on fake data, for tests")
    p.add_argument("--eval-only", action="store_true", help="evaluate the model in --output-dir on the test set")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="e.g. my-org/vqvae-mnist")
    return p.parse_args(argv)


def lr_factor(step: int, elapsed: float, args) -> float:
    """Linear warm-up, then cosine decay over whichever budget (steps or minutes) is closer to its end."""
    if step < args.warmup_steps:
        return (step + 1) / args.warmup_steps
    progress = min(1.0, max(step / args.max_steps, elapsed / (args.max_minutes * 60)))
    return args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def save_checkpoint(folder: Path, model, opt, step: int, elapsed: float, args) -> None:
    """Weights and buffers (the codebook and its EMA statistics) and Adam's moments in one safetensors file;
    counters and settings as JSON (no pickle)."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt_state = opt.state_dict()
    for idx, state in opt_state["state"].items():
        for k, v in state.items():
            tensors[f"opt.{idx}.{k}"] = torch.as_tensor(v).detach().cpu().contiguous()
    save_file(tensors, str(folder / "checkpoint.safetensors.tmp"))
    (folder / "checkpoint.safetensors.tmp").replace(folder / "checkpoint.safetensors")
    meta = {"step": step, "elapsed": elapsed, "param_groups": opt_state["param_groups"],
            "args": {k: v for k, v in vars(args).items() if isinstance(v, (int, float, str, bool, type(None)))}}
    (folder / "checkpoint.json").write_text(json.dumps(meta, indent=1))


def load_checkpoint(folder: Path, model, opt) -> tuple[int, float]:
    """Restore what ``save_checkpoint`` wrote (strict: every tensor must match); returns (step, elapsed seconds)."""
    from safetensors.torch import load_file

    tensors = load_file(str(Path(folder) / "checkpoint.safetensors"))
    meta = json.loads((Path(folder) / "checkpoint.json").read_text())
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True)
    state: dict = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, idx, name = k.split(".", 2)
            state.setdefault(int(idx), {})[name] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta["step"], meta["elapsed"]


@torch.inference_mode()
def evaluate(model: VQVAE, images: torch.Tensor, batch_size: int = 1000) -> dict:
    """Mean per-image PSNR (dB) and −log p(x|z_q) (nats) of the reconstructions through the codes, and how the
    codebook is used: counts per code (K,), perplexity exp(H), codes used, dead codes (used by no test digit)."""
    model.eval()
    sums, counts = torch.zeros(3, dtype=torch.float64), torch.zeros(model.codebook_size, dtype=torch.long)
    for start in range(0, images.shape[0], batch_size):
        x = images[start:start + batch_size]
        out = model(x)                                                       # eval mode: no codebook update
        sums += torch.stack([psnr(torch.sigmoid(out.logits), x).sum(), reconstruction_nll(out.logits, x).sum(),
                             out.codebook.sum()]).double()
        counts += torch.bincount(out.indices.flatten(), minlength=model.codebook_size)
    psnr_db, nll, codebook_term = (sums / images.shape[0]).tolist()
    return {"psnr": psnr_db, "nll": nll, "codebook_term": codebook_term, "counts": counts,
            "perplexity": perplexity(counts), "codes_used": int((counts > 0).sum()),
            "dead_codes": (counts == 0).nonzero().flatten().tolist()}


def metrics_table(r: dict, k: int) -> str:
    lines = ["| test digits | reconstruction PSNR | −log p(x∣z_q) | ‖sg[z_e] − e‖² (49 cells) | codebook perplexity "
             "| codes used |",
             "|---|---|---|---|---|---|",
             f"| {r['n']:,} | **{r['psnr']:.2f} dB** | {r['nll']:.2f} nats | {r['codebook_term']:.3f} | "
             f"{r['perplexity']:.1f} of {k} | {r['codes_used']} of {k} |"]
    if r["dead_codes"]:
        lines.append(f"\nCodes no test digit uses: {', '.join(map(str, r['dead_codes']))}.")
    return "\n".join(lines)


def save_usage(counts: torch.Tensor, folder: Path) -> None:
    """``codebook_usage.safetensors``: test_counts (K,) int64, how often each code occurs in the test digits."""
    save_file({"test_counts": counts.to(torch.int64).contiguous()}, str(Path(folder) / USAGE_FILE))


def training_command(args) -> str:
    return (f"python training/train_vqvae.py --max-minutes {args.max_minutes:g} --max-steps {args.max_steps} "
            f"--batch-size {args.batch_size} --lr {args.lr:g} --codebook-size {args.codebook_size} "
            f"--embedding-dim {args.embedding_dim} --channels {args.channels} --beta {args.beta:g} "
            f"--decay {args.decay:g} --seed {args.seed}")


def card(args, table: str, step: int, seconds: float, n_params: int) -> dict:
    k = args.codebook_size
    return {
        "title": "vqvae-mnist: a VQ-VAE that writes each MNIST digit as a 7×7 grid of codes",
        "description": (
            f"A convolutional VQ-VAE (van den Oord et al., 2017; {n_params / 1e3:.0f} k parameters) with a codebook "
            f"of K = {k} codes of dimension {args.embedding_dim}: each digit becomes 49 integers "
            f"(49·log2 {k} = {49 * math.log2(k):.0f} bits) and is decoded back by a Bernoulli decoder. Straight-"
            f"through gradients, commitment β = {args.beta:g}, codebook by exponential moving averages "
            f"(decay {args.decay:g}), dead codes restarted at encoder outputs. `{USAGE_FILE}` holds how often each "
            "code is used by the 10,000 MNIST test digits, for the app's codebook view. New digits: sample codes "
            "from `vqvae-mnist-prior` and decode them."
        ),
        "data": "MNIST (LeCun, Cortes & Burges), the 60,000 training images (grey levels in [0, 1] used as Bernoulli "
                "targets, no binarisation); figures on the 10,000 test images. MNIST is available under CC BY-SA 3.0.",
        "training_command": training_command(args) + f"  # {step} steps in {seconds / 60:.1f} min, "
                                                       f"{torch.get_num_threads()} CPU threads",
        "metrics": "On the full MNIST test set (mean per-image PSNR of the reconstructions through the codes; "
                   "perplexity = exp(entropy) of the code histogram of all test cells); reproduce with "
                   "`python training/train_vqvae.py --eval-only`.\n\n" + table,
        "usage": "from models.vqvae import VQVAE\n"
                 "model = VQVAE.from_pretrained(\"pretrained/vqvae-mnist\", strict=True).eval()\n"
                 "codes = model.encode(images)            # (B, 7, 7) long, images (B, 1, 28, 28) in [0, 1]\n"
                 "digits = model.decode_codes(codes)      # (B, 1, 28, 28) in [0, 1]",
    }


def main(args):
    from tqdm import tqdm

    t_launch = time.time()
    if args.threads:
        torch.set_num_threads(args.threads)
    generator = seed_everything(args.seed)
    if args.dry_run:
        train_x, _ = fake_mnist(512, generator)
        test_x, _ = fake_mnist(200, generator)
        args.max_steps = min(args.max_steps, 3)
        args.batch_size = min(args.batch_size, 16)
        args.warmup_steps = 1
    else:
        train_x, _ = load_mnist(args.data_dir, train=True)                     # (60000, 1, 28, 28) in [0, 1]
        test_x, _ = load_mnist(args.data_dir, train=False)                     # (10000, 1, 28, 28)

    if args.eval_only:
        model = VQVAE.from_pretrained(args.output_dir, strict=True)
        r = evaluate(model, test_x)
        print(metrics_table({**r, "n": len(test_x)}, model.codebook_size))
        return r

    model = VQVAE(codebook_size=args.codebook_size, embedding_dim=args.embedding_dim, channels=args.channels,
                  beta=args.beta, decay=args.decay)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step, elapsed_before = 0, 0.0
    if args.resume:
        step, elapsed_before = load_checkpoint(Path(args.resume), model, opt)
        print(f"resumed from {args.resume} at step {step} ({elapsed_before / 60:.1f} min done)")
    print(f"VQ-VAE: {n_params / 1e3:.0f} k parameters, K = {args.codebook_size}, D = {args.embedding_dim}, "
          f"{len(train_x)} training digits, {torch.get_num_threads()} threads")

    ckpt_dir = Path(args.checkpoint_dir)
    t_start = t_launch - elapsed_before
    last_ckpt = time.time()
    bar = tqdm(total=args.max_steps, initial=step, desc="vqvae", mininterval=5.0)
    running = None
    model.train()
    while step < args.max_steps and time.time() - t_start < args.max_minutes * 60:
        for group in opt.param_groups:
            group["lr"] = args.lr * lr_factor(step, time.time() - t_start, args)
        idx = torch.randint(0, train_x.shape[0], (args.batch_size,), generator=generator)
        x = train_x[idx]                                                       # (B, 1, 28, 28)
        out = model(x)                                    # also moves the codebook (EMA) and restarts dead codes
        recon = reconstruction_nll(out.logits, x)                              # (B,) −log p(x|z_q), nats
        loss = (recon + out.commitment).mean()                                 # + β‖z_e − sg[e]‖²
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        bar.update(1)
        stats = torch.tensor([recon.mean().item(), out.commitment.mean().item(), out.perplexity])
        running = stats if running is None else 0.95 * running + 0.05 * stats  # smoothed over ~20 batches
        if step % 25 == 0:
            bar.set_postfix(nll=f"{running[0]:.1f}", commit=f"{running[1]:.2f}", ppl=f"{running[2]:.1f}",
                            lr=f"{opt.param_groups[0]['lr']:.1e}", refresh=False)
        if time.time() - last_ckpt > args.checkpoint_minutes * 60:
            save_checkpoint(ckpt_dir, model, opt, step, time.time() - t_start, args)
            last_ckpt = time.time()
    bar.close()
    seconds = time.time() - t_start
    print(f"training stopped at step {step} after {seconds / 60:.1f} min")
    save_checkpoint(ckpt_dir, model, opt, step, seconds, args)

    r = {**evaluate(model, test_x), "n": len(test_x)}
    table = metrics_table(r, args.codebook_size)
    print(table)
    save_model(model, args.output_dir, card(args, table, step, seconds, n_params),
               lambda folder: save_usage(r["counts"], folder))
    print(f"saved {args.output_dir}")
    if args.push_to_hub:
        push_folder(args.output_dir, args.hub_repo_id)
    return r


if __name__ == "__main__":
    main(parse_args())
