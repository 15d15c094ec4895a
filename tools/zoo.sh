#!/usr/bin/env bash
# Ship one finished zoo run and record its scores (data/checkpoints/NAME):
#
#   tools/zoo.sh NAME DATASET "COMMAND THAT TRAINED runs/zoo/NAME"
#
# e.g. tools/zoo.sh faces32-ssn-ld0 faces \
#        "ssn train --config configs/zoo/faces32.yaml reg.distortion_weight=0 run_dir=runs/zoo/faces32-ssn-ld0"
# Sample counts: FID, KID and precision/recall (k = 3) 10k generated vs 10k reference images,
# PPL 2000 paths, distortion and locality 1000 samples (x 16 blocks), part-level locality 500
# samples (x 16 blocks).
# Set SSN_ZOO_SKIP_EXPORT=1 to re-score without re-exporting.
set -euo pipefail
name=$1 dataset=$2 launched=$3
ssn=${SSN:-.venv/bin/ssn}
if [[ -z ${SSN_ZOO_SKIP_EXPORT:-} ]]; then
  $ssn export --ckpt "runs/zoo/$name" --name "$name" --launched-as "$launched" \
    --description "$name: $launched"
fi
$ssn eval --pretrained "$name" --metrics fid,kid,pr --ref "$dataset" --num 10000 --ref-num 10000 \
  --batch 64 --record > /dev/null
$ssn eval --pretrained "$name" --metrics ppl --num 2000 --batch 32 --record > /dev/null
if [[ $name != *stylegan2* ]]; then
  $ssn eval --pretrained "$name" --metrics distortion,locality --num 1000 --batch 32 \
    --record > /dev/null
  $ssn eval --pretrained "$name" --metrics parts --part-domain "$dataset" --num 500 --batch 32 \
    --record > /dev/null
fi
echo "scored $name"
