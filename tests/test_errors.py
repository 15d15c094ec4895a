"""Nothing a user does ends in a traceback (issue 21): every bad input, driven through the real
``ssn`` command line, ends in one line ``ssn <command>: error: ...`` naming the problem, exit
status 2, no file changed, and no pickled code run. Plus the run-folder lock, the guard on the
optimisers' state, and ``--resume auto`` falling back past a damaged checkpoint."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ssnlib.cli import main
from ssnlib.errors import CheckpointError
from ssnlib.train import NonFiniteLossError, Trainer, load_config, train
from ssnlib.train.checkpoint import list_checkpoints
from ssnlib.train.lock import RunLockedError

TINY = ["model.overrides.channel_max=8", "model.overrides.z_dim=8", "model.overrides.w_dim=8",
        "model.overrides.n_mlp=2", "model.d_overrides.channel_max=8", "data.length=16",
        "batch=4", "log_every=1", "progress=false", "tensorboard=false", "n_samples=4",
        "reg.distortion_weight=10", "reg.distortion_interval=2", "reg.pl_interval=2"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


class Payload:
    """Unpickling this writes a marker file: what a malicious .pt would do instead."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A real run (two checkpoints) and one damaged file of every kind."""
    root = tmp_path_factory.mktemp("files")
    run = root / "run"
    train(load_config(None, [*TINY, f"run_dir={run}", "steps=2", "ckpt_every=1",
                             "keep_ckpts=0"]))
    good = (run / "ckpt-00000002.pt").read_bytes()
    bad = root / "bad"
    bad.mkdir()
    out = {"run": run, "good": run / "ckpt-00000002.pt", "marker": root / "PWNED"}
    for name, data in (("truncated.pt", good[: len(good) // 2]), ("empty.pt", b""),
                       ("random.pt", os.urandom(4096)), ("random.safetensors", os.urandom(512)),
                       ("empty.safetensors", b""), ("bad.yaml", b"model: {arch: ssn\nbatch: [")):
        (bad / name).write_bytes(data)
        out[name] = bad / name
    torch.save({"weights": torch.zeros(3)}, bad / "foreign.pt")
    torch.save({"x": Payload(out["marker"])}, bad / "payload.pt")
    from safetensors.torch import save_file
    save_file({"style.1.weight": torch.zeros(2, 2)}, str(bad / "shapes.safetensors"))
    good_st = bad / "trunc.safetensors"
    save_file({"a": torch.zeros(1000)}, str(good_st))
    good_st.write_bytes(good_st.read_bytes()[:300])
    (bad / "not-an-image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    out.update({k: bad / k for k in ("foreign.pt", "payload.pt", "shapes.safetensors",
                                     "trunc.safetensors")})
    out["images"] = bad / "images"
    out["images"].mkdir()
    (out["images"] / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    return out


def tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        digest.update(str(p.relative_to(path)).encode())
        if p.is_file():
            digest.update(p.read_bytes())
    return digest.hexdigest()


BAD_CHECKPOINTS = ["truncated.pt", "empty.pt", "random.pt", "foreign.pt", "payload.pt",
                   "missing.pt"]
CASES = [
    *[(f"sample {b}", ["sample", "--ckpt", f"<{b}>", "--out", "<tmp>/s.png"], b)
      for b in BAD_CHECKPOINTS],
    *[(f"eval {b}", ["eval", "--ckpt", f"<{b}>", "--metrics", "distortion", "--num", "2"], b)
      for b in BAD_CHECKPOINTS],
    *[(f"resample {b}", ["resample", "--ckpt", f"<{b}>", "--seed", "0", "--blocks", "0",
                         "--out", "<tmp>/r"], b) for b in BAD_CHECKPOINTS],
    *[(f"export {b}", ["export", "--ckpt", f"<{b}>", "--name", "x", "--out", "<tmp>/zoo"], b)
      for b in BAD_CHECKPOINTS],
    *[(f"train --resume {b}", ["train", *TINY, "steps=1", "run_dir=<tmp>/t", "--resume",
                               f"<{b}>"], b) for b in BAD_CHECKPOINTS],
    *[(f"eval --weights {b}", ["eval", "--arch", "ssn", "--config", "tiny", "--weights",
                               f"<{b}>", "--metrics", "distortion", "--num", "2"], b)
      for b in ("random.safetensors", "empty.safetensors", "trunc.safetensors",
                "shapes.safetensors")],
    ("yaml syntax", ["train", "--config", "<bad.yaml>"], "bad.yaml"),
    ("unknown config", ["train", "--config", "nonesuch"], "nonesuch"),
    ("unknown override", ["train", "model.overrides.bogus=1", "steps=1", "run_dir=<tmp>/u"],
     "bogus"),
    ("bad device", ["train", *TINY, "device=bogus", "steps=1", "run_dir=<tmp>/v"], "bogus"),
    ("unknown metric", ["eval", "--ckpt", "<good>", "--metrics", "fidd"], "fidd"),
    ("no metric", ["eval", "--ckpt", "<good>", "--metrics", ","], "metric"),
    ("unknown zoo name", ["sample", "--ckpt", "faces99-nothing", "--out", "<tmp>/s.png"],
     "faces99-nothing"),
    ("bad extension", ["sample", "--ckpt", "<good>", "--out", "<tmp>/s.xyz"], "s.xyz"),
    ("corrupt image in data.path", ["train", *TINY, "steps=1", "data.path=<images>",
                                    "run_dir=<tmp>/w"], "broken.png"),
    ("bad background", ["prepare-data", "<images>", "<tmp>/arch", "--resolution", "32",
                        "--background", "pink"], "pink"),
    ("resample, nothing to redraw", ["resample", "--ckpt", "<good>", "--seed", "0", "--out",
                                     "<tmp>/r"], "--new-u"),
    ("resample --new-u without u", ["resample", "--ckpt", "<good>", "--seed", "0", "--new-u",
                                    "--out", "<tmp>/r"], "no global latent u"),
]


@pytest.mark.parametrize(("what", "argv", "named"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(files, tmp_path, capsys, what,
                                                          argv, named):
    paths = {**{k: str(v) for k, v in files.items()}, "tmp": str(tmp_path),
             "missing.pt": str(tmp_path / "missing.pt")}
    for key, value in paths.items():
        argv = [a.replace(f"<{key}>", value) for a in argv]
    before = tree_digest(files["run"].parent)
    status = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert len(lines) == 1 and lines[0].startswith(f"ssn {argv[0]}: error: "), err
    assert named in lines[0], err
    assert "Traceback" not in err and "weights_only=False" not in err
    assert not files["marker"].exists(), "the pickle payload ran"
    assert tree_digest(files["run"].parent) == before
    assert not (tmp_path / "t").exists() and not (tmp_path / "w").exists()   # no half-made run


def test_through_the_installed_entry_point(files, tmp_path):
    """The same path from a shell: a real process, no traceback, exit 2."""
    for bad in ("payload.pt", "truncated.pt"):
        proc = subprocess.run([sys.executable, "-m", "ssnlib.cli", "sample", "--ckpt",
                               str(files[bad]), "--out", str(tmp_path / "x.png")],
                              capture_output=True, text=True, env=ENV, timeout=120)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.count("\n") == 1 and str(files[bad]) in proc.stderr
    assert not files["marker"].exists()


def test_debug_shows_the_traceback(files):
    with pytest.raises(CheckpointError):
        main(["sample", "--ckpt", str(files["truncated.pt"]), "--debug"])


def test_zoo_names_and_folders_work_as_ckpt(tmp_path):
    assert main(["sample", "--ckpt", "faces32-ssn-ld100", "--seeds", "0-3",
                 "--out", str(tmp_path / "new" / "g.png")]) == 0
    assert (tmp_path / "new" / "g.png").is_file()
    zoo_folder = Path(__file__).resolve().parents[1] / "data/checkpoints/faces32-ssn-ld100"
    assert main(["resample", "--ckpt", str(zoo_folder), "--seed", "1", "--blocks", "5",
                 "--out", str(tmp_path / "r")]) == 0


def test_a_second_trainer_on_the_same_folder_is_refused(tmp_path):
    first = Trainer(load_config(None, [*TINY, f"run_dir={tmp_path}", "steps=1"]))
    try:
        proc = subprocess.run([sys.executable, "-m", "ssnlib.cli", "train", *TINY, "steps=1",
                               f"run_dir={tmp_path}"], capture_output=True, text=True,
                              env=ENV, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "in use by another training run" in proc.stderr
        assert f"pid {os.getpid()}" in proc.stderr
        assert list_checkpoints(tmp_path) == []
    finally:
        first.close()
    # released: the next one trains
    train(load_config(None, [*TINY, f"run_dir={tmp_path}", "steps=1"]))
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-00000001.pt"]


def test_lock_is_refused_in_another_process_only(tmp_path):
    from ssnlib.train.lock import lock_run_dir, unlock_run_dir
    a = lock_run_dir(tmp_path)
    b = lock_run_dir(tmp_path)                 # re-entrant in one process
    unlock_run_dir(b)
    code = (f"from ssnlib.train.lock import lock_run_dir\nlock_run_dir({str(tmp_path)!r})")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=ENV, timeout=60)
    assert "RunLockedError" in proc.stderr
    unlock_run_dir(a)
    assert subprocess.run([sys.executable, "-c", code], env=ENV, timeout=60).returncode == 0
    assert RunLockedError.__mro__[1].__name__ == "SSNError"


def test_a_diverged_optimiser_state_is_never_saved(tmp_path):
    trainer = Trainer(load_config(None, [*TINY, f"run_dir={tmp_path}", "steps=4",
                                         "ckpt_every=2"]))
    try:
        trainer.run(until=2)
        state = next(iter(trainer.opt_D.state.values()))
        state["exp_avg_sq"].fill_(float("inf"))       # weights and losses still finite
        with pytest.raises(NonFiniteLossError, match="opt_D .*exp_avg_sq.*ckpt-00000002"):
            trainer.save()
    finally:
        trainer.close()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-00000002.pt"]


def test_resume_auto_skips_a_damaged_latest_checkpoint(tmp_path):
    config = [*TINY, f"run_dir={tmp_path}", "steps=4", "ckpt_every=2", "keep_ckpts=0"]
    train(load_config(None, config))
    latest = tmp_path / "ckpt-00000004.pt"
    latest.write_bytes(latest.read_bytes()[:1000])           # cut short by a crash
    with pytest.warns(UserWarning, match="skipped ckpt-00000004.pt"):
        trainer = Trainer(load_config(None, [*config, "resume=auto"]))
    try:
        assert trainer.step == 2 and trainer.last_checkpoint.name == "ckpt-00000002.pt"
    finally:
        trainer.close()


def test_disk_full_is_one_line_and_leaves_no_file(files, tmp_path, capsys, monkeypatch):
    import errno

    from ssnlib.commands import sample

    def full(path, write):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    monkeypatch.setattr(sample, "atomic_write", full)
    out = tmp_path / "g.png"
    assert main(["sample", "--ckpt", str(files["good"]), "--seeds", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the disk is full while writing" in err and str(out) in err
    assert not out.exists()


def test_a_non_square_mask_is_refused(files, tmp_path, capsys):
    from PIL import Image
    Image.new("L", (7, 3), 255).save(tmp_path / "mask.png")
    assert main(["resample", "--ckpt", str(files["good"]), "--seed", "0", "--mask",
                 str(tmp_path / "mask.png"), "--out", str(tmp_path / "r")]) == 2
    assert "the mask is 7x3" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_prepare_data_flattens_transparency_onto_a_background(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    from ssnlib.data import PackedDataset
    folder = tmp_path / "emoji"
    folder.mkdir()
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 0
    rgba[4:12, 4:12, 3] = 255                       # an opaque red square on nothing
    Image.fromarray(rgba, "RGBA").save(folder / "a.png")
    args = ["prepare-data", str(folder), str(tmp_path / "arch"), "--resolution", "16"]
    assert main(args) == 2 and "--background" in capsys.readouterr().err
    assert main([*args, "--background", "#0000ff"]) == 0
    image = PackedDataset(tmp_path / "arch")[0]      # [3, 16, 16] in [-1, 1]
    u8 = ((image + 1) * 127.5).round()
    assert u8[:, 0, 0].tolist() == [0, 0, 255] and u8[:, 8, 8].tolist() == [200, 0, 0]
    assert "transparency flattened onto #0000ff" in capsys.readouterr().out


def test_a_resumed_run_logs_each_step_once(tmp_path):
    import json
    config = [*TINY, f"run_dir={tmp_path}", "steps=4", "ckpt_every=2", "keep_ckpts=0"]
    train(load_config(None, config))
    (tmp_path / "ckpt-00000004.pt").unlink()        # as if killed after logging step 4
    train(load_config(None, [*config, "resume=auto"]))
    steps = [json.loads(line)["step"] for line in
             (tmp_path / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
