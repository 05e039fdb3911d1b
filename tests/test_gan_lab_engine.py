"""The GAN lab engine (models/gan_lab.py): losses against hand computations, the measures on synthetic points,
reproducible runs, mid-run changes and what the tab draws. Tiny networks and few steps: the file runs in seconds."""

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from models.gan_lab import (
    ADAM_BETAS,
    DATASETS,
    LIMITS,
    LOSSES,
    METRIC_HISTORY,
    MLP,
    STEP_HISTORY,
    FlatOptimizer,
    LabRun,
    LabSettings,
    Mixture,
    count_modes,
    d_loss_fn,
    d_loss_grad,
    flatten_parameters,
    g_loss_fn,
    g_loss_grad,
    gradient_penalty,
    gradient_penalty_backward,
    half_width,
    js_divergence,
    modes_of,
    sample_noise,
    sample_real,
)

TINY = dict(hidden=8, layers=1, batch_size=16)  # a run small enough to train 30 steps in a blink


def log_sigmoid(t: float) -> float:
    return -math.log(1 + math.exp(-t))


def same(a, b) -> bool:
    """Equal as JSON (NaN equal to NaN): for histories and summaries."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def linear(weight, bias=0.0) -> nn.Linear:
    """A linear network with the given weight matrix (out, in) and bias: outputs we can work out by hand."""
    weight = torch.tensor(weight, dtype=torch.float32)
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.fill_(bias)
    return layer


# -- settings ------------------------------------------------------------------------------------------------------


def test_default_settings_come_from_limits_and_are_valid():
    settings = LabSettings()
    for name, (low, high, default) in LIMITS.items():
        assert getattr(settings, name) == default and low <= default <= high
    assert settings.checked() == settings


@pytest.mark.parametrize("change, field", [
    ({"loss": "hinge"}, "loss"), ({"dataset": "mnist"}, "dataset"), ({"optimizer": "lbfgs"}, "optimizer"),
    ({"noise": "poisson"}, "noise"), ({"lr_d": 10.0}, "lr_d"), ({"hidden": 4}, "hidden"),
    ({"batch_size": 64.5}, "batch_size"), ({"clip": math.nan}, "clip"), ({"layers": True}, "layers"),
])
def test_checked_names_the_bad_field(change, field):
    with pytest.raises(ValueError, match=field):
        LabSettings(**change).checked()


def test_checked_turns_whole_floats_into_ints():
    settings = LabSettings(hidden=32.0, clip=1).checked()  # what a slider may hand over
    assert settings.hidden == 32 and isinstance(settings.hidden, int) and isinstance(settings.clip, float)


# -- data ----------------------------------------------------------------------------------------------------------


def test_the_mixtures_of_the_papers():
    ring, grid = modes_of("ring"), modes_of("grid")
    assert ring.centers.shape == (8, 2) and ring.sigma == 0.02
    assert torch.allclose(ring.centers.norm(dim=1), torch.full((8,), 2.0))
    assert grid.centers.shape == (25, 2) and grid.sigma == 0.05
    assert sorted(set(grid.centers.flatten().tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert all(modes_of(name) is None for name in ("moons", "spiral", "drawn"))
    with pytest.raises(ValueError):
        modes_of("mnist")


@pytest.mark.parametrize("dataset", DATASETS)
def test_real_samples_fit_in_the_view(dataset):
    points = torch.tensor([[-1.0, 1.0], [1.0, -1.0]])
    x = sample_real(dataset, 1000, torch.Generator().manual_seed(0), points)
    assert x.shape == (1000, 2) and x.dtype == torch.float32
    assert x.abs().max() < half_width(dataset)


def test_drawn_points_are_resampled_and_needed():
    points = torch.tensor([[-1.0, 1.0], [1.0, -1.0]])
    x = sample_real("drawn", 500, torch.Generator().manual_seed(0), points)
    assert torch.cdist(x, points).min(dim=1).values.max() < 0.5  # a little jitter around the strokes
    for missing in (None, torch.zeros(0, 2)):
        with pytest.raises(ValueError):
            sample_real("drawn", 10, torch.Generator(), missing)
    with pytest.raises(ValueError):
        LabRun(LabSettings(dataset="drawn"))


def test_noise():
    g = torch.Generator().manual_seed(0)
    u = sample_noise("uniform", 10_000, 3, g)
    assert u.shape == (10_000, 3) and u.min() >= -1 and u.max() <= 1 and u.min() < -0.99 and u.max() > 0.99
    z = sample_noise("gaussian", 10_000, 2, g)
    assert abs(float(z.mean())) < 0.05 and abs(float(z.std()) - 1) < 0.05
    with pytest.raises(ValueError):
        sample_noise("poisson", 1, 1, g)


# -- losses --------------------------------------------------------------------------------------------------------


def test_losses_match_hand_computed_values():
    d_real, d_fake = torch.tensor([0.0, 2.0]), torch.tensor([-1.0, 1.0])
    # D's cross-entropy: -[mean log σ(d_real) + mean log(1 - σ(d_fake))], with log(1 - σ(t)) = log σ(-t)
    bce = -((log_sigmoid(0) + log_sigmoid(2)) / 2 + (log_sigmoid(1) + log_sigmoid(-1)) / 2)
    expected = {
        "saturating": (bce, (log_sigmoid(1) + log_sigmoid(-1)) / 2),  # G minimises mean log(1 - σ(d_fake))
        "nonsaturating": (bce, -(log_sigmoid(-1) + log_sigmoid(1)) / 2),  # G minimises -mean log σ(d_fake)
        "lsgan": (0.5 * (1 + 1) / 2 + 0.5 * (1 + 1) / 2, 0.5 * (4 + 0) / 2),
        "wgan": ((-1 + 1) / 2 - (0 + 2) / 2, -(-1 + 1) / 2),
        "wgan_gp": (-1.0, 0.0),  # the penalty is added in the D step, not by d_loss_fn
    }
    assert set(expected) == set(LOSSES)
    for loss, (d_value, g_value) in expected.items():
        assert float(d_loss_fn(loss, d_real, d_fake)) == pytest.approx(d_value, abs=1e-6), loss
        assert float(g_loss_fn(loss, d_fake)) == pytest.approx(g_value, abs=1e-6), loss
    with pytest.raises(ValueError):
        d_loss_fn("hinge", d_real, d_fake)


def test_losses_stay_finite_for_huge_logits():
    big = torch.tensor([200.0, -200.0])
    for loss in ("saturating", "nonsaturating"):
        assert math.isfinite(float(d_loss_fn(loss, big, -big))) and math.isfinite(float(g_loss_fn(loss, big)))
    # a confident D (fake logit -200): the saturating G loss is flat, the non-saturating one is not
    fake = torch.tensor([-200.0], requires_grad=True)
    (flat,) = torch.autograd.grad(g_loss_fn("saturating", fake), fake)
    (steep,) = torch.autograd.grad(g_loss_fn("nonsaturating", fake), fake)
    assert abs(float(flat)) < 1e-30 and float(steep) == pytest.approx(-1.0)


def test_gradient_penalty_of_a_linear_critic():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(64, 2, generator=g), torch.randn(64, 2, generator=g)
    critic = linear([[3.0, 4.0]])  # ∇D = w everywhere, ‖w‖ = 5
    penalty = gradient_penalty(critic, real, fake, g)
    assert float(penalty.detach()) == pytest.approx((5 - 1) ** 2)
    penalty.backward()  # differentiable in D's weights: d/dw (‖w‖ - 1)² = 2 (‖w‖ - 1) w / ‖w‖
    assert critic.weight.grad.flatten().tolist() == pytest.approx([2 * 4 * 3 / 5, 2 * 4 * 4 / 5])
    assert float(gradient_penalty(linear([[0.6, 0.8]]), real, fake, g).detach()) == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("loss", LOSSES)
def test_backpropagation_written_out_matches_autograd(loss, layers):
    """The training steps' own backward passes (MLP.backward, d_loss_grad, g_loss_grad, gradient_penalty_backward)
    give the gradients autograd gets from the loss definitions, the penalty's double backward included."""
    rng = torch.Generator().manual_seed(layers)
    G = MLP(3, 2, 16, layers, "relu", rng)
    D = MLP(2, 1, 16, layers, "leaky_relu", rng)
    for net in (G, D):
        for p in net.parameters():
            p.grad = torch.zeros_like(p)
    z, real = torch.randn(32, 3, generator=rng), torch.randn(32, 2, generator=rng)

    def grads(net):
        out = [p.grad.clone() for p in net.parameters()]
        for p in net.parameters():
            p.grad.zero_()
        return out

    # D's step: the loss on real and fake outputs, plus λ · the gradient penalty (the same ε from equal generators)
    fake = G(z).detach()
    same_eps = torch.Generator().manual_seed(5)
    reference = d_loss_fn(loss, D(real), D(fake)) + 0.7 * gradient_penalty(D, real, fake, same_eps)
    reference.backward()
    expected = grads(D)
    out, inputs, pre = D.forward_saving(torch.cat([real, fake]))
    D.backward(inputs, pre, torch.cat(d_loss_grad(loss, out[:32], out[32:])))
    penalty = gradient_penalty_backward(D, real, fake, torch.Generator().manual_seed(5), 0.7)
    assert float(d_loss_fn(loss, out[:32], out[32:])) + 0.7 * penalty == pytest.approx(float(reference), rel=1e-5)
    for got, want in zip(grads(D), expected):
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-6), loss

    # G's step: through D (whose gradients stay untouched) into G's weights
    g_loss_fn(loss, D(G(z))).backward(inputs=list(G.parameters()))
    expected = grads(G)
    fake, g_inputs, g_pre = G.forward_saving(z)
    out, d_inputs, d_pre = D.forward_saving(fake)
    G.backward(g_inputs, g_pre, D.backward(d_inputs, d_pre, g_loss_grad(loss, out), weights=False))
    for got, want in zip(grads(G), expected):
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-6), loss
    assert all(float(g.abs().max()) == 0 for g in grads(D))


# -- measures ------------------------------------------------------------------------------------------------------


def around(centers: torch.Tensor, counts, spread: float = 0.0) -> torch.Tensor:
    """counts[k] points at centre k, each moved by ``spread`` along x."""
    return torch.cat([centers[k] + torch.tensor([spread, 0.0]) for k, c in enumerate(counts) for _ in range(c)])


def test_count_modes():
    ring = modes_of("ring")
    every = count_modes(around(ring.centers, [100] * 8, spread=0.01), ring)
    assert (every.captured, every.total, every.per_mode) == (8, 8, [100] * 8)
    assert every.high_quality_share == pytest.approx(1.0)

    one = count_modes(around(ring.centers, [800] + [0] * 7), ring)
    assert one.captured == 1 and one.per_mode[0] == 800

    far = count_modes(torch.tensor([[0.0, 0.0], [10.0, 10.0], [2.5, 0.0]]), ring)  # 0.5 = 25σ from the nearest
    assert far.captured == 0 and far.high_quality_share == 0.0 and far.per_mode == [0] * 8


def test_count_modes_thresholds():
    ring = modes_of("ring")
    # N = 800, K = 8: a fair share is 100 samples, so a mode needs 10 (10 %) to count as captured
    assert count_modes(around(ring.centers, [791, 9] + [0] * 6), ring).captured == 1
    assert count_modes(around(ring.centers, [790, 10] + [0] * 6), ring).captured == 2
    assert count_modes(around(ring.centers, [799, 1] + [0] * 6), ring, min_fraction=0.0).captured == 2  # ≥ 1 sample
    # high quality: within 3σ of the centre
    assert count_modes(around(ring.centers, [1], spread=2.9 * 0.02), ring).high_quality_share == 1.0
    assert count_modes(around(ring.centers, [1], spread=3.1 * 0.02), ring).high_quality_share == 0.0
    custom = Mixture(torch.zeros(1, 2), sigma=1.0)
    assert count_modes(torch.tensor([[1.5, 0.0]]), custom, sigmas=1.0).captured == 0


def test_js_divergence():
    g = torch.Generator().manual_seed(0)
    points = torch.randn(500, 2, generator=g)
    assert js_divergence(points, points.flip(0), half_width=3.0) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence(points - 10, points.abs() + 0.5, half_width=3.0) == pytest.approx(1.0)  # no common cell
    # points outside the square count in the border cells
    corner = torch.tensor([[2.99, 2.99]])
    assert js_divergence(torch.tensor([[100.0, 100.0]]), corner, half_width=3.0) == pytest.approx(0.0, abs=1e-12)
    # by hand: p = (½, ½) over two cells, q = (1, 0), m = (¾, ¼)
    p, q = torch.tensor([[0.1, 0.1], [-2.9, 0.1]]), torch.tensor([[0.1, 0.1]])
    by_hand = 0.5 * (0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)) + 0.5 * math.log2(1 / 0.75)
    assert js_divergence(p, q, half_width=3.0, bins=10) == pytest.approx(by_hand)


# -- a run ---------------------------------------------------------------------------------------------------------


def test_a_seeded_run_is_reproducible_and_leaves_the_global_rng_alone():
    settings = LabSettings(seed=3, **TINY)
    state = torch.get_rng_state()
    first = LabRun(settings)
    first.train(30)
    assert torch.equal(torch.get_rng_state(), state)  # the run used its own generators only
    torch.manual_seed(123)  # whatever happens to the global generator in between ...
    torch.rand(7)
    second = LabRun(settings)
    second.view()  # ... and however often the tab draws
    second.train(30)
    assert same(first.history, second.history) and same(first.summary(), second.summary())
    other = LabRun(LabSettings(seed=4, **TINY))
    other.train(30)
    assert not same(first.history, other.history)


def test_history_and_summary():
    run = LabRun(LabSettings(**TINY))
    run.train(30)
    run.step("d")
    assert run.steps == 31 and run.d_updates == 31 and run.g_updates == 30
    assert {len(run.history[name]) for name in STEP_HISTORY} == {31}
    assert {len(run.history[name]) for name in METRIC_HISTORY} == {4}  # steps 0, 10, 20, 30
    assert run.history["metric_step"] == [0.0, 10.0, 20.0, 30.0] and run.history["step"][-1] == 31.0
    assert math.isnan(run.history["g_loss"][-1]) and math.isfinite(run.history["d_loss"][-1])
    assert all(g >= 0 for g in run.history["g_grad_norm"][:30])
    summary = run.summary(n=100)
    json.dumps(summary, allow_nan=False)  # JSON-friendly
    assert summary["modes_total"] == 8 and len(summary["samples"]) == 100 and len(summary["centers"]) == 8
    assert summary["g_loss"] is None and summary["d_loss"] is not None  # the last step trained D only
    moons = LabRun(LabSettings(dataset="moons", **TINY)).summary()
    json.dumps(moons, allow_nan=False)
    assert moons["modes_captured"] is None and moons["centers"] == [] and 0 <= moons["js"] <= 1
    assert math.isnan(LabRun(LabSettings(dataset="moons", **TINY)).history["modes_captured"][0])


def test_train_for_stops_at_the_step_cap():
    run = LabRun(LabSettings(**TINY))
    assert run.train_for(60.0, max_steps=3) == 3 and run.steps == 3
    assert run.train_for(0.0, max_steps=3) == 0


def test_wgan_keeps_the_critic_clipped():
    run = LabRun(LabSettings(loss="wgan", clip=0.01, optimizer="rmsprop", d_steps=2, **TINY))
    run.train(5)
    for p in run.D.parameters():
        assert p.abs().max() <= 0.01


def parameters(net: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def unchanged(before, net: nn.Module) -> bool:
    return all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_training_only_d_or_only_g():
    run = LabRun(LabSettings(**TINY))
    g_before, d_before = parameters(run.G), parameters(run.D)
    run.step("d")
    assert unchanged(g_before, run.G) and not unchanged(d_before, run.D)
    d_before = parameters(run.D)
    run.step("g")
    assert unchanged(d_before, run.D) and not unchanged(g_before, run.G)
    with pytest.raises(ValueError):
        run.step("both please")


def test_update_mid_run():
    run = LabRun(LabSettings(**TINY))
    run.train(3)
    run.update(loss="lsgan", lr_d=0.005)
    run.train(3)
    assert run.settings.loss == "lsgan" and run.view(n_points=8, grid=4, manifold=2).d_grid_kind == "lsgan"
    assert run.opt_d.lr == 0.005 and run.opt_g.lr == LIMITS["lr_g"][2] and run.opt_d.t == 6  # Adam's state kept
    run.update(optimizer="sgd")
    assert run.opt_d.kind == run.opt_g.kind == "sgd"
    run.update(noise="uniform")
    assert run.eval_z.abs().max() <= 1
    run.train(2)
    for bad in ({"hidden": 16}, {"dataset": "grid"}, {"seed": 1}, {"lr_d": 10.0}):
        with pytest.raises(ValueError):
            run.update(**bad)
    assert run.settings.hidden == TINY["hidden"] and run.settings.lr_d == 0.005  # a refused change changes nothing


def test_the_view():
    run = LabRun(LabSettings(loss="wgan_gp", **TINY))
    w = half_width("ring")
    view = run.view(n_points=50, grid=8, manifold=5)
    assert view.real.shape == view.fake.shape == view.fake_arrows.shape == (50, 2)
    assert view.d_grid.shape == (8, 8) and view.manifold.shape == (5, 5, 2) and view.d_grid_kind == "critic"
    assert view.d_weights.shape == (2 * 8 + 8 * 1,) and view.centers.shape == (8, 2) and view.half_width == w
    assert all(a.dtype == np.float32 for a in (view.real, view.fake, view.fake_arrows, view.d_grid, view.manifold))

    # a critic that outputs x: the left column is low, the right one high; cell centres from -w + w/g to w - w/g
    run.D = linear([[1.0, 0.0]])
    view = run.view(n_points=10, grid=8)
    assert view.d_grid[:, 0] == pytest.approx(np.full(8, -w + w / 8)) and view.d_grid[0, -1] == pytest.approx(w - w / 8)
    # WGAN's G minimises -D(x) for each point: every arrow is ∇D = (1, 0), whatever the number of points
    assert view.fake_arrows == pytest.approx(np.tile([1.0, 0.0], (10, 1)))
    # a critic that outputs y: the top row (row 0) is high
    run.D = linear([[0.0, 1.0]])
    view = run.view(n_points=10, grid=8)
    assert view.d_grid[0] == pytest.approx(np.full(8, w - w / 8)) and view.d_grid[-1, 0] == pytest.approx(-w + w / 8)

    # the manifold of an identity G: manifold[i, j] = (s_i, s_j), s from -2 to 2 for gaussian noise
    run.G = linear([[1.0, 0.0], [0.0, 1.0]])
    mesh = run.view(n_points=4, manifold=3).manifold
    assert mesh[0, 0].tolist() == [-2, -2] and mesh[2, 0].tolist() == [2, -2] and mesh[0, 2].tolist() == [-2, 2]
    run.update(noise="uniform")
    assert run.view(n_points=4, manifold=3).manifold[2, 2].tolist() == [1, 1]


def test_probabilities_and_a_one_dimensional_latent():
    run = LabRun(LabSettings(dataset="moons", latent_dim=1, **TINY))
    view = run.view(n_points=20, grid=6, manifold=7)
    assert view.d_grid_kind == "probability" and ((view.d_grid > 0) & (view.d_grid < 1)).all()
    assert view.manifold.shape == (7, 1, 2) and view.centers is None


@pytest.mark.parametrize("kind,torch_optimizer", [
    ("sgd", lambda p, lr: torch.optim.SGD(p, lr=lr)),
    ("rmsprop", lambda p, lr: torch.optim.RMSprop(p, lr=lr)),
    ("adam", lambda p, lr: torch.optim.Adam(p, lr=lr, betas=ADAM_BETAS)),
])
def test_the_flat_optimizers_follow_torch_optim(kind, torch_optimizer):
    """FlatOptimizer on flattened parameters takes the same steps as torch.optim on the network's own tensors."""
    ours = MLP(2, 1, 8, 2, "leaky_relu", torch.Generator().manual_seed(0))
    theirs = MLP(2, 1, 8, 2, "leaky_relu", torch.Generator().manual_seed(0))
    flat, grad = flatten_parameters(ours)
    ours_opt, theirs_opt = FlatOptimizer(kind, flat, grad, 0.01), torch_optimizer(theirs.parameters(), 0.01)
    x = torch.randn(32, 2, generator=torch.Generator().manual_seed(1))
    for _ in range(5):
        grad.zero_()
        (ours(x) ** 2).mean().backward()
        ours_opt.step()
        theirs_opt.zero_grad()
        (theirs(x) ** 2).mean().backward()
        theirs_opt.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert flat.data_ptr() == next(ours.parameters()).data_ptr()  # the parameters are still views of the flat tensor
    torch.testing.assert_close(ours(x), ours.net(x))  # the loop in forward computes what the Sequential does
