"""Train a DCGAN on real bedroom photos at 64x64 (slug ``dcgan-bedrooms``), as in §4–6 of Radford, Metz &
Chintala (2015), "Unsupervised Representation Learning with Deep Convolutional GANs".

The paper trained on 3 million LSUN bedrooms; we have 2,911 real bedroom photos
(``../shared/data/hcaptcha/bedroom``). With so few images a plain DCGAN's discriminator memorises
the training set within a few hundred steps and the generator collapses. What keeps it healthy:

* **DiffAugment** (Zhao et al., NeurIPS 2020, arXiv:2006.10738): the *same* random, differentiable
  augmentations — colour (brightness, saturation, contrast), translation (±1/8 of the size, zero
  padding) and cutout (a random square of half the size) — are applied to real *and* generated images
  before the discriminator sees them, so D cannot tell them apart by the augmentation and G still gets
  gradients through it; G itself never learns to draw the augmentations;
* horizontal flips of the photos (a mirrored bedroom is still a bedroom);
* an exponential moving average (EMA) of the generator's weights, which is what we ship: it averages
  out the oscillations of the adversarial game. Its BatchNorm statistics are re-estimated on
  its own outputs before it is evaluated or saved.

Otherwise it is the paper's recipe: non-saturating GAN loss (binary cross-entropy), Adam with learning
rate 2e-4 and β1 = 0.5, batch 64, weights from N(0, 0.02), z ~ N(0, I) in R^100.

Quality is measured with **FID-Lite0** — the Fréchet distance between EfficientNet-Lite0 features
(``pretrained/efficientnet-lite0``) of generated samples and of the training photos (both 64x64,
resized to 224x224). It is *not* comparable with published FIDs (those use Inception-v3).

Outputs
* ``--output-dir`` (``pretrained/dcgan-bedrooms``): the EMA generator, ready for the gallery's tabs;
* ``--first-epoch-output-dir`` (``pretrained/dcgan-bedrooms-epoch1``): the (EMA) generator after one
  epoch, for the README's "final vs after the first epoch" comparison;
* ``--checkpoint-dir``: every ``--checkpoint-minutes`` the weights (G, EMA G, D as safetensors), the
  position (``state.json``), FID-Lite0 so far (``fid.csv``), the EMA generator with the lowest FID-Lite0 so
  far (``generator_best.safetensors``: a GAN can get worse late in training, so that is the one shipped),
  ``progress.png`` (one row of 8 fixed-z samples per checkpoint) and ``samples_latest.png`` (a 8x8 grid,
  rewritten after every epoch); at the end ``samples_final.png`` and ``nearest.png`` (samples beside their
  nearest training photos).

Usage (from the project root)::

    python training/train_dcgan.py --device cuda --max-minutes 15           # what made the shipped weights
    python training/train_dcgan.py --resume runs/dcgan-bedrooms-ckpt         # continue after an interruption
    python training/train_dcgan.py --eval-only                               # FID-Lite0 table + nearest.png
    python training/train_dcgan.py --dry-run --output-dir /tmp/g --first-epoch-output-dir /tmp/g1 \
        --checkpoint-dir /tmp/c
"""

import argparse
import copy
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
import PIL.Image
import torch
from safetensors.torch import load_file, save_file
from torch.nn import functional as F
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.dcgan import Discriminator, Generator  # noqa: E402
from models.efficientnet_lite import EfficientNetLite0  # noqa: E402
from models.frechet import frechet_distance, gaussian_stats, lite0_features  # noqa: E402
from models.imaging import grid, to_pil, to_unit  # noqa: E402
from training.common import DEFAULT_DATA_DIR, PROJECT_ROOT, centre_square, push_folder, save_model, seed_everything  # noqa: E402

IMAGE_SIZE = 64
EVAL_SEED = 1234  # the z of the FID-Lite0 samples (same for every model, so the figures compare)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing hcaptcha/<class>/*.jpg")
    p.add_argument("--classes", default="bedroom", help="comma-separated photo folders, e.g. bedroom,living_room")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / "dcgan-bedrooms"))
    p.add_argument("--first-epoch-output-dir", default=str(PROJECT_ROOT / "pretrained" / "dcgan-bedrooms-epoch1"))
    p.add_argument("--checkpoint-dir", default=str(PROJECT_ROOT / "runs" / "dcgan-bedrooms-ckpt"))
    p.add_argument("--resume", help="a checkpoint folder written by an earlier run")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--ngf", type=int, default=48, help="generator width (the paper's 64x64 model: 128)")
    p.add_argument("--ndf", type=int, default=64, help="discriminator width")
    p.add_argument("--nz", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2000, help="upper bound; --max-minutes usually stops first")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="wall-time budget of the whole run (training stops early enough to evaluate and save)")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--ema-decay", type=float, default=0.999)
    p.add_argument("--diffaugment", default="color,translation,cutout", help="comma-separated policy; empty for none")
    p.add_argument("--checkpoint-minutes", type=float, default=3.0,
                   help="checkpoint + FID-Lite0 every this many minutes")
    p.add_argument("--fid-samples", type=int, default=2000,
                   help="generated samples per FID-Lite0 (during training and --eval-only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dry-run", action="store_true", help="a few steps on fake data, for tests")
    p.add_argument("--eval-only", action="store_true",
                   help="FID-Lite0 of the saved generators and the nearest-photo figure")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="e.g. my-org/dcgan-bedrooms")
    return p.parse_args(argv)


# --- data ----------------------------------------------------------------------------------

def square(img: PIL.Image.Image, size: int) -> np.ndarray:
    """Centre-crop to a square and resize with antialiasing (Lanczos): (size, size, 3) uint8."""
    return centre_square(img, size, PIL.Image.LANCZOS)


def load_photos(data_dir: Path, classes: list[str], size: int = IMAGE_SIZE) -> torch.Tensor:
    """Every photo of the given classes as one uint8 tensor (N, 3, size, size)."""
    arrays = []
    for cls in classes:
        files = sorted((Path(data_dir) / "hcaptcha" / cls).glob("*.jpg"))
        if not files:
            raise SystemExit(f"no photos in {Path(data_dir) / 'hcaptcha' / cls}")
        for f in files:
            with PIL.Image.open(f) as img:
                arrays.append(square(img, size))
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def fake_photos(n: int, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, 3, IMAGE_SIZE, IMAGE_SIZE, generator=generator) * 255).to(torch.uint8)


# --- DiffAugment (Zhao et al. 2020), on images in [-1, 1], one random draw per image -------------

def rand_color(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    r = lambda: torch.rand(n, 1, 1, 1, dtype=x.dtype, device=x.device)  # noqa: E731
    x = x + (r() - 0.5)                                   # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (r() * 2) + mean                     # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (r() + 0.5) + mean                # contrast


def rand_translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ±ratio of its size, filling with zeros."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    tx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    gb, gy, gx = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")
    gy = torch.clamp(gy + ty + 1, 0, h + 1)
    gx = torch.clamp(gx + tx + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])                       # zero border: indices 0 and h+1 read zeros
    return padded.permute(0, 2, 3, 1)[gb, gy, gx].permute(0, 3, 1, 2).contiguous()


def rand_cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero a random square of ratio x the size in each image (it may stick out of the image)."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    gb, gy, gx = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")
    gy = torch.clamp(gy + cy - ch // 2, 0, h - 1)
    gx = torch.clamp(gx + cx - cw // 2, 0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gy, gx] = 0
    return x * mask.unsqueeze(1)


AUGMENTS = {"color": rand_color, "translation": rand_translation, "cutout": rand_cutout}


def diff_augment(x: torch.Tensor, policy: str) -> torch.Tensor:
    for name in filter(None, policy.split(",")):
        x = AUGMENTS[name](x)
    return x


def real_batch(photos: torch.Tensor, size: int) -> torch.Tensor:
    """A random batch of photos in [-1, 1] (float, on the photos' device), each flipped left-right with p = 1/2."""
    idx = torch.randint(0, photos.shape[0], (size,), device=photos.device)
    x = photos[idx].float() / 127.5 - 1
    flip = torch.rand(size, device=photos.device) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)


# --- EMA generator -------------------------------------------------------------------------

@torch.no_grad()
def update_ema(ema: Generator, g: Generator, step: int, decay: float) -> None:
    """ema ← d·ema + (1 − d)·g, with d warming up as (1 + step) / (10 + step) so early averages are not
    dominated by the random initialisation."""
    d = min(decay, (1 + step) / (10 + step))
    for pe, p in zip(ema.parameters(), g.parameters()):
        pe.lerp_(p, 1 - d)


@torch.no_grad()
def recalibrate_batchnorm(g: Generator, nz: int, device, batches: int = 40, batch_size: int = 128,
                          seed: int = 0) -> Generator:
    """Re-estimate the BatchNorm running statistics of ``g`` from its own outputs (the EMA weights never saw
    the statistics that G's training batches accumulated), then put it in eval mode."""
    rng = torch.Generator(device="cpu").manual_seed(seed)
    for m in g.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the batches below
    g.train()
    for _ in range(batches):
        g(torch.randn(batch_size, nz, generator=rng).to(device))
    for m in g.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 0.1
    return g.eval()


# --- evaluation ----------------------------------------------------------------------------

@torch.no_grad()
def generate(g: Generator, n: int, device, seed: int = EVAL_SEED, batch_size: int = 250) -> torch.Tensor:
    """n samples in [0, 1] (N, 3, 64, 64), on the CPU, from z drawn with a fixed seed."""
    z = torch.randn(n, g.nz, generator=torch.Generator().manual_seed(seed))
    return torch.cat([to_unit(g(z[i:i + batch_size].to(device))).cpu() for i in range(0, n, batch_size)])


class FidLite0:
    """FID-Lite0 against the training photos; the photos' features are computed once."""

    def __init__(self, cnn: EfficientNetLite0, photos: torch.Tensor, device):
        self.cnn, self.device = cnn, device
        self.real_features = self.features(photos.float() / 255.0)
        self.real_stats = gaussian_stats(self.real_features)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Lite0 pooled features (N, 1280) on the CPU of images in [0, 1] (computed on the device)."""
        return torch.cat([lite0_features(self.cnn, images[i:i + 500].to(self.device)).cpu()
                          for i in range(0, images.shape[0], 500)])

    def __call__(self, samples: torch.Tensor) -> float:
        return frechet_distance(*gaussian_stats(self.features(samples)), *self.real_stats)


@torch.no_grad()
def nearest_photos_figure(fid: FidLite0, g: Generator, photos: torch.Tensor, device, n: int = 8, k: int = 3,
                          seed: int = 7) -> PIL.Image.Image:
    """Each row: a generated sample, then its k nearest training photos in Lite0 feature space (cosine).
    If G memorised, the first neighbour would be the same picture."""
    samples = generate(g, n, device, seed=seed)
    f = F.normalize(fid.features(samples), dim=1)
    real = F.normalize(fid.real_features, dim=1)
    nearest = (f @ real.T).topk(k, dim=1).indices  # (n, k)
    rows = [torch.cat([samples[i:i + 1], photos[nearest[i]].float() / 255.0]) for i in range(n)]
    return to_pil(grid(torch.cat(rows), nrow=k + 1, border=True))


# --- training ------------------------------------------------------------------------------

def save_checkpoint(folder: Path, g, ema, d, state: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, model in (("generator", g), ("generator_ema", ema), ("discriminator", d)):
        save_file({k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()},
                  str(folder / f"{name}.safetensors"))
    (folder / "state.json").write_text(json.dumps(state, indent=1))


def card(args, metrics: str, what: str, seconds: float, steps: int, epochs: int) -> dict:
    slug = Path(args.output_dir).name if what == "final" else Path(args.first_epoch_output_dir).name
    return {
        "title": f"{slug}: DCGAN generator, 64x64 bedrooms"
                 + (" (after its first epoch only)" if what != "final" else ""),
        "description": ("The DCGAN generator of Radford, Metz & Chintala (2015) at 64x64 (ngf = "
                        f"{args.ngf}), trained with DiffAugment (Zhao et al. 2020: {args.diffaugment or 'none'}) and "
                        f"horizontal flips on {args.classes.replace(',', ' + ')} photos; the weights are an "
                        f"exponential moving average (decay {args.ema_decay}) of the generator's, with BatchNorm "
                        "statistics re-estimated on its outputs. "
                        + ("This snapshot was taken after the first epoch, for comparison with the final model."
                           if what != "final" else f"{steps} steps of batch {args.batch_size} ({epochs} epochs).")
                        + " Input: z ~ N(0, I) in R^100; output: RGB in [-1, 1]. The 32x32 maps after `up3` are the "
                          "second-highest convolution layer used by the window-forgetting experiment."),
        "data": ("Real photographs (hcaptcha image-challenge pictures, classes: " + args.classes + "), no licence "
                 "stated by the collection: research/educational use only; the photos are not redistributed."),
        "training_command": f"python training/train_dcgan.py --device {args.device} --max-minutes {args.max_minutes} "
                            f"--ngf {args.ngf} --ndf {args.ndf} --batch-size {args.batch_size}  "
                            f"# {seconds / 60:.1f} min",
        "metrics": metrics,
        "usage": "from models.dcgan import Generator\n"
                 f"G = Generator.from_pretrained(\"pretrained/{slug}\", strict=True)\n"
                 "images = G(torch.randn(16, 100))  # (16, 3, 64, 64) in [-1, 1]",
    }


def evaluate_only(args, photos, cnn, device):
    fid = FidLite0(cnn, photos, device)
    for folder in (args.first_epoch_output_dir, args.output_dir):
        if not (Path(folder) / "model.safetensors").is_file():
            print(f"{folder}: no model.safetensors, skipped")
            continue
        g = Generator.from_pretrained(folder, strict=True).to(device).eval()
        score = fid(generate(g, args.fid_samples, device))
        print(f"{Path(folder).name}: FID-Lite0 {score:.2f} ({args.fid_samples} samples vs {photos.shape[0]} "
              "training photos)")
    out = Path(args.checkpoint_dir)
    out.mkdir(parents=True, exist_ok=True)
    nearest_photos_figure(fid, g, photos, device).save(out / "nearest.png")
    print(f"wrote {out / 'nearest.png'}")


def main(args):
    generator_rng = seed_everything(args.seed)
    device = torch.device(args.device)
    t0 = time.time()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if args.dry_run:
        args.epochs, args.fid_samples = 2, 40
        photos = fake_photos(96, generator_rng)
    else:
        photos = load_photos(Path(args.data_dir), args.classes.split(","))
    print(f"{photos.shape[0]} photos {tuple(photos.shape[1:])}, device {device}")
    cnn = EfficientNetLite0.from_pretrained(PROJECT_ROOT / "pretrained" / "efficientnet-lite0", strict=True)
    cnn = cnn.to(device).eval()
    cnn.requires_grad_(False)

    if args.eval_only:
        return evaluate_only(args, photos, cnn, device)

    photos_dev = photos.to(device)
    g = Generator(nz=args.nz, ngf=args.ngf).to(device)
    d = Discriminator(ndf=args.ndf).to(device)
    ema = copy.deepcopy(g).requires_grad_(False)
    state = {"step": 0, "epoch": 0, "seconds": 0.0, "fid": []}
    if args.resume:
        g.load_state_dict(load_file(str(Path(args.resume) / "generator.safetensors")), strict=True)
        ema.load_state_dict(load_file(str(Path(args.resume) / "generator_ema.safetensors")), strict=True)
        d.load_state_dict(load_file(str(Path(args.resume) / "discriminator.safetensors")), strict=True)
        state = json.loads((Path(args.resume) / "state.json").read_text())
        if args.dry_run:
            args.epochs = state["epoch"] + 2
    opt_g = torch.optim.Adam(g.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    fid = FidLite0(cnn, photos, device)
    ckpt = Path(args.checkpoint_dir)
    ckpt.mkdir(parents=True, exist_ok=True)
    fixed_z = torch.randn(64, args.nz, generator=torch.Generator().manual_seed(args.seed)).to(device)
    progress_rows: list[torch.Tensor] = []
    steps_per_epoch = max(1, photos.shape[0] // args.batch_size)
    # Stop training early enough to leave time for the final evaluation and saving.
    budget = None if args.max_minutes is None else args.max_minutes * 60 - min(60.0, 0.1 * args.max_minutes * 60)
    elapsed_before = state["seconds"]

    def calibrated_ema() -> Generator:
        return recalibrate_batchnorm(copy.deepcopy(ema), args.nz, device, batches=2 if args.dry_run else 40)

    def checkpoint(label: str) -> Generator:
        """FID-Lite0 of the (recalibrated) EMA generator, a progress row, the weights."""
        g_eval = calibrated_ema()
        score = fid(generate(g_eval, args.fid_samples, device))
        state["fid"].append({"step": state["step"], "epoch": state["epoch"], "minutes": round(state["seconds"] / 60, 2),
                             "fid_lite0": round(score, 3), "label": label})
        with open(ckpt / "fid.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(state["fid"][0]))
            writer.writeheader()
            writer.writerows(state["fid"])
        with torch.no_grad():
            progress_rows.append(to_unit(g_eval(fixed_z[:8])).cpu())
        to_pil(grid(torch.cat(progress_rows), nrow=8, border=True)).save(ckpt / "progress.png")
        if score <= min(r["fid_lite0"] for r in state["fid"]):  # the best so far is kept as a candidate for shipping
            save_file({k: v.detach().contiguous().cpu() for k, v in g_eval.state_dict().items()},
                      str(ckpt / "generator_best.safetensors"))
            state["best"] = state["fid"][-1]
        save_checkpoint(ckpt, g, ema, d, state)
        tqdm.write(f"[{label}] step {state['step']} epoch {state['epoch']} {state['seconds'] / 60:.1f} min: "
                   f"FID-Lite0 {score:.2f} ({args.fid_samples} samples)")
        return g_eval

    bce = F.binary_cross_entropy_with_logits
    last_checkpoint = time.time()
    stop = False
    g.train()
    d.train()
    while state["epoch"] < args.epochs and not stop:
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {state['epoch'] + 1}", mininterval=5.0, leave=False)
        for i in bar:
            real = real_batch(photos_dev, args.batch_size)                       # (B, 3, 64, 64) in [-1, 1]
            z = torch.randn(args.batch_size, args.nz, device=device)
            fake = g(z)                                                          # (B, 3, 64, 64)
            # D: real → 1, fake → 0, both seen through the same kind of random augmentation.
            real_logits = d(diff_augment(real, args.diffaugment))
            fake_logits = d(diff_augment(fake.detach(), args.diffaugment))
            loss_d = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            # G: non-saturating loss, make D call the (augmented) fakes real.
            gen_logits = d(diff_augment(fake, args.diffaugment))
            loss_g = bce(gen_logits, torch.ones_like(gen_logits))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            update_ema(ema, g, state["step"], args.ema_decay)
            state["step"] += 1
            if i % 20 == 0:
                bar.set_postfix(d=f"{loss_d.item():.3f}", g=f"{loss_g.item():.3f}", refresh=False)
            if args.dry_run and i >= 2:
                break
            state["seconds"] = elapsed_before + time.time() - t0
            if budget is not None and state["seconds"] >= budget:
                stop = True
                break
        state["seconds"] = elapsed_before + time.time() - t0
        state["epoch"] += 1 if not stop else 0
        if state["epoch"] == 1 and not args.resume and not stop:
            g1 = checkpoint("epoch 1")
            metric = (f"FID-Lite0 {state['fid'][-1]['fid_lite0']:.2f} ({args.fid_samples} samples vs {photos.shape[0]} "
                      "training photos, measured during training); reproduce with "
                      "`python training/train_dcgan.py --eval-only`.")
            save_model(g1, args.first_epoch_output_dir,
                       card(args, metric, "epoch1", state["seconds"], state["step"], 1))
            last_checkpoint = time.time()
        with torch.no_grad():
            g.eval()
            to_pil(grid(to_unit(g(fixed_z)), nrow=8, border=True)).save(ckpt / "samples_latest.png")
            g.train()
        if time.time() - last_checkpoint >= args.checkpoint_minutes * 60:
            checkpoint(f"epoch {state['epoch']}")
            last_checkpoint = time.time()

    g_final = checkpoint("final")
    best = state["best"]
    # A GAN can get worse late in training: ship the checkpoint with the best FID-Lite0.
    if best["step"] != state["step"]:
        g_final.load_state_dict(load_file(str(ckpt / "generator_best.safetensors")), strict=True)
        print(f"shipping the checkpoint of step {best['step']} (FID-Lite0 {best['fid_lite0']:.2f}) rather than the "
              f"last one ({state['fid'][-1]['fid_lite0']:.2f})")
    with torch.no_grad():
        to_pil(grid(to_unit(g_final(fixed_z)), nrow=8, border=True)).save(ckpt / "samples_final.png")
    nearest_photos_figure(fid, g_final, photos, device).save(ckpt / "nearest.png")
    metric = (f"FID-Lite0 {best['fid_lite0']:.2f} ({args.fid_samples} samples vs the {photos.shape[0]} training "
              "photos, both 64x64 resized to 224x224; EfficientNet-Lite0 features, not comparable with Inception "
              f"FIDs), after {best['step']} steps ({best['epoch']} epochs, {best['minutes']:.1f} min on "
              f"{device.type}; the checkpoint with the lowest FID-Lite0 of a run of {state['step']} steps, checked "
              f"every {args.checkpoint_minutes:g} min); reproduce with "
              "`python training/train_dcgan.py --eval-only`.")
    print(metric)
    save_model(g_final.cpu(), args.output_dir,
               card(args, metric, "final", best["minutes"] * 60, best["step"], best["epoch"]))
    print(f"saved {args.output_dir}, {args.first_epoch_output_dir} and {ckpt}")
    if args.push_to_hub:
        push_folder(args.output_dir, args.hub_repo_id)


if __name__ == "__main__":
    main(parse_args())
