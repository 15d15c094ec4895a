"""The `ssn` console script.

Each sub-command lives beside the code it drives and is listed in `COMMANDS`
as ``name: "module:function"``; the module is imported only when its
sub-command runs, so `ssn --help` stays fast. The named function takes the
sub-parser, adds its arguments and returns the callable that runs it
(``run(args) -> int | None``).
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys

import ssnlib

COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("ssnlib.utils:add_info_command", "print versions and the device ssnlib would use"),
    "train": ("ssnlib.train.cli:add_train_command", "train a GAN from a config (torchrun-ready)"),
    "sample": ("ssnlib.train.cli:add_sample_command", "sample a PNG grid from a checkpoint"),
    "resample": ("ssnlib.resample.command:add_resample_command",
                 "resample blocks of a sampled or inverted image; writes before/after/diff PNGs"),
    "part-gallery": ("ssnlib.resample.parts:add_part_gallery_command",
                     "resample the blocks covering a part (a tower, the hair) of a zoo model"),
    "prepare-data": ("ssnlib.data.prepare:add_prepare_data_command",
                     "pack images or a procedural dataset into a fast uint8 archive"),
    "eval": ("ssnlib.metrics.command:add_eval_command",
             "FID, KID, PPL, distortion and locality of a generator, as JSON"),
    "export": ("ssnlib.train.export:add_export_command",
               "ship a run's EMA generator in the model zoo (data/checkpoints)"),
    "results": ("ssnlib.metrics.results:add_results_command",
                "Tables 1 and 2 and the Pareto plot of the zoo (data/checkpoints/RESULTS.md)"),
    "train-featurenet": ("ssnlib.metrics.train_featurenet:add_train_featurenet_command",
                         "train the domain feature network used by the metrics"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssn",
        description="Spatially Stochastic Networks: train, sample, evaluate and resample.",
    )
    parser.add_argument("--version", action="version", version=f"ssnlib {ssnlib.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # First pass finds the command; its module then adds the real arguments.
    known, _ = parser.parse_known_args(argv[:1] if argv and not argv[0].startswith("-") else argv)
    if known.command is None:
        parser.print_help()
        return 2
    module_name, func_name = COMMANDS[known.command][0].split(":")
    sub = argparse.ArgumentParser(prog=f"ssn {known.command}",
                                  description=COMMANDS[known.command][1])
    run = getattr(importlib.import_module(module_name), func_name)(sub)
    args = sub.parse_args(argv[1:])
    args.command_line = "ssn " + shlex.join(argv)     # recorded by commands that write results
    return int(run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
