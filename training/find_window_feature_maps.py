"""Find the DCGAN generator's "window" feature maps, as in §6.3.1 of Radford, Metz & Chintala (2015).

The paper: "on 150 samples, 52 window bounding boxes were drawn manually. On the second highest
convolution layer features, logistic regression was fit to predict whether a feature activation was on a
window (or not), by using the criterion that activations inside the drawn bounding boxes are positives and
random samples from the same images are negatives. Using this simple model, all feature maps with weights
greater than zero were dropped from all spatial locations."

Here:
1. the boxes are ``training/data/dcgan_window_boxes.json`` (drawn by hand on samples ``seed:index`` of
   ``pretrained/dcgan-bedrooms``, see ``training/label_windows.py``);
2. **feature probe**: logistic regression on the 32x32 maps after ``up3`` (``Generator.features``):
   positives = locations whose centre lies inside a box, negatives = as many random locations outside the
   boxes of the same images (each map divided by its standard deviation, so the weights rank the maps);
   the window maps are those with weight > 0, sorted by weight;
3. **image detector** (to *measure* windows in an edited image, which the feature probe cannot do without
   circularity): logistic regression on EfficientNet-Lite0 features of the output images, same boxes;
4. **window score vs k**: for many fresh samples, the detector's predicted window area after dropping the
   top-k window maps, and after dropping k random maps (several draws), for a range of k — with the maps
   zeroed (the paper) and with the maps set to their average activation (which removes a map's spatial
   pattern without shifting the colours that the next layer adds up).

Everything goes into ``<weights>/window_feature_maps.json`` (then SHA256SUMS is rewritten) and a plot.

    python training/find_window_feature_maps.py                    # real weights and boxes (a few minutes on 2 cores)
    python training/find_window_feature_maps.py --dry-run --weights-dir /tmp/g   # tiny synthetic smoke test
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.ImageDraw
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.dcgan import Generator, z_for  # noqa: E402
from models.efficientnet_lite import EfficientNetLite0  # noqa: E402
from models.imaging import to_unit  # noqa: E402
from models.loading import write_checksums  # noqa: E402
from models.window_probe import DETECTOR_GRID, detector_features, probe_logits, window_score  # noqa: E402
from training.common import PROJECT_ROOT, seed_everything  # noqa: E402
from training.label_windows import read_boxes  # noqa: E402

OUTPUT_FILE = "window_feature_maps.json"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights-dir", default=str(PROJECT_ROOT / "pretrained" / "dcgan-bedrooms"))
    p.add_argument("--boxes", default=str(PROJECT_ROOT / "training" / "data" / "dcgan_window_boxes.json"))
    p.add_argument("--plot", default=str(PROJECT_ROOT / "notes" / "dcgan_window_score.png"))
    p.add_argument("--score-samples", type=int, default=300, help="fresh samples per point of the score-vs-k curve")
    p.add_argument("--random-draws", type=int, default=5, help="random map sets per k for the control")
    p.add_argument("--modes", default="zero,mean",
                   help="how the maps are dropped: zero (the paper) and/or mean (set to their average)")
    p.add_argument("--held-out", type=float, default=0.2,
                   help="fraction of labelled images kept out to test the probes")
    p.add_argument("--l2", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dry-run", action="store_true", help="tiny random generator and synthetic boxes, for tests")
    return p.parse_args(argv)


# --- the labelled data ------------------------------------------------------------------------

def box_mask(boxes: list, grid: int, image_size: int = 64) -> torch.Tensor:
    """(grid, grid) bool: the cells whose centre lies inside one of the boxes [x0, y0, x1, y1) (image pixels)."""
    centres = (torch.arange(grid, dtype=torch.float32) + 0.5) * image_size / grid
    mask = torch.zeros(grid, grid, dtype=torch.bool)
    for x0, y0, x1, y1 in boxes:
        inside_y = (centres >= y0) & (centres < y1)
        inside_x = (centres >= x0) & (centres < x1)
        mask |= inside_y[:, None] & inside_x[None, :]
    return mask


def labelled_z(boxes: dict[str, list], nz: int) -> tuple[torch.Tensor, list[list]]:
    """The z (N, nz) of the labelled samples (named ``seed:index``, see ``models.dcgan.z_batch``) and their boxes,
    in a fixed order."""
    names = sorted(boxes, key=lambda s: tuple(int(v) for v in s.split(":")))
    z = z_for([tuple(int(v) for v in n.split(":")) for n in names], nz)
    return z, [boxes[n] for n in names]


def positives_and_negatives(features: torch.Tensor, masks: torch.Tensor, generator: torch.Generator,
                            negatives_per_positive: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's training set: every location inside a box (label 1) and random locations outside the boxes
    of the same images (label 0). features (N, C, H, W), masks (N, H, W) → X (M, C), y (M,)."""
    flat = features.permute(0, 2, 3, 1).reshape(-1, features.shape[1])
    inside = masks.flatten()
    on_images = masks.flatten(1).any(1).repeat_interleave(masks.shape[1] * masks.shape[2])
    pos = flat[inside]
    candidates = torch.nonzero(~inside & on_images).flatten()
    if candidates.numel() == 0:  # no image has a window box: negatives from anywhere
        candidates = torch.nonzero(~inside).flatten()
    n_neg = min(candidates.numel(), max(1, int(round(pos.shape[0] * negatives_per_positive))))
    neg = flat[candidates[torch.randperm(candidates.numel(), generator=generator)[:n_neg]]]
    return torch.cat([pos, neg]), torch.cat([torch.ones(pos.shape[0]), torch.zeros(neg.shape[0])])


def fit_logistic(x: torch.Tensor, y: torch.Tensor, l2: float = 1e-3,
                 iterations: int = 200) -> tuple[torch.Tensor, float]:
    """Weights (D,) and bias of an L2-regularised logistic regression, by L-BFGS on the class-balanced mean
    log-loss."""
    x, y = x.double(), y.double()
    pos_weight = (y == 0).sum().clamp_min(1) / (y == 1).sum().clamp_min(1)
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=iterations, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y, pos_weight=pos_weight)
                + l2 * w.pow(2).sum())
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().float(), float(b.detach())


def auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Area under the ROC curve (the probability that a random positive scores above a random negative)."""
    order = torch.argsort(scores)
    ranks = torch.empty_like(scores, dtype=torch.float64)
    ranks[order] = torch.arange(1, scores.numel() + 1, dtype=torch.float64)
    n_pos, n_neg = int(labels.sum()), int((1 - labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def split(n: int, fraction: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    perm = torch.randperm(n, generator=generator)
    cut = max(1, int(round(n * fraction))) if n > 1 else 0
    return perm[cut:], perm[:cut]


# --- 1. the paper's probe on G's features ------------------------------------------------------

@torch.no_grad()
def fit_feature_probe(g: Generator, z: torch.Tensor, boxes: list, held_out: float, l2: float, generator) -> dict:
    h = g.features(z)                                             # (N, C, 32, 32)
    masks = torch.stack([box_mask(b, h.shape[-1]) for b in boxes])
    scale = h.permute(1, 0, 2, 3).reshape(h.shape[1], -1).std(dim=1).clamp_min(1e-6)
    train, test = split(z.shape[0], held_out, generator)
    x, y = positives_and_negatives(h[train] / scale.view(1, -1, 1, 1), masks[train], generator)
    with torch.enable_grad():
        w, b = fit_logistic(x, y, l2)
    result = {"weights": w.tolist(), "bias": b, "scale": scale.tolist(), "train_positives": int(y.sum()),
              "train_negatives": int((1 - y).sum())}
    if test.numel():
        logits = probe_logits(h[test], w, b, scale)
        result["held_out_auc"] = auc(logits.flatten(), masks[test].flatten().float())
        result["held_out_images"] = int(test.numel())
    order = torch.argsort(w, descending=True)
    result["window_maps"] = [int(c) for c in order if w[c] > 0]
    return result


# --- 2. the image-space detector ---------------------------------------------------------------

@torch.no_grad()
def fit_image_detector(cnn, g: Generator, z: torch.Tensor, boxes: list, held_out: float, l2: float, generator) -> dict:
    images = to_unit(g(z))
    f = torch.cat([detector_features(cnn, images[i:i + 50]) for i in range(0, images.shape[0], 50)])  # (N, D, 24, 24)
    masks = torch.stack([box_mask(b, DETECTOR_GRID) for b in boxes])
    train, test = split(z.shape[0], held_out, generator)
    flat = f[train].permute(0, 2, 3, 1).reshape(-1, f.shape[1])
    mean, std = flat.mean(0), flat.std(0).clamp_min(1e-6)
    x = (flat - mean) / std
    y = masks[train].flatten().float()
    with torch.enable_grad():
        w, b = fit_logistic(x, y, l2)
    det = {"mean": mean.tolist(), "std": std.tolist(), "weights": w.tolist(), "bias": b}
    if test.numel():
        ft = (f[test] - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
        p = torch.sigmoid(torch.einsum("nchw,c->nhw", ft, w) + b)
        det["held_out_auc"] = auc(p.flatten(), masks[test].flatten().float())
        area_true = masks[test].float().mean(dim=(1, 2))
        area_pred = p.mean(dim=(1, 2))
        det["held_out_area_correlation"] = (float(torch.corrcoef(torch.stack([area_true, area_pred]))[0, 1])
                                            if test.numel() > 2 else float("nan"))
        det["held_out_images"] = int(test.numel())
    return det


# --- 3. window score against k ----------------------------------------------------------------

@torch.no_grad()
def map_means(g: Generator, samples: int = 500, seed: int = 0) -> list[float]:
    """The average activation of each map of the second-highest layer over fresh samples (for dropping a map by
    replacing it with its average instead of zero)."""
    z = torch.randn(samples, g.nz, generator=torch.Generator().manual_seed(20_000 + seed))
    return g.features(z).mean(dim=(0, 2, 3)).tolist()


@torch.no_grad()
def score_curve(cnn, g: Generator, detector: dict, window_maps: list[int], samples: int, random_draws: int,
                seed: int, fill=None) -> dict:
    """Mean predicted window area of ``samples`` fresh samples with the top-k window maps dropped and with k
    random maps dropped (mean and spread over ``random_draws`` draws), for k from 0 to len(window_maps).
    ``fill``: None to zero the maps (the paper), or the value (C,) to set each dropped map to."""
    z = torch.randn(samples, g.nz, generator=torch.Generator().manual_seed(10_000 + seed))
    h = g.features(z)
    n = len(window_maps)
    ks = sorted({0, *[k for k in (2, 4, 8, 12, 16, 24, 32) if k < n], n})
    rng = torch.Generator().manual_seed(seed)

    def score(drop):
        images = to_unit(g.decode_from(g.drop(h, drop, fill)))
        return float(window_score(cnn, images, detector).mean())

    curve = {"k": ks, "window": [], "random_mean": [], "random_min": [], "random_max": [], "samples": samples,
             "random_draws": random_draws}
    for k in ks:
        curve["window"].append(score(window_maps[:k]))
        if k:
            draws = [score(torch.randperm(g.ngf, generator=rng)[:k].tolist()) for _draw in range(random_draws)]
        else:
            draws = [curve["window"][0]]
        curve["random_mean"].append(float(np.mean(draws)))
        curve["random_min"].append(float(np.min(draws)))
        curve["random_max"].append(float(np.max(draws)))
    return curve


def plot_curve(curve: dict, path: Path, title: str = "Predicted window area vs number of maps dropped") -> None:
    """A small line plot (PIL): window maps (red) vs random maps (grey: mean, and the range of the draws)."""
    w, h, left, bottom, top, right = 640, 400, 70, 50, 40, 20
    img = PIL.Image.new("RGB", (w, h), "white")
    d = PIL.ImageDraw.Draw(img)
    ks = curve["k"]
    ymax = max(max(curve["window"]), max(curve["random_max"])) * 1.1 or 1.0
    xmax = max(ks) or 1
    px = lambda k: left + (w - left - right) * k / xmax  # noqa: E731
    py = lambda v: h - bottom - (h - bottom - top) * v / ymax  # noqa: E731
    d.line([(left, top), (left, h - bottom), (w - right, h - bottom)], fill="black")
    for i in range(6):
        v = ymax * i / 5
        d.line([(left - 4, py(v)), (left, py(v))], fill="black")
        d.text((5, py(v) - 6), f"{100 * v:.1f}%", fill="black")
    for k in ks:
        d.line([(px(k), h - bottom), (px(k), h - bottom + 4)], fill="black")
        d.text((px(k) - 4, h - bottom + 8), str(k), fill="black")
    d.text((w // 2 - 120, h - 20), "k = number of feature maps zeroed (of %d)" % curve.get("feature_maps", 0),
           fill="black")
    d.text((left, 10), title, fill="black")
    band = ([(px(k), py(v)) for k, v in zip(ks, curve["random_max"])]
            + [(px(k), py(v)) for k, v in zip(ks[::-1], curve["random_min"][::-1])])
    d.polygon(band, fill=(225, 225, 225))
    d.line([(px(k), py(v)) for k, v in zip(ks, curve["random_mean"])], fill=(110, 110, 110), width=3)
    d.line([(px(k), py(v)) for k, v in zip(ks, curve["window"])], fill=(200, 30, 30), width=3)
    d.text((w - 230, top + 5), "top-k window maps dropped", fill=(200, 30, 30))
    d.text((w - 230, top + 20), "k random maps dropped (range)", fill=(110, 110, 110))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


# --- main ----------------------------------------------------------------------------------------

def synthetic_setup(folder: Path, generator: torch.Generator):
    """Dry run: a tiny random generator saved like the real one, and boxes on 12 of its samples."""
    g = Generator(ngf=4)
    g.save_pretrained(folder)
    boxes = {f"{s}:{i}": ([[8, 8, 24, 30]] if i % 2 == 0 else []) for s in range(1) for i in range(12)}
    return boxes


def main(args):
    generator = seed_everything(args.seed)
    t0 = time.time()
    folder = Path(args.weights_dir)
    if args.dry_run:
        boxes = synthetic_setup(folder, generator)
        args.score_samples, args.random_draws = 8, 2
    else:
        boxes = read_boxes(Path(args.boxes))
    g = Generator.from_pretrained(folder, strict=True).eval()
    cnn = EfficientNetLite0.from_pretrained(PROJECT_ROOT / "pretrained" / "efficientnet-lite0", strict=True).eval()
    z, box_lists = labelled_z(boxes, g.nz)
    print(f"{len(box_lists)} labelled samples, {sum(len(b) for b in box_lists)} boxes "
          f"on {sum(1 for b in box_lists if b)} of them")

    probe = fit_feature_probe(g, z, box_lists, args.held_out, args.l2, generator)
    print(f"feature probe: {len(probe['window_maps'])} of {g.ngf} maps have weight > 0; held-out AUC "
          f"{probe.get('held_out_auc', float('nan')):.3f}")
    detector = fit_image_detector(cnn, g, z, box_lists, args.held_out, args.l2, generator)
    print(f"image detector: held-out AUC {detector.get('held_out_auc', float('nan')):.3f}, window-area correlation "
          f"{detector.get('held_out_area_correlation', float('nan')):.3f}")
    means = map_means(g, seed=args.seed)
    curves = {}
    for mode in args.modes.split(","):
        curve = score_curve(cnn, g, detector, probe["window_maps"], args.score_samples, args.random_draws, args.seed,
                            fill=means if mode == "mean" else None)
        curve["feature_maps"] = g.ngf
        curves[mode] = curve
        for k, wv, rv in zip(curve["k"], curve["window"], curve["random_mean"]):
            print(f"[{mode}] k = {k:2d}: window maps dropped {100 * wv:.2f} % window area, "
                  f"random maps {100 * rv:.2f} %")

    result = {
        "description": "DCGAN window-forgetting experiment (Radford et al. 2015, §6.3.1): logistic-regression probe "
                       "on the generator's second-highest conv layer (the 32x32 maps after `up3`); window_maps = maps "
                       "with weight > 0, sorted by weight; detector = logistic regression on EfficientNet-Lite0 "
                       "features of the output image, used to measure windows; score_curve = mean predicted window "
                       "area vs k.",
        "layer": "up3",
        "feature_maps": g.ngf,
        "labelled_samples": len(box_lists),
        "boxes": sum(len(b) for b in box_lists),
        "boxes_file": "training/data/dcgan_window_boxes.json",
        "window_maps": probe["window_maps"],
        "probe": {k: v for k, v in probe.items() if k != "window_maps"},
        "detector": detector,
        "map_means": means,
        "score_curve": curves.get("zero") or next(iter(curves.values())),
        "score_curves": curves,
        "command": "python training/find_window_feature_maps.py",
        "seconds": round(time.time() - t0, 1),
    }
    (folder / OUTPUT_FILE).write_text(json.dumps(result))
    write_checksums(folder)
    for mode, curve in curves.items():
        path = Path(args.plot) if mode == "zero" else Path(args.plot).with_name(Path(args.plot).stem + f"_{mode}.png")
        plot_curve(curve, path,
                   "Predicted window area vs number of maps " + ("zeroed" if mode == "zero" else "set to their mean"))
    print(f"wrote {folder / OUTPUT_FILE} and {args.plot} ({time.time() - t0:.0f} s)")
    return result


if __name__ == "__main__":
    main(parse_args())
