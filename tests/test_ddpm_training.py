"""The DDPM and MNIST-classifier training scripts: --dry-run on fake data, checkpoint and resume, what they write."""

import json

from diffusers import DDPMPipeline

from models.ddpm import read_unet_pipeline
from models.loading import DIFFUSERS_UNET_LAYOUTS, verify_tree_checksums
from models.mnist_classifier import MnistClassifier
from training import train_ddpm, train_mnist_classifier


def test_train_ddpm_dry_run_checkpoint_and_resume(tmp_path):
    out, ckpt = tmp_path / "ddpm-mnist", tmp_path / "ckpt"
    common = ["--dry-run", "--device", "cpu", "--channels", "8,16", "--grid-samples", "4"]
    train_ddpm.main(train_ddpm.parse_args([*common, "--output-dir", str(out), "--checkpoint-dir", str(ckpt)]))
    assert json.loads((out / "model_index.json").read_text())["_class_name"] == "DDPMPipeline"
    assert (out / "unet" / "diffusion_pytorch_model.safetensors").is_file() and (out / "samples.png").is_file()
    sums = (out / "SHA256SUMS").read_text()
    assert "unet/diffusion_pytorch_model.safetensors" in sums and "scheduler/scheduler_config.json" in sums
    verify_tree_checksums("ddpm-mnist", out)
    card = (out / "README.md").read_text()
    assert "train_ddpm.py" in card and "MNIST" in card
    model = read_unet_pipeline(out, DIFFUSERS_UNET_LAYOUTS[0])
    assert tuple(model.unet.config.block_out_channels) == (8, 16)
    assert model.scheduler_config["num_train_timesteps"] == 1000 and model.scheduler_config["beta_end"] == 0.02
    DDPMPipeline.from_pretrained(str(out), use_safetensors=True)
    meta = json.loads((ckpt / "checkpoint.json").read_text())
    assert meta["step"] == 3 and (ckpt / "checkpoint.safetensors").is_file()
    assert list(ckpt.glob("samples_ddim50_step*.png")) and list(ckpt.glob("samples_ddpm1000_step*.png"))
    # resume: continues from step 3 (the dry run stops at 3 steps, so it saves again at once)
    out2 = tmp_path / "again"
    train_ddpm.main(train_ddpm.parse_args([*common, "--output-dir", str(out2), "--checkpoint-dir", str(tmp_path / "c2"),
                                           "--resume", str(ckpt)]))
    assert json.loads((tmp_path / "c2" / "checkpoint.json").read_text())["step"] == 3


def test_train_mnist_classifier_dry_run(tmp_path):
    out, ckpt = tmp_path / "mnist-classifier", tmp_path / "ckpt"
    train_mnist_classifier.main(train_mnist_classifier.parse_args(
        ["--dry-run", "--device", "cpu", "--output-dir", str(out), "--checkpoint-dir", str(ckpt), "--channels", "4",
         "--feature-dim", "16"]))
    model = MnistClassifier.from_pretrained(out, strict=True)
    assert json.loads((out / "config.json").read_text()) == {"channels": 4, "feature_dim": 16}
    assert "accuracy" in (out / "README.md").read_text()
    assert json.loads((ckpt / "checkpoint.json").read_text())["epoch"] == 1
    train_mnist_classifier.main(train_mnist_classifier.parse_args(
        ["--dry-run", "--device", "cpu", "--output-dir", str(out), "--resume", str(ckpt), "--channels", "4",
         "--feature-dim", "16"]))
    import torch
    probs, feats, labels = model.predict(torch.rand(3, 1, 28, 28))
    assert probs.shape == (3, 10) and feats.shape == (3, 16) and labels.shape == (3,)


def test_evaluate_ddpm_dry_run(tmp_path):
    from training import evaluate_ddpm

    rows = evaluate_ddpm.main(evaluate_ddpm.parse_args(["--dry-run", "--device", "cpu", "--grid-dir", str(tmp_path),
                                                       "--out-json", str(tmp_path / "eval.json")]))
    assert len(rows) == 4  # the real-data row and three samplers
    for r in rows.values():
        assert 0 <= r["confident_share"] <= 1 and abs(sum(r["class_shares"]) - 1) < 1e-3
        assert r["frechet_distance"] >= -1e-6
    assert len(list(tmp_path.glob("eval_*.png"))) == 3 and (tmp_path / "eval.json").is_file()
