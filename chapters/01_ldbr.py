# %% [markdown]
# # 1. Low Distortion Block-Resampling
#
# You generated an image and like most of it, but one region is wrong: a tower
# of a castle, a strand of hair. You would like a *new* version of that region,
# as varied as possible, while the rest of the picture stays (almost) as it was
# and the whole still looks like a real image. The paper calls this task *Low
# Distortion Block-Resampling* (LDBR). This chapter makes it precise on images
# so small that every probability can be written down, so that each claim is a
# number we compute exactly, not an impression from a few samples.
#
# **Learning goals**
#
# - define blocks, block-resamplings (the paper's Definition 1) and distortion,
#   and state the LDBR optimisation problem;
# - represent a resampling rule as a transition matrix and check Definition 1
#   exactly;
# - see that "resample everything" is a block-resampling with large distortion,
#   and that a latent-block model $y = g(z)$ is a block-resampling *by
#   construction*, of its own law;
# - read the quality/distortion trade-off of latent-block models as a Pareto
#   front, a small exact cousin of the paper's Table 2.
#
# Everything computed here lives in `ssnlib.toy` (tested in `tests/test_toy.py`);
# this chapter only calls it.

# %% [markdown]
# ## A world small enough to enumerate
#
# Take binary images of $2 \times 2$ pixels. There are only $2^4 = 16$ of them,
# so a *law* $P$ over images is a vector of 16 probabilities. To make the
# pixels depend on each other, as in real images, we use an Ising-like law,
#
# $$P(y) \propto \exp\Big(\beta \sum_{i \sim j} s_i s_j\Big), \qquad s_i = 2y_i - 1,$$
#
# where $i \sim j$ runs over horizontally and vertically adjacent pixels. With
# $\beta = 0$ the pixels are independent fair coins; as $\beta$ grows,
# neighbours agree more and more often, and the law concentrates on the
# all-black and all-white images: our stand-in for "structure".

# %%
import numpy as np
from matplotlib.colors import PowerNorm
from matplotlib.patches import Rectangle

from ssnlib import plotting, toy

plotting.use_book_style()  # fonts and figure widths that read well in the book

law = toy.ising_law((2, 2), beta=0.6)
order = np.argsort(-law.probs, kind="stable")
print("states:", law.n_states,
      "| total probability:", round(float(law.probs.sum()), 6))
print("P(all white) =", round(float(law.probs[15]), 3), "| P(checkerboard) =",
      round(float(law.probs[0b1001]), 4))

fig = plotting.image_grid([law.images[k] for k in order], ncols=8,
                          cmap="gray_r", vmax=1,
                          titles=[f"{law.probs[k]:.3f}" for k in order])
fig.suptitle(r"all 16 images of the $2\times2$ Ising law ($\beta = 0.6$), "
             "most likely first")
plotting.show(fig)

# %% [markdown]
# ## Blocks
#
# Following section 2 of the paper, split the set of pixels $I$ into disjoint
# *blocks* $J_1, \dots, J_{n_\text{blocks}}$ whose union is $I$; the block
# $y_a$ is the sub-image on $J_a$. In an SSN the blocks are the squares of a
# grid laid over the image. Here each pixel is its own block (a
# `BlockPartition`; `toy.grid_blocks` builds square ones).

# %%
blocks = toy.pixel_blocks((2, 2))
print("blocks:", blocks.blocks)
print("block of every pixel:\n", blocks.labels())

# %% [markdown]
# ## Block-resamplings: Definition 1
#
# A *resampling rule* for block $a$ is a conditional law $P^a(y' \mid y)$: given
# the current image $y$, it draws a new one $y'$. On 16 images it is simply a
# $16 \times 16$ row-stochastic matrix, row $y$ holding the law of $y'$. Applying
# the rules for blocks $a_1, \dots, a_m$ one after the other is the matrix
# product
#
# $$\begin{gathered}
#   K = P^{a_1} P^{a_2} \cdots P^{a_m}, \\
#   K(y^{(0)}, y^*) = \Pr(\text{end at } y^* \mid \text{start at } y^{(0)}).
# \end{gathered}$$
#
# **Definition 1** (paper, section 2) calls the rules $\{P^a\}$ a
# *block-resampling* of $P$ when, starting from a sample $y^{(0)} \sim P$ and
# resampling every block once, the end image $y^*$ is again distributed as $P$.
# The paper's gloss adds what the displayed formula leaves implicit: in words,
# one should "obtain a new independent sample from P", resampling the blocks
# "in an arbitrary order" (section 2). Only the marginal law would be a weak
# requirement: any rule that leaves $P$ unchanged, doing nothing included,
# would pass. So we use the strong reading, which is also what the paper's
# argument about inpainting relies on (chapter 2):
#
# $$\begin{aligned}
#   & \{P^a\} \text{ is a block-resampling of } P \\
#   \iff{} & K(y^{(0)}, \cdot\,) = P \text{ for every start } y^{(0)} \\
#   & \text{with } P(y^{(0)}) > 0,
# \end{aligned}$$
#
# that is, *every row of the sweep matrix equals the target law*, whatever the
# order of the blocks. We measure a failure by the *end-law gap*, the expected
# total-variation distance $\mathbb E_{y^{(0)} \sim P}\, \mathrm{TV}\big(K(y^{(0)},
# \cdot), P\big)$, and check Definition 1 on its worst case over starts and
# orders (`toy.definition1_gap`).
#
# The simplest block-resampling ignores the current image altogether:
# $P^a(\cdot \mid y) = P$, "resample everything". Every row of its matrix is
# $P$, so any product of such matrices is too.

# %%
fresh = [toy.fresh_kernel(law)] * blocks.n_blocks
print("stochastic:", all(toy.is_stochastic(k) for k in fresh),
      "| leaves P unchanged:", toy.is_stationary(fresh[0], law))
print("block-resampling in all 24 orders:",
      toy.is_block_resampling(fresh, law, orders="all"))

# %% [markdown]
# ## Distortion and the LDBR problem
#
# Resampling everything answers the question in the most useless way: asked
# for a new top-left pixel, it redraws the whole image. The *distortion* of a
# rule for block $a$ measures how much the *other* blocks move,
#
# $$\mathcal D_a(P^a) = \mathbb E_{y \sim P}\ \mathbb E_{y' \sim P^a(\cdot \mid y)}
#   \sum_{b \ne a} D(y_b, y'_b),$$
#
# with $D$ a distance between sub-images; for binary pixels we count the
# changed pixels (Hamming distance, which equals the squared error). The LDBR
# problem asks for the block-resampling with the least total distortion:
#
# \begin{equation*}
# \begin{aligned}
#   \min_{\{P^a\}} \quad & \sum_{a=1}^{n_\text{blocks}} \mathcal D_a(P^a) \\
#   \text{s.t.} \quad & \{P^a\} \text{ is a block-resampling of } P.
# \end{aligned} \tag{LDBR}
# \end{equation*}
#
# For resampling everything, $y$ and $y'$ are independent draws of $P$, so pixel
# $i$ changes with probability $2m_i(1-m_i)$, $m_i = P(y_i = 1)$. Our law is
# symmetric ($m_i = 1/2$), so every block costs $3 \times \tfrac12 = 1.5$
# changed pixels. The exact matrix computation, the closed form and a Monte
# Carlo run (40 000 seeded chains) agree:

# %%
rng = np.random.default_rng(0)
starts = law.sample(40_000, rng)
rows = []
for a in range(blocks.n_blocks):
    exact = toy.distortion(fresh[a], blocks, a, law)
    closed = toy.fresh_distortion(law, blocks, a)
    moved = toy.simulate([fresh[a]], starts, rng)[-1]
    mc = toy.hamming_outside(starts, moved, blocks, a).mean()
    rows.append([a, f"{exact:.3f}", f"{closed:.3f}", f"{mc:.2f}"])
plotting.show_table(["block", "exact", "closed form", "Monte Carlo"], rows,
                    caption="distortion of 'resample everything', pixels changed outside")
print("LDBR objective of 'resample everything':",
      round(toy.ldbr_objective(fresh, blocks, law), 3))

# %% [markdown]
# ## Latent-block models are block-resamplings by construction
#
# The paper's way out (section 3) is a generator $y = g(z)$ whose latent code is
# split into *independent* blocks $z_1, \dots, z_{n_\text{blocks}}$, one per image
# block. To resample image block $a$, redraw $z_a$ from its law, keep every
# other $z_b$ and decode. A sweep over all blocks redraws every latent block
# once, which is exactly drawing a fresh $z$: the end image is a fresh sample
# of the model's law $\hat P$ (the law of $g(z)$), whatever the start and
# whatever the order. So the rule is a block-resampling of $\hat P$ with no
# further work. Two questions remain, and they are the whole game:
#
# 1. *Quality*: is $\hat P = P$? Otherwise it is a block-resampling of the wrong
#    law.
# 2. *Distortion*: how far outside block $a$ does $z_a$ reach through $g$?
#
# Two extreme latent models of our law show the tension.
#
# - **Independent blocks**: $z_a$ *is* pixel $a$, drawn from its marginal, and
#   $g(z) = z$. Redrawing $z_a$ changes nothing else (zero distortion), but
#   $\hat P$ has independent pixels.
# - **Autoregressive**: $z_a$ is a uniform number and $g$ decodes the pixels in
#   order, each from its conditional law given the pixels before it
#   (inverse-CDF sampling). Then $\hat P = P$ exactly, but redrawing $z_a$
#   changes pixel $a$, and the pixels decoded after it may follow (the same
#   uniform number read through a different conditional law).
#
# `toy.independent_blocks_model` and `toy.autoregressive_model` build both with
# finite latent spaces, so Definition 1 is again a matrix computation (on the
# latent chain, which keeps $z$ alongside the image, as an SSN does).

# %%
models = {
    "independent blocks": toy.independent_blocks_model(law, blocks),
    "autoregressive": toy.autoregressive_model(law, blocks),
}
for name, model in models.items():
    own = model.definition1_gap(orders="all")  # worst case, every start and order
    tv = toy.total_variation(model.law().probs, law.probs)
    print(f"{name}: {model.n_latent_states} latent states")
    print(f"  Def. 1 gap for its own law {round(own, 9)}, TV(model law, P) {tv:.3f}")

per_block = {"resample everything": [toy.distortion(k, blocks, a, law)
                                     for a, k in enumerate(fresh)]}
per_block |= {name: [m.distortion(a) for a in range(blocks.n_blocks)]
              for name, m in models.items()}
plotting.show_table(
    ["rule", *(f"block {a}" for a in range(blocks.n_blocks)), "total"],
    [[name, *(f"{v:.3f}" for v in d), f"{sum(d):.3f}"] for name, d in per_block.items()],
    caption="distortion per block, pixels changed outside the block")

# %% [markdown]
# Both latent models pass Definition 1 for their own law, to rounding. The
# independent-blocks model never moves another pixel but is far off the target:
# a total-variation distance of 0.52 (it puts probability 1/16 on each image,
# the checkerboards included). The autoregressive one is exact and pays 1.24
# changed pixels in total, about a fifth of what resampling everything costs
# (6). Its distortion is lopsided: redrawing the first latent block drags the
# later pixels along (0.91 changed pixels), while the last block moves nothing
# else, since no pixel is decoded after it.

# %% tags=["hide-input"]
fig, (left, right) = plotting.subplots(1, 2, height=3.8, width_ratios=[1.4, 1])
width = 0.27
for j, (name, d) in enumerate(per_block.items()):
    label = name + (" (all 0)" if max(d) == 0 else "")
    left.bar(np.arange(4) + (j - 1) * width, d, width, label=label, color=f"C{j}")
left.set(xticks=range(4), ylim=(0, 2.0), xlabel="block",
         ylabel="changed pixels elsewhere", title="distortion per block")
tvs = [0.0] + [toy.total_variation(m.law().probs, law.probs)
               for m in models.values()]
for j, (d, tv) in enumerate(zip(per_block.values(), tvs, strict=True)):
    right.scatter(sum(d), tv, s=60, color=f"C{j}")
right.set(xlabel="total distortion", ylabel="TV(model law, P)",
          title="quality vs distortion", xlim=(-0.4, 6.6), ylim=(-0.05, 0.65))
right.grid(alpha=0.3)
fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=3)
plotting.show(fig)

# %% [markdown]
# ## The trade-off, exactly: a Gaussian image model
#
# Binary toys show the principle; a Gaussian toy shows the whole trade-off
# curve in closed form. Take $6 \times 6$ images with law $P = \mathcal N(0,
# \Sigma)$, $\Sigma_{ij} = \rho^{d_{ij}}$ ($d_{ij}$ the distance between pixels $i$
# and $j$, $\rho = 0.6$ the correlation of neighbours), and nine $2 \times 2$
# blocks. A *linear* latent-block model is $y = Az$ with $z \sim \mathcal N(0,
# I)$, latent coordinate $k$ belonging to the block of pixel $k$. Everything is
# explicit:
#
# - its law is $\hat P = \mathcal N(0, AA^\top)$, and its quality is the squared
#   Wasserstein-2 (Fréchet) distance $W_2^2(\hat P, P)$, the same formula FID
#   applies to Gaussian fits of Inception features;
# - redrawing $z_a$ moves the image by $A_{:,a}(z'_a - z_a)$, so its distortion
#   (squared error outside block $a$) is $2\,\|A_{b \ne a,\,a}\|_F^2$;
# - a sweep over all blocks is a fresh draw of $\hat P$ (`tests/test_toy.py`
#   checks the composed kernel: $y^* = 0 \cdot y^{(0)} + \varepsilon$,
#   $\varepsilon \sim \hat P$).
#
# Exact models ($AA^\top = \Sigma$) are $A = \Sigma^{1/2} Q$ for any orthogonal
# $Q$: the symmetric square root, the Cholesky factor (the Gaussian twin of
# the autoregressive decoder) and infinitely many others. The most local model
# is block-diagonal, with zero distortion and the correlations between blocks
# lost. SSN training trades the two with a weight $\lambda_D$ on a distortion
# penalty (eq. 2); the toy analogue minimises
#
# $$W_2^2\big(\mathcal N(0, AA^\top), P\big) + \lambda \sum_a 2\,\|A_{b \ne a,\,a}\|_F^2$$
#
# over $A$ for a range of $\lambda$ (`toy.ldbr_pareto`: closed-form objective
# and gradient, L-BFGS, deterministic). Two rules that are not latent models
# join the picture on the same axes, using the end-law gap
# $\mathbb E_{y^{(0)} \sim P}\, W_2^2(\text{law of } y^* \mid y^{(0)},\ P)$, which for a
# latent model is just $W_2^2(\hat P, P)$: resampling everything (gap 0, large
# distortion) and sequential inpainting (zero distortion, and a gap we explain
# in chapter 2).

# %%
shape, rho = (6, 6), 0.6
cov = toy.grid_covariance(shape, rho)
grid = toy.grid_blocks(shape, (2, 2))
lambdas = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0]
front = toy.ldbr_pareto(cov, grid, lambdas)

zero = np.zeros(len(cov))


def w2_to_target(A):
    return toy.gaussian_w2(zero, A @ A.T, zero, cov)


named = {"symmetric root": toy.sqrtm_psd(cov),
         "Cholesky": np.linalg.cholesky(cov),
         "block-diagonal": toy.block_diagonal_model(cov, grid)}
reference = {name: (toy.linear_latent_distortion(A, grid).sum(), w2_to_target(A))
             for name, A in named.items()}
fresh_g = toy.fresh_gaussian_kernel(cov)
reference["resample everything"] = (
    sum(fresh_g.distortion(grid, a, cov) for a in range(grid.n_blocks)), 0.0)
inpaint = toy.gaussian_sweep([toy.gaussian_inpainting_kernel(cov, grid, a)
                              for a in range(grid.n_blocks)])
reference["sequential inpainting"] = (0.0, toy.end_law_gap_gaussian(inpaint, cov))

plotting.show_table(["λ", "W₂² gap (quality)", "distortion"],
                    [[f"{p.lam:g}", f"{p.w2:.3g}", f"{p.distortion:.3g}"] for p in front],
                    caption="the optimal linear latent model at each λ")
plotting.show_table(["rule", "distortion", "W₂² gap"],
                    [[name, f"{d:.3g}", f"{w2:.3f}"] for name, (d, w2) in reference.items()],
                    caption="the reference rules")

# %% [markdown]
# Read the table as the toy version of the paper's Table 2 (FID and distortion
# for $\lambda_D$ from 0 to 10 000): a small $\lambda$ keeps the model exact and
# barely lowers the distortion below that of the symmetric root; a large one
# drives the distortion to zero and the quality towards that of the
# block-diagonal model. In between lies a front where lower distortion can
# only be bought with a worse law. No rule does better than the front: the
# exact models sit at its bottom-right end (no error in the law, the most
# distortion), and the two rules that are not latent models miss it badly,
# one in each direction.

# %% tags=["hide-input"]
markers = {"symmetric root": ("s", "C0"), "Cholesky": ("D", "C1"),
           "block-diagonal": ("^", "C2"), "resample everything": ("*", "C3"),
           "sequential inpainting": ("X", "C4")}
fig, (ax, zoom) = plotting.subplots(1, 2, height=4.4)
for axis in (ax, zoom):
    axis.plot([p.distortion for p in front], [p.w2 for p in front], "o-",
              color="k", ms=4, label=r"optimal linear models ($\lambda$ sweep)")
    for name, (d, w2) in reference.items():
        m, c = markers[name]
        axis.scatter(d, w2, marker=m, s=90, color=c, label=name, zorder=3)
    axis.set(xlabel=r"total distortion $\sum_a \mathcal{D}_a$",
             ylabel=r"gap $W_2^2$ to $P$")
    axis.grid(alpha=0.3)
ax.set(xscale="symlog", title="all rules (symlog axis)")
zoom.set(xlim=(-0.5, 22), ylim=(-0.2, 6.5), title="latent-block models (zoom)")
for p in front[3:7]:
    zoom.annotate(rf"$\lambda$={p.lam:g}", (p.distortion, p.w2),
                  textcoords="offset points", xytext=(6, 4), fontsize=10)
fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
plotting.show(fig)

# %% [markdown]
# Where does a latent block reach? The map below shows, for the centre block,
# the variance that $z_a$ puts into every pixel, $\sum_{k \in a} A_{ik}^2$ (half
# the expected squared change of pixel $i$ when $z_a$ is redrawn). The Cholesky
# factor reaches only forward in the raster order; the symmetric root spreads
# symmetrically and thinly; raising $\lambda$ pulls the reach inside the block
# (the colour scale is compressed to make faint reach visible; the block is
# outlined in cyan).

# %%
centre = 4
maps = {"Cholesky": named["Cholesky"], "symmetric root": named["symmetric root"],
        r"$\lambda$ = 0.3": front[4].A, r"$\lambda$ = 10": front[7].A}
reach = {name: toy.latent_reach(A, grid, centre) for name, A in maps.items()}
for name, r in reach.items():
    plain = name.replace("$\\lambda$", "lambda")             # the titles' TeX, as text
    print(f"{plain:16s} variance outside the centre block: "
          f"{r.ravel()[grid.outside(centre)].sum():.2f}")

# %% tags=["hide-input"]
fig, axes = plotting.subplots(1, 4, height=2.4)
for ax, (name, r) in zip(axes, reach.items(), strict=True):
    im = ax.imshow(r, cmap="magma", norm=PowerNorm(0.4, vmin=0, vmax=1))
    ax.add_patch(Rectangle((1.5, 1.5), 2, 2, fill=False, ec="cyan", lw=2))
    ax.set(title=name, xticks=[], yticks=[])
fig.colorbar(im, ax=axes, shrink=0.8, label=r"$\sum_{k\in a} A_{ik}^2$")
plotting.show(fig)

# %% [markdown]
# A last check that the closed forms are what a simulation sees: redraw the
# centre latent block of the $\lambda = 0.3$ model for 50 000 seeded latent
# codes and measure the squared change outside the block.

# %%
A = front[4].A
rng = np.random.default_rng(1)
z = rng.standard_normal((50_000, len(cov)))
z_new = z.copy()
cols = list(grid[centre])
z_new[:, cols] = rng.standard_normal((len(z), len(cols)))
change = (z_new - z) @ A.T
mc = (change[:, grid.outside(centre)] ** 2).sum(axis=1).mean()
closed = toy.linear_latent_distortion(A, grid)[centre]
print(f"centre block: closed form {closed:.3f}, Monte Carlo {mc:.2f}")

# %% [markdown]
# ## Summary
#
# - A block-resampling (Definition 1) is a set of per-block rules whose sweep
#   over all blocks, in any order, forgets the start: every row of the sweep
#   matrix is the target law.
# - Resampling everything qualifies and is useless: its distortion is that of
#   two independent images.
# - A latent-block model qualifies by construction, for its own law. Its
#   distortion depends on how far each latent block reaches, and its quality on
#   how well $\hat P$ matches $P$; making one better tends to make the other
#   worse, and the LDBR problem lives on that front. An SSN is a latent-block
#   model trained to sit well on it.
#
# Chapter 2 takes the other classical answer, inpainting, apart.
#
# **Exercise.** Take the paper's two-pixel law, $P(0,0) = P(1,1) = \tfrac12$,
# each pixel its own block. (a) Among rules that keep the image on the support
# $\{(0,0), (1,1)\}$, find a block-resampling with the least total distortion.
# (b) Now allow the intermediate image to leave the support: find rules with
# *zero* distortion that pass Definition 1 in the order (pixel 0, pixel 1).
# Do they pass in the order (pixel 1, pixel 0)?
#
# :::{admonition} Answer
# :class: dropdown
#
# (a) On the support, a rule that leaves $P$ invariant is a $2 \times 2$ matrix
# $\left(\begin{smallmatrix} 1-q & q \\ q & 1-q \end{smallmatrix}\right)$
# (swap with probability $q$); a sweep multiplies two of them, and its rows
# equal $(\tfrac12, \tfrac12)$ exactly when $(1-2q_0)(1-2q_1) = 0$, i.e. one of
# the rules swaps with probability $\tfrac12$. A swap changes the other pixel
# too, so the distortion is $q_0 + q_1 \ge \tfrac12$, attained by $q_0 =
# \tfrac12$, $q_1 = 0$: redraw the image with one rule, do nothing with the
# other. That is exactly the autoregressive latent model of this law
# (`toy.autoregressive_model(toy.two_pixel_law(), toy.pixel_blocks((1, 2)))` has
# distortions 0.5 and 0). Half the cost of resampling everything (1), but
# never zero. (Rules that leave $P$ not quite invariant cannot do better here:
# a rule that ever moves $(1,1)$ to $(0,0)$ changes the other pixel.)
# (b) Let rule 0 redraw pixel 0 as a fair coin, leaving pixel 1 alone, and
# rule 1 copy pixel 0 into pixel 1. Each changes only its own pixel, so the
# distortion is 0, and in the order (0, 1) the end image is $(u, u)$ with $u$ a
# fresh coin: a block-resampling in that order. In the order (1, 0) the copy
# happens first and the coin last, ending at $(u, y_1^{(0)})$: half the time off
# the support, and the second pixel never forgets its start. The cell below
# checks both with `toy.definition1_gap`. "In an arbitrary order" is what makes
# the LDBR problem bite.
# :::

# %% tags=["hide-cell"]
# The check of the answer to (b).
two = toy.two_pixel_law()
# states: 0 = (0,0), 1 = (1,0), 2 = (0,1), 3 = (1,1); pixel 0 is the low bit
coin_pixel0 = np.array([[0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0],
                        [0, 0, 0.5, 0.5], [0, 0, 0.5, 0.5]])
copy_into_pixel1 = np.array([[1.0, 0, 0, 0], [0, 0, 0, 1],
                             [1, 0, 0, 0], [0, 0, 0, 1]])
rules = [coin_pixel0, copy_into_pixel1]
pair = toy.pixel_blocks((1, 2))
print("distortions:",
      [toy.distortion(k, pair, a, two) for a, k in enumerate(rules)])
for order in [(0, 1), (1, 0)]:
    print(f"Definition 1 gap, order {order}:",
          toy.definition1_gap(rules, two, orders=[order]))
