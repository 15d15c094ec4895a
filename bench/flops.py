"""FLOPs of the generators, the discriminator and a training step: counted, and analytic.

Two independent counts, which ``tests/test_flops.py`` holds within 10 % of each other:

* :class:`FlopCounter` counts what actually runs: a dispatch mode that sums 2 x the
  multiply-accumulates of every convolution and matrix product (forward, backward and double
  backward alike; elementwise work is not counted, by the usual MFU convention).
  ``torch.utils.flop_counter``'s formula for ``convolution_backward`` counts a grouped
  convolution's weight gradient ``groups`` times over (a batch-grouped modulated convolution
  at batch 32 was counted 32x: the bench's StyleGAN2 step came out 3.5x too high), so
  convolutions use our own formula here: each of the input and weight gradients costs exactly
  what the forward did, whatever the groups.
* :func:`generator_flops`, :func:`discriminator_flops` and :func:`step_flops` add the layers up
  by hand from a configuration's channel table (no module is built), and a step from its
  structure: a main step is ``4 G + 8 D`` per image (D phase: G forward, D forward on reals and
  fakes and their backward; G phase: G and D forward, D's input gradients, G's backward), and
  the lazy regularisers add their own passes (:data:`REG_PASSES`).

Run ``python bench/flops.py`` for the forward GFLOP per image of every arch at ``paper256``,
counted on the meta device (no memory, no time) and analytic, side by side.
"""

from __future__ import annotations

import argparse
import math

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from ssnlib.models import CONFIGS, build_discriminator, build_generator, generator_kwargs
from ssnlib.models.common import make_channels

aten = torch.ops.aten
CONV_OPS = {aten.convolution, aten._convolution, aten.cudnn_convolution,
            aten.convolution_overrideable, aten._slow_conv2d_forward}
# the trainer's regularisers in units of one forward pass per image of the batch they run on:
# R1: D forward, its input gradient with create_graph (1 D: input gradients only) and the
# backward through both graphs (2 + 2 D); path length: the same with G (the style enters as
# an activation, so the gradient with respect to w needs input gradients only); distortion:
# two G forward passes and their backward (2 x 3 G)
REG_PASSES = {"r1": 6.0, "pl": 6.0, "distortion": 6.0}


def conv_flops(x_shape, w_shape, out_shape, transposed: bool) -> int:
    """2 x the multiply-accumulates of a convolution (any groups: w is [O, I / groups, k, k],
    or [I, O / groups, k, k] transposed). A transposed convolution does one kernel's worth of
    work per *input* pixel, a convolution one per output pixel."""
    pixels = math.prod((x_shape if transposed else out_shape)[2:])
    return 2 * x_shape[0] * math.prod(w_shape) * pixels


class FlopCounter(TorchDispatchMode):
    """Sum the FLOPs of every convolution and matrix product run inside (see the module
    docstring); ``flops`` is the total. Works under autograd, double backward included, and
    on the meta device."""

    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func._overloadpacket
        if packet in CONV_OPS:
            x, w, transposed = args[0], args[1], args[6]
            self.flops += conv_flops(x.shape, w.shape, out.shape, transposed)
        elif packet is aten.convolution_backward:
            # args: grad_out, input, weight, bias sizes, stride, padding, dilation, transposed,
            # output_padding, groups, output_mask; each gradient costs one forward
            grad_out, x, w, transposed, mask = args[0], args[1], args[2], args[7], args[10]
            fwd = conv_flops(x.shape, w.shape, grad_out.shape, transposed)
            self.flops += fwd * (int(mask[0]) + int(mask[1]))
        elif packet in flop_registry:
            self.flops += flop_registry[packet](*args, **kwargs, out_val=out)
        return out


def count(fn, *args, **kwargs) -> int:
    """FLOPs of ``fn(*args, **kwargs)`` (see :class:`FlopCounter`)."""
    with FlopCounter() as counter:
        fn(*args, **kwargs)
    return counter.flops


# -- analytic ---------------------------------------------------------------------------------


def _mapping(z_dim: int, w_dim: int, n_mlp: int = 8) -> int:
    """StyleGAN2's mapping MLP, per w vector."""
    return 2 * (z_dim * w_dim + (n_mlp - 1) * w_dim * w_dim)


def _blur_up(channels: int, r: int) -> int:
    """x2 up-sampling to r x r by zero insertion and a depthwise 4x4 blur."""
    return 2 * channels * 16 * r * r


def _sigma_e(cin: int, cout: int, r: int, up: bool, fast: bool) -> int:
    """The variance convolution of eq. 1 in a layer with output r x r (per image): exact, a
    3x3 conv of s^2 (up: a stride-2 transposed conv with the 6x6 variance kernel over the input
    padded by 2 pixels a side); fast, a 1x1 conv of s^2 with sum_k w^2 at the input resolution
    and a depthwise 3x3 conv (up: a depthwise 6x6 transposed conv) on the cout channels."""
    rin = r // 2 if up else r
    if fast:
        taps = 36 * (rin + 4) ** 2 if up else 9 * r * r
        return 2 * cin * cout * rin * rin + 2 * cout * taps
    if up:
        return 2 * cin * cout * 36 * (rin + 4) ** 2
    return 2 * cin * cout * 9 * r * r


def _styled_layers(chans: dict[int, int], resolution: int):
    """(cin, cout, r, up) for every 3x3 layer, and (cin, r) for every ToRGB, in order."""
    convs = [(chans[4], chans[4], 4, False)]
    rgbs = [(chans[4], 4)]
    r = 8
    while r <= resolution:
        convs += [(chans[r // 2], chans[r], r, True), (chans[r], chans[r], r, False)]
        rgbs.append((chans[r], r))
        r *= 2
    return convs, rgbs


def generator_flops(arch: str, config: str, batch: int = 1, sigma_mode: str = "exact",
                    fast_from: int = 64, **overrides) -> int:
    """Forward FLOPs of ``build_generator(arch, config, **overrides)`` for ``batch`` images,
    added up from the channel table: mapping, per-layer affines, convolutions, blurs and
    (SSN) the sigma_E convolutions, ``fast`` from ``fast_from`` px on in ``sigma_mode="fast"``.
    """
    kw = generator_kwargs(arch, config, **overrides)
    R, z, w = kw["resolution"], kw["z_dim"], kw["w_dim"]
    chans = make_channels(R, kw.get("channels"), kw["channel_max"], kw["channel_multiplier"])
    convs, rgbs = _styled_layers(chans, R)
    per_image, per_batch = 0, 0
    if arch == "stylegan2":
        per_image += _mapping(z, w)
        for cin, cout, r, up in convs:
            per_image += 2 * w * cin + 2 * cin * cout * 9 * (r // 2 if up else r) ** 2
            per_image += _blur_up(cout, r) if up else 0
    else:
        n_h, n_w = kw["grid"]
        cells = n_h * n_w * kw.get("encoder_subdiv", 4) ** 2
        per_image += n_h * n_w * _mapping(z, w)
        per_image += kw.get("encoder_units", 1) * 2 * (2 * w * w * 9 * cells)
    if arch == "ssn":
        for cin, cout, r, up in convs:
            per_image += 2 * w * cin * cells + 2 * cin * cout * 9 * (r // 2 if up else r) ** 2
            per_image += _blur_up(cout, r) if up else 0
            fast = sigma_mode == "fast" and r >= fast_from
            per_image += _sigma_e(cin, cout, r, up, fast)
            if up:                              # the variance kernel, once per batch
                per_batch += 2 * cin * cout * 16 * 36
    if arch == "spade":
        hidden = kw.get("spade_hidden", 128)
        for cin, cout, r, up in convs:
            per_image += (_blur_up(cin, r) if up else 0) + 2 * cin * cout * 9 * r * r
            per_image += 2 * w * hidden * 9 * r * r + 2 * (2 * hidden * cout * 9 * r * r)
    for cin, r in rgbs:
        if arch == "stylegan2":
            per_image += 2 * w * cin
        elif arch == "ssn":
            per_image += 2 * w * cin * cells
        per_image += 2 * cin * 3 * r * r + (_blur_up(3, r) if r > 4 else 0)
    return batch * per_image + per_batch


def discriminator_flops(config: str, batch: int = 1, **overrides) -> int:
    """Forward FLOPs of ``build_discriminator(config, **overrides)`` for ``batch`` images."""
    kw = {**CONFIGS[config], **overrides}
    R = kw["resolution"]
    chans = make_channels(R, kw.get("channels"), kw["channel_max"], kw["channel_multiplier"])
    total = 2 * 3 * chans[R] * R * R                                # fromRGB
    r = R
    while r > 4:                                                    # ResBlock r -> r / 2
        cin, cout, h = chans[r], chans[r // 2], r // 2
        total += 2 * cin * cin * 9 * r * r                          # conv1 3x3
        total += 2 * cin * 16 * (r + 1) ** 2 + 2 * cin * cout * 9 * h * h   # blur, conv2 s2
        total += 2 * cin * 16 * (r - 1) ** 2 + 2 * cin * cout * h * h       # blur, skip 1x1 s2
        r = h
    c = chans[4]
    total += 2 * (c + 1) * c * 9 * 16 + 2 * c * 16 * c + 2 * c       # final conv, 2 linears
    return batch * total


def step_flops(arch: str, config: str, batch: int, r1: bool = False, pl: bool = False,
               distortion: bool = False, pl_shrink: int = 2, distortion_shrink: int = 2,
               resamples: int = 1, **generator_options) -> int:
    """Analytic FLOPs of one trainer step: main ``4 G + 8 D`` per image, plus the regularisers
    that are due (:data:`REG_PASSES` forward passes per image of their batch)."""
    g = generator_flops(arch, config, 1, **generator_options)
    d = discriminator_flops(config, 1)
    total = batch * (4 * g + 8 * d)
    if r1:
        total += REG_PASSES["r1"] * batch * d
    if pl:
        total += REG_PASSES["pl"] * (batch // pl_shrink) * g
    if distortion:
        total += REG_PASSES["distortion"] * (batch // distortion_shrink) * resamples * g
    return int(total)


# -- counted ----------------------------------------------------------------------------------


def counted_forward(arch: str, config: str, batch: int = 1, **overrides) -> int:
    """Forward FLOPs of a generator (``arch``) or the discriminator (``arch="D"``), counted on
    the meta device."""
    if arch == "D":
        net = build_discriminator(config, **overrides).to("meta")
        x = torch.zeros(batch, 3, net.resolution, net.resolution, device="meta")
    else:
        net = build_generator(arch, config, **overrides).to("meta")
        x = net.sample_z(batch, device="meta")
    with torch.no_grad():
        return count(net, x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="paper256", choices=sorted(CONFIGS))
    args = parser.parse_args()
    print(f"torch {torch.__version__}; forward GFLOP per image, config {args.config} "
          f"(counted on the meta device | analytic)")
    rows = [("stylegan2", {}), ("ssn", {}), ("ssn", {"sigma_mode": "fast"}), ("spade", {}),
            ("D", {})]
    for arch, opts in rows:
        counted = counted_forward(arch, args.config, 1, **opts) / 1e9
        if arch == "D":
            analytic = discriminator_flops(args.config) / 1e9
        else:
            analytic = generator_flops(arch, args.config, **opts) / 1e9
        name = arch + (f" ({opts['sigma_mode']})" if opts else "")
        print(f"  {name:12s} {counted:9.2f} | {analytic:9.2f}")


if __name__ == "__main__":
    main()
