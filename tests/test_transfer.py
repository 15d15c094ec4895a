"""Transfer from StyleGAN2 (paper, section 3.4) and the rosinality importer.

The claims: a StyleGAN2 copied into an SSN draws the same image from a grid of equal blocks;
a rosinality checkpoint imported into ssnlib computes what rosinality's model computes
(checked against an independent reference, ``tests/rosinality_reference.py``); no file ever
runs pickled code; bad files are one-line errors naming the first mismatching key.
"""

from __future__ import annotations

import argparse
import os
import pickle

import pytest
import rosinality_reference as ref
import torch

from ssnlib import zoo
from ssnlib.cli import main
from ssnlib.models import Discriminator, StyleGAN2Generator
from ssnlib.train.config import ConfigError, load_config
from ssnlib.train.trainer import Trainer
from ssnlib.transfer import (
    TransferError,
    copy_state,
    load_rosinality,
    rosinality_discriminator_kwargs,
    rosinality_generator_kwargs,
    safe_load,
    stylegan2_to_ssn,
)

SHIPPED_STYLEGAN2 = [n for n in zoo.names() if "stylegan2" in n]
# (size, style_dim, n_mlp): three sizes, other n_mlp and style_dim than config-f
FIXTURES = [(256, 32, 8), (512, 16, 2), (1024, 8, 4)]


def tiny_channels(size: int) -> dict[int, int]:
    """A few channels per resolution, so a 1024 px forward takes a second on one core."""
    return {2 ** i: max(2, min(16, 1024 >> i)) for i in range(2, size.bit_length())}


def write_fixture(path, size, style_dim, n_mlp, seed=0, **extra):
    """A rosinality train.py-style checkpoint: g_ema, g, d, latent_avg, args (a Namespace)."""
    channels = tiny_channels(size)
    ckpt = {"g_ema": ref.generator_state(size, style_dim, n_mlp, channels, seed),
            "g": ref.generator_state(size, style_dim, n_mlp, channels, seed + 1),
            "d": ref.discriminator_state(size, channels, seed + 2),
            "latent_avg": torch.randn(style_dim),
            "args": argparse.Namespace(size=size, n_mlp=n_mlp, latent=style_dim,
                                       channel_multiplier=2, lr=0.002, ckpt=None), **extra}
    torch.save(ckpt, path)
    return ckpt


# -- StyleGAN2 -> SSN --------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED_STYLEGAN2)
def test_shipped_stylegan2_transfers_exactly_with_equal_blocks(name):
    """Section 3.4: with every block of z equal, the transferred SSN is the StyleGAN2 model."""
    sg2 = zoo.load(name)
    ssn, _, report = stylegan2_to_ssn(sg2, source=name)
    gen = torch.Generator().manual_seed(0)
    z, noise = sg2.sample_z(8, gen), sg2.make_noise(8, gen)
    z_grid = z[:, :, None, None].expand(-1, -1, *ssn.z_shape[1:])
    with torch.no_grad():
        expected, got = sg2(z, noise=noise), ssn(z_grid, noise=noise)
    err = (got - expected).abs().max().item()
    print(f"{name}: equal-block max |SSN - StyleGAN2| = {err:.2e}")
    assert err <= 1e-5
    # only the encoder is new; every reshape is linear -> 1x1 conv
    assert {k.split(".")[0] for k in report.fresh} == {"encoder"}
    assert all(len(a) == 2 and b == (*a, 1, 1) for _, a, b in report.reshaped)
    # and a block of its own changes the picture
    z_grid = z_grid.clone()
    z_grid[:, :, 1, 2] = torch.randn(8, ssn.z_dim, generator=gen)
    with torch.no_grad():
        assert (ssn(z_grid, noise=noise) - expected).abs().max().item() > 1e-2


def test_any_grid_and_discriminator_copied():
    torch.manual_seed(0)
    sg2 = StyleGAN2Generator(32, z_dim=16, w_dim=16, channel_max=16, n_mlp=3)
    D = Discriminator(32, channel_max=16)
    ssn, D2, report = stylegan2_to_ssn(sg2, D, grid=(2, 8))
    assert ssn.z_shape == (16, 2, 8) and D2 is not D
    assert all(torch.equal(a, b) for a, b in zip(D.state_dict().values(),
                                                 D2.state_dict().values(), strict=True))
    z = sg2.sample_z(2, torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = sg2(z, noise="const")
        err = (ssn(z[:, :, None, None].expand(-1, -1, 2, 8), noise="const")
               - expected).abs().max().item()
    # an untrained generator's pixels reach ~10: 1e-5 of the image's range
    assert err <= 1e-5 * max(1.0, expected.abs().max().item())
    text = str(report)
    assert "reshaped" in text and "[out, in] -> [out, in, 1, 1]" in text and "encoder.*" in text
    assert sum(report.numel.values()) == sum(p.numel() for p in ssn.parameters())


def test_transfer_refuses_other_generators():
    ssn = stylegan2_to_ssn(StyleGAN2Generator(32, z_dim=8, w_dim=8, channel_max=8)).G
    with pytest.raises(TransferError, match="needs a StyleGAN2Generator, got SSNGenerator"):
        stylegan2_to_ssn(ssn)


# -- rosinality checkpoints --------------------------------------------------------------------


@pytest.mark.parametrize(("size", "style_dim", "n_mlp"), FIXTURES)
def test_rosinality_import_matches_reference(tmp_path, size, style_dim, n_mlp):
    """Our G_ema, G and D on the imported weights vs the reference on the file's state dicts,
    same z and noise (the fixture's biases and noise strengths are non-zero)."""
    path = tmp_path / "ckpt.pt"
    saved = write_fixture(path, size, style_dim, n_mlp, seed=size)
    ckpt = load_rosinality(path)
    assert ckpt.args["size"] == size and torch.equal(ckpt.latent_avg, saved["latent_avg"])
    gen = torch.Generator().manual_seed(0)
    z, noise = torch.randn(2, style_dim, generator=gen), ckpt.G_ema.make_noise(2, gen)
    images = torch.randn(4, 3, size, size, generator=gen)
    with torch.no_grad():
        errs = {"g_ema": (ckpt.G_ema(z, noise=noise)
                          - ref.generator(saved["g_ema"], z, noise)).abs().max().item(),
                "g": (ckpt.G(z, noise=noise)
                      - ref.generator(saved["g"], z, noise)).abs().max().item(),
                "d": (ckpt.D(images) - ref.discriminator(saved["d"], images)).abs().max().item()}
    print(f"{size} px, style_dim {style_dim}, n_mlp {n_mlp}: max |ssnlib - reference| {errs}")
    assert max(errs.values()) <= 1e-4


@pytest.mark.parametrize("size", [256, 512, 1024])
@pytest.mark.parametrize("channel_multiplier", [1, 2])
def test_rosinality_architecture_read_off_full_size_weights(size, channel_multiplier):
    """Config-f shapes (style_dim 512, n_mlp 8), on the meta device: nothing is allocated."""
    channels = ref.rosinality_channels(size, channel_multiplier)
    g_state = ref.generator_state(size, 512, 8, channels, device="meta")
    d_state = ref.discriminator_state(size, channels, device="meta")
    g_kwargs, d_kwargs = rosinality_generator_kwargs(g_state), rosinality_discriminator_kwargs(
        d_state)
    assert g_kwargs == dict(resolution=size, z_dim=512, w_dim=512, channels=channels, n_mlp=8,
                            lr_mlp=0.01)
    assert d_kwargs == dict(resolution=size, channels=channels)
    if size == 256:                 # build (CPU init) and check every shape once per width
        report = copy_state(g_state, StyleGAN2Generator(**g_kwargs).to("meta"), "g")
        assert 24e6 < sum(report.numel.values()) < 31e6     # 256 px config-f: 30.0M
        copy_state(d_state, Discriminator(**d_kwargs).to("meta"), "d")


def test_rosinality_wrong_size_or_width_names_first_key(tmp_path):
    path = tmp_path / "ckpt.pt"
    write_fixture(path, 256, 8, 2)
    with pytest.raises(TransferError) as err:
        load_rosinality(path, channel_multiplier=2)
    assert "'input.input' has shape [1, 16, 4, 4]" in str(err.value)
    assert "but this StyleGAN2Generator needs [1, 512, 4, 4]" in str(err.value)
    ssn_ckpt = tmp_path / "ssn.pt"
    torch.save({"G_ema": stylegan2_to_ssn(StyleGAN2Generator(32, z_dim=8, w_dim=8,
                                                             channel_max=8)).G.state_dict()},
               ssn_ckpt)
    with pytest.raises(TransferError, match="not a rosinality checkpoint .no 'g_ema'"):
        load_rosinality(ssn_ckpt)
    # a state dict of another width, key by key
    small = ref.generator_state(256, 8, 2, tiny_channels(256), device="meta")
    other = {**tiny_channels(256), 64: 4}
    with pytest.raises(TransferError, match=r"'convs.6.conv.weight' has shape \[1, 16, 16, 3, 3\], "
                                            r"but this StyleGAN2Generator needs \[4, 16, 3, 3\]"):
        copy_state(small, StyleGAN2Generator(256, z_dim=8, w_dim=8, n_mlp=2, channels=other),
                   "file")


def test_truncated_file_is_one_line_error(tmp_path):
    path = tmp_path / "ckpt.pt"
    write_fixture(path, 256, 8, 2)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(TransferError) as err:
        load_rosinality(path)
    message = str(err.value)
    assert "\n" not in message and "truncated or damaged" in message and str(path) in message
    with pytest.raises(TransferError, match="no such file"):
        load_rosinality(tmp_path / "missing.pt")


class Payload:
    """Unpickling this writes a marker file: what a malicious .pt would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("kind", ["zip", "legacy", "pickle", "inside-namespace"])
def test_pickle_payload_is_refused_and_never_runs(tmp_path, kind):
    marker, path = tmp_path / "pwned", tmp_path / "evil.pt"
    payload = Payload(marker)
    if kind == "pickle":
        path.write_bytes(pickle.dumps({"g_ema": payload}, protocol=2))
    elif kind == "inside-namespace":
        torch.save({"g_ema": {}, "args": argparse.Namespace(size=256, hook=payload)}, path)
    else:
        torch.save({"g_ema": payload}, path, _use_new_zipfile_serialization=kind == "zip")
    with pytest.raises(TransferError, match="refused") as err:
        load_rosinality(path)
    assert "system" in str(err.value) and "\n" not in str(err.value)
    assert not marker.exists()
    with pytest.raises(TransferError, match="refused"):
        safe_load(path)
    assert not marker.exists()
    # the payload is live: an unsafe load would have run it
    if kind == "pickle":
        pickle.loads(path.read_bytes())                     # noqa: S301 -- proving the point
        assert marker.exists()


# -- ssn transfer + ssn train model.init -------------------------------------------------------

ZOO_CONFIG = "configs/zoo/faces32.yaml"


def transfer_cli(capsys, *argv) -> tuple[int, str, str]:
    rc = main(["transfer", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, out, err


def small_config(tmp_path, *overrides):
    return load_config(ZOO_CONFIG, [f"run_dir={tmp_path / 'run'}", "batch=4", "steps=1",
                                    "data.length=64", *overrides])


def test_transfer_then_train_starts_from_stylegan2(tmp_path, capsys):
    """The paper's protocol: `ssn transfer` + `ssn train model.init=...`; before any step the
    run's G and G_ema are the zoo StyleGAN2 (equal blocks), and it trains."""
    name, out = SHIPPED_STYLEGAN2[0], tmp_path / "init.pt"
    rc, text, _ = transfer_cli(capsys, name, out)
    assert rc == 0 and "encoder.*" in text and "starts fresh" in text
    trainer = Trainer(small_config(tmp_path, f"model.init={out}"))
    assert "D fresh" in trainer.init_note
    sg2 = zoo.load(name)
    z = sg2.sample_z(2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = sg2(z, noise="const")
        for G in (trainer.G, trainer.G_ema):
            got = G(z[:, :, None, None].expand(-1, -1, 4, 4), noise="const")
            assert (got - expected).abs().max().item() <= 1e-5
    trainer.run()
    trainer.close()
    assert trainer.step == 1


def test_transfer_from_rosinality_and_training_checkpoints(tmp_path, capsys):
    """A rosinality file and one of our stylegan2 checkpoints both carry D: it is copied."""
    ros = tmp_path / "ros.pt"
    saved = write_fixture(ros, 256, 16, 2)
    rc, text, _ = transfer_cli(capsys, ros, tmp_path / "a.pt")
    assert rc == 0 and "discriminator: copied" in text
    state = safe_load(tmp_path / "a.pt")
    assert torch.equal(state["D"]["final_linear.1.weight"], saved["d"]["final_linear.1.weight"])
    assert state["kwargs"]["resolution"] == 256 and state["kwargs"]["z_dim"] == 16

    trainer = Trainer(small_config(tmp_path, "model.arch=stylegan2", "reg.distortion_weight=0"))
    ckpt = trainer.save()
    trainer.close()
    rc, text, _ = transfer_cli(capsys, ckpt, tmp_path / "b.pt", "--grid", "2", "2")
    assert rc == 0 and "discriminator: copied" in text
    run = Trainer(small_config(tmp_path, f"model.init={tmp_path / 'b.pt'}",
                               "model.overrides.grid=[2,2]", "run_dir=" + str(tmp_path / "r2")))
    assert run.init_note.startswith("G and D from")
    assert torch.equal(run.D.final_linear[1].weight, trainer.D.final_linear[1].weight)
    run.close()


def test_transfer_from_a_zoo_run_folder_takes_its_state(tmp_path, capsys):
    """``ssn transfer data/runs/faces32-stylegan2 OUT`` reads the run's state.pt, D included,
    as tools/installment.py's ``transfer`` does; its ledger is not an export's manifest."""
    from ssnlib.zoo import runs

    folder = runs.runs_dir() / "faces32-stylegan2"
    rc, text, _ = transfer_cli(capsys, folder, tmp_path / "a.pt")
    assert rc == 0 and "discriminator: copied" in text
    rc, _, _ = transfer_cli(capsys, folder / runs.STATE, tmp_path / "b.pt")
    a, b = safe_load(tmp_path / "a.pt"), safe_load(tmp_path / "b.pt")
    assert rc == 0 and a["G"].keys() == b["G"].keys()
    assert all(torch.equal(a[net][k], b[net][k]) for net in ("G", "D") for k in a[net])


def test_init_of_another_width_names_key(tmp_path, capsys):
    out = tmp_path / "init.pt"
    transfer_cli(capsys, SHIPPED_STYLEGAN2[0], out)
    with pytest.raises(ConfigError, match=r"model.init: .*\[G\]: 'input.input' has shape "
                                          r"\[1, 32, 4, 4\], but this SSNGenerator needs "
                                          r"\[1, 16, 4, 4\]"):
        Trainer(small_config(tmp_path, f"model.init={out}", "model.overrides.channel_max=16"))
    with pytest.raises(ConfigError, match="model.arch"):
        Trainer(small_config(tmp_path, f"model.init={out}", "model.arch=spade"))


def test_commands_refuse_payloads_and_truncated_files(tmp_path, capsys):
    marker, evil = tmp_path / "pwned", tmp_path / "evil.pt"
    torch.save({"g_ema": Payload(marker)}, evil)
    rc, _, err = transfer_cli(capsys, evil, tmp_path / "out.pt")
    assert rc == 2 and "refused" in err and not marker.exists()
    rc = main(["train", "--config", ZOO_CONFIG, f"model.init={evil}", "steps=1",
               f"run_dir={tmp_path / 'run'}"])
    err = capsys.readouterr().err
    assert rc == 2 and "model.init" in err and "refused" in err and not marker.exists()
    good = tmp_path / "good.pt"
    transfer_cli(capsys, SHIPPED_STYLEGAN2[0], good)
    data = good.read_bytes()
    good.write_bytes(data[:len(data) // 3])
    rc = main(["train", "--config", ZOO_CONFIG, f"model.init={good}", "steps=1",
               f"run_dir={tmp_path / 'run'}"])
    err = capsys.readouterr().err
    assert rc == 2 and "truncated or damaged" in err and err.count("\n") == 1
    rc, _, err = transfer_cli(capsys, "no-such-model", tmp_path / "x.pt")
    assert rc == 2 and "no-such-model" in err and err.count("\n") == 1


def test_transfer_is_deterministic_and_leaves_global_rng_alone():
    sg2 = StyleGAN2Generator(32, z_dim=8, w_dim=8, channel_max=8)
    before = torch.get_rng_state()
    a, b = stylegan2_to_ssn(sg2).G, stylegan2_to_ssn(sg2).G
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(a.encoder.convs[0].weight, b.encoder.convs[0].weight)
    assert not torch.equal(a.encoder.convs[0].weight,
                           stylegan2_to_ssn(sg2, seed=1).G.encoder.convs[0].weight)
