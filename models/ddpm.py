"""Denoising diffusion probabilistic models (DDPM) on diffusers' ``UNet2DModel`` and schedulers.

Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020 (arXiv:2006.11239);
Song, Meng & Ermon, "Denoising Diffusion Implicit Models", ICLR 2021 (arXiv:2010.02502).

Forward process (fixed, no parameters): with a variance schedule β_1 … β_T (linear from 1e-4 to
0.02, T = 1000) and ᾱ_t = Π_{s≤t} (1 − β_s), a noisy image at any step has the closed form

    x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε,      ε ~ N(0, I).

Training: a U-Net ε_θ(x_t, t) learns to predict ε (the loss is ‖ε − ε_θ(x_t, t)‖²).
Reverse process (sampling): start from x_T ~ N(0, I) and step back, t = T … 1; at every step the
scheduler computes from ε_θ the predicted clean image x̂_0 = (x_t − √(1 − ᾱ_t) ε_θ) / √ᾱ_t and the
next, less noisy x_{t−1} (DDPM: with fresh noise; DDIM: deterministically, and it may skip steps).

This module holds what the training script, the evaluation script and the tab share: the U-Net's
shape, the schedulers' settings and our own sampling loop (``reverse_steps``), which yields every
intermediate step (``DDPMPipeline`` only returns the end result). No gradio, no argparse here.
"""

import threading

import torch

from models.imaging import to_pil

# Ho et al. 2020: T = 1000, β linear from 1e-4 to 0.02. Passed to DDPMScheduler / DDIMScheduler.
SCHEDULER_CONFIG = dict(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02, beta_schedule="linear",
                        prediction_type="epsilon", clip_sample=True)

# Gradio runs handlers in threads; two first imports of a diffusers class at once fail (seen under load).
DIFFUSERS_IMPORT = threading.Lock()


def make_unet(channels=(16, 32, 64), attention: bool = True, layers_per_block: int = 1, sample_size: int = 32,
              in_channels: int = 1, norm_num_groups: int = 8):
    """A small ``UNet2DModel`` for 32×32 grey images.

    Each entry of ``channels`` is one resolution level (32×32 → 16×16 → 8×8 for three levels), with
    ``layers_per_block`` ResNet blocks going down (one more going up, on the skip connections) and
    self-attention only at the lowest resolution when ``attention`` is true (cheap there: 8×8 = 64 tokens).
    The default (~0.7 M parameters, 2.8 MB) is sized to run 16 images × 1000 steps on 2 CPU cores.
    """
    with DIFFUSERS_IMPORT:  # diffusers' lazy importer is not thread-safe
        from diffusers import UNet2DModel

    channels = tuple(int(c) for c in channels)
    n = len(channels)
    down = ["DownBlock2D"] * n
    up = ["UpBlock2D"] * n
    if attention:
        down[-1] = "AttnDownBlock2D"
        up[0] = "AttnUpBlock2D"
    return UNet2DModel(
        sample_size=sample_size, in_channels=in_channels, out_channels=in_channels,
        block_out_channels=channels, down_block_types=tuple(down), up_block_types=tuple(up),
        layers_per_block=layers_per_block, norm_num_groups=norm_num_groups,
        attention_head_dim=channels[-1] if attention else None,
    )


def make_scheduler(kind: str = "ddpm", config: dict | None = None):
    """A fresh ``DDPMScheduler`` or ``DDIMScheduler`` with ``config`` (default: ``SCHEDULER_CONFIG``).

    Schedulers keep state (their timesteps), so every sampling run gets its own instance.
    """
    with DIFFUSERS_IMPORT:  # diffusers' lazy importer is not thread-safe
        from diffusers import DDIMScheduler, DDPMScheduler

    cls = {"ddpm": DDPMScheduler, "ddim": DDIMScheduler}[kind]
    config = dict(config if config is not None else SCHEDULER_CONFIG)
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    return cls.from_config(config)


def q_sample(x0: torch.Tensor, t: int | torch.Tensor, eps: torch.Tensor, alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """Closed-form forward process x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε (t indexes ``alphas_cumprod``, 0-based)."""
    abar = alphas_cumprod.to(x0.device, x0.dtype)[torch.as_tensor(t, device=x0.device)]
    abar = abar.reshape(-1, *([1] * (x0.dim() - 1)))
    return abar.sqrt() * x0 + (1 - abar).sqrt() * eps


def initial_noise(shape, generator: torch.Generator | None = None, device="cpu", dtype=torch.float32) -> torch.Tensor:
    """x_T ~ N(0, I), drawn exactly as ``DDPMPipeline`` draws it (so the same seed gives the same start)."""
    with DIFFUSERS_IMPORT:  # diffusers' lazy importer is not thread-safe
        from diffusers.utils.torch_utils import randn_tensor

    return randn_tensor(tuple(shape), generator=generator, device=torch.device(device), dtype=dtype)


@torch.inference_mode()
def reverse_steps(unet, scheduler, x: torch.Tensor, num_inference_steps: int, generator: torch.Generator | None = None,
                  start_index: int = 0, eta: float = 0.0):
    """Our own reverse-process loop: yields, after each step i, a dict with

    * ``i``       the index of the step (0 = the first, from x_T);
    * ``t``       the timestep t the U-Net was called at;
    * ``x_t``     the input of the step (B, C, H, W) in [-1, 1]-ish;
    * ``eps``     the predicted noise ε_θ(x_t, t);
    * ``x0``      the predicted clean image x̂_0 (``pred_original_sample`` of the scheduler);
    * ``x_prev``  the output of the step, x_{t−1} (or the next DDIM timestep).

    It calls the same ``unet(x, t).sample`` and ``scheduler.step(..., generator=generator)`` in the same
    order as ``DDPMPipeline``, so with the same seed and scheduler the final ``x_prev`` is the pipeline's
    image (before its ``/2 + 0.5``). ``start_index`` > 0 resumes from the middle (``x`` is then x_t of that
    step): this is how "branch from here" samples several futures of one trajectory.
    ``eta`` is passed to DDIM only (0 = deterministic DDIM).
    """
    with DIFFUSERS_IMPORT:  # diffusers' lazy importer is not thread-safe
        from diffusers import DDIMScheduler

    scheduler.set_timesteps(num_inference_steps)
    timesteps = scheduler.timesteps
    extra = {"eta": eta} if isinstance(scheduler, DDIMScheduler) else {}
    for i in range(start_index, len(timesteps)):
        t = timesteps[i]
        eps = unet(x, t).sample
        out = scheduler.step(eps, t, x, generator=generator, **extra)
        yield {"i": i, "t": int(t), "x_t": x, "eps": eps, "x0": out.pred_original_sample, "x_prev": out.prev_sample}
        x = out.prev_sample


def sample(unet, scheduler, n: int, num_inference_steps: int, generator: torch.Generator | None = None,
           device="cpu") -> torch.Tensor:
    """n images in [0, 1] (n, C, H, W): x_T from ``generator``, then ``num_inference_steps`` reverse steps."""
    size = unet.config.sample_size
    size = (size, size) if isinstance(size, int) else tuple(size)
    x = initial_noise((n, unet.config.in_channels, *size), generator=generator, device=device, dtype=unet.dtype)
    for step in reverse_steps(unet, scheduler, x, num_inference_steps, generator=generator):
        x = step["x_prev"]
    return (x / 2 + 0.5).clamp(0, 1)


def save_png(picture, path) -> None:
    """Save a picture as a PNG: a (C, H, W) tensor in [0, 1] (C = 1 or 3) or a uint8 array such as
    ``models.imaging.grid`` makes."""
    to_pil(picture).save(path)


class _UNetOutput:
    def __init__(self, sample: torch.Tensor):
        self.sample = sample


class _ReturnTensor(torch.nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, x, t):
        return self.unet(x, t, return_dict=False)[0]


class FastUNet:
    """The same U-Net, faster on a CPU for inference: channels-last memory format and a frozen TorchScript trace
    (about 1.5× less CPU time per call for the gallery's small U-Net; the outputs differ by ~1e-6).

    Called like the U-Net (``fast(x, t).sample``) with a 0-dim timestep tensor, as the schedulers give it. If
    tracing fails or the traced module disagrees with the original on a test input, it silently uses the original.
    """

    def __init__(self, unet, tolerance: float = 1e-4):
        import copy
        import warnings

        self.eager = unet
        self.config = unet.config
        self.dtype = unet.dtype
        self.traced = None
        try:
            c, h, w = unet.config.in_channels, *_size_of(unet.config.sample_size)
            fast = copy.deepcopy(unet).eval().requires_grad_(False).to(memory_format=torch.channels_last)
            x = torch.randn(2, c, h, w, generator=torch.Generator().manual_seed(0))
            t = torch.tensor(500)
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TracerWarnings about Python control flow on shapes
                example = (x.to(memory_format=torch.channels_last), t)
                traced = torch.jit.freeze(torch.jit.trace(_ReturnTensor(fast).eval(), example, check_trace=False))
                for b, tt in ((2, 999), (3, 0)):
                    xb = torch.randn(b, c, h, w, generator=torch.Generator().manual_seed(b))
                    ref = unet(xb, torch.tensor(tt)).sample
                    out = traced(xb.to(memory_format=torch.channels_last), torch.tensor(tt))
                    if float((out - ref).abs().max()) > tolerance:
                        return
            self.traced = traced
        except Exception:  # an exotic U-Net that cannot be traced: keep the original
            self.traced = None

    def __call__(self, x: torch.Tensor, t) -> _UNetOutput:
        if self.traced is None or not torch.is_tensor(t) or t.dim() != 0 or x.device.type != "cpu":
            return self.eager(x, t)
        return _UNetOutput(self.traced(x.contiguous(memory_format=torch.channels_last), t.long()))


def _size_of(sample_size) -> tuple[int, int]:
    return (sample_size, sample_size) if isinstance(sample_size, int) else tuple(sample_size)


class DiffusionModel:
    """What the gallery needs of an unconditional diffusers pipeline: its U-Net and its scheduler settings.

    ``name`` is the slug or repo id it came from; ``scheduler_config`` is the dict of its saved scheduler
    (β schedule, T, clipping, ...), from which fresh DDPM / DDIM schedulers are made for every run.
    """

    def __init__(self, unet, scheduler_config: dict, name: str):
        self.unet = unet.eval().requires_grad_(False)
        self.scheduler_config = scheduler_config
        self.name = name
        self._fast = None

    @property
    def fast_unet(self) -> FastUNet:
        """The U-Net for sampling on the CPU (``FastUNet``), made on first use."""
        if self._fast is None:
            self._fast = FastUNet(self.unet)
        return self._fast

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.unet.parameters())

    @property
    def image_shape(self) -> tuple[int, int, int]:
        size = self.unet.config.sample_size
        h, w = (size, size) if isinstance(size, int) else tuple(size)
        return self.unet.config.in_channels, h, w

    def scheduler(self, kind: str):
        return make_scheduler(kind, self.scheduler_config)


def read_unet_pipeline(folder, files) -> DiffusionModel:
    """Load the U-Net (safetensors only) and the scheduler config of a pipeline folder whose layout is ``files``
    = (unet config, unet weights, scheduler config), as in ``models.loading.DIFFUSERS_UNET_LAYOUTS``.
    Refuses class-conditional U-Nets (this tab samples unconditionally)."""
    import json
    from pathlib import Path

    with DIFFUSERS_IMPORT:  # diffusers' lazy importer is not thread-safe

        from diffusers import UNet2DModel

    folder = Path(folder)
    unet_dir = (folder / files[0]).parent
    unet = UNet2DModel.from_pretrained(str(unet_dir), use_safetensors=True)
    if unet.config.num_class_embeds is not None or unet.config.class_embed_type is not None:
        raise ValueError("this U-Net is class-conditional; only unconditional pipelines are supported")
    config = json.loads((folder / files[2]).read_text())
    model = DiffusionModel(unet, config, str(folder))
    model.fast_unet  # trace it now, while the loader holds its lock, not during the first request
    return model
