"""VQ-VAE for 28x28 MNIST digits: a 7×7 grid of codebook indices, and an autoregressive prior over it.

van den Oord, Vinyals & Kavukcuoglu, "Neural Discrete Representation Learning", NeurIPS 2017
(arXiv:1711.00937).

The encoder maps a digit x to a 7×7 grid of vectors z_e(x) ∈ R^D. Each vector is replaced by its nearest
entry of a codebook e_1 … e_K (K = 64 here), so the latent is just 49 integers k_ij = argmin_k ‖z_e,ij − e_k‖
and z_q,ij = e_{k_ij}; the decoder rebuilds the digit from z_q. Per image, the loss is

    L = −log p(x | z_q)  +  ‖sg[z_e] − e‖²  +  β ‖z_e − sg[e]‖²         (sg = stop gradient, β = 0.25)
        reconstruction      codebook term      commitment term

* **Straight-through estimator.** argmin has no gradient, so the forward pass uses z_q but the backward pass
  copies the decoder's gradient from z_q onto z_e unchanged: z = z_e + sg[z_q − z_e].
* **Codebook term by EMA.** Instead of a gradient step on ‖sg[z_e] − e‖², each code is moved to the running
  mean (exponential moving average, decay 0.99) of the encoder outputs assigned to it: the k-means update that
  this term asks for (paper, appendix A.1). The value of the term is still reported.
* **Commitment term.** Keeps the encoder's outputs close to the codes they chose, so z_e cannot grow freely.
* **Dead codes.** A code that (almost) nothing chooses any more gets no updates and stays dead; it is restarted
  at an encoder output of the current batch that the codebook serves worst (picked with probability ∝ its
  squared distance to its nearest code, as in k-means++).

The decoder is Bernoulli (logits per pixel; −log p(x|z_q) is the binary cross-entropy summed over pixels).
The code of a digit is 49 discrete choices, 49·log2 64 = 294 bits. With a uniform prior over the codes during
training and a one-hot posterior, the ELBO's KL term is the constant 49·log K: nothing rewards the encoder for
making its codes uninformative, which is the pressure behind posterior collapse in a VAE with a strong decoder.

New digits come from a prior over the codes: ``CodePrior`` models p(k_1, …, k_49 | class) one cell at a time
in raster order; sample the codes, then decode them. The gallery ships

* ``pretrained/vqvae-mnist``       — the VQ-VAE (``training/train_vqvae.py``);
* ``pretrained/vqvae-mnist-prior`` — its prior, trained on the codes of the training digits
  (``training/train_vqvae_prior.py``). It belongs to that codebook: retrain it when the VQ-VAE changes.
"""

from collections.abc import Iterator
from typing import NamedTuple

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn import functional as F

from models.model_card import MODEL_CARD, REPO_URL

GRID = 7  # the code grid is GRID × GRID: 28 px / 4 (two stride-2 convolutions)


def perplexity(counts: torch.Tensor) -> float:
    """exp(entropy) of a code-usage histogram (K,): K if all codes are used equally, 1 if only one is."""
    p = counts.double() / counts.sum().clamp_min(1)
    return float(torch.exp(-(p * p.clamp_min(1e-30).log()).sum()))


class VectorQuantizerEMA(nn.Module):
    """Nearest-neighbour lookup in a codebook (K, D), with EMA codebook updates and dead-code restarts.

    Buffers (saved with the weights, so training can resume exactly):
        codebook      (K, D)  the codes e_k
        cluster_size  (K,)    EMA of how many encoder outputs chose code k per batch
        embed_sum     (K, D)  EMA of the sum of the encoder outputs that chose code k
    so that e_k = embed_sum_k / cluster_size_k (with Laplace smoothing of the counts).

    Args:
        codebook_size: K.
        dim: D, the size of each code vector.
        decay: of the moving averages (0.99: a code follows roughly the last 100 batches).
        dead_threshold: a code whose EMA count falls below this many vectors per batch is restarted.
    """

    def __init__(self, codebook_size: int, dim: int, decay: float = 0.99, dead_threshold: float = 0.1,
                 eps: float = 1e-5):
        super().__init__()
        self.codebook_size, self.dim = codebook_size, dim
        self.decay, self.dead_threshold, self.eps = decay, dead_threshold, eps
        # The counts start at 0: on the first training batch every unused code is "dead" and is restarted at an
        # encoder output, which initialises the codebook from the data.
        self.register_buffer("codebook", torch.randn(codebook_size, dim))
        self.register_buffer("cluster_size", torch.zeros(codebook_size))
        self.register_buffer("embed_sum", torch.zeros(codebook_size, dim))

    def squared_distances(self, flat: torch.Tensor) -> torch.Tensor:
        """‖z − e_k‖² for every vector z of flat (N, D) and every code: (N, K)."""
        return (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.codebook.T
                + self.codebook.pow(2).sum(1)[None, :]).clamp_min(0)

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code for every vector of flat (N, D): (N,) long."""
        return self.squared_distances(flat).argmin(1)

    @torch.no_grad()
    def ema_update(self, flat: torch.Tensor, indices: torch.Tensor) -> None:
        """Move every code towards the mean of the vectors flat (N, D) assigned to it (indices (N,))."""
        onehot = F.one_hot(indices, self.codebook_size).type(flat.dtype)       # (N, K)
        self.cluster_size.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(onehot.T @ flat, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        # Laplace smoothing: no division by zero for a code that nothing has chosen
        smoothed = (self.cluster_size + self.eps) / (n + self.codebook_size * self.eps) * n
        self.codebook.copy_(self.embed_sum / smoothed[:, None])

    @torch.no_grad()
    def restart_dead_codes(self, flat: torch.Tensor, generator: torch.Generator | None = None) -> int:
        """Put every dead code (EMA count < dead_threshold) on an encoder output of flat (N, D), chosen with
        probability ∝ its squared distance to its nearest code (badly served vectors first). Returns how many."""
        dead = (self.cluster_size < self.dead_threshold).nonzero().flatten()
        if len(dead) == 0:
            return 0
        weights = self.squared_distances(flat).min(1).values + 1e-12          # (N,)
        pick = torch.multinomial(weights, len(dead), replacement=len(dead) > flat.shape[0], generator=generator)
        self.codebook[dead] = flat[pick]
        self.embed_sum[dead] = flat[pick]
        self.cluster_size[dead] = 1.0  # as if chosen once: it dies again if nothing chooses it for ~230 batches
        return len(dead)

    def forward(self, z_e: torch.Tensor):
        """z_e (B, D, H, W) → (z_q with straight-through gradients (B, D, H, W), indices (B, H, W),
        commitment ‖z_e − sg[e]‖² (B,), codebook term ‖sg[z_e] − e‖² (B,), perplexity of this batch).

        In training mode the codebook is updated (EMA, then dead-code restarts) after the lookup."""
        b, d, h, w = z_e.shape
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, d)                         # (B·H·W, D)
        indices = self.nearest(flat.detach())                                  # (B·H·W,)
        z_q = self.codebook[indices].view(b, h, w, d).permute(0, 3, 1, 2)      # (B, D, H, W), no gradient
        commitment = (z_e - z_q.detach()).pow(2).flatten(1).sum(1)             # moves the encoder
        codebook_term = (z_e.detach() - z_q).pow(2).flatten(1).sum(1)          # what the EMA minimises (no grad)
        batch_perplexity = perplexity(torch.bincount(indices, minlength=self.codebook_size))
        if self.training:
            self.ema_update(flat.detach(), indices)
            self.restart_dead_codes(flat.detach())
        z_st = z_e + (z_q - z_e).detach()                                      # straight-through estimator
        return z_st, indices.view(b, h, w), commitment, codebook_term, batch_perplexity


class VQVAEOutput(NamedTuple):
    logits: torch.Tensor         # (B, 1, 28, 28) Bernoulli logits of the reconstruction
    indices: torch.Tensor        # (B, 7, 7) long, the chosen codes
    commitment: torch.Tensor     # (B,) β·‖z_e − sg[e]‖², summed over the 49 cells and D dimensions
    codebook: torch.Tensor       # (B,) ‖sg[z_e] − e‖² (reported; the codebook learns by EMA, not by this gradient)
    perplexity: float            # exp(entropy) of the codes used in this batch


class ResBlock(nn.Module):
    """x + Conv1×1(ReLU(Conv3×3(ReLU(x)))), the residual block of the paper."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 1))

    def forward(self, x):
        return x + self.body(x)


class VQVAE(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url="https://arxiv.org/abs/1711.00937",
    library_name="pytorch",
    license="mit",
    tags=["vq-vae", "vector-quantization", "mnist", "generative-models-gallery"],
):
    """Convolutional encoder to a 7×7 grid of D-vectors, a codebook of K codes, and a mirror-image decoder.

        x (B,1,28,28) → conv 4×4/2 → (B,c/2,14,14) → conv 4×4/2 → (B,c,7,7) → ResBlock → conv 1×1 → z_e (B,D,7,7)
        z_q (B,D,7,7) → conv 3×3 → (B,c,7,7) → ResBlock → convT 4×4/2 → (B,c/2,14,14) → convT 4×4/2
                      → (B,1,28,28) logits

    Why K = 64: 49 codes of 6 bits (294 bits per digit) are enough for sharp reconstructions (≥ 20 dB), a
    64-way choice per cell is easy for a small prior to learn on 60,000 digits, and 64 codes fit on one
    screen of the gallery's codebook view.

    Args:
        codebook_size: K, the number of codes.
        embedding_dim: D, the size of each code vector.
        channels: c, the width of the convolutions at 7×7 (c/2 at 14×14).
        beta: weight β of the commitment term.
        decay: EMA decay of the codebook.
        dead_threshold: EMA count (vectors per batch) under which a code is restarted.
    """

    def __init__(self, codebook_size: int = 64, embedding_dim: int = 16, channels: int = 64, beta: float = 0.25,
                 decay: float = 0.99, dead_threshold: float = 0.1):
        super().__init__()
        c = channels
        self.beta = beta
        self.encoder = nn.Sequential(
            # 1 x 28 x 28
            nn.Conv2d(1, c // 2, 4, stride=2, padding=1), nn.ReLU(),
            # c/2 x 14 x 14
            nn.Conv2d(c // 2, c, 4, stride=2, padding=1),
            # c x 7 x 7
            ResBlock(c), nn.ReLU(),
            nn.Conv2d(c, embedding_dim, 1),
            # D x 7 x 7 = z_e
        )
        self.quantizer = VectorQuantizerEMA(codebook_size, embedding_dim, decay, dead_threshold)
        self.decoder = nn.Sequential(
            # D x 7 x 7 = z_q
            nn.Conv2d(embedding_dim, c, 3, padding=1),
            ResBlock(c), nn.ReLU(),
            # c x 7 x 7
            nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1), nn.ReLU(),
            # c/2 x 14 x 14
            nn.ConvTranspose2d(c // 2, 1, 4, stride=2, padding=1),
            # 1 x 28 x 28 (logits)
        )

    @property
    def codebook_size(self) -> int:
        return self.quantizer.codebook_size

    @property
    def codebook(self) -> torch.Tensor:
        """The codes e_k, (K, D)."""
        return self.quantizer.codebook

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) images in [0, 1] → (B, 7, 7) long code indices (never updates the codebook)."""
        z_e = self.encoder(x)                                                  # (B, D, 7, 7)
        b, d, h, w = z_e.shape
        return self.quantizer.nearest(z_e.permute(0, 2, 3, 1).reshape(-1, d)).view(b, h, w)

    def embed_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, 7, 7) long code indices → z_q (B, D, 7, 7)."""
        return self.codebook[codes].permute(0, 3, 1, 2)

    def decode_logits(self, z_q: torch.Tensor) -> torch.Tensor:
        """z_q (B, D, 7, 7) → (B, 1, 28, 28) Bernoulli logits."""
        return self.decoder(z_q)

    @torch.inference_mode()
    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, 7, 7) long code indices → (B, 1, 28, 28) pixel means in [0, 1] (no gradients)."""
        return torch.sigmoid(self.decode_logits(self.embed_codes(codes.long())))

    @torch.inference_mode()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) images in [0, 1] → their reconstructions through the codes, in [0, 1]."""
        return self.decode_codes(self.encode(x))

    def forward(self, x: torch.Tensor) -> VQVAEOutput:
        """Everything training needs: reconstruction logits, codes, β·commitment and codebook terms per image.
        In training mode this also updates the codebook (EMA and dead-code restarts)."""
        z_e = self.encoder(x)                                                  # (B, D, 7, 7)
        z, indices, commitment, codebook_term, batch_perplexity = self.quantizer(z_e)
        return VQVAEOutput(self.decode_logits(z), indices, self.beta * commitment, codebook_term, batch_perplexity)


# --- The prior over the codes -------------------------------------------------------------------------------


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position i only sees positions ≤ i; with a cache, one new position
    at a time attends to the keys and values of all earlier ones (incremental decoding)."""

    def __init__(self, d_model: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = (u.view(b, t, self.heads, d // self.heads).transpose(1, 2)  # each (B, heads, T, d/heads)
                   for u in self.qkv(x).split(d, dim=2))
        if cache is None:                                      # training: all positions at once, causal mask
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                               dropout_p=self.dropout if self.training else 0.0)
        else:                                                  # sampling: x is the newest position only
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
            y = F.scaled_dot_product_attention(q, k, v)       # every cached key is earlier: no mask needed
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model: int, heads: int, dropout: float):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, heads, dropout)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model),
                                 nn.Dropout(dropout))

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), cache)
        return x + self.mlp(self.ln2(x))


class CodePrior(
    nn.Module,
    PyTorchModelHubMixin,
    model_card_template=MODEL_CARD,
    repo_url=REPO_URL,
    paper_url="https://arxiv.org/abs/1711.00937",
    library_name="pytorch",
    license="mit",
    tags=["vq-vae", "autoregressive", "transformer", "mnist", "generative-models-gallery"],
):
    """Autoregressive prior over the 49 codes of a digit, in raster order, optionally given the class:

        p(k_1, …, k_49 | y) = Π_i p(k_i | k_1, …, k_{i−1}, y),     y ∈ {0, …, 9, "no class"}

    A small causal transformer (GPT-style, Vaswani et al. 2017; Radford et al. 2018). Input position 0 holds
    the class token y, position i the code k_i (i = 1 … 48); the output at position i predicts k_{i+1}
    (so the output for cell i only sees the class and the cells before i). Training: cross-entropy of every
    cell at once, with the class replaced by "no class" for a share of the digits, so the same network also
    samples unconditionally. Two ways to sample without choosing a class:

    * ``sample(n)``: the "no class" token, the network's own p(k);
    * ``sample(n, label=prior.random_labels(n))``: first y ~ p(y) (the class frequencies of the training
      digits, stored with the weights), then k ~ p(k | y). This is also a sample of p(k) = Σ_y p(y) p(k | y),
      and usually a cleaner one for a small prior, which is better at writing a digit it was told than at
      deciding on one while it writes.

    Why a transformer rather than the paper's PixelCNN: on a 7×7 grid every earlier cell is one attention step
    away (a PixelCNN needs a stack of masked convolutions, and a gated two-stack design to avoid its blind
    spot, to see them all); the causal mask is a single triangle that is easy to check; and sampling can keep
    the keys and values of the earlier cells (a KV cache), so each of the 49 steps computes one new cell
    instead of the whole grid again: 16 digits take about a tenth of a second on a CPU.

    Args:
        codebook_size: K of the VQ-VAE whose codes it models.
        grid_size: the code grid is grid_size × grid_size (7).
        num_classes: digit classes (10); index num_classes is the "no class" token.
        d_model, layers, heads: size of the transformer.
        dropout: in attention and MLP while training.
    """

    def __init__(self, codebook_size: int = 64, grid_size: int = GRID, num_classes: int = 10, d_model: int = 96,
                 layers: int = 4, heads: int = 4, dropout: float = 0.0):
        super().__init__()
        self.codebook_size, self.grid_size, self.num_classes = codebook_size, grid_size, num_classes
        self.cells = grid_size * grid_size
        self.class_emb = nn.Embedding(num_classes + 1, d_model)   # last index: "no class"
        self.code_emb = nn.Embedding(codebook_size, d_model)
        self.pos_emb = nn.Parameter(torch.zeros(self.cells, d_model))
        self.blocks = nn.ModuleList(Block(d_model, heads, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, codebook_size)
        # p(y): the class frequencies of the training digits (set by the training script; uniform until then)
        self.register_buffer("class_freq", torch.full((num_classes,), 1.0 / num_classes))
        self.apply(self._init)
        nn.init.normal_(self.pos_emb, std=0.02)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    @property
    def no_class(self) -> int:
        """The label that means "no class" (unconditional)."""
        return self.num_classes

    def random_labels(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n classes (n,) long drawn from p(y), the class frequencies of the training digits."""
        return torch.multinomial(self.class_freq, n, replacement=True, generator=generator)

    def labels_for(self, n: int, label=None) -> torch.Tensor:
        """(n,) long labels: None → "no class", one class (an int) → that class for all, or n labels as they are."""
        if label is None:
            return torch.full((n,), self.no_class, dtype=torch.long)
        label = torch.as_tensor(label, dtype=torch.long)
        return label.expand(n).clone() if label.numel() == 1 else label.reshape(n)

    def forward(self, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """codes (B, 7, 7) or (B, 49) long, labels (B,) long → logits (B, 49, K); logits[:, i] predict cell i
        from the class and cells 0 … i−1 (teacher forcing: all cells at once)."""
        codes = codes.reshape(codes.shape[0], -1)                             # (B, 49)
        x = torch.cat([self.class_emb(labels)[:, None], self.code_emb(codes[:, :-1])], dim=1)  # (B, 49, d)
        x = x + self.pos_emb
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))                                         # (B, 49, K)

    def nll(self, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """−log p(codes | labels) in nats, per digit (B,)."""
        logits = self(codes, labels)
        return F.cross_entropy(logits.transpose(1, 2), codes.reshape(codes.shape[0], -1), reduction="none").sum(1)

    @torch.no_grad()
    def sample_steps(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None,
                     label=None) -> Iterator[tuple[torch.Tensor, int]]:
        """Sample n code grids one cell at a time in raster order; after each cell yield (codes (n, 7, 7) long,
        the index 0 … 48 of the cell just drawn). Cells not drawn yet are −1. The yielded tensor is a copy.

        temperature divides the logits (< 1: safer, more typical digits; > 1: more varied, more broken ones;
        0: always the most likely code). label: None (unconditional), a digit 0–9, or a tensor of n labels.
        Call it in eval mode (``load_pretrained`` returns the model so): in training mode dropout would be on."""
        codes = torch.full((n, self.cells), -1, dtype=torch.long)
        caches = [{} for _ in self.blocks]
        x = self.class_emb(self.labels_for(n, label))[:, None] + self.pos_emb[0]       # (n, 1, d): position 0
        for i in range(self.cells):
            for block, cache in zip(self.blocks, caches):
                x = block(x, cache)
            logits = self.head(self.norm(x[:, -1]))                                     # (n, K)
            if temperature <= 0:
                nxt = logits.argmax(1)
            else:
                nxt = torch.multinomial(F.softmax(logits.float() / temperature, dim=1), 1, generator=generator)[:, 0]
            codes[:, i] = nxt
            yield codes.view(n, self.grid_size, self.grid_size).clone(), i
            if i + 1 < self.cells:
                x = self.code_emb(nxt)[:, None] + self.pos_emb[i + 1]                   # (n, 1, d): the new cell

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None,
               label=None) -> torch.Tensor:
        """n code grids (n, 7, 7) long drawn from the prior (see ``sample_steps``)."""
        codes = None
        for codes, _ in self.sample_steps(n, temperature, generator, label):
            pass
        return codes

