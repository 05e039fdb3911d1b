"""Heavy jobs take turns on the CPU, so that a 3-second job never waits behind a 90-second one.

A class shares one server. Some actions are long (1,000 DDPM steps, a DeepDream zoom, every CartoonGAN style at full
size); most heavy ones take a second or three. With one queue that runs each job to its end, a student who asks
for a 3-s dream behind two DDPM-1000 runs waits a minute and a half. Operating systems solved this long ago with
*time slicing*: every job gets the processor for a short turn, then stands in line again.

Here the "processors" are the ``SLOTS`` slots of the line of heavy jobs (``LINE``; ``GALLERY_HEAVY_SLOTS``, default
2, one per core of a free Space): that many jobs compute at once, each for at most ``TURN_S`` seconds
(``GALLERY_HEAVY_TURN_S``, default 1 s), then lets the next job in line go and stands in line for its next turn.
(Each job computes on one core: ``app.py`` runs torch with one thread by default, which on 2 cores served the heavy
tabs faster than two threads per job did; see the README's "A class at once".) A job gives way only where its code
allows it:

* between the pictures a streaming handler yields (the kit does this for every event of the heavy queue), and
* wherever long code calls ``give_way()``: between two DDPM steps, two DeepDream ascent steps, two CartoonGAN styles.
  Outside a heavy event ``give_way()`` does nothing, so plain functions and tests can call the same code.

Who goes next is not simply who has waited longest: the line has two levels, like the *foreground and background*
queues of time-sharing systems (the simplest multilevel feedback queue, Corbató's CTSS 1962). A job that has
computed less than ``LONG_S`` seconds (``GALLERY_HEAVY_LONG_S``, default 8) is *short*: every click at a tab's
defaults is (a dream ~2-4 s of CPU, a cartoon ~2.5 s, 16 digits ~1.5 s). A job that has computed more is *long*
("watch all 1000 steps", a DeepDream zoom, every CartoonGAN style): it gets a turn only when no short job waits
(``level``). The job need not say how long it is: the line learns it from the turns it takes (code that knows may
say it at once: ``mark_long``, as a DDPM run of 500 steps or more does). So that a long job
never starves, one that has waited ``BOOST_S`` seconds (``GALLERY_HEAVY_BOOST_S``, default 8) for a turn goes first
(the "priority boost" of the same family of schedulers). Among short jobs, and among long ones, first come first
served: round-robin.

At most ``IN_PROGRESS`` jobs (``GALLERY_HEAVY_CONCURRENCY``, default 2: one per slot) are *in progress* at once,
sharing the line turn by turn; the next ones wait to be let in, first come, first served (``Line.job``). (More jobs
in progress would stretch every job: they share the same two cores. The clicks of a class are all short and of
similar sizes, and for those first come first served beats sharing: with 2 in progress instead of 4 the classroom's
heavy p95 went from 12-18 s to 10.5-11 s, README "A class at once".) That wait is here, not in Gradio's queue, so
that an event that needs no CPU — a click answered from memory (``demos/remember.py``) — is answered at once instead of
waiting behind the jobs in progress. A long job gives its place in progress to the next one and goes on beside them
(the cap is there so that short jobs do not stretch one another; a long one no longer gets in their way).
``bench/load_test.py --scenario classroom`` measures it.

Turns share the CPU among the heavy jobs; *priorities* share it between heavy and light work. Heavy jobs compute in
threads of lower scheduling priority (``in_background``: Linux's nice value ``GALLERY_HEAVY_NICE``, default 10), so
that when a light request (an AE slider, a VAE decode) needs a core, the operating system gives it one at once
instead of sharing it evenly with two dreams and a GAN-lab chunk; when no light work waits, the heavy jobs use the
whole CPU as before. This is the classic split of interactive and batch work of time-sharing systems (Unix ``nice``).
The GAN lab's "play", which trains for as long as a student lets it, runs lower still (``GALLERY_LAB_NICE``, default
5 more): a heavy click that a student waits for gets most of a core that it shares with a lab.
"""

import contextvars
import itertools
import os
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager

TURN_S = float(os.environ.get("GALLERY_HEAVY_TURN_S", 1.0))
SLOTS = int(os.environ.get("GALLERY_HEAVY_SLOTS", 2))
IN_PROGRESS = int(os.environ.get("GALLERY_HEAVY_CONCURRENCY", 2))
BOOST_S = float(os.environ.get("GALLERY_HEAVY_BOOST_S", 8.0))
LONG_S = float(os.environ.get("GALLERY_HEAVY_LONG_S", 8.0))
NICE = int(os.environ.get("GALLERY_HEAVY_NICE", 10))  # 0: heavy work at the same priority as the rest
# The GAN lab's "play" trains for as long as a student lets it: a batch job by nature, below the heavy clicks that a
# student sits and waits for (5 nice steps lower, it gets about a quarter of a core it shares with a heavy job).
LAB_NICE = int(os.environ.get("GALLERY_LAB_NICE", NICE + 5))


def _lower_priority(nice: int) -> None:
    """Make the calling thread ``nice`` steps less urgent for the scheduler (Linux: a thread's own nice value, which
    threads it starts inherit; a process may always lower its own priority, never raise it back). Elsewhere, or if
    the system refuses, the thread keeps its priority."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + nice))
    except OSError:
        pass


class _Background:
    """The lower-priority threads: made on demand (``_lower_priority`` first), then kept and reused. A thread's
    priority cannot be raised again without privileges, so heavy work gets threads of its own instead of lowering
    Gradio's (which also serve light requests). There is always a thread for a new call, so a job that waits in
    ``give_way`` for its next turn never keeps another from computing. Daemon threads (unlike
    ``concurrent.futures``'), so that stopping the app never waits for a job that waits for its turn."""

    def __init__(self, nice: int):
        self.nice = nice
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    def submit(self, fn: Callable) -> Future:
        future = Future()
        with self._lock:
            if self._idle:
                self._idle -= 1
            else:
                threading.Thread(target=self._work, name="gallery-heavy", daemon=True).start()
        self._calls.put((fn, future))
        return future

    def _work(self) -> None:
        _lower_priority(self.nice)
        while True:
            fn, future = self._calls.get()
            try:
                future.set_result(fn())
            except BaseException as error:  # handed to the caller, who waits for it
                future.set_exception(error)
            del fn, future  # (a finished job's objects are not kept alive by an idle thread)
            with self._lock:
                self._idle += 1


_BACKGROUND: dict[int, _Background] = {}  # the threads of each priority, made on first use
_BACKGROUND_LOCK = threading.Lock()


def _pool(nice: int) -> _Background:
    with _BACKGROUND_LOCK:
        if nice not in _BACKGROUND:
            _BACKGROUND[nice] = _Background(nice)
        return _BACKGROUND[nice]


def in_background(fn: Callable, *args, nice: int = NICE, turn: "Turn | None" = None):
    """``fn(*args)`` computed in a thread ``nice`` steps less urgent (``NICE`` for heavy jobs, ``LAB_NICE`` for the
    GAN lab); the caller waits for its result or exception. The caller's context (the UI's language:
    ``demos.i18n``) goes with it, and so does the heavy turn (``give_way``): ``turn``, else the caller's own."""
    turn = turn or getattr(_current, "turn", None)
    context = contextvars.copy_context()

    def call():
        with _computing(turn):
            return fn(*args)

    return _pool(nice).submit(lambda: context.run(call)).result()


def level(served_s: float, long_s: float) -> int:
    """A job's level in the line after ``served_s`` seconds of turns: 0 (short) below ``long_s``, else 1 (long).
    Lower levels go first."""
    return 0 if served_s < long_s else 1


class Line:
    """A line for the CPU: ``slots`` jobs compute at once, each for a turn; the others wait, short jobs first (less
    than ``long_s`` seconds computed: ``level``), first come first served within a level; a job that has waited
    ``boost_s`` goes first whatever its level.

    A job is a ``Turn``; it holds a *ticket* while it is in the line. Tickets are plain objects, not locks owned by
    a thread, because Gradio may resume a streaming handler in another thread than the one it started in.
    A job is in progress inside ``job()``, which lets at most ``in_progress`` jobs in at once (None: any number);
    a job that has computed ``long_s`` seconds no longer counts among them.
    ``clock``, ``turn_s``, ``slots``, ``in_progress``, ``boost_s`` and ``long_s`` are attributes so that tests can
    drive them."""

    def __init__(self, turn_s: float = TURN_S, clock: Callable[[], float] = time.perf_counter, slots: int = 1,
                 in_progress: int | None = None, boost_s: float = BOOST_S, long_s: float = LONG_S):
        if slots < 1:
            raise ValueError(f"a line needs at least one slot, got {slots}")
        if in_progress is not None and in_progress < 1:
            raise ValueError(f"a line needs room for at least one job in progress, got {in_progress}")
        self.turn_s = turn_s
        self.clock = clock
        self.slots = slots
        self.in_progress = in_progress
        self.boost_s = boost_s
        self.long_s = long_s
        self._changed = threading.Condition()
        self._computing: set = set()  # the tickets that have a turn now
        self._waiting: dict = {}  # ticket → (level, number in order of joining, when it joined)
        self._joined = itertools.count()
        self._entering: deque = deque()  # jobs waiting to be let in, first come first
        self._inside = 0  # jobs let in and not yet long (computing, or waiting in the line for a turn)
        self._sessions: Counter = Counter()  # browser session → its heavy jobs (waiting to be let in, or inside)

    def _order(self, ticket: object, now: float) -> tuple[int, int]:
        lvl, number, joined = self._waiting[ticket]
        return (0 if now - joined >= self.boost_s else lvl), number

    def _next(self) -> object:
        now = self.clock()
        return min(self._waiting, key=lambda ticket: self._order(ticket, now))

    def join(self, served_s: float = 0.0) -> object:
        """Stand in the line at the level of a job that has computed ``served_s`` seconds, and wait until a slot is
        free and this ticket is the next (see the class); returns the ticket."""
        ticket = object()
        with self._changed:
            self._waiting[ticket] = (level(served_s, self.long_s), next(self._joined), self.clock())
            try:
                # Re-checked at least every 0.25 s: the priority boost comes with the clock, not with a notify.
                while not (len(self._computing) < self.slots and self._next() is ticket):
                    self._changed.wait(timeout=0.25)
            except BaseException:
                del self._waiting[ticket]
                self._changed.notify_all()
                raise
            del self._waiting[ticket]
            self._computing.add(ticket)
            self._changed.notify_all()  # a second free slot: the next one may go too
        return ticket

    def leave(self, ticket: object) -> None:
        """Leave the line (after a turn, or when a job ends or is cancelled); the next job in line goes."""
        with self._changed:
            self._computing.discard(ticket)
            self._waiting.pop(ticket, None)
            self._changed.notify_all()

    def waiting(self) -> int:
        """How many jobs are in the line (those computing included)."""
        with self._changed:
            return len(self._computing) + len(self._waiting)

    def jobs_of(self, session: str | None) -> int:
        """How many heavy jobs of this browser session are in progress or waiting to be let in."""
        with self._changed:
            return self._sessions[session] if session else 0

    def inside(self) -> int:
        """How many jobs are in progress (let in by ``job``) and not yet long."""
        with self._changed:
            return self._inside

    def _may_enter(self, ticket: object) -> bool:
        return self._entering[0] is ticket and (self.in_progress is None or self._inside < self.in_progress)

    @contextmanager
    def counted(self, session: str | None):
        """Count a heavy job of ``session`` while it lasts (``demos.kit.fair_queue`` reads the count): in progress,
        waiting to be let in, or waiting for another job's result of the same inputs (``demos/remember.py``)."""
        with self._changed:
            self._sessions[session] += 1
        try:
            yield
        finally:
            with self._changed:
                self._sessions[session] -= 1
                if self._sessions[session] <= 0:
                    del self._sessions[session]

    @contextmanager
    def job(self, session: str | None):
        """A job in progress: waits (first come, first served) until fewer than ``in_progress`` jobs are, and counts
        it for ``session`` from the start of that wait to its end. Yields the job's ``Turn``."""
        ticket = object()
        turn = Turn(self)
        with self.counted(session):
            with self._changed:
                self._entering.append(ticket)
            try:
                with self._changed:
                    try:
                        self._changed.wait_for(lambda: self._may_enter(ticket))
                    finally:
                        self._entering.remove(ticket)
                        self._changed.notify_all()  # the next one may enter too (or be first, if this one gave up)
                    self._inside += 1
                    turn.counted_inside = True
                yield turn
            finally:
                turn.release()
                self.step_aside(turn)

    def step_aside(self, turn: "Turn") -> None:
        """``turn``'s job no longer counts among the jobs in progress (it is long, or it has ended)."""
        with self._changed:
            if turn.counted_inside:
                turn.counted_inside = False
                self._inside -= 1
                self._changed.notify_all()


LINE = Line(slots=SLOTS, in_progress=IN_PROGRESS)


class Turn:
    """One heavy job's place in a ``Line``: ``hold()`` waits for a turn (if it has none), ``give_way()`` ends the
    turn when its time is up and waits for the next one, ``release()`` leaves the line. ``served_s`` adds up the
    job's turns: the line's level for its next one."""

    def __init__(self, line: Line):
        self.line = line
        self.ticket = None
        self.started = 0.0
        self.turns = 0  # how many turns this job had (tests, benchmarks)
        self.served_s = 0.0
        self.counted_inside = False  # among the line's jobs in progress (``Line.job``)

    def hold(self) -> None:
        if self.ticket is None:
            self.ticket = self.line.join(self.served_s)
            self.started = self.line.clock()
            self.turns += 1

    def time_is_up(self) -> bool:
        return self.ticket is not None and self.line.clock() - self.started >= self.line.turn_s

    def release(self) -> None:
        if self.ticket is not None:
            ticket, self.ticket = self.ticket, None
            self.served_s += self.line.clock() - self.started
            self.line.leave(ticket)
            if level(self.served_s, self.line.long_s) == 1:
                self.line.step_aside(self)  # a long job: the next one may be let in

    def give_way(self) -> None:
        if self.time_is_up():
            self.release()  # the next job in line goes now; we stand in line at our new level
            self.hold()

    def mark_long(self) -> None:
        self.served_s = max(self.served_s, self.line.long_s)
        self.line.step_aside(self)


_current = threading.local()  # the Turn of the heavy job this thread is computing for, if any


@contextmanager
def _computing(turn: Turn):
    outer = getattr(_current, "turn", None)
    _current.turn = turn
    try:
        yield
    finally:
        _current.turn = outer


def give_way() -> None:
    """Let the next heavy job compute if this job's turn is over (then wait for the next turn). Call it between the
    steps of long work; outside a heavy event it does nothing."""
    turn = getattr(_current, "turn", None)
    if turn is not None:
        turn.give_way()


def mark_long() -> None:
    """Say that the heavy job this thread computes for is long, where its code knows it ("watch all 1000 steps"): it
    then waits while short jobs are in line and gives its place in progress at once, instead of after ``LONG_S``
    seconds of turns. Outside a heavy event it does nothing."""
    turn = getattr(_current, "turn", None)
    if turn is not None:
        turn.mark_long()


def in_turns(fn: Callable, *args, line: Line | None = None, session: str | None = None):
    """``fn(*args)`` computed in turns of ``line`` (default ``LINE``): it waits for a turn, and gives way wherever
    it calls ``give_way()``. Inside another job's turn (a heavy function calling another) it simply runs."""
    if getattr(_current, "turn", None) is not None:
        return fn(*args)
    line = line or LINE
    with line.job(session) as turn:
        turn.hold()
        return in_background(fn, *args, turn=turn)


def iterate_in_turns(steps: Iterator, line: Line | None = None, session: str | None = None) -> Iterator:
    """The items of ``steps`` (a streaming handler's generator), each computed in a turn of ``line``: a turn lasts
    across items until its time is up, then the job gives way between two items (and wherever the generator's
    code calls ``give_way()``)."""
    if getattr(_current, "turn", None) is not None:
        yield from steps
        return
    line = line or LINE
    with line.job(session) as turn:
        while True:
            turn.hold()
            try:
                item = in_background(next, steps, turn=turn)
            except StopIteration:
                return
            if turn.time_is_up():
                turn.release()  # others go while Gradio sends this item; we stand in line for the next one
            yield item
