"""The engine of the "GAN lab" tab: train a small GAN live on 2-D points, like GAN Lab (Kahng, Thorat, Chau, Viégas &
Wattenberg, "GAN Lab: Understanding Complex Deep Generative Models using Interactive Visual Experimentation", 2018,
arXiv:1809.01587), with more losses to compare.

Everything here is plain torch + numpy (no gradio): the tab only calls this API and draws what ``LabRun.view`` returns.

* **Data** (``sample_real``): a ring of 8 Gaussians and a 5×5 grid of 25 Gaussians (the two mixtures on which mode
  collapse is usually measured), two moons, a spiral, or points the student drew.
* **Networks** (``MLP``): a generator G: z (``latent_dim`` numbers) → (x, y) and a discriminator / critic
  D: (x, y) → one number.
* **Losses** (``d_loss_fn``, ``g_loss_fn``, ``gradient_penalty``): the original minimax GAN ("saturating"), its
  non-saturating variant, least squares (LSGAN), Wasserstein with weight clipping (WGAN) and with a gradient
  penalty (WGAN-GP). Training backpropagates with the chain rule written out (``MLP.backward``, ``d_loss_grad``,
  ``g_loss_grad``, ``gradient_penalty_backward``; checked against autograd on the definitions above in the tests):
  for networks this small, autograd's bookkeeping cost more than the arithmetic.
* **Measures** (``count_modes``, ``js_divergence``): how many of the mixture's modes G covers, how many samples are
  close to a mode ("high quality"), and a histogram estimate of the Jensen–Shannon divergence.
* **A run** (``LabRun``): the state of one training run, which the tab steps, changes mid-run, draws and summarises.

Reproducibility: a run draws every random number from its own ``torch.Generator`` seeded by ``settings.seed``
(training, evaluation and the view each from a generator of their own), so the same settings, seed and sequence of
calls give exactly the same numbers, whatever the timing and whatever else uses torch's global random state.

Example::

    run = LabRun(LabSettings(dataset="ring", loss="nonsaturating"))
    run.train(1000)
    print(run.summary()["modes_captured"], run.history["g_loss"][-1])
    picture = run.view()                      # points, arrows, D's heat map, G's manifold, ...
"""

import dataclasses
import functools
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DATASETS = ("ring", "grid", "moons", "spiral", "drawn")
LOSSES = ("saturating", "nonsaturating", "lsgan", "wgan", "wgan_gp")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
NOISES = ("gaussian", "uniform")

# Bounds and defaults of every numeric setting: {name: (low, high, default)}. The defaults are the "works out of the
# box" settings: on the ring, the non-saturating GAN and WGAN-GP spread over most modes within 1,000-3,000 steps, and
# one D+G step takes a few milliseconds on one CPU thread (training/evaluate_gan_lab.py measures both).
LIMITS = {
    # D learns twice as fast as G (a "two time-scale update rule", Heusel et al. 2017): a D that keeps up with G
    # gives G useful directions. With equal rates WGAN-GP's critic lags and G barely moves in 2,000 steps.
    "lr_d": (1e-5, 0.1, 2e-3),
    "lr_g": (1e-5, 0.1, 1e-3),
    "d_steps": (1, 5, 1),  # D updates per G update (the WGAN papers use 5; 1 is enough with the faster lr_d)
    "clip": (0.001, 1.0, 0.01),  # WGAN weight clipping c (Arjovsky et al. 2017 use 0.01)
    "gp_lambda": (0.0, 10.0, 0.1),  # WGAN-GP λ: the paper uses 10 for images, 0.1 for its toy 2-D data
    "hidden": (8, 128, 64),  # units per hidden layer
    "layers": (1, 4, 2),  # hidden layers per network
    "latent_dim": (1, 8, 2),  # 2 lets the tab draw G's whole manifold
    "batch_size": (16, 512, 256),
    "seed": (0, 2**31 - 1, 0),
}
INT_SETTINGS = ("d_steps", "hidden", "layers", "latent_dim", "batch_size", "seed")

# Settings that may change during a run (the others change the networks or the data: the tab starts a new run).
MUTABLE = ("loss", "optimizer", "lr_d", "lr_g", "d_steps", "clip", "gp_lambda", "noise")

# Settings each loss is usually trained with (what the tab may suggest when the loss changes). Only WGAN with weight
# clipping differs from the defaults: its paper uses RMSProp (momentum-based optimisers like Adam sometimes made its
# training unstable) and 5 critic updates per G update, at lr 5e-5; 5e-4 keeps it visibly moving in a live demo.
RECOMMENDED = {
    "saturating": {},
    "nonsaturating": {},
    "lsgan": {},
    "wgan": {"optimizer": "rmsprop", "lr_d": 5e-4, "lr_g": 5e-4, "d_steps": 5},
    "wgan_gp": {},
}

ADAM_BETAS = (0.5, 0.999)  # β1 = 0.5 as in DCGAN: less momentum than the default 0.9 steadies the two-player game
EVAL_SIZE = 2500  # fixed evaluation batch (2,500 samples, as in Metz et al. 2017 and Srivastava et al. 2017)
METRIC_EVERY = 10  # measure modes / quality / JS every this many training steps (and at step 0)


def _checked_number(name: str, value):
    """``value`` as the int or float that setting ``name`` takes, within LIMITS; ValueError naming the field if not."""
    low, high, _ = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if name in INT_SETTINGS:
        if value != int(value):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        value = int(value)  # a slider may hand 64.0 for 64
    else:
        value = float(value)
    if not low <= value <= high:
        raise ValueError(f"{name} must be within [{low}, {high}], got {value!r}")
    return value


@dataclass
class LabSettings:
    """Every choice of a run, all plain str / int / float (JSON-friendly). Defaults: the third entries of LIMITS."""

    dataset: str = "ring"
    loss: str = "nonsaturating"
    optimizer: str = "adam"
    lr_d: float = LIMITS["lr_d"][2]
    lr_g: float = LIMITS["lr_g"][2]
    d_steps: int = LIMITS["d_steps"][2]
    clip: float = LIMITS["clip"][2]
    gp_lambda: float = LIMITS["gp_lambda"][2]
    hidden: int = LIMITS["hidden"][2]
    layers: int = LIMITS["layers"][2]
    latent_dim: int = LIMITS["latent_dim"][2]
    noise: str = "gaussian"
    batch_size: int = LIMITS["batch_size"][2]
    seed: int = LIMITS["seed"][2]

    def checked(self) -> "LabSettings":
        """A checked copy (whole numbers as int, the others as float); ValueError naming the first bad field."""
        choices = {"dataset": DATASETS, "loss": LOSSES, "optimizer": OPTIMIZERS, "noise": NOISES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        return dataclasses.replace(self, **{name: _checked_number(name, getattr(self, name)) for name in LIMITS})


# ---------------------------------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Mixture:
    """An equal-weight mixture of isotropic Gaussians: the K centres (K, 2) and their common standard deviation."""

    centers: torch.Tensor
    sigma: float


def _mixture(dataset: str) -> Mixture | None:
    """The mixture behind ``dataset`` (see ``modes_of``), built from scratch."""
    if dataset == "ring":
        angles = torch.arange(8, dtype=torch.float32) * (2 * math.pi / 8)
        return Mixture(torch.stack([2 * torch.cos(angles), 2 * torch.sin(angles)], dim=1), 0.02)
    if dataset == "grid":
        ticks = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
        xs, ys = torch.meshgrid(ticks, ticks, indexing="xy")
        return Mixture(torch.stack([xs.flatten(), ys.flatten()], dim=1), 0.05)
    return None


# Built once: sampling a batch should not rebuild the centres at every training step.
_MIXTURES = {dataset: _mixture(dataset) for dataset in DATASETS}


def modes_of(dataset: str) -> Mixture | None:
    """The Gaussian mixture behind ``dataset``, or None for the datasets without separate modes.

    * ring: 8 Gaussians evenly spaced on a circle of radius 2, σ = 0.02 (Metz, Poole, Pfau & Sohl-Dickstein,
      "Unrolled Generative Adversarial Networks", 2017);
    * grid: 25 Gaussians at {-4, -2, 0, 2, 4}², σ = 0.05 (Srivastava, Valkov, Russell, Gutmann & Sutton, "VEEGAN",
      2017).
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    return _mixture(dataset)  # a fresh copy: the caller may change it without changing the training data


def half_width(dataset: str) -> float:
    """The view shows the square [-w, w]²; the data (and the drawing canvas for "drawn") lie well inside it."""
    widths = {"ring": 3.0, "grid": 6.0, "moons": 3.0, "spiral": 3.0, "drawn": 3.0}
    if dataset not in widths:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    return widths[dataset]


def _as_points(points) -> torch.Tensor:
    """The drawn points as a float32 (N, 2) tensor; ValueError when there are none or they have the wrong shape."""
    if points is None:
        raise ValueError("the drawn dataset needs points: draw something first")
    points = torch.as_tensor(points, dtype=torch.float32)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"the drawn dataset needs points of shape (N, 2) with N ≥ 1, got {tuple(points.shape)}")
    if not torch.isfinite(points).all():
        raise ValueError("the drawn points must be finite numbers")
    return points


def sample_real(dataset: str, n: int, generator: torch.Generator, points: torch.Tensor | None = None) -> torch.Tensor:
    """``n`` points (n, 2) float32 of ``dataset``; ``points`` (N, 2) are the student's strokes for "drawn".

    * ring / grid: pick a centre uniformly, add σ·N(0, I) (``modes_of``);
    * moons: two interleaving half circles (as scikit-learn's ``make_moons``), centred, scaled by 1.5, noise σ 0.05;
    * spiral: two arms of 1.5 turns each, radius growing from 0.3 to 2.7, noise σ 0.05;
    * drawn: ``points`` resampled with replacement, plus a little jitter (σ 0.05) so that G sees a density, not a few
      isolated points.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    mixture = _MIXTURES[dataset]
    if mixture is not None:
        which = torch.randint(len(mixture.centers), (n,), generator=generator)
        return mixture.centers[which] + mixture.sigma * torch.randn(n, 2, generator=generator)
    if dataset == "moons":
        t = math.pi * torch.rand(n, generator=generator)
        lower = torch.rand(n, generator=generator) < 0.5  # which moon
        x = torch.where(lower, 1 - torch.cos(t), torch.cos(t))
        y = torch.where(lower, 0.5 - torch.sin(t), torch.sin(t))
        xy = torch.stack([x - 0.5, y - 0.25], dim=1) * 1.5  # centre the pair of moons, scale to fill the view
        return xy + 0.05 * torch.randn(n, 2, generator=generator)
    if dataset == "spiral":
        t = torch.rand(n, generator=generator)  # position along the arm, 0 = centre, 1 = tip
        arm = torch.randint(2, (n,), generator=generator)  # the second arm is the first one turned by 180°
        radius = 0.3 + 2.4 * t
        angle = 3 * math.pi * t + math.pi * arm
        xy = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
        return xy + 0.05 * torch.randn(n, 2, generator=generator)
    points = _as_points(points)  # "drawn"
    which = torch.randint(len(points), (n,), generator=generator)
    return points[which] + 0.05 * torch.randn(n, 2, generator=generator)


def sample_noise(noise: str, n: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """The generator's input z (n, dim): "gaussian" N(0, I) or "uniform" U(-1, 1) in every coordinate."""
    if noise == "gaussian":
        return torch.randn(n, dim, generator=generator)
    if noise == "uniform":
        return 2 * torch.rand(n, dim, generator=generator) - 1
    raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")


# ---------------------------------------------------------------------------------------------------------------------
# Networks


# The kernels of the activations' backward, called directly (the ``.default`` overloads: naming the overload spares
# the lookup that ``torch.ops.aten.<name>(...)`` makes at every call).
_LEAKY_RELU_BACKWARD = torch.ops.aten.leaky_relu_backward.default
_THRESHOLD_BACKWARD = torch.ops.aten.threshold_backward.default


class MLP(nn.Module):
    """A fully connected network: in_dim → hidden → … (``layers`` hidden layers) → out_dim, no normalisation.

    G uses ReLU (``activation="relu"``), D LeakyReLU with slope 0.2 (``"leaky_relu"``), as in DCGAN. The weights are
    PyTorch's default initialisation, U(-1/√fan_in, 1/√fan_in), drawn from ``generator`` when one is given (so that a
    run does not depend on, nor change, torch's global random state).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: int, layers: int, activation: str = "relu",
                 generator: torch.Generator | None = None):
        super().__init__()
        widths = [in_dim] + [hidden] * layers + [out_dim]
        modules = []
        for k in range(len(widths) - 1):
            # skip_init builds the layer without drawing its weights from the global generator; we draw them below
            modules.append(nn.utils.skip_init(nn.Linear, widths[k], widths[k + 1]))
            if k < len(widths) - 2:  # no activation after the output layer: D gives a raw logit / critic value
                modules.append(nn.ReLU() if activation == "relu" else nn.LeakyReLU(0.2))
        self.net = nn.Sequential(*modules)
        with torch.no_grad():
            for layer in self.net:
                if isinstance(layer, nn.Linear):
                    bound = 1 / math.sqrt(layer.in_features)
                    layer.weight.uniform_(-bound, bound, generator=generator)
                    layer.bias.uniform_(-bound, bound, generator=generator)
        self.linears = [m for m in self.net if isinstance(m, nn.Linear)]
        self._negative_slope = 0.0 if activation == "relu" else 0.2
        self._activation = F.relu if activation == "relu" else functools.partial(F.leaky_relu, negative_slope=0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # What ``self.net(x)`` computes, without calling each layer as a module (a few µs each, which adds up over
        # the hundreds of forward passes a second that the lab makes).
        *hidden, last = self.linears
        for layer in hidden:
            x = self._activation(F.linear(x, layer.weight, layer.bias))
        return F.linear(x, last.weight, last.bias)

    # Backpropagation written out, for training (``LabRun``). With networks this small, autograd's bookkeeping costs
    # more than the arithmetic; these two methods do only the arithmetic (tests check them against autograd).
    # For a layer h = x Wᵀ + b followed by a = f(h):  ∂L/∂W = (∂L/∂h)ᵀ x,  ∂L/∂b = Σ_rows ∂L/∂h,  ∂L/∂x = (∂L/∂h) W,
    # and ∂L/∂h = ∂L/∂a · f'(h), where f' (the "slope") is 1 where h > 0 and 0 (ReLU) or 0.2 (LeakyReLU) elsewhere.

    @torch.no_grad()
    def forward_saving(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """``forward(x)`` and what ``backward`` needs: each layer's input and each hidden layer's pre-activation h."""
        inputs, pre_activations = [], []
        *hidden, last = self.linears
        for layer in hidden:
            inputs.append(x)
            pre_activations.append(F.linear(x, layer.weight, layer.bias))
            x = self._activation(pre_activations[-1])
        inputs.append(x)
        return F.linear(x, last.weight, last.bias), inputs, pre_activations

    def times_slope(self, d: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """d · f'(h): with the kernels autograd itself uses for these activations' backward (one pass, no mask)."""
        if self._negative_slope:
            return _LEAKY_RELU_BACKWARD(d, h, self._negative_slope, False)
        return _THRESHOLD_BACKWARD(d, h, 0.0)

    @torch.no_grad()
    def backward(self, inputs: list[torch.Tensor], pre_activations: list[torch.Tensor], d_out: torch.Tensor,
                 weights: bool = True) -> torch.Tensor | None:
        """Given ∂L/∂output (n, out_dim) at the points of ``forward_saving``: with ``weights``, add ∂L/∂W and ∂L/∂b
        into the parameters' ``.grad`` and return None; without, return ∂L/∂input (n, in_dim) (what G's update needs
        from D) and leave the parameters' gradients alone."""
        d = d_out  # ∂L/∂h of the current layer, from the last one down
        for k in range(len(self.linears) - 1, -1, -1):
            layer = self.linears[k]
            if weights:
                add_product(layer.weight.grad, d, inputs[k])
                layer.bias.grad.add_(d.sum(0))
                if k == 0:
                    return None  # ∂L/∂input is not needed
            d = d @ layer.weight  # ∂L/∂(this layer's input)
            if k > 0:
                d = self.times_slope(d, pre_activations[k - 1])
        return d


def add_product(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> None:
    """out += aᵀ b (a weight's gradient from a batch). For an input layer's weights (2-8 columns) the same product
    taken as (bᵀ a)ᵀ is several times faster on a CPU."""
    if out.shape[1] < 16:
        out.add_(torch.mm(b.T, a).T)
    else:
        out.addmm_(a.T, b)


def flatten_parameters(net: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Move all of ``net``'s parameters into one flat tensor, and their gradients into another; returns both.

    Each parameter becomes a view of its slice of the flat tensor (its gradient, of the flat gradient), so the network
    works as before, while an optimiser step, zeroing the gradients or clipping the weights is one call on the flat
    tensor instead of one per layer. With networks this small the number of calls, not arithmetic, is most of the time
    of a training step. (Backpropagation adds into the existing gradients in place, so they stay views.)
    """
    params = list(net.parameters())
    flat = torch.cat([p.detach().reshape(-1) for p in params])
    grad = torch.zeros_like(flat)
    offset = 0
    for p in params:
        n = p.numel()
        p.data = flat[offset:offset + n].view_as(p)
        p.grad = grad[offset:offset + n].view_as(p)
        offset += n
    return flat, grad


RMSPROP_ALPHA = 0.99  # torch.optim.RMSprop's defaults
EPS = 1e-8  # torch.optim.Adam's and RMSprop's


class FlatOptimizer:
    """SGD, RMSProp or Adam on a network's flat parameters (``flatten_parameters``): the update rules of
    ``torch.optim.SGD`` / ``RMSprop`` / ``Adam`` (β = ``ADAM_BETAS``, defaults otherwise), a few calls per step.

    * SGD: θ ← θ − η g;
    * RMSProp (Tieleman & Hinton 2012): v ← α v + (1 − α) g², θ ← θ − η g / (√v + ε): each weight's step is scaled
      by a running average of its gradient's size;
    * Adam (Kingma & Ba 2015): m ← β₁ m + (1 − β₁) g, v ← β₂ v + (1 − β₂) g²; θ ← θ − η m̂ / (√v̂ + ε), with m̂, v̂
      corrected for starting at 0 (m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)).
    ``lr`` may change between steps; the moment estimates stay.
    """

    def __init__(self, kind: str, params: torch.Tensor, grads: torch.Tensor, lr: float):
        if kind not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {kind!r}")
        self.kind, self.params, self.grads, self.lr = kind, params, grads, lr
        self.t = 0
        self.m = torch.zeros_like(params) if kind == "adam" else None
        self.v = torch.zeros_like(params) if kind in ("adam", "rmsprop") else None

    @torch.no_grad()
    def step(self) -> None:
        g, lr = self.grads, self.lr
        if self.kind == "sgd":
            self.params.add_(g, alpha=-lr)
        elif self.kind == "rmsprop":
            self.v.mul_(RMSPROP_ALPHA).addcmul_(g, g, value=1 - RMSPROP_ALPHA)
            self.params.addcdiv_(g, self.v.sqrt().add_(EPS), value=-lr)
        else:
            self.t += 1
            b1, b2 = ADAM_BETAS
            self.m.lerp_(g, 1 - b1)
            self.v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denominator = (self.v.sqrt() / math.sqrt(1 - b2**self.t)).add_(EPS)
            self.params.addcdiv_(self.m, denominator, value=-lr / (1 - b1**self.t))


# ---------------------------------------------------------------------------------------------------------------------
# Losses. Both functions take D's raw outputs (logits, least-squares outputs or critic values), shape (n,) or (n, 1),
# and return a scalar: the mean over the batch of what each network MINIMISES. With σ the logistic sigmoid,
# log σ(t) = -softplus(-t) and log(1 - σ(t)) = log σ(-t) = -softplus(t): written this way nothing overflows or takes
# the log of 0 however large the logits get.


def d_loss_fn(loss: str, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """What D minimises on a batch of real and fake outputs.

    * saturating / nonsaturating (Goodfellow et al. 2014; eq. 12.28 of the lecture notes):
      -[mean log σ(d_real) + mean log(1 - σ(d_fake))], i.e. binary cross-entropy with labels real = 1, fake = 0;
    * lsgan (Mao et al. 2017, targets a = 0 for fake, b = 1 for real): ½ mean (d_real - 1)² + ½ mean d_fake²;
    * wgan / wgan_gp (Arjovsky et al. 2017, eq. 12.29): mean d_fake - mean d_real (the critic maximises
      mean d_real - mean d_fake, an estimate of the Wasserstein-1 distance); wgan_gp adds λ·``gradient_penalty`` in
      the D step (``LabRun``), not here.
    """
    if loss in ("saturating", "nonsaturating"):
        return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    if loss == "lsgan":
        return 0.5 * ((d_real - 1) ** 2).mean() + 0.5 * (d_fake**2).mean()
    if loss in ("wgan", "wgan_gp"):
        return d_fake.mean() - d_real.mean()
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def g_loss_fn(loss: str, d_fake: torch.Tensor) -> torch.Tensor:
    """What G minimises, given D's outputs on G's samples.

    * saturating: mean log(1 - σ(d_fake)), the minimax game itself. When D rejects the fakes confidently
      (σ(d_fake) ≈ 0) this curve is flat, so G's gradient vanishes ("saturates") early in training;
    * nonsaturating: -mean log σ(d_fake), same fixed point, strong gradients where G is bad;
    * lsgan (c = 1): ½ mean (d_fake - 1)²;
    * wgan / wgan_gp: -mean d_fake.
    """
    if loss == "saturating":
        return -F.softplus(d_fake).mean()
    if loss == "nonsaturating":
        return F.softplus(-d_fake).mean()
    if loss == "lsgan":
        return 0.5 * ((d_fake - 1) ** 2).mean()
    if loss in ("wgan", "wgan_gp"):
        return -d_fake.mean()
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def d_loss_grad(loss: str, d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """∂(``d_loss_fn``)/∂d_real and ∂/∂d_fake, written out (σ: the logistic sigmoid, n: the batch; softplus' = σ):
    saturating / nonsaturating -σ(-d_real)/n and σ(d_fake)/n; lsgan (d_real - 1)/n and d_fake/n; wgan / wgan_gp
    -1/n and 1/n."""
    n_real, n_fake = d_real.shape[0], d_fake.shape[0]
    if loss in ("saturating", "nonsaturating"):
        return -torch.sigmoid(-d_real) / n_real, torch.sigmoid(d_fake) / n_fake
    if loss == "lsgan":
        return (d_real - 1) / n_real, d_fake / n_fake
    if loss in ("wgan", "wgan_gp"):
        return torch.full_like(d_real, -1 / n_real), torch.full_like(d_fake, 1 / n_fake)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def g_loss_grad(loss: str, d_fake: torch.Tensor) -> torch.Tensor:
    """∂(``g_loss_fn``)/∂d_fake, written out: saturating -σ(d_fake)/n (≈ 0 where D rejects the fakes: the vanishing
    gradient), nonsaturating -σ(-d_fake)/n, lsgan (d_fake - 1)/n, wgan / wgan_gp -1/n."""
    n = d_fake.shape[0]
    if loss == "saturating":
        return -torch.sigmoid(d_fake) / n
    if loss == "nonsaturating":
        return -torch.sigmoid(-d_fake) / n
    if loss == "lsgan":
        return (d_fake - 1) / n
    if loss in ("wgan", "wgan_gp"):
        return torch.full_like(d_fake, -1 / n)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def gradient_penalty(d: nn.Module, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """WGAN-GP's penalty (Gulrajani et al. 2017), E[(‖∇_x̂ D(x̂)‖₂ - 1)²], not yet multiplied by λ.

    x̂ = ε·real + (1 - ε)·fake with one ε ~ U(0, 1) per sample: points on the lines between real and fake samples,
    where the optimal critic has gradient norm 1. ``create_graph=True`` keeps the graph of the gradient so that
    the penalty itself can be differentiated with respect to D's weights (a "double backward").
    """
    eps = torch.rand(len(real), 1, generator=generator)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(d(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


@torch.no_grad()
def gradient_penalty_backward(d: MLP, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator,
                              weight: float) -> float:
    """``gradient_penalty`` with its double backward written out: adds ``weight`` · ∂penalty/∂θ into D's ``.grad``
    and returns the penalty (the same ε draws, the same value; tests compare both with autograd's).

    With the slopes s_k of D's activations at x̂ held fixed (they are piecewise constant), D's input gradient is a
    product of matrices, computed layer by layer from the top: a = 1·W_last, then a ← (a ⊙ s_k) W_k down to the
    input (the ``backward`` pass with ∂L/∂output = 1, keeping each layer's a). The penalty depends on the weights only
    through these products, so its gradient is one more backward pass, through them."""
    eps = torch.rand(len(real), 1, generator=generator)
    _, _, h = d.forward_saving(eps * real + (1 - eps) * fake)
    layers = d.linears
    a = layers[-1].weight.expand(len(real), -1)  # ∂D/∂(input of the last layer), (n, hidden)
    vs = []  # v_k = a ⊙ s_k: ∂D/∂h_k, the gradient at each hidden layer's pre-activation
    for k in range(len(layers) - 2, -1, -1):
        vs.append(d.times_slope(a, h[k]))
        a = vs[-1] @ layers[k].weight
    norm = a.norm(dim=1, keepdim=True)  # a = ∇_x D(x̂), (n, in_dim)
    penalty = float(((norm - 1) ** 2).mean())
    da = weight * 2 * (norm - 1) / norm.clamp(min=1e-12) * a / len(real)  # weight · ∂penalty/∂a
    for k, v in zip(range(len(layers) - 1), reversed(vs)):  # from the input layer up
        add_product(layers[k].weight.grad, v, da)
        da = d.times_slope(da @ layers[k].weight.T, h[k])
    layers[-1].weight.grad.add_(da.sum(0, keepdim=True))
    return penalty


# ---------------------------------------------------------------------------------------------------------------------
# Measures


@dataclass
class ModeCount:
    """``count_modes``'s answer: modes captured out of ``total``, the share of high-quality samples, and the number of
    high-quality samples nearest to each mode."""

    captured: int
    total: int
    high_quality_share: float
    per_mode: list[int]


def count_modes(samples: torch.Tensor, mixture: Mixture, sigmas: float = 3.0, min_fraction: float = 0.1) -> ModeCount:
    """How many of the mixture's K modes the N ``samples`` cover, the usual protocol on the ring and the grid.

    * a sample is **high quality** when it lies within ``sigmas``·σ (3 standard deviations by default) of its nearest
      centre (Metz et al. 2017, Srivastava et al. 2017);
    * ``per_mode[k]`` = the number of high-quality samples whose nearest centre is k;
    * mode k is **captured** when per_mode[k] ≥ max(1, ``min_fraction``·N/K): at least 10 % (by default) of the N/K
      samples a perfect generator would put there, and at least one. The papers differ on this cut-off; this one
      ignores a mode that a handful of stray samples happen to hit.

    With N = 2,500: ring (K = 8) needs ≥ 31.25 → 32 samples within 0.06 of a centre; grid (K = 25) needs ≥ 10 samples
    within 0.15.
    """
    samples = torch.as_tensor(samples, dtype=torch.float32).reshape(-1, 2)
    centers = mixture.centers.to(torch.float32)
    k = len(centers)
    if len(samples) == 0:
        return ModeCount(0, k, 0.0, [0] * k)
    distance, nearest = torch.cdist(samples, centers).min(dim=1)
    good = distance <= sigmas * mixture.sigma
    per_mode = torch.bincount(nearest[good], minlength=k)
    threshold = max(1.0, min_fraction * len(samples) / k)
    return ModeCount(captured=int((per_mode >= threshold).sum()), total=k,
                     high_quality_share=float(good.float().mean()), per_mode=per_mode.tolist())


def _histogram(points: torch.Tensor, half_width: float, bins: int) -> torch.Tensor:
    """The share of ``points`` in each of bins×bins equal cells over [-w, w]² (points outside count in the border
    cells), flattened row by row."""
    cell = ((points + half_width) * (bins / (2 * half_width))).floor().long().clamp(0, bins - 1)
    counts = torch.bincount(cell[:, 1] * bins + cell[:, 0], minlength=bins * bins).double()
    return counts / counts.sum()


def js_divergence(real: torch.Tensor, fake: torch.Tensor, half_width: float, bins: int = 50) -> float:
    """Jensen–Shannon divergence in bits (0 = same histogram, 1 = no cell in common) between the 2-D histograms of
    two point sets on a bins×bins grid over [-w, w]², as GAN Lab estimates its divergences on a grid.

    JS(p, q) = ½ KL(p ‖ m) + ½ KL(q ‖ m) with m = ½ (p + q). An estimate from finite samples: two independent
    samples of the same distribution give a small positive value, not 0 (the more so the fewer the points and the
    more cells the data spread over).
    """
    real = torch.as_tensor(real, dtype=torch.float32).reshape(-1, 2)
    fake = torch.as_tensor(fake, dtype=torch.float32).reshape(-1, 2)
    if len(real) == 0 or len(fake) == 0:
        raise ValueError("js_divergence needs at least one point in each set")
    p, q = _histogram(real, half_width, bins), _histogram(fake, half_width, bins)
    m = (p + q) / 2

    def kl_to_m(a: torch.Tensor) -> torch.Tensor:  # cells with a = 0 contribute 0 (the limit of a·log a)
        used = a > 0
        return (a[used] * torch.log2(a[used] / m[used])).sum()

    return float((0.5 * kl_to_m(p) + 0.5 * kl_to_m(q)).clamp(0.0, 1.0))


# ---------------------------------------------------------------------------------------------------------------------
# A training run


@dataclass
class LabView:
    """What the tab draws, as float32 numpy arrays.

    * ``real``, ``fake`` (n, 2): the same real points and the same z in every view of a run, so the fake points move
      smoothly from one frame to the next;
    * ``fake_arrows`` (n, 2): for each fake point x, -∂ℓ_G/∂x, where ℓ_G is that point's own term of G's loss (the
      batch mean times n, so arrows do not shrink when more points are shown): the direction in which G's update
      pushes the point. Raw, not normalised: the tab scales them for drawing;
    * ``d_grid`` (g, g): D's output at the centres of g×g equal cells covering [-w, w]²: row 0 is the top
      (y near +w), column 0 the left (x near -w), so ``imshow(d_grid, extent=(-w, w, -w, w))`` puts it in place. It
      is σ(logit) ∈ [0, 1] for saturating / nonsaturating (``d_grid_kind`` "probability"), the raw output for LSGAN
      ("lsgan") and the critic value for WGAN / WGAN-GP ("critic");
    * ``manifold`` (m, m, 2): ``manifold[i, j]`` = G(z) with z₁ = s_i, z₂ = s_j and the other coordinates 0, for m
      evenly spaced values s from -2 to 2 (gaussian noise) or -1 to 1 (uniform); (m, 1, 2) when latent_dim is 1.
      Drawn as a mesh it shows how G folds and stretches the latent plane (GAN Lab's "manifold");
    * ``d_weights``: every entry of D's weight matrices (not the biases), flattened, for the WGAN clipping histogram;
    * ``half_width`` w, and the mixture's ``centers`` (K, 2) or None.
    """

    real: np.ndarray
    fake: np.ndarray
    fake_arrows: np.ndarray
    d_grid: np.ndarray
    d_grid_kind: str
    manifold: np.ndarray
    d_weights: np.ndarray
    half_width: float
    centers: np.ndarray | None


# A run draws from four generators, all derived from its seed (< 2**31) so that no two of them, nor two runs with
# different seeds, share a stream: seed + k·2**31 for k = purpose.
TRAIN, EVAL_NOISE, EVAL_REAL, VIEW = range(4)


def _generator(seed: int, purpose: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed + purpose * 2**31)


def _as_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().astype(np.float32)


# The lists of LabRun.history: one row per step, and one row per measurement (see LabRun).
STEP_HISTORY = ("step", "d_loss", "g_loss", "g_grad_norm")
METRIC_HISTORY = ("metric_step", "modes_captured", "high_quality_share", "js")


class LabRun:
    """One training run, all its state; everything random comes from its own torch.Generator, so that the same
    settings, seed and sequence of calls give exactly the same numbers (independent of timing and of the global RNG).

    Counters: ``steps`` counts calls of ``step`` of any kind ("both", "d", "g"; with only "both" steps, as in the
    usual training loop, it is the number of G updates); ``d_updates`` and ``g_updates`` count each network's
    optimiser steps (a "both" step makes ``d_steps`` D updates and one G update).

    ``history`` has two groups of lists, the lists of a group always of equal length:

    * one row per ``step`` call: "step" (``steps`` after it, 1, 2, …), "d_loss" (what D minimised in its last
      update of that step, λ·penalty included for WGAN-GP), "g_loss" and "g_grad_norm" (the L2 norm of ∂L_G/∂θ_G over
      all of G's parameters, before the update). The loss of a network that a "d" or "g" step did not train is NaN;
    * one row at step 0 (when the run starts) and every ``METRIC_EVERY`` (10) steps: "metric_step",
      "modes_captured" and "high_quality_share" (``count_modes``; NaN for datasets without modes) and "js"
      (``js_divergence`` in bits), all computed on a fixed evaluation batch: ``EVAL_SIZE`` (2,500) z drawn once
      when the run starts, against 2,500 real points drawn once.
    """

    def __init__(self, settings: LabSettings, points: torch.Tensor | None = None):
        self.settings = settings.checked()
        s = self.settings
        self.points = _as_points(points) if s.dataset == "drawn" else None
        self.mixture = modes_of(s.dataset)
        self.half_width = half_width(s.dataset)
        self.generator = _generator(s.seed, TRAIN)  # every random number of training comes from here
        self.G = MLP(s.latent_dim, 2, s.hidden, s.layers, "relu", self.generator)
        self.D = MLP(2, 1, s.hidden, s.layers, "leaky_relu", self.generator)
        self.g_flat, self.g_grad = flatten_parameters(self.G)
        self.d_flat, self.d_grad = flatten_parameters(self.D)
        self._build_optimizers()
        self.eval_real = sample_real(s.dataset, EVAL_SIZE, _generator(s.seed, EVAL_REAL), self.points)
        self.eval_z = sample_noise(s.noise, EVAL_SIZE, s.latent_dim, _generator(s.seed, EVAL_NOISE))
        self.steps = self.d_updates = self.g_updates = 0
        self.history: dict[str, list[float]] = {name: [] for name in STEP_HISTORY + METRIC_HISTORY}
        self._record_metrics()

    # -- optimisers ---------------------------------------------------------------------------------------------------

    def _build_optimizers(self) -> None:
        self.opt_d = FlatOptimizer(self.settings.optimizer, self.d_flat, self.d_grad, self.settings.lr_d)
        self.opt_g = FlatOptimizer(self.settings.optimizer, self.g_flat, self.g_grad, self.settings.lr_g)

    # -- training -----------------------------------------------------------------------------------------------------

    def _noise(self, n: int) -> torch.Tensor:
        return sample_noise(self.settings.noise, n, self.settings.latent_dim, self.generator)

    # Both updates backpropagate with the networks' own ``backward`` (the chain rule written out, checked against
    # autograd on ``d_loss_fn`` / ``g_loss_fn`` / ``gradient_penalty`` in tests/test_gan_lab_engine.py): a few times
    # faster than autograd for networks this small.

    @torch.no_grad()
    def _critic_batches(self, n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Real and fake batches for ``n`` D updates in a row. D's updates do not change G, so G makes all ``n`` fake
        batches in one forward pass (WGAN makes 5 D updates per step: fewer, larger products; with the loss computed
        only on the last update, WGAN's steps got ~5 % faster, README). The random numbers are drawn in the same
        order as one update at a time: real, then z, per update."""
        s = self.settings
        if n == 0:
            return []
        reals, noises = [], []
        for _ in range(n):
            reals.append(sample_real(s.dataset, s.batch_size, self.generator, self.points))
            noises.append(self._noise(s.batch_size))
        fakes = self.G(torch.cat(noises)).split(s.batch_size)
        return list(zip(reals, fakes))

    @torch.no_grad()
    def _d_update(self, real: torch.Tensor, fake: torch.Tensor, with_loss: bool = True) -> float:
        """One update of D on a batch of real and fake points; returns the loss it minimised (NaN when
        ``with_loss`` is False: of several updates in a row, only the last one's loss is recorded)."""
        s = self.settings
        out, inputs, pre = self.D.forward_saving(torch.cat([real, fake]))  # one pass over both halves
        d_real, d_fake = out[: s.batch_size], out[s.batch_size:]
        loss = float(d_loss_fn(s.loss, d_real, d_fake)) if with_loss else math.nan
        self.d_grad.zero_()
        self.D.backward(inputs, pre, torch.cat(d_loss_grad(s.loss, d_real, d_fake)), weights=True)
        if s.loss == "wgan_gp" and s.gp_lambda > 0:
            loss += s.gp_lambda * gradient_penalty_backward(self.D, real, fake, self.generator, s.gp_lambda)
        self.opt_d.step()
        if s.loss == "wgan":  # WGAN's Lipschitz constraint, crudely: clamp every critic parameter to [-c, c]
            self.d_flat.clamp_(-s.clip, s.clip)
        self.d_updates += 1
        return loss

    @torch.no_grad()
    def _g_update(self) -> tuple[float, float]:
        """One update of G; returns its loss and the L2 norm of its gradient (before the update)."""
        s = self.settings
        fake, g_inputs, g_pre = self.G.forward_saving(self._noise(s.batch_size))
        out, d_inputs, d_pre = self.D.forward_saving(fake)
        loss = float(g_loss_fn(s.loss, out))
        d_fake = self.D.backward(d_inputs, d_pre, g_loss_grad(s.loss, out), weights=False)  # through D to the points
        self.g_grad.zero_()
        self.G.backward(g_inputs, g_pre, d_fake, weights=True)  # then into G's weights
        grad_norm = float(self.g_grad.norm())  # the L2 norm over all of G's parameters
        self.opt_g.step()
        self.g_updates += 1
        return loss, grad_norm

    def step(self, what: str = "both") -> None:
        """One training step: "both" = ``d_steps`` D updates then one G update; "d" = one D update only; "g" = one G
        update only (GAN Lab's "train D only" / "train G only")."""
        if what not in ("both", "d", "g"):
            raise ValueError(f"what must be 'both', 'd' or 'g', got {what!r}")
        d_loss = g_loss = grad_norm = math.nan  # NaN: the network was not trained in this step
        d_updates = {"both": self.settings.d_steps, "d": 1, "g": 0}[what]
        for k, (real, fake) in enumerate(self._critic_batches(d_updates)):
            d_loss = self._d_update(real, fake, with_loss=k == d_updates - 1)
        if what in ("both", "g"):
            g_loss, grad_norm = self._g_update()
        self.steps += 1
        for name, value in zip(STEP_HISTORY, (self.steps, d_loss, g_loss, grad_norm)):
            self.history[name].append(float(value))
        if self.steps % METRIC_EVERY == 0:
            self._record_metrics()

    def train(self, n: int, what: str = "both") -> None:
        """``n`` training steps of kind ``what`` (see ``step``)."""
        for _ in range(n):
            self.step(what)

    def train_for(self, seconds: float, max_steps: int, what: str = "both") -> int:
        """Train until ``seconds`` have passed (checked between steps) or ``max_steps`` steps are done; returns how
        many steps were done. For the live tab: one call per frame."""
        start, done = time.perf_counter(), 0
        while done < max_steps and time.perf_counter() - start < seconds:
            self.step(what)
            done += 1
        return done

    def update(self, **changes) -> None:
        """Change settings mid-run: any of ``MUTABLE`` (loss, optimizer, lr_d, lr_g, d_steps, clip, gp_lambda, noise).

        A new optimizer kind rebuilds both optimisers (fresh moment estimates); a new learning rate is written into the
        existing ones (their state is kept); new noise redraws the fixed evaluation z from the new distribution. Any
        other setting (dataset, sizes, seed) changes the networks or the data: ValueError (start a new run instead).
        """
        fixed = sorted(set(changes) - set(MUTABLE))
        if fixed:
            raise ValueError(f"{', '.join(fixed)} cannot change during a run (start a new run); "
                             f"these can: {', '.join(MUTABLE)}")
        old, new = self.settings, dataclasses.replace(self.settings, **changes).checked()
        self.settings = new
        if new.optimizer != old.optimizer:
            self._build_optimizers()
        else:
            self.opt_d.lr, self.opt_g.lr = new.lr_d, new.lr_g
        if new.noise != old.noise:
            self.eval_z = sample_noise(new.noise, EVAL_SIZE, new.latent_dim, _generator(new.seed, EVAL_NOISE))

    # -- measuring and drawing ----------------------------------------------------------------------------------------

    @torch.inference_mode()
    def _measure(self) -> tuple[torch.Tensor, ModeCount | None, float]:
        """G's samples of the fixed evaluation z, their ``count_modes`` (None without modes) and JS divergence."""
        fake = self.G(self.eval_z)
        modes = count_modes(fake, self.mixture) if self.mixture is not None else None
        return fake, modes, js_divergence(self.eval_real, fake, self.half_width)

    def _record_metrics(self) -> None:
        _, modes, js = self._measure()
        self.history["metric_step"].append(float(self.steps))
        self.history["modes_captured"].append(float(modes.captured) if modes else math.nan)
        self.history["high_quality_share"].append(modes.high_quality_share if modes else math.nan)
        self.history["js"].append(js)

    def _grid_points(self, g: int) -> torch.Tensor:
        """The centres of g×g equal cells over [-w, w]², (g·g, 2), in reading order: top row first, left to right."""
        w = self.half_width
        centres = -w + (torch.arange(g, dtype=torch.float32) + 0.5) * (2 * w / g)
        ys, xs = torch.meshgrid(centres.flip(0), centres, indexing="ij")  # row 0 = largest y (the top)
        return torch.stack([xs.flatten(), ys.flatten()], dim=1)

    def view(self, n_points: int = 512, grid: int = 64, manifold: int = 16) -> LabView:
        """Everything the tab draws for the current state (see ``LabView``). Does not change the run."""
        s = self.settings
        generator = _generator(s.seed, VIEW)  # the same real points and z in every view
        real = sample_real(s.dataset, n_points, generator, self.points)
        z = sample_noise(s.noise, n_points, s.latent_dim, generator)
        with torch.no_grad():
            fake = self.G(z)
            outputs = self.D(self._grid_points(grid)).reshape(grid, grid)
            if s.loss in ("saturating", "nonsaturating"):
                outputs, kind = torch.sigmoid(outputs), "probability"
            else:
                kind = "lsgan" if s.loss == "lsgan" else "critic"
            span = 2.0 if s.noise == "gaussian" else 1.0
            ticks = torch.linspace(-span, span, manifold)
            zs = torch.zeros(manifold, manifold if s.latent_dim > 1 else 1, s.latent_dim)
            zs[..., 0] = ticks[:, None]
            if s.latent_dim > 1:
                zs[..., 1] = ticks[None, :]
            mesh = self.G(zs.reshape(-1, s.latent_dim)).reshape(zs.shape[0], zs.shape[1], 2)
            weights = torch.cat([m.weight.flatten() for m in self.D.modules() if isinstance(m, nn.Linear)])
        # The arrows need a gradient with respect to the fake points themselves: the one part outside no_grad.
        # autograd.grad computes only the gradient asked for (not D's weights' .grad, which stays untouched).
        x = fake.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(g_loss_fn(s.loss, self.D(x)) * n_points, x)
        return LabView(real=_as_numpy(real), fake=_as_numpy(fake), fake_arrows=_as_numpy(-grad),
                       d_grid=_as_numpy(outputs), d_grid_kind=kind, manifold=_as_numpy(mesh),
                       d_weights=_as_numpy(weights), half_width=self.half_width,
                       centers=_as_numpy(self.mixture.centers) if self.mixture is not None else None)

    def summary(self, n: int = 2500) -> dict:
        """The run's figures now, JSON-friendly: steps, dataset, loss, modes_captured / modes_total /
        high_quality_share (None without modes), js, the last d_loss / g_loss / g_grad_norm (None before the first
        step or when the last step did not train that network), ``samples``: the first ``n`` (at most ``EVAL_SIZE``)
        points of G on the fixed evaluation z, rounded to 4 decimals (None for a coordinate that is not finite, as
        after a diverged run), and the mixture's ``centers`` (or []). The figures are those of the full evaluation
        batch, whatever ``n``."""
        fake, modes, js = self._measure()

        def finite(value: float, digits: int | None = None):  # JSON has no NaN nor infinity: None instead
            if not math.isfinite(value):
                return None
            return value if digits is None else round(value, digits)

        def last(name: str):
            values = self.history[name]
            return finite(values[-1]) if values else None

        return {
            "steps": self.steps,
            "dataset": self.settings.dataset,
            "loss": self.settings.loss,
            "modes_captured": modes.captured if modes else None,
            "modes_total": modes.total if modes else None,
            "high_quality_share": modes.high_quality_share if modes else None,
            "js": js,
            "d_loss": last("d_loss"),
            "g_loss": last("g_loss"),
            "g_grad_norm": last("g_grad_norm"),
            "samples": [[finite(x, 4), finite(y, 4)] for x, y in fake[:n].tolist()],
            "centers": self.mixture.centers.tolist() if self.mixture is not None else [],
        }
