# %% [markdown]
# # 5. The distortion regulariser
#
# Chapter 4 built a generator that *can* resample one block of its image; nothing in a GAN's
# loss asks it to keep the rest of the image still. The paper adds one term for that, the
# distortion regulariser $R_D$ of its eq. 2, weighted by $\lambda_D$ (section 3.3). This
# chapter reads eq. 2 term by term, checks our estimator of it against the double sum on a
# shipped model, and then looks at what the regulariser does: where a resample's change lands,
# how our Table 2 trades quality for locality, what a click on a block does at
# $\lambda_D = 0$ and $\lambda_D = 100$, whether resampling one block again and again makes
# anything else drift, and what a *graded* resample does between no change and a full one.
#
# **Learning goals**
#
# - derive eq. 2 from chapter 1's LDBR cost with the reparameterisation trick;
# - write eq. 2's double sum and our per-pixel-mean estimator, and derive the exact factor
#   between them (`ssnlib.losses.eq2_factor`); say why a per-pixel mean keeps $\lambda_D$'s
#   meaning across resolutions;
# - compare the uniform (`outside`) and distance-weighted (`radial`) weightings of the
#   change outside the block, and read a distance profile of the change;
# - read Table 2 and the quality/distortion trade-off, with the share of a resample's energy
#   that stays in its block, and see the path length fall as $\lambda_D$ rises;
# - prove that blocks which do not move each other are uncorrelated (the price of
#   consistency), and read whether a run cut its leak by locality or by drawing less;
# - bound the leak itself from below, and measure on labelled data what a global latent,
#   one that no block resample touches, would take off eq. 2's bill; train one, and see why
#   eq. 2 alone lets it empty the blocks and the share penalty keeps them at work, and
#   measure the seams a share leaves at the block borders;
# - separate what eq. 2 costs from what its noisy estimate costs, on skylines and on faces,
#   and widen a trained network without changing what it draws (`ssn widen`);
# - check two properties that the latent grid gives for free: repeated resamples of one block
#   do not accumulate change elsewhere, and a graded resample keeps the block's law N(0, I).

# %%
import math
import re

import numpy as np
import torch
import yaml
from matplotlib.patches import Rectangle

from ssnlib import plotting, zoo
from ssnlib.blocks import BlockGrid
from ssnlib.losses import distortion_penalty, distortion_weights, eq2_factor

torch.set_num_threads(1)   # small work: one thread is as fast and leaves cores free
plotting.use_book_style()  # fonts and figure widths that read well in the book

# %% [markdown]
# ## From the LDBR cost to eq. 2
#
# Chapter 1 stated the LDBR problem for any resampling rule: minimise the total distortion
# $\sum_a \mathcal D_a(P^a)$, where
#
# $$\mathcal D_a(P^a) = \mathbb E_{y \sim P}\ \mathbb E_{y' \sim P^a(\cdot \mid y)}
#   \sum_{b \ne a} D(y_b, y'_b),$$
#
# subject to the rule being a block-resampling of $P$. An SSN fixes the rule. Its image is
# $y = g(z)$ with independent latent blocks, and resampling block $a$ redraws that block only:
# write $z^a(z, z')$ for $z$ with block $a$ replaced by the block $z'_a$ of a fresh draw $z'$
# (every other block kept), so that $y' = g(z^a(z, z'))$. Chapter 1 showed that such a rule is
# a block-resampling of the generator's own law by construction; the constraint becomes "the
# generator's law is $P$", which is the adversarial loss's job. What is left to minimise is
# the cost.
#
# The *reparameterisation trick* turns that cost into something a gradient can reach. Both
# draws are deterministic functions of the network and of noise that does not depend on it:
# $y \sim P$ becomes $g(z)$ with $z \sim \mathcal N(0, I)$, and $y' \sim P^a(\cdot \mid y)$
# becomes $g(z^a(z, z'))$ with $z' \sim \mathcal N(0, I)$ (the rule acts on $z$, which an
# SSN keeps for every image it makes). Substituting, and moving the sum over $a$ inside the
# expectation,
#
# $$\begin{aligned}
#   \sum_a \mathcal D_a(P^a) &= \mathbb E_{z, z'} \Big[ \sum_a \sum_{b \ne a}
#   D\big(g(z)_b,\ g(z^a(z, z'))_b\big) \Big] \\
#   &= R_D(g),
# \end{aligned}$$
#
# which is the paper's eq. 2, writing $g(\cdot)_b$ for block $b$ of an image. Because the
# expectation is over $z, z'$ alone, its gradient with respect to the generator's weights
# is the expectation of the gradient: one $(z, z')$ per training sample gives an unbiased
# estimate. Training minimises the adversarial loss plus $\lambda_D R_D(g)$: the first term
# pulls the law towards $P$ (the constraint), the second pulls the cost down, and
# $\lambda_D$ sets the exchange rate between them, which Table 2 below measures.
#
# ## Eq. 2 and our estimator
#
# The regulariser sums a divergence $D$ over every resampled block $a$ and every *other*
# block $b$.
#
# The paper names two choices of $D$, "the Euclidean distance between pixels or the Earth
# Mover's distance", trains with the first, and in its conclusion calls pixel MSE "a priori a
# terrible choice" next to the Earth Mover's distance or MSE on feature spaces (section 6).
# We follow its experiments, with pixel MSE. Our estimator
# (`ssnlib.losses.distortion_penalty`) draws one block $a$ uniformly per sample and takes the
# mean squared change over the pixels outside it,
#
# $$\hat R_D = \mathbb E_{z, z', a} \Big[ \frac{1}{|\bar J_a|} \sum_{p \notin J_a}
#   \frac{1}{C} \sum_c \big(g(z) - g(z^a)\big)_{c,p}^2 \Big] ,$$
#
# with $J_a$ the pixels of block $a$, $\bar J_a$ the others and $C = 3$ channels. On a grid of
# $n$ equal blocks of $P$ pixels, $|\bar J_a| = (n-1)P$, so for one $z$ and $z'$ the inner
# mean is $\frac{1}{n-1}\sum_{b \ne a} \mathrm{MSE}_b$, and averaging over $a$ divides by $n$:
#
# $$\begin{aligned}
#   \textstyle\sum_a \sum_{b \ne a} D_b &= c\ \mathbb E_a[\hat R_D], \\
#   c &= n(n-1) && \text{for } D_b = \mathrm{MSE}_b, \\
#   c &= n(n-1)\,P\,C && \text{for } D_b = \textstyle\sum_{p \in J_b, c} (\Delta_{c,p})^2 .
# \end{aligned}$$
#
# `eq2_factor` returns $c$; below it is checked on a shipped model for one $z$: our
# estimator over all 16 blocks $a$ (each with the same fresh $z'$), times $c$, against the
# double sum written out as a loop.

# %%
grid32, grid256 = BlockGrid(4, 4, 32, 32), BlockGrid(4, 4, 256, 256)
print(f"4x4 grid, D = per-block MSE:         c = {eq2_factor(grid32):,}")
print(f"4x4 grid, D = summed squares, 32 px:  c = "
      f"{eq2_factor(grid32, divergence='block_sse'):,}")
print(f"4x4 grid, D = summed squares, 256 px: c = "
      f"{eq2_factor(grid256, divergence='block_sse'):,}")

G = zoo.load("faces32-ssn-ld100-outside")
grid, n = G.grid, G.grid.n_blocks
gen = torch.Generator().manual_seed(0)
z, fresh, noise = G.sample_z(1, gen), G.sample_z(1, gen), G.make_noise(1, gen)
with torch.no_grad():
    ours = float(distortion_penalty(G, z, noise, resamples=n, blocks=torch.arange(n),
                                    z_fresh=fresh.repeat(n, 1, 1, 1)))
    base = G(z, noise=noise).double()
    double_sum = {"block_mse": 0.0, "block_sse": 0.0}
    for a in range(n):
        z_a = torch.where(grid.latent_mask(a), fresh, z)          # block a from z'
        sq = (G(z_a, noise=noise).double() - base).square()       # [1, 3, 32, 32]
        for b in range(n):
            if b != a:
                top, left, bottom, right = grid.box(b)
                block = sq[..., top:bottom, left:right]
                double_sum["block_mse"] += float(block.mean())
                double_sum["block_sse"] += float(block.sum())
print(f"\nfaces32-ssn-ld100-outside, one z: our estimator over all a = {ours:.6f}")
for divergence, total in double_sum.items():
    scaled = ours * eq2_factor(grid, divergence=divergence)
    print(f"  D = {divergence}: c x estimator = {scaled:.5g}, double sum = {total:.5g}, "
          f"equal to 1e-5: {math.isclose(scaled, total, rel_tol=1e-5)}")

# %% [markdown]
# The two agree to float32 precision, so $\lambda_D$ in our configs is the paper's
# $\lambda_D$ up to that factor, *if* the paper's $D$ was one of these two. Why a mean
# rather than a sum? A penalty that sums over pixels grows with the resolution: the same
# picture at 256 px has 64 times the pixels of its 32 px version, so a summed $R_D$ is 64
# times larger and the same $\lambda_D$ would mean a 64 times stronger regulariser. The same
# holds for the grid, through $n(n-1)$. A per-pixel mean is the same number for the same
# picture at any size, so a $\lambda_D$ found at one resolution means the same at another:

# %%
with torch.no_grad():
    z_5 = torch.where(grid.latent_mask(5), fresh, z)
    pair = torch.cat([base.float(), G(z_5, noise=noise)])          # [2, 3, 32, 32]
big = torch.nn.functional.interpolate(pair, scale_factor=8, mode="nearest")  # [2, 3, 256, 256]
outside32, outside256 = ~grid.block_mask(5), ~grid256.block_mask(5)
for label, p, out in (("32 px", pair, outside32), ("256 px", big, outside256)):
    sq = (p[1] - p[0]).square().mean(0)[out]
    print(f"block 5 resampled, {label:6s}: mean squared change outside {float(sq.mean()):.5f}"
          f", summed {float(sq.sum()):9.2f}")

from ssnlib.zoo import results, runs

print(f"values in a 256 px RGB image: {3 * 256 * 256:,}")
print("\nthe paper's Table 2, lambda_D x distortion:")
for lam, (_, _, dist_p) in sorted(results.PAPER_TABLE2.items())[1:]:
    print(f"  lambda_D = {lam:>5}: {lam} x {dist_p} = {lam * dist_p:.3g}")

# %% [markdown]
# In the paper's Table 2, $\lambda_D$ times the distortion stays of order one (0.03 to 1) for
# $\lambda_D$ from 1 to $10^4$: a balance that a per-pixel mean gives and a sum over the
# 196,608 values of a 256 px image does not. Our reading, which the paper does not state: its
# $\lambda_D$ is our $\lambda_D$ and its distortion column a mean squared change outside the
# block (its pixel range, $[0, 1]$ or $[-1, 1]$, is a factor 4 we cannot pin down).
#
# ## Outside or radial: how the change outside is weighted
#
# Eq. 2 counts every block $b \ne a$ alike. `distortion_penalty` has a second mode that we
# studied: `radial` weights a pixel outside the block by its distance $d_a(p)$ from the block
# (in block units, `BlockGrid.distance_map`), normalised to average 1 outside,
#
# $$\begin{gathered}
#   m_a(p) = \frac{d_a(p)}{\operatorname{mean}_{q \notin J_a} d_a(q)} \quad (p \notin J_a), \\
#   m_a(p) = 1 \text{ in mode } \texttt{outside} .
# \end{gathered}$$
#
# A change right next to the block (a new hat casts a new shadow) is nearly free; a change at
# the far side of the image costs up to about two and a half times the uniform weight. Both
# modes cost the same for a change spread evenly outside the block. The weight maps for a
# corner block and an inner one:

# %%
blocks_shown = [0, 5]
maps = distortion_weights(grid, torch.tensor(blocks_shown), "radial")[:, 0]   # [2, 32, 32]
for a, m in zip(blocks_shown, maps, strict=True):
    out = ~grid.block_mask(a)
    print(f"block {a}: radial weight outside from {float(m[out].min()):.2f} to "
          f"{float(m[out].max()):.2f}, mean {float(m[out].mean()):.2f}")

# %% tags=["hide-input"]
fig, axes = plotting.subplots(1, 2, height=3.3, width=6.0)
for ax, a, m in zip(axes, blocks_shown, maps, strict=True):
    im = ax.imshow(m, cmap="viridis", vmin=0, vmax=float(maps.max()))
    top, left, bottom, right = grid.box(a)
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False,
                           ec="red", lw=2))
    ax.set(title=f"radial weights, block {a}", xticks=[], yticks=[])
fig.colorbar(im, ax=axes, shrink=0.85, label="weight $m_a(p)$")
plotting.show(fig)

# %% [markdown]
# **Train with the weighting you score with.** The metric (the manifests' `distortion`,
# `ssnlib.metrics.distortion_and_locality`) counts every pixel outside the block alike, as eq.
# 2 does. The zoo holds two sweeps: the `-outside` models ($\lambda_D$ = 10, 100 on two
# seeds, 300 and 1000) train with that same uniform weighting, eq. 2 as written; the models
# without a suffix train with the `radial` weighting, the alternative we studied, and so
# are scored by a metric that is not their training objective. Each model's weighting,
# read from its `config.yaml`:

# %%
sweep = {lam: f"faces32-ssn-ld{lam}" for lam in (0, 10, 100, 300, 1000)}       # radial
uniform = {lam: f"faces32-ssn-ld{lam}-outside" for lam in (10, 100, 300, 1000)}  # eq. 2
for name in [*sweep.values(), *uniform.values()]:
    reg = yaml.safe_load((zoo.model_dir(name) / "config.yaml").read_text())["reg"]
    print(f"{name:26s} trained with lambda_D = {reg['distortion_weight']:6g}, "
          f"mode {reg['distortion_mode']}")
ROOT = zoo.zoo_dir().parents[1]
recipe = yaml.safe_load((ROOT / "configs/zoo/faces32.yaml").read_text())["reg"]
print(f"the zoo recipe, configs/zoo/faces32.yaml: mode {recipe['distortion_mode']}")

# %% [markdown]
# What the two weightings ask for shows in *where* the change lands. For $\lambda_D = 0$
# and for 100 and 1000 in both modes we resample every block of 32 samples in turn
# (`distance_profile` of `ssnlib.resample.profile`, the same draws as the distortion
# metric) and bin the change per pixel by its distance from the resampled block: inside,
# then rings of 0-0.5, 0.5-1, 1-2 and more than 2 block widths.
# The rows give the mean squared change per pixel in each ring, each ring's share of all
# the squared change, the change relative to $\lambda_D = 0$, each ring's share of the
# image and the mean radial weight its pixels carry in training.

# %%
from ssnlib.resample.profile import distance_bins, distance_profile

studied = {"0": sweep[0], "100 radial": sweep[100], "1000 radial": sweep[1000],
           "100 outside": uniform[100], "1000 outside": uniform[1000]}
profiles = {key: distance_profile(zoo.load(name), 32, seed=0) for key, name in studied.items()}
labels = profiles["0"].labels
bins = torch.stack([distance_bins(grid, a) for a in range(n)])                 # [16, 32, 32]
radial = distortion_weights(grid, torch.arange(n), "radial")[:, 0]             # [16, 32, 32]
ring_weight = [float(radial[bins == k].mean()) for k in range(len(labels))]
header = ["λ_D", *labels]
plotting.show_table(header, [["share of the pixels", *(f"{v:.3f}" for v in
                                                        profiles["0"].pixel_share)],
                             ["radial weight", *(f"{v:.2f}" for v in ring_weight)]],
                    caption="the rings: distance from the block, in block widths")
plotting.show_table(header, [[key, *(f"{v:.4f}" for v in prof.mean_sq)]
                             for key, prof in profiles.items()],
                    caption="mean squared change per pixel")
plotting.show_table(header, [[key, *(f"{v:.4f}" for v in prof.energy_share)]
                             for key, prof in profiles.items()],
                    caption="share of the squared change")
plotting.show_table(header, [[key, *(f"{v / v0:.2f}" for v, v0 in
                                     zip(prof.mean_sq, profiles["0"].mean_sq, strict=True))]
                             for key, prof in list(profiles.items())[1:]],
                    caption="squared change relative to λ_D = 0")

# %% tags=["hide-input"]
fig, (left, right) = plotting.subplots(1, 2, height=3.7)
x = np.arange(len(labels))
style = {"0": ("k", "o", "-"), "100 radial": ("C0", "o", "-"), "1000 radial": ("C1", "o", "-"),
         "100 outside": ("C0", "D", "--"), "1000 outside": ("C1", "D", "--")}
for key, prof in profiles.items():
    colour, marker, line = style[key]
    left.errorbar(x, prof.mean_sq, yerr=prof.mean_sq_se, color=colour, marker=marker, ls=line,
                  ms=4, capsize=2, label=rf"$\lambda_D$ = {key}")
    if key != "0":
        right.plot(x[1:], np.array(prof.mean_sq[1:]) / np.array(profiles["0"].mean_sq[1:]),
                   color=colour, marker=marker, ls=line, ms=4)
right.plot(x[1:], np.array(ring_weight[1:]) / 3, "k:", label="radial weight / 3")
left.set(yscale="log", ylabel="mean squared change", title="change by distance")
right.set(yscale="log", ylabel=r"relative to $\lambda_D$ = 0",
          title="what the penalty removed")
for ax in (left, right):
    ax.set_xticks(x, labels)
    ax.set_xlabel("distance from the block (block widths)")
    ax.grid(alpha=0.3)
right.set_xlim(left.get_xlim())
handles = [*left.get_legend_handles_labels()[0], *right.get_legend_handles_labels()[0]]
names = [*left.get_legend_handles_labels()[1], *right.get_legend_handles_labels()[1]]
fig.legend(handles, names, loc="outside lower center", ncols=3)
plotting.show(fig)

# %% [markdown]
# Read the right panel from left to right, solid lines first. Trained radially,
# $\lambda_D = 100$ leaves the ring next to the block as it was (ratio 1.02) and takes half
# or more of the change beyond it (0.51, 0.43, 0.39); radial $\lambda_D = 1000$ keeps 29 % of
# the near ring and almost nothing beyond two block widths. That is the radial weighting at
# work: it charges the near ring little (mean weight 0.19) and the far one most (1.55), and
# the more weight a ring carries, the more of its change is gone.
#
# The dashed lines are the same $\lambda_D$ trained with eq. 2's uniform weights, and they
# do what the weighting predicts. At $\lambda_D = 100$ the near ring, 12 % of the image and
# the ring with the most change outside, now loses 61 % of its change (ratio 0.39 against
# 1.02), and every farther ring loses more than under radial training (0.18, 0.17, 0.14),
# because every ring now costs the same per pixel. At $\lambda_D = 1000$ the near ring keeps
# 10 % (radial: 29 %). Inside the block the change stays near the unregularised level (1.13
# and 0.94 times; radial training raised it 1.54 and 1.40 times). So of all the squared
# change a resample makes, the share inside the block grows from 26 % without the penalty to
# 46 % (radial) and 62 % (uniform) at $\lambda_D = 100$, and to 81 % and 90 % at 1000.
#
# ## Table 2 and the trade-off
#
# Our Table 2 comes from the zoo's manifests through `ssnlib.zoo.results`, beside the paper's
# numbers for the same $\lambda_D$ (FFHQ at 256 px; the scales differ, compare orderings).
# The manifests' distortion is the uniform outside mean over 1000 samples. Every
# experiment of the paper starts from a trained StyleGAN2 (its section 3.4), so at each
# $\lambda_D$ the rows trained that way come first: the StyleGAN2 turned into an SSN by
# `ssn transfer` (chapter 6), then trained on with $\lambda_D$ = 0 and 100 for the same
# 40 000 images, on two seeds. The other rows start from fresh weights, a comparison the
# paper does not make.

# %%
ms = [m for m in results.models() if m["training"]["dataset"] == "faces"]


def order(m: dict) -> tuple:
    """StyleGAN2 first, then by lambda_D; the paper's way (from StyleGAN2) first within one."""
    return (m["model"]["arch"] != "stylegan2", m["model"]["arch"] == "spade",
            m["training"]["lambda_D"], results.start(m) != "transfer", results.label(m))


rows = []
for m in sorted(ms, key=order):
    arch, lam = m["model"]["arch"], m["training"]["lambda_D"]
    paper = {"ssn": results.PAPER_TABLE2.get(int(lam)),
             "stylegan2": results.PAPER_TABLE1["faces"]["stylegan2"]}.get(arch)
    ssn = arch != "stylegan2"
    rows.append([results.label(m), f"{results.score(m, 'fid'):.1f}",
                 f"{results.score(m, 'distortion'):.4f}" if ssn else "N/A",
                 f"{results.score(m, 'locality', 'leak_ratio'):.3f}" if ssn else "N/A",
                 f"{paper[0]:.1f}" if paper else "-",
                 f"{paper[2]:.4f}" if paper and ssn else ("N/A" if paper else "-")])
seen = {m["training"]["images_seen"] for m in ms}
counts = {m["metrics"]["distortion"]["count"] for m in ms if "distortion" in m["metrics"]}
plotting.show_table(["model", "FID", "distortion", "leak", "paper FID", "paper distortion"],
                    rows, caption=f"faces, {', '.join(f'{s:,}' for s in seen)} training images "
                                  f"per model; distortion from {', '.join(map(str, counts))} "
                                  "samples")

# %% [markdown]
# We hold $\lambda_D = 100$ against $\lambda_D = 0$ to targets modelled on what the paper's
# Table 2 shows at that $\lambda_D$: a distortion cut of at least 5 times, an FID rise of at
# most 30 %, and, our own addition, at least 70 % of a resample's squared change (its
# energy) inside the block. Each $\lambda_D > 0$ model is compared with the $\lambda_D = 0$
# model of its own seed and start (`results.baseline`), since two seeds of one recipe differ
# more than some of the effects we look for.

# %%
plotting.show_table(
    ["model", "target", "ratio", "met"],
    [[check["models"][0], check["what"].replace("lambda_D", "λ_D"), f"{check['ratio']:.2f}",
      {True: "yes", False: "no", None: "not measured"}[check["pass"]]]
     for check in results.target_checks(ms)],
    caption="the targets, each model against the λ_D = 0 model of its own seed and start")
rows = []
for m in sorted(ms, key=order):
    if m["model"]["arch"] != "ssn" or m["training"]["lambda_D"] == 0:
        continue
    base = results.baseline(ms, m)
    rows.append([m["name"], base["name"],
                 f"{results.score(base, 'distortion') / results.score(m, 'distortion'):.2f}",
                 f"{results.score(m, 'fid') / results.score(base, 'fid'):.2f}"])
plotting.show_table(["model", "against", "distortion cut", "FID ratio"], rows)

# %% [markdown]
# The locality columns of the same manifests, from the same 1000 samples: the share of a
# resample's squared change that stays inside its block (`energy_inside`: 1/16 = 0.0625 for
# a change spread over the whole image, 1 for a perfectly local one), the mean squared change
# inside, and the radially weighted distortion beside the uniform one. The share inside here
# is not the profile's "inside" share above, and the two differ on purpose: `energy_inside`
# is the mean over resamples of each resample's own share, while the profile pools the
# squared change of all its resamples before dividing, so a resample counts there in
# proportion to its size. Where resamples are alike in size the two agree (0.6238 in the
# profile, 0.625 here, for $\lambda_D = 100$ with eq. 2's weighting); where a few large
# resamples carry much of the change they part (0.2647 against 0.372 at $\lambda_D = 0$:
# the large ones spread further). The targets use `energy_inside`.

# %%
rows = []
for m in sorted(ms, key=order):
    if m["model"]["arch"] == "stylegan2":
        continue
    loc, dist = m["metrics"]["locality"], m["metrics"]["distortion"]
    rows.append([m["name"], f"{loc['energy_inside']:.3f} ± {loc['energy_inside_se']:.3f}",
                 f"{loc['inside']:.4f}", f"{dist['distortion']:.4f}",
                 f"{dist['distortion_radial']:.4f}",
                 f"{dist['distortion_radial'] / dist['distortion']:.2f}"])
plotting.show_table(["model", "energy inside", "inside", "distortion", "radial",
                     "radial / uniform"], rows)

# %% [markdown]
# These are measured by `distortion_and_locality`, whose building block `block_changes`
# returns, for every sample and block, the mean squared change inside the block, outside it
# and outside with radial weights. Recomputed here from it on the metric's first 64 draws of
# the uniformly trained $\lambda_D = 100$ model: the block's $P$ pixels count inside, the
# $(n-1)P$ pixels of the other blocks outside.

# %%
from ssnlib.metrics import block_changes
from ssnlib.metrics.sampling import draw

m100 = {m["name"]: m for m in ms}[uniform[100]]
G100 = zoo.load(uniform[100])
(z64, z64_fresh), noise64, _ = draw(G100, range(64), 0, n_latents=2)   # the metric's draws
inside, outside, radial_out = block_changes(G100, z64, noise64, z64_fresh)    # [64, 16]
share = (inside / (inside + (n - 1) * outside)).mean(1)                        # [64]
print(f"64 samples:   energy inside {float(share.mean()):.3f} +- {float(share.std() / 8):.3f}, "
      f"distortion {float(outside.mean()):.4f}, radial {float(radial_out.mean()):.4f}")
print(f"1000 samples: energy inside {m100['metrics']['locality']['energy_inside']:.3f} +- "
      f"{m100['metrics']['locality']['energy_inside_se']:.3f}, distortion "
      f"{results.score(m100, 'distortion'):.4f}, radial "
      f"{results.score(m100, 'distortion', 'distortion_radial'):.4f}")

# %% [markdown]
# The trade-off as a picture, ours beside the paper's (`results.draw_pareto`, the figure of
# the zoo's RESULTS.md). Each of our curves runs through the mean of the seeds shipped at
# each $\lambda_D$; the faint open markers are the single runs.

# %% tags=["hide-input"]
fig, (ax, bx) = plotting.subplots(2, 1, height=7.0)     # stacked: each panel full width
results.draw_pareto(ax, bx, ms)
plotting.show(fig)

# %% [markdown]
# Both panels run the same way: a larger $\lambda_D$ buys a lower distortion with a higher
# FID. Ours is shorter and noisier. Two seeds of the unregularised recipe score FID 26.7
# and 36.8 (38 % apart) with the same distortion, 0.0153, so FID differences smaller than
# that say little, while distortion is measured to about 1 %.
#
# - **The weighting.** Trained radially, $\lambda_D = 100$ cut distortion 1.69 times;
#   trained with eq. 2's uniform weights it cuts 4.13 and 4.15 times on two seeds (green),
#   as much as the radial $\lambda_D = 300$. Uniform $\lambda_D = 300$ and 1000 cut 15.6
#   and 29.6 times; $\lambda_D = 10$ cuts nothing (0.91).
# - **The targets, from scratch, fail.** The cut at $\lambda_D = 100$ is 4.1 against 5,
#   on both seeds. The FID rise is 1.40 on seed 0 (target at most 1.30) and 1.12 on seed 1,
#   so with this seed spread the FID target is undecided rather than met. The energy inside
#   is 0.63 and 0.53 against the target's 70 %. Uniform $\lambda_D = 300$ meets the cut and
#   the energy targets (15.6 times, 0.76) at twice the FID.
# - **What we believe limits the cut: where we start, not where we end.** A caution first:
#   a distortion is a mean squared pixel change, so its value depends on the images, and
#   32 px cartoon faces are not 256 px photographs of FFHQ; equal values across the two
#   would be a coincidence, not a match. What can carry over is the balance the penalty
#   strikes with the rest of the loss: $\lambda_D \times$ distortion at 100, 300 and 1000
#   is 0.37, 0.30 and 0.52 for us, and 0.43 and 0.4 at 100 and 1000 in the paper, as the
#   per-pixel-mean reading of $\lambda_D$ predicts (the pixel range leaves a factor we
#   cannot pin down). If the end point is set by that balance, the cut is set by the start:
#   our unregularised models leak 0.0153, the paper's 0.028, and our $\lambda_D = 100$ ends
#   at 0.0037, so a similar end point is a smaller factor for us.
# - **Transfer, the paper's protocol, splits by seed.** Both SSNs made from our StyleGAN2
#   and trained 40 000 images with $\lambda_D = 0$ score a worse FID (44.6, 38.3) than the
#   StyleGAN2 they came from, a re-run of the shipped StyleGAN2's recipe at today's code that
#   is not shipped (`data/checkpoints/RESULTS.md` gives its command and score, better than
#   the shipped `faces32-stylegan2` in the table above). On seed 1 the
#   transferred $\lambda_D = 0$ model leaks 0.029, like the paper's, and its
#   $\lambda_D = 100$ twin cuts that 5.47 times at 1.05 times the FID: the only run that
#   meets two targets (its energy inside, 0.46, still fails). On seed 0 the transferred
#   blocks barely matter yet (the change inside a resampled block is 0.021, against 0.085
#   on seed 1), it leaks only 0.0085, and $\lambda_D = 100$ cuts that 2.36 times at FID
#   57.2. At this budget transfer's outcome depends on the run; the paper's runs were far
#   longer, which our CPU runs cannot test.
# - **Where the leak sits.** The radial distortion is below the uniform one everywhere, and
#   more so as $\lambda_D$ grows (radial/uniform 0.62 to 0.72 at $\lambda_D = 0$, 0.28 to
#   0.49 at 100, 0.17 at 1000): whatever the weighting, what a regularised model still leaks
#   lies next to the block.
#
# ## Longer runs: the zoo's version 3
#
# Every model above saw 40 000 images. The zoo's version 3 runs (`data/runs/`) follow the
# paper's protocol further: a StyleGAN2 trained for hundreds of thousands of images,
# transferred into an SSN, then trained with $\lambda_D = 0$ and with $\lambda_D = 100$
# (uniform weights), in installments on CPUs, and on GPUs when one is lent
# (`tools/installment.py`). The tables show where they stand for this page and where they
# stand against the targets above; the runs continue, and this page is re-executed from
# their newest installment.

# %%
def leak(d: float) -> str:
    """A distortion, with its digits even where the radial share leaves 1e-4."""
    return f"{d:.4f}" if d >= 1e-3 else f"{d:.2e}"


v3 = results.run_rows()
plotting.show_table(
    ["run (ld: λ_D)", "images", "FID", "distortion", "energy inside"],
    [[r["name"], f"{r['images']:,}", f"{r['fid']:.1f}",
      leak(r["distortion"]) if "distortion" in r else "-",
      f"{r['energy_inside']:.2f}" if "energy_inside" in r else "-"] for r in v3],
    caption="zoo v3 runs, newest installment; FID from 10 000 samples, distortion and energy "
            "inside from 1000")
print("after each installment: FID, an SSN's distortion (images seen)")
for r in v3:
    steps = [f"{p['scores']['fid']:.1f}"
             + (f" {leak(p['scores']['distortion'])}" if "distortion" in p["scores"] else "")
             + f" ({p['images_after'] / 1000:.0f}k)"
             for p in runs.ledger(r["name"])["installments"]]
    print(f"  {r['name']}: {', '.join(steps)}")
print("each lambda_D > 0 run against its seed's lambda_D 0 run where both stopped (images "
      f"within {results.MATCH_WITHIN:.0%}): distortion cut at FID ratio")
for penalised in [r["name"] for r in v3 if r["arch"] == "ssn" and r["lambda_D"] > 0]:
    zero, pairs = results.twin_name(penalised), []        # the same seed and start
    for p in runs.ledger(penalised)["installments"]:
        if twin := results.matched_entry(zero, p["images_after"]):
            a, b = twin["scores"], p["scores"]
            pairs.append(f"{a['distortion'] / b['distortion']:.2f}x at "
                         f"{b['fid'] / a['fid']:.2f}x ({p['images_after'] / 1000:.0f}k)")
    print(f"  {penalised}: {', '.join(pairs) or 'stopped where its twin did not'}")
print("seam contrast of 1000 samples (the data's under the same grid): " + ", ".join(
    f"{r['name']} {r['seam_contrast']:.3f} ({r['data_seam_contrast']:.3f})"
    for r in v3 if "seam_contrast" in r))
plotting.show_table(["target", "run", "measured", "met"],
                    [[what.replace("`", ""), run, value, "yes" if met else "no"]
                     for what, run, value, met in results.v3_checks(v3, results.models())],
                    caption="zoo v3 against its targets (FID: against the 40 000-image model "
                            "of the same recipe)")

# %% [markdown]
# Four things stand out. **Longer training pays in FID, mostly**: the $\lambda_D = 0$ faces
# SSN scores 5.0 where the 40 000-image one scored 26.7, and the StyleGAN2 it came from
# (16.3 when it was transferred) went on to 8.8. The skyline $\lambda_D = 0$ SSN less so:
# its second installment took it from 7.4 to 11.0 and its third back to 9.7, while its
# StyleGAN2 went from 12.8 to 9.0, so on skylines more images are not yet a sure gain for
# an SSN. **Longer runs use
# their blocks more**: both unregularised SSNs leak more (0.0357 and 0.0402) than any
# 40 000-image model (0.0153 from scratch) and than the paper's 0.028, and only 14 % and
# 25 % of a resample's change stays inside the block. So $\lambda_D = 100$ has more to cut.
# **The two datasets miss different targets.** The $\lambda_D$ twins have seen the same
# images (the faces twins' third installments both trained with five times the recipe's R1
# weight, their fourth and fifth with the recipe's again; see the README). On faces
# $\lambda_D = 100$ cuts distortion 2.03 times, against 5, at 1.67 times its twin's FID
# (8.4 against 5.0). Its FID fell in its first four installments (16.4 to 8.3) and held in
# the fifth (8.4) while its twin's went from 5.9 to 5.0, and its distortion never fell
# (0.0149, 0.0151, 0.0148, 0.0168, 0.0176), where the skyline one's fell from 0.0107 to
# 0.0034 (0.0047 in its third). On skylines, at 736,000 images each, it cuts distortion
# 8.55 times at 2.32 times the FID (22.5 against 9.7): its
# pictures are nearly all one daytime layout (chapter 7 shows them), and a model with
# fewer kinds of picture has less to move when a block is redrawn ("The price of
# consistency" below measures how much of its cut came from that). **A stronger
# regulariser is no shortcut, so far.** From the same start and stopped at the images of
# $\lambda_D = 100$'s first installment (267,200), $\lambda_D = 200$ leaked 0.0082 and
# $\lambda_D = 300$ 0.0046 against 0.0149, but they scored FID 24.1 and 38.9 against 16.4.
# $\lambda_D = 300$ keeps its blocks apart by no longer drawing faces (precision 0.14);
# $\lambda_D = 200$ still draws them. Stopped where $\lambda_D = 100$'s installments stopped,
# it scored the same FID at 561,600 images (11.3) with a smaller leak (0.0129 against
# 0.0151), and at 750,400 a better FID than $\lambda_D = 100$ at 752,000 (8.5 against 10.6)
# with the same leak (0.0150 against 0.0148). Its leak rose at each of those installments
# (0.0082, 0.0112, 0.0129, 0.0150) until it met $\lambda_D = 100$'s, and first fell in the
# fifth: at 835,200 images it leaked 0.0138 against $\lambda_D = 100$'s 0.0168 at about its
# FID (8.7 against 8.3), a cut of 2.46 times against $\lambda_D = 0$ at 1.47 times its FID.
# In the sixth, to 960,000, its leak held (0.0142 against 0.0176) and its FID rose to 9.4
# (against 8.4): 2.51 times at 1.89 times. Twice the weight has bought a little more cut,
# at an FID that moves from one installment to the next as much as $\lambda_D = 100$'s, far
# from five times. **A second seed** (seed 1, the same start; bf16 from its first installment,
# where seed 0's first was float32) has four installments. At 267,200 images its
# $\lambda_D = 0$ scored FID 10.0 and distortion 0.0402, close to seed 0's (10.5 and 0.0434
# at 307,200), but its $\lambda_D = 100$ scored FID 29.5, leaking 0.0112, where seed 0 scored
# 16.4 at the same images, and its faces were crossed by horizontal bands. By 561,600 the
# bands were gone. At 752,000 $\lambda_D = 0$ scored 5.3 and leaked 0.0316 (seed 0: 5.9 and
# 0.0361), $\lambda_D = 100$ scored 14.8 and leaked 0.0139 (seed 0: 10.6 and 0.0148). So the
# second seed's cut is 2.27 times, close to the first seed's 2.44 at these images, while its
# FID ratio, 2.81, is far above the first's 1.79: the seed, or the precision of the first
# installment, moves $\lambda_D = 100$'s FID far more than its leak. At 960,000, where seed 0
# stands, $\lambda_D = 0$ scored 4.7 and leaked 0.0313, $\lambda_D = 100$ scored 11.5 and
# leaked 0.0155: a 2.02 times cut at 2.43 times the FID, against seed 0's 2.03 at 1.67. The
# two seeds agree on the cut and not on the FID. The faces target, a 5 times cut at 1.3
# times the FID, is open on both seeds.
#
# The skylines pair has a second seed as well, with three installments (bf16, where seed 0's
# first was float32), each stopped at seed 0's installment's images (261k, 547k and 736k in
# the lists above). At 261k its $\lambda_D = 0$ scored FID 6.0, lower than any skyline run
# at any installment before it, while its $\lambda_D = 100$ twin cut the distortion 7.95
# times at 7.10 times that FID (42.5) and, like seed 0's, stopped drawing nights (the next
# section counts them). At 547k $\lambda_D = 100$ drew sunsets again and its FID fell to
# 19.0, but its leak rose from 0.0079 to 0.0128, while $\lambda_D = 0$'s FID rose to 7.4:
# the pair cut 4.41 times at 2.55 times the FID. At 736k both moved little
# ($\lambda_D = 100$ FID 18.0 and leak 0.0125, $\lambda_D = 0$ 7.0 and 0.0597): 4.78 times
# at 2.58 times. Both skyline seeds miss the FID target by far, and the second, drawing more
# kinds of skyline than at 261k, misses the cut as well.
#
# **The radial share with $u$ holds past the study's budget, so far.** The two arms of
# "A share that spares the neighbours" below continue as zoo runs from their checkpoints
# at about 120,000 images (`tools/installment.py adopt`), on one core each, and stop where
# their twins' installments stopped. At the twins' first installments (float32) seed 0, at
# 307,200 images, scored FID 10.4 against its twin's 10.5 and leaked 8.39e-05 against 0.0434:
# a 517.28 times cut at 0.99 times the FID; seed 1, at 267,200, 342.42 times at 1.26 times.
# Their third installments trained in bf16, as the twins' second did, to the twins' second
# installments' images. There seed 0 scores FID 8.6 against 7.8 and leaks 2.75e-05 against
# 0.0347: 1261.82 times at 1.10 times. Seed 1 scores 8.4 against 6.6: 1031.98 times at 1.27
# times. So both seeds still pass the targets' two numbers at 560,000 images, seed 1 again
# with little room on the FID, while the leak fell three-fold on both; their seam contrast
# stands at 1.075 and 1.105 against the data's 1.036. Eq. 2 at 100 cut
# 2.03 times at 1.67 times on seed 0 at 960,000 images. The radial runs share the other
# runs' faults: recall near 0 at these images. Their twins have trained on to 960,000
# images; the next installments tell whether the pass holds there.

# %% [markdown]
# ### Looking like the data, and covering it
#
# Precision and recall (Kynkäänniemi et al. 2019) draw a ball around every feature vector
# $\phi$ of a set, reaching its third-nearest neighbour in the same set ($r_3$). *Precision*
# is the share of samples inside some ball of the data; *recall* the share of data points
# inside some ball of the samples. So recall depends on how far apart the samples sit from
# one another: samples that crowd together have small balls, which catch few data points
# even where the samples lie among them. *Coverage* (Naeem et al. 2020) asks recall's
# question with the data's balls only, for data points $y_1 \dots y_N$ and samples
# $x_1 \dots x_M$:
#
# $$\mathrm{coverage} = \frac{1}{N} \sum_{j=1}^{N}
#   \mathbb 1\Big[\min_{i} \big\| \phi(x_i) - \phi(y_j) \big\| \le r_3(y_j)\Big],$$
#
# the share of data points that have a sample inside their ball. The *radius ratio*, the
# samples' median $r_3$ over the data's, says how crowded the samples are. Neither set's
# balls are perfect estimates, so even a perfect generator scores below 1: the last rows
# put 10 000 other training images in the generator's place (`tools/floors.py`). For
# coverage the value follows from counting: a data point's ball misses every sample when
# its 3 nearest neighbours among all the other points are data points, which for equal
# counts happens about $2^{-3}$ of the time.

# %%
from ssnlib.metrics import expected_coverage

floor = results.floors()
cover_rows = [[r["name"], f"{r['precision']:.2f}", f"{r['recall']:.3f}",
               f"{r.get('coverage', math.nan):.2f}", f"{r.get('radius_ratio', math.nan):.2f}"]
              for r in v3]
cover_rows += [[f"{data}: other images", f"{f['precision']:.2f}", f"{f['recall']:.3f}",
                f"{f['coverage']:.2f}", f"{f['radius_ratio']:.2f}"] for data, f in floor.items()]
plotting.show_table(["run", "precision", "recall", "coverage", "radius ratio"], cover_rows,
                    caption="10 000 samples against 10 000 training images, k = 3; the last "
                            "rows: 10 000 other training images as the samples")
print(f"expected coverage of a perfect generator at 10 000 vs 10 000: "
      f"{expected_coverage(10_000, 10_000):.3f}")

# %% [markdown]
# Other training images score what the counting argument predicts (coverage 0.88 against
# 0.875) and a radius ratio of 1.00; their precision and recall are high but below 1. Every
# run is far from them. Its samples land among the data (precision 0.71 to 0.86, but 0.14 for
# $\lambda_D = 300$), but they sit
# closer together than the data do, their radius ratio is 0.18 to 0.73, so their balls are
# small and recall is at most 0.131. Coverage, which does not depend on the samples' balls,
# says how much of the data they come near: 50 % for the faces $\lambda_D = 0$ SSN, 42 % for
# its $\lambda_D = 100$ twin, 27 % for the StyleGAN2 they came from (at its newest
# installment), and 5 % to 7 % for the skyline models of seed 0. The second skylines seed
# splits: its $\lambda_D = 0$ covers 13 %, about twice seed 0's, and its $\lambda_D = 100$
# twin 3 %. The skyline StyleGAN2 scores about the FID of the faces one (9.0 against 8.8) and
# covers 7 % of its data against 27 %: FID compares the features' means and covariances, and a
# generator that draws convincing pictures of a few kinds can match those far better than it
# covers the data. Coverage is the number the zoo has furthest to go on.

# %% [markdown]
# ### What the samples miss
#
# Recall and coverage say how much of the data the samples miss, not what they miss. The
# domain network can say what. Beside the embedding that FID and precision use, it has one
# head per attribute of each dataset (head shape, hair colour, head turn... on faces; time of
# day, horizon... on skylines), so we can count how often each class turns up among the
# samples and among the training images, both read by the same network, whose own mistakes
# then cancel to first order (`ssnlib.metrics.attributes`, `ssn eval --metrics attributes`).
# For an attribute with data shares $p_k$ and sample shares $q_k$ over its classes $k$, the
# total variation distance
#
# $$\mathrm{TV} = \tfrac12 \sum_k \big|p_k - q_k\big|$$
#
# is the share of samples that would have to change class for the two to match. A class is
# *under-drawn* when the samples draw it less than half as often as the data (among classes
# with at least 2 % of the data). For a continuous attribute, such as how far the head is
# turned, the *spread ratio* is the samples' standard deviation over the data's. The figure
# shows the three faces attributes on which one of the faces runs is furthest from the data.

# %%
FACES = ["faces32-stylegan2", "faces32-ssn-ld0", "faces32-ssn-ld100"]
shares = {r["name"]: r["attributes"] for r in v3 if "attributes" in r}    # newest installment
# the three attributes on which some run is furthest from the data
worst = sorted(shares["faces32-ssn-ld0"]["discrete"].items(),
               key=lambda kv: -max(shares[n]["discrete"][kv[0]]["tv"] for n in FACES))[:3]
fig, axes = plotting.subplots(1, 3, height=3.1)
for ax, (attribute, data) in zip(axes, worst, strict=True):
    series = {"data": data["data"]} | {name.removeprefix("faces32-"):
                                       shares[name]["discrete"][attribute]["samples"]
                                       for name in FACES}
    plotting.grouped_bars(ax, data["classes"], series, ylabel="share" if ax is axes[0] else "",
                          title=attribute.split("/")[1].replace("_", " "))
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=4)
plotting.show(fig)


def under_drawn(name: str, most: int = 5) -> str:
    """A run's under-drawn classes, the first ``most`` of them named."""
    low = [c.split("/")[1] for c in shares[name]["under_drawn"]]
    more = f" and {len(low) - most} more" if len(low) > most else ""
    return ", ".join(low[:most]) + more or "none"


def share_of(name: str, under: str) -> str:
    """``attribute=class`` with its share of the samples and (in brackets) of the data."""
    attribute, label = under.split("=")
    a = shares[name]["discrete"][attribute]
    k = a["classes"].index(label)
    return f"{attribute.split('/')[1]}={label} {a['samples'][k]:.0%} ({a['data'][k]:.0%})"


attribute_rows = [[r["name"], f"{r['attribute_tv']:.3f}", f"{r['spread_ratio']:.2f}",
                   under_drawn(r["name"])] for r in v3 if r["name"] in shares]
attribute_rows += [[f"{data}: other images", f"{f['attribute_tv']:.3f}",
                    f"{f['spread_ratio']:.2f}", "none"] for data, f in floor.items()]
plotting.show_table(["run", "attribute TV (mean)", "smallest spread ratio", "under-drawn"],
                    attribute_rows, caption="domain-network reads of 10 000 samples against "
                    "10 000 training images; the last rows: 10 000 other training images")
print("under-drawn classes: share of samples (share of data)")
for name, read in shares.items():
    print(f"  {name}: " + (", ".join(share_of(name, c) for c in read["under_drawn"][:5])
                          or "none"))
print("never drawn (under 1 % of samples; data share)")
for name, read in shares.items():
    gone = [(key, k) for key, a in read["discrete"].items() for k, q in enumerate(a["samples"])
            if q < 0.01 and a["data"][k] >= 0.02]
    print(f"  {name}: " + (", ".join(f"{key.split('/')[1]}={read['discrete'][key]['classes'][k]}"
                                    f" ({read['discrete'][key]['data'][k]:.0%})"
                                    for key, k in gone) or "none"))
print("spread ratios, samples' standard deviation over the data's")
for name, read in shares.items():
    print(f"  {name}: " + ", ".join(f"{k.split('/')[1]} {v['spread_ratio']:.2f}"
                                    for k, v in read["continuous"].items()))

# %% [markdown]
# Two sets of training images agree to within 1 % (TV 0.009 and 0.008, spread ratios 0.99), so
# every gap above belongs to the model. The faces runs each miss different kinds of face,
# though all land among the data: the $\lambda_D = 0$ SSN draws round heads 9 % of the time
# against the data's 30 % (its second seed under-drew them at 752,000 images too, but no
# longer does at 960,000); the StyleGAN2 run draws afros 3 % of the time against 9 %; the
# $\lambda_D = 100$ SSN opens a mouth in 1 % of its faces against 12 %, its second seed draws
# round heads 6 % of the time. The seed-0 $\lambda_D = 100$ SSN drops a background colour that
# a sixth of the data have (teal; its second seed dropped mustard at 752,000 images and draws
# it again at 960,000; $\lambda_D = 300$ drops three), and no $\lambda_D = 0$ run drops any:
# the background fills the border blocks of every face, the kind of choice that many blocks
# must agree on ("The price of consistency" below). What all the faces runs share is a
# narrower range of poses: the size of the head varies about half as much as in the data
# (spread ratios 0.44 to 0.59), the way it is turned 0.54 to 0.88 as much, while the light's
# direction varies nearly as much (0.87 to 0.93). That
# is one place where recall is lost: a data face that is large, small or turned far has few
# samples near it. On skylines the $\lambda_D = 100$ SSN draws a sunset 6 % of the time
# against 25 % and never a night (30 % of the data), nor brick (24 %): the "one daytime
# layout" of chapter 7, now counted. Its second seed, which at 261k drew only daytime stone
# skylines, has drawn sunsets and brick again since 547k, but at 736k never a night, spires
# 5 % of the time (23 % of the data) and whitewash 1 % (14 %), while the second unregularised
# seed draws every time of day.
# The unregularised skyline SSN of seed 0 draws domes 1 % of the time against 16 %. A recipe
# change meant to raise recall (a wider network, say) can now be judged by what it adds: which
# classes come back, and whether the poses widen.

# %% [markdown]
# ### The price of consistency
#
# The skyline $\lambda_D = 100$ SSN lost its night skies; is that an accident of one run or
# the regulariser's doing? A bound answers, and it holds for every generator whose randomness
# is independent latent blocks and noise maps, whatever its architecture. Read one number
# from each block, $s_b$, the mean of one colour channel over block $b$ of the image, and
# call its variance over samples $V_b$. The other blocks and the noise maps $\xi$ move it by
#
# $$L_b = \tfrac12 \sum_{a \ne b} \mathbb E\big[\big(s_b(z^{(a)}) - s_b(z)\big)^2\big]
#   + \tfrac12\, \mathbb E\big[\big(s_b(\xi') - s_b(\xi)\big)^2\big],$$
#
# where $z^{(a)}$ has block $a$ redrawn and $\xi'$ is fresh noise. We call $\lambda_b =
# L_b / V_b$ the *relative leak* of block $b$: how much inputs other than its own block move
# it, against how much it varies (it can exceed 1, since an effect of several inputs at
# once is counted once for each of them). Then, with $\rho_{bc}$ the correlation of $s_b$
# and $s_c$,
#
# $$|\rho_{bc}| \le \sqrt{\lambda_b} + \sqrt{\lambda_c} \quad (b \ne c),
#   \qquad\text{and so}\qquad \overline{\lambda} \ge \tfrac14\, \overline{\rho^2},$$
#
# the bars averaging over blocks and over pairs of different blocks (the second form squares
# the first, $\rho^2 \le 2(\lambda_b + \lambda_c)$, and averages). Blocks that never move
# each other are uncorrelated. To draw a night sky that is dark in every corner at once, the
# inputs that decide "night" must reach every corner, so redrawing them moves pixels far
# from their block. Chapter 1's Gaussian toy showed this for linear models (its
# block-diagonal model had zero distortion and no correlation between blocks); the bound is
# the same fact for any generator. The paper says it in words: changes outside the block
# are "needed to keep global consistency" (section 4).
#
# :::{admonition} Proof
# :class: dropdown
#
# The inputs (blocks $z_1, \dots, z_n$ and the noise) are independent, so $s_b$ has an
# ANOVA (Hoeffding) decomposition $s_b = \sum_S f_S$ into orthogonal terms, one per set $S$
# of inputs, $f_S$ depending only on the inputs in $S$; likewise $s_c = \sum_S h_S$.
# Redrawing input $a$ changes exactly the terms with $a \in S$, and
# $\tfrac12 \mathbb E[(s_b - s_b^{(a)})^2] = \sum_{S \ni a} \|f_S\|^2$ (the Efron–Stein
# identity). Every $S \ne \{b\}$ holds some input other than $b$, so
# $L_b \ge R_b = \sum_{S \ne \{b\}} \|f_S\|^2$, and $L_c \ge R_c$ likewise. Then
# $\mathrm{Cov}(s_b, s_c) = \langle f_{\{b\}}, h_{\{b\}} \rangle + \sum_{S \ne \{b\}}
# \langle f_S, h_S \rangle$. Since $\{b\} \ne \{c\}$, $h_{\{b\}}$ is part of $R_c$, so the
# first term is at most $\sqrt{V_b R_c}$; by Cauchy–Schwarz the rest is at most
# $\sqrt{R_b V_c}$. Divide by $\sqrt{V_b V_c}$.
# :::
#
# The bound also says how a leak can be cut. $L_b = \lambda_b V_b$: a generator pays less
# for its leak either by keeping each block's change at home (smaller $\lambda$) or by
# varying less (smaller $V$). Eq. 2 charges the change outside the block pixel by pixel,
# and either way lowers it.
# `ssnlib.metrics.consistency` measures both factors and both sides of the bound (every
# block redrawn in turn, then the noise: 18 generator passes per sample; `ssn eval
# --metrics consistency`), and `tools/consistency.py` ran it on every SSN of the zoo, 1000
# samples each, and on 10 000 training images of each dataset.

# %%
study = results.consistency_study()        # tools/consistency.py
measured = study["runs"]
consistency_rows = [[name, f"{m['images']:,}", f"{m['distortion']:.4f}",
                     f"{m['mean_var']:.4f}", f"{m['mean_abs_leak']:.4f}",
                     f"{m['mean_leak']:.2f}", f"{m['mean_rho2']:.2f}"]
                    for name, m in measured.items()]
consistency_rows += [[f"{d}: training images", "-", "-", f"{m['mean_var']:.4f}",
                      f"≥ {m['leak_floor']:.4f}", f"≥ {m['needed_leak']:.2f}",
                      f"{m['mean_rho2']:.2f}"]
                     for d, m in study["data"].items()]
plotting.show_table(["run", "images", "distortion", "V (block variance)", "L (leak)",
                     "λ = L / V", "ρ²"], consistency_rows,
                    caption="means over blocks and colour channels; L and λ for the data: "
                            "the least any generator whose blocks covary as the data's needs "
                            "(the next section derives L's floor)")
print(f"bound holds for {min(m['holds'] for m in measured.values()):.1%} of pairs or more "
      f"in every run; Efron-Stein sum (L + own) / V at least "
      f"{min(m['efron_stein'] for m in measured.values()):.2f} (theory: at least 1)")
for dataset, seed in [(d, s) for d in study["data"] for s in results.V3_SEEDS]:
    pair = [measured[f"{dataset}32-ssn-ld{ld}{seed}"] for ld in (0, 100)]
    cut = {k: pair[0][k] / pair[1][k] for k in ("mean_abs_leak", "mean_var", "mean_leak")}
    print(f"{dataset}{seed}, lambda_D 0 -> 100: leak L cut {cut['mean_abs_leak']:.1f}x = "
          f"variance V cut {cut['mean_var']:.1f}x times relative leak cut "
          f"{cut['mean_leak']:.2f}x; rho^2 {pair[0]['mean_rho2']:.2f} -> "
          f"{pair[1]['mean_rho2']:.2f} (data {study['data'][dataset]['mean_rho2']:.2f})")
    if not seed:
        print(f"  a five-fold cut by locality alone: relative leak "
              f"{pair[0]['mean_leak'] / 5:.3f}, least the data's rho^2 allows "
              f"{study['data'][dataset]['needed_leak']:.3f}")

# %% tags=["hide-input"]
from matplotlib.lines import Line2D

fig, axes = plotting.subplots(1, 2, height=3.4)
colour = {0.0: "C0", 100.0: "C1", 200.0: "C2", 300.0: "C3"}
for ax, dataset in zip(axes, study["data"], strict=True):
    lam = np.linspace(0, 2.2, 50)
    ax.fill_between(lam, np.minimum(4 * lam, 1.05), 1.05, color="0.85")
    ax.axhline(study["data"][dataset]["mean_rho2"], color="k", ls="--", lw=1)
    for name, m in measured.items():
        if m["dataset"] == dataset:
            ax.scatter(m["mean_leak"], m["mean_rho2"], s=45, color=colour[m["lambda_D"]],
                       marker="s" if name.endswith("-seed1") else "o")
    ax.set(xlim=(0, 2.2), ylim=(0, 1.05), title=dataset, xlabel="relative leak λ (mean)",
           ylabel="ρ² between blocks (mean)" if ax is axes[0] else "")
keys = [Line2D([], [], ls="", marker="o", color=c, label=rf"$\lambda_D$ = {ld:g}")
        for ld, c in colour.items()]
keys += [Line2D([], [], ls="", marker="s", color="0.4", label="second seed"),
         Line2D([], [], ls="--", color="k", label="training images"),
         Rectangle((0, 0), 1, 1, color="0.85", label="ruled out (bound)")]
fig.legend(handles=keys, loc="outside lower center", ncols=4)
plotting.show(fig)

# %% [markdown]
# Every run keeps the bound, in every pair of blocks, as a theorem must; that, and the
# Efron–Stein sum above 1, check the measurement. Every run sits far from the bound's edge:
# their mean relative leaks are 0.46 to 2.01, where the data's correlations demand at least
# 0.09 of a faces generator and 0.20 of a skylines one. So the bound is not what holds the zoo
# back; what it does is split each cut in two. **The two $\lambda_D = 100$ runs paid in
# different coin.** On faces the leak fell 2.3 times, mostly by locality: the relative leak
# halved (1.78 to 0.89), the variance fell a little (0.0997 to 0.0821) and the blocks stayed
# as correlated as the data's (0.35). Its second seed's pair, at 960,000 images, cut the same
# way (relative leak 1.57 to 0.85, variance 0.0972 to 0.0830). On skylines it fell 14.7 times,
# mostly by drawing less: the block variance fell 11 times, to a tenth of the data's (0.0200
# against 0.2086), the relative leak only 1.41 times, and the blocks' correlation went from
# 0.83 to 0.23, where the data's is 0.80. The second skylines seed's pair, at 736,000 images,
# cut its leak 5.0 times: the variance 2.3 times, the relative leak 2.06 times, more locality
# than seed 0's, but still a little more than half of the cut, counted in logarithms, from
# drawing less, its blocks' correlation down from 0.75 to 0.54.
# The time of day is the most global thing in a skyline, one choice that tints every block; a
# model that stops drawing nights and sunsets has less to keep consistent across blocks, and
# so less to leak. Nothing forced that: at a relative leak of 0.82 the bound still allows
# every correlation. Eq. 2 cannot tell the two kinds of cut apart; the next section tries a
# penalty that might. The faces $\lambda_D = 300$ run went furthest towards locality (relative
# leak 0.46) and lost the blocks' correlation as well (0.07 against the data's 0.35): faces
# that no longer hang together (precision 0.14). The measure gives the zoo's targets a second
# reading: a five-fold cut should come from $\lambda$, with $V$ and $\rho^2$ kept at the
# data's. For skylines that means a relative leak near 0.23, just above the least that the
# data's correlations allow (exercise (d)); for faces, near 0.36, with room to spare.

# %% [markdown]
# ### Charging the share instead
#
# If eq. 2 can be paid by drawing less, perhaps a penalty that drawing less cannot lower
# would keep the nights. `reg.distortion_mode=share` (ours, not the paper's) charges, for
# each resample, the *share* of its squared change that lands outside the block:
#
# $$\begin{aligned}
#   S_a(z) &= \frac{\sum_{p \notin J_a} \delta_a(p)}{\sum_p \delta_a(p)}, \\
#   R_S &= \mathbb E_{z, a}\, S_a(z) = 1 - \text{energy inside},
# \end{aligned}$$
#
# where $\delta_a(p)$ is the squared change at pixel $p$ when block $a$ is redrawn (averaged
# over the colour channels). A generator that scales every change by the same factor $c$
# leaves $S_a$ where it was, where eq. 2 falls by $c^2$. $R_S$ lies between 0 and 1 (about 0.8
# without any penalty), so its weight has its own scale. `tools/recipe_study.py` trained eight
# branches from the skylines transfer, the $\lambda_D = 100$ run's own start, for 28 minutes
# on one core each: no penalty, eq. 2 at 20, 40 and 100, and the share at 1, 2, 3 and 5. Eq.
# 2's 20 and 40 start at about the penalty of the share's 1 and 2 (the unregularised model's
# distortion, 0.044, times the weight; $R_S \approx 0.8$ times the share's). Every checkpoint
# was scored on 10 000 samples (FID, the classes the samples never draw) and 500 resamples
# (distortion, energy inside, block variance $V$, relative leak $\lambda$, $\rho^2$).

# %%
share_study = results.recipe_study("skylines32-share")
kinds = {"lambda_D": 0, "outside": 1, "share": 2}       # no penalty, eq. 2, share; by weight
branches = sorted(share_study["variants"].items(),
                  key=lambda kv: (kinds[kv[0].split()[0]], float(kv[0].split()[1])))
sky_data = study["data"]["skylines"]                    # the consistency study's data side
share_rows = [[variant, f"{p['images']:,}", f"{p['fid']:.1f}", f"{p['distortion']:.4f}",
               f"{p['energy_inside']:.2f}", f"{p['block_variance']:.4f}",
               f"{p['relative_leak']:.2f}", f"{p['block_rho2']:.2f}", len(p["never_drawn"])]
              for variant, curve in branches for p in curve["points"]]
share_rows.append(["training images", "-", "-", "-", "-", f"{sky_data['mean_var']:.4f}",
                   f"≥ {sky_data['needed_leak']:.2f}", f"{sky_data['mean_rho2']:.2f}", "-"])
plotting.show_table(["branch", "images", "FID", "dist.", "inside", "V", "λ", "ρ²", "lost"],
                    share_rows,
                    caption="skylines, from the transfer, 28 minutes on one core each "
                            "(data/studies/skylines32-share); dist.: distortion; inside: "
                            "energy inside; lost: classes never drawn")
last = {v: c["points"][-1] for v, c in branches}
zero = last["lambda_D 0"]
print("at each branch's last checkpoint, against no penalty's last "
      f"({zero['images']:,} images): distortion cut, FID ratio, never drawn")
for variant, p in last.items():
    print(f"  {variant:12s} {zero['distortion'] / p['distortion']:5.1f}x "
          f"{p['fid'] / zero['fid']:5.2f}x  {', '.join(p['never_drawn']) or 'none'}")

# %% tags=["hide-input"]
fig, ax = plotting.subplots(1, 1, height=3.8)
for k, (variant, curve) in enumerate(branches):
    pts = curve["points"]
    style = {"lambda_D": "D-", "outside": "s--", "share": "o-"}[variant.split()[0]]
    ax.plot([p["relative_leak"] for p in pts], [p["block_variance"] for p in pts], style,
            color=f"C{k}", ms=4, label=variant)
    ax.annotate("", xy=(pts[-1]["relative_leak"], pts[-1]["block_variance"]),
                xytext=(pts[-2]["relative_leak"], pts[-2]["block_variance"]),
                arrowprops={"arrowstyle": "->", "color": f"C{k}"})
ax.axhline(sky_data["mean_var"], color="k", ls="--", lw=1, label="training images' V")
ax.axvline(sky_data["needed_leak"], color="k", ls=":", lw=1, label="least λ for their ρ²")
ax.set(xlim=(0, None), yscale="log", xlabel="relative leak λ (mean over blocks)",
       ylabel="block variance V")
fig.legend(loc="outside lower center", ncols=4)
plotting.show(fig)

# %% [markdown]
# Each branch is a line from its first checkpoint to its last, the arrow at the last.
# Without a penalty the blocks vary and correlate as the data's do (the table: $V$ 0.18 to
# 0.20 against 0.21, $\rho^2$ 0.73 to 0.78 against 0.80). **Every penalty that cut the
# distortion more than 1.6 times within 110,000 images stopped drawing a time of day**: eq. 2
# at 20 (a 3.4-fold cut at 1.62 times the FID) and the share at 2 (2.3-fold, 1.21 times) the
# nights, eq. 2 at 40 the days, eq. 2 at 100 and the share at 3 and 5 everything but daytime.
# The share at 1 alone kept every class, with the best FID of all the branches (0.81 times no
# penalty's) and a 1.6-fold cut. So the share is not immune, though no rescaling lowers it:
# dropping a *global* mode lowers it too. A night darkens every block, so a block redrawn
# from a night to a day changes the whole picture; a model that draws no nights has lost
# exactly the changes that had to spread. On the figure the branches that fell far below the
# data's $V$ are the ones that lost a time of day, and their $\lambda$ fell less than their
# $V$: the cut came from drawing less, whichever penalty asked for it. What keeps the
# nights, at these budgets, is a penalty too weak to cut much.

# %% [markdown]
# The collapse came early, within the first 60,000 images, while the transferred model was
# still adapting to its new latent grid. Would a model that first settles under the weak
# penalty keep its nights when the weight is then raised? A second study branched from the
# share-1 branch's last checkpoint (110,400 images) for 28 more minutes each: the share
# kept at 1, raised to 3 (the weight that had collapsed from the transfer), and switched
# to eq. 2 at 20 and at 100.

# %%
ramp = results.recipe_study("skylines32-share-ramp")
plotting.show_table(
    ["branch", "images", "FID", "dist.", "inside", "V", "λ", "lost"],
    [[variant, f"{p['images']:,}", f"{p['fid']:.1f}", f"{p['distortion']:.4f}",
      f"{p['energy_inside']:.2f}", f"{p['block_variance']:.4f}", f"{p['relative_leak']:.2f}",
      len(p["never_drawn"])]
     for variant, curve in ramp["variants"].items() for p in curve["points"]],
    caption="skylines, from the share-1 branch at 110,400 images (data/studies/"
            "skylines32-share-ramp); the first row of each branch is that start; columns as "
            "above, without ρ²")
lost = {v: sorted({c for p in curve["points"] for c in p["never_drawn"]})
        for v, curve in ramp["variants"].items()}
print("classes never drawn at any checkpoint:",
      "; ".join(f"{v}: {', '.join(c) or 'none'}" for v, c in lost.items()))
kept = ramp["variants"]["share 1"]["points"][-1]
print("at the end, against the share kept at 1: distortion cut, FID ratio, V ratio")
for variant, curve in ramp["variants"].items():
    if variant != "share 1":
        p = curve["points"][-1]
        ratio = {k: p[k] / kept[k] for k in ("distortion", "fid", "block_variance")}
        print(f"  {variant:10s} {1 / ratio['distortion']:5.2f}x {ratio['fid']:5.2f}x "
              f"{ratio['block_variance']:5.2f}x")

# %% [markdown]
# Raised after settling, the share at 3 kept every class, the variance and the FID (5.2 in
# both branches at the end), and its energy inside rose from 0.49 to 0.69 where the branch
# kept at 1 reached 0.56. But its distortion did not fall (0.0301 against 0.0317, a 1.05-fold
# cut): with the change outside the block unchanged, a larger share inside means a larger
# change *inside*. The model met the higher weight by redrawing the block more boldly, the
# third way to lower $S_a$ (a larger $E$ in exercise (e)), and not by leaking less. Eq. 2 did
# what it did from the transfer. At 100 the nights were gone by the first checkpoint (120,000
# images) and the sunsets by the second; at the end it cut the distortion 14.41 times at 5.13
# times the FID, its block variance 0.06 times the kept branch's. At 20 it kept every class,
# and cut the distortion 1.53 times at 1.34 times the FID, but through the variance alone: $V$
# fell to 0.58 times the kept branch's, while the relative leak stayed where it was (1.00
# against 0.96). Its blocks move each other as much, for how much they vary, as before; they
# vary less. Only eq. 2 at 100 lowered the relative leak, the locality that the targets ask
# for (0.52 against 0.96), and only together with the nights and sunsets. Within these
# budgets, then, the skylines distortion fell only as far as the picture's variety did.

# %% [markdown]
# ### What a global latent would buy
#
# Eq. 2 charges the leak itself, $L_b = \lambda_b V_b$, not the relative leak, so the bound
# is worth reading in absolute terms too. The proof above ends with the covariance form
# $C_{bc} \le \sqrt{V_b L_c} + \sqrt{L_b V_c}$; its square is at most
# $2(V_b L_c + L_b V_c)$, and summed over the pairs $b \ne c$ at most
# $4 \sum_b V_b \sum_c L_c$. That is a floor on the mean leak itself,
#
# $$\overline{L} \;\ge\; \frac{n-1}{4n}\,
#   \frac{\overline{C^2}}{\overline{V}},$$
#
# with $C_{bc}$ the covariance of blocks $b \ne c$ and the bars averaging over pairs and
# over blocks. Every generator whose blocks covary as the data's do must leak at least that
# much, and since the distortion bounds the leak from above, its distortion has a floor too.
# Now give
# the generator one more input, a *global* latent $u$ that a block resample keeps. Given
# $u$ the blocks are still independent, so the bound holds for each value of $u$, and the
# floor becomes the mean over $u$ of the floors of the covariances *within* each $u$.
# Whatever $u$ decides is no longer any block's to share.
#
# Our datasets are procedural, so we can ask this of the data before building anything.
# Each attribute in turn plays $u$: `tools/consistency.py` splits the 10,000 training images
# by it (a continuous attribute in four bins of its range) and measures the blocks'
# correlation, variance and floor within each class (`conditional_consistency` in
# `ssnlib.metrics.consistency`). The zoo's SSNs have no global latent; this measures what one
# would change on the data's side ("A global latent, trained" below trains one).

# %%
given_rows = []
for dataset, m in study["data"].items():
    given_rows.append([dataset, "nothing", f"{m['mean_rho2']:.2f}", f"{m['mean_var']:.4f}",
                       "100%", f"{m['leak_floor']:.5f}"])
    ranked = sorted(m["given"].items(), key=lambda kv: kv[1]["leak_floor"])
    given_rows += [[dataset, name, f"{g['mean_rho2']:.2f}", f"{g['mean_var']:.4f}",
                    f"{g['var_share']:.0%}", f"{g['leak_floor']:.5f}"]
                   for name, g in ranked[:3]]
plotting.show_table(["data", "given", "ρ²", "V", "V share", "least L"], given_rows,
                    caption="10,000 training images per dataset, the three attributes that "
                            "lower the floor most; least L: the floor on the mean leak")
for dataset, m in study["data"].items():
    best, g = min(m["given"].items(), key=lambda kv: kv[1]["leak_floor"])
    print(f"{dataset}: floor {m['leak_floor']:.5f}, given {best} {g['leak_floor']:.5f} "
          f"({m['leak_floor'] / g['leak_floor']:.0f}x lower); the next attribute lowers it "
          f"{m['leak_floor'] / sorted(x['leak_floor'] for x in m['given'].values())[1]:.2f}x")
    for seed in results.V3_SEEDS:
        leaks = [measured[f"{dataset}32-ssn-ld{ld}{seed}"]["mean_abs_leak"] for ld in (0, 100)]
        print(f"  {dataset}{seed}: leak L at lambda_D 0 {leaks[0]:.4f} (a fifth: "
              f"{leaks[0] / 5:.4f}, {leaks[0] / 5 / m['leak_floor']:.1f}x the floor), at "
              f"lambda_D 100 {leaks[1]:.4f} ({leaks[1] / m['leak_floor']:.2f}x the floor)")
own = [r["mean_abs_leak"] / r["leak_floor"] for r in measured.values()]
print(f"each run's leak against the floor of its own blocks' covariances: {min(own):.1f} to "
      f"{max(own):.1f} times")

# %% tags=["hide-input"]
fig, axes = plotting.subplots(1, 2, height=3.4)
for ax, (dataset, m) in zip(axes, study["data"].items(), strict=True):
    ranked = sorted(m["given"].items(), key=lambda kv: kv[1]["leak_floor"])[:3]
    labels = ["nothing"] + [name.replace(" (4 bins)", "").replace("_", " ") for name, _ in ranked]
    floors = [m["leak_floor"]] + [g["leak_floor"] for _, g in ranked]
    ax.barh(range(len(floors)), floors, color="0.6")
    for seed, ls in zip(results.V3_SEEDS, ("-", "--"), strict=True):
        for ld, c in ((0, "C0"), (100, "C1")):
            ax.axvline(measured[f"{dataset}32-ssn-ld{ld}{seed}"]["mean_abs_leak"], color=c,
                       ls=ls, lw=1.2)
    ax.set_yticks(range(len(floors)), labels)
    ax.invert_yaxis()
    ax.set(xscale="log", title=dataset, xlabel="least mean leak L, given …")
keys = [Line2D([], [], color=c, label=rf"SSN $\lambda_D$ = {ld}, seed 0")
        for ld, c in ((0, "C0"), (100, "C1"))]
keys.append(Line2D([], [], color="0.4", ls="--", label="the same, seed 1"))
fig.legend(handles=keys, loc="outside lower center", ncols=3)
plotting.show(fig)

# %% [markdown]
# **The time of day is nearly all that skyline blocks share.** Given it, the blocks'
# correlation falls from 0.80 to 0.05 and their variance to 6 % of the whole, and the floor
# on the leak falls 93 times; no other attribute lowers it by more than 1.12 times. A faces
# generator would gain less from a global latent: the background, the one attribute that
# matters, lowers the faces floor 5 times (background fills the blocks around the face).
# The zoo's runs read against these floors in two ways. On faces, a five-fold cut of the
# $\lambda_D = 0$ leaks would still leave 3.3 and 2.8 times the data's floor (seeds 0 and 1):
# the bound leaves room for it. On skylines, the same cut would land at 1.2 and 1.7 times: a
# generator drawing the data's correlations would have to be nearly as local as the bound
# allows, where every run, against the floor of its own blocks' covariances, leaks 5.7 to
# 18.5 times it. The seed-0 $\lambda_D = 100$ SSN leaks less than the data's floor, 0.42 of
# it, so its blocks cannot covary as the data's do: the floor is the lost nights in one
# number. Given the time of day, the same floor sits almost two orders of magnitude lower.
# That is the case for a global latent, a coarse latent beside the grid (the paper's
# conclusion suggests latents at several scales), which no block resample touches.

# %% [markdown]
# ### One time of day
#
# A generator with a global latent carrying the time of day is, at its best, three
# generators in one, each drawing a single time of day. One of the three can be trained
# today. `ssn prepare-data runs/data/skylines32-day --dataset skylines --where
# time_of_day=day --count 45000 --resolution 32` packs the first 45,000 daytime images of the
# skylines set (those among its first 99,748), and `tools/recipe_study.py` trained the
# $\lambda_D = 0$ and $\lambda_D = 100$ twins on that archive from the skylines transfer, the
# start of the share study above, for its 28 minutes on one core each, scoring every
# checkpoint against 10,000 daytime images (`ssn eval --ref runs/data/skylines32-day`). Each
# FID below is against its own data, so the two settings compare by their ratios.

# %%
day_study = results.recipe_study("skylines32-day")
settings = {"all times of day": {0: share_study["variants"]["lambda_D 0"],
                                 100: share_study["variants"]["outside 100"]},
            "daytime only": {0: day_study["variants"]["day, lambda_D 0"],
                             100: day_study["variants"]["day, lambda_D 100"]}}
day_rows = [[setting, ld, f"{p['images']:,}", f"{p['fid']:.1f}", f"{p['distortion']:.4f}",
             f"{p['block_variance']:.4f}", f"{p['relative_leak']:.2f}",
             f"{p['block_rho2']:.2f}", ", ".join(p["never_drawn"]) or "none"]
            for setting, twins in settings.items() for ld, curve in twins.items()
            for p in curve["points"]]
plotting.show_table(["data", "λ_D", "images", "FID", "dist.", "V", "λ", "ρ²", "never drawn"],
                    day_rows, caption="from the skylines transfer, 28 minutes on one core "
                                      "each; all times: data/studies/skylines32-share, "
                                      "daytime: data/studies/skylines32-day")


def twin_ratios(twins: dict) -> list[tuple[str, float, float]]:
    """(where, distortion cut, FID ratio) of lambda_D 100 against 0 at every image count both
    scored, and at both last checkpoints."""
    at = {ld: {p["images"]: p for p in curve["points"]} for ld, curve in twins.items()}
    pairs = [(f"{n:,} images", at[0][n], at[100][n]) for n in sorted(set(at[0]) & set(at[100]))]
    last = [curve["points"][-1] for curve in twins.values()]
    pairs.append((f"last ({last[0]['images']:,} and {last[1]['images']:,})", *last))
    return [(where, a["distortion"] / b["distortion"], b["fid"] / a["fid"])
            for where, a, b in pairs]


ratios = {setting: twin_ratios(twins) for setting, twins in settings.items()}
for setting, points in ratios.items():
    print(f"{setting}: lambda_D 100 against 0, distortion cut and FID ratio")
    for where, cut, ratio in points:
        print(f"  {where:32s} {cut:5.1f}x  {ratio:5.2f}x")

# %% tags=["hide-input"]
fig, ax = plotting.subplots(1, 1, height=3.4)
most = max(c for points in ratios.values() for _, c, _ in points)
for k, (setting, points) in enumerate(ratios.items()):
    ax.plot([c for _, c, _ in points], [r for _, _, r in points], "o-", color=f"C{k}",
            label=setting)
    ax.annotate("", xy=(points[-1][1], points[-1][2]), xytext=(points[-2][1], points[-2][2]),
                arrowprops={"arrowstyle": "->", "color": f"C{k}"})
ax.add_patch(Rectangle((5, 0), 2 * most, 1.3, color="0.9", zorder=0, label="the targets"))
ax.set(xscale="log", xlabel=r"distortion cut, $\lambda_D$ = 100 against 0",
       ylabel="FID ratio, 100 against 0", xlim=(1, 2 * most), ylim=(0, None))
fig.legend(loc="outside lower center", ncols=3)
plotting.show(fig)

# %% [markdown]
# **Without the nights to lose, eq. 2 at 100 cuts by locality, and only two-fold.** On
# daytime skylines the $\lambda_D = 100$ twin keeps what its all-times counterpart gave up: it
# draws every class by its last checkpoint (at 60,000 images it still missed spires, brick
# and whitewash), its blocks vary and correlate as its twin's do ($V$ 0.0181 against 0.0211,
# $\rho^2$ 0.06 and 0.05), and its relative leak is the lower one (0.59 against 1.03): the
# locality the targets ask for. But the cut is 2.0 times at 60,000 images and at the last
# checkpoints, at 2.16 and 1.72 times the FID, where with every time of day the same weight
# cut 63.3 and 16.4 times by dropping times of day. So the daytime pair looks like the faces
# pairs (a two-fold cut at 1.67 and 2.43 times the FID at 960,000 images): once nothing
# global is left to drop, eq. 2 at 100, as the zoo trains it, buys about half the leak, on
# both datasets. Removing the time of day also lowers the unregularised twin's own
# distortion, 0.0096 on daytime against 0.0475 for all times of day at about as many images,
# though the two are measured on different data. A global latent would, by this measure,
# keep the skylines' nights and make the skyline pair as good as the faces pairs; it would
# not by itself reach the five-fold cut at 1.3 times the FID. Whether the network can be
# more local is the next question, and the daytime archive is a cheap place to ask it.

# %% [markdown]
# ### The penalty's estimate, its weight and the network's width
#
# Eq. 2 is an expectation, and the trainer estimates it the way StyleGAN2 treats its
# path-length term: every fourth step (lazy regularisation), on half a batch (8 samples),
# one resampled block per sample, the estimate weighted by $4\lambda_D$ in an optimiser step
# of its own. That is a noisy gradient with a large weight. The daytime study's extensions
# change one thing each on the twins' terms (the same start, 28 minutes on one core, the same
# scores): the penalty at every step (`reg.distortion_interval=1`), four resampled blocks per
# sample (`reg.distortion_resamples=4`), and with four, weights of 300 and 1000. A last pair
# asks about width: `ssn widen` gives the skylines transfer twice the channels in every layer
# (64, where the zoo has 32), drawing exactly the same images (the new channels start with
# zero outgoing weights, `ssnlib.widen`), and the $\lambda_D$ 0 and 1000 twins train from it
# for 46 minutes each, as long as the wider network needs to see 60,000 images
# (`data/studies/skylines32-day-wide`). Every arm is compared at 60,000 images with the
# unregularised twin of its own width.

# %%
wide_study = results.recipe_study("skylines32-day-wide")
arms = {**day_study["variants"], **wide_study["variants"]}
twin_of = {"x1": day_study["variants"]["day, lambda_D 0"],
           "x2": wide_study["variants"]["day, lambda_D 0, x2 wide"]}


def at_images(curve: dict, images: int = 60000) -> dict:
    return next(p for p in curve["points"] if p["images"] == images)


trade = {}          # arm -> (images a second, its point, distortion cut, FID ratio)
for name, curve in arms.items():
    twin = at_images(twin_of["x2" if "x2 wide" in name else "x1"])
    p, last = at_images(curve), curve["points"][-1]
    trade[name.removeprefix("day, ")] = (last["images"] / last["train_s"], p,
                                         twin["distortion"] / p["distortion"],
                                         p["fid"] / twin["fid"])
plotting.show_table(
    ["arm", "FID", "cut", "FID ratio", "inside", "V", "ρ²", "cov."],
    [[name, f"{p['fid']:.2f}", f"{cut:.2f}", f"{ratio:.2f}", f"{p['energy_inside']:.2f}",
      f"{p['block_variance']:.4f}", f"{p['block_rho2']:.3f}", f"{p['coverage']:.2f}"]
     for name, (rate, p, cut, ratio) in trade.items()],
    caption="daytime skylines at 60,000 images; cut and FID ratio against the lambda_D 0 "
            "twin of the same width; data/studies/skylines32-day and skylines32-day-wide")
for name, (rate, p, cut, ratio) in trade.items():
    print(f"{name:34s} {rate:5.1f} img/s  FID {p['fid']:.2f}, cut {cut:4.2f}x at {ratio:4.2f}x, "
          f"inside {p['energy_inside']:.2f}, V {p['block_variance']:.4f}, "
          f"relative leak {p['relative_leak']:.2f}, rho^2 {p['block_rho2']:.3f}, "
          f"coverage {p['coverage']:.2f}")

# %% tags=["hide-input"]
fig, ax = plotting.subplots(1, 1, height=3.6)
markers = iter("osD^v*P")
for k, (name, (_, _, cut, ratio)) in enumerate(trade.items()):
    if cut > 1.01:                                  # the lambda_D 0 twins sit at (1, 1)
        ax.plot(cut, ratio, next(markers), color=f"C{k}", markersize=8, label=name)
ax.add_patch(Rectangle((5, 0), 20, 1.3, color="0.9", zorder=0, label="the targets"))
ax.set(xscale="log", xlabel="distortion cut against the λ_D 0 twin",
       ylabel="FID ratio against the twin", xlim=(1, 20), ylim=(0, None))
fig.legend(loc="outside lower center", ncols=2)
plotting.show(fig)

# %% [markdown]
# **Most of the FID price was the estimate's noise; with less of it, the weight buys
# locality; width does not buy it back.** Four resampled blocks per sample keep
# $\lambda_D = 100$'s cut (1.83 against 2.03 times) and take its FID ratio from 2.16 to
# 1.21, for about a fifth fewer images a second (47.5 against 60.8); the penalty at every
# step does less (1.45) for more (35.5). With four resamples the weight becomes the lever:
# at 300 the cut is 3.56 times at 1.96 times the FID, at 1000 it is 8.14 times at 2.07 times,
# and by locality alone: the block variance is kept (0.0198 against the twin's 0.0177), the
# relative leak falls from 0.92 to 0.15, and 0.72 of a resample's change stays in its block.
# So the 32 px network *can* be local. What the cut costs is what the bound of "The price of
# consistency" says it must: blocks that hardly move each other hardly correlate ($\rho^2$
# 0.011 against 0.061), and the samples cover less of the data (coverage 0.19 against
# 0.33). Twice the channels do not lower that price at this budget: the widened
# unregularised twin draws better skylines than the narrow one (FID 2.86 against 3.78 at
# 60,000 images), but its $\lambda_D = 1000$ twin scores 8.75 against the narrow one's 7.84,
# a 7.38-fold cut at 3.06 times its twin's FID. Width buys quality, not consistency; the
# widened network's new channels start silent, and 60,000 images may be too few for eq. 2
# to put them to use, which only a longer or a GPU run can say.

# %% [markdown]
# ### The weight on faces, with four resamples
#
# Faces are where the targets are measured. The path-length study below trained the zoo's
# faces twins from their transfer for 45 minutes on one core each, scored on 10,000 samples
# and 1000 resamples every 60,000 images; four more branches on the same terms train with
# four resampled blocks per sample and $\lambda_D$ 100, 200, 300 and 1000 (path length at
# the zoo's 0, the only other change). Each compares with the unregularised branch at the
# images both reached, beside the $\lambda_D = 100$ branch trained as the zoo trains it.

# %%
faces_study = results.recipe_study("faces32-ssn-path-length")
faces_arms = {name.removesuffix(", path length 0"): curve
              for name, curve in faces_study["variants"].items()
              if name.endswith("path length 0")}          # the zoo's path-length weight
faces_twin = faces_arms.pop("lambda_D 0")
faces_arms = dict(sorted(faces_arms.items(),  # 'lambda_D 200, 4 resamples' -> (True, 200)
                         key=lambda kv: ("," in kv[0], float(kv[0].split(",")[0].split()[1]))))
faces_trade = {}    # (arm, images) -> (its point, distortion cut, FID ratio)
for images in (60000, 120000):
    twin = at_images(faces_twin, images)
    for name, curve in faces_arms.items():
        p = at_images(curve, images)
        faces_trade[name, images] = (p, twin["distortion"] / p["distortion"],
                                     p["fid"] / twin["fid"])
plotting.show_table(
    ["arm", "images", "FID", "cut", "FID ratio", "inside", "prec.", "cov."],
    [[name, f"{images:,}", f"{p['fid']:.1f}", f"{cut:.2f}", f"{ratio:.2f}",
      f"{p['energy_inside']:.2f}", f"{p['precision']:.2f}", f"{p['coverage']:.2f}"]
     for (name, images), (p, cut, ratio) in faces_trade.items()],
    caption="faces from the transfer, path length 0; cut and FID ratio against the "
            "lambda_D 0 branch at the same images (data/studies/faces32-ssn-path-length)")
for images in (60000, 120000):
    twin = at_images(faces_twin, images)
    print(f"lambda_D 0 at {images:,}: FID {twin['fid']:.2f}, distortion "
          f"{twin['distortion']:.4f}, relative leak {twin['relative_leak']:.2f}, "
          f"V {twin['block_variance']:.4f}, rho^2 {twin['block_rho2']:.3f}, "
          f"coverage {twin['coverage']:.2f}")
for (name, images), (p, cut, ratio) in faces_trade.items():
    print(f"{name:26s} {images:7,}: FID {p['fid']:.2f}, cut {cut:4.2f}x at {ratio:4.2f}x, "
          f"relative leak {p['relative_leak']:.2f}, V {p['block_variance']:.4f}, "
          f"rho^2 {p['block_rho2']:.3f}, recall {p['recall']:.3f}, "
          f"never drawn {len(p['never_drawn'])}")
for name, curve in faces_arms.items():
    last = curve["points"][-1]
    print(f"{name:26s} {last['images'] / last['train_s']:5.1f} img/s, last checkpoint "
          f"{last['images']:,} images: FID {last['fid']:.2f}")

# %% tags=["hide-input"]
fig, ax = plotting.subplots(1, 1, height=3.6)
for k, name in enumerate(faces_arms):
    early, late = faces_trade[name, 60000], faces_trade[name, 120000]
    ax.annotate("", xy=late[1:], xytext=early[1:],
                arrowprops={"arrowstyle": "->", "color": f"C{k}", "alpha": 0.6})
    ax.plot(*early[1:], "o", mfc="none", color=f"C{k}", markersize=8)
    ax.plot(*late[1:], "o", color=f"C{k}", markersize=8, label=name)
ax.add_patch(Rectangle((5, 0), 195, 1.3, color="0.9", zorder=0, label="the targets"))
ax.set(xscale="log", xlabel="distortion cut against the λ_D 0 branch",
       ylabel="FID ratio against it", xlim=(1, 200), ylim=(0, None),
       title="faces: hollow at 60,000 images, filled at 120,000")
fig.legend(loc="outside lower center", ncols=2)
plotting.show(fig)

# %%
from PIL import Image

grids = sorted((results.STUDIES / "faces32-ssn-path-length" / "samples").glob("*.png"),
               key=lambda f: int(f.name.split("-")[2]))   # lambda-d-300--4-resamples--step-*
fig = plotting.image_grid([np.asarray(Image.open(f).convert("RGB")) / 255 for f in grids], 4,
                          titles=[f"λ_D {f.name.split('-')[2]}" for f in grids])
fig.suptitle("four resamples: each arm's last checkpoint, the same 16 latents")
plotting.show(fig)
print("\n".join(f"{f.name}: {int(f.stem.split('-')[-1]) * 16:,} images" for f in grids))

# %% [markdown]
# **On faces the estimate is not the bottleneck, and the price rises with the cut.** Four
# resamples do not lower $\lambda_D = 100$'s price here: 3.05 times at 1.40 times the FID at
# 60,000 images and 4.83 times at 1.82 times at 120,000, against one resample's 2.92 at 1.26
# and 3.07 at 1.58. The weight moves the cut as on skylines: with four resamples 200 cuts
# 4.98 times at 60,000 images, 300 cuts 6.04 and 5.33 times, so the five-fold cut lies at
# about 200 to 300. But every arm near it (a cut of 4.2 to 6.0 times) pays 1.50 to 1.85
# times the FID (200: 1.65 and 1.50; 300: 1.85 and 1.63), and all but 1000 score between
# 22.8 and 33.4 where the unregularised branch scores 18.1 and 15.2. At 1000 the cut is 49
# and 79 times, and the picture shows what it costs: the relative leak falls to 0.05 and
# 0.04 and the blocks almost stop correlating ($\rho^2$ 0.006 and 0.005, against the twin's
# 0.149 and 0.353), so each block draws its own piece of a face and the pieces do not agree
# (FID 3.11 and 3.35 times the twin's, 17 and 14 classes never drawn). A face spans its
# blocks, and its blocks correlate far more than a daytime skyline's (0.353 against 0.061 at
# the twins' 120,000 and 60,000 images): the price of consistency that "The price of
# consistency" bounds is higher on faces, and on these budgets no weight buys a five-fold
# cut within 1.3 times the FID. One seed each, and FID moves by up to 5 between neighbouring
# checkpoints here ($\lambda_D$ 100 with four resamples: 27.6 at 120,000 images, 22.7 at
# 145,600).

# %% [markdown]
# ### A global latent, trained
#
# "What a global latent would buy" measured the data's side; here is a generator with one.
# `SSNGenerator(global_dim=64)` (ours, not the paper's) draws, beside the 4×4 grid of $z$,
# one more latent $u \sim \mathcal{N}(0, I_{64})$ for the whole image. Its own mapping MLP
# turns it into $w_u$, which is added to every block's $w$ through a gain $\gamma$ that
# starts at 0:
#
# $$w_a \;\leftarrow\; w_a + \gamma\, w_u(u) \qquad \text{for every block } a.$$
#
# $u$ rides as the last entry of the noise list, so everything that holds the noise when a
# block is redrawn holds $u$ as well: eq. 2's two images, the metrics, the BlockPicker
# (which gains a *New u* button). Eq. 2 then charges nothing for what $u$ carries, and the
# blocks no longer have to agree on it among themselves. Redrawing every block now ends at
# a fresh $z$ under the same $u$; `ssnlib.resample.redraw_global` redraws $u$ too, the
# chain's last step. Because $\gamma$ starts at 0, a model grown from a start without $u$
# draws exactly that start's images (`tests/test_global_latent.py`), so branches grow one
# from the faces transfer and train on the faces study's terms (45 minutes on one core, the
# same scores): $\lambda_D = 0$, and $\lambda_D = 200$ with four resamples, the arm nearest
# the five-fold cut above; once with $\gamma$ starting at 0 and once at 0.25, which changes
# the start a little but lets $u$ act from the first step (`data/studies/faces32-ssn-global`).

# %%
global_study = results.recipe_study("faces32-ssn-global")
short = {"lambda_D ": "λ", ", 4 resamples": "×4", ", global latent 64": ", u", ", gain ": " γ"}


def brief(name: str) -> str:
    """A study's arm name, short: 'λ200×4, u γ0.25' is eq. 2 at 200, four resamples, with u
    whose gain starts at 0.25."""
    for long, abbreviation in short.items():
        name = name.replace(long, abbreviation)
    return name


pairs = {"λ0": faces_twin, "λ200×4": faces_arms["lambda_D 200, 4 resamples"]}
pairs.update({brief(name): curve for name, curve in global_study["variants"].items()})


def near_images(curve: dict, images: int) -> dict:
    """The checkpoint nearest ``images`` (a slower arm's last one can fall a little short)."""
    return min(curve["points"], key=lambda p: abs(p["images"] - images))


u_rows, u_trade = [], {}
for images in (60000, 120000):
    for name, curve in pairs.items():
        if not name.startswith("λ"):           # the share arms come in the next section
            continue
        twin = pairs[name.replace("200×4", "0")]           # the same kind of model at λ_D 0
        plain0, u0 = near_images(pairs["λ0"], images), near_images(twin, images)
        p = near_images(curve, images)
        u_trade[name, images] = (p, plain0["distortion"] / p["distortion"],
                                 p["fid"] / plain0["fid"], u0["distortion"] / p["distortion"],
                                 p["fid"] / u0["fid"])
        u_rows.append([name, f"{p['images']:,}", f"{p['fid']:.1f}",
                       *[f"{x:.2f}" for x in u_trade[name, images][1:]],
                       f"{p['energy_inside']:.2f}"])
plotting.show_table(
    ["arm", "images", "FID", "cut", "FID ratio", "cut, twin", "ratio, twin", "inside"],
    u_rows, caption="faces from the transfer; cut and FID ratio against λ_D 0 without u, "
                    "then against the λ_D 0 twin of the same kind (data/studies/"
                    "faces32-ssn-global, faces32-ssn-path-length); ×4: four resampled "
                    "blocks per sample; γ: u's starting gain")
for (name, _), (p, cut, ratio, cut_u, ratio_u) in u_trade.items():
    share = f", noise share {p['noise_share']:.1%}" if "noise_share" in p else ""
    print(f"{name:17s} {p['images']:7,}: FID {p['fid']:.2f}, distortion {p['distortion']:.4f}, "
          f"cut {cut:.2f}x at {ratio:.2f}x (against its twin: {cut_u:.2f}x at {ratio_u:.2f}x), "
          f"relative "
          f"leak {p['relative_leak']:.2f}, rho^2 {p['block_rho2']:.3f}{share}, "
          f"precision {p['precision']:.2f}, recall {p['recall']:.3f}, "
          f"never drawn {len(p['never_drawn'])}")
for name, curve in global_study["variants"].items():
    if name.startswith("lambda_D"):
        last = curve["points"][-1]
        print(f"{name}: {last['images'] / last['train_s']:.1f} img/s")

# %% [markdown]
# **A global latent that eq. 2 does not charge is where the generator hides from it.**
# Started at 0, the gain stayed small (the noise list's redraw moves 0.1 to 0.4 % of each
# block's leak) and the branches trained as they did without $u$: $\lambda_D = 200$ with
# four resamples cut the distortion 6.02 and 7.24 times at 1.87 and 2.29 times the FID,
# where the branch without $u$ cut it 4.98 and 4.16 times at 1.65 and 1.50 times. Started at
# 0.25, the $\lambda_D = 0$ branch switched $u$ off (its gain is 0.02 at 120,000 images
# below) and matched its twin (FID 15.19 against 15.22), while the $\lambda_D = 200$ branch
# put $u$ to work: the noise list's redraw, nearly all of it $u$, now moves 98.5 and 99.2 %
# of each block's leak, and eq. 2's distortion fell 52.88 and 126.95 times at 1.45 and 1.40
# times the FID, on paper almost the targets. The blocks correlate as much as the twin's do
# ($\rho^2$ 0.423 against 0.353 at 120,000 images): $u$ carries what they share.

# %% [markdown]
# What does $u$ carry, and what is left to the blocks? The two branches that started $u$'s
# gain at 0.25 are exported beside the study at 120,000 images (`ssn export`, 16-bit
# weights), so this runs here: over 256 samples of each, the mean change per pixel when $u$
# is redrawn (every block of $z$ kept) and when block (2, 1) is redrawn ($u$ kept), inside
# that block and outside it; then four samples of the $\lambda_D = 200$ branch, two redraws
# of $u$ and two of the block.

# %%
from ssnlib.metrics import seam_contrast
from ssnlib.resample import redraw_global, resample_blocks

models = results.STUDIES / "faces32-ssn-global" / "models"
G_u = {name: zoo.load_any(models / folder) for name, folder in
       (("λ0, u γ0.25", "faces32-ssn-ld0-u"), ("λ200×4, u γ0.25", "faces32-ssn-ld200x4-u"))}
block = G_u["λ0, u γ0.25"].grid.index(2, 1)
inside = G_u["λ0, u γ0.25"].grid.block_mask(block)


@torch.no_grad()
def redraws(G, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Samples, the same with u redrawn, the same with ``block`` redrawn: [count, 3, R, R]."""
    gen = torch.Generator().manual_seed(seed)
    z, noise = G.sample_z(count, gen), G.make_noise(count, gen)
    return (G(z, noise=noise), G(z, noise=redraw_global(G, noise, gen)),
            G(resample_blocks(G, z, block, gen), noise=noise))


def redraw_change(name: str, G) -> tuple[float, float, float, float]:
    """Over 256 samples, the mean change per pixel when u is redrawn, and inside and outside
    ``block`` when it is redrawn (printed with u's gain); last, the samples' seam contrast
    (used in "A share that spares the neighbours")."""
    base, by_u, by_block = redraws(G, 256, seed=1)
    du, db = ((x - base).abs().mean(1) for x in (by_u, by_block))     # [256, H, W]
    moved = (float(du.mean()), float(db[:, inside].mean()), float(db[:, ~inside].mean()))
    print(f"{name}: u's gain {G.global_latent.gain.item():.2f}; a u redraw changes a pixel by "
          f"{moved[0]:.3f}; a block redraw by {moved[1]:.3f} inside the block, "
          f"{moved[2]:.4f} outside it")
    return (*moved, seam_contrast(base, G.grid))


change = {name: redraw_change(name, G) for name, G in G_u.items()}
(_, in0, *_), (_, in200, *_) = change.values()
print(f"the block's own change at lambda_D 200 is {in0 / in200:.0f} times smaller than at 0")

# %% tags=["hide-input"]
G = G_u["λ200×4, u γ0.25"]
gen = torch.Generator().manual_seed(7)
z, noise = G.sample_z(4, gen), G.make_noise(4, gen)
with torch.no_grad():
    columns = [G(z, noise=noise)]
    columns += [G(z, noise=redraw_global(G, noise, gen)) for _ in range(2)]
    columns += [G(resample_blocks(G, z, block, gen), noise=noise) for _ in range(2)]
rgb = [((c[i].permute(1, 2, 0) + 1) / 2).clamp(0, 1) for i in range(4) for c in columns]
fig = plotting.image_grid(rgb, 5, titles=["sample", "new u", "new u", "new block",
                                          "new block"] + [""] * 15,
                          boxes=[None, None, None, G.grid.box(block), G.grid.box(block)] * 4)
fig.suptitle("λ_D 200 with u: u redrawn (blocks kept), block (2, 1) redrawn (u kept)")
plotting.show(fig)

# %% [markdown]
# **But the blocks have almost nothing left to do.** A redraw of $u$ changes a pixel by
# 0.375 on average; a redraw of block (2, 1) changes its own block by 0.039, where the
# twin's changes it by 0.209, and the rest of the image by 0.0070. The figure shows it: a
# new $u$ is a new face, hair, background and shirt, a new block shades a cheek. Eq. 2
# charges what a resample changes outside its block and nothing else, so a generator that
# may keep its variety in a latent eq. 2 does not see moves it there, and the distortion cut
# then measures inert blocks, not local ones. The targets' two numbers, the cut and the FID
# ratio, do not tell the two apart; the block's own change does. A global latent needs a
# counterweight: a penalty on the *share* of a change that lands outside its block
# ("Charging the share instead" above), which no shrinking of every change lowers, or a
# floor on what a block's redraw must change. The next section tries the first.

# %% [markdown]
# ### The share as counterweight
#
# The share penalty (`reg.distortion_mode=share`) charges, for each resample, the fraction
# of its squared change that lands outside the redrawn block $a$,
#
# $$R_{\text{share}} = \mathbb{E}_{z, a}\left[\frac{\sum_{p \notin J_a} \delta_a(p)}{\sum_p
# \delta_a(p)}\right],$$
#
# with $\delta_a(p)$ the squared change at pixel $p$ as in "Charging the share instead".
# Shrinking every change alike buys nothing, and a generator that empties its blocks gains no
# credit for it. Four more branches train on the same terms as the ones above: the share at 3
# with four resampled blocks per sample, with $u$ (its gain starting at 0.25) and without it,
# then with $u$ at 10 and 30. Beside the cut and the FID ratio, the table holds what the
# targets miss: the *own change*, the mean squared change inside the redrawn block
# (`change_inside` in the study's manifest), and $u$'s share of each block's leak (the noise
# list's redraw, as above).

# %%
share_arms = {name: curve for name, curve in pairs.items() if name.startswith("share")}
looked_at = {"λ0, u γ0.25": pairs["λ0, u γ0.25"], "λ200×4, u γ0.25": pairs["λ200×4, u γ0.25"],
             **share_arms}
plain0 = near_images(pairs["λ0"], 120000)
share_rows, share_trade = [], {}
for name, curve in looked_at.items():
    p = near_images(curve, 120000)
    share_trade[name] = (p, plain0["distortion"] / p["distortion"], p["fid"] / plain0["fid"])
    share_rows.append([name, f"{p['fid']:.1f}", f"{share_trade[name][1]:.2f}",
                       f"{share_trade[name][2]:.2f}", f"{p['energy_inside']:.2f}",
                       f"{p['change_inside']:.4f}", f"{p['noise_share']:.1%}"])
plotting.show_table(["arm", "FID", "cut", "FID ratio", "inside", "own change", "u's share"],
                    share_rows, caption="faces at 120,000 images; cut and FID ratio against "
                                        "λ_D 0 without u; own change: mean squared change "
                                        "inside the redrawn block (data/studies/"
                                        "faces32-ssn-global)")
for name, (p, cut, ratio) in share_trade.items():
    print(f"{name:19s} {p['images']:7,}: FID {p['fid']:.2f}, distortion {p['distortion']:.6f}, "
          f"cut {cut:.2f}x at {ratio:.2f}x, inside {p['energy_inside']:.2f}, own change "
          f"{p['change_inside']:.4f}, relative leak {p['relative_leak']:.2f}, rho^2 "
          f"{p['block_rho2']:.3f}, u's share {p['noise_share']:.1%}, precision "
          f"{p['precision']:.2f}")
for name, curve in share_arms.items():
    last = curve["points"][-1]
    print(f"{name}: {last['images'] / last['train_s']:.1f} img/s")

# %% tags=["hide-input"]
fig, ax = plotting.subplots(1, 1, height=3.6)
for k, (name, curve) in enumerate(pairs.items()):
    if name in ("λ0", "λ200×4"):           # scored before change_inside was recorded
        continue
    p = near_images(curve, 120000)
    ax.plot(plain0["distortion"] / p["distortion"], p["change_inside"],
            "s" if name.startswith("share") else "o", color=f"C{k}", markersize=8, label=name)
ax.axvline(5, color="0.5", ls=":", label="a five-fold cut")
ax.set(xscale="log", yscale="log", xlabel="distortion cut against λ_D 0 without u",
       ylabel="own change of a redrawn block")
fig.legend(loc="outside lower center", ncols=3)
plotting.show(fig)

# %% [markdown]
# **The share keeps the blocks at work.** At 3 it cuts the distortion 1.61 and 1.82 times
# (with $u$ and without) at 1.00 and 1.04 times the FID, and $u$ stays unused (0.1 % of the
# leak): a small cut at no price, as share 1 gave on skylines. At 10 the cut reaches 4.61
# times, but at 1.70 times the FID (precision 0.15), with $u$ still nearly idle (3.1 %). At
# 30 the generator turns $u$ up and moves all that the blocks share into it (100.0 % of the
# leak), and eq. 2's distortion falls 899.86 times at 1.59 times the FID. Unlike eq. 2's
# branch with $u$, these blocks keep their work: a redrawn block's own change is 0.1578 at
# 10 and 0.0382 at 30, against 0.0049 for $\lambda_D = 200$ with $u$ and 0.0658 for the
# unregularised twin. In the figure, eq. 2 with $u$ moved down (inert blocks) and the share
# moved right (local ones).

# %% [markdown]
# The branches at 10 and 30 are exported beside the others at 120,000 images; the same
# 256-sample measurement, then four samples of each with block (2, 1) redrawn:

# %%
G_share = {name: zoo.load_any(models / folder) for name, folder in
           (("share 10×4, u γ0.25", "faces32-ssn-share10x4-u"),
            ("share 30×4, u γ0.25", "faces32-ssn-share30x4-u"))}
change.update({name: redraw_change(name, G) for name, G in G_share.items()})

# %% tags=["hide-input"]
def block_redraw_figure(generators: dict, title: str) -> None:
    """For each generator, four samples (seed 7) and below them the same with ``block``
    redrawn (u and the noise kept)."""
    rgb, boxes = [], []
    for G in generators.values():
        gen = torch.Generator().manual_seed(7)
        z, noise = G.sample_z(4, gen), G.make_noise(4, gen)
        with torch.no_grad():
            rows = [G(z, noise=noise), G(resample_blocks(G, z, block, gen), noise=noise)]
        rgb += [((row[i].permute(1, 2, 0) + 1) / 2).clamp(0, 1) for row in rows for i in range(4)]
        boxes += [None] * 4 + [G.grid.box(block)] * 4
    fig = plotting.image_grid(rgb, 4, boxes=boxes,
                              titles=[t for name in generators for k in (0, 1) for t in
                                      [f"{name.split('×')[0]}: {'new block' if k else 'samples'}",
                                       "", "", ""]])
    fig.suptitle(title)
    plotting.show(fig)


block_redraw_figure(G_share, "share penalty with u: four samples, then block (2, 1) redrawn "
                             "(u kept)")

# %% [markdown]
# **Local and alive, but seamed.** At 30 a redraw of $u$ changes a pixel by 0.368 and is
# the image's global draw (background, shirt, skin); a redraw of block (2, 1) changes its
# block by 0.177, near the unregularised twin's 0.209, and the rest of the image by 0.0022,
# against the twin's 0.127: the most local resample in this chapter, by a block that still
# does something. The samples show the price the FID ratio counts. The head's shading breaks
# at the block borders, and at 10 the backgrounds split in two: the blocks no longer agree
# on one picture. The share charges every change outside the block, including those that
# consistency needs (a new patch of hair that should carry on into its neighbours), and at
# these weights it outweighs the discriminator's push for seamless images. So with one
# 45-minute run each, neither penalty meets the targets with $u$: eq. 2 empties the blocks,
# the share breaks their agreement. The next section charges the changes next to the block
# less, as the radial weights do for eq. 2.

# %% [markdown]
# ### A share that spares the neighbours
#
# The share charges a change one pixel beyond the block's border as much as one in the far
# corner, yet the first is what consistency asks for: a new patch of hair must carry on into
# the next block, a new cheek must meet its jaw. The *radial share*
# (`reg.distortion_mode=radial_share`, ours) weights the change outside by the radial
# weights $m_a(p)$ of "Outside or radial" before taking its share,
#
# $$R_{\text{radial share}} = \mathbb{E}_{z, a}\left[\frac{\sum_{p \notin J_a} m_a(p)\,
# \delta_a(p)}{\sum_p \delta_a(p)}\right],$$
#
# so a change that blends the new block into its neighbours is nearly free and a far one
# costs up to about two and a half times as much. A change spread evenly outside the block
# costs what the share charges, since the weights average 1 there. Two branches train on the
# terms above, with $u$ from 0.25 and four resamples, at 30 and 60, with two differences:
# the CPU they ran on has no bf16 instructions (autocast then emulates bf16 in software, far
# slower; `ssn train` now warns), so they trained in float32, and for 70 minutes instead of
# 45 to reach 120,000 images (`data/studies/faces32-ssn-radial-share`). To see the seams as
# a number, `ssnlib.metrics.seam_contrast` compares the colour steps between neighbouring
# pixels that straddle a block border with the steps of the pairs one pixel beside them:
# about 1 where the grid does not show, above 1 where the blocks disagree at their borders
# (`ssn eval --metrics seams`; the data's own score under the same grid is the level to
# meet, since a face's layout can put an edge on a border). The table takes the seam
# contrast of each exported generator over 256 samples.

# %%
from ssnlib.metrics.reference import source_batches

radial_study = results.recipe_study("faces32-ssn-radial-share")
radial_arms = {brief(name): curve for name, curve in radial_study["variants"].items()}
pairs.update({name: curve for name, curve in radial_arms.items() if "seed" not in name})


def load_radial(name: str):
    """An exported radial-share arm: 'radial share 60×4, u γ0.25, seed 1' is in
    models/faces32-ssn-radialshare60x4-u-seed1."""
    weight, seed = name.split("×")[0].split()[-1], name.partition("seed ")[2]
    folder = f"faces32-ssn-radialshare{weight}x4-u" + (f"-seed{seed}" if seed else "")
    return zoo.load_any(results.STUDIES / "faces32-ssn-radial-share" / "models" / folder)


G_radial = {name: load_radial(name) for name in radial_arms if name.startswith("radial share")
            and "seed" not in name}
change.update({name: redraw_change(name, G) for name, G in G_radial.items()})
data_seams = seam_contrast(source_batches("faces", 256, 32, workers=1), G_u["λ0, u γ0.25"].grid)


radial_rows, radial_trade = [], {}
for name in change:                                 # every exported generator with u
    p = near_images(pairs[name], 120000)
    radial_trade[name] = (p, plain0["distortion"] / p["distortion"], p["fid"] / plain0["fid"],
                          change[name][3])       # the samples redraw_change measured
    radial_rows.append([name, f"{p['fid']:.1f}", f"{radial_trade[name][1]:.2f}",
                        f"{radial_trade[name][2]:.2f}", f"{p['change_inside']:.4f}",
                        f"{p['noise_share']:.1%}", f"{radial_trade[name][3]:.2f}"])
short_of = "".join(f"; {name.split('×')[0]} at {p['images']:,}, its last"
                   for name, (p, *_) in radial_trade.items() if p["images"] != 120000)
plotting.show_table(["arm", "FID", "cut", "FID ratio", "own change", "u's share", "seams"],
                    radial_rows,
                    caption=f"faces at 120,000 images{short_of}; against λ_D 0 without u; "
                            f"seams: seam contrast of 256 samples (the data's: "
                            f"{data_seams:.2f})")
print(f"the data's seam contrast over 256 images: {data_seams:.3f}")
for name, (p, cut, ratio, seams) in radial_trade.items():
    print(f"{name:26s} {p['images']:7,}: cut {cut:.2f}x at {ratio:.2f}x, own change "
          f"{p['change_inside']:.4f}, "
          f"inside {p['energy_inside']:.2f}, u's share {p['noise_share']:.1%}, seams "
          f"{seams:.3f}, precision {p['precision']:.2f}")

# %% tags=["hide-input"]
block_redraw_figure(G_radial, "radial share with u: four samples, then block (2, 1) redrawn "
                              "(u kept)")

# %% [markdown]
# **Sparing the neighbours keeps the faces whole.** At 60 the radial share cuts eq. 2's
# distortion 179.97 times at 1.01 times the FID of $\lambda_D = 0$ without $u$ (at its last
# checkpoint, 118,400 images; precision 0.55), at 30 77.93 times at 1.23 times. As the share
# at 30 did, the generator turns $u$ up and moves into it nearly all that the blocks share
# (99.7 % and 99.2 % of the leak), but now the blocks still agree where they meet: a seam
# contrast of 1.14 and 1.07, against the share's 1.76, the unregularised twin's 1.05 and the
# data's 1.03. A redraw of block (2, 1) at 60 changes its block by 0.166 (the twin: 0.209)
# and the rest of the image by 0.0042 (the twin: 0.127). The samples are faces again, with
# eyes and hair; at 30 some shirts still split into two colours at a block border, at 60
# none of these four does. The redraws are quiet: the cheek in the box changes its shading
# and no border shows. This is the first arm in the chapter to pass both of the targets'
# numbers, a cut of at least five at no more than 1.3 times the FID, and it does so with
# blocks that still work. It settles less than it seems: one seed of each; the own change at
# 60 is 0.0317, under half the twin's 0.0658 (its mean absolute change falls far less, 0.166
# against 0.209: the redraws are milder, not empty); its seams sit above the data's; and
# float32 against the others' bf16 is one more difference. The next section repeats it.

# %% [markdown]
# ### A second seed
#
# Seed 1 trains the radial share at 60 again, on the same terms, and beside it a
# $\lambda_D = 0$ twin without $u$ trained the same way (float32, 70 minutes, the same
# CPU), so that on this seed the cut and the FID ratio compare two runs that differ in the
# penalty and $u$ alone. Each seed is held against its own twin at 120,000 images; the
# seed-1 generator is exported there too.

# %%
twin1, arm_name = radial_arms["λ0, seed 1"], "radial share 60×4, u γ0.25, seed 1"
G_seed1 = load_radial(arm_name)
change[arm_name] = redraw_change(arm_name, G_seed1)
seed_rows, seed_trade = [], {}
for seed, name, twin in ((0, "radial share 60×4, u γ0.25", plain0),
                         (1, arm_name, near_images(twin1, 120000))):
    p = near_images(radial_arms[name], 120000)
    seed_trade[seed] = (p, twin, twin["distortion"] / p["distortion"], p["fid"] / twin["fid"])
    seed_rows.append([str(seed), f"{twin['fid']:.1f}", f"{p['fid']:.1f}",
                      f"{seed_trade[seed][2]:.2f}", f"{seed_trade[seed][3]:.2f}",
                      f"{p['change_inside']:.4f}", f"{p['noise_share']:.1%}",
                      f"{change[name][3]:.2f}"])
seed_short = "".join(f" (seed {seed} at {p['images']:,}, its last)"
                     for seed, (p, *_) in seed_trade.items() if p["images"] != 120000)
plotting.show_table(["seed", "λ0 FID", "FID", "cut", "FID ratio", "own change", "u's share",
                     "seams"], seed_rows,
                    caption=f"radial share 60 with u at 120,000 images{seed_short}, each "
                            "against the λ_D 0 twin (no u) of its seed; seed 0's twin trained "
                            "in bf16, seed 1's in float32; seams of 256 samples (the data's: "
                            f"{data_seams:.2f})")
for seed, (p, twin, cut, ratio) in seed_trade.items():
    own = twin.get("change_inside")                 # seed 0's twin was scored before it
    print(f"seed {seed}: twin {twin['images']:,} images, FID {twin['fid']:.2f}, distortion "
          f"{twin['distortion']:.4f}, precision {twin['precision']:.2f}, own change "
          f"{'not recorded' if own is None else f'{own:.4f}'}; radial 60 {p['images']:,}: FID "
          f"{p['fid']:.2f}, distortion {p['distortion']:.6f}, cut {cut:.2f}x at {ratio:.2f}x, "
          f"own change {p['change_inside']:.4f}"
          + ("" if own is None else f" ({p['change_inside'] / own:.2f} of the twin's)")
          + f", precision {p['precision']:.2f}")

# %% tags=["hide-input"]
block_redraw_figure({"radial share 60, seed 1": G_seed1},
                    "radial share 60 with u, seed 1: four samples, then block (2, 1) redrawn")

# %% [markdown]
# **Two seeds pass the targets' numbers, with the same caveats.** On seed 1 the radial
# share at 60 cuts its twin's distortion 150.42 times at 1.22 times its FID (18.84 against
# 15.49), where seed 0 cut 179.97 times at 1.01 times: both seeds pass the targets' two
# numbers, seed 1 with less room on the FID. Its redraw of block (2, 1) changes the block
# by 0.171 and the rest of the image by 0.0046, close to seed 0's 0.166 and 0.0042, and $u$
# again carries nearly all that the blocks share (99.8 % of the leak). The caveats repeat
# as well: the redrawn block's own squared change is 0.0321, 0.44 of this seed's twin's
# 0.0727 (a twin without $u$), and the seam contrast is 1.18 against the data's 1.03. The
# figure shows where that comes from: the second face's new block paints a dark chin whose
# edge follows the box. So the radial share with $u$ meets the cut and FID targets on two
# seeds at 120,000 images, with redraws milder than the unregularised model's and a seam
# that shows now and then. Both seeds' arms now continue as zoo runs,
# `faces32-ssn-radial60-u` and `faces32-ssn-radial60-u-seed1` (the zoo v3 section above
# holds them against their $\lambda_D = 0$ twins after each installment).

# %% [markdown]
# **On skylines.** The faces arm's exact overrides were trained on the skylines recipe on the
# same terms (70 minutes on one core, float32; `data/studies/skylines32-radial-share`), then
# the weight lowered with $u$ kept, the weight kept without $u$, and second seeds of the
# weights 10 and 20. Each arm is held against a $\lambda_D = 0$ twin without $u$ of its own
# seed, trained on the same terms, at 120,000 images; "never drawn" lists the classes of at
# least 5 % of the data that under 1 % of 10,000 samples show (a lost mode):

# %%
sky_arms = dict(results.recipe_study("skylines32-radial-share")["variants"])


def seed_of(name: str) -> int:
    """'..., seed 1' -> 1; an arm without a seed in its name has seed 0."""
    return int(name.rsplit(", seed ", 1)[1]) if ", seed " in name else 0


sky_twins = {seed_of(name): near_images(sky_arms.pop(name), 120000)     # on the arms' terms
             for name in [n for n in sky_arms if n.startswith("lambda_D 0, float32")]}
sky_bf16 = near_images(results.recipe_study("skylines32-share")["variants"]["lambda_D 0"],
                       120000)


def never(classes: list[str]) -> str:
    """'time_of_day=day' -> 'day', 'houses=1' -> 'houses 1'."""
    return ", ".join(v if not v.isdigit() else f"{k} {v}"
                     for k, v in (c.split("=") for c in classes)) or "-"


sky_rows, sky_short = [], ""
for name, curve in sky_arms.items():
    p, twin = near_images(curve, 120000), sky_twins[seed_of(name)]
    cut, ratio = twin["distortion"] / p["distortion"], p["fid"] / twin["fid"]
    sky_rows.append([brief(name), f"{p['fid']:.1f}", f"{cut:.{0 if cut >= 10 else 1}f}",
                     f"{ratio:.2f}",
                     f"{p['change_inside']:.4f}", f"{p['seam_contrast']:.3f}",
                     never(p["never_drawn"])])
    if p["images"] != 120000:                        # a slower arm's last checkpoint
        sky_short += f"; {brief(name).replace('×4, u γ0.25', '')} at {p['images']:,}, its last"
plotting.show_table(["arm", "FID", "cut", "FID ratio", "own change", "seams", "never drawn"],
                    sky_rows,
                    caption=f"skylines at 120,000 images{sky_short}, each against the λ_D 0 "
                            "twin without u of its seed, on the same terms ("
                            + "; ".join(f"seed {seed}: FID {t['fid']:.2f}, distortion "
                                        f"{t['distortion']:.4f}" for seed, t in sky_twins.items())
                            + f"; the bf16 branch: {sky_bf16['fid']:.2f}, "
                            f"{sky_bf16['distortion']:.4f}); "
                            f"seams: 1000 samples (the data's: "
                            f"{p['data_seam_contrast']:.3f})")
print("u's share of the leak: " + "; ".join(
    f"{brief(name)} {near_images(curve, 120000)['noise_share']:.1%}"
    for name, curve in sky_arms.items() if "global latent 64" in name))
twin_mean = {key: float(np.mean([t[key] for t in sky_twins.values()]))
             for key in ("fid", "distortion")}          # one twin's FID is noisy at 120,000
references = {f"seed {seed}'s twin": t for seed, t in sky_twins.items()}
references[f"the twins' mean (FID {twin_mean['fid']:.2f})"] = twin_mean
for name, curve in sky_arms.items():
    if name.startswith(("radial share 10,", "radial share 20,")):
        p = near_images(curve, 120000)
        print(f"{brief(name)}: " + "; ".join(
            f"{label} {t['distortion'] / p['distortion']:.0f}x at {p['fid'] / t['fid']:.2f}x"
            for label, t in references.items()))

# %% [markdown]
# **The second twin undoes the pass.** Trained on the same terms with seed 1, the
# unregularised twin scored FID 8.52 at 120,000 images, where seed 0's twin scored 13.26 and
# the bf16 branch 7.32: at this length, runs that differ only in their seed or precision
# land far apart. Held against the twin of its own seed, the weight 10 with $u$ passes on
# seed 0 (a 124-fold cut at 0.90 times the FID) and misses on seed 1 (146-fold at 1.37
# times). Against the two twins' mean (FID 10.89) both seeds would pass, at 1.10 and 1.07
# times, but the target pairs each seed with its twin. At weight 20 it is $u$ itself that
# depends on the seed: seed 0 moved what the blocks share into $u$ (99.9 % of the leak),
# seed 1 did not (0.6 %), and with its blocks busy (own change 0.0739) it cut only 24-fold at
# 2.11 times the FID; at 10 both seeds took $u$ up (99.7 %). The other arms say the same as
# before. At 60 with $u$ the generator hides the picture in $u$: a redrawn block changes its
# own pixels by 0.0072 and no daytime skyline is drawn (1.71 times the FID). Below 10 the
# penalty lets go of $u$ (0.1 % and 0.0 % of the leak at 5 and 3) and the cut is 1.1 and
# 1.5. Without $u$ the blocks stay busy (0.0817) but the seams rise to 1.323 and the nights
# are gone. So on skylines the radial share at 10 with $u$ cuts the leak over a hundred-fold
# on both seeds, at an FID that 120,000 images cannot tell apart from the spread of the
# unregularised runs; longer runs, the weight-10 arms continued to the zoo twins' images,
# are what can. They now continue as zoo runs, `skylines32-ssn-radial10-u` and `-seed1`
# (the zoo v3 lists above), started again from the transfer in bf16: at 120,000 images they
# score FID 16.5 and 15.0 and leak 3.08e-04 and 9.62e-04, a worse FID than the float32 arms
# had at these images. Their twins are met at 304,000 and 260,800 images.

# %% [markdown]
# ## Path length falls as $\lambda_D$ rises
#
# The paper's Table 2 has one more column: the *perceptual path length* (PPL, Karras et al.
# 2019), how fast the image changes along a straight path in the mapped latent $w$,
#
# $$\begin{aligned}
#   \mathrm{PPL} &= \mathbb E\Big[ \tfrac{1}{\epsilon^2}\,
#   \big\| f\big(g(w(t))\big) - f\big(g(w(t + \epsilon))\big) \big\|^2 \Big], \\
#   w(t) &= (1 - t)\, w_0 + t\, w_1, \qquad \epsilon = 10^{-4},
# \end{aligned}$$
#
# with $f$ a feature network (`ssnlib.metrics.ppl`: our domain network where the paper used
# LPIPS; $t = 0$; the mean between the 1st and 99th percentiles). For an SSN the path moves
# the whole $w$ grid, every block at once. The paper's PPL falls from 151 at $\lambda_D = 0$
# to 55 at $10^4$: eq. 2 charges the part of a block's change that lands outside it, and a
# generator that keeps each block's change at home changes less along any path. The two
# feature spaces differ, so we compare each column with its own $\lambda_D = 0$, on the
# models trained from scratch with eq. 2's weighting (the mean over seeds where there are
# two):

# %%
ours: dict[float, list[float]] = {}
for m in ms:
    lam = m["training"]["lambda_D"]
    if (m["model"]["arch"], results.start(m)) == ("ssn", "scratch") and (
            lam == 0 or results.weighting(m) == "outside"):
        ours.setdefault(lam, []).append(results.score(m, "ppl"))
ppl_ours = {lam: float(np.mean(v)) for lam, v in sorted(ours.items())}
ppl_paper = {lam: row[1] for lam, row in results.PAPER_TABLE2.items()}
print(f"{'lambda_D':>8s} {'ours':>6s} {'/ at 0':>7s} {'seeds':>9s} | {'paper':>5s} "
      f"{'/ at 0':>7s}")
for lam in sorted(set(ppl_ours) | set(ppl_paper)):
    o, p = ppl_ours.get(lam, math.nan), ppl_paper.get(lam, math.nan)
    seeds = ", ".join(f"{x:.0f}" for x in ours.get(lam, []))
    print(f"{lam:8g} {o:6.0f} {o / ppl_ours[0]:7.2f} {seeds:>9s} | {p:5.0f} "
          f"{p / ppl_paper[0]:7.2f}".replace("nan", "  -"))

# %% tags=["hide-input"]
fig, ax = plotting.subplots(height=3.0)
for name, values, marker in (("ours (32 px faces, domain features)", ppl_ours, "o"),
                             ("paper (256 px FFHQ, LPIPS)", ppl_paper, "s")):
    lams = sorted(values)
    ax.plot([lam + 1 for lam in lams], [values[lam] / values[0] for lam in lams],
            marker + "-", ms=5, label=name)
ax.set(xscale="log", xlabel=r"$\lambda_D + 1$", ylabel=r"PPL / PPL at $\lambda_D = 0$",
       ylim=(0, 1.2), title="path length against the distortion weight")
ax.grid(alpha=0.3)
ax.legend()
plotting.show(fig)

# %% [markdown]
# Ours falls the same way, and further: to 0.39 of its $\lambda_D = 0$ value at
# $\lambda_D = 100$, where the paper's is at 0.55, and to 0.33 at 1000 against the paper's
# 0.50. Two caveats keep this a comparison of trends, not of values: our models train
# without the path-length regulariser (which lowers PPL, and which the paper's models had),
# and our two $\lambda_D = 100$ seeds give 101 and 55, a factor of two apart.

# %% [markdown]
# ### With the path-length regulariser on
#
# Every zoo run trains with `reg.pl_weight=0`, to save CPU time; the paper's models trained
# with StyleGAN2's path-length regulariser at weight 2. It pulls the generator's Jacobian
# towards a constant norm, so that equal steps in $w$ move the image by equal amounts. Could
# that be what lets eq. 2 cut the distortion without costing FID? `tools/recipe_study.py`
# trained four branches from the faces transfer, the start of the zoo's twins, for 45
# minutes on one core each: $\lambda_D$ 0 and 100, each with the path-length weight at 0
# and at 2, bf16, checkpoints every 60,000 images scored on 10,000 samples and 1000
# resamples; `ssn eval --metrics ppl --num 2000` measured the PPL of each branch at
# 120,000 images.

# %%
pl_study = results.recipe_study("faces32-ssn-path-length")


def pl_and_lambda(variant: str) -> tuple[float, float]:
    """'lambda_D 100, path length 2' -> (2.0, 100.0)."""
    lam, pl = (float(part.split()[-1]) for part in variant.split(", "))
    return pl, lam


pl_curves = {pl_and_lambda(v): c["points"] for v, c in pl_study["variants"].items()
             if "resamples" not in v}           # those arms: "The penalty's estimate" above
pl_at = {key: {p["images"]: p for p in pts} for key, pts in pl_curves.items()}  # by images
pl_rows = [[f"{pl:g}", f"{lam:g}", f"{p['images']:,}", f"{p['fid']:.1f}",
            f"{p['precision']:.2f}", f"{p['coverage']:.2f}", f"{p['distortion']:.4f}",
            f"{p['relative_leak']:.2f}", len(p["never_drawn"])]
           for (pl, lam), pts in sorted(pl_curves.items()) for p in pts]
plotting.show_table(["path len.", "λ_D", "images", "FID", "prec.", "cov.", "dist.", "λ",
                     "lost"], pl_rows,
                    caption="faces, from the transfer, 45 minutes on one core each "
                            "(data/studies/faces32-ssn-path-length); λ: relative leak; lost: "
                            "classes never drawn")
shared = sorted(set.intersection(*(set(at) for at in pl_at.values())))
print("lambda_D 100 against lambda_D 0, at the images both reached: distortion cut, "
      "FID ratio")
for pl in (0.0, 2.0):
    zero, hundred = pl_at[pl, 0.0], pl_at[pl, 100.0]
    print(f"  path length {pl:g}: " + "; ".join(
        f"{n:,} {zero[n]['distortion'] / hundred[n]['distortion']:.2f}x "
        f"at {hundred[n]['fid'] / zero[n]['fid']:.2f}x" for n in shared))

# %% tags=["hide-input"]
fig, (fx, dx) = plotting.subplots(1, 2, height=3.3)
for (pl, lam), pts in sorted(pl_curves.items()):
    style = {"color": "C0" if lam == 0 else "C3", "ls": "-" if pl == 0 else "--",
             "marker": "o" if pl == 0 else "s", "ms": 4,
             "label": rf"$\lambda_D = {lam:g}$, path length {pl:g}"}
    images = [p["images"] / 1000 for p in pts]
    fx.plot(images, [p["fid"] for p in pts], **style)
    dx.plot(images, [p["distortion"] for p in pts], **style)
fx.set(xlabel="thousand images seen", ylabel="FID (10,000 samples)", ylim=(0, None))
dx.set(xlabel="thousand images seen", ylabel="distortion (1000 samples)", ylim=(0, None))
for ax in (fx, dx):
    ax.grid(alpha=0.3)
fig.legend(*fx.get_legend_handles_labels(), loc="outside lower center", ncols=2)
plotting.show(fig)

# %%
import json

ppl_120k = {}                           # ssn eval --metrics ppl at 120,000 images
for f in sorted((results.STUDIES / "faces32-ssn-path-length" / "ppl-120000").glob("*.json")):
    lam, pl = map(float, re.findall(r"\d+", f.stem))   # lambda-d-100--path-length-2.json
    ppl_120k[pl, lam] = json.loads(f.read_text())["metrics"]["ppl"]["ppl"]
print("per branch: images per second of training (its last checkpoint), PPL at 120,000 images")
for (pl, lam), pts in sorted(pl_curves.items()):
    print(f"  lambda_D {lam:3g}, path length {pl:g}: "
          f"{pts[-1]['images'] / pts[-1]['train_s']:5.1f} img/s, PPL {ppl_120k[pl, lam]:4.0f}")
print("path length 2 against 0 at 120,000 images, distortion cut: " + ", ".join(
    f"lambda_D {lam:g} "
    f"{pl_at[0, lam][120000]['distortion'] / pl_at[2, lam][120000]['distortion']:.2f}x"
    for lam in (0, 100)))

# %% [markdown]
# The regulariser does its own job: at 120,000 images it nearly halves the PPL at
# $\lambda_D = 0$ and lowers it at 100, for about an eighth fewer images per second (the
# pairs with and without it trained one after the other, on the same machine). It also
# lowers the distortion of both, which eq. 2 does not ask it to: $\lambda_D = 0$ leaks 1.40
# times less with it, at about the same FID. But it does not change the trade-off that the
# targets measure. Between the twins of each setting, at 60,000 and 120,000 images,
# $\lambda_D = 100$ cuts the distortion 2.92 and 3.07 times at 1.26 and 1.58 times the FID
# with the regulariser off, 3.12 and 2.76 times at 1.40 and 1.28 times with it on: one
# setting ahead at one checkpoint, the other at the next, and the $\lambda_D = 100$ branch
# with the regulariser moved from FID 24.4 to 20.2 and back to 24.9 between its own
# checkpoints. Both $\lambda_D = 100$ branches cover a third to two thirds of what their
# twins cover, and at its last checkpoint the one with the regulariser never drew six
# classes, the one without it two. Within this budget the path-length regulariser is no
# lever for the targets, and the zoo keeps its weight at 0.

# %% [markdown]
# ## Resampling by hand
#
# The `BlockPicker` (`ssnlib.widgets`) resamples the blocks you click. Below, two pickers
# with the same seed, hence the same $z$ and noise, on the zoo's version 3 twins
# (`faces32-ssn-ld0` and `faces32-ssn-ld100` from `data/runs/`, the same StyleGAN2 start and
# the same images seen, as are the curves of the next two sections): faces, where the
# 40,000-image models above drew blurs. The cell selects two blocks of the lower face (blocks
# 9 and 10) and clicks *Resample*, so the same fresh values go into the same blocks of both
# models.
# Each picker shows the new image, the one before with the resampled blocks outlined, and a
# heat map of the change; its status line measures how much of the change stayed inside.
# In JupyterLab the pickers are live; in the book they show the state the cell left.

# %%
import ipywidgets as widgets

from ssnlib.widgets import BlockPicker

hands_on = {0: "faces32-ssn-ld0", 100: "faces32-ssn-ld100"}   # zoo v3 runs, eq. 2 as written
twins = {lam: runs.load(name) for lam, name in hands_on.items()}
print(", ".join(f"{name}: {runs.summary(name)['images']:,} images" for name in hands_on.values()))
pickers = {}
for lam, G_lam in twins.items():
    picker = BlockPicker(G_lam, seed=3, display=160)
    picker.select([9, 10])
    picker.resample_button.click()
    pickers[lam] = picker
    print(f"lambda_D = {lam}: " + picker.status.value)
widgets.VBox([widgets.HTML(f"<b>{hands_on[lam]}</b>") if k % 2 == 0 else pickers[lam]
              for lam in pickers for k in range(2)])

# %% [markdown]
# The same two blocks with the same fresh values: at $\lambda_D = 0$, 39 % of the squared
# change stayed inside blocks 9 and 10 and the mean absolute change outside was 0.11; at
# $\lambda_D = 100$, 49 % and 0.03, with a smaller change inside as well (0.26 and 0.14). One
# image is one draw; Table 2's protocol averages over a thousand.

# %% [markdown]
# ## The same block, again and again
#
# Resample one block, then the same block again, sixteen times: does the rest of the image
# drift away? It cannot accumulate. Each resample replaces $z_a$ and nothing else, so after
# $k$ resamples the latent is $z$ with block $a$ replaced by a fresh draw, exactly as after
# one: the change outside, measured against the *original* image, has the same law for every
# $k$. `ssnlib.resample.profile.resample_drift` checks it: it resamples block $i \bmod 16$ of sample
# $i$ with `resample_blocks`, from the latest latent each time, and measures the change
# outside after 1, 2, 4, 8 and 16 resamples (192 samples, 12 per block).

# %%
from ssnlib.resample.profile import graded_changes, resample_drift

drift = {lam: resample_drift(G_lam, 192, seed=0) for lam, G_lam in twins.items()}
for lam, d in drift.items():
    print(f"lambda_D = {lam}: largest change of a kept latent block over all steps: "
          f"{d['latent_outside']}")
    print("  resamples  outside (mean sq.)  inside")
    for k, o, o_se, i in zip(d["repeats"], d["outside"], d["outside_se"], d["inside"],
                             strict=True):
        print(f"  {k:9d}  {o:.4f} +- {o_se:.4f}    {i:.4f}")
    level = np.mean(d["outside"])
    worst = max(abs(o - level) / se for o, se in zip(d["outside"], d["outside_se"],
                                                      strict=True))
    print(f"  mean over k {level:.4f}; the farthest k is {worst:.1f} standard errors from it")

# %% tags=["hide-input"]
fig, ax = plotting.subplots(height=3.2, width=6.0)
for lam, d in drift.items():
    ax.errorbar(d["repeats"], d["outside"], yerr=d["outside_se"], fmt="o-", ms=4, capsize=2,
                label=rf"$\lambda_D$ = {lam}")
    ax.axhline(runs.summary(hands_on[lam])["distortion"],
               color=f"C{list(drift).index(lam)}", ls=":", lw=1)
ax.set(xscale="log", xlabel="resamples of the same block", ylim=(0, None),
       ylabel="mean sq. change outside", title="against the original image (dotted: one "
       "resample, Table 2's protocol)")
ax.set_xticks(drift[0]["repeats"], [str(k) for k in drift[0]["repeats"]])
ax.grid(alpha=0.3)
ax.legend()
plotting.show(fig)

# %% [markdown]
# The curves wander within their error bars (the farthest $k$ is 0.7 and 1.3 standard
# errors from the mean over $k$) around the one-resample level (dotted) and show no trend,
# and the kept blocks of $z$ moved by exactly 0. That is the latent grid's
# promise: because the image is regenerated from $z$ rather than edited, a long session of
# clicks on one block leaves the rest of the image at one resample's distance from where it
# started, never further. (Resampling *different* blocks is another matter: that is the
# sweep of chapter 2, which ends at a new image.)
#
# ## Graded resampling
#
# The picker's *strength* slider moves a block only part of the way: with $t$ = strength
# $\times \pi/2$, the new block is
#
# $$\begin{gathered}
#   z_a(t) = \cos(t)\, z_a + \sin(t)\, z'_a , \\
#   z'_a \sim \mathcal N(0, I) \text{ independent of } z_a .
# \end{gathered}$$
#
# As $\cos^2 t + \sin^2 t = 1$, $z_a(t)$ is again $\mathcal N(0, I)$ for every $t$ (a rotation
# of two independent standard normal vectors), so a graded resample keeps the latent's law:
# the image is a sample of the model at every strength. Its correlation with the old block is
# $\cos t$. A check with `resample_blocks` on 4096 latents, block 5, $t = \pi/6$:

# %%
from ssnlib.resample import resample_blocks

t = math.pi / 6
gen = torch.Generator().manual_seed(1)
z_many = G.sample_z(4096, gen)
new = resample_blocks(G, z_many, 5, gen, t=t)
r, c = grid.position(5)
old_a, new_a = z_many[:, :, r, c].flatten(), new[:, :, r, c].flatten()
print(f"new block: mean {float(new_a.mean()):+.4f}, variance {float(new_a.var()):.4f} "
      f"({new_a.numel()} values)")
corr = float(torch.corrcoef(torch.stack([old_a, new_a]))[0, 1])
print(f"correlation with the old block {corr:.4f}, cos(t) = {math.cos(t):.4f}")
print("other blocks unchanged:", torch.equal(torch.where(grid.latent_mask(5), 0, new),
                                             torch.where(grid.latent_mask(5), 0, z_many)))

# %% [markdown]
# In the image, the change inside and outside the block grows with $t$
# (`ssnlib.resample.profile.graded_changes`: 64 samples, block $i \bmod 16$ of sample $i$, the same
# $z'$ at every $t$). The grey line is the latent's own squared change, $2(1-\cos t)$ per
# value, scaled to meet the $\lambda_D = 100$ inside curve at $t = \pi/2$ (log scale: curves
# of one shape run parallel).

# %%
ts = [k * math.pi / 16 for k in range(9)]
graded = {lam: graded_changes(G_lam, 64, ts, seed=0) for lam, G_lam in twins.items()}
print("t/(pi/2)       " + "".join(f"{k / 8:7.3f}" for k in range(1, 9)))
for lam, g in graded.items():
    print(f"ld {lam:<4d} inside " + "".join(f"{v:7.4f}" for v in g["inside"][1:]))
    print(f"ld {lam:<4d} outside" + "".join(f"{v:7.4f}" for v in g["outside"][1:]))
    ratio = [o / i for o, i in zip(g["outside"][1:], g["inside"][1:], strict=True)]
    print(f"ld {lam:<4d} out/in " + "".join(f"{v:7.3f}" for v in ratio))
    print(f"ld {lam:<4d} at half strength: {g['inside'][4] / g['inside'][-1]:.0%} of the full "
          f"change inside, {g['outside'][4] / g['outside'][-1]:.0%} outside")
print(f"the latent at half strength: {(1 - math.cos(ts[4])) / (1 - math.cos(ts[-1])):.0%}"
      " of the full change")

# %% tags=["hide-input"]
fig, (left, right) = plotting.subplots(1, 2, height=3.4)
strength = np.array(ts) / (math.pi / 2)
for k, (lam, g) in enumerate(graded.items()):
    left.plot(strength[1:], g["inside"][1:], "o-", ms=3, color=f"C{k}",
              label=rf"inside, $\lambda_D$ = {lam}")
    left.plot(strength[1:], g["outside"][1:], "s--", ms=3, color=f"C{k}",
              label=rf"outside, $\lambda_D$ = {lam}")
    right.plot(strength[1:], np.array(g["outside"][1:]) / np.array(g["inside"][1:]), "o-",
               ms=3, color=f"C{k}")
latent = 1 - np.cos(ts)
left.plot(strength[1:], latent[1:] * graded[100]["inside"][-1], color="gray", lw=1,
          label="latent change (scaled)")
left.set(xlabel=r"strength $t / (\pi/2)$", ylabel="mean squared change", yscale="log",
         title="change along the graded path")
right.set(xlabel=r"strength $t / (\pi/2)$", ylabel="outside / inside",
          title="share that leaks", ylim=(0, None))
for ax in (left, right):
    ax.grid(alpha=0.3)
fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=3)
plotting.show(fig)

# %% [markdown]
# The image does not follow the latent's curve: it moves faster at first and then
# saturates. At half strength ($t = \pi/4$), where the latent has moved 29 % of a full
# resample's squared change, the image inside the block has changed by 69 % of its full
# change at $\lambda_D = 0$, and at $\lambda_D = 100$ already by all of it (102 %: its
# inside curve levels off before full strength). The slider does most of its work in its
# first half, with the penalty even more so. The leak ratio on the right stays between 0.320
# and 0.430 at $\lambda_D = 100$ for every strength, although the regulariser only ever saw
# full resamples: a graded resample leaks about as much of its change as a full one. Without
# the penalty the ratio is 0.362 to 0.741, larger at every strength but one, and too noisy
# here (64 samples) to show a trend. These twins keep far less of a resample's change inside
# the block than the 40,000-image $\lambda_D = 100$ model above, trained from scratch with
# eq. 2 (energy inside 0.27 against 0.63): they draw faces, and leak more doing it.
#
# ## Summary
#
# - Eq. 2 sums a divergence over every resampled block and every other block; our estimator
#   is a per-pixel mean over one random block, equal to the double sum divided by
#   `eq2_factor` (240 for per-block MSE on a 4x4 grid; 46,080 at 32 px and 2,949,120 at
#   256 px for summed squares). A mean keeps $\lambda_D$'s meaning across resolutions and
#   grids, and matches the balance of the paper's Table 2.
# - The `radial` weighting charges changes by their distance from the block; the first
#   $\lambda_D > 0$ models were trained with it and scored with the uniform mean, and their
#   distance profiles show its mark: the far rings emptied, the near ring kept. The recipe
#   now trains eq. 2 as written (`outside`), and the retrained models cut the near ring too:
#   $\lambda_D = 100$ cuts distortion 4.1 times on two seeds instead of 1.69.
# - The targets at $\lambda_D = 100$ are not met at 40 000 CPU images: from scratch a
#   4.1-fold cut (not 5), an FID rise of 1.40 and 1.12 on two seeds whose unregularised FIDs
#   differ by 38 %, 53 % to 63 % of the energy inside (not 70 %). Our $\lambda_D = 100$ ends
#   near the paper's distortion; our unregularised model starts lower. One transferred run
#   meets the cut and FID targets, the other none.
# - A larger $\lambda_D$ keeps more of a resample's energy in its block (25 % and 37 % at
#   $\lambda_D = 0$ on two seeds; 63 %, 76 % and 85 % at 100, 300 and 1000 trained uniformly)
#   at a higher FID, as in the paper's Table 2.
# - Blocks that do not move each other are uncorrelated: the mean relative leak of block
#   means is at least a quarter of their mean squared correlation, for any generator. A leak
#   can be cut by locality or by drawing less; the faces $\lambda_D = 100$ SSN did the first,
#   the skylines one mostly the second (its block variance a tenth of the data's, its blocks
#   far less correlated than the data's). Charging the share of a change that leaves its
#   block instead (ours) does not prevent that: on skylines every penalty that cut the
#   distortion more than 1.6 times in 110,000 images dropped a time of day; eq. 2 raised
#   only after the model had settled either dropped them too (at 100) or cut only by
#   varying less (at 20). The second skylines seed lost its nights at $\lambda_D = 100$ too.
# - The leak itself has a floor, set by the blocks' covariances; given the time of day, the
#   skylines' floor falls 93 times (faces, given the background, 5 times), so a global
#   latent carrying it would leave the skyline blocks almost nothing to share. Trained on
#   daytime skylines alone, the $\lambda_D = 100$ twin keeps every class and cuts by
#   locality, but only two-fold, at 1.72 times the FID: like the faces pairs.
# - Most of the FID that eq. 2 at 100 cost there was the noise of its estimate: four
#   resampled blocks per sample instead of one keep the cut and take the FID ratio from 2.16
#   to 1.21 at 60,000 images. With them a weight of 1000 cuts 8.1 times by locality (the
#   block variance kept, 72 % of a resample's change inside its block), at 2.07 times the
#   FID, its blocks no longer correlating: the price of consistency, paid in full.
#   Twice the channels (`ssn widen`) improve the unregularised twin's FID (2.86 against
#   3.78) but not that price.
# - On faces the estimate was not the bottleneck: four resamples did not lower
#   $\lambda_D = 100$'s price, and every weight that cut near five-fold (200 and 300) paid
#   1.50 to 1.85 times the FID; at 1000 the blocks stop agreeing on a face. A face's blocks
#   correlate more than a skyline's, so its price of consistency is higher.
# - A global latent $u$ that eq. 2 does not charge (ours) gives the generator a place to
#   hide from it: started at 0 its gain is not picked up; started at 0.25, $\lambda_D = 200$
#   moves the variety into $u$ and cuts the distortion 126.95 times at 1.40 times the FID,
#   with blocks that barely change their own pixels. A cut is only locality when the block's
#   own change survives it. The share penalty keeps the blocks at work: at 30 it moves all
#   that they share into $u$ and cuts 899.86 times at 1.59 times the FID, the most local
#   resample in the chapter, but its blocks stop agreeing at their borders. A share that
#   charges changes next to the block less (the radial share, ours) keeps them agreeing: at
#   60 it cuts 179.97 and 150.42 times at 1.01 and 1.22 times the FID on two seeds, seam
#   contrast 1.14 and 1.18 against the data's 1.03 (the block's own change under half its
#   twin's).
# - The path-length regulariser (the paper's weight 2; off in the zoo) lowers the PPL and
#   the distortion of both twins, but not the price of eq. 2: from the faces transfer,
#   $\lambda_D = 100$ cut as much at as high an FID against its twin with it as without.
# - The latent grid guarantees that repeated resamples of one block never accumulate change
#   elsewhere, and a graded resample $\cos(t) z_a + \sin(t) z'_a$ keeps every block
#   $\mathcal N(0, I)$.
#
# **Exercise.** (a) Compute `eq2_factor` for an $8 \times 8$ grid on 64 px images with both
# divergences. (b) A generator changes every pixel of the image by the same squared amount
# $s$ whatever block is resampled. What are its distortion in the `outside` and `radial`
# modes, its leak ratio, and its `energy_inside` on a $4 \times 4$ grid? (c) A resample
# changes only the pixels within half a block of block 5 (the ring 0-0.5), by a squared
# amount $s$. What do the two modes charge for it? Use the chapter's tables. (d) Skylines'
# training images have a mean $\rho^2$ between blocks given in the consistency table. What
# least mean relative leak $\overline{\lambda}$ must a generator have to draw blocks that
# correlate as much? If the skyline $\lambda_D = 0$ SSN cut its leak $L$ five-fold without
# varying less, would the bound still allow the data's $\rho^2$? (e) Redrawing a block
# changes a skyline in two ways: a tint $t$ added to every pixel (day to night) and a local
# change inside the block, its squares summing to $E$, uncorrelated with the tint. With $n$
# blocks of $P$ pixels, what do eq. 2 (the mean squared change outside) and the share $S_a$ charge?
# What happens to each when every change is scaled by $c$, and when the model stops drawing
# nights ($t = 0$)? (f) Every block mean of a dataset is a shared tint $t$ (variance $s^2$)
# plus the block's own content (variance $v$, independent of everything else). What floor
# on the mean leak $\overline{L}$ does the absolute bound give, and what floor given $t$, as
# a global latent carrying the tint would see it?
#
# :::{admonition} Answer
# :class: dropdown
#
# (a) $n = 64$ blocks of $8 \times 8 = 64$ pixels: $n(n-1) = 4032$ for per-block MSE, and
# $4032 \times 64 \times 3 = 774{,}144$ for summed squares.
# (b) Both modes give $s$: the uniform mean outside is $s$, and the radial weights average 1
# over the pixels outside, so the weighted mean is $s$ too. The inside change is also $s$, so
# the leak ratio is 1, and the energy inside is the block's share of the pixels, $1/16 =
# 0.0625$.
# (c) `outside` charges the ring's share of the outside pixels times $s$; `radial` multiplies
# that by the ring's mean weight, which is small because its pixels are close to the block.
# For block 5 the cell below computes both: the radial charge is a quarter of the uniform
# one.
# (d) A quarter of the data's mean $\rho^2$. Cutting $L$ five-fold at the same $V$ divides
# $\lambda$ by five; the cell below compares the result with that least value.
# (e) Outside the block every pixel changes by $t^2$, so eq. 2 charges $t^2$; the squared
# change sums to $(n-1)P t^2$ outside and $P t^2 + E$ inside, so
# $S_a = (n-1)P t^2 / (nP t^2 + E)$. Scaling by $c$ multiplies eq. 2 by $c^2$ and leaves
# $S_a$ alone. With $t = 0$ both are 0: each penalty is paid in full by a model that never
# changes the time of day, which is what the study's strong branches did.
# (f) Every pair of blocks has covariance $s^2$ and every block the variance $s^2 + v$, so
# the floor is $\frac{n-1}{4n} \frac{s^4}{s^2 + v}$, growing with the tint's share of the
# variance. Given $t$ the blocks are independent: every covariance is 0, and so is the
# floor. A global latent carrying the tint leaves the blocks nothing to share; the skylines'
# time of day is nearly such a tint (its floor falls 93 times).
# :::

# %% tags=["hide-cell"]
big_grid = BlockGrid(8, 8, 64, 64)
print("(a)", eq2_factor(big_grid), eq2_factor(big_grid, divergence="block_sse"))
ring = distance_bins(grid, 5) == 1
out5 = ~grid.block_mask(5)
w5 = distortion_weights(grid, torch.tensor([5]), "radial")[0, 0]
print(f"(c) outside: {float(ring[out5].float().mean()):.3f} s, "
      f"radial: {float((w5 * ring)[out5].mean()):.3f} s")
need = study["data"]["skylines"]["needed_leak"]
fifth = measured["skylines32-ssn-ld0"]["mean_leak"] / 5
print(f"(d) least mean relative leak {need:.3f}; lambda_D 0 SSN's, cut five-fold: {fifth:.3f}"
      f" ({'allowed' if fifth >= need else 'ruled out'} by the bound)")
