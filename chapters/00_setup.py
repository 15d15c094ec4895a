# %% [markdown]
# # 0. Setting up
#
# This short chapter checks that your machine can run the book. Every later
# chapter follows the same pattern, so it is also a tour of the conventions.
#
# **Learning goals**
#
# - run a chapter in either of its two *profiles*, `quick` and `full`;
# - know where the computation happens (CPU, CUDA or Apple's MPS) and how to force it;
# - make a computation reproducible with an explicit seed.
#
# **Profiles.** A chapter runs in the `quick` profile unless the environment
# variable `SSN_PROFILE=full` is set. `quick` computes on the CPU from models
# shipped in `data/`, with fixed seeds, so its printed numbers are the same on a
# laptop and on a GPU server; `pytest --nbval chapters/` checks exactly that.
# `full` uses the best device it finds for real training and larger
# evaluations; its numbers are not compared.

# %%
from ssnlib.utils import chapter_device, get_device, get_profile

print("profile:", get_profile())
print("computing on:", chapter_device().type)

# %% [markdown]
# The best device on this machine, which the `full` profile would use (set
# `SSN_DEVICE=cpu`, `cuda:1` or `mps` to force one). The versions below differ
# from machine to machine, so this cell is tagged `nbval-ignore-output`: its
# output is shown but not compared.

# %% tags=["nbval-ignore-output"]
from ssnlib.utils import environment_report

for key, value in environment_report().items():
    print(f"{key:8s} {value}")
print("best device:", get_device().type)

# %% [markdown]
# ## Seeds
#
# Every random thing in `ssnlib` takes a seed or a `torch.Generator`. Here a
# generator drives a batch of random walks $x_t = \sum_{s \le t} \varepsilon_s$,
# $\varepsilon_s \sim \mathcal N(0, 1)$; the same seed gives the same walks, bit
# for bit, and the spread across walks grows like $\sqrt{t}$.

# %%
import torch
import torch.nn.functional as F

from ssnlib import plotting
from ssnlib.utils import seed_everything

plotting.use_book_style()  # fonts and figure widths that read well in the book

steps, walkers = 400, 2000
walks = torch.randn(walkers, steps, generator=seed_everything(0)).cumsum(dim=1)
same_seed = torch.Generator().manual_seed(0)
again = torch.randn(walkers, steps, generator=same_seed).cumsum(dim=1)
print("same seed, same walks:", torch.equal(walks, again))

t = torch.arange(1, steps + 1)
spread = walks.std(dim=0)
print(f"spread at t={steps}: {spread[-1]:.1f} (sqrt(t) = {steps ** 0.5:.1f})")

fig, (left, right) = plotting.subplots(1, 2, height=3)
left.plot(walks[:20].T, lw=0.8)
left.set(title="20 of the walks (seed 0)", xlabel="t", ylabel="$x_t$")
right.plot(t, spread, label="spread across walks")
right.plot(t, t.sqrt(), "--", label=r"$\sqrt{t}$")
right.set(title="standard deviation", xlabel="t")
right.legend()
plotting.show(fig)

# %% [markdown]
# ## Image grids
#
# Chapters show batches of generated images with `ssnlib.utils.image_grid`,
# which maps values in $[-1, 1]$ to pixels and tiles the batch. Here, eight
# seeded noise images, each smoothed a different number of times.

# %%
from ssnlib.utils import image_grid

g = torch.Generator().manual_seed(1)
images = torch.randn(8, 3, 32, 32, generator=g)
for i in range(8):
    for _ in range(i):  # a 3x3 box blur per pass: later images are smoother
        images[i] = F.avg_pool2d(images[i : i + 1], 3, 1, 1,
                                 count_include_pad=False)[0]
images = images / images.flatten(1).std(dim=1)[:, None, None, None] / 2
grid = image_grid(images, nrow=8)
print("grid:", grid.shape, grid.dtype)
fig, ax = plotting.subplots(height=1.1)
ax.imshow(grid)
ax.axis("off")
plotting.show(fig)

# %% [markdown]
# ## Widgets
#
# Later chapters let you click blocks of an image to resample them, with
# [ipywidgets](https://ipywidgets.readthedocs.io). In JupyterLab the slider
# below is live; in the static book it is drawn from the state saved in the
# notebook, without a kernel. If you see a slider in both places, widgets work.

# %%
import ipywidgets as widgets

widgets.IntSlider(value=4, min=1, max=8, description="blocks per side")

# %% [markdown]
# **Exercise.** Change the seed of the random walks and check that the spread
# still follows $\sqrt{t}$. Why does `torch.equal` stay `True` whatever seed you
# pick, as long as both generators get the same one?
#
# :::{admonition} Answer
# :class: dropdown
#
# The walk's variance is $\sum_{s\le t} \operatorname{Var}\varepsilon_s = t$
# for any seed, so the spread tracks $\sqrt t$ up to sampling noise of about
# $1/\sqrt{2 \cdot 2000}$ relative. And a `torch.Generator` is a deterministic
# algorithm: the same seed yields the same stream of numbers.
# :::
