"""tools/gpu_zoo.py, the one-command GPU model zoo (issue 20), dry-run on the CPU with its tiny
profile so that GPU minutes are never spent on a typo: every stage runs (data, StyleGAN2,
transfer, SSN fine-tune, export, scoring, results, packing) and OUT holds what the device tool
can bring back."""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_tiny_profile_runs_every_stage_and_packs_at_most_8_small_files(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_zoo.py"), str(out),
                           "--profile", "tiny", "--only", "faces64-ssn-ld100",
                           "--commit", "c0ffee"],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = sorted(p.name for p in out.iterdir())
    assert len(files) <= 8 and all((out / f).stat().st_size <= 15 * 2**20 for f in files)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trained"] == ["faces64-stylegan2", "faces64-ssn-ld100"]
    assert summary["scored"] == summary["trained"]
    with tarfile.open(out / "zoo64.tar.gz") as tar:
        ssn = json.load(tar.extractfile("zoo64/faces64-ssn-ld100/manifest.json"))
    assert ssn["training"]["dataset"] == "faces"                 # the archive's dataset
    assert {"fid", "kid", "ppl", "distortion", "locality"} <= ssn["metrics"].keys()
    assert ssn["model"]["arch"] == "ssn" and "model.init=" in ssn["training"]["launched_as"]
    # the commit named, not the git state of the copy it ran in (the device tool's)
    assert summary["environment"]["commit"] == ssn["export"]["commit"] == "c0ffee"
    assert "faces64-ssn-ld100" in (out / "RESULTS.md").read_text()


def test_the_gpu_profile_needs_the_developers_commit(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_zoo.py"), str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "--commit SHA is required" in proc.stderr
    assert "Traceback" not in proc.stderr
