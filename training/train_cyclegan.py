"""Train CycleGAN (Zhu, Park, Isola & Efros, ICCV 2017) between real horse photos and "cloud horses".

Two unpaired domains of the gallery's photographs (research/educational use only; never redistributed):
* A = ``hcaptcha/horse``                 (3,670 real horse photos),
* B = ``hcaptcha/horse_made_of_clouds``  (1,495 stylised horses made of clouds).
A fixed test split is held out in both (``--test-fraction`` of each folder, chosen by a seeded shuffle of
the sorted file names); its file names are written to ``test_split.json`` in the output folders and the
checkpoint, and ``--eval-only`` reads that file back (the data folder of the training run may have held
other files than yours: the published weights were trained on 1,000 of the horse photos).

Two generators, G: A → B (slug ``cyclegan-horse2cloudhorse``) and F: B → A (``cyclegan-cloudhorse2horse``),
ResNet generators with 6 residual blocks at 128 px, and one 70x70 PatchGAN discriminator per domain
(D_B judges G's outputs, D_A judges F's). The paper's losses, for a horse a and a cloud horse b:

    least-squares GAN (Mao et al. 2017):  L_GAN(G, D_B) = E[(D_B(b) − 1)²] + E[D_B(G(a))²]     (D minimises)
                                          G minimises E[(D_B(G(a)) − 1)²]                        (same for F, D_A)
    cycle consistency, λ = 10:            λ · (‖F(G(a)) − a‖₁ + ‖G(F(b)) − b‖₁)
    identity, 0.5 · λ:                    0.5 · λ · (‖G(b) − b‖₁ + ‖F(a) − a‖₁)
                                          (keeps colours when no change is needed)

The discriminators see fakes from a *history pool* of the last 50 generated images (Shrivastava et al. 2017)
half of the time, which damps oscillations. Adam (lr 2e-4, β₁ = 0.5); the learning rate stays constant for the
first half of the budget and then decays linearly to zero (the paper: 100 + 100 epochs). With ``--max-minutes``
the budget is wall time, so the schedule is a function of elapsed time; otherwise it is ``--steps``.
Augmentation (on the device): images are loaded at 144 px, then randomly cropped to 128 px and flipped.

Usage (from the project root)::

    python training/train_cyclegan.py --data-dir ../shared/data --device cuda --max-minutes 20
    python training/train_cyclegan.py --resume runs/cyclegan/checkpoint --max-minutes 20   # continue
    python training/train_cyclegan.py --start-from pretrained/cyclegan-horse2cloudhorse \
        pretrained/cyclegan-cloudhorse2horse --cycle-weight 20 --lr 5e-5 --max-minutes 20  # fine-tune the shipped pair
    python training/train_cyclegan.py --start-from <G> <F> --global-stats --film-only --film-lr 5e-3 \
        --d-warmup 100 --max-minutes 35    # add the brightness layer (models.cyclegan.GlobalStatsFiLM), train only it
    python training/train_cyclegan.py --start-from <G> <F> --global-stats --gamma-prob 0.3 --d-warmup 200 \
        --lr 1e-4 --max-minutes 7.4        # then the whole pair, shown photos of every brightness
    python training/train_cyclegan.py --eval-only --eval-dir runs/cyclegan-eval --write-card  # FID-Lite0, cycle L1
    python training/train_cyclegan.py --eval-only --before <old G> <old F> --figure before_after.jpg \
        --figure-photos horse/1400.jpg     # before/after table and picture, plus any photo as a last column
    python training/train_cyclegan.py --export-failures /tmp/failures --failure-files horse/<a test photo>.jpg
    python training/train_cyclegan.py --dry-run --output-dir /tmp/g --reverse-output-dir /tmp/f
    python training/train_cyclegan.py --upsample resize ...    # resize-convolutions: no checkerboard

The published weights: 5,318 steps of batch 8 on a shared H200, then the brightness layer alone for 35 minutes on
2 CPU cores, then 3,700 steps of the whole pair with ``--gamma-prob 0.3`` (30 % of the photos brighter or darker)
on a shared H200 (the commands are in the model cards).
"""

import argparse
import json
import math
import random
import signal
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

from models.cyclegan import CycleGANGenerator, PatchDiscriminator  # noqa: E402
from models.imaging import grid, luma, strip, to_pil  # noqa: E402
from models.pix2pix import checkerboard_score  # noqa: E402
from training.common import DEFAULT_DATA_DIR, PROJECT_ROOT, push_folder, save_model, seed_everything  # noqa: E402

DOMAIN_A, DOMAIN_B = "horse", "horse_made_of_clouds"
SLUG_G, SLUG_F = "cyclegan-horse2cloudhorse", "cyclegan-cloudhorse2horse"
SPLIT_FILE = "test_split.json"
TRAINING_FILE = "training.json"   # steps, minutes and arguments of the run, beside the weights
# Held-out test images that the tab offers as examples (names only: the photos may not be redistributed).
EXAMPLES_JSON = PROJECT_ROOT / "demos" / "examples" / "cyclegan" / "examples.json"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing hcaptcha/<class>/*.jpg")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / SLUG_G), help="G: horse -> cloud horse")
    p.add_argument("--reverse-output-dir", help=f"F: cloud horse -> horse (default: {SLUG_F} beside --output-dir)")
    p.add_argument("--checkpoint-dir", default=str(PROJECT_ROOT / "runs" / "cyclegan" / "checkpoint"))
    p.add_argument("--resume", help="a checkpoint folder written by an earlier run")
    p.add_argument("--start-from", nargs=2, metavar=("G_DIR", "F_DIR"),
                   help="train on from these saved generators (their config sets the shape; new discriminators; "
                        "the held-out split saved with G_DIR stays held out)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--image-size", type=int, default=128, help="training crop")
    p.add_argument("--load-size", type=int, default=144, help="images are resized to this, then randomly cropped")
    p.add_argument("--base-channels", type=int, default=32, help="generator width c (64 in the paper)")
    p.add_argument("--res-blocks", type=int, default=6)
    p.add_argument("--upsample", choices=["transpose", "resize", "bilinear"],
                   help="the generators' upsampling: transposed convolutions (the paper; the default of a new run), "
                        "resize-convolutions (nearest-neighbour doubling then 3x3: no checkerboard, Odena et al. 2016) "
                        "or bilinear doubling then 3x3 (smoother: no trace of the nearest-neighbour's 2-pixel blocks). "
                        "With --start-from: the saved generators' own, unless given; resize and bilinear have the same "
                        "weights, so a saved pair may switch between them")
    p.add_argument("--global-stats", action="store_true",
                   help="hand the input's colour statistics past the instance norms (models.cyclegan.GlobalStatsFiLM), "
                        "so that a bright photo can come back bright; with --start-from, added to the saved generators "
                        "(starting as the identity)")
    p.add_argument("--film-only", action="store_true",
                   help="with --start-from and --global-stats: train only the added FiLM layers (the saved generators' "
                        "own weights stay as they are, so their translation cannot get worse while the cycle learns "
                        "brightness)")
    p.add_argument("--film-lr", type=float,
                   help="with --film-only: the FiLM layers' learning rate (few weights: larger than --lr, which the "
                        "discriminators keep)")
    p.add_argument("--d-warmup", type=int, default=0,
                   help="with --start-from: the first this many steps train only the new discriminators (G and F "
                        "fixed), so that they judge well before the generators move")
    p.add_argument("--grayscale-prob", type=float, default=0.0,
                   help="share of training images turned black-and-white (both domains), so that a black-and-white "
                        "photo comes back through the cycle without colour")
    p.add_argument("--gamma-prob", type=float, default=0.0,
                   help="share of training images made brighter or darker by a random gamma (both domains), so that "
                        "a bright photo comes back bright through the cycle")
    p.add_argument("--disc-channels", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=8, help="1 in the paper")
    p.add_argument("--steps", type=int, default=200_000, help="upper bound; --max-minutes usually stops first")
    p.add_argument("--max-minutes", type=float, help="wall-time budget; the lr schedule follows elapsed time")
    p.add_argument("--decay-fraction", type=float, default=0.5, help="linear lr decay over the last part of the budget")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--cycle-weight", type=float, default=10.0, help="λ")
    p.add_argument("--identity-weight", type=float, default=0.5, help="times λ")
    p.add_argument("--pool-size", type=int, default=50)
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.add_argument("--checkpoint-minutes", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dry-run", action="store_true", help="a few steps on fake data, for tests")
    p.add_argument("--fake-data", action="store_true", help="random images of the real sizes (timing runs)")
    p.add_argument("--eval-only", action="store_true", help="evaluate the saved generators on the test split")
    p.add_argument("--eval-dir", help="with --eval-only: write grids of test results and per-image errors here")
    p.add_argument("--before", nargs=2, metavar=("G_DIR", "F_DIR"),
                   help="with --eval-only: also evaluate an earlier pair of generators on the same test split "
                        "and print a before/after table")
    p.add_argument("--figure", help="with --before: write a before/after picture of held-out images here")
    p.add_argument("--figure-photos", default="",
                   help="with --figure: horse photos added as the last columns, e.g. horse/1400.jpg (the issue's white "
                        "horse, a training photo: say so wherever the figure is shown)")
    p.add_argument("--write-card", action="store_true", help="with --eval-only: rewrite both model cards (README.md) "
                                                             "with the measured figures")
    p.add_argument("--export-examples", metavar="DIR", help="copy the test images of demos/examples/cyclegan/"
                                                             "examples.json to DIR and stop (only where allowed)")
    p.add_argument("--export-failures", metavar="DIR", help="with --failure-files: write input | translation | "
                                                             "reconstruction | error strips of those test images to "
                                                             "DIR")
    p.add_argument("--failure-files", default="",
                   help="comma-separated, e.g. horse/101.jpg,horse_made_of_clouds/1005.jpg")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="e.g. my-org/cyclegan-horse2cloudhorse (F goes to the same name with "
                                         "cloudhorse2horse)")
    args = p.parse_args(argv)
    if args.reverse_output_dir is None:
        args.reverse_output_dir = str(Path(args.output_dir).parent / SLUG_F)
    return args


# --- data ----------------------------------------------------------------------------------

def split_files(data_dir: Path, domain: str, test_fraction: float, seed: int) -> tuple[list[Path], list[Path]]:
    """(train, test) file lists: a seeded shuffle of the sorted names, the first ``test_fraction`` held out."""
    files = sorted((Path(data_dir) / "hcaptcha" / domain).glob("*.jpg"))
    if not files:
        raise SystemExit(f"no images in {Path(data_dir) / 'hcaptcha' / domain}")
    order = list(range(len(files)))
    random.Random(f"{seed}-{domain}").shuffle(order)
    n_test = max(1, round(len(files) * test_fraction))
    test = sorted(files[i] for i in order[:n_test])
    train = sorted(files[i] for i in order[n_test:])
    return train, test


def split_from_file(path: Path, data_dir: Path) -> tuple[list[Path], list[Path], list[Path], list[Path]]:
    """(train A, test A, train B, test B) from a saved ``test_split.json``: its test files, and every other file of
    the data folder as "train" (the evaluation's real reference images, or the images a ``--start-from`` run
    trains on)."""
    saved = json.loads(Path(path).read_text())
    root = Path(data_dir) / "hcaptcha"
    out = []
    for domain, key in ((DOMAIN_A, "test_a"), (DOMAIN_B, "test_b")):
        test = [root / name for name in saved[key]]
        missing = [p for p in test if not p.is_file()]
        if missing:
            raise SystemExit(f"{len(missing)} test files of {path} are not in {root}, e.g. {missing[0]}")
        names = set(saved[key])
        out += [sorted(p for p in (root / domain).glob("*.jpg") if f"{domain}/{p.name}" not in names), test]
    return tuple(out)


def load_images(files: list[Path], size: int) -> torch.Tensor:
    """Photos resized (bicubic, whole image: they are square) to size x size: uint8 (N, 3, size, size)."""
    arrays = []
    for f in files:
        with PIL.Image.open(f) as img:
            arrays.append(np.asarray(img.convert("RGB").resize((size, size), PIL.Image.BICUBIC)))
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def fake_images(n: int, size: int, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, 3, size, size, generator=generator) * 255).to(torch.uint8)


def random_batch(images: torch.Tensor, batch_size: int, crop: int, generator: torch.Generator,
                 grayscale_prob: float = 0.0, gamma_prob: float = 0.0) -> torch.Tensor:
    """A random batch of random crops, randomly flipped left-right, as floats in [0, 1] (on the images' device).

    ``grayscale_prob``: the share of the batch turned into black-and-white photos (ITU-R 601 luma in all three
    channels), so that the cycle also learns to bring a black-and-white photo back without colour.
    ``gamma_prob``: the share of the batch made brighter or darker by a random gamma, x ** γ with γ between 1/2
    (a bright, washed-out studio photo) and 2 (a dark one), so that the cycle learns to bring back the brightness
    it was given instead of an average photo's."""
    n, _, h, w = images.shape
    idx = torch.randint(0, n, (batch_size,), generator=generator)
    top = torch.randint(0, h - crop + 1, (batch_size,), generator=generator)
    left = torch.randint(0, w - crop + 1, (batch_size,), generator=generator)
    flip = torch.rand(batch_size, generator=generator) < 0.5
    rows = (top[:, None] + torch.arange(crop)).to(images.device)                      # (B, crop)
    cols = (left[:, None] + torch.arange(crop)).to(images.device)
    cols = torch.where(flip[:, None].to(images.device), cols.flip(1), cols)
    x = images[idx.to(images.device)]                                                   # (B, 3, h, w) uint8
    x = x.gather(2, rows[:, None, :, None].expand(-1, 3, -1, w))                        # (B, 3, crop, w)
    x = x.gather(3, cols[:, None, None, :].expand(-1, 3, crop, -1))                     # (B, 3, crop, crop)
    x = x.float() / 255.0
    if grayscale_prob > 0:
        grey = (torch.rand(batch_size, generator=generator) < grayscale_prob).to(images.device)
        x = torch.where(grey[:, None, None, None], to_grayscale(x), x)
    if gamma_prob > 0:
        pick = torch.rand(batch_size, generator=generator) < gamma_prob
        gamma = torch.exp((torch.rand(batch_size, generator=generator) * 2 - 1) * math.log(2.0))   # 1/2 ... 2
        gamma = torch.where(pick, gamma, torch.ones(batch_size)).to(images.device)
        x = x.clamp_min(1e-4) ** gamma[:, None, None, None]
    return x


class HistoryPool:
    """Shrivastava et al. (2017): the discriminator sees, half of the time, an older fake instead of the newest.

    Holds up to ``size`` generated images; for each new image, once full, with probability 1/2 returns an old one
    (and stores the new one in its place), else returns the new one.
    """

    def __init__(self, size: int, generator: torch.Generator):
        self.size, self.generator = size, generator
        self.images: torch.Tensor | None = None

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        fakes = fakes.detach()
        if self.size == 0:
            return fakes
        out = []
        for img in fakes:
            n = 0 if self.images is None else self.images.shape[0]
            if n < self.size:
                self.images = img[None].clone() if self.images is None else torch.cat([self.images, img[None]])
                out.append(img)
            elif torch.rand(1, generator=self.generator).item() < 0.5:
                j = int(torch.randint(0, n, (1,), generator=self.generator))
                out.append(self.images[j].clone())
                self.images[j] = img
            else:
                out.append(img)
        return torch.stack(out)


def lr_factor(progress: float, decay_fraction: float) -> float:
    """1 for the first (1 - decay_fraction) of the budget, then linearly down to 0 at the end (progress = 1)."""
    if progress < 1.0 - decay_fraction:
        return 1.0
    return max(0.0, (1.0 - progress) / decay_fraction)


# --- checkpoints ---------------------------------------------------------------------------

def optimizer_tensors(opt: torch.optim.Optimizer, prefix: str) -> dict[str, torch.Tensor]:
    """Adam's moments as flat named tensors (safetensors, no pickle)."""
    out = {}
    for i, state in opt.state_dict()["state"].items():
        for k, v in state.items():
            out[f"{prefix}.{i}.{k}"] = torch.as_tensor(v).detach().cpu().clone().contiguous()
    return out


def load_optimizer_tensors(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], prefix: str):
    sd = opt.state_dict()
    state: dict = {}
    for key, v in tensors.items():
        if key.startswith(prefix + "."):
            _, i, k = key.split(".", 2)
            state.setdefault(int(i), {})[k] = v
    sd["state"] = state
    opt.load_state_dict(sd)


def save_checkpoint(folder: Path, nets: dict, opts: dict, pools: dict, state: dict, split: dict):
    folder.mkdir(parents=True, exist_ok=True)
    for name, net in nets.items():
        save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()},
                  str(folder / f"{name}.safetensors"))
    tensors = {}
    for name, opt in opts.items():
        tensors.update(optimizer_tensors(opt, name))
    for name, pool in pools.items():
        if pool.images is not None:
            tensors[f"pool_{name}.images"] = pool.images.cpu().contiguous()
    save_file(tensors, str(folder / "optimizers.safetensors"))
    (folder / "state.json").write_text(json.dumps(state, indent=1))
    (folder / SPLIT_FILE).write_text(json.dumps(split, indent=1))


def load_checkpoint(folder: Path, nets: dict, opts: dict, pools: dict, device) -> dict:
    for name, net in nets.items():
        net.load_state_dict(load_file(str(folder / f"{name}.safetensors"), device=str(device)), strict=True)
    tensors = load_file(str(folder / "optimizers.safetensors"))   # on the CPU: Adam moves its moments itself
    for name, opt in opts.items():
        load_optimizer_tensors(opt, tensors, name)
    for name, pool in pools.items():
        images = tensors.get(f"pool_{name}.images")
        pool.images = None if images is None else images.to(device)
    return json.loads((folder / "state.json").read_text())


# --- evaluation ----------------------------------------------------------------------------

def to_grayscale(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) in [0, 1] -> the same photos in black and white (ITU-R 601 luma in all three channels)."""
    return luma(x).expand(-1, 3, -1, -1)


def is_black_and_white(x: torch.Tensor) -> torch.Tensor:
    """(N,) True for the photos of (N, 3, H, W) in [0, 1] that have no colour: their pixels are on average less than
    0.01 (~2.5/255) from their own grey. JPEG's colour noise keeps a black-and-white photo's under that (its largest
    pixel difference may reach 30/255); the least colourful colour photos of the horse test split, a brown horse on
    grey sand, are just above it."""
    return (x - to_grayscale(x)).abs().mean(dim=(1, 2, 3)) < 0.01


def as_uint8(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] floats -> uint8 pixels, as a saved picture would hold them (what the generators are given)."""
    return (x * 255).round().to(torch.uint8)


def brightest_images(x: torch.Tensor, share: float = 0.05) -> torch.Tensor:
    """Indices of the brightest ``share`` of the images (N, 3, H, W) by mean luma, at least one, brightest first."""
    return luma(x).mean(dim=(1, 2, 3)).argsort(descending=True)[:max(1, round(share * x.shape[0]))]


@torch.no_grad()
def translate_all(net, images: torch.Tensor, device, batch_size: int = 16) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> float [0, 1] (N, 3, H, W) on the CPU."""
    out = [images[:0].float().cpu()]   # so that no images give none
    for start in range(0, images.shape[0], batch_size):
        out.append(net(images[start:start + batch_size].to(device).float() / 255.0).clamp(0, 1).cpu())
    return torch.cat(out)


@torch.no_grad()
def evaluate(g, f, test_a: torch.Tensor, test_b: torch.Tensor, cnn, device) -> dict:
    """FID-Lite0 of G(A_test) vs B_test and of F(B_test) vs A_test, the cycle L1 both ways, and a reference:
    the FID-Lite0 of the untranslated test horses vs the test cloud horses (where a translator starts)."""
    from models.frechet import fid_lite0

    g.eval()
    f.eval()
    a, b = test_a.float() / 255.0, test_b.float() / 255.0
    fake_b, fake_a = translate_all(g, test_a, device), translate_all(f, test_b, device)
    rec_a = translate_all(f, as_uint8(fake_b), device)
    rec_b = translate_all(g, as_uint8(fake_a), device)
    # Chu et al. (2017): how much does an invisible noise of ±2/255 on G(a) move F's reconstruction?
    gen = torch.Generator().manual_seed(0)
    gains = {}
    for key, y, back, rec in (("a", fake_b, f, rec_a), ("b", fake_a, g, rec_b)):
        y8 = (y * 255).round()
        noisy = (y8 + torch.randint(-2, 3, y8.shape, generator=gen)).clamp(0, 255)
        rec_noisy = translate_all(back, noisy.to(torch.uint8), device)
        gains[key] = float((rec_noisy - rec).abs().mean() / ((noisy - y8).abs().mean() / 255))
    # a black-and-white photo must come back black-and-white: every test horse turned grey (luma), through the cycle
    grey = to_grayscale(a)
    rec_grey = translate_all(f, as_uint8(translate_all(g, as_uint8(grey), device)), device)
    grey_errors = (rec_grey - grey).abs().mean(dim=(1, 2, 3))
    already_grey = is_black_and_white(a)     # test photos that are black-and-white already
    # bright photos (a white horse in a white studio): instance norms forget brightness, so these come back too dark
    errors_a = (rec_a - a).abs().mean(dim=(1, 2, 3))
    brightest = brightest_images(a)
    cnn = cnn.to("cpu")
    result = {
        "checkerboard_g": checkerboard_score(fake_b), "checkerboard_f": checkerboard_score(fake_a),
        "checkerboard_real_a": checkerboard_score(a), "checkerboard_real_b": checkerboard_score(b),
        "cycle_l1_grey_a": float(grey_errors.mean()), "cycle_l1_grey_a_max": float(grey_errors.max()),
        "n_grey_test_a": int(already_grey.sum()),
        "cycle_l1_grey_test_a": [float(e) for e in (rec_a - a).abs().mean(dim=(1, 2, 3))[already_grey]],
        "noise_gain_a": gains["a"], "noise_gain_b": gains["b"],
        "n_test_a": a.shape[0], "n_test_b": b.shape[0],
        "n_bright_a": len(brightest), "cycle_l1_bright_a": float(errors_a[brightest].mean()),
        "cycle_l1_bright_a_max": float(errors_a[brightest].max()),
        "fid_g_a2b": fid_lite0(cnn, fake_b, b), "fid_f_b2a": fid_lite0(cnn, fake_a, a),
        "fid_input_a_vs_b": fid_lite0(cnn, a, b),
        "cycle_l1_a": float((rec_a - a).abs().mean()), "cycle_l1_b": float((rec_b - b).abs().mean()),
        "per_image_cycle_l1_a": errors_a.tolist(),
        "per_image_cycle_l1_b": (rec_b - b).abs().mean(dim=(1, 2, 3)).tolist(),
    }
    result["outputs"] = {"fake_b": fake_b, "rec_a": rec_a, "fake_a": fake_a, "rec_b": rec_b}
    return result


def metrics_text(r: dict) -> str:
    return (f"Held-out test split ({r['n_test_a']} horses, {r['n_test_b']} cloud horses, 128 px). "
            f"FID-Lite0 of G(horse) vs the test cloud horses: {r['fid_g_a2b']:.2f}; of F(cloud horse) vs the test "
            f"horses: {r['fid_f_b2a']:.2f} (reference, the untranslated horses vs the cloud horses: "
            f"{r['fid_input_a_vs_b']:.2f}"
            + (f"; real vs real, {r['n_test_a']} other cloud horses (not in the test split) vs the test cloud horses: "
               f"{r['fid_real_b_train_vs_test']:.2f}, {r['n_test_b']} other horses vs the test horses: "
               f"{r['fid_real_a_train_vs_test']:.2f}" if "fid_real_b_train_vs_test" in r else "")
            + f"). Cycle reconstruction L1 (pixels in [0, 1]): horse → G → F "
            f"{r['cycle_l1_a']:.4f}, cloud horse → F → G {r['cycle_l1_b']:.4f}. Noise of ±2/255 on the translation "
            f"moves the reconstruction {r['noise_gain_a']:.1f}× (horses) and {r['noise_gain_b']:.1f}× (cloud horses) "
            "as much as the noise itself. Black-and-white: every test horse turned grey comes back with a cycle L1 of "
            f"{r['cycle_l1_grey_a']:.4f} on average ({r['cycle_l1_grey_a_max']:.4f} at most)"
            + (f"; the {r['n_grey_test_a']} test photos that are black-and-white already: "
               + ", ".join(f"{e:.4f}" for e in r['cycle_l1_grey_test_a']) if r['n_grey_test_a'] else "")
            + f". The {r['n_bright_a']} brightest test horses (5 %, mean luma): cycle L1 {r['cycle_l1_bright_a']:.4f} "
            f"on average ({r['cycle_l1_bright_a_max']:.4f} at most)"
            + f". Checkerboard score (1 = none: the power at the 2-pixel period over its neighbours' mean): G(horse) "
            f"{r['checkerboard_g']:.2f}, F(cloud horse) {r['checkerboard_f']:.2f} (real horses "
            f"{r['checkerboard_real_a']:.2f}, real cloud horses {r['checkerboard_real_b']:.2f}). Reproduce with "
            "`python training/train_cyclegan.py --eval-only`.")


def before_after_table(before: dict, after: dict, before_dirs, after_dirs) -> str:
    """A Markdown table of the main figures of two generator pairs evaluated on the same test split."""
    rows = [("FID-Lite0 G(horse) vs cloud horses ↓", "fid_g_a2b", ".1f"),
            ("FID-Lite0 F(cloud horse) vs horses ↓", "fid_f_b2a", ".1f"),
            ("cycle L1 horse → G → F ↓", "cycle_l1_a", ".4f"),
            ("cycle L1 cloud horse → F → G ↓", "cycle_l1_b", ".4f"),
            ("cycle L1, test horses turned black-and-white (mean) ↓", "cycle_l1_grey_a", ".4f"),
            ("the same, the worst one ↓", "cycle_l1_grey_a_max", ".4f"),
            (f"cycle L1, the {after['n_bright_a']} brightest test horses (mean) ↓", "cycle_l1_bright_a", ".4f"),
            ("the same, the worst one ↓", "cycle_l1_bright_a_max", ".4f"),
            ("checkerboard G(horse) (real photos ≈ 1) ↓", "checkerboard_g", ".2f"),
            ("checkerboard F(cloud horse) ↓", "checkerboard_f", ".2f")]
    head = (f"| on {after['n_test_a']} + {after['n_test_b']} held-out images "
            f"| before ({', '.join(map(str, before_dirs))}) "
            f"| after ({', '.join(map(str, after_dirs))}) |\n|---|---|---|")
    return "\n".join([head] + [f"| {name} | {before[k]:{fmt}} | {after[k]:{fmt}} |" for name, k, fmt in rows]
                      + [f"| untranslated horses vs cloud horses (reference FID-Lite0) | "
                         f"{before['fid_input_a_vs_b']:.1f} | {after['fid_input_a_vs_b']:.1f} |"])


@torch.no_grad()
def before_after_figure(before, after, test_a: torch.Tensor, test_b: torch.Tensor, device, n: int = 6,
                        extra_a: torch.Tensor | None = None):
    """Columns: held-out images (n horses, the first colour one also in black and white, then n cloud horses), then
    the horse photos ``extra_a`` (uint8, any: --figure-photos). Rows: the input, the translation before, after, the
    reconstruction through the cycle before, after."""
    a = test_a[::max(1, test_a.shape[0] // n)][:n].float() / 255.0
    colour = int((~is_black_and_white(a)).float().argmax())   # the first in colour
    a = torch.cat([to_grayscale(a[colour:colour + 1]), a])
    b = test_b[::max(1, test_b.shape[0] // n)][:n].float() / 255.0
    extra = torch.zeros(0, *a.shape[1:]) if extra_a is None else extra_a.float() / 255.0
    rows = [torch.cat([a, b, extra])]
    trans, cycle = [], []
    for g, f in (before, after):
        ya, yb, ye = (translate_all(net, as_uint8(x), device) for net, x in ((g, a), (f, b), (g, extra)))
        trans.append(torch.cat([ya, yb, ye]))
        cycle.append(torch.cat([translate_all(back, as_uint8(y), device) for back, y in ((f, ya), (g, yb), (f, ye))]))
    rows += trans + cycle
    return to_pil(grid(torch.cat(rows), nrow=a.shape[0] + b.shape[0] + extra.shape[0]))


def photo_cycles(names: list[str], photos: torch.Tensor, pairs: dict, device) -> str:
    """For each photo (uint8 (N, 3, H, W)) and each named (G, F) pair: the cycle L1 of photo → G → F, and the mean
    brightness (luma) of the photo and of what comes back (a bright photo coming back darker: what instance norms
    forget)."""
    x = photos.float() / 255.0
    lines = []
    for name, (g, f) in pairs.items():
        rec = translate_all(f, as_uint8(translate_all(g, photos, device)), device)
        for i, photo in enumerate(names):
            lines.append(f"{photo} ({name}): cycle L1 {float((rec[i] - x[i]).abs().mean()):.4f}, mean brightness "
                         f"{float(luma(x[i:i + 1]).mean()):.3f} → back {float(luma(rec[i:i + 1]).mean()):.3f}")
    return "\n".join(lines)


def sample_grid(g, f, a: torch.Tensor, b: torch.Tensor, path: Path):
    """Rows: a, G(a), F(G(a)), b, F(b), G(F(b)) for a few fixed test images; saved as a PNG."""
    with torch.no_grad():
        was = g.training
        g.eval()
        f.eval()
        fb = g(a)
        fa = f(b)
        rows = [a, fb, f(fb), b, fa, g(fa)]
        g.train(was)
        f.train(was)
    picture = grid(torch.cat(rows).cpu(), nrow=a.shape[0], pad=0)   # one row of n images per kind: (6*H, n*W, 3)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_pil(picture).save(path)


def training_commands(run: dict) -> str:
    """The command lines that made a pair of weights, from its training.json (``run``: steps, elapsed, args): with
    --start-from, first those of the weights it started from (``run["started_from"]``), then this run's."""
    args, earlier = argparse.Namespace(**run["args"]), run.get("started_from")
    lines = [training_commands(earlier)] if earlier else []
    if getattr(args, "start_from", None):
        line = (f"python training/train_cyclegan.py --device {args.device} --start-from {' '.join(args.start_from)} "
                + ("--global-stats " if getattr(args, "global_stats", False) else "")
                + ("--film-only " if getattr(args, "film_only", False) else "")
                + (f"--film-lr {args.film_lr:g} " if getattr(args, "film_lr", None) else "")
                # (runs before --upsample could switch a saved pair recorded the then-default "transpose", unused)
                + ("--upsample bilinear " if getattr(args, "upsample", None) == "bilinear" else "")
                + f"--d-warmup {getattr(args, 'd_warmup', 0)} --lr {args.lr:g} --batch-size {args.batch_size} "
                f"--grayscale-prob {getattr(args, 'grayscale_prob', 0):g} --max-minutes {args.max_minutes}")
    else:
        line = (f"python training/train_cyclegan.py --device cuda --batch-size {args.batch_size} "
                f"--max-minutes {args.max_minutes} --base-channels {args.base_channels} --upsample "
                f"{args.upsample} --grayscale-prob {getattr(args, 'grayscale_prob', 0):g}"
                + (" --global-stats" if getattr(args, "global_stats", False) else ""))
    if getattr(args, "gamma_prob", 0):
        line += f" --gamma-prob {args.gamma_prob:g}"
    if getattr(args, "seed", 0):
        line += f" --seed {args.seed}"
    return "\n".join(lines + [f"{line}  # {run['steps']} steps of batch {args.batch_size} in "
                                f"{run['elapsed'] / 60:.1f} min"])


UPSAMPLING_WORDS = {"transpose": "transposed convolutions", "resize": "resize-convolutions",
                    "bilinear": "resize-convolutions with bilinear doubling"}


def card(args, forward: bool, metrics: str, run: dict, net: CycleGANGenerator) -> dict:
    """The model card's fields; ``run``: the training.json of the weights (steps, elapsed, args, started_from);
    ``net``: the generator itself (its config says how it upsamples: a --start-from run may have switched it)."""
    slug, what = (SLUG_G, "horse photos → cloud horses (G: A → B)") if forward else \
        (SLUG_F, "cloud horses → horse photos (F: B → A)")
    first = run
    while first.get("started_from"):   # the shape was set by the first run of the chain
        first = first["started_from"]
    shape = argparse.Namespace(**first["args"])
    return {
        "title": f"{slug}: CycleGAN generator, {what}",
        "description": "One of the two generators of a CycleGAN (Zhu et al., ICCV 2017) trained here between "
                       "unpaired real horse photos and stylised horses made of clouds: a ResNet generator "
                       f"({shape.res_blocks} residual blocks, width {shape.base_channels}, instance norm, reflection "
                       f"padding, {UPSAMPLING_WORDS[net.settings['upsample']]} to upsample), least-squares GAN loss "
                       f"with 70x70 PatchGAN discriminators, cycle loss λ = {args.cycle_weight:g}, identity loss "
                       f"{args.identity_weight:g}·λ, 50-image history pools"
                       + (f", {getattr(args, 'grayscale_prob', 0):.0%} of the training photos turned black-and-white "
                          "(so that a black-and-white photo comes back without colour)"
                          if getattr(args, "grayscale_prob", 0) else "")
                       + (f", {args.gamma_prob:.0%} made brighter or darker by a random gamma (1/2 to 2)"
                          if getattr(args, "gamma_prob", 0) else "")
                       + (". The input's colour statistics (mean and standard deviation of each channel) reach the "
                          "output colours past the instance norms, which forget brightness (a FiLM layer, "
                          "`global_stats`: a bright photo can come back bright)"
                          if getattr(args, "global_stats", False) else "") + ". "
                       f"The other direction is `{SLUG_F if forward else SLUG_G}`.",
        "data": "The gallery's photographs `hcaptcha/horse` and `hcaptcha/horse_made_of_clouds` (a public collection "
                "of image-challenge pictures; no licence stated, research/educational use only, not redistributed). "
                f"The held-out test files are listed in `{SPLIT_FILE}`.",
        "training_command": training_commands(run),
        "metrics": metrics,
        "usage": f"from models.cyclegan import CycleGANGenerator\nmodel = CycleGANGenerator.from_pretrained("
                 f"\"pretrained/{slug}\", strict=True)\n# images in [0, 1], (N, 3, H, W), H and W multiples of 4",
    }


def stop_on_signal(signum, frame):
    raise KeyboardInterrupt


def generator_step(g, f, d_a, d_b, opt_g, real_a, real_b, lam: float, lam_id: float):
    """One step of G and F together: fool both discriminators, close both cycles, leave the target domain unchanged.
    Returns the (attached) translations and the three loss terms."""
    mse, l1 = F.mse_loss, F.l1_loss
    for d in (d_a, d_b):
        d.requires_grad_(False)   # D is only a judge in this step
    fake_b, fake_a = g(real_a), f(real_b)
    rec_a, rec_b = f(fake_b), g(fake_a)
    pred_fb, pred_fa = d_b(fake_b), d_a(fake_a)                             # (B, 1, 14, 14) patch scores
    loss_gan = mse(pred_fb, torch.ones_like(pred_fb)) + mse(pred_fa, torch.ones_like(pred_fa))
    loss_cycle = l1(rec_a, real_a) + l1(rec_b, real_b)
    loss_id = l1(g(real_b), real_b) + l1(f(real_a), real_a) if lam_id > 0 else torch.zeros((), device=real_a.device)
    loss_g = loss_gan + lam * loss_cycle + lam_id * loss_id
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    for d in (d_a, d_b):
        d.requires_grad_(True)
    return fake_b, fake_a, loss_gan, loss_cycle, loss_id


def start_from(folder: str, global_stats: bool, upsample: str | None = None) -> CycleGANGenerator:
    """The saved generator in ``folder``; with ``global_stats``, the same with a FiLM layer added that starts as the
    identity (only its own weights may be missing from the file); with ``upsample``, its resize-convolutions switched
    between nearest-neighbour ("resize") and bilinear doubling (the same weights: only the doubling changes)."""
    saved = CycleGANGenerator.from_pretrained(folder, strict=True)
    config = dict(saved.settings)   # its config.json (with the defaults of what an older one lacks)
    config["global_stats"] = global_stats or saved.film is not None
    own = config["upsample"]
    if upsample and upsample != own:
        if {upsample, own} != {"resize", "bilinear"}:
            raise SystemExit(f"{folder} upsamples with {own!r}: it cannot start a run with --upsample {upsample} "
                             "(only resize and bilinear share their weights)")
        config["upsample"] = upsample
    if config == saved.settings:
        return saved
    net = CycleGANGenerator(**config)
    missing, unexpected = net.load_state_dict(saved.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("film.") for k in missing), (missing, unexpected)
    return net


def train_loop(args, nets, opts, pools, state, train_a, train_b, fixed_a, fixed_b, split, progress, bar,
               t_start, elapsed0, last_ckpt, rng, device):
    """Alternate one generator step (G and F together) and one discriminator step (D_A and D_B) until the budget
    (--max-minutes or --steps) is used up; checkpoint and sample every --checkpoint-minutes."""
    g, f, d_a, d_b = nets["G"], nets["F"], nets["D_A"], nets["D_B"]
    opt_g, opt_d = opts["opt_g"], opts["opt_d"]
    pool_a, pool_b = pools["a"], pools["b"]
    lam, lam_id = args.cycle_weight, args.cycle_weight * args.identity_weight
    mse = F.mse_loss
    checkpoints = Path(args.checkpoint_dir)
    for opt in opts.values():   # each optimizer's own starting rate (--film-lr or --lr), decayed below
        for group in opt.param_groups:
            group.setdefault("initial_lr", group["lr"])
    while state["step"] < args.steps and progress() < 1.0:
        factor = lr_factor(progress(), args.decay_fraction)
        for opt in opts.values():
            for group in opt.param_groups:
                group["lr"] = group["initial_lr"] * factor
        real_a = random_batch(train_a, args.batch_size, args.image_size, rng, args.grayscale_prob,  # (B, 3, 128, 128)
                              args.gamma_prob)
        real_b = random_batch(train_b, args.batch_size, args.image_size, rng, args.grayscale_prob,  # in [0, 1]
                              args.gamma_prob)

        if args.start_from and state["step"] < args.d_warmup:   # new discriminators learn first; G, F fixed
            with torch.no_grad():
                fake_b, fake_a = g(real_a), f(real_b)
            loss_gan = loss_cycle = loss_id = torch.zeros((), device=device)
        else:
            fake_b, fake_a, loss_gan, loss_cycle, loss_id = generator_step(g, f, d_a, d_b, opt_g, real_a, real_b,
                                                                           lam, lam_id)

        # discriminators: real -> 1, (pooled) fake -> 0, halved as in the paper
        loss_d = 0.0
        for d, real, pool, fake in ((d_b, real_b, pool_b, fake_b), (d_a, real_a, pool_a, fake_a)):
            pred_real, pred_fake = d(real), d(pool.query(fake))
            loss_d = loss_d + 0.5 * (mse(pred_real, torch.ones_like(pred_real))
                                     + mse(pred_fake, torch.zeros_like(pred_fake)))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        state["step"] += 1
        state["elapsed"] = elapsed0 + time.time() - t_start
        bar.update(1)
        if state["step"] % 50 == 0 or args.dry_run:
            bar.set_postfix(gan=f"{loss_gan.item():.3f}", cyc=f"{loss_cycle.item():.3f}", idt=f"{loss_id.item():.3f}",
                            d=f"{loss_d.item():.3f}", lr_g=f"{opt_g.param_groups[0]['lr']:.1e}",
                            refresh=False)
        if time.time() - last_ckpt > args.checkpoint_minutes * 60 or args.dry_run:
            save_checkpoint(checkpoints, nets, opts, pools, state, split)
            sample_grid(g, f, fixed_a, fixed_b, checkpoints / f"samples_{state['step']:07d}.png")
            last_ckpt = time.time()


# --- main ----------------------------------------------------------------------------------

def main(args):
    if args.film_only and not (args.start_from and args.global_stats):   # before any data is loaded
        raise SystemExit("--film-only needs --start-from and --global-stats")
    rng = seed_everything(args.seed)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    if args.dry_run:
        args.image_size, args.load_size, args.steps, args.pool_size = 32, 36, min(args.steps, 6), 2
        args.base_channels, args.disc_channels, args.batch_size = 8, 8, 2
        split = {"test_a": ["fake"], "test_b": ["fake"]}
        train_a, train_b = fake_images(6, 36, rng), fake_images(5, 36, rng)
        test_a, test_b = fake_images(4, 32, rng), fake_images(4, 32, rng)
    elif args.fake_data:
        split = {"test_a": ["fake"], "test_b": ["fake"]}
        train_a, train_b = fake_images(3300, args.load_size, rng), fake_images(1350, args.load_size, rng)
        test_a, test_b = fake_images(64, args.image_size, rng), fake_images(64, args.image_size, rng)
    else:
        files_a, files_test_a = split_files(Path(args.data_dir), DOMAIN_A, args.test_fraction, args.seed)
        files_b, files_test_b = split_files(Path(args.data_dir), DOMAIN_B, args.test_fraction, args.seed)
        saved = Path(args.output_dir) / SPLIT_FILE
        if args.start_from and not args.resume:  # fine-tuning: the images held out from those weights stay out
            saved = Path(args.start_from[0]) / SPLIT_FILE
            if not saved.is_file():
                raise SystemExit(f"--start-from: {saved} is missing, so the held-out images are unknown")
        if not args.resume and (args.eval_only or args.export_failures or args.export_examples or args.start_from) \
                and saved.is_file():
            # the split the weights were trained with (the data folder may hold other files)
            files_a, files_test_a, files_b, files_test_b = split_from_file(saved, Path(args.data_dir))
            print(f"test split from {saved}")
        split = {"seed": args.seed, "test_fraction": args.test_fraction,
                 "test_a": [f"{DOMAIN_A}/{p.name}" for p in files_test_a],
                 "test_b": [f"{DOMAIN_B}/{p.name}" for p in files_test_b]}
        test_a, test_b = load_images(files_test_a, args.image_size), load_images(files_test_b, args.image_size)
        if not (args.eval_only or args.export_examples or args.export_failures):
            print(f"loading {len(files_a)} + {len(files_b)} training images ...")
            train_a, train_b = load_images(files_a, args.load_size), load_images(files_b, args.load_size)

    if args.export_examples:
        export_examples(Path(args.data_dir), Path(args.export_examples), split)
        return None

    if args.export_failures:
        g = CycleGANGenerator.from_pretrained(args.output_dir, strict=True).eval()
        f = CycleGANGenerator.from_pretrained(args.reverse_output_dir, strict=True).eval()
        export_failures(g, f, Path(args.data_dir), Path(args.export_failures), args.failure_files.split(","), split,
                        args.image_size)
        return None

    if args.eval_only:
        from models.efficientnet_lite import EfficientNetLite0

        cnn = EfficientNetLite0.from_pretrained(PROJECT_ROOT / "pretrained" / "efficientnet-lite0", strict=True).eval()
        g = CycleGANGenerator.from_pretrained(args.output_dir, strict=True).to(device)
        f = CycleGANGenerator.from_pretrained(args.reverse_output_dir, strict=True).to(device)
        r = evaluate(g, f, test_a, test_b, cnn, device)
        if not args.dry_run and not args.fake_data:  # the floor: other real images vs the real test images
            from models.frechet import fid_lite0

            pick = random.Random(args.seed)
            ref_b = load_images(sorted(pick.sample(files_b, test_a.shape[0])), args.image_size).float() / 255.0
            ref_a = load_images(sorted(pick.sample(files_a, test_b.shape[0])), args.image_size).float() / 255.0
            r["fid_real_b_train_vs_test"] = fid_lite0(cnn, ref_b, test_b.float() / 255.0)
            r["fid_real_a_train_vs_test"] = fid_lite0(cnn, ref_a, test_a.float() / 255.0)
        print(metrics_text(r))
        if args.before:
            g0 = CycleGANGenerator.from_pretrained(args.before[0], strict=True).to(device)
            f0 = CycleGANGenerator.from_pretrained(args.before[1], strict=True).to(device)
            r0 = evaluate(g0, f0, test_a, test_b, cnn, device)
            print(before_after_table(r0, r, args.before, (args.output_dir, args.reverse_output_dir)))
            if args.figure:
                names = args.figure_photos.split(",") if args.figure_photos else []
                extra = load_images([Path(args.data_dir) / "hcaptcha" / name for name in names],
                                    args.image_size) if names else None
                before_after_figure((g0, f0), (g, f), test_a, test_b, device, extra_a=extra).save(args.figure)
                if names:
                    print(photo_cycles(names, extra, {"before": (g0, f0), "after": (g, f)}, device))
                print(f"wrote {args.figure}")
        if args.write_card:
            for net, folder, forward in ((g, args.output_dir, True), (f, args.reverse_output_dir, False)):
                run = json.loads((Path(folder) / TRAINING_FILE).read_text())
                run_args = argparse.Namespace(**run["args"])
                keep = {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.name in (SPLIT_FILE, TRAINING_FILE)}
                save_model(net.cpu(), folder, card(run_args, forward, metrics_text(r), run, net),
                           lambda out, keep=keep: [(out / name).write_bytes(data) for name, data in keep.items()])
        if args.eval_dir:
            write_eval_dir(Path(args.eval_dir), r, test_a, test_b, split)
        return r

    train_a, train_b = train_a.to(device), train_b.to(device)                     # uint8 (N, 3, load, load)
    fixed_a = test_a[:8].to(device).float() / 255.0
    fixed_b = test_b[:8].to(device).float() / 255.0
    shape = dict(base_channels=args.base_channels, res_blocks=args.res_blocks, upsample=args.upsample or "transpose",
                 global_stats=args.global_stats)
    if args.start_from:  # saved generators (their own shape); the discriminators start anew
        g, f = (start_from(folder, args.global_stats, args.upsample).to(device) for folder in args.start_from)
    else:
        g = CycleGANGenerator(**shape).to(device)   # A -> B
        f = CycleGANGenerator(**shape).to(device)   # B -> A
    d_a = PatchDiscriminator(base_channels=args.disc_channels).to(device)   # horse photos: real or F's fake?
    d_b = PatchDiscriminator(base_channels=args.disc_channels).to(device)   # cloud horses: real or G's fake?
    for net in (d_a, d_b) if args.start_from else (g, f, d_a, d_b):
        for m in net.modules():   # the reference code's init: N(0, 0.02)
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                torch.nn.init.normal_(m.weight, 0.0, 0.02)
                torch.nn.init.zeros_(m.bias)
    trained = [p for net in (g, f) for p in (net.film.parameters() if args.film_only else net.parameters())]
    if args.film_only:
        for net in (g, f):
            net.requires_grad_(False)
            net.film.requires_grad_(True)
    g_lr = args.film_lr if args.film_only and args.film_lr else args.lr   # the FiLM layers' few weights: larger
    opt_g = torch.optim.Adam(trained, lr=g_lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(list(d_a.parameters()) + list(d_b.parameters()), lr=args.lr, betas=(0.5, 0.999))
    pool_a, pool_b = HistoryPool(args.pool_size, rng), HistoryPool(args.pool_size, rng)
    nets, opts, pools = {"G": g, "F": f, "D_A": d_a, "D_B": d_b}, {"opt_g": opt_g, "opt_d": opt_d}, \
        {"a": pool_a, "b": pool_b}
    state = {"step": 0, "elapsed": 0.0}
    if args.resume:
        state = load_checkpoint(Path(args.resume), nets, opts, pools, device)
        print(f"resumed at step {state['step']} ({state['elapsed'] / 60:.1f} min)")
    checkpoints = Path(args.checkpoint_dir)
    budget = args.max_minutes * 60 if args.max_minutes else None

    def progress() -> float:
        """Fraction of the budget used: elapsed time (with --max-minutes) or steps."""
        return state["elapsed"] / budget if budget else state["step"] / args.steps

    for net in nets.values():
        net.train()
    t_start, elapsed0, last_ckpt = time.time(), state["elapsed"], time.time()
    bar = tqdm(total=None if budget else args.steps, initial=state["step"], desc="CycleGAN", mininterval=5.0)
    previous = signal.signal(signal.SIGTERM, stop_on_signal)   # a killed run still saves what it has (below)
    try:
        train_loop(args, nets, opts, pools, state, train_a, train_b, fixed_a, fixed_b, split, progress, bar,
                   t_start, elapsed0, last_ckpt, rng, device)
    except KeyboardInterrupt:
        print("interrupted: saving what was trained so far")
    finally:
        signal.signal(signal.SIGTERM, previous)
    bar.close()
    print(f"trained {state['step']} steps in {state['elapsed'] / 60:.1f} min")
    save_checkpoint(checkpoints, nets, opts, pools, state, split)
    sample_grid(g, f, fixed_a, fixed_b, checkpoints / f"samples_{state['step']:07d}.png")

    g, f = g.eval(), f.eval()
    if args.dry_run or args.fake_data:
        metrics = "dry run on random data: no figures"
    else:  # cycle L1 here; FID-Lite0 (slower) with --eval-only on the final weights
        fake_b = translate_all(g, test_a, device)
        rec = translate_all(f, as_uint8(fake_b), device)
        metrics = (f"Cycle reconstruction L1 on the {test_a.shape[0]} held-out horses at the end of training: "
                   f"{float((rec - test_a.float() / 255).abs().mean()):.4f}. FID-Lite0 and both directions: "
                   "`python training/train_cyclegan.py --eval-only` (figures in the gallery's README).")

    started_from = {}   # with --start-from: how the weights it started from were made (their training.json)
    if args.start_from and (Path(args.start_from[0]) / TRAINING_FILE).is_file():
        started_from = {"started_from": json.loads((Path(args.start_from[0]) / TRAINING_FILE).read_text())}

    run = {"steps": state["step"], "elapsed": state["elapsed"], "args": vars(args), **started_from}

    def write_split(folder: Path):
        (folder / SPLIT_FILE).write_text(json.dumps(split, indent=1))
        (folder / TRAINING_FILE).write_text(json.dumps(run, indent=1))

    g, f = g.cpu(), f.cpu()
    save_model(g, args.output_dir, card(args, True, metrics, run, g), write_split)
    save_model(f, args.reverse_output_dir, card(args, False, metrics, run, f), write_split)
    print(f"saved {args.output_dir} and {args.reverse_output_dir}")
    if args.push_to_hub:
        push_folder(args.output_dir, args.hub_repo_id)
        push_folder(args.reverse_output_dir, args.hub_repo_id.replace("horse2cloudhorse", "cloudhorse2horse"))


def write_eval_dir(folder: Path, r: dict, test_a: torch.Tensor, test_b: torch.Tensor, split: dict):
    """Grids of every test image (input, translation, reconstruction, |error| heat) and per-image cycle errors."""
    folder.mkdir(parents=True, exist_ok=True)
    out = r["outputs"]
    for name, x, y, rec in (("a2b", test_a, out["fake_b"], out["rec_a"]),
                            ("b2a", test_b, out["fake_a"], out["rec_b"])):
        x = x.float() / 255.0
        err = (rec - x).abs().mean(dim=1, keepdim=True).mul(4).clamp(0, 1).expand(-1, 3, -1, -1)
        per_page = 16
        for page, start in enumerate(range(0, x.shape[0], per_page)):
            end = min(start + per_page, x.shape[0])
            # one column per test image: input, translation, reconstruction, error (rows of the grid)
            picture = grid(torch.cat([x[start:end], y[start:end], rec[start:end], err[start:end]]), nrow=end - start,
                           pad=0)
            to_pil(picture).save(folder / f"{name}_{page:03d}.png")
    per_image = {"a": dict(zip(split["test_a"], r["per_image_cycle_l1_a"])),
                 "b": dict(zip(split["test_b"], r["per_image_cycle_l1_b"]))}
    (folder / "per_image_cycle_l1.json").write_text(json.dumps(per_image, indent=1))
    summary = {k: v for k, v in r.items() if k not in ("outputs", "per_image_cycle_l1_a", "per_image_cycle_l1_b")}
    (folder / "metrics.json").write_text(json.dumps(summary, indent=1))


def export_examples(data_dir: Path, out: Path, split: dict):
    """Copy the example test images named in ``examples.json`` to ``out`` as ``horse_<n>.jpg`` /
    ``cloudhorse_<n>.jpg`` — only where the photos' terms allow redistribution (ours do not)."""
    out.mkdir(parents=True, exist_ok=True)
    names = json.loads(EXAMPLES_JSON.read_text())
    for name in names["a2b"] + names["b2a"]:
        if name not in split["test_a"] + split["test_b"]:
            raise SystemExit(f"{name} is not in the test split")
        prefix = "horse" if name.startswith(DOMAIN_A + "/") else "cloudhorse"
        with PIL.Image.open(Path(data_dir) / "hcaptcha" / name) as img:
            img.convert("RGB").save(out / f"{prefix}_{Path(name).stem}.jpg", quality=90)
    print(f"wrote {len(names['a2b']) + len(names['b2a'])} examples to {out}")


@torch.no_grad()
def export_failures(g, f, data_dir: Path, out: Path, names: list[str], split: dict, size: int):
    """For each test image ``<domain>/<file>``: a JPEG strip input | translation | reconstruction | 4·|error|."""
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        domain = name.split("/")[0]
        if name not in split["test_a"] + split["test_b"]:
            raise SystemExit(f"{name} is not in the test split")
        forward, backward = (g, f) if domain == DOMAIN_A else (f, g)
        x = load_images([Path(data_dir) / "hcaptcha" / name], size).float() / 255.0
        y = (forward(x).clamp(0, 1) * 255).round() / 255
        rec = backward(y).clamp(0, 1)
        err = (rec - x).abs().mean(dim=1, keepdim=True).mul(4).clamp(0, 1).expand(-1, 3, -1, -1)
        prefix = "horse" if domain == DOMAIN_A else "cloudhorse"
        to_pil(strip(torch.cat([x, y, rec, err]), pad=0)).save(out / f"{prefix}_{Path(name).stem}.jpg", quality=92)
    print(f"wrote {len(names)} failure strips to {out}")


if __name__ == "__main__":
    main(parse_args())
