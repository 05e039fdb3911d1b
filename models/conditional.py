"""Conditional generators of 28x28 MNIST digits: you choose the class y, the network draws the style.

Three models, all conditioned on a class vector y (B, 10): a one-hot vector, or a soft mixture of two
(the app slides between two labels, so y always enters through a linear layer, never a table lookup).

* **Conditional GAN** (Mirza & Osindero, "Conditional Generative Adversarial Nets", 2014, arXiv:1411.1784).
  Both players see the label: G(z, y) and D(x, y), and the minimax game of the GAN becomes

      min_G max_D  E_{x,y ~ data}[log D(x, y)] + E_{z ~ N(0, I), y ~ p(y)}[log(1 − D(G(z, y), y))].

  Our D(x, y) is a *projection discriminator* (Miyato & Koyama, "cGANs with Projection Discriminator",
  ICLR 2018): logit = ψ(φ(x)) + ⟨V y, φ(x)⟩, a robust way to let D check "is this a real *3*?".
  Generator slug ``cgan-mnist``.

* **AC-GAN** (Odena, Olah & Shlens, "Conditional Image Synthesis with Auxiliary Classifier GANs",
  ICML 2017, arXiv:1610.09585). D does not get the label; it has two heads instead: P(real | x) and
  P(class | x). With L_S = E[log P(S = real | x_real)] + E[log P(S = fake | x_fake)] (the source) and
  L_C = E[log P(C = c | x_real)] + E[log P(C = c | x_fake)] (the class), D maximises L_S + L_C and
  G maximises L_C − L_S: G must fool the real/fake head *and* make digits the class head recognises.
  Slugs ``acgan-mnist`` (G) and ``acgan-mnist-discriminator`` (D: the app shows its verdict).

* **Conditional VAE** (Sohn, Lee & Yan, "Learning Structured Output Representation using Deep
  Conditional Generative Models", NeurIPS 2015). The label enters the encoder q(z | x, y) and the
  decoder p(x | z, y); the ELBO is the VAE's with everything conditioned on y:

      log p(x | y) ≥ E_{q(z|x,y)}[log p(x | z, y)] − KL(q(z | x, y) ‖ N(0, I)).

  The decoder is told the class, so z does not need to store it and keeps only the *style*
  (slant, thickness, size): the same z with another y writes another digit in the same hand.
  Slug ``cvae-mnist``.

The GAN networks follow DCGAN's guidelines (Radford et al. 2015, see ``models/dcgan.py``) at 28x28:
7x7 → 14x14 → 28x28 with transposed convolutions in G, strided convolutions in D, LeakyReLU(0.2), weights
~ N(0, 0.02); but no BatchNorm (see the classes: it made our conditional G collapse), and dropout in D.
Images are white digits on black in [0, 1], like MNIST; D rescales them to [-1, 1] itself.
Trained by ``training/train_cgan.py``, ``training/train_acgan.py`` and ``training/train_cvae.py``.
"""

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn import functional as F

from models.dcgan import init_dcgan_weights
from models.model_card import MODEL_CARD, REPO_URL

NUM_CLASSES = 10
CGAN_PAPER = "https://arxiv.org/abs/1411.1784"
ACGAN_PAPER = "https://arxiv.org/abs/1610.09585"
CVAE_PAPER = "https://papers.nips.cc/paper/5775-learning-structured-output-representation-using-deep-conditional-generative-models"
TAGS = ["conditional-generation", "mnist", "generative-models-gallery"]


def z_batch(seed: int, n: int, nz: int, truncation: float | None = None) -> torch.Tensor:
    """n latent vectors (n, nz) ~ N(0, I), the same for the same seed (a torch.Generator seeded with ``seed``).

    ``truncation`` ψ: the *truncation trick* (Brock, Donahue & Simonyan 2019, BigGAN): every coordinate with
    |z_i| > ψ is drawn again until none is, so z comes from a normal truncated to [−ψ, ψ]. A smaller ψ keeps z
    where the generator saw most of its training noise: more typical, cleaner samples, less variety. None: no
    truncation. Coordinates inside [−ψ, ψ] are the same as without it (only the others are redrawn)."""
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(n, nz, generator=generator)
    if truncation is not None:
        if not truncation > 0:
            raise ValueError(f"truncation must be > 0, got {truncation}")
        while (outside := z.abs() > truncation).any():
            z[outside] = torch.randn(int(outside.sum()), generator=generator)
    return z


def init_gan_weights(module: nn.Module) -> None:
    """DCGAN's initialisation (``models.dcgan.init_dcgan_weights``: weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02)),
    extended to the fully connected layers (a Linear is a 1x1 convolution) and BatchNorm1d."""
    init_dcgan_weights(module)
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm1d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def one_hot(labels: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """Class indices (B,) long → one-hot vectors (B, num_classes) float."""
    return F.one_hot(labels.long(), num_classes).float()


class ConditionalGenerator(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url=CGAN_PAPER,
    library_name="pytorch",
    license="mit",
    tags=TAGS + ["gan", "cgan", "acgan"],
):
    """G(z, y): noise z (B, nz) and class vector y (B, 10) → digits (B, 1, 28, 28) in [0, 1].

    Used by both the conditional GAN and the AC-GAN (they differ only in how D is built and trained)::

        [z (B,nz), y (B,10)] ─ Linear, LeakyReLU ─> (B,2c,7,7) ─ ConvT 4x4/2, LeakyReLU ─> (B,c,14,14)
            ─ ConvT 4x4/2, sigmoid ─> (B,1,28,28)

    y enters through the first linear layer, as in Mirza & Osindero, so a soft mixture of two one-hot vectors mixes
    the two classes' contributions. Unlike DCGAN there is no BatchNorm: with it, our conditional G learnt within a
    few hundred steps to ignore z and draw a single digit per class (mode collapse); without it, it did not.

    Args:
        nz: size of the noise vector z.
        channels: width c of the 14x14 layer (the 7x7 layer has 2c).
        num_classes: length of y.
    """

    def __init__(self, nz: int = 64, channels: int = 64, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.nz, self.channels, self.num_classes = nz, channels, num_classes
        c = channels
        self.project = nn.Sequential(nn.Linear(nz + num_classes, 2 * c * 7 * 7), nn.LeakyReLU(0.2, inplace=True),
                                     nn.Unflatten(1, (2 * c, 7, 7)))  # DCGAN's "project and reshape"
        self.up = nn.Sequential(nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1),  # -> c x 14 x 14
                                nn.LeakyReLU(0.2, inplace=True))
        self.to_image = nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1)  # -> 1 x 28 x 28 logits
        init_gan_weights(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.to_image(self.up(self.project(torch.cat([z, y], dim=1)))))


def _features(channels: int) -> nn.Sequential:
    """D's body φ(x): (B,1,28,28) in [-1,1] → (B, 2c·7·7) — two strided convolutions with LeakyReLU(0.2).

    Dropout(0.3) instead of DCGAN's BatchNorm: it keeps D from winning too early (with BatchNorm our conditional D
    won at once and G collapsed to one digit per class), and D's verdict on one digit does not depend on the batch.
    """
    c = channels
    return nn.Sequential(
        nn.Conv2d(1, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True), nn.Dropout(0.3),  # -> c x 14 x 14
        nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True), nn.Dropout(0.3),  # -> 2c x 7 x 7
        nn.Flatten(),
    )


class ConditionalDiscriminator(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url=CGAN_PAPER,
    library_name="pytorch",
    license="mit",
    tags=TAGS + ["gan", "cgan"],
):
    """D(x, y) of the conditional GAN, a projection discriminator:
    logit = w·φ(x) + b + ⟨V y, φ(x)⟩, with φ(x) (B, 2c·7·7) the conv features.

    Input: digits x (B, 1, 28, 28) in [0, 1] and class vectors y (B, 10). Output: real/fake logits (B,).
    """

    def __init__(self, channels: int = 64, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.channels, self.num_classes = channels, num_classes
        self.body = _features(channels)
        self.head = nn.Linear(2 * channels * 7 * 7, 1)  # ψ(φ(x)): "does this look like a digit at all?"
        self.project = nn.Linear(num_classes, 2 * channels * 7 * 7, bias=False)  # V y: "... like *this* digit?"
        init_gan_weights(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        f = self.body(2 * x - 1)
        return self.head(f).squeeze(1) + (self.project(y) * f).sum(dim=1)


class ACGANDiscriminator(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url=ACGAN_PAPER,
    library_name="pytorch",
    license="mit",
    tags=TAGS + ["gan", "acgan"],
):
    """D of the AC-GAN: digits x (B, 1, 28, 28) in [0, 1] → (real/fake logit (B,), class logits (B, 10)).

    P(real | x) = sigmoid(real_logit) and P(class | x) = softmax(class_logits): one body φ(x), two heads.
    """

    def __init__(self, channels: int = 64, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.channels, self.num_classes = channels, num_classes
        self.body = _features(channels)
        self.source = nn.Linear(2 * channels * 7 * 7, 1)  # S: real or fake
        self.classes = nn.Linear(2 * channels * 7 * 7, num_classes)  # C: which digit
        init_gan_weights(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.body(2 * x - 1)
        return self.source(f).squeeze(1), self.classes(f)


class ConditionalVAE(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url=CVAE_PAPER,
    library_name="pytorch",
    license="mit",
    tags=TAGS + ["vae", "cvae", "variational-autoencoder"],
):
    """Conditional VAE with MLPs: encoder q(z | x, y), Bernoulli decoder p(x | z, y).

        encoder: [x flattened (784), y (10)] → hidden → hidden/2 → (μ, log σ²), each (B, latent_dim)
        decoder: [z (latent_dim), y (10)]    → hidden/2 → hidden → 784 logits → (B, 1, 28, 28)

    Args:
        latent_dim: size of z (the style).
        hidden: width of the widest hidden layer.
        num_classes: length of y.
    """

    def __init__(self, latent_dim: int = 16, hidden: int = 512, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.latent_dim, self.hidden, self.num_classes = latent_dim, hidden, num_classes
        self.encoder = nn.Sequential(
            nn.Linear(28 * 28 + num_classes, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden // 2), nn.ReLU(inplace=True),
            nn.Linear(hidden // 2, 2 * latent_dim),  # μ and log σ²
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim + num_classes, hidden // 2), nn.ReLU(inplace=True),
            nn.Linear(hidden // 2, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, 28 * 28), nn.Unflatten(1, (1, 28, 28)),  # Bernoulli logits
        )

    def encode(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Digits (B, 1, 28, 28) in [0, 1] and classes y (B, 10) → (μ, log σ²), each (B, latent_dim)."""
        mu, logvar = self.encoder(torch.cat([x.flatten(1), y], dim=1)).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) and (B, 10) → (B, 1, 28, 28) Bernoulli logits."""
        return self.decoder(torch.cat([z, y], dim=1))

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) and (B, 10) → (B, 1, 28, 28) pixel probabilities in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None):
        """Returns (reconstruction logits (B,1,28,28), μ, log σ²), with z = μ + σ ⊙ ε (reparameterisation)."""
        mu, logvar = self.encode(x, y)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        return self.decode_logits(mu + torch.exp(0.5 * logvar) * eps, y), mu, logvar
