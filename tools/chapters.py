"""Execute the chapters and keep their `.ipynb` twins clean.

Each chapter is written as a jupytext percent script, ``chapters/NN_topic.py``
(the source people edit and review), and shipped as ``chapters/NN_topic.ipynb``,
executed on CPU in the ``quick`` profile with its outputs kept, so that
``pytest --nbval chapters/`` can compare a fresh run against them.

    python tools/chapters.py execute [NN_topic ...]   # (re)write the twins
    python tools/chapters.py check                    # sources and twins agree

Execution strips what changes from run to run and machine to machine
(timings, kernel versions, jupytext headers), so a re-run that computes the
same thing leaves `git diff` empty.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# The environment a twin is executed in: the CPU `quick` profile, whatever the machine.
QUICK_ENV = {"SSN_PROFILE": "quick", "SSN_DEVICE": "cpu", "CUDA_VISIBLE_DEVICES": "",
             "PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
CELL_TIMEOUT_S = 600


def chapter_sources() -> list[Path]:
    """Every chapter source, ``chapters/NN_*.py``, in reading order."""
    return sorted(CHAPTERS.glob("[0-9][0-9]_*.py"))


def twin_of(source: Path) -> Path:
    return source.with_suffix(".ipynb")


def cell_signature(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    """What must agree between a source and its twin: type, source and tags of every cell."""
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def clean(nb) -> None:
    """Keep only what is the same on every machine: tags, outputs, execution counts,
    saved widget state (the static book renders widgets from it)."""
    widgets = nb.metadata.get("widgets")
    nb.metadata = nbformat.NotebookNode(kernelspec=dict(KERNELSPEC),
                                        language_info={"name": "python"})
    if widgets:
        nb.metadata["widgets"] = widgets
    for cell in nb.cells:
        tags = cell.metadata.get("tags")
        cell.metadata = nbformat.NotebookNode(tags=list(tags)) if tags else nbformat.NotebookNode()
        cell.pop("id", None)
    nb.nbformat, nb.nbformat_minor = 4, 4


def execute(source: Path) -> float:
    """Run one chapter top to bottom in a fresh kernel and write its clean twin.
    Returns the wall time in seconds."""
    nb = jupytext.read(source)
    env_before = {k: os.environ.get(k) for k in QUICK_ENV}
    os.environ.update(QUICK_ENV)  # the kernel inherits this process's environment
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(CHAPTERS)}}).execute()
        seconds = time.perf_counter() - start
    finally:
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    clean(nb)
    target = twin_of(source)
    tmp = target.with_suffix(".ipynb.tmp")
    nbformat.write(nb, str(tmp))  # validate, then replace atomically
    tmp.replace(target)
    return seconds


def check(sources: list[Path] | None = None) -> list[str]:
    """Problems that would make the shipped twins lie about their sources: a missing twin,
    cells that differ, or code cells not run in one clean top-to-bottom pass."""
    problems = []
    for source in chapter_sources() if sources is None else sources:
        twin = twin_of(source)
        if not twin.exists():
            problems.append(f"{source.name}: no executed twin {twin.name} (run `make chapters`)")
            continue
        nb = nbformat.read(str(twin), as_version=4)
        if cell_signature(jupytext.read(source)) != cell_signature(nb):
            problems.append(f"{twin.name}: cells differ from {source.name} (run `make chapters`)")
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
        if counts != list(range(1, len(counts) + 1)):
            problems.append(f"{twin.name}: execution counts {counts}, not one run 1..n "
                            "(unexecuted or out-of-order cells; run `make chapters`)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("execute", help="execute chapters and rewrite their .ipynb twins")
    run.add_argument("names", nargs="*", help="chapter stems (default: all), e.g. 00_setup")
    sub.add_parser("check", help="check that every chapter has an executed, matching twin")
    args = parser.parse_args(argv)
    if args.command == "check":
        problems = check()
        print("\n".join(problems) or f"{len(chapter_sources())} chapters in sync")
        return 1 if problems else 0
    sources = chapter_sources()
    if args.names:
        unknown = sorted(set(args.names) - {s.stem for s in sources})
        if unknown:
            parser.error(f"no such chapter(s): {', '.join(unknown)}; "
                         f"known: {', '.join(s.stem for s in sources)}")
        sources = [s for s in sources if s.stem in args.names]
    for source in sources:
        print(f"executing {source.name} ...", flush=True)
        print(f"  wrote {twin_of(source).name} in {execute(source):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
