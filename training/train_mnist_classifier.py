"""Train the small MNIST classifier that judges generated digits (slug ``mnist-classifier``).

A plain CNN (``models.mnist_classifier.MnistClassifier``) trained with cross-entropy, AdamW and a
one-cycle learning rate, on the 60,000 training digits with light random affine augmentation
(rotation ±10°, shift ±2 px, scale 0.9–1.1) done on the device. It must reach ≥ 99 % accuracy on the
10,000 test digits; its confidence, class shares and penultimate features then measure the DDPM's
samples (``training/evaluate_ddpm.py``).

Usage (from the project root)::

    python training/train_mnist_classifier.py --data-dir ../shared/data            # CPU: ~10 min on 2 cores
    python training/train_mnist_classifier.py --device cuda --max-minutes 5        # GPU: well under a minute
    python training/train_mnist_classifier.py --eval-only                         # test accuracy of the saved model
    python training/train_mnist_classifier.py --dry-run --output-dir /tmp/clf      # smoke test on fake data
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.mnist_classifier import MnistClassifier  # noqa: E402
from training.common import (  # noqa: E402
    DEFAULT_DATA_DIR,
    PROJECT_ROOT,
    fake_mnist,
    load_mnist,
    push_folder,
    save_model,
    seed_everything,
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing MNIST/raw")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / "mnist-classifier"))
    p.add_argument("--checkpoint-dir", default=None, help="where to write a checkpoint after every epoch")
    p.add_argument("--resume", default=None, help="a --checkpoint-dir to continue from")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--max-minutes", type=float, default=60.0, help="stop after this much training time (then save)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--feature-dim", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dry-run", action="store_true", help="a few steps on fake data, for tests")
    p.add_argument("--eval-only", action="store_true", help="test accuracy of the model in --output-dir")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="e.g. my-org/mnist-classifier")
    return p.parse_args(argv)


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random affine per digit (rotation ±10°, shift ±2 px, scale 0.9–1.1) with one grid_sample call."""
    n = x.shape[0]
    r = lambda lo, hi: lo + (hi - lo) * torch.rand(n, generator=generator, device=generator.device)  # noqa: E731
    angle, scale = r(-math.pi / 18, math.pi / 18), r(0.9, 1.1)
    tx, ty = r(-2 / 14, 2 / 14), r(-2 / 14, 2 / 14)  # grid units: 1 = half the image (14 px)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


@torch.inference_mode()
def accuracy(model, images, labels, batch_size: int = 1000) -> float:
    model.eval()
    correct = 0
    for start in range(0, images.shape[0], batch_size):
        correct += (model(images[start:start + batch_size]).argmax(1) == labels[start:start + batch_size]).sum().item()
    return correct / images.shape[0]


def save_checkpoint(folder: Path, model, opt, sched, epoch: int, elapsed: float) -> None:
    """Weights + optimiser moments as safetensors, counters as JSON (no pickle)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for idx, state in opt.state_dict()["state"].items():
        for k, v in state.items():
            tensors[f"opt.{idx}.{k}"] = torch.as_tensor(v).detach().cpu().contiguous()
    save_file(tensors, str(folder / "checkpoint.safetensors.tmp"))
    (folder / "checkpoint.safetensors.tmp").replace(folder / "checkpoint.safetensors")
    meta = {"epoch": epoch, "elapsed": elapsed, "param_groups": opt.state_dict()["param_groups"],
            "scheduler": {k: v for k, v in sched.state_dict().items() if isinstance(v, (int, float, list))}}
    (folder / "checkpoint.json").write_text(json.dumps(meta))


def load_checkpoint(folder: Path, model, opt, sched) -> tuple[int, float]:
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
    sched_state = sched.state_dict()
    sched_state.update(meta["scheduler"])
    sched.load_state_dict(sched_state)
    return meta["epoch"], meta["elapsed"]


def card(args, acc: float, seconds: float, epochs_done: int) -> dict:
    return {
        "title": "mnist-classifier: a small CNN that judges generated MNIST digits",
        "description": "Two conv blocks and an MLP head (`models.mnist_classifier.MnistClassifier`). The gallery "
                       "uses its confidence, predicted classes and penultimate-layer features to measure generated "
                       "digits (e.g. the DDPM of `ddpm-mnist`): share of confident samples, class balance and a "
                       "Fréchet distance.",
        "data": "MNIST (LeCun, Cortes & Burges): trained on the 60,000 training images, measured on the 10,000 test "
                "images. MNIST is available under CC BY-SA 3.0.",
        "training_command": f"python training/train_mnist_classifier.py --epochs {args.epochs} --seed {args.seed} "
                            f"--device {args.device}  # {epochs_done} epochs, {seconds / 60:.1f} min",
        "metrics": f"Test accuracy: **{acc * 100:.2f} %** on the 10,000 MNIST test digits; reproduce with "
                   "`python training/train_mnist_classifier.py --eval-only`.",
        "usage": "from models.mnist_classifier import MnistClassifier\n"
                 "model = MnistClassifier.from_pretrained(\"pretrained/mnist-classifier\", strict=True).eval()",
    }


def main(args):
    from tqdm import tqdm

    seed_everything(args.seed)
    device = torch.device(args.device)
    generator = torch.Generator(device=device).manual_seed(args.seed)
    if args.dry_run:
        cpu_gen = torch.Generator().manual_seed(args.seed)
        train_x, train_y = fake_mnist(512, cpu_gen)
        test_x, test_y = fake_mnist(200, cpu_gen)
        args.epochs = min(args.epochs, 1)
    else:
        train_x, train_y = load_mnist(args.data_dir, train=True)
        test_x, test_y = load_mnist(args.data_dir, train=False)
    # The whole data set lives on the device as one tensor: (60000, 1, 28, 28) float in [0, 1].
    train_x, train_y, test_x, test_y = (t.to(device) for t in (train_x, train_y, test_x, test_y))

    if args.eval_only:
        model = MnistClassifier.from_pretrained(args.output_dir, strict=True).to(device)
        print(f"test accuracy {accuracy(model, test_x, test_y) * 100:.2f} %")
        return

    model = MnistClassifier(channels=args.channels, feature_dim=args.feature_dim).to(device)
    steps_per_epoch = max(1, train_x.shape[0] // args.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch)
    start_epoch, elapsed = 0, 0.0
    if args.resume:
        start_epoch, elapsed = load_checkpoint(Path(args.resume), model, opt, sched)
        print(f"resumed from {args.resume} after epoch {start_epoch}")

    t0 = time.time() - elapsed
    epoch = start_epoch
    for epoch in range(start_epoch, args.epochs):
        model.train()
        perm = torch.randperm(train_x.shape[0], device=device, generator=generator)
        bar = tqdm(range(steps_per_epoch), desc=f"classifier epoch {epoch + 1}/{args.epochs}", mininterval=2.0)
        for i in bar:
            idx = perm[i * args.batch_size:(i + 1) * args.batch_size]
            x = augment(train_x[idx], generator)  # (B, 1, 28, 28)
            loss = F.cross_entropy(model(x), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if i % 50 == 0:
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
            if args.dry_run and i >= 2:
                break
        acc = accuracy(model, test_x, test_y)
        print(f"epoch {epoch + 1}: test accuracy {acc * 100:.2f} %", flush=True)
        if args.checkpoint_dir:
            save_checkpoint(Path(args.checkpoint_dir), model, opt, sched, epoch + 1, time.time() - t0)
        if time.time() - t0 > args.max_minutes * 60:
            print(f"--max-minutes {args.max_minutes} reached after epoch {epoch + 1}")
            break

    model = model.cpu().eval()
    acc = accuracy(model, test_x.cpu(), test_y.cpu())
    print(f"final test accuracy {acc * 100:.2f} %")
    save_model(model, args.output_dir, card(args, acc, time.time() - t0, epoch + 1))
    print(f"saved {args.output_dir}")
    if args.push_to_hub:
        push_folder(args.output_dir, args.hub_repo_id)


if __name__ == "__main__":
    main(parse_args())
