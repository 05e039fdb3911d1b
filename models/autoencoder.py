"""Convolutional autoencoder for 28x28 MNIST digits, used plain and as a denoising autoencoder.

An autoencoder squeezes an image x through a small code h = f(x) and rebuilds it as
x̂ = g(h); training minimises a reconstruction loss L(x, x̂). A *denoising* autoencoder
(Vincent et al., "Extracting and Composing Robust Features with Denoising Autoencoders",
ICML 2008) is fed a corrupted copy x̃ ~ C(x̃ | x) but must still rebuild the clean x:

    minimise  E_x E_{x̃ ~ C(x̃|x)} [ L(x, g(f(x̃))) ]

so it learns where clean digits live and pulls noisy inputs back towards them.

The gallery ships two sets of weights with this same architecture, both trained by
``training/train_autoencoder.py`` on MNIST:

* ``pretrained/ae-mnist``       — the denoising autoencoder (trained on noisy inputs);
* ``pretrained/ae-mnist-plain`` — a plain autoencoder (trained on clean inputs only),
  kept so that students can compare the two on the same noisy digit.
"""

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from models.model_card import MODEL_CARD, REPO_URL


class ConvAutoencoder(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    library_name="pytorch",
    license="mit",
    tags=["autoencoder", "denoising-autoencoder", "mnist", "generative-models-gallery"],
):
    """Encoder: two strided convolutions and a linear layer down to ``latent_dim`` numbers.
    Decoder: the mirror image with transposed convolutions. Output: pixel logits
    (apply a sigmoid for intensities in [0, 1]).

    Args:
        channels: width of the first convolution (the second has twice as many).
        latent_dim: size of the bottleneck code h.
    """

    def __init__(self, channels: int = 32, latent_dim: int = 64):
        super().__init__()
        c = channels
        self.encoder = nn.Sequential(
            # input: 1 x 28 x 28
            nn.Conv2d(1, c, 3, stride=2, padding=1),
            nn.ReLU(inplace=True),
            # c x 14 x 14
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1),
            nn.ReLU(inplace=True),
            # (2c) x 7 x 7
            nn.Flatten(),
            nn.Linear(2 * c * 7 * 7, latent_dim),
            # latent_dim
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 2 * c * 7 * 7),
            nn.ReLU(inplace=True),
            nn.Unflatten(1, (2 * c, 7, 7)),
            # (2c) x 7 x 7
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            # c x 14 x 14
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1),
            # 1 x 28 x 28 (logits)
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) images in [0, 1] -> (N, latent_dim) codes."""
        return self.encoder(x)

    def decode_logits(self, h: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) codes -> (N, 1, 28, 28) pixel logits."""
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) images in [0, 1] -> reconstruction logits of the same shape."""
        return self.decode_logits(self.encode(x))

    @torch.inference_mode()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstructed intensities in [0, 1] (no gradients)."""
        return torch.sigmoid(self(x))
