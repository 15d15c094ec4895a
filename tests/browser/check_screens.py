"""Checks on what the real-browser run saw (run by `make test-browser` after
tests/browser/check_book.mjs; not part of the plain `pytest` run, which has no
browser). Every built page was opened and screenshotted without problems, and
no screenshot is blank."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "jupyter_book" / "_build" / "html"
SCREENS = ROOT / "jupyter_book" / "_build" / "screens"


def _report():
    path = SCREENS / "report.json"
    if not path.exists():
        pytest.fail(f"{path} missing: run `make test-browser` (builds the book, runs Chromium)")
    return json.loads(path.read_text())


def test_every_content_page_was_checked():
    seen = {entry["page"] for entry in _report()}
    built = {p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
             if not p.relative_to(HTML).parts[0].startswith("_")
             and p.name not in ("search.html", "genindex.html")}
    assert built and seen == built


def test_no_page_had_problems():
    bad = {e["page"]: e["problems"] for e in _report() if e["problems"]}
    assert not bad, json.dumps(bad, indent=2)


def test_every_page_was_checked_for_math_errors_clipping_and_legibility():
    """check_book.mjs counted MathJax errors, cut-off boxes and illegible figures on every
    page (the counts are in the report) and found none; the column was as wide as
    ssnlib.plotting sizes the figures for; some figure text was measured."""
    from ssnlib.plotting import COLUMN_PX, MIN_TEXT_PX

    report = _report()
    for entry in report:
        counts = entry["mathErrors"], entry["clipped"], entry["illegibleFigures"]
        assert counts == (0, 0, 0), entry
        assert entry["column"] >= COLUMN_PX, entry
    smallest = [e["smallestFigureText"] for e in report if e["smallestFigureText"] is not None]
    assert smallest and min(smallest) >= MIN_TEXT_PX


def test_math_and_widgets_rendered_somewhere():
    report = _report()
    assert any(e["math"] > 0 for e in report), "no page showed typeset math"
    assert any(e["widgets"] > 0 for e in report), "no page rendered a widget from saved state"


@pytest.mark.parametrize("entry", _report() if (SCREENS / "report.json").exists() else [],
                         ids=lambda e: e["page"])
def test_screenshot_is_not_blank(entry):
    shot = SCREENS / entry["screenshot"]
    assert shot.stat().st_size > 20_000, f"{shot.name} is suspiciously small"
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.shape[0] >= 600 and pixels.shape[1] >= 1000
    # A blank or single-colour page has almost no variation; a rendered page
    # with text, code and figures has plenty, and many distinct grey levels.
    assert pixels.std() > 10, f"{shot.name}: std {pixels.std():.1f}"
    assert len(np.unique(pixels)) > 50, f"{shot.name}: only {len(np.unique(pixels))} grey levels"
