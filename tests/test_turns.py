"""Heavy jobs take turns (demos/turns.py): a short job is not stuck behind a long one. The clock is the test's, so
the order of the steps is exact, whatever the machine's speed."""

import functools
import os
import threading
import time

import pytest

from demos import turns
from demos.turns import Line, give_way, in_turns, iterate_in_turns
from tests.waiting import wait_until


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now



@pytest.fixture
def line():
    return Line(turn_s=1.0, clock=FakeClock())


def start(target):
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def half_second_steps(line, order, name, n, wait_at=None):
    """A job of ``n`` steps of half a second (on the line's fake clock), each noted in ``order`` as name + index;
    before step i it waits until ``line.waiting() == wait_at[i]`` (the other jobs are in line by then), or, if
    ``wait_at[i]`` is a function, until it returns true."""
    def job():
        for i in range(n):
            if wait_at and i in wait_at:
                condition = wait_at[i] if callable(wait_at[i]) else lambda: line.waiting() == wait_at[i]
                wait_until(condition)
            order.append(f"{name}{i}")
            line.clock.now += 0.5
            give_way()
    return job


def test_a_short_job_goes_after_the_long_jobs_turn_not_after_the_long_job(line):
    order = []

    def long_job():
        for i in range(6):
            if i == 1:  # the short job has joined the line by now (the long one holds the turn)
                wait_until(lambda: line.waiting() == 2)
            order.append(f"long{i}")
            line.clock.now += 0.5  # each step takes half a second
            give_way()

    def short_job():
        for i in range(2):
            order.append(f"short{i}")
            line.clock.now += 0.5
            give_way()

    a = start(lambda: in_turns(long_job, line=line, session="a"))
    wait_until(lambda: order)  # the long job computes
    b = start(lambda: in_turns(short_job, line=line, session="b"))
    a.join(10), b.join(10)
    # The long job's first turn is 1 s (two steps); then the short job runs whole (its turn is up after its last
    # step: nobody else waits, so it would have gone on anyway), then the long job again.
    assert order == ["long0", "long1", "short0", "short1", "long2", "long3", "long4", "long5"]
    assert line.waiting() == 0 and line.jobs_of("a") == line.jobs_of("b") == 0


def test_a_streaming_job_gives_way_between_the_items_it_yields(line):
    order = []

    def frames(name, n):
        for i in range(n):
            order.append(f"{name}{i}")
            line.clock.now += 0.6
            yield i

    long_done = []

    def consume_long():
        for i in iterate_in_turns(frames("long", 5), line=line, session="a"):
            if i == 0:
                wait_until(lambda: line.waiting() == 2)  # the short job waits behind the turn of the long one
            long_done.append(i)

    a = start(consume_long)
    wait_until(lambda: order)
    b = start(lambda: list(iterate_in_turns(frames("short", 2), line=line, session="b")))
    a.join(10), b.join(10)
    # long0 (0.6 s, turn not over), long1 (1.2 s: over) → the short job's turn (1.2 s) → the long job again.
    assert order == ["long0", "long1", "short0", "short1", "long2", "long3", "long4"]
    assert long_done == [0, 1, 2, 3, 4] and line.waiting() == 0


def test_a_job_leaves_the_line_when_it_fails_or_is_closed(line):
    def failing():
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        in_turns(failing, line=line, session="s")
    steps = iterate_in_turns(iter(range(10)), line=line, session="s")
    assert next(steps) == 0 and line.waiting() == 1 and line.jobs_of("s") == 1
    steps.close()  # Gradio closes a cancelled event's generator
    assert line.waiting() == 0 and line.jobs_of("s") == 0
    assert in_turns(lambda: 42, line=line) == 42  # the line is free


def test_give_way_does_nothing_outside_a_heavy_job_and_nested_jobs_share_the_turn(line):
    give_way()  # no job: returns at once
    assert in_turns(lambda: in_turns(lambda: 7, line=line), line=line) == 7  # no deadlock on its own turn
    assert list(iterate_in_turns(iter([1, 2]), line=line)) == [1, 2]
    assert getattr(turns._current, "turn", None) is None


def test_the_line_takes_turns_in_real_time_too():
    """With the real clock: while a job that never ends its steps early runs, a second one gets a turn within
    about one turn's time."""
    line = Line(turn_s=0.05)
    stop, started = threading.Event(), []

    def endless():
        started.append(1)
        while not stop.is_set():
            time.sleep(0.005)
            give_way()

    a = start(lambda: in_turns(endless, line=line))
    wait_until(lambda: started)
    t = time.perf_counter()
    assert in_turns(lambda: "done", line=line) == "done"
    waited = time.perf_counter() - t
    stop.set()
    a.join(10)
    assert waited < 2.0  # one turn of 0.05 s, with a wide margin for a busy machine


def test_with_two_slots_two_jobs_compute_at_once_and_a_third_waits():
    line = Line(turn_s=1.0, clock=FakeClock(), slots=2)
    inside, release = [], threading.Event()

    def job(name):
        inside.append(name)
        release.wait(10)

    threads = [start(lambda n=n: in_turns(job, n, line=line, session=n)) for n in "ab"]
    wait_until(lambda: sorted(inside) == ["a", "b"])  # both compute, neither waits for the other
    third = start(lambda: in_turns(job, "c", line=line, session="c"))
    wait_until(lambda: line.waiting() == 3)
    time.sleep(0.05)
    assert "c" not in inside  # the line's two slots are taken: the third job waits for one
    release.set()
    for thread in [*threads, third]:
        thread.join(10)
    assert sorted(inside) == ["a", "b", "c"] and line.waiting() == 0
    with pytest.raises(ValueError):
        Line(slots=0)


def test_at_most_in_progress_jobs_are_let_in_first_come_first_served():
    line = Line(turn_s=1.0, clock=FakeClock(), slots=1, in_progress=2)
    entered, done = [], {name: threading.Event() for name in "abcd"}

    def job(name):
        with line.job(session=name):
            entered.append(name)
            done[name].wait(10)

    threads = {name: start(lambda n=name: job(n)) for name in "ab"}
    wait_until(lambda: sorted(entered) == ["a", "b"] and line.inside() == 2)
    threads["c"] = start(lambda: job("c"))
    wait_until(lambda: line.jobs_of("c") == 1)  # c waits to be let in, and counts as c's job meanwhile
    threads["d"] = start(lambda: job("d"))
    wait_until(lambda: line.jobs_of("d") == 1)
    assert sorted(entered) == ["a", "b"] and line.inside() == 2
    done["b"].set()
    wait_until(lambda: len(entered) == 3)
    assert entered[2] == "c" and line.inside() == 2  # the first to come, not d
    for name in "acd":
        done[name].set()
    for thread in threads.values():
        thread.join(10)
    assert entered[3] == "d" and line.inside() == 0 and all(line.jobs_of(name) == 0 for name in "abcd")
    with pytest.raises(RuntimeError), line.job(session="e"):  # a job that fails leaves its place
        raise RuntimeError("boom")
    assert line.inside() == 0 and line.jobs_of("e") == 0
    with pytest.raises(ValueError):
        Line(in_progress=0)


def _nice_of_this_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not hasattr(os, "setpriority") or turns.NICE <= 0, reason="thread priorities: Linux")
def test_heavy_work_computes_at_a_lower_priority_than_its_caller(line):
    mine = _nice_of_this_thread()
    seen = {}

    def job():
        seen["job"] = _nice_of_this_thread()
        return "done"

    def frames():
        for i in range(2):
            seen[f"frame{i}"] = _nice_of_this_thread()
            yield i

    assert in_turns(job, line=line) == "done"
    assert list(iterate_in_turns(frames(), line=line)) == [0, 1]
    expected = min(19, mine + turns.NICE)
    assert seen == {"job": expected, "frame0": expected, "frame1": expected}
    assert _nice_of_this_thread() == mine  # the caller (a Gradio worker, serving light requests too) keeps its own


@pytest.mark.skipif(not hasattr(os, "setpriority") or turns.NICE <= 0, reason="thread priorities: Linux")
def test_the_gan_lab_computes_below_the_heavy_jobs():
    mine = _nice_of_this_thread()
    heavy = turns.in_background(_nice_of_this_thread)
    lab = turns.in_background(_nice_of_this_thread, nice=turns.LAB_NICE)
    assert heavy == min(19, mine + turns.NICE) and lab == min(19, mine + turns.LAB_NICE)
    assert turns.LAB_NICE > turns.NICE and (lab > heavy or heavy == 19)
    assert _nice_of_this_thread() == mine


def test_in_background_keeps_the_language_and_the_turn_and_passes_errors_back(line):
    from demos.i18n import current_language, language

    turn = turns.Turn(line)
    with language("ja"), turns._computing(turn):
        assert turns.in_background(lambda: (current_language(), turns._current.turn)) == ("ja", turn)
    with pytest.raises(ZeroDivisionError):
        turns.in_background(lambda: 1 / 0)
    with pytest.raises(StopIteration):
        turns.in_background(next, iter(()))


def test_in_background_never_makes_a_call_wait_for_a_busy_thread():
    """Jobs waiting in ``give_way`` for their turn hold their threads: a new call must still get a thread of its own
    (else a job at the head of the line could wait behind jobs that wait for it)."""
    release = threading.Event()
    started = []
    callers = [start(lambda i=i: turns.in_background(lambda: started.append(i) or release.wait(10))) for i in range(6)]
    wait_until(lambda: len(started) == 6)  # all six compute (wait) at once
    release.set()
    for caller in callers:
        caller.join(10)
    assert turns.in_background(threading.current_thread).daemon  # stopping the app never waits for these threads


def test_a_long_job_computes_only_when_no_short_job_waits():
    """Two levels: once the long job has computed ``long_s`` (2 s here) it waits while short jobs are in line; the
    two short jobs take turns (first come first served). Plain round-robin would have given the long job every
    other turn."""
    line = Line(turn_s=1.0, clock=FakeClock(), long_s=2.0)
    order = []
    steps = functools.partial(half_second_steps, line, order)

    long_job = start(lambda: in_turns(steps("l", 6, {1: 2}), line=line, session="l"))  # l1 waits for a in line
    wait_until(lambda: order)
    first = start(lambda: in_turns(steps("a", 4, {1: 3}), line=line, session="a"))  # a1 waits for l and b in line
    wait_until(lambda: "a0" in order)
    second = start(lambda: in_turns(steps("b", 4), line=line, session="b"))
    for thread in (long_job, first, second):
        thread.join(10)
    # l's first turn (l0, l1) ends with a in line: a's turn, while l (1 s computed: short) and then b stand in line;
    # l's second turn (l2, l3) makes it long (2 s): then b and a take turns until both are done, and l ends.
    assert order == ["l0", "l1", "a0", "a1", "l2", "l3", "b0", "b1", "a2", "a3", "b2", "b3", "l4", "l5"]
    assert line.waiting() == 0 and line.inside() == 0


def test_a_job_that_waited_long_enough_goes_first_whatever_its_level():
    line = Line(turn_s=1.0, clock=FakeClock(), slots=1, boost_s=5.0)

    def turn_of(name, served_s, order):
        ticket = line.join(served_s=served_s)
        order.append(name)
        line.leave(ticket)

    for boosted in (False, True):
        order, holder = [], line.join()  # the slot is taken while the two others come
        long_job = start(lambda: turn_of("long", 16.0, order))  # 16 s computed: level 5
        wait_until(lambda: line.waiting() == 2)
        if boosted:
            line.clock.now += 6.0  # the long job has now waited 6 s ≥ boost_s
        new_job = start(lambda: turn_of("new", 0.0, order))  # level 0
        wait_until(lambda: line.waiting() == 3)
        line.leave(holder)
        long_job.join(10), new_job.join(10)
        assert order == (["long", "new"] if boosted else ["new", "long"])
        assert line.waiting() == 0


def test_a_long_job_gives_its_place_in_progress_to_the_next_one():
    line = Line(turn_s=1.0, clock=FakeClock(), slots=1, in_progress=1, long_s=2.0)
    order, inside_when_b_came = [], []

    def b_came():  # before a1 (0.5 s computed): b has come and waits to be let in, a alone is in progress
        if line.jobs_of("b") != 1:
            return False
        inside_when_b_came.append((line.inside(), line.waiting()))
        return True

    # a4 waits until b is in the line: by then (2 s computed) a has stepped aside and b was let in
    a = start(lambda: in_turns(half_second_steps(line, order, "a", 8, {1: b_came, 4: 2}), line=line, session="a"))
    wait_until(lambda: order)
    b = start(lambda: in_turns(half_second_steps(line, order, "b", 2), line=line, session="b"))
    a.join(10), b.join(10)
    assert inside_when_b_came == [(1, 1)]  # b was not let in while a was short
    # a computes alone for 3 s (its turns end with nobody in line; at 2 s it steps aside and b is let in), then b
    # (short) goes before a (long), then a ends.
    assert order == ["a0", "a1", "a2", "a3", "a4", "a5", "b0", "b1", "a6", "a7"]
    assert line.inside() == 0 and line.jobs_of("a") == line.jobs_of("b") == 0


def test_a_job_that_says_it_is_long_gives_its_place_and_waits_from_its_first_turn():
    """``mark_long`` (a DDPM run of 1000 steps calls it): the job steps aside at once, so the next one is let in
    and goes before it at the end of its turn — without it, with one place in progress, b would wait for all of a."""
    line = Line(turn_s=1.0, clock=FakeClock(), slots=1, in_progress=1, long_s=100.0)
    order = []

    def long_steps():
        turns.mark_long()
        half_second_steps(line, order, "a", 6, {1: 2})()  # a1 waits until b is in the line

    a = start(lambda: in_turns(long_steps, line=line, session="a"))
    wait_until(lambda: order)
    b = start(lambda: in_turns(half_second_steps(line, order, "b", 2), line=line, session="b"))
    a.join(10), b.join(10)
    assert order == ["a0", "a1", "b0", "b1", "a2", "a3", "a4", "a5"]
    assert line.inside() == 0 and line.jobs_of("a") == line.jobs_of("b") == 0
    turns.mark_long()  # outside a heavy job: nothing
