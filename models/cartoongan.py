"""CartoonGAN generator and discriminator (Chen, Lai & Liu, "CartoonGAN: Generative Adversarial
Networks for Photo Cartoonization", CVPR 2018).

Generator (a photo in, the same photo drawn as a cartoon out), with c = ``base_channels`` (64 in the paper):

    flat 7x7 conv (c) → two down-convolutions (2c, 4c; stride 2 then stride 1 each)
    → ``res_blocks`` residual blocks at 4c (8 in the paper)
    → two up-convolutions (transposed stride 2 then stride 1; 2c, c) → 7x7 conv to RGB, tanh.

Normalisation is the instance normalisation of the released models (a per-channel ``scale`` and
``shift``), with reflection padding, so that the original Hayao / Hosoda / Paprika / Shinkai weights
can be converted into this layout by ``training/convert_cartoongan_weights.py``. Those were trained on
BGR images; ``bgr=True`` in the config makes the generator swap the channels itself.

Discriminator: the paper's shallow patch discriminator — it scores overlapping patches as
"cartoon" or "not", which is what makes the outputs' edges and flat regions cartoon-like.

``keep_photo_colours``: the cartoon's lightness with the photo's colours (Gatys et al. 2016's luminance-only
transfer), for a cartoon that keeps the photo's palette instead of the drawings' one.
"""

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn import functional as F

from models.imaging import gaussian_blur, lab_to_srgb, srgb_to_lab
from models.model_card import MODEL_CARD, REPO_URL


class InstanceNorm(nn.Module):
    """Instance normalisation with a per-channel ``scale`` and ``shift`` (the released models' parameter names)."""

    def __init__(self, channels: int, eps: float = 1e-9):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(channels))
        self.shift = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (x - mean) / sqrt(var + eps) * scale + shift, per image and channel — in one fused kernel
        # (3x faster on a CPU than writing it out with mean/var).
        return F.instance_norm(x, weight=self.scale, bias=self.shift, eps=self.eps)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3)
        self.norm1 = InstanceNorm(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3)
        self.norm2 = InstanceNorm(channels)

    def forward(self, x):
        h = F.relu(self.norm1(self.conv1(F.pad(x, [1, 1, 1, 1], mode="reflect"))))
        return x + self.norm2(self.conv2(F.pad(h, [1, 1, 1, 1], mode="reflect")))


class CartoonGenerator(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url="https://openaccess.thecvf.com/content_cvpr_2018/html/Chen_CartoonGAN_Generative_Adversarial_CVPR_2018_paper.html",
    library_name="pytorch",
    tags=["cartoongan", "image-to-image", "generative-models-gallery"],
):
    """Photos in [0, 1] (N, 3, H, W) -> cartoons in [0, 1]. H and W should be multiples of 4."""

    def __init__(self, base_channels: int = 64, res_blocks: int = 8, bgr: bool = False):
        super().__init__()
        c = base_channels
        self.bgr = bgr
        self.stem = nn.Conv2d(3, c, 7)                        # 3 x H x W (reflect-padded) -> c x H x W
        self.stem_norm = InstanceNorm(c)
        self.down1 = nn.Conv2d(c, 2 * c, 3, 2, 1)             # -> 2c x H/2 x W/2
        self.down1b = nn.Conv2d(2 * c, 2 * c, 3, 1, 1)
        self.down1_norm = InstanceNorm(2 * c)
        self.down2 = nn.Conv2d(2 * c, 4 * c, 3, 2, 1)         # -> 4c x H/4 x W/4
        self.down2b = nn.Conv2d(4 * c, 4 * c, 3, 1, 1)
        self.down2_norm = InstanceNorm(4 * c)
        self.blocks = nn.ModuleList(ResidualBlock(4 * c) for _i in range(res_blocks))
        self.up1 = nn.ConvTranspose2d(4 * c, 2 * c, 3, 2, 1, 1)  # -> 2c x H/2 x W/2
        self.up1b = nn.Conv2d(2 * c, 2 * c, 3, 1, 1)
        self.up1_norm = InstanceNorm(2 * c)
        self.up2 = nn.ConvTranspose2d(2 * c, c, 3, 2, 1, 1)      # -> c x H x W
        self.up2b = nn.Conv2d(c, c, 3, 1, 1)
        self.up2_norm = InstanceNorm(c)
        self.out = nn.Conv2d(c, 3, 7)                         # -> 3 x H x W

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * 2 - 1
        if self.bgr:
            x = x.flip(1)
        h = F.relu(self.stem_norm(self.stem(F.pad(x, [3, 3, 3, 3], mode="reflect"))))
        h = F.relu(self.down1_norm(self.down1b(self.down1(h))))
        h = F.relu(self.down2_norm(self.down2b(self.down2(h))))
        for block in self.blocks:
            h = block(h)
        h = F.relu(self.up1_norm(self.up1b(self.up1(h))))
        h = F.relu(self.up2_norm(self.up2b(self.up2(h))))
        y = torch.tanh(self.out(F.pad(h, [3, 3, 3, 3], mode="reflect")))
        if self.bgr:
            y = y.flip(1)
        return (y + 1) / 2


class CartoonDiscriminator(nn.Module, PyTorchModelHubMixin, tags=["cartoongan", "generative-models-gallery"]):
    """The paper's patch discriminator: images in [0, 1] -> a map of logits, one per overlapping patch."""

    def __init__(self, base_channels: int = 32):
        super().__init__()
        c = base_channels

        def act():
            return nn.LeakyReLU(0.2, inplace=True)

        self.net = nn.Sequential(
            nn.Conv2d(3, c, 3, 1, 1), act(),                                            # c x H x W
            nn.Conv2d(c, 2 * c, 3, 2, 1), act(),                                        # 2c x H/2
            nn.Conv2d(2 * c, 4 * c, 3, 1, 1), nn.BatchNorm2d(4 * c), act(),
            nn.Conv2d(4 * c, 4 * c, 3, 2, 1), act(),                                    # 4c x H/4
            nn.Conv2d(4 * c, 8 * c, 3, 1, 1), nn.BatchNorm2d(8 * c), act(),
            nn.Conv2d(8 * c, 8 * c, 3, 1, 1), nn.BatchNorm2d(8 * c), act(),
            nn.Conv2d(8 * c, 1, 3, 1, 1),                                               # 1 x H/4 x W/4
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1)


def keep_photo_colours(photos: torch.Tensor, cartoons: torch.Tensor) -> torch.Tensor:
    """Colour-preserving style transfer by *luminance-only transfer* (Gatys, Bethge, Hertzmann & Shechtman 2016,
    "Preserving Color in Neural Artistic Style Transfer"): in CIELAB, the cartoon's lightness L* (its outlines and
    flat shading) with the photo's colour a*, b*, the latter blurred a little (σ = 1/64 of the longer side) so that
    the cartoon's regions stay flat. (N, 3, H, W) in [0, 1], both the same size → (N, 3, H, W) in [0, 1]."""
    colour = gaussian_blur(srgb_to_lab(photos)[:, 1:], max(photos.shape[-2:]) / 64, padding="reflect")
    return lab_to_srgb(torch.cat([srgb_to_lab(cartoons.clamp(0, 1))[:, :1], colour], dim=1))
