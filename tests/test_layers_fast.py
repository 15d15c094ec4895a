"""The fast paths of the layers against their reference forms: StyleGAN2's shared-weight training
convolution against the grouped per-sample one, and the fast sigma_E against eq. 1."""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ssnlib.layers import ModulatedConv2d, SpatiallyModulatedConv2d
from ssnlib.models import build_generator
from ssnlib.train import ConfigError, load_config
from ssnlib.train.trainer import build_models


def both_forms(layer, x, style):
    """Output and gradients (x, style, every parameter) of ``layer`` in its grouped and its
    shared-weight form, for one fixed random projection of the output."""
    results = []
    for fused in (True, False):
        layer.fused = fused
        out = layer(x, style)
        proj = torch.linspace(-1, 1, out.numel()).reshape(out.shape)
        grads = torch.autograd.grad((out * proj).sum(), [x, style, *layer.parameters()])
        results.append((out, grads))
    layer.fused = None
    return results


@pytest.mark.parametrize("up", [False, True])
@pytest.mark.parametrize("demodulate", [True, False])
def test_shared_weight_training_path_equals_grouped_form(up, demodulate):
    """stylegan2-ada's training form conv(x * s, w) * d is StyleGAN2's grouped modulated
    convolution, forward and backward, within fp32 rounding."""
    torch.manual_seed(0)
    layer = ModulatedConv2d(16, 8, 3 if demodulate else 1, 5, demodulate=demodulate,
                            upsample=up)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 16, 8, 8, generator=g, requires_grad=True)
    style = torch.randn(4, 5, generator=g, requires_grad=True)
    (out_g, grads_g), (out_s, grads_s) = both_forms(layer, x, style)
    torch.testing.assert_close(out_s, out_g, rtol=1e-5, atol=1e-5)
    for a, b in zip(grads_s, grads_g, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5 * b.abs().max().item())


class ConvGroups(TorchDispatchMode):
    """The ``groups`` argument of every convolution run inside."""

    def __init__(self):
        super().__init__()
        self.groups = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func._overloadpacket is torch.ops.aten.convolution:
            self.groups.append(args[8])
        return func(*args, **(kwargs or {}))


def test_training_uses_no_batch_grouped_convolution():
    """Training (train mode or gradients on) runs shared-weight convolutions only; inference
    (eval mode, no_grad) keeps the grouped form, so the zoo's reference images do not move."""
    G = build_generator("stylegan2", "tiny")
    z = G.sample_z(4, torch.Generator().manual_seed(0))
    blur_groups = {c for c in G.channels.values()} | {3}            # depthwise blurs
    for train, grad in ((True, True), (True, False), (False, True)):
        G.train(train)
        with ConvGroups() as seen, torch.set_grad_enabled(grad):
            G(z)
        assert set(seen.groups) <= {1} | blur_groups, (train, grad)
    G.eval()
    with ConvGroups() as seen, torch.no_grad():
        G(z)
    assert 4 in seen.groups


def sigma_errors(G) -> dict[int, torch.Tensor]:
    """|sigma_E(fast) / sigma_E(eq. 1) - 1| per output pixel of every demodulated layer of
    ``G`` on one sample, by output resolution (from 16 px on, the 2-pixel border left out)."""
    errors = {}

    def hook(layer, inputs, _):
        h, style = inputs
        if layer.demodulate:
            s2, w = layer.style_map(h, style).pow(2), layer.weight * layer.scale
            exact = layer.sigma_e_squared(s2, w, fast=False)
            fast = layer.sigma_e_squared(s2, w, fast=True)
            err = ((fast + 1e-8) / (exact + 1e-8)).sqrt().sub(1).abs()
            r = err.shape[-1]
            errors.setdefault(r, []).append((err[..., 2:-2, 2:-2] if r >= 16 else err).flatten())

    layers = [m for m in G.modules() if isinstance(m, SpatiallyModulatedConv2d)]
    hooks = [m.register_forward_hook(hook) for m in layers]
    with torch.no_grad():
        G(G.sample_z(1, torch.Generator().manual_seed(0)))
    for h in hooks:
        h.remove()
    return {r: torch.cat(v) for r, v in errors.items()}


# (median, max) relative error of sigma_E, 3x3 and up layers together, measured 0.28 %, 5.0 %
# at 64 px, 0.15 %, 2.8 % at 128 and 0.09 %, 1.7 % at 256 with the narrow model below (at
# paper256's widths, 512 to 128 channels, the error is about half: more inputs average out)
FAST_SIGMA_BOUNDS = {64: (0.005, 0.075), 128: (0.003, 0.042), 256: (0.0015, 0.025)}


@pytest.mark.slow
def test_fast_sigma_error_is_bounded_from_64_px():
    """The fast sigma_E against eq. 1 in an SSN at 256 px with the paper's geometry (a 4x4 grid,
    a 16x16 w-map, an active encoder) and narrow layers (at most 128 channels)."""
    torch.manual_seed(0)
    G = build_generator("ssn", "paper256", z_dim=64, w_dim=64, channel_max=128,
                        channel_multiplier=1)
    G.encoder.gain.data.fill_(1.0)                     # a trained encoder is active
    errors = sigma_errors(G)
    for r, (median_bound, max_bound) in FAST_SIGMA_BOUNDS.items():
        assert errors[r].median().item() < median_bound, r
        assert errors[r].max().item() < max_bound, r


@pytest.mark.parametrize("up", [False, True])
def test_fast_sigma_is_exact_for_a_constant_style_map(up):
    """s^2 constant over the kernel's window is all the fast path assumes: a constant style map
    gives eq. 1 exactly, borders included (so fast SSNs still start as StyleGAN2)."""
    torch.manual_seed(0)
    layer = SpatiallyModulatedConv2d(8, 6, 3, upsample=up)
    s = torch.rand(2, 8, 1, 1).expand(-1, -1, 16, 16) + 0.5
    w = layer.weight * layer.scale
    exact = layer.sigma_e_squared(s.pow(2), w, fast=False)
    torch.testing.assert_close(layer.sigma_e_squared(s.pow(2), w, fast=True), exact,
                               rtol=1e-5, atol=1e-7)


def test_fast_mode_is_exact_below_fast_from_and_keeps_the_parameters():
    """sigma_mode="fast" changes no parameter (an exact checkpoint loads as is) and computes
    eq. 1 exactly below 64 px: a 32 px fast SSN is the exact one, bit for bit; at 64 px the
    images agree closely."""
    torch.manual_seed(0)
    exact = build_generator("ssn", "tiny")
    fast = build_generator("ssn", "tiny", sigma_mode="fast")
    fast.load_state_dict(exact.state_dict())
    z = exact.sample_z(2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(fast(z, noise="const"), exact(z, noise="const"))
    torch.manual_seed(0)
    kw = dict(resolution=64, channel_max=32)
    exact, fast = build_generator("ssn", "tiny", **kw), build_generator("ssn", "tiny", **kw)
    fast.load_state_dict(exact.state_dict())
    for m in fast.modules():
        if isinstance(m, SpatiallyModulatedConv2d):
            m.sigma_mode = "fast"
    with torch.no_grad():
        a, b = exact(z, noise="const"), fast(z, noise="const")
    assert 0 < (a - b).abs().max().item() < 0.05 * a.abs().max().item()


def test_unknown_sigma_mode_is_a_clear_error():
    with pytest.raises(ValueError, match=r"sigma_mode must be one of \('exact', 'fast'\)"):
        SpatiallyModulatedConv2d(4, 4, 3, sigma_mode="approx")
    with pytest.raises(ValueError, match="sigma_mode must be one of"):
        build_generator("ssn", "tiny", sigma_mode="1x1")


@pytest.mark.parametrize("overrides,message", [
    (["model.sigma_mode=approx"], r"model.sigma_mode must be one of \('exact', 'fast'\)"),
    (["model.arch=stylegan2", "model.sigma_mode=fast"], "ssn generator only"),
    (["precision=fp16"], r"precision must be one of \('auto', 'bf16', 'fp32'\)")])
def test_unknown_sigma_mode_or_precision_is_a_config_error(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_training_config_builds_a_fast_ssn():
    G, _ = build_models(load_config(None, ["model.sigma_mode=fast"]))
    modes = {m.sigma_mode for m in G.modules()
             if isinstance(m, SpatiallyModulatedConv2d) and m.demodulate}
    assert modes == {"fast"}


