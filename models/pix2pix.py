"""pix2pix (Isola, Zhu, Zhou & Efros, "Image-to-Image Translation with Conditional Adversarial Networks",
CVPR 2017): a U-Net generator and a PatchGAN discriminator that looks at (input, output) pairs.

Generator G: an edge map x (N, 1, H, W), black lines on white in [0, 1] → a photo G(x) (N, 3, H, W) in [0, 1].
It is the paper's U-Net: an encoder of ``depth`` stride-2 4x4 convolutions (C64-C128-C256-C512-... in the
paper; here ``base_channels`` · 1, 2, 4, ... capped at ``max_multiplier``) down to a 1x1 bottleneck for a
2^depth-pixel input, a mirror decoder of transposed convolutions, and **skip connections** that concatenate
each encoder layer's output to the decoder layer of the same resolution — so the fine detail of the input
(where the lines are) does not have to squeeze through the bottleneck. Dropout (p = 0.5) in the three
innermost decoder layers is the paper's only source of randomness (it found input noise z was ignored).

Discriminator D (PatchGAN): a small convolutional network on the *pair* (x, y) concatenated along the
channels, that outputs a grid of logits, one per overlapping 70x70 patch (for ``layers=3``): "is this patch
of y a real photo patch *for this edge map*?". Judging patches rather than the whole image is what asks for
sharp, realistic texture, while the L1 term of the loss takes care of the low frequencies.

H and W must be multiples of 2^depth (128 for the default depth 7).

Two options of the generator (JSON-friendly, so they live in config.json; the defaults are the shipped
architecture):

* ``upsample="resize"`` — **resize-convolution** (Odena, Dumoulin & Olah, "Deconvolution and Checkerboard
  Artifacts", Distill 2016, https://distill.pub/2016/deconv-checkerboard/). A 4x4 transposed convolution of
  stride 2 computes the four output pixels of each 2x2 cell with four *different* 2x2 subsets of its kernel, so
  even a flat input can come out as a 2-pixel checkerboard, which training must learn to cancel (it rarely does
  completely). Doubling the size with nearest-neighbour resizing and then a 3x3 convolution treats every pixel
  alike: a flat input stays flat, and a nearest-neighbour image has no energy at the 2-pixel period at all.
* ``encoder="lite0"`` — **transfer learning**: the encoder is EfficientNet-Lite0's stem and 16 blocks
  (``models/efficientnet_lite.py``), initialised from its ImageNet weights at training time
  (:meth:`UNetGenerator.init_encoder`), so the generator starts with filters that already know edges, fur
  texture and cat parts. The edge map is given to it as a grey RGB image. Its activations at 64, 32, 16, 8 and
  4 px (of a 128-px input) are the skip connections of a decoder that doubles the size five times (by
  ``upsample``), and the edge map itself is the skip at full size. ``depth`` is ignored (the encoder is fixed);
  ``base_channels`` · 1, 2, 4, ... capped at ``max_multiplier`` are the decoder's widths from 128 px down.
"""

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn import functional as F

from models.efficientnet_lite import EfficientNetLite0
from models.model_card import MODEL_CARD, REPO_URL

PAPER_URL = "https://arxiv.org/abs/1611.07004"
# EfficientNet-Lite0 activations used as skip connections (``encoder="lite0"``), with their channels; for a 128-px
# input they are 64, 32, 16, 8 and 4 px (the end of stages 1, 2, 3, 5 and 7 of the network).
LITE0_SKIPS = (("block0", 16), ("block2", 24), ("block4", 40), ("block10", 112), ("block15", 320))


def upsampling_conv(c_in: int, c_out: int, upsample: str) -> nn.Module:
    """(N, c_in, h, w) -> (N, c_out, 2h, 2w): the paper's 4x4 stride-2 transposed convolution, or a resize-convolution
    (nearest-neighbour doubling, then a 3x3 convolution; Odena et al. 2016)."""
    if upsample == "transpose":
        return nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)
    if upsample == "resize":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1))
    raise ValueError(f"upsample must be 'transpose' or 'resize', not {upsample!r}")


class UNetGenerator(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url=PAPER_URL,
    library_name="pytorch",
    tags=["pix2pix", "image-to-image", "generative-models-gallery"],
):
    """Edge maps (N, in_channels, H, W) in [0, 1] → images (N, out_channels, H, W) in [0, 1]."""

    def __init__(self, in_channels: int = 1, out_channels: int = 3, base_channels: int = 32,
                 max_multiplier: int = 3, depth: int = 7, dropout: float = 0.5, dropout_layers: int = 3,
                 upsample: str = "transpose", encoder: str = "unet"):
        super().__init__()
        if encoder not in ("unet", "lite0"):
            raise ValueError(f"encoder must be 'unet' or 'lite0', not {encoder!r}")
        self.encoder_kind = encoder
        self.depth = depth if encoder == "unet" else len(LITE0_SKIPS)
        self.dropout = dropout
        self.dropout_layers = dropout_layers
        widths = [base_channels * min(2 ** i, max_multiplier) for i in range(self.depth)]  # width at H/2^(i+1)
        self.up = nn.ModuleList()
        self.up_norm = nn.ModuleList()
        if encoder == "lite0":
            self.encoder = EfficientNetLite0()
            for name in ("_conv_head", "_bn1", "_dropout", "_fc"):    # only the stem and the 16 blocks are used
                delattr(self.encoder, name)
            for m in self.encoder.modules():                          # (edge maps are not ImageNet photos: let the
                if isinstance(m, nn.BatchNorm2d):                     # running statistics adapt within ~10 steps)
                    m.momentum = 0.1
            skips = [c for _, c in LITE0_SKIPS]
            for i in reversed(range(self.depth)):      # up i: (c [+ skip], H/2^(i+1)) -> (widths[i], H/2^i)
                c_in = skips[i] if i == self.depth - 1 else widths[i + 1] + skips[i]
                self.up.append(upsampling_conv(c_in, widths[i], upsample))
                self.up_norm.append(nn.InstanceNorm2d(widths[i], affine=True))
            self.to_rgb = nn.Conv2d(widths[0] + in_channels, out_channels, 3, 1, 1)  # the edge map is the last skip
            self.register_buffer("ones", torch.ones(1, 3, 1, 1), persistent=False)
            return
        self.down = nn.ModuleList()
        self.down_norm = nn.ModuleList()
        for i in range(depth):                         # down i: (c_{i-1}, H/2^i) -> (c_i, H/2^(i+1))
            self.down.append(nn.Conv2d(in_channels if i == 0 else widths[i - 1], widths[i], 4, 2, 1))
            # No norm on the outermost layer (as in the paper) nor on the 1x1 bottleneck (nothing to normalise).
            has_norm = 0 < i < depth - 1
            self.down_norm.append(nn.InstanceNorm2d(widths[i], affine=True) if has_norm else nn.Identity())
        for i in reversed(range(depth)):               # up i: (c_i [+ skip c_i], H/2^(i+1)) -> (c_{i-1}, H/2^i)
            c_in = widths[i] if i == depth - 1 else 2 * widths[i]
            c_out = out_channels if i == 0 else widths[i - 1]
            self.up.append(upsampling_conv(c_in, c_out, upsample))
            self.up_norm.append(nn.InstanceNorm2d(c_out, affine=True) if i > 0 else nn.Identity())

    @torch.no_grad()
    def init_encoder(self, lite0: EfficientNetLite0):
        """Copy the ImageNet weights of a loaded EfficientNet-Lite0 into the encoder (``encoder="lite0"`` only)."""
        missing, _head = self.encoder.load_state_dict(lite0.state_dict(), strict=False)
        assert not missing, missing

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The skip connections, from the finest (H/2) to the coarsest (H/2^depth)."""
        if self.encoder_kind == "lite0":
            feats = self.encoder.features(x[:, :1] * self.ones, upto=15)   # grey RGB (N, 3, H, W); ImageNet-normalised
            return [feats[name] for name, _ in LITE0_SKIPS]                # (N, 16, H/2) ... (N, 320, H/32)
        h, skips = x * 2 - 1, []
        for i, (conv, norm) in enumerate(zip(self.down, self.down_norm)):
            h = norm(conv(h if i == 0 else F.leaky_relu(h, 0.2)))
            skips.append(h)                                                # (N, c_i, H/2^(i+1), W/2^(i+1))
        return skips

    def forward(self, x: torch.Tensor, dropout_noise: bool = False) -> torch.Tensor:
        """``dropout_noise=True`` keeps dropout on outside training (the paper's test-time noise)."""
        skips = self.encode(x)
        h = skips[-1]                                                      # the bottleneck
        for j, (conv, norm) in enumerate(zip(self.up, self.up_norm)):
            if j > 0:
                h = torch.cat([h, skips[self.depth - 1 - j]], dim=1)       # the skip connection
            h = norm(conv(F.relu(h)))                                      # twice the size
            if j < self.dropout_layers and j < self.depth - 1:
                h = F.dropout(h, self.dropout, training=self.training or dropout_noise)
        if self.encoder_kind == "lite0":
            h = self.to_rgb(torch.cat([F.relu(h), x * 2 - 1], dim=1))      # (N, out_channels, H, W)
        return (torch.tanh(h) + 1) / 2


def checkerboard_score(images: torch.Tensor) -> float:
    """How strongly a set of images (N, C, H, W) shows a 2-pixel checkerboard: the power spectrum (2-D DFT, averaged
    over the images and channels) at the three frequencies whose period is 2 px (along rows, columns, diagonals),
    each divided by the mean power of its 8 neighbouring frequencies, averaged. A natural image's spectrum is smooth
    there (about 1); a checkerboard pattern, even a faint one, is a peak (much more than 1)."""
    x = images.float()
    power = torch.fft.fft2(x - x.mean(dim=(-2, -1), keepdim=True)).abs().pow(2).mean(dim=(0, 1))  # (H, W)
    H, W = power.shape
    ratios = []
    for py, px in ((H // 2, 0), (0, W // 2), (H // 2, W // 2)):
        around = [power[(py + dy) % H, (px + dx) % W] for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
        ratios.append(power[py, px] / torch.stack(around).mean().clamp_min(1e-20))
    return float(torch.stack(ratios).mean())


class PatchDiscriminator(nn.Module, PyTorchModelHubMixin, tags=["pix2pix", "generative-models-gallery"]):
    """The pair (edges (N, 1, H, W), image (N, 3, H, W)), both in [0, 1] → logits (N, 1, H/8 - 2, W/8 - 2)
    for ``layers=3``: one per 70x70 patch of the input."""

    def __init__(self, condition_channels: int = 1, image_channels: int = 3, base_channels: int = 32, layers: int = 3):
        super().__init__()
        c = base_channels
        blocks = [nn.Conv2d(condition_channels + image_channels, c, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        width = c
        for i in range(1, layers + 1):                 # C128-C256 (stride 2), then C512 (stride 1) in the paper
            new = c * min(2 ** i, 8)
            blocks += [nn.Conv2d(width, new, 4, 2 if i < layers else 1, 1),
                       nn.InstanceNorm2d(new, affine=True), nn.LeakyReLU(0.2, True)]
            width = new
        blocks.append(nn.Conv2d(width, 1, 4, 1, 1))
        self.net = nn.Sequential(*blocks)

    def forward(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([condition, image], dim=1) * 2 - 1)
