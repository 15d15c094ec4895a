"""The three places that list dependencies agree: pyproject.toml, environment.yml, Makefile."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _conda_pip_section() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "environment.yml must have exactly one pip section"
    return sections[0]


def _torch_pin_in_makefile() -> str:
    match = re.search(r"^TORCH\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert match, "Makefile must define TORCH := torch==<version>"
    return match.group(1)


def test_environment_yml_lists_exactly_the_pyproject_packages():
    project = _pyproject()
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    pip = [s for s in _conda_pip_section() if not s.startswith("-e")]
    # torch is the one pinned entry: the tested version, not pyproject's range.
    assert {s for s in pip if _name(s) != "torch"} == {s for s in wanted if _name(s) != "torch"}
    assert sorted(map(_name, pip)) == sorted(map(_name, wanted))


def test_torch_pin_agrees_and_satisfies_pyproject():
    pin = _torch_pin_in_makefile()
    assert pin in _conda_pip_section(), "environment.yml and Makefile must pin the same torch"
    floor = next(s for s in _pyproject()["dependencies"] if _name(s) == "torch")
    version = tuple(int(p) for p in pin.split("==")[1].split(".")[:2])
    minimum = tuple(int(p) for p in floor.split(">=")[1].split(".")[:2])
    assert version >= minimum, f"{pin} does not satisfy pyproject's {floor}"


def test_environment_yml_uses_python_311_and_installs_the_package():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    assert "-e ." in _conda_pip_section()
