# %% [markdown]
# # 3. SPADE's droplets
#
# An SSN has to condition every layer of its generator on a *map*, the spatial
# latent, rather than on one style vector. The best-known layer for that is
# SPADE (Park et al., 2019), and the paper's first architectural step
# (section 3.1) is to notice that SPADE shares a flaw with the first StyleGAN:
# both normalise the features by their *actual* statistics, and both show
# "droplet" artefacts, small bright blobs that the generator plants on purpose.
# StyleGAN2 removed them by normalising with *expected* statistics instead;
# chapter 4 builds the spatial version of that fix. This chapter takes the
# mechanism apart: first with a few numbers, then with a layer that learns the
# trick in seconds, then on the trained models of the zoo.
#
# **Learning goals**
#
# - see exactly how one large activation lets a layer carry a signal's
#   magnitude through instance normalisation, and why a normalisation by
#   expected statistics leaves nothing to gain;
# - reproduce the mechanism: a one-channel layer trained on a CPU plants a
#   spike under instance norm and does not under demodulation;
# - measure spikes in trained generators with a statistic computed by
#   `ssnlib.diagnostics` at the same place in StyleGAN2, SSN and SPADE, and
#   read what it does and does not show at 32 pixels.
#
# Everything computed here lives in `ssnlib.diagnostics` (tested in
# `tests/test_diagnostics.py`); this chapter only calls it.

# %% [markdown]
# ## Actual statistics forget the magnitude
#
# Instance normalisation divides each channel of a feature map $x \in
# \mathbb R^{H \times W}$ by its own mean and standard deviation over the
# $N = HW$ pixels,
#
# $$\begin{gathered}
#   \operatorname{IN}(x)_p = \frac{x_p - \mu(x)}{\sigma(x)}, \\
#   \mu(x) = \frac1N \sum_q x_q, \quad \sigma(x)^2 = \frac1N \sum_q (x_q - \mu)^2 .
# \end{gathered}$$
#
# It is blind to scale: $\operatorname{IN}(m x) = \operatorname{IN}(x)$ for
# every $m > 0$. Whatever magnitude an earlier layer gave the features, the
# layer after the norm never sees it; SPADE then multiplies by $1 +
# \gamma(\text{map})$ and adds $\beta(\text{map})$, but those depend on the
# conditioning map, not on the features. StyleGAN (through AdaIN) and SPADE
# share exactly this. (SPADE's paper normalises with parameter-free *batch*
# norm, whose statistics pool every image of a batch as well as the pixels;
# the blindness to a common scale and the spike's trick are the same, with the
# spike taking over a batch's statistics instead of one map's. Our SPADE
# layer, `ssnlib.layers.SPADE`, does either, `norm="instance"` by default, the
# per-image form that a generator sampling one image at a time needs; the
# zoo's SPADE uses it, and so does this chapter.)
#
# Now add one large value $b$ at a single pixel. For $b \gg m\sqrt N$ the spike
# dominates the variance, $\sigma^2 \approx m^2 + b^2/N$, and every *other*
# pixel comes out as
#
# $$\begin{aligned}
#   \operatorname{IN}(m u + b e_{p^*})_p &\approx \frac{m\, u_p}{\sqrt{m^2 + b^2/N}} \\
#   &\approx \frac{\sqrt N}{b}\; m\, u_p \qquad (p \ne p^*),
# \end{aligned}$$
#
# *proportional to $m$*: the spike has fixed the denominator, and the
# magnitude goes through. That is the trick StyleGAN2 (section 2) suspected
# the generator of playing: "creating a strong, localized spike that
# dominates the statistics". Four tensors show it: a map $u$ of $8 \times 8$
# standard normal values at two magnitudes, without and with a spike.

# %%
import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from ssnlib import diagnostics as dg
from ssnlib import plotting
from ssnlib.utils import rounding

torch.set_num_threads(1)   # small work: one thread is as fast and leaves cores free
plotting.use_book_style()  # fonts and figure widths that read well in the book

u = torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
spike = torch.zeros_like(u)
spike[0, 0, 2, 5] = 40.0
away = torch.ones(8, 8, dtype=torch.bool)
away[2, 5] = False                                       # every pixel but the spike's
spread = {}
for m in (0.25, 1.0):
    plain = F.instance_norm(m * u)[0, 0]
    spiked = F.instance_norm(m * u + spike)[0, 0]
    # the spread of the other pixels (the spike also shifts their mean, which beta absorbs)
    std_plain, spread[m] = (t[away].std(correction=0) for t in (plain, spiked))
    print(f"m = {m:4.2f}: std away from the spike without it {std_plain:.3f}, "
          f"with it {spread[m]:.3f}; the spike itself {spiked[2, 5]:.2f}")
print(f"with the spike, spread at m = 1 over spread at m = 0.25: {spread[1.0] / spread[0.25]:.2f}")

# %% [markdown]
# Without the spike both magnitudes give the same output, a spread of 0.988
# (the sample's own, rescaled to 1 with the spike's pixel included): the factor
# 4 between them is gone. With a spike of 40 the rest of the map comes out
# with a spread of 0.052 at $m = 0.25$ and 0.212 at $m = 1$, a ratio of 4.04:
# the magnitude survives, at the price of one pixel near $\sqrt{N} = 8$ (7.93
# and 7.76) and a common shrink factor, which SPADE's $1 + \gamma$ can undo.
#
# A normalisation by *expected* statistics has nothing to offer a spike.
# StyleGAN2's demodulation divides a convolution's output by the standard
# deviation it *would* have if its input were i.i.d. with unit variance:
# $\sqrt{\sum w^2}$ for weights $w$, a number that does not look at the
# features. A magnitude $m$ of the input comes out as $m$, and a spike would
# only be a spike.
#
# ## A layer that learns the trick
#
# The question is whether gradient descent finds the spike by itself.
# `dg.magnitude_toy` trains the smallest layer that can: one channel of
# $32 \times 32$ pixels, input $h = m u$ with $u$ fresh standard normal
# content and a magnitude $m$ drawn log-uniformly in $[0.1, 1]$ at every step,
# and target $\operatorname{lrelu}(m u)$, what the layer would output without
# a normalisation. The layer owns a gain $g$, a *bias map* $B$ (one free number
# per pixel, starting at $10^{-3}$ noise: the freedom a real generator has
# through its learnt constant, noise inputs and biases) and an output affine
# $\gamma, \beta$:
#
# $$\begin{aligned}
#   y_\text{actual} &= \gamma\, \operatorname{IN}\!\big(\operatorname{lrelu}(g h + B)\big)
#   + \beta, \\
#   y_\text{expected} &= \gamma\, \frac{\operatorname{lrelu}(g h + B)}{|g|} + \beta .
# \end{aligned}$$
#
# The first normalises by the actual statistics of the map, as SPADE does; the
# second by the expected ones. (For unit-variance $h$ the expected standard
# deviation of $g h$ is $|g|$; the leaky ReLU is positively homogeneous, so the
# division may come after it.) The loss is the Huber loss, the absolute error beyond 0.1 and the
# squared error below: like a discriminator it forgives one wrong pixel more
# readily than a dimmed image, and near its optimum it is smooth, so the
# training does not hang on rounding (a plain absolute error lets the last
# bits of the CPU's arithmetic decide which way each pixel moves). Adam, 800
# steps of 16 maps, float64, seed 0:

# %%
toys = {norm: dg.magnitude_toy(norm, steps=800, lr=0.1, seed=0)
        for norm in ("instance", "expected")}


def spike_share(b):
    """share of the bias map's (centred) energy in its largest pixel"""
    e = (b - b.mean()).pow(2).flatten()
    return float(e.max() / e.sum())


u_test = torch.randn(1, 1, 32, 32, generator=torch.Generator().manual_seed(1)).double()
ms = np.geomspace(0.1, 1.0, 9)
inst = toys["instance"]
b = inst.bias_map
top = (b - b.mean()).abs().argmax()
far = ((b - b.mean()).abs() < 0.5 * (b - b.mean()).abs().max())[None, None]  # off any spike
flattened = b.clone()
flattened.view(-1)[top] = b.mean()                 # the same layer, its largest pixel levelled
layers_toy = {"instance statistics": inst,
              "instance, spike levelled": dataclasses.replace(inst, bias_map=flattened),
              "expected statistics": toys["expected"]}
ratio = {}
for label, toy in layers_toy.items():
    # output spread over target spread, away from the spike (beta absorbs any mean shift)
    ratio[label] = np.array([float(toy(m * u_test)[far].std() / F.leaky_relu(m * u_test, 0.2)[
        far].std()) for m in ms])
for norm, toy in toys.items():
    e = (toy.bias_map - toy.bias_map.mean()).abs()
    print(f"{norm:8s} statistics: mean loss over the last 50 steps {np.mean(toy.losses[-50:]):.3f}"
          f" | largest |B| {e.max():.1f}, median |B| {e.median():.2f}"
          + (f", the largest pixel holds {spike_share(toy.bias_map):.1%} of B's energy"
             if e.max() > 0.01 else ""))    # a zero map has no share to speak of
for label, r in ratio.items():
    print(f"{label:25s}: output/target spread at m = 0.1, 0.3, 1: "
          + ", ".join(f"{r[i]:.2f}" for i in (0, 4, 8))
          + f"  (max/min over m: {r.max() / r.min():.1f})")

# %% tags=["hide-input"]
fig, axes = plotting.subplots(1, 3, height=3.2, width_ratios=[1, 1, 1.6])
vmax = float(toys["instance"].bias_map.abs().max())
for ax, (norm, toy) in zip(axes[:2], toys.items(), strict=True):
    im = ax.imshow(toy.bias_map.abs(), cmap="magma", vmin=0, vmax=vmax)
    ax.set(title=f"|B|, {norm}", xticks=[], yticks=[])
fig.colorbar(im, ax=axes[:2], shrink=0.8, location="bottom", label="|B| (one scale)")
for label, r in ratio.items():
    axes[2].plot(ms, r, "o-", ms=3, label=label)
axes[2].axhline(1, color="gray", lw=0.8)
axes[2].set(xscale="log", yscale="log", xlabel="input magnitude m",
            ylabel="output / target spread", title="does m get through?")
axes[2].set_yticks([0.5, 1, 2, 5], ["0.5", "1", "2", "5"])
axes[2].set_yticks([], minor=True)
fig.legend(*axes[2].get_legend_handles_labels(), loc="outside lower center", ncols=3,
           fontsize=9)
plotting.show(fig)

# %% [markdown]
# Under instance norm the layer grew one pixel of $B$ to 20.9 (the median
# $|B|$ is 0.02), and that pixel holds 99.8 % of $B$'s energy: a droplet,
# learnt in seconds. The right panel shows what it buys. A layer that passed
# the magnitude perfectly would have an output/target ratio of 1 at every
# $m$; one blind to $m$ would have a ratio $\propto 1/m$, a factor 10 over
# this decade. With its spike the ratio spans a factor 1.9 (1.14 at $m =
# 0.1$, 0.61 at $m = 1$): most of the magnitude gets through. Level that one
# pixel, leaving the layer otherwise as trained, and the factor is 10.0
# again. Under expected statistics $B$ has nothing to offer: it decays from
# its $10^{-3}$ start to zero, the ratio is 1.00 throughout and the final loss
# is 0.000 against 0.047. Where the spike lands depends on the seed; whether
# it lands does not:

# %%
for seed in range(4):
    spiky, flat = (dg.magnitude_toy(norm, steps=800, lr=0.1, seed=seed).bias_map
                   for norm in ("instance", "expected"))
    row, col = divmod(int(spiky.abs().argmax()), spiky.shape[1])
    print(f"seed {seed}: instance statistics, a spike of {spiky.abs().max():.0f} at pixel "
          f"({row:2d}, {col:2d}) with {spike_share(spiky):.1%} of B's energy | expected "
          f"statistics, largest |B| {rounding(flat.abs().max(), 1e-6)}")

# %% [markdown]
# ## Spikes in trained generators
#
# In a real generator the question becomes measurable: does one small set of
# activations hold much of a feature map's energy? `ssnlib.diagnostics`
# measures every 3x3 synthesis layer at the same place in all three
# architectures, the output of the layer's bias and leaky ReLU (exactly what
# SPADE's instance norm receives; in StyleGAN2 and SSN, what the next
# convolution receives), captured with forward hooks. Three statistics per
# layer, averaged over 64 seeded samples:
#
# - **top share**: the share of the layer's energy $\sum x^2$ (all channels and
#   pixels) held by its largest 0.1 % of activations. For i.i.d. Gaussian
#   activations it is about 0.013 on a large map (more on small ones, where
#   0.1 % rounds up to one activation); a droplet pushes it towards 1.
# - **peak/median**: $\max |x| / \operatorname{median} |x|$.
# - **channel share**: the same top share for each channel's own map (its
#   largest pixel, for maps up to 1000 pixels), the largest over channels:
#   instance norm works per channel, so a droplet is one channel dominated by
#   one pixel.
#
# The three models are the zoo's 32 px faces at the same configuration
# (`tiny` with 32 channels, 40 000 training images on a CPU, no distortion
# penalty): StyleGAN2, the SSN and its SPADE twin, which differs from the SSN
# only in how a layer is conditioned on the w-map (`ssnlib.models.spade`).

# %%
from ssnlib import zoo

names = {"StyleGAN2": "faces32-stylegan2", "SSN": "faces32-ssn-ld0",
         "SPADE": "faces32-spade-ld0"}
models = {label: zoo.load(name) for label, name in names.items()}
for label, name in names.items():
    info = zoo.manifest(name)
    print(f"{label:9s} {name}: {info['training']['images_seen']} training images, "
          f"{info['model']['parameters']} parameters")
tables = {label: dg.spike_table(G, n=64, seed=0) for label, G in models.items()}
layers = [r.layer for r in tables["SSN"]]
reference = {r.layer: dg.gaussian_top_share(r.channels * r.resolution ** 2)
             for r in tables["SSN"]}


def by_layer(stat: str, fmt: str) -> list[list[str]]:
    """One statistic: a row per layer, a column per model."""
    return [[format(getattr(t[i], stat), fmt) for t in tables.values()]
            for i in range(len(layers))]


plotting.show_table(
    ["layer", *tables, "i.i.d. Gaussian"],
    [[layer, *row, f"{reference[layer]:.3f}"]
     for layer, row in zip(layers, by_layer("top_share", ".3f"), strict=True)],
    caption="top share: the share of energy in the largest 0.1 % of activations")
for stat, fmt, caption in (("peak_ratio", ".1f", "peak/median: max |x| / median |x|"),
                           ("channel_share", ".2f", "channel share: the largest channel's own "
                                                    "top share")):
    plotting.show_table(["layer", *tables],
                        [[layer, *row] for layer, row in zip(layers, by_layer(stat, fmt),
                                                             strict=True)], caption=caption)

# %% tags=["hide-input"]
fig, (left, right) = plotting.subplots(1, 2, height=3.4)
x = np.arange(len(layers))
for label, table in tables.items():
    left.plot(x, [r.top_share for r in table], "o-", ms=4, label=label)
    right.plot(x, [r.peak_ratio for r in table], "o-", ms=4)
left.plot(x, list(reference.values()), "k:", label="i.i.d. Gaussian")
left.set(ylabel="top 0.1 % energy share", title="energy in the largest 0.1 %")
right.set(ylabel="max / median |x|", title="peak over median")
for ax in (left, right):
    ax.set_xticks(x, [lyr.split("x")[0] + ("\u2191" if "up" in lyr else "") for lyr in layers])
    ax.set_xlabel("layer (px; \u2191 up-sampling)")
    ax.grid(alpha=0.3)
fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=4)
plotting.show(fig)

# %% [markdown]
# The numbers do not show droplets in the shipped 32 px SPADE. Its largest
# top share, 0.134 at the 32x32 up-sampling layer, is above the SSN's 0.028
# there and ten times the Gaussian 0.013, but StyleGAN2's last layer, which
# has no instance norm at all, reaches 0.117, and the channel shares at 32 px
# are alike in all three models (0.06 to 0.09). No single channel is taken
# over by one pixel. (Same recipe, not the same size: SPADE's conditioning
# networks, 128 channels wide at every layer, give it 1206324 parameters
# against the SSN's 195668 and StyleGAN2's 121811.) Heat maps of SPADE's most
# concentrated layer, the largest
# $|\text{activation}|$ over channels at every pixel, beside the images they
# belong to (four seeded samples per model, the same seeds for every model,
# one colour scale per model):

# %% tags=["hide-input"]
layer = "32x32 up"
fig, axes = plotting.subplots(3, 8, height=3.6)
for row, (label, G) in zip(axes, models.items(), strict=True):
    images, feats = dg.layer_features(G, n=4, seed=0)
    heat = dg.heat_map(feats[layer])
    for k in range(4):
        row[2 * k].imshow(((images[k].permute(1, 2, 0) + 1) / 2).clamp(0, 1))
        row[2 * k + 1].imshow(heat[k], cmap="magma", vmin=0, vmax=float(heat.max()))
    row[0].set_ylabel(label, fontsize=10)
for ax in axes.flat:
    ax.set(xticks=[], yticks=[])
for k in range(4):
    axes[0, 2 * k].set_title(f"seed {k}", fontsize=10)
    axes[0, 2 * k + 1].set_title("heat", fontsize=10)
fig.suptitle(f"images and max |activation| over channels, layer {layer}", fontsize=11)
plotting.show(fig)

# %% [markdown]
# SPADE's maps have one hot spot, above the head at the same place in every
# seed; StyleGAN2's brightest region sits there too but is broader, and the
# SSN's maps are the flattest. The images show no blob there. So the
# statistic sees a concentration that the pictures do not: perhaps the start
# of a droplet, perhaps just the hair line, and at this size we cannot tell
# them apart. Two things at 32 px work against droplets. The trick pays when
# a spike's cost (one pixel) is small against the pixels it rescales, and
# StyleGAN2 reports the droplets from about 64x64 on, while our largest map
# has 1024 pixels. And 40 000 images is a short training: the artefact is
# something a generator learns.
#
# ## Over training
#
# The zoo keeps only final generators, so we trained the SPADE recipe again,
# on one CPU thread, for the first 1000 of its 2500 steps with a checkpoint
# every 100 steps (`ssn train --config configs/zoo/faces32.yaml
# model.arch=spade reg.distortion_weight=0 steps=1000 ckpt_every=100
# keep_ckpts=0`), and measured each checkpoint's EMA generator with the same
# `dg.spike_table` (`tools/spike_curve.py`, whose command the record keeps).
# The checkpoints are not shipped, their statistics are
# (`data/diagnostics/faces32-spade-spike-curve.json`); the last point is the
# shipped model at step 2500.

# %%
curve, record = dg.load_spike_curve()
print(record["command"])
steps = sorted(curve)
plotting.show_table(["step", *layers],
                    [[s, *(f"{r.top_share:.3f}" for r in curve[s])] for s in steps],
                    caption="SPADE's top share by layer over training (the last row: the "
                            "shipped model)")

# %% tags=["hide-input"]
fig, ax = plotting.subplots(height=3.6)
for i, name in enumerate(layers):
    values = [curve[s][i].top_share for s in steps]
    color = plt.cm.viridis(i / (len(layers) - 1))
    ax.plot(steps[:-1], values[:-1], "o-", ms=3, label=name, color=color)
    ax.plot(steps[-2:], values[-2:], "o:", ms=3, color=color)   # the shipped model's own run
ax.set(xlabel="training step (16 images each); dotted: to the shipped model",
       ylabel="top 0.1 % energy share", title="SPADE, faces 32 px, over training")
ax.grid(alpha=0.3)
fig.legend(*ax.get_legend_handles_labels(), loc="outside right center")
plotting.show(fig)

# %% [markdown]
# The 32x32 up-sampling layer, where the shipped SPADE is most concentrated,
# climbs from 0.049 at step 100 to 0.091 at step 200 and stays between 0.104
# and 0.109 from step 500 on; the shipped model, 1500 steps later (and from
# its own run of the same recipe and seed), is at 0.134. The 16x16 layer rises
# to 0.087 and falls back (0.071 at step 1000, 0.053 shipped); the other
# layers barely move. A concentration that grows with training in one layer
# is what a droplet in the making would look like, but it is not proof of
# one: a generator that learns sharper hair lines also concentrates energy.
#
# The decisive test is larger: 64 px and beyond, trained on a GPU for many
# more images, where StyleGAN2 saw its droplets and the paper's Figure 4 shows
# SPADE's. The zoo holds no such SPADE model yet, so this chapter cannot show
# it; `dg.spike_table(G)` and `dg.layer_features(G)` work unchanged on any
# generator of `ssnlib.models`, and `tools/spike_curve.py` on any training run
# with checkpoints, so such a model can be measured exactly as here.
#
# ## Summary
#
# - A normalisation by actual statistics is blind to the scale of its input;
#   one large activation makes the statistics its own and lets the rest of the
#   map carry the scale. A layer trained to pass a magnitude through instance
#   norm finds this spike within seconds; under a normalisation by expected
#   statistics there is nothing to find.
# - `ssnlib.diagnostics` measures spikes in any generator at the same place in
#   every architecture. The shipped 32 px models show no droplets; SPADE's
#   32x32 up-sampling layer has the most concentrated energy, and the
#   concentration grows with training.
#
# **Exercise.** In the four-tensor example, the spike was 40 on an $8 \times 8$
# map. (a) Using the approximation $\sigma^2 \approx m^2 + b^2/N$, how large must
# the spike $b$ be for the output away from the spike to be proportional to
# $m$ within 5 % over $m \in [0.25, 1]$? (b) How does that spike size grow
# with the number of pixels $N$, and what does the spike pixel itself come
# out as? Check (a) with `F.instance_norm`.
#
# :::{admonition} Answer
# :class: dropdown
#
# (a) Away from the spike the output is $m u_p / \sqrt{m^2 + b^2/N}$. Taking
# $m = 0.25$ as the reference, the ratio of the gain at $m$ to the gain at
# $0.25$ is $\sqrt{(0.0625 + c^2)/(m^2 + c^2)}$ with $c = b/\sqrt N$; at $m = 1$
# it must be at least $0.95$, so $(0.0625 + c^2) \ge 0.9025\,(1 + c^2)$, i.e.
# $c^2 \ge 0.8400/0.0975 \approx 8.6$, $c \ge 2.94$ and $b \ge 2.94 \sqrt{64}
# \approx 23.5$. The spike of 40 ($c = 5$) was comfortably enough.
# (b) $b$ grows like $\sqrt N$: on a $64 \times 64$ map about $190$. The spike
# pixel comes out as $(b - \mu)/\sigma \approx b/\sqrt{m^2 + b^2/N} \to \sqrt N$:
# a larger map needs a proportionally larger spike, but the spike's share of
# the pixels falls as $1/N$, so it costs the generator less and less, the
# reason droplets appear at high resolution first. The cell below checks
# (a) on average over 2000 random maps: for one map the approximation also
# drops a cross term, $2 m b\,(u_{p^*} - \bar u)/N$, which depends on the
# content under the spike.
# :::

# %% tags=["hide-cell"]
maps_u = torch.randn(2000, 1, 8, 8, generator=torch.Generator().manual_seed(2))
for b in (20.0, 23.5, 40.0):
    spike = torch.zeros(1, 1, 8, 8)
    spike[0, 0, 2, 5] = b
    gains = [F.instance_norm(m * maps_u + spike)[:, 0][:, away].std(1, correction=0) / m
             for m in (0.25, 1.0)]
    print(f"b = {b:4.1f}: gain at m = 1 over gain at m = 0.25, mean over 2000 maps: "
          f"{float((gains[1] / gains[0]).mean()):.3f}")
