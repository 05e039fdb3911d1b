"""The README's CartoonGAN figure: the four example photos shipped with the app (scikit-image's), redrawn by each
stage of training, one row per generator.

    python docs/cartoongan/make_figure.py STAGE1_FOLDER STAGE2_FOLDER RUN_CHECKPOINTS

STAGE1_FOLDER: the stage-1 generator (ω = 10; ``git show 7a15103:pretrained/cartoongan-openmoji/...``);
STAGE2_FOLDER: the stage-2 generator, shipped until 2026-11-27 (``git archive b6c1fb9 pretrained/cartoongan-openmoji``);
RUN_CHECKPOINTS: the stage-2 run's generator snapshots (``step_1000.safetensors``, ``step_2500.safetensors``;
not shipped). The initialisation-only generator comes from ``pretrained/``.
"""

import sys
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.ImageDraw
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from models.cartoongan import CartoonGenerator  # noqa: E402
from models.imaging import to_pil  # noqa: E402

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket"]


def main(stage1: str, stage2: str, run_checkpoints: str):
    rows = [("photo", None),
            ("initialisation only", ROOT / "pretrained" / "cartoongan-openmoji-init" / "model.safetensors"),
            ("stage 1 (omega = 10)", Path(stage1) / "model.safetensors"),
            ("stage 2, step 500 (omega = 1)", Path(stage2) / "model.safetensors"),
            ("step 1,000 (omega = 1)", Path(run_checkpoints) / "step_1000.safetensors"),
            ("step 2,500 (omega = 2 after 1,250)", Path(run_checkpoints) / "step_2500.safetensors")]
    photos = [PIL.Image.open(ROOT / "demos" / "examples" / "photos" / f"{n}.jpg").convert("RGB").resize((240, 176))
              for n in PHOTOS]
    x = torch.stack([torch.from_numpy(np.array(p)).permute(2, 0, 1) for p in photos]).float() / 255
    label_h = 22
    sheet = PIL.Image.new("RGB", (240 * len(PHOTOS), (176 + label_h) * len(rows)), "white")
    draw = PIL.ImageDraw.Draw(sheet)
    for r, (label, weights) in enumerate(rows):
        if weights is None:
            y = x
        else:
            g = CartoonGenerator(base_channels=32, res_blocks=8)
            g.load_state_dict(load_file(str(weights)), strict=True)
            with torch.inference_mode():
                y = g.eval()(x).clamp(0, 1)
        top = r * (176 + label_h)
        draw.text((6, top + 4), label, fill="black")
        for c in range(len(PHOTOS)):
            sheet.paste(to_pil(y[c]), (240 * c, top + label_h))
    out = Path(__file__).with_name("training_stages.jpg")
    sheet.save(out, quality=88)
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
