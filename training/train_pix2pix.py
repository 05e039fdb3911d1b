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

Usage (from the project root)::

    python training/train_pix2pix.py --device cuda --data-dir ../shared/data --max-minutes 20
    python training/train_pix2pix.py --resume runs/pix2pix/checkpoint          # continue after an interruption
    python training/train_pix2pix.py --eval-only --grid /tmp/grid.png          # L1, PSNR, FID-Lite0 on the test split
    python training/train_pix2pix.py --export-examples                         # the tab's test-set edge maps
    python training/train_pix2pix.py --dry-run --output-dir /tmp/p --l1-output-dir /tmp/p1 --checkpoint-dir /tmp/pc
"""

import argparse
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

from models.edges import photo_to_lines, thicken  # noqa: E402
from models.efficientnet_lite import EfficientNetLite0  # noqa: E402
from models.frechet import fid_lite0  # noqa: E402
from models.imaging import grid, to_pil  # noqa: E402
from models.pix2pix import PatchDiscriminator, UNetGenerator  # noqa: E402
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


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing hcaptcha/domestic_cat/*.jpg")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / SLUG), help="cGAN + L1 generator")
    p.add_argument("--l1-output-dir", default=str(PROJECT_ROOT / "pretrained" / f"{SLUG}-l1"), help="L1-only generator")
    p.add_argument("--checkpoint-dir", default=str(PROJECT_ROOT / "runs" / "pix2pix" / "checkpoint"))
    p.add_argument("--resume", help="a checkpoint folder written by an earlier run")
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
    p.add_argument("--dry-run", action="store_true", help="a few steps on fake data, for tests")
    p.add_argument("--eval-only", action="store_true", help="evaluate the saved generators on the test split")
    p.add_argument("--grid", help="with --eval-only: write a PNG grid of test results here")
    p.add_argument("--update-cards", action="store_true",
                   help="with --eval-only: rewrite both model cards (README.md) with these figures and the training "
                        "run recorded in <checkpoint-dir>/metrics.json")
    p.add_argument("--export-examples", action="store_true",
                   help="only write the edge maps of a few test photos (EXAMPLE_NAMES) to "
                        f"{EXAMPLES_DIR.relative_to(PROJECT_ROOT)}")
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


def save_checkpoint(folder: Path, nets: dict, opts: dict, position: dict, grid: PIL.Image.Image):
    """Weights and Adam moments as safetensors, the position (step, progress, seconds) as JSON, a sample grid."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"position": position}
    for name, net in nets.items():
        save_file({k: v.detach().contiguous() for k, v in net.state_dict().items()},
                  str(folder / f"{name}.safetensors"))
    for name, opt in opts.items():
        tensors, rest = optimizer_tensors(opt)
        save_file(tensors, str(folder / f"{name}.safetensors"))
        meta[name] = rest
    (folder / "state.json").write_text(json.dumps(meta))
    grid.save(folder / "samples.png")


def load_checkpoint(folder: Path, nets: dict, opts: dict, device) -> dict:
    meta = json.loads((folder / "state.json").read_text())
    for name, net in nets.items():
        net.load_state_dict(load_file(str(folder / f"{name}.safetensors"), device=str(device)), strict=True)
    for name, opt in opts.items():
        load_optimizer(opt, load_file(str(folder / f"{name}.safetensors"), device=str(device)), meta[name])
    return meta["position"]


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
    """Per generator: mean L1 (pixels in [0, 1]), mean per-image PSNR and FID-Lite0 of G(x) vs the real test photos.
    ``reference``: as many real training photos, whose FID-Lite0 to the test photos is the floor at this sample size."""
    y = test_photos.float() / 255.0
    x = test_edges.float() / 255.0
    out = {}
    for name, g in generators.items():
        fake = translate(g, x)
        out[name] = {"l1": float((fake - y).abs().mean()), "psnr": float(psnr(fake, y).mean()),
                     "fid_lite0": fid_lite0(cnn, fake, y)}
    out["real training photos (floor)"] = {"fid_lite0": fid_lite0(cnn, reference.float() / 255.0, y)}
    return out


def metrics_table(results: dict, n_test: int) -> str:
    lines = [f"Test split: {n_test} held-out cat photos at 128x128 (`training/splits/{SLUG}-test.txt`), "
             "input = their Canny edge maps.", "",
             "| generator | L1 ↓ | PSNR ↑ | FID-Lite0 ↓ |", "|---|---|---|---|"]
    for name, r in results.items():
        if "l1" in r:
            lines.append(f"| {name} | {r['l1']:.4f} | {r['psnr']:.2f} dB | {r['fid_lite0']:.2f} |")
        else:
            lines.append(f"| {name} | – | – | {r['fid_lite0']:.2f} |")
    lines += ["", "L1: mean absolute error per pixel and channel, images in [0, 1]; PSNR: mean over images; "
              "FID-Lite0: Fréchet distance of EfficientNet-Lite0 features (not comparable with published FIDs; "
              f"with only {n_test} images it is biased upwards — compare the rows, not other papers)."]
    return "\n".join(lines)


@torch.no_grad()
def sample_grid(generators: dict, test_edges: torch.Tensor, test_photos: torch.Tensor,
                rows: int = GRID_ROWS) -> PIL.Image.Image:
    """Rows of test examples; columns: edge map | each generator's output | real photo."""
    x = test_edges[:rows].float() / 255.0
    cols = [x.repeat(1, 3, 1, 1), *(translate(g, x) for g in generators.values()), test_photos[:rows].float() / 255.0]
    images = torch.stack(cols, dim=1).flatten(0, 1)                         # (rows·cols, 3, 128, 128), row by row
    return to_pil(grid(images, nrow=len(cols), pad=0))


def card(args, gan: bool, table: str, steps: int, seconds: float, n_train: int, n_test: int) -> dict:
    slug = SLUG if gan else f"{SLUG}-l1"
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
        ),
        "data": "The gallery's real cat photographs (hcaptcha `domestic_cat`; research/educational use only, not "
                "redistributed), paired with their Canny edge maps (`models/edges.py`): trained on "
                f"{n_train:,} pairs; the {TEST_COUNT} photos listed in `training/splits/{SLUG}-test.txt` are held out "
                f"(the figures below are on the {n_test} of them that were available).",
        "training_command": f"python training/train_pix2pix.py --device {args.device} --steps {args.steps} "
                            f"--max-minutes {args.max_minutes:g} --batch-size {args.batch_size}  "
                            f"# {steps} steps ({steps * args.batch_size / max(n_train, 1):.0f} epochs) "
                            f"in {seconds / 60:.1f} min on {args.device}",
        "metrics": table + "\n\nReproduce with `python training/train_pix2pix.py --eval-only`.",
        "usage": f"from models.pix2pix import UNetGenerator\nfrom models.edges import photo_to_lines\n"
                 f"g = UNetGenerator.from_pretrained(\"pretrained/{slug}\", strict=True).eval()\n"
                 f"photo_like = g(photo_to_lines(photos_128px))  # (N, 3, 128, 128) in [0, 1]",
    }


def update_cards(args, table: str, n_test: int):
    """Rewrite the README.md of both saved generators with ``table`` (e.g. measured again on another machine, on the
    full test split). The training facts come from the run's ``metrics.json``; the weights are not touched (the
    model card is not part of SHA256SUMS)."""
    run = json.loads((Path(args.checkpoint_dir) / "metrics.json").read_text())
    trained = argparse.Namespace(**{**vars(args), "device": run.get("device", "cuda"),
                                    "steps": run.get("steps", args.steps),
                                    "max_minutes": run.get("max_minutes", args.max_minutes),
                                    "batch_size": run.get("batch_size", args.batch_size)})
    n_train = run.get("n_train") or args.train_pairs
    if not n_train:
        raise SystemExit("metrics.json does not record the number of training pairs: pass --train-pairs N")
    for gan, out in ((True, args.output_dir), (False, args.l1_output_dir)):
        g = UNetGenerator.from_pretrained(out, strict=True)
        info = card(trained, gan, table, run["position"]["step"], run["position"]["seconds"], n_train, n_test)
        g.generate_model_card(**info).save(Path(out) / "README.md")
        print(f"rewrote {Path(out) / 'README.md'}")


# --- main ----------------------------------------------------------------------------------

def main(args):
    t_start = time.time()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    rng = seed_everything(args.seed)
    if args.export_examples:
        for path in export_examples(Path(args.data_dir)):
            print(f"wrote {path}")
        return
    if args.dry_run:
        args.steps, args.batch_size = 3, 4
        train_u8, test_u8 = fake_photos(12, args.load_size, rng), fake_photos(8, SIZE, rng)
    else:
        train_u8, test_u8, _names = load_cats(Path(args.data_dir), args.load_size)
    train_u8, test_u8 = train_u8.to(device), test_u8.to(device)
    train_edges, test_edges = all_edges(train_u8), all_edges(test_u8)                   # (N, 1, H, W) uint8
    print(f"{train_u8.shape[0]} training pairs, {test_u8.shape[0]} test pairs on {device}")
    cnn = EfficientNetLite0.from_pretrained(PROJECT_ROOT / "pretrained" / "efficientnet-lite0", strict=True)
    cnn = cnn.to(device).eval()
    cnn.requires_grad_(False)
    reference = train_u8[:test_u8.shape[0], :, :SIZE, :SIZE] if args.dry_run else \
        F.interpolate(train_u8[:test_u8.shape[0]].float(), size=(SIZE, SIZE), mode="area").round().to(torch.uint8)

    if args.eval_only:
        gens = {"cGAN + 100·L1 (pix2pix-edges2cats)": UNetGenerator.from_pretrained(args.output_dir, strict=True),
                "L1 only (pix2pix-edges2cats-l1)": UNetGenerator.from_pretrained(args.l1_output_dir, strict=True)}
        gens = {k: g.to(device).eval() for k, g in gens.items()}
        table = metrics_table(evaluate(gens, cnn, test_edges, test_u8, reference), test_u8.shape[0])
        print(table)
        if args.update_cards:
            update_cards(args, table, test_u8.shape[0])
        if args.grid:
            sample_grid(gens, test_edges, test_u8, rows=16).save(args.grid)
            print(f"grid (edges | cGAN+L1 | L1 only | real) written to {args.grid}")
        return

    g_kwargs = dict(base_channels=args.base_channels, max_multiplier=args.max_multiplier)
    if args.dry_run:
        g_kwargs = dict(base_channels=4, max_multiplier=2)
        args.d_channels = 4
    g, g_l1 = UNetGenerator(**g_kwargs).to(device), UNetGenerator(**g_kwargs).to(device)
    g_l1.load_state_dict(g.state_dict())                          # both start from the same weights
    d = PatchDiscriminator(base_channels=args.d_channels).to(device)
    adam = lambda net: torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.5, 0.999))  # noqa: E731
    opt_g, opt_l1, opt_d = adam(g), adam(g_l1), adam(d)
    nets = {"generator": g, "generator_l1": g_l1, "discriminator": d}
    opts = {"opt_generator": opt_g, "opt_generator_l1": opt_l1, "opt_discriminator": opt_d}
    position = {"step": 0, "progress": 0.0, "seconds": 0.0}
    if args.resume:
        position = load_checkpoint(Path(args.resume), nets, opts, device)
        print(f"resumed from {args.resume} at step {position['step']}")
    showing = {"cGAN + L1": g, "L1 only": g_l1}
    checkpoints = Path(args.checkpoint_dir)
    budget = args.max_minutes * 60
    t_train, last_checkpoint = time.time(), time.time()
    p0, s0 = position["progress"], position["seconds"]
    step, progress = position["step"], p0

    bar = tqdm(total=args.steps, initial=step, desc="pix2pix", mininterval=5.0)
    g.train(), g_l1.train(), d.train()
    while True:
        # Progress in [0, 1]: by steps or by the time budget, whichever is further along.
        progress = max(step / args.steps, p0 + (1 - p0) * (time.time() - t_start) / budget)
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

        # G: fool D, and stay close to y in L1 (on the [-1, 1] scale of the reference code, hence the 2·).
        gen_logits = d(x, fake)
        loss_adv = F.binary_cross_entropy_with_logits(gen_logits, torch.ones_like(gen_logits))
        loss_l1 = 2 * F.l1_loss(fake, y)
        opt_g.zero_grad(set_to_none=True)
        (loss_adv + args.l1_weight * loss_l1).backward()
        opt_g.step()

        # G_L1: the same batch, L1 only.
        loss_l1_only = 2 * F.l1_loss(g_l1(x), y)
        opt_l1.zero_grad(set_to_none=True)
        loss_l1_only.backward()
        opt_l1.step()

        step += 1
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(d=f"{loss_d.item():.3f}", adv=f"{loss_adv.item():.3f}", l1=f"{loss_l1.item():.3f}",
                            l1_only=f"{loss_l1_only.item():.3f}", lr=f"{lr:.1e}", refresh=False)
        if time.time() - last_checkpoint > args.checkpoint_minutes * 60 or args.dry_run:
            position = {"step": step, "progress": progress, "seconds": s0 + time.time() - t_train}
            save_checkpoint(checkpoints, nets, opts, position, sample_grid(showing, test_edges, test_u8))
            g.train(), g_l1.train()
            last_checkpoint = time.time()
    bar.close()
    seconds = s0 + time.time() - t_train
    position = {"step": step, "progress": progress, "seconds": seconds}
    save_checkpoint(checkpoints, nets, opts, position, sample_grid(showing, test_edges, test_u8))

    results = evaluate({"cGAN + 100·L1 (pix2pix-edges2cats)": g, "L1 only (pix2pix-edges2cats-l1)": g_l1},
                       cnn, test_edges, test_u8, reference)
    table = metrics_table(results, test_u8.shape[0])
    print(table)
    n_train, n_test = train_u8.shape[0], test_u8.shape[0]
    run = {"position": position, "results": results, "n_train": n_train, "n_test": n_test, "device": args.device,
           "steps": args.steps, "max_minutes": args.max_minutes, "batch_size": args.batch_size}
    (checkpoints / "metrics.json").write_text(json.dumps(run, indent=1))
    for gan, net, out, repo in ((True, g, args.output_dir, args.hub_repo_id),
                                (False, g_l1, args.l1_output_dir, args.l1_hub_repo_id)):
        save_model(net.cpu().eval(), out, card(args, gan, table, step, seconds, n_train, n_test))
        print(f"saved {out}")
        if args.push_to_hub:
            push_folder(out, repo)


if __name__ == "__main__":
    main(parse_args())
