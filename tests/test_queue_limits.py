"""The queue a class shares: bounded, and at most two heavy jobs per client, one computing and one waiting
(demos/kit.py: fair_queue). Reproduces issue 13's attack: twenty fire-and-forget heavy calls from one client used to
push everyone else back."""

import threading
import time

import gradio as gr
import pytest
from gradio_client import Client

from clients.browser_protocol import BrowserProtocolClient
from demos import kit
from demos import turns as kit_turns
from demos.kit import Page, Tab, fair_queue, heavy_queue
from demos.turns import LINE
from tests.waiting import wait_until

TAB = Tab(id="slow", strings={"title": {"en": "Slow", "ja": "遅い"}})


def number_app(events: dict, remember: dict | None = None) -> gr.Blocks:
    """A one-tab app, a number in and a number out, one button per event: ``events`` maps an api name to
    ``(handler, heavy)``; heavy events go through the heavy line (demos/kit.py: heavy_queue), as in the gallery;
    ``remember``: api name → its ``Remembered``."""
    page = Page(TAB)
    with gr.Blocks() as app:
        a, b = gr.Number(), gr.Number()
        for name, (handler, heavy) in events.items():
            page.on(gr.Button().click, handler, a, b, api_name=name, remember=(remember or {}).get(name),
                    **(heavy_queue() if heavy else {}))
    app.queue(default_concurrency_limit=2)
    return fair_queue(app)


def slow_app(release: threading.Event) -> gr.Blocks:
    def work(x: float) -> float:
        """A heavy job that runs until the test releases it."""
        release.wait(timeout=20)
        return x + 1

    def quick(x: float) -> float:
        return x * 2

    return number_app({"work": (work, True), "quick": (quick, False)})


@pytest.fixture
def served(request, monkeypatch):
    monkeypatch.setenv("GALLERY_HEAVY_EVENTS", str(getattr(request, "param", 16)))  # heavy events Gradio starts
    release = threading.Event()
    app = slow_app(release)
    app.launch(prevent_thread_lock=True, quiet=True)
    yield app, release
    release.set()
    app.close()


def test_one_waiting_heavy_job_per_client_in_the_clients_language(served):
    app, release = served
    ja = Client(app.local_url, headers={"Accept-Language": "ja"}, verbose=False)
    other = Client(app.local_url, verbose=False)
    running = ja.submit(1, api_name="/work")
    wait_until(lambda: LINE.jobs_of(ja.session_hash) == 1)  # it computes (holds the heavy line's turn)
    waiting = ja.submit(2, api_name="/work")  # this client's next heavy job: admitted, waits for its turn
    wait_until(lambda: LINE.jobs_of(ja.session_hash) == 2 and LINE.waiting() == 2)
    page = BrowserProtocolClient(app.local_url, headers={"Accept-Language": "ja"})  # the page's own protocol
    page.session_hash = ja.session_hash  # the same client
    with pytest.raises(RuntimeError, match="前のリクエストがまだ順番を待っています"):
        page.predict(3, api_name="/work")  # a second waiting one: refused at once, in Japanese
    assert other.predict(5, api_name="/quick") == 10  # light events and other clients are not affected
    behind = other.submit(4, api_name="/work")  # another client may wait too (in line, or to be let in)
    wait_until(lambda: LINE.jobs_of(other.session_hash) == 1)
    release.set()
    assert (running.result(timeout=20), waiting.result(timeout=20), behind.result(timeout=20)) == (2, 3, 5)


# Gradio starts one heavy event at a time: the next ones wait in its queue.
@pytest.mark.parametrize("served", [1], indirect=True)
def test_a_full_queue_says_busy(served, monkeypatch):
    app, release = served
    monkeypatch.setattr(kit, "QUEUE_MAX_SIZE", 1)
    first, second = Client(app.local_url, verbose=False), Client(app.local_url, verbose=False)
    running = first.submit(1, api_name="/work")
    wait_until(lambda: any(app._queue.active_jobs))
    waiting = second.submit(2, api_name="/work")
    wait_until(lambda: len(app._queue) == 1)
    with pytest.raises(RuntimeError, match="The gallery is busy"):
        BrowserProtocolClient(app.local_url).predict(3, api_name="/quick")
    release.set()
    assert (running.result(timeout=20), waiting.result(timeout=20)) == (2, 3)


def test_a_short_heavy_job_is_not_stuck_behind_a_long_one(monkeypatch):
    """Through a launched app: while one client's long streaming job runs, another client's short heavy job finishes
    within a few turns (demos/turns.py), long before the long one."""
    monkeypatch.setattr(LINE, "turn_s", 0.05)
    monkeypatch.setattr(LINE, "slots", 1)  # one job computes at a time: the short one must get a turn
    stop = threading.Event()

    def long_run(x: float):
        """Streams a number until the test stops it (at most 20 s), giving way between its steps."""
        for i in range(2000):
            if stop.is_set():
                break
            time.sleep(0.01)  # a step of work
            kit_turns.give_way()
            if i % 50 == 0:
                yield x + i

    def short(x: float) -> float:
        return x * 2

    app = number_app({"long": (long_run, True), "short": (short, True)})
    app.launch(prevent_thread_lock=True, quiet=True)
    try:
        long_job = Client(app.local_url, verbose=False).submit(1, api_name="/long")
        wait_until(lambda: LINE.waiting() == 1)  # the long job computes
        t = time.perf_counter()
        assert Client(app.local_url, verbose=False).predict(4, api_name="/short") == 8
        assert time.perf_counter() - t < 10 and not long_job.done()  # within a turn or two, not after 20 s
    finally:
        stop.set()
        app.close()


def test_a_remembered_answer_does_not_wait_for_the_jobs_in_progress(monkeypatch):
    """Through a launched app, with room for one heavy job in progress (demos/turns.py: Line.job): while it computes
    and another client's job waits to be let in, a click whose result is remembered is answered at once."""
    from demos.remember import Remembered

    monkeypatch.setattr(LINE, "in_progress", 1)
    release = threading.Event()
    computed = []

    def work(x: float) -> float:
        """A heavy job that runs until the test releases it (except for x = 7: at once)."""
        computed.append(x)
        if x != 7:
            release.wait(timeout=20)
        return x + 1

    app = number_app({"work": (work, True)}, remember={"work": Remembered()})
    app.launch(prevent_thread_lock=True, quiet=True)
    try:
        a, b, c = (Client(app.local_url, verbose=False) for _ in range(3))
        assert a.predict(7, api_name="/work") == 8 and computed == [7]  # computed and remembered
        running = a.submit(1, api_name="/work")
        wait_until(lambda: LINE.inside() == 1 and computed == [7, 1])
        waiting = b.submit(2, api_name="/work")
        wait_until(lambda: LINE.jobs_of(b.session_hash) == 1)  # waits to be let in
        assert LINE.inside() == 1 and computed == [7, 1]
        t = time.perf_counter()
        assert c.predict(7, api_name="/work") == 8  # remembered: no wait behind the two
        assert time.perf_counter() - t < 5 and not running.done() and not waiting.done() and computed == [7, 1]
        release.set()
        assert (running.result(timeout=20), waiting.result(timeout=20)) == (2, 3)
    finally:
        release.set()
        app.close()


def test_a_click_waiting_for_the_same_inputs_counts_as_the_clients_waiting_job(monkeypatch):
    """A script repeating one heavy click cannot hold many of the heavy events Gradio starts at once: the copy that
    waits for the first one's result counts as the client's waiting job, and a third is refused."""
    from demos.remember import Remembered

    release = threading.Event()
    computed = []

    def work(x: float) -> float:
        computed.append(x)
        release.wait(timeout=20)
        return x + 1

    app = number_app({"work": (work, True)}, remember={"work": Remembered()})
    app.launch(prevent_thread_lock=True, quiet=True)
    try:
        client = Client(app.local_url, verbose=False)
        first = client.submit(1, api_name="/work")
        wait_until(lambda: computed == [1])
        same = client.submit(1, api_name="/work")  # waits for the first one's result
        wait_until(lambda: LINE.jobs_of(client.session_hash) == 2)
        page = BrowserProtocolClient(app.local_url)
        page.session_hash = client.session_hash
        with pytest.raises(RuntimeError, match="still waiting for its turn"):
            page.predict(1, api_name="/work")
        release.set()
        assert (first.result(timeout=20), same.result(timeout=20)) == (2, 2) and computed == [1]
        wait_until(lambda: LINE.jobs_of(client.session_hash) == 0)
    finally:
        release.set()
        app.close()
