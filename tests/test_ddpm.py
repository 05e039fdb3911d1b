"""DDPM tab: our sampling loop against diffusers' pipelines, the forward process, the handlers on a tiny
U-Net (block_out_channels=(8, 16)), other models from a (stand-in) Hub, the api and bad inputs."""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import gradio as gr
import numpy as np
import PIL.Image
import pytest
import torch

from models import loading
from models.ddpm import initial_noise, make_scheduler, q_sample, reverse_steps, sample
from tests.conftest import MNIST_EXAMPLES, ROOT
from tests.fake_hub import FakeHub
from tests.tiny_ddpm import make_tiny_pretrained_ddpm, save_tiny_pipeline, tiny_unet

DIGIT = MNIST_EXAMPLES / "2_0001.png"


@pytest.fixture(scope="module")
def ddpm_root(tmp_path_factory):
    return make_tiny_pretrained_ddpm(tmp_path_factory.mktemp("pretrained_ddpm"))


@pytest.fixture
def tiny(ddpm_root, monkeypatch):
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(ddpm_root))
    loading.clear_cache()
    yield ddpm_root
    loading.clear_cache()


@pytest.fixture
def dd():
    from demos import ddpm

    return ddpm


@pytest.mark.parametrize("steps", [1, 7, 25])
def test_our_loop_matches_ddpm_pipeline(steps):
    from diffusers import DDPMPipeline

    unet = tiny_unet().eval()
    pipe = DDPMPipeline(unet=unet, scheduler=make_scheduler("ddpm"))
    pipe.set_progress_bar_config(disable=True)
    expected = pipe(batch_size=3, generator=torch.Generator().manual_seed(7), num_inference_steps=steps,
                    output_type="pt").images
    ours = sample(unet, make_scheduler("ddpm"), 3, steps, generator=torch.Generator().manual_seed(7))
    assert ours.shape == expected.shape == (3, 1, 32, 32)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-6)


def test_our_loop_matches_ddim_pipeline():
    from diffusers import DDIMPipeline

    unet = tiny_unet().eval()
    pipe = DDIMPipeline(unet=unet, scheduler=make_scheduler("ddim"))
    pipe.set_progress_bar_config(disable=True)
    expected = pipe(batch_size=2, generator=torch.Generator().manual_seed(3), num_inference_steps=10, eta=0.0,
                    output_type="np").images  # (B, H, W, C)
    ours = sample(unet, make_scheduler("ddim"), 2, 10, generator=torch.Generator().manual_seed(3))
    np.testing.assert_allclose(ours.permute(0, 2, 3, 1).numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("kind,steps", [("dpmsolver++", 5), ("dpmsolver++", 20), ("sde-dpmsolver++", 12)])
def test_our_loop_matches_the_pipeline_loop_with_dpm_solver(kind, steps):
    """DPM-Solver++ (and its stochastic form, for the branches) through our loop is diffusers' own pipeline loop
    (``DDPMPipeline`` takes any scheduler: randn x_T, then unet → scheduler.step) for the same seed."""
    from diffusers import DDPMPipeline, DPMSolverMultistepScheduler

    unet = tiny_unet().eval()
    scheduler = make_scheduler(kind)
    assert isinstance(scheduler, DPMSolverMultistepScheduler) and scheduler.config.algorithm_type == kind
    pipe = DDPMPipeline(unet=unet, scheduler=make_scheduler(kind))
    pipe.set_progress_bar_config(disable=True)
    expected = pipe(batch_size=3, generator=torch.Generator().manual_seed(7), num_inference_steps=steps,
                    output_type="pt").images
    ours = sample(unet, scheduler, 3, steps, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-6)


def test_dpm_solver_yields_x0_and_clips_like_the_ddpm_config():
    """DPM-Solver++'s step returns only x_prev: the loop yields the data prediction it used, x̂_0 = (x_t − √(1−ᾱ_t)
    ε_θ) / √ᾱ_t clipped to [−1, 1] as the DDPM config's clip_sample asks (DPM-Solver's thresholding with
    sample_max_value 1 is that clipping); its last step lands on that x̂_0 (the final σ is 0)."""
    from models.ddpm import SCHEDULER_CONFIG, dpm_solver_config

    cfg = dpm_solver_config(SCHEDULER_CONFIG)
    assert cfg["thresholding"] and cfg["sample_max_value"] == 1.0 and "clip_sample" not in cfg
    assert cfg["algorithm_type"] == "dpmsolver++" and cfg["solver_order"] == 2
    assert not dpm_solver_config({**SCHEDULER_CONFIG, "clip_sample": False}).get("thresholding")
    unet = tiny_unet().eval()
    scheduler = make_scheduler("dpmsolver++")
    x = initial_noise((2, 1, 32, 32), generator=torch.Generator().manual_seed(0))
    steps = list(reverse_steps(unet, scheduler, x, 8))
    assert [s["i"] for s in steps] == list(range(8)) and steps[0]["t"] == 999 and len({s["t"] for s in steps}) == 8
    abar = scheduler.alphas_cumprod
    for s in steps:
        a = abar[s["t"]]
        x0 = ((s["x_t"] - (1 - a).sqrt() * s["eps"]) / a.sqrt()).clamp(-1, 1)
        torch.testing.assert_close(s["x0"], x0, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(steps[-1]["x_prev"], steps[-1]["x0"])
    # without the clipping (an ablation of the evaluation) x̂_0 is not clipped
    free = list(reverse_steps(unet, make_scheduler("dpmsolver++", overrides={"thresholding": False}), x, 8))
    a = abar[free[0]["t"]]
    torch.testing.assert_close(free[0]["x0"], (x - (1 - a).sqrt() * free[0]["eps"]) / a.sqrt(), atol=1e-4, rtol=1e-5)
    with pytest.raises(ValueError, match="unknown sampler"):
        make_scheduler("euler")


def test_loop_yields_every_step_and_predicted_x0_is_consistent():
    unet = tiny_unet().eval()
    scheduler = make_scheduler("ddpm")
    x = initial_noise((2, 1, 32, 32), generator=torch.Generator().manual_seed(0))
    steps = list(reverse_steps(unet, scheduler, x, 10, generator=torch.Generator().manual_seed(1)))
    assert [s["i"] for s in steps] == list(range(10))
    assert [s["t"] for s in steps] == [int(t) for t in scheduler.timesteps]
    abar = scheduler.alphas_cumprod
    for s in steps:  # x̂_0 = (x_t − √(1−ᾱ_t) ε_θ) / √ᾱ_t, clipped to [-1, 1]
        a = abar[s["t"]]
        x0 = ((s["x_t"] - (1 - a).sqrt() * s["eps"]) / a.sqrt()).clamp(-1, 1)
        torch.testing.assert_close(s["x0"], x0, atol=1e-5, rtol=1e-5)
    # resuming from the middle with the same generator state gives the same end
    g = torch.Generator().manual_seed(5)
    full = list(reverse_steps(unet, make_scheduler("ddim"), x, 10, generator=g))
    resumed = list(reverse_steps(unet, make_scheduler("ddim"), full[4]["x_t"], 10, start_index=4))
    torch.testing.assert_close(resumed[-1]["x_prev"], full[-1]["x_prev"])


def test_forward_process_closed_form_is_the_schedulers():
    scheduler = make_scheduler("ddpm")
    assert scheduler.config.num_train_timesteps == 1000
    assert float(scheduler.betas[0]) == pytest.approx(1e-4) and float(scheduler.betas[-1]) == pytest.approx(0.02)
    x0 = torch.rand(4, 1, 32, 32) * 2 - 1
    eps = torch.randn(4, 1, 32, 32)
    t = torch.tensor([0, 10, 500, 999])
    torch.testing.assert_close(q_sample(x0, t, eps, scheduler.alphas_cumprod), scheduler.add_noise(x0, eps, t))


def test_forward_handler_same_noise_for_every_t(tiny, dd):
    from demos.i18n import language

    digit = PIL.Image.open(DIGIT)
    a = dd.ddpm_forward(digit, 100, 3)
    b = dd.ddpm_forward(digit, 100, 3)
    c = dd.ddpm_forward(digit, 900, 3)
    assert len(a) == 8
    assert np.array_equal(np.asarray(a["xt"]), np.asarray(b["xt"]))  # seeded
    assert np.array_equal(np.asarray(a["eps"]), np.asarray(c["eps"]))  # same ε at another t
    assert not np.array_equal(np.asarray(a["xt"]), np.asarray(c["xt"]))
    assert min(a["xt"].size) >= 256, "shown at 256 px or more, pixel for pixel"
    abar, beta, _snr = a["plot_abar"]["value"], a["plot_beta"]["value"], a["plot_snr"]["value"]
    assert a["plot_abar"]["x_title"] == "timestep t"
    assert set(abar["curve"]) == {"ᾱ_t", "signal √ᾱ_t", "noise √(1−ᾱ_t)", "chosen t"}
    assert beta["value"].max() == pytest.approx(0.02)
    assert list(abar[abar["curve"] == "chosen t"]["t"]) == [100, 100]
    assert "0.00208" in a["values"] or "t = 100" in a["values"]
    with language("ja"):  # the series names are data: made in the event's language, each with its colour
        ja_plot = dd.ddpm_forward(digit, 100, 3)["plot_abar"]
    ja = ja_plot["value"]
    assert ja_plot["x_title"] == "タイムステップ t"  # Gradio does not translate a plot's titles itself
    assert set(ja["curve"]) == {"ᾱ_t", "信号 √ᾱ_t", "ノイズ √(1−ᾱ_t)", "選んだ t"}
    assert set(ja["curve"]) | set(abar["curve"]) <= set(dd.CURVE_COLORS)
    assert dd.CURVE_COLORS["信号 √ᾱ_t"] == dd.CURVE_COLORS["signal √ᾱ_t"]


def test_forward_works_without_weights(dd, tmp_path, monkeypatch):
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loading.clear_cache()
    assert len(dd.ddpm_forward(PIL.Image.open(DIGIT), 10, 0)) == 8
    with pytest.raises(gr.Error, match="ddpm-mnist"):
        list(dd.ddpm_sample("", "ddpm", 3, 2, 0, 1))
    loading.clear_cache()


def test_a_run_of_1000_steps_tells_the_heavy_line_it_is_long(tiny, dd, monkeypatch):
    said = []
    monkeypatch.setattr(dd, "mark_long", lambda: said.append(True))
    next(dd.ddpm_sample("", "ddpm", 20, 1, 0, 5))  # the default's length: a short job
    assert said == []
    next(dd.ddpm_sample("", "ddpm", 1000, 1, 0, 50))  # "watch all 1000 steps": long from its first turn
    assert said == [True]


def test_a_run_streams_at_most_max_streamed(tiny, dd, monkeypatch):
    said = []
    monkeypatch.setattr(dd, "warn", said.append)
    outs = list(dd.ddpm_sample("", "ddpm", 1000, 1, 0, 1))  # every step of 1000 asked for: every 10th shown
    assert len(outs) - 1 == dd.MAX_STREAMED and "step 991 / 1000" in outs[-2]["run_status"]
    assert said == [dd.TAB.text("every_raised", k=10, frames=dd.MAX_STREAMED)]
    assert len(list(dd.ddpm_sample("", "ddpm", 100, 1, 0, 1))) == 100  # 99 frames (not the last step) + the result
    assert len(said) == 1


def test_sample_streams_then_keeps_the_trajectory(tiny, dd):
    outs = list(dd.ddpm_sample("", "ddpm", 12, 4, 0, 5))
    assert len(outs) == 3 + 1  # steps 0, 5, 10 streamed, then the result
    assert "step 6 / 12" in outs[1]["run_status"] and "trajectory" not in outs[1]
    final = outs[-1]
    traj, slider = final["trajectory"], final["scrub"]
    assert isinstance(final["r_xt"], PIL.Image.Image) and "12" in final["run_status"]
    assert min(final["r_xt"].size) >= 256
    assert traj["i"] == list(range(12)) and len(traj["x_t"]) == 12 and traj["final"].shape == (4, 1, 32, 32)
    # the t slider runs over the timesteps of the run (T … 0), and sits at the end
    assert traj["t"][0] > 800 and traj["t"][-1] == 0 and traj["t"] == sorted(traj["t"], reverse=True)
    assert (slider["minimum"], slider["maximum"], slider["value"]) == (0, traj["t"][0], 0) and slider["interactive"]
    # the same seed gives the same digits
    again = list(dd.ddpm_sample("", "ddpm", 12, 4, 0, 100))[-1]["trajectory"]
    assert np.array_equal(again["final"], traj["final"])
    # the t slider only reads the stored steps: the one nearest to t
    t3 = traj["t"][3]
    scrubbed = dd.ddpm_scrub(traj, t3)
    assert isinstance(scrubbed["r_x0"], PIL.Image.Image)
    assert f"step 4 / 12, t = {t3}:" in scrubbed["run_status"]
    between = (traj["t"][3] + traj["t"][4]) / 2 + 1  # a little nearer to step 4
    assert np.array_equal(np.asarray(dd.ddpm_scrub(traj, between)["r_x0"]), np.asarray(scrubbed["r_x0"]))
    assert f"step 1 / 12, t = {traj['t'][0]}" in dd.ddpm_scrub(traj, 999)["run_status"]
    assert "step 12 / 12, t = 0" in dd.ddpm_scrub(traj, 0)["run_status"]
    # let go, the slider moves to the t it shows
    assert dd.stored_t(traj, between) == t3 and dd.stored_t(traj, 999) == traj["t"][0] and dd.stored_t(None, 5) == 5
    released = dd.scrub_released(traj, between)  # let go, typed in its box or reset: shown and moved
    assert released["scrub"] == t3 and f"step 4 / 12, t = {t3}:" in released["run_status"]


def test_long_runs_keep_at_most_max_frames(tiny, dd, monkeypatch):
    monkeypatch.setattr(dd, "MAX_FRAMES", 4)
    traj = list(dd.ddpm_sample("", "ddim", 10, 1, 0, 10))[-1]["trajectory"]
    assert traj["i"] == [0, 3, 6, 9]


def test_branch_says_where_it_starts_and_gives_different_futures(tiny, dd):
    """Issue 14: a branch after a run started from the last step and gave identical copies without a word. It now
    has its own t (600 by default: the futures differ), says where it starts, and says so when they are the same."""
    traj = list(dd.ddpm_sample("", "ddim", 10, 4, 0, 10))[-1]["trajectory"]  # t = 900, 800, …, 0
    fitted = dd.branch_controls(traj, dd.LIMITS["branch_t"][2], 15)
    assert fitted["branch_t"]["value"] == 600 and fitted["branch_t"]["maximum"] == 900
    assert fitted["image"]["value"] == 3 and fitted["image"]["maximum"] == 3  # the last of 4 images
    assert "image 3 (row 2, column 2) at step 4 / 10, t = 600" in fitted["where"]
    assert isinstance(fitted["origin"], PIL.Image.Image) and min(fitted["origin"].size) >= 256
    moved = dd.branch_t_released(traj, 640, 1)  # let go between two stored steps: moved to the nearest
    assert moved["branch_t"] == 600 and "t = 600" in moved["where"]

    outs = list(dd.ddpm_branch(traj, 600, 1, 4, 0))
    origin, futures, status = (outs[-1][name] for name in ("origin", "futures", "status"))
    assert "4 futures of image 1 from step 4 / 10 (t = 600)" in status and "grey levels of 255 on average" in status
    assert min(futures.size) >= 256 and origin.size[0] >= 256
    cells = np.asarray(futures)
    assert cells.std() > 0

    # from the last step: one future only, and the tab says why, before and after the click
    assert "last step" in dd.branch_preview(traj, 0, 1)["where"]
    assert "last step" in dd.branch_preview(traj, 40, 1)["where"]  # t = 40 is nearest to the last stored t = 0
    last = list(dd.ddpm_branch(traj, 0, 1, 3, 0))[-1]
    assert "from step 10 / 10 (t = 0)" in last["status"] and "all the same image" in last["status"]
    one = list(dd.ddpm_branch(traj, 600, 1, 1, 0))[-1]["status"]
    assert "differ" not in one and "same" not in one  # nothing to compare with a single future


def test_compare_streams_every_run_with_times(tiny, dd):
    outs = list(dd.ddpm_compare("", 2, 0))
    assert len(outs) == len(dd.COMPARE_RUNS) == 6
    table = outs[-1]["table"]
    for name in ("| DPM-Solver++ | 10", "| DPM-Solver++ | 20", "SDE-DPM-Solver++ | 20", "DDIM | 20", "DDIM | 50",
                 "DDPM | 1000"):
        assert name in table
    assert all(isinstance(outs[-1][dd.compare_name(*run)], PIL.Image.Image) for run in dd.COMPARE_RUNS)


@pytest.mark.parametrize("args", [
    ("", "euler", 10, 2, 0, 1), ("", "ddpm", 0, 2, 0, 1), ("", "ddpm", 1001, 2, 0, 1), ("", "ddpm", 10, 0, 0, 1),
    ("", "ddpm", 10, 17, 0, 1), ("", "ddpm", 10, 2, -1, 1), ("", "ddpm", 10, 2, "x", 1), ("", "ddpm", 10, 2, 0, 0),
    ("", "ddpm", float("nan"), 2, 0, 1), ("../../etc", "ddpm", 10, 2, 0, 1), ("not a repo", "ddpm", 10, 2, 0, 1),
])
def test_bad_sample_settings_are_clear_errors(tiny, dd, args):
    with pytest.raises(gr.Error):
        list(dd.ddpm_sample(*args))


def test_bad_forward_and_branch_inputs(tiny, dd):
    with pytest.raises(gr.Error):
        dd.ddpm_forward(None, 10, 0)
    with pytest.raises(gr.Error):
        dd.ddpm_forward(PIL.Image.new("L", (50, 50), 255), 10, 0)  # blank
    with pytest.raises(gr.Error):
        dd.ddpm_forward(PIL.Image.open(DIGIT), 1000, 0)
    with pytest.raises(gr.Error, match="Generate"):
        list(dd.ddpm_branch(None, 0, 0, 2, 0))
    traj = list(dd.ddpm_sample("", "ddim", 5, 2, 0, 10))[-1]["trajectory"]
    for t, image, futures in ((-1, 0, 2), ("x", 0, 2), (0, 2, 2), (0, 0, 0), (0, 0, 17)):
        with pytest.raises(gr.Error):
            list(dd.ddpm_branch(traj, t, image, futures, 0))
    assert dd.ddpm_scrub(None, 0)["run_status"]  # a message, not a crash
    assert "Generate" in dd.branch_preview(None, 600, 0)["where"] and dd.branch_controls(None, 600, 0) == {}
    assert dd.unlock_scrub(None)["interactive"] is False and dd.unlock_scrub(traj)["interactive"] is True


def test_unreachable_hub_model_is_a_clear_error(tiny, dd, monkeypatch, tmp_path):
    from demos.i18n import language

    with pytest.raises(gr.Error, match="google/ddpm-cifar10-32"):
        list(dd.ddpm_sample("google/ddpm-cifar10-32", "ddim", 5, 1, 0, 1))
    # "Load" with no way to the Hub (conftest's HF_ENDPOINT: a closed local port): said in the student's words, not
    # as the network library's English error
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("GALLERY_HUB_CACHE_DIR", str(tmp_path / "box"))
    with language("ja"), pytest.raises(gr.Error, match="Hugging Face Hub に接続できません") as refused:
        dd.model_info("google/ddpm-cifar10-32")
    assert "Errno" not in str(refused.value) and "could not be downloaded" not in str(refused.value)


def test_work_limit_for_big_models(tiny, dd, monkeypatch):
    model = dd.load_model("")
    monkeypatch.setattr(dd, "MAX_WORK", model.n_params * 4 * 10)
    list(dd.ddpm_sample("", "ddim", 10, 4, 0, 10))
    with pytest.raises(gr.Error, match="at most"):
        list(dd.ddpm_sample("", "ddim", 11, 4, 0, 10))


HUB_CLIENT = """
import json
from demos import ddpm as dd
out = {}
out["info"] = dd.model_info("someone/tiny-ddpm")  # the "Load" button; the samplers then use it
final = list(dd.ddpm_sample("someone/tiny-ddpm", "ddim", 4, 2, 0, 1))[-1]
out["hub_model"] = final["trajectory"]["final"].shape
out["ours_from_hub"] = list(dd.ddpm_sample("", "ddpm", 3, 1, 0, 1))[-1]["trajectory"]["final"].shape
try:
    dd.model_info("someone/missing")
except Exception as err:
    out["missing"] = str(err)
try:
    dd.model_info("someone/tampered")
except Exception as err:
    out["tampered"] = str(err)
print("RESULT" + json.dumps(out))
"""


def test_other_models_and_our_model_from_the_hub(tmp_path):
    hub_root = tmp_path / "hub"
    save_tiny_pipeline(hub_root / "someone" / "tiny-ddpm", seed=1)
    save_tiny_pipeline(hub_root / "test-org" / "ddpm-mnist")
    tampered = save_tiny_pipeline(hub_root / "someone" / "tampered")
    weights = tampered / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with FakeHub(hub_root) as hub:
        env = dict(os.environ, GALLERY_PRETRAINED_DIR=str(tmp_path / "empty"), HF_HOME=str(tmp_path / "hf_home"),
                   GALLERY_HUB_ORG="test-org", GALLERY_HUB_REVISION="main", PYTHONPATH=str(ROOT), HF_ENDPOINT=hub.url)
        env.pop("HF_HUB_OFFLINE", None)
        proc = subprocess.run([sys.executable, "-c", HUB_CLIENT], env=env, capture_output=True, text=True, timeout=300,
                              cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1][len("RESULT"):])
        assert out["hub_model"] == [2, 1, 32, 32] and out["ours_from_hub"] == [1, 1, 32, 32]
        assert "someone/tiny-ddpm" in out["info"] and "(8, 16)" in out["info"]
        assert "someone/missing" in out["missing"]
        assert "checksum" in out["tampered"]
        assert not any(path.endswith((".bin", ".pt", ".pth", ".pkl", ".ckpt")) for _, path in hub.requests)


def test_api_of_the_tab_alone(tiny, dd):
    from gradio_client import Client, handle_file

    from demos.i18n import make_i18n
    from demos.kit import Page

    demo = dd.create_demo(Page(dd.TAB))
    demo.launch(prevent_thread_lock=True, quiet=True, i18n=make_i18n([dd.TAB]), max_file_size="10mb")
    try:
        client = Client(demo.local_url, verbose=False, download_files=False)
        apis = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert {"/ddpm_forward", "/ddpm_sample", "/ddpm_compare"} <= set(apis) and "/ddpm_branch" not in apis
        drawn = {"background": handle_file(str(DIGIT)), "layers": [], "composite": handle_file(str(DIGIT))}
        forward = client.predict(drawn, 300, 0, api_name="/ddpm_forward")
        assert len(forward) == 8 and "t = 300" in forward[-1]
        result = client.predict("", "ddim", 5, 3, 0, 2, api_name="/ddpm_sample")
        assert result[0] and "5" in result[3]
        with pytest.raises(Exception):
            client.predict("", "ddim", 5000, 3, 0, 2, api_name="/ddpm_sample")
        compare = client.predict("", 1, 0, api_name="/ddpm_compare")
        assert "DDPM" in compare[-1]
    finally:
        demo.close()


def test_branch_from_the_last_step_computes_one_future_for_all(tiny, dd, monkeypatch):
    """The last step adds no noise, so every future from it is the same image: computed once and repeated (in bf16,
    copies of one input in a batch can come out a rounding apart and read as "they differ by 0.0 grey levels").
    Here a U-Net that shifts each copy of the batch a little would make them differ if they were computed apart."""
    traj = list(dd.ddpm_sample("", "ddim", 10, 4, 0, 10))[-1]["trajectory"]
    model = dd.load_model(traj["model"])
    real = model.fast_unet

    class Apart:  # copy k of the batch comes out k/10 higher
        def __call__(self, x, t):
            out = real(x, t)
            shift = torch.arange(x.shape[0], dtype=x.dtype).reshape(-1, 1, 1, 1) / 10
            return type(out)(out.sample + shift)

    monkeypatch.setattr(type(model), "fast_unet", Apart(), raising=True)
    last = list(dd.ddpm_branch(traj, 0, 1, 3, 0))[-1]
    assert "all the same image" in last["status"]
    futures = np.asarray(last["futures"])
    assert futures.std() > 0  # a picture, not a blank
    assert "differ by" in list(dd.ddpm_branch(traj, 600, 1, 3, 0))[-1]["status"]  # earlier steps: copies apart


def test_fast_unet_matches_the_original():
    from models.ddpm import FastUNet

    unet = tiny_unet().eval()
    fast = FastUNet(unet, precision="fp32")  # (where the CPU computes bf16, "auto" would trace in bf16: tested below)
    assert fast.traced is not None and fast.precision == "fp32"
    for b, t in ((1, 0), (5, 999), (16, 431)):
        x = torch.randn(b, 1, 32, 32)
        torch.testing.assert_close(fast(x, torch.tensor(t)).sample, unet(x, torch.tensor(t)).sample, atol=1e-4,
                                   rtol=1e-4)
    ours = sample(fast, make_scheduler("ddim"), 2, 10, generator=torch.Generator().manual_seed(0))
    plain = sample(unet, make_scheduler("ddim"), 2, 10, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(ours, plain, atol=1e-3, rtol=0)


def test_fast_unet_bf16_agrees_with_fp32():
    """The bf16 trace (what the tab runs where the CPU computes bf16 in hardware; here forced, so that it is checked
    even where oneDNN only emulates bf16) agrees with the fp32 module within bf16's precision, returns fp32 for the
    scheduler, and a whole run ends on the same digits to within a few grey levels."""
    from models import ddpm as m

    if not torch.backends.mkldnn.is_available():
        pytest.skip("no oneDNN: this CPU build cannot run bf16 convolutions")
    unet = tiny_unet().eval()
    fast = m.FastUNet(unet, precision="bf16")
    if fast.precision != "bf16":
        pytest.skip("this CPU cannot trace the U-Net in bf16")
    for b, t in ((1, 0), (5, 999), (16, 431)):
        x = torch.randn(b, 1, 32, 32, generator=torch.Generator().manual_seed(b))
        with torch.no_grad():
            out, ref = fast(x, torch.tensor(t)).sample, unet(x, torch.tensor(t)).sample
        assert out.dtype == torch.float32 and out.shape == ref.shape
        assert float((out - ref).norm() / ref.norm()) < m.BF16_TOLERANCE
    ours = sample(fast, make_scheduler("dpmsolver++"), 2, 10, generator=torch.Generator().manual_seed(0))
    plain = sample(unet, make_scheduler("dpmsolver++"), 2, 10, generator=torch.Generator().manual_seed(0))
    assert float((ours - plain).abs().mean()) < 0.02


def test_group_norms_in_fp32_compute_in_fp32_and_keep_the_dtype():
    """The bf16 trace's GroupNorms (``GroupNormFP32``) take the same weights, give the plain GroupNorm's result on fp32
    input, and on bf16 input (under autocast, as in the trace) compute in fp32 and return bf16."""
    from models import ddpm as m

    unet = tiny_unet().eval()
    norms = [mod for mod in unet.modules() if type(mod) is torch.nn.GroupNorm]
    assert norms
    changed = m.group_norms_in_fp32(copy.deepcopy(unet))
    assert not [mod for mod in changed.modules() if type(mod) is torch.nn.GroupNorm]
    assert len([mod for mod in changed.modules() if isinstance(mod, m.GroupNormFP32)]) == len(norms)
    x = torch.randn(3, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(changed(x, torch.tensor(7)).sample, unet(x, torch.tensor(7)).sample)
    norm = norms[0]
    fp32 = m.GroupNormFP32.like(norm)
    h = torch.randn(2, norm.num_channels, 8, 8, generator=torch.Generator().manual_seed(1)) * 40 + 300
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = fp32(h.bfloat16())
    assert out.dtype == torch.bfloat16
    exact = torch.nn.functional.group_norm(h.bfloat16().float(), norm.num_groups, norm.weight, norm.bias, norm.eps)
    torch.testing.assert_close(out.float(), exact, atol=0.02, rtol=0.01)  # fp32 arithmetic, rounded once to bf16


def test_fast_unet_picks_bf16_only_where_native(monkeypatch):
    """``auto`` (the tab) takes bf16 only where the CPU computes it in hardware (elsewhere bf16 is emulated and much
    slower than fp32); a bf16 trace that fails its self-check falls back to fp32; GALLERY_DDPM_PRECISION overrides."""
    from models import ddpm as m

    assert isinstance(m.native_bf16(), bool)
    unet = tiny_unet().eval()
    monkeypatch.setattr(m, "native_bf16", lambda: False)
    assert m.FastUNet(unet).precision == "fp32"
    monkeypatch.setattr(m, "native_bf16", lambda: True)
    assert m.FastUNet(unet).precision == "bf16"
    monkeypatch.setenv("GALLERY_DDPM_PRECISION", "fp32")
    assert m.FastUNet(unet).precision == "fp32"
    monkeypatch.delenv("GALLERY_DDPM_PRECISION")
    monkeypatch.setattr(m, "BF16_TOLERANCE", 0.0)  # no bf16 trace can pass: fp32 instead
    fast = m.FastUNet(unet)
    assert fast.precision == "fp32"
    x = torch.randn(2, 1, 32, 32)
    torch.testing.assert_close(fast(x, torch.tensor(3)).sample, unet(x, torch.tensor(3)).sample, atol=1e-4, rtol=1e-4)


def test_branches_of_a_dpm_solver_run_differ(tiny, dd):
    """DPM-Solver++ is deterministic: its branches use SDE-DPM-Solver++ (same timesteps, fresh noise), so the futures
    from a large t differ; from the last step there is still one future."""
    traj = list(dd.ddpm_sample("", "dpmsolver++", 10, 2, 0, 10))[-1]["trajectory"]
    assert traj["sampler"] == "dpmsolver++" and traj["t"][0] == 999
    status = list(dd.ddpm_branch(traj, 600, 0, 3, 0))[-1]["status"]
    assert "3 futures of image 0" in status and "grey levels of 255 on average" in status
    assert "all the same image" in list(dd.ddpm_branch(traj, 0, 0, 2, 0))[-1]["status"]


def test_open_tab_with_a_share_link(tiny, dd):
    class Req:
        headers = {"accept-language": "ja"}
        query_params = {"t": "700", "fseed": "3", "sampler": "ddim", "steps": "20", "n": "4", "seed": "9",
                        "every": "bad"}

    out = dd.open_tab(Req())
    assert out["status"]["visible"] is False and out["run"]["interactive"]
    assert [out[name]["value"] for name in dd.SETTINGS] == [700, 3, "ddim", 20, 4, 9, 10]
    assert "t = 700" in out["values"]
    assert "ddim" in dd.ddpm_share_query(700, 3, "ddim", 20, 4, 9, 25)
    # it opens on a finished run with the link's settings, ready to look back at and to branch from
    traj = out["trajectory"]
    assert (traj["sampler"], traj["steps"], traj["n"], traj["seed"]) == ("ddim", 20, 4, 9)
    assert isinstance(out["r_xt"], PIL.Image.Image) and out["scrub"]["interactive"]
    assert "20" in out["run_status"] and "9" in out["run_status"]
    assert out["branch_t"]["value"] == 600 and "t = 600" in out["where"]


def test_the_tab_opens_on_a_computed_example_once(tiny, dd, monkeypatch):
    """Issue 14: the tab opens on a computed example (the default sampler, SDE-DPM-Solver++, with its default steps,
    16 digits), computed once for every page; a share link that asks for a long run opens with a line that says what
    Generate will do instead."""
    default = dd.DEFAULT_SAMPLER
    steps = dd.DEFAULT_STEPS[default]
    assert (default, steps) == ("sde-dpmsolver++", 20) and dd.LIMITS["steps"][2] == steps <= dd.OPEN_MAX_STEPS
    dd.example_trajectory.cache_clear()
    first, again = dd.open_tab(), dd.open_tab()
    traj = first["trajectory"]
    assert (traj["sampler"], traj["steps"], traj["n"], traj["seed"]) == (default, steps, 16, 0)
    assert again["trajectory"] is traj, "computed once, then shared"
    assert first["steps"]["value"] == steps and first["sampler"]["value"] == default
    assert "with 20 SDE-DPM-Solver++ steps" in first["run_status"]
    assert "An example" in first["run_status"] and first["scrub"]["maximum"] == traj["t"][0] == 999
    assert first["watch_all"]["interactive"] and first["run"]["interactive"]

    class OldLink:  # a link that names DDPM and no steps: DDPM's own default, 100 steps
        headers = {}
        query_params = {"sampler": "ddpm"}

    assert dd.settings_from_query(OldLink())["steps"] == 100

    class Long:
        headers = {}
        query_params = {"steps": "1000"}

    out = dd.open_tab(Long())
    assert "trajectory" not in out and "Press Generate" in out["run_status"] and "1000" in out["run_status"]
    assert dd.steps_for_sampler("ddim")["value"] == 50 and dd.steps_for_sampler("ddpm")["value"] == 100
    assert dd.steps_for_sampler("dpmsolver++")["value"] == dd.steps_for_sampler("sde-dpmsolver++")["value"] == 20


def test_watch_all_1000_steps_button(tiny, dd, monkeypatch):
    """"Watch all 1000 steps" runs DDPM with all T = 1000 steps (here fewer, for speed): the sampler and steps
    controls are set to that run, the run streams and ends with its trajectory, like Generate; in the heavy queue."""
    from demos.kit import Page

    assert dd.WATCH_ALL == ("ddpm", 1000) and dd.LIMITS["steps"][1] >= 1000
    model = dd.load_model("")
    dd.check_work(model, 16, 1000)  # allowed for 16 digits
    monkeypatch.setattr(dd, "WATCH_ALL", ("ddpm", 12))
    outs = list(dd.ddpm_watch_all("", 2, 0, 5))
    assert outs[0]["sampler"]["value"] == "ddpm" and outs[0]["steps"]["value"] == 12
    assert all("sampler" not in out for out in outs[1:])
    assert "DDPM: step 1 / 12" in outs[0]["run_status"]
    traj = outs[-1]["trajectory"]
    assert (traj["sampler"], traj["steps"], traj["n"]) == ("ddpm", 12, 2) and traj["i"] == list(range(12))
    demo = dd.create_demo(Page(dd.TAB))
    watch = [fn for fn in demo.fns.values() if getattr(fn.fn, "__wrapped__", None) is dd.ddpm_watch_all]
    assert len(watch) == 1 and watch[0].concurrency_id == "heavy"
    assert dd.TAB.strings.table["watch_all"] == {"en": "Watch all 1000 steps", "ja": "1000 ステップすべてを見る"}


def test_save_as_slide_from_the_tab(tiny, dd):
    """The "save as slide" button exports the three pictures of the reverse process with the sampler, steps,
    images, seed and t (demos/kit.py: Page.slide_button; demos/slide.py draws it), in the page's language."""
    from demos.i18n import language
    from demos.kit import Page

    demo = dd.create_demo(Page(dd.TAB))
    save = next(fn for fn in demo.fns.values() if fn.fn.__name__ == "save_slide")
    labels = {id(block): getattr(block, "label", None) for block in save.inputs}
    traj = list(dd.ddpm_sample("", "ddim", 5, 4, 0, 10))[-1]
    shown = {"r_xt": traj["r_xt"], "r_x0": traj["r_x0"], "r_eps": traj["r_eps"]}
    values = {}
    for block in save.inputs:
        key = getattr(labels[id(block)], "key", "")
        name = key.removeprefix("ddpm.").removeprefix("common.")
        values[block] = shown.get(name, {"sampler": "ddim", "steps": 5, "n": 4, "seed": 0, "scrub": 0}.get(name))
    assert sum(isinstance(v, PIL.Image.Image) for v in values.values()) == 3 and None not in values.values()
    with language("ja"):
        made = save.fn(values, None)
    path = next(iter(made.values()))["value"]
    with PIL.Image.open(path) as slide:
        assert slide.size == (1920, 1080)


CONCURRENT_FIRST_CALLS = """
import sys, threading, traceback
import PIL.Image
from demos import ddpm as d
img = PIL.Image.open("demos/examples/mnist/2_0001.png").copy()
errors = []
def work():
    try:
        d.ddpm_forward(img, 300, 0)
    except Exception:
        errors.append(traceback.format_exc())
threads = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
print("ERRORS", len(errors), errors[:1])
"""


def test_first_calls_from_many_threads_at_once():
    """Gradio runs handlers in threads: 8 first calls at once (each importing diffusers' schedulers lazily) all work.
    (Without the import lock, the load test saw `cannot import name 'DDIMScheduler'`.) A fresh process, so that
    diffusers is imported for the first time."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", CONCURRENT_FIRST_CALLS], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert "ERRORS 0 " in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]


# --- the "other models" box against a hostile or slow Hub (issue 13, item 3) ------------------------------------

@pytest.fixture
def hub_box(tmp_path, monkeypatch, dd):
    """A stand-in Hub with tiny pipelines under ``<root>/<owner>/<name>``, the box's own cache in tmp_path, and our
    own model from a tiny pretrained folder. Yields (hub root, make a repo, the box's cache dir)."""
    from huggingface_hub import constants

    from demos.kit import clear_caches

    root = tmp_path / "hub"
    monkeypatch.setenv("GALLERY_HUB_CACHE_DIR", str(tmp_path / "box"))
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(make_tiny_pretrained_ddpm(tmp_path / "pretrained")))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    clear_caches()

    def repo(name: str, unet=None, scheduler=None) -> Path:
        """A tiny pipeline repo, its configs updated with ``unet`` / ``scheduler`` (checksums rewritten)."""
        from models.loading import write_tree_checksums

        folder = save_tiny_pipeline(root / name)
        for path, changes in ((folder / "unet" / "config.json", unet),
                              (folder / "scheduler" / "scheduler_config.json", scheduler)):
            if changes:
                path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))
        write_tree_checksums(folder)
        return folder

    yield root, repo, tmp_path / "box"
    clear_caches()


class SilentHub:
    """A Hub endpoint that accepts connections and never answers (``trickle``: answers 200 with a long body, one
    byte every 0.1 s), counting connections."""

    def __init__(self, trickle: bool = False):
        import socket
        import threading

        self.trickle, self.connections, self.held = trickle, 0, []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        import threading
        import time

        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.held.append(conn)
            if self.trickle:
                def drip(c=conn):
                    try:
                        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                        while not self.stop.is_set():
                            c.sendall(b"{")
                            time.sleep(0.1)
                    except OSError:
                        pass
                threading.Thread(target=drip, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.mark.parametrize("trickle", [False, True], ids=["never-answers", "trickles"])
def test_hub_box_one_deadline_for_the_whole_load(hub_box, dd, monkeypatch, trickle):
    """Issue 13: against a Hub that accepts connections and never answers, "Load" held its queue for 562 s
    (huggingface_hub's retries × 10 s timeouts). Now one deadline bounds the whole load, retries included, however
    the server stalls; the message says so in the student's language."""
    import time

    from demos.i18n import language

    monkeypatch.setattr(loading, "HUB_DEADLINE_S", 1.5)
    with SilentHub(trickle) as silent:
        monkeypatch.setenv("HF_ENDPOINT", silent.url)
        start = time.monotonic()
        with pytest.raises(gr.Error, match=r"did not answer within 1\.5 s") as err:
            dd.model_info("someone/slow")
        assert time.monotonic() - start < 2.5, "the deadline holds for the whole load"
        assert "someone/slow" in err.value.message and silent.connections >= 1
        start = time.monotonic()
        with language("ja"), pytest.raises(gr.Error, match="1.5 秒以内に応答しなかった"):
            dd.model_info("someone/slow")
        assert time.monotonic() - start < 2.5


def test_hub_box_sampling_never_downloads_in_the_heavy_queue(hub_box, dd, monkeypatch):
    """Issue 13: one /ddpm_sample naming a Hub repo held the shared heavy queue for 787 s while it downloaded. The
    samplers (heavy queue) now take a Hub model only from what "Load" (its own queue) put on disk: before that, a
    clear "load it first" at once, without a single request to the Hub."""
    import time

    root, repo, _ = hub_box
    repo("someone/tiny")
    with SilentHub() as silent:
        monkeypatch.setenv("HF_ENDPOINT", silent.url)
        start = time.monotonic()
        for run in (lambda: list(dd.ddpm_sample("someone/tiny", "ddim", 4, 2, 0, 1)),
                    lambda: list(dd.ddpm_compare("someone/tiny", 1, 0))):
            with pytest.raises(gr.Error, match="not loaded yet.*Load"):
                run()
        assert time.monotonic() - start < 1 and silent.connections == 0
    with FakeHub(root) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        assert "someone/tiny" in dd.model_info("someone/tiny")  # "Load"
        final = list(dd.ddpm_sample("someone/tiny", "ddim", 4, 2, 0, 1))[-1]
        assert final["trajectory"]["final"].shape == (2, 1, 32, 32)
        requests = len(hub.requests)
        traj = list(dd.ddpm_sample("someone/tiny", "ddpm", 3, 1, 0, 1))[-1]["trajectory"]
        list(dd.ddpm_branch(traj, 1, 0, 2, 0))
        assert len(hub.requests) == requests, "the samplers make no request at all"
        dd.model_info("someone/tiny")  # loaded again: the small files are checked, the weights not fetched again
        assert hub.downloads("diffusion_pytorch_model.safetensors") == 2 + 2 + 1  # two header reads each time, once
        assert not any(path.endswith((".bin", ".pt", ".pth", ".pkl", ".ckpt")) for _, path in hub.requests)


def test_hub_box_load_event_is_not_in_the_heavy_queue(dd):
    """The "Load" button downloads: never in the heavy queue (a slow Hub would hold every sampler of the class)."""
    from demos.kit import Page

    demo = dd.create_demo(Page(dd.TAB))
    loads = [fn for fn in demo.fns.values() if getattr(fn.fn, "__wrapped__", None) is dd.model_info]
    assert len(loads) == 2  # the button and Enter in the box
    assert all(fn.concurrency_id == dd.HUB_LOAD_QUEUE["concurrency_id"] != "heavy" for fn in loads)
    assert {fn.api_name for fn in demo.fns.values() if fn.concurrency_id == "heavy"} >= {"ddpm_sample", "ddpm_compare"}


def safetensors_header_only(path: Path, n_params: int) -> None:
    """A safetensors file whose header declares ``n_params`` float32 parameters (the data itself is not there: a
    loader that reads only the header cannot tell)."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [n_params], "data_offsets": [0, 4 * n_params]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header)


@pytest.mark.parametrize("attack", ["141M-parameters", "sample-size-192", "20M-timesteps", "bigger-than-the-cache"])
def test_hub_box_refuses_a_model_before_downloading_its_weights(hub_box, dd, monkeypatch, attack):
    """Issue 13: a 141 M-parameter repo was downloaded (541 MB) and held in memory (2.5 GB); one with sample_size 192
    was test-run for 10 s before the 64 px refusal; 20 million timesteps were accepted (+534 MB per run). Each is
    now refused from its config files and the safetensors header alone: the weights are never downloaded, the
    model never built or run."""
    import time

    from demos.i18n import language

    root, repo, box = hub_box
    expected = {"141M-parameters": ("141.0 M parameters", "141.0 M です"),
                "sample-size-192": ("192×192", "192×192"),
                "20M-timesteps": ("20000000 diffusion timesteps; this server takes at most 4000", "20000000"),
                "bigger-than-the-cache": ("MB on disk", "MB 必要です")}[attack]
    if attack == "141M-parameters":
        folder = repo("someone/huge")
        safetensors_header_only(folder / "unet" / "diffusion_pytorch_model.safetensors", 141_000_000)
    elif attack == "sample-size-192":
        repo("someone/huge", unet={"sample_size": 192})
    elif attack == "20M-timesteps":
        repo("someone/huge", scheduler={"num_train_timesteps": 20_000_000})
    else:
        repo("someone/huge")
        monkeypatch.setattr(loading, "HUB_CACHE_BYTES", 100_000)  # the tiny U-Net's weights are ~200 kB
    weights = root / "someone" / "huge" / "unet" / "diffusion_pytorch_model.safetensors"
    header_bytes = 8 + int.from_bytes(weights.read_bytes()[:8], "little")
    with FakeHub(root) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        start = time.monotonic()
        with pytest.raises(gr.Error) as err:
            dd.model_info("someone/huge")
        assert expected[0] in err.value.message and time.monotonic() - start < 3
        with language("ja"), pytest.raises(gr.Error, match=expected[1]):
            dd.model_info("someone/huge")
        assert hub.sent("diffusion_pytorch_model.safetensors") <= 2 * (header_bytes + 8), "only the header was read"
        assert hub.downloads("SHA256SUMS") == 0
    assert not box.exists() or not any(box.iterdir()), "nothing kept on disk"


def test_hub_box_check_runs_again_before_a_copy_on_disk_is_run(hub_box, dd, monkeypatch):
    """A copy already in the box's cache that breaks a limit (lowered since, or written there by hand) is refused
    before it is built and traced (the trace runs the model)."""
    root, repo, _ = hub_box
    repo("someone/tiny")
    with FakeHub(root) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        loading.fetch_hub_folder("someone/tiny")
    monkeypatch.setattr(dd, "MAX_TIMESTEPS", 999)
    with pytest.raises(gr.Error, match="1000 diffusion timesteps"):
        list(dd.ddpm_sample("someone/tiny", "ddim", 4, 2, 0, 1))


def test_hub_box_disk_cache_is_capped_least_recently_used_first(hub_box, monkeypatch):
    """Issue 13: every repo typed in the box stayed on disk for good. The box has its own cache, capped: the least
    recently used repo makes room (using a repo counts, not only downloading it)."""
    import os

    root, repo, box = hub_box
    for name in ("a", "b", "c"):
        repo(f"someone/{name}")
    with FakeHub(root) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        a = loading.fetch_hub_folder("someone/a")
        size = sum(p.stat().st_size for p in a.path.rglob("*") if p.is_file())
        monkeypatch.setattr(loading, "HUB_CACHE_BYTES", int(2.5 * size))  # room for two
        loading.fetch_hub_folder("someone/b")
        for i, name in enumerate(("b", "a")):  # b used long ago, a just now
            marker = box / f"someone--{name}@main" / ".gallery-hub.json"
            os.utime(marker, (1_000_000 + i, 1_000_000 + i))
        assert loading.cached_hub_folder("someone/a") is not None  # used now
        loading.fetch_hub_folder("someone/c")
        assert sorted(p.name for p in box.iterdir()) == ["someone--a@main", "someone--c@main"]
        assert sum(p.stat().st_size for p in box.rglob("*") if p.is_file()) <= loading.HUB_CACHE_BYTES
        assert loading.cached_hub_folder("someone/b") is None


def test_sampling_gives_way_to_other_heavy_jobs_after_every_step(tiny, dd, monkeypatch):
    """1000 DDPM steps are long: between two steps a waiting heavy job computes if this run's turn is over
    (demos/turns.py), so a short job never waits for the whole run; the comparison does not count the waiting."""
    calls = []
    monkeypatch.setattr(dd, "give_way", lambda: calls.append(1))
    list(dd.ddpm_sample("", "ddpm", 12, 2, 0, 5))
    assert len(calls) == 12
