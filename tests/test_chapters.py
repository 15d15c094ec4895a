"""Chapter conventions: every source has an executed twin with the same cells,
tags survive pairing, twins carry no machine-specific metadata, and nbval
collects only the twins and compares their outputs strictly."""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("chapter_tools", ROOT / "tools" / "chapters.py")
chapters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(chapters)

SOURCES = chapters.chapter_sources()


def test_there_are_chapters_and_every_file_is_a_pair():
    assert SOURCES, "no chapters/NN_*.py found"
    stems_py = {p.stem for p in SOURCES}
    stems_nb = {p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")}
    assert stems_nb == stems_py, f"unpaired: {sorted(stems_nb ^ stems_py)}"


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_twin_matches_source_and_every_code_cell_ran(source):
    assert chapters.check([source]) == []


def test_check_catches_a_stale_or_unexecuted_twin(tmp_path):
    source, twin = tmp_path / "00_setup.py", tmp_path / "00_setup.ipynb"
    shutil.copy(SOURCES[0], source)
    shutil.copy(chapters.twin_of(SOURCES[0]), twin)
    assert chapters.check([source]) == []
    source.write_text(source.read_text() + "\n# %%\nprint('new cell')\n")
    assert any("cells differ" in p for p in chapters.check([source]))
    shutil.copy(SOURCES[0], source)
    nb = nbformat.read(str(twin), as_version=4)
    next(c for c in nb.cells if c.cell_type == "code").execution_count = None
    nbformat.write(nb, str(twin))
    assert any("execution counts" in p for p in chapters.check([source]))
    twin.unlink()
    assert any("no executed twin" in p for p in chapters.check([source]))


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_twin_is_clean_and_error_free(source):
    raw = json.loads(chapters.twin_of(source).read_text())
    assert set(raw["metadata"]) <= {"kernelspec", "language_info", "widgets"}
    assert raw["metadata"]["kernelspec"] == chapters.KERNELSPEC
    for cell in raw["cells"]:
        assert set(cell["metadata"]) <= {"tags"}, cell["metadata"]
        assert "id" not in cell
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{source.stem}: a cell raised {out.get('ename')}"


def test_chapter_sources_follow_the_conventions():
    for source in SOURCES:
        text = source.read_text()
        assert text.startswith("# %% [markdown]\n# # "), f"{source.name}: start with a title cell"
        assert "**Learning goals**" in text, f"{source.name}: state the learning goals"
        assert "**Exercise" in text, f"{source.name}: end with an exercise"
        assert "import ssnlib" in text or "from ssnlib" in text, f"{source.name}: use ssnlib"


def test_tags_survive_pairing_both_ways(tmp_path):
    text = (
        "# %% [markdown]\n# # Title\n\n"
        '# %% tags=["nbval-ignore-output"]\nprint(1)\n\n'
        '# %% tags=["raises-exception", "hide-input"]\nraise ValueError\n\n'
        "# %%\nx = 2\n"
    )
    src = tmp_path / "99_tags.py"
    src.write_text(text)
    nb = jupytext.read(src)
    assert [c.metadata.get("tags") for c in nb.cells] == [
        None, ["nbval-ignore-output"], ["raises-exception", "hide-input"], None]
    chapters.clean(nb)
    twin = tmp_path / "99_tags.ipynb"
    nbformat.write(nb, str(twin))
    back = nbformat.read(str(twin), as_version=4)
    assert chapters.cell_signature(back) == chapters.cell_signature(jupytext.read(src))
    # ... and the twin written back as a percent script is the source again,
    # with the project's jupytext settings (no metadata header).
    config = jupytext.config.load_jupytext_configuration_file(
        str(ROOT / "chapters" / "jupytext.toml"))
    assert jupytext.writes(back, fmt="py:percent", config=config) == text


def _nbval(*args, cwd=ROOT):
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def test_nbval_collects_only_the_notebooks():
    out = _nbval("--collect-only", "-q", "chapters/").stdout
    items = [line for line in out.splitlines() if "::" in line]
    assert items, out
    assert all(line.split("::")[0].endswith(".ipynb") for line in items), out


def test_a_hand_edited_output_fails_nbval(tmp_path):
    """What makes the twins trustworthy: a stored output that the code does not
    produce fails the strict comparison (here the first chapter, edited by hand).
    Run outside the checkout, so the options our conftest.py adds are given here."""
    original = ROOT / "chapters" / "00_setup.ipynb"
    nb = nbformat.read(str(original), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    index = next(i for i, c in enumerate(code) if "spread at" in c.source)
    out = next(o for o in code[index].outputs if o.output_type == "stream")
    edited = out.text.replace("spread at t=400: ", "spread at t=400: 1")
    assert edited != out.text
    out.text = edited
    nbformat.write(nb, str(tmp_path / "edited.ipynb"))
    shutil.copy(original, tmp_path / "original.ipynb")
    result = _nbval("--nbval-current-env", "--nbval-sanitize-with",
                    str(ROOT / "chapters" / "nbval_sanitize.cfg"), "-q", str(tmp_path),
                    cwd=tmp_path)
    assert "1 failed" in result.stdout.strip().splitlines()[-1], result.stdout[-3000:]
    assert re.search(rf"FAILED \S*edited\.ipynb::Cell {index}\b", result.stdout), result.stdout
