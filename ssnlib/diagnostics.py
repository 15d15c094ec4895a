"""Diagnostics of the generators' insides: the numbers chapters 3 and 4 print.

* Spikes (chapter 3, SPADE's droplets). :func:`top_energy_share` and :func:`peak_to_median`
  measure how much of a feature map one small set of activations holds;
  :func:`capture_outputs` records any sub-module's output with forward hooks;
  :func:`layer_features` and :func:`spike_table` run a generator and measure every synthesis
  layer at the same place for StyleGAN2, SSN and SPADE (the output of the layer's bias +
  leaky ReLU, i.e. what SPADE's instance norm receives).
* The droplet mechanism on one feature map (:func:`magnitude_toy`): a layer must pass a global
  magnitude through a normalisation, by actual statistics (instance norm) or by expected ones
  (demodulation), and learns what it can.
* The spatially modulated convolution (chapter 4, eq. 1): exact output variance from the
  Jacobian (:func:`jacobian_variance`) and by Monte Carlo (:func:`monte_carlo_variance`), the
  phases of the up-sampling kernel (:func:`fused_upsample_kernel`, :func:`phase_levels`), the
  spatial encoder's reach (:func:`style_footprint`, :func:`footprint_reach`) and the cost of a
  layer by part (:func:`layer_flops`).

References: StyleGAN2 (Karras et al. 2020, section 2: droplets, demodulation), SPADE (Park et
al. 2019), the SSN paper's section 3.1 and eq. 1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ssnlib.blocks import BlockGrid
from ssnlib.layers import ModulatedConv2d, SpatiallyModulatedConv2d, resize

# ---------------------------------------------------------------------------------------------
# spike statistics


def top_energy_share(x: torch.Tensor, fraction: float = 1e-3) -> torch.Tensor:
    """Share of a feature map's energy (sum of squares) held by its largest ``fraction`` of
    activations, per sample: x [N, ...] -> [N].

    At least one activation is counted, so a map of n activations is measured on
    ``max(1, ceil(fraction * n))`` of them. A map whose energy sits in one spike scores near 1;
    i.i.d. Gaussian activations score :func:`gaussian_top_share` (about 0.013 for large maps
    at 0.1 %)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if x.ndim < 2:
        raise ValueError(f"expected a batch [N, ...], got shape {tuple(x.shape)}")
    energy = x.detach().float().flatten(1).pow(2)                     # [N, n]
    k = max(1, math.ceil(fraction * energy.shape[1]))
    top = energy.topk(k, dim=1).values.sum(1)
    return top / energy.sum(1).clamp_min(1e-30)


def channel_top_share(x: torch.Tensor, fraction: float = 1e-3) -> torch.Tensor:
    """:func:`top_energy_share` of every channel's own map, the largest over channels, per
    sample: x [N, C, H, W] -> [N]. Instance norm divides each channel by its own statistics,
    so a droplet is one channel whose energy sits in a few pixels; a few pixels means
    ``max(1, ceil(fraction * H * W))``, i.e. the single largest pixel for maps up to 1000
    pixels."""
    if x.ndim != 4:
        raise ValueError(f"expected [N, C, H, W], got shape {tuple(x.shape)}")
    n, c = x.shape[:2]
    return top_energy_share(x.reshape(n * c, -1), fraction).reshape(n, c).amax(1)


def peak_to_median(x: torch.Tensor) -> torch.Tensor:
    """``max |x| / median |x|`` over every activation of a sample: x [N, ...] -> [N]."""
    if x.ndim < 2:
        raise ValueError(f"expected a batch [N, ...], got shape {tuple(x.shape)}")
    a = x.detach().float().flatten(1).abs()
    return a.amax(1) / a.median(1).values.clamp_min(1e-30)


def gaussian_top_share(n: int, fraction: float = 1e-3, samples: int = 256,
                       seed: int = 0) -> float:
    """The :func:`top_energy_share` of ``n`` i.i.d. standard normal activations (the mean over
    ``samples`` seeded draws): the no-spike reference for a map of that size."""
    g = torch.Generator().manual_seed(seed)
    return float(top_energy_share(torch.randn(samples, n, generator=g), fraction).mean())


@contextmanager
def capture_outputs(model: nn.Module, names: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Record the outputs of sub-modules ``names`` (dotted, as in ``named_modules``) while the
    block runs; yields a dict filled by forward hooks (the last call's output of each), and
    removes the hooks on exit.

        with capture_outputs(G, ["conv1.activate"]) as feats:
            G(z)
        feats["conv1.activate"]          # [B, C, 4, 4]
    """
    modules = dict(model.named_modules())
    unknown = [n for n in names if n not in modules]
    if unknown:
        raise KeyError(f"no sub-module(s) {unknown} in {type(model).__name__}")
    out: dict[str, torch.Tensor] = {}
    handles = []
    for name in names:
        def hook(_module, _inputs, output, name=name):
            out[name] = output.detach()
        handles.append(modules[name].register_forward_hook(hook))
    try:
        yield out
    finally:
        for h in handles:
            h.remove()


def synthesis_layers(G: nn.Module) -> dict[str, str]:
    """The 3x3 synthesis layers of a generator, labelled by resolution, and the module whose
    output is measured: ``{"4x4": "conv1.activate", "8x8 up": "convs.0.activate", ...}``.

    The measuring point is the output of each layer's bias + leaky ReLU, the same place in the
    three architectures: SPADE's instance norm reads exactly this tensor; in StyleGAN2 and SSN
    it is what the next convolution receives."""
    layers = {"4x4": "conv1.activate"}
    for k in range(len(G.convs)):
        res = 2 ** (3 + k // 2)
        layers[f"{res}x{res}" + (" up" if k % 2 == 0 else "")] = f"convs.{k}.activate"
    return layers


@dataclass(frozen=True)
class Stage:
    """One step of an SSN's data flow: its name, what computes it, its tensor's shape [C, H, W]
    for one image, and whether it is on the latent path (z to w-map) or the synthesis path."""

    name: str
    how: str
    shape: tuple[int, ...]
    latent: bool


@torch.no_grad()
def data_flow(G: nn.Module) -> list[Stage]:
    """The SSN's architecture (paper, section 3.2) as measured on one forward pass: the shape
    of every tensor from the z grid to the image, read with forward hooks, so the overview
    figure of chapter 4 cannot drift from the code. Refuses a generator without a z grid."""
    if not getattr(G, "spatial", False):
        raise ValueError(f"data_flow needs a spatial generator (SSN, SPADE), got "
                         f"{type(G).__name__}")
    layers = synthesis_layers(G)
    names = ["style", "encoder", "input", *layers.values()]
    g = torch.Generator().manual_seed(0)
    with capture_outputs(G, names) as out:
        image = G(G.sample_z(1, g), noise=G.make_noise(1, g))
    enc = G.encoder
    shape = {name: tuple(out[name].shape[1:]) for name in names}
    stages = [Stage("z grid", "independent N(0, I) blocks", tuple(G.z_shape), True),
              Stage("w grid", f"PixelNorm, {len(G.style) - 1} x 1x1 conv, per block",
                    shape["style"], True),
              Stage("w-map", f"encoder: nearest x{enc.subdiv}, {len(enc.gain)} residual "
                    f"unit{'s' * (len(enc.gain) != 1)}", shape["encoder"], True),
              Stage("input", "learnt constant", shape["input"], False)]
    for label, name in layers.items():
        how = "3x3 with 2x up-sampling, eq. 1" if label.endswith("up") else "3x3, eq. 1"
        stages.append(Stage(f"layer {label.removesuffix(' up')}", how, shape[name], False))
    stages.append(Stage("image", "sum of the ToRGB skips", tuple(image.shape[1:]), False))
    return stages


@torch.no_grad()
def layer_features(G: nn.Module, n: int = 8, seed: int = 0
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Images [n, 3, R, R] and the features of every synthesis layer (label -> [n, C, r, r]),
    z and the noise maps drawn from ``torch.Generator().manual_seed(seed)``."""
    gen = torch.Generator().manual_seed(seed)
    z = G.sample_z(n, gen)
    noise = G.make_noise(n, gen)
    layers = synthesis_layers(G)
    with capture_outputs(G, list(layers.values())) as feats:
        images = G(z, noise=noise)
    return images, {label: feats[name] for label, name in layers.items()}


@dataclass(frozen=True)
class LayerSpikes:
    """Spike statistics of one layer over a batch: means and maxima over the samples."""

    layer: str
    resolution: int
    channels: int
    top_share: float          # mean over samples of top_energy_share
    top_share_max: float
    peak_ratio: float         # median over samples of peak_to_median
    peak_ratio_max: float
    channel_share: float      # mean over samples of channel_top_share


def spike_statistics(features: dict[str, torch.Tensor], fraction: float = 1e-3
                     ) -> list[LayerSpikes]:
    """:class:`LayerSpikes` of every layer in ``features`` (label -> [N, C, r, r])."""
    rows = []
    for label, x in features.items():
        share, peak = top_energy_share(x, fraction), peak_to_median(x)
        rows.append(LayerSpikes(label, x.shape[-1], x.shape[1], float(share.mean()),
                                float(share.max()), float(peak.median()), float(peak.max()),
                                float(channel_top_share(x, fraction).mean())))
    return rows


def spike_table(G: nn.Module, n: int = 64, seed: int = 0, fraction: float = 1e-3,
                batch: int = 32) -> list[LayerSpikes]:
    """Spike statistics of every synthesis layer of ``G`` over ``n`` seeded samples."""
    feats: dict[str, list[torch.Tensor]] = {}
    for start in range(0, n, batch):
        _, f = layer_features(G, min(batch, n - start), seed + start)
        for label, x in f.items():
            feats.setdefault(label, []).append(x)
    return spike_statistics({k: torch.cat(v) for k, v in feats.items()}, fraction)


SPIKE_CURVE = Path(__file__).resolve().parents[1] / "data" / "diagnostics" / \
    "faces32-spade-spike-curve.json"


def load_spike_curve(path: str | Path = SPIKE_CURVE) -> tuple[dict[int, list[LayerSpikes]], dict]:
    """A spike curve written by ``tools/spike_curve.py``: ``{step: [LayerSpikes, ...]}`` and
    the record itself (command, run config, source of every point)."""
    record = json.loads(Path(path).read_text())
    curve = {int(p["step"]): [LayerSpikes(**row) for row in p["layers"]]
             for p in record["points"]}
    return curve, record


def heat_map(x: torch.Tensor) -> torch.Tensor:
    """Largest |activation| over channels, per pixel: [C, H, W] or [N, C, H, W] -> [(N,) H, W].
    A spike in any one channel shows as a bright pixel."""
    return x.detach().float().abs().amax(-3)


# ---------------------------------------------------------------------------------------------
# the droplet mechanism on one feature map


@dataclass
class MagnitudeToy:
    """A trained toy layer (see :func:`magnitude_toy`): ``y = gamma * N(a(gain * h + B)) + beta``
    with N instance norm (``norm="instance"``) or the division by the expected standard
    deviation ``|gain|`` (``norm="expected"``), a = leaky ReLU (slope 0.2)."""

    norm: str
    bias_map: torch.Tensor        # B [H, W]
    gain: float
    gamma: float
    beta: float
    losses: list[float]

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        """h [N, 1, H, W] -> the layer's output [N, 1, H, W] (in B's dtype, float64)."""
        x = self.gain * h.to(self.bias_map.dtype) + self.bias_map
        if self.norm == "instance":
            return self.gamma * F.instance_norm(F.leaky_relu(x, 0.2)) + self.beta
        return self.gamma * F.leaky_relu(x, 0.2) / abs(self.gain) + self.beta


def magnitude_toy(norm: str = "instance", size: int = 32, steps: int = 800, lr: float = 0.1,
                  batch: int = 16, m_min: float = 0.1, huber: float = 0.1,
                  seed: int = 0) -> MagnitudeToy:
    """Train a one-channel layer to pass a global magnitude through a normalisation.

    The input is ``h = m * u``, u an [size, size] map of i.i.d. N(0, 1) values (the content)
    and m a magnitude, log-uniform in [m_min, 1] (the signal strength an earlier layer wants
    to pass on). The target is what the layer would output without normalising,
    ``leaky_relu(m * u)``. The layer owns a gain, a bias *map* B (one number per pixel, near
    zero at the start) and the output affine gamma, beta; the loss is the Huber loss (absolute
    error beyond ``huber``, squared below), which, like a discriminator, forgives one wrong
    pixel more than a dimmed image.

    Instance norm divides by the actual statistics, so m is lost unless something else in the
    map dominates them: the layer learns to grow one large spike in B (a droplet), whose fixed
    energy makes the denominator nearly independent of m. Dividing by the expected statistics
    (|gain|, StyleGAN2's demodulation for unit-variance input) passes m as it is; B decays.

    Deterministic for a seed (CPU, Adam, ``steps`` steps), and the same on every CPU to far
    more digits than a chapter prints: it trains in float64 (the draws are the float32 run's
    numbers, promoted) with a loss smooth at its optimum. The plain absolute error's sign
    gradients, which Adam rescales to full steps, let rounding differences between CPUs'
    kernels grow into the second digit within a few hundred steps, even in float64."""
    if norm not in ("instance", "expected"):
        raise ValueError(f"norm must be 'instance' or 'expected', got {norm!r}")
    g = torch.Generator().manual_seed(seed)
    f64 = torch.float64
    bias_map = (1e-3 * torch.randn(1, 1, size, size, generator=g).to(f64)).requires_grad_()
    gain, gamma, beta = (torch.ones(1, dtype=f64, requires_grad=True),
                         torch.ones(1, dtype=f64, requires_grad=True),
                         torch.zeros(1, dtype=f64, requires_grad=True))
    opt = torch.optim.Adam([bias_map, gain, gamma, beta], lr=lr)
    losses = []
    with torch.enable_grad():
        for _ in range(steps):
            m = torch.exp(torch.rand(batch, 1, 1, 1, generator=g).to(f64) * math.log(m_min))
            u = torch.randn(batch, 1, size, size, generator=g).to(f64)
            x = F.leaky_relu(gain * m * u + bias_map, 0.2)
            if norm == "instance":
                y = gamma * F.instance_norm(x) + beta
            else:
                y = gamma * x / gain.abs() + beta
            loss = F.smooth_l1_loss(y, F.leaky_relu(m * u, 0.2), beta=huber)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    return MagnitudeToy(norm, bias_map.detach()[0, 0], float(gain.detach()),
                        float(gamma.detach()), float(beta.detach()), losses)


# ---------------------------------------------------------------------------------------------
# the spatially modulated convolution: variance, phases, reach, cost


@torch.no_grad()
def jacobian_variance(layer: Callable[[torch.Tensor], torch.Tensor], in_shape: Sequence[int],
                      batch: int = 256) -> torch.Tensor:
    """Exact output variance of a *linear* map h -> y (no bias), for i.i.d. unit-variance h of
    shape ``in_shape`` [C, H, W]: ``Var y_p = sum_q (dy_p / dh_q)^2``, the squared norm of each
    row of the Jacobian. For a linear map column q of the Jacobian is the response to a unit
    impulse at input q, so the columns are computed exactly, ``batch`` impulses per call.
    Returns [C_out, H_out, W_out]; a map with ``f(0) != 0`` is refused."""
    n = math.prod(in_shape)
    if layer(torch.zeros(1, *in_shape)).abs().max() > 0:
        raise ValueError("jacobian_variance needs a linear map (f(0) = 0)")
    total = None
    for start in range(0, n, batch):
        rows = torch.arange(start, min(n, start + batch))
        impulses = torch.zeros(len(rows), n)
        impulses[torch.arange(len(rows)), rows] = 1.0
        s = layer(impulses.reshape(-1, *in_shape)).pow(2).sum(0)
        total = s if total is None else total + s
    return total


@torch.no_grad()
def monte_carlo_variance(layer: Callable[[torch.Tensor], torch.Tensor], in_shape: Sequence[int],
                         n: int = 2000, seed: int = 0, batch: int = 500) -> torch.Tensor:
    """Output variance per output pixel over ``n`` seeded draws of i.i.d. N(0, 1) input h
    (the layer is linear with zero mean, so the mean square is the variance)."""
    g = torch.Generator().manual_seed(seed)
    total = None
    for start in range(0, n, batch):
        y = layer(torch.randn(min(batch, n - start), *in_shape, generator=g))
        s = y.pow(2).sum(0)
        total = s if total is None else total + s
    return total / n


def interior(shape: Sequence[int], margin: int) -> torch.Tensor:
    """Bool mask [H, W], True at least ``margin`` pixels away from every border."""
    h, w = shape
    mask = torch.zeros(h, w, dtype=torch.bool)
    mask[margin:h - margin, margin:w - margin] = True
    return mask


@torch.no_grad()
def fused_upsample_kernel(layer: SpatiallyModulatedConv2d | ModulatedConv2d) -> torch.Tensor:
    """The up-sampling layer as ONE stride-2 transposed convolution: its kernel
    ``W = blur * w`` [O, I, K, K] (K = 6 for a 3x3 w and the [1, 3, 3, 1] blur, which carries
    the x4 gain of zero insertion), with the equalised-lr scale applied."""
    if not layer.upsample:
        raise ValueError("fused_upsample_kernel needs an up-sampling layer (upsample=True)")
    w = layer.weight * layer.scale
    o, i, k, _ = w.shape
    blur = layer.blur.kernel.to(w.dtype)
    taps = blur.shape[0] - 1
    fused = F.conv2d(F.pad(w.reshape(o * i, 1, k, k), [taps] * 4), blur[None, None])
    return fused.reshape(o, i, *fused.shape[-2:])


@torch.no_grad()
def phase_levels(layer: SpatiallyModulatedConv2d | ModulatedConv2d) -> torch.Tensor:
    """StyleGAN2's output variance per phase of an up-sampling layer, for a constant style and
    i.i.d. unit-variance input: ``sum_i sum_{taps of phase (a, b)} W_oi^2 / sum_i sum_k w_oi^2``
    (the energy the phase's taps carry over the energy demodulation divides by), [O, 2, 2].
    For white weights its expectation is (5/8)^2 = 0.390625: each 1-D phase of the x2 blur
    [1, 3, 3, 1] / 4 keeps taps 1/4 and 3/4, energy 1/16 + 9/16 = 5/8."""
    fused2 = fused_upsample_kernel(layer).pow(2)
    w2 = (layer.weight * layer.scale).pow(2).sum([1, 2, 3])               # [O]
    out = torch.empty(fused2.shape[0], 2, 2)
    for a in range(2):
        for b in range(2):
            out[:, a, b] = fused2[:, :, a::2, b::2].sum([1, 2, 3]) / w2
    return out


def output_phases(shape: Sequence[int], offset: int = 0) -> torch.Tensor:
    """Phase index ``2 * (row % 2) + col % 2`` of every output pixel of a x2 layer, [H, W];
    ``offset`` shifts the parity (the layer's padding decides which taps feed which pixel)."""
    h, w = shape
    rows = (torch.arange(h) + offset) % 2
    cols = (torch.arange(w) + offset) % 2
    return 2 * rows[:, None] + cols[None, :]


def style_footprint(G: nn.Module, w_grid: torch.Tensor, block: int,
                    size: int | None = None) -> torch.Tensor:
    """How strongly each pixel of the style map depends on the w of one block: the norm of
    the Jacobian of ``resize(encoder(w_grid), size)`` with respect to ``w_grid[0, :, row,
    col]``, summed over channels, [size, size] (``size`` None: the encoder's own w-map).

    A layer's style map is a per-pixel affine map of this (the 1x1 ``modulation``), so it has
    the same support: where the footprint is zero the block cannot change that layer's style."""
    row, col = G.grid.position(block)

    def style(v: torch.Tensor) -> torch.Tensor:
        w = w_grid[:1].clone()
        w[0, :, row, col] = v
        m = G.encoder(w)
        return resize(m, (size, size)) if size is not None else m

    # forward mode: w_dim tangents instead of one backward pass per output value
    jac = torch.autograd.functional.jacobian(style, w_grid[0, :, row, col].detach().clone(),
                                             vectorize=True, strategy="forward-mode")
    # jac: [1, C, H, W, w_dim]
    return jac.pow(2).sum((0, 1, 4)).sqrt()


def footprint_reach(footprint: torch.Tensor, grid: BlockGrid, block: int,
                    rel_tol: float = 1e-6) -> tuple[int, float]:
    """How far a footprint [H, W] reaches beyond its block: the largest per-axis distance, in
    pixels of that map, from the block's box to a pixel above ``rel_tol * max``, and the same
    in blocks (pixels / block size at that resolution)."""
    h, w = footprint.shape
    g = BlockGrid(grid.n_h, grid.n_w, h, w) if h % grid.n_h == 0 and w % grid.n_w == 0 else None
    if g is None:
        raise ValueError(f"the {grid.n_h}x{grid.n_w} grid does not divide a {h}x{w} map")
    top, left, bottom, right = g.box(block)
    ys, xs = torch.nonzero(footprint > rel_tol * footprint.max(), as_tuple=True)
    dy = torch.maximum(top - ys, ys - (bottom - 1)).clamp_min(0)
    dx = torch.maximum(left - xs, xs - (right - 1)).clamp_min(0)
    pixels = int(torch.maximum(dy, dx).max()) if len(ys) else 0
    return pixels, pixels / g.block_size[0]


@torch.no_grad()
def layer_flops(layer: SpatiallyModulatedConv2d | ModulatedConv2d, in_size: int,
                style_size: int | None = None, fast: bool = False) -> dict[str, int]:
    """Floating-point operations of one forward pass of a 3x3 modulated layer for ONE sample,
    by part (a multiply-add counts 2), at input resolution ``in_size``.

    Spatially modulated (eq. 1): ``affine`` (the 1x1 modulation at the w-map's
    ``style_size``), ``resize`` (bilinear: 4 multiply-adds per value; area: one add),
    ``modulate`` (h * s), ``convolution`` (with the blur when up-sampling), ``sigma_E``
    (s^2, w^2 or the fused kernel, conv(s^2, w^2) on the padded map, rsqrt) and ``normalise``
    (the division). StyleGAN2's modulated convolution: ``affine`` (a linear map of the style
    vector), ``modulate`` and ``demodulate`` (per-sample weights), ``convolution``.
    ``fast``: sigma_E by the layer's factored variance kernel (``sigma_mode="fast"``): a 1x1
    convolution over the input channels at h's resolution, then one depthwise convolution.
    Elementwise parts are counted one operation per element."""
    o, i, k, _ = layer.weight.shape
    h = in_size
    out = 2 * h if layer.upsample else h
    parts: dict[str, int] = {}
    if layer.upsample:
        blur_taps = layer.blur.kernel.numel()
        conv = 2 * i * o * k * k * h * h + 2 * o * blur_taps * out * out
    else:
        conv = 2 * o * i * k * k * out * out
    if isinstance(layer, ModulatedConv2d):
        style_dim = layer.modulation.weight.shape[1]
        parts["affine"] = 2 * style_dim * i
        parts["modulate"] = o * i * k * k
        if layer.demodulate:
            parts["demodulate"] = 3 * o * i * k * k + 2 * o
        parts["convolution"] = conv
        return parts
    if layer.modulation is not None:
        if style_size is None:
            raise ValueError("style_size (the w-map's resolution) is needed with a modulation")
        style_dim = layer.modulation.weight.shape[1]
        parts["affine"] = 2 * style_dim * i * style_size ** 2
        if style_size != h:
            parts["resize"] = (8 * i * h * h) if style_size < h else i * style_size ** 2
    parts["modulate"] = i * h * h
    parts["convolution"] = conv
    if layer.demodulate:
        parts["sigma_E"] = _sigma_e_flops(layer, h, out, fast)
        parts["normalise"] = o * out * out
    return parts


def _sigma_e_flops(layer: SpatiallyModulatedConv2d, h: int, out: int, fast: bool) -> int:
    """sigma_E's share of :func:`layer_flops`: s^2, the weights' squares (and the fused up
    kernel's phases), the variance convolution (exact, or factored when ``fast``), rsqrt."""
    o, i, k, _ = layer.weight.shape
    kk = fused_upsample_kernel(layer).shape[-1] if layer.upsample else k
    r = -(-kk // 4)
    fused = (2 * o * i * layer.blur.kernel.numel() * kk * kk + 4 * o * i * kk * kk
             if layer.upsample else 0)                                     # W, W^2, phases
    if fast:
        prep = o * i * k * k + o * i + fused                                # w^2, sum_k
        taps = 2 * o * kk * kk * ((h + 2 * r) ** 2 if layer.upsample else out * out)
        return i * h * h + prep + o * i * kk * kk + 2 * o * i * h * h + taps + o * out * out
    if layer.upsample:
        return i * h * h + fused + 2 * i * o * kk * kk * (h + 2 * r) ** 2 + o * out * out
    return i * h * h + o * i * k * k + 2 * o * i * k * k * out * out + o * out * out
