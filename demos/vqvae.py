"""VQ-VAE tab: a digit as a 7×7 grid of discrete codes you can click, and a prior that writes digits code by code.

What it teaches (van den Oord, Vinyals & Kavukcuoglu, NeurIPS 2017): the latent of a VQ-VAE is not a vector of
real numbers but 49 integers, each the index of the nearest entry of a learned codebook. On the tab:

* **Encode** — draw, upload or pick a digit: its code map (a number and a colour per cell) and its reconstruction.
* **Edit** — click a cell, give it another code (slider, or click a digit of the codebook grid), and watch the
  decoded digit change; "reset" goes back to the encoder's choice.
* **The codebook** — how often each code is used by the MNIST test digits (dead codes marked), its perplexity,
  and what each code does in the selected cell (the current map with that cell replaced by each code, decoded).
* **AE vs VAE vs VQ-VAE** — the same digit through the three bottlenecks: PSNR and the size of each code in bits.
* **Sampling** — the prior p(z) = Π_i p(z_i | z_<i, y) writes the 49 codes in raster order; streamed cell by cell.

Weights: ``pretrained/vqvae-mnist`` (``models.vqvae.VQVAE``, ``training/train_vqvae.py``; with
``codebook_usage.safetensors``) and ``pretrained/vqvae-mnist-prior`` (``models.vqvae.CodePrior``,
``training/train_vqvae_prior.py``); the comparison also loads ``ae-mnist`` and ``vae-mnist`` as their tabs do.

Run this tab alone with ``python -m demos.vqvae``.
"""

import colorsys
import functools
import json
import math
import time
from pathlib import Path

import gradio as gr
import numpy as np
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont
import torch
from safetensors.torch import load_file

from demos import ae as ae_tab
from demos import controls
from demos import vae as vae_tab
from demos.common import (
    MAX_SEED,
    check_choice,
    check_range,
    check_seed,
    load_or_explain,
    new_seed,
    seed_input,
    show_weights_problem,
    weights_problem,
    weights_status,
)
from demos.image_input import digit_canvas, image_to_digit, wire_canvas
from demos.kit import Page, Tab, demo_cache, heavy_queue
from demos.share import query_value, share_query, share_row, wire_share
from models.autoencoder import ConvAutoencoder
from models.imaging import grid, to_pil, to_uint8
from models.loading import WeightsUnavailableError, load_extra_file
from models.noise import psnr
from models.vae import VAE
from models.vqvae import GRID, VQVAE, CodePrior, perplexity

TAB = Tab(id="vqvae", strings={
    "slide_caption": {
        "en": "VQ-VAE: the encoder's output is snapped to the nearest of 64 codebook vectors, giving a 7×7 map of "
              "discrete codes; a prior over those maps generates new digits.",
        "ja": "VQ-VAE：エンコーダの出力を 64 個のコードブックのベクトルのうち最も近いものに置き換え、7×7 の離散的な"
              "符号の地図にします。その地図の事前分布から新しい数字を生成します。",
    },
    "slide_equation": {
        "en": (r"z_q = e_k,\ k = \arg\min_j \|z_e(x) - e_j\|_2,\quad \mathcal{L} = -\log p(x|z_q)"
               r" + \|\mathrm{sg}[z_e] - e\|^2 + \beta \|z_e - \mathrm{sg}[e]\|^2"),
        "ja": (r"z_q = e_k,\ k = \arg\min_j \|z_e(x) - e_j\|_2,\quad \mathcal{L} = -\log p(x|z_q)"
               r" + \|\mathrm{sg}[z_e] - e\|^2 + \beta \|z_e - \mathrm{sg}[e]\|^2"),
    },
    "title": {"en": "VQ-VAE: discrete codes", "ja": "VQ-VAE：離散的な符号"},
    "input": {"en": "Your digit", "ja": "数字の入力"},
    "input_hint": {
        "en": "Draw a digit with the brush (✏️), upload an image, or pick an example below.",
        "ja": "ブラシ（✏️）で数字を描くか、画像をアップロードするか、下の例から選んでください。",
    },
    "examples": {"en": "Real MNIST test digits", "ja": "MNIST テストデータの実際の数字"},
    "encode_run": {"en": "Encode", "ja": "符号化する"},
    "code_map": {"en": "7×7 code map (click a cell)", "ja": "7×7 の符号マップ（マスをクリック）"},
    "code_map_note": {
        "en": "Each cell holds one code of the codebook: its number, and one colour per code. The digit decoded from "
              "the map is shaded on top.",
        "ja": "各マスにはコードブックの符号が 1 つずつ入っています（番号と、符号ごとの色）。この符号マップから復号し"
              "た数字を重ねて表示しています。",
    },
    "recon": {"en": "Decoded from this code map", "ja": "この符号マップから復号した数字"},
    "recon0": {"en": "Before edits", "ja": "編集前"},
    "code": {"en": "Code of the selected cell", "ja": "選択したマスの符号"},
    "code_info": {
        "en": "Or click a digit in the codebook grid below.",
        "ja": "下のコードブックの一覧の数字をクリックしても変えられます。",
    },
    "reset": {"en": "↺ Reset to the encoder's codes", "ja": "↺ エンコーダの符号に戻す"},
    "cell_info": {
        "en": (
            "Selected: row {row}, column {col}, code **{code}** (the encoder chose {orig}). {changed} of {cells} cells "
            "differ from the encoding. PSNR against your digit: {psnr} dB."
        ),
        "ja": (
            "選択中：{row} 行 {col} 列、符号 **{code}**（エンコーダの選択は {orig}）。{cells} マスのうち {changed} "
            "マスを符号化の結果から変更しています。あなたの数字に対する PSNR：{psnr} dB。"
        ),
    },
    "json_title": {"en": "The codes as JSON (edit them and decode)", "ja": "JSON 形式の符号（編集して復号できます）"},
    "codes": {"en": "7 rows of 7 codes", "ja": "7 行 × 7 列の符号"},
    "decode_run": {"en": "Decode these codes", "ja": "この符号を復号する"},
    "codebook_title": {"en": "### The codebook", "ja": "### コードブック"},
    "usage": {
        "en": "How often each code is used by the 10,000 MNIST test digits (×: a dead code, used by none)",
        "ja": "MNIST テストデータ 10,000 枚での各符号の使用頻度（×：どの数字にも使われない「死んだ」符号）",
    },
    "usage_text": {
        "en": (
            "**Perplexity** exp(H) = **{ppl}** of {k}: the codes are used as evenly as {ppl} equally likely codes "
            "would be. **Codes used:** {used} of {k}. {dead}"
        ),
        "ja": (
            "**パープレキシティ** exp(H) = **{ppl}**（最大 {k}）：{ppl} 個の符号を均等に使った場合と同じくらいの"
            "散らばりです。**使われている符号：** {k} 個中 {used} 個。{dead}"
        ),
    },
    "dead_list": {
        "en": "Dead codes (no test digit uses them): {codes}.",
        "ja": "死んだ符号（どのテスト画像にも使われない）：{codes}。",
    },
    "no_dead": {
        "en": "No dead code: dead-code restarts during training kept all of them in use.",
        "ja": "死んだ符号はありません（学習中に使われない符号を再初期化したため、すべて使われています）。",
    },
    "meanings": {
        "en": "What each code does in the selected cell (click one to put it there)",
        "ja": "選択したマスに各符号を入れたときの数字（クリックするとそのマスに入ります）",
    },
    "meanings_note": {
        "en": (
            "Each small digit on the right is **your current code map with the selected cell (orange box) replaced by "
            "that code**, "
            "then decoded. Only the area around the cell changes: a code is a local piece of a digit (a bit of stroke "
            "in some direction, an end, blank background), and what it draws also depends on its neighbours. The "
            "black frame marks the code the cell has now; a grey label marks a dead code."
        ),
        "ja": (
            "右の小さな数字はそれぞれ、**いまの符号マップの選択したマス（橙色の枠）をその符号に置き換えて復号したもの**です。"
            "変わるのはそのマスの周りだけです。1 つの符号は数字の局所的な部品（ある向きの線の一部、線の端、何もない背"
            "景など）を表し、何が描かれるかは周りの符号にも左右されます。黒い枠は今そのマスに入っている符号、灰色のラ"
            "ベルは死んだ符号です。"
        ),
    },
    "compare_title": {
        "en": "### The same digit through three bottlenecks: AE, 2-D VAE and VQ-VAE",
        "ja": "### 同じ数字を 3 種類のボトルネックに通す：AE・2 次元 VAE・VQ-VAE",
    },
    "seen": {"en": "Input (28×28)", "ja": "入力（28×28）"},
    "ae": {"en": "AE", "ja": "AE の出力"},
    "vae": {"en": "2-D VAE", "ja": "2 次元 VAE"},
    "vq": {"en": "VQ-VAE", "ja": "VQ-VAE の出力"},
    "compare_header": {
        "en": "| model | its code of the digit | size of the code | PSNR |\n|---|---|---|---|",
        "ja": "| モデル | 数字の符号 | 符号の大きさ | PSNR |\n|---|---|---|---|",
    },
    "row_ae": {
        "en": "| AE (`ae-mnist`) | {d} real numbers | {d} × 32 = {bits} bits | {psnr} |",
        "ja": "| AE（`ae-mnist`） | 実数 {d} 個 | {d} × 32 = {bits} ビット | {psnr} |",
    },
    "row_vae": {
        "en": "| 2-D VAE (`vae-mnist`) | μ: {d} real numbers | {d} × 32 = {bits} bits | {psnr} |",
        "ja": "| 2 次元 VAE（`vae-mnist`） | μ：実数 {d} 個 | {d} × 32 = {bits} ビット | {psnr} |",
    },
    "row_vq": {
        "en": ("| VQ-VAE (`vqvae-mnist`) | {cells} whole numbers from 0 to {kmax} | {cells} · log₂ {k} = {bits} bits "
               "| {psnr} |"),
        "ja": "| VQ-VAE（`vqvae-mnist`） | 0〜{kmax} の整数 {cells} 個 | {cells} · log₂ {k} = {bits} ビット | {psnr} |",
    },
    "not_available": {"en": "(weights not available)", "ja": "（重みがありません）"},
    "compare_note": {
        "en": (
            "PSNR against your digit as the models see it (higher is closer). A real number is stored in 32 bits but "
            "carries far fewer useful ones, so the first two sizes are upper bounds; the VQ-VAE's are exact: 49 "
            "choices among K codes. The AE is the denoising autoencoder of the first tab (trained on noisy digits); "
            "the VAE squeezes each digit into 2 numbers, so it draws a blurry typical digit of the class."
        ),
        "ja": (
            "PSNR はモデルに入力される形のあなたの数字との比較です（大きいほど近い）。実数は 32 ビットで保存"
            "されますが、実際に意味のある情報はそれよりずっと少ないので、上の 2 つの大きさは上限です。VQ-VAE の大き"
            "さは正確です（K 個の符号からの 49 回の選択）。AE は最初のタブのデノイジング・オートエンコーダ（ノイズ入"
            "りの数字で学習）、VAE は数字を 2 つの数に押し込めるため、そのクラスのぼやけた典型的な数字を描きます。"
        ),
    },
    "sample_title": {
        "en": "### New digits from the prior, written code by code",
        "ja": "### 事前分布から新しい数字を、符号を 1 つずつ書いて生成",
    },
    "n": {"en": "Number of digits", "ja": "生成する数字の数"},
    "temperature": {"en": "Temperature", "ja": "温度"},
    "temperature_info": {
        "en": "Divides the logits: < 1 safer, more typical digits; > 1 more varied, more broken ones; 0: always the "
              "most likely code.",
        "ja": "ロジットを割る値：1 未満はより無難で典型的な数字、1 より大きいとより多様で崩れた数字に。0 は常に最も"
              "確率の高い符号を選びます。",
    },
    "label": {"en": "Class", "ja": "クラス"},
    "any": {"en": "any (drawn from the class frequencies)", "ja": "指定なし（クラスの出現頻度から抽選）"},
    "sample_run": {"en": "Sample", "ja": "サンプリングする"},
    "sample_note": {
        "en": (
            "The prior (a small causal transformer) writes the 49 codes one cell at a time in raster order, "
            "$p(z \\mid y) = \\prod_i p(z_i \\mid z_{<i}, y)$, and the decoder turns them into digits. With "
            "**any**, a class $y$ is first drawn from the class frequencies of the training digits, then the codes "
            "given it: together a sample of $p(z) = \\sum_y p(y)\\,p(z \\mid y)$. Cells not written yet are shown "
            "tinted, decoded with the code of an empty background."
        ),
        "ja": (
            "事前分布（小さな因果的 Transformer）は 49 個の符号をラスター順に 1 マスずつ書き "
            "$p(z \\mid y) = \\prod_i p(z_i \\mid z_{<i}, y)$、デコーダがそれを数字に変えます。**指定なし** では、まず"
            "学習データのクラスの出現頻度からクラス $y$ を抽選し、そのクラスのもとで符号を生成します。合わせると "
            "$p(z) = \\sum_y p(y)\\,p(z \\mid y)$ からのサンプルになります。まだ書かれていないマスは、何もない背景の"
            "符号で復号し、色を付けて示しています。"
        ),
    },
    "maps": {"en": "The code maps being written (raster order)", "ja": "書かれていく符号マップ（ラスター順）"},
    "digits": {"en": "The decoded digits", "ja": "復号された数字"},
    "gallery_title": {"en": "Each digit on its own (to download)", "ja": "数字を 1 枚ずつ（ダウンロード用）"},
    "gallery": {"en": "Sampled digits", "ja": "生成された数字"},
    "sampling": {
        "en": "Writing cell {i} of {cells} (row {row}, column {col})…",
        "ja": "{cells} マス中 {i} マス目（{row} 行 {col} 列）を書いています…",
    },
    "sample_done": {
        "en": "{n} digits, {cells} codes each, sampled and decoded in {s} s.",
        "ja": "{n} 個の数字（各 {cells} 符号）を {s} 秒でサンプリングして復号しました。",
    },
    "classes_drawn": {"en": "Classes drawn first: {classes}.", "ja": "最初に抽選されたクラス：{classes}。"},
    "caption": {"en": "class {y}", "ja": "クラス {y}"},
    "err_json": {
        "en": ("The codes are not valid JSON ({reason}). Write them as 7 rows of 7 whole numbers: "
               "[[1, 1, 1, 1, 1, 1, 1], …]."),
        "ja": ("符号が正しい JSON ではありません（{reason}）。7 行 × 7 個の整数で書いてください："
               "[[1, 1, 1, 1, 1, 1, 1], …]。"),
    },
    "err_shape": {
        "en": "The codes must be a list of {g} rows, each a list of {g} whole numbers; got {got}.",
        "ja": "符号は {g} 行のリストで、各行は {g} 個の整数のリストにしてください。受け取った値：{got}。",
    },
    "err_code": {
        "en": "Row {row}, column {col}: {value} is not a code. Every code is a whole number from 0 to {max}.",
        "ja": "{row} 行 {col} 列：{value} は符号ではありません。符号は 0 から {max} までの整数です。",
    },
})

SLUG = "vqvae-mnist"
PRIOR_SLUG = "vqvae-mnist-prior"
TRAINING_COMMAND = "python training/train_vqvae.py --data-dir ../shared/data"
PRIOR_TRAINING_COMMAND = "python training/train_vqvae_prior.py --data-dir ../shared/data"
USAGE_FILE = "codebook_usage.safetensors"
EXAMPLES = Path(__file__).parent / "examples"
FIRST_EXAMPLE = str(EXAMPLES / "mnist" / "2_0001.png")
CELLS = GRID * GRID
CELL_PX = 48            # one cell of the big code map (7 × 48 = 336 px)
DIGIT_SCALE = 10        # the decoded digit is shown at 280 × 280 px
FIRST_CELL = (3, 3)     # the cell selected when a digit is encoded: the centre
MAX_JSON = 4000         # characters: a 7×7 grid of codes is about 200
CLASSES = ("any", *map(str, range(10)))
# name: (low, high, default) of the sampling settings
LIMITS = {"n": (1, 64, 16), "temperature": (0.0, 2.0, 1.0)}
EMPTY = (236, 236, 236)          # a cell not written yet
SELECTED = (0, 0, 0)             # outline of the selected cell
CELL_BOX = (255, 140, 0)         # the selected cell's area in the small digits of the codebook grid
NOT_WRITTEN_TINT = np.array([70, 90, 160], dtype=np.float32)


# --- models (loaded lazily, once) --------------------------------------------------------------------------------

def load_vqvae() -> VQVAE:
    return load_or_explain(VQVAE, SLUG, TRAINING_COMMAND)


def load_prior() -> CodePrior:
    return load_or_explain(CodePrior, PRIOR_SLUG, PRIOR_TRAINING_COMMAND)


def _read_usage(path: Path) -> torch.Tensor:
    return load_file(str(path))["test_counts"]


def codebook_usage() -> torch.Tensor:
    """How often each code is used by the MNIST test digits (K,), from ``codebook_usage.safetensors``."""
    try:
        return load_extra_file(SLUG, USAGE_FILE, _read_usage)
    except WeightsUnavailableError as err:
        raise weights_problem(err, TRAINING_COMMAND) from err


# --- plain functions: codes --------------------------------------------------------------------------------------

@torch.inference_mode()
def encode_codes(model: VQVAE, x: torch.Tensor) -> torch.Tensor:
    """One digit (1, 1, 28, 28) in [0, 1] → its code map (7, 7) long."""
    return model.encode(x)[0]


@torch.inference_mode()
def decode_maps(model: VQVAE, codes) -> torch.Tensor:
    """Code maps (7, 7) or (B, 7, 7) (tensor or nested lists) → digits (B, 1, 28, 28) in [0, 1]."""
    codes = torch.as_tensor(codes, dtype=torch.long)
    return model.decode_codes(codes.reshape(-1, GRID, GRID))


@torch.inference_mode()
def blank_codes(model: VQVAE) -> torch.Tensor:
    """The codes of an empty (black) image (7, 7): what a cell not written yet is decoded with."""
    return model.encode(torch.zeros(1, 1, 28, 28))[0]


def with_code(codes, cell: tuple[int, int], code: int) -> list[list[int]]:
    """A copy of the code map (nested lists) with ``cell`` (row, column) set to ``code``."""
    out = [list(map(int, row)) for row in torch.as_tensor(codes).tolist()]
    out[cell[0]][cell[1]] = int(code)
    return out


def codes_to_json(codes) -> str:
    """A code map as JSON, one row per line: ``[[1, 1, …],\\n [1, 17, …], …]``."""
    rows = torch.as_tensor(codes).tolist()
    return "[" + ",\n ".join(json.dumps(row) for row in rows) + "]"


def parse_codes(text, codebook_size: int) -> torch.Tensor:
    """JSON of 7 rows of 7 whole numbers in 0 … K−1 → (7, 7) long; anything else is a Problem that says what."""
    if not isinstance(text, str) or len(text) > MAX_JSON:
        raise TAB.problem("err_json", reason=f"{type(text).__name__}" if not isinstance(text, str) else "too long")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:  # RecursionError: "[[[[…" nested too deep
        raise TAB.problem("err_json", reason=str(err)[:80] or type(err).__name__) from None
    if not (isinstance(data, list) and len(data) == GRID and all(isinstance(r, list) and len(r) == GRID for r in data)):
        got = ("[]" if data == [] else
               f"{len(data)} × {', '.join(str(len(r)) if isinstance(r, list) else '?' for r in data)}"
               if isinstance(data, list) else type(data).__name__)
        raise TAB.problem("err_shape", g=GRID, got=got[:80])
    for r, row in enumerate(data):
        for c, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < codebook_size:
                raise TAB.problem("err_code", row=r + 1, col=c + 1, value=json.dumps(value)[:20],
                                  max=codebook_size - 1)
    return torch.tensor(data, dtype=torch.long)


# --- pictures ----------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def code_colour(k: int) -> tuple[int, int, int]:
    """The colour of code ``k`` (the same whatever K): hues a golden angle apart, light enough for black numbers."""
    hue = (k * 0.618033988749895) % 1.0
    saturation = (0.55, 0.35, 0.45)[k % 3]
    value = (1.0, 0.88)[(k // 3) % 2]
    return tuple(round(255 * v) for v in colorsys.hsv_to_rgb(hue, saturation, value))


@functools.lru_cache(maxsize=4)
def _palette(k: int) -> np.ndarray:
    """(k + 1, 3) uint8: the colours of codes 0 … k−1, then that of a cell not written yet (index −1)."""
    return np.array([*map(code_colour, range(k)), EMPTY], dtype=np.uint8)


def code_colours(codes: np.ndarray) -> np.ndarray:
    """(…) int codes (−1: not written) → (…, 3) uint8 colours."""
    codes = np.asarray(codes)
    return _palette(max(64, int(codes.max(initial=0)) + 1))[codes]


@functools.lru_cache(maxsize=8)
def _font(size: int) -> PIL.ImageFont.ImageFont:
    return PIL.ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=512)
def _number_stamp(number: int, cell: int) -> PIL.Image.Image:
    """The number of a code as drawn in a cell ``cell`` px wide: black with a white outline, on transparent (drawn
    once per number and size, then pasted: drawing text is the slow part of a code map)."""
    font, stroke = _font(max(8, round(cell * 0.42))), max(1, cell // 16)
    stamp = PIL.Image.new("RGBA", (cell, cell), (255, 255, 255, 0))
    PIL.ImageDraw.Draw(stamp).text((cell / 2, cell / 2), str(number), fill=(0, 0, 0, 255), font=font, anchor="mm",
                                   stroke_width=stroke, stroke_fill=(255, 255, 255, 255))
    return stamp


def code_map_picture(codes, ink: torch.Tensor | None = None, selected: tuple[int, int] | None = None,
                     cell: int = CELL_PX, numbers: bool = True) -> PIL.Image.Image:
    """A code map (7, 7) (−1: not written yet) as a picture: each cell in its code's colour with its number, the
    ink of a digit (1, 1, 28, 28) shaded on top, white lines between the cells and ``selected`` outlined."""
    codes = np.asarray(torch.as_tensor(codes).cpu(), dtype=np.int64)
    g = codes.shape[0]
    rgb = np.repeat(np.repeat(code_colours(codes).astype(np.float32), cell, 0), cell, 1)
    if ink is not None:
        shade = np.asarray(PIL.Image.fromarray(to_uint8(ink)).resize((g * cell, g * cell), PIL.Image.NEAREST),
                           dtype=np.float32) / 255
        rgb *= 1 - 0.55 * shade[..., None]
    rgb[::cell], rgb[:, ::cell] = 255, 255
    img = PIL.Image.fromarray(rgb.round().astype(np.uint8))
    if numbers:
        for r in range(g):
            for c in range(g):
                if codes[r, c] >= 0:
                    stamp = _number_stamp(int(codes[r, c]), cell)
                    img.paste(stamp, (c * cell + (cell - stamp.width) // 2, r * cell + (cell - stamp.height) // 2),
                              stamp)
    draw = PIL.ImageDraw.Draw(img)
    if selected is not None:
        r, c = selected
        width = max(2, cell // 12)
        draw.rectangle([c * cell, r * cell, (c + 1) * cell - 1, (r + 1) * cell - 1], outline=SELECTED, width=width)
    return img


def cell_at(x: float, y: float, cell: int = CELL_PX) -> tuple[int, int]:
    """(row, column) of the code map under the pixel (x, y) of its picture (clamped to the grid)."""
    return (min(max(int(y // cell), 0), GRID - 1), min(max(int(x // cell), 0), GRID - 1))


def digit_picture(x: torch.Tensor) -> PIL.Image.Image:
    """One decoded digit (1, 1, 28, 28) at 280 × 280 px with crisp pixels."""
    return to_pil(x, scale=DIGIT_SCALE)


def _side(n: int) -> int:
    return math.ceil(math.sqrt(n))


def maps_picture(codes: torch.Tensor, last: int | None = None, size: int = 400) -> PIL.Image.Image:
    """n code maps (n, 7, 7) (−1: not written yet) in a square-ish grid about ``size`` px wide; numbers in the cells
    when they are big enough; the cell written last (raster index ``last``) outlined."""
    n = codes.shape[0]
    cell = max(4, min(CELL_PX, size // (GRID * _side(n) + 1)))
    selected = divmod(last, GRID) if last is not None else None
    if cell >= 24:  # few maps: each drawn with its numbers
        maps = np.stack([np.asarray(code_map_picture(c, selected=selected, cell=cell)) for c in codes])
    else:           # many small maps: colours only, drawn all at once
        maps = np.repeat(np.repeat(code_colours(codes.numpy()), cell, 1), cell, 2)     # (n, 7c, 7c, 3)
        maps[:, ::cell], maps[:, :, ::cell] = 255, 255
        if selected is not None:
            r, c = selected
            maps[:, r * cell:(r + 1) * cell, [c * cell, (c + 1) * cell - 1]] = SELECTED
            maps[:, [r * cell, (r + 1) * cell - 1], c * cell:(c + 1) * cell] = SELECTED
    return PIL.Image.fromarray(grid(maps.transpose(0, 3, 1, 2), nrow=_side(n), pad=4))


def digits_picture(x: torch.Tensor, written: int = CELLS, size: int = 400) -> PIL.Image.Image:
    """n decoded digits (n, 1, 28, 28) in a grid with grey lines, about ``size`` px wide; the part decoded from
    cells not written yet (raster index ≥ ``written``) is tinted blue."""
    rgb = to_uint8(x, keep_shape=True).repeat(3, axis=1).astype(np.float32)          # (n, 3, 28, 28)
    if written < CELLS:
        mask = np.zeros((GRID, GRID), dtype=bool)
        mask.reshape(-1)[written:] = True
        mask = np.repeat(np.repeat(mask, 28 // GRID, 0), 28 // GRID, 1)                 # (28, 28)
        rgb[:, :, mask] = 0.5 * rgb[:, :, mask] + 0.5 * NOT_WRITTEN_TINT[None, :, None]
    picture = grid(rgb.round().astype(np.uint8), nrow=_side(len(x)), pad=1, background=128, border=True)
    return to_pil(picture, scale=max(2, size // picture.shape[1]))


def usage_histogram(counts: torch.Tensor, width: int = 640, height: int = 250) -> PIL.Image.Image:
    """A bar per code (in the code's colour) of its share of the test cells, ✕ under a dead code, axes in %."""
    k = len(counts)
    share = counts.double() / counts.sum().clamp_min(1) * 100
    top = max(1.0, float(share.max()))
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50) if top / s <= 5)
    top = math.ceil(top / step) * step
    left, right, upper, lower = 40, 10, 36, 34  # upper: room for the image's label
    img = PIL.Image.new("RGB", (width, height), (255, 255, 255))
    draw = PIL.ImageDraw.Draw(img)
    font = _font(11)
    x0, y0, x1, y1 = left, upper, width - right, height - lower
    bar = (x1 - x0) / k
    for t in np.arange(0, top + 1e-9, step):
        y = y1 - t / top * (y1 - y0)
        draw.line([x0, y, x1, y], fill=(225, 225, 225))
        draw.text((x0 - 4, y), f"{t:g}%", fill=(60, 60, 60), font=font, anchor="rm")
    for code in range(k):
        xa, xb = x0 + code * bar + 0.5, x0 + (code + 1) * bar - 0.5
        if counts[code] > 0:
            draw.rectangle([xa, y1 - float(share[code]) / top * (y1 - y0), xb, y1], fill=code_colour(code),
                           outline=(90, 90, 90))
        else:  # a dead code: a red × on the axis
            cx, half = (xa + xb) / 2, min(5.0, bar / 2)
            draw.line([cx - half, y1 - 2 * half - 2, cx + half, y1 - 2], fill=(200, 0, 0), width=2)
            draw.line([cx - half, y1 - 2, cx + half, y1 - 2 * half - 2], fill=(200, 0, 0), width=2)
    draw.line([x0, y1, x1, y1], fill=(60, 60, 60))
    tick = max(1, k // 16)
    for code in range(0, k, tick):
        draw.text((x0 + (code + 0.5) * bar, y1 + 3), str(code), fill=(60, 60, 60), font=font, anchor="mt")
    draw.text(((x0 + x1) / 2, height - 2), "code k", fill=(0, 0, 0), font=font, anchor="md")
    return img


# The codebook grid (what each code does in the selected cell): for each code, the neighbourhood of the cell
# (CROP × CROP pixels around it, where the change shows) at ×TILE_SCALE, under a label in the code's colour.
# TOP_PX: white space above the tiles, under the image's label.
CROP, TILE_SCALE, LABEL_PX, TILE_PAD, TOP_PX = 20, 3, 16, 6, 30


def _tile_size() -> tuple[int, int]:
    return CROP * TILE_SCALE, CROP * TILE_SCALE + LABEL_PX


def crop_origin(cell: tuple[int, int]) -> tuple[int, int]:
    """Top-left pixel (y, x) of the CROP × CROP window of a 28 × 28 digit centred on ``cell`` (kept inside)."""
    side = 28 // GRID
    return tuple(min(max(side * i + side // 2 - CROP // 2, 0), 28 - CROP) for i in cell)


def meanings_picture(digits: torch.Tensor, cell: tuple[int, int], current: int | None, dead=()) -> PIL.Image.Image:
    """K digits (K, 1, 28, 28), digit k decoded with code k in ``cell``, as tiles: the neighbourhood of the cell
    with the cell boxed in orange, under a label in code k's colour with its number (grey for a dead code); a black
    frame around the ``current`` code."""
    k = len(digits)
    ncol = _side(k)
    tw, th = _tile_size()
    rows = math.ceil(k / ncol)
    img = PIL.Image.new("RGB", (ncol * (tw + TILE_PAD) + TILE_PAD, TOP_PX + rows * (th + TILE_PAD) + TILE_PAD),
                        (255, 255, 255))
    draw = PIL.ImageDraw.Draw(img)
    font = _font(12)
    top, left = crop_origin(cell)
    pixels = to_uint8(digits, keep_shape=True)[:, 0, top:top + CROP, left:left + CROP]
    side = 28 // GRID * TILE_SCALE
    for code in range(k):
        row, col = divmod(code, ncol)
        x, y = TILE_PAD + col * (tw + TILE_PAD), TOP_PX + TILE_PAD + row * (th + TILE_PAD)
        img.paste(PIL.Image.fromarray(pixels[code]).resize((tw, tw), PIL.Image.NEAREST), (x, y + LABEL_PX))
        label = (150, 150, 150) if code in dead else code_colour(code)
        draw.rectangle([x, y, x + tw - 1, y + LABEL_PX - 1], fill=label)
        draw.text((x + tw / 2, y + LABEL_PX / 2), str(code), fill=(255, 255, 255) if code in dead else (0, 0, 0),
                  font=font, anchor="mm")
        if code in dead:  # struck through
            draw.line([x + 4, y + LABEL_PX / 2, x + tw - 5, y + LABEL_PX / 2], fill=(255, 255, 255), width=2)
        bx = x + (cell[1] * 28 // GRID - left) * TILE_SCALE
        by = y + LABEL_PX + (cell[0] * 28 // GRID - top) * TILE_SCALE
        draw.rectangle([bx - 1, by - 1, bx + side, by + side], outline=CELL_BOX)
        if code == current:
            draw.rectangle([x - 3, y - 3, x + tw + 2, y + th + 2], outline=(0, 0, 0), width=3)
    return img


def code_at(x: float, y: float, codebook_size: int) -> int | None:
    """The code whose tile of the codebook grid is under the pixel (x, y), or None (between or after the tiles)."""
    tw, th = _tile_size()
    col, row = int((x - TILE_PAD / 2) // (tw + TILE_PAD)), int((y - TOP_PX - TILE_PAD / 2) // (th + TILE_PAD))
    ncol = _side(codebook_size)
    if not (0 <= col < ncol and row >= 0):
        return None
    code = row * ncol + col
    return code if code < codebook_size else None


@torch.inference_mode()
def code_meanings(model: VQVAE, codes, cell: tuple[int, int]) -> torch.Tensor:
    """(K, 1, 28, 28): the map ``codes`` with ``cell`` set to each code k in turn, decoded."""
    k = model.codebook_size
    batch = torch.as_tensor(codes, dtype=torch.long).reshape(1, GRID, GRID).repeat(k, 1, 1)
    batch[:, cell[0], cell[1]] = torch.arange(k)
    return model.decode_codes(batch)


# --- plain functions: the three bottlenecks ----------------------------------------------------------------------

@torch.inference_mode()
def compare_bottlenecks(x: torch.Tensor, vq: VQVAE, ae=None, vae=None) -> dict:
    """The reconstructions of one digit x (1, 1, 28, 28) by the VQ-VAE, the AE and the 2-D VAE (None: not
    available), each with its PSNR (dB) and the size of its code in bits."""
    k = vq.codebook_size
    out = {"vq": {"image": vq.reconstruct(x), "bits": CELLS * math.log2(k), "k": k}}
    if ae is not None:
        d = ae.encoder[-1].out_features
        out["ae"] = {"image": ae.reconstruct(x), "bits": 32 * d, "d": d}
    if vae is not None:
        mu, _logvar = vae.encode(x)
        out["vae"] = {"image": vae.decode(mu), "bits": 32 * vae.latent_dim, "d": vae.latent_dim}
    for row in out.values():
        row["psnr"] = float(psnr(row["image"], x))
    return out


def _optional(load):
    try:
        return load()
    except gr.Error:
        return None


def comparison(x: torch.Tensor, vq: VQVAE) -> dict:
    """The comparison's pictures and table (a model whose weights are missing gets a row that says so)."""
    ae = _optional(lambda: load_or_explain(ConvAutoencoder, ae_tab.SLUG, ae_tab.TRAINING_COMMAND))
    vae = _optional(lambda: load_or_explain(VAE, vae_tab.SLUG, vae_tab.TRAINING_COMMAND))
    r = compare_bottlenecks(x, vq, ae, vae)
    rows = [TAB.text("compare_header")]
    for name, slug in (("ae", ae_tab.SLUG), ("vae", vae_tab.SLUG)):
        if name in r:
            rows.append(TAB.text(f"row_{name}", d=r[name]["d"], bits=f"{r[name]['bits']:,}",
                                 psnr=f"{r[name]['psnr']:.2f} dB"))
        else:
            rows.append(f"| {TAB.text(name)} (`{slug}`) | {TAB.text('not_available')} | – | – |")
    rows.append(TAB.text("row_vq", cells=CELLS, kmax=r["vq"]["k"] - 1, k=r["vq"]["k"], bits=f"{r['vq']['bits']:g}",
                         psnr=f"**{r['vq']['psnr']:.2f} dB**"))
    small = {name: to_pil(r[name]["image"], scale=5) if name in r else None for name in ("ae", "vae", "vq")}
    return {"seen": to_pil(x, scale=5), **small, "compare_table": "\n".join(rows) + "\n\n" + TAB.text("compare_note")}


# --- Gradio handlers: encoding and editing ---------------------------------------------------------------------

def vqvae_encode(image) -> dict:
    """api ``/vqvae_encode``: a digit (drawing, upload, example) → the picture of its 7×7 code map, its
    reconstruction, and the codes as JSON (7 rows of 7 whole numbers in 0 … K−1)."""
    x = image_to_digit(image)
    model = load_vqvae()
    codes = encode_codes(model, x)
    recon = decode_maps(model, codes)
    return {"code_map": code_map_picture(codes, recon), "recon": digit_picture(recon), "codes": codes_to_json(codes)}


def vqvae_decode(codes: str) -> dict:
    """api ``/vqvae_decode``: codes as JSON (7 rows of 7 whole numbers in 0 … K−1) → the decoded digit."""
    model = load_vqvae()
    return {"recon": digit_picture(decode_maps(model, parse_codes(codes, model.codebook_size)))}


def show_map(x: torch.Tensor | None, encoded, edited, cell) -> dict:
    """Everything that follows the edited code map: its picture with ``cell`` selected, the decoded digit, the
    JSON, the line about the cell, the codebook grid and the slider (``x``: the digit, for the PSNR)."""
    model = load_vqvae()
    cell = tuple(cell)
    digit = decode_maps(model, edited)
    changed = sum(a != b for ra, rb in zip(encoded, edited) for a, b in zip(ra, rb))
    dead = set(torch.nonzero(codebook_usage() == 0).flatten().tolist())
    code = int(edited[cell[0]][cell[1]])
    quality = f"{float(psnr(digit, x)):.2f}" if x is not None else "–"
    return {
        "code_map": code_map_picture(edited, digit, cell),
        "recon": digit_picture(digit),
        "codes": codes_to_json(edited),
        "cell_info": TAB.text("cell_info", row=cell[0] + 1, col=cell[1] + 1, code=code,
                              orig=int(encoded[cell[0]][cell[1]]), changed=changed, cells=CELLS, psnr=quality),
        "meanings": meanings_picture(code_meanings(model, edited, cell), cell, code, dead),
        "code": gr.update(value=code, maximum=model.codebook_size - 1),
        "edited_state": edited, "cell_state": list(cell),
    }


def encode_and_show(image, cell=FIRST_CELL) -> dict:
    """Everything that a new digit changes: the code map and the decoded digit, the states (encoded and edited
    map, selected cell), the codebook grid and the comparison of the three bottlenecks."""
    x = image_to_digit(image)
    model = load_vqvae()
    codes = encode_codes(model, x).tolist()
    return {**show_map(x, codes, codes, cell), "recon0": to_pil(decode_maps(model, codes), scale=5),
            "encoded_state": codes, "digit_state": x[0, 0].tolist(), **comparison(x, model)}


def encode_live(image, cell) -> dict:
    """``encode_and_show`` for the live events (canvas, examples): a blank or cleared canvas changes nothing."""
    try:
        return encode_and_show(image, cell or FIRST_CELL)
    except gr.Error:
        return {"cell_state": cell}  # as it was (an empty dict of outputs is an error to Gradio)


def encode_uploaded(image, cell) -> dict:
    """``encode_and_show`` for an uploaded image: unlike a cleared canvas, an upload that cannot be used says why."""
    return encode_and_show(image, cell or FIRST_CELL)


def _digit(digit_state) -> torch.Tensor | None:
    return torch.tensor(digit_state, dtype=torch.float32)[None, None] if digit_state else None


def select_cell(digit_state, encoded, edited, evt: gr.SelectData) -> dict:
    """A click on the code map selects the cell under it (nothing happens before a digit is encoded)."""
    if not edited:
        return {"edited_state": edited}
    return show_map(_digit(digit_state), encoded, edited, cell_at(*evt.index))


def set_code(digit_state, encoded, edited, cell, code) -> dict:
    """The slider puts ``code`` in the selected cell."""
    if not edited:
        return {"edited_state": edited}
    model = load_vqvae()
    code = int(check_range(code, 0, model.codebook_size - 1, TAB.phrase("code")))
    cell = tuple(cell or FIRST_CELL)
    return show_map(_digit(digit_state), encoded, with_code(edited, cell, code), cell)


def pick_code(digit_state, encoded, edited, cell, evt: gr.SelectData) -> dict:
    """A click on the codebook grid puts that code in the selected cell (a click between the tiles: nothing)."""
    code = code_at(*evt.index, load_vqvae().codebook_size) if edited else None
    return {"edited_state": edited} if code is None else set_code(digit_state, encoded, edited, cell, code)


def reset_codes(digit_state, encoded, cell) -> dict:
    """Back to the encoder's codes (the selected cell stays)."""
    if not encoded:
        return {"cell_state": cell}
    return show_map(_digit(digit_state), encoded, encoded, tuple(cell or FIRST_CELL))


def adopt_codes(codes: str, digit_state, encoded, cell) -> dict:
    """After ``/vqvae_decode`` in the page: the decoded JSON becomes the edited map."""
    edited = parse_codes(codes, load_vqvae().codebook_size).tolist()
    return show_map(_digit(digit_state), encoded or edited, edited, tuple(cell or FIRST_CELL))


# --- Gradio handlers: the codebook and sampling ------------------------------------------------------------------

@demo_cache(maxsize=2)
def codebook_view() -> dict:
    """The usage histogram and its text (perplexity, codes used, dead codes), computed once."""
    counts = codebook_usage()
    k = len(counts)
    dead = torch.nonzero(counts == 0).flatten().tolist()
    ppl = f"{perplexity(counts):.1f}"
    dead_text = TAB.phrase("dead_list", codes=", ".join(map(str, dead))) if dead else TAB.phrase("no_dead")
    return {"usage": usage_histogram(counts),
            "usage_text": TAB.phrase("usage_text", ppl=ppl, k=k, used=k - len(dead), dead=dead_text)}


def codebook() -> dict:
    view = codebook_view()
    return {"usage": view["usage"], "usage_text": view["usage_text"].render()}


def sample_labels(prior: CodePrior, n: int, label: str, generator: torch.Generator) -> torch.Tensor:
    """(n,) classes: drawn from the training class frequencies for "any", else the chosen class for all."""
    return prior.random_labels(n, generator) if label == "any" else torch.full((n,), int(label))


def vqvae_sample(n: int, seed: int, temperature: float, label: str = "any"):
    """api ``/vqvae_sample``: n digits (1–64) from the prior (seeded), the codes written in raster order at
    ``temperature``; ``label``: "any" (a class drawn from the class frequencies first) or "0" … "9". Streams the
    partly written code maps and their decoded digits after every row of cells; the last result is (a picture of the n
    digits, a gallery with each digit as its own image, the picture of the code maps, a status line)."""
    yield from sample_steps(n, seed, temperature, label)


def sample_steps(n: int, seed: int, temperature: float, label: str = "any", stream: bool = True):
    """``vqvae_sample``'s results; without ``stream`` only the last (the same digits: the same random draws)."""
    n = int(check_range(n, *LIMITS["n"][:2], TAB.phrase("n")))
    seed = check_seed(seed)
    temperature = check_range(temperature, *LIMITS["temperature"][:2], TAB.phrase("temperature"))
    check_choice(label, CLASSES)
    model, prior = load_vqvae(), load_prior()
    generator = torch.Generator().manual_seed(seed)
    labels = sample_labels(prior, n, label, generator)
    blank = blank_codes(model)
    seconds, resumed = 0.0, time.perf_counter()  # the time spent here, not waiting for a streamed step to be sent
    codes = None
    for codes, i in prior.sample_steps(n, temperature, generator, labels):
        row, col = divmod(i, GRID)
        # One picture per written row (6, then the result): enough to watch the raster order, and each streamed
        # picture costs the server more than sampling a row does (encoding, sending).
        if stream and col == GRID - 1 and i < CELLS - 1:
            digits = decode_maps(model, torch.where(codes >= 0, codes, blank))
            step = {"maps": maps_picture(codes, last=i), "digits": digits_picture(digits, written=i + 1),
                    "sample_status": TAB.text("sampling", i=i + 1, cells=CELLS, row=row + 1, col=col + 1)}
            seconds += time.perf_counter() - resumed
            yield step
            resumed = time.perf_counter()
    digits = decode_maps(model, codes)
    seconds += time.perf_counter() - resumed
    status = TAB.text("sample_done", n=n, cells=CELLS, s=f"{seconds:.2f}")
    if label == "any":
        status += " " + TAB.text("classes_drawn", classes=", ".join(map(str, labels.tolist())))
    yield {"digits": digits_picture(digits), "maps": maps_picture(codes),
           "gallery": [(to_pil(d, scale=4), TAB.text("caption", y=int(y))) for d, y in zip(digits, labels)],
           "sample_status": status}


def last_result(steps) -> dict:
    """The final result of a streamed handler (its last yield)."""
    result = {}
    for result in steps:
        pass
    return result


# --- share links and opening the tab -----------------------------------------------------------------------------

# The settings a share link carries (the controls' names in ``open_tab``), in the order of ``vqvae_share_query``.
SETTINGS = ("n", "seed", "temperature", "label")


def vqvae_share_query(n, seed, temperature, label, cell, edited) -> str:
    """The query string of a share link: the sampling settings, and the selected cell (row, col from 1) with its
    code (shown on the example digit the link opens with; the student's own image is never included)."""
    r, c = cell or FIRST_CELL
    extra = {"row": r + 1, "col": c + 1, "code": int(edited[r][c])} if edited else {}
    return share_query(TAB, n=int(n or 1), seed=int(seed or 0), temperature=round(float(temperature), 2),
                       label=label, **extra)


def settings_from_query(request: gr.Request | None) -> dict:
    """{name: value} of the sampling settings (``SETTINGS``) from a share link, defaults for what is absent."""
    return {
        "n": query_value(request, "n", int, *LIMITS["n"][:2], default=LIMITS["n"][2]),
        "seed": query_value(request, "seed", int, 0, MAX_SEED, default=0),
        "temperature": query_value(request, "temperature", float, *LIMITS["temperature"][:2],
                                   default=LIMITS["temperature"][2]),
        "label": query_value(request, "label", str, choices=CLASSES, default="any"),
    }


def open_tab(request: gr.Request | None = None) -> dict:
    """When the student first sees the tab (``Page.when_shown``): load the weights; if the VQ-VAE's are missing,
    show why and disable only this tab (the prior's missing: only sampling). Otherwise encode a real MNIST test
    digit (with a share link's cell and code), draw the codebook, and sample a first batch with its settings."""
    settings = settings_from_query(request)
    controls = {name: gr.update(value=value) for name, value in settings.items()}
    off, on = gr.update(interactive=False), gr.update(interactive=True)
    buttons = ("encode_run", "reset", "decode_run", "sample_run", "code")
    try:
        model = load_vqvae()
        view = codebook()
    except gr.Error as err:
        return {"status": show_weights_problem(err), **dict.fromkeys(buttons, off), **controls}
    row = query_value(request, "row", int, 1, GRID, default=FIRST_CELL[0] + 1) - 1
    col = query_value(request, "col", int, 1, GRID, default=FIRST_CELL[1] + 1) - 1
    with PIL.Image.open(FIRST_EXAMPLE) as img:
        shown = encode_and_show(img.copy(), (row, col))
    code = query_value(request, "code", int, 0, model.codebook_size - 1)
    if code is not None:
        edited = with_code(shown["encoded_state"], (row, col), code)
        shown.update(show_map(_digit(shown["digit_state"]), shown["encoded_state"], edited, (row, col)))
    result = {"status": gr.update(visible=False), "canvas": FIRST_EXAMPLE, **dict.fromkeys(buttons, on),
              **controls, **shown, **view}
    try:
        load_prior()
    except gr.Error as err:
        return {**result, "status": show_weights_problem(err), "sample_run": off}
    return {**result, **last_result(sample_steps(*settings.values(), stream=False))}


# --- the tab -------------------------------------------------------------------------------------------------------

@TAB.builder
def create_demo(page: Page) -> gr.Blocks:
    """The tab's Blocks (see demos/kit.py: ``page`` says where it is shown)."""
    _ = TAB.ui
    mnist_examples = sorted(str(p) for p in (EXAMPLES / "mnist").glob("*.png"))
    image_opts = dict(type="pil", format="png", interactive=False, buttons=["download"])  # png: crisp cells
    maths = [{"left": "$", "right": "$", "display": False}]
    with gr.Blocks() as demo:
        status = weights_status()
        with gr.Row():
            with gr.Column(scale=3, min_width=260):
                gr.Markdown(_("input_hint"))
                canvas = digit_canvas(_("input"), height=300, elem_id="vqvae-canvas")
                examples = gr.Examples([[p] for p in mnist_examples], inputs=[canvas], label=_("examples"),
                                       examples_per_page=20)
                encode_btn = gr.Button(_("encode_run"), variant="primary")
            with gr.Column(scale=6, min_width=520):
                with gr.Row():
                    code_map = gr.Image(label=_("code_map"), height=360, min_width=250, elem_classes=["pixelated"],
                                        elem_id="vqvae-code-map", **image_opts)
                    recon = gr.Image(label=_("recon"), height=360, min_width=250, elem_classes=["pixelated"],
                                     **image_opts)
                gr.Markdown(_("code_map_note"))
                with gr.Row(equal_height=True):
                    code = controls.Slider(0, 63, value=0, step=1, label=_("code"), info=_("code_info"), scale=4)
                    recon0 = gr.Image(label=_("recon0"), height=130, min_width=110, scale=1,
                                      elem_classes=["pixelated"], **image_opts)
                with gr.Row(equal_height=True):
                    cell_info = gr.Markdown()
                    reset = gr.Button(_("reset"), size="sm", scale=0, min_width=200)
                with gr.Accordion(_("json_title"), open=False):
                    # Code 0 everywhere until a digit is encoded (valid whatever K: the api's default works).
                    codes_box = gr.Code(codes_to_json([[0] * GRID] * GRID), label=_("codes"), language="json",
                                        interactive=True, lines=7)
                    decode_btn = gr.Button(_("decode_run"))
                share_button, share_link = share_row()
            with gr.Column(scale=4, min_width=300):
                TAB.explanation()

        gr.Markdown(_("codebook_title"))
        with gr.Row():
            with gr.Column(scale=5, min_width=320):
                usage = gr.Image(label=_("usage"), **image_opts)
                usage_md = gr.Markdown()
                gr.Markdown(_("meanings_note"))
            with gr.Column(scale=5, min_width=320):
                meanings = gr.Image(label=_("meanings"), elem_id="vqvae-meanings", **image_opts)

        gr.Markdown(_("compare_title"))
        with gr.Row():
            with gr.Column(scale=5, min_width=480):
                with gr.Row():
                    small = dict(height=190, min_width=110, elem_classes=["pixelated"], **image_opts)
                    seen = gr.Image(label=_("seen"), **small)
                    ae_img = gr.Image(label=_("ae"), **small)
                    vae_img = gr.Image(label=_("vae"), **small)
                    vq_img = gr.Image(label=_("vq"), **small)
            with gr.Column(scale=4, min_width=360):
                compare_md = gr.Markdown()

        gr.Markdown(_("sample_title"))
        with gr.Row():
            with gr.Column(scale=3, min_width=260):
                n = controls.Slider(*LIMITS["n"][:2], value=LIMITS["n"][2], step=1, label=_("n"))
                temperature = controls.Slider(*LIMITS["temperature"][:2], value=LIMITS["temperature"][2], step=0.05,
                                        label=_("temperature"), info=_("temperature_info"))
                label = controls.Dropdown([(_("any"), "any"), *[(str(d), str(d)) for d in range(10)]], value="any",
                                    label=_("label"))
                seed, dice = seed_input(0)
                sample_btn = gr.Button(_("sample_run"), variant="primary")
                gr.Markdown(_("sample_note"), latex_delimiters=maths)
            # Captions above the pictures rather than labels on them: a label would hide the first row of maps.
            with gr.Column(scale=4, min_width=300):
                gr.Markdown(_("maps"))
                maps = gr.Image(label=_("maps"), show_label=False, height=420, elem_classes=["pixelated"],
                                elem_id="vqvae-maps", **image_opts)
            with gr.Column(scale=4, min_width=300):
                gr.Markdown(_("digits"))
                digits = gr.Image(label=_("digits"), show_label=False, height=420, elem_classes=["pixelated"],
                                  elem_id="vqvae-digits", **image_opts)
        sample_status = gr.Markdown()
        page.slide_button([code_map, recon, maps, digits], [code, n, temperature, label, seed])
        with gr.Accordion(_("gallery_title"), open=False):
            gallery = gr.Gallery(label=_("gallery"), columns=8, height="auto", object_fit="contain",
                                 buttons=["download"])

        digit_state, encoded_state, edited_state, cell_state = (gr.State(None), gr.State(None), gr.State(None),
                                                                gr.State(list(FIRST_CELL)))

        # Events. Encoding, decoding and editing take milliseconds: they run live. Sampling 16 digits takes a few
        # tenths of a second (streamed cell by cell), so it needs no place in the heavy queue.
        # The api's outputs keep their order (gradio_client sees a tuple): what each handler returns, by name.
        private = dict(api_visibility="private")
        quiet = dict(show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        map_outputs = {"code_map": code_map, "recon": recon, "codes": codes_box, "cell_info": cell_info,
                       "meanings": meanings, "code": code, "edited_state": edited_state, "cell_state": cell_state}
        all_outputs = {**map_outputs, "recon0": recon0, "encoded_state": encoded_state, "digit_state": digit_state,
                       "seen": seen, "ae": ae_img, "vae": vae_img, "vq": vq_img, "compare_table": compare_md}
        encoded = page.on(encode_btn.click, vqvae_encode, canvas, {"code_map": code_map, "recon": recon,
                                                                   "codes": codes_box}, api_name="vqvae_encode")
        page.on(encoded.success, encode_live, [canvas, cell_state], all_outputs, **quiet)
        for drawn in wire_canvas(page, demo, canvas):
            page.on(drawn, encode_live, [canvas, cell_state], all_outputs, **quiet)
        page.on(canvas.upload, encode_uploaded, [canvas, cell_state], all_outputs, **quiet)
        page.on(examples.load_input_event.then, encode_live, [canvas, cell_state], all_outputs, **quiet)
        page.on(code_map.select, select_cell, [digit_state, encoded_state, edited_state], map_outputs, **quiet)
        edit_inputs = [digit_state, encoded_state, edited_state, cell_state]
        page.on(code.input, set_code, [*edit_inputs, code], map_outputs, **quiet)
        page.on(meanings.select, pick_code, edit_inputs, map_outputs, **quiet)
        page.on(reset.click, reset_codes, [digit_state, encoded_state, cell_state], map_outputs, **private)
        decoded = page.on(decode_btn.click, vqvae_decode, codes_box, {"recon": recon}, api_name="vqvae_decode")
        page.on(decoded.success, adopt_codes, [codes_box, digit_state, encoded_state, cell_state], map_outputs,
                **quiet)

        sample_outputs = {"digits": digits, "gallery": gallery, "maps": maps, "sample_status": sample_status}
        # Sampling writes 49 cells one after the other with the prior (up to 64 digits): a heavy job, in turns with the
        # other heavy tabs (demos/turns.py), giving way between two cells.
        page.on(sample_btn.click, vqvae_sample, [n, seed, temperature, label], sample_outputs,
                api_name="vqvae_sample", show_progress="minimal", **heavy_queue())
        page.on(dice.click, new_seed, None, seed, queue=False, **private)

        settings = {"n": n, "seed": seed, "temperature": temperature, "label": label}
        wire_share(page, share_button, share_link, vqvae_share_query, [*settings.values(), cell_state, edited_state])
        page.when_shown(demo, open_tab, {
            "status": status, "canvas": canvas, "encode_run": encode_btn, "reset": reset, "decode_run": decode_btn,
            "sample_run": sample_btn, **settings, **all_outputs, "usage": usage, "usage_text": usage_md,
            **sample_outputs})
    return demo


if __name__ == "__main__":
    TAB.launch()
