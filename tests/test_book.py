"""The book as a reader meets it, checked without a browser (tests/browser/ does the rest):

- the landing page lists the chapters: each item of its "## Chapters" section either
  links a chapter of the table of contents ({doc}`chapters/NN_topic`) or is marked
  *(coming)* (a planned chapter with a number reads "Chapter N: ..."; once chapter N is
  in the table of contents it must be linked instead), and every chapter of the table
  of contents is linked there;
- the math uses only environments that the book's MathJax 3 knows (an unknown one,
  like mathtools' psmallmatrix, renders as a red error box);
- exercise answers are folded (a dropdown), not printed under the question;
- every figure in the stored notebooks is legible in the book's column: drawn by
  ssnlib.plotting.show, which stamps its smallest text into the PNG; at most the
  column wide and no text under 9 px (tests/browser/ checks the size it is shown at).
"""

import base64
import json
import re
from pathlib import Path

import pytest
import yaml

from ssnlib import plotting

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "jupyter_book"
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.py"))
TWINS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))

COMING = "*(coming)*"
DOC = re.compile(r"\{doc\}`([^`<]*<)?(?P<target>[^`>]+)>?`")


def toc_files(node=None) -> list[str]:
    """Every `file:` of the table of contents, in order."""
    node = yaml.safe_load((BOOK / "_toc.yml").read_text()) if node is None else node
    if isinstance(node, dict):
        return ([node["file"]] if "file" in node else []) + [
            f for value in node.values() if isinstance(value, list | dict)
            for f in toc_files(value)]
    if isinstance(node, list):
        return [f for item in node for f in toc_files(item)]
    return []


def landing_items(text: str) -> list[str]:
    """The list items of the landing page's "## Chapters" section (continuation lines joined)."""
    section = re.search(r"^## Chapters\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, "intro.md: no '## Chapters' section listing the chapters"
    items: list[str] = []
    for line in section.group(1).splitlines():
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif items and line.startswith("  ") and line.strip():
            items[-1] += " " + line.strip()
    return items


def landing_problems(text: str, toc: list[str]) -> list[str]:
    """What is wrong with the landing page's chapter list against the table of contents."""
    chapters = [f for f in toc if f.startswith("chapters/")]
    problems, linked = [], set()
    for item in landing_items(text):
        targets = [m.group("target").strip() for m in DOC.finditer(item)]
        coming = COMING in item
        if targets and coming:
            problems.append(f"{item!r}: links a chapter and says {COMING}; it is one or the other")
        elif not targets and not coming:
            problems.append(f"{item!r}: neither links a chapter ({{doc}}`chapters/NN_topic`) "
                            f"nor is marked {COMING}")
        for target in targets:
            if target not in toc:
                problems.append(f"{item!r}: {target} is not in _toc.yml; mark it {COMING}")
            linked.add(target)
        number = re.match(r"Chapter (\d+)\b", item)
        if coming and number:
            done = [f for f in chapters if Path(f).name.startswith(f"{int(number[1]):02d}_")]
            if done:
                problems.append(f"{item!r}: {done[0]} is in the book now; link it with "
                                f"{{doc}}`{done[0]}` instead of {COMING}")
    for target in (m.group("target").strip() for m in DOC.finditer(text)):
        if target.startswith("chapters/") and target not in toc:
            problems.append(f"intro.md links {target}, which is not in _toc.yml")
    for chapter in chapters:
        if chapter not in linked:
            problems.append(f"{chapter} is in _toc.yml but the landing page's chapter list "
                            f"does not link it: add {{doc}}`{chapter}`")
    return problems


def test_the_landing_page_lists_what_exists_and_marks_what_is_coming():
    problems = landing_problems((BOOK / "intro.md").read_text(), toc_files())
    assert not problems, "\n".join(problems)


def test_the_landing_page_check_catches_each_mistake():
    toc = ["intro", "chapters/00_setup", "chapters/03_spade"]
    good = ("## Chapters\n\n- {doc}`chapters/00_setup`: set up.\n"
            "- {doc}`chapters/03_spade`: droplets.\n"
            "- Chapter 4: modulation *(coming)*\n\n## Next\n")
    assert landing_problems(good, toc) == []
    for bad, why in [
        (good.replace("- Chapter 4: modulation *(coming)*", "- Chapter 4"), "nor is marked"),
        (good.replace("{doc}`chapters/03_spade`: droplets.", "Chapter 3: droplets *(coming)*"),
         "is in the book now"),
        (good.replace("chapters/00_setup`: set", "chapters/07_click`: set"), "not in _toc.yml"),
        (good.replace("droplets.", "droplets. *(coming)*"), "one or the other"),
        (good + "See {doc}`chapters/09_x`.\n", "not in _toc.yml"),
    ]:
        assert any(why in p for p in landing_problems(bad, toc)), (why, bad)
    assert any("does not link it" in p
               for p in landing_problems(good, [*toc, "chapters/06_transfer"]))


def test_every_toc_entry_has_a_page():
    for entry in toc_files():
        found = [p for p in (BOOK / f"{entry}.md", ROOT / f"{entry}.py", ROOT / f"{entry}.ipynb")
                 if p.exists()]
        assert found, f"_toc.yml names {entry}, which has no page"


# The environments of MathJax 3's TeX input with the packages the book loads
# (tex-chtml.js: base, ams, and the autoloaded ones); mathtools' psmallmatrix and
# friends are not among them.
MATHJAX_ENVIRONMENTS = {
    "array", "matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix",
    "subarray", "cases", "aligned", "alignedat", "gathered", "split", "equation", "equation*",
    "align", "align*", "alignat", "alignat*", "gather", "gather*", "multline", "multline*",
    "flalign", "flalign*", "eqnarray", "eqnarray*", "CD",
}


def _book_texts():
    yield BOOK / "intro.md", (BOOK / "intro.md").read_text()
    for source in CHAPTERS:
        yield source, source.read_text()


def test_math_uses_only_environments_mathjax_knows():
    bad = [f"{path.name}: \\begin{{{env}}}" for path, text in _book_texts()
           for env in re.findall(r"\\begin\{([^}]*)\}", text)
           if env not in MATHJAX_ENVIRONMENTS]
    assert not bad, "MathJax 3 would show an error for: " + ", ".join(bad)


OPENER = re.compile(r"^(?P<fence>:{3,}|`{3,})\{(?P<kind>[\w-]+)\}\s*(?P<title>.*)$")


def unfolded_answers(markdown: str) -> list[str]:
    """Answers a reader sees without asking: an 'Answer' paragraph or heading outside any
    directive, or an 'Answer' directive that is not folded (a {dropdown}, a {toggle}, or
    an admonition with ':class: dropdown')."""
    lines = [line.removeprefix("#").strip() for line in markdown.splitlines()]
    problems, fences = [], []
    for number, text in enumerate(lines, 1):
        opener = OPENER.match(text)
        if opener:
            fences.append(opener["fence"])
            if opener["title"].startswith("Answer"):
                options = []
                for option in lines[number:]:
                    if not option.startswith(":"):
                        break
                    options.append(option)
                folded = opener["kind"] in ("dropdown", "toggle") or (
                    opener["kind"] == "admonition"
                    and any(re.match(r":class:.*\bdropdown\b", o) for o in options))
                if not folded:
                    problems.append(f"line {number}: an {opener['kind']} answer that is not "
                                    "folded (add ':class: dropdown')")
        elif fences and text == fences[-1]:
            fences.pop()
        elif not fences and re.match(r"(\*{1,2}|#+ )Answer\b", text):
            problems.append(f"line {number}: an answer printed under its question; fold it in "
                            "':::{admonition} Answer' + ':class: dropdown' ... ':::'")
    return problems


@pytest.mark.parametrize("source", CHAPTERS, ids=[s.stem for s in CHAPTERS])
def test_exercise_answers_are_folded(source):
    problems = unfolded_answers(source.read_text())
    assert not problems, f"{source.name}: " + "; ".join(problems)


def test_the_fold_check_catches_unfolded_answers():
    folded = "# :::{admonition} Answer\n# :class: dropdown\n#\n# (a) yes\n# :::\n"
    assert unfolded_answers(folded) == []
    assert unfolded_answers("# ```{dropdown} Answer\n# yes\n# ```\n") == []
    assert unfolded_answers("# **Exercise.** Why?\n#\n# *Answer.* Because.\n")
    assert unfolded_answers(folded.replace(":class: dropdown", ":class: tip"))
    assert unfolded_answers(folded + "# *Answer.* printed again\n")


def _figures():
    for twin in TWINS:
        cells = json.loads(twin.read_text())["cells"]
        for index, cell in enumerate(cells):
            for output in cell.get("outputs", []):
                png = output.get("data", {}).get("image/png")
                if png:
                    yield pytest.param(base64.b64decode(png), id=f"{twin.stem}-cell{index}")


@pytest.mark.parametrize("png", list(_figures()))
def test_every_figure_is_legible_in_the_column(png):
    """At its natural size a PNG from ssnlib.plotting shows one pixel per CSS px, so its
    stamped smallest text (points x dpi / 72) is the size a reader sees; a PNG wider
    than an output (OUTPUT_PX) is shown at OUTPUT_PX and its text scaled with it. The
    browser check measures that outputs are that wide at 1280 px, and the size each
    figure's text is actually shown at."""
    assert plotting.check_legible(png) == []


# Every number in the prose is printed by a cell: a decimal (0.313) or a percentage (39 %) in
# a markdown cell must appear in the notebook's text outputs, to the prose's precision
# (half-up or half-even rounding). When a zoo run is continued and a chapter re-executed, a
# sentence that still quotes the old model fails here. Integers without a percent sign
# (32 px, 40 000 images, seed 27) are not checked, nor are section, equation, table and
# figure numbers, math and inline code.
PROSE_NUMBER = re.compile(r"(?<![\w.])(\d+\.\d+|\d+(?=\s?%))(?![\w.]*\d)")
NOT_PROSE = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\]\([^)]*\)"            # math, code, links
                       r"|\b(?:sections?|eqs?\.|Tables?|Figures?)\s+[\d.]+"   # "section 3.4"
                       r"(?:\s*(?:and|-|,)\s*[\d.]+)*", re.S)
OUTPUT_NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)(\s?%)?")

# Numbers the prose derives or quotes rather than reads off an output, with the reason.
DERIVED = {
    ("05_distortion", "61"): "1 - 0.39, the near ring's printed ratio",
    ("05_distortion", "0.0625"): "1/16, a uniform change's share of one block of 16",
}


def _text_outputs(notebook: dict) -> tuple[list[float], list[float]]:
    """Every number the outputs print, and the ones a prose percentage may quote: printed
    percentages, and printed fractions (decimals up to 1) times 100."""
    numbers, percents = [], []
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            text = "".join(text).replace(",", "")             # 1,206,324
            for number, percent in OUTPUT_NUMBER.findall(text):
                numbers.append(float(number))
                if percent:
                    percents.append(float(number))
                elif "." in number and abs(float(number)) <= 1:   # energy inside 0.63 -> 63 %
                    percents.append(100 * float(number))
    return numbers, percents


def prose_numbers(notebook: dict) -> list[tuple[str, bool]]:
    """Every number the markdown of ``notebook`` quotes, and whether it is a percentage."""
    quoted = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        prose = NOT_PROSE.sub(" ", "".join(cell["source"]))
        quoted += [(match.group(1), prose[match.end():].lstrip().startswith("%"))
                   for match in PROSE_NUMBER.finditer(prose)]
    return quoted


def unprinted_numbers(notebook: dict) -> list[str]:
    """The prose's numbers that no output of ``notebook`` prints (to the prose's precision)."""
    numbers, percents = _text_outputs(notebook)
    missing = []
    for number, percent in prose_numbers(notebook):
        half = 0.5 * 10 ** -len(number.partition(".")[2]) + 1e-9
        # a percentage must be printed as one or as a fraction, not as any integer
        if not any(abs(p - float(number)) <= half for p in (percents if percent else numbers)):
            missing.append(number)
    return missing


@pytest.mark.parametrize("twin", TWINS, ids=lambda p: p.stem)
def test_every_number_in_the_prose_is_printed_by_a_cell(twin):
    missing = [n for n in unprinted_numbers(json.loads(twin.read_text()))
               if (twin.stem, n) not in DERIVED]
    assert not missing, (f"{twin.name}: the prose quotes {missing}, which no cell prints "
                         "(re-execute, then update the prose from the outputs)")


def test_the_prose_number_check_catches_a_stale_number():
    notebook = {"cells": [
        {"cell_type": "code", "outputs": [{"output_type": "stream", "text": ["FID 10.47\n"]},
                                          {"data": {"text/plain": "share  39%\nn 1,234.5"}}]},
        {"cell_type": "markdown", "source": ["FID 10.5 (10.47), 39 % of it, 1234.5, section 3.4,"
                                             " $\\lambda = 0.7$, `x=0.9`, 32 px, eq. 2.5"]}]}
    assert unprinted_numbers(notebook) == []
    notebook["cells"][1]["source"] = ["FID 10.6, then 16.42 and 40 %; 0.39 as 39 %"]
    assert unprinted_numbers(notebook) == ["10.6", "16.42", "40", "0.39"]
    # a percentage is not matched by a printed integer ("step 25"), only by "25%" or 0.25
    notebook["cells"][0]["outputs"] = [{"output_type": "stream", "text": ["step 25, 0.24\n"]}]
    notebook["cells"][1]["source"] = ["25 % of it, 24 % of that"]
    assert unprinted_numbers(notebook) == ["25"]


def test_every_derived_number_is_still_quoted():
    """DERIVED stays honest: an entry the prose no longer quotes is removed. (Whether a cell
    happens to print it too, a precision of 0.61 beside a derived 61 %, does not matter.)"""
    for chapter in {chapter for chapter, _ in DERIVED}:
        twin = ROOT / "chapters" / f"{chapter}.ipynb"
        quoted = {number for number, _ in prose_numbers(json.loads(twin.read_text()))}
        assert all(n in quoted for c, n in DERIVED if c == chapter), (chapter, sorted(quoted))
