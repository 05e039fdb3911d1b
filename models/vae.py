"""Variational autoencoder with a 2-D latent space for 28x28 MNIST digits.

Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.

The encoder outputs a Gaussian q_φ(z|x) = N(μ(x), diag σ²(x)); the decoder p_θ(x|z)
is a Bernoulli distribution per pixel. Training maximises the evidence lower bound

    log p(x) ≥ ELBO = E_{q_φ(z|x)}[log p_θ(x|z)] − β·KL(q_φ(z|x) ‖ N(0, I))

using the reparameterisation trick z = μ + σ ⊙ ε, ε ~ N(0, I), and (for β = 1, a
Gaussian posterior and a standard normal prior) the closed-form KL term

    KL = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²).

With a 2-D latent we can draw the whole latent space as a picture. The gallery ships

* ``pretrained/vae-mnist``       — the VAE (β = 1);
* ``pretrained/vae-mnist-beta0`` — the same network trained with β = 0, i.e. a plain
  deterministic autoencoder with a 2-D bottleneck (z = μ, no KL term), so students can
  see what the KL term does to the shape of the latent space.

Both are trained by ``training/train_vae.py``.
"""

import math

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn import functional as F

from models.model_card import MODEL_CARD, REPO_URL


class VAE(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url="https://arxiv.org/abs/1312.6114",
    library_name="pytorch",
    license="mit",
    tags=["vae", "variational-autoencoder", "mnist", "generative-models-gallery"],
):
    """MLP encoder 784 → hidden → hidden/2 → (μ, log σ²) and decoder latent → hidden/2 → hidden → 784 logits.

    Args:
        latent_dim: size of z (2 in the gallery, so the latent space can be drawn).
        hidden: width of the first hidden layer.
        beta: weight of the KL term it was trained with (0 = plain autoencoder, which
            also means the encoder is used deterministically: z = μ).
    """

    def __init__(self, latent_dim: int = 2, hidden: int = 512, beta: float = 1.0):
        super().__init__()
        self.latent_dim = latent_dim
        self.beta = beta
        self.encoder = nn.Sequential(
            nn.Flatten(),  # 784
            nn.Linear(28 * 28, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden // 2),
            nn.ReLU(inplace=True),
            nn.Linear(hidden // 2, 2 * latent_dim),  # μ and log σ²
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden // 2),
            nn.ReLU(inplace=True),
            nn.Linear(hidden // 2, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, 28 * 28),
            nn.Unflatten(1, (1, 28, 28)),  # 1 x 28 x 28 logits
        )

    @property
    def is_deterministic(self) -> bool:
        """True for the β = 0 model: a plain autoencoder whose code is z = μ."""
        return self.beta == 0

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 1, 28, 28) images in [0, 1] -> (μ, log σ²), each (N, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) -> (N, 1, 28, 28) Bernoulli logits."""
        return self.decoder(z)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) -> (N, 1, 28, 28) pixel means in [0, 1] (no gradients)."""
        return torch.sigmoid(self.decode_logits(z))

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None):
        """z = μ + σ ⊙ ε with ε ~ N(0, I); just μ for the deterministic (β = 0) model."""
        if self.is_deterministic:
            return mu
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """Returns (reconstruction logits, μ, log σ²)."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator)
        return self.decode_logits(z), mu, logvar


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) in nats, per example: ½ Σ (μ² + σ² − 1 − log σ²)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """−log p_θ(x|z) in nats, per example, for a Bernoulli decoder (binary cross-entropy summed over pixels)."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(dim=1)


@torch.inference_mode()
def negative_elbo(model: VAE, x: torch.Tensor, samples: int = 1, generator: torch.Generator | None = None):
    """Monte-Carlo estimate of −ELBO = E_q[−log p(x|z)] + KL, per example, in nats.

    Returns (neg_elbo, reconstruction term, KL term), each of shape (N,).
    """
    mu, logvar = model.encode(x)
    recon = torch.zeros(x.shape[0])
    for _ in range(samples):
        z = model.reparameterize(mu, logvar, generator)
        recon += reconstruction_nll(model.decode_logits(z), x)
    recon /= samples
    kl = kl_divergence(mu, logvar)
    return recon + kl, recon, kl


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between latent vectors a and b (shape (D,)) at fractions t (shape (T,)).

    White (2016), "Sampling Generative Networks": under a Gaussian prior most mass lies on a
    shell, and slerp keeps the path on it, whereas a straight line cuts through the middle.
    Falls back to linear interpolation when a and b are (almost) parallel.
    """
    t = t[:, None]
    a_n, b_n = a / a.norm().clamp_min(1e-8), b / b.norm().clamp_min(1e-8)
    omega = torch.arccos((a_n * b_n).sum().clamp(-1.0, 1.0))
    if omega.abs() < 1e-4 or math.isclose(float(omega), math.pi, abs_tol=1e-4):
        return (1 - t) * a + t * b
    so = torch.sin(omega)
    return torch.sin((1 - t) * omega) / so * a + torch.sin(t * omega) / so * b


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation (1 − t)·a + t·b for fractions t (shape (T,))."""
    t = t[:, None]
    return (1 - t) * a + t * b
