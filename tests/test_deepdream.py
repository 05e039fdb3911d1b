"""DeepDream tab: the algorithm on the real EfficientNet-Lite0 at small sizes, the handlers, bad inputs, the api,
the first view, and the ImageNet class names in both languages."""

import json

import gradio as gr
import PIL.Image
import pytest
import torch

from demos import deepdream as dd
from models.efficientnet_lite import EfficientNetLite0
from tests.conftest import ROOT

PHOTO = ROOT / "demos" / "examples" / "photos" / "chelsea.jpg"


@pytest.fixture(scope="module")
def model():
    lite0 = EfficientNetLite0.from_pretrained(ROOT / "pretrained" / "efficientnet-lite0", strict=True)
    return lite0.requires_grad_(False)


@pytest.fixture
def photo():
    with PIL.Image.open(PHOTO) as img:
        return img.copy()


def small(photo, side=64):
    return dd.photo_to_tensor(photo, side)


def test_dream_grows_the_layer_activation_and_is_seeded(model, photo):
    x = small(photo)
    steps = list(dd.deepdream(model, x, "block4", octaves=2, iterations=3, step=0.02, jitter=4, seed=1))
    assert [k for k, _ in steps] == [1, 2]
    out = steps[-1][1]
    assert out.shape == x.shape and 0 <= float(out.min()) and float(out.max()) <= 1
    with torch.no_grad():
        before = dd.activation_objective(model.features(x, upto=4)["block4"], "mean_square")
        after = dd.activation_objective(model.features(out, upto=4)["block4"], "mean_square")
    assert after > before * 1.2
    again = list(dd.deepdream(model, x, "block4", octaves=2, iterations=3, step=0.02, jitter=4, seed=1))[-1][1]
    assert torch.equal(out, again)


def test_guided_dream_moves_towards_the_guide(model, photo):
    x = small(photo)
    guide = dd.photo_to_tensor(PIL.Image.open(ROOT / "demos" / "examples" / "photos" / "coffee.jpg"), 64)
    out = list(dd.deepdream(model, x, "block7", octaves=1, iterations=4, step=0.02, jitter=0, seed=0,
                            guide=guide))[-1][1]
    with torch.no_grad():
        g = model.features(guide, upto=7)["block7"]
        score = lambda img: float(dd.guided_objective(model.features(img, upto=7)["block7"], g))  # noqa: E731
    assert score(out) > score(x)


def test_octave_sizes_and_zoom():
    assert dd.octave_sizes(300, 200, 3, 2.0) == [(75, 50), (150, 100), (300, 200)]
    assert dd.octave_sizes(40, 40, 3, 2.0)[0] == (32, 32)  # never below 32 px
    x = torch.rand(1, 3, 40, 60)
    assert dd.zoom_in(x, 1.05).shape == x.shape


def test_amplified_channels_and_classes(model, photo):
    from demos.i18n import language

    x = small(photo, 96)
    out = list(dd.deepdream(model, x, "head", octaves=1, iterations=3, step=0.02, jitter=0, seed=0))[-1][1]
    result = dd.amplified(model, x, out, "head")
    assert len(result["channels"]) == 5 and len(result["classes"]) == 5
    assert all(isinstance(i, int) and 0 <= i < 1000 for i, _ in result["classes"])
    assert [v for _, v in result["classes"]] == sorted((v for _, v in result["classes"]), reverse=True)
    assert len(dd.amplified(model, x, out, "block2")["classes"]) == 5  # for any layer: what the network now sees
    # the panel names the layer and the classes in the language of the event
    top = result["classes"][0][0]
    english = dd.panel_markdown(result, "head")
    assert dd.imagenet_classes("en")[top] in english and "head" in english
    with language("ja"):
        japanese = dd.panel_markdown(result, "head")
    assert dd.imagenet_classes("ja")[top] in japanese and "ヘッド" in japanese
    assert dd.imagenet_classes("en")[top] not in japanese


def test_imagenet_classes_in_both_languages():
    from demos.i18n import language

    english, japanese = dd.imagenet_classes("en"), dd.imagenet_classes("ja")
    assert len(english) == len(japanese) == 1000 and english[1] == "goldfish" and japanese[1] == "金魚"
    assert dd.imagenet_classes() == english  # outside any event: English
    with language("ja"):
        assert dd.imagenet_classes() == japanese


@pytest.fixture
def stand_in_classes(pretrained_root):
    """A weights folder with only the class names (two classes), checked by its SHA256SUMS like the real one."""
    from models.loading import write_checksums

    folder = pretrained_root / dd.SLUG
    folder.mkdir()
    (folder / "imagenet_classes.json").write_text(json.dumps(["tench", "goldfish"]))
    (folder / "imagenet_classes.ja.json").write_text(json.dumps(["テンチ", "金魚"], ensure_ascii=False))
    write_checksums(folder)
    return folder


def test_class_names_come_from_the_language_s_file(stand_in_classes):
    from demos.kit import clear_caches

    assert dd.imagenet_classes("ja") == ["テンチ", "金魚"] and dd.imagenet_classes("en") == ["tench", "goldfish"]
    (stand_in_classes / "imagenet_classes.ja.json").write_text(json.dumps(["改ざん", "金魚"], ensure_ascii=False))
    clear_caches()  # a file that does not match SHA256SUMS is not read: English names instead
    assert dd.imagenet_classes("ja") == ["tench", "goldfish"]
    (stand_in_classes / "imagenet_classes.ja.json").unlink()
    clear_caches()  # a copy of the weights made before the Japanese names: English names too
    assert dd.imagenet_classes("ja") == ["tench", "goldfish"]


def test_handler_streams_each_octave_then_the_panel(photo):
    outs = list(dd.deepdream_run(photo, "block2", "l2", 64, 2, 1.4, 2, 0.02, 4, 0))
    assert len(outs) == 3  # two octaves, then the final result with the panel
    assert all(isinstance(o["dream"], PIL.Image.Image) for o in outs)
    assert outs[-1]["dream"].size == (64, 43) and "#" in outs[-1]["panel"]


@pytest.mark.parametrize("args", [
    (None, "block2", "l2", 64, 2, 1.4, 2, 0.02, 4, 0),
    ("PHOTO", "block99", "l2", 64, 2, 1.4, 2, 0.02, 4, 0),
    ("PHOTO", "block2", "cubes", 64, 2, 1.4, 2, 0.02, 4, 0),
    ("PHOTO", "block2", "l2", 64, 60, 1.4, 2, 0.02, 4, 0),
    ("PHOTO", "block2", "l2", 9000, 2, 1.4, 2, 0.02, 4, 0),
    ("PHOTO", "block2", "l2", 64, 2, 1.4, 2, float("nan"), 4, 0),
    ("PHOTO", "block2", "l2", 64, 2, 1.4, 2, 0.02, 4, -5),
])
def test_bad_settings_are_clear_errors(photo, args):
    args = tuple(photo if a == "PHOTO" else a for a in args)
    with pytest.raises(gr.Error):
        list(dd.deepdream_run(*args))


def test_huge_and_odd_photos(monkeypatch):
    notices = []
    monkeypatch.setattr(gr, "Warning", lambda msg, *a, **k: notices.append(msg))
    huge = PIL.Image.new("RGB", (3000, 2000), "gray")
    out = list(dd.deepdream_run(huge, "block2", "l2", 64, 1, 1.4, 1, 0.02, 0, 0))[-1]["dream"]
    assert out.size == (64, 43) and notices and "3000" in notices[0]
    for odd in (PIL.Image.new("RGBA", (80, 80), (255, 0, 0, 0)), PIL.Image.new("I;16", (80, 80), 40000),
                PIL.Image.new("CMYK", (80, 80)), PIL.Image.new("P", (80, 80)), PIL.Image.new("LA", (80, 80))):
        assert list(dd.deepdream_run(odd, "block2", "l2", 64, 1, 1.4, 1, 0.02, 0, 0))[-1]["dream"].size == (64, 64)
    with pytest.raises(gr.Error):
        list(dd.deepdream_run(PIL.Image.new("RGB", (3, 3)), "block2", "l2", 64, 1, 1.4, 1, 0.02, 0, 0))


def test_zoom_animation_is_a_gif(photo):
    outs = list(dd.deepdream_zoom(photo, "block2", "mean_square", 64, 3, 1, 0.02, 0, 0))
    assert len(outs) == 4 and outs[-1]["file"].endswith(".gif")
    assert all(isinstance(o["frame"], PIL.Image.Image) for o in outs[:-1])
    assert outs[-1]["frame"] == outs[-1]["file"]  # at the end the image shows the animation itself: it plays
    with PIL.Image.open(outs[-1]["file"]) as gif:
        assert gif.n_frames == 3


def test_first_view_is_a_dream_computed_once(monkeypatch):
    """The tab opens on the example photo dreamed with a share link's settings (small here), computed once however
    many students open it, with its texts in each student's language."""
    from demos.i18n import language
    from demos.kit import clear_caches
    from tests.test_ae import LinkRequest

    clear_caches()
    dreams = []
    real_deepdream = dd.deepdream

    def counted(*args, **kwargs):
        dreams.append(args[2])  # the layer
        yield from real_deepdream(*args, **kwargs)

    monkeypatch.setattr(dd, "deepdream", counted)
    link = LinkRequest(layer="head", resolution="64", octaves="1", iterations="1")
    first = dd.open_tab(link)
    assert first["photo"] == str(dd.FIRST_PHOTO) and first["layer"] == "head"
    assert isinstance(first["dream"], PIL.Image.Image) and first["dream"].size == (64, 64)  # the astronaut: square
    assert first["progress"] == "Done: 64×64 px." and "#" in first["panel"]
    with language("ja"):
        again = dd.open_tab(link)
    assert dreams == ["head"]  # the second student got the first one's dream
    assert again["dream"].tobytes() == first["dream"].tobytes()
    assert again["progress"] == "完了：64×64 px。" and "ヘッド" in again["panel"]
    # pressing the button with the same settings gives the same picture
    with PIL.Image.open(dd.FIRST_PHOTO) as img:
        pressed = list(dd.deepdream_run(img.convert("RGB"), *[first[name] for name in dd.API_SETTINGS], None,
                                        first["targets"]))[-1]
    assert pressed["dream"].tobytes() == first["dream"].tobytes()
    clear_caches()


def test_api_of_the_tab_alone():
    from gradio_client import Client, handle_file

    from demos.i18n import make_i18n
    from demos.kit import Page

    demo = dd.create_demo(Page(dd.TAB))
    demo.launch(prevent_thread_lock=True, quiet=True, i18n=make_i18n([dd.TAB]), max_file_size="10mb")
    try:
        client = Client(demo.local_url, verbose=False, download_files=False)
        # the arguments of the api before the presets (no targets) still work
        image, progress, panel = client.predict(handle_file(str(PHOTO)), "block4", "mean_square", 64, 2, 1.4, 2,
                                                0.02, 4, 3, None, api_name="/deepdream")
        assert image and "#" in panel
        # a preset's settings, with its targets (the new last argument)
        p = dd.PRESETS["faces"]
        image, progress, panel = client.predict(handle_file(str(PHOTO)), p["layer"], p["objective"], 64, 1,
                                                p["octave_scale"], 1, p["step"], p["jitter"], 3, None, p["targets"],
                                                api_name="/deepdream")
        assert image and "#" in panel
        with pytest.raises(Exception):
            client.predict(handle_file(str(PHOTO)), "block4", "mean_square", 64, 2, 1.4, 2, 5.0, 4, 3, None,
                           api_name="/deepdream")
    finally:
        demo.close()


def test_share_link_round_trip(monkeypatch):
    from urllib.parse import parse_qsl

    from tests.test_ae import LinkRequest

    monkeypatch.setattr(dd, "first_view", lambda settings: {})  # the settings only (the dream: the test above)

    def opened(query):
        restored = dd.open_tab(LinkRequest(**dict(parse_qsl(query[1:]))))
        return [restored[name] for name in dd.SETTINGS]

    query = dd.deepdream_share_query("block13", "l2", 256, 4, 1.5, 12, 0.03, 8, 77)
    assert query.startswith("?tab=deepdream&")
    assert opened(query) == ["block13", "l2", 256, 4, 1.5, 12, 0.03, 8, 77, "", "custom"]
    query = dd.deepdream_share_query("block13", "channels", 256, 4, 1.5, 12, 0.03, 8, 77, "5, 7-9")
    assert opened(query) == ["block13", "channels", 256, 4, 1.5, 12, 0.03, 8, 77, "5, 7-9", "custom"]
    # a mistyped link opens the tab with the defaults instead of failing (no preset in it: Custom's)
    broken = dd.open_tab(LinkRequest(layer="block99", resolution="huge", step="-1", seed="x"))
    assert [broken[name] for name in dd.SETTINGS] == [
        dd.CUSTOM["layer"], "mean_square", *[dd.LIMITS[n][2] for n, _c in dd.SHARED_NUMBERS], 0, "", "custom"]
    # channels that the layer does not have: its plain mean of squares instead
    wrong = dd.open_tab(LinkRequest(layer="block2", objective="channels", targets="500"))
    assert (wrong["objective"], wrong["targets"]) == ("mean_square", "")
    # links handed out before the tab was renamed (?tab=dd&...) still open it
    assert dd.TAB.opens_on("dd") and dd.TAB.opens_on("deepdream")


def test_share_link_carries_the_preset(monkeypatch):
    """A link made with a preset reopens on it; a bare link opens on the default preset; a link (or a student) that
    changes a setting of the preset makes it Custom; a link made before the presets is a Custom one."""
    from urllib.parse import parse_qsl

    from tests.test_ae import LinkRequest

    monkeypatch.setattr(dd, "first_view", lambda settings: {})
    for name, p in dd.PRESETS.items():
        query = dd.deepdream_share_query(p["layer"], p["objective"], 512, p["octaves"], p["octave_scale"],
                                         p["iterations"], p["step"], p["jitter"], 3, p["targets"], name)
        assert f"preset={name}" in query
        restored = dd.open_tab(LinkRequest(**dict(parse_qsl(query[1:]))))
        assert restored["preset"] == name and {k: restored[k] for k in p} == p and restored["seed"] == 3
    bare = dd.open_tab(LinkRequest())
    assert bare["preset"] == dd.DEFAULT_PRESET
    assert {k: bare[k] for k in dd.PRESETS[dd.DEFAULT_PRESET]} == dd.PRESETS[dd.DEFAULT_PRESET]
    short = dd.open_tab(LinkRequest(preset="buildings", seed="5"))  # the rest from the preset
    assert short["preset"] == "buildings" and short["layer"] == dd.PRESETS["buildings"]["layer"] and short["seed"] == 5
    changed = dd.open_tab(LinkRequest(preset="buildings", step="0.05"))
    assert changed["preset"] == "custom" and changed["step"] == 0.05
    old = dd.open_tab(LinkRequest(layer="block13", octaves="4", seed="7"))  # as in the README, before the presets
    assert (old["preset"], old["layer"], old["objective"], old["octaves"], old["seed"]) == (
        "custom", "block13", "mean_square", 4, 7)
    assert dd.open_tab(LinkRequest(preset="dragons"))["preset"] == dd.DEFAULT_PRESET


def test_presets_set_the_controls_and_the_default_is_the_best_one():
    for name, p in dd.PRESETS.items():
        assert dd.preset_values(name) == p
        assert p["layer"] in dd.LAYERS and p["objective"] in dd.OBJECTIVES
        for key in ("octaves", "octave_scale", "iterations", "step", "jitter"):
            assert dd.LIMITS[key][0] <= p[key] <= dd.LIMITS[key][1]
        assert dd.TAB.text(f"preset_{name}", lang="ja") != dd.TAB.text(f"preset_{name}", lang="en")
    assert dd.preset_values("custom") == {}  # Custom keeps whatever is set
    assert dd.LIMITS["resolution"][2] >= 512 and dd.DEFAULT_PRESET == "faces"
    default = dd.PRESETS[dd.DEFAULT_PRESET]  # the sliders open on the default preset
    assert all(dd.LIMITS[k][2] == default[k] for k in ("octaves", "octave_scale", "iterations", "step", "jitter"))


@pytest.mark.parametrize("name", list(dd.PRESETS))
def test_each_preset_grows_its_own_objective(model, photo, name):
    p = dd.PRESETS[name]
    targets = dd.parse_targets(p["targets"], 999) if p["targets"] else []
    x = small(photo, 96)
    steps = dd.deepdream(model, x, p["layer"], octaves=2, octave_scale=p["octave_scale"], iterations=3, step=p["step"],
                         jitter=p["jitter"], seed=0, objective=p["objective"], targets=targets)
    out = list(steps)[-1][1]
    upto, objective = dd.make_objective(model, p["layer"], p["objective"], targets)
    with torch.no_grad():
        before, after = (float(objective(model.features(img, upto=upto))) for img in (x, out))
    assert after > before * 1.2


def test_a_classes_objective_raises_those_classes(model, photo):
    dogs = dd.parse_targets("151-268", 999)
    x = small(photo, 96)
    out = list(dd.deepdream(model, x, "head", octaves=1, iterations=4, step=0.02, jitter=4, seed=0,
                            objective="classes", targets=dogs))[-1][1]
    with torch.no_grad():
        before, after = model(x)[0], model(out)[0]
    assert after[dogs].mean() > before[dogs].mean() + 1
    assert after[dogs].mean() - after.mean() > before[dogs].mean() - before.mean() + 1  # more than the others
    # through the handler too, with the classes named in the panel
    panel = list(dd.deepdream_run(photo, "head", "classes", 64, 1, 1.4, 2, 0.02, 4, 0, None, "281-285"))[-1]["panel"]
    assert "ImageNet classes" in panel


def test_targets_are_read_and_checked(photo):
    assert dd.parse_targets("84, 63", 111) == [84, 63]
    assert dd.parse_targets("151-153,281、5, 5", 999) == [151, 152, 153, 281, 5]
    for bad in ("", "dogs", "3-1", "112", "-4", "1,,x", "9" * 2000):
        with pytest.raises(gr.Error):
            dd.parse_targets(bad, 111)
    with pytest.raises(gr.Error):  # block 4 has 40 channels
        list(dd.deepdream_run(photo, "block4", "channels", 64, 1, 1.4, 1, 0.02, 0, 0, None, "40"))
    # the objectives of the whole layer ignore them
    assert list(dd.deepdream_run(photo, "block4", "l2", 64, 1, 1.4, 1, 0.02, 0, 0, None, "nonsense"))[-1]["dream"]
    # all 1,000 classes: the objective is 0 whatever the photo (said, not dreamed)
    logits = torch.randn(2, 1000)
    assert abs(float(dd.class_objective(logits, range(1000)))) < 1e-6
    with pytest.raises(gr.Error, match="1,000 classes"):
        list(dd.deepdream_run(photo, "block4", "classes", 64, 1, 1.4, 1, 0.02, 0, 0, None, "0-999"))
    with pytest.raises(gr.Error, match="1,000 classes"):
        list(dd.deepdream_run(photo, "block4", "classes", 64, 1, 1.4, 1, 0.02, 0, 0, None, "500-999, 0-499"))


def test_laplacian_normalisation_weighs_every_scale_alike():
    """White noise has most of its energy in the finest band; after ``lap_normalize`` the coarse bands weigh as
    much, so a blurred copy keeps a much larger share of it."""
    g = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    smooth = dd.lap_normalize(g, 4)
    assert smooth.shape == g.shape and torch.isfinite(smooth).all()

    def coarse_share(t):
        blurred = dd._blur_half(dd._blur_half(t))
        return float(blurred.pow(2).mean() / t.pow(2).mean())

    assert coarse_share(smooth) > 5 * coarse_share(g)
    assert torch.equal(dd.lap_normalize(torch.zeros(1, 3, 4, 4), 4), torch.zeros(1, 3, 4, 4))


def test_a_dream_gives_way_to_other_heavy_jobs_after_every_step(photo, monkeypatch):
    """In the shared heavy queue a long dream lets a waiting job compute between two ascent steps when its turn is
    over (demos/turns.py), so no dream holds the queue for long."""
    calls = []
    monkeypatch.setattr(dd, "give_way", lambda: calls.append(1))
    list(dd.deepdream_run(photo, "block2", "l2", 64, 2, 1.4, 3, 0.02, 4, 0))
    assert len(calls) == 2 * 3  # octaves × iterations
