"""Repository-wide pytest set-up.

`pytest` alone runs tests/ (see pyproject.toml). `pytest --nbval chapters/`
runs the executed chapter notebooks: their jupytext `.py` twins are sources,
never test modules, and nbval always uses this environment's kernel and the
sanitize file for output that legitimately varies (addresses, paths, timings).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
SANITIZE = ROOT / "chapters" / "nbval_sanitize.cfg"

collect_ignore_glob = ["chapters/*.py", "jupyter_book/*", "bench/*", "tools/*"]


def pytest_configure(config):
    option = config.option
    if getattr(option, "nbval", False) or getattr(option, "nbval_lax", False):
        option.nbval_current_env = True
        if option.nbval_sanitize_with is None:
            option.nbval_sanitize_with = str(SANITIZE)
