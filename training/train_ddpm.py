"""Train a DDPM on MNIST (slug ``ddpm-mnist``): a small diffusers ``UNet2DModel`` that predicts noise.

Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020 (arXiv:2006.11239).

Every training step (Algorithm 1 of the paper):

    x_0 ~ data (MNIST padded to 32×32, scaled to [-1, 1]),  t ~ Uniform{0, …, T−1},  ε ~ N(0, I)
    x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε                       (DDPMScheduler.add_noise)
    loss = ‖ε − ε_θ(x_t, t)‖²                               (the "simple" loss of the paper)

with T = 1000 and β linear from 1e-4 to 0.02. We keep an exponential moving average (EMA) of the
weights, as the paper does; the EMA weights are the ones saved and sampled from.

The result is a diffusers pipeline folder (``DDPMPipeline.save_pretrained``)::

    pretrained/ddpm-mnist/model_index.json, unet/{config.json, diffusion_pytorch_model.safetensors},
                          scheduler/scheduler_config.json, README.md, SHA256SUMS, samples.png

It is built on 🤗 accelerate, so the same file runs on one CPU, one GPU or many GPUs/nodes::

    python training/train_ddpm.py --device cpu --max-minutes 60           # one CPU (slow: hours for good digits)
    python training/train_ddpm.py --device cuda --max-minutes 20          # one GPU (what the gallery's weights used)
    accelerate launch --multi_gpu --num_processes 4 training/train_ddpm.py  # 4 GPUs (--device is then ignored)
    python training/train_ddpm.py --dry-run --output-dir /tmp/ddpm        # smoke test on fake data (seconds)
    python training/train_ddpm.py --resume runs/ddpm-ckpt ...              # continue from a checkpoint

Training stops at ``--max-steps`` or after ``--max-minutes`` of wall time, whichever comes first, then
writes the final folder; the learning rate follows a cosine decay over whichever of the two budgets
runs out first. Every ``--checkpoint-minutes`` it writes ``checkpoint.safetensors`` + ``checkpoint.json``
(weights, EMA, optimiser moments; no pickle) and a sample grid PNG to ``--checkpoint-dir``.
Quality figures (classifier confidence, class shares, Fréchet distance): ``training/evaluate_ddpm.py``.
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.ddpm import make_scheduler, make_unet, sample, save_png  # noqa: E402
from models.imaging import grid  # noqa: E402
from training.common import DEFAULT_DATA_DIR, PROJECT_ROOT, fake_mnist, load_mnist, seed_everything  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder containing MNIST/raw")
    p.add_argument("--output-dir", default=str(PROJECT_ROOT / "pretrained" / "ddpm-mnist"),
                   help="final pipeline folder")
    p.add_argument("--checkpoint-dir", default=str(PROJECT_ROOT / "runs" / "ddpm-mnist-ckpt"))
    p.add_argument("--resume", default=None, help="a --checkpoint-dir to continue from")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   help="cpu or cuda (ignored under `accelerate launch`, which decides)")
    p.add_argument("--max-minutes", type=float, default=20.0,
                   help="wall-time budget of the whole run; the training loop stops --reserve-minutes earlier")
    p.add_argument("--reserve-minutes", type=float, default=1.0,
                   help="kept for the final sampling (a 1000-step DDPM grid) and saving")
    p.add_argument("--max-steps", type=int, default=200_000)
    p.add_argument("--checkpoint-minutes", type=float, default=3.0,
                   help="checkpoint + sample grid every this many minutes")
    p.add_argument("--batch-size", type=int, default=256, help="per process")
    p.add_argument("--lr", type=float, default=6e-4)
    p.add_argument("--min-lr-ratio", type=float, default=0.05, help="the cosine decay ends at lr × this")
    p.add_argument("--warmup-steps", type=int, default=500)
    p.add_argument("--ema-decay", type=float, default=0.9995)
    p.add_argument("--channels", default="16,32,64", help="UNet block_out_channels, one per resolution level")
    p.add_argument("--no-attention", action="store_true", help="no self-attention at the lowest resolution")
    p.add_argument("--layers-per-block", type=int, default=1)
    p.add_argument("--grid-samples", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dry-run", action="store_true", help="a few steps on fake data, for tests")
    p.add_argument("--push-to-hub", action="store_true")
    p.add_argument("--hub-repo-id", help="e.g. my-org/ddpm-mnist")
    return p.parse_args(argv)


def to_model_space(images: torch.Tensor) -> torch.Tensor:
    """(N, 1, 28, 28) in [0, 1] → (N, 1, 32, 32) in [-1, 1]: 2 px of black border, then x·2 − 1."""
    return F.pad(images, (2, 2, 2, 2), value=0.0) * 2 - 1


class EMA:
    """Exponential moving average of the weights: θ_ema ← d·θ_ema + (1 − d)·θ, with d warming up as
    min(decay, (1 + step) / (10 + step)) so that early averages are not dominated by the random init."""

    def __init__(self, model, decay: float):
        import copy

        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, model, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(list(self.model.parameters()), [p.detach() for p in model.parameters()], 1 - d)


def lr_factor(step: int, elapsed: float, args) -> float:
    """Linear warm-up, then cosine decay over whichever budget (steps or minutes) is closer to its end."""
    if step < args.warmup_steps:
        return (step + 1) / args.warmup_steps
    progress = min(1.0, max(step / args.max_steps, elapsed / train_seconds(args)))
    return args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def train_seconds(args) -> float:
    """Wall time of the training loop: --max-minutes less the reserve (the reserve shrinks for tiny budgets)."""
    return max(1.0, (args.max_minutes - min(args.reserve_minutes, args.max_minutes / 4)) * 60)


def save_checkpoint(folder: Path, model, ema: EMA, opt, step: int, elapsed: float, args) -> None:
    """Weights, EMA weights and AdamW moments in one safetensors file; counters and settings as JSON."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors.update({f"ema.{k}": v.detach().cpu().contiguous() for k, v in ema.model.state_dict().items()})
    opt_state = opt.state_dict()
    for idx, state in opt_state["state"].items():
        for k, v in state.items():
            tensors[f"opt.{idx}.{k}"] = torch.as_tensor(v).detach().cpu().contiguous()
    save_file(tensors, str(folder / "checkpoint.safetensors.tmp"))
    (folder / "checkpoint.safetensors.tmp").replace(folder / "checkpoint.safetensors")
    meta = {"step": step, "elapsed": elapsed, "param_groups": opt_state["param_groups"],
            "args": {k: v for k, v in vars(args).items() if isinstance(v, (int, float, str, bool, type(None)))}}
    (folder / "checkpoint.json").write_text(json.dumps(meta, indent=1))


def load_checkpoint(folder: Path, model, ema: EMA, opt) -> tuple[int, float]:
    from safetensors.torch import load_file

    tensors = load_file(str(folder / "checkpoint.safetensors"))
    meta = json.loads((folder / "checkpoint.json").read_text())
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True)
    ema.model.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")}, strict=True)
    state: dict = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, idx, name = k.split(".", 2)
            state.setdefault(int(idx), {})[name] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta["step"], meta["elapsed"]


def sample_grid(unet, n: int, steps: int, kind: str, seed: int, device) -> np.ndarray:
    """An 8-wide grid (H, W) uint8 of n samples with ``steps`` steps of ``kind`` (ddpm or ddim), 2-px grey lines
    between and around them."""
    generator = torch.Generator(device=device).manual_seed(seed)
    images = sample(unet, make_scheduler(kind), n, steps, generator=generator, device=device)
    return grid(images.float().cpu(), nrow=8, pad=2, background=128, border=True)


def card(args, step: int, seconds: float, n_params: int, device: str) -> dict:
    return {
        "title": "ddpm-mnist: a denoising diffusion probabilistic model of MNIST digits",
        "description": (
            f"A diffusers `UNet2DModel` ({n_params / 1e6:.2f} M parameters, block_out_channels=({args.channels}), "
            f"{'self-attention at the lowest resolution' if not args.no_attention else 'no attention'}) "
            "that predicts the noise ε "
            "of x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, with a `DDPMScheduler` (T = 1000, β linear from 1e-4 to 0.02; "
            "Ho, Jain & Abbeel 2020). The weights are an exponential moving average "
            f"(decay {args.ema_decay}). Sample with DDPM (1000 steps) or DDIM (e.g. 50 steps) — see `samples.png`."
        ),
        "data": "MNIST (LeCun, Cortes & Burges), the 60,000 training images padded to 32×32 and scaled to [-1, 1]. "
                "MNIST is available under CC BY-SA 3.0.",
        "training_command": f"python training/train_ddpm.py --device {device} --max-minutes {args.max_minutes:g} "
                            f"--batch-size {args.batch_size} --lr {args.lr:g} --channels {args.channels} "
                            f"--seed {args.seed}"
                            f"  # {step} steps in {seconds / 60:.1f} min",
        "metrics": "Measured with `python training/evaluate_ddpm.py` (1,000 samples judged by `mnist-classifier`); "
                   "see the gallery's README for the figures.",
        "usage": "from diffusers import DDPMPipeline\n"
                 "pipe = DDPMPipeline.from_pretrained(\"pretrained/ddpm-mnist\")\n"
                 "digits = pipe(batch_size=16, num_inference_steps=1000).images",
    }


def write_card(folder: Path, fields: dict) -> None:
    """README.md from the gallery's model-card template (the pipeline has no model-card mixin)."""
    from huggingface_hub import ModelCard, ModelCardData

    from models.model_card import MODEL_CARD, REPO_URL

    data = ModelCardData(library_name="diffusers", license="mit", pipeline_tag="unconditional-image-generation",
                         tags=["ddpm", "diffusion", "mnist", "generative-models-gallery"])
    card = ModelCard.from_template(data, template_str=MODEL_CARD, repo_url=REPO_URL, **fields)
    (folder / "README.md").write_text(str(card))


def save_pipeline(unet, folder: Path, fields: dict, samples: np.ndarray | None) -> None:
    """The final folder: DDPMPipeline.save_pretrained (safetensors), README.md, samples.png, SHA256SUMS."""
    from diffusers import DDPMPipeline

    from models.loading import write_tree_checksums

    folder.mkdir(parents=True, exist_ok=True)
    pipe = DDPMPipeline(unet=unet, scheduler=make_scheduler("ddpm"))
    pipe.save_pretrained(str(folder), safe_serialization=True)
    try:
        write_card(folder, fields)
    except Exception as err:  # a card problem must not cost the weights
        print(f"warning: README.md not written ({type(err).__name__}: {err})")
    if samples is not None:
        save_png(samples, folder / "samples.png")
    write_tree_checksums(folder)


def main(args):
    from accelerate import Accelerator
    from tqdm import tqdm

    t_launch = time.time()
    # Alone, --device picks the device; under `accelerate launch` the launcher assigns one GPU per process.
    accelerator = Accelerator(cpu=args.device == "cpu")
    device = accelerator.device
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    seed_everything(args.seed + accelerator.process_index)
    generator = torch.Generator(device=device).manual_seed(args.seed + accelerator.process_index)

    if args.dry_run:
        images, _ = fake_mnist(512, torch.Generator().manual_seed(args.seed))
        args.max_steps = min(args.max_steps, 3)
        args.batch_size = min(args.batch_size, 16)
        args.grid_samples = min(args.grid_samples, 8)
        args.warmup_steps = 1
    else:
        images, _ = load_mnist(args.data_dir, train=True)
    data = to_model_space(images).to(device)  # the whole training set on the device: (60000, 1, 32, 32) in [-1, 1]

    channels = tuple(int(c) for c in args.channels.split(","))
    unet = make_unet(channels, attention=not args.no_attention, layers_per_block=args.layers_per_block)
    n_params = sum(p.numel() for p in unet.parameters())
    noise_scheduler = make_scheduler("ddpm")
    ema = EMA(unet, args.ema_decay)
    opt = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.0)
    step, elapsed_before = 0, 0.0
    if args.resume:
        step, elapsed_before = load_checkpoint(Path(args.resume), unet, ema, opt)
        accelerator.print(f"resumed from {args.resume} at step {step} ({elapsed_before / 60:.1f} min done)")
    unet, opt = accelerator.prepare(unet, opt)
    ema.model.to(device)
    alphas_cumprod = noise_scheduler.alphas_cumprod.to(device)
    accelerator.print(f"UNet: {n_params / 1e6:.2f} M parameters, {len(data)} images on {device}, "
                      f"{accelerator.num_processes} process(es)")

    ckpt_dir = Path(args.checkpoint_dir)
    t_start = t_launch - elapsed_before  # the budget counts from the launch (data loading included)
    last_ckpt = time.time()
    bar = tqdm(total=args.max_steps, initial=step, desc="ddpm", mininterval=5.0,
               disable=not accelerator.is_main_process)
    running = None
    unet.train()
    def out_of_time() -> bool:
        """Whether the time budget is spent; with several processes, all stop at the same step (else DDP would hang)."""
        late = torch.tensor(float(time.time() - t_start >= train_seconds(args)), device=device)
        return bool(accelerator.reduce(late, "max") > 0) if accelerator.num_processes > 1 else bool(late)

    while step < args.max_steps and not (step % 20 == 0 and out_of_time()):
        for group in opt.param_groups:
            group["lr"] = args.lr * lr_factor(step, time.time() - t_start, args)
        idx = torch.randint(0, data.shape[0], (args.batch_size,), device=device, generator=generator)
        x0 = data[idx]                                                                # (B, 1, 32, 32)
        t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (x0.shape[0],), device=device,
                          generator=generator)
        eps = torch.randn(x0.shape, device=device, generator=generator)
        abar = alphas_cumprod[t].view(-1, 1, 1, 1)
        x_t = abar.sqrt() * x0 + (1 - abar).sqrt() * eps                              # q(x_t | x_0), closed form
        loss = F.mse_loss(unet(x_t, t).sample, eps)                                    # ‖ε − ε_θ(x_t, t)‖²
        opt.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        ema.update(accelerator.unwrap_model(unet), step)
        step += 1
        bar.update(1)
        if step % 50 == 0:
            running = loss.item() if running is None else 0.9 * running + 0.1 * loss.item()
            bar.set_postfix(loss=f"{running:.4f}", lr=f"{opt.param_groups[0]['lr']:.2e}", refresh=False)
        if accelerator.is_main_process and time.time() - last_ckpt > args.checkpoint_minutes * 60:
            save_checkpoint(ckpt_dir, accelerator.unwrap_model(unet), ema, opt, step, time.time() - t_start, args)
            save_png(sample_grid(ema.model, args.grid_samples, 50, "ddim", args.seed, device),
                     ckpt_dir / f"samples_ddim50_step{step:07d}.png")
            accelerator.print(f"\ncheckpoint at step {step}, {(time.time() - t_start) / 60:.1f} min, loss {running}")
            last_ckpt = time.time()
            unet.train()
    bar.close()
    seconds = time.time() - t_start
    accelerator.wait_for_everyone()

    if accelerator.is_main_process:
        accelerator.print(f"training stopped at step {step} after {seconds / 60:.1f} min; saving")
        save_checkpoint(ckpt_dir, accelerator.unwrap_model(unet), ema, opt, step, seconds, args)
        final = ema.model.float().eval()
        ddim = sample_grid(final, args.grid_samples, 50, "ddim", args.seed, device)
        save_png(ddim, ckpt_dir / f"samples_ddim50_step{step:07d}.png")
        ddpm = sample_grid(final, args.grid_samples, 10 if args.dry_run else 1000, "ddpm", args.seed, device)
        save_png(ddpm, ckpt_dir / f"samples_ddpm1000_step{step:07d}.png")
        out = Path(args.output_dir)
        save_pipeline(final.cpu(), out, card(args, step, seconds, n_params, device.type), ddpm)
        accelerator.print(f"saved {out}")
        if args.push_to_hub:
            push_folder_tree(out, args.hub_repo_id)


def push_folder_tree(output_dir: Path, hub_repo_id: str | None) -> str:
    """Upload the whole pipeline folder (with its unet/ and scheduler/ subfolders) to the Hub."""
    from huggingface_hub import HfApi

    if not hub_repo_id:
        raise SystemExit("--push-to-hub needs --hub-repo-id <org>/ddpm-mnist")
    api = HfApi()
    api.create_repo(hub_repo_id, exist_ok=True)
    return str(api.upload_folder(repo_id=hub_repo_id, folder_path=str(output_dir),
                                 commit_message="Upload ddpm-mnist from the gallery"))


if __name__ == "__main__":
    main(parse_args())
