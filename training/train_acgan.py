"""Train the AC-GAN of the gallery on MNIST (slugs ``acgan-mnist`` and ``acgan-mnist-discriminator``).

Odena, Olah & Shlens, "Conditional Image Synthesis with Auxiliary Classifier GANs", ICML 2017
(arXiv:1610.09585). The generator G(z, c) is told the class c, as in the conditional GAN; the discriminator is
not: it sees only the digit and answers two questions (``models.conditional.ACGANDiscriminator``), P(S | x),
real or fake, and P(C | x), which class. With the log-likelihoods of the right source and of the right class,

    L_S = E[log P(S = real | x_real)] + E[log P(S = fake | x_fake)]
    L_C = E[log P(C = c | x_real)]    + E[log P(C = c | x_fake)]

D is trained to maximise L_S + L_C and G to maximise L_C − L_S. In practice both minimise cross-entropies:
D the binary cross-entropy of the source head (real digits with target 0.9, one-sided label smoothing) plus the
class cross-entropy on real *and* generated digits; G the non-saturating source loss −log P(S = real | G(z, c))
plus the class cross-entropy of its digits, i.e. G is rewarded for digits the class head recognises as c.

The training loop, the recipe (Adam lr 2e-4, β1 = 0.5, batch 64, cosine decay to 10 %, no BatchNorm) and the
checkpoints and the moving average of G's weights that is shipped are those of ``training/train_cgan.py``. Both
networks are shipped: G, and D, whose verdict (P(real), class guess) the app shows under the samples; D's card
reports its class accuracy on the real test digits.

Usage (from the project root)::

    python training/train_acgan.py --data-dir ../shared/data          # ~25 min (--max-minutes) on one CPU thread
    python training/train_acgan.py --eval-only                        # the figures of the saved networks
    python training/train_acgan.py --resume runs/acgan-mnist-ckpt     # continue from a checkpoint
    python training/train_acgan.py --dry-run --output-dir /tmp/acgan --discriminator-output-dir /tmp/acgan-d
"""

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.conditional import ACGANDiscriminator, ConditionalGenerator  # noqa: E402
from training.common import PROJECT_ROOT, push_folder, save_model, seed_everything  # noqa: E402
from training.evaluate_conditional import load_classifier_and_data, measure, save_samples  # noqa: E402
from training.train_cgan import GAN_DATA, add_gan_arguments, bce, gan_command, train_gan  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_gan_arguments(p, "acgan-mnist")
    p.add_argument("--discriminator-output-dir", default=str(PROJECT_ROOT / "pretrained" / "acgan-mnist-discriminator"))
    p.add_argument("--discriminator-hub-repo-id", help="e.g. my-org/acgan-mnist-discriminator")
    return p.parse_args(argv)


def discriminator_loss(d: ACGANDiscriminator, real, y_real, fake, y_fake, args) -> torch.Tensor:
    """−(L_S + L_C): source cross-entropy (real targets smoothed) plus class cross-entropy on real and fake digits."""
    s_real, c_real = d(real)
    s_fake, c_fake = d(fake)
    return (bce(s_real, args.real_label) + bce(s_fake, 0.0)
            + F.cross_entropy(c_real, y_real) + F.cross_entropy(c_fake, y_fake))


def generator_loss(d: ACGANDiscriminator, fake, y_fake) -> torch.Tensor:
    """−L_C with the non-saturating source term: −log P(S = real | G(z, c)) − log P(C = c | G(z, c))."""
    s_fake, c_fake = d(fake)
    return bce(s_fake, 1.0) + F.cross_entropy(c_fake, y_fake)


@torch.inference_mode()
def judge_discriminator(d: ACGANDiscriminator, test_x, test_y, r: dict) -> dict:
    """D's verdicts: its class head's accuracy on the real test digits and on G's digits (asked-for class), and its
    mean P(real) on real test digits and on G's digits (``r["samples"]`` of the evaluation: 10 per class)."""
    d.eval()
    s_real, c_real = d(test_x)
    s_fake, c_fake = d(r["samples"])
    asked = torch.arange(len(r["samples"])) % 10                                # samples_by_class: column k is class k
    return {"test_class_accuracy": float((c_real.argmax(1) == test_y).float().mean()),
            "fake_class_accuracy": float((c_fake.argmax(1) == asked).float().mean()),
            "p_real_on_real": float(torch.sigmoid(s_real).mean()),
            "p_real_on_fake": float(torch.sigmoid(s_fake).mean())}


def card(args, metrics: str, step: int, seconds: float) -> dict:
    return {
        "title": "acgan-mnist: an AC-GAN generator that draws the MNIST digit you ask for",
        "description": (
            "The generator G(z, c) of an AC-GAN (Odena, Olah & Shlens 2017; `models.conditional."
            f"ConditionalGenerator`, nz = {args.nz}, channels = {args.channels}), trained against a discriminator "
            "with an auxiliary classifier head (`acgan-mnist-discriminator`) with DCGAN's recipe at 28×28, without "
            f"BatchNorm; the weights are a moving average (decay {args.ema_decay:g}) of G's. c is "
            "one-hot (or a mixture of two one-hot vectors) and enters through a linear layer; z ~ N(0, I) draws the "
            "style. Output: white digits on black in [0, 1]. `samples_by_class.png`: column k asks for class k."),
        "data": GAN_DATA,
        "training_command": gan_command(args, "train_acgan.py", step, seconds),
        "metrics": metrics,
        "usage": "from models.conditional import ConditionalGenerator, one_hot, z_batch\n"
                 "G = ConditionalGenerator.from_pretrained(\"pretrained/acgan-mnist\", strict=True).eval()\n"
                 "y = one_hot(torch.full((16,), 3))            # sixteen threes\n"
                 "digits = G(z_batch(0, 16, G.nz), y)          # (16, 1, 28, 28) in [0, 1]",
    }


def discriminator_card(args, v: dict, step: int, seconds: float) -> dict:
    return {
        "title": "acgan-mnist-discriminator: the AC-GAN's discriminator, real/fake and which digit",
        "description": (
            "The discriminator of `acgan-mnist` (`models.conditional.ACGANDiscriminator`, channels = "
            f"{args.channels}): one conv body, two heads: P(real | x) = sigmoid(real_logit) and P(class | x) = "
            "softmax(class_logits). It was trained to tell real digits from the generator's and to classify both; "
            "it is shipped so that the app can show its verdict on generated digits. It is not a good detector of "
            "fakes after training (the generator learnt to fool it), nor a substitute for `mnist-classifier`."),
        "data": GAN_DATA,
        "training_command": gan_command(args, "train_acgan.py", step, seconds),
        "metrics": (
            f"Class head: **{100 * v['test_class_accuracy']:.2f} %** accuracy on the 10,000 MNIST test digits, "
            f"{100 * v['fake_class_accuracy']:.1f} % agreement with the asked-for class on 100 generated digits "
            f"(10 per class). Mean P(real): {v['p_real_on_real']:.3f} on the real test digits, "
            f"{v['p_real_on_fake']:.3f} on the generated ones. Reproduce with "
            "`python training/train_acgan.py --eval-only`."),
        "usage": "from models.conditional import ACGANDiscriminator\n"
                 "D = ACGANDiscriminator.from_pretrained(\"pretrained/acgan-mnist-discriminator\",\n"
                 "                                       strict=True).eval()\n"
                 "real_logit, class_logits = D(digits)       # digits (B, 1, 28, 28) in [0, 1]\n"
                 "p_real, p_class = torch.sigmoid(real_logit), class_logits.softmax(1)",
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
        d = ACGANDiscriminator.from_pretrained(args.discriminator_output_dir, strict=True).eval()
        r = measure("acgan", g, classifier, test_x, test_y, train_x, train_y, args)[0]
        print(judge_discriminator(d, test_x, test_y, r))
        return r

    g = ConditionalGenerator(nz=args.nz, channels=args.channels)
    d = ACGANDiscriminator(channels=args.channels)
    g, step, seconds = train_gan(args, g, d, discriminator_loss, generator_loss, train_x, train_y, classifier,
                                 generator, t_launch, "acgan")
    r, metrics = measure("acgan", g, classifier, test_x, test_y, train_x, train_y, args)
    verdicts = judge_discriminator(d, test_x, test_y, r)
    print(verdicts)
    save_model(g, args.output_dir, card(args, metrics, step, seconds), lambda f: save_samples(r, f))
    save_model(d, args.discriminator_output_dir, discriminator_card(args, verdicts, step, seconds))
    print(f"saved {args.output_dir} and {args.discriminator_output_dir}")
    if args.push_to_hub:
        push_folder(args.output_dir, args.hub_repo_id)
        push_folder(args.discriminator_output_dir, args.discriminator_hub_repo_id)
    return {**r, **verdicts, "step": step}


if __name__ == "__main__":
    main(parse_args())
