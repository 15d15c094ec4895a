"""The library's floors (../shared/STYLE.md, the README's module map): each package or module
imports only from its own floor or below, nothing in the library imports the command line,
and no two parts import each other. Read from the source's import statements, nothing run."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ssnlib"

# From the ground up. A part is a top-level module or package of ssnlib.
FLOORS = [
    {"errors", "safeload", "utils", "layers", "toy", "plotting"},
    {"blocks", "data"},
    {"models", "losses", "metrics", "diagnostics"},
    {"resample", "invert", "transfer", "widen"},
    {"train"},
    {"zoo"},
    {"commands", "cli"},
    {"widgets"},
]
FLOOR = {part: k for k, parts in enumerate(FLOORS) for part in parts}


def part_of(module: str) -> str | None:
    """``ssnlib.metrics.fid`` -> ``metrics``; None outside ssnlib and for the package itself."""
    names = module.split(".")
    return names[1] if names[0] == "ssnlib" and len(names) > 1 else None


def imports(path: Path) -> set[str]:
    """The ssnlib modules a file imports (relative imports resolved), wherever the import is."""
    here = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[:-node.level]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m.startswith("ssnlib.")}


def edges() -> dict[tuple[str, str], list[str]]:
    """(importer part, imported part) -> the files that make that arrow."""
    out: dict[tuple[str, str], list[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        src = rel.parts[0].removesuffix(".py")
        if src == "__init__":
            continue
        for module in imports(path):
            dst = part_of(module)
            if dst is not None and dst in FLOOR and dst != src:
                out.setdefault((src, dst), []).append(str(rel))
    return out


def test_every_part_has_a_floor():
    parts = {p.name.removesuffix(".py") for p in ROOT.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file()) and p.name != "__init__.py"}
    assert parts == set(FLOOR), f"give these a floor: {sorted(parts ^ set(FLOOR))}"


@pytest.mark.parametrize("arrow", sorted(edges()), ids=lambda a: f"{a[0]}->{a[1]}")
def test_imports_run_down_or_level(arrow):
    src, dst = arrow
    assert FLOOR[dst] <= FLOOR[src], (f"{src} (floor {FLOOR[src] + 1}) imports {dst} (floor "
                                      f"{FLOOR[dst] + 1}) in {edges()[arrow]}")


def test_the_library_never_imports_the_command_line():
    bad = {a: f for a, f in edges().items() if a[1] in ("commands", "cli")
           and a[0] not in ("commands", "cli")}
    assert not bad, bad


def test_no_two_parts_import_each_other():
    arrows = set(edges())
    loops = sorted((a, b) for a, b in arrows if (b, a) in arrows and a < b)
    assert not loops, loops
