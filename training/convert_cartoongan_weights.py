"""Convert a released CartoonGAN generator (Hayao, Hosoda, Paprika, Shinkai) to the gallery's layout.

The styles trained by the paper's authors were published as Torch models and converted to PyTorch
state dicts (``<Style>_net_G_float.pth``) by Yijun Li's CartoonGAN-Test-Pytorch-Torch. Their parameter
names follow that code (``conv01_1``, ``in01_1``, …, ``deconv03_1``); this script renames them to
``models.cartoongan.CartoonGenerator``'s (``stem``, ``down1``, ``blocks.N.conv1``, …), checks that every
tensor is used exactly once, loads them with ``strict=True`` (64 base channels, 8 residual blocks,
BGR images, as released) and saves ``pretrained/cartoongan-<style>`` as safetensors.

The ``.pth`` is read with ``torch.load(weights_only=True)`` (tensors only), once, here; the app only
ever reads the safetensors result.

    python training/convert_cartoongan_weights.py --weights Hayao_net_G_float.pth --style hayao
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.cartoongan import CartoonGenerator  # noqa: E402
from training.common import PROJECT_ROOT, push_folder, save_model  # noqa: E402

RES_BLOCKS = 8


def released_to_ours() -> dict[str, str]:
    """Prefix map: released module name -> our module name (each has .weight/.bias or .scale/.shift)."""
    names = {
        "conv01_1": "stem", "in01_1": "stem_norm",
        "conv02_1": "down1", "conv02_2": "down1b", "in02_1": "down1_norm",
        "conv03_1": "down2", "conv03_2": "down2b", "in03_1": "down2_norm",
        "deconv01_1": "up1", "deconv01_2": "up1b", "in12_1": "up1_norm",
        "deconv02_1": "up2", "deconv02_2": "up2b", "in13_1": "up2_norm",
        "deconv03_1": "out",
    }
    for i in range(RES_BLOCKS):  # residual blocks are numbered 04 … 11 in the released code
        n = f"{i + 4:02d}"
        names |= {f"conv{n}_1": f"blocks.{i}.conv1", f"in{n}_1": f"blocks.{i}.norm1",
                  f"conv{n}_2": f"blocks.{i}.conv2", f"in{n}_2": f"blocks.{i}.norm2"}
    return names


def convert_state_dict(released: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename every tensor; refuse unknown or missing names."""
    names = released_to_ours()
    ours = {}
    for key, value in released.items():
        module, _, param = key.rpartition(".")
        if module not in names:
            raise ValueError(f"unexpected tensor {key!r} in the released state dict")
        ours[f"{names[module]}.{param}"] = value
    return ours


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True, help="a released <Style>_net_G_float.pth")
    p.add_argument("--style", required=True, help="hayao, hosoda, paprika or shinkai (names the slug)")
    p.add_argument("--output-dir", help="default: pretrained/cartoongan-<style>")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="e.g. my-org/cartoongan-hayao")
    return p.parse_args(argv)


def main(args):
    released = torch.load(args.weights, map_location="cpu", weights_only=True)
    model = CartoonGenerator(base_channels=64, res_blocks=RES_BLOCKS, bgr=True)
    model.load_state_dict(convert_state_dict(released), strict=True)
    slug = f"cartoongan-{args.style.lower()}"
    out = Path(args.output_dir or PROJECT_ROOT / "pretrained" / slug)
    card = {
        "title": f"{slug}: CartoonGAN generator, {args.style} style (released weights, converted)",
        "description": "The CartoonGAN generator (Chen, Lai & Liu, CVPR 2018) with the weights released by the "
                       f"paper's authors for the {args.style} style, converted from Yijun Li's PyTorch conversion "
                       f"(`{Path(args.weights).name}`) to safetensors, unchanged. Works on BGR images as released "
                       "(the config's `bgr` flag handles it).",
        "data": "Photos and frames of the artist's films, by the original authors; not retrained here. "
                "Check the original release's terms before redistributing.",
        "training_command": f"python training/convert_cartoongan_weights.py --weights {Path(args.weights).name} "
                            f"--style {args.style}  # conversion only",
        "metrics": "Not measured here.",
        "usage": f"from models.cartoongan import CartoonGenerator\n"
                 f"model = CartoonGenerator.from_pretrained(\"pretrained/{slug}\", strict=True)",
    }
    save_model(model, out, card)
    print(f"saved {out}")
    if args.push_to_hub:
        push_folder(out, args.hub_repo_id)


if __name__ == "__main__":
    main(parse_args())
