"""Every visible string of the gallery, in Japanese and English, one key per string.

Static text (labels, explanations) is translated in the browser by ``gr.I18n``: components get
``_("key")`` and the browser's language picks the table. Text made by handlers at run time
(errors, tables) cannot be translated there, so ``text(key, request)`` picks the language from
the request's ``Accept-Language`` header — or from ``--lang`` / ``GALLERY_LANG`` when the app
was started with a fixed language.

Keep both tables complete: ``tests/test_i18n.py`` checks that they have the same keys and
the same ``{placeholders}``.
"""

import os

import gradio as gr
from gradio.i18n import I18nData

LANGUAGES = ("ja", "en")

EN = {
    # --- app shell -------------------------------------------------------------------------
    "app.title": "# Generative Models Gallery",
    "app.intro": (
        "An interactive companion to a university course on generative models. Every tab is a real model, "
        "trained on real data by a script in this repository, with the idea and its key equation beside the "
        "controls. Draw, upload or pick your own inputs and watch what the model does with them."
    ),
    "tab.ae": "AE denoising",
    "tab.vae": "VAE latent space",
    # --- shared ----------------------------------------------------------------------------
    "common.seed": "Seed",
    "err.unreadable": "This file could not be read as an image. Please upload a PNG, JPEG, WebP or GIF image.",
    "err.no_image": "No image{what}. Draw a digit, upload an image or pick an example.",
    "err.empty": "The image{what} is empty: no strokes were found. Draw a digit first.",
    "err.no_photo": "No photo{what}. Upload one, take one with the webcam, or pick an example.",
    "err.too_small": "The photo is too small ({w}×{h} px). Please use one at least 8 px on each side.",
    "warn.downscaled": "The image ({w}×{h} px) was large, so it was shrunk to at most {side} px before processing.",
    "err.weights": (
        "The weights of “{slug}” are not available, so this tab is disabled (the other tabs work). "
        "Reason: {reason}. To get them, use a full clone of the repository (with its `pretrained/` folder), "
        "point GALLERY_HUB_ORG / GALLERY_HUB_REVISION at a Hub repo that has them, or train them yourself: `{command}`"
    ),
    "err.seed": "The seed must be a whole number from 0 to {max}.",
    "err.range": "“{name}” must be between {low} and {high}.",
    "err.choice": "Unknown choice “{value}”. Expected one of: {choices}.",
    "share.button": "🔗 Link to this",
    "share.label": "A link that opens this tab with these settings (images are not included)",
    # --- AE denoising ----------------------------------------------------------------------
    "ae.input": "Your digit",
    "ae.input_hint": "Draw a digit with the brush (✏️), upload an image, or pick an example below.",
    "ae.examples_mnist": "Real MNIST test digits",
    "ae.examples_ood": "Not digits (out of distribution)",
    "ae.noise_kind": "Noise",
    "ae.gaussian": "Gaussian",
    "ae.salt_pepper": "Salt & pepper",
    "ae.mask": "Masking",
    "ae.sigma": "Gaussian noise σ",
    "ae.sp_rate": "Salt & pepper rate",
    "ae.mask_fraction": "Fraction of pixels masked",
    "ae.run": "Add noise and denoise",
    "ae.clean": "Clean input",
    "ae.noisy": "Noisy input",
    "ae.denoised": "Denoising AE",
    "ae.plain": "Plain AE",
    "ae.removed": "Removed (red) / added (blue)",
    "ae.psnr_note": "PSNR against the clean input; higher is closer.",
    "ae.repeated": "The denoising AE applied again and again: noisy input, then after 1, 2, 4, 8 and 16 passes",
    "ae.explain": r"""
### Denoising autoencoder
An **autoencoder** compresses an image $x$ into a short code $h = f_\phi(x)$ (here 64 numbers) and
rebuilds it as $\hat x = g_\theta(h)$. A *plain* autoencoder is trained to copy its input:
it minimises $L\big(x, g_\theta(f_\phi(x))\big)$.

A **denoising autoencoder** (Vincent et al., 2008) is given a corrupted copy $\tilde x \sim C(\tilde x \mid x)$
but must rebuild the clean $x$:

$$\min_{\theta,\phi}\ \mathbb{E}_{x}\,\mathbb{E}_{\tilde x \sim C(\tilde x \mid x)}\Big[L\big(x,\ g_\theta(f_\phi(\tilde x))\big)\Big]$$

where $L$ is the binary cross-entropy summed over the 28×28 pixels.

**The three corruptions $C$ of the lecture**
- Gaussian: $\tilde x = \operatorname{clip}(x + \sigma\varepsilon,\ 0,\ 1)$, $\varepsilon \sim \mathcal N(0, I)$
- Salt & pepper: a fraction $p$ of the pixels becomes 0 or 1
- Masking: a fraction $p$ of the pixels becomes 0

**PSNR** $= 10 \log_{10} \dfrac{1}{\mathrm{MSE}(x, \hat x)}$ dB: the higher, the closer to the clean digit.

**Try this**
1. Raise σ and compare the *plain AE* with the *denoising AE*: the plain AE has never seen noise and keeps much of it.
2. Pick the letter A, the star or the spiral, and look at the last row, where the denoiser is applied again and again.
   Each pass moves the image towards the digits it has learned (its step $r(\tilde x) - \tilde x$ points to where
   training data are denser; Alain & Bengio, 2014): the letter drifts into a digit, while a real digit stays put.
3. The red/blue map shows what the denoiser took away (red) and filled in (blue).
""",
    # --- VAE latent explorer ---------------------------------------------------------------
    "vae.map": "VAE latent space: the 10,000 MNIST test digits at their μ (click to decode)",
    "vae.decoded": "Decoded at z",
    "vae.z1": "z₁",
    "vae.z2": "z₂",
    "vae.compare_title": "Why the KL term matters: the same network trained without it (β = 0)",
    "vae.compare_note": (
        "Left: the latent space of a plain autoencoder with the same 2-D bottleneck (β = 0, no KL term). "
        "Click it to decode a point. Compare it with the VAE's map above: the clusters are stretched and far apart, "
        "the scale is arbitrary, and points between the clusters decode to shapes that are not digits."
    ),
    "vae.beta0_map": "Plain autoencoder (β = 0) latent space (click to decode)",
    "vae.beta0_decoded": "Plain autoencoder, decoded at the clicked point",
    "vae.manifold_title": "The decoded manifold (the classic figure)",
    "vae.manifold_note": (
        "Each cell is the decoder's output at one point of a regular grid of latent points. For the VAE the grid "
        "follows the quantiles of the prior N(0, 1) from 5 % to 95 %, as in Kingma & Welling's paper; for the "
        "plain autoencoder it spans the range of its map."
    ),
    "vae.manifold_vae": "VAE (β = 1)",
    "vae.manifold_beta0": "Plain autoencoder (β = 0)",
    "vae.interp_title": "Interpolation between two digits",
    "vae.digit_a": "Digit A (draw or upload)",
    "vae.digit_b": "Digit B (draw or upload)",
    "vae.frames": "Number of frames",
    "vae.interp_mode": "Path",
    "vae.linear": "Linear",
    "vae.spherical": "Spherical (slerp)",
    "vae.interp_run": "Interpolate",
    "vae.interp_note": (
        "Both digits are encoded to their means $\\mu_A, \\mu_B$; the frames decode "
        "$z_t = (1-t)\\,\\mu_A + t\\,\\mu_B$ (linear) or the spherical path between them (slerp, which keeps "
        "the distance from the origin where the prior puts its mass)."
    ),
    "vae.examples_a": "MNIST test digits for A",
    "vae.examples_b": "MNIST test digits for B",
    "vae.interp_vae": "VAE: decoded frames from A to B",
    "vae.interp_beta0": "Plain autoencoder (β = 0): decoded frames from A to B",
    "vae.encode_title": "Encode your drawing: μ, σ and the ELBO",
    "vae.your_drawing": "Your drawing",
    "vae.encode_run": "Encode",
    "vae.encode_examples": "Examples",
    "vae.as_seen": "As the model sees it (28×28)",
    "vae.recon_vae": "VAE reconstruction (decoded μ)",
    "vae.recon_beta0": "Plain autoencoder reconstruction",
    "vae.nats": "nats",
    "vae.recon_term": "Reconstruction term E_q[−log p(x∣z)]",
    "vae.kl_term": "KL(q(z∣x) ‖ N(0, I))",
    "vae.elbo_note": (
        "−ELBO = reconstruction + KL is an upper bound on −log p(x): the lower, the more probable the model finds "
        "your drawing. Half of the MNIST test digits score below {typical} nats. On the map, the cross is μ and the "
        "ellipse is μ ± σ (often too small to see: the encoder is very sure where a digit belongs)."
    ),
    "vae.explain": r"""
### Variational autoencoder (VAE)
The encoder does not output one code but a distribution $q_\phi(z \mid x) = \mathcal N\big(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x)\big)$;
the decoder gives $p_\theta(x \mid z)$, here a Bernoulli distribution per pixel. Training maximises the
**evidence lower bound** (Kingma & Welling, 2014):

$$\begin{aligned}\log p_\theta(x) \ \ge\ &\underbrace{\mathbb{E}_{q_\phi(z\mid x)}\big[\log p_\theta(x \mid z)\big]}_{\text{reconstruction}} \\ &- \underbrace{D_{\mathrm{KL}}\big(q_\phi(z \mid x)\,\|\,\mathcal N(0, I)\big)}_{\text{regulariser}}\end{aligned}$$

Sampling uses the **reparameterisation trick** $z = \mu + \sigma \odot \varepsilon$, $\varepsilon \sim \mathcal N(0, I)$, so
gradients flow through $\mu$ and $\sigma$. For Gaussians the KL term is exact:

$$D_{\mathrm{KL}} = \tfrac12 \sum_j \big(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\big)$$

Here $z$ has only **two** dimensions, so the whole latent space fits in one picture.

**Try this**
1. Move the sliders or click the map: nearby points decode to similar digits, and the regions between classes blend them.
2. Click far outside the coloured points: the decoder still draws something, because the prior covers the plane.
3. Compare with the β = 0 autoencoder below, the same network without the KL term.
""",
    # --- DeepDream -------------------------------------------------------------------------
    "tab.dd": "DeepDream",
    "dd.input": "Your photo",
    "dd.examples": "Example photos (scikit-image)",
    "dd.layer": "Layer to amplify",
    "dd.layer_info": "Early layers amplify textures and strokes; late layers amplify object parts.",
    "dd.layer_block2": "block 2 (early: edges, textures)",
    "dd.layer_block4": "block 4 (early: textures)",
    "dd.layer_block7": "block 7 (middle: patterns)",
    "dd.layer_block10": "block 10 (middle: parts of patterns)",
    "dd.layer_block13": "block 13 (late: object parts)",
    "dd.layer_block15": "block 15 (late: object parts)",
    "dd.layer_head": "head, 1,280 features (last: whole objects)",
    "dd.objective": "What to maximise",
    "dd.mean_square": "Mean of squares",
    "dd.l2": "L2 norm",
    "dd.octaves": "Octaves",
    "dd.octave_scale": "Octave scale",
    "dd.iterations": "Iterations per octave",
    "dd.step": "Step size η",
    "dd.jitter": "Jitter (pixels)",
    "dd.resolution": "Resolution (longer side, px)",
    "dd.guided_title": "Guided dreaming (optional)",
    "dd.guided_note": "Give a guide image: the dream then makes each part of your photo look more like the best-matching part of the guide, at the chosen layer.",
    "dd.guide": "Guide image",
    "dd.run": "Dream",
    "dd.output": "The dream (updated after each octave)",
    "dd.zoom_title": "Endless zoom animation",
    "dd.zoom_frames": "Frames",
    "dd.zoom_run": "Make the zoom animation",
    "dd.zoom_frame": "Current frame",
    "dd.zoom_file": "Animated GIF (download)",
    "dd.panel_channels": "Channels of {layer} that grew most (mean activation, after − before)",
    "dd.panel_classes": "ImageNet classes the network now sees more of (logit, after − before)",
    "dd.octave": "Octave {k} of {n} done",
    "dd.done": "Done: {w}×{h} px.",
    "dd.frame": "Frame {i} of {n}",
    "dd.explain": r"""
### DeepDream
A trained network is usually fixed while images change. DeepDream (Mordvintsev et al., 2015) does the
opposite: it changes the **image** so that a chosen layer $l$ of a fixed ImageNet network responds more.
This is gradient **ascent** on the pixels:

$$\begin{aligned} x &\leftarrow x + \eta\,\frac{g}{\operatorname{mean}|g|} \\ g &= \nabla_x \mathcal{L}(x), \qquad \mathcal{L}(x) = \frac{1}{N}\sum_i a_{l,i}(x)^2 \end{aligned}$$

- **Normalised gradient**: $\eta$ is a step in pixel units, whatever the layer.
- **Jitter**: the image is shifted randomly before each step, so patterns do not lock onto the pixel grid.
- **Octaves**: dream on a small copy first, then enlarge it and keep dreaming, so structures appear at several scales.
- **Guided**: maximise $\sum_i \max_j \langle a_i(x), a_j(g)\rangle$, the similarity to the features of a guide image $g$.

Network: EfficientNet-Lite0 (ImageNet); the original used GoogLeNet.

**Try this**: compare an early block with the head on the same photo; raise the octaves; use chelsea as a guide for the astronaut.
""",
    # --- CartoonGAN ------------------------------------------------------------------------
    "tab.cg": "CartoonGAN",
    "cg.input": "Your photo (upload or webcam)",
    "cg.resolution": "Resolution (longer side, px; the aspect ratio is kept)",
    "cg.run": "Cartoonize",
    "cg.all_styles": "Every available style",
    "cg.as_used": "Input",
    "cg.final": "CartoonGAN (adversarial + content loss)",
    "cg.init": "Initialisation phase only (content loss)",
    "cg.styles": "All styles",
    "cg.explain": r"""
### CartoonGAN
A generator $G$ redraws a photo $p$ as a cartoon. It is trained against a discriminator $D$ with
(Chen et al., 2018)

$$\mathcal{L}(G, D) = \mathcal{L}_{adv}(G, D) + \omega\,\mathcal{L}_{con}(G), \qquad \mathcal{L}_{con} = \big\|\varphi(G(p)) - \varphi(p)\big\|_1$$

- $\varphi$: features of a pretrained CNN (here EfficientNet-Lite0), so the **content** of the photo survives.
- $D$ sees real cartoons as real, and both $G(p)$ and **edge-smoothed cartoons** as fake: $G$ must draw crisp outlines.
- **Initialisation**: $G$ is first trained on $\mathcal{L}_{con}$ alone; compare that generator with the final one.

Our style: real photos → OpenMoji drawings (CC BY-SA 4.0).
""",
}

JA = {
    # --- app shell -------------------------------------------------------------------------
    "app.title": "# 生成モデル・ギャラリー",
    "app.intro": (
        "大学の講義「生成モデル」のためのインタラクティブな教材です。各タブのモデルは、このリポジトリの学習スクリプトで"
        "実データから学習した本物のモデルです。操作パネルの横に考え方と主要な数式を載せています。"
        "自分で描いた画像やアップロードした画像を入力して、モデルがそれをどう扱うかを確かめてみましょう。"
    ),
    "tab.ae": "AE によるノイズ除去",
    "tab.vae": "VAE の潜在空間",
    # --- shared ----------------------------------------------------------------------------
    "common.seed": "シード",
    "err.unreadable": "このファイルは画像として読み込めませんでした。PNG・JPEG・WebP・GIF の画像をアップロードしてください。",
    "err.no_image": "画像{what}がありません。数字を描くか、画像をアップロードするか、例を選んでください。",
    "err.empty": "画像{what}が空です（線が見つかりません）。先に数字を描いてください。",
    "err.no_photo": "写真{what}がありません。アップロードするか、Web カメラで撮るか、例を選んでください。",
    "err.too_small": "写真が小さすぎます（{w}×{h} px）。縦横とも 8 px 以上の写真を使ってください。",
    "warn.downscaled": "画像（{w}×{h} px）が大きいため、長辺 {side} px 以下に縮小してから処理しました。",
    "err.weights": (
        "「{slug}」の重みが見つからないため、このタブは無効になっています（他のタブは使えます）。"
        "原因：{reason}。重みを入手するには、`pretrained/` フォルダを含むリポジトリ全体を clone するか、"
        "GALLERY_HUB_ORG / GALLERY_HUB_REVISION で重みのある Hub リポジトリを指定するか、自分で学習してください：`{command}`"
    ),
    "err.seed": "シードは 0 から {max} までの整数にしてください。",
    "err.range": "「{name}」は {low} 以上 {high} 以下にしてください。",
    "err.choice": "「{value}」は選択肢にありません。次のいずれかを指定してください：{choices}。",
    "share.button": "🔗 この設定のリンク",
    "share.label": "このタブをこの設定で開くリンク（画像は含まれません）",
    # --- AE denoising ----------------------------------------------------------------------
    "ae.input": "数字の入力",
    "ae.input_hint": "ブラシ（✏️）で数字を描くか、画像をアップロードするか、下の例から選んでください。",
    "ae.examples_mnist": "MNIST テストデータの実際の数字",
    "ae.examples_ood": "数字ではない画像（分布外）",
    "ae.noise_kind": "ノイズの種類",
    "ae.gaussian": "ガウスノイズ",
    "ae.salt_pepper": "ごま塩ノイズ",
    "ae.mask": "マスキング",
    "ae.sigma": "ガウスノイズの標準偏差 σ",
    "ae.sp_rate": "ごま塩ノイズの割合",
    "ae.mask_fraction": "マスクする画素の割合",
    "ae.run": "ノイズを加えて除去する",
    "ae.clean": "元の入力",
    "ae.noisy": "ノイズ入りの入力",
    "ae.denoised": "デノイジング AE",
    "ae.plain": "通常の AE",
    "ae.removed": "除去（赤）／追加（青）",
    "ae.psnr_note": "PSNR は元の入力との比較です。値が大きいほど元の入力に近いことを表します。",
    "ae.repeated": "デノイジング AE を繰り返し適用：ノイズ入りの入力、1・2・4・8・16 回適用した後",
    "ae.explain": r"""
### デノイジング・オートエンコーダ
**オートエンコーダ**は、画像 $x$ を短い符号 $h = f_\phi(x)$（ここでは 64 次元）に圧縮し、
そこから $\hat x = g_\theta(h)$ として画像を復元します。*通常の*オートエンコーダは入力をそのまま再現するように、
$L\big(x, g_\theta(f_\phi(x))\big)$ を最小化して学習します。

**デノイジング・オートエンコーダ**（Vincent ら, 2008）は、ノイズで劣化させた $\tilde x \sim C(\tilde x \mid x)$ を入力として受け取り、
元のきれいな $x$ を復元するように学習します：

$$\min_{\theta,\phi}\ \mathbb{E}_{x}\,\mathbb{E}_{\tilde x \sim C(\tilde x \mid x)}\Big[L\big(x,\ g_\theta(f_\phi(\tilde x))\big)\Big]$$

ここで $L$ は 28×28 画素にわたるバイナリ交差エントロピーの和です。

**講義で扱った 3 種類の劣化 $C$**
- ガウスノイズ：$\tilde x = \operatorname{clip}(x + \sigma\varepsilon,\ 0,\ 1)$、$\varepsilon \sim \mathcal N(0, I)$
- ごま塩ノイズ：割合 $p$ の画素を 0 または 1 に置き換える
- マスキング：割合 $p$ の画素を 0 にする

**PSNR** $= 10 \log_{10} \dfrac{1}{\mathrm{MSE}(x, \hat x)}$ dB：大きいほど元の数字に近いことを表します。

**試してみよう**
1. σ を大きくして、*通常の AE* と *デノイジング AE* を比べてみましょう。通常の AE はノイズを見たことがないので、ノイズの多くをそのまま残してしまいます。
2. 文字「A」や星、渦巻きを選んで、デノイザを繰り返し適用した一番下の列を見てみましょう。
   適用するたびに、画像は学習した数字の方へ近づいていきます（$r(\tilde x) - \tilde x$ は学習データの密度が高い方向を向くため；
   Alain & Bengio, 2014）。文字は数字へと変わっていきますが、本物の数字はほとんど変わりません。
3. 赤と青のマップは、デノイザが取り除いた部分（赤）と補った部分（青）を示しています。
""",
    # --- VAE latent explorer ---------------------------------------------------------------
    "vae.map": "VAE の潜在空間：MNIST テストデータ 10,000 枚の μ（クリックするとその点を復号します）",
    "vae.decoded": "z から復号した画像",
    "vae.z1": "z₁",
    "vae.z2": "z₂",
    "vae.compare_title": "KL 項の役割：KL 項なし（β = 0）で学習した同じネットワークとの比較",
    "vae.compare_note": (
        "左は、同じ 2 次元のボトルネックを持つ通常のオートエンコーダ（β = 0、KL 項なし）の潜在空間です。"
        "クリックするとその点を復号します。上の VAE の図と比べてみましょう。クラスタが引き伸ばされて互いに離れ、"
        "座標のスケールにも決まりがなく、クラスタの間の点からは数字に見えない形が出てきます。"
    ),
    "vae.beta0_map": "通常のオートエンコーダ（β = 0）の潜在空間（クリックで復号）",
    "vae.beta0_decoded": "通常のオートエンコーダ：クリックした点から復号した画像",
    "vae.manifold_title": "復号された多様体（おなじみの図）",
    "vae.manifold_note": (
        "各マスは、格子状に並べた潜在空間の点をデコーダに通した出力です。VAE では Kingma と Welling の論文と同じく、"
        "事前分布 N(0, 1) の 5 % から 95 % までの分位点で格子を作っています。通常のオートエンコーダでは、"
        "その潜在空間の図の範囲全体に格子を張っています。"
    ),
    "vae.manifold_vae": "VAE（β = 1）",
    "vae.manifold_beta0": "通常のオートエンコーダ（β = 0）",
    "vae.interp_title": "2 つの数字の間の補間",
    "vae.digit_a": "数字 A（描く・アップロード）",
    "vae.digit_b": "数字 B（描く・アップロード）",
    "vae.frames": "フレーム数",
    "vae.interp_mode": "補間の経路",
    "vae.linear": "線形",
    "vae.spherical": "球面線形（slerp）",
    "vae.interp_run": "補間する",
    "vae.interp_note": (
        "2 つの数字をそれぞれ平均 $\\mu_A, \\mu_B$ に符号化し、線形補間 $z_t = (1-t)\\,\\mu_A + t\\,\\mu_B$ "
        "または球面線形補間（slerp：事前分布の確率が集中する、原点からの距離を保つ経路）上の点を復号します。"
    ),
    "vae.examples_a": "A に使う MNIST テストデータの数字",
    "vae.examples_b": "B に使う MNIST テストデータの数字",
    "vae.interp_vae": "VAE：A から B へ復号したフレーム",
    "vae.interp_beta0": "通常のオートエンコーダ（β = 0）：A から B へ復号したフレーム",
    "vae.encode_title": "自分の絵を符号化する：μ、σ と ELBO",
    "vae.your_drawing": "あなたの絵",
    "vae.encode_run": "符号化する",
    "vae.encode_examples": "例",
    "vae.as_seen": "モデルに入力される画像（28×28）",
    "vae.recon_vae": "VAE による再構成（μ を復号）",
    "vae.recon_beta0": "通常のオートエンコーダによる再構成",
    "vae.nats": "nats",
    "vae.recon_term": "再構成項 E_q[−log p(x∣z)]",
    "vae.kl_term": "KL(q(z∣x) ‖ N(0, I))",
    "vae.elbo_note": (
        "−ELBO = 再構成項 + KL は −log p(x) の上界です。小さいほど、モデルはあなたの絵を「ありそう」だと考えています。"
        "MNIST テストデータの半数は {typical} nats 未満です。図の十字が μ、楕円が μ ± σ を表します"
        "（σ は小さすぎて見えないことがよくあります。エンコーダは数字の位置をかなり確信しているのです）。"
    ),
    "vae.explain": r"""
### 変分オートエンコーダ（VAE）
エンコーダは 1 つの符号ではなく、分布 $q_\phi(z \mid x) = \mathcal N\big(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x)\big)$ を出力します。
デコーダは $p_\theta(x \mid z)$（ここでは画素ごとのベルヌーイ分布）を与えます。学習では
**証拠下界（ELBO）** を最大化します（Kingma & Welling, 2014）：

$$\begin{aligned}\log p_\theta(x) \ \ge\ &\underbrace{\mathbb{E}_{q_\phi(z\mid x)}\big[\log p_\theta(x \mid z)\big]}_{\text{再構成}} \\ &- \underbrace{D_{\mathrm{KL}}\big(q_\phi(z \mid x)\,\|\,\mathcal N(0, I)\big)}_{\text{正則化}}\end{aligned}$$

サンプリングには **再パラメータ化トリック** $z = \mu + \sigma \odot \varepsilon$、$\varepsilon \sim \mathcal N(0, I)$ を使うので、
勾配が $\mu$ と $\sigma$ に伝わります。ガウス分布どうしの KL 項は閉じた形で書けます：

$$D_{\mathrm{KL}} = \tfrac12 \sum_j \big(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\big)$$

ここでは $z$ が **2 次元** しかないので、潜在空間全体を 1 枚の図で見渡せます。

**試してみよう**
1. スライダーを動かすか図をクリックしてみましょう。近い点からは似た数字が復号され、クラスの境目では数字が混ざり合います。
2. 色のついた点から遠く離れた所をクリックしても、デコーダは何かを描きます。事前分布が平面全体を覆っているからです。
3. 下の β = 0 のオートエンコーダ（KL 項のない同じネットワーク）と比べてみましょう。
""",
    # --- DeepDream -------------------------------------------------------------------------
    "tab.dd": "DeepDream（ディープドリーム）",
    "dd.input": "写真",
    "dd.examples": "写真の例（scikit-image）",
    "dd.layer": "強調する層",
    "dd.layer_info": "浅い層はテクスチャや線を、深い層は物体の部分を強調します。",
    "dd.layer_block2": "ブロック 2（浅い：エッジ・テクスチャ）",
    "dd.layer_block4": "ブロック 4（浅い：テクスチャ）",
    "dd.layer_block7": "ブロック 7（中間：模様）",
    "dd.layer_block10": "ブロック 10（中間：模様の部品）",
    "dd.layer_block13": "ブロック 13（深い：物体の部分）",
    "dd.layer_block15": "ブロック 15（深い：物体の部分）",
    "dd.layer_head": "ヘッド 1,280 特徴（最終：物体全体）",
    "dd.objective": "最大化する量",
    "dd.mean_square": "二乗平均",
    "dd.l2": "L2 ノルム",
    "dd.octaves": "オクターブ数",
    "dd.octave_scale": "オクターブの倍率",
    "dd.iterations": "オクターブごとの反復回数",
    "dd.step": "ステップ幅 η",
    "dd.jitter": "ジッター（画素）",
    "dd.resolution": "解像度（長辺の画素数）",
    "dd.guided_title": "ガイド付きの夢（任意）",
    "dd.guided_note": "ガイド画像を与えると、選んだ層において、写真の各部分がガイド画像の最もよく似た部分により近づくように夢を見ます。",
    "dd.guide": "ガイド画像",
    "dd.run": "夢を見る",
    "dd.output": "夢（オクターブごとに更新）",
    "dd.zoom_title": "無限ズームのアニメーション",
    "dd.zoom_frames": "フレーム数",
    "dd.zoom_run": "ズームアニメーションを作る",
    "dd.zoom_frame": "現在のフレーム",
    "dd.zoom_file": "アニメーション GIF（ダウンロード）",
    "dd.panel_channels": "{layer} で最も増えたチャネル（平均活性の増加量）",
    "dd.panel_classes": "ネットワークがより強く見るようになった ImageNet クラス（ロジットの増加量）",
    "dd.octave": "オクターブ {k}／{n} 完了",
    "dd.done": "完了：{w}×{h} px。",
    "dd.frame": "フレーム {i}／{n}",
    "dd.explain": r"""
### DeepDream
ふつうは学習済みネットワークを固定して画像を入れ替えますが、DeepDream（Mordvintsev ら, 2015）は逆に、
固定した ImageNet ネットワークの選んだ層 $l$ がより強く反応するように **画像** を変えます。
画素についての勾配 **上昇** 法です：

$$\begin{aligned} x &\leftarrow x + \eta\,\frac{g}{\operatorname{mean}|g|} \\ g &= \nabla_x \mathcal{L}(x), \qquad \mathcal{L}(x) = \frac{1}{N}\sum_i a_{l,i}(x)^2 \end{aligned}$$

- **勾配の正規化**：どの層でも $\eta$ が画素単位の一歩になります。
- **ジッター**：各ステップの前に画像をランダムにずらし、模様が画素の格子に張り付かないようにします。
- **オクターブ**：小さく縮めた画像から夢を見始め、拡大しながら続けることで、いろいろな大きさの構造が現れます。
- **ガイド付き**：ガイド画像 $g$ の特徴との類似度 $\sum_i \max_j \langle a_i(x), a_j(g)\rangle$ を最大化します。

ネットワーク：EfficientNet-Lite0（ImageNet）。元の実験では GoogLeNet が使われました。

**試してみよう**：同じ写真で浅いブロックとヘッドを比べる、オクターブ数を増やす、宇宙飛行士の写真に猫（chelsea）をガイドとして使う。
""",
    # --- CartoonGAN ------------------------------------------------------------------------
    "tab.cg": "CartoonGAN（カートゥーン化）",
    "cg.input": "写真（アップロードまたは Web カメラ）",
    "cg.resolution": "解像度（長辺の画素数。縦横比は保たれます）",
    "cg.run": "カートゥーンにする",
    "cg.all_styles": "利用できるすべてのスタイル",
    "cg.as_used": "入力",
    "cg.final": "CartoonGAN（敵対的損失 + コンテンツ損失）",
    "cg.init": "初期化フェーズのみ（コンテンツ損失）",
    "cg.styles": "すべてのスタイル",
    "cg.explain": r"""
### CartoonGAN
生成器 $G$ は写真 $p$ をカートゥーン（アニメ風のイラスト）として描き直します。識別器 $D$ と競わせて、次の損失で学習します
（Chen ら, 2018）：

$$\mathcal{L}(G, D) = \mathcal{L}_{adv}(G, D) + \omega\,\mathcal{L}_{con}(G), \qquad \mathcal{L}_{con} = \big\|\varphi(G(p)) - \varphi(p)\big\|_1$$

- $\varphi$：学習済み CNN（ここでは EfficientNet-Lite0）の特徴。写真の **内容** が保たれるようにします。
- $D$ は本物のカートゥーンを本物、$G(p)$ と **エッジをぼかしたカートゥーン** を偽物として学習するので、$G$ はくっきりした輪郭を描く必要があります。
- **初期化**：最初に $\mathcal{L}_{con}$ だけで $G$ を学習します。その生成器と最終的な生成器を比べてみましょう。

このギャラリーのスタイル：実写真 → OpenMoji のイラスト（CC BY-SA 4.0）。
""",
}

TRANSLATIONS = {"ja": JA, "en": EN}


def _(key: str) -> I18nData:
    """A translatable string for a component (translated in the browser). Unknown keys fail at build time."""
    if key not in EN or key not in JA:
        raise KeyError(f"no translation for {key!r}")
    return I18nData(key)


def make_i18n(lang: str | None = None) -> gr.I18n:
    """The gr.I18n to pass to ``launch``. With ``lang`` every browser gets that language."""
    lang = lang or forced_language()
    if lang:
        return gr.I18n(**{code: TRANSLATIONS[lang] for code in LANGUAGES})
    return gr.I18n(**TRANSLATIONS)


def forced_language() -> str | None:
    lang = os.environ.get("GALLERY_LANG", "").strip().lower()
    return lang if lang in LANGUAGES else None


def request_language(request: gr.Request | None) -> str:
    """'ja' or 'en': the forced language, else the first of them in the browser's Accept-Language, else 'en'."""
    forced = forced_language()
    if forced:
        return forced
    header = ""
    if request is not None:
        try:
            header = request.headers.get("accept-language", "") or ""
        except Exception:
            header = ""
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()
        for lang in LANGUAGES:
            if tag == lang or tag.startswith(lang + "-"):
                return lang
    return "en"


def text(key: str, request: gr.Request | None = None, lang: str | None = None, **fmt) -> str:
    """A string made at run time, in the user's language, with ``{placeholders}`` filled in."""
    table = TRANSLATIONS[lang or request_language(request)]
    return table[key].format(**fmt) if fmt else table[key]
