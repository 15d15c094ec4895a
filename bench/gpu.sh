#!/usr/bin/env bash
# Issue 14's GPU measurements in one call: at most 8 minutes on one H100/H200.
#
#   COMMIT=$(git rev-parse --short HEAD) bash bench/gpu.sh          # on the GPU machine
#   bash bench/gpu.sh --dry-run                                     # tiny rows on the CPU
#
# Prints one table (StyleGAN2 main bf16/fp32, SSN main exact/fast, SSN paper schedule, at
# 256 px batch 32 and 64 px batch 64: ms/step, img/s, first-step time, peak memory, counted and
# analytic GFLOP/step, MFU, SSN/StyleGAN2 ratios against the issue's targets) and appends it to
# bench/RESULTS-gpu.md with the date, device, torch version and commit (always pass COMMIT= on
# the device tool: its copy's .git is not the tree that runs); a copy goes to $OUT when the
# device runner sets it. Extra arguments go to bench/gpu_table.py (--rows 1,2,3, --steps N, --budget S, --cudnn-benchmark 0).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PY:-}" ]; then
    if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
RESULTS=bench/RESULTS-gpu.md
case " $* " in *" --dry-run "*) RESULTS=$(mktemp --suffix=.md) ;; esac
"$PY" -c "import torch; print('torch', torch.__version__, '| cuda', torch.cuda.is_available(),
      '|', torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu')"
status=0
timeout 470 "$PY" bench/gpu_table.py --results "$RESULTS" "$@" || status=$?
if [ -n "${OUT:-}" ]; then cp "$RESULTS" "$OUT/RESULTS-gpu.md"; fi
exit $status
