# %% [markdown]
# # 2. Inpainting is not resampling
#
# The obvious way to "redraw one region of an image" is inpainting: keep every
# other pixel exactly and draw the region from its conditional law given the
# rest. It has zero distortion by design, so if inpainting every block in turn
# gave a fresh image, the LDBR problem of chapter 1 would be solved for free.
# The paper shows, with a two-pixel example, that it does not (section 2).
# This chapter computes that example exactly and by simulation, then follows
# the failure to larger structured laws and contrasts it with latent-block
# resampling, which reaches the target law by allowing the other blocks to
# move a little.
#
# **Learning goals**
#
# - write inpainting as a transition matrix and see that it keeps the target
#   law unchanged, yet fails Definition 1;
# - reproduce the paper's two-pixel example: sequential inpainting never leaves
#   its start;
# - state and prove when sequential inpainting *is* a block-resampling (only
#   when the blocks are independent), and measure the gap as correlation grows;
# - see what latent-block resampling buys: the target law after one sweep, for
#   a little distortion.

# %% [markdown]
# ## Inpainting as a kernel
#
# Inpainting block $a$ draws $y'_a \sim P(y_a \mid y_b,\ b \ne a)$ and sets $y'_b
# = y_b$ for every $b \ne a$. As a matrix, row $y$ puts probability
# $P(y'_a \mid y_{-a})$ on the images that agree with $y$ outside block $a$ and
# zero elsewhere. This is one step of a Gibbs sampler, and like every Gibbs step
# it leaves $P$ unchanged: if $y \sim P$, then $y' \sim P$. So sequential
# inpainting passes the *weak* reading of Definition 1 (the end image has law
# $P$ when the start does). What it does not do is forget the start.
#
# ## The paper's two-pixel example
#
# Two pixels, each its own block, with $P(0,0) = P(1,1) = \tfrac12$: the pixels
# are always equal. The paper puts it in one line: starting from $(1,1)$,
# inpainting "would do nothing, since $P(y_0 = 1 \mid y_1 = 1) = 1$ $= P(y_1 = 1
# \mid y_0 = 1)$" (section 2). In matrix form (states ordered $(0,0), (1,0),
# (0,1), (1,1)$, pixel 0 first):

# %%
import numpy as np

from ssnlib import plotting, toy

plotting.use_book_style()  # fonts and figure widths that read well in the book

two = toy.two_pixel_law(rho=1.0)
pair = toy.pixel_blocks((1, 2))
inpaint = [toy.inpainting_kernel(two, pair, a) for a in range(2)]
names = ["(0,0)", "(1,0)", "(0,1)", "(1,1)"]
for a, k in enumerate(inpaint):
    print(f"inpaint pixel {a}:\n{k}")
sweep = toy.sweep(inpaint)
print("one sweep (pixel 0, then pixel 1):\n", sweep)
print("keeps P unchanged:", all(toy.is_stationary(k, two) for k in inpaint))
print("end-law gap E TV(K(y0, .), P):", toy.end_law_gap(sweep, two))
print("gap after 1000 sweeps:",
      toy.end_law_gap(np.linalg.matrix_power(sweep, 1000), two))

# %% [markdown]
# On the support, the sweep matrix is the identity: whatever the number of
# sweeps, a chain that starts at $(1,1)$ stays there, and the end law given the
# start is a point mass at a total-variation distance $\tfrac12$ from $P$. (The
# rows of the off-support images $(1,0)$, $(0,1)$ never matter for starts
# drawn from $P$.) A simulation with 10 000 seeded chains and 100 sweeps each
# says the same:

# %%
rng = np.random.default_rng(0)
starts = np.full(10_000, 3)  # every chain starts at (1,1)
y = starts
for _ in range(100):
    y = toy.simulate(inpaint, y, rng)[-1]
print("fraction of chains at (0,0) after 100 sweeps:", float(np.mean(y == 0)))
print("fraction still at (1,1):", float(np.mean(y == 3)))

# %% tags=["hide-input"]
panels = {"inpaint pixel 0": inpaint[0], "inpaint pixel 1": inpaint[1],
          "sweep = product": sweep, "a fresh sample": toy.fresh_kernel(two)}
fig, axes = plotting.subplots(2, 2, height=6.6, width=6.4)
for ax, (title, k) in zip(axes.flat, panels.items(), strict=True):
    plotting.matrix(ax, k, names, title)
for ax in axes[:, 0]:
    ax.set_ylabel("from")
fig.suptitle("two-pixel law: transition matrices\n"
             "(rows: current image, columns: next)")
plotting.show(fig)

# %% [markdown]
# The two bottom panels are what Definition 1 compares: a block-resampling's
# sweep must look like the bottom-right matrix (every row of a start in the
# support equal to $P$), and sequential inpainting's, bottom left, looks like
# the identity.
#
# Perfect correlation is an extreme case. With correlation $\rho < 1$,
# $P(0,0) = P(1,1) = (1+\rho)/4$, inpainting can move, and repeating the sweep
# is a Gibbs sampler that eventually forgets its start, but slowly when $\rho$
# is close to 1. One sweep, the thing Definition 1 is about, always leaves a
# gap:

# %%
sweeps = np.arange(0, 31)
fig, ax = plotting.subplots(height=3.4, width=6.5)
for rho in [0.5, 0.9, 0.99, 1.0]:
    law_r = toy.two_pixel_law(rho)
    k_r = toy.sweep([toy.inpainting_kernel(law_r, pair, a) for a in range(2)])
    gaps, power = [], np.eye(4)
    for _ in sweeps:
        gaps.append(toy.end_law_gap(power, law_r))
        power = power @ k_r
    ax.plot(sweeps, gaps, "o-", ms=3, label=rf"$\rho$ = {rho}")
    print(f"rho = {rho}: gap after 1 sweep {gaps[1]:.3f}, "
          f"after 10 sweeps {gaps[10]:.3f}")
ax.set(xlabel="number of inpainting sweeps",
       ylabel=r"$\mathbb{E}\,$TV(end law | start, $P$)",
       title="sequential inpainting forgets its start slowly, or never")
ax.legend()
ax.grid(alpha=0.3)
plotting.show(fig)

# %% [markdown]
# ## When is sequential inpainting a block-resampling?
#
# The paper states the answer: only when the blocks are independent of each
# other (given the conditioning input, which our unconditional toys do not
# have). The argument is short enough to write out.
#
# *If the blocks are independent*, $P(y_a \mid y_{-a}) = P(y_a)$, so inpainting
# block $a$ draws it fresh from its marginal; after one sweep every block is
# fresh and independent of the others, i.e. $y^* \sim P$ whatever the start.
#
# *Conversely*, follow the first block of the sweep, say block 1. After step 1
# it is drawn from $P(y_1 \mid y^{(0)}_{-1})$, and no later step touches it,
# so $y^*_1 = y^{(1)}_1$. If the sweep is a block-resampling, the law of
# $y^*_1$ given the start must be the marginal $P(y_1)$ for every start, so
# $P(y_1 \mid y_{-1}) = P(y_1)$: block 1 is independent of the rest. The
# remaining steps then inpaint the other blocks under $P(y_{-1})$, and the same
# argument applied to the next block (and on, by induction) makes all blocks
# independent. For structured data, with blocks of one picture, that never
# holds.
#
# Structured laws show how the gap grows with correlation. Below, the $3 \times
# 3$ Ising law of chapter 1 for a range of $\beta$, inpainted with three
# partitions: nine single pixels, three rows, and two blocks (the top row and
# the rest). At $\beta = 0$ the pixels are independent and every partition
# gives a block-resampling; as $\beta$ grows, the gap opens. Larger blocks help
# only a little: what matters is the dependence *between* blocks. (The expected
# gap saturates near $\tfrac12$, the two-pixel value, because at large
# $\beta$ the law is nearly "all black or all white, half and half", and
# inpainting cannot cross from one to the other; the worst start's gap goes to
# 1.)

# %%
betas = np.round(np.linspace(0.0, 1.5, 16), 2)
partitions = {"9 pixels": toy.pixel_blocks((3, 3)),
              "3 rows": toy.grid_blocks((3, 3), (1, 3)),
              "2 blocks": toy.BlockPartition.from_labels([[0, 0, 0],
                                                          [1, 1, 1],
                                                          [1, 1, 1]])}
gap = {name: [] for name in partitions}
worst = []
for beta in betas:
    law_b = toy.ising_law((3, 3), beta)
    for name, part in partitions.items():
        kernels = [toy.inpainting_kernel(law_b, part, a)
                   for a in range(part.n_blocks)]
        gap[name].append(toy.end_law_gap(toy.sweep(kernels), law_b))
        if name == "9 pixels":
            worst.append(toy.end_law_gap(toy.sweep(kernels), law_b, worst=True))
plotting.show_table(
    ["β", *partitions, "worst start (9 pixels)"],
    [[f"{betas[i]:.1f}", *(f"{gap[n][i]:.3f}" for n in partitions), f"{worst[i]:.3f}"]
     for i in [0, 2, 5, 10, 15]],
    caption="gap after one inpainting sweep, by partition: expected over starts, and worst")

# %% tags=["hide-input"]
fig, ax = plotting.subplots(height=3.6, width=6.5)
for name in partitions:
    ax.plot(betas, gap[name], "o-", ms=3, label=f"expected gap, {name}")
ax.plot(betas, worst, "k--", label="worst start, 9 pixels")
ax.set(xlabel=r"correlation $\beta$ of the $3\times3$ Ising law",
       ylabel="TV(end law | start, $P$)",
       title="one sweep of sequential inpainting")
ax.legend()
ax.grid(alpha=0.3)
plotting.show(fig)

# %% [markdown]
# A simulation check of one row of the sweep matrix: 20 000 seeded chains start
# from the all-white image at $\beta = 0.4$ and inpaint the nine pixels once.
# The empirical end law matches the exact row, and both are far from $P$.

# %%
law_04 = toy.ising_law((3, 3), 0.4)
px = partitions["9 pixels"]
kernels_04 = [toy.inpainting_kernel(law_04, px, a) for a in range(px.n_blocks)]
exact_row = toy.sweep(kernels_04)[511]  # state 511 = all nine pixels white
ends = toy.simulate(kernels_04, np.full(20_000, 511),
                    np.random.default_rng(1))[-1]
empirical = np.bincount(ends, minlength=512) / len(ends)
noise = toy.total_variation(empirical, exact_row)
print(f"TV(empirical, exact row) = {noise:.2f} (sampling noise)")
print(f"TV(exact row, P) = {toy.total_variation(exact_row, law_04.probs):.3f}")
print(f"P(all white) = {law_04.probs[511]:.3f}")
print(f"after one sweep from all white: {exact_row[511]:.3f} exact, "
      f"{empirical[511]:.3f} simulated")

# %% [markdown]
# ## Latent-block resampling reaches the target law
#
# A latent-block model $y = g(z)$ with independent latent blocks is a
# block-resampling of its own law by construction (chapter 1). Take the exact
# autoregressive model of the $2 \times 2$ Ising law (`toy.autoregressive_model`:
# its law *is* $P$): one sweep of latent resampling lands on a fresh sample of
# $P$ from every start, at every $\beta$, and the price is a distortion that
# grows with the correlation, since correlated pixels must move together.
# Sequential inpainting is the mirror image: zero distortion, and a gap that
# grows with the correlation. Resampling everything has no gap and the largest
# distortion.

# %%
small_betas = np.round(np.linspace(0.0, 1.5, 7), 2)
blocks4 = toy.pixel_blocks((2, 2))
rows = []
for beta in small_betas:
    law_b = toy.ising_law((2, 2), beta)
    inp = toy.sweep([toy.inpainting_kernel(law_b, blocks4, a) for a in range(4)])
    model = toy.autoregressive_model(law_b, blocks4)
    fresh_total = sum(toy.fresh_distortion(law_b, blocks4, a) for a in range(4))
    rows.append((toy.end_law_gap(inp, law_b), model.definition1_gap(law_b),
                 model.ldbr_objective(), fresh_total))
rows = np.array(rows)
plotting.show_table(
    ["β", "gap: inpainting", "gap: latent", "distortion: latent",
     "distortion: resample everything"],
    [[f"{beta:.2f}", f"{g_inp:.3f}", f"{round(g_lat, 9):.3f}", f"{d_lat:.3f}", f"{d_fresh:.3f}"]
     for beta, (g_inp, g_lat, d_lat, d_fresh) in zip(small_betas, rows, strict=True)],
    caption="2x2 Ising law: gap after one sweep, and total distortion")

# %% tags=["hide-input"]
fig, (left, right) = plotting.subplots(1, 2, height=4.0)
left.plot(small_betas, rows[:, 0], "o-", color="C4",
          label="sequential inpainting")
left.plot(small_betas, rows[:, 1], "s-", color="C1",
          label="latent blocks (autoregressive)", zorder=3)
left.plot(small_betas, np.zeros_like(small_betas), "*--", color="C3", ms=9,
          label="resample everything")
left.set(xlabel=r"$\beta$", ylabel=r"$\mathbb{E}\,$TV(end law | start, $P$)",
         title="distance from a fresh sample")
right.plot(small_betas, np.zeros_like(small_betas), "o-", color="C4")
right.plot(small_betas, rows[:, 2], "s-", color="C1")
right.plot(small_betas, rows[:, 3], "*--", color="C3", ms=9)
right.set(xlabel=r"$\beta$", ylabel="changed pixels", title="total distortion")
for ax in (left, right):
    ax.grid(alpha=0.3)
fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=2)
fig.suptitle(r"one sweep on the $2\times2$ Ising law, one block per pixel")
plotting.show(fig)

# %% [markdown]
# ## The same picture for Gaussian images
#
# On the Gaussian images of chapter 1 ($\Sigma_{ij} = \rho^{d_{ij}}$, $6 \times 6$
# pixels, nine $2 \times 2$ blocks) everything is linear: one inpainting sweep
# maps a start $y^{(0)}$ to $y^* = B y^{(0)} + \varepsilon$ with $\varepsilon \sim
# \mathcal N(0, S)$, so the start leaves a trace $\operatorname{Cov}(y^*, y^{(0)}) =
# B\Sigma$ in the end image. A latent-block model $y = Az$ with $AA^\top = \Sigma$
# has $B = 0$: no trace at all. The map below shows, pixel by pixel, the
# correlation between the start and the end of one sweep of inpainting: at
# $\rho = 0.8$ it is about 0.7 almost everywhere, a new image that is mostly the
# old one. The centre remembers most, since its blocks are drawn given the most
# neighbours, all of them correlated with the start. On the right, as $\rho$
# grows, the two rules pay in different currencies: inpainting in the end-law
# gap (the expected squared Wasserstein distance between the end law given the
# start and $P$), the exact latent model in distortion (squared error outside
# the resampled blocks).

# %%
shape, rho = (6, 6), 0.8
cov = toy.grid_covariance(shape, rho)
grid = toy.grid_blocks(shape, (2, 2))
inpaint_g = toy.gaussian_sweep([toy.gaussian_inpainting_kernel(cov, grid, a)
                                for a in range(grid.n_blocks)])
# Corr(y*_i, y0_i) for unit variances
memory = np.diag(inpaint_g.B @ cov).reshape(shape)
root = toy.sqrtm_psd(cov)
latent_g = toy.gaussian_sweep([toy.linear_latent_kernel(root, grid, a)
                               for a in range(grid.n_blocks)])
print(f"inpainting: mean correlation start/end {memory.mean():.3f}, "
      f"largest {memory.max():.3f}")
print("latent (symmetric root): largest |B| entry",
      round(np.abs(latent_g.B).max(), 9))

rhos = np.round(np.linspace(0.0, 0.9, 10), 2)
curve = []
for r in rhos:
    c = toy.grid_covariance(shape, r)
    sw = toy.gaussian_sweep([toy.gaussian_inpainting_kernel(c, grid, a)
                             for a in range(grid.n_blocks)])
    a_root = toy.sqrtm_psd(c)
    f = toy.fresh_gaussian_kernel(c)
    curve.append((toy.end_law_gap_gaussian(sw, c),
                  toy.linear_latent_distortion(a_root, grid).sum(),
                  sum(f.distortion(grid, a, c) for a in range(grid.n_blocks))))
curve = np.array(curve)
table = []
for i in [0, 3, 6, 9]:
    g_inp, d_lat, d_fresh = np.round(curve[i], 6)
    table.append([f"{rhos[i]:.1f}", f"{g_inp:.3g}", f"{d_lat:.3g}", f"{d_fresh:.3g}"])
plotting.show_table(
    ["ρ", "inpainting: W₂² gap", "latent: distortion", "resample everything: distortion"],
    table, caption="Gaussian grid law: one inpainting sweep against the symmetric-root model")

# %% tags=["hide-input"]
fig, (left, mid) = plotting.subplots(1, 2, height=3.8, width_ratios=[1, 1.3])
im = left.imshow(memory, cmap="viridis", vmin=0, vmax=max(0.5, memory.max()))
for a in range(grid.n_blocks):
    rr, cc = divmod(a, 3)
    left.text(2 * cc + 0.5, 2 * rr + 0.5, str(a + 1), ha="center", va="center",
              color="white", weight="bold")
left.set(title=rf"inpainting memory, $\rho$ = {rho}"
               "\n(numbers: inpainting order)", xticks=[], yticks=[])
fig.colorbar(im, ax=left, shrink=0.8, label=r"Corr$(y^*_i, y^{(0)}_i)$")
mid.plot(rhos, curve[:, 0], "o-", color="C4", label=r"inpainting: $W_2^2$ gap")
mid.plot(rhos, curve[:, 1], "s-", color="C0", label="latent (root): distortion")
mid.set(xlabel=r"neighbour correlation $\rho$", ylabel="squared error",
        title="the price each rule pays")
mid.grid(alpha=0.3)
mid.legend(loc="upper left")
plotting.show(fig)

# %% [markdown]
# The latent model stays exact at every $\rho$ and pays about 38 units of
# squared error over the nine blocks at $\rho = 0.9$, against the 576 units of
# resampling everything (off the chart). Chapter 1 showed how much further an
# optimised latent model can push the distortion down, and what it costs in
# quality.
#
# ## The same sweep on a trained SSN
#
# The toys are exact; a trained network is not, but the mechanism carries
# over. `faces32-ssn-ld100` from the zoo's version 3 runs (`data/runs/`, chapter 7)
# is an SSN for 32 px cartoon faces, transferred from a trained StyleGAN2 and
# trained with the distortion penalty of the paper's eq. 2 at its
# $\lambda_D = 100$, on CPUs (the cell prints how many images it has seen). Its
# latent is a $4 \times 4$ grid of blocks. We run the sweep of
# Definition 1: redraw block 0, then block 1, and so on, with the noise
# inputs held fixed, and watch what each step changes. (We have no inpainting
# model of these faces to put beside it; the toys above already showed where
# inpainting stops.)

# %%
import torch

from ssnlib.resample import resample_chain
from ssnlib.resample.render import difference
from ssnlib.zoo import runs

G = runs.load("faces32-ssn-ld100")
print(f"faces32-ssn-ld100: {runs.summary('faces32-ssn-ld100')['images']:,} SSN training images")
gen = torch.Generator().manual_seed(4)
chain = resample_chain(G, G.sample_z(1, gen), generator=gen, render=True)
frames = chain.images[:, 0]                                   # [17, 3, 32, 32]
steps = difference(frames[:-1], frames[1:])                   # [16, 32, 32]
inside = torch.stack([G.grid.block_mask(a) for a in chain.order])
share = (steps * inside).sum((1, 2)) / steps.sum((1, 2))
print(f"one step changes {float(steps.mean()):.3f} per pixel on average;")
print(f"{float(share.mean()):.0%} of that change lies in the redrawn block "
      f"(which holds {1 / G.grid.n_blocks:.0%} of the pixels)")
print(f"start vs end: {float(difference(frames[0], frames[-1]).mean()):.3f}"
      " per pixel")

# %% tags=["hide-input"]
rgb = ((frames.permute(0, 2, 3, 1) + 1) / 2).clamp(0, 1)      # [17, 32, 32, 3]
fig = plotting.image_grid(rgb[::2], ncols=5,
                          titles=[f"step {k}" for k in range(0, 17, 2)])
fig.suptitle("every other frame of the sweep")
plotting.show(fig)
fig = plotting.image_grid(steps, ncols=8, cmap="inferno", vmax=float(steps.max()),
                          titles=[f"step {k + 1}" for k in range(16)],
                          boxes=[G.grid.box(a) for a in chain.order])
fig.suptitle("what each step changed (redrawn block outlined)")
plotting.show(fig)

# %% [markdown]
# First: every other frame of the sweep, a face drifting into a new one.
# Second: what each single step changed, with the redrawn block outlined. Each
# step's change is densest on its block, 22 % of it on 6 % of the pixels, yet
# most of it still lands outside: some steps repaint the background (steps 2
# and 8) or move the hair and the head (7 and 11). The model is far from local.
# After sixteen steps nothing of the start's latent is left: the
# end image is a fresh sample, which sequential inpainting never reached. The
# change that leaks beyond the block is the distortion that the regulariser
# $\lambda_D$ pushes down; `data/checkpoints/RESULTS.md` measures it for every
# model of the zoo.
#
# ## Summary
#
# - Inpainting a block is a Gibbs step: it keeps $P$, and keeps everything
#   else exactly.
# - One sweep of sequential inpainting is a block-resampling only when the
#   blocks are independent; otherwise the end image remembers the start, to the
#   extreme of the two-pixel example, where it never moves.
# - Latent-block resampling escapes by letting the other blocks move: it
#   reaches the target law (if the model is exact) in one sweep, and the LDBR
#   problem is to make that movement small.
#
# **Exercise.** Take two Gaussian pixels with unit variances and correlation
# $\rho$, each its own block, and inpaint pixel 0, then pixel 1, starting from
# $y^{(0)}$. (a) Compute the law of $y^*$ given the start. (b) Show that the
# end law forgets the start only when $\rho = 0$, and find how fast $k$ sweeps
# forget it. (c) What happens at $\rho = 1$? Check your answer with
# `toy.gaussian_inpainting_kernel` and `toy.gaussian_sweep`.
#
# :::{admonition} Answer
# :class: dropdown
#
# (a) The conditional law of one pixel given the other is $y_0 \mid
# y_1 \sim \mathcal N(\rho y_1, 1-\rho^2)$. Step 1 gives $y^*_0 = \rho y^{(0)}_1 +
# \sqrt{1-\rho^2}\,\varepsilon_0$; step 2 gives $y^*_1 = \rho y^*_0 +
# \sqrt{1-\rho^2}\,\varepsilon_1$. So $y^* = B y^{(0)} + \varepsilon$ with
# $B = \left(\begin{smallmatrix} 0 & \rho \\ 0 & \rho^2 \end{smallmatrix}\right)$: the end
# law has mean $(\rho\, y^{(0)}_1,\ \rho^2 y^{(0)}_1)$. Note that $y^{(0)}_0$ is
# forgotten at once (it is overwritten first), while $y^{(0)}_1$ leaves a trace.
# (b) The mean is zero for every start only if $\rho = 0$. After $k$ sweeps $B^k
# = \rho^{2(k-1)} B$, so the trace decays like $\rho^{2k}$: fast for weak
# correlation, slow as $\rho \to 1$. (c) At $\rho = 1$ the noise vanishes and
# $B$ copies $y^{(0)}_1$ into both pixels: the chain is frozen, the Gaussian
# version of the paper's two-pixel example.
# :::

# %% tags=["hide-cell"]
# The check of the answer.
pair_g = toy.pixel_blocks((1, 2))
for r in [0.0, 0.5, 0.9]:
    c = toy.grid_covariance((1, 2), r)
    end = toy.gaussian_sweep([toy.gaussian_inpainting_kernel(c, pair_g, a)
                              for a in range(2)])
    print(f"rho {r}: B = {np.round(end.B, 3).tolist()}, "
          f"expected KL gap {toy.end_law_gap_gaussian(end, c, metric='kl'):.3f}")
