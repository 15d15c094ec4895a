"""What a perfect generator would score: each procedural dataset against itself.

The zoo's runs are scored with 10 000 generated images against training images 0-9999 (see
``tools/installment.py``). A generator that drew exact training images would still not score
FID 0 or recall 1 at these counts; this tool measures what it would score, by putting images
10 000-19 999 in the generator's place (:func:`ssnlib.metrics.noise_floor`), and writes the
result with the command that made it:

    python tools/floors.py                      # data/stats/floors.json, faces and skylines
    python tools/floors.py --count 4000 --out /tmp/floors.json

The first half is the zoo's cached reference in ``data/stats/``; the second half (4 MB of
features per dataset) is cached in the system's temporary folder, so nothing large enters git.
``ssn results`` and chapter 5 read ``data/stats/floors.json`` beside the runs' scores.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ssnlib.metrics import make_extractor, noise_floor  # noqa: E402
from ssnlib.metrics.reference import cache_key  # noqa: E402
from ssnlib.utils import environment_report, git_state  # noqa: E402

STATS = ROOT / "data" / "stats"


def floor(dataset: str, count: int, resolution: int, scratch: Path) -> dict:
    """``noise_floor`` computed in ``scratch``, starting from ``data/stats``'s copy of the
    first half where it is cached there (nothing is written to ``data/stats``)."""
    extractor = make_extractor("domain")
    first = cache_key(dataset, resolution, count // 2, 0, 0, extractor) + ".safetensors"
    if (STATS / first).is_file():
        shutil.copyfile(STATS / first, scratch / first)
    out = noise_floor(dataset, extractor, count, resolution, cache_dir=scratch, workers=1)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["faces", "skylines"])
    parser.add_argument("--count", type=int, default=20000,
                        help="images in all, half as 'real' and half as 'generated' "
                             "(default: 20000, the zoo's 10k vs 10k)")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--out", type=Path, default=STATS / "floors.json")
    args = parser.parse_args()
    started = time.monotonic()
    scratch = Path(tempfile.gettempdir()) / "ssn-floors"
    scratch.mkdir(exist_ok=True)
    floors = {d: floor(d, args.count, args.resolution, scratch) for d in args.datasets}
    report = {"what": "each dataset's images 0..count/2-1 (real) against count/2..count-1 "
                      "(generated): what a perfect generator scores at these counts",
              "command": "python tools/floors.py " + shlex.join(sys.argv[1:]),
              "date": date.today().isoformat(), **git_state("ssnlib", "tools"),
              "environment": environment_report(),
              "wall_s": round(time.monotonic() - started), "floors": floors}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n")
    tmp.replace(args.out)
    print(json.dumps(floors, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
