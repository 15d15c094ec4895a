"""``ssn results``: Tables 1 and 2, the Pareto plot and the sample sheet of the model zoo,
rebuilt from the manifests into ``data/checkpoints/RESULTS.md`` (:mod:`ssnlib.zoo.results`)."""

from __future__ import annotations

from ssnlib.zoo.results import write_results


def add_results_command(parser):
    """`ssn results`: Tables 1/2 in data/checkpoints/RESULTS.md and pareto.png, from the zoo."""
    parser.add_argument("--zoo", help="zoo folder (default: SSN_ZOO or data/checkpoints)")

    def run(args) -> int:
        print(f"wrote {write_results(args.zoo)}")
        return 0
    return run
