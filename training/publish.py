"""Publish every model folder of ``pretrained/`` to the Hugging Face Hub as ``<org>/<slug>``.

Each folder is exactly what the app loads (config.json, model.safetensors, the model card README.md,
SHA256SUMS and any extra file such as a latent map); it is committed as it is, so the Space and
anyone else can load the same weights with ``from_pretrained("<org>/<slug>", revision=...)``.

    huggingface-cli login                                   # once, with a write token
    python training/publish.py --org my-org                  # every slug
    python training/publish.py --org my-org --slugs ae-mnist vae-mnist --tag v1

Use ``--tag`` to create a tag that ``GALLERY_HUB_REVISION`` can pin.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.common import PROJECT_ROOT, push_folder  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--org", required=True, help="Hub user or organisation")
    p.add_argument("--pretrained-dir", default=str(PROJECT_ROOT / "pretrained"))
    p.add_argument("--slugs", nargs="*", help="only these slugs (default: every folder)")
    p.add_argument("--tag", help="also tag the new commit, e.g. v1")
    p.add_argument("--private", action="store_true")
    return p.parse_args(argv)


def main(args):
    root = Path(args.pretrained_dir)
    # a model folder (config.json) or a diffusers pipeline folder (model_index.json, unet/, scheduler/)
    folders = sorted(p for p in root.iterdir()
                     if p.is_dir() and ((p / "config.json").is_file() or (p / "model_index.json").is_file()))
    if args.slugs:
        folders = [p for p in folders if p.name in set(args.slugs)]
        missing = set(args.slugs) - {p.name for p in folders}
        if missing:
            raise SystemExit(f"no such folder under {root}: {', '.join(sorted(missing))}")
    for folder in folders:
        url = push_folder(folder, f"{args.org}/{folder.name}", tag=args.tag, private=args.private)
        print(f"{folder.name} -> {url}")


if __name__ == "__main__":
    main(parse_args())
