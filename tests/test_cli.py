import subprocess
import sys

import pytest

from ssnlib import cli


def test_every_registered_command_resolves_and_has_help():
    for name, (_, help_text) in cli.COMMANDS.items():
        assert help_text, f"command {name} has no help text"
        assert callable(cli.command_adder(name)), name


def test_info_prints_versions(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "torch" in out and "device" in out


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_unknown_command_is_a_clear_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "ssnlib.cli", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("ssnlib ")
