"""No unpickling anywhere: weights come from safetensors only."""

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

SOURCES = [p for d in ("app.py", "demos", "models", "training", "bench") for p in
           ([ROOT / d] if d.endswith(".py") else (ROOT / d).rglob("*.py"))]


def test_no_pickle_or_eval_in_the_code():
    assert len(SOURCES) > 5
    for path in SOURCES:
        src = path.read_text()
        assert not re.search(r"\bimport pickle\b|\bpickle\.load|\bcPickle\b|\bdill\b", src), path
        assert not re.search(r"torch\.load\((?![^)]*weights_only=True)", src), path
        assert not re.search(r"(?<![\w.])eval\(|(?<![\w.])exec\(", src), path
        assert "allow_pickle=True" not in src, path


def test_no_pickled_weights_are_shipped():
    shipped = [p.name for p in (ROOT / "pretrained").rglob("*") if p.is_file()]
    assert shipped, "pretrained/ is empty"
    assert not [n for n in shipped if n.endswith((".bin", ".pt", ".pth", ".pkl", ".ckpt"))]


def test_uploads_are_size_limited_and_share_is_off_by_default():
    import app

    assert app.MAX_FILE_SIZE
    assert app.parse_args([]).share is False


# --- SHA256SUMS names (issue 13, item 4) ----------------------------------------------------------------------

def _copy_slug(tiny_root, tmp_path, slug: str):
    import shutil

    root = tmp_path / "pretrained"
    shutil.copytree(tiny_root / slug, root / slug)
    return root, root / slug


def _record_hashing(monkeypatch):
    """Every path the loader hashes, in order."""
    from models import loading

    hashed = []
    real = loading.sha256_of

    def sha256_of(path):
        hashed.append(Path(path))
        return real(path)

    monkeypatch.setattr(loading, "sha256_of", sha256_of)
    return hashed


@pytest.mark.parametrize("how", ["absolute", "dot-dot", "dot-dot-inside-a-subfolder"])
def test_checksum_names_outside_the_folder_are_refused_and_never_hashed(tiny_root, tmp_path, monkeypatch, how):
    """Issue 13: a SHA256SUMS line naming ``/abs/path`` or ``../../..`` made the loader hash that file and say whether
    it matched: an oracle on any readable file (an 8 GB file was hashed for 25 s). Such a name now refuses the
    SHA256SUMS file itself, before anything is hashed, with the same answer whether the file exists and matches or
    not."""
    from models import loading
    from models.autoencoder import ConvAutoencoder

    root, folder = _copy_slug(tiny_root, tmp_path, "ae-mnist")
    secret = tmp_path / "secret.txt"
    secret.write_text("the content an attacker wants to confirm")
    name = {"absolute": str(secret), "dot-dot": "../../secret.txt",
            "dot-dot-inside-a-subfolder": "unet/../../../secret.txt"}[how]
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    hashed = _record_hashing(monkeypatch)
    reasons = []
    for digest in (loading.sha256_of(secret), "0" * 64):  # right and wrong: the same answer
        hashed.clear()
        sums = folder / loading.CHECKSUMS_FILE
        lines = [ln for ln in sums.read_text().splitlines() if "secret" not in ln]
        sums.write_text("\n".join([*lines, f"{digest}  {name}"]) + "\n")
        loading.clear_cache()
        with pytest.raises(loading.WeightsUnavailableError) as err:
            loading.load_pretrained(ConvAutoencoder, "ae-mnist")
        assert "SHA256SUMS is malformed" in err.value.reason and "not a file inside" in err.value.reason
        assert hashed == [], "nothing is hashed once SHA256SUMS names a file outside its folder"
        reasons.append(err.value.reason)
    assert reasons[0] == reasons[1], "no oracle: a matching digest gets the same answer"
    loading.clear_cache()


def test_checksum_symlink_leaving_the_folder_is_refused_unread(tiny_root, tmp_path, monkeypatch):
    """A file of the folder that is a symbolic link to a file elsewhere (listed with that file's true digest) is
    refused without being hashed."""
    from models import loading
    from models.autoencoder import ConvAutoencoder

    root, folder = _copy_slug(tiny_root, tmp_path, "ae-mnist")
    outside = tmp_path / "elsewhere.safetensors"
    (folder / "model.safetensors").rename(outside)
    (folder / "model.safetensors").symlink_to(outside)
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    loading.clear_cache()
    hashed = _record_hashing(monkeypatch)
    with pytest.raises(loading.WeightsUnavailableError, match="leads outside") as err:
        loading.load_pretrained(ConvAutoencoder, "ae-mnist")
    assert "model.safetensors" in err.value.reason
    assert outside not in [p.resolve() for p in hashed]
    loading.clear_cache()


def test_only_the_files_the_loader_reads_are_hashed(tiny_root, tmp_path, monkeypatch):
    """Not every line of SHA256SUMS: a model hashes its config and weights, a pipeline folder the three files of its
    layout (an extra listed file, here a large samples.png, is left alone)."""
    import shutil

    from models import loading
    from models.ddpm import read_unet_pipeline
    from models.vae import VAE

    root, folder = _copy_slug(tiny_root, tmp_path, "vae-mnist")  # lists latent_map.safetensors too
    shutil.copytree(tiny_root / "ddpm-mnist", root / "ddpm-mnist")
    with open(root / "ddpm-mnist" / "samples.png", "wb") as f:
        f.truncate(50_000_000)  # sparse: large, but takes no room
    loading.write_tree_checksums(root / "ddpm-mnist")
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    loading.clear_cache()
    hashed = _record_hashing(monkeypatch)
    loading.load_pretrained(VAE, "vae-mnist")
    assert sorted(p.name for p in hashed) == ["config.json", "model.safetensors"]
    hashed.clear()
    loading.load_pretrained_folder("ddpm-mnist", read_unet_pipeline)
    assert sorted(p.relative_to(root / "ddpm-mnist").as_posix() for p in hashed) == [
        "scheduler/scheduler_config.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors"]
    loading.clear_cache()
