# %% [markdown]
# # 4. Spatially modulated convolution
#
# Chapter 3 showed why SPADE's normalisation invites droplets: it divides the
# features by their *actual* statistics, which a single spike can take over.
# StyleGAN2 fixed the same flaw in the first StyleGAN by dividing instead by
# the statistics the output *would* have for a standard input, computed from
# the weights and the style alone. The SSN paper's answer for spatial
# conditioning (section 3.1, eq. 1) is the spatial version of that fix, the
# *spatially modulated convolution*. The paper leaves its derivation to an
# appendix that is not public, so this chapter derives it, checks it numerically
# on the layer `ssnlib` actually runs, and then looks at the parts around it:
# the up-sampling layer, the spatial encoder that feeds it, and what it costs.
#
# **Learning goals**
#
# - place the layer in the SSN: the z grid, the per-block mapping, the spatial encoder and
#   the style map every synthesis layer takes from it;
# - derive eq. 1: the variance of $\operatorname{conv}(h \odot s, w)$ for
#   i.i.d. unit-variance $h$ is $\operatorname{conv}(s^2, w^2)$, and dividing by
#   its square root $\sigma_E$ gives unit variance whatever the style map;
# - check it live, exactly (Jacobian) and by Monte Carlo, at interior and
#   border pixels, and see that a constant style map gives StyleGAN2's
#   modulated convolution;
# - understand the up-sampling layer's phases and why it cannot have both unit
#   variance and exact StyleGAN2 equality;
# - measure how far one latent block reaches through the spatial encoder, and
#   where the layer spends its FLOPs.
#
# Everything computed here lives in `ssnlib.layers` and `ssnlib.diagnostics`
# (tested in `tests/test_layers.py` and `tests/test_diagnostics.py`).

# %% [markdown]
# ## The SSN at a glance
#
# First, where the layer sits (paper, section 3.2). The latent is a grid of independent
# blocks, $z \in \mathbb R^{n_z \times n_h \times n_w}$. Every block goes through StyleGAN2's
# mapping network on its own (as 1x1 convolutions), which gives a grid of $w$ vectors; a
# spatial encoder turns that grid into a smooth *w-map* (ours: the paper's encoder is not
# published, and its reach is measured below). Every synthesis layer $l$ takes its own
# style map from the w-map, through its affine map $A_l$ and a resize to its resolution,
# and feeds it to the spatially modulated convolution of eq. 1. The synthesis path is
# StyleGAN2's: a learnt $4 \times 4$ constant, two 3x3 layers per resolution (the first one
# up-sampling), noise inputs, and ToRGB outputs summed over the resolutions. The figure is
# drawn from one forward pass of the zoo's 32 px SSN: `dg.data_flow` reads every shape with
# forward hooks, so it shows what the code runs.

# %% tags=["hide-input"]
from ssnlib import diagnostics as dg
from ssnlib import plotting, zoo

plotting.use_book_style()
fig, ax = plotting.subplots(height=5.6)
plotting.draw_data_flow(ax, dg.data_flow(zoo.load("faces32-ssn-ld0")),
                        "every layer $l$: style map\n$s_l = A_l(\\mathrm{resize}(w))$")
plotting.show(fig)

# %% [markdown]
# ## Deriving eq. 1
#
# A 3x3 convolution with input $h \in \mathbb R^{I \times H \times W}$, weights
# $w \in \mathbb R^{O \times I \times 3 \times 3}$ and a *style map* $s \in
# \mathbb R^{I \times H \times W}$ that scales every input channel at every
# pixel computes, at output channel $o$ and pixel $p$,
#
# $$\begin{aligned}
#   u_o(p) &= \sum_{i=1}^{I} \sum_{k} w_{o,i,k}\; s_i(p+k)\; h_i(p+k) \\
#   &= \operatorname{conv}(h \odot s,\ w)_o(p),
# \end{aligned}$$
#
# $k$ running over the nine offsets of the kernel. StyleGAN2's modulation is
# the case where $s_i(p) = s_i$ does not depend on $p$. Now ask what
# StyleGAN2 asks: if $h$ were *i.i.d.* with mean 0 and variance 1 (the
# "expected statistics"), what would the variance of $u_o(p)$ be? The terms of
# the sum are independent (each $h_i(p+k)$ appears once) with mean 0, so
# their variances add:
#
# $$\operatorname{Var} u_o(p) = \sum_{i} \sum_{k} w_{o,i,k}^2\, s_i(p+k)^2
#   = \operatorname{conv}(s^2,\ w^2)_o(p).$$
#
# The variance of the output is the *squared* style map convolved with the
# *squared* weights. Dividing by its square root gives the layer
#
# \begin{equation*}
# \begin{gathered}
#   y = \frac{\operatorname{conv}(h \odot s,\ w)}{\sigma_E(s, w)}, \\
#   \sigma_E(s, w) = \sqrt{\operatorname{conv}(s^2,\ w^2) + \epsilon}\,,
# \end{gathered} \tag{1}
# \end{equation*}
#
# the paper's eq. 1 ($\epsilon = 10^{-8}$ guards the division), with unit
# variance at every pixel for any style map, and no statistic of $h$ in sight:
# a spike in $h$ changes the output where it is and nowhere else. Two
# consequences follow at once.
#
# - *A constant style map is StyleGAN2.* If $s_i(p) = s_i$, then
#   $\sigma_E^2 = \sum_i s_i^2 \sum_k w_{o,i,k}^2$, exactly StyleGAN2's
#   demodulation $\big(\sum_{i,k} (s_i w_{o,i,k})^2\big)^{1/2}$. This is what
#   lets an SSN start from StyleGAN2's weights (section 3.4).
# - *Borders.* $h$ is zero-padded, but `ssnlib` pads $s^2$ by replicating its
#   edge (so that the constant-map equality holds up to the border); at a
#   border pixel some taps see padding, the numerator loses their terms and the
#   variance drops below 1, as it does in StyleGAN2.
#
# ## Checking it on the real layer
#
# The check uses `SpatiallyModulatedConv2d` itself, 8 input and 4 output
# channels on $16 \times 16$ maps, with two style maps: a smooth one (a random
# $4 \times 4$ map bilinearly enlarged, as an SSN's style maps are) and a
# rough one (i.i.d. uniform values in $[0.1, 2.1]$ at every pixel). The layer
# is linear in $h$, so its exact output variance is the squared norm of each
# row of its Jacobian, whose columns are the responses to unit impulses
# (`dg.jacobian_variance`). Monte Carlo runs 2000 seeded draws of standard
# normal $h$.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from ssnlib import diagnostics as dg
from ssnlib import plotting
from ssnlib.layers import ModulatedConv2d, SpatiallyModulatedConv2d
from ssnlib.utils import rounding

torch.set_num_threads(1)   # small work: one thread is as fast and leaves cores free
plotting.use_book_style()  # fonts and figure widths that read well in the book

torch.manual_seed(0)
layer = SpatiallyModulatedConv2d(8, 4, 3)
g = torch.Generator().manual_seed(1)
maps = {"smooth": F.interpolate(torch.randn(1, 8, 4, 4, generator=g), size=(16, 16),
                                mode="bilinear") + 1.5,
        "rough": torch.rand(1, 8, 16, 16, generator=g) * 2 + 0.1}
inside = dg.interior((16, 16), 1)              # pixels whose 3x3 window lies in the image
edge, corner = torch.zeros(16, 16, dtype=torch.bool), torch.zeros(16, 16, dtype=torch.bool)
edge[0, 1:-1] = edge[-1, 1:-1] = edge[1:-1, 0] = edge[1:-1, -1] = True
corner[0, 0] = corner[0, -1] = corner[-1, 0] = corner[-1, -1] = True
variance = {}
for name, s in maps.items():
    def f(h, s=s):
        return layer(h, s.expand(h.shape[0], -1, -1, -1))
    exact = dg.jacobian_variance(f, (8, 16, 16))
    mc = dg.monte_carlo_variance(f, (8, 16, 16), n=2000, seed=0)
    variance[name] = exact
    print(f"{name:6s} map | interior: exact {exact[:, inside].min():.4f} to "
          f"{exact[:, inside].max():.4f}, Monte Carlo mean {mc[:, inside].mean():.3f} "
          f"(per pixel {mc[:, inside].min():.2f} to {mc[:, inside].max():.2f}) | "
          f"edge {exact[:, edge].mean():.2f}, corner {exact[:, corner].mean():.2f}")

# %% tags=["hide-input"]
fig, axes = plotting.subplots(1, 4, height=2.3)
for j, (name, s) in enumerate(maps.items()):
    axes[2 * j].imshow(s[0, 0], cmap="viridis")
    axes[2 * j].set_title(f"{name} s, ch. 0")
    im = axes[2 * j + 1].imshow(variance[name][0], cmap="magma", vmin=0, vmax=1.05)
    axes[2 * j + 1].set_title("exact Var y")
for ax in axes:
    ax.set(xticks=[], yticks=[])
fig.colorbar(im, ax=axes, shrink=0.8)
plotting.show(fig)

# %% [markdown]
# At every interior pixel the exact variance is 1.0000 for both maps, and the
# Monte Carlo mean is 0.998 (smooth) and 0.999 (rough), within 2 % of 1;
# single pixels scatter from 0.90 to 1.12, the noise of 2000 draws. The
# roughness of the map does not matter: eq. 1 holds pixel by pixel, not only
# on average. On the border the variance drops to 0.67 and 0.66 along the
# edges (three of the nine taps fall on padding) and to 0.45 and 0.46 at the
# corners (five of nine), as in StyleGAN2.
#
# A spatially constant style map gives StyleGAN2's modulated convolution. The
# cell builds both layers with the same weights and affine map (StyleGAN2's
# `EqualLinear` is the SSN's 1x1 `EqualConv2d`), feeds StyleGAN2 a style vector
# and the SSN the same vector copied over a $4 \times 4$ map, plain and
# up-sampling:

# %%
for up in (False, True):
    sg2 = ModulatedConv2d(8, 4, 3, style_dim=6, upsample=up)
    ssn = SpatiallyModulatedConv2d(8, 4, 3, style_dim=6, upsample=up)
    with torch.no_grad():
        ssn.weight.copy_(sg2.weight)
        ssn.modulation.weight.copy_(sg2.modulation.weight[:, :, None, None])
        ssn.modulation.bias.copy_(sg2.modulation.bias)
        h, v = torch.randn(2, 8, 16, 16), torch.randn(2, 6)
        a, b = sg2(h, v), ssn(h, v[:, :, None, None].expand(-1, -1, 4, 4))
    print(f"upsample={up!s:5s}: output {tuple(a.shape)}, largest |StyleGAN2 - SSN| "
          f"{rounding((a - b).abs().max(), 1e-5)} (outputs of size {a.abs().mean():.2f})")

# %% [markdown]
# ## The up-sampling layer
#
# StyleGAN2 doubles the resolution inside the convolution: a stride-2
# transposed convolution with $w$ followed by the $[1, 3, 3, 1]$ blur (scaled
# by 4 for the zeros the stride inserts). Both are linear and act per channel
# pair, so together they are *one* stride-2 transposed convolution with the
# fused $6 \times 6$ kernel $W = \text{blur} * w$, and the derivation above goes
# through with $W$ in place of $w$: $\operatorname{Var} y =
# \operatorname{conv}^\top(s^2, W^2)$. A stride-2 transposed convolution,
# however, feeds each output pixel from one *phase* of $W$: the taps whose row
# and column parity matches the pixel's, nine of the 36. The four phases carry
# different energies, and none carries all of $\sum_k w_k^2$.
#
# In one dimension the blur is $[1, 3, 3, 1]/4$ (it sums to 2, the gain the
# inserted zeros took away), and every phase keeps one tap of each parity
# pair, $1/4$ and $3/4$, holding $1/16 + 9/16 = 5/8$ of the energy of a white
# signal. In two dimensions a phase keeps about $(5/8)^2 = 0.39$ of
# $\sum_k w_k^2$, and StyleGAN2, which divides by $(\sum_k w_k^2)^{1/2}$, leaves
# its up-sampled outputs with a variance of about 0.39, not 1.
#
# The SSN layer must choose. Unit variance would divide each phase by its own
# energy; exact StyleGAN2 equality for a constant style map needs StyleGAN2's
# divisor. Both cannot hold, since StyleGAN2's variance is not 1. `ssnlib`
# keeps the equality (transfer from StyleGAN2 depends on it): it rescales
# every phase of $W^2$ to sum to $\sum_k w_k^2$, so the output variance is
# StyleGAN2's per-phase level for any style map. The fused kernel of one
# channel pair of the shipped SSN's first up layer, its four phases, and the
# levels of all three up layers:

# %%
from ssnlib import zoo

G = zoo.load("faces32-ssn-ld100")
up_layers = {f"{4 * 2 ** (k // 2 + 1)} px": conv.conv
             for k, conv in enumerate(G.convs) if conv.conv.upsample}
rows = []
for name, up in up_layers.items():
    levels = dg.phase_levels(up)                                    # [O, 2, 2]
    rows.append([name, f"{levels.mean():.3f}", *(f"{v:.3f}" for v in levels.mean(0).flatten()),
                 f"{levels.amin():.2f} to {levels.amax():.2f}"])
plotting.show_table(["up layer to", "level", "phase 00", "phase 01", "phase 10", "phase 11",
                     "per output channel"], rows,
                    caption="phases by (row, column) parity of the output pixel")
wide = SpatiallyModulatedConv2d(256, 64, 3, upsample=True)         # white random weights
print(f"random 256 -> 64 up layer: level {dg.phase_levels(wide).mean():.3f}; "
      f"(5/8)^2 = {(5 / 8) ** 2:.4f}")

# %% tags=["hide-input"]
first = next(iter(up_layers.values()))
W = dg.fused_upsample_kernel(first)[0, 0]                           # one channel pair, 6x6
fig, axes = plotting.subplots(1, 5, height=2.7)
signed = axes[0].imshow(W, cmap="RdBu_r", vmin=-W.abs().max(), vmax=W.abs().max())
axes[0].set_title("W = blur * w")
for j, (a, b) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
    phase = torch.full_like(W, float("nan"))
    phase[a::2, b::2] = W[a::2, b::2] ** 2
    energy = axes[j + 1].imshow(phase, cmap="magma", vmin=0, vmax=float((W ** 2).max()))
    share = float((W[a::2, b::2] ** 2).sum() / (first.weight[0, 0] * first.scale).pow(2).sum())
    axes[j + 1].set_title(f"phase {a}{b}: {share:.2f}")
    print(f"phase {a}{b} of one channel pair holds {share:.2f} of its sum of w^2")
for ax in axes:
    ax.set(xticks=[], yticks=[])
fig.colorbar(signed, ax=axes[0], location="bottom", shrink=0.9, label="W")
fig.colorbar(energy, ax=axes[1:], location="bottom", shrink=0.5, label="$W^2$ (one scale)")
plotting.show(fig)

# %% [markdown]
# The three up layers of the shipped SSN sit at 0.389, 0.403 and 0.429, the
# four phases alike to within 0.01, single output channels between 0.27 and
# 0.53; a random layer with 256 inputs gives 0.389 against $(5/8)^2 =
# 0.3906$. The trained layers drift above the white-weight value at the
# higher resolutions: their kernels are not white noise. One channel pair's
# phases (the figure) hold 0.15 to 0.35 of its $\sum_k w_k^2$ each; averaged
# over many input channels the phases even out.
#
# With a real style map, the map of one sample of the shipped SSN, the level
# is met on average but not pixel by pixel: the variance is StyleGAN2's level
# exactly only where the phase energies agree across input channels. The ratio
# of the exact variance to the per-phase level at interior pixels of the first
# up layer (run on an $8 \times 8$ input, so that it has an interior):

# %%
gen = torch.Generator().manual_seed(0)
w_grid = G.mapping(G.sample_z(1, gen))
w_map = G.encoder(w_grid)                                           # [1, 64, 16, 16]


def up_first(h):
    return first(h, w_map.expand(h.shape[0], -1, -1, -1))


var_up = dg.jacobian_variance(up_first, (first.in_channels, 8, 8))  # [32, 16, 16]
levels = dg.phase_levels(first)
phase_of = dg.output_phases(var_up.shape[-2:])
ratio = torch.stack([var_up[o] / levels[o].flatten()[phase_of] for o in range(len(levels))])
inner = dg.interior(var_up.shape[-2:], 4)
print(f"Var y / StyleGAN2 level at interior pixels: mean {ratio[:, inner].mean():.3f}, "
      f"from {ratio[:, inner].min():.2f} to {ratio[:, inner].max():.2f}")

# %% [markdown]
# Averaged over the interior the ratio is 0.998, and pixel by pixel it ranges
# from 0.71 to 1.35: the up layer is exactly StyleGAN2 for a constant style
# map and follows StyleGAN2's level on average for any map, but where the
# style map favours input channels whose kernels keep more (or less) energy in
# a phase, the pixel comes out above (or below) it. The plain 3x3 layers have
# no phases and are exactly 1 at every interior pixel.
#
# ## The spatial encoder and its reach
#
# An SSN's style map comes from the latent grid $z$ (one block per cell): a
# per-block mapping network gives the w-grid, and the *spatial encoder*
# (`ssnlib.models.ssn.SpatialEncoder`, our design since the paper's is
# unpublished) turns it into a smooth w-map. It splits every block into $4
# \times 4$ cells, then applies a residual unit of two 3x3 convolutions, each
# reaching one cell, so a block's $w$ reaches 2 cells, half a block, past its
# own cells. Each layer then takes the w-map through its own 1x1 affine map
# (pixel by pixel: no wider) and resizes it to its resolution, bilinearly when
# enlarging and by area averaging when shrinking. How far does one block
# reach? `dg.style_footprint` computes, exactly by forward-mode
# differentiation, the norm of the Jacobian of the resized w-map with respect
# to the $w$ of one block, at every resolution of the shipped SSN;
# `dg.footprint_reach` measures how far past the block it is non-zero (above
# $10^{-6}$ of its peak; the pictures show $\log_{10}$ of the footprint over
# its peak, from $-4$, black, to 0, with the block outlined).

# %%
block = G.grid.index(1, 1)
sizes = {"w-map (16)": None, "4x4 layer": 4, "8x8 layer": 8, "16x16 layer": 16,
         "32x32 layer": 32}
print(f"encoder gain (0 = a plain nearest split): {float(G.encoder.gain[0]):.3f}")
footprints = {}
for name, size in sizes.items():
    fp = dg.style_footprint(G, w_grid, block, size)
    pixels, blocks = dg.footprint_reach(fp, G.grid, block)
    footprints[name] = (fp, blocks)
    print(f"{name:12s}: reaches {pixels} px past the block = {blocks:.3f} block")

# %% tags=["hide-input"]
fig, axes = plotting.subplots(1, len(sizes), height=2.2)
for ax, (name, (fp, blocks)) in zip(axes, footprints.items(), strict=True):
    im = ax.imshow(torch.log10(fp / fp.max() + 1e-12), cmap="magma", vmin=-4, vmax=0)
    bs = fp.shape[-1] / G.grid.n_w
    ax.add_patch(plt.Rectangle((bs - 0.5, bs - 0.5), bs, bs, fill=False, color="cyan", lw=1.5))
    ax.set_title(f"{name.split(' ')[0]}\n{blocks:.3f} block", fontsize=10)
    ax.set(xticks=[], yticks=[])
fig.colorbar(im, ax=axes, shrink=0.8, label="$\\log_{10}$ (footprint / peak)")
plotting.show(fig)

# %% [markdown]
# The trained encoder's gain is 0.351, so its convolutions are in use. In the
# w-map one block reaches 2 cells, 0.5 block, past its own cells, as
# designed. The layers see that through their resize. At 8x8 (area averaging
# of 2x2 cells) and 16x16 (the w-map itself) it stays at 0.5 block; at 32x32
# the bilinear enlargement adds a pixel, 5 px = 0.625 block. The 4x4 layer is
# the odd one: area averaging turns each block's $4 \times 4$ cells into one
# pixel, so the two cells the encoder touched in a neighbour move the
# neighbour's *whole* pixel: a reach of a whole block (the encoder's
# docstring in `ssnlib/models/ssn.py` says so). We keep the design: at
# $4 \times 4$ a pixel is
# a block, and the layer's own 3x3 convolution mixes neighbouring blocks in
# one step anyway, so the pooling adds no reach the layer did not have. What
# the synthesis network spreads further is the distortion regulariser's
# business (eq. 2).
#
# ## The cost
#
# Eq. 1 is not free. StyleGAN2 demodulates the *weights*, once per sample: a
# few operations per weight. The SSN computes $\sigma_E$ at every pixel, by a
# second convolution the size of the layer's own (plain 3x3 layers), or with
# the $6 \times 6$ variance kernel, four times larger, in up-sampling layers.
# `dg.layer_flops` counts every part of one layer for one image (a
# multiply-add counts 2; `tests/test_diagnostics.py` holds the convolution
# parts equal to PyTorch's own FLOP counter). Two layers at the paper's 256 px
# widths, 512 channels and a $16 \times 16$ w-map:

# %%
settings = {"3x3 at 64 px": (False, 64), "up 32 -> 64 px": (True, 32)}
groups = {"convolution": ["convolution"], "sigma_E": ["sigma_E"],
          "the rest": ["affine", "resize", "modulate", "demodulate", "normalise"]}
costs = {}
for name, (up, size) in settings.items():
    rows = []
    ssn = SpatiallyModulatedConv2d(512, 512, 3, style_dim=512, upsample=up)
    sg2 = ModulatedConv2d(512, 512, 3, 512, upsample=up)
    costs[name] = {"StyleGAN2": dg.layer_flops(sg2, size),
                   "SSN, exact": dg.layer_flops(ssn, size, style_size=16),
                   "SSN, fast": dg.layer_flops(ssn, size, style_size=16, fast=True)}
    for label, parts in costs[name].items():
        group = [f"{sum(parts[m] for m in members if m in parts) / 1e9:.3f}"
                 if any(m in parts for m in members) else "-" for members in groups.values()]
        ratio = f"{parts['sigma_E'] / parts['convolution']:.2f}" if "sigma_E" in parts else "-"
        rows.append([label, f"{sum(parts.values()) / 1e9:.2f}", *group, ratio])
    plotting.show_table(["model", "total", *groups, "sigma_E / convolution"], rows,
                        caption=f"{name}: GFLOP per image, 512 channels, a 16x16 w-map")
print("the rest: affine, resize, modulate, demodulate, normalise")

# %% tags=["hide-input"]
fig, axes = plotting.subplots(1, 2, height=3.2)
for ax, (name, by_model) in zip(axes, costs.items(), strict=True):
    for j, parts in enumerate(by_model.values()):
        bottom = 0.0
        for c, (group, members) in enumerate(groups.items()):
            value = sum(parts.get(m, 0) for m in members) / 1e9
            ax.bar(j, value, bottom=bottom, color=f"C{c}", label=group if j == 0 else None)
            bottom += value
    ax.set_xticks(range(3), [lbl.replace(", ", "\n") for lbl in by_model])
    ax.set(title=name, ylabel="GFLOP per image")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
plotting.show(fig)

# %% [markdown]
# A plain 3x3 layer at 64 px costs StyleGAN2 19.34 GFLOP, nearly all of it the
# convolution; the exact SSN layer costs 38.82, because $\sigma_E$ (19.334) is
# a second convolution of the same size (ratio 1.00). In the up-sampling
# layer $\sigma_E$ (24.804) is 5.06 times the convolution: the
# variance kernel is $6 \times 6$ against the transposed convolution's $3 \times
# 3$ (four times the taps), on $s^2$ padded by two pixels a side. The rest, the affine map at the
# w-map's $16 \times 16$, the resize, the modulation and the division, is
# below 0.2 GFLOP in every case. The fast mode computes $\sigma_E$ in 2.194
# and 0.939 GFLOP.
#
# ## Exact and fast $\sigma_E$
#
# The engine has a fast path: `SpatiallyModulatedConv2d(...,
# sigma_mode="fast")`. It factors each output channel's variance kernel,
# $w_{o,i,k}^2 \approx \big(\sum_{k'} w_{o,i,k'}^2\big)\, m_{o,k}$, with $m_o$ the
# channel's tap profile averaged over its inputs. The sum over input channels
# then runs once, as a 1x1 convolution at the input's resolution, and the taps
# as one depthwise convolution. The factorisation is exact where the style map
# is constant over the kernel's window (so a fast SSN still starts as
# StyleGAN2) and approximate elsewhere. A fast layer uses it from 64 px on
# (`fast_from`); the default mode is exact, and the shipped 32 px models run
# eq. 1 exactly either way. How large is
# the error? The cell compares the fast $\sigma_E$ with the exact one on the
# style map of one sample at every layer of the shipped SSN (calling the fast
# formula below its threshold), then on two layers at the paper's widths.

# %%
print(f"fast sigma_E from {SpatiallyModulatedConv2d.fast_from} px on (below, 'fast' is exact)")
rows = []
for k, conv in enumerate([G.conv1] + list(G.convs)):
    lay = conv.conv
    size = 4 if k == 0 else 4 * 2 ** ((k + 1) // 2) // (2 if lay.upsample else 1)
    s = lay.style_map(torch.zeros(1, lay.in_channels, size, size), w_map)
    w = lay.weight * lay.scale
    exact = lay.sigma_e_squared(s.pow(2), w, fast=False).sqrt()
    fast = lay.sigma_e_squared(s.pow(2), w, fast=True).sqrt()
    err = ((fast - exact).abs() / exact).flatten()
    name = f"{exact.shape[-1]}x{exact.shape[-1]}" + (" up" if lay.upsample else "")
    rows.append((name, float(err.median()), float(err.max())))
plotting.show_table(["layer", "median", "worst pixel"],
                    [[name, f"{med:.2%}", f"{worst:.2%}"] for name, med, worst in rows],
                    caption="relative error of fast sigma_E, the shipped SSN's layers")

# the paper's widths: 512 channels at 64 px, random weights, a smooth random style map
torch.manual_seed(0)
smooth = F.interpolate(torch.randn(1, 64, 4, 4, generator=torch.Generator().manual_seed(2)),
                       size=(16, 16), mode="bilinear")
for up, size in ((False, 64), (True, 32)):
    lay = SpatiallyModulatedConv2d(512, 512, 3, style_dim=64, upsample=up)
    with torch.no_grad():
        s = lay.style_map(torch.zeros(1, 512, size, size), smooth)
        w = lay.weight * lay.scale
        exact = lay.sigma_e_squared(s.pow(2), w, fast=False).sqrt()
        fast = lay.sigma_e_squared(s.pow(2), w, fast=True).sqrt()
    err = ((fast - exact).abs() / exact).flatten()
    print(f"512 channels, {'up to ' if up else ''}64x64, random weights: median "
          f"{err.median():.2%}, worst pixel {err.max():.2%}")

# %% [markdown]
# On the shipped 32-channel model the fast $\sigma_E$ is off by 0.33 % to 1.62 %
# at the median pixel and by up to 9.68 % at the worst one: with few input
# channels the profiles $m_o$ are poor averages, and these resolutions keep the
# exact formula. With 512 input channels the error falls to 0.07 % (median)
# and 0.64 % (worst pixel) for the plain layer at 64 px and 0.11 % and 1.13 %
# for the up layer, with random weights; a trained wide model's profiles may
# agree better or worse, which only such a model (not in the zoo yet) can
# tell.
#
# ## Summary
#
# - Eq. 1 divides by the standard deviation the output would have for i.i.d.
#   unit-variance input, $\sigma_E = \sqrt{\operatorname{conv}(s^2, w^2)}$: unit
#   variance at every interior pixel for any style map, StyleGAN2's layer for a
#   constant one, and nothing a spike in the features could exploit.
# - The up-sampling layer follows StyleGAN2's per-phase level, about
#   $(5/8)^2$, rather than 1: the price of starting exactly from StyleGAN2.
# - A latent block reaches half a block past itself in the w-map, a little
#   more at full resolution, and a whole block at the coarsest layer; the
#   distortion regulariser (eq. 2) handles the rest.
# - $\sigma_E$ roughly doubles a plain layer's cost and multiplies an
#   up-sampling layer's several times; the factored fast mode removes most of
#   that.
#
# **Exercise.** (a) For a 1x1 spatially modulated convolution, what is
# $\sigma_E$, and what is the output variance at a *border* pixel? (b) Show
# that a 1x1 layer with demodulation is StyleGAN2's modulated 1x1 convolution
# applied at each pixel with that pixel's own style. (c) Why does a 3x3 layer
# lose this at its borders, and would padding $h$ by replication instead of
# zeros fix it?
#
# :::{admonition} Answer
# :class: dropdown
#
# (a) With one tap, $\sigma_E^2(p) = \sum_i w_{o,i}^2 s_i(p)^2$: only the style
# at $p$ itself enters. The output at $p$ depends on $h(p)$ alone, which is
# never padding, so its variance is exactly 1 at *every* pixel, border
# included. (b) At pixel $p$ the layer computes $\sum_i w_{o,i} s_i(p) h_i(p)
# / (\sum_i w_{o,i}^2 s_i(p)^2)^{1/2}$, which is StyleGAN2's modulated and
# demodulated 1x1 weight $w_{o,i} s_i / (\sum_i (w_{o,i} s_i)^2)^{1/2}$ with the
# style vector $s(p)$, applied to $h(p)$. (c) A 3x3 output at the border takes
# taps from outside the image, where $h$ is zero, so the numerator loses
# those terms while $\sigma_E$ (with replicated $s^2$) still counts them.
# Replicating $h$ instead would not help: the copies are the *same* random
# values as the edge, so the terms are no longer independent and the variance
# is not $\operatorname{conv}(s^2, w^2)$ either (it can exceed 1). The cell
# below checks (a) on a rough style map.
# :::

# %% tags=["hide-cell"]
one = SpatiallyModulatedConv2d(8, 4, 1)
rough = maps["rough"]
var_one = dg.jacobian_variance(lambda h: one(h, rough.expand(h.shape[0], -1, -1, -1)),
                               (8, 16, 16))
print(f"1x1 layer, rough map: variance from {var_one.min():.4f} to {var_one.max():.4f}, "
      f"border included")
