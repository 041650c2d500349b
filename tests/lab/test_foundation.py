"""The foundation in the lab, for real: apply the dev stack (under its own environment
name, so a developer's dev is never touched), reach every host with Ansible over SSH,
converge, install a Debian package through the proxy and run it under systemd, install
every artifact with its checksum, verify with testinfra, then destroy everything."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from datalab import artifacts, converge, hosts, paths, terraform
from datalab.proc import run

from tests.lab.conftest import ENV, OVERRIDES, PROBE, containers, grown_env_file, host_of

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]


def test_dev_topology_is_up(lab_env):
    data, _ = lab_env
    assert sorted(data["hosts"]) == ["compute-1", "control-1", "data-1"]
    assert data["groups"]["vault"] == ["control-1"]
    assert data["groups"]["kafka"] == ["data-1"]
    assert data["groups"]["spark_workers"] == ["compute-1"]
    assert len(containers()) == 3


def test_second_apply_changes_nothing(lab_env):
    """Re-applying the same environment must not touch the hosts (a provider attribute
    read back differently would replace every container on each `datalab up`)."""
    stack = terraform.Stack(ENV, var_file=paths.env_file("dev"))
    plan = stack.plan(hosts.stack_vars(ENV, OVERRIDES))
    assert plan.returncode == 0, plan.stderr
    assert "No changes." in plan.stdout, plan.stdout[-3000:]


def test_adding_a_host_recreates_no_other(lab_env, tmp_path):
    """One more worker is two new objects (container, volume); the other hosts stay as they
    are (a creation-time attribute listing every host would recreate them all)."""
    stack = terraform.Stack(ENV, var_file=grown_env_file(tmp_path))
    plan = stack.plan(hosts.stack_vars(ENV, OVERRIDES))
    assert plan.returncode == 0, plan.stderr
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in plan.stdout, plan.stdout[-3000:]


def test_every_host_answers_ansible_over_ssh(lab_env):
    _, inventory = lab_env
    out = run(
        [
            sys.executable,
            "-m",
            "ansible",
            "adhoc",
            "all",
            "-i",
            inventory,
            "-m",
            "ansible.builtin.ping",
        ],
        env=converge.environ(),
        capture=True,
        check=False,
        cwd=paths.ANSIBLE_DIR,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count('"ping": "pong"') == 3


def test_ssh_rejects_password_login(lab_env):
    data, _ = lab_env
    address = data["hosts"]["control-1"]["address"]
    known = hosts.key_dir(ENV) / "known_hosts"
    out = subprocess.run(
        [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            f"UserKnownHostsFile={known}",
            "-o",
            "StrictHostKeyChecking=yes",
            f"datalab@{address}",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 255
    assert "Permission denied (publickey)" in out.stderr


def test_second_converge_and_check_mode_change_nothing(converged):
    """Idempotence of every role at once (site.yml has them all), and check mode on the
    converged hosts. The two runs go side by side: neither changes anything, and on two
    cores one run leaves the other half of the machine idle."""
    _, inventory, _ = converged
    with ThreadPoolExecutor(max_workers=2) as pool:
        again = pool.submit(converge.playbook, inventory, "site.yml", PROBE, stream=False)
        check = pool.submit(
            converge.playbook, inventory, "site.yml", PROBE, check=True, stream=False
        )
        again, check = again.result(), check.result()
    assert again.returncode == 0, again.output[-3000:]
    assert again.total_changed == 0, again.changed
    assert check.returncode == 0, check.output[-3000:]
    assert check.total_changed == 0, check.changed


def test_package_from_proxy_runs_under_systemd(converged):
    data, inventory, _ = converged
    for name in data["hosts"]:
        host = host_of(inventory, name)
        assert host.package("memcached").is_installed
        service = host.service("memcached")
        assert service.is_running and service.is_enabled
        assert host.socket("tcp://127.0.0.1:11211").is_listening


# Where an archive's role runs, when not on the compute host.
ARCHIVE_HOSTS = {"kafka": "data-1", "jmx_exporter": "data-1", "perses": "control-1"}


@pytest.mark.parametrize(
    "artifact",
    # On-demand artifacts (Vault) have their own lab test; wheelhouses are not commands:
    # their roles install them as venvs (test_mlflow, test_prefect).
    [
        a
        for a in artifacts.load_manifest()
        if not a.needed_when and a.source["kind"] != "pypi-wheelhouse"
    ],
    ids=lambda a: a.name,
)
def test_artifact_installed_verified_and_runs(converged, artifact):
    data, inventory, _ = converged
    # Archives are installed by the role that uses them, on its hosts (Spark's on the
    # compute host, Kafka's and its JMX exporter agent on the data host, Perses' on the
    # control host); they prove themselves by a file of their unpacked content.
    archive_host = ARCHIVE_HOSTS.get(artifact.name, "compute-1")
    host = host_of(inventory, archive_host if artifact.unpack else "control-1")
    home = f"/opt/datalab/{artifact.name}/{artifact.version}"
    binary = f"{home}/{artifact.file.rsplit('/', 1)[-1]}"
    assert host.file(binary).sha256sum == artifact.sha256
    if artifact.unpack:
        assert host.file(f"{home}/{artifact.check}").is_file
        assert host.file(f"{home}/.unpacked-{artifact.sha256}").exists
        return
    out = host.run(" ".join([artifact.file.rsplit("/", 1)[-1], *artifact.version_args]))
    assert out.rc == 0, out.stderr
    assert artifact.version in out.stdout


def test_wrong_checksum_fails_the_install_clearly(converged):
    _, inventory, _ = converged
    result = converge.playbook(
        inventory,
        PROBE,
        limit="control-1",
        extra_vars=['{"probe_artifacts": ["openbao"]}', "artifact_sha256=" + "0" * 64],
    )
    assert result.returncode != 0
    assert "Artifact openbao 2.7.2 could not be installed" in result.output
    assert "did not match" in result.output
    assert "datalab lab prepare" in result.output


def test_operator_testinfra_suite_passes(converged):
    _, inventory, _ = converged
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(paths.REPO / "tests" / "testinfra"),
            "--hosts=all",
            "--connection=ansible",
            f"--ansible-inventory={inventory}",
        ],
        capture_output=True,
        text=True,
        env=converge.environ(),
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert " passed" in out.stdout and "failed" not in out.stdout
