# %% [markdown]
# # 6. Transfer from StyleGAN2
#
# Every experiment in the paper starts from a trained StyleGAN2, not from
# random weights (section 3.4). The reason is cost, and the reason it works is
# that an SSN *contains* StyleGAN2: run with a latent grid whose blocks are all
# equal, an SSN is a StyleGAN2. This chapter makes that statement exact on the
# shipped models, then fine-tunes the shipped `faces32-stylegan2` into a
# resampling SSN on the CPU and compares it with the same budget from scratch.
#
# **Learning goals**
#
# - map every StyleGAN2 weight to its SSN counterpart by name, and say which
#   ones change shape and which have no counterpart;
# - check live that the transferred SSN draws StyleGAN2's image from equal
#   blocks, and explain why the encoder's gain must start at 0;
# - read a fine-tuning curve (domain FID and distortion against images seen)
#   against a run from scratch, and restate the paper's cost argument with a
#   ratio we measured;
# - compare the zoo's transferred SSNs with their StyleGAN2 trained on for as
#   many images (the paper's Table 1, at length);
# - use the protocol yourself: `ssn transfer` then `ssn train model.init=...`,
#   from a zoo model, one of your runs or a rosinality/stylegan2-pytorch `.pt`.

# %%
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

from ssnlib import plotting, zoo
from ssnlib.transfer import stylegan2_to_ssn
from ssnlib.utils import chapter_device, get_profile, image_grid, rounding

plotting.use_book_style()  # fonts and figure widths that read well in the book
torch.set_num_threads(1)
PROFILE = get_profile()
ROOT = Path.cwd().parent if Path.cwd().name == "chapters" else Path.cwd()
print("profile:", PROFILE, "| computing on:", chapter_device().type)

# %% [markdown]
# ## The mapping
#
# The paper's protocol, in its words: "we copy all the weights and biases
# directly from pretrained StyleGAN2 models [...] that correspond to analogous
# components", the 8-layer MLP to "an 8-layer set of 1x1 convolutions", the
# StyleConvs to the spatially demodulated blocks, the ToRGBs to ToRGBs; "our
# spatial encoder module has no direct analogy in StyleGAN2, so the layers in
# the spatial encoder are randomly initialized" (section 3.4).
#
# Our SSN keeps StyleGAN2's module names (rosinality's, which became the
# field's vocabulary), so the mapping is "same name", and only the layout of
# two kinds of weights differs:
#
# - the mapping MLP `style.N` runs on every block of the z grid, as a 1x1
#   convolution: weight $[out, in] \to [out, in, 1, 1]$;
# - each layer's affine map from w to the style `conv.modulation` runs on the
#   w-map, also as a 1x1 convolution: $[C, w] \to [C, w, 1, 1]$.
#
# `ssnlib.transfer.stylegan2_to_ssn` does the copy and reports what it did.
# The source here is the zoo's version 3 StyleGAN2 (`data/runs/faces32-stylegan2`,
# the one the SSNs of chapters 5 and 7 were transferred from, trained on
# since); the table below is built from the real state dicts (indices
# collapsed to `N`; the shapes are those of the first match).

# %%
from ssnlib.zoo import runs

SOURCE = "faces32-stylegan2"
sg2 = runs.load(SOURCE)                      # the newest installment's EMA generator
print(f"data/runs/{SOURCE}: {runs.summary(SOURCE)['images']:,} images")
ssn, _, report = stylegan2_to_ssn(sg2, source=f"data/runs/{SOURCE}")
print(report)

reshaped = {key for key, _, _ in report.reshaped}
sg2_params = dict(sg2.named_parameters())
rows: dict[tuple[str, str], list] = {}
for key, p in ssn.named_parameters():
    pattern = re.sub(r"\.\d+(?=\.)", ".N", key)     # convs.3.x -> convs.N.x
    kind = ("fresh" if key in report.fresh
            else "reshaped" if key in reshaped else "copied")
    old = sg2_params.get(key)
    source = str(list(old.shape)) if old is not None else "(none)"
    entry = rows.setdefault((pattern, kind), [0, source, str(list(p.shape))])
    entry[0] += 1
plotting.show_table(["parameter (same name in both)", "StyleGAN2", "SSN", "n", "kind"],
                    [[pattern, source, target, count, kind]
                     for (pattern, kind), (count, source, target) in rows.items()],
                    caption="buffers (blur kernels, fixed noise maps) are copied as they are")

# %% [markdown]
# Nothing of StyleGAN2 is left over and nothing is guessed: the mapping layers
# and the modulations change layout, the rest keep their shape, and only the
# spatial encoder (`encoder.*`, a large share of the parameters at this small
# width, see the report) is new.
#
# ## Exactness, live
#
# Why equal blocks give StyleGAN2 back: with every block of $z$ equal, the
# per-block MLP gives a w-grid with one value $w$ everywhere. The encoder
# splits each block into cells (nearest up-sampling), so the w-map is the
# constant $w$, and so is every layer's style map $s = A(w)$ (bilinear and area
# resizing keep constants). For a constant style, eq. 1's normaliser
# $\sigma_E = \sqrt{\mathrm{conv}(s^2, w^2)}$ is StyleGAN2's demodulation, and
# the spatially modulated convolution is StyleGAN2's modulated one. The
# remaining piece is the encoder's residual units, $x + g \cdot
# \mathrm{conv}(\mathrm{lrelu}(\mathrm{conv}(x)))$: the paper initialises
# them randomly; we start their gain $g$ at 0, so at the start they add
# nothing. The check, on every StyleGAN2 we have (the two shipped 40,000-image
# models and the version 3 runs), same $z$ and noise:

# %%
gen = torch.Generator().manual_seed(0)
sources = {name: zoo.load(name) for name in zoo.names() if "stylegan2" in name}
sources |= {f"data/runs/{n}": runs.load(n) for n in runs.names() if "stylegan2" in n}
for name, G in sources.items():
    S = stylegan2_to_ssn(G, source=name).G
    z, noise = G.sample_z(16, gen), G.make_noise(16, gen)
    z_equal = z[:, :, None, None].expand(-1, -1, 4, 4)   # [16, z_dim, 4, 4]
    with torch.no_grad():
        err = (S(z_equal, noise=noise) - G(z, noise=noise)).abs().max().item()
    print(f"{name:31s} max |SSN(equal blocks) - StyleGAN2| {rounding(err, 1e-4)}")

# %% [markdown]
# The gain is not a detail. Open it a little and the equality breaks, and
# not only at the border. The residual branch maps a constant w-map to a
# non-zero vector (biases, and the sum of the weights times the constant), so
# w itself moves; near the border the zero padding makes the branch's output
# vary, and the coarse layers average the w-map over whole blocks, carrying
# that variation inwards. Maximum differences on the 8-pixel border and in
# the 16 x 16 centre:

# %%
z, noise = sg2.sample_z(16, gen), sg2.make_noise(16, gen)
z_equal = z[:, :, None, None].expand(-1, -1, 4, 4)
with torch.no_grad():
    reference = sg2(z, noise=noise)
    for gain in (0.0, 0.01, 0.1):
        ssn.encoder.gain.fill_(gain)
        diff = (ssn(z_equal, noise=noise) - reference).abs().amax((0, 1))
        inside = diff[8:-8, 8:-8].max().item()                  # [32, 32] map
        diff[8:-8, 8:-8] = 0
        print(f"gain {gain:4}: border {rounding(diff.max(), 1e-4)}, "
              f"centre {rounding(inside, 1e-4)}")
    ssn.encoder.gain.zero_()

# %% [markdown]
# With independent blocks, the transferred SSN is no longer a StyleGAN2: each
# block asks for its own style, and the network, trained to receive one style
# per image, has never seen a style map that changes from block to block.
# Below, top: StyleGAN2; middle: the SSN with equal blocks (the same images);
# bottom: the SSN with 16 independent blocks, where fine-tuning starts.

# %%
with torch.no_grad():
    z8, noise8 = sg2.sample_z(8, gen), sg2.make_noise(8, gen)
    independent = ssn.sample_z(8, gen)
    equal8 = z8[:, :, None, None].expand(-1, -1, 4, 4)
    rows_img = torch.cat([sg2(z8, noise=noise8), ssn(equal8, noise=noise8),
                          ssn(independent, noise=noise8)])
fig, ax = plotting.subplots(height=3.0)
ax.imshow(image_grid(rows_img, nrow=8))
ax.set_yticks([18, 52, 86], ["StyleGAN2", "SSN, equal", "SSN, independent"])
ax.set_xticks([])
plotting.show(fig)

# %% [markdown]
# ## Fine-tuning on the CPU: transfer against scratch
#
# The protocol is two commands. `ssn transfer` writes the transferred SSN (and
# the discriminator, when the source has one) to a file; `model.init` starts
# a run from it, in any training config that builds the same SSN (a file of
# another size or width is an error naming the first key that differs):
#
# ```bash
# ssn transfer faces32-stylegan2 init.pt
# ssn train --config configs/zoo/faces32.yaml model.init=init.pt
# ```
#
# The shipped zoo models hold only the EMA generator, so here the
# discriminator starts fresh (a rosinality checkpoint's `d`, one of our own
# `stylegan2` training checkpoints, or a version 3 run, `ssn transfer
# data/runs/faces32-stylegan2 init.pt`, would be copied too). We ran the zoo recipe
# (`configs/zoo/faces32.yaml`, with the distortion regulariser) twice for the
# same number of steps, once from the transferred model and once from
# scratch, one run at a time on one CPU thread, and scored the EMA generator
# at regular steps (and at step 0, the starting point): domain FID against
# the faces reference, and distortion (`tools/transfer_curves.py`; the sample
# counts are printed below). FID from a few thousand samples is biased
# upwards, so compare these numbers with each other, not with the zoo's
# 10 000-sample scores; for scale, the same protocol also scored the shipped
# `faces32-ssn-ld100`, the same recipe trained from scratch for longer. The
# exact commands, commit, device and wall times are in
# `data/transfer/manifest.json`; the quick profile plots the shipped curves,
# the full profile (`SSN_PROFILE=full`) reruns everything, longer, on the
# best device.

# %% tags=["hide-input"]
# Plumbing: the full profile reruns the two trainings and the scoring (the commands below);
# the quick profile reads what they wrote from data/transfer/.
if PROFILE == "full":
    out_dir, steps = ROOT / "runs/chapter6", 5000
    init = out_dir / "faces32-ssn.init.pt"
    base = ["ssn", "train", "--config", "configs/zoo/faces32.yaml",
            "reg.distortion_mode=radial", f"steps={steps}", "ckpt_every=500",
            "keep_ckpts=0"]
    transfer_dir = out_dir / "transfer-ld100"
    scratch_dir = out_dir / "scratch-ld100"
    commands = [
        ["ssn", "transfer", "faces32-stylegan2", str(init)],
        [*base, f"model.init={init}", f"run_dir={transfer_dir}"],
        [*base, f"run_dir={scratch_dir}"],
        [sys.executable, "tools/transfer_curves.py", "--every", "500",
         "--run", f"transfer={transfer_dir}", "--run", f"scratch={scratch_dir}",
         "--zoo", "faces32-ssn-ld100", "--out", f"{out_dir}/curves.json"]]
    for command in commands:
        subprocess.run(command, cwd=ROOT, check=True)
    curves = json.loads((out_dir / "curves.json").read_text())
    manifest = {"runs": {}}
else:
    curves = json.loads((ROOT / "data/transfer/curves.json").read_text())
    manifest = json.loads((ROOT / "data/transfer/manifest.json").read_text())
print(textwrap.fill(manifest.get("recipe", "configs/zoo/faces32.yaml"), 78))
print(f"scoring: FID from {curves['num']} samples against {curves['ref_num']} "
      f"reference images,\n         distortion from {curves['dist_num']} samples")
for name, info in manifest["runs"].items():
    print(f"{name}: {info['steps']} steps, {info['wall_time_s']:.0f} s of "
          f"training on {info['device']} ({info['threads']} thread)")
short_runs = curves["runs"]                 # the transfer and scratch curves
zoo_points = [(name, {"points": [p]}) for name, p in curves["zoo"].items()]
plotting.show_table(["run", "step", "images", "FID", "distortion"],
                    [[name, p["step"], f"{p['images_seen']:,}", f"{p['fid']:.1f}",
                      f"{p['distortion']:.4f} ± {p['distortion_se']:.4f}"]
                     for name, run in [*short_runs.items(), *zoo_points] for p in run["points"]])

# %% [markdown]
# In the plot, the scratch run's step 0 (a random network) is left out: its
# FID is off the scale (see the table).

# %%
fig, axes = plotting.subplots(1, 2, height=3.4)
for name, run in short_runs.items():
    points = [p for p in run["points"] if name == "transfer" or p["step"] > 0]
    seen = [p["images_seen"] / 1000 for p in points]
    axes[0].plot(seen, [p["fid"] for p in points], "o-", ms=3, label=name)
    axes[1].errorbar(seen, [p["distortion"] for p in points],
                     yerr=[p["distortion_se"] for p in points],
                     fmt="o-", ms=3, capsize=2, label=name)
for name, p in curves["zoo"].items():
    for ax, key in zip(axes, ("fid", "distortion"), strict=True):
        ax.plot(p["images_seen"] / 1000, p[key], "k*", ms=8, label=name)
axes[0].set(xlabel="thousands of images seen", ylabel="domain FID")
axes[1].set(xlabel="thousands of images seen", ylabel="distortion")
for ax in axes:
    ax.grid(alpha=0.3)
axes[0].legend()
fig.suptitle(r"$\lambda_D$ = 100: transferred from StyleGAN2 vs from scratch")
plotting.show(fig)

# %% [markdown]
# The verdict on the target we set ourselves (transfer + 1000 CPU steps
# reaches a lower domain FID than 1000 steps from scratch, at the same
# $\lambda_D$), read off the last points:

# %%
t, s = short_runs["transfer"]["points"][-1], short_runs["scratch"]["points"][-1]
verdict = "transfer lower" if t["fid"] < s["fid"] else "scratch lower"
print(f"after {t['step']} steps: FID transfer {t['fid']:.1f}, "
      f"scratch {s['fid']:.1f} -> {verdict}")
print(f"distortion: transfer {t['distortion']:.4f} +- {t['distortion_se']:.4f}, "
      f"scratch {s['distortion']:.4f} +- {s['distortion_se']:.4f}")
if PROFILE == "quick":                      # the zoo's protocol, 10 000 samples
    final10k = json.loads((ROOT / "data/transfer/final.json").read_text())
    zoo_fid = {n: zoo.manifest(n)["metrics"]["fid"]["fid"]
               for n in ("faces32-ssn-ld100", "faces32-stylegan2")}
    print(f"10 000-sample FID: transfer {final10k['transfer']['fid']:.1f}, "
          f"scratch {final10k['scratch']['fid']:.1f}")
    print("  zoo: " + ", ".join(f"{n} {v:.1f}" for n, v in zoo_fid.items()))
start = short_runs["transfer"]["points"][:2]
print(f"transfer, first 200 steps: FID {start[0]['fid']:.1f} -> "
      f"{start[1]['fid']:.1f}, distortion {start[0]['distortion']:.4f} -> "
      f"{start[1]['distortion']:.4f}")

# %% [markdown]
# How to read it. The transferred model starts with a good FID but a high
# distortion: its layers were trained on one style per image, so a block of
# its own shifts the whole picture. In its first 200 steps the regulariser
# cuts the distortion by a large factor while the FID gets *worse*, for two
# likely reasons we did not separate: the discriminator starts from random
# weights (the zoo ships no D), and the generator is pushed to make each
# block's effect local at once. Then the
# FID recovers and ends below the scratch run's, while the distortion drifts
# back up and ends *above* the scratch run's. That is the quality/distortion
# trade-off of chapter 1 rather than a failure: the scratch run, trained
# longer (the shipped 2500-step model, the star), also buys its lower FID
# with a higher distortion. Transfer moves along that trade-off faster; it
# does not escape it. Whether a copied discriminator (a rosinality `d`, or
# the `D` of one of our own StyleGAN2 checkpoints) shortens the early detour
# is a question this CPU budget leaves open.
#
# ## The cost argument, restated
#
# The paper: "training a single StyleGAN2 model from scratch on LSUN churches
# takes 781 GPU hours on V100s [...]. Using transfer, we only need 4 GPU
# hours" (section 3.4). Our version of the ratio: the transferred run ends
# the budget at some FID; how many images does training from scratch need to
# get there, against how many the transferred run needed? We count images,
# not seconds, because our CPU was shared with other work and its wall times
# are noisy (the manifest keeps the seconds). The scratch side has the
# 1000-step run and, further out, the shipped 2500-step model, so the answer
# is a bracket.

# %%
level = short_runs["transfer"]["points"][-1]["fid"]
tuned = short_runs["transfer"]["points"][1:]                     # once tuning began
transfer_needs = next(p["images_seen"] for p in tuned if p["fid"] <= level)
scratch = sorted(short_runs["scratch"]["points"] + list(curves["zoo"].values()),
                 key=lambda p: p["images_seen"])
above = [p["images_seen"] for p in scratch if p["fid"] > level]
below = [p["images_seen"] for p in scratch if p["fid"] <= level]
print(f"paper: 781 / 4 = {781 / 4:.0f}x fewer GPU hours by transfer")
print(f"transferred run: FID {level:.1f} after {transfer_needs} images")
if below:
    lo = max(i for i in above if i < below[0])
    print(f"from scratch: above it at {lo} images, at or below at {below[0]}")
    print(f"so scratch needs {lo / transfer_needs:.1f}x to "
          f"{below[0] / transfer_needs:.1f}x the images of transfer")
else:
    print(f"from scratch: not reached in {max(above)} images, more than "
          f"{max(above) / transfer_needs:.1f}x the images of transfer")
pretrain = zoo.manifest("faces32-stylegan2")["training"]
print(f"not counted, as in the paper: training the StyleGAN2 itself, "
      f"{pretrain['images_seen']} images")

# %% [markdown]
# Two honest caveats. First, our bracket is over a short CPU budget, far
# from convergence, with only a few scored points; the paper's ratio is
# between converged 256 px models, where the run from scratch has much
# further to go. Second, neither the paper's ratio nor ours counts training
# the StyleGAN2 itself: transfer pays off because someone already paid for
# the StyleGAN2, which is exactly the situation of a reader who owns a
# StyleGAN2 checkpoint.
#
# ## Transfer in the zoo: a full run, eq. 2's weighting
#
# The runs above stop at 1000 steps and used the radial weighting. The zoo
# also holds transfer runs the length of every zoo model, 2500 steps, with
# the uniform weighting the metric uses: a StyleGAN2 trained with the
# command of `faces32-stylegan2`, `ssn transfer`, then $\lambda_D$ = 0 and
# 100 (`-transfer`, and `-transfer-seed1` with `seed=1`). Beside them, the
# same $\lambda_D$ from scratch, scored with the same protocol (chapter 5).

# %%
from ssnlib.zoo import results

# results.models() comes sorted by lambda_D, start and seed
pairs = [m for m in results.models() if results.recipe(m)[:2] == ("faces", "ssn")
         and (m["training"]["lambda_D"] == 0 or
              (m["training"]["lambda_D"] == 100 and results.weighting(m) == "outside"))]
plotting.show_table(["model", "start", "seed", "FID", "distortion", "energy inside"],
                    [[m["name"], results.start(m), m["training"]["seed"],
                      f"{results.score(m, 'fid'):.1f}", f"{results.score(m, 'distortion'):.4f}",
                      f"{results.score(m, 'locality', 'energy_inside'):.2f}"] for m in pairs])
by_name = {m["name"]: m for m in pairs}
for seed in ("", "-seed1"):
    ld0, ld100 = (by_name[f"faces32-ssn-ld{ld}-transfer{seed}"] for ld in (0, 100))
    print(f"seed {ld100['training']['seed']}: λ_D = 100 cuts distortion "
          f"{results.score(ld0, 'distortion') / results.score(ld100, 'distortion'):.2f} times "
          f"at {results.score(ld100, 'fid') / results.score(ld0, 'fid'):.2f} times the FID")

# %% [markdown]
# Two seeds, two stories. Both transferred $\lambda_D = 0$ models score a
# worse FID (44.6 and 38.3) than the StyleGAN2 they came from, a re-run of
# the shipped StyleGAN2's recipe at today's code that is not shipped itself
# (`data/checkpoints/RESULTS.md` gives its command and score; it scores better
# than the shipped `faces32-stylegan2`): in 40 000 images the network is still learning to
# use the spatial latent that transfer adds. On seed 1 the transferred
# $\lambda_D = 100$ model is the zoo's best at that $\lambda_D$ by the
# targets of chapter 5: distortion cut 5.47 times against its $\lambda_D = 0$
# twin at 1.05 times the FID. On seed 0 the transferred blocks barely
# matter yet, its $\lambda_D = 0$ model leaks little because it changes
# little, and $\lambda_D = 100$ ends at FID 57.2. With a seed spread this
# large at this budget, the zoo does not show that transfer helps or hurts;
# the 1000-step comparison above, where transfer led, is one more single
# run. The paper's claim is about converged 256 px models, which this CPU
# budget cannot reach.
#
# ## The protocol at length: zoo version 3
#
# The runs above are short. The zoo's version 3 runs (`data/runs/`, trained in
# installments across sessions; chapters 5 and 7) follow the protocol at
# length: a StyleGAN2 from fresh weights, `ssn transfer` of its state at one
# installment, then SSNs at $\lambda_D$ = 0 and 100 (two seeds each) from that
# one start, while the StyleGAN2 trained on as well. That allows the comparison
# of the paper's Table 1 (an SSN without the penalty against StyleGAN2: does
# the spatial latent cost quality?) at equal cost, counting every image a
# model's weights have seen, the StyleGAN2's before the transfer included
# (`runs.history`).

# %%
fig, axes = plotting.subplots(1, 2, height=3.4)
for ax, data in zip(axes, ("faces", "skylines"), strict=True):
    sg = runs.history(f"{data}32-stylegan2")
    ax.plot([p["total_images"] / 1000 for p in sg], [p["fid"] for p in sg], "o-", ms=4,
            color="k", label="StyleGAN2")
    newest = sg[-1]
    print(f"{data}32-stylegan2: FID {newest['fid']:.1f} at {newest['total_images']:,} images")
    for name in runs.names():
        s = runs.summary(name)
        if s["dataset"] != data or s["arch"] != "ssn" or s["lambda_D"] not in (0, 100):
            continue
        h, lam, seed1 = runs.history(name), int(s["lambda_D"]), name.endswith("-seed1")
        start = s["transfer"]["images"]                 # the same StyleGAN2 state for all
        ax.plot([p["total_images"] / 1000 for p in h], [p["fid"] for p in h],
                "s--" if seed1 else "o-", ms=4, color=f"C{lam // 100}",
                label=rf"SSN $\lambda_D$ = {lam}" + (", seed 1" if seed1 else ""))
        near = min(h[1:], key=lambda p: abs(p["total_images"] - newest["total_images"]))
        print(f"  {name}: FID {near['fid']:.1f} at {near['total_images']:,} "
              f"({start:,} + {near['images']:,})")
    ax.axvline(start / 1000, color="gray", lw=0.8, ls=":")
    ax.set(yscale="log", title=data, xlabel="images seen (thousands)")
    ax.set_yticks(ticks := [5, 10, 20, 40], [str(t) for t in ticks])
    ax.minorticks_off()
    ax.grid(alpha=0.3)
axes[0].set_ylabel("domain FID (10,000 samples)")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
plotting.show(fig)
params = {net: sum(q.numel() for q in G.parameters()) for net, G in (("StyleGAN2", sg2),
                                                                       ("SSN", ssn))}
print(", ".join(f"{net}: {n:,} parameters" for net, n in params.items()))

# %% [markdown]
# At about the same cost, the SSN without the penalty scores a lower FID than
# the StyleGAN2 it came from, trained on: on faces 7.8 and 6.6 (two seeds)
# against 8.8, on skylines 7.4 and 6.0 against 9.0. The paper's Table 1 asks
# only that the spatial latent cost nothing; here it costs nothing and may
# gain. Read the gain with care: there is one StyleGAN2 run per dataset, one
# run's FID also moves between installments, on skylines by more than these
# gaps (the blue line on the right), and the SSN has the encoder's weights on
# top of StyleGAN2's (195,668 parameters against 121,811). Both kinds of run
# trained in bf16 after their first installments, on the same recipe. With the
# penalty, the picture is chapter 5's: $\lambda_D = 100$ trails the StyleGAN2
# at that cost on both datasets (11.3 and 18.0 on faces, 24.0 and 42.5 on
# skylines), and it is the cut in distortion that has to pay for it.
#
# ## Your own checkpoint
#
# `ssnlib.transfer.load_rosinality(path)` imports a rosinality/stylegan2-pytorch
# checkpoint (`g_ema`, and `g`, `d`, `latent_avg`, `args` when present) into
# our `StyleGAN2Generator` and `Discriminator`, reading size, widths, `n_mlp`
# and `style_dim` off the weights. It never runs pickled code: files are read
# with `torch.load(weights_only=True)`, and the only object allowed beyond
# tensors and containers is `argparse.Namespace`, the `args` of rosinality's
# `train.py`. A file that would build anything else is refused before
# anything runs; a truncated one is a one-line error. `ssn transfer` accepts
# such a file directly.
#
# **Exercise.** The encoder's residual unit is $x + g\,\mathrm{conv}_2
# (\mathrm{lrelu}(\mathrm{conv}_1(x)))$ with zero padding. (a) Why does
# $g = 0.01$ break the equal-block equality, in the centre of the image as
# well as at its border? (b) Would replicate padding make any $g$ exact?
# (c) What property must a residual unit have for transfer to be exact at
# every $g$?
#
# ```{admonition} Answer
# :class: dropdown
#
# (a) Equal blocks make the w-map a constant $c$. Away from the border a
# convolution of a constant is a constant, so the branch adds one vector
# $u(c) = \mathrm{conv}_2(\mathrm{lrelu}(\mathrm{conv}_1(c)))$ everywhere; it
# is not zero (the biases, and the sums of the weights times $c$), so the
# w-map becomes $c + g\,u(c)$: StyleGAN2 run at another $w$, a different
# image in the centre too. Near the border the zero padding replaces some of
# the $c$ by 0, so the added vector varies there as well, and the coarse
# layers, which average the w-map over whole blocks, spread that variation
# inwards.
# (b) No. With replicate padding the w-map stays constant, but the constant
# is still $c + g\,u(c)$, not $c$.
# (c) It must map every constant map to 0 (for instance, subtract the
# branch's output on the map's mean), or start at $g = 0$ as ours does; then
# equal blocks give StyleGAN2 exactly, and training is free to open the gain.
# ```
