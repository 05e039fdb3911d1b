"""GAN lab tab: a browser session's run (reset, steps, D only / G only, play in bounded chunks that stop on pause),
the loss changed mid-run with its optimizer settings, the run beside it, your drawing as data, the picture and the
status, share links, refusals in the student's language, and /gan_lab_run through gradio_client (the same inputs
give the same numbers). The engine's own tests are in tests/test_gan_lab_engine.py."""

from urllib.parse import parse_qsl

import gradio as gr
import numpy as np
import PIL.Image
import pytest

from demos import gan_lab as lab
from demos.i18n import language
from models.gan_lab import LabRun, LabSettings, half_width
from tests.conftest import drawing
from tests.test_ae import LinkRequest

SMALL = dict(hidden=16, layers=1, batch_size=32)  # fast runs


def small_settings(**changes) -> LabSettings:
    return LabSettings(**{**SMALL, **changes})


def inputs(**changes) -> dict:
    """The reset's inputs (the controls' values), small networks."""
    d = LabSettings(**SMALL)
    values = dict(dataset=d.dataset, loss=d.loss, compare=lab.COMPARE_NONE, optimizer=d.optimizer, lr_d=d.lr_d,
                  lr_g=d.lr_g, d_steps=d.d_steps, clip=d.clip, gp_lambda=d.gp_lambda, hidden=d.hidden,
                  layers=d.layers, latent_dim=d.latent_dim, noise=d.noise, batch_size=d.batch_size, seed=d.seed,
                  drawing=None, show=list(lab.DEFAULT_SHOW))
    return {**values, **changes}


def frame_image(html: str, which: int = 0) -> PIL.Image.Image:
    """The picture ``which`` of the view's HTML: 0 the plane(s), 1 the charts."""
    import base64
    import io

    data = html.split("base64,")[1 + which].split('"')[0]
    return PIL.Image.open(io.BytesIO(base64.b64decode(data)))


def test_open_tab_starts_a_run_at_step_0_with_a_picture():
    out = lab.open_tab(None)
    session = out["session"]
    assert session.run.steps == 0 and session.other is None and not session.playing
    assert out["dataset"]["value"] == "ring" and out["loss"]["value"] == "nonsaturating"
    plane, board = frame_image(out["frame"]), frame_image(out["frame"], 1)
    assert plane.size == (lab.PLANE, lab.PLANE) and board.width >= 400 and board.height >= 380
    assert "step 0" in out["status"] and "modes 0/8" in out["status"]


def test_reset_steps_and_one_network_at_a_time():
    session = lab.reset(**inputs())["session"]
    d_before = [p.detach().clone() for p in session.run.D.parameters()]
    g_before = [p.detach().clone() for p in session.run.G.parameters()]
    out = lab.train_g_once(session, ["fake"])
    assert all(np.array_equal(a, b.detach()) for a, b in zip(d_before, session.run.D.parameters()))
    assert not all(np.array_equal(a, b.detach()) for a, b in zip(g_before, session.run.G.parameters()))
    g_after = [p.detach().clone() for p in session.run.G.parameters()]
    lab.train_d_once(session, ["fake"])
    assert all(np.array_equal(a, b.detach()) for a, b in zip(g_after, session.run.G.parameters()))
    lab.step_ten(session, [])
    out = lab.step_once(session, [])
    assert session.run.steps == 13 and "step 13" in out["status"]


class FakeClock:
    """Each reading is 0.25 s after the previous one: a chunk's length no longer depends on the machine's load."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 0.25
        return self.now


def test_play_trains_in_bounded_chunks_and_pause_stops_it(monkeypatch):
    monkeypatch.setattr(lab, "clock", FakeClock())
    session = lab.reset(**inputs())["session"]
    assert lab.play(session)["timer"].active is True
    frames = list(lab.advance(session, False, ["fake"]))
    pictures = [f for f in frames if "frame" in f]
    # the clock is read at the start and after each picture: 0.25 s per picture; the chunk ends once
    # CHUNK_S − (FRAME_S − DRAW_S) = 1.89 s have passed, after 8 pictures
    assert len(pictures) == 8 and all("base64" in f["frame"] for f in pictures)
    assert frames[-1]["timer"].active is True and "frame" not in frames[-1]  # the timer starts the next chunk
    assert session.run.steps > 0
    # "pause" while a chunk runs: it stops after the frame it is drawing
    steps = session.run.steps
    chunk = lab.advance(session, False, [])
    next(chunk)
    lab.pause(session)
    rest = list(chunk)
    assert rest[-1]["timer"].active is False and len(rest) == 1
    steps_after = session.run.steps
    assert steps_after > steps
    # paused: a tick that arrives late does nothing
    late = list(lab.advance(session, False, []))
    assert len(late) == 1 and late[0]["timer"].active is False and session.run.steps == steps_after
    assert lab.advance(None, False, []).__next__()["timer"].active is False


def test_a_shortened_chunk_draws_one_picture_at_its_end(monkeypatch):
    """While many play (a chunk of 0.5 s), the chunk trains for nearly all of it and draws once."""
    monkeypatch.setattr(lab, "clock", FakeClock())
    monkeypatch.setattr(lab, "chunk_seconds", lambda session: lab.MIN_CHUNK_S)
    trained, priorities = [], []
    monkeypatch.setattr(lab.LabRun, "train_for",
                        lambda run, seconds, max_steps, what="both": trained.append(seconds) or 1)
    in_background = lab.turns.in_background
    monkeypatch.setattr(lab.turns, "in_background",
                        lambda fn, *args, **kw: priorities.append(kw.get("nice")) or in_background(fn, *args, **kw))
    session = lab.reset(**inputs())["session"]
    lab.play(session)
    frames = list(lab.advance(session, False, ["fake"]))
    assert sum("frame" in f for f in frames) == 1 and frames[-1]["timer"].active is True
    assert trained == [pytest.approx(lab.MIN_CHUNK_S - lab.DRAW_S)]
    assert priorities == [lab.turns.LAB_NICE]  # computed below the heavy jobs


def test_chunks_shorten_when_many_students_play(monkeypatch):
    """Two seconds a chunk for a few players; with a class, ``ROUND_S`` / players (not under ``MIN_CHUNK_S``), so
    that each student's turn comes round again in about ``ROUND_S``; sessions that stopped playing drop out."""
    now = [100.0]
    monkeypatch.setattr(lab, "clock", lambda: now[0])
    monkeypatch.setattr(lab, "_last_chunk", {})
    students = [object() for _ in range(30)]
    assert [lab.chunk_seconds(s) for s in students[:4]] == [2.0] * 4
    assert [lab.chunk_seconds(s) for s in students[4:8]] == [lab.ROUND_S / n for n in (5, 6, 7, 8)]
    assert lab.chunk_seconds(students[0]) == 1.0  # a student already counted is not counted twice
    assert [lab.chunk_seconds(s) for s in students[8:]] == [max(lab.MIN_CHUNK_S, lab.ROUND_S / n) for n in range(9, 31)]
    assert lab.chunk_seconds(students[-1]) == lab.MIN_CHUNK_S == 0.5  # 30 players: a turn every ~15 s
    now[0] += lab.PLAYER_WINDOW_S + 1  # everyone else stopped playing
    assert lab.chunk_seconds(students[0]) == lab.CHUNK_S


def test_slow_motion_is_one_step_per_tick():
    session = lab.reset(**inputs())["session"]
    lab.play(session)
    frames = list(lab.advance(session, True, []))
    assert session.run.steps == 1 and len(frames) == 1
    assert frames[0]["timer"].active is True and frames[0]["timer"].value == lab.SLOW_TICK_S


def test_loss_changes_mid_run_with_its_optimizer_settings():
    session = lab.reset(**inputs())["session"]
    lab.step_ten(session, [])
    out = lab.change_loss(session, "wgan", "adam", 2e-3, 1e-3, 1, 0.02, 0.1, "gaussian", [])
    assert out["optimizer"] == "rmsprop" and out["d_steps"] == 5 and "RMSProp" in out["optimizer_note"]
    assert session.run.settings.loss == "wgan" and session.run.settings.optimizer == "rmsprop"
    assert session.run.settings.clip == 0.02 and session.run.steps == 10  # same networks, same step count
    lab.step_once(session, [])
    assert all(p.abs().max() <= 0.02 + 1e-7 for p in session.run.D.parameters())  # clipped
    out = lab.change_loss(session, "saturating", "rmsprop", 5e-4, 5e-4, 5, 0.02, 0.1, "gaussian", [])
    assert out["optimizer"] == "adam" and out["d_steps"] == 1 and out["optimizer_note"] == ""  # leaving WGAN
    lab.change_live(session, "saturating", "sgd", 5e-4, 2e-3, 2, 0.02, 0.1, "uniform", [])
    s = session.run.settings
    assert (s.optimizer, s.lr_d, s.lr_g, s.d_steps, s.noise) == ("sgd", 5e-4, 2e-3, 2, "uniform")
    # between the other losses the optimizer settings stay: saturating vs non-saturating at the same SGD
    out = lab.change_loss(session, "nonsaturating", "sgd", 5e-4, 2e-3, 2, 0.02, 0.1, "uniform", [])
    assert (out["optimizer"], out["lr_d"], out["d_steps"]) == ("sgd", 5e-4, 2)
    assert session.run.settings.loss == "nonsaturating" and session.run.settings.optimizer == "sgd"


def test_a_second_run_beside_it_shares_data_and_seed():
    out = lab.reset(**inputs(compare="wgan_gp", seed=3, optimizer="sgd", lr_d=1e-2))
    session = out["session"]
    assert session.other.settings.loss == "wgan_gp" and session.other.settings.seed == 3
    assert (session.other.settings.optimizer, session.other.settings.lr_d) == ("sgd", 1e-2)  # the same optimizer
    assert lab.reset(**inputs(compare="wgan"))["session"].other.settings.optimizer == "rmsprop"  # but WGAN's own
    lab.change_live(session, "nonsaturating", "adam", 1e-3, 1e-3, 2, 0.01, 0.1, "gaussian", [])
    assert (session.other.settings.optimizer, session.other.settings.d_steps) == ("adam", 2)
    assert np.array_equal(session.run.eval_real, session.other.eval_real)
    assert np.array_equal(session.run.eval_z, session.other.eval_z)
    lab.step_once(session, [])
    assert session.run.steps == session.other.steps == 1
    status = lab.status_text(session)
    assert "A: non-saturating" in status and "B: WGAN-GP" in status
    single = frame_image(lab.reset(**inputs())["frame"])
    double = frame_image(lab.show_frame(session, lab.DEFAULT_SHOW)["frame"])
    assert double.width > 2 * single.width and double.height == single.height  # two planes side by side
    assert frame_image(lab.show_frame(session, lab.DEFAULT_SHOW)["frame"], 1).width >= double.width - 3  # below


def test_your_drawing_becomes_the_data(tmp_path):
    stroke = drawing()
    points = lab.points_from_drawing({"composite": stroke, "background": None, "layers": []})
    w = half_width("drawn")
    assert len(points) > 100 and points.abs().max() <= w
    # the stroke goes from the top left to the bottom right: y falls as x grows
    assert np.corrcoef(points[:, 0].numpy(), points[:, 1].numpy())[0, 1] < -0.9
    out = lab.draw_and_reset(**inputs(drawing={"composite": stroke}))
    assert out["dataset"] == "drawn" and out["session"].run.settings.dataset == "drawn"
    lab.step_ten(out["session"], [])
    empty = PIL.Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    assert lab.draw_and_reset(**inputs(drawing={"composite": empty})) == {}  # a cleared pad: nothing happens
    with pytest.raises(gr.Error, match="drawing is empty"):
        lab.reset(**inputs(dataset="drawn", drawing={"composite": empty}))
    with language("ja"), pytest.raises(gr.Error, match="絵が空です"):
        lab.reset(**inputs(dataset="drawn", drawing=None))
    # the data radio on "your drawing" with nothing drawn: a notice, and the radio back on the data still shown
    ring = lab.reset(**inputs(dataset="ring"))["session"]
    with pytest.warns(UserWarning, match="drawing is empty"):
        assert lab.choose_dataset(ring, **inputs(dataset="drawn", drawing={"composite": empty})) == {"dataset": "ring"}
    chosen = lab.choose_dataset(ring, **inputs(dataset="grid"))
    assert chosen["session"].run.settings.dataset == "grid" and chosen["session"] is not ring


def test_refusals_name_the_control():
    with pytest.raises(gr.Error, match="Neurons per layer"):
        lab.reset(**inputs(hidden=4096))
    with language("ja"), pytest.raises(gr.Error, match="D の学習率"):
        lab.reset(**inputs(lr_d=5.0))
    with pytest.raises(gr.Error):
        lab.reset(**inputs(dataset="../../etc/passwd"))
    with pytest.raises(gr.Error, match="Reset"):
        lab.step_once(None, [])
    session = lab.reset(**inputs())["session"]
    with pytest.raises(gr.Error):
        lab.change_live(session, "nonsaturating", "adam", 1e-3, 1e-3, 99, 0.01, 0.1, "gaussian", [])


def test_share_link_round_trip():
    query = lab.gan_lab_share_query("grid", "wgan_gp", "saturating", "rmsprop", 5e-4, 2e-4, 3, 0.05, 1.0, 32, 3, 4,
                                    128, "uniform", 42, True)
    params = dict(parse_qsl(query.lstrip("?")))
    assert params["tab"] == "gan_lab"
    s = lab.settings_from_query(LinkRequest(**params))
    assert s == {"dataset": "grid", "loss": "wgan_gp", "compare": "saturating", "optimizer": "rmsprop",
                 "noise": "uniform", "seed": 42, "slow": True, "lr_d": 5e-4, "lr_g": 2e-4, "d_steps": 3,
                 "clip": 0.05, "gp_lambda": 1.0, "hidden": 32, "layers": 3, "latent_dim": 4, "batch_size": 128}
    out = lab.open_tab(LinkRequest(**params))
    assert out["session"].run.settings.loss == "wgan_gp" and out["session"].other.settings.loss == "saturating"
    broken = lab.settings_from_query(LinkRequest(dataset="drawn", loss="nope", hidden="1e9", lr_d="abc", seed=-1))
    d = LabSettings()
    assert (broken["dataset"], broken["loss"], broken["hidden"], broken["lr_d"], broken["seed"]) == (
        d.dataset, d.loss, d.hidden, d.lr_d, d.seed)


def test_gan_lab_run_is_deterministic_and_bounded():
    a = lab.gan_lab_run("ring", "nonsaturating", 30, 5, hidden=16, layers=1, batch_size=32)
    b = lab.gan_lab_run("ring", "nonsaturating", 30, 5, hidden=16, layers=1, batch_size=32)
    assert a["summary"] == b["summary"]
    s = a["summary"]
    assert s["steps"] == 30 and s["modes_total"] == 8 and len(s["centers"]) == 8 and len(s["samples"]) >= 500
    assert {"modes_captured", "high_quality_share", "d_loss", "g_loss", "js"} <= set(s)
    assert isinstance(a["picture"], PIL.Image.Image)
    c = lab.gan_lab_run("ring", "nonsaturating", 30, 6, hidden=16, layers=1, batch_size=32)
    assert c["summary"]["samples"] != s["samples"]
    wgan = lab.gan_lab_run("grid", "wgan", 3, 0, hidden=16, layers=1, batch_size=32)["summary"]
    assert wgan["loss"] == "wgan" and wgan["modes_total"] == 25
    with pytest.raises(gr.Error, match="Steps"):
        lab.gan_lab_run("ring", "nonsaturating", lab.API_MAX_STEPS + 1, 0)
    with pytest.raises(gr.Error):
        lab.gan_lab_run("drawn", "nonsaturating", 10, 0)


def test_gan_lab_run_limits_the_work_not_only_the_steps(monkeypatch):
    trained = []
    monkeypatch.setattr(LabRun, "train", lambda self, steps: trained.append(steps))
    monkeypatch.setattr(lab, "frame_picture", lambda *args: None)
    monkeypatch.setattr(LabRun, "summary", lambda self: {})
    lab.gan_lab_run("ring", "nonsaturating", lab.API_MAX_STEPS, 0)  # the defaults: the whole 2000 steps
    lab.gan_lab_run("grid", "wgan", lab.API_MAX_STEPS, 0)  # clipping's 5 critic steps: 3x the work, still allowed
    assert trained == [lab.API_MAX_STEPS] * 2
    # every size at its maximum: 4 x 2 x 2 x 5.5 = 88 times the default's work a step → at most 2000 · 6 / 88 steps
    biggest = dict(d_steps=5, hidden=128, layers=4, batch_size=512)
    with pytest.raises(gr.Error, match="at most 136 steps"):
        lab.gan_lab_run("spiral", "wgan_gp", lab.API_MAX_STEPS, 0, **biggest)
    lab.gan_lab_run("spiral", "wgan_gp", 136, 0, **biggest)
    assert trained[-1] == 136
    with language("ja"), pytest.raises(gr.Error, match="136 ステップまで"):
        lab.gan_lab_run("spiral", "wgan_gp", 137, 0, **biggest)


def test_api_through_gradio_client():
    from gradio_client import Client

    from demos.i18n import make_i18n
    from demos.kit import Page

    demo = lab.create_demo(Page(lab.TAB))
    demo.launch(prevent_thread_lock=True, quiet=True, i18n=make_i18n([lab.TAB]), max_file_size="10mb")
    try:
        client = Client(demo.local_url, verbose=False, download_files=False)
        apis = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert set(apis) == {"/gan_lab_run"}
        names = [p["parameter_name"] for p in apis["/gan_lab_run"]["parameters"]]
        assert names[:4] == ["dataset", "loss", "steps", "seed"]
        picture, summary = client.predict("ring", "wgan_gp", 20, 1, hidden=16, layers=1, batch_size=32,
                                          api_name="/gan_lab_run")
        again = client.predict("ring", "wgan_gp", 20, 1, hidden=16, layers=1, batch_size=32, api_name="/gan_lab_run")
        assert summary == again[1] and summary["steps"] == 20 and summary["modes_total"] == 8
        assert picture and len(summary["samples"]) >= 500
        ja = Client(demo.local_url, headers={"Accept-Language": "ja"}, verbose=False, download_files=False)
        with pytest.raises(Exception, match="ステップ数"):
            ja.predict("ring", "wgan_gp", 5000, 1, api_name="/gan_lab_run")
    finally:
        demo.close()


def test_the_evaluation_script_on_a_dry_run(capsys):
    from training import evaluate_gan_lab

    evaluate_gan_lab.main(evaluate_gan_lab.parse_args(["--dry-run"]))
    out = capsys.readouterr().out
    assert "| ring | real data | 2,500 fresh real points | 8 of 8 |" in out
    assert "| grid | nonsaturating | defaults |" in out and "of 25 |" in out
    assert "ring: 32, grid: 10" in out


def test_save_as_slide_draws_the_view_with_the_settings():
    from demos import controls

    session = lab.reset(**inputs())["session"]
    lab.step_ten(session, [])
    with gr.Blocks():
        dataset = controls.Radio([(lab._("data_grid"), "grid")], value="grid", label=lab._("dataset"))
        seed = controls.Number(value=3, label=lab._("steps"))
    with language("ja"):
        out = lab.gan_lab_slide(session, {dataset: "grid", seed: 3})
    with PIL.Image.open(out["slide_file"]["value"]) as slide:
        assert slide.size == (1920, 1080)
    with pytest.raises(gr.Error):
        lab.gan_lab_slide(None, {})


def test_pages_play_the_lab_each_in_its_own_session_as_the_load_test_drives_it(tiny_models, launched, monkeypatch):
    """bench/classroom.py's pages find the lab's events in the page config and play it over the browser's protocol;
    each page trains its own run (its gr.State), so a class of students never shares one."""
    from bench.classroom import GanLabPage
    from clients.browser_protocol import BrowserProtocolClient

    monkeypatch.setattr(lab, "CHUNK_S", 0.4)  # short chunks
    client = launched(tiny_models)
    playing, idle = (GanLabPage(BrowserProtocolClient(client.src)) for _ in range(2))
    playing.run(playing.reset), idle.run(idle.reset)
    playing.run(playing.play)
    playing.run(playing.tick)  # one chunk of training, its pictures streamed
    playing.run(playing.pause)
    assert playing.page.last_started_s is not None
    assert playing.steps() > 1 and idle.steps() == 0
