"""The `ssn` console script.

Each sub-command is one module of :mod:`ssnlib.commands`, listed in `COMMANDS` as
``name: (module, help)``; the module is imported only when its sub-command runs, so
`ssn --help` stays fast. Its ``add_<module>_command`` function takes the sub-parser, adds the
arguments and returns the callable that runs it (``run(args) -> int | None``).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import shlex
import sys

import ssnlib
from ssnlib.errors import SSNError, one_line

DEBUG_ENV = "SSN_DEBUG"

COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("info", "print versions and the device ssnlib would use"),
    "train": ("train", "train a GAN from a config (torchrun-ready)"),
    "transfer": ("transfer", "StyleGAN2 -> an SSN to train from (ssn train model.init=OUT)"),
    "widen": ("widen", "a trained generator with more channels per layer, drawing the same "
              "images (ssn train model.init=OUT)"),
    "sample": ("sample", "sample a PNG grid from a zoo model or checkpoint"),
    "resample": ("resample", "resample blocks of a sampled or inverted image; writes "
                 "before/after/diff PNGs"),
    "part-gallery": ("part_gallery", "resample the blocks covering a part (a tower, the hair) "
                     "of a zoo model"),
    "prepare-data": ("prepare_data", "pack images or a procedural dataset into a fast uint8 "
                     "archive"),
    "eval": ("evaluate", "FID, KID, PPL, distortion and locality of a generator, as JSON"),
    "export": ("export", "ship a run's EMA generator in the model zoo (data/checkpoints)"),
    "results": ("results", "Tables 1 and 2 and the Pareto plot of the zoo "
                "(data/checkpoints/RESULTS.md)"),
    "train-featurenet": ("train_featurenet", "train the domain feature network used by the "
                         "metrics"),
}


def command_adder(name: str):
    """The ``add_<module>_command`` function of sub-command ``name`` (imports its module)."""
    module = COMMANDS[name][0]
    return getattr(importlib.import_module(f"ssnlib.commands.{module}"), f"add_{module}_command")


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


def _disk_full(err: BaseException) -> OSError | None:
    """The ENOSPC error anywhere in ``err``'s chain (torch wraps it in its own errors)."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            return err
        err = err.__cause__ or err.__context__
    return None


def _failure(command: str, err: BaseException) -> tuple[str, int]:
    """The one line (and exit status) a failed command prints: 2 for what the user can fix
    (a bad file, key, value; a missing file; a full disk), 1 for anything unexpected."""
    full = _disk_full(err)
    if full is not None:
        where = f" while writing {full.filename}" if full.filename else ""
        return f"the disk is full{where}; free some space (nothing half-written was kept)", 2
    if isinstance(err, SSNError | ValueError | IndexError):   # worded for users where raised
        return one_line(err), 2
    if isinstance(err, OSError) and err.filename is not None:
        return f"{err.filename}: {err.strerror or one_line(err)}", 2
    if isinstance(err, OSError):
        return one_line(err), 2
    return (f"unexpected {type(err).__name__}: {one_line(err)} (run with --debug or "
            f"{DEBUG_ENV}=1 for the traceback, and please report it)", 1)


def main(argv: list[str] | None = None) -> int:
    """Run ``ssn COMMAND ...``; returns the exit status. Errors are one line on stderr,
    ``ssn COMMAND: error: ...``; ``--debug`` (anywhere) or ``SSN_DEBUG=1`` shows tracebacks."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    # First pass finds the command; its module then adds the real arguments.
    known, _ = parser.parse_known_args(argv[:1] if argv and not argv[0].startswith("-") else argv)
    if known.command is None:
        parser.print_help()
        return 2
    sub = argparse.ArgumentParser(prog=f"ssn {known.command}",
                                  description=COMMANDS[known.command][1])
    run = command_adder(known.command)(sub)
    args = sub.parse_args(argv[1:])
    args.command_line = "ssn " + shlex.join(argv)     # recorded by commands that write results
    try:
        return int(run(args) or 0)
    except KeyboardInterrupt:
        print(f"ssn {known.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if debug:
            raise
        message, status = _failure(known.command, err)
        print(f"ssn {known.command}: error: {message}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
