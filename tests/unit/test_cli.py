import pytest
import typer
from datalab.cli import app
from typer.testing import CliRunner


def _commands(group=None, prefix=()):
    """Every command and group of the CLI, found by walking it (new ones are covered too)."""
    group = group or typer.main.get_command(app)
    found = [list(prefix)]
    for name, command in getattr(group, "commands", {}).items():
        found += (
            _commands(command, (*prefix, name))
            if hasattr(command, "commands")
            else [[*prefix, name]]
        )
    return found


COMMANDS = _commands()


def test_cli_has_the_documented_commands():
    names = {" ".join(c) for c in COMMANDS}
    for expected in (
        "lab prepare",
        "hosts up",
        "inventory",
        "up",
        "vault unseal",
        "secrets rotate",
        "smoke",
        "deploy",
        "run medallion",
    ):
        assert expected in names


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


def test_rotating_a_shared_secret_reconverges_its_readers_too():
    from datalab import DatalabError, secrets

    # Owner only.
    assert secrets.converge_groups("spark/auth") == ["spark_master", "spark_workers"]
    # Readers' hosts too: the owner changes first in site.yml, then the readers.
    assert secrets.converge_groups("postgres/mlflow") == ["postgres", "mlflow"]
    assert secrets.converge_groups("kafka/metrics") == ["kafka", "prometheus"]
    assert secrets.converge_groups("object_store/spark") == [
        "object_store",
        "spark_master",
        "spark_workers",
    ]
    with pytest.raises(DatalabError, match="belongs to no known service"):
        secrets.converge_groups("nobody/x")


def test_a_rotation_reconverges_only_the_layers_of_its_services():
    from datalab import secrets

    assert secrets.layers(["etcd"]) == ["playbooks/discovery.yml"]
    # In site.yml's order: the owner's layer before its readers'.
    assert secrets.layers(secrets.converge_groups("object_store/spark")) == [
        "playbooks/data.yml",
        "playbooks/compute.yml",
    ]
    assert secrets.layers(["kafka", "prometheus"]) == [
        "playbooks/streaming.yml",
        "playbooks/monitoring.yml",
    ]


def test_smoke_prints_a_table_and_exits_1_on_a_failure(monkeypatch):
    from datalab import smoke

    checks = [
        smoke.Check("vault", "control-1", True, "control-1 active", 0.2),
        smoke.Check("kafka", "kafka", None, "not deployed"),
        smoke.Check("spark", "compute-1", False, "no alive worker", 1.5),
    ]
    monkeypatch.setattr(smoke, "run", lambda env, only: checks)
    result = CliRunner().invoke(app, ["smoke", "--env", "dev"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["ok", "vault"]
    assert lines[1].split()[:3] == ["-", "kafka", "kafka"]
    assert lines[2].split()[:2] == ["FAIL", "spark"] and "no alive worker" in lines[2]
    assert "2/3 passed" in lines[3] and "failed: spark" in lines[3]
    monkeypatch.setattr(smoke, "run", lambda env, only: checks[:2])
    assert CliRunner().invoke(app, ["smoke"]).exit_code == 0


def test_smoke_names_the_components_it_knows():
    from datalab import DatalabError, smoke

    with pytest.raises(DatalabError, match="choose from vault, discovery, object_store"):
        smoke.run("dev", ["vualt"])


def test_run_medallion_prints_the_accounting_and_exits_1_on_a_problem(monkeypatch):
    """The table of `datalab run medallion` (the run itself is lab-tested in
    tests/lab/test_medallion.py, through jobs.run_medallion)."""
    from datalab import jobs

    report = {
        "bronze_rows": 3000,
        "silver_rows": 2850,
        "quarantined": 90,
        "duplicates": 60,
        "bronze_sources": {"landing_json": 1350, "landing_csv": 1350, "kafka": 300},
    }
    run = jobs.Run("b1", 3000, "fr", "COMPLETED", report, {"rows": 3000}, {"  bronze": 3.0}, [])
    seen = {}

    def fake(env, rows, **options):
        seen.update(options, rows=rows)
        return run

    monkeypatch.setattr(jobs, "run_medallion", fake)
    result = CliRunner().invoke(app, ["run", "medallion", "--rows", "3000", "--kafka-share", "0.1"])
    assert result.exit_code == 0, result.output
    assert "bronze 3000 = silver 2850 + quarantined 90 + duplicates 60" in result.output
    assert "kafka 300" in result.output and seen["kafka_share"] == 0.1
    run.problems.append("silver_rows 2849 != 2850 injected")
    result = CliRunner().invoke(app, ["run", "medallion", "--rows", "3000"])
    assert result.exit_code == 1 and "problem: silver_rows" in result.output
    bad = CliRunner().invoke(app, ["run", "medallion", "--kafka-share", "1"])
    assert bad.exit_code != 0


def test_smoke_checks_run_side_by_side_and_report_in_order(monkeypatch):
    import time

    from datalab import smoke

    class Lab:
        def first(self, group):
            return None if group == "absent" else (f"host-{group}", "10.0.0.1")

    def slow(target, host, address):
        time.sleep(0.5)
        return "slow"

    def broken(target, host, address):
        raise smoke.Failed("broken")

    monkeypatch.setattr(smoke.Platform, "of", classmethod(lambda cls, env: Lab()))
    monkeypatch.setattr(
        smoke,
        "COMPONENTS",
        {"a": ("ga", slow), "b": ("gb", slow), "c": ("absent", slow), "d": ("gd", broken)},
    )
    start = time.monotonic()
    checks = smoke.run("dev")
    assert time.monotonic() - start < 0.9  # two 0.5 s checks at once
    assert [(c.component, c.what, c.ok) for c in checks] == [
        ("a", "host-ga", True),
        ("b", "host-gb", True),
        ("c", "absent", None),
        ("d", "host-gd", False),
    ]
