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
"""

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn import functional as F

from models.model_card import MODEL_CARD, REPO_URL

PAPER_URL = "https://arxiv.org/abs/1611.07004"


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
                 max_multiplier: int = 3, depth: int = 7, dropout: float = 0.5, dropout_layers: int = 3):
        super().__init__()
        widths = [base_channels * min(2 ** i, max_multiplier) for i in range(depth)]  # encoder widths
        self.depth = depth
        self.dropout = dropout
        self.dropout_layers = dropout_layers
        self.down = nn.ModuleList()
        self.down_norm = nn.ModuleList()
        for i in range(depth):                         # down i: (c_{i-1}, H/2^i) -> (c_i, H/2^(i+1))
            self.down.append(nn.Conv2d(in_channels if i == 0 else widths[i - 1], widths[i], 4, 2, 1))
            # No norm on the outermost layer (as in the paper) nor on the 1x1 bottleneck (nothing to normalise).
            has_norm = 0 < i < depth - 1
            self.down_norm.append(nn.InstanceNorm2d(widths[i], affine=True) if has_norm else nn.Identity())
        self.up = nn.ModuleList()
        self.up_norm = nn.ModuleList()
        for i in reversed(range(depth)):               # up i: (c_i [+ skip c_i], H/2^(i+1)) -> (c_{i-1}, H/2^i)
            c_in = widths[i] if i == depth - 1 else 2 * widths[i]
            c_out = out_channels if i == 0 else widths[i - 1]
            self.up.append(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1))
            self.up_norm.append(nn.InstanceNorm2d(c_out, affine=True) if i > 0 else nn.Identity())

    def forward(self, x: torch.Tensor, dropout_noise: bool = False) -> torch.Tensor:
        """``dropout_noise=True`` keeps dropout on outside training (the paper's test-time noise)."""
        h = x * 2 - 1
        skips = []
        for i, (conv, norm) in enumerate(zip(self.down, self.down_norm)):
            h = norm(conv(h if i == 0 else F.leaky_relu(h, 0.2)))
            skips.append(h)                                                    # (N, c_i, H/2^(i+1), W/2^(i+1))
        for j, (conv, norm) in enumerate(zip(self.up, self.up_norm)):
            if j > 0:
                h = torch.cat([h, skips[self.depth - 1 - j]], dim=1)             # the skip connection
            h = norm(conv(F.relu(h)))
            if j < self.dropout_layers and j < self.depth - 1:
                h = F.dropout(h, self.dropout, training=self.training or dropout_noise)
        return (torch.tanh(h) + 1) / 2


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
