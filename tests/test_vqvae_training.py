"""The VQ-VAE and its prior (models/vqvae.py) on tiny models, and the --dry-run of both training scripts."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from models.loading import clear_cache, load_pretrained, write_checksums
from models.vqvae import GRID, VQVAE, CodePrior, VectorQuantizerEMA, perplexity
from training import train_vqvae, train_vqvae_prior

TINY_VQVAE = dict(codebook_size=8, embedding_dim=4, channels=8)
TINY_PRIOR = dict(codebook_size=8, d_model=16, layers=2, heads=2, dropout=0.0)


@pytest.fixture(autouse=True)
def keep_torch_threads():
    """The scripts' main() sets torch's thread count (--threads); give the other tests theirs back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def tiny_quantizer(codebook, count: float = 100.0) -> VectorQuantizerEMA:
    """A quantizer (decay 0.9) whose codes are ``codebook`` (K, D), each as if chosen ``count`` times per batch."""
    q = VectorQuantizerEMA(codebook.shape[0], codebook.shape[1], decay=0.9, dead_threshold=0.1)
    q.codebook.copy_(codebook)
    q.cluster_size.fill_(count)
    q.embed_sum.copy_(codebook * count)
    return q


def as_grid(vectors: torch.Tensor) -> torch.Tensor:
    """(N, D) vectors → (N, D, 1, 1), the layout the quantizer takes (B, D, H, W)."""
    return vectors[:, :, None, None]


# --- the training scripts --------------------------------------------------------------------------------------


def test_train_vqvae_dry_run_checkpoint_resume_and_eval_only(tmp_path):
    out, ckpt = tmp_path / "vqvae-mnist", tmp_path / "ckpt"
    tiny = ["--codebook-size", "8", "--embedding-dim", "4", "--channels", "8", "--threads", "1"]
    r = train_vqvae.main(train_vqvae.parse_args(
        ["--dry-run", "--output-dir", str(out), "--checkpoint-dir", str(ckpt), *tiny]))
    assert json.loads((out / "config.json").read_text()) == {
        "codebook_size": 8, "embedding_dim": 4, "channels": 8, "beta": 0.25, "decay": 0.99, "dead_threshold": 0.1}
    model = VQVAE.from_pretrained(out, strict=True)
    usage = load_file(str(out / train_vqvae.USAGE_FILE))["test_counts"]
    assert usage.shape == (8,) and int(usage.sum()) == 200 * GRID * GRID          # every cell of the 200 fake digits
    assert 1.0 <= r["perplexity"] <= 8.0 and r["codes_used"] == int((usage > 0).sum())
    card = (out / "README.md").read_text()
    assert "train_vqvae.py" in card and "PSNR" in card and "perplexity" in card and "MNIST" in card
    assert "codebook_usage.safetensors" in (out / "SHA256SUMS").read_text()
    assert json.loads((ckpt / "checkpoint.json").read_text())["step"] == 3
    # the checkpoint holds the codebook's EMA statistics too
    assert torch.equal(load_file(str(ckpt / "checkpoint.safetensors"))["model.quantizer.codebook"], model.codebook)
    # resume: continues from step 3 (the dry run stops at 3 steps, so it saves again at once)
    train_vqvae.main(train_vqvae.parse_args(["--dry-run", "--output-dir", str(tmp_path / "again"), "--checkpoint-dir",
                                             str(tmp_path / "c2"), "--resume", str(ckpt), *tiny]))
    assert json.loads((tmp_path / "c2" / "checkpoint.json").read_text())["step"] == 3
    again = train_vqvae.main(train_vqvae.parse_args(["--dry-run", "--eval-only", "--output-dir", str(out)]))
    assert again["psnr"] == pytest.approx(r["psnr"])


def test_train_vqvae_prior_dry_run_and_eval_only(tmp_path):
    vq = tmp_path / "vqvae-mnist"
    train_vqvae.main(train_vqvae.parse_args(
        ["--dry-run", "--output-dir", str(vq), "--checkpoint-dir", str(tmp_path / "vq-ckpt"), "--codebook-size", "8",
         "--embedding-dim", "4", "--channels", "8", "--threads", "1"]))
    out = tmp_path / "vqvae-mnist-prior"
    common = ["--dry-run", "--vqvae-dir", str(vq), "--output-dir", str(out), "--threads", "1"]
    r = train_vqvae_prior.main(train_vqvae_prior.parse_args(
        [*common, "--checkpoint-dir", str(tmp_path / "ckpt"), "--d-model", "16", "--layers", "1", "--heads", "2"]))
    prior = CodePrior.from_pretrained(out, strict=True)
    assert prior.codebook_size == 8 and json.loads((out / "config.json").read_text())["d_model"] == 16
    assert torch.allclose(prior.class_freq.sum(), torch.tensor(1.0)) and prior.class_freq.shape == (10,)  # p(y)
    assert (out / "samples.png").is_file() and (out / "samples_by_class.png").is_file()
    card = (out / "README.md").read_text()
    from models.loading import sha256_of
    assert "train_vqvae_prior.py" in card and sha256_of(vq / "model.safetensors") in card and "16 digits" in card
    assert len(r["rows"]) == 5 and 0 <= r["class_match"] <= 1 and r["seconds_16"] > 0
    for j in r["rows"].values():
        assert 0 <= j["confident_share"] <= 1 and abs(sum(j["class_shares"]) - 1) < 1e-3
    assert 0 < r["bits_conditional"] and 0 < r["bits_unconditional"]
    again = train_vqvae_prior.main(train_vqvae_prior.parse_args([*common, "--eval-only"]))
    assert again["bits_conditional"] == pytest.approx(r["bits_conditional"])


# --- the VQ-VAE ------------------------------------------------------------------------------------------------


def test_shapes_and_value_ranges():
    torch.manual_seed(0)
    model = VQVAE(**TINY_VQVAE).eval()
    x = torch.rand(3, 1, 28, 28)
    codes = model.encode(x)
    assert codes.shape == (3, GRID, GRID) and codes.dtype == torch.long and 0 <= codes.min() and codes.max() < 8
    digits = model.decode_codes(codes)
    assert digits.shape == (3, 1, 28, 28) and 0 <= digits.min() and digits.max() <= 1
    assert torch.equal(model.reconstruct(x), digits)
    out = model(x)
    assert out.logits.shape == (3, 1, 28, 28) and torch.equal(out.indices, codes)
    assert out.commitment.shape == (3,) and torch.allclose(out.commitment, model.beta * out.codebook)


def test_straight_through_gradient_reaches_the_encoder():
    # The quantizer passes the gradient of z_q on to z_e unchanged ...
    q = tiny_quantizer(torch.eye(4)).eval()
    z_e = torch.randn(5, 4, 1, 1, requires_grad=True)
    z, *_ = q(z_e)
    weight = torch.randn_like(z)
    (z * weight).sum().backward()
    assert torch.equal(z_e.grad, weight)
    # ... so the reconstruction loss alone trains the encoder, through the argmin.
    torch.manual_seed(0)
    model = VQVAE(**TINY_VQVAE)
    x = torch.rand(4, 1, 28, 28)
    out = model(x)
    torch.nn.functional.binary_cross_entropy_with_logits(out.logits, x).backward()
    first_conv = model.encoder[0].weight.grad
    assert first_conv is not None and first_conv.abs().sum() > 0


def test_ema_update_moves_codes_toward_their_encoder_outputs():
    codebook = torch.tensor([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    q = tiny_quantizer(codebook, count=1.0).train()
    target = torch.tensor([1.0, -1.0])
    z_e = as_grid(target + 0.1 * torch.randn(50, 2))                   # all nearest to code 0
    _, indices, *_ = q(z_e)
    assert (indices == 0).all()
    # one step: e_0 = (0.9·1·e_0 + 0.1·Σ z) / (0.9·1 + 0.1·50), i.e. 85 % of the way to the mean of its 50 vectors
    assert (q.codebook[0] - target).norm() < 0.2 * (codebook[0] - target).norm()
    assert torch.allclose(q.codebook[1:], codebook[1:], atol=1e-3)       # the others stay (nothing chose them)
    q.dead_threshold = 0.0                 # (no restarts of the unused codes 1 and 2, which would share the vectors)
    for _ in range(200):                                                 # in the long run it reaches the mean
        q(z_e)
    assert torch.allclose(q.codebook[0], z_e.mean((0, 2, 3)), atol=1e-2)
    q.eval()                                                             # no update outside training
    frozen = q.codebook.clone()
    q(as_grid(torch.randn(10, 2)))
    assert torch.equal(q.codebook, frozen)


def test_dead_codes_are_restarted_at_badly_served_encoder_outputs():
    codebook = torch.tensor([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    q = tiny_quantizer(codebook).train()
    q.cluster_size[2] = 0.0                                              # code 2: nothing chooses it any more
    far = torch.tensor([[20.0, -20.0]])
    z_e = as_grid(torch.cat([torch.zeros(30, 2), far]))                 # 30 vectors exactly on code 0, one far away
    q(z_e)
    assert torch.equal(q.codebook[2], far[0])                            # restarted at the worst-served vector
    assert q.cluster_size[2] == 1.0 and torch.equal(q.embed_sum[2], far[0])
    assert torch.allclose(q.codebook[1], codebook[1])                    # alive codes are not restarted
    # a freshly made quantizer restarts every unused code at the first training batch (data-dependent init)
    fresh = VectorQuantizerEMA(4, 2).train()
    data = torch.randn(64, 2)
    assert fresh.restart_dead_codes(data) == 4
    assert all((data == c).all(1).any() for c in fresh.codebook)


def test_perplexity():
    assert perplexity(torch.tensor([5, 5, 5, 5])) == pytest.approx(4.0)
    assert perplexity(torch.tensor([9, 0, 0])) == pytest.approx(1.0)


# --- the prior -------------------------------------------------------------------------------------------------


def test_prior_output_at_a_cell_does_not_depend_on_that_cell_or_later_ones():
    torch.manual_seed(0)
    prior = CodePrior(**TINY_PRIOR).eval()
    for p in prior.parameters():                                         # bigger weights: clearer dependences
        p.data.normal_(0, 0.3)
    codes = torch.randint(0, 8, (2, GRID * GRID))
    labels = torch.tensor([3, prior.no_class])
    base = prior(codes, labels)
    assert base.shape == (2, GRID * GRID, 8)
    for j in (0, 10, 24, 48):
        changed = codes.clone()
        changed[:, j] = (changed[:, j] + 1) % 8
        logits = prior(changed, labels)
        assert torch.allclose(logits[:, :j + 1], base[:, :j + 1], atol=1e-5), j   # outputs for cells 0 … j
        if j < 48:
            assert not torch.allclose(logits[:, j + 1], base[:, j + 1], atol=1e-4), j  # cell j + 1 sees cell j
    other_class = prior(codes, torch.tensor([4, 5]))
    assert not torch.allclose(other_class[:, 0], base[:, 0], atol=1e-4)    # the class reaches the first cell


def test_prior_sampling_step_by_step_matches_the_full_forward_pass():
    torch.manual_seed(0)
    prior = CodePrior(**TINY_PRIOR).eval()
    for p in prior.parameters():
        p.data.normal_(0, 0.3)
    steps = list(prior.sample_steps(3, temperature=0.0, label=torch.tensor([1, 2, prior.no_class])))
    assert [i for _, i in steps] == list(range(GRID * GRID))
    codes, _ = steps[-1]
    assert codes.shape == (3, GRID, GRID) and codes.min() >= 0
    first, _ = steps[0]
    assert (first.flatten(1)[:, 1:] == -1).all() and (first.flatten(1)[:, 0] >= 0).all()
    # greedy sampling with the KV cache = the argmax of the teacher-forced forward pass at every cell
    logits = prior(codes, torch.tensor([1, 2, prior.no_class]))
    assert torch.equal(logits.argmax(-1), codes.flatten(1))
    # seeded sampling is reproducible; conditional and unconditional both work
    g = lambda: torch.Generator().manual_seed(7)  # noqa: E731
    assert torch.equal(prior.sample(4, 1.0, g()), prior.sample(4, 1.0, g()))
    assert prior.sample(4, 0.7, g(), label=3).shape == (4, GRID, GRID)
    # two-stage unconditional sampling: y ~ p(y) (the stored class frequencies), then the codes given y
    prior.class_freq.copy_(torch.tensor([0.0, 0.0, 1.0] + [0.0] * 7))
    assert (prior.random_labels(5, g()) == 2).all()
    assert prior.sample(5, 1.0, g(), label=prior.random_labels(5, g())).shape == (5, GRID, GRID)


# --- saving and loading ----------------------------------------------------------------------------------------


def test_save_and_load_round_trip_is_strict(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = VQVAE(**TINY_VQVAE).train()
    model(torch.rand(16, 1, 28, 28))                                     # the codebook buffers change
    model.eval()
    prior = CodePrior(**TINY_PRIOR).eval()
    model.save_pretrained(tmp_path / "vqvae-mnist")
    prior.save_pretrained(tmp_path / "vqvae-mnist-prior")
    for slug in ("vqvae-mnist", "vqvae-mnist-prior"):
        write_checksums(tmp_path / slug)

    monkeypatch.setenv("GALLERY_PRETRAINED_DIR", str(tmp_path))
    clear_cache()
    try:
        loaded, loaded_prior = load_pretrained(VQVAE, "vqvae-mnist"), load_pretrained(CodePrior, "vqvae-mnist-prior")
    finally:
        clear_cache()
    for a, b in ((model, loaded), (prior, loaded_prior)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert "quantizer.cluster_size" in loaded.state_dict()                # the EMA state travels with the weights
    x = torch.rand(2, 1, 28, 28)
    assert torch.equal(loaded.encode(x), model.encode(x))

    # strict: a weights file that lacks a tensor (here the codebook) is refused
    folder = tmp_path / "broken"
    model.save_pretrained(folder)
    tensors = load_file(str(folder / "model.safetensors"))
    del tensors["quantizer.codebook"]
    save_file(tensors, str(folder / "model.safetensors"))
    with pytest.raises(RuntimeError, match="codebook"):
        VQVAE.from_pretrained(folder, strict=True)
