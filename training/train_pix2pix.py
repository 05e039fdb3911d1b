"""Train pix2pix edges → cats (Isola et al., CVPR 2017): slugs ``pix2pix-edges2cats`` (cGAN + 100·L1)
and ``pix2pix-edges2cats-l1`` (L1 only, the paper's Figure 4 comparison), in one run on the same batches.

Data: the real cat photos of ``<data-dir>/hcaptcha/domestic_cat`` (research/educational use only; never
redistributed). Each photo y is paired with its edge map x = ``models.edges.photo_to_lines(y)`` (Canny, black
lines on white; the very function the tab applies to uploaded photos). A fixed test split, listed by file
name in ``training/splits/pix2pix-edges2cats-test.txt``, is never trained on.
Augmentation (on the device, as in the paper): photos and their edges are loaded at 144x144, then a random
128x128 crop and a random left-right flip; the black lines are sometimes thickened by one pixel, so that
a hand-drawn sketch with thicker strokes is not out of distribution.

Losses (the paper's, with λ = 100; L1 measured on the [-1, 1] scale as in the reference code):

    D:      ½ [ BCE(D(x, y), 1) + BCE(D(x, G(x)), 0) ]                  (PatchGAN on the pair)
    G:      BCE(D(x, G(x)), 1) + λ · ‖y − G(x)‖₁                         (slug pix2pix-edges2cats)
    G_L1:   ‖y − G_L1(x)‖₁                                              (slug pix2pix-edges2cats-l1)

Adam (lr 2e-4, β₁ = 0.5); the learning rate is constant for the first half of training and decays
linearly to 0 over the second half, where "training" ends at ``--steps`` or at ``--max-minutes``,
whichever comes first.

Beyond the paper (all off by default, so the defaults train the shipped generators):

* ``--upsample resize``: resize-convolutions (nearest-neighbour doubling, then a 3x3 convolution) instead of
  transposed convolutions, which leave a checkerboard (Odena et al. 2016; see ``models/pix2pix.py``);
* ``--encoder lite0``: transfer learning — the generator's encoder is EfficientNet-Lite0, initialised from its
  ImageNet weights (``pretrained/efficientnet-lite0``);
* ``--perceptual-weight w``: adds w · a feature ("perceptual") loss to G's, the mean L1 distance between the
  EfficientNet-Lite0 activations of G(x) and of y after blocks 0, 2, 4 and 7 (64 to 8 px; Johnson et al. 2016 used
  VGG). FID-Lite0 is measured on the same network's (last, pooled) features, so this loss can flatter that
  figure: judge by the pictures too (``--grid``). The L1-only generator never gets it;
* ``--no-l1-baseline``: train only the cGAN generator (half the work, e.g. on a CPU);
* ``--ema 0.999``: keep an exponential moving average of the cGAN generator's weights, θ̄ ← d·θ̄ + (1 − d)·θ after
  every step, and publish it instead of the last weights (Yazıcı et al. 2019, "The Unusual Effectiveness of
  Averaging in GAN Training"; ProGAN and StyleGAN do the same): the average smooths out the last steps' swings.

Checkpoints (weights, Adam moments, step, schedule position, random-number states, the architecture and the
commands so far) are written every ``--checkpoint-minutes`` to ``runs/<run-name>/checkpoint``, replaced whole
(an interrupted write leaves the previous one). ``--resume`` continues from one — same command, plus
``--resume``; the architecture is the checkpoint's — and the schedule's remaining part is spread over the new
``--max-minutes``. A run whose schedule has ended (learning rate 0) can start a new one with
``--restart-schedule``.

Usage (from the project root)::

    python training/train_pix2pix.py --device cuda --data-dir ../shared/data --max-minutes 20
    python training/train_pix2pix.py --resume runs/pix2pix/checkpoint          # continue after an interruption
    python training/train_pix2pix.py --start-from pretrained/pix2pix-edges2cats --lr 5e-5 --no-l1-baseline ...
                                                                               # train a published generator further
    python training/train_pix2pix.py --eval-only --grid /tmp/grid.png          # L1, PSNR, FID-Lite0 on the test split
    python training/train_pix2pix.py --export-examples                         # the tab's test-set edge maps
    python training/train_pix2pix.py --dry-run --output-dir /tmp/p --l1-output-dir /tmp/p1 --checkpoint-dir /tmp/pc

    # the improved generator, on a CPU, for hours (resumable), then its before/after figures, then publishing it:
    nice -n 19 python training/train_pix2pix.py --run-name v2 --encoder lite0 --upsample resize \\
        --perceptual-weight 10 --no-l1-baseline --base-channels 16 --max-multiplier 6 --batch-size 8 --threads 1 \\
        --steps 1000000 --max-minutes 600 --output-dir runs/v2/final --resume runs/v2/checkpoint
    python training/train_pix2pix.py --eval-only --resume runs/v2/checkpoint --grid runs/v2/before_after.png
    python training/train_pix2pix.py --resume runs/v2/checkpoint --export-to pretrained/pix2pix-edges2cats-v2
"""

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import PIL.Image
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.edges import photo_to_lines, thicken  # noqa: E402
from models.efficientnet_lite import EfficientNetLite0  # noqa: E402
from models.frechet import frechet_distance, gaussian_stats, lite0_features  # noqa: E402
from models.imaging import grid, to_pil  # noqa: E402
from models.pix2pix import PatchDiscriminator, UNetGenerator, checkerboard_score  # noqa: E402
from training.common import DEFAULT_DATA_DIR, PROJECT_ROOT, centre_square, push_folder, save_model, seed_everything  # noqa: E402

SLUG = "pix2pix-edges2cats"
SPLIT_FILE = PROJECT_ROOT / "training" / "splits" / f"{SLUG}-test.txt"
CLASS_DIR = "hcaptcha/domestic_cat"
TEST_COUNT = 300
SIZE = 128            # training / test resolution (the generator needs multiples of 128)
GRID_ROWS = 8
# Held-out photos whose edge maps the tab offers as examples (picked by eye: clear cats, clean edges).
EXAMPLE_NAMES = ("199.jpg", "359.jpg", "557.jpg", "105.jpg", "63.jpg", "431.jpg", "299.jpg", "170.jpg")
EXAMPLES_DIR = PROJECT_ROOT / "demos" / "examples" / "pix2pix"
EDGE_CACHE = PROJECT_ROOT / "runs" / "cache"           # edge maps of the photos, computed once (git-ignored)
PERCEPTUAL_LAYERS = ("block0", "block2", "block4", "block7")   # EfficientNet-Lite0 at 64, 32, 16, 8 px of 128


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing hcaptcha/domestic_cat/*.jpg")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / SLUG), help="cGAN + L1 generator")
    p.add_argument("--l1-output-dir", default=str(PROJECT_ROOT / "pretrained" / f"{SLUG}-l1"), help="L1-only generator")
    p.add_argument("--run-name", default="pix2pix", help="checkpoints go to runs/<run-name>/checkpoint")
    p.add_argument("--checkpoint-dir", help="instead of runs/<run-name>/checkpoint")
    p.add_argument("--resume", help="a checkpoint folder written by an earlier run (if it holds none yet: start "
                                    "afresh, so that one command both starts and continues a run); with --eval-only "
                                    "or --export-to: the checkpoint to evaluate or publish")
    p.add_argument("--start-from", help="a saved generator folder (e.g. pretrained/pix2pix-edges2cats): train it "
                                        "further with a new discriminator and a new learning-rate schedule (its "
                                        "architecture comes from its config.json)")
    p.add_argument("--restart-schedule", action="store_true",
                   help="with --resume: keep the weights but start the learning-rate schedule again")
    p.add_argument("--upsample", choices=("transpose", "resize"), default="transpose",
                   help="the generator's upsampling: transposed convolutions (the paper) or resize-convolutions")
    p.add_argument("--encoder", choices=("unet", "lite0"), default="unet",
                   help="the paper's U-Net encoder, or EfficientNet-Lite0 initialised from its ImageNet weights")
    p.add_argument("--perceptual-weight", type=float, default=0.0,
                   help=f"weight of the EfficientNet-Lite0 feature loss ({', '.join(PERCEPTUAL_LAYERS)}) in G's loss")
    p.add_argument("--l1-baseline", action=argparse.BooleanOptionalAction, default=True,
                   help="also train the L1-only generator on the same batches")
    p.add_argument("--ema", type=float, default=0.0,
                   help="decay of an exponential moving average of G's weights, published instead of G (0 = off)")
    p.add_argument("--load-size", type=int, default=144,
                   help="photos are loaded at this size, then randomly cropped to 128")
    p.add_argument("--base-channels", type=int, default=32, help="64 in the paper")
    p.add_argument("--max-multiplier", type=int, default=3, help="widths stop growing at base·this (8 in the paper)")
    p.add_argument("--d-channels", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--max-minutes", type=float, default=float("inf"), help="stop training after this much wall time")
    p.add_argument("--checkpoint-minutes", type=float, default=3.0)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--l1-weight", type=float, default=100.0, help="λ of the paper")
    p.add_argument("--thicken-prob", type=float, default=0.3,
                   help="chance of one-pixel thicker lines in a training input")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch CPU threads (e.g. 1 on a shared machine)")
    p.add_argument("--dry-run", action="store_true", help="3 steps (or --steps N up to 10) on fake data, for tests")
    p.add_argument("--eval-only", action="store_true", help="evaluate the saved generators on the test split")
    p.add_argument("--grid", help="with --eval-only: write a PNG grid of test results here")
    p.add_argument("--before", help="with --eval-only: also evaluate the cGAN generator saved in this folder (e.g. an "
                                    "earlier version, from `git archive`), as the first column of the grid")
    p.add_argument("--update-cards", action="store_true",
                   help="with --eval-only: rewrite both model cards (README.md) with these figures and the training "
                        "run recorded in <checkpoint-dir>/metrics.json")
    p.add_argument("--export-examples", action="store_true",
                   help="only write the edge maps of a few test photos (EXAMPLE_NAMES) to "
                        f"{EXAMPLES_DIR.relative_to(PROJECT_ROOT)}")
    p.add_argument("--export-to", help="with --resume: evaluate the checkpoint's cGAN generator and publish it here "
                                       "(config, weights, model card with the run's commands and figures, SHA256SUMS)")
    p.add_argument("--train-pairs", type=int, help="with --update-cards, for runs whose metrics.json lacks it")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="e.g. my-org/pix2pix-edges2cats")
    p.add_argument("--l1-hub-repo-id", help="e.g. my-org/pix2pix-edges2cats-l1")
    return p.parse_args(argv)


# --- data ----------------------------------------------------------------------------------

def square(path: Path, size: int) -> np.ndarray:
    """Centre-crop a photo (a file) to a square and resize it: (size, size, 3) uint8."""
    with PIL.Image.open(path) as img:
        return centre_square(img, size)


def test_split(files: list[Path], seed: int = 0) -> set[str]:
    """The file names of the fixed test split: read from SPLIT_FILE, or drawn once (seeded) and written there."""
    if SPLIT_FILE.is_file():
        return set(SPLIT_FILE.read_text().split())
    rng = np.random.default_rng(seed)
    names = sorted(rng.choice([f.name for f in files], size=min(TEST_COUNT, len(files) // 10), replace=False).tolist(),
                   key=lambda n: int(n.split(".")[0]) if n.split(".")[0].isdigit() else n)
    SPLIT_FILE.parent.mkdir(parents=True, exist_ok=True)
    SPLIT_FILE.write_text("\n".join(names) + "\n")
    return set(names)


def load_cats(data_dir: Path, load_size: int) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """(train photos (N, 3, load_size, load_size), test photos (M, 3, 128, 128), test file names), uint8."""
    files = sorted((Path(data_dir) / CLASS_DIR).glob("*.jpg"))
    if not files:
        raise SystemExit(f"no photos in {Path(data_dir) / CLASS_DIR}")
    held_out = test_split(files)
    train = [square(f, load_size) for f in tqdm(files, desc="loading cats", mininterval=2.0) if f.name not in held_out]
    test_files = [f for f in files if f.name in held_out]
    test = [square(f, SIZE) for f in test_files]
    to_tensor = lambda arrs: torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).contiguous()  # noqa: E731
    return to_tensor(train), to_tensor(test), [f.name for f in test_files]


def fake_photos(n: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """Smooth random colour blobs (uint8), so that the edge detector has something to find."""
    low = torch.rand(n, 3, 4, 4, generator=generator)
    smooth = F.interpolate(low, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    return (smooth * 255).to(torch.uint8)


def all_edges(photos_u8: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """Edge maps (N, 1, H, W) uint8 (255 = white, 0 = line) of photos (N, 3, H, W) uint8, on their device."""
    out = [(photo_to_lines(photos_u8[i:i + chunk].float() / 255.0) * 255).to(torch.uint8)
           for i in range(0, photos_u8.shape[0], chunk)]
    return torch.cat(out)


def cached_edges(photos_u8: torch.Tensor, cache_dir: Path = EDGE_CACHE) -> torch.Tensor:
    """``all_edges(photos_u8)``, kept in ``cache_dir`` under a digest of the photos (Canny on thousands of photos
    takes minutes on one CPU thread; every start and resume needs them)."""
    digest = hashlib.sha256(photos_u8.cpu().numpy().tobytes()).hexdigest()[:16]
    path = cache_dir / f"edges-{digest}.safetensors"
    if path.is_file():
        return load_file(str(path))["edges"].to(photos_u8.device)
    edges = all_edges(photos_u8)
    cache_dir.mkdir(parents=True, exist_ok=True)
    save_file({"edges": edges.cpu().contiguous()}, str(path))
    return edges


def batch(photos: torch.Tensor, edges: torch.Tensor, n: int, thicken_prob: float, generator: torch.Generator):
    """A random batch (edges x (n, 1, 128, 128), photos y (n, 3, 128, 128)) in [0, 1]: same random crop and flip for
    both."""
    dev = photos.device
    idx = torch.randint(0, photos.shape[0], (n,), generator=generator).to(dev)
    room = photos.shape[-1] - SIZE
    oy, ox = (torch.randint(0, room + 1, (2, n), generator=generator)).to(dev)
    rows = (oy[:, None] + torch.arange(SIZE, device=dev))[:, :, None]          # (n, 128, 1)
    cols = (ox[:, None] + torch.arange(SIZE, device=dev))[:, None, :]          # (n, 1, 128)
    flip = (torch.rand(n, generator=generator) < 0.5).to(dev)
    cols = torch.where(flip[:, None, None], cols.flip(-1), cols)
    pick = idx[:, None, None]
    y = photos[pick, :, rows, cols].permute(0, 3, 1, 2).float() / 255.0         # (n, 3, 128, 128)
    x = edges[pick, :, rows, cols].permute(0, 3, 1, 2).float() / 255.0          # (n, 1, 128, 128)
    thick = (torch.rand(n, generator=generator) < thicken_prob).to(dev)[:, None, None, None]
    return torch.where(thick, thicken(x, 1), x), y


def export_examples(data_dir: Path, out: Path = EXAMPLES_DIR) -> list[Path]:
    """The tab's test-set examples: edge maps (never the photos, which are not ours to share) of a few
    held-out photos, enlarged 2x with crisp pixels to 256x256, as 1-bit PNGs."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in EXAMPLE_NAMES:
        photo = torch.from_numpy(square(Path(data_dir) / CLASS_DIR / name, SIZE)).permute(2, 0, 1)[None].float() / 255.0
        lines = photo_to_lines(photo)[0, 0].numpy() > 0.5                           # (128, 128) bool, True = white
        img = PIL.Image.fromarray(lines).resize((2 * SIZE, 2 * SIZE), PIL.Image.NEAREST)
        path = out / f"test_{Path(name).stem}.png"
        img.save(path, optimize=True)
        written.append(path)
    return written


# --- checkpoints ---------------------------------------------------------------------------

def optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    """An Adam state as flat tensors (for safetensors) + the JSON-friendly rest."""
    sd = opt.state_dict()
    tensors = {f"{i}.{k}": v.detach().contiguous() for i, s in sd["state"].items() for k, v in s.items()}
    return tensors, {"param_groups": sd["param_groups"]}


def load_optimizer(opt: torch.optim.Optimizer, tensors: dict, meta: dict):
    state: dict = {}
    for key, value in tensors.items():
        i, k = key.split(".", 1)
        state.setdefault(int(i), {})[k] = value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_checkpoint(folder: Path, nets: dict, opts: dict, rng: torch.Generator, meta: dict, grid: PIL.Image.Image):
    """Weights and Adam moments as safetensors, the random-number states, ``meta`` (position, architecture,
    history) as JSON, a sample grid. Written to a sibling folder first, then swapped in, so that an interruption
    leaves the previous checkpoint whole."""
    tmp, old = folder.with_name(folder.name + ".tmp"), folder.with_name(folder.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    meta = dict(meta)
    for name, net in nets.items():
        save_file({k: v.detach().contiguous() for k, v in net.state_dict().items()}, str(tmp / f"{name}.safetensors"))
    for name, opt in opts.items():
        tensors, rest = optimizer_tensors(opt)
        save_file(tensors, str(tmp / f"{name}.safetensors"))
        meta[name] = rest
    states = {"batches": rng.get_state(), "torch": torch.get_rng_state()}    # batches, and dropout
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state()
    save_file(states, str(tmp / "rng.safetensors"))
    (tmp / "state.json").write_text(json.dumps(meta, indent=1))
    grid.save(tmp / "samples.png")
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(folder: Path, nets: dict, opts: dict, rng: torch.Generator, device) -> dict:
    """Restore what ``save_checkpoint`` wrote (in place); returns its meta (position, architecture, history).
    A checkpoint written without ``--ema`` starts the average from the generator's weights."""
    meta = json.loads((folder / "state.json").read_text())
    for name, net in nets.items():
        if name == "generator_ema" and not (folder / f"{name}.safetensors").is_file():
            net.load_state_dict(nets["generator"].state_dict(), strict=True)
            continue
        net.load_state_dict(load_file(str(folder / f"{name}.safetensors"), device=str(device)), strict=True)
    for name, opt in opts.items():
        load_optimizer(opt, load_file(str(folder / f"{name}.safetensors"), device=str(device)), meta[name])
    if (folder / "rng.safetensors").is_file():
        states = load_file(str(folder / "rng.safetensors"))
        rng.set_state(states["batches"])
        torch.set_rng_state(states["torch"])
        if "cuda" in states and torch.cuda.is_available():
            torch.cuda.set_rng_state(states["cuda"])
    return meta


def checkpoint_generator(folder: Path, name: str = "generator") -> UNetGenerator:
    """The generator ``name`` of a checkpoint, built from the architecture recorded in it (eval mode, CPU)."""
    meta = json.loads((Path(folder) / "state.json").read_text())
    g = UNetGenerator(**meta["generator_config"])
    g.load_state_dict(load_file(str(Path(folder) / f"{name}.safetensors")), strict=True)
    return g.eval()


class WeightAverage:
    """An exponential moving average of a network's weights (and BatchNorm statistics): after each step,
    ``average ← decay · average + (1 − decay) · net``, on the tensors in place."""

    def __init__(self, average: nn.Module, net: nn.Module, decay: float):
        pairs = list(zip(average.state_dict().values(), net.state_dict().values()))
        self.floats = [(a, b) for a, b in pairs if a.is_floating_point()]
        self.counts = [(a, b) for a, b in pairs if not a.is_floating_point()]   # e.g. num_batches_tracked
        self.decay = decay

    @torch.no_grad()
    def update(self):
        torch._foreach_lerp_([a for a, _ in self.floats], [b for _, b in self.floats], 1.0 - self.decay)
        for a, b in self.counts:
            a.copy_(b)


def command_line(args) -> str:
    """The command that gives ``args`` (the options that differ from their defaults), for the model card."""
    defaults = vars(parse_args([]))
    words = ["python training/train_pix2pix.py"]
    for key, value in vars(args).items():
        if value == defaults.get(key) or key in ("eval_only", "grid", "update_cards", "export_to", "train_pairs"):
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + key.replace("_", "-"))
        else:
            words.append(f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}")
    return " ".join(words)


def perceptual_loss(cnn, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Feature ("perceptual") loss: the L1 distance between EfficientNet-Lite0 activations of the generated and the
    real images (N, 3, H, W) in [0, 1], averaged over PERCEPTUAL_LAYERS (``features`` normalises the images as the
    network was trained: ImageNet mean and standard deviation). ``cnn`` is frozen; the gradient reaches ``fake``."""
    upto = int(PERCEPTUAL_LAYERS[-1].removeprefix("block"))
    f_fake = cnn.features(fake, upto=upto)
    with torch.no_grad():
        f_real = cnn.features(real, upto=upto)
    return sum(F.l1_loss(f_fake[k], f_real[k]) for k in PERCEPTUAL_LAYERS) / len(PERCEPTUAL_LAYERS)


# --- evaluation ----------------------------------------------------------------------------

@torch.no_grad()
def translate(g, edges: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    g.eval()
    return torch.cat([g(edges[i:i + batch_size]) for i in range(0, edges.shape[0], batch_size)])


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) of images in [0, 1]."""
    mse = (a - b).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1.0 / mse)


@torch.no_grad()
def evaluate(generators: dict, cnn, test_edges: torch.Tensor, test_photos: torch.Tensor,
             reference: torch.Tensor) -> dict:
    """Per generator: mean L1 (pixels in [0, 1]), mean per-image PSNR, FID-Lite0 of G(x) vs the real test photos
    and the checkerboard score (``models.pix2pix.checkerboard_score``) of G(x). ``reference``: as many real training
    photos, whose FID-Lite0 to the test photos (and checkerboard score) is the floor at this sample size."""
    y = test_photos.float() / 255.0
    x = test_edges.float() / 255.0
    stats_y = gaussian_stats(lite0_features(cnn, y))                      # FID-Lite0 = distance to these
    fid = lambda images: frechet_distance(*gaussian_stats(lite0_features(cnn, images)), *stats_y)  # noqa: E731
    out = {}
    for name, g in generators.items():
        fake = translate(g, x)
        out[name] = {"l1": float((fake - y).abs().mean()), "psnr": float(psnr(fake, y).mean()),
                     "fid_lite0": fid(fake), "checkerboard": checkerboard_score(fake)}
    real = reference.float() / 255.0
    out["real training photos (floor)"] = {"fid_lite0": fid(real), "checkerboard": checkerboard_score(real)}
    return out


def metrics_table(results: dict, n_test: int) -> str:
    lines = [f"Test split: {n_test} held-out cat photos at 128x128 (`training/splits/{SLUG}-test.txt`), "
             "input = their Canny edge maps.", "",
             "| generator | L1 ↓ | PSNR ↑ | FID-Lite0 ↓ | checkerboard ↓ |", "|---|---|---|---|---|"]
    for name, r in results.items():
        board = f"{r['checkerboard']:.2f}" if "checkerboard" in r else "–"
        if "l1" in r:
            lines.append(f"| {name} | {r['l1']:.4f} | {r['psnr']:.2f} dB | {r['fid_lite0']:.2f} | {board} |")
        else:
            lines.append(f"| {name} | – | – | {r['fid_lite0']:.2f} | {board} |")
    lines += ["", "L1: mean absolute error per pixel and channel, images in [0, 1]; PSNR: mean over images; "
              "FID-Lite0: Fréchet distance of EfficientNet-Lite0 features (not comparable with published FIDs; "
              f"with only {n_test} images it is biased upwards — compare the rows, not other papers); checkerboard: "
              "power of the 2-pixel periods in the images' mean spectrum over that of their neighbouring frequencies "
              "(`models.pix2pix.checkerboard_score`; a smooth spectrum gives about 1, a checkerboard a peak: more)."]
    return "\n".join(lines)


@torch.no_grad()
def sample_grid(generators: dict, test_edges: torch.Tensor, test_photos: torch.Tensor,
                rows: int = GRID_ROWS) -> PIL.Image.Image:
    """Rows of test examples; columns: edge map | each generator's output | real photo."""
    x = test_edges[:rows].float() / 255.0
    cols = [x.repeat(1, 3, 1, 1), *(translate(g, x) for g in generators.values()), test_photos[:rows].float() / 255.0]
    images = torch.stack(cols, dim=1).flatten(0, 1)                         # (rows·cols, 3, 128, 128), row by row
    return to_pil(grid(images, nrow=len(cols), pad=0))


def history_lines(history: list[dict], n_train: int) -> str:
    """The commands of a run (one per start or resume), each with its steps, epochs, minutes and device."""
    return "\n".join(f"{h['command']}  # steps {h['from_step']}–{h['to_step']}: {h['to_step'] - h['from_step']} steps "
                     f"({(h['to_step'] - h['from_step']) * h['batch_size'] / max(n_train, 1):.0f} epochs) in "
                     f"{h['seconds'] / 60:.1f} min on {h['device']}" for h in history)


def card(slug: str, gan: bool, table: str, training_command: str, n_train: int, n_test: int,
         config: dict | None = None, perceptual_weight: float = 0.0, ema: float = 0.0) -> dict:
    config = config or {}
    extras = []
    if config.get("encoder") == "lite0":
        extras.append("its encoder is EfficientNet-Lite0 (stem and 16 blocks), initialised from the ImageNet weights "
                      "of `pretrained/efficientnet-lite0` (transfer learning), with skip connections at 64, 32, 16, "
                      "8 and 4 px and the edge map itself at 128 px")
    if config.get("upsample") == "resize":
        extras.append("it doubles the size by resize-convolutions (nearest-neighbour, then 3x3) instead of transposed "
                      "convolutions, which leave a checkerboard (Odena et al. 2016)")
    if gan and perceptual_weight:
        extras.append(f"its loss adds {perceptual_weight:g} · a feature loss (L1 between EfficientNet-Lite0 "
                      f"activations of output and photo after {', '.join(PERCEPTUAL_LAYERS)})")
    if gan and ema:
        extras.append(f"its weights are an exponential moving average (decay {ema:g}) of the trained generator's "
                      "over the steps (Yazıcı et al. 2019)")
    return {
        "title": f"{slug}: pix2pix U-Net, edge maps → cat photos" + ("" if gan else " (L1 loss only)"),
        "description": (
            "The pix2pix generator (Isola et al., CVPR 2017): a U-Net with skip connections and dropout that turns "
            "a black-on-white edge map (128x128) into a cat photo. "
            + ("Trained with the conditional GAN loss (a 70x70 PatchGAN discriminator that sees the edge map and the "
               "photo) plus 100 · L1." if gan else
               "Trained with the L1 loss alone, on the same batches as the cGAN + L1 generator, to show what the "
               "adversarial term adds (the paper's Figure 4): L1 alone predicts the average of the plausible photos, "
               "which is blurry.")
            + (" Beyond the paper: " + "; ".join(extras) + "." if extras else "")
        ),
        "data": "The gallery's real cat photographs (hcaptcha `domestic_cat`; research/educational use only, not "
                "redistributed), paired with their Canny edge maps (`models/edges.py`): trained on "
                f"{n_train:,} pairs; the {TEST_COUNT} photos listed in `training/splits/{SLUG}-test.txt` are held out "
                f"(the figures below are on the {n_test} of them that were available).",
        "training_command": training_command,
        "metrics": table + "\n\nReproduce with `python training/train_pix2pix.py --eval-only`"
                   + (f" (or, for this folder, `--eval-only --output-dir pretrained/{slug}`)." if slug != SLUG and gan
                      else "."),
        "usage": f"from models.pix2pix import UNetGenerator\nfrom models.edges import photo_to_lines\n"
                 f"g = UNetGenerator.from_pretrained(\"pretrained/{slug}\", strict=True).eval()\n"
                 f"photo_like = g(photo_to_lines(photos_128px))  # (N, 3, 128, 128) in [0, 1]",
    }


def run_command(run: dict, args, n_train: int) -> str:
    """The training command(s) of a finished run's metrics.json (older runs recorded no history)."""
    if run.get("history"):
        return history_lines(run["history"], n_train)
    steps, seconds = run["position"]["step"], run["position"]["seconds"]
    device, batch_size = run.get("device", "cuda"), run.get("batch_size", args.batch_size)
    return (f"python training/train_pix2pix.py --device {device} --steps {run.get('steps', args.steps)} "
            f"--max-minutes {run.get('max_minutes', args.max_minutes):g} --batch-size {batch_size}  "
            f"# {steps} steps ({steps * batch_size / max(n_train, 1):.0f} epochs) "
            f"in {seconds / 60:.1f} min on {device}")


def update_cards(args, table: str, n_test: int):
    """Rewrite the README.md of both saved generators with ``table`` (e.g. measured again on another machine, on the
    full test split). The training facts come from the run's ``metrics.json``; the weights are not touched (the
    model card is not part of SHA256SUMS)."""
    run = json.loads((Path(args.checkpoint_dir) / "metrics.json").read_text())
    n_train = run.get("n_train") or args.train_pairs
    if not n_train:
        raise SystemExit("metrics.json does not record the number of training pairs: pass --train-pairs N")
    for gan, out in ((True, args.output_dir), (False, args.l1_output_dir)):
        g = UNetGenerator.from_pretrained(out, strict=True)
        info = card(Path(out).name, gan, table, run_command(run, args, n_train), n_train, n_test,
                    dict(g._hub_mixin_config or {}), run.get("perceptual_weight", 0.0), run.get("ema", 0.0))
        g.generate_model_card(**info).save(Path(out) / "README.md")
        print(f"rewrote {Path(out) / 'README.md'}")


def shipped(folder) -> UNetGenerator | None:
    """The generator saved in ``folder`` (e.g. pretrained/pix2pix-edges2cats), or None if there is none."""
    return UNetGenerator.from_pretrained(folder, strict=True) if (Path(folder) / "config.json").is_file() else None


def evaluate_checkpoint(args, cnn, test_edges, test_u8, reference, device, n_train: int):
    """--eval-only / --export-to with --resume: the checkpoint's cGAN generator ("after") beside the one in
    --output-dir ("before"): figures, a before/after grid, and with --export-to a published folder."""
    folder = Path(args.resume)
    meta = json.loads((folder / "state.json").read_text())
    step = meta["position"]["step"]
    after = checkpoint_generator(folder, "generator_ema" if meta.get("ema") else "generator").to(device)
    before = shipped(args.output_dir)
    gens = {f"before: {Path(args.output_dir).name}": before} if before is not None else {}
    gens[f"after: {folder.parent.name} at step {step}"] = after
    gens = {k: g.to(device).eval() for k, g in gens.items()}
    results = evaluate(gens, cnn, test_edges, test_u8, reference)
    print(metrics_table(results, test_u8.shape[0]))
    if args.grid:
        sample_grid(gens, test_edges, test_u8, rows=16).save(args.grid)
        print(f"grid (edges | {' | '.join(gens)} | real) written to {args.grid}")
    if args.export_to:
        out = Path(args.export_to)
        mine = {f"cGAN + 100·L1 ({out.name})": results[name] for name in gens if name.startswith("after")}
        table = metrics_table({**mine, **{k: v for k, v in results.items() if k not in gens}}, test_u8.shape[0])
        info = card(out.name, True, table, history_lines(meta["history"], meta.get("n_train", n_train)),
                    meta.get("n_train", n_train), test_u8.shape[0], meta["generator_config"],
                    meta.get("perceptual_weight", 0.0), meta.get("ema", 0.0))
        save_model(after.cpu().eval(), out, info)
        print(f"published {out} (config.json, model.safetensors, README.md, SHA256SUMS)")


# --- main ----------------------------------------------------------------------------------

def main(args):
    t_start = time.time()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    command = command_line(args)
    args.checkpoint_dir = args.checkpoint_dir or str(PROJECT_ROOT / "runs" / args.run_name / "checkpoint")
    rng = seed_everything(args.seed)
    if args.export_examples:
        for path in export_examples(Path(args.data_dir)):
            print(f"wrote {path}")
        return
    if args.export_to and not args.resume:
        raise SystemExit("--export-to publishes a checkpoint: name it with --resume runs/<run-name>/checkpoint")
    if args.dry_run:                                 # 3 steps (or --steps N up to 10) of 4 fake pairs
        args.steps, args.batch_size = args.steps if args.steps <= 10 else 3, 4
        train_u8, test_u8 = fake_photos(12, args.load_size, rng), fake_photos(8, SIZE, rng)
    else:
        train_u8, test_u8, _names = load_cats(Path(args.data_dir), args.load_size)
    train_u8, test_u8 = train_u8.to(device), test_u8.to(device)
    edges = all_edges if args.dry_run else cached_edges
    test_edges = edges(test_u8)                                                       # (M, 1, 128, 128) uint8
    print(f"{train_u8.shape[0]} training pairs, {test_u8.shape[0]} test pairs on {device}")
    cnn = EfficientNetLite0.from_pretrained(PROJECT_ROOT / "pretrained" / "efficientnet-lite0", strict=True)
    cnn = cnn.to(device).eval()
    cnn.requires_grad_(False)
    reference = train_u8[:test_u8.shape[0], :, :SIZE, :SIZE] if args.dry_run else \
        F.interpolate(train_u8[:test_u8.shape[0]].float(), size=(SIZE, SIZE), mode="area").round().to(torch.uint8)

    if args.eval_only or args.export_to:
        if args.resume:
            evaluate_checkpoint(args, cnn, test_edges, test_u8, reference, device, train_u8.shape[0])
            return
        gens = {"cGAN + 100·L1 (pix2pix-edges2cats)": UNetGenerator.from_pretrained(args.output_dir, strict=True),
                "L1 only (pix2pix-edges2cats-l1)": UNetGenerator.from_pretrained(args.l1_output_dir, strict=True)}
        if args.before:  # before | cGAN + L1 | L1 only | real
            gens = {f"before: {args.before}": UNetGenerator.from_pretrained(args.before, strict=True), **gens}
        gens = {k: g.to(device).eval() for k, g in gens.items()}
        table = metrics_table(evaluate(gens, cnn, test_edges, test_u8, reference), test_u8.shape[0])
        print(table)
        if args.update_cards:
            update_cards(args, table, test_u8.shape[0])
        if args.grid:
            sample_grid(gens, test_edges, test_u8, rows=16).save(args.grid)
            print(f"grid (edges | {' | '.join(gens)} | real) written to {args.grid}")
        return

    train_edges = edges(train_u8)                                                     # (N, 1, 144, 144) uint8
    resume = Path(args.resume) if args.resume else None
    if resume is not None and not (resume / "state.json").is_file():
        print(f"no checkpoint in {resume} yet: starting afresh")
        resume = None
    meta = json.loads((resume / "state.json").read_text()) if resume else {}
    g_config = meta.get("generator_config") or dict(
        base_channels=4 if args.dry_run else args.base_channels,
        max_multiplier=2 if args.dry_run else args.max_multiplier, upsample=args.upsample, encoder=args.encoder)
    d_channels = meta.get("d_channels") or (4 if args.dry_run else args.d_channels)
    if args.start_from and resume is None:                          # fine-tuning a saved generator
        g = UNetGenerator.from_pretrained(args.start_from, strict=True).to(device)
        g_config = json.loads((Path(args.start_from) / "config.json").read_text())   # its architecture
    else:
        g = UNetGenerator(**g_config).to(device)
        if g_config.get("encoder") == "lite0" and resume is None:
            g.init_encoder(cnn)                                     # transfer learning: ImageNet filters to start
    nets = {"generator": g}
    if args.l1_baseline:
        nets["generator_l1"] = g_l1 = UNetGenerator(**g_config).to(device)
        g_l1.load_state_dict(g.state_dict())                      # both start from the same weights
    nets["discriminator"] = d = PatchDiscriminator(base_channels=d_channels).to(device)
    adam = lambda net: torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.5, 0.999))  # noqa: E731
    opts = {f"opt_{name}": adam(net) for name, net in nets.items()}
    opt_g, opt_d = opts["opt_generator"], opts["opt_discriminator"]
    if args.ema:                                   # not trained: follows G (after the optimisers, so it has none)
        nets["generator_ema"] = g_ema = UNetGenerator(**g_config).to(device).requires_grad_(False)
        g_ema.load_state_dict(g.state_dict())
    position = {"step": 0, "progress": 0.0, "seconds": 0.0, "schedule_start": 0}
    if resume:
        meta = load_checkpoint(resume, nets, opts, rng, device)
    average = WeightAverage(g_ema, g, args.ema) if args.ema else None
    if resume:
        position = {"schedule_start": 0, **meta["position"]}
        print(f"resumed from {resume} at step {position['step']}")
        if args.restart_schedule:
            position.update(progress=0.0, schedule_start=position["step"])
    history = meta.get("history", [])
    showing = {"cGAN + L1": g, **({"cGAN + L1, average": g_ema} if args.ema else {}),
               **({"L1 only": nets["generator_l1"]} if args.l1_baseline else {})}
    checkpoints = Path(args.checkpoint_dir)
    budget = args.max_minutes * 60
    t_train, last_checkpoint, cpu0 = time.time(), time.time(), time.process_time()
    p0, s0, step0 = position["progress"], position["seconds"], position["step"]
    step, progress = step0, p0
    n_train = train_u8.shape[0]

    def snapshot() -> dict:
        """Everything but the tensors that a checkpoint must hold, as of now."""
        seconds = time.time() - t_train
        segment = {"command": command, "device": args.device, "batch_size": args.batch_size,
                   "from_step": step0, "to_step": step, "seconds": seconds, "cpu_seconds": time.process_time() - cpu0}
        return {"position": {"step": step, "progress": progress, "seconds": s0 + seconds,
                             "schedule_start": position["schedule_start"]},
                "generator_config": g_config, "d_channels": d_channels, "n_train": n_train,
                "perceptual_weight": args.perceptual_weight, "ema": args.ema, "history": history + [segment]}

    bar = tqdm(total=args.steps, initial=step - position["schedule_start"], desc="pix2pix", mininterval=5.0)
    for net in nets.values():
        net.train()
    while True:
        # Progress in [0, 1]: by steps or by the time budget, whichever is further along.
        progress = max((step - position["schedule_start"]) / args.steps,
                       p0 + (1 - p0) * (time.time() - t_start) / budget)
        if progress >= 1.0:
            break
        lr = args.lr * min(1.0, 2 * (1 - progress))                                # constant, then linear decay
        for opt in opts.values():
            for group in opt.param_groups:
                group["lr"] = lr
        x, y = batch(train_u8, train_edges, args.batch_size, args.thicken_prob, rng)   # (B,1,128,128), (B,3,128,128)

        # D: real pairs (x, y) → 1, fake pairs (x, G(x)) → 0.
        fake = g(x)
        real_logits, fake_logits = d(x, y), d(x, fake.detach())                          # (B, 1, 14, 14) each
        loss_d = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                        + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # G: fool D, and stay close to y in L1 (on the [-1, 1] scale of the reference code, hence the 2·), and
        # optionally in EfficientNet-Lite0 features.
        gen_logits = d(x, fake)
        loss_adv = F.binary_cross_entropy_with_logits(gen_logits, torch.ones_like(gen_logits))
        loss_l1 = 2 * F.l1_loss(fake, y)
        loss_g = loss_adv + args.l1_weight * loss_l1
        loss_feat = perceptual_loss(cnn, fake, y) if args.perceptual_weight else torch.zeros(())
        if args.perceptual_weight:
            loss_g = loss_g + args.perceptual_weight * loss_feat
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if average is not None:
            average.update()

        # G_L1: the same batch, L1 only.
        if args.l1_baseline:
            loss_l1_only = 2 * F.l1_loss(g_l1(x), y)
            opts["opt_generator_l1"].zero_grad(set_to_none=True)
            loss_l1_only.backward()
            opts["opt_generator_l1"].step()

        step += 1
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(d=f"{loss_d.item():.3f}", adv=f"{loss_adv.item():.3f}", l1=f"{loss_l1.item():.3f}",
                            feat=f"{loss_feat.item():.3f}", lr=f"{lr:.1e}", refresh=False)
        if time.time() - last_checkpoint > args.checkpoint_minutes * 60 or args.dry_run:
            save_checkpoint(checkpoints, nets, opts, rng, snapshot(), sample_grid(showing, test_edges, test_u8))
            for net in showing.values():
                net.train()
            last_checkpoint = time.time()
    bar.close()
    run = snapshot()
    save_checkpoint(checkpoints, nets, opts, rng, run, sample_grid(showing, test_edges, test_u8))
    print(f"checkpoint: {checkpoints} (step {step})")

    published = g_ema if args.ema else g
    names = {"cGAN + 100·L1 (pix2pix-edges2cats)": published}
    if args.ema:
        names["cGAN + 100·L1, last weights (not the average)"] = g
    if args.l1_baseline:
        names["L1 only (pix2pix-edges2cats-l1)"] = nets["generator_l1"]
    results = evaluate(names, cnn, test_edges, test_u8, reference)
    table = metrics_table(results, test_u8.shape[0])
    print(table)
    n_test = test_u8.shape[0]
    run.update(results=results, n_test=n_test, device=args.device, steps=args.steps, max_minutes=args.max_minutes,
               batch_size=args.batch_size)
    (checkpoints / "metrics.json").write_text(json.dumps(run, indent=1))
    for gan, net, out, repo in ((True, published, args.output_dir, args.hub_repo_id),
                                (False, nets.get("generator_l1"), args.l1_output_dir, args.l1_hub_repo_id)):
        if net is None:
            continue
        info = card(Path(out).name, gan, table, history_lines(run["history"], n_train), n_train, n_test, g_config,
                    args.perceptual_weight, args.ema)
        save_model(net.cpu().eval(), out, info)
        print(f"saved {out}")
        if args.push_to_hub:
            push_folder(out, repo)


if __name__ == "__main__":
    main(parse_args())
