"""One loader for every model of the gallery: ``pretrained/<slug>/`` first, else the Hugging Face Hub.

    model = load_pretrained(ConvAutoencoder, "ae-mnist")

1. If ``pretrained/<slug>/`` (in this repository) holds ``config.json`` and ``model.safetensors``,
   the model is loaded from there: no network at all.
2. Otherwise the files are downloaded with ``hf_hub_download`` from the Hub repo
   ``<org>/<slug>`` at an explicit revision, and loaded from the download cache.

Settings (environment variables):

* ``GALLERY_HUB_ORG``       the Hub organisation or user that holds the repos (default below);
* ``GALLERY_HUB_REVISION``  the branch, tag or commit to download (default ``main``);
* ``GALLERY_PRETRAINED_DIR`` the local weights folder (default: ``pretrained/`` of this repo);
* ``HF_ENDPOINT``           the Hub's address (huggingface_hub's own setting; tests use a local server).

Safety: weights are read from ``model.safetensors`` only (never a pickle), into a model built
from ``config.json``'s JSON scalars, with ``strict=True`` so that every tensor must match; every file
listed in the ``SHA256SUMS`` beside it must match its checksum (a truncated or tampered file is refused).
Each model is loaded once per process, lazily, on first use; a failure is remembered too, so a
broken tab answers at once instead of retrying the network on every click.
"""

import hashlib
import os
import socket
import threading
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HUB_ORG = "generative-models-gallery"
DEFAULT_HUB_REVISION = "main"
WEIGHT_FILES = ("config.json", "model.safetensors")
CHECKSUMS_FILE = "SHA256SUMS"  # `sha256sum` format, written beside the weights by the training scripts

_lock = threading.RLock()
_cache: dict = {}


class WeightsUnavailableError(RuntimeError):
    """The weights of ``slug`` could be found neither in ``pretrained/`` nor on the Hub, or are corrupt."""

    def __init__(self, slug: str, reason: str):
        self.slug = slug
        self.reason = reason
        super().__init__(f"weights for '{slug}' are unavailable: {reason}")


def pretrained_dir() -> Path:
    return Path(os.environ.get("GALLERY_PRETRAINED_DIR", PROJECT_ROOT / "pretrained"))


def hub_repo_id(slug: str) -> str:
    return f"{os.environ.get('GALLERY_HUB_ORG', DEFAULT_HUB_ORG)}/{slug}"


def hub_revision() -> str:
    return os.environ.get("GALLERY_HUB_REVISION", DEFAULT_HUB_REVISION)


def _hub_unreachable_reason(timeout: float = 2.0) -> str | None:
    """Why the Hub endpoint cannot be reached (DNS or TCP), or None if it answers a connection.

    huggingface_hub retries a failed download with back-off (about 20 s in all); checking the
    connection first lets a machine without network fall through to a clear message at once.
    """
    from urllib.parse import urlsplit

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return None  # hf_hub_download then only looks in the local cache, which is fast
    url = urlsplit(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError as err:
        return f"the Hub at {constants.ENDPOINT} cannot be reached ({type(err).__name__}: {err})"
    return None


def _hub_file(slug: str, filename: str, local_problem: str) -> Path:
    """Download ``filename`` of ``<org>/<slug>`` at the configured revision (or take it from the HF cache).
    ``local_problem`` says why the local copy was not used, for the error message."""
    from huggingface_hub import hf_hub_download

    unreachable = _hub_unreachable_reason()
    try:
        # Offline, a copy downloaded earlier (in the Hugging Face cache) is still fine.
        return Path(hf_hub_download(repo_id=hub_repo_id(slug), filename=filename, revision=hub_revision(),
                                    local_files_only=bool(unreachable)))
    except Exception as err:  # network down, 404, bad revision, ...
        why = unreachable or f"could not be downloaded ({type(err).__name__}: {err})"
        raise WeightsUnavailableError(
            slug,
            f"{local_problem}, and {filename} is not available from the Hub repo "
            f"{hub_repo_id(slug)}@{hub_revision()}: {why}",
        ) from err


def resolve_file(slug: str, filename: str) -> Path:
    """Local path of ``filename`` of model ``slug``: from ``pretrained/<slug>/`` or downloaded from the Hub."""
    local = pretrained_dir() / slug / filename
    return local if local.is_file() else _hub_file(slug, filename, f"{local} does not exist")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_checksums(folder: str | Path) -> Path:
    """Write ``SHA256SUMS`` for every file of a finished ``pretrained/<slug>`` folder (not the model card)."""
    folder = Path(folder)
    lines = [f"{sha256_of(p)}  {p.name}" for p in sorted(folder.iterdir())
             if p.is_file() and p.name not in (CHECKSUMS_FILE, "README.md")]
    (folder / CHECKSUMS_FILE).write_text("\n".join(lines) + "\n")
    return folder / CHECKSUMS_FILE


def verify_checksum(slug: str, path: Path) -> None:
    """Check ``path`` against the ``SHA256SUMS`` beside it (when there is one that lists it): a truncated or
    modified weights file is refused before it is loaded."""
    sums = path.parent / CHECKSUMS_FILE
    if not sums.is_file():
        return
    expected = dict(reversed(line.split(maxsplit=1)) for line in sums.read_text().splitlines() if line.strip())
    expected = {name.lstrip("*"): digest for name, digest in expected.items()}
    if path.name in expected and sha256_of(path) != expected[path.name]:
        raise WeightsUnavailableError(slug, f"{path} does not match its checksum in {CHECKSUMS_FILE} "
                                            "(the file is truncated or was modified)")


def _hub_checksums(slug: str, problem: str) -> None:
    """Also fetch SHA256SUMS from the Hub repo when it has one (older repos may not)."""
    try:
        _hub_file(slug, CHECKSUMS_FILE, problem)
    except WeightsUnavailableError:
        pass


def _remember(key, make):
    """Run ``make()`` once per key and remember its result or its WeightsUnavailableError."""
    with _lock:
        if key not in _cache:
            try:
                _cache[key] = make()
            except WeightsUnavailableError as err:
                _cache[key] = err
        value = _cache[key]
    if isinstance(value, WeightsUnavailableError):
        raise value
    return value


def load_pretrained(cls, slug: str):
    """The model ``cls`` with the weights of ``slug`` (cached: loaded once per process), in eval mode."""

    def make():
        local = pretrained_dir() / slug
        missing = [name for name in WEIGHT_FILES if not (local / name).is_file()]
        if not missing:
            folder = local
        else:  # both files from the Hub; they land in the same snapshot folder of the cache
            problem = f"{local} lacks {' and '.join(missing)}"
            folder = [_hub_file(slug, name, problem) for name in WEIGHT_FILES][0].parent
            _hub_checksums(slug, problem)
        for name in WEIGHT_FILES:
            verify_checksum(slug, folder / name)
        try:
            # A local folder makes the mixin read model.safetensors (never a pickle) with the config's arguments.
            model = cls.from_pretrained(folder, strict=True)
        except Exception as err:  # truncated or tampered file, shapes that do not match the config, ...
            raise WeightsUnavailableError(
                slug, f"{folder / WEIGHT_FILES[1]} could not be loaded ({type(err).__name__}: {err})"
            ) from err
        return model.eval()

    return _remember((cls, slug), make)


def load_extra_file(slug: str, filename: str, read):
    """``read(path)`` of an extra file stored beside the weights (e.g. a latent map), cached like the models
    (per slug, file and reader: pass a module-level function, not a new lambda on every call)."""

    def make():
        path = resolve_file(slug, filename)
        if path.parent != pretrained_dir() / slug:
            _hub_checksums(slug, f"{pretrained_dir() / slug / filename} does not exist")
        verify_checksum(slug, path)
        try:
            return read(path)
        except Exception as err:
            raise WeightsUnavailableError(slug, f"{path} could not be read ({type(err).__name__}: {err})") from err

    return _remember((slug, filename, read), make)


def clear_cache():
    """Forget every loaded model (for tests)."""
    with _lock:
        _cache.clear()



# --- Folders with subfolders (e.g. a diffusers pipeline: model_index.json, unet/, scheduler/) -------------

# The files of an unconditional diffusers UNet pipeline, in the two layouts found on the Hub:
# a pipeline folder (DDPMPipeline.save_pretrained) and the older flat layout of some repos.
DIFFUSERS_UNET_LAYOUTS = (
    ("unet/config.json", "unet/diffusion_pytorch_model.safetensors", "scheduler/scheduler_config.json"),
    ("config.json", "diffusion_pytorch_model.safetensors", "scheduler_config.json"),
)


def write_tree_checksums(folder: str | Path) -> Path:
    """Write ``SHA256SUMS`` for every file under ``folder``, subfolders included, as relative POSIX paths
    (``<sha256>  unet/diffusion_pytorch_model.safetensors``); the model card is left out."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != CHECKSUMS_FILE
                   and p.relative_to(folder).as_posix() != "README.md")
    lines = [f"{sha256_of(p)}  {p.relative_to(folder).as_posix()}" for p in files]
    (folder / CHECKSUMS_FILE).write_text("\n".join(lines) + "\n")
    return folder / CHECKSUMS_FILE


def verify_tree_checksums(slug: str, folder: Path, required=()) -> None:
    """Every file listed in ``folder/SHA256SUMS`` (when there is one) that is present must match its checksum,
    and every file of ``required`` must be present (a Hub download may skip listed extras like samples.png)."""
    for name in required:
        if not (folder / name).is_file():
            raise WeightsUnavailableError(slug, f"{folder / name} is missing")
    sums = folder / CHECKSUMS_FILE
    if not sums.is_file():
        return
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        digest, name = line.split(maxsplit=1)
        path = folder / name.lstrip("*")
        if path.is_file() and sha256_of(path) != digest:
            raise WeightsUnavailableError(slug, f"{path} does not match its checksum in {CHECKSUMS_FILE} "
                                                "(the file is truncated or was modified)")


def _hub_layout(repo_id: str, revision: str, slug: str, layouts, problem: str) -> tuple[Path, tuple]:
    """Download the files of the first of ``layouts`` that the Hub repo has (or take them from the cache);
    returns (snapshot folder, the layout found). The repo's SHA256SUMS comes too when it has one."""
    from huggingface_hub import hf_hub_download

    unreachable = _hub_unreachable_reason()
    errors = []
    for files in layouts:
        try:
            paths = [Path(hf_hub_download(repo_id=repo_id, filename=name, revision=revision,
                                          local_files_only=bool(unreachable))) for name in files]
        except Exception as err:  # 404 for this layout, network down, bad revision, ...
            errors.append(f"{type(err).__name__}: {err}")
            continue
        root = paths[0].parents[len(Path(files[0]).parts) - 1]
        try:
            hf_hub_download(repo_id=repo_id, filename=CHECKSUMS_FILE, revision=revision,
                            local_files_only=bool(unreachable))
        except Exception:
            pass  # older repos have none
        return root, files
    why = unreachable or "could not be downloaded (" + "; ".join(e.splitlines()[0] for e in errors) + ")"
    raise WeightsUnavailableError(slug, f"{problem}, and the Hub repo {repo_id}@{revision} is not available: {why}")


def load_pretrained_folder(slug: str, load, layouts=DIFFUSERS_UNET_LAYOUTS):
    """``load(folder, layout)`` of the folder of ``slug`` (cached per slug and loader, like ``load_pretrained``).

    The folder is ``pretrained/<slug>/`` when it holds every file of one of ``layouts``, else the Hub repo
    ``<GALLERY_HUB_ORG>/<slug>`` at ``GALLERY_HUB_REVISION`` (downloaded file by file, or from the cache).
    Every file listed in its ``SHA256SUMS`` (subfolders included) must match before ``load`` runs.
    ``load`` must read safetensors only; pass a module-level function (it is part of the cache key).
    """

    def make():
        local = pretrained_dir() / slug
        found = [files for files in layouts if all((local / name).is_file() for name in files)]
        if found:
            folder, files = local, found[0]
        else:
            folder, files = _hub_layout(hub_repo_id(slug), hub_revision(), slug, layouts,
                                        f"{local} lacks {', '.join(layouts[0])}")
        verify_tree_checksums(slug, folder, files)
        try:
            return load(folder, files)
        except Exception as err:
            raise WeightsUnavailableError(slug, f"{folder} could not be loaded ({type(err).__name__}: {err})") from err

    return _remember((slug, "folder", load), make)


def load_hub_folder(repo_id: str, load, revision: str = "main", layouts=DIFFUSERS_UNET_LAYOUTS, cache: bool = True):
    """``load(folder, layout)`` of any Hub repo ``repo_id`` (e.g. ``google/ddpm-cifar10-32``) at ``revision``,
    cached per repo and loader unless ``cache`` is false (for repo ids typed by users, the caller keeps its own
    bounded cache). Safetensors only: a repo with pickled weights only is refused."""

    def make():
        folder, files = _hub_layout(repo_id, revision, repo_id, layouts, f"{repo_id} is not a model of the gallery")
        verify_tree_checksums(repo_id, folder, files)
        try:
            return load(folder, files)
        except Exception as err:
            raise WeightsUnavailableError(
                repo_id, f"{folder} could not be loaded ({type(err).__name__}: {err})"
            ) from err

    return _remember((repo_id, "hub-folder", revision, load), make) if cache else make()
