"""``ssn part-gallery --pretrained NAME --part tower --domain skylines --out gallery.png``:
resample the blocks that cover a part (a tower, the hair) of a zoo model, several seeds and
resamples in one PNG, with a JSON summary of what changed (:mod:`ssnlib.resample.parts`)."""

from __future__ import annotations

import json
from pathlib import Path

from ssnlib import zoo
from ssnlib.blocks import grid_of
from ssnlib.metrics.featurenet import DomainFeatures
from ssnlib.metrics.parts import ATTRIBUTE_PARTS
from ssnlib.resample.parts import part_resample_study, save_part_gallery, summarise
from ssnlib.train.sample import parse_seeds


def add_part_gallery_command(parser):
    """`ssn part-gallery --pretrained NAME --part tower --out gallery.png`."""
    parser.add_argument("--pretrained", required=True, help="a zoo model")
    parser.add_argument("--part", required=True, help="part name(s), e.g. tower+tower_top")
    parser.add_argument("--domain", choices=sorted(ATTRIBUTE_PARTS), required=True)
    parser.add_argument("--seeds", default="0-63", help="candidate seeds (first --count used)")
    parser.add_argument("--count", type=int, default=8, help="seeds shown")
    parser.add_argument("--resamples", type=int, default=4)
    parser.add_argument("--share", type=float, default=0.25)
    parser.add_argument("--out", required=True, help="PNG gallery; a .json summary beside it")

    def run(args) -> int:
        G = zoo.load(args.pretrained)
        extractor = DomainFeatures()
        studies = []
        for seed in parse_seeds(args.seeds):
            studies += part_resample_study(G, args.part, args.domain, [seed], args.resamples,
                                           args.share, extractor=extractor)
            if len(studies) == args.count:
                break
        if not studies:
            print(f"ssn part-gallery: no seed shows {args.part!r}")
            return 1
        out = save_part_gallery(studies, grid_of(G), args.out)
        summary = {"model": args.pretrained, "part": args.part, **summarise(studies),
                   "share": args.share, "command": args.command_line}
        Path(out).with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
        print(json.dumps({k: summary[k] for k in ("resamples", "part_changed",
                                                  "outside_changed")}))
        return 0
    return run
