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
the loader reads that is listed in the ``SHA256SUMS`` beside it must match its checksum (a truncated or
tampered file is refused). ``SHA256SUMS`` itself is checked first: a malformed line, or a name that is
not a plain relative path inside the folder (absolute, ``..``, a symbolic link that leads out), refuses
the model without hashing anything, and only the files the loader reads are ever hashed.

Repos typed by users (the DDPM tab's "other models" box, ``fetch_hub_folder`` / ``load_hub_folder``)
are fetched by a small client of our own, not ``hf_hub_download``: one deadline for the whole load
(huggingface_hub's retries and per-request timeouts would multiply it), the parameter count read from
the safetensors header before the weights are downloaded, and a separate on-disk cache with a size cap
(least recently used repo evicted). Its limits are the ``HUB_*`` constants below (``GALLERY_HUB_*``).
Each model is loaded once per process, lazily, on first use; a failure is remembered too, so a
broken tab answers at once instead of retrying the network on every click.
"""

import hashlib
import http.client
import json
import math
import os
import re
import shutil
import socket
import ssl
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import quote, urljoin, urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HUB_ORG = "generative-models-gallery"
DEFAULT_HUB_REVISION = "main"
WEIGHT_FILES = ("config.json", "model.safetensors")
CHECKSUMS_FILE = "SHA256SUMS"  # `sha256sum` format, written beside the weights by the training scripts

_lock = threading.RLock()
_cache: dict = {}


def _env_number(name: str, default, kind=float):
    """``kind(os.environ[name])``, or ``default`` when it is unset or not a number."""
    try:
        return kind(os.environ[name])
    except (KeyError, ValueError):
        return default


# Limits of the repos typed by users (``fetch_hub_folder``): module constants, each overridable by its variable.
HUB_DEADLINE_S = _env_number("GALLERY_HUB_DEADLINE_S", 30.0)  # one whole load, every request and retry included
HUB_RETRIES = _env_number("GALLERY_HUB_RETRIES", 1, int)  # extra tries of a request (connection error, 429, 5xx)
HUB_MAX_REDIRECTS = _env_number("GALLERY_HUB_MAX_REDIRECTS", 5, int)
HUB_MAX_PARAMS = _env_number("GALLERY_HUB_MAX_PARAMS", 40_000_000, int)  # from the safetensors header
HUB_MAX_CONFIG_BYTES = _env_number("GALLERY_HUB_MAX_CONFIG_BYTES", 1_000_000, int)  # each JSON file, SHA256SUMS
HUB_MAX_HEADER_BYTES = _env_number("GALLERY_HUB_MAX_HEADER_BYTES", 2_000_000, int)  # safetensors header
HUB_CACHE_BYTES = _env_number("GALLERY_HUB_CACHE_BYTES", 1_000_000_000, int)  # the box's cache on disk


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


_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def _plain_relative_name(name: str) -> str | None:
    """``name`` as a normalised relative POSIX path inside a folder, or None if it is not one (empty, absolute,
    a drive, ``..``, a backslash or a NUL in it)."""
    if not name or "\x00" in name or "\\" in name or PureWindowsPath(name).drive:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(part == ".." for part in path.parts):
        return None
    return path.as_posix()


def read_checksums(slug: str, folder: Path) -> dict[str, str] | None:
    """``{relative name: sha256}`` of ``folder/SHA256SUMS``, or None when there is none.

    The file is checked before anything is hashed: a line that is not ``<sha256>  <name>`` (``sha256sum``'s format,
    ``*<name>`` too), or a name that is not a plain relative path inside the folder, makes the whole file
    untrustworthy: WeightsUnavailableError naming SHA256SUMS (the tab shows its weights banner)."""
    sums = Path(folder) / CHECKSUMS_FILE
    if not sums.is_file():
        return None
    try:
        text = sums.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise WeightsUnavailableError(slug, f"{sums} cannot be read ({type(err).__name__}: {err})") from err
    expected: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split(maxsplit=1)
        if len(fields) != 2 or not _DIGEST.fullmatch(fields[0]):
            raise WeightsUnavailableError(slug, f"{sums} is malformed: line {number} is not “<sha256>  <file name>” "
                                                f"({line[:80]!r})")
        digest, name = fields[0].lower(), fields[1].rstrip()
        name = name[1:] if name.startswith("*") else name
        relative = _plain_relative_name(name)
        if relative is None:
            raise WeightsUnavailableError(slug, f"{sums} is malformed: line {number} names {name[:80]!r}, which is "
                                                "not a file inside its folder (nothing was hashed)")
        if expected.get(relative, digest) != digest:
            raise WeightsUnavailableError(slug, f"{sums} is malformed: line {number} lists {relative} twice")
        expected[relative] = digest
    return expected


def _allowed_root(folder: Path) -> Path:
    """Where the files of ``folder`` may really live: the folder itself, or for a snapshot of the Hugging Face cache
    (``models--org--name/snapshots/<commit>/``, whose files are links to ``../../blobs/``) its repo folder."""
    folder = Path(folder)
    for parent in (folder, *folder.parents):
        if parent.parent.name == "snapshots" and parent.parent.parent.name.startswith("models--"):
            return parent.parent.parent
    return folder


def verify_files(slug: str, folder: Path, names, root: Path | None = None) -> None:
    """Check the files ``names`` (relative to ``folder``: the files the loader reads) against ``folder/SHA256SUMS``
    when it lists them: only these are hashed, and only where they really are inside ``root`` (default: the folder,
    or the repo folder of a Hugging Face cache snapshot); a symbolic link that leads out is refused unread."""
    expected = read_checksums(slug, folder)
    if not expected:
        return
    folder = Path(folder)
    inside = Path(root or _allowed_root(folder)).resolve()
    for name in names:
        relative = _plain_relative_name(str(name))
        if relative is None or relative not in expected:
            continue
        path = folder / relative
        real = path.resolve()
        if not real.is_relative_to(inside):
            raise WeightsUnavailableError(slug, f"{path} leads outside {folder} (a symbolic link); it was not read")
        if real.is_file() and sha256_of(real) != expected[relative]:
            raise WeightsUnavailableError(slug, f"{path} does not match its checksum in {CHECKSUMS_FILE} "
                                                "(the file is truncated or was modified)")


def verify_checksum(slug: str, path: Path, root: Path | None = None) -> None:
    """Check ``path`` against the ``SHA256SUMS`` beside it (when there is one that lists it): a truncated or
    modified weights file is refused before it is loaded."""
    path = Path(path)
    verify_files(slug, path.parent, [path.name], root)


def safetensors_params(header: bytes) -> tuple[int, int]:
    """(number of parameters, bytes of tensor data) from the JSON header of a safetensors file; ValueError if it is
    not one."""
    table = json.loads(header)
    if not isinstance(table, dict):
        raise ValueError("the header is not a JSON object")
    params, end = 0, 0
    for key, info in table.items():
        if key == "__metadata__":
            continue
        shape, offsets = info.get("shape") if isinstance(info, dict) else None, (info or {}).get("data_offsets")
        if (not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape)
                or not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and o >= 0 for o in offsets) or offsets[1] < offsets[0]):
            raise ValueError(f"tensor {key[:60]!r} has no valid shape and data offsets")
        params += math.prod(shape)
        end = max(end, offsets[1])
    return params, end


def read_safetensors_params(path: Path, max_header: int = 100_000_000) -> int:
    """The number of parameters of a safetensors file, from its header only (ValueError if it is not one, or is
    shorter than its header says)."""
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise ValueError("shorter than a safetensors header")
        (length,) = struct.unpack("<Q", raw)
        if not 2 <= length <= max_header:
            raise ValueError(f"a safetensors header of {length} bytes")
        params, data = safetensors_params(f.read(length))
    if Path(path).stat().st_size < 8 + length + data:
        raise ValueError("the file is shorter than its header says (truncated)")
    return params


def check_readable(slug: str, folder: Path, names) -> None:
    """Name the broken file before a loader fails on it: every JSON file of ``names`` must parse (to an object),
    every safetensors file must have a whole header. A loader's own error cannot say which file was to blame."""
    for name in names:
        path = Path(folder) / name
        try:
            if name.endswith(".json"):
                if not isinstance(json.loads(path.read_text(encoding="utf-8")), dict):
                    raise ValueError("not a JSON object")
            elif name.endswith(".safetensors"):
                read_safetensors_params(path)
        except (OSError, ValueError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise WeightsUnavailableError(slug, f"{path} is not valid ({type(err).__name__}: {err})") from err


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
        verify_files(slug, folder, WEIGHT_FILES)
        check_readable(slug, folder, WEIGHT_FILES)
        try:
            # A local folder makes the mixin read model.safetensors (never a pickle) with the config's arguments.
            model = cls.from_pretrained(folder, strict=True)
        except Exception as err:  # both files parse, but do not fit each other (or this model class)
            raise WeightsUnavailableError(
                slug, f"{folder / WEIGHT_FILES[1]} does not fit {folder / WEIGHT_FILES[0]} "
                      f"({type(err).__name__}: {err})"
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


def verify_tree_checksums(slug: str, folder: Path, required=None, root: Path | None = None) -> None:
    """Check the files a loader reads against ``folder/SHA256SUMS`` (subfolders included, when there is one):
    ``required`` (e.g. a layout of ``DIFFUSERS_UNET_LAYOUTS``) must be present, and only those are hashed (a Hub
    download may skip listed extras like samples.png). Without ``required`` (a tool checking a folder it has just
    written), every listed file that is present is."""
    folder = Path(folder)
    for name in required or ():
        if not (folder / name).is_file():
            raise WeightsUnavailableError(slug, f"{folder / name} is missing")
    expected = read_checksums(slug, folder)
    if expected:
        verify_files(slug, folder, list(required) if required is not None else sorted(expected), root)


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
        check_readable(slug, folder, files)
        try:
            return load(folder, files)
        except Exception as err:
            raise WeightsUnavailableError(slug, f"{folder} could not be loaded from {', '.join(files)} "
                                                f"({type(err).__name__}: {err})") from err

    return _remember((slug, "folder", load), make)


# --- Repos typed by users (the DDPM tab's "other models" box) -----------------------------------------------

REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9_.-]{1,96}")
_HUB_MARKER = ".gallery-hub.json"  # written last into a complete folder of the box's cache; its mtime = last use
_box_lock = threading.RLock()  # the box's cache: no eviction while a folder of it is being read


class HubModelRefused(WeightsUnavailableError):
    """A repo typed by a user that a limit refuses, before its weights are downloaded or run. ``code`` says which
    (``deadline``, ``params``, ``disk``, ``not_downloaded``, ``offline``) and ``values`` the numbers, so that a tab
    can say it in the student's language."""

    def __init__(self, repo_id: str, code: str, reason: str, **values):
        super().__init__(repo_id, reason)
        self.code = code
        self.values = values


@dataclass
class HubFolder:
    """A complete repo in the box's cache: its folder, the layout found (see ``DIFFUSERS_UNET_LAYOUTS``), the commit
    it came from (as the Hub said) and its parameter count (from the safetensors header)."""

    path: Path
    files: tuple
    commit: str
    n_params: int


def hub_cache_dir() -> Path:
    """The box's own download cache (``GALLERY_HUB_CACHE_DIR``, default ``<HF_HOME>/gallery-hub-models``): apart
    from the Hugging Face cache, capped at ``HUB_CACHE_BYTES``."""
    if os.environ.get("GALLERY_HUB_CACHE_DIR"):
        return Path(os.environ["GALLERY_HUB_CACHE_DIR"])
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "huggingface"
    return Path(home) / "gallery-hub-models"


def _hub_endpoint() -> str:
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def _hub_offline() -> bool:
    from huggingface_hub import constants

    return constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")


def _check_repo_id(repo_id: str) -> None:
    if not REPO_ID.fullmatch(repo_id or "") or ".." in repo_id:
        raise WeightsUnavailableError(str(repo_id)[:100], "not a Hub repo id (owner/name)")


def _repo_folder(repo_id: str, revision: str) -> Path:
    _check_repo_id(repo_id)  # it becomes a folder name
    return hub_cache_dir() / (repo_id.replace("/", "--") + "@" + re.sub(r"[^A-Za-z0-9_.-]", "_", revision))


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


class _Missing(Exception):
    """The Hub answered 404 for a file."""


class _Transient(Exception):
    """A failure worth one more try while the deadline allows (connection error, 429, 5xx)."""


class HubUnreachable(WeightsUnavailableError):
    """The Hub could not be reached (after the retries): a copy already in the cache may be used instead."""


def _tls_context() -> ssl.SSLContext:
    try:
        import certifi  # what huggingface_hub's own client trusts

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:
        return ssl.create_default_context()


def _cut(sock) -> None:
    """Wake whatever waits on ``sock`` (the deadline watchdog): shutdown ends a blocked recv at once."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def _get_once(url: str, deadline: _Deadline, limit: int, first_bytes: int | None, sink) -> str | None:
    """One GET of ``url`` (redirects followed), its body passed to ``sink`` chunk by chunk: ``first_bytes`` of it
    (a Range request; a server that ignores Range is read that far only) or all of it, at most ``limit`` bytes.
    Every blocking call ends at the deadline: socket timeouts of the time left, and a watchdog that cuts the
    connection when it passes (a server that trickles bytes cannot stretch it). Returns the X-Repo-Commit header."""
    commit = None
    for _ in range(HUB_MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WeightsUnavailableError(url, f"the Hub sent the unusable address {url[:100]!r}")
        left = deadline.left()
        if left <= 0:
            raise TimeoutError
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=left, context=_tls_context())
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=left)
        watchdog = None
        try:
            conn.connect()
            watchdog = threading.Timer(max(deadline.left(), 0), _cut, (conn.sock,))
            watchdog.daemon = True
            watchdog.start()
            headers = {"User-Agent": "generative-models-gallery", "Accept-Encoding": "identity"}
            if first_bytes:
                headers["Range"] = f"bytes=0-{first_bytes - 1}"
            conn.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), headers=headers)
            response = conn.getresponse()
            commit = commit or response.getheader("X-Repo-Commit")
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location"))
                continue
            if response.status == 404:
                raise _Missing
            if response.status == 429 or response.status >= 500:
                raise _Transient(f"HTTP {response.status}")
            if response.status not in (200, 206):
                raise WeightsUnavailableError(url, f"the Hub answered HTTP {response.status}")
            want = first_bytes or limit + 1  # one byte more than allowed shows that the file is too large
            got = 0
            while got < want:
                chunk = response.read1(min(1 << 16, want - got))
                if not chunk:
                    break
                got += len(chunk)
                if got > limit:
                    raise WeightsUnavailableError(url, f"larger than the {limit} bytes expected")
                sink(chunk)
            if first_bytes and got < first_bytes:
                raise _Transient(f"only {got} of the first {first_bytes} bytes came")
            return commit
        except (OSError, http.client.HTTPException) as err:
            if deadline.left() <= 0:
                raise TimeoutError from err
            raise _Transient(f"{type(err).__name__}: {err}") from err
        finally:
            if watchdog is not None:
                watchdog.cancel()
            conn.close()
    raise WeightsUnavailableError(url, f"more than {HUB_MAX_REDIRECTS} redirects")


def _get(repo_id: str, revision: str, filename: str, deadline: _Deadline, limit: int,
         first_bytes: int | None = None, path: Path | None = None) -> tuple[str | None, bytes]:
    """``filename`` of the repo (to ``path``, or returned), with a few tries within the deadline."""
    url = f"{_hub_endpoint()}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(filename)}"
    tries = 1 + max(HUB_RETRIES, 0)
    for attempt in range(tries):
        data = bytearray()
        out = open(path, "wb") if path is not None else None
        try:
            commit = _get_once(url, deadline, limit, first_bytes, out.write if out else data.extend)
            return commit, bytes(data)
        except _Transient as err:
            if deadline.left() <= 0:
                raise TimeoutError from err
            if attempt == tries - 1:
                raise HubUnreachable(repo_id, f"{filename} could not be downloaded from {_hub_endpoint()} ({err})") \
                    from err
            time.sleep(min(0.5, max(deadline.left(), 0)))
        except _Missing:
            raise _Missing(filename) from None
        except WeightsUnavailableError as err:  # a refusal of ours about the URL: say it for the repo
            raise WeightsUnavailableError(repo_id, f"{filename}: {err.reason}") from err
        finally:
            if out is not None:
                out.close()


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def cached_hub_folder(repo_id: str, revision: str = "main") -> HubFolder | None:
    """The complete copy of ``repo_id`` in the box's cache (and mark it as just used), or None. No network."""
    folder = _repo_folder(repo_id, revision)
    marker = folder / _HUB_MARKER
    with _box_lock:
        try:
            info = json.loads(marker.read_text())
            files = tuple(info["files"])
            if info.get("repo_id") != repo_id or not all((folder / name).is_file() for name in files):
                return None
            os.utime(marker)
            return HubFolder(folder, files, info.get("commit") or "", int(info.get("n_params", 0)))
        except (OSError, ValueError, KeyError, TypeError):
            return None


def _make_room(needed: int, keep: Path) -> None:
    """Evict the least recently used repos of the box's cache (and stale partial downloads) until ``needed`` more
    bytes fit under ``HUB_CACHE_BYTES``. Called with ``_box_lock`` held."""
    root = hub_cache_dir()
    complete = []
    for folder in root.iterdir() if root.is_dir() else ():
        if not folder.is_dir() or folder == keep:
            continue
        if folder.name.startswith(".partial-"):
            if time.time() - folder.stat().st_mtime > 4 * HUB_DEADLINE_S + 60:  # left by a killed process
                shutil.rmtree(folder, ignore_errors=True)
            continue
        marker = folder / _HUB_MARKER
        used = marker.stat().st_mtime if marker.is_file() else 0.0  # an incomplete folder goes first
        complete.append((used, folder, _folder_size(folder)))
    total = sum(size for _, _, size in complete)
    for _, folder, size in sorted(complete, key=lambda item: item[0]):
        if total + needed <= HUB_CACHE_BYTES:
            break
        shutil.rmtree(folder, ignore_errors=True)
        total -= size


def fetch_hub_folder(repo_id: str, layouts=DIFFUSERS_UNET_LAYOUTS, revision: str = "main", check=None) -> HubFolder:
    """Download ``repo_id`` into the box's cache, with every check done before its weights are downloaded.

    One deadline (``HUB_DEADLINE_S``) for the whole load, retries included. First the small files: the model config
    of the first layout the repo has, its other JSON files (each at most ``HUB_MAX_CONFIG_BYTES``) and the header of
    its safetensors file (a Range request: at most ``HUB_MAX_HEADER_BYTES``), from which the parameter count must be
    at most ``HUB_MAX_PARAMS`` and the file must fit ``HUB_CACHE_BYTES``; then ``check(configs, n_params)`` (the JSON
    files of the layout, parsed, in its order), which raises to refuse the model. Only then the weights (exactly
    the size their header says) and SHA256SUMS, into a partial folder that becomes the repo's folder when it is
    complete, least recently used repos evicted to make room. A repo already there at the same commit is not
    downloaded again; when the Hub cannot be reached in time, the copy already there is used."""
    _check_repo_id(repo_id)
    deadline = _Deadline(HUB_DEADLINE_S)
    cached = cached_hub_folder(repo_id, revision)
    if _hub_offline():
        if cached:
            return cached
        raise HubModelRefused(repo_id, "offline", "the Hub is switched off (HF_HUB_OFFLINE) and it is not cached")
    partial = None
    try:
        found, raw, commit = None, {}, None
        for files in layouts:
            try:
                commit, raw[files[0]] = _get(repo_id, revision, files[0], deadline, HUB_MAX_CONFIG_BYTES)
            except _Missing:
                continue
            found = files
            break
        if found is None:
            raise WeightsUnavailableError(repo_id, f"the Hub repo {repo_id}@{revision} has no "
                                                   + " nor ".join(files[0] for files in layouts))
        weights = [name for name in found if name.endswith(".safetensors")]
        for name in found:
            if name.endswith(".json") and name not in raw:
                raw[name] = _get(repo_id, revision, name, deadline, HUB_MAX_CONFIG_BYTES)[1]
        configs = []
        for name in (name for name in found if name.endswith(".json")):
            try:
                configs.append(json.loads(raw[name]))
                if not isinstance(configs[-1], dict):
                    raise ValueError("not a JSON object")
            except ValueError as err:
                raise WeightsUnavailableError(repo_id, f"{name} of {repo_id} is not valid ({err})") from err
        headers, n_params, size = {}, 0, 0
        for name in weights:
            (length,) = struct.unpack("<Q", _get(repo_id, revision, name, deadline, 8, first_bytes=8)[1])
            if not 2 <= length <= HUB_MAX_HEADER_BYTES:
                raise WeightsUnavailableError(repo_id, f"{name} has a safetensors header of {length} bytes (at most "
                                                       f"{HUB_MAX_HEADER_BYTES} allowed)")
            headers[name] = _get(repo_id, revision, name, deadline, 8 + length, first_bytes=8 + length)[1]
            try:
                params, data = safetensors_params(headers[name][8:])
            except ValueError as err:
                raise WeightsUnavailableError(repo_id, f"{name} of {repo_id} is not safetensors ({err})") from err
            n_params, size = n_params + params, size + 8 + length + data
        if n_params > HUB_MAX_PARAMS:
            raise HubModelRefused(repo_id, "params", f"{n_params} parameters (at most {HUB_MAX_PARAMS} allowed)",
                                  n_params=n_params, limit=HUB_MAX_PARAMS)
        if size > HUB_CACHE_BYTES:
            raise HubModelRefused(repo_id, "disk", f"{size} bytes of weights (the cache holds {HUB_CACHE_BYTES})",
                                  size=size, limit=HUB_CACHE_BYTES)
        if check is not None:
            check(configs, n_params)
        if cached and commit and cached.commit == commit and cached.files == tuple(found):
            return cached
        hub_cache_dir().mkdir(parents=True, exist_ok=True)
        partial = hub_cache_dir() / f".partial-{uuid.uuid4().hex}"
        for name, data in raw.items():
            (partial / name).parent.mkdir(parents=True, exist_ok=True)
            (partial / name).write_bytes(data)
        try:
            _get(repo_id, revision, CHECKSUMS_FILE, deadline, HUB_MAX_CONFIG_BYTES, path=partial / CHECKSUMS_FILE)
        except _Missing:
            (partial / CHECKSUMS_FILE).unlink(missing_ok=True)  # older repos have none
        for name in weights:
            expected = 8 + struct.unpack("<Q", headers[name][:8])[0] + safetensors_params(headers[name][8:])[1]
            (partial / name).parent.mkdir(parents=True, exist_ok=True)
            _get(repo_id, revision, name, deadline, expected, path=partial / name)
            with open(partial / name, "rb") as f:
                same = f.read(len(headers[name])) == headers[name]
            if not same or (partial / name).stat().st_size != expected:
                raise WeightsUnavailableError(repo_id, f"{name} is not the file its header described")
        (partial / _HUB_MARKER).write_text(json.dumps({"repo_id": repo_id, "revision": revision, "commit": commit,
                                                       "files": list(found), "n_params": n_params}))
        folder = _repo_folder(repo_id, revision)
        with _box_lock:
            shutil.rmtree(folder, ignore_errors=True)  # an older copy of the same repo
            _make_room(_folder_size(partial), keep=partial)
            partial.rename(folder)
            partial = None
        return HubFolder(folder, tuple(found), commit or "", n_params)
    except TimeoutError as err:
        if cached:
            return cached
        raise HubModelRefused(repo_id, "deadline", f"the Hub at {_hub_endpoint()} did not answer within "
                                                   f"{HUB_DEADLINE_S:g} s", seconds=HUB_DEADLINE_S) from err
    except _Missing as err:
        raise WeightsUnavailableError(repo_id, f"the Hub repo {repo_id}@{revision} has no {err} (safetensors only)") \
            from err
    except HubUnreachable:
        if cached:
            return cached  # the Hub cannot be reached: the copy already here
        raise
    finally:
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)


def load_hub_folder(repo_id: str, load, revision: str = "main", layouts=DIFFUSERS_UNET_LAYOUTS, cache: bool = True,
                    download: bool = True, check=None):
    """``load(folder, layout)`` of any Hub repo ``repo_id`` (e.g. ``google/ddpm-cifar10-32``) at ``revision``,
    cached per repo and loader unless ``cache`` is false (for repo ids typed by users, the caller keeps its own
    bounded cache). Safetensors only: a repo with pickled weights only is refused.

    With ``download`` the repo is fetched first (``fetch_hub_folder``: bounded in time, size and parameters);
    without, only a copy already in the box's cache is used (no network at all: for the heavy queue), else
    ``HubModelRefused`` with code ``not_downloaded``. ``check(configs, n_params)`` runs again on the files on disk
    before ``load`` (which may run the model)."""

    def make():
        if download:
            fetch_hub_folder(repo_id, layouts, revision, check)
        with _box_lock:  # no eviction while it is read
            got = cached_hub_folder(repo_id, revision)
            if got is None:
                raise HubModelRefused(repo_id, "not_downloaded", f"{repo_id} has not been loaded from the Hub yet")
            folder, files = got.path, got.files
            verify_tree_checksums(repo_id, folder, files, root=folder)
            check_readable(repo_id, folder, files)
            if check is not None:
                configs = [json.loads((folder / name).read_text(encoding="utf-8")) for name in files
                           if name.endswith(".json")]
                check(configs, sum(read_safetensors_params(folder / name) for name in files
                                   if name.endswith(".safetensors")))
            try:
                return load(folder, files)
            except Exception as err:
                raise WeightsUnavailableError(
                    repo_id, f"{folder} could not be loaded ({type(err).__name__}: {err})"
                ) from err

    return _remember((repo_id, "hub-folder", revision, load), make) if cache else make()
