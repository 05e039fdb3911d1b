"""The tab kit: what every tab of the gallery is made of.

A tab is one module under ``demos/`` whose id names everything that belongs to it::

    demos/<id>.py                      the tab: plain functions first, then ``create_demo(page)``
    demos/explanations/<id>.en.md      its explanation (and .ja.md): Markdown with KaTeX, for teachers to edit
    tests/test_<id>.py                 its tests
    ?tab=<id>                          its share links; its strings are ``<id>.<name>`` in the browser's table

It declares itself once, near the top::

    TAB = Tab(id="hello", strings={"title": {"en": "Hello", "ja": "こんにちは"}, ...})

    @TAB.builder
    def create_demo(page: Page) -> gr.Blocks: ...

``app.py`` lists the modules' ``TAB`` in order; the gallery's tab ids and share-link ids come from that list.

Events are wired with ``page.on(trigger, fn, inputs, outputs)`` instead of ``trigger(fn, ...)``: it picks the
language of the event once (``--lang`` or the browser's), shows a ``Problem`` raised by plain code in that
language, and, when ``outputs`` is a dict ``{name: component}``, lets ``fn`` return ``{name: value}`` (names it
leaves out keep their value).
"""

import contextlib
import functools
import inspect
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import gradio as gr

from demos import remember as remembering
from demos import turns
from demos.i18n import (
    COMMON,
    LANGUAGES,
    Problem,
    Refused,
    Strings,
    language,
    make_i18n,
    noting,
    read_explanation,
    request_language,
    warn,
)

# KaTeX delimiters for every explanation panel: $$...$$ for display maths, $...$ inline.
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]

# Every file the app writes lives in Gradio's cache folder and expires: uploads and results (Gradio's ``delete_cache``,
# set on the app's Blocks: every CACHE_CHECK_S seconds, the files older than CACHE_MAX_AGE_S), and the files the tabs
# write themselves (``generated_file``: the GIFs of /dcgan_walk and /deepdream_zoom), also swept at each write.
CACHE_CHECK_S = int(os.environ.get("GALLERY_CACHE_CHECK_S", 600))
CACHE_MAX_AGE_S = int(os.environ.get("GALLERY_CACHE_MAX_AGE_S", 7200))


@dataclass
class Tab:
    """One tab of the gallery, declared once in its module."""

    id: str  # share links (?tab=<id>), string keys (<id>.<name>), explanations/<id>.*.md, tests/test_<id>.py
    strings: dict  # {"name": {"en": ..., "ja": ...}}; "title" is the tab's title; "explain" comes from the .md files
    old_ids: tuple = ()  # ids of share links handed out under an earlier name (``?tab=dd``): they still open it
    build: Callable[["Page"], gr.Blocks] | None = None  # set with ``@TAB.builder``

    def __post_init__(self):
        table = dict(self.strings)
        if (read := _explanation_or_none(self.id)) is not None:
            table["explain"] = read
        self.strings = Strings(self.id, table)

    def builder(self, build: Callable[["Page"], gr.Blocks]):
        """Decorator for the function that builds the tab's Blocks from a ``Page``."""
        self.build = build
        return build

    # The tab's strings (see demos/i18n.py): ``ui`` for components, ``text`` at run time, ``problem`` to raise.
    def ui(self, name: str, /):
        return self.strings.ui(name)

    def text(self, name: str, /, **values) -> str:
        return self.strings.text(name, **values)

    def phrase(self, name: str, /, **values):
        return self.strings.phrase(name, **values)

    def problem(self, name: str, /, **values) -> Problem:
        return self.strings.problem(name, **values)

    def explanation(self) -> gr.Markdown:
        """The tab's explanation panel (``explanations/<id>.<lang>.md``, with KaTeX equations)."""
        return gr.Markdown(self.ui("explain"), latex_delimiters=LATEX, elem_classes=["explanation"])

    def opens_on(self, link_tab: str | None) -> bool:
        return link_tab in (self.id, *self.old_ids)

    def launch(self, lang: str | None = None, **kwargs):
        """Run this tab alone: ``python -m demos.<id>`` (with the app's cache expiry and upload budget)."""
        from demos.image_input import upload_budget_app_kwargs

        demo = self.build(Page(self, lang=lang))
        demo.delete_cache = delete_cache()
        demo.launch(i18n=make_i18n([self], lang), max_file_size="10mb", app_kwargs=upload_budget_app_kwargs(),
                    **kwargs)


def _explanation_or_none(tab_id: str):
    try:
        return read_explanation(tab_id)
    except FileNotFoundError:
        return None


@dataclass
class Page:
    """Where a tab is being built: the gallery (its ``gr.Tab`` and every tab, for share links) or alone."""

    tab: Tab
    gr_tab: gr.Tab | None = None  # the gr.Tab it is shown in; None when it runs alone
    lang: str | None = None  # the language fixed by ``--lang``; None: each browser's own
    gallery: Sequence[Tab] = field(default_factory=tuple)  # all tabs, in order (empty when alone)

    def language(self, request: gr.Request | None) -> str:
        return request_language(request, self.lang)

    def on(self, trigger, fn, inputs=None, outputs=None, remember: "remembering.Remembered | None" = None,
           **event_args):
        """``trigger(fn, inputs, outputs, **event_args)`` (e.g. ``page.on(run.click, ...)``, or a dependency's
        ``.then``) with ``fn`` run in the event's language and, for dict ``outputs``, its results by name. An event
        of the heavy queue (``**heavy_queue()``) computes in turns (``demos/turns.py``). ``remember``: a
        deterministic event's recent results, by the content of its inputs (``demos/remember.py``; one per
        event)."""
        if fn is None:
            return trigger(None, inputs, _components(outputs), **event_args)
        heavy = event_args.get("concurrency_id") == HEAVY
        return trigger(self.handler(fn, outputs, heavy, remember), inputs, _components(outputs), **event_args)

    def handler(self, fn, outputs=None, heavy: bool = False, remember: "remembering.Remembered | None" = None):
        """``fn`` wrapped as ``on`` wires it: what Gradio calls."""
        return event_handler(fn, outputs, self.lang, heavy, remember)

    def when_shown(self, demo: gr.Blocks, open_tab, outputs: dict):
        """Run ``open_tab(request)`` (load the models, restore a share link, show a first example) when the
        student first sees the tab, once per page. ``open_tab`` returns ``{name: update}`` for ``outputs``.

        Alone, that is when the page opens. In the gallery it is when the page opens on this tab (the first
        tab, or the one a share link names), or else the first time the student selects it: opening the gallery
        does not compute every tab at once (a class opening the page together waits for one tab, not all), and
        a model nobody looks at is never loaded."""
        if self.gr_tab is None:
            self.on(demo.load, open_tab, None, outputs, api_visibility="private")
            return
        shown = gr.State(False)

        def on_page_open(request: gr.Request):
            if linked_tab(self.gallery, request) is not self.tab:
                return {"shown": False}
            return {"shown": True, **open_tab(request)}

        def on_select(already_shown: bool, request: gr.Request):
            # The tab the page opens on is also "selected" as the page opens: ``on_page_open`` shows it (computing it
            # twice would also reset the drawing pad under a student's first strokes).
            if already_shown or linked_tab(self.gallery, request) is self.tab:
                return {}
            return {"shown": True, **open_tab(request)}

        with_shown = {"shown": shown, **outputs}
        self.on(demo.load, on_page_open, None, with_shown, api_visibility="private")
        self.on(self.gr_tab.select, on_select, shown, with_shown, api_visibility="private")


    def slide_button(self, results: Sequence, settings: Sequence = ()) -> None:
        """A "save as slide" button (placed where this is called) and the file it makes: the tab's current
        ``results`` (its gr.Image / gr.Gallery outputs) with the tab's caption, the ``settings`` (each control's
        label and value) and the key equation, as one 1920×1080 PNG in the UI's language (demos/slide.py), for a
        teacher's slides. The tab's strings need ``slide_caption`` and ``slide_equation`` (matplotlib mathtext)."""
        from demos import slide

        self.tab.ui("slide_caption"), self.tab.ui("slide_equation")  # a tab without them fails when built
        results, settings = list(results), list(settings)
        with gr.Column(min_width=160, elem_classes=["slide-export"]):
            button = gr.Button(COMMON.ui("slide.button"), size="sm", variant="secondary")
            file = gr.File(label=COMMON.ui("slide.file"), visible=False, interactive=False)

        def save_slide(values: dict) -> dict:
            images = [(slide.label_text(c.label), image) for c in results for image in slide.images_of(values[c])]
            if not images:
                raise COMMON.problem("slide.nothing")
            picture = slide.render_slide(
                title=self.tab.text("title"), caption=self.tab.text("slide_caption"),
                equation=self.tab.text("slide_equation"), images=images,
                settings=[(slide.label_text(c.label), slide.setting_text(c, values[c])) for c in settings])
            path = generated_file(f"{self.tab.id}-slide.png", lambda target: picture.save(target, format="PNG"))
            return {"file": gr.update(value=path, visible=True)}

        self.on(button.click, save_slide, {*results, *settings}, {"file": file}, api_visibility="private")


def linked_tab(tabs: Sequence[Tab], request: gr.Request | None) -> Tab | None:
    """The tab a page opens on: the one its share link names (``?tab=<id>``, old ids too), else the first."""
    params = getattr(request, "query_params", None) or {}
    name = params.get("tab") if hasattr(params, "get") else None
    for tab in tabs:
        if tab.opens_on(name):
            return tab
    return tabs[0] if tabs else None


def _components(outputs):
    return list(outputs.values()) if isinstance(outputs, dict) else outputs


def _by_component(result, outputs):
    """A handler's ``{name: value}`` → Gradio's ``{component: value}`` (an unknown name is a bug: KeyError)."""
    if not isinstance(outputs, dict):
        return result
    if not isinstance(result, dict):
        raise TypeError(f"a handler with named outputs returns a dict of them, got {type(result).__name__}")
    if not result:  # nothing to change (Gradio refuses an empty dict): every output skips this update
        return {component: gr.skip() for component in outputs.values()}
    return {outputs[name]: value for name, value in result.items()}


def _is_request(annotation) -> bool:
    return annotation in (gr.Request, gr.Request | None, "gr.Request", "gr.Request | None")


def event_handler(fn, outputs=None, forced_lang: str | None = None, heavy: bool = False,
                  remember: "remembering.Remembered | None" = None):
    """What Gradio calls for ``fn``: same parameters (so the api and MCP docs are ``fn``'s) plus a ``request``,
    from which the event's language is chosen once; ``Problem``s come out in that language; named results are
    matched to their components. ``heavy``: ``fn`` computes in turns of the heavy line (``demos/turns.py``), giving
    way between the items it yields and wherever it calls ``turns.give_way()``. ``remember``: inputs seen
    recently (same language, same content) get the result kept then, at once, before any turn is waited for, and
    inputs being computed by another event wait for its result (``demos/remember.py``); a streaming ``fn``'s is its
    outputs as they stood at its end.

    ``fn`` may take ``request: gr.Request`` itself (``open_tab`` reads share links from it; a parameter named
    ``request`` counts as one); otherwise Gradio hands the request to the wrapper only."""
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    request_at = next((i for i, p in enumerate(params) if p.name == "request" or _is_request(p.annotation)), None)
    takes_request = request_at is not None
    if not takes_request:
        request_at = len(params)
        params.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                        annotation=gr.Request))

    def split(args):
        args = list(args)
        request = args[request_at] if len(args) > request_at else None
        if not takes_request and len(args) > request_at:
            del args[request_at]
        lang = request_language(request, forced_lang)
        for arg in args:  # an input its control refused (demos/controls.py): said now, in the event's language
            if isinstance(arg, Refused):
                raise Problem(arg.text).in_language(lang)
        return args, lang, getattr(request, "session_hash", None)

    def key_of(args, lang):
        return remembering.content_key(lang, args, skip=_not_content) if remember is not None else None

    def remembered(key, session, lang):
        """The result kept for ``key``, or waited for while another event computes it (counted as one of the
        session's heavy jobs meanwhile: ``fair_queue``), its notices shown again; None: compute it, then
        ``remember.settle``."""
        if key is None:
            return None
        with turns.LINE.counted(session) if heavy else contextlib.nullcontext():
            kept = remember.get_or_claim(key)
        if kept is not None:
            with language(lang):
                for notice in kept.notices:
                    warn(notice)
        return kept

    if inspect.isgeneratorfunction(fn):
        def handler(*args):
            args, lang, session = split(args)
            key = key_of(args, lang)
            if (kept := remembered(key, session, lang)) is not None:
                yield _by_component(kept.result, outputs)
                return
            final = {} if isinstance(outputs, dict) else None  # the outputs as they stand (for ``remember``)
            finished, notices = False, []
            try:
                steps = fn(*args)
                if heavy:
                    steps = turns.iterate_in_turns(steps, session=session)
                while True:
                    with language(lang), noting(notices):
                        try:
                            result = next(steps)
                        except StopIteration:
                            finished = True
                            return
                        except Problem as problem:
                            raise problem.in_language(lang) from None
                    final = {**final, **result} if isinstance(outputs, dict) and isinstance(result, dict) else result
                    yield _by_component(result, outputs)
            finally:  # (also when it failed or was stopped: then nothing is kept, and a waiting event computes it)
                if key:
                    remember.settle(key, final if finished else None, notices)
    else:
        def handler(*args):
            args, lang, session = split(args)
            key = key_of(args, lang)
            if (kept := remembered(key, session, lang)) is not None:
                return _by_component(kept.result, outputs)
            result, notices = None, []
            try:
                with language(lang), noting(notices):
                    try:
                        result = turns.in_turns(fn, *args, session=session) if heavy else fn(*args)
                    except Problem as problem:
                        raise problem.in_language(lang) from None
            finally:
                if key:
                    remember.settle(key, result, notices)
            return _by_component(result, outputs)

    functools.update_wrapper(handler, fn)
    handler.__signature__ = signature.replace(parameters=params)
    handler.__annotations__ = {**getattr(fn, "__annotations__", {}), params[request_at].name: gr.Request}
    return handler


def _not_content(value) -> bool:
    """Gradio's progress tracker: an argument of the handler, not an input of the computation."""
    return isinstance(value, gr.Progress)


def delete_cache() -> tuple[int, int]:
    """The app's ``delete_cache`` (Gradio's: every CACHE_CHECK_S seconds, files older than CACHE_MAX_AGE_S)."""
    return (CACHE_CHECK_S, CACHE_MAX_AGE_S)


def generated_folder() -> Path:
    """Where the tabs write their files: a folder of Gradio's cache (``GRADIO_TEMP_DIR``), so that Gradio serves them
    without a copy and its ``delete_cache`` removes them."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder()) / "gallery"


def generated_file(name: str, write: Callable[[Path], None]) -> str:
    """A new file ``name`` written by ``write(path)`` in a folder of its own under ``generated_folder()`` (so that
    the student downloads ``name``), and its path. It is written under a temporary name and renamed when complete
    (a process killed meanwhile leaves no truncated file under ``name``), and the files older than
    ``CACHE_MAX_AGE_S`` (and any left half-written) are removed first: what the tabs write expires even where Gradio
    never served it (a plain call, a failed event)."""
    root = generated_folder()
    expire_generated(root)
    folder = root / uuid.uuid4().hex
    folder.mkdir(parents=True)
    fd, partial = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    os.close(fd)
    try:
        write(Path(partial))
        os.replace(partial, folder / name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return str(folder / name)


def expire_generated(root: Path, max_age_s: float | None = None) -> None:
    """Remove the folders of ``generated_file`` older than ``max_age_s`` (default CACHE_MAX_AGE_S), and those left
    without their file (emptied by Gradio's ``delete_cache``, or half-written by a killed process) for 10 minutes."""
    max_age_s = CACHE_MAX_AGE_S if max_age_s is None else max_age_s
    now = time.time()
    try:
        folders = list(os.scandir(root))
    except FileNotFoundError:
        return
    for entry in folders:
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if not entry.is_dir(follow_symlinks=False):
                if age > max_age_s:
                    os.unlink(entry.path)
            elif age > max_age_s or (age > 600 and not any(n for n in os.listdir(entry.path) if n[0] != ".")):
                shutil.rmtree(entry.path, ignore_errors=True)
        except FileNotFoundError:  # removed meanwhile (another thread, Gradio)
            continue


# Every cache the demos keep (``@demo_cache``), so that one call forgets them all (``clear_caches``).
_DEMO_CACHES = []


def demo_cache(maxsize: int = 8):
    """``functools.lru_cache`` for a demo's computed results (a manifold grid, a translated example, ...),
    cleared with every other by ``clear_caches()``."""
    def decorate(fn):
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        _DEMO_CACHES.append(cached)
        return cached
    return decorate


def clear_caches() -> None:
    """Forget every loaded model (models/loading.py), every demo's cached results and every event's remembered
    ones (``demos/remember.py``): tests switch weights."""
    from models import loading

    loading.clear_cache()
    for cached in _DEMO_CACHES:
        cached.cache_clear()
    remembering.forget_all()


HEAVY = "heavy"  # the concurrency id of the slow events


def heavy_queue() -> dict:
    """Event settings of the slow events (DeepDream, DDPM sampling, CycleGAN, CartoonGAN): they share one queue,
    ``heavy``, and ``Page.on`` makes them compute in turns of at most ``GALLERY_HEAVY_TURN_S`` seconds, at most
    ``GALLERY_HEAVY_CONCURRENCY`` (default 2) jobs in progress at once (``demos/turns.py``): a class pressing "dream"
    together waits in line instead of taking both cores from the light tabs, and a short job is not stuck behind a
    long one (``bench/load_test.py`` measures both). Gradio itself lets ``GALLERY_HEAVY_EVENTS`` (default 16) heavy
    events start at once: those that need no CPU — a click answered from memory, or one waiting for the same
    inputs' result that another click is computing (``demos/remember.py``) — are answered without waiting for the
    jobs in progress. Gradio keeps the *lowest* limit given for one concurrency id, so every heavy event must take
    its settings from here."""
    return {"concurrency_limit": int(os.environ.get("GALLERY_HEAVY_EVENTS", 16)), "concurrency_id": HEAVY}


# At most this many events wait in the whole queue; more get "busy, try again" (Gradio's queue max_size).
QUEUE_MAX_SIZE = int(os.environ.get("GALLERY_QUEUE_MAX_SIZE", 64))
# Heavy jobs one client (a page, a script) may have in progress or waiting: one running and the next one.
HEAVY_PER_CLIENT = 2


def fair_queue(app: gr.Blocks) -> gr.Blocks:
    """Queue the app's events with a bound (``QUEUE_MAX_SIZE``) and let each client (each open page, each
    gradio_client) have at most ``HEAVY_PER_CLIENT`` heavy jobs in progress or waiting: twenty fire-and-forget DDPM
    runs from one script no longer put a student's CartoonGAN at rank 19. A refused request gets "busy, try again"
    in the student's language (Gradio's own "Queue is full" is in English). Call after ``app.queue(...)``.

    This wraps Gradio's ``Queue.push`` (the step that admits an event, before it waits): Gradio offers no
    per-client limit of its own. A script can still open many sessions; the bound caps what they can queue."""
    from gradio import route_utils

    queue = app._queue
    queue.max_size = None  # checked here, so that the message is ours
    admit = queue.push

    async def push(body, request, username):
        def refuse(name):
            lang = request_language(request)
            return False, COMMON.phrase(name, size=QUEUE_MAX_SIZE).render(lang), "error"  # the page shows it

        if len(queue) >= QUEUE_MAX_SIZE:
            return refuse("err.queue_full")
        if body.fn_index is not None:
            fn = route_utils.get_fn(app, None, body)
            if fn.concurrency_id == HEAVY and body.session_hash:
                waiting = queue.event_queue_per_concurrency_id.get(HEAVY)
                waiting = sum(event.session_hash == body.session_hash for event in (waiting.queue if waiting else ()))
                if waiting + turns.LINE.jobs_of(body.session_hash) >= HEAVY_PER_CLIENT:
                    return refuse("err.heavy_busy")
        return await admit(body, request, username)

    queue.push = push
    return app


__all__ = ["COMMON", "LANGUAGES", "LATEX", "Page", "Problem", "Tab", "clear_caches", "delete_cache", "demo_cache",
           "event_handler", "generated_file", "fair_queue", "heavy_queue", "linked_tab"]
