"""The README's screenshots: every tab in Japanese and in English at 1366×768 (a classroom projector), the whole
page, after its main action — taken by the browser test's own tour of the gallery (tests/test_browser.py,
``test_every_tab_in_a_real_browser``: the same actions, checked), then shrunk for the README.

    apt-get install chromium fonts-noto-cjk          # once
    python bench/screenshots.py --out docs/screenshots

The app runs without the data folder (GALLERY_DATA_DIR points nowhere), so that no training photo (no licence, not
to be redistributed) ends up in a committed screenshot. Not a test: a failing tour is reported and nothing is saved.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOUR = "tests/test_browser.py::test_every_tab_in_a_real_browser"


def shrink(source: Path, target: Path):
    """Screenshots go into the README: a 256-colour palette keeps them a fraction of the size."""
    import PIL.Image

    with PIL.Image.open(source) as img:
        small = img.convert("RGB").quantize(colors=256, method=PIL.Image.Quantize.MEDIANCUT)
    small.save(target, optimize=True)


def main(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as shots:
        env = dict(os.environ, GALLERY_SCREENSHOTS=shots, GALLERY_DATA_DIR=str(ROOT / "no-data-for-screenshots"))
        tour = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TOUR], cwd=ROOT,
                              env=env)
        if tour.returncode != 0:
            sys.exit(f"the browser tour failed (exit {tour.returncode}): no screenshot saved")
        for path in sorted(Path(shots).glob("browser_*.png")):  # browser_<tab>_<lang>.png
            target = out / path.name.removeprefix("browser_")
            shrink(path, target)
            print("saved", target)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
