"""DCGAN generator and discriminator at 64x64 (Radford, Metz & Chintala, "Unsupervised Representation
Learning with Deep Convolutional Generative Adversarial Networks", 2015, arXiv:1511.06434).

The paper's architecture guidelines, followed here:

* no pooling: the generator upsamples with fractionally-strided (transposed) convolutions, the
  discriminator downsamples with strided convolutions;
* batch normalisation in both networks, except on the generator's output and the discriminator's input;
* no fully connected hidden layers: z is "projected and reshaped" by a first transposed convolution
  to a 4x4 map;
* ReLU in the generator (tanh at its output), LeakyReLU(0.2) in the discriminator;
* weights initialised from N(0, 0.02).

Generator, with g = ``ngf`` (128 in the paper's 64x64 LSUN model, whose first map is 1024 = 8g wide;
the gallery uses a narrower g so that a 16-sample grid renders in well under 150 ms on 2 CPU cores)::

    z (100) ─ project ─> 8g x 4x4 ─ up1 ─> 4g x 8x8 ─ up2 ─> 2g x 16x16 ─ up3 ─> g x 32x32 ─ to_rgb ─> 3 x 64x64

The ``g x 32x32`` maps after ``up3`` are the *second-highest convolution layer* of §6.3.1 of the paper
(the highest is ``to_rgb``). The window-forgetting experiment zeroes some of these maps:
``G(z, drop_maps=[...])``, or, step by step, ``h = G.features(z)`` then ``G.decode_from(h)``.

Discriminator, with d = ``ndf``: the mirror image (3 x 64x64 → d x 32x32 → 2d x 16x16 → 4d x 8x8 →
8d x 4x4 → one logit).

Samples are named ``seed:index``: the index-th of the ``SAMPLE_BATCH`` (16) z that ``z_batch(seed)`` draws. The
DCGAN tabs show and share samples by these names, and the hand-drawn window boxes of
``training/data/dcgan_window_boxes.json`` are keyed by them, so the rule must never change.
"""

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from models.model_card import MODEL_CARD, REPO_URL

PAPER_URL = "https://arxiv.org/abs/1511.06434"
TAGS = ["gan", "dcgan", "image-generation", "generative-models-gallery"]
SAMPLE_BATCH = 16  # a seed names 16 z: samples seed:0 … seed:15


def z_batch(seed: int, nz: int = 100) -> torch.Tensor:
    """The ``SAMPLE_BATCH`` latent vectors (16, nz) named by ``seed``: row i is sample ``seed:i``."""
    return torch.randn(SAMPLE_BATCH, nz, generator=torch.Generator().manual_seed(seed))


def z_for(tokens, nz: int = 100) -> torch.Tensor:
    """The z (len(tokens), nz) of the samples named by ``tokens``, pairs (seed, index)."""
    tokens = list(tokens)
    if not tokens:
        return torch.zeros(0, nz)
    return torch.stack([z_batch(seed, nz)[index] for seed, index in tokens])


def init_dcgan_weights(module: nn.Module) -> None:
    """The paper's initialisation: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02), shift 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def up_block(cin: int, cout: int) -> nn.Sequential:
    """Fractionally-strided convolution that doubles the size, then BatchNorm and ReLU."""
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


def down_block(cin: int, cout: int, norm: bool = True) -> nn.Sequential:
    """Strided convolution that halves the size, then (BatchNorm and) LeakyReLU(0.2)."""
    layers = [nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


class Generator(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url=PAPER_URL,
    library_name="pytorch",
    license="mit",
    tags=TAGS,
):
    """DCGAN generator: z (N, nz) → images (N, nc, 64, 64) in [-1, 1]."""

    def __init__(self, nz: int = 100, ngf: int = 48, nc: int = 3):
        super().__init__()
        self.nz, self.ngf, self.nc = nz, ngf, nc
        self.project = nn.Sequential(  # z as a 1x1 map -> 8g x 4 x 4
            nn.ConvTranspose2d(nz, 8 * ngf, 4, stride=1, padding=0, bias=False), nn.BatchNorm2d(8 * ngf),
            nn.ReLU(inplace=True))
        self.up1 = up_block(8 * ngf, 4 * ngf)  # -> 4g x 8 x 8
        self.up2 = up_block(4 * ngf, 2 * ngf)  # -> 2g x 16 x 16
        self.up3 = up_block(2 * ngf, ngf)      # -> g x 32 x 32: the second-highest conv layer
        self.to_rgb = nn.ConvTranspose2d(ngf, nc, 4, stride=2, padding=1)  # -> nc x 64 x 64, then tanh
        init_dcgan_weights(self)

    @property
    def feature_maps(self) -> int:
        """How many maps the second-highest conv layer has (``ngf``)."""
        return self.ngf

    def features(self, z: torch.Tensor) -> torch.Tensor:
        """The second-highest conv layer's maps (N, ngf, 32, 32), after BatchNorm and ReLU, for z (N, nz)."""
        h = self.project(z.reshape(z.shape[0], self.nz, 1, 1))
        return self.up3(self.up2(self.up1(h)))

    def decode_from(self, h: torch.Tensor) -> torch.Tensor:
        """Images (N, nc, 64, 64) in [-1, 1] from (possibly edited) second-highest-layer maps h (N, ngf, 32, 32)."""
        return torch.tanh(self.to_rgb(h))

    @staticmethod
    def drop(h: torch.Tensor, drop_maps, fill=None) -> torch.Tensor:
        """h with the maps listed in ``drop_maps`` (channel indices) zeroed at every spatial location (the paper),
        or, with ``fill`` (C,), set to the constant fill[c] (e.g. the map's average activation: the map's spatial
        pattern is removed but the average colour it contributes stays)."""
        if drop_maps is None or len(drop_maps) == 0:
            return h
        keep = torch.ones(h.shape[1], dtype=h.dtype, device=h.device)
        keep[torch.as_tensor(list(drop_maps), dtype=torch.long, device=h.device)] = 0
        out = h * keep.view(1, -1, 1, 1)
        if fill is not None:
            out = out + ((1 - keep) * torch.as_tensor(fill, dtype=h.dtype, device=h.device)).view(1, -1, 1, 1)
        return out

    def forward(self, z: torch.Tensor, drop_maps=None, fill=None) -> torch.Tensor:
        """Images (N, nc, 64, 64) in [-1, 1]; ``drop_maps``: indices of second-highest-layer maps to zero
        (or to set to ``fill``)."""
        return self.decode_from(self.drop(self.features(z), drop_maps, fill))


class Discriminator(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url=PAPER_URL,
    library_name="pytorch",
    license="mit",
    tags=TAGS,
):
    """DCGAN discriminator: images (N, nc, 64, 64) in [-1, 1] → logits (N,) (real > 0 > fake)."""

    def __init__(self, ndf: int = 64, nc: int = 3):
        super().__init__()
        self.ndf, self.nc = ndf, nc
        self.body = nn.Sequential(
            down_block(nc, ndf, norm=False),  # -> d x 32 x 32 (no BatchNorm on the input layer)
            down_block(ndf, 2 * ndf),         # -> 2d x 16 x 16
            down_block(2 * ndf, 4 * ndf),     # -> 4d x 8 x 8
            down_block(4 * ndf, 8 * ndf),     # -> 8d x 4 x 4
        )
        self.head = nn.Conv2d(8 * ndf, 1, 4, stride=1, padding=0)  # -> 1 x 1 x 1
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x)).flatten()
