"""Widening a generator (ssnlib.widen, `ssn widen`).

The claims: a widened SSN or StyleGAN2 draws exactly the narrow one's images for the same z
and noise, in training and in inference form; the new channels are not dead (their outgoing
weights get gradients from the first step); the result is reproducible; `ssn widen` writes a
starting point `ssn train` builds from its config; bad input is a one-line error.
"""

from __future__ import annotations

import pytest
import torch

from ssnlib.cli import main
from ssnlib.models import Discriminator, SSNGenerator, StyleGAN2Generator
from ssnlib.transfer import init_state, load_init, safe_load, stylegan2_to_ssn
from ssnlib.widen import WideningError, widen_into, wider_channels

NARROW = {4: 8, 8: 8, 16: 6, 32: 4}
SMALL = dict(resolution=32, z_dim=16, w_dim=16, n_mlp=2)


def jitter(G: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Every parameter moved off its initial value (biases, gains and noise strengths start at
    0 or 1, where a wrong copy would go unseen)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in G.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen))
    return G


def narrow_ssn(seed: int = 0) -> SSNGenerator:
    torch.manual_seed(seed)
    return jitter(SSNGenerator(grid=(4, 4), channels=NARROW, **SMALL), seed + 1)


def narrow_stylegan2(seed: int = 0) -> StyleGAN2Generator:
    torch.manual_seed(seed)
    return jitter(StyleGAN2Generator(channels=NARROW, **SMALL), seed + 1)


def wide_like(G: torch.nn.Module, factor: float = 2.0, seed: int = 5) -> torch.nn.Module:
    torch.manual_seed(seed)
    kwargs = dict(SMALL, channels=wider_channels(G.channels, factor))
    if G.arch == "ssn":
        kwargs["grid"] = (4, 4)
    return type(G)(**kwargs)


def draw(G: torch.nn.Module, seed: int = 7, batch: int = 3) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    z = G.sample_z(batch, gen)
    return G(z, noise=G.make_noise(batch, gen))


@pytest.mark.parametrize("make", [narrow_ssn, narrow_stylegan2], ids=["ssn", "stylegan2"])
@pytest.mark.parametrize("factor", [2.0, 1.5])
def test_wider_generator_draws_the_same_images(make, factor):
    G = make()
    wide = wide_like(G, factor)
    report = widen_into(G, wide)
    assert all(wide.channels[r] == max(c, round(c * factor)) for r, c in NARROW.items())
    assert report.widened and report.numel["new"] > 0
    before = draw(G)
    after = draw(wide)
    assert after.abs().mean() > 0.05                 # an image, not a blank
    torch.testing.assert_close(after, before, atol=2e-5, rtol=1e-4)
    # the inference form (grouped convolutions, SSN: the same spatial layers) agrees too
    with torch.no_grad():
        torch.testing.assert_close(draw(wide.eval()), draw(G.eval()), atol=2e-5, rtol=1e-4)


def test_new_channels_are_not_dead():
    """Zero fan-in makes the new channels silent, not frozen: a loss on the image sends
    gradients into their outgoing weights from the first step, and after one step the wide
    model draws differently from the narrow one."""
    G = narrow_ssn()
    wide = wide_like(G)
    widen_into(G, wide)
    draw(wide).square().mean().backward()
    layer = wide.convs[1].conv                       # an 8 px layer, 8 -> 16 channels
    new_inputs = layer.weight.grad[:, NARROW[8]:]
    assert new_inputs.abs().sum() > 0
    assert wide.to_rgbs[-1].conv.weight.grad[:, NARROW[32]:].abs().sum() > 0
    with torch.no_grad():
        for p in wide.parameters():
            if p.grad is not None:
                p.sub_(0.5 * p.grad.sign())
    assert (draw(wide) - draw(G)).abs().mean() > 1e-3


def test_widening_is_reproducible_and_keeps_the_source():
    G = narrow_ssn()
    kept = {k: v.clone() for k, v in G.state_dict().items()}
    a, b = wide_like(G, seed=3), wide_like(G, seed=3)
    widen_into(G, a)
    widen_into(G, b)
    for (key, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), key
    for key, value in G.state_dict().items():
        assert torch.equal(value, kept[key]), key


def test_what_does_not_widen():
    G = narrow_ssn()
    with pytest.raises(WideningError, match="does not fit"):
        widen_into(wide_like(G), G)                  # narrower target
    with pytest.raises(WideningError, match="one architecture"):
        widen_into(G, wide_like(narrow_stylegan2()))
    with pytest.raises(WideningError, match="one architecture"):
        widen_into(Discriminator(32, channels=NARROW), Discriminator(32, channels=NARROW))
    for latent in ({"w_dim": 8}, {"z_dim": 8}):
        other = SSNGenerator(grid=(4, 4), channels=NARROW, **{**SMALL, **latent})
        with pytest.raises(WideningError, match="keeps the latent"):
            widen_into(other, wide_like(G))
    with pytest.raises(WideningError, match="keeps the latent"):
        widen_into(SSNGenerator(grid=(2, 2), channels=NARROW, **SMALL), wide_like(G))
    for bad in (1.0, 0.5, float("nan"), "2"):
        with pytest.raises(ValueError, match="above 1"):
            wider_channels(NARROW, bad)


def test_ssn_widen_writes_a_starting_point(tmp_path, capsys):
    """`ssn transfer` -> `ssn widen` -> a starting point a wider config loads (load_init, as
    `ssn train model.init=` does), which draws the transferred SSN's images; D is kept."""
    G, D, report = stylegan2_to_ssn(narrow_stylegan2(), Discriminator(32, channels=NARROW))
    jitter(G.encoder, 9)                             # an encoder that does something
    kwargs = dict(SMALL, grid=[4, 4], channels=NARROW)
    torch.save(init_state(G, D, kwargs, report, "test"), tmp_path / "init.pt")
    out = tmp_path / "wide.pt"
    assert main(["widen", str(tmp_path / "init.pt"), str(out), "--factor", "2"]) == 0
    printed = capsys.readouterr().out
    assert "widened" in printed and "a generator with channels" in printed
    assert f"model.init={out}" in printed
    start = safe_load(out)
    assert start["kwargs"]["channels"] == {4: 16, 8: 16, 16: 12, 32: 8}
    wide = SSNGenerator(**{**start["kwargs"], "grid": (4, 4)})
    D2 = Discriminator(32, channels=NARROW)
    assert "G and D" in load_init(out, wide, D2)
    torch.testing.assert_close(draw(wide), draw(G), atol=2e-5, rtol=1e-4)
    for key, value in D.state_dict().items():
        assert torch.equal(D2.state_dict()[key], value), key
    again = tmp_path / "again.pt"
    assert main(["widen", str(tmp_path / "init.pt"), str(again)]) == 0
    for key, value in safe_load(again)["G"].items():
        assert torch.equal(value, start["G"][key]), key


def test_ssn_widen_errors_are_one_line(tmp_path, capsys):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    assert main(["widen", str(tmp_path / "other.pt"), str(tmp_path / "out.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ssn widen: error:") and "\n" not in err and "other.pt" in err
    assert main(["widen", str(tmp_path / "missing.pt"), str(tmp_path / "out.pt")]) == 2
    assert "missing.pt" in capsys.readouterr().err
    assert not (tmp_path / "out.pt").exists()
