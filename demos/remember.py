"""A heavy click asked again is answered at once: the recent results of a heavy event, by the content of its inputs.

In a class, many students click the same thing: the tab's example photo with its default settings, the photo the
teacher showed, the same preset twice. DeepDream, CartoonGAN and CycleGAN are deterministic (their random numbers
come from a seed that is one of the inputs), so the same inputs give the same pictures: computing them again only
makes everyone else wait longer in the heavy line (``demos/turns.py``). Web servers call this memoization or a
result cache (Gradio's ``cache_examples`` does it for a demo's examples, at start-up).

``Page.on(..., remember=Remembered())`` (``demos/kit.py``) looks the event's inputs up before it joins the heavy
line: a hit returns the finished result (for a streaming event, its outputs as they stood at the end) without
computing or waiting; a miss computes in turns as before and keeps the result, unless it failed or was stopped.
The same inputs asked again *while* they are being computed (the teacher says "everyone, dream on the astronaut")
wait for that one computation instead of starting their own (web caches call this request coalescing): one dream
on the CPU instead of thirty, and it finishes sooner for all of them. If it fails or is stopped, one of those
waiting computes it.

The key is a digest of the event's language (the texts are in it) and of every input's *content*: an image's pixels,
mode, size and the size it was uploaded at, numbers, strings. An input of another kind means "do not remember" (no
key), so a new kind of input is never mistaken for an old one. Only the results are kept, in memory (never on
disk): at most ``GALLERY_REMEMBER_RESULTS`` per event (default 16; 0: nothing is remembered), each for at most
``GALLERY_REMEMBER_S`` seconds (default 1800), with the notices the computation showed (``demos.i18n.warn``: "your
photo was reduced"), which a hit shows again.
"""

import hashlib
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import PIL.Image

SIZE = int(os.environ.get("GALLERY_REMEMBER_RESULTS", 16))  # results kept per event (0: none)
MAX_AGE_S = float(os.environ.get("GALLERY_REMEMBER_S", 1800))  # how long each is kept
WAIT_S = 600.0  # the longest an event waits for another's computation of the same inputs before computing its own

# Every Remembered made, so that ``forget_all`` (``demos.kit.clear_caches``: tests that switch weights) clears them.
_ALL: "weakref.WeakSet[Remembered]" = weakref.WeakSet()


class _NoKey(Exception):
    """An input whose content cannot be read into a key: such an event is computed, not remembered."""


def _feed(digest, value, skip: Callable[[object], bool]) -> None:
    """Add ``value``'s kind and content to ``digest`` (raises ``_NoKey`` for a value of an unknown kind)."""
    if skip(value):
        digest.update(b"skipped;")
    elif value is None or isinstance(value, (bool, int, float, str)):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, PIL.Image.Image):
        info = (value.mode, value.size, value.info.get("uploaded_size"), value.info.get("transparency"))
        digest.update(f"image:{info!r}:".encode())
        digest.update(value.tobytes())
        if value.mode in ("P", "PA"):  # the pixels are indices into the palette: its colours count too
            digest.update(b"palette:" + bytes(value.getpalette() or ()))
    elif isinstance(value, np.ndarray):
        digest.update(f"array:{value.dtype.str}:{value.shape}:".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}[{len(value)}]:".encode())
        for item in value:
            _feed(digest, item, skip)
    elif isinstance(value, dict):
        digest.update(f"dict[{len(value)}]:".encode())
        for name in sorted(value, key=repr):
            _feed(digest, name, skip)
            _feed(digest, value[name], skip)
    else:
        raise _NoKey(type(value).__name__)


def content_key(*values, skip: Callable[[object], bool] = lambda value: False) -> str | None:
    """A digest of the values' kinds and contents (equal for equal contents, e.g. the same photo uploaded twice),
    or None when one of them is of a kind it cannot read. ``skip(value)``: values left out (Gradio's progress
    tracker)."""
    digest = hashlib.blake2b(digest_size=20)
    try:
        for value in values:
            _feed(digest, value, skip)
    except _NoKey:
        return None
    return digest.hexdigest()


class Kept(NamedTuple):
    """A remembered result (handed out fresh: ``_fresh``) and the notices its computation showed."""

    result: object
    notices: tuple = ()


class Remembered:
    """The last ``size`` results of one event (default ``SIZE``; 0: none), each kept at most ``max_age_s`` seconds
    (default ``MAX_AGE_S``), the least recently used first out. Thread-safe: Gradio runs handlers in threads."""

    def __init__(self, size: int | None = None, max_age_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        size = SIZE if size is None else size
        if size < 0:
            raise ValueError(f"the number of results to remember cannot be negative: {size}")
        self.size = size
        self.max_age_s = MAX_AGE_S if max_age_s is None else max_age_s
        self.clock = clock
        self.hits = self.misses = 0  # (benchmarks, tests)
        self._results: OrderedDict = OrderedDict()  # key -> (when stored, result, notices)
        self._computing: dict = {}  # key -> threading.Event set when its computation ends
        self._lock = threading.Lock()
        _ALL.add(self)

    def get(self, key: str | None):
        """The result kept for ``key``, or None (also for no key, and for one kept too long ago)."""
        if key is None:
            return None
        with self._lock:
            kept = self._get(key)
        return kept.result if kept else None

    def _get(self, key: str) -> Kept | None:
        kept = self._results.get(key)
        if kept is None or self.clock() - kept[0] > self.max_age_s:
            self._results.pop(key, None)
            self.misses += 1
            return None
        self._results.move_to_end(key)
        self.hits += 1
        return Kept(_fresh(kept[1]), kept[2])

    def get_or_claim(self, key: str | None) -> Kept | None:
        """The result for ``key`` and its notices: kept, or — while another event computes the same inputs — waited
        for. None: the caller computes it, and must then call ``settle(key, result)`` whatever happens (also for no
        key, and when nothing is remembered)."""
        if key is None or self.size == 0:
            return None
        while True:
            with self._lock:
                kept = self._get(key)
                if kept is not None:
                    return kept
                computing = self._computing.get(key)
                if computing is None:  # nobody computes it: the caller does
                    self._computing[key] = threading.Event()
                    return None
            if not computing.wait(WAIT_S):  # (a computation that never ends: compute rather than wait forever)
                return None
            # settled: kept now, or (it failed, it was stopped) the first of those waiting claims it

    def settle(self, key: str | None, result, notices=()) -> None:
        """The computation of ``key`` ended: keep ``result`` (None: it failed or was stopped) and the ``notices`` it
        showed, and wake the events waiting for it."""
        if key is None:
            return
        self.put(key, result, notices)
        with self._lock:
            computing = self._computing.pop(key, None)
        if computing is not None:
            computing.set()

    def put(self, key: str | None, result, notices=()) -> None:
        if key is None or result is None or self.size == 0:
            return
        with self._lock:
            self._results[key] = (self.clock(), result, tuple(notices))
            self._results.move_to_end(key)
            while len(self._results) > self.size:
                self._results.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._results)

    def clear(self) -> None:
        with self._lock:
            self._results.clear()


def _fresh(result):
    """``result`` to hand out again: a dict of outputs is copied, and so are its update dicts (Gradio takes the
    value out of an update dict it sends), so the kept one stays whole."""
    if not isinstance(result, dict):
        return result
    return {name: dict(value) if isinstance(value, dict) else value for name, value in result.items()}


def forget_all() -> None:
    """Clear every ``Remembered`` (the models behind their results may have changed)."""
    for remembered in list(_ALL):
        remembered.clear()
