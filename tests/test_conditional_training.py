"""The conditional generators (models/conditional.py), their training scripts' --dry-run and --resume, the evaluation's
--dry-run, and (when they are committed) the shipped weights."""

import json

import pytest
import torch
from safetensors.torch import load_file

from models.conditional import (
    ACGANDiscriminator,
    ConditionalDiscriminator,
    ConditionalGenerator,
    ConditionalVAE,
    one_hot,
    z_batch,
)
from tests.conftest import ROOT
from training import evaluate_conditional, train_acgan, train_cgan, train_cvae

PRETRAINED = ROOT / "pretrained"


@pytest.fixture(autouse=True)
def keep_torch_threads():
    """The scripts' main() sets torch's thread count (--threads); give the other tests theirs back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def mixture(a: int, b: int, t: float, n: int = 1) -> torch.Tensor:
    """(n, 10): (1 − t)·one_hot(a) + t·one_hot(b), what the app's slider between two labels gives."""
    return ((1 - t) * one_hot(torch.tensor([a])) + t * one_hot(torch.tensor([b]))).expand(n, 10)


# --- the models ------------------------------------------------------------------------------------------------


def test_z_batch_and_one_hot():
    assert torch.equal(z_batch(3, 5, 8), z_batch(3, 5, 8)) and z_batch(3, 5, 8).shape == (5, 8)
    assert not torch.equal(z_batch(3, 5, 8), z_batch(4, 5, 8))
    y = one_hot(torch.tensor([0, 9, 3]))
    assert y.dtype == torch.float32 and y.shape == (3, 10) and torch.equal(y.argmax(1), torch.tensor([0, 9, 3]))


def test_generator_takes_one_hot_and_soft_labels(tmp_path):
    torch.manual_seed(0)
    g = ConditionalGenerator(nz=8, channels=4).eval()
    z = z_batch(0, 3, g.nz)
    out = {t: g(z, mixture(1, 7, t, 3)) for t in (0.0, 0.5, 1.0)}
    for x in out.values():
        assert x.shape == (3, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert torch.allclose(out[0.0], g(z, one_hot(torch.tensor([1, 1, 1]))))
    assert not torch.allclose(out[0.5], out[0.0]) and not torch.allclose(out[0.5], out[1.0])
    g.save_pretrained(tmp_path / "g")
    assert json.loads((tmp_path / "g" / "config.json").read_text()) == {"nz": 8, "channels": 4, "num_classes": 10}
    again = ConditionalGenerator.from_pretrained(tmp_path / "g", strict=True).eval()
    assert torch.equal(again(z, mixture(1, 7, 0.5, 3)), out[0.5])


def test_discriminators():
    torch.manual_seed(0)
    x, y = torch.rand(4, 1, 28, 28), mixture(2, 5, 0.3, 4)
    logits = ConditionalDiscriminator(channels=4).eval()(x, y)
    assert logits.shape == (4,)
    real_logit, class_logits = ACGANDiscriminator(channels=4).eval()(x)
    assert real_logit.shape == (4,) and class_logits.shape == (4, 10)


def test_cvae_interface():
    torch.manual_seed(0)
    m = ConditionalVAE(latent_dim=4, hidden=32).eval()
    x, y = torch.rand(5, 1, 28, 28), one_hot(torch.arange(5))
    mu, logvar = m.encode(x, y)
    assert mu.shape == logvar.shape == (5, 4)
    logits, mu2, _ = m(x, y, torch.Generator().manual_seed(0))
    assert logits.shape == (5, 1, 28, 28) and torch.equal(mu, mu2)
    digits = m.decode(z_batch(0, 5, m.latent_dim), mixture(3, 8, 0.5, 5))
    assert digits.shape == (5, 1, 28, 28) and 0 <= digits.min() and digits.max() <= 1


def test_within_class_diversity():
    feats = torch.tensor([[0.0, 0.0], [3.0, 4.0], [10.0, 10.0], [10.0, 12.0]])
    labels = torch.tensor([0, 0, 1, 1])
    assert evaluate_conditional.within_class_diversity(feats, labels) == pytest.approx((5.0 + 2.0) / 2)


# --- the training scripts and the evaluation -------------------------------------------------------------------


def test_train_cvae_dry_run_resume_and_eval_only(tmp_path):
    out, ckpt = tmp_path / "cvae-mnist", tmp_path / "ckpt"
    tiny = ["--latent-dim", "4", "--hidden", "32"]
    r = train_cvae.main(train_cvae.parse_args(["--dry-run", "--output-dir", str(out), "--checkpoint-dir", str(ckpt),
                                               *tiny]))
    assert json.loads((out / "config.json").read_text()) == {"latent_dim": 4, "hidden": 32, "num_classes": 10}
    ConditionalVAE.from_pretrained(out, strict=True)
    card = (out / "README.md").read_text()
    assert "train_cvae.py" in card and "class accuracy" in card and "ELBO" in card and "MNIST" in card
    assert "samples_by_class.png" in (out / "SHA256SUMS").read_text() and 0 <= r["class_accuracy"] <= 1
    assert json.loads((ckpt / "checkpoint.json").read_text())["step"] == 3
    train_cvae.main(train_cvae.parse_args(["--dry-run", "--output-dir", str(tmp_path / "again"), "--checkpoint-dir",
                                           str(tmp_path / "c2"), "--resume", str(ckpt), *tiny]))
    assert json.loads((tmp_path / "c2" / "checkpoint.json").read_text())["step"] == 3  # resumed at 3: nothing to do
    again = train_cvae.main(train_cvae.parse_args(["--dry-run", "--eval-only", "--output-dir", str(out)]))
    assert again["class_accuracy"] == pytest.approx(r["class_accuracy"])


def test_train_cgan_dry_run_and_resume(tmp_path):
    out, ckpt = tmp_path / "cgan-mnist", tmp_path / "ckpt"
    tiny = ["--nz", "8", "--channels", "4"]
    train_cgan.main(train_cgan.parse_args(["--dry-run", "--output-dir", str(out), "--checkpoint-dir", str(ckpt),
                                           *tiny]))
    g = ConditionalGenerator.from_pretrained(out, strict=True)
    assert g.nz == 8 and "train_cgan.py" in (out / "README.md").read_text()
    for part in ("generator", "discriminator"):
        assert json.loads((ckpt / part / "checkpoint.json").read_text())["step"] == 3
    assert (ckpt / "samples_latest.png").is_file()
    saved = load_file(str(ckpt / "discriminator" / "checkpoint.safetensors"))
    assert any(k.startswith("model.project") for k in saved)  # the projection discriminator D(x, y)
    train_cgan.main(train_cgan.parse_args(["--dry-run", "--output-dir", str(tmp_path / "again"), "--checkpoint-dir",
                                           str(tmp_path / "c2"), "--resume", str(ckpt), "--max-steps", "5", *tiny]))
    assert json.loads((tmp_path / "c2" / "generator" / "checkpoint.json").read_text())["step"] == 3


def test_train_acgan_dry_run_and_eval_only(tmp_path):
    out, d_out = tmp_path / "acgan-mnist", tmp_path / "acgan-mnist-discriminator"
    common = ["--dry-run", "--output-dir", str(out), "--discriminator-output-dir", str(d_out)]
    r = train_acgan.main(train_acgan.parse_args([*common, "--checkpoint-dir", str(tmp_path / "ckpt"), "--nz", "8",
                                                 "--channels", "4"]))
    ConditionalGenerator.from_pretrained(out, strict=True)
    d = ACGANDiscriminator.from_pretrained(d_out, strict=True)
    assert d.channels == 4 and (d_out / "SHA256SUMS").is_file()
    assert "train_acgan.py" in (d_out / "README.md").read_text()
    assert 0 <= r["p_real_on_real"] <= 1 and 0 <= r["test_class_accuracy"] <= 1
    again = train_acgan.main(train_acgan.parse_args([*common, "--eval-only"]))
    assert again["class_accuracy"] == pytest.approx(r["class_accuracy"])


def test_evaluate_conditional_dry_run(tmp_path):
    rows = evaluate_conditional.main(evaluate_conditional.parse_args(
        ["--dry-run", "--out-json", str(tmp_path / "eval.json")]))
    names = list(rows)
    assert [n.split(" ")[0] for n in names[:3]] == ["cgan-mnist", "acgan-mnist", "cvae-mnist"]
    assert any(n.startswith("real MNIST test digits") for n in names)
    for r in rows.values():
        assert {"class_accuracy", "confident_share", "frechet_distance", "diversity_ratio"} <= set(r)
    assert "rows" in json.loads((tmp_path / "eval.json").read_text())
    assert evaluate_conditional.table(rows).count("\n") == len(rows) + 1


# --- the committed weights -------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug,cls", [("cgan-mnist", ConditionalGenerator), ("acgan-mnist", ConditionalGenerator),
                                      ("acgan-mnist-discriminator", ACGANDiscriminator),
                                      ("cvae-mnist", ConditionalVAE)])
def test_committed_weights_load_strictly(slug, cls):
    from models.loading import load_pretrained

    if not (PRETRAINED / slug / "model.safetensors").is_file():
        pytest.skip(f"pretrained/{slug} is not here")
    model = load_pretrained(cls, slug)  # checks SHA256SUMS, strict=True
    assert model is not None
    if cls is ACGANDiscriminator:
        real_logit, class_logits = model(torch.rand(2, 1, 28, 28))
        assert real_logit.shape == (2,) and class_logits.shape == (2, 10)
    else:
        sample = evaluate_conditional.MODELS[slug.split("-")[0]][2]
        digits = sample(model.eval(), z_batch(0, 2, evaluate_conditional.nz_of(model)), mixture(4, 9, 0.5, 2))
        assert digits.shape == (2, 1, 28, 28) and 0 <= digits.min() and digits.max() <= 1
