"""The training engine in one process: configs, exact resume, the NaN guard, sampling, CLI."""

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ssnlib.cli import main
from ssnlib.train import ConfigError, NonFiniteLossError, Trainer, load_config, train
from ssnlib.train.checkpoint import list_checkpoints, load_checkpoint
from ssnlib.train.data import StepOrder
from ssnlib.train.ema import ema_beta
from ssnlib.train.trainer import lazy_ratio

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

# 8-channel nets at 32 px, every regulariser on and due often, so a few steps exercise them all
TINY = ["model.overrides.channel_max=8", "model.overrides.z_dim=8", "model.overrides.w_dim=8",
        "model.overrides.n_mlp=2", "model.d_overrides.channel_max=8", "data.length=48",
        "batch=4", "log_every=1", "progress=false", "tensorboard=false", "n_samples=4",
        "reg.r1_interval=2", "reg.pl_interval=2", "reg.distortion_weight=10",
        "reg.distortion_interval=3", "reg.distortion_resamples=2", "data.mirror=true",
        "ema.kimg=0.01"]


def tiny(tmp_path, *extra):
    return load_config(None, [*TINY, f"run_dir={tmp_path}", *extra])


def states(trainer):
    out = {f"G.{k}": v for k, v in trainer.G.state_dict().items()}
    out.update({f"D.{k}": v for k, v in trainer.D.state_dict().items()})
    out.update({f"G_ema.{k}": v for k, v in trainer.G_ema.state_dict().items()})
    for name in ("opt_G", "opt_D"):
        for i, s in getattr(trainer, name).state_dict()["state"].items():
            out.update({f"{name}.{i}.{k}": v for k, v in s.items()})
    out["pl_mean"], out["gen"] = trainer.pl_mean, trainer.gen.get_state()
    return out


def test_every_shipped_config_loads():
    names = sorted(p.stem for p in CONFIGS.glob("*.yaml"))
    for required in ("faces32-cpu", "faces64", "skylines64", "ffhq256-paper",
                     "churches256-paper", "faces64-stylegan2", "faces64-spade"):
        assert required in names
    for name in names:
        extra = ["data.path=/data/images"] if name.endswith("-paper") else []
        cfg = load_config(CONFIGS / f"{name}.yaml", extra)
        assert cfg.total_steps > 0
    paper = load_config(CONFIGS / "ffhq256-paper.yaml", ["data.path=/x"])
    assert (paper.reg.r1_gamma, paper.reg.pl_weight, paper.reg.distortion_weight) == (1, 2, 100)
    assert paper.model.config == "paper256" and paper.data.resolution == 256
    with pytest.raises(ConfigError, match="data.path"):
        load_config(CONFIGS / "ffhq256-paper.yaml")


def test_overrides_are_typed():
    cfg = load_config(None, ["batch=8", "optim.g_lr=1e-3", "optim.betas=[0.5, 0.9]",
                             "data.mirror=yes", "ema.rampup=none", "run_dir=007",
                             "model.overrides.grid=[2, 2]", "reg.style_mixing=null"])
    assert cfg.batch == 8 and cfg.optim.g_lr == 1e-3 and cfg.optim.betas == (0.5, 0.9)
    assert cfg.data.mirror is True and cfg.ema.rampup is None and cfg.run_dir == "007"
    assert cfg.model.overrides == {"grid": [2, 2]}


@pytest.mark.parametrize("overrides, message", [
    (["reg.r1_gama=1"], r"unknown config key 'reg.r1_gama'; did you mean 'r1_gamma'"),
    (["optimizer.lr=1"], r"unknown config key 'optimizer'"),
    (["batch=abc"], r"'batch' expects int"),
    (["batch"], r"key=value"),
    (["model.overrides.grid=[3, 3]"], r"3x3 latent grid .* does not divide data.resolution=32"),
    (["data.resolution=48"], r"data.resolution: resolution must be a power of 2"),
    (["model.arch=stylegan2", "reg.distortion_weight=1"], r"needs a spatial generator"),
    (["reg.style_mixing=0.9"], r"style_mixing needs per-layer w"),
    (["reg.distortion_mode=gauss"], r"distortion_mode must be one of"),
    (["data.name=mnist"], r"data.name must be one of"),
    (["reg"], r"key=value"),
    (["reg=1"], r"'reg' is a section"),
])
def test_bad_configs_raise_clear_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_unknown_key_in_a_yaml_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("reg: {r1_gamma: 1, pl_wieght: 2}\n")
    with pytest.raises(ConfigError, match=r"unknown config key 'reg.pl_wieght'.*'pl_weight'"):
        load_config(path)


def test_cli_reports_config_errors(tmp_path, capsys):
    assert main(["train", f"run_dir={tmp_path}", "model.overrides.grid=[3,5]"]) == 2
    err = capsys.readouterr().err
    assert "3x5 latent grid" in err and "does not divide" in err


def test_lazy_regularisation_ratio():
    assert lazy_ratio([]) == 1
    assert lazy_ratio([16]) == 16 / 17
    assert lazy_ratio([4, 4]) == lazy_ratio([4, 8]) == 4 / 5
    assert lazy_ratio([2, 3]) == 6 / 10         # steps 0, 2, 3, 4 of every 6 regularise


def test_ema_half_life_and_rampup():
    beta = ema_beta(batch=32, kimg=10, rampup=None, images_seen=0)
    assert math.isclose(beta ** (10_000 / 32), 0.5)
    assert ema_beta(32, 10, 0.05, images_seen=0) == 0.0          # starts as a copy of G
    assert math.isclose(ema_beta(32, 10, 0.05, 6400), 0.5 ** (32 / 320))


def test_data_order_is_split_over_processes_and_covers_each_epoch():
    one = StepOrder(10, batch=4, seed=3)
    two = [StepOrder(10, batch=4, seed=3, rank=r, world=2) for r in range(2)]
    for step in range(6):
        assert one.indices(step) == two[0].indices(step) + two[1].indices(step)
    seq = [i for s in range(5) for i in one.indices(s)]             # 20 = two epochs
    assert sorted(seq[:10]) == list(range(10)) and sorted(seq[10:]) == list(range(10))
    assert seq[:10] != seq[10:]
    assert next(iter(StepOrder(10, 4, 3, start=2))) == one.indices(2)


def test_training_writes_logs_samples_and_checkpoints(tmp_path):
    trainer = train(tiny(tmp_path, "steps=3", "ckpt_every=2", "sample_every=2",
                         "tensorboard=true", "keep_ckpts=1"))
    assert trainer.step == 3 and trainer.images_seen == 12
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]
    assert {"loss/D", "loss/G", "loss/R1", "loss/PL", "loss/distortion", "img_per_s"} \
        <= set(records[0])
    assert records == trainer.history
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-00000003.pt"]  # pruned to 1
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "step-00000002.png", "step-00000003.png"]
    assert any((tmp_path / "tb").iterdir())
    state = load_checkpoint(tmp_path / "ckpt-00000003.pt")          # weights_only=True
    assert state["step"] == 3 and state["config"]["batch"] == 4
    assert set(state["rng"]) >= {"torch", "numpy", "python", "generators"}


def test_lazy_rescaled_adam_hyperparameters(tmp_path):
    t = Trainer(tiny(tmp_path, "steps=1", "reg.r1_interval=16"))
    d, g = t.opt_D.param_groups[0], t.opt_G.param_groups[0]
    assert math.isclose(d["lr"], 0.002 * 16 / 17)
    assert d["betas"][0] == 0 and math.isclose(d["betas"][1], 0.99 ** (16 / 17))
    assert math.isclose(g["lr"], 0.002 * lazy_ratio([2, 3]))


def test_resume_continues_bit_for_bit(tmp_path):
    """20 steps in one go == 10 steps, a new process state from the checkpoint, 10 more."""
    straight = train(tiny(tmp_path / "a", "steps=20", "ckpt_every=100"))
    first = train(tiny(tmp_path / "b", "steps=10", "ckpt_every=100"))
    assert [p.name for p in list_checkpoints(tmp_path / "b")] == ["ckpt-00000010.pt"]
    torch.manual_seed(1234)                          # global RNGs are restored from the file
    np.random.seed(99)  # noqa: NPY002
    second = Trainer(tiny(tmp_path / "b", "steps=20", "resume=auto"))
    assert second.step == 10 and second.images_seen == 40
    second.run()
    second.close()
    a, b = states(straight), states(second)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert not torch.equal(states(first)["G.style.1.weight"], a["G.style.1.weight"])


def test_a_checkpoint_from_another_device_resumes_with_a_fresh_random_stream(tmp_path):
    """How a GPU continues a CPU run (and back): weights, optimisers and step load onto this
    device; the training generator's state, which is device-specific, is re-seeded."""
    first = train(tiny(tmp_path, "steps=4", "ckpt_every=100"))
    path = tmp_path / "ckpt-00000004.pt"
    state = load_checkpoint(path)
    state["device_type"] = "cuda"                          # as a GPU installment writes it
    torch.save(state, path)
    with pytest.warns(UserWarning, match="written on cuda.*re-seeded"):
        second = Trainer(tiny(tmp_path, "steps=6", "resume=auto"))
    assert (second.step, second.images_seen) == (4, 16)
    a, b = states(first), states(second)
    assert [key for key in a if not torch.equal(a[key], b[key])] == ["gen"]  # only the stream
    second.run()
    second.close()
    assert second.step == 6 and all(torch.isfinite(v).all() for v in states(second).values())


def test_resume_rejects_a_different_model(tmp_path):
    train(tiny(tmp_path, "steps=1"))
    with pytest.raises(ConfigError, match="'model' setting"):
        Trainer(tiny(tmp_path, "steps=2", "resume=auto", "model.overrides.w_dim=16"))


class PoisonableImages(torch.utils.data.Dataset):
    def __init__(self):
        self.poisoned = False
        self.images = torch.rand(16, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i] * math.nan if self.poisoned else self.images[i]


def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    data = PoisonableImages()
    trainer = Trainer(tiny(tmp_path, "steps=6", "ckpt_every=2"), dataset=data)
    trainer.run(until=2)
    data.poisoned = True
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss in step 3 .*ckpt-00000002"):
        trainer.run()
    trainer.close()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-00000002.pt"]
    state = load_checkpoint(tmp_path / "ckpt-00000002.pt")
    assert all(torch.isfinite(v).all() for v in state["G"].values())


def test_stylegan2_baseline_and_spade_train(tmp_path):
    for arch, extra in (("stylegan2", ["reg.distortion_weight=0"]), ("spade", [])):
        t = train(tiny(tmp_path / arch, f"model.arch={arch}", "steps=2", *extra))
        assert t.step == 2 and math.isfinite(t.history[-1]["loss/G"])
    assert t.mixing == 0.0


def test_sample_cli_is_deterministic(tmp_path, capsys):
    train(tiny(tmp_path / "run", "steps=2", "ema.rampup=none"))      # EMA != G
    outs = []
    for name, extra in (("a.png", []), ("b.png", []), ("c.png", ["--truncation", "0.5"]),
                        ("d.png", ["--net", "g"])):
        argv = ["sample", "--ckpt", str(tmp_path / "run"), "--seeds", "0-2,7",
                "--out", str(tmp_path / name), "--device", "cpu", *extra]
        assert main(argv) == 0
        outs.append(np.asarray(Image.open(tmp_path / name)))
    assert outs[0].shape == (2 + 2 * 34, 2 + 2 * 34, 3)              # 2x2 grid of 32 px
    assert np.array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2]) and not np.array_equal(outs[0], outs[3])
    assert main(["sample", "--ckpt", str(tmp_path / "run"), "--seeds", "5-1"]) == 2
    assert "bad seed range" in capsys.readouterr().err


def test_time_limit_stops_at_a_log_point_with_a_checkpoint(tmp_path):
    """time_limit (minutes) ends a run at the first due log after it passes: samples and a
    checkpoint are written there, as at the planned end."""
    t = train(tiny(tmp_path, "steps=100", "log_every=2", "ckpt_every=50", "sample_every=50",
                   "time_limit=1e-9", "reg.distortion_weight=0"))
    assert t.step == 2
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-00000002.pt"]
    assert (tmp_path / "samples" / "step-00000002.png").is_file()


def test_loop_seconds_sums_the_logged_intervals_from_where_a_run_began(tmp_path):
    """log.jsonl holds seconds per step of each logging interval; a resumed run's log starts
    after the step it resumed from, and only its own steps count."""
    from ssnlib.train.monitor import loop_seconds

    records = [{"step": 300, "sec_per_step": 0.5}, {"step": 400, "sec_per_step": 0.25},
               {"step": 500, "loss/D": 1.0, "sec_per_step": 1.0}]
    (tmp_path / "log.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert loop_seconds(tmp_path, after_step=200) == {200: 0.0, 300: 50.0, 400: 75.0,
                                                      500: 175.0}
    assert loop_seconds(tmp_path)[300] == 150.0                  # from step 0
    assert loop_seconds(tmp_path, after_step=400) == {400: 0.0, 500: 100.0}
    assert loop_seconds(tmp_path / "nothing") == {}


def test_bf16_on_a_cpu_that_emulates_it_warns(tmp_path, monkeypatch):
    """bf16 autocast without the CPU's bf16 instructions is emulated and far slower than fp32
    (bench/cpu_zoo.py): the trainer says so once, and stays silent for fp32 or a CPU with them."""
    import ssnlib.train.trainer as trainer_module

    for native, precision, warns in ((False, "bf16", True), (True, "bf16", False),
                                     (None, "bf16", False), (False, "fp32", False)):
        monkeypatch.setattr(trainer_module, "cpu_has_native_bf16", lambda n=native: n)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            Trainer(tiny(tmp_path, f"precision={precision}", "device=cpu"))
        said = [w for w in caught if "native bf16" in str(w.message)]
        assert len(said) == warns, (native, precision)
