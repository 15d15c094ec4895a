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


def test_train_help_lists_every_config_key(capsys):
    import pytest

    from ssnlib.train.config import describe_keys
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    for line in describe_keys():
        assert line.split(" = ")[0] in out
    assert "reg.distortion_weight" in out and "time_limit" in out


def test_shipped_configs_by_name_and_the_paper_default_lambda(tmp_path):
    from ssnlib.train.config import load_config
    assert load_config("faces64").data.resolution == 64           # configs/faces64.yaml
    assert load_config("zoo/faces32").batch == 16                  # configs/zoo/faces32.yaml
    assert load_config(None).reg.distortion_weight == 100          # an SSN: the paper's 100
    assert load_config(None, ["model.arch=stylegan2"]).reg.distortion_weight == 0
    with_path = load_config(None, [f"data.path={tmp_path}"])
    assert with_path.data.name == "" and with_path.to_dict()["data"]["name"] == ""


def test_train_prints_a_header_before_training(tmp_path, capsys):
    argv = ["train", "model.overrides.channel_max=8", "model.overrides.z_dim=8",
            "model.overrides.w_dim=8", "model.d_overrides.channel_max=8", "batch=4", "steps=1",
            "progress=false", "tensorboard=false", f"run_dir={tmp_path}"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    for word in ("model    ssn/tiny", "data     procedural faces", "device   cpu (fp32)",
                 "lambda_D 100", f"run      {tmp_path}", "done: step 1"):
        assert word in out, word
