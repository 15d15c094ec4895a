"""`ssn prepare-data`: pack image files or a procedural dataset into an archive.

    ssn prepare-data SRC DST --resolution R [--skip-bad] [--overwrite]
    ssn prepare-data DST --dataset faces|skylines --count N [--seed S] --resolution R
        [--where ATTRIBUTE=CLASS ...]

SRC is a folder (searched recursively) or a zip of PNG/JPEG/WebP files. The
archive DST loads with `ssnlib.data.PackedDataset`.
"""

from __future__ import annotations

import sys

from ssnlib.data import (
    DATASETS,
    DEPRECATED_NAMES,
    BadImageError,
    dataset_class,
    pack_folder,
    pack_procedural,
    parse_background,
)
from ssnlib.errors import InputError


def add_prepare_data_command(parser):
    parser.add_argument("paths", nargs="+", metavar="SRC DST",
                        help="source folder or zip, then the archive to write "
                             "(only DST with --dataset)")
    parser.add_argument("--resolution", type=int, required=True, help="output size in pixels")
    parser.add_argument("--dataset", choices=sorted([*DATASETS, *DEPRECATED_NAMES]),
                        help="pack a procedural dataset instead of image files")
    parser.add_argument("--count", type=int, default=10_000,
                        help="images to render with --dataset (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed with --dataset")
    parser.add_argument("--where", action="append", default=[], metavar="ATTRIBUTE=CLASS",
                        help="with --dataset: only images of this class, e.g. "
                             "time_of_day=day (repeat for several; --count counts matches)")
    parser.add_argument("--skip-bad", action="store_true",
                        help="leave out unusable images (and report them) instead of stopping")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing DST")
    parser.add_argument("--workers", type=int, default=1, help="with --dataset: processes "
                        "that render (the images do not depend on their number)")
    parser.add_argument("--background", metavar="COLOUR", help="flatten transparent images "
                        "onto this colour (white, black or #rrggbb) instead of refusing them")

    def run(args) -> int:
        expected = 1 if args.dataset else 2
        if len(args.paths) != expected:
            parser.error(f"expected {'DST' if args.dataset else 'SRC DST'}, "
                         f"got {len(args.paths)} path(s)")
        if args.where and not args.dataset:
            parser.error("--where selects images of a procedural dataset: it needs --dataset")
        try:
            if args.dataset:
                name = DEPRECATED_NAMES.get(args.dataset, args.dataset)
                if name != args.dataset:
                    print(f"ssn prepare-data: note: --dataset {args.dataset} is deprecated; "
                          f"use --dataset {name}", file=sys.stderr)
                dataset = dataset_class(name)(args.count, args.resolution, args.seed,
                                              where=parse_where(args.where))
                report = pack_procedural(dataset, args.paths[0], overwrite=args.overwrite,
                                         workers=args.workers)
            else:
                background = parse_background(args.background) if args.background else None
                report = pack_folder(args.paths[0], args.paths[1], args.resolution,
                                     skip_bad=args.skip_bad, overwrite=args.overwrite,
                                     background=background)
        except BadImageError as error:
            raise InputError(f"{error} (or use --skip-bad to leave such files out)") from None
        except ValueError as error:         # e.g. an unknown attribute or class in --where
            raise InputError(str(error)) from None
        print(f"wrote {report.count} images at {report.resolution}x{report.resolution} "
              f"to {report.path}")
        if report.skipped:
            print(f"skipped {len(report.skipped)} bad file(s):")
            for line in report.skipped:
                print(f"  {line}")
        for note, n in sorted(report.converted.items()):
            print(f"converted {n} image(s) from {note}")
        return 0

    return run


def parse_where(items: list[str]) -> dict[str, str]:
    """``["time_of_day=day", ...]`` -> ``{"time_of_day": "day", ...}``."""
    where = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise InputError(f"--where needs ATTRIBUTE=CLASS, got {item!r}")
        where[name] = value
    return where
