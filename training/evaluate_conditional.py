"""Measure the conditional digit generators (``cgan-mnist``, ``acgan-mnist``, ``cvae-mnist``) with the MNIST classifier.

A conditional generator is asked for a class, so besides "are these good digits?" we can check "are they the digits
we asked for?". Each model draws ``--per-class`` digits of every class (1,000 × 10 by default, z from the fixed seeds
``--seed + k`` for class k, so every run judges the same digits), and ``pretrained/mnist-classifier`` judges them:

* **class accuracy**: the share of digits that the classifier calls the class we asked for;
* **confident**: the share classified with probability ≥ 0.9 (recognisable digits), with the class shares, as in
  ``training/evaluate_ddpm.py`` (``judge``);
* **Fréchet distance** between Gaussians fitted to the classifier's penultimate features of the digits and of the
  10,000 MNIST test digits (the idea of FID with an MNIST network: not comparable with published FIDs);
* **within-class diversity**: the mean distance between the features of two digits of the same class (asked-for
  class for generated digits, true class for real ones), averaged over the classes, and its ratio to the same figure
  for the real test digits. A generator that draws one "3" a thousand times has a perfect class accuracy and a ratio
  near 0 (mode collapse *within* a class); real digits have ratio 1.

Reference rows: the 10,000 real test digits (their Fréchet distance to themselves is 0, their class accuracy is the
classifier's test accuracy) and 10,000 real training digits (the Fréchet distance a perfect generator would reach).

Usage (from the project root)::

    python training/evaluate_conditional.py                     # the three shipped models, ~2 min on one CPU thread
    python training/evaluate_conditional.py --models cvae --per-class 200
    python training/evaluate_conditional.py --models cgan,acgan --truncation 1.25   # the tab's default ψ for the GANs
    python training/evaluate_conditional.py --dry-run           # tiny random models and fake data (tests)

``--truncation ψ``: the truncation trick (``models.conditional.z_batch``): each coordinate of z is drawn from a normal
truncated to [−ψ, ψ]. It trades variety (within-class diversity falls) for typical, readable digits (class accuracy
rises); the figures without it are those of plain z ~ N(0, I).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.conditional import NUM_CLASSES, ConditionalGenerator, ConditionalVAE, one_hot, z_batch  # noqa: E402
from models.frechet import gaussian_stats  # noqa: E402
from models.imaging import grid, to_pil  # noqa: E402
from models.mnist_classifier import MnistClassifier  # noqa: E402
from training.common import DEFAULT_DATA_DIR, PROJECT_ROOT, fake_mnist, load_mnist  # noqa: E402
from training.evaluate_ddpm import CONFIDENCE, judge  # noqa: E402

EVAL_SEED = 10_000  # class k is drawn from z_batch(EVAL_SEED + k, ...): the same digits in every run
MODELS = {  # name on the command line: (slug, class, how a model turns (z, y) into digits)
    "cgan": ("cgan-mnist", ConditionalGenerator, lambda m, z, y: m(z, y)),
    "acgan": ("acgan-mnist", ConditionalGenerator, lambda m, z, y: m(z, y)),
    "cvae": ("cvae-mnist", ConditionalVAE, lambda m, z, y: m.decode(z, y)),
}
TARGETS = {"cgan": 0.95, "acgan": 0.97, "cvae": 0.95}  # class accuracy the issue asks for


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing MNIST/raw")
    p.add_argument("--pretrained-dir", default=str(PROJECT_ROOT / "pretrained"), help="holds the <slug> folders")
    p.add_argument("--classifier", default=str(PROJECT_ROOT / "pretrained" / "mnist-classifier"))
    p.add_argument("--models", default="cgan,acgan,cvae", help="comma-separated: " + ",".join(MODELS))
    p.add_argument("--per-class", type=int, default=1000, help="generated digits per class")
    p.add_argument("--seed", type=int, default=EVAL_SEED)
    p.add_argument("--truncation", type=float, default=None,
                   help="ψ of the truncation trick: z drawn from N(0, I) truncated to [−ψ, ψ] (default: none)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--out-json", default=None, help="write the figures here")
    p.add_argument("--dry-run", action="store_true", help="tiny random models and fake data (tests)")
    return p.parse_args(argv)


def nz_of(model) -> int:
    """The length of the z a conditional model takes (``nz`` of a generator, ``latent_dim`` of the cVAE)."""
    return model.nz if hasattr(model, "nz") else model.latent_dim


@torch.inference_mode()
def digits_by_class(sample, nz: int, per_class: int, seed: int, batch_size: int = 500,
                    truncation: float | None = None):
    """``per_class`` digits of each class: (digits (10·per_class, 1, 28, 28) in [0, 1], asked-for classes
    (10·per_class,)). Class k uses z = z_batch(seed + k, per_class, nz, truncation); ``sample(z, y)`` turns noise and
    one-hot classes into digits."""
    out, asked = [], []
    for k in range(NUM_CLASSES):
        z = z_batch(seed + k, per_class, nz, truncation)
        labels = torch.full((per_class,), k, dtype=torch.long)
        out += [sample(z[s:s + batch_size], one_hot(labels[s:s + batch_size])) for s in range(0, per_class, batch_size)]
        asked.append(labels)
    return torch.cat(out).clamp(0, 1), torch.cat(asked)


def within_class_diversity(features: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean Euclidean distance between the features of two different digits of the same class, averaged over classes."""
    means = [torch.pdist(features[labels == k].double()).mean() for k in labels.unique() if (labels == k).sum() > 1]
    return float(torch.stack(means).mean())


class _Answered:
    """Stands in for the classifier in ``judge``: hands back answers computed once (predicting twice costs time)."""

    def __init__(self, answers):
        self.answers = answers

    def predict(self, digits):
        return self.answers


class Reference:
    """What generated digits are compared with: the classifier's features of the real test digits."""

    def __init__(self, classifier: MnistClassifier, test_x: torch.Tensor, test_y: torch.Tensor):
        self.classifier = classifier.eval()
        self.test_x, self.test_y = test_x, test_y
        _, feats, _ = classifier.predict(test_x)
        self.stats = gaussian_stats(feats.double())
        self.diversity = within_class_diversity(feats, test_y)

    def judge(self, digits: torch.Tensor, asked: torch.Tensor) -> dict:
        """``judge``'s figures (confident share, class shares, Fréchet distance) plus class accuracy and diversity."""
        answers = self.classifier.predict(digits)
        probs, feats, labels = answers
        diversity = within_class_diversity(feats, asked)
        return {**judge(_Answered(answers), digits, self.stats), "n": len(digits),
                "class_accuracy": float((labels == asked).float().mean()),
                "diversity": diversity, "diversity_ratio": diversity / self.diversity}


def evaluate_model(model, sample, reference: Reference, per_class: int, seed: int = EVAL_SEED,
                   truncation: float | None = None) -> dict:
    """Figures of a conditional model: ``per_class`` digits of each class (z truncated to [−ψ, ψ] with
    ``truncation`` ψ) judged against ``reference``; the first ten of each class are kept in ``"samples"`` (100
    digits, class by class) for a picture."""
    model.eval()
    start = time.time()
    digits, asked = digits_by_class(lambda z, y: sample(model, z, y), nz_of(model), per_class, seed,
                                    truncation=truncation)
    seconds = time.time() - start
    r = reference.judge(digits, asked)
    r["generate_seconds"] = seconds
    r["samples"] = digits.reshape(NUM_CLASSES, per_class, 1, 28, 28)[:, :10].transpose(0, 1).reshape(-1, 1, 28, 28)
    return r


def reference_rows(reference: Reference, train_x: torch.Tensor, train_y: torch.Tensor, n: int, seed: int) -> dict:
    """The real test digits against themselves, and ``n`` real training digits (the floor of the Fréchet distance)."""
    pick = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(seed))[:n]
    return {f"real MNIST test digits ({len(reference.test_x):,})": reference.judge(reference.test_x, reference.test_y),
            f"real MNIST training digits ({len(pick):,})": reference.judge(train_x[pick], train_y[pick])}


def save_samples(r: dict, folder: Path, name: str = "samples_by_class.png") -> None:
    """A 10×10 picture of ``r["samples"]``: column k shows class k."""
    to_pil(grid(r["samples"], nrow=NUM_CLASSES, pad=2, background=128, border=True)).save(Path(folder) / name)


def table(rows: dict) -> str:
    """The figures as a markdown table, one row per model (or reference)."""
    lines = [f"| digits | class accuracy | confident (p ≥ {CONFIDENCE:g}) | class shares min–max | Fréchet distance "
             "(classifier features) | within-class diversity (ratio to real) |", "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {100 * r['class_accuracy']:.1f} % | {100 * r['confident_share']:.1f} % | "
                     f"{100 * r['min_class_share']:.1f}–{100 * r['max_class_share']:.1f} % | "
                     f"{r['frechet_distance']:.2f} | {r['diversity']:.2f} ({100 * r['diversity_ratio']:.0f} %) |")
    return "\n".join(lines)


def card_metrics(name: str, r: dict, reference: dict, per_class: int, command: str) -> str:
    """The "Measured quality" text of a model card: how it was measured, and the table with the reference rows."""
    return (f"{per_class:,} digits of each class (z from the fixed seeds of `training/evaluate_conditional.py`), "
            "judged by `mnist-classifier`: class accuracy = the share it assigns to the class asked for; confident = "
            f"classified with p ≥ {CONFIDENCE:g}; Fréchet distance on its penultimate features vs the 10,000 test "
            "digits (not comparable with published FIDs); within-class diversity = mean feature distance between two "
            f"digits of the same class. Reproduce with `{command}`.\n\n" + table({name: r, **reference}))


def load_classifier_and_data(args):
    """(classifier, test_x, test_y, train_x, train_y): the real ones, or tiny random stand-ins with ``--dry-run``."""
    if args.dry_run:
        torch.manual_seed(0)
        g = torch.Generator().manual_seed(0)
        return (MnistClassifier(channels=4, feature_dim=16).eval(), *fake_mnist(200, g), *fake_mnist(200, g))
    classifier = MnistClassifier.from_pretrained(args.classifier, strict=True).eval()
    return (classifier, *load_mnist(args.data_dir, train=False), *load_mnist(args.data_dir, train=True))


# --- shared by the three training scripts (train_cgan.py, train_acgan.py, train_cvae.py) ----------------------------

def add_common_arguments(p: argparse.ArgumentParser, slug: str, max_minutes: float, max_steps: int, batch_size: int,
                         lr: float) -> argparse.ArgumentParser:
    """The options every conditional training script has, with its own defaults."""
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing MNIST/raw")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / slug))
    p.add_argument("--checkpoint-dir", default=str(PROJECT_ROOT / "runs" / f"{slug}-ckpt"))
    p.add_argument("--resume", default=None, help="a --checkpoint-dir to continue from")
    p.add_argument("--max-minutes", type=float, default=max_minutes, help="wall-time budget of the training loop")
    p.add_argument("--max-steps", type=int, default=max_steps)
    p.add_argument("--checkpoint-minutes", type=float, default=3.0)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--classifier", default=str(PROJECT_ROOT / "pretrained" / "mnist-classifier"),
                   help="the judge of the final figures")
    p.add_argument("--per-class", type=int, default=1000, help="generated digits per class in the final figures")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads. 1 by default: on a 2-core machine shared with other work, two threads "
                        "wait for each other; 0 = torch's default (all cores), faster on an idle machine")
    p.add_argument("--dry-run", action="store_true", help="a few steps on fake data and a tiny judge, for tests")
    p.add_argument("--eval-only", action="store_true", help="the figures of the model in --output-dir")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help=f"e.g. my-org/{slug}")
    return p


def measure(key: str, model, classifier, test_x, test_y, train_x, train_y, args) -> tuple[dict, str]:
    """The final figures of a freshly trained (or ``--eval-only``) model: (its row, the model card's metrics text)."""
    slug, _, sample = MODELS[key]
    reference = Reference(classifier, test_x, test_y)
    per_class = min(args.per_class, 10) if args.dry_run else args.per_class
    r = evaluate_model(model, sample, reference, per_class)
    name = f"{slug} ({NUM_CLASSES * per_class:,})"
    text = card_metrics(name, r, reference_rows(reference, train_x, train_y, len(test_x), EVAL_SEED), per_class,
                        f"python training/evaluate_conditional.py --models {key}")
    print(text.split("\n\n", 1)[1], flush=True)
    return r, text


def main(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    classifier, test_x, test_y, train_x, train_y = load_classifier_and_data(args)
    if args.dry_run:
        args.per_class = min(args.per_class, 10)
    reference = Reference(classifier, test_x, test_y)
    rows = {}
    for key in args.models.split(","):
        slug, cls, sample = MODELS[key]
        folder = Path(args.pretrained_dir) / slug
        if args.dry_run:
            torch.manual_seed(0)
            model = cls(8, 4) if cls is ConditionalGenerator else cls(4, 32)
        elif not (folder / "model.safetensors").is_file():
            print(f"{folder}: no model.safetensors, skipped")
            continue
        else:
            model = cls.from_pretrained(folder, strict=True)
        r = evaluate_model(model, sample, reference, args.per_class, args.seed, truncation=args.truncation)
        psi = f", ψ = {args.truncation:g}" if args.truncation is not None else ""
        rows[f"{slug} ({NUM_CLASSES * args.per_class:,}{psi})"] = r
        verdict = "meets" if r["class_accuracy"] >= TARGETS[key] else "MISSES"
        print(f"{slug}: class accuracy {100 * r['class_accuracy']:.1f} % ({verdict} the target "
              f"{100 * TARGETS[key]:.0f} %), {r['generate_seconds']:.1f} s to draw {r['n']:,} digits",
              flush=True)
    rows.update(reference_rows(reference, train_x, train_y, len(test_x), args.seed))
    print(table(rows))
    if args.out_json:
        Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out_json).write_text(json.dumps(
            {"args": vars(args), "rows": {k: {n: v for n, v in r.items() if n != "samples"} for k, r in rows.items()}},
            indent=1))
    return rows


if __name__ == "__main__":
    main(parse_args())
