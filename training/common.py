"""Small helpers shared by the MNIST training scripts: data, seeding, saving, pushing.

Kept deliberately plain: MNIST is small enough to hold in memory as one tensor, which on a
2-core CPU is much faster than a DataLoader that decodes PIL images one by one.
"""

import random
from pathlib import Path

import numpy as np
import torch

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch.Generator seeded the same way."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def load_mnist(data_dir: str | Path, train: bool, download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as (images (N, 1, 28, 28) float in [0, 1], labels (N,) int64), via torchvision's layout.

    ``data_dir`` is the folder that contains ``MNIST/raw`` (``../shared/data`` on our machines);
    with ``download=True`` torchvision fetches it there when online.
    """
    from torchvision.datasets import MNIST

    ds = MNIST(root=str(data_dir), train=train, download=download)
    images = ds.data.unsqueeze(1).float().div_(255.0)
    return images, ds.targets.clone()


def centre_square(img, size: int, resample=None) -> np.ndarray:
    """A photo centre-cropped to a square and resized: (size, size, 3) uint8 RGB (bicubic unless ``resample``)."""
    import PIL.Image

    img = img.convert("RGB")
    s = min(img.size)
    left, top = (img.width - s) // 2, (img.height - s) // 2
    resample = PIL.Image.BICUBIC if resample is None else resample
    return np.array(img.crop((left, top, left + s, top + s)).resize((size, size), resample))


def fake_mnist(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random stand-in data with MNIST's shapes, for ``--dry-run`` smoke tests (seconds, no files)."""
    images = (torch.rand(n, 1, 28, 28, generator=generator) > 0.8).float()
    labels = torch.randint(0, 10, (n,), generator=generator)
    return images, labels


def fit(model, images: torch.Tensor, loss_fn, args, generator: torch.Generator, desc: str):
    """Adam + cosine learning-rate decay over ``args.epochs`` epochs of shuffled mini-batches of ``images``.

    ``loss_fn(model, x)`` returns the mean loss of the batch ``x``; that is all that differs between
    the models. With ``args.dry_run`` each epoch stops after three batches.
    """
    from tqdm import tqdm

    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    n = images.shape[0]
    steps = max(1, n // args.batch_size)
    model.train()
    for epoch in range(args.epochs):
        perm = torch.randperm(n, generator=generator)
        bar = tqdm(range(steps), desc=f"{desc} epoch {epoch + 1}/{args.epochs}", mininterval=2.0)
        total = 0.0
        for i in bar:
            x = images[perm[i * args.batch_size:(i + 1) * args.batch_size]]
            loss = loss_fn(model, x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
            bar.set_postfix(loss=f"{total / (i + 1):.2f}", refresh=False)
            if args.dry_run and i >= 2:
                break
        sched.step()
    model.eval()
    return model


def save_model(model, output_dir: str | Path, card: dict, write_extra_files=None) -> Path:
    """Write a finished ``pretrained/<slug>`` folder: ``save_pretrained`` (config.json, model.safetensors,
    README.md model card), then ``write_extra_files(folder)`` if given (e.g. a latent map), then the
    SHA256SUMS of everything, which the app checks on load.

    The mixin never overwrites an existing README.md, so the old card is removed first and the
    new one carries the figures of this run.
    """
    from models.loading import write_checksums

    output_dir = Path(output_dir)
    if output_dir.exists():
        (output_dir / "README.md").unlink(missing_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir, model_card_kwargs=card)
    if write_extra_files is not None:
        write_extra_files(output_dir)
    write_checksums(output_dir)
    return output_dir


def push_folder(output_dir: str | Path, hub_repo_id: str | None, tag: str | None = None, private: bool = False) -> str:
    """Commit a finished ``pretrained/<slug>`` folder (weights, config, card, checksums, extra files) to the Hub
    repo ``hub_repo_id`` as it is, optionally tagged. Returns the commit's URL."""
    from huggingface_hub import CommitOperationAdd, HfApi

    if not hub_repo_id:
        raise SystemExit("--push-to-hub needs --hub-repo-id <org>/<slug>")
    api = HfApi()
    api.create_repo(hub_repo_id, exist_ok=True, private=private)
    folder = Path(output_dir)
    # every file, sub-folders included (a diffusers pipeline keeps unet/ and scheduler/ beside model_index.json)
    operations = [CommitOperationAdd(path_in_repo=p.relative_to(folder).as_posix(), path_or_fileobj=str(p))
                  for p in sorted(folder.rglob("*")) if p.is_file()]
    commit = api.create_commit(hub_repo_id, operations, commit_message=f"Upload {folder.name} from the gallery")
    if tag:
        api.create_tag(hub_repo_id, tag=tag, revision=commit.oid, exist_ok=True)
    return commit.commit_url
