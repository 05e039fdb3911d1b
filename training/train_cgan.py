"""Train the conditional GAN of the gallery on MNIST (slug ``cgan-mnist``): choose a digit, z draws its style.

Mirza & Osindero, "Conditional Generative Adversarial Nets", 2014 (arXiv:1411.1784). Both players are told
the class y: the generator G(z, y) and the discriminator D(x, y) (``models.conditional``), in the game

    min_G max_D  E_{x,y ~ data}[log D(x, y)] + E_{z ~ N(0, I), y ~ U{0..9}}[log(1 − D(G(z, y), y))].

D is a *projection discriminator* (Miyato & Koyama 2018): logit = ψ(φ(x)) + ⟨V y, φ(x)⟩, so a well-drawn 3
shown with the label "5" is fake to it, and G must draw the class it is asked for. The recipe is DCGAN's (Radford
et al. 2015) at 28×28: Adam (lr 2e-4, β1 = 0.5), batch 64, binary cross-entropy, the non-saturating generator loss
(G maximises log D(G(z, y), y)) and one-sided label smoothing (real digits have target 0.9, Salimans et al. 2016).
Unlike DCGAN, neither network uses BatchNorm (D has dropout instead): with BatchNorm in G, ours learnt within a few
hundred steps to ignore z and draw a single digit per class (a conditional GAN's typical mode collapse). The learning
rate decays (cosine, to 10 %) over whichever budget runs out first: ``--max-steps`` or ``--max-minutes``.
The generator that is shipped is the exponential moving average of G's weights (decay 0.999, as for
``dcgan-bedrooms``; Yazıcı et al. 2019), which smooths out the oscillation of the game.
``--mode-seeking λ`` adds the mode-seeking term of Mao et al. (CVPR 2019) to G's loss, another remedy for that
collapse (off by default: not needed without BatchNorm).

Every ``--checkpoint-minutes`` the weights and Adam's moments of both networks go to ``--checkpoint-dir``
(``generator/`` and ``discriminator/``), with ``samples_latest.png`` (column k: class k) and the share of 500
samples that ``mnist-classifier`` assigns to the asked-for class. The final figures
(``training/evaluate_conditional.py``: 1,000 digits per class) go into the model card, with ``samples_by_class.png``.

The AC-GAN (``training/train_acgan.py``) shares this training loop; only D and the losses differ.

Usage (from the project root)::

    python training/train_cgan.py --data-dir ../shared/data          # ~25 min (--max-minutes) on one CPU thread
    python training/train_cgan.py --eval-only                        # the figures of the saved generator
    python training/train_cgan.py --resume runs/cgan-mnist-ckpt      # continue from a checkpoint
    python training/train_cgan.py --dry-run --output-dir /tmp/cgan   # smoke test on fake data (seconds)
"""

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.conditional import NUM_CLASSES, ConditionalDiscriminator, ConditionalGenerator, one_hot  # noqa: E402
from training.common import PROJECT_ROOT, push_folder, save_model, seed_everything  # noqa: E402
from training.evaluate_conditional import (  # noqa: E402
    add_common_arguments,
    digits_by_class,
    load_classifier_and_data,
    measure,
    save_samples,
)
from training.train_dcgan import update_ema  # noqa: E402
from training.train_vqvae import load_checkpoint, lr_factor, save_checkpoint  # noqa: E402

EMA_FILE = "generator_ema.safetensors"  # in --checkpoint-dir


def add_gan_arguments(p: argparse.ArgumentParser, slug: str) -> argparse.ArgumentParser:
    """The options of both GAN scripts (this one and ``train_acgan.py``)."""
    add_common_arguments(p, slug, max_minutes=27.0, max_steps=9000, batch_size=64, lr=2e-4)
    p.add_argument("--beta1", type=float, default=0.5, help="Adam's β1 (DCGAN: 0.5)")
    p.add_argument("--min-lr-ratio", type=float, default=0.1, help="the cosine decay ends at lr × this")
    p.add_argument("--warmup-steps", type=int, default=0)
    p.add_argument("--real-label", type=float, default=0.9, help="D's target for real digits (one-sided smoothing)")
    p.add_argument("--nz", type=int, default=64, help="size of z")
    p.add_argument("--channels", type=int, default=32,
                   help="width c of G and D; 32 rather than the class default 64 buys ~2.5x more steps in the same "
                        "CPU time")
    p.add_argument("--ema-decay", type=float, default=0.999,
                   help="decay of the moving average of G's weights that is shipped (0: G itself)")
    p.add_argument("--mode-seeking", type=float, default=0.0,
                   help="weight λ of the mode-seeking term (Mao et al. 2019); 0 = the plain GAN loss")
    return p


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    return add_gan_arguments(p, "cgan-mnist").parse_args(argv)


def bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Binary cross-entropy of logits (B,) against one target for all (1 = real, 0 = fake)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def discriminator_loss(d: ConditionalDiscriminator, real, y_real, fake, y_fake, args) -> torch.Tensor:
    """−[log D(x, y) + log(1 − D(G(z, y'), y'))], real targets smoothed to ``args.real_label``."""
    return bce(d(real, one_hot(y_real)), args.real_label) + bce(d(fake, one_hot(y_fake)), 0.0)


def generator_loss(d: ConditionalDiscriminator, fake, y_fake) -> torch.Tensor:
    """The non-saturating loss −log D(G(z, y), y)."""
    return bce(d(fake, one_hot(y_fake)), 1.0)


@torch.inference_mode()
def class_match(g, classifier, per_class: int = 50, seed: int = 123) -> float:
    """The share of ``per_class`` samples of each class that the classifier assigns to the class asked for."""
    digits, asked = digits_by_class(g, g.nz, per_class, seed)
    return float((classifier.predict(digits)[2] == asked).float().mean())


def mode_seeking_loss(fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mao et al., "Mode Seeking GANs for Diverse Image Synthesis", CVPR 2019: the two halves of the batch are the
    same classes drawn from two different z; 1 / (mean |G(z1, y) − G(z2, y)| / mean |z1 − z2|) is small when two
    noises give two different digits. It kept our first generator (with BatchNorm) from ignoring z; off by default."""
    n = fake.shape[0] // 2
    ratio = (fake[:n] - fake[n:2 * n]).abs().mean() / (z[:n] - z[n:2 * n]).abs().mean()
    return 1.0 / (ratio + 1e-5)


def train_gan(args, g, d, d_loss, g_loss, train_x, train_y, classifier, generator, t_launch, desc: str):
    """The adversarial loop of both GAN scripts; returns (the EMA generator, steps done, seconds). Per step, with
    B = ``--batch-size``:

    1. D step: B real digits with their labels, and B fakes G(z, y') for random classes y' (detached from G; the
       second half of the batch asks for the same classes as the first), minimising
       ``d_loss(d, real, y_real, fake, y_fake, args)``;
    2. G step: the same fakes, now with G's gradient, minimising ``g_loss(d, fake, y_fake)`` + λ · the
       mode-seeking term (λ = ``--mode-seeking``);
    3. the exponential moving average of G's weights moves towards G (``training.train_dcgan.update_ema``, decay
       ``--ema-decay``): it averages out the oscillation of the game, and it is the generator that is shipped.
    """
    from tqdm import tqdm

    opt_g = torch.optim.Adam(g.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    ema = copy.deepcopy(g).requires_grad_(False).eval()
    step, elapsed_before = 0, 0.0
    if args.resume:
        step, elapsed_before = load_checkpoint(Path(args.resume) / "generator", g, opt_g)
        ema.load_state_dict(g.state_dict())  # a checkpoint written before the EMA existed: it starts from G
        if (Path(args.resume) / EMA_FILE).is_file():
            ema.load_state_dict(load_file(str(Path(args.resume) / EMA_FILE)), strict=True)
        args.resumed_at = step  # for the model card: the settings of the run that wrote the checkpoint
        args.resumed_args = json.loads((Path(args.resume) / "generator" / "checkpoint.json").read_text())["args"]
        load_checkpoint(Path(args.resume) / "discriminator", d, opt_d)
        print(f"resumed from {args.resume} at step {step} ({elapsed_before / 60:.1f} min done)")
    print(f"{desc}: G {sum(p.numel() for p in g.parameters()) / 1e3:.0f} k, D "
          f"{sum(p.numel() for p in d.parameters()) / 1e3:.0f} k parameters, {len(train_x)} training digits, "
          f"{torch.get_num_threads()} threads", flush=True)
    ckpt_dir = Path(args.checkpoint_dir)

    def checkpoint(seconds: float) -> None:
        save_checkpoint(ckpt_dir / "generator", g, opt_g, step, seconds, args)
        save_checkpoint(ckpt_dir / "discriminator", d, opt_d, step, seconds, args)
        save_file({k: v.contiguous() for k, v in ema.state_dict().items()}, str(ckpt_dir / EMA_FILE))
        with torch.inference_mode():
            save_samples({"samples": digits_by_class(ema, ema.nz, 10, 0)[0].reshape(10, 10, 1, 28, 28)
                          .transpose(0, 1).reshape(-1, 1, 28, 28)}, ckpt_dir, "samples_latest.png")
        tqdm.write(f"step {step} ({step * args.batch_size / len(train_x):.1f} epochs, {seconds / 60:.1f} min): "
                   f"{100 * class_match(ema, classifier):.1f} % of 500 samples of the EMA generator have the "
                   "asked-for class")

    t_start = t_launch - elapsed_before
    last_ckpt = time.time()
    bar = tqdm(total=args.max_steps, initial=step, desc=desc, mininterval=10.0)
    g.train()
    d.train()
    while step < args.max_steps and time.time() - t_start < args.max_minutes * 60:
        for opt in (opt_g, opt_d):
            for group in opt.param_groups:
                group["lr"] = args.lr * lr_factor(step, time.time() - t_start, args)
        idx = torch.randint(0, train_x.shape[0], (args.batch_size,), generator=generator)
        real, y_real = train_x[idx], train_y[idx]                              # (B, 1, 28, 28) in [0, 1], (B,)
        z = torch.randn(args.batch_size, g.nz, generator=generator)
        half = torch.randint(0, NUM_CLASSES, (args.batch_size // 2,), generator=generator)
        y_fake = torch.cat([half, half])                                       # pairs: same class, two z
        fake = g(z, one_hot(y_fake))                                           # (B, 1, 28, 28)
        loss_d = d_loss(d, real, y_real, fake.detach(), y_fake, args)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = g_loss(d, fake, y_fake) + args.mode_seeking * mode_seeking_loss(fake, z)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        update_ema(ema, g, step, args.ema_decay)
        step += 1
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(d=f"{loss_d.item():.3f}", g=f"{loss_g.item():.3f}",
                            lr=f"{opt_g.param_groups[0]['lr']:.1e}", refresh=False)
        if time.time() - last_ckpt > args.checkpoint_minutes * 60:
            checkpoint(time.time() - t_start)
            last_ckpt = time.time()
    bar.close()
    seconds = time.time() - t_start
    print(f"training stopped at step {step} ({step * args.batch_size / len(train_x):.1f} epochs) after "
          f"{seconds / 60:.1f} min", flush=True)
    checkpoint(seconds)
    d.eval()
    return ema, step, seconds


def gan_command(args, script: str, step: int, seconds: float) -> str:
    """The command line of a GAN run, for its model card (two lines when it continued a checkpoint)."""
    def command(a: dict) -> str:
        return (f"python training/{script} --max-minutes {a['max_minutes']:g} --max-steps {a['max_steps']} "
                f"--batch-size {a['batch_size']} --lr {a['lr']:g} --nz {a['nz']} --channels {a['channels']} "
                f"--real-label {a['real_label']:g} --mode-seeking {a['mode_seeking']:g} "
                f"--ema-decay {a.get('ema_decay', 0):g} --seed {a['seed']}")  # (runs without the option had no EMA)

    first = ""
    if getattr(args, "resumed_at", None):  # the run that wrote the checkpoint, then this one
        first = f"{command(args.resumed_args)}  # steps 1–{args.resumed_at}\n"
    resume = ""
    if args.resume:
        folder = Path(args.resume).resolve()
        resume = f" --resume {folder.relative_to(PROJECT_ROOT) if folder.is_relative_to(PROJECT_ROOT) else folder}"
    return (f"{first}{command(vars(args))}{resume}  # {step} steps ({step * args.batch_size / 60000:.1f} epochs) in "
            f"{seconds / 60:.1f} min in all, {torch.get_num_threads()} CPU thread(s)")


GAN_DATA = ("MNIST (LeCun, Cortes & Burges): the 60,000 training images with their labels; figures on the 10,000 test "
            "images. MNIST is available under CC BY-SA 3.0.")


def card(args, metrics: str, step: int, seconds: float) -> dict:
    return {
        "title": "cgan-mnist: a conditional GAN that draws the MNIST digit you ask for",
        "description": (
            "The generator G(z, y) of a conditional GAN (Mirza & Osindero 2014; `models.conditional."
            f"ConditionalGenerator`, nz = {args.nz}, channels = {args.channels}), trained against a projection "
            "discriminator D(x, y) (Miyato & Koyama 2018) with DCGAN's recipe at 28×28, without BatchNorm; the "
            f"weights are a moving average (decay {args.ema_decay:g}) of G's. y is one-hot (or a mixture "
            "of two one-hot vectors) and enters through a linear layer; z ~ N(0, I) draws the style. Output: white "
            "digits on black in [0, 1]. `samples_by_class.png`: column k asks for class k."),
        "data": GAN_DATA,
        "training_command": gan_command(args, "train_cgan.py", step, seconds),
        "metrics": metrics,
        "usage": "from models.conditional import ConditionalGenerator, one_hot, z_batch\n"
                 "G = ConditionalGenerator.from_pretrained(\"pretrained/cgan-mnist\", strict=True).eval()\n"
                 "y = one_hot(torch.full((16,), 3))            # sixteen threes\n"
                 "digits = G(z_batch(0, 16, G.nz), y)          # (16, 1, 28, 28) in [0, 1]",
    }


def main(args):
    t_launch = time.time()
    if args.threads:
        torch.set_num_threads(args.threads)
    generator = seed_everything(args.seed)
    classifier, test_x, test_y, train_x, train_y = load_classifier_and_data(args)   # (N, 1, 28, 28) in [0, 1], (N,)
    if args.dry_run:
        args.max_steps, args.batch_size = min(args.max_steps, 3), min(args.batch_size, 16)

    if args.eval_only:
        g = ConditionalGenerator.from_pretrained(args.output_dir, strict=True).eval()
        return measure("cgan", g, classifier, test_x, test_y, train_x, train_y, args)[0]

    g = ConditionalGenerator(nz=args.nz, channels=args.channels)
    d = ConditionalDiscriminator(channels=args.channels)
    g, step, seconds = train_gan(args, g, d, discriminator_loss, generator_loss, train_x, train_y, classifier,
                                 generator, t_launch, "cgan")
    r, metrics = measure("cgan", g, classifier, test_x, test_y, train_x, train_y, args)
    save_model(g, args.output_dir, card(args, metrics, step, seconds), lambda f: save_samples(r, f))
    print(f"saved {args.output_dir}")
    if args.push_to_hub:
        push_folder(args.output_dir, args.hub_repo_id)
    return {**r, "step": step}


if __name__ == "__main__":
    main(parse_args())
