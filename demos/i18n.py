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

$$\mathcal{L}(G, D) = \mathcal{L}_{adv}(G, D) + \omega\,\mathcal{L}_{con}(G)$$

$$\mathcal{L}_{con}(G) = \big\|\varphi(G(p)) - \varphi(p)\big\|_1$$

- $\varphi$: features of a pretrained CNN (here EfficientNet-Lite0), so the **content** of the photo survives.
- $D$ sees real cartoons as real, and both $G(p)$ and **edge-smoothed cartoons** as fake: $G$ must draw crisp outlines.
- **Initialisation**: $G$ is first trained on $\mathcal{L}_{con}$ alone; compare that generator with the final one.
- $\omega$ sets the balance. With our features the paper's $\omega = 10$ kept the photo almost unchanged; our final
  generator was trained with $\omega = 1$: bold outlines, flat fills and OpenMoji's palette win, fine detail is lost.

Our style: real photos → OpenMoji drawings (CC BY-SA 4.0).
""",
    # --- DCGAN --------------------------------------------------------------------------------
    "tab.dca": "DCGAN: bedroom arithmetic",
    "dca.seed": "Seed of the batch (16 samples)",
    "dca.new_batch": "🎲 New batch",
    "dca.grid": "Generated bedrooms (64×64) — click a sample to put it in the bucket chosen below",
    "dca.target": "A click puts the sample in",
    "dca.target_info": "Click again to take it out. The paper averaged 3 samples per concept.",
    "dca.to_a": "A (+)",
    "dca.to_b": "B (−)",
    "dca.to_c": "C (+)",
    "dca.to_start": "walk start",
    "dca.to_end": "walk end",
    "dca.bucket_a": "Bucket A (+): concept to keep",
    "dca.bucket_b": "Bucket B (−): concept to remove",
    "dca.bucket_c": "Bucket C (+): concept to add",
    "dca.sigma": "Neighbourhood noise σ",
    "dca.noise_seed": "Noise seed",
    "dca.run": "Compute mean(A) − mean(B) + mean(C)",
    "dca.figure": "Each bucket's samples, then their mean z decoded (right)",
    "dca.averaged": "mean(A) − mean(B) + mean(C) (centre) and + σ·noise around it",
    "dca.single": "The same with one sample per bucket: A₁ − B₁ + C₁",
    "dca.caption": (
        "Buckets of {sizes} samples; σ = {sigma}. ‖z‖ of the averaged result: {norm}; of the single-sample result: {norm1}. "
        "A typical z ~ N(0, I) has ‖z‖ ≈ {typical}, where G was trained; the sum of three independent z has ‖z‖ ≈ {off}, "
        "off that shell, while averaging 3 z per bucket brings A − B + C back to ≈ {typical}."
    ),
    "dca.walk_title": "Latent walk between two samples",
    "dca.start": "Walk start (seed:index)",
    "dca.end": "Walk end (seed:index)",
    "dca.frames": "Frames",
    "dca.walk_run": "Walk",
    "dca.walk_linear": "Linear interpolation (1 − t)·z₁ + t·z₂",
    "dca.walk_spherical": "Spherical interpolation (slerp)",
    "dca.walk_gif": "Animated GIF (linear | spherical)",
    "dca.walk_caption": (
        "Mean absolute pixel change between consecutive frames — linear: largest {lin_max}, mean {lin_mean}; "
        "spherical: largest {sph_max}, mean {sph_mean} (pixels in [0, 1]). A largest step close to the mean means no "
        "sudden jump. Smallest ‖z‖ along the path — linear: {lin_norm}, spherical: {sph_norm}."
    ),
    "dca.err_token": "“{token}”{what} is not a sample name. Use seed:index with an index from 0 to {n}, e.g. 0:3, 12:15.",
    "dca.err_too_many": "A bucket{what} holds at most {n} samples.",
    "dca.err_empty": "Bucket(s) {buckets} are empty. Click samples of the grid into every bucket first.",
    "dca.err_walk": "Give exactly one sample (seed:index) as the start and one as the end of the walk.",
    "dca.explain": r"""
### Vector arithmetic in z space

A DCGAN generator $G$ turns a noise vector $z \sim \mathcal N(0, I)$, $z \in \mathbb R^{100}$, into a 64×64
bedroom. Radford et al. (2015) found that directions in this space carry meaning, as word vectors do
(word2vec: $\text{king} - \text{man} + \text{woman} \approx \text{queen}$):

$$z = \bar z_A - \bar z_B + \bar z_C,\qquad \bar z_X = \tfrac1{|X|}\textstyle\sum_{z \in X} z .$$

Put samples that show a concept in **A**, samples of what to take away in **B** and what to add in **C**
(e.g. A = bright room with a window, B = bright room without one, C = dark room without one).

**Why average?** One sample carries accidents (its colours, its layout). The paper averaged **3 z per
concept**; compare with the single-exemplar result on the right, which is often less clean.
The 3×3 grid adds small noise $\sigma\varepsilon$ to the result: if the neighbours keep the property,
a whole *region* of z space has it.

### Latent walk

Decoding points along a path from $z_1$ to $z_2$ changes the room smoothly — beds grow, windows fade
in — with no sudden jumps. A model that had memorised its 2,911 training photos would instead jump
from one stored photo to another. *Spherical* interpolation keeps $\|z\|$ near $\sqrt{100} = 10$,
where the prior puts almost all samples; the straight line passes closer to the origin.

Model: the paper's DCGAN at 64×64, trained here on 2,911 real bedroom photos with DiffAugment.
""",
    "tab.dcw": "DCGAN: forgetting windows",
    "dcw.k": "k = window maps to zero (top-k by probe weight)",
    "dcw.k_info": "The paper dropped all maps with a positive weight (the slider's maximum).",
    "dcw.how": "How a map is dropped",
    "dcw.how_zero": "set to zero (the paper)",
    "dcw.how_mean": "set to its average activation",
    "dcw.how_info": "Zeroing also removes the map's average contribution, which tints the picture; the average keeps it and removes only the map's pattern.",
    "dcw.control_seed": "Seed of the random maps (control)",
    "dcw.show_detector": "Tint what the window detector sees (red; slower)",
    "dcw.run": "Draw",
    "dcw.figure": "Top: normal · middle: top-k window maps dropped · bottom: k random maps dropped",
    "dcw.plot": "Predicted window area vs k, over many samples",
    "dcw.curve_window": "top-k window maps",
    "dcw.curve_random": "k random maps (mean)",
    "dcw.caption": (
        "Samples seed:0…7. Dropped {k} of the {n} window maps (of {total} maps in the layer): {maps}. "
        "Control: random maps {random}."
    ),
    "dcw.areas": " Window area predicted by the detector (mean of the 8) — normal: {normal} %, windows dropped: {windows} %, random maps dropped: {random} %.",
    "dcw.summary": (
        "Probe fitted on {samples} hand-labelled samples ({boxes} window boxes): {n} of {total} maps have a positive weight "
        "(held-out AUC of the probe {probe_auc}). Window detector on the output images: held-out AUC {det_auc}. "
        "Over {scored} fresh samples the predicted window area is {base} % with nothing dropped, {win} % with the {k} "
        "window maps dropped and {rand} % with {k} random maps dropped (mean of {draws} draws)."
    ),
    "dcw.explain": r"""
### Do GAN units know what a window is?

Radford et al. (2015, §6.3.1) drew boxes around the windows of 150 generated bedrooms and fitted a
**logistic regression** on the generator's second-highest convolution layer $h \in \mathbb R^{C\times 32\times 32}$:

$$p(\text{window at } (i,j)) = \sigma\Big(\textstyle\sum_c w_c\, h_{c,i,j} + b\Big),$$

with the activations inside the boxes as positives and random locations of the same images as negatives.
Every map with $w_c > 0$ was then **zeroed at all spatial locations**.

The generator was never told what a window is — yet the same $z$ now gives the same room with the windows
gone or replaced by something else (a wall, a door, a mirror). Some units have learned an object-level
concept.

**Control:** zeroing $k$ *random* maps also changes the picture, but does not remove windows more than
other things. The plot measures it over many samples with a window detector trained on the same boxes
(a logistic regression on EfficientNet-Lite0 features of the *image*; the probe itself cannot be the judge,
since dropping its positive maps lowers its output by construction).

Our generator is narrower than the paper's (48 maps in that layer instead of 128) and trained on 2,911
photos, so the effect is coarser — look at the samples with big bright windows.
""",
    # --- pix2pix ------------------------------------------------------------------------------
    "tab.p2p": "pix2pix: edges → cats",
    "p2p.sketch_tab": "✏️ Draw",
    "p2p.photo_tab": "📷 Photo",
    "p2p.sketch": "Your sketch (black lines on white)",
    "p2p.sketch_hint": "Draw the outline of a cat with the brush — ears, eyes, nose, the body — or pick an edge map of a held-out test photo below and change it.",
    "p2p.photo": "A photo (its edges are extracted)",
    "p2p.photo_hint": "Upload a photo: its centre square is shrunk to 128×128 and its edges are found with the Canny detector, exactly as for the training pairs.",
    "p2p.examples": "Edge maps of test photos (never seen in training)",
    "p2p.photo_examples": "Example photos",
    "p2p.dropout": "Dropout at test time (the paper's only noise)",
    "p2p.run_sketch": "Translate the sketch",
    "p2p.run_photo": "Extract edges and translate",
    "p2p.edges": "Input to the generators (128×128 edge map)",
    "p2p.gan": "pix2pix: cGAN + λ·L1",
    "p2p.l1": "L1 loss only",
    "p2p.note": "Both generators are the same U-Net trained on the same batches; only the loss differs. Outputs are 128×128, shown enlarged.",
    "p2p.err_empty": "The sketch is empty: no lines were found. Draw the outline of a cat first, or pick an example.",
    "p2p.warn_dense": "More than {percent}% of this drawing is dark, so it does not look like a line drawing. For a photo, use the 📷 Photo tab, which extracts its edges.",
    "p2p.explain": r"""
### pix2pix: a conditional GAN for image-to-image translation

Isola, Zhu, Zhou & Efros, *Image-to-Image Translation with Conditional Adversarial Networks*, CVPR 2017.
Training pairs $(x, y)$: $x$ is the edge map of a real cat photo $y$ (Canny edges here; the famous edges2cats demo used HED).
A generator $G$ learns $x \mapsto y$ against a discriminator $D$ that sees **pairs**:

$$G^* = \arg\min_G \max_D \; \mathcal{L}_{cGAN}(G, D) + \lambda\, \mathcal{L}_{L1}(G)$$

$$\mathcal{L}_{cGAN} = \mathbb{E}_{x,y}[\log D(x, y)] + \mathbb{E}_{x}[\log(1 - D(x, G(x)))]$$

$$\mathcal{L}_{L1} = \mathbb{E}_{x,y}\,\lVert y - G(x) \rVert_1, \qquad \lambda = 100$$

- **Conditional**: $D$ judges whether $y$ is a real photo *for these edges*, not just any photo.
- **Why L1 alone is blurry**: many photos fit the same edges (a tabby, a white or a black cat). The L1 loss is smallest for the per-pixel *median* of all of them, so an L1-only generator paints a safe, greyish average with smeared fur (right-hand output).
- **What PatchGAN judges**: $D$ outputs one real/fake score per overlapping 70×70 patch (a 14×14 grid for our 128-px images) and averages them. It only asks for sharp, realistic *texture*; L1 already takes care of the low frequencies (the overall colours and layout).
- **U-Net**: skip connections carry each encoder layer to the decoder layer of the same size, so the positions of your lines reach the output without passing through the 1×1 bottleneck. Dropout in the decoder is the only randomness: tick the box to see how little it changes — the paper's finding too.
""",
    # --- CycleGAN -----------------------------------------------------------------------------
    "tab.cyc": "CycleGAN",
    "cyc.input": "Your photo: a horse, or a horse made of clouds",
    "cyc.direction": "Direction",
    "cyc.a2b": "Horse → cloud horse (G), then back (F)",
    "cyc.b2a": "Cloud horse → horse (F), then back (G)",
    "cyc.examples": "Held-out test images (never seen in training)",
    "cyc.resolution": "Resolution (longer side, px; the aspect ratio is kept)",
    "cyc.amplify": "Gain of the amplified view",
    "cyc.noise": "Noise added to the translation (± steps of 1/255)",
    "cyc.run": "Translate and go round the cycle",
    "cyc.as_used": "Input x",
    "cyc.translated": "Translation",
    "cyc.reconstructed": "Back again",
    "cyc.heat": "Error (dark = exact)",
    "cyc.amplified": "Fine detail, amplified",
    "cyc.noisy": "Back again, after noise",
    "cyc.figures": (
        "**Cycle error** mean $|{backward}({forward}(x)) - x|$ = **{cycle}** (pixels in [0, 1]; the heat map is "
        "brightest at {vmax}).  \n"
        "With noise of ±{noise}/255 added to the translation (invisible): **{noisy}**. "
        "{backward} changes its output **{gain}×** as much as the noise changed its input."
    ),
    "cyc.failures": "Honest failures (held-out test images)",
    "cyc.failures_note": "Each strip: input, translation, back again, error. The failures are computed from held-out test photos, so they appear only where the training photos are installed (they are not redistributed).",
    "cyc.explain": r"""
### CycleGAN
Two sets of pictures that are **not paired**: horse photos $A$ and horses made of clouds $B$. Two generators
learn $G: A \to B$ and $F: B \to A$, each against a discriminator ($D_B$ judges $G$'s pictures, $D_A$ judges $F$'s),
with the least-squares GAN loss (Zhu et al., 2017):

$$\begin{aligned} \mathcal{L}_{GAN}(G, D_B) = {} & \mathbb{E}_b\big[(D_B(b) - 1)^2\big] \\ & + \mathbb{E}_a\big[D_B(G(a))^2\big] \end{aligned}$$

($D_B$ minimises it; $G$ minimises $\mathbb{E}_a[(D_B(G(a)) - 1)^2]$.) Nothing says *which* cloud horse a horse
should become, so a **cycle** must lead back:

$$\begin{aligned} \mathcal{L}_{cyc} &= \mathbb{E}_a\,\|F(G(a)) - a\|_1 + \mathbb{E}_b\,\|G(F(b)) - b\|_1 \\ \mathcal{L}_{id} &= \mathbb{E}_b\,\|G(b) - b\|_1 + \mathbb{E}_a\,\|F(a) - a\|_1 \\ \mathcal{L} &= \mathcal{L}_{GAN}(G, D_B) + \mathcal{L}_{GAN}(F, D_A) \\ & \quad + \lambda\,\mathcal{L}_{cyc} + 0.5\,\lambda\,\mathcal{L}_{id}, \qquad \lambda = 10 \end{aligned}$$

- **Identity term** $\mathcal{L}_{id}$: a picture already in the target domain should pass unchanged (keeps colours).
- **PatchGAN**: $D$ scores every 70×70 patch, so it judges texture and style rather than the whole scene.
- **History pool**: $D$ also sees some of the last 50 fakes, which damps oscillations.

**Steganography** (Chu et al., 2017): to rebuild $x$ from $G(x)$, $G$ can hide information about $x$ in
$G(x)$ as a faint high-frequency signal. The amplified view shows $0.5 + k\,(G(x) - \bar G(x))$, where
$\bar G(x)$ is a 5×5 local mean. If a tiny noise $n$ changes $F(G(x) + n)$ far more than $n$ itself,
$F$ is reading such a hidden, fragile signal.

**Try this**: compare the error heat map of a horse and of a cloud horse; raise the noise to 4 and watch the reconstruction.
""",
    # --- DDPM ---------------------------------------------------------------------------------
    "tab.ddpm": "DDPM step by step",
    "ddpm.forward_title": "### 1. Forward process: adding noise in closed form",
    "ddpm.input": "x₀: your digit",
    "ddpm.examples": "Real MNIST test digits",
    "ddpm.t": "Timestep t",
    "ddpm.t_info": "0 = almost clean … 999 = pure noise (diffusers counts from 0). The noise ε stays the same.",
    "ddpm.x0": "x₀ (clean)",
    "ddpm.xt": "Noisy x_t",
    "ddpm.eps": "ε (the same at every t)",
    "ddpm.strip": "x_t at t = 0, 50, 100, 200, 300, 500, 700, 999 (same ε)",
    "ddpm.plot_abar": "ᾱ_t (blue), signal √ᾱ_t (orange) and noise √(1−ᾱ_t) (red); grey line: the chosen t",
    "ddpm.plot_beta": "Noise schedule β_t (linear)",
    "ddpm.plot_snr": "Signal-to-noise ratio: log₁₀ SNR(t) = log₁₀ ᾱ_t / (1−ᾱ_t)",
    "ddpm.forward_values": (
        "At t = {t}: $\\beta_t$ = {beta}, $\\bar\\alpha_t$ = {abar}, so $x_t$ = {signal}·$x_0$ + {noise}·$\\varepsilon$ "
        "(signal-to-noise ratio {snr})."
    ),
    "ddpm.reverse_title": "### 2. Reverse process: from noise to digits, one step at a time",
    "ddpm.sampler": "Sampler",
    "ddpm.sampler_ddpm": "DDPM (stochastic)",
    "ddpm.sampler_ddim": "DDIM (deterministic, skips steps)",
    "ddpm.steps": "Number of steps",
    "ddpm.n": "Number of images",
    "ddpm.every": "Show every k steps",
    "ddpm.run": "Generate",
    "ddpm.r_xt": "x_t (the current noisy images)",
    "ddpm.r_x0": "x̂₀ (what the model thinks the end result is)",
    "ddpm.r_eps": "ε_θ(x_t, t) (the predicted noise)",
    "ddpm.scrub": "Scrub through the trajectory",
    "ddpm.scrub_info": "After a run: move through the stored steps instantly (nothing is recomputed).",
    "ddpm.status": "{sampler}: step {i} / {steps} (t = {t}), {s} s",
    "ddpm.done": "Done: {n} images with {steps} {sampler} steps in {s} s ({ms} ms per step). Scrub through the steps with the slider below.",
    "ddpm.scrub_status": "{sampler} step {i} / {steps}: t = {t}. Left: x_t, middle: x̂₀ predicted at this step, right: ε_θ.",
    "ddpm.no_trajectory": "Generate images first: the slider and the branches work on the stored trajectory of a run.",
    "ddpm.branch_title": "Branch from here: several futures of one noisy image",
    "ddpm.branch_note": (
        "Pick a step with the scrub slider and one image of the batch; the reverse process restarts from that stored x_t "
        "with fresh noise. Early branches end as different digits, late ones only differ in details. "
        "(With DDIM the branches use η = 1, i.e. they add noise, otherwise every future would be the same.)"
    ),
    "ddpm.image": "Image of the batch (0 = top left)",
    "ddpm.futures": "Number of futures",
    "ddpm.branch_run": "Sample futures from this step",
    "ddpm.branch_origin": "Start: x_t",
    "ddpm.branch_out": "Futures",
    "ddpm.branch_running": "Branching: {done} / {total} steps",
    "ddpm.branch_done": "{k} futures from step {i} (t = {t}) in {s} s.",
    "ddpm.compare_title": "DDPM vs DDIM: the same starting noise, different numbers of steps",
    "ddpm.compare_note": (
        "The same x_T (from the seed and number of images above) with DDIM 10 / 20 / 50 steps and DDPM 1000 steps. "
        "DDIM (Song et al. 2021) reuses the trained network with a deterministic update that can skip steps."
    ),
    "ddpm.compare_run": "Compare",
    "ddpm.compare_table": "| sampler | steps | wall time | per step |\n|---|---|---|---|",
    "ddpm.other_title": "Other models from the Hugging Face Hub",
    "ddpm.other_note": (
        "Any unconditional diffusers DDPM/DDIM pipeline with safetensors weights, e.g. `google/ddpm-cifar10-32`, "
        "when this server can reach the Hub. Leave empty for our MNIST model. Large models are slow on a CPU: "
        "use few images and DDIM steps."
    ),
    "ddpm.model_id": "Hub repo id (empty = ddpm-mnist)",
    "ddpm.model_load": "Load",
    "ddpm.model_info": "**{name}**: {params} M parameters, images {c}×{h}×{w}, block channels ({channels}), T = {T}, {schedule} β schedule.",
    "ddpm.err_repo_id": "“{repo}” is not a Hub repo id. Write it as owner/name, e.g. google/ddpm-cifar10-32.",
    "ddpm.err_hub_model": "The model “{repo}” could not be loaded: {reason}",
    "ddpm.err_too_big": "This model makes {size} images; on this CPU only models up to {max}×{max} are allowed.",
    "ddpm.err_too_much": "{n} images × {steps} steps is too much work for this model on a CPU. Use at most {most} steps for {n} images, or fewer images.",
    "ddpm.explain": r"""
### Denoising diffusion (DDPM)

**Forward process** (fixed, nothing learned). With a noise schedule $\beta_1,\dots,\beta_T$
(linear from $10^{-4}$ to $0.02$, $T = 1000$) each step adds a little Gaussian noise:

$$q(x_t \mid x_{t-1}) = \mathcal{N}\big(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\big).$$

With $\alpha_t = 1-\beta_t$ and $\bar\alpha_t = \prod_{s\le t}\alpha_s$ we can jump to any step at once:

$$x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon,\qquad \varepsilon\sim\mathcal{N}(0, I).$$

$\mathrm{SNR}(t) = \bar\alpha_t / (1-\bar\alpha_t)$ falls from about $10^4$ to $4\cdot10^{-5}$: at $t = T$ nothing of $x_0$ is left.

**Training.** A U-Net $\varepsilon_\theta(x_t, t)$ learns to predict the noise:
$\;\mathcal{L} = \mathbb{E}_{x_0, t, \varepsilon}\,\lVert \varepsilon - \varepsilon_\theta(x_t, t)\rVert^2$.

**Reverse process (DDPM sampling).** Start from $x_T \sim \mathcal{N}(0, I)$ and for $t = T,\dots,1$:

$$\hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon_\theta(x_t,t)}{\sqrt{\bar\alpha_t}},$$

$$x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\,\varepsilon_\theta(x_t,t)\Big) + \sigma_t z,\quad z\sim\mathcal{N}(0,I).$$

$\hat x_0$ is the model's current guess of the final image: blurry and "average" early, sharp late.

**DDIM** (Song et al. 2021) uses the same network with a deterministic update
$x_{t'} = \sqrt{\bar\alpha_{t'}}\,\hat x_0 + \sqrt{1-\bar\alpha_{t'}}\,\varepsilon_\theta$ that can jump over steps ($t' < t - 1$):
50 steps instead of 1000.

Model: a diffusers `UNet2DModel` trained here on MNIST (32×32) with `DDPMScheduler`; Ho, Jain & Abbeel, NeurIPS 2020.
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

$$\mathcal{L}(G, D) = \mathcal{L}_{adv}(G, D) + \omega\,\mathcal{L}_{con}(G)$$

$$\mathcal{L}_{con}(G) = \big\|\varphi(G(p)) - \varphi(p)\big\|_1$$

- $\varphi$：学習済み CNN（ここでは EfficientNet-Lite0）の特徴。写真の **内容** が保たれるようにします。
- $D$ は本物のカートゥーンを本物、$G(p)$ と **エッジをぼかしたカートゥーン** を偽物として学習するので、$G$ はくっきりした輪郭を描く必要があります。
- **初期化**：最初に $\mathcal{L}_{con}$ だけで $G$ を学習します。その生成器と最終的な生成器を比べてみましょう。
- $\omega$ は両者のバランスです。私たちの特徴では論文の $\omega = 10$ だと写真がほとんど変わりませんでした。最終的な生成器は
  $\omega = 1$ で学習しています：太い輪郭、平らな塗り、OpenMoji の配色が勝ち、細部は失われます。

このギャラリーのスタイル：実写真 → OpenMoji のイラスト（CC BY-SA 4.0）。
""",
    # --- DCGAN --------------------------------------------------------------------------------
    "tab.dca": "DCGAN：寝室のベクトル演算",
    "dca.seed": "バッチのシード（16 サンプル）",
    "dca.new_batch": "🎲 新しいバッチ",
    "dca.grid": "生成された寝室（64×64）— クリックすると下で選んだバケツに入ります",
    "dca.target": "クリックしたサンプルの入れ先",
    "dca.target_info": "もう一度クリックすると取り出せます。論文は 1 概念あたり 3 サンプルを平均しました。",
    "dca.to_a": "A（＋）",
    "dca.to_b": "B（−）",
    "dca.to_c": "C（＋）",
    "dca.to_start": "ウォークの始点",
    "dca.to_end": "ウォークの終点",
    "dca.bucket_a": "バケツ A（＋）：残す概念",
    "dca.bucket_b": "バケツ B（−）：取り除く概念",
    "dca.bucket_c": "バケツ C（＋）：加える概念",
    "dca.sigma": "近傍ノイズ σ",
    "dca.noise_seed": "ノイズのシード",
    "dca.run": "mean(A) − mean(B) + mean(C) を計算",
    "dca.figure": "各バケツのサンプルと、その z の平均を復号した画像（右端）",
    "dca.averaged": "mean(A) − mean(B) + mean(C)（中央）と、それに σ·ノイズを加えたもの",
    "dca.single": "各バケツ 1 サンプルだけで同じ計算：A₁ − B₁ + C₁",
    "dca.caption": (
        "バケツのサンプル数 {sizes}、σ = {sigma}。平均した結果の ‖z‖：{norm}、1 サンプルの結果：{norm1}。"
        "z ~ N(0, I) の典型的な ‖z‖ は ≈ {typical} で、G はそこで学習されています。独立な 3 つの z の和は ‖z‖ ≈ {off} と"
        "その殻から外れますが、各バケツ 3 つの z を平均すると A − B + C は ≈ {typical} に戻ります。"
    ),
    "dca.walk_title": "2 つのサンプル間の潜在空間ウォーク",
    "dca.start": "ウォークの始点（seed:index）",
    "dca.end": "ウォークの終点（seed:index）",
    "dca.frames": "フレーム数",
    "dca.walk_run": "ウォーク",
    "dca.walk_linear": "線形補間 (1 − t)·z₁ + t·z₂",
    "dca.walk_spherical": "球面線形補間（slerp）",
    "dca.walk_gif": "アニメーション GIF（線形｜球面）",
    "dca.walk_caption": (
        "隣り合うフレーム間の平均絶対画素変化 — 線形：最大 {lin_max}、平均 {lin_mean}；球面：最大 {sph_max}、平均 {sph_mean}"
        "（画素値は [0, 1]）。最大が平均に近ければ急な飛びはありません。経路上の最小 ‖z‖ — 線形：{lin_norm}、球面：{sph_norm}。"
    ),
    "dca.err_token": "「{token}」{what}はサンプル名ではありません。seed:index の形で、index は 0 から {n} まで（例：0:3, 12:15）。",
    "dca.err_too_many": "バケツ{what}に入るのは最大 {n} サンプルです。",
    "dca.err_empty": "バケツ {buckets} が空です。先にグリッドのサンプルをクリックして、すべてのバケツに入れてください。",
    "dca.err_walk": "ウォークの始点と終点に、それぞれちょうど 1 つのサンプル（seed:index）を指定してください。",
    "dca.explain": r"""
### z 空間でのベクトル演算

DCGAN の生成器 $G$ は、ノイズベクトル $z \sim \mathcal N(0, I)$, $z \in \mathbb R^{100}$ を 64×64 の寝室画像に変換します。
Radford ら（2015）は、この空間の方向が意味を持つことを示しました。単語ベクトル（word2vec：
$\text{king} - \text{man} + \text{woman} \approx \text{queen}$）と同じです：

$$z = \bar z_A - \bar z_B + \bar z_C,\qquad \bar z_X = \tfrac1{|X|}\textstyle\sum_{z \in X} z .$$

ある概念を持つサンプルを **A** に、取り除きたいものを **B** に、加えたいものを **C** に入れます
（例：A = 窓のある明るい部屋、B = 窓のない明るい部屋、C = 窓のない暗い部屋）。

**なぜ平均するのか？** 1 つのサンプルには偶然の特徴（色や配置）が含まれます。論文は **1 概念あたり 3 つの z**
を平均しました。右側の 1 サンプルだけの結果と比べてみてください。たいてい崩れています。
3×3 のグリッドは結果に小さなノイズ $\sigma\varepsilon$ を加えたものです。近傍でも性質が保たれるなら、
z 空間の 1 点ではなく*領域*がその性質を持っていることになります。

### 潜在空間ウォーク

$z_1$ から $z_2$ への経路上の点を復号すると、部屋はなめらかに変化します（ベッドが大きくなり、窓が現れる）。
急な飛びはありません。2,911 枚の学習写真を丸暗記したモデルなら、保存した写真から別の写真へと飛ぶはずです。
*球面*補間は $\|z\|$ を事前分布のサンプルがほぼすべて集まる $\sqrt{100} = 10$ 付近に保ちます。直線は原点の近くを通ります。

モデル：論文の 64×64 DCGAN を、2,911 枚の実際の寝室写真で DiffAugment を使って学習したもの。
""",
    "tab.dcw": "DCGAN：窓を忘れさせる",
    "dcw.k": "k = ゼロにする窓マップの数（プローブの重みの大きい順）",
    "dcw.k_info": "論文は重みが正のマップをすべて落としました（スライダーの最大値）。",
    "dcw.how": "マップの落とし方",
    "dcw.how_zero": "ゼロにする（論文）",
    "dcw.how_mean": "平均の活性値にする",
    "dcw.how_info": "ゼロにするとマップの平均的な寄与も消えて色味が変わります。平均値にすると寄与は残り、マップの模様だけが消えます。",
    "dcw.control_seed": "ランダムなマップのシード（対照）",
    "dcw.show_detector": "窓検出器が見ている場所を赤く表示（遅くなります）",
    "dcw.run": "描画",
    "dcw.figure": "上：通常 · 中：上位 k 個の窓マップを除去 · 下：ランダムな k 個のマップを除去",
    "dcw.plot": "k に対する予測窓面積（多数のサンプルの平均）",
    "dcw.curve_window": "上位 k 個の窓マップ",
    "dcw.curve_random": "ランダムな k 個のマップ（平均）",
    "dcw.caption": (
        "サンプル seed:0…7。{n} 個の窓マップ（この層のマップは全 {total} 個）のうち {k} 個を落としました：{maps}。"
        "対照：ランダムなマップ {random}。"
    ),
    "dcw.areas": " 検出器が予測した窓面積（8 枚の平均）— 通常：{normal} %、窓マップを除去：{windows} %、ランダムなマップを除去：{random} %。",
    "dcw.summary": (
        "手作業でラベル付けした {samples} サンプル（窓のボックス {boxes} 個）でプローブを学習：全 {total} 個のうち {n} 個の"
        "マップの重みが正（プローブの検証用 AUC {probe_auc}）。出力画像に対する窓検出器の検証用 AUC {det_auc}。"
        "新しい {scored} サンプルで、予測窓面積は何も落とさないとき {base} %、{k} 個の窓マップを落とすと {win} %、"
        "ランダムな {k} 個のマップを落とすと {rand} %（{draws} 回の抽選の平均）。"
    ),
    "dcw.explain": r"""
### GAN のユニットは「窓」を知っているか？

Radford ら（2015, §6.3.1）は、生成した寝室 150 枚の窓を四角で囲み、生成器の上から 2 番目の畳み込み層
$h \in \mathbb R^{C\times 32\times 32}$ の上で**ロジスティック回帰**を学習しました：

$$p(\text{位置 } (i,j) \text{ が窓}) = \sigma\Big(\textstyle\sum_c w_c\, h_{c,i,j} + b\Big).$$

ボックス内の活性を正例、同じ画像のランダムな位置を負例とします。そして $w_c > 0$ のマップを
**すべての位置でゼロ**にしました。

生成器は窓が何かを教わっていません。それでも同じ $z$ から、窓だけが消えたり別の物（壁・ドア・鏡）に
置き換わったりした同じ部屋が生成されます。一部のユニットが物体レベルの概念を学んでいるのです。

**対照実験：** *ランダムな* $k$ 個のマップをゼロにしても絵は変わりますが、窓が特に消えるわけではありません。
グラフは、同じボックスで学習した窓検出器（*画像*の EfficientNet-Lite0 特徴に対するロジスティック回帰）で
多数のサンプルについて測ったものです（プローブ自身は判定に使えません。正の重みのマップを落とせば、
その出力は定義上下がるからです）。

この生成器は論文より細く（この層のマップは 128 個ではなく 48 個）、2,911 枚の写真で学習しているので、
効果は粗めです。大きく明るい窓のあるサンプルを見てください。
""",
    # --- pix2pix ------------------------------------------------------------------------------
    "tab.p2p": "pix2pix：線画 → 猫",
    "p2p.sketch_tab": "✏️ 描く",
    "p2p.photo_tab": "📷 写真",
    "p2p.sketch": "線画（白地に黒い線）",
    "p2p.sketch_hint": "ブラシで猫の輪郭（耳・目・鼻・体）を描いてください。下のテスト写真の線画を選んで描き足すこともできます。",
    "p2p.photo": "写真（エッジを抽出します）",
    "p2p.photo_hint": "写真をアップロードすると、中央の正方形を 128×128 に縮小し、学習データと同じ Canny 法でエッジを抽出します。",
    "p2p.examples": "テスト写真の線画（学習には使っていません）",
    "p2p.photo_examples": "写真の例",
    "p2p.dropout": "テスト時にもドロップアウト（論文で唯一のノイズ）",
    "p2p.run_sketch": "線画を変換",
    "p2p.run_photo": "エッジを抽出して変換",
    "p2p.edges": "生成器への入力（128×128 の線画）",
    "p2p.gan": "pix2pix：cGAN + λ·L1",
    "p2p.l1": "L1 損失のみ",
    "p2p.note": "2 つの生成器は同じ U-Net で、同じミニバッチで学習しました。違いは損失関数だけです。出力は 128×128 を拡大表示しています。",
    "p2p.err_empty": "線画が空です（線が見つかりません）。先に猫の輪郭を描くか、例を選んでください。",
    "p2p.warn_dense": "この画像は {percent}% 以上が暗く、線画には見えません。写真なら、エッジを抽出する「📷 写真」タブを使ってください。",
    "p2p.explain": r"""
### pix2pix：画像から画像への変換を学ぶ条件付き GAN

Isola, Zhu, Zhou & Efros, *Image-to-Image Translation with Conditional Adversarial Networks*, CVPR 2017。
学習ペア $(x, y)$ の $x$ は実物の猫の写真 $y$ から作った線画です（ここでは Canny エッジ。有名な edges2cats デモは HED を使用）。
生成器 $G$ は $x \mapsto y$ を学び、識別器 $D$ は**ペア**を見て本物か偽物かを判定します。

$$G^* = \arg\min_G \max_D \; \mathcal{L}_{cGAN}(G, D) + \lambda\, \mathcal{L}_{L1}(G)$$

$$\mathcal{L}_{cGAN} = \mathbb{E}_{x,y}[\log D(x, y)] + \mathbb{E}_{x}[\log(1 - D(x, G(x)))]$$

$$\mathcal{L}_{L1} = \mathbb{E}_{x,y}\,\lVert y - G(x) \rVert_1, \qquad \lambda = 100$$

- **条件付き**：$D$ が判定するのは「どんな写真か」ではなく「*この線画に対応する*本物の写真か」です。
- **L1 だけだとぼやける理由**：同じ線画に合う写真は何通りもあります（トラ猫、白猫、黒猫…）。L1 損失はそれらの画素ごとの*中央値*で最小になるので、L1 だけで学習した生成器は無難な灰色っぽい平均を描き、毛並みはにじみます（右の出力）。
- **PatchGAN が見るもの**：$D$ は重なり合う 70×70 のパッチごとに本物らしさを出力し（128 px の画像では 14×14 個）、その平均をとります。求めるのはくっきりした本物らしい*質感*だけで、全体の色や配置（低周波）は L1 が担当します。
- **U-Net**：スキップ接続がエンコーダの各層を同じ大きさのデコーダ層へ直接渡すので、線の位置は 1×1 のボトルネックを通らずに出力へ届きます。デコーダのドロップアウトが唯一の乱数です。チェックを入れても出力はほとんど変わりません（論文の観察と同じ）。
""",
    # --- CycleGAN -----------------------------------------------------------------------------
    "tab.cyc": "CycleGAN（馬 ↔ 雲の馬）",
    "cyc.input": "写真：馬、または雲でできた馬",
    "cyc.direction": "変換の向き",
    "cyc.a2b": "馬 → 雲の馬（G）、そして元へ（F）",
    "cyc.b2a": "雲の馬 → 馬（F）、そして元へ（G）",
    "cyc.examples": "テスト用に取り分けた画像（学習には使っていません）",
    "cyc.resolution": "解像度（長辺 px。縦横比は保たれます）",
    "cyc.amplify": "増幅表示の倍率",
    "cyc.noise": "変換結果に加えるノイズ（± 1/255 単位）",
    "cyc.run": "変換して一周させる",
    "cyc.as_used": "入力 x",
    "cyc.translated": "変換結果",
    "cyc.reconstructed": "元に戻した画像",
    "cyc.heat": "誤差（暗いほど正確）",
    "cyc.amplified": "細かい成分（増幅）",
    "cyc.noisy": "ノイズ後に戻した画像",
    "cyc.figures": (
        "**サイクル誤差** $|{backward}({forward}(x)) - x|$ の平均 = **{cycle}**（画素値は [0, 1]。ヒートマップは "
        "{vmax} で最も明るくなります）。  \n"
        "変換結果に目に見えない ±{noise}/255 のノイズを加えると：**{noisy}**。"
        "{backward} の出力は、入力に加えたノイズの **{gain} 倍** 変化しました。"
    ),
    "cyc.failures": "正直な失敗例（テスト用画像）",
    "cyc.failures_note": "各帯：入力、変換結果、元に戻した画像、誤差。失敗例はテスト用写真から計算するため、学習用の写真がインストールされている環境でのみ表示されます（写真は再配布しません）。",
    "cyc.explain": r"""
### CycleGAN
**対になっていない** 2 つの画像集合：馬の写真 $A$ と雲でできた馬 $B$。2 つの生成器
$G: A \to B$ と $F: B \to A$ を、それぞれ識別器（$D_B$ は $G$ の画像を、$D_A$ は $F$ の画像を判定）と競わせて、
最小二乗 GAN 損失で学習します（Zhu ら, 2017）：

$$\begin{aligned} \mathcal{L}_{GAN}(G, D_B) = {} & \mathbb{E}_b\big[(D_B(b) - 1)^2\big] \\ & + \mathbb{E}_a\big[D_B(G(a))^2\big] \end{aligned}$$

（$D_B$ はこれを最小化し、$G$ は $\mathbb{E}_a[(D_B(G(a)) - 1)^2]$ を最小化します。）どの馬がどの雲の馬になるべきかは
誰も教えないので、**一周して元に戻る** ことを求めます：

$$\begin{aligned} \mathcal{L}_{cyc} &= \mathbb{E}_a\,\|F(G(a)) - a\|_1 + \mathbb{E}_b\,\|G(F(b)) - b\|_1 \\ \mathcal{L}_{id} &= \mathbb{E}_b\,\|G(b) - b\|_1 + \mathbb{E}_a\,\|F(a) - a\|_1 \\ \mathcal{L} &= \mathcal{L}_{GAN}(G, D_B) + \mathcal{L}_{GAN}(F, D_A) \\ & \quad + \lambda\,\mathcal{L}_{cyc} + 0.5\,\lambda\,\mathcal{L}_{id}, \qquad \lambda = 10 \end{aligned}$$

- **恒等写像の項** $\mathcal{L}_{id}$：すでに変換先の領域にある画像は、そのまま通るべきです（色を保ちます）。
- **PatchGAN**：$D$ は 70×70 の小領域ごとに判定するので、場面全体ではなく質感やスタイルを見ます。
- **履歴プール**：$D$ には直近 50 枚の偽物の一部も見せ、学習の振動を抑えます。

**ステガノグラフィー**（Chu ら, 2017）：$G(x)$ から $x$ を復元するため、$G$ は $x$ の情報を $G(x)$ の中に
かすかな高周波の信号として隠すことがあります。増幅表示は $0.5 + k\,(G(x) - \bar G(x))$ で、
$\bar G(x)$ は 5×5 の局所平均です。ごく小さなノイズ $n$ で $F(G(x) + n)$ が $n$ よりずっと大きく変わるなら、
$F$ はそのような隠れた、壊れやすい信号を読んでいます。

**試してみよう**：馬と雲の馬で誤差ヒートマップを比べてみましょう。ノイズを 4 にして再構成の変化を見てみましょう。
""",
    # --- DDPM ---------------------------------------------------------------------------------
    "tab.ddpm": "DDPM をステップごとに",
    "ddpm.forward_title": "### 1. 拡散過程（フォワード）：閉じた式でノイズを加える",
    "ddpm.input": "x₀：あなたの数字",
    "ddpm.examples": "MNIST テストデータの実際の数字",
    "ddpm.t": "タイムステップ t",
    "ddpm.t_info": "0 = ほぼきれい … 999 = 完全なノイズ（diffusers は 0 から数えます）。ノイズ ε は同じものを使います。",
    "ddpm.x0": "x₀（元の画像）",
    "ddpm.xt": "ノイズを加えた x_t",
    "ddpm.eps": "ε（どの t でも同じ）",
    "ddpm.strip": "t = 0, 50, 100, 200, 300, 500, 700, 999 での x_t（同じ ε）",
    "ddpm.plot_abar": "ᾱ_t（青）、信号 √ᾱ_t（橙）とノイズ √(1−ᾱ_t)（赤）。灰色の線：選んだ t",
    "ddpm.plot_beta": "ノイズスケジュール β_t（線形）",
    "ddpm.plot_snr": "信号対雑音比：log₁₀ SNR(t) = log₁₀ ᾱ_t / (1−ᾱ_t)",
    "ddpm.forward_values": (
        "t = {t} では $\\beta_t$ = {beta}、$\\bar\\alpha_t$ = {abar}。したがって $x_t$ = {signal}·$x_0$ + {noise}·$\\varepsilon$ "
        "（信号対雑音比 {snr}）。"
    ),
    "ddpm.reverse_title": "### 2. 逆過程（リバース）：ノイズから数字へ、1 ステップずつ",
    "ddpm.sampler": "サンプラー",
    "ddpm.sampler_ddpm": "DDPM（確率的）",
    "ddpm.sampler_ddim": "DDIM（決定的・ステップを飛ばせる）",
    "ddpm.steps": "ステップ数",
    "ddpm.n": "画像の枚数",
    "ddpm.every": "k ステップごとに表示",
    "ddpm.run": "生成する",
    "ddpm.r_xt": "x_t（現在のノイズ画像）",
    "ddpm.r_x0": "x̂₀（モデルが予想する最終結果）",
    "ddpm.r_eps": "ε_θ(x_t, t)（予測されたノイズ）",
    "ddpm.scrub": "軌跡をたどる",
    "ddpm.scrub_info": "生成後、保存されたステップをすぐに行き来できます（再計算はしません）。",
    "ddpm.status": "{sampler}：ステップ {i} / {steps}（t = {t}）、{s} 秒",
    "ddpm.done": "完了：{sampler} {steps} ステップで {n} 枚を {s} 秒で生成しました（1 ステップ {ms} ms）。下のスライダーでステップをたどれます。",
    "ddpm.scrub_status": "{sampler} ステップ {i} / {steps}：t = {t}。左：x_t、中央：このステップで予測した x̂₀、右：ε_θ。",
    "ddpm.no_trajectory": "先に画像を生成してください。スライダーと分岐は、生成時に保存した軌跡を使います。",
    "ddpm.branch_title": "ここから分岐：1 枚のノイズ画像から複数の未来を",
    "ddpm.branch_note": (
        "軌跡スライダーでステップを、バッチの中から画像を 1 枚選びます。保存された x_t から新しいノイズで逆過程をやり直します。"
        "早い段階で分岐すると別の数字になり、遅い段階では細部だけが変わります。"
        "（DDIM の場合、分岐では η = 1（ノイズを加える）を使います。そうしないとすべての未来が同じになるためです。）"
    ),
    "ddpm.image": "バッチ内の画像（0 = 左上）",
    "ddpm.futures": "未来の数",
    "ddpm.branch_run": "このステップから未来をサンプリング",
    "ddpm.branch_origin": "出発点：x_t",
    "ddpm.branch_out": "未来",
    "ddpm.branch_running": "分岐中：{done} / {total} ステップ",
    "ddpm.branch_done": "ステップ {i}（t = {t}）から {k} 通りの未来を {s} 秒で生成しました。",
    "ddpm.compare_title": "DDPM と DDIM：同じ初期ノイズ、異なるステップ数",
    "ddpm.compare_note": (
        "同じ x_T（上のシードと枚数から）を DDIM 10 / 20 / 50 ステップと DDPM 1000 ステップで生成します。"
        "DDIM（Song ら 2021）は学習済みの同じネットワークを、ステップを飛ばせる決定的な更新式で使います。"
    ),
    "ddpm.compare_run": "比較する",
    "ddpm.compare_table": "| サンプラー | ステップ | 所要時間 | 1 ステップあたり |\n|---|---|---|---|",
    "ddpm.other_title": "Hugging Face Hub の他のモデル",
    "ddpm.other_note": (
        "safetensors の重みを持つ条件なしの diffusers DDPM/DDIM パイプラインなら使えます（例：`google/ddpm-cifar10-32`）。"
        "サーバーが Hub に接続できる場合のみ。空欄なら MNIST のモデルを使います。大きなモデルは CPU では遅いので、"
        "枚数を減らし DDIM のステップ数を少なくしてください。"
    ),
    "ddpm.model_id": "Hub のリポジトリ ID（空欄 = ddpm-mnist）",
    "ddpm.model_load": "読み込む",
    "ddpm.model_info": "**{name}**：パラメータ {params} M、画像 {c}×{h}×{w}、ブロックのチャネル数 ({channels})、T = {T}、β スケジュール {schedule}。",
    "ddpm.err_repo_id": "「{repo}」は Hub のリポジトリ ID ではありません。owner/name の形で書いてください（例：google/ddpm-cifar10-32）。",
    "ddpm.err_hub_model": "モデル「{repo}」を読み込めませんでした：{reason}",
    "ddpm.err_too_big": "このモデルの画像サイズは {size} です。この CPU では {max}×{max} までのモデルしか使えません。",
    "ddpm.err_too_much": "{n} 枚 × {steps} ステップは、このモデルを CPU で動かすには重すぎます。{n} 枚なら {most} ステップ以下にするか、枚数を減らしてください。",
    "ddpm.explain": r"""
### 拡散モデル（DDPM）

**拡散過程**（固定、学習しない）。ノイズスケジュール $\beta_1,\dots,\beta_T$
（$10^{-4}$ から $0.02$ まで線形、$T = 1000$）に従い、各ステップで少しずつガウスノイズを加えます：

$$q(x_t \mid x_{t-1}) = \mathcal{N}\big(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\big).$$

$\alpha_t = 1-\beta_t$、$\bar\alpha_t = \prod_{s\le t}\alpha_s$ とおくと、任意のステップへ一気に移れます：

$$x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon,\qquad \varepsilon\sim\mathcal{N}(0, I).$$

$\mathrm{SNR}(t) = \bar\alpha_t / (1-\bar\alpha_t)$ は約 $10^4$ から $4\cdot10^{-5}$ まで下がり、$t = T$ では $x_0$ の情報はほぼ残りません。

**学習**。U-Net $\varepsilon_\theta(x_t, t)$ が加えたノイズを予測します：
$\;\mathcal{L} = \mathbb{E}_{x_0, t, \varepsilon}\,\lVert \varepsilon - \varepsilon_\theta(x_t, t)\rVert^2$。

**逆過程（DDPM のサンプリング）**。$x_T \sim \mathcal{N}(0, I)$ から始め、$t = T,\dots,1$ について：

$$\hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon_\theta(x_t,t)}{\sqrt{\bar\alpha_t}},$$

$$x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\,\varepsilon_\theta(x_t,t)\Big) + \sigma_t z,\quad z\sim\mathcal{N}(0,I).$$

$\hat x_0$ はその時点でのモデルの最終画像の予想です。初めはぼやけた「平均的な」画像で、後半になるほど鮮明になります。

**DDIM**（Song ら 2021）は同じネットワークを、ステップを飛ばせる（$t' < t - 1$）決定的な更新
$x_{t'} = \sqrt{\bar\alpha_{t'}}\,\hat x_0 + \sqrt{1-\bar\alpha_{t'}}\,\varepsilon_\theta$ で使います。1000 ステップの代わりに 50 ステップで済みます。

モデル：このリポジトリで MNIST（32×32）に学習した diffusers の `UNet2DModel` と `DDPMScheduler`。Ho, Jain & Abbeel, NeurIPS 2020。
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
