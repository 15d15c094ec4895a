"""One GPU window spent on the zoo's installment runs (issue 27): every named run of
``data/runs/`` continues on the GPU at once (small models leave an H200 mostly idle), and each
comes back as one archive of its folder, the ledger entry included.

    python tools/gpu_installments.py OUT --commit SHA --minutes 6 faces32-stylegan2 ...
    tar -xzf OUT/faces32-stylegan2.tar.gz -C data/runs      # back on the developer's machine

On the device machine (torch 2.11, CUDA; no .venv there):
``PYTHONUNBUFFERED=1 python3 tools/gpu_installments.py $OUT --commit SHA --minutes 6 NAME ...``
with SHA the developer's ``git rev-parse HEAD``, committed first: the device's copy of the
checkout carries a git folder whose HEAD and status are not the tree that runs, so the ledger
records the commit named here. Each run stops by its own ``time_limit``, then is scored
(domain FID, KID, precision and recall, attribute shares; 10k vs 10k) on the GPU;
``--dry-run`` does the same on the CPU for a minute, into a scratch copy of ``data/runs``
(``tests/test_installment.py`` runs it on a tiny config).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_FILES = 8                          # the device tool brings back at most 8 files


def launch(name: str, minutes: float, device: str, places: list[str], log: Path,
           commit: str | None):
    """``tools/installment.py train NAME`` in the background, its output in ``log``; the
    ledger names ``commit`` (``SSN_COMMIT``) where given."""
    command = [sys.executable, str(ROOT / "tools" / "installment.py"), "train", name,
               "--minutes", str(minutes), "--set", f"device={device}", *places]
    env = os.environ | ({"SSN_COMMIT": commit} if commit else {})
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)


def pack(name: str, data: Path, out: Path, log: Path) -> Path:
    """The run's folder and its log as ``OUT/NAME.tar.gz`` (unpacks as ``NAME/...``)."""
    archive = out / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(data / name, arcname=name)
        tar.add(log, arcname=f"{name}/installment.log")
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="where the archives go ($OUT)")
    parser.add_argument("names", nargs="+", help="runs of data/runs (or configs/zoo/v3)")
    parser.add_argument("--minutes", type=float, default=6, help="training time of every run")
    parser.add_argument("--dry-run", action="store_true", help="on the CPU, into a scratch copy")
    parser.add_argument("--pass", dest="extra", action="append", default=[], metavar="ARG",
                        help="an argument for every installment.py call (e.g. --num=64)")
    parser.add_argument("--commit", help="the commit the device's copy was made from "
                        "(required on the device; the ledger records it)")
    args = parser.parse_args()
    if args.commit is None and not args.dry_run:
        parser.error("--commit SHA is required: the device copy's own git state is not the "
                     "tree that runs (commit first, pass git rev-parse HEAD)")
    if len(args.names) > MAX_FILES:
        parser.error(f"at most {MAX_FILES} runs: one archive each comes back")
    args.out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="gpu-installments-"))
    data = ROOT / "data" / "runs"
    if args.dry_run:                   # never touch the committed states from a rehearsal
        data = Path(shutil.copytree(data, scratch / "runs")) if data.is_dir() else scratch / "runs"
    places = [f"--data-dir={data}", *args.extra]
    if args.dry_run:                   # nor the run folders of trainings going on beside it
        places.append(f"--runs-dir={scratch / 'work'}")
    device = "cpu" if args.dry_run else "cuda"
    started = time.monotonic()
    logs = {name: scratch / f"{name}.log" for name in args.names}
    runs = {name: launch(name, args.minutes, device, places, logs[name], args.commit)
            for name in args.names}
    failed = [name for name, proc in runs.items() if proc.wait() != 0]
    for name in args.names:
        print(f"== {name}\n" + logs[name].read_text()[-2000:], flush=True)
        if name not in failed:
            print(f"packed {pack(name, data, args.out, logs[name])}")
    print(f"gpu_installments: {len(runs) - len(failed)} of {len(runs)} runs continued in "
          f"{time.monotonic() - started:.0f} s" + (f"; failed: {', '.join(failed)}" if failed
                                                    else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
