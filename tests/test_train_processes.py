"""The training engine across processes: a SIGKILL inside a checkpoint write, and a 2-process
gloo ``torchrun`` run against a 1-process run with the same global batch."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ssnlib.train import Trainer, load_config, train
from ssnlib.train.checkpoint import list_checkpoints, load_checkpoint

TINY = ["model.overrides.channel_max=8", "model.overrides.z_dim=8", "model.overrides.w_dim=8",
        "model.overrides.n_mlp=2", "model.d_overrides.channel_max=8", "data.length=48",
        "batch=4", "log_every=1", "progress=false", "tensorboard=false", "n_samples=4",
        "reg.r1_interval=2", "reg.pl_interval=2", "reg.distortion_weight=10",
        "reg.distortion_interval=3", "data.mirror=true"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}

# Runs training with torch.save replaced: the second checkpoint writes half its bytes to the
# temporary file, flushes them, and the process SIGKILLs itself before the rename.
DIE_IN_SECOND_WRITE = """
import io, os, signal, sys
import torch
from ssnlib.train import Trainer, load_config

real_save, calls = torch.save, []

def dying_save(obj, f, *args, **kwargs):
    calls.append(1)
    if len(calls) == 2:
        buf = io.BytesIO()
        real_save(obj, buf, *args, **kwargs)
        f.write(buf.getvalue()[: buf.tell() // 2])
        f.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    real_save(obj, f, *args, **kwargs)

torch.save = dying_save
torch.set_num_threads(1)
Trainer(load_config(None, sys.argv[1:])).run()
"""


def nets(state):
    return {f"{net}.{k}": v for net in ("G", "D", "G_ema") for k, v in state[net].items()}


@pytest.mark.slow
def test_sigkill_during_a_checkpoint_write_resumes_from_the_previous_one(tmp_path):
    run = tmp_path / "run"
    script = tmp_path / "die.py"
    script.write_text(DIE_IN_SECOND_WRITE)
    proc = subprocess.run([sys.executable, str(script), *TINY, f"run_dir={run}", "steps=6",
                           "ckpt_every=3"], env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert [p.name for p in list_checkpoints(run)] == ["ckpt-00000003.pt"]
    assert list(run.glob(".ckpt-00000006.pt.tmp*"))         # the torn file, never renamed

    resumed = Trainer(load_config(None, [*TINY, f"run_dir={run}", "steps=6", "resume=auto"]))
    assert resumed.step == 3
    resumed.run()
    resumed.close()
    assert not list(run.glob(".ckpt-*"))                      # stale temporary file removed
    straight = train(load_config(None, [*TINY, f"run_dir={tmp_path / 'straight'}", "steps=6"]))
    a = nets(load_checkpoint(run / "ckpt-00000006.pt"))
    b = nets(straight.state_dict())
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path):
    """Same global batch of 4 (2 + 2 under torchrun). The minibatch-stddev statistic is taken
    per process, as in every multi-GPU StyleGAN2, so D uses groups of 1 here."""
    common = [*TINY, "model.d_overrides.mbstd_group=1", "steps=4"]
    torchrun = Path(sys.executable).parent / "torchrun"
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node=2", "-m",
                           "ssnlib.cli", "train", *common, f"run_dir={tmp_path / 'two'}"],
                          env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    single = train(load_config(None, [*common, f"run_dir={tmp_path / 'one'}"]))
    two = load_checkpoint(tmp_path / "two" / "ckpt-00000004.pt")
    assert two["step"] == 4 and two["images_seen"] == 16
    a, b = nets(two), nets(single.state_dict())
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-5, rtol=1e-4, msg=key)
    logs = [json.loads(line) for line in (tmp_path / "two" / "log.jsonl").read_text().splitlines()]
    for mine, theirs in zip(logs, single.history, strict=True):
        for key in ("loss/D", "loss/G", "loss/R1", "loss/PL", "loss/distortion"):
            if key in theirs:
                assert abs(mine[key] - theirs[key]) < 1e-4 * (1 + abs(theirs[key])), key
