"""The classroom scenario of the load test: a class of students using the gallery at once, each in a browser.

    python bench/load_test.py --scenario classroom                       # 30 students for 3 minutes
    python bench/load_test.py --scenario classroom --students 10 --minutes 1
    python bench/load_test.py --scenario classroom --own-photos 1   # every photo a student's own (nothing repeats)
    python bench/load_test.py --scenario together   # "everyone, press Dream on this photo": 30 equal clicks at once

Each simulated student is one page (``clients/browser_protocol.py``: the browser's own protocol and session, so a
page's ``gr.State`` is its own) that goes through the tabs' main actions in a shuffled order, again and again,
thinking 5-15 s between two clicks:

* light actions: AE denoising, VAE decode / encode / interpolation, the DCGAN grid and arithmetic, pix2pix on a
  sketch, the conditional GANs, DDPM's forward process;
* heavy actions (the shared "heavy" queue, ``demos/turns.py``): DDPM sampling with the tab's default sampler, a
  DeepDream with the tab's defaults, CartoonGAN, CycleGAN, VQ-VAE sampling (8 digits). The three photo tabs get,
  each time, one of the gallery's example photos (``demos/examples/photos``) or, in a share ``--own-photos`` of the
  clicks (default 0.5), the student's own photo: one nobody else sends (a random crop of an example photo, maybe
  mirrored, enlarged back to its size, as a new JPEG, so it costs what an example costs but is never remembered:
  ``demos/remember.py``);
* the GAN lab: a new run, "play" for 15-25 s (the page's timer asks for the next chunk 0.1 s after the last one
  ended, as the browser does), "pause";
* and a few students (one in ten) once press "watch all 1000 DDPM steps" (reported apart).

Printed: per action, requests, errors, median and 95th percentile of the time a student waits (click → last
result); per group, the same against the targets (0 errors; light p95 ≤ 1 s; heavy p95 ≤ 10 s); for the GAN lab,
each tick (a chunk of training that streams a picture every ~0.16 s) and the wait before a chunk starts: while it
waits, the student's picture does not move; and when each light request over 1 s was sent (seconds after the
class started: a burst at the class's arrival, or a backlog all along?).
"""

import os
import random
import re
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import PIL.Image
import PIL.ImageOps
from gradio_client import handle_file

from bench.benchmark import DIGIT, OTHER, editor, percentile
from clients.browser_protocol import BrowserProtocolClient

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PHOTOS = sorted((ROOT / "demos" / "examples" / "photos").glob("*.jpg"))  # the photo tabs' examples
EDGES = sorted((ROOT / "demos" / "examples" / "pix2pix").glob("*.png"))[0]
TARGET_P95_S = {"light": 1.0, "heavy": 10.0}


def tab_defaults():
    """The settings each heavy tab opens with (so the students ask for what a class would get)."""
    from demos import cartoongan, cyclegan, ddpm

    ddpm_sampler = getattr(ddpm, "DEFAULT_SAMPLER", "ddpm")
    return {
        "ddpm_sampler": ddpm_sampler,
        "ddpm_steps": ddpm.LIMITS["steps"][2],
        "ddpm_n": ddpm.LIMITS["n"][2],
        "ddpm_every": ddpm.LIMITS["every"][2],
        "cartoongan": cartoongan.RESOLUTION[2],
        "cyclegan": tuple(cyclegan.LIMITS[name][2] for name in ("resolution", "amplify", "noise")),
    }


def light_actions(rng):
    seed = lambda: rng.randint(0, 999)  # noqa: E731
    return {
        "/ae_denoise": lambda: (editor(DIGIT), rng.choice(["gaussian", "salt_pepper", "mask"]), 0.5, 0.2, 0.5, seed()),
        "/vae_decode": lambda: (rng.uniform(-2, 2), rng.uniform(-2, 2)),
        "/vae_encode": lambda: (editor(DIGIT),),
        "/vae_interpolate": lambda: (editor(DIGIT), editor(OTHER), 8, rng.choice(["linear", "spherical"])),
        "/dcgan_grid": lambda: (seed(),),
        "/dcgan_arithmetic": lambda: ("0:1, 0:2, 0:3", "0:4, 0:5, 0:6", "1:0, 1:1, 1:2", 0.25, seed()),
        "/pix2pix": lambda: (editor(EDGES), False, 0),
        "/conditional_generate": lambda: (rng.choice(["cgan", "acgan", "cvae"]), str(rng.randint(0, 9)), 8, seed(),
                                          1.25),
        "/ddpm_forward": lambda: (editor(DIGIT), rng.randint(0, 999), seed()),
    }


def own_photo(rng, folder: str) -> str:
    """A photo nobody else sends, as a student's own upload is to the server: a random crop (70-100 % of each side)
    of one of the example photos, mirrored half the time, enlarged back to that photo's size (so it costs what an
    example costs) and saved in ``folder`` as a new JPEG."""
    with PIL.Image.open(rng.choice(EXAMPLE_PHOTOS)) as img:
        img = img.convert("RGB")
    w, h = img.size
    cw, ch = int(w * rng.uniform(0.7, 1.0)), int(h * rng.uniform(0.7, 1.0))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    img = img.crop((x, y, x + cw, y + ch)).resize((w, h), PIL.Image.BICUBIC)  # the example's size: the same cost
    if rng.random() < 0.5:
        img = PIL.ImageOps.mirror(img)
    path = Path(folder) / f"own-{uuid.uuid4().hex}.jpg"
    img.save(path, quality=90)
    return str(path)


def heavy_actions(rng, defaults, own_photos: float = 0.5, folder: str | None = None):
    """The heavy tabs' main buttons with the photo or seed a student picks; every other control at the tab's default
    (``BrowserProtocolClient.predict`` sends the page's values for the inputs left out). A photo is one of the
    examples, or (a share ``own_photos`` of the clicks) the student's own, written in ``folder``."""
    seed = lambda: rng.randint(0, 999)  # noqa: E731
    d = defaults

    def photo():
        own = folder is not None and rng.random() < own_photos
        return handle_file(own_photo(rng, folder) if own else str(rng.choice(EXAMPLE_PHOTOS)))

    return {
        "/ddpm_sample": lambda: ("", d["ddpm_sampler"], d["ddpm_steps"], d["ddpm_n"], seed(), d["ddpm_every"]),
        "/deepdream": lambda: (photo(),),
        "/cartoonize": lambda: (photo(), d["cartoongan"]),
        "/cyclegan": lambda: (photo(), rng.choice(["a2b", "b2a"]), *d["cyclegan"]),
        "/vqvae_sample": lambda: (8, seed(), 1.0, "any"),
    }


def ddpm_1000(rng, steps: int = 1000):
    """"Watch all 1000 DDPM steps": the DDPM tab's inputs for ``steps`` DDPM steps, 16 digits, a picture every 50."""
    return ("", "ddpm", steps, 16, rng.randint(0, 999), 50)


class GanLabPage:
    """The GAN lab's events as its page calls them (they have no api names: found in the page's config by the
    translation keys of their buttons and by the lab's timer)."""

    def __init__(self, page: BrowserProtocolClient):
        self.page = page
        config = page.config
        self.components = {c["id"]: c for c in config["components"]}
        self.deps = config["dependencies"]
        timer = next(c["id"] for c in config["components"] if c["type"] == "timer")
        self.tick = self._dependency(timer, "tick")
        self.reset = self._dependency(self._button("gan_lab.reset"), "click")
        self.play = self._dependency(self._button("gan_lab.play"), "click")
        self.pause = self._dependency(self._button("gan_lab.pause"), "click")
        self.step1 = self._dependency(self._button("gan_lab.step1"), "click")

    def _button(self, key: str) -> int:
        # a translated label is a string like '__i18n__{"__type__": "translation_metadata", "key": "gan_lab.play"}'
        return next(c["id"] for c in self.components.values() if c["type"] == "button"
                    and any(isinstance(v, str) and f'"key": "{key}"' in v for v in c["props"].values()))

    def _dependency(self, component: int, event: str) -> dict:
        return next(d for d in self.deps if [component, event] in [list(t) for t in d["targets"]])

    def _data(self, dependency: dict) -> list:
        """The page's values of the event's inputs: the components' defaults; a gr.State is the server's."""
        return [None if self.components[i]["type"] == "state" else self.components[i]["props"].get("value")
                for i in dependency["inputs"]]

    def run(self, dependency: dict):
        if dependency.get("queue") is False:
            return self.page.call_unqueued(dependency["id"], self._data(dependency))
        return self.page.call(dependency["id"], self._data(dependency))

    def steps(self) -> int:
        """How many steps the page's run has trained: one more step, and the number its status line says."""
        status = next(o for o in self.run(self.step1) if isinstance(o, str) and " · step " in o)
        return int(re.search(r" · step (\d+)", status).group(1)) - 1


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = defaultdict(list)  # action → seconds a student waited
        self.errors = defaultdict(list)
        self.groups = {}  # action → "light" | "heavy" | "ddpm1000" | "lab"
        self.started = time.perf_counter()  # the class starts (the scenarios make Results when it does)
        self.slow = []  # (seconds after the start when it was sent, action, seconds) of requests over their target
        self.costs = {}  # action → the server's CPU seconds for one click alone (warm_up)
        self.class_s = self.wall_s = None  # how long the students clicked; until the last result (classroom)
        self.server_cpu_s = self.clients_cpu_s = None  # CPU seconds used meanwhile (classroom)

    def add(self, action, group, seconds=None, error=None, sent=None):
        with self.lock:
            self.groups[action] = group
            if error is None:
                self.times[action].append(seconds)
                if group in TARGET_P95_S and seconds > TARGET_P95_S[group] and sent is not None:
                    self.slow.append((sent - self.started, action, seconds))
            else:
                self.errors[action].append(error)


def timed(results, action, group, fn):
    t = time.perf_counter()
    try:
        out = fn()
    except Exception as err:  # counted and reported, never hidden
        results.add(action, group, error=repr(err)[:300])
        return None
    results.add(action, group, time.perf_counter() - t, sent=t)
    return out


def lab_session(page: BrowserProtocolClient, lab: GanLabPage, rng, results: Results, until: float) -> None:
    """A new run, then "play" for 15-25 s: the timer's ticks one after the other, as the page sends them."""
    if timed(results, "GAN lab: new run", "light", lambda: lab.run(lab.reset)) is None:
        return
    timed(results, "GAN lab: play", "light", lambda: lab.run(lab.play))
    end = min(until, time.perf_counter() + rng.uniform(15, 25))
    while time.perf_counter() < end:
        if timed(results, "GAN lab: tick (a chunk of 0.5-2 s)", "lab", lambda: lab.run(lab.tick)) is None:
            break
        if page.last_started_s is not None:  # no new picture while the chunk waits for its turn
            results.add("GAN lab: wait for the next chunk", "lab", page.last_started_s)
        time.sleep(0.1)  # the timer's TICK_S
    timed(results, "GAN lab: pause", "light", lambda: lab.run(lab.pause))


def student(url, index, until, results: Results, defaults, watch_1000: bool, own_photos: float, folder: str) -> None:
    rng = random.Random(index)
    page = BrowserProtocolClient(url)
    lab = GanLabPage(page)
    light, heavy = light_actions(rng), heavy_actions(rng, defaults, own_photos, folder)
    tour = [*light, *heavy, "lab"]
    watch_at = rng.randrange(len(tour)) if watch_1000 else None
    while time.perf_counter() < until:
        rng.shuffle(tour)
        for k, action in enumerate(tour):
            if time.perf_counter() >= until:
                return
            if k == watch_at:
                timed(results, "/ddpm_sample (all 1000 DDPM steps)", "ddpm1000",
                      lambda: page.predict(*ddpm_1000(rng), api_name="/ddpm_sample"))
                watch_at = None
            elif action == "lab":
                lab_session(page, lab, rng, results, until)
            elif action in light:
                timed(results, action, "light", lambda: page.predict(*light[action](), api_name=action))
            else:
                timed(results, action, "heavy", lambda: page.predict(*heavy[action](), api_name=action))
            time.sleep(rng.uniform(5, 15))  # thinking, looking at the result


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far, all its threads, user + system (Linux: /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def warm_up(url, defaults, folder: str, server_pid: int | None = None) -> dict:
    """Every action once, so that loading the models is not timed (with photos of its own: nothing it computes is
    asked again by a student). With ``server_pid``, every action once more, alone, to measure what one click costs
    the server: CPU seconds, all threads. "All 1000 DDPM steps" is measured on 100 steps and counted 10 times."""
    rng = random.Random(-1)
    page = BrowserProtocolClient(url)
    actions = {**light_actions(rng), **heavy_actions(rng, defaults, 1.0, folder)}
    for api, args in actions.items():
        page.predict(*args(), api_name=api)
    lab = GanLabPage(page)
    lab.run(lab.reset)
    costs = {}
    if server_pid is not None:
        steps_100 = lambda: ddpm_1000(rng, steps=100)  # noqa: E731
        for api, args, name, times in [*((api, args, api, 1) for api, args in actions.items()),
                                       ("/ddpm_sample", steps_100, "/ddpm_sample (all 1000 DDPM steps)", 10)]:
            inputs = args()  # (a student's photo is written before the click: not the server's work)
            before = cpu_seconds(server_pid)
            page.predict(*inputs, api_name=api)
            costs[name] = times * (cpu_seconds(server_pid) - before)
    return costs


def classroom(url: str, students: int = 30, minutes: float = 3.0, own_photos: float = 0.5,
              server_pid: int | None = None) -> Results:
    """The class; with ``server_pid`` (Linux), the results also say what the clicks cost the server's CPU."""
    defaults = tab_defaults()
    with tempfile.TemporaryDirectory(prefix="classroom-photos-") as folder:
        costs = warm_up(url, defaults, folder, server_pid)
        results = Results()
        results.costs, results.class_s = costs, 60 * minutes
        server_before, clients_before = server_pid and cpu_seconds(server_pid), time.process_time()
        until = time.perf_counter() + 60 * minutes
        threads = []
        for i in range(students):
            th = threading.Thread(target=student, daemon=True,
                                  args=(url, i, until, results, defaults, i % 10 == 0, own_photos, folder))
            th.start()
            threads.append(th)
            time.sleep(10 / students)  # they arrive over 10 s
        for th in threads:
            th.join(timeout=60 * minutes + 600)
        results.wall_s = time.perf_counter() - results.started
        results.clients_cpu_s = time.process_time() - clients_before
        if server_pid is not None:
            results.server_cpu_s = cpu_seconds(server_pid) - server_before
    return results


def _stats(ts):
    if not ts:
        return "–", "–"
    return f"{statistics.median(ts):.2f} s", f"{percentile(ts, 0.95):.2f} s"


def report(results: Results, students: int, minutes: float, who: str = "") -> None:
    who = who or f"{students} students going through the tabs, thinking 5-15 s between clicks"
    print(f"\n{who}, for {minutes:g} min, browser protocol\n")
    print("| action | group | requests | errors | median | p95 | server CPU for one click alone |")
    print("|---|---|---|---|---|---|---|")
    order = {"light": 0, "lab": 1, "heavy": 2, "ddpm1000": 3}
    for action in sorted(results.groups, key=lambda a: (order[results.groups[a]], a)):
        ts = results.times.get(action, [])
        med, p95 = _stats(ts)
        cost = f"{results.costs[action]:.2f} s" if action in results.costs else "–"
        print(f"| `{action}` | {results.groups[action]} | {len(ts) + len(results.errors.get(action, []))} | "
              f"{len(results.errors.get(action, []))} | {med} | {p95} | {cost} |")
    print("\n| group | requests | errors | median | p95 | target (p95) |")
    print("|---|---|---|---|---|---|")
    for group in ("light", "heavy", "lab", "ddpm1000"):
        actions = [a for a, g in results.groups.items() if g == group]
        ts = [t for a in actions for t in results.times.get(a, [])]
        errs = sum(len(results.errors.get(a, [])) for a in actions)
        med, p95 = _stats(ts)
        target = f"≤ {TARGET_P95_S[group]:g} s" if group in TARGET_P95_S else "(reported apart)"
        print(f"| {group} | {len(ts) + errs} | {errs} | {med} | {p95} | {target} |")
    if results.costs and results.wall_s:
        demand(results)
    slow_light = sorted((sent, action, seconds) for sent, action, seconds in results.slow
                        if results.groups[action] == "light")
    if slow_light:  # when they were sent tells a burst (all at once) from a steady backlog
        print(f"\nLight requests over {TARGET_P95_S['light']:g} s, sent at (s after the start) / action / seconds: "
              + "; ".join(f"{sent:.0f} {action} {seconds:.1f}" for sent, action, seconds in slow_light))
    for action, errs in results.errors.items():
        print(f"\n{action} errors (first 3): {errs[:3]}")


def demand(results: Results) -> None:
    """What the class asked of the CPU: each click at its cost alone (``warm_up``), against what the cores had while
    the students clicked. When the clicks alone ask for more than the cores can give, no order of the queue keeps
    every wait short: the line only grows until the class stops."""
    cores = os.cpu_count() or 1
    capacity = cores * results.class_s
    print(f"\nThe CPU the class asked for, each click counted at its cost alone (as if none were answered from "
          f"memory), against the {cores} cores' {capacity:.0f} core-seconds while the students clicked "
          f"({results.class_s:.0f} s):")
    print("\n| group | clicks | server CPU, core-seconds | share of the cores |")
    print("|---|---|---|---|")
    total = 0.0
    for group in ("light", "heavy", "ddpm1000"):
        actions = [a for a, g in results.groups.items() if g == group and a in results.costs]
        clicks = sum(len(results.times.get(a, [])) + len(results.errors.get(a, [])) for a in actions)
        cpu = sum(results.costs[a] * (len(results.times.get(a, [])) + len(results.errors.get(a, []))) for a in actions)
        total += cpu
        print(f"| {group} | {clicks} | {cpu:.1f} | {cpu / capacity:.0%} |")
    print(f"| all clicks | | {total:.1f} | {total / capacity:.0%} |")
    if results.server_cpu_s is not None:
        server, clients, wall = results.server_cpu_s, results.clients_cpu_s, results.wall_s
        print(f"\nFrom the first click to the last result ({wall:.0f} s) the server used {server:.0f} core-seconds "
              f"({server / (cores * wall):.0%} of the cores; the GAN lab's chunks take what the clicks leave, at a "
              f"lower priority), the students' pages (this process) {clients:.0f} ({clients / (cores * wall):.0%}).")


# --- the teacher's demonstration: the whole class presses the same button on the same photo at once -----------------

TOGETHER_ACTIONS = ("/deepdream", "/cartoonize", "/cyclegan")


def together(url: str, students: int = 30, action: str = "/deepdream", server_pid: int | None = None) -> dict:
    """The teacher shows a photo and says "everyone, press the button": ``students`` pages send the same click (the
    same new photo, the tab's defaults) at the same moment. Returns each student's wait (click → result) and the
    server's CPU seconds for the whole burst; ``alone``: the same click on another new photo, first, alone."""
    defaults = tab_defaults()
    with tempfile.TemporaryDirectory(prefix="together-photos-") as folder:
        rng = random.Random(0)
        pages = [BrowserProtocolClient(url) for _ in range(students)]
        warm_up_page = pages[0]
        args = heavy_actions(rng, defaults, 1.0, folder)[action]
        warm_up_page.predict(*args(), api_name=action)  # models loaded, not timed
        before = server_pid and cpu_seconds(server_pid)
        t = time.perf_counter()
        warm_up_page.predict(*args(), api_name=action)
        alone_s, alone_cpu = time.perf_counter() - t, server_pid and cpu_seconds(server_pid) - before
        inputs = args()  # the teacher's photo: new to the server, the same for everyone
        start, waits, errors = threading.Barrier(students), [], []

        def student(page):
            start.wait()
            t = time.perf_counter()
            try:
                page.predict(*inputs, api_name=action)
                waits.append(time.perf_counter() - t)
            except Exception as error:  # counted and reported
                errors.append(repr(error)[:200])

        before = server_pid and cpu_seconds(server_pid)
        threads = [threading.Thread(target=student, args=(page,), daemon=True) for page in pages]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
        cpu = server_pid and cpu_seconds(server_pid) - before
    return {"action": action, "students": students, "waits": waits, "errors": errors, "cpu_s": cpu,
            "alone_s": alone_s, "alone_cpu_s": alone_cpu}


def together_report(result: dict) -> None:
    waits = sorted(result["waits"])
    print(f"\n{result['students']} students press {result['action']} on the same new photo at the same moment "
          "(the tab's defaults), browser protocol\n")
    print("| | seconds |\n|---|---|")
    print(f"| the same click alone, before (another new photo): wait / server CPU | {result['alone_s']:.2f} / "
          f"{result['alone_cpu_s'] or 0:.2f} |")
    if waits:
        print(f"| the class: first result / median / last result | {waits[0]:.2f} / "
              f"{statistics.median(waits):.2f} / {waits[-1]:.2f} |")
    print(f"| the class: server CPU for all {result['students']} clicks | {result['cpu_s'] or 0:.2f} |")
    print(f"\nerrors: {len(result['errors'])}" + (f" (first 3: {result['errors'][:3]})" if result["errors"] else ""))


# --- the GAN lab scenario: the whole class trains GANs at once -----------------------------------------------------


def lab_student(url, index, until, results: Results, steps: list) -> None:
    """A new run, then "play" until the end (the timer's ticks one after the other), then the steps it got."""
    page = BrowserProtocolClient(url)
    lab = GanLabPage(page)
    time.sleep(random.Random(index).uniform(0, 5))
    if timed(results, "GAN lab: new run", "light", lambda: lab.run(lab.reset)) is None:
        return
    lab.run(lab.play)
    while time.perf_counter() < until:
        if timed(results, "GAN lab: tick (a chunk of 0.5-2 s)", "lab", lambda: lab.run(lab.tick)) is None:
            break
        if page.last_started_s is not None:
            results.add("GAN lab: wait for the next chunk", "lab", page.last_started_s)
        time.sleep(0.1)
    lab.run(lab.pause)
    steps.append(lab.steps())


def light_student(url, index, until, results: Results) -> None:
    """Another tab's student meanwhile: light actions, 5-15 s apart."""
    rng = random.Random(1000 + index)
    page = BrowserProtocolClient(url)
    light = light_actions(rng)
    while time.perf_counter() < until:
        action = rng.choice(list(light))
        timed(results, action, "light", lambda: page.predict(*light[action](), api_name=action))
        time.sleep(rng.uniform(5, 15))


def gan_lab_class(url: str, students: int = 30, minutes: float = 3.0, others: int = 5):
    """``students`` pages playing the GAN lab at once for ``minutes``, and ``others`` students on the light tabs."""
    warm = BrowserProtocolClient(url)
    for api, args in light_actions(random.Random(0)).items():
        warm.predict(*args(), api_name=api)
    results, steps = Results(), []
    until = time.perf_counter() + 60 * minutes
    threads = [threading.Thread(target=lab_student, args=(url, i, until, results, steps), daemon=True)
               for i in range(students)]
    threads += [threading.Thread(target=light_student, args=(url, i, until, results), daemon=True)
                for i in range(others)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60 * minutes + 300)
    return results, steps


def lab_report(results: Results, steps: list, students: int, minutes: float, others: int) -> None:
    report(results, students, minutes, f"{students} students playing the GAN lab and {others} on the light tabs")
    if steps:
        steps = sorted(steps)
        print(f"\nTraining steps each lab student got in {minutes:g} min (D+G steps at the defaults): "
              f"min {steps[0]}, median {statistics.median(steps):.0f}, max {steps[-1]} "
              f"(fairness min/max {steps[0] / max(steps[-1], 1):.2f}; the class together: "
              f"{sum(steps) / (60 * minutes):.0f} steps/s)")
