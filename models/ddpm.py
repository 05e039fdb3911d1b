"""Denoising diffusion probabilistic models (DDPM) on diffusers' ``UNet2DModel`` and schedulers.

Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020 (arXiv:2006.11239);
Song, Meng & Ermon, "Denoising Diffusion Implicit Models", ICLR 2021 (arXiv:2010.02502);
Lu, Zhou, Bao, Chen, Li & Zhu, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models"
(arXiv:2211.01095, 2022).

Forward process (fixed, no parameters): with a variance schedule β_1 … β_T (linear from 1e-4 to
0.02, T = 1000) and ᾱ_t = Π_{s≤t} (1 − β_s), a noisy image at any step has the closed form

    x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε,      ε ~ N(0, I).

Training: a U-Net ε_θ(x_t, t) learns to predict ε (the loss is ‖ε − ε_θ(x_t, t)‖²).
Reverse process (sampling): start from x_T ~ N(0, I) and step back, t = T … 1; at every step the
scheduler computes from ε_θ the predicted clean image x̂_0 = (x_t − √(1 − ᾱ_t) ε_θ) / √ᾱ_t and the
next, less noisy x_{t−1} (DDPM: with fresh noise; DDIM: deterministically, and it may skip steps; DPM-Solver++:
a second-order multistep solver of the same process written as an ODE in x̂_0, good in 10–30 steps; its
stochastic form SDE-DPM-Solver++ adds fresh noise at every step, like DDPM).

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


# The samplers ``make_scheduler`` knows: DDPM and DDIM (Ho et al., Song et al.), DPM-Solver++(2M) (Lu et al. 2022) and
# its stochastic form SDE-DPM-Solver++ (the tab's branches use it: the deterministic solver would give one future).
SAMPLER_NAMES = {"ddpm": "DDPM", "ddim": "DDIM", "dpmsolver++": "DPM-Solver++", "sde-dpmsolver++": "SDE-DPM-Solver++"}
# Keys of a DDPM/DDIM scheduler config that DPMSolverMultistepScheduler does not take (clipping is mapped, see below).
_NOT_DPM_SOLVER = ("clip_sample", "clip_sample_range", "set_alpha_to_one", "variance_type")


def dpm_solver_config(config: dict, algorithm_type: str = "dpmsolver++") -> dict:
    """A ``DPMSolverMultistepScheduler`` config from a DDPM/DDIM scheduler config: the same β schedule, T and
    prediction type; DPM-Solver++ of order 2 (the paper's "2M"), steps spread evenly from t = T − 1 ("linspace",
    the solver's own default), the last step straight to x̂_0.

    The DDPM config's ``clip_sample`` (x̂_0 clipped to ±``clip_sample_range`` at every step) has no key of that name
    in DPM-Solver; its ``thresholding`` with ``sample_max_value`` = the clip range is the same clipping (the dynamic
    threshold s is clamped to [1, sample_max_value] = 1: x̂_0 is clipped to [−1, 1]). A config that already asks for
    dynamic thresholding keeps it."""
    out = {k: v for k, v in config.items() if k not in _NOT_DPM_SOLVER}
    if config.get("clip_sample") and not config.get("thresholding"):
        out.update(thresholding=True, sample_max_value=float(config.get("clip_sample_range", 1.0)))
    out.update(algorithm_type=algorithm_type, solver_order=2, timestep_spacing="linspace", lower_order_final=True,
               final_sigmas_type="zero")
    return out


def make_scheduler(kind: str = "ddpm", config: dict | None = None, overrides: dict | None = None):
    """A fresh scheduler of ``kind`` (a key of ``SAMPLER_NAMES``) made from ``config`` (default:
    ``SCHEDULER_CONFIG``, a DDPM config; DPM-Solver++ gets it through ``dpm_solver_config``); ``overrides`` are set
    last (the evaluation's ablations, e.g. ``{"thresholding": False}``).

    Schedulers keep state (their timesteps, DPM-Solver's last outputs), so every sampling run gets its own instance.
    """
    with DIFFUSERS_IMPORT:  # diffusers' lazy importer is not thread-safe
        from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler

    if kind not in SAMPLER_NAMES:
        raise ValueError(f"unknown sampler {kind!r}; one of {', '.join(SAMPLER_NAMES)}")
    config = dict(config if config is not None else SCHEDULER_CONFIG)
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    if kind in ("dpmsolver++", "sde-dpmsolver++"):
        cls, config = DPMSolverMultistepScheduler, dpm_solver_config(config, kind)
    else:
        cls = {"ddpm": DDPMScheduler, "ddim": DDIMScheduler}[kind]
    return cls.from_config({**config, **(overrides or {})})


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
    * ``x0``      the predicted clean image x̂_0 (``pred_original_sample`` of DDPM/DDIM; DPM-Solver++ returns only
                  x_prev, so its x̂_0 is the data prediction the solver used at this step, ``predicted_x0``);
    * ``x_prev``  the output of the step, x_{t−1} (or the next DDIM timestep).

    It calls the same ``unet(x, t).sample`` and ``scheduler.step(..., generator=generator)`` in the same
    order as ``DDPMPipeline``, so with the same seed and scheduler the final ``x_prev`` is the pipeline's
    image (before its ``/2 + 0.5``). ``start_index`` > 0 resumes from the middle (``x`` is then x_t of that
    step): this is how "branch from here" samples several futures of one trajectory.
    ``eta`` is passed to DDIM only (0 = deterministic DDIM). DPM-Solver++ is a multistep solver: resumed from the
    middle it has no earlier outputs, so its first step there is of first order (as at the start of a run).
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
        x0 = predicted_x0(scheduler, out, x, eps, t)
        yield {"i": i, "t": int(t), "x_t": x, "eps": eps, "x0": x0, "x_prev": out.prev_sample}
        x = out.prev_sample


def predicted_x0(scheduler, out, x: torch.Tensor, eps: torch.Tensor, t) -> torch.Tensor:
    """x̂_0 of one step: the scheduler's ``pred_original_sample`` (DDPM, DDIM); for DPM-Solver++, whose ``step`` returns
    only ``prev_sample``, the data prediction it has just used (its ``model_outputs[-1]``: (x_t − σ_t ε_θ) / α_t,
    clipped when the config clips); else computed here from ᾱ_t."""
    x0 = getattr(out, "pred_original_sample", None)
    if x0 is not None:
        return x0
    outputs = getattr(scheduler, "model_outputs", None)
    if outputs and outputs[-1] is not None and outputs[-1].shape == x.shape:
        return outputs[-1]
    abar = scheduler.alphas_cumprod.to(x.device, torch.float32)[int(t)]
    return (x - (1 - abar).sqrt() * eps) / abar.sqrt()


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


class GroupNormFP32(torch.nn.GroupNorm):
    """GroupNorm computed in fp32 inside the bf16 trace (its output cast back to the input's dtype).

    ATen's GroupNorm is slow on bf16 channels-last tensors of these shapes (e.g. 16 × 32 × 16 × 16: several times the
    fp32 kernel's time), and the U-Net has 27 of them a call: computed in fp32, one call of the bf16 trace on 16
    digits took 10 ms instead of 11–12 ms on 2 cores (``bench/bench_ddpm.py`` times one call both ways). The
    statistics are fp32 either way (ATen accumulates bf16 sums in fp32), so the result is the same up to bf16
    rounding."""

    @classmethod
    def like(cls, norm: torch.nn.GroupNorm) -> "GroupNormFP32":
        new = cls(norm.num_groups, norm.num_channels, norm.eps, norm.affine)
        new.load_state_dict(norm.state_dict())
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = (self.weight.float(), self.bias.float()) if self.affine else (None, None)
        with torch.autocast("cpu", enabled=False):
            return torch.nn.functional.group_norm(x.float(), self.num_groups, weight, bias, self.eps).to(x.dtype)


def group_norms_in_fp32(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` with every ``nn.GroupNorm`` in it replaced, in place, by a ``GroupNormFP32`` of the same weights."""
    for name, child in module.named_children():
        if type(child) is torch.nn.GroupNorm:
            setattr(module, name, GroupNormFP32.like(child))
        else:
            group_norms_in_fp32(child)
    return module


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX512-BF16 or AMX) and oneDNN uses it. Without that, oneDNN
    emulates bf16 and a bf16 U-Net is several times *slower* than fp32 (seen: ~9× on an AVX2-only EPYC)."""
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    try:
        hardware = any(check() for check in checks if check is not None)
        return bool(hardware and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # an older or unusual build: assume not
        return False


def default_precision() -> str:
    """``GALLERY_DDPM_PRECISION`` (``auto``, ``fp32`` or ``bf16``), ``auto`` when unset or unknown."""
    import os

    value = os.environ.get("GALLERY_DDPM_PRECISION", "auto").strip().lower()
    return value if value in ("auto", "fp32", "bf16") else "auto"


# How far the traced U-Net may be from the eager fp32 one on the self-check's inputs (ε_θ ~ N(0, 1)): fp32 differs
# only in the order of sums (~1e-6); bf16 keeps 8 bits of mantissa: its ε_θ is off by ~0.5 % (relative L2 error).
FP32_TOLERANCE = 1e-4  # max |difference|
BF16_TOLERANCE = 0.03  # ‖difference‖ / ‖eager output‖


class FastUNet:
    """The same U-Net, faster on a CPU for inference: channels-last memory format and a frozen TorchScript trace
    (about 1.5× less CPU time per call for the gallery's small U-Net than the eager module; outputs within ~1e-6),
    in bfloat16 where the CPU computes bf16 in hardware (``native_bf16``).

    ``precision``: ``"auto"`` (bf16 where native, else fp32), ``"fp32"``, or ``"bf16"`` (even where it is only
    emulated: slow, for measuring its quality); ``fp32_group_norm=False`` keeps bf16 GroupNorms in the bf16 trace
    (only to measure what ``GroupNormFP32`` gains). bf16 is traced under ``torch.autocast("cpu", torch.bfloat16)``
    (autocast does not reach into an already frozen graph, so the casts are recorded in the trace): convolutions,
    linear layers and attention run in bf16 (weights cast once, when the trace is frozen); GroupNorm runs in fp32
    (``GroupNormFP32``: ATen's bf16 kernel is slow on these channels-last shapes), softmax gets bf16 tensors but
    accumulates its sums in fp32; the output is returned as fp32, so the scheduler's arithmetic stays fp32. On the
    gallery's U-Net ε_θ is then off by about 0.5 % (relative L2 error).

    Called like the U-Net (``fast(x, t).sample``) with a 0-dim timestep tensor, as the schedulers give it. Before it is
    used, the trace is checked against the eager fp32 module on test inputs (``FP32_TOLERANCE`` or
    ``BF16_TOLERANCE``); a bf16 trace that fails falls back to fp32, an fp32 trace that fails (or a U-Net that cannot
    be traced) to the original module. ``self.precision`` says what runs: ``"bf16"``, ``"fp32"`` or ``"eager"``.
    """

    def __init__(self, unet, tolerance: float = FP32_TOLERANCE, precision: str | None = None,
                 fp32_group_norm: bool = True):
        self.eager = unet
        self.config = unet.config
        self.dtype = unet.dtype
        self.traced = None
        self.precision = "eager"
        wanted = precision or default_precision()
        if wanted not in ("auto", "fp32", "bf16"):
            raise ValueError(f"precision must be auto, fp32 or bf16, not {wanted!r}")
        if wanted == "bf16" or (wanted == "auto" and native_bf16()):
            self.traced = self._trace(unet, bf16=True, tolerance=BF16_TOLERANCE, fp32_group_norm=fp32_group_norm)
            if self.traced is not None:
                self.precision = "bf16"
                return
        self.traced = self._trace(unet, bf16=False, tolerance=tolerance)
        if self.traced is not None:
            self.precision = "fp32"

    @staticmethod
    def _trace(unet, bf16: bool, tolerance: float, fp32_group_norm: bool = True):
        """A frozen channels-last trace of ``unet`` (under bf16 autocast if ``bf16``, its GroupNorms in fp32 if also
        ``fp32_group_norm``) that agrees with the eager module on three test inputs, or None."""
        import contextlib
        import copy
        import warnings

        try:
            c, h, w = unet.config.in_channels, *_size_of(unet.config.sample_size)
            fast = copy.deepcopy(unet).eval().requires_grad_(False)
            if bf16 and fp32_group_norm:
                group_norms_in_fp32(fast)
            fast = fast.to(memory_format=torch.channels_last)
            x = torch.randn(2, c, h, w, generator=torch.Generator().manual_seed(0))
            t = torch.tensor(500)
            autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TracerWarnings about Python control flow on shapes
                example = (x.to(memory_format=torch.channels_last), t)
                with autocast:
                    traced = torch.jit.trace(_ReturnTensor(fast).eval(), example, check_trace=False)
                traced = torch.jit.freeze(traced)
                for b, tt in ((2, 999), (3, 0), (4, 500)):
                    xb = torch.randn(b, c, h, w, generator=torch.Generator().manual_seed(b))
                    ref = unet(xb, torch.tensor(tt)).sample.float()
                    out = traced(xb.to(memory_format=torch.channels_last), torch.tensor(tt)).float()
                    if out.shape != ref.shape or not bool(torch.isfinite(out).all()):
                        return None
                    diff = out - ref
                    error = float(diff.norm() / ref.norm().clamp_min(1e-12)) if bf16 else float(diff.abs().max())
                    if error > tolerance:
                        return None
            return traced
        except Exception:  # an exotic U-Net that cannot be traced: keep the original
            return None

    def __call__(self, x: torch.Tensor, t) -> _UNetOutput:
        if self.traced is None or not torch.is_tensor(t) or t.dim() != 0 or x.device.type != "cpu":
            return self.eager(x, t)
        out = self.traced(x.contiguous(memory_format=torch.channels_last), t.long())
        return _UNetOutput(out.to(x.dtype).contiguous())


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
