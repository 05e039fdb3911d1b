"""The weights loader: local pretrained/ first, else the Hub (a local stand-in server), and clear failures."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from models import loading
from models.autoencoder import ConvAutoencoder
from models.loading import WeightsUnavailableError, load_pretrained
from models.vae import VAE
from tests.conftest import ROOT
from tests.fake_hub import FakeHub

# Runs in a fresh interpreter, because huggingface_hub reads HF_ENDPOINT when it is imported.
CLIENT = """
import json, time
from models.loading import load_pretrained, load_extra_file, WeightsUnavailableError
from models.autoencoder import ConvAutoencoder
from models.vae import VAE
out = {}
for cls, slug in [(ConvAutoencoder, "ae-mnist"), (ConvAutoencoder, "ae-mnist-plain"),
                  (VAE, "vae-mnist"), (VAE, "vae-mnist-beta0")]:
    t = time.time()
    try:
        first = load_pretrained(cls, slug)
        again = load_pretrained(cls, slug)
        extra = load_extra_file(slug, "latent_map.safetensors", lambda p: p.stat().st_size) if cls is VAE else None
        out[slug] = {"ok": True, "same_object": first is again, "config": first._hub_mixin_config, "extra": extra}
    except WeightsUnavailableError as err:
        out[slug] = {"ok": False, "reason": err.reason}
    out[slug]["seconds"] = time.time() - t
print("RESULT" + json.dumps(out))
"""


def run_client(env_extra: dict, tmp_path) -> dict:
    env = dict(os.environ, GALLERY_PRETRAINED_DIR=str(tmp_path / "empty"), HF_HOME=str(tmp_path / "hf_home"),
               GALLERY_HUB_ORG="test-org", GALLERY_HUB_REVISION="v1", PYTHONPATH=str(ROOT), **env_extra)
    env.pop("HF_HUB_OFFLINE", None)
    proc = subprocess.run([sys.executable, "-c", CLIENT], env=env, capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


def test_hub_download_404_and_corrupt_file(tiny_root, tmp_path):
    """ae-mnist and vae-mnist-beta0 download for real; ae-mnist-plain is missing (404); vae-mnist is truncated."""
    hub_root = tmp_path / "hub"
    for slug in ("ae-mnist", "vae-mnist", "vae-mnist-beta0"):
        shutil.copytree(tiny_root / slug, hub_root / "test-org" / slug)
    weights = hub_root / "test-org" / "vae-mnist" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with FakeHub(hub_root) as hub:
        out = run_client({"HF_ENDPOINT": hub.url}, tmp_path)
        assert out["ae-mnist"]["ok"] and out["ae-mnist"]["same_object"]
        assert out["ae-mnist"]["config"] == {"channels": 4, "latent_dim": 8}
        assert out["vae-mnist-beta0"]["ok"] and out["vae-mnist-beta0"]["extra"] > 0
        assert not out["ae-mnist-plain"]["ok"] and "test-org/ae-mnist-plain@v1" in out["ae-mnist-plain"]["reason"]
        assert not out["vae-mnist"]["ok"] and "does not match its checksum" in out["vae-mnist"]["reason"]
        # the explicit revision is in the URL, and each file is downloaded once
        assert any("/test-org/ae-mnist/resolve/v1/model.safetensors" in path for _, path in hub.requests)
        assert hub.downloads("model.safetensors") == 3
        assert not any(path.endswith((".bin", ".pt", ".pth", ".pkl")) for _, path in hub.requests)


def test_hub_down_fails_fast_with_a_clear_message(tmp_path):
    with socket.socket() as s:  # a port on which nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = run_client({"HF_ENDPOINT": f"http://127.0.0.1:{port}"}, tmp_path)
    for slug, r in out.items():
        assert not r["ok"], slug
        assert "cannot be reached" in r["reason"] and f"test-org/{slug}@v1" in r["reason"]
        assert r["seconds"] < 5, "no waiting on retries when the Hub is down"


def test_local_folder_first_and_cached(tiny_models):
    a = load_pretrained(ConvAutoencoder, "ae-mnist")
    assert a is load_pretrained(ConvAutoencoder, "ae-mnist")
    assert not a.training


def test_missing_and_corrupt_local_weights(tiny_root, tmp_path, monkeypatch):
    root = tmp_path / "pretrained"
    shutil.copytree(tiny_root, root)
    (root / "ae-mnist" / "model.safetensors").unlink()
    weights = root / "vae-mnist" / "model.safetensors"
    weights.write_bytes(b"\x00" * 64)
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    loading.clear_cache()
    t = time.time()
    with pytest.raises(WeightsUnavailableError) as missing:
        load_pretrained(ConvAutoencoder, "ae-mnist")
    with pytest.raises(WeightsUnavailableError) as corrupt:
        load_pretrained(VAE, "vae-mnist")
    assert time.time() - t < 10
    assert "model.safetensors" in missing.value.reason and missing.value.slug == "ae-mnist"
    assert "checksum" in corrupt.value.reason
    # the failure is remembered (no retry on every click) and the other models are unaffected
    with pytest.raises(WeightsUnavailableError) as again:
        load_pretrained(ConvAutoencoder, "ae-mnist")
    assert again.value is missing.value
    assert load_pretrained(VAE, "vae-mnist-beta0") is not None
    loading.clear_cache()


def test_tampered_weights_are_refused_by_their_checksum(tiny_root, tmp_path, monkeypatch):
    """A valid safetensors file with other numbers in it loads fine with strict=True: only the checksum catches it."""
    from safetensors.torch import load_file, save_file

    root = tmp_path / "pretrained"
    shutil.copytree(tiny_root, root)
    weights = root / "ae-mnist" / "model.safetensors"
    tensors = load_file(str(weights))
    tensors = {k: v + 1 if v.is_floating_point() else v for k, v in tensors.items()}
    save_file(tensors, str(weights))
    ConvAutoencoder.from_pretrained(root / "ae-mnist", strict=True)  # the format itself is fine
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    loading.clear_cache()
    with pytest.raises(WeightsUnavailableError) as err:
        load_pretrained(ConvAutoencoder, "ae-mnist")
    assert "checksum" in err.value.reason
    assert load_pretrained(ConvAutoencoder, "ae-mnist-plain") is not None
    loading.clear_cache()


def test_committed_weights_have_checksums():
    for folder in (ROOT / "pretrained").iterdir():
        sums = (folder / loading.CHECKSUMS_FILE).read_text()
        for line in sums.splitlines():
            digest, name = line.split()
            assert loading.sha256_of(folder / name) == digest, f"{folder.name}/{name}"
        assert "model.safetensors" in sums, folder.name


PUBLISH_THEN_LOAD = """
import json, sys
from training import publish
publish.main(publish.parse_args(["--org", "test-org", "--pretrained-dir", sys.argv[1], "--tag", "v1"]))
from models.loading import load_pretrained, load_extra_file
from models.autoencoder import ConvAutoencoder
from models.vae import VAE
a = load_pretrained(ConvAutoencoder, "ae-mnist")
v = load_pretrained(VAE, "vae-mnist")
n = load_extra_file("vae-mnist", "latent_map.safetensors", lambda p: p.stat().st_size)
from models.ddpm import read_unet_pipeline
from models.loading import load_pretrained_folder
ddpm = load_pretrained_folder("ddpm-mnist", read_unet_pipeline)  # a diffusers pipeline folder: unet/, scheduler/
print("RESULT" + json.dumps({"ok": ddpm is not None, "latent_bytes": n}))
"""


def test_publish_every_pretrained_folder_then_load_it_from_the_hub(tiny_root, tmp_path):
    """training/publish.py commits each folder to <org>/<slug>; the app then downloads and loads it from there."""
    hub_root = tmp_path / "hub"
    hub_root.mkdir()
    with FakeHub(hub_root) as hub:
        env = dict(os.environ, HF_ENDPOINT=hub.url, HF_TOKEN="hf_test", HF_HOME=str(tmp_path / "hf_home"),
                   GALLERY_PRETRAINED_DIR=str(tmp_path / "empty"), GALLERY_HUB_ORG="test-org",
                   GALLERY_HUB_REVISION="v1", PYTHONPATH=str(ROOT))
        env.pop("HF_HUB_OFFLINE", None)
        proc = subprocess.run([sys.executable, "-c", PUBLISH_THEN_LOAD, str(tiny_root)], env=env, capture_output=True,
                              text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-3000:]
        for folder in tiny_root.iterdir():
            for f in (f for f in folder.rglob("*") if f.is_file()):  # sub-folders too (unet/, scheduler/)
                assert (hub_root / "test-org" / folder.name / f.relative_to(folder)).read_bytes() == f.read_bytes()
        assert sorted(repo for repo, tag, _ in hub.tags if tag == "v1") == sorted(
            f"test-org/{p.name}" for p in tiny_root.iterdir())
        assert any("/test-org/vae-mnist/resolve/v1/model.safetensors" in path for _, path in hub.requests)
        result = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1][6:])
        assert result["ok"] and (
            result["latent_bytes"] == (tiny_root / "vae-mnist" / "latent_map.safetensors").stat().st_size)


# --- a broken SHA256SUMS or weights file: the banner names the file (issue 13, item 5) --------------------------

@pytest.mark.parametrize("line", ["garbage", "abc123  model.safetensors", "0" * 64, "\x00\x01\x02 binary",
                                  "0" * 64 + "  ", "0" * 63 + "g  config.json"])
def test_malformed_sums_line_disables_the_tab_with_the_banner(tiny_root, tmp_path, monkeypatch, line):
    """Issue 13: a malformed SHA256SUMS line raised an uncaught ValueError (the first tab failed with an anonymous
    "Error" and no banner). It is now a WeightsUnavailableError that names SHA256SUMS: the tab's banner."""
    from demos.common import load_or_explain

    root = tmp_path / "pretrained"
    shutil.copytree(tiny_root / "ae-mnist", root / "ae-mnist")
    sums = root / "ae-mnist" / loading.CHECKSUMS_FILE
    sums.write_text(sums.read_text() + line + "\n")
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    loading.clear_cache()
    with pytest.raises(WeightsUnavailableError, match="SHA256SUMS is malformed"):
        load_pretrained(ConvAutoencoder, "ae-mnist")
    with pytest.raises(Exception) as banner:  # what the tab shows: the weights message, naming the file
        load_or_explain(ConvAutoencoder, "ae-mnist", "python training/train_autoencoder.py")
    assert "ae-mnist" in banner.value.message and "SHA256SUMS is malformed" in banner.value.message
    loading.clear_cache()


def _break(path, how: str):
    if how == "not-json":
        path.write_text('{"channels": 4, "latent_dim"')
    elif how == "garbage":
        path.write_bytes(b"\x00" * 64)
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:-100])


@pytest.mark.parametrize("broken, how", [("config.json", "not-json"), ("model.safetensors", "garbage"),
                                         ("model.safetensors", "truncated")])
def test_the_banner_names_the_file_that_is_broken(tiny_root, tmp_path, monkeypatch, broken, how):
    """Issue 13: the weights banner blamed model.safetensors when config.json was the broken file. With SHA256SUMS
    rewritten to match (or absent), the message names the file that is actually broken."""
    root = tmp_path / "pretrained"
    shutil.copytree(tiny_root / "ae-mnist", root / "ae-mnist")
    _break(root / "ae-mnist" / broken, how)
    loading.write_checksums(root / "ae-mnist")
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    loading.clear_cache()
    with pytest.raises(WeightsUnavailableError) as err:
        load_pretrained(ConvAutoencoder, "ae-mnist")
    other = ({"config.json", "model.safetensors"} - {broken}).pop()
    assert f"ae-mnist/{broken} is not valid" in err.value.reason and other not in err.value.reason
    loading.clear_cache()


def test_config_that_does_not_fit_the_weights_names_both(tiny_root, tmp_path, monkeypatch):
    root = tmp_path / "pretrained"
    shutil.copytree(tiny_root / "ae-mnist", root / "ae-mnist")
    (root / "ae-mnist" / "config.json").write_text(json.dumps({"channels": 6, "latent_dim": 8}))
    loading.write_checksums(root / "ae-mnist")
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    loading.clear_cache()
    with pytest.raises(WeightsUnavailableError, match=r"model\.safetensors does not fit .*config\.json"):
        load_pretrained(ConvAutoencoder, "ae-mnist")
    loading.clear_cache()


@pytest.mark.parametrize("broken", ["SHA256SUMS", "unet/config.json", "scheduler/scheduler_config.json",
                                    "unet/diffusion_pytorch_model.safetensors"])
def test_pipeline_folder_banner_names_the_broken_file(tiny_root, tmp_path, monkeypatch, broken):
    """The same for a pipeline folder (the DDPM tab): a malformed SHA256SUMS or a broken file of its layout shows
    the tab's banner, naming that file, and disables its buttons."""
    from demos import ddpm

    root = tmp_path / "pretrained"
    shutil.copytree(tiny_root / "ddpm-mnist", root / "ddpm-mnist")
    folder = root / "ddpm-mnist"
    if broken == "SHA256SUMS":
        (folder / broken).write_text((folder / broken).read_text() + "not a checksum line\n")
    else:
        _break(folder / broken, "not-json" if broken.endswith(".json") else "garbage")
        loading.write_tree_checksums(folder)
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loading.clear_cache()
    opened = ddpm.open_tab()
    banner = opened["status"]
    assert banner["visible"] and f"ddpm-mnist/{broken}" in banner["value"], banner["value"]
    assert opened["run"]["interactive"] is False
    loading.clear_cache()
