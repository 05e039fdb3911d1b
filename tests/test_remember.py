"""A heavy click asked again is answered at once (demos/remember.py, wired by demos/kit.py: ``Page.on(remember=)``)."""

import threading

import gradio as gr
import numpy as np
import PIL.Image
import pytest

from demos import turns
from demos.i18n import COMMON
from demos.kit import clear_caches, event_handler
from demos.remember import Remembered, content_key
from tests.waiting import wait_until


class FakeRequest:
    def __init__(self, lang="en", session="s"):
        self.headers = {"accept-language": lang}
        self.session_hash = session


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def photo(colour="tan", size=(40, 30)):
    return PIL.Image.new("RGB", size, colour)


def test_the_key_is_the_content():
    # the same pixels, made twice (a photo uploaded again): one key; anything that changes the result: another
    assert content_key(photo(), 64, "a2b") == content_key(photo(), 64, "a2b")
    keys = {content_key(photo(), 64, "a2b"), content_key(photo("white"), 64, "a2b"),
            content_key(photo(size=(30, 40)), 64, "a2b"), content_key(photo(), 96, "a2b"),
            content_key(photo(), 64, "b2a"), content_key(photo(), 64.0, "a2b"), content_key(photo().convert("L"), 64),
            content_key(np.zeros((2, 2), np.uint8)), content_key(np.zeros((2, 2), np.float32)),
            content_key([1, 2]), content_key((1, 2)), content_key({"a": 1}), content_key(None), content_key(True)}
    assert len(keys) == 14
    red, blue = PIL.Image.new("P", (4, 4), 0), PIL.Image.new("P", (4, 4), 0)  # the same indices, other palettes
    red.putpalette([255, 0, 0])
    blue.putpalette([0, 0, 255])
    assert content_key(red) != content_key(blue)
    reduced = photo()
    reduced.info["uploaded_size"] = (4000, 3000)  # decoded reduced from a huge upload: not the same input
    assert content_key(reduced) != content_key(photo())
    # a value it cannot read: no key (computed, never mistaken for another)
    assert content_key(photo(), object()) is None
    # values it is told to skip (Gradio's progress tracker) do not count
    skip = lambda value: isinstance(value, gr.Progress)  # noqa: E731
    assert content_key(photo(), gr.Progress(), skip=skip) == content_key(photo(), gr.Progress(), skip=skip)
    assert content_key(photo(), gr.Progress()) is None


def test_recent_results_only_and_the_least_recently_used_goes_first():
    clock = FakeClock()
    kept = Remembered(size=2, max_age_s=10, clock=clock)
    kept.put("a", {"x": 1})
    kept.put("b", {"x": 2})
    assert kept.get("a") == {"x": 1}  # a is now the most recently used
    kept.put("c", {"x": 3})
    assert kept.get("b") is None and kept.get("a") == {"x": 1} and kept.get("c") == {"x": 3}
    clock.now = 10.5
    assert kept.get("a") is None and len(kept) == 1  # too old: forgotten
    assert kept.get(None) is None
    kept.put(None, {"x": 4})
    kept.put("d", None)
    assert len(kept) == 1
    clear_caches()  # tests switching weights forget every event's results too
    assert len(kept) == 0
    nothing = Remembered(size=0)  # GALLERY_REMEMBER_RESULTS=0: remembering is off
    nothing.put("a", {"x": 1})
    assert nothing.get("a") is None
    with pytest.raises(ValueError):
        Remembered(size=-1)


def test_update_dicts_are_handed_out_whole_every_time():
    kept = Remembered()
    kept.put("k", {"image": gr.update(value="x", visible=True), "text": "t"})
    first = kept.get("k")
    first["image"].pop("value")  # what Gradio does with an update dict it sends
    assert kept.get("k")["image"]["value"] == "x"


def test_a_heavy_event_asked_again_is_answered_without_computing_or_waiting_for_a_turn(monkeypatch):
    calls = []

    def translate(image, side: int) -> dict:
        calls.append(side)
        return {"picture": image.resize((side, side)), "text": f"{side} px"}

    handler = event_handler(translate, {"picture": "P", "text": "T"}, heavy=True, remember=Remembered())
    first = handler(photo(), 16, FakeRequest())
    assert calls == [16] and first["T"] == "16 px"
    # every slot of the heavy line is taken: a computation would wait; the same content is answered at once
    line = turns.Line(slots=1)
    monkeypatch.setattr(turns, "LINE", line)
    ticket = line.join()
    try:
        again = handler(photo(), 16, FakeRequest(session="another student"))
        assert calls == [16] and again["T"] == "16 px"
        assert np.array_equal(np.asarray(again["P"]), np.asarray(first["P"]))
    finally:
        line.leave(ticket)
    handler(photo("white"), 16, FakeRequest())  # another photo: computed
    handler(photo(), 16, FakeRequest("ja"))  # another language (texts are in it): computed
    assert calls == [16, 16, 16]


def test_failures_are_not_remembered():
    calls = []

    def refuse(image):
        calls.append(1)
        raise COMMON.problem("err.no_photo", what="")

    handler = event_handler(refuse, heavy=True, remember=Remembered())
    for _ in range(2):
        with pytest.raises(gr.Error):
            handler(photo(), FakeRequest())
    assert len(calls) == 2


def test_a_streaming_event_is_remembered_as_its_outputs_stood_at_its_end():
    runs = []

    def dream(image, steps: int):
        runs.append(steps)
        for k in range(steps):
            yield {"dream": f"octave {k}", "progress": f"{k + 1}/{steps}"}
        yield {"progress": "done", "panel": "channels"}

    outputs = {"dream": "D", "progress": "S", "panel": "P"}
    handler = event_handler(dream, outputs, heavy=True, remember=Remembered())
    streamed = list(handler(photo(), 3, FakeRequest()))
    assert len(streamed) == 4 and runs == [3]
    assert list(handler(photo(), 3, FakeRequest())) == [{"D": "octave 2", "S": "done", "P": "channels"}]
    assert runs == [3]
    # a dream stopped half-way (the student left) is not kept
    stopped = handler(photo(), 5, FakeRequest())
    next(stopped)
    stopped.close()
    assert len(list(handler(photo(), 5, FakeRequest()))) == 6 and runs == [3, 5, 5]


def test_the_same_photo_from_students_at_once_is_computed_once_and_other_photos_do_not_wait():
    """Request coalescing: equal requests while the first is computing wait for its result (one computation); a
    request for another photo meanwhile computes at once, and one already remembered is answered at once."""
    go = threading.Event()
    calls = []

    def slow(image):
        calls.append(image.getpixel((0, 0)))
        if image.getpixel((0, 0)) == (210, 180, 140):  # tan: waits for the test
            go.wait(timeout=10)
        return {"picture": image}

    remembered = Remembered()
    handler = event_handler(slow, {"picture": "P"}, remember=remembered)
    results = []
    first = threading.Thread(target=lambda: results.append(handler(photo(), FakeRequest())))
    first.start()
    wait_until(lambda: len(calls) == 1)  # the first one computes
    others = [threading.Thread(target=lambda: results.append(handler(photo(), FakeRequest()))) for _ in range(3)]
    for thread in others:
        thread.start()
    wait_until(lambda: remembered.misses == 4)  # the three found it neither kept nor free to compute: they wait
    assert handler(photo("white"), FakeRequest())["P"].getpixel((0, 0)) == (255, 255, 255)  # not held back
    assert len(calls) == 2 and len(results) == 0  # the three equal ones still wait, computing nothing
    go.set()
    for thread in [first, *others]:
        thread.join(timeout=10)
    assert len(calls) == 2 and len(results) == 4
    assert all(result["P"].tobytes() == photo().tobytes() for result in results)
    handler(photo(), FakeRequest())
    assert len(calls) == 2


def test_when_the_computation_fails_one_of_those_waiting_computes_it():
    go = threading.Event()
    calls = []

    def flaky(image):
        calls.append(1)
        if len(calls) == 1:
            go.wait(timeout=10)
            raise RuntimeError("out of memory")
        return {"picture": image}

    remembered = Remembered()
    handler = event_handler(flaky, {"picture": "P"}, remember=remembered)
    errors, results = [], []

    def click():
        try:
            results.append(handler(photo(), FakeRequest()))
        except RuntimeError as error:
            errors.append(error)

    threads = [threading.Thread(target=click) for _ in range(3)]
    threads[0].start()
    wait_until(lambda: len(calls) == 1)
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: remembered.misses == 3)  # both wait for the first
    go.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(errors) == 1 and len(results) == 2 and len(calls) == 2  # the first failed; one of the others computed


def test_a_stopped_stream_is_not_remembered_and_does_not_leave_anyone_waiting():
    steps = []

    def dream(image):
        for i in range(3):
            steps.append(i)
            yield {"picture": image}

    remembered = Remembered()
    handler = event_handler(dream, {"picture": "P"}, remember=remembered)
    stream = handler(photo(), FakeRequest())
    next(stream)
    stream.close()  # the student pressed "stop"
    assert len(remembered) == 0
    assert len(list(handler(photo(), FakeRequest()))) == 3  # computed again, in full, without waiting
    assert len(remembered) == 1 and len(list(handler(photo(), FakeRequest()))) == 1  # then remembered


def test_a_hit_shows_the_notices_of_the_computation_again_in_its_language(monkeypatch):
    """"Your photo was reduced" (demos.i18n.warn) is shown to the student who computed it and, again, to each click
    answered from memory, with the toast's title in the event's language."""
    from demos.i18n import warn

    shown = []
    monkeypatch.setattr(gr, "Warning", lambda message, title=None: shown.append((message, title)))
    calls = []

    def reduce(image):
        calls.append(1)
        warn(f"reduced to {image.size[0]} px")
        return {"picture": image}

    handler = event_handler(reduce, {"picture": "P"}, remember=Remembered(), heavy=True)
    handler(photo(), FakeRequest("ja"))
    handler(photo(), FakeRequest("ja", session="other"))
    assert len(calls) == 1
    title = COMMON.text("toast.warning", lang="ja")
    assert shown == [("reduced to 40 px", title)] * 2


def test_the_load_tests_own_photos_never_repeat_and_cost_what_an_example_costs(tmp_path):
    """bench/classroom.py: a student's own photo is one nobody else sends (so it is never answered from memory), of
    an example photo's size; with ``own_photos`` 0 every photo is one of the tabs' examples."""
    import random

    from bench.classroom import EXAMPLE_PHOTOS, heavy_actions, own_photo

    rng = random.Random(0)
    paths = [own_photo(rng, str(tmp_path)) for _ in range(6)]
    images = [PIL.Image.open(path).convert("RGB") for path in paths]
    assert len({content_key(image) for image in images}) == 6
    example_sizes = {PIL.Image.open(path).size for path in EXAMPLE_PHOTOS}
    assert {image.size for image in images} <= example_sizes
    defaults = {"ddpm_sampler": "ddpm", "ddpm_steps": 20, "ddpm_n": 16, "ddpm_every": 10, "cartoongan": 512,
                "cyclegan": (256, 10, 2)}
    examples = {heavy_actions(rng, defaults, 0.0, str(tmp_path))["/deepdream"]()[0]["path"] for _ in range(20)}
    assert examples <= {str(path) for path in EXAMPLE_PHOTOS} and len(examples) > 1
    owned = heavy_actions(rng, defaults, 1.0, str(tmp_path))["/cartoonize"]()[0]["path"]
    assert owned.startswith(str(tmp_path))
