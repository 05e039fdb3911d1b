"""CycleGAN generator and discriminator (Zhu, Park, Isola & Efros, "Unpaired Image-to-Image
Translation using Cycle-Consistent Adversarial Networks", ICCV 2017, https://arxiv.org/abs/1703.10593).

CycleGAN learns two translators between two unpaired sets of images, G: A → B and F: B → A, with a
discriminator per domain. Nothing tells it which cloud horse belongs to which horse photo; instead
the *cycle-consistency* loss asks that F(G(a)) ≈ a and G(F(b)) ≈ b.

Generator (the paper's "ResNet" generator, after Johnson et al. 2016), with c = ``base_channels``
(64 in the paper; 32 here, so that a 256-px photo translates in well under half a second on two CPU cores):

    reflection-pad 3, 7x7 conv (c), instance norm, ReLU                  c  x H   x W
    two stride-2 3x3 convs (2c, 4c), each with instance norm and ReLU     4c x H/4 x W/4
    ``res_blocks`` residual blocks at 4c (6 in the paper for 128-px images, 9 for 256 px)
    two stride-2 transposed convs (2c, c), each with instance norm, ReLU  c  x H   x W
    reflection-pad 3, 7x7 conv to RGB, tanh

Instance normalisation (Ulyanov et al. 2016) normalises every image on its own, without learned
scale/shift (as in the reference code), and reflection padding avoids dark borders. Images enter and
leave in [0, 1]; H and W must be multiples of 4 (the demo pads and crops back).

What instance normalisation forgets: the first convolution followed by instance norm gives the same
features for x and for a·x + b (any brightness, any contrast a > 0), so the paper's generator cannot
know how bright its input was — a white studio horse comes back from the cycle as dark as an average
horse photo. ``global_stats=True`` hands the input's colour statistics (per channel: mean and standard
deviation, 6 numbers) past the normalisations to the output colours (a FiLM layer, Perez et al. 2018, on
the three colour channels before the tanh: logits · (1 + γ) + β, with γ, β a linear function of the 6
numbers, zero at the start, so that it begins as the paper's generator).

Discriminator: the 70x70 PatchGAN of pix2pix (Isola et al. 2017) — it does not say "real or fake"
for the whole image but for each overlapping 70x70 patch (an N x 1 x H/8-2 x W/8-2 map of scores),
which judges texture and local style and has few parameters.
"""

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn import functional as F

from models.model_card import MODEL_CARD, REPO_URL


class InstanceNorm(nn.Module):
    """Instance normalisation without learned scale/shift: every channel of every image to mean 0, variance 1.

    The same as ``nn.InstanceNorm2d(channels)`` (and it has no parameters either), computed as a group norm with
    one channel per group, which is about three times faster on a CPU.
    """

    def __init__(self, eps: float = 1e-5):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.group_norm(x, x.shape[1], eps=self.eps)


class ResidualBlock(nn.Module):
    """x + (pad, conv 3x3, IN, ReLU, pad, conv 3x3, IN)(x): shape-preserving."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), InstanceNorm(), nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), InstanceNorm(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def upsampling_layer(c_in: int, c_out: int, upsample: str) -> nn.Module:
    """(N, c_in, h, w) -> (N, c_out, 2h, 2w): the paper's 3x3 stride-2 transposed convolution, or a resize-convolution
    (nearest-neighbour doubling, then a 3x3 convolution; ``"bilinear"``: bilinear doubling, then the same convolution).
    A transposed convolution whose kernel size is not a multiple of its stride overlaps unevenly and paints a
    checkerboard; the resize-convolution cannot (Odena, Dumoulin & Olah, "Deconvolution and Checkerboard Artifacts",
    Distill 2016). Nearest-neighbour doubling still repeats each pixel in a 2x2 block, which the convolution after it
    must learn to smooth; bilinear doubling leaves no such blocks. Both have the same weights (the convolution's)."""
    if upsample == "transpose":
        return nn.ConvTranspose2d(c_in, c_out, 3, 2, 1, output_padding=1)
    if upsample == "resize":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1))
    if upsample == "bilinear":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                             nn.Conv2d(c_in, c_out, 3, 1, 1))
    raise ValueError(f"upsample must be 'transpose', 'resize' or 'bilinear', not {upsample!r}")


class CycleGANGenerator(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url="https://arxiv.org/abs/1703.10593",
    library_name="pytorch",
    tags=["cyclegan", "image-to-image", "unpaired", "generative-models-gallery"],
):
    """Images in [0, 1] (N, 3, H, W) -> translated images in [0, 1], same size. H, W multiples of 4.

    ``upsample``: "transpose" (the paper's transposed convolutions), "resize" (resize-convolutions, no checkerboard)
    or "bilinear" (bilinear doubling before the convolution); see ``upsampling_layer``. The shipped weights say which
    in their config.json."""

    def __init__(self, base_channels: int = 32, res_blocks: int = 6, upsample: str = "transpose",
                 global_stats: bool = False):
        super().__init__()
        # the arguments above, as saved in config.json (a --start-from run reads them to build its generator)
        self.settings = {"base_channels": base_channels, "res_blocks": res_blocks, "upsample": upsample,
                         "global_stats": global_stats}
        c = base_channels
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, c, 7), InstanceNorm(), nn.ReLU(inplace=True)]  # c x H x W
        layers += [nn.Conv2d(c, 2 * c, 3, 2, 1), InstanceNorm(), nn.ReLU(inplace=True)]          # 2c x H/2
        layers += [nn.Conv2d(2 * c, 4 * c, 3, 2, 1), InstanceNorm(), nn.ReLU(inplace=True)]      # 4c x H/4
        layers += [ResidualBlock(4 * c) for _ in range(res_blocks)]                                       # 4c x H/4
        layers += [upsampling_layer(4 * c, 2 * c, upsample), InstanceNorm(), nn.ReLU(inplace=True)]   # 2c x H/2
        layers += [upsampling_layer(2 * c, c, upsample), InstanceNorm(), nn.ReLU(inplace=True)]       # c x H x W
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, 3, 7), nn.Tanh()]                                    # 3 x H x W
        self.net = nn.Sequential(*layers)
        self.film = GlobalStatsFiLM(3) if global_stats else None   # on the 3 x H x W colour logits before tanh

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * 2 - 1
        if self.film is None:
            return (self.net(x) + 1) / 2
        logits, tanh = self.net[:-1], self.net[-1]                 # (N, 3, H, W) before the tanh
        return (tanh(self.film(logits(x), x)) + 1) / 2


class GlobalStatsFiLM(nn.Module):
    """h (N, c, H, W) · (1 + γ) + β, with (γ, β) = a linear map of the image's per-channel mean and standard
    deviation (N, 6): what the instance norms removed. Zero-initialised, so it starts as the identity."""

    def __init__(self, channels: int):
        super().__init__()
        self.linear = nn.Linear(6, 2 * channels)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, h: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        stats = torch.cat([image.mean(dim=(2, 3)), image.std(dim=(2, 3))], dim=1)           # (N, 6)
        gamma, beta = self.linear(stats)[:, :, None, None].chunk(2, dim=1)                  # (N, c, 1, 1) each
        return h * (1 + gamma) + beta


class PatchDiscriminator(nn.Module, PyTorchModelHubMixin, tags=["cyclegan", "patchgan", "generative-models-gallery"]):
    """70x70 PatchGAN: images in [0, 1] -> (N, 1, H/8 - 2, W/8 - 2) raw scores, one per overlapping patch.

    CycleGAN trains it with the least-squares loss (Mao et al. 2017): real patches -> 1, fakes -> 0.
    """

    def __init__(self, base_channels: int = 64):
        super().__init__()
        c = base_channels

        def act():
            return nn.LeakyReLU(0.2, inplace=True)

        self.net = nn.Sequential(
            nn.Conv2d(3, c, 4, 2, 1), act(),                                                  # c  x H/2
            nn.Conv2d(c, 2 * c, 4, 2, 1), InstanceNorm(), act(),                    # 2c x H/4
            nn.Conv2d(2 * c, 4 * c, 4, 2, 1), InstanceNorm(), act(),                # 4c x H/8
            nn.Conv2d(4 * c, 8 * c, 4, 1, 1), InstanceNorm(), act(),                # 8c x H/8-1
            nn.Conv2d(8 * c, 1, 4, 1, 1),                                                     # 1  x H/8-2
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1)
