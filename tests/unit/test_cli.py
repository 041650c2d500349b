import pytest
from datalab.cli import app
from typer.testing import CliRunner

COMMANDS = [
    [],
    ["lab"],
    ["lab", "prepare"],
    ["lab", "status"],
    ["lab", "destroy"],
    ["hosts"],
    ["hosts", "up"],
    ["hosts", "down"],
    ["inventory"],
    ["artifacts"],
    ["artifacts", "list"],
    ["artifacts", "verify"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "datalab")
def test_every_command_explains_itself(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    # A help text of its own, not only the option list.
    assert len(result.output.split("Options")[0].strip().splitlines()) >= 2


def test_unknown_environment_is_a_clear_error():
    from datalab import DatalabError
    from datalab.terraform import Stack

    with pytest.raises(DatalabError, match="known environments: .*dev"):
        Stack("nosuchenv")


def test_artifacts_list_shows_pins():
    result = CliRunner().invoke(app, ["artifacts", "list"])
    assert result.exit_code == 0
    assert "openbao" in result.output and "2.7.2" in result.output
