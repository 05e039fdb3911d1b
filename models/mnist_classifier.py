"""A small convolutional MNIST classifier, used as a judge of generated digits.

Generative models have no accuracy; to measure a digit generator we ask a good classifier
(≥ 99 % test accuracy) how sure it is about each generated digit, how the classes are spread
(mode collapse shows as missing classes), and how far the generated digits are from real ones
in its feature space: the Fréchet distance between Gaussians fitted to its penultimate-layer
features (the idea of FID, Heusel et al. 2017, with an MNIST network instead of Inception-v3).

Trained by ``training/train_mnist_classifier.py`` (slug ``mnist-classifier``).
"""

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn import functional as F

from models.model_card import MODEL_CARD, REPO_URL

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class MnistClassifier(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    library_name="pytorch",
    license="mit",
    tags=["image-classification", "mnist", "generative-models-gallery"],
):
    """Two conv blocks (conv-BN-ReLU ×2, max-pool) and an MLP head.

    Input: (B, 1, 28, 28) grey digits in [0, 1] (white on black, like MNIST).

        (B,1,28,28) → [conv 3×3 ×2, pool] → (B,c,14,14) → [conv 3×3 ×2, pool] → (B,2c,7,7)
                    → flatten → Linear → ReLU = features (B, feature_dim) → Linear → logits (B, 10)

    Args:
        channels: width c of the first block (the second has 2c).
        feature_dim: size of the penultimate layer (the features of the Fréchet distance).
    """

    def __init__(self, channels: int = 32, feature_dim: int = 128):
        super().__init__()
        c = channels

        def block(cin, cout):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )

        self.body = nn.Sequential(block(1, c), block(c, 2 * c), nn.Flatten(), nn.Dropout(0.3),
                                  nn.Linear(2 * c * 7 * 7, feature_dim), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(feature_dim, 10))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features (B, feature_dim) of digits x (B, 1, 28, 28) in [0, 1]."""
        return self.body((x - MNIST_MEAN) / MNIST_STD)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, 10)."""
        return self.head(self.features(x))

    @torch.inference_mode()
    def predict(self, x: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(probabilities (B, 10), features (B, feature_dim), predicted labels (B,)) in eval mode, batched."""
        probs, feats = [], []
        for start in range(0, x.shape[0], batch_size):
            f = self.features(x[start:start + batch_size])
            feats.append(f)
            probs.append(F.softmax(self.head(f), dim=1))
        p = torch.cat(probs)
        return p, torch.cat(feats), p.argmax(1)
