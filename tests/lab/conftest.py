"""One lab environment for all lab tests of a run: the dev file applied as environment
`labtest` (so a developer's dev is never touched), converged once with site.yml and the
foundation probe, destroyed at the end of the session. DATALAB_TEST_ENV and
DATALAB_TEST_CIDR give a second, parallel run (another checkout) its own environment.

The clusters (three control hosts: Vault raft and the etcd members; three data hosts:
the object store and Kafka) are a second environment, `labcluster`, shared by the
cluster tests of every one of them and converged once; DATALAB_CLUSTER_ENV and
DATALAB_CLUSTER_CIDR move it likewise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import testinfra
from datalab import converge, hosts, lab, paths
from datalab.proc import run

ENV = os.environ.get("DATALAB_TEST_ENV", "labtest")
OVERRIDES = {
    "environment": ENV,
    "network_cidr": os.environ.get("DATALAB_TEST_CIDR", "172.30.90.0/24"),
}
PROBE = paths.REPO / "tests" / "lab" / "probe.yml"
# The layers a Vault cluster needs (site.yml's first two), for tests of Vault alone.
VAULT_LAYERS = ("playbooks/common.yml", "playbooks/vault.yml")
# The staging shape of the control and data groups (three hosts each).
CLUSTER_ENV = os.environ.get("DATALAB_CLUSTER_ENV", "labcluster")
CLUSTER_VAR_FILE = Path(__file__).parent / "labcluster.tfvars"
CLUSTER_OVERRIDES = {
    "environment": CLUSTER_ENV,
    "network_cidr": os.environ.get("DATALAB_CLUSTER_CIDR", "172.30.95.0/24"),
}
# Discovery too: the Vault cluster's name (active.vault) follows its active node.
CLUSTER_LAYERS = (
    *VAULT_LAYERS,
    "playbooks/discovery.yml",
    "playbooks/data.yml",
    "playbooks/streaming.yml",
)


def containers(env: str = ENV) -> list[str]:
    out = run(["docker", "ps", "-aq", "--filter", f"label=datalab.environment={env}"], capture=True)
    return out.stdout.split()


def datalab(*argv: str, env: str = ENV) -> str:
    """Run the CLI as an operator does; fail with its output unless it succeeds."""
    out = subprocess.run(
        [str(Path(sys.executable).parent / "datalab"), *argv, "--env", env],
        capture_output=True,
        text=True,
        env=converge.environ(),
    )
    assert out.returncode == 0, (
        f"datalab {' '.join(argv)}: {out.stdout[-2000:]}{out.stderr[-3000:]}"
    )
    return out.stdout


def retry(fn, errors: tuple[type[BaseException], ...], seconds: float, pause: float = 1):
    """fn() once it stops raising `errors` (a cluster re-electing, a node catching up);
    the last error once `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return fn()
        except errors:
            if time.monotonic() > deadline:
                raise
            time.sleep(pause)


def grown_env_file(directory: Path, group: str = "compute", count: int = 2) -> Path:
    """The dev file with `count` hosts in `group` (what an operator edits to add one)."""
    dev = paths.env_file("dev").read_text()
    grown = re.sub(rf"({group}\s*=\s*\{{\s*count\s*=\s*)\d+", rf"\g<1>{count}", dev)
    assert grown != dev, f"the dev file sets host_groups.{group}.count"
    target = directory / "dev.tfvars"
    target.write_text(grown)
    return target


def host_of(inventory, name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}", sudo=True)


def fresh_hosts(env: str, var_file: Path, overrides: dict | None = None) -> dict:
    """Hosts for a test environment, without leftovers of an interrupted run (containers,
    or Vault bootstrap material that belonged to the previous hosts)."""
    lab.remove_environment_objects(env)
    for stale in ("vault-bootstrap.json", "vault-ansible-token", "platform-root-ca.pem"):
        (hosts.key_dir(env) / stale).unlink(missing_ok=True)
    return hosts.up(env, var_file=var_file, overrides=overrides)


@pytest.fixture(scope="session")
def lab_services(prepared_lab):
    """The lab's package proxy, artifact store and server up (the steps of `lab prepare`)."""
    for _name, action in lab.prepare_steps():
        action()


@pytest.fixture(scope="session")
def lab_env(lab_services):
    data = fresh_hosts(ENV, paths.env_file("dev"), OVERRIDES)
    yield data, hosts.key_dir(ENV) / "inventory.yml"
    hosts.down(ENV, var_file=paths.env_file("dev"), overrides=OVERRIDES)
    assert containers() == [], "destroy left containers behind"


@pytest.fixture(scope="session")
def converged(lab_env):
    data, inventory = lab_env
    first = converge.playbook(inventory, "site.yml", PROBE)
    assert first.returncode == 0, first.output[-5000:]
    assert first.total_changed > 0
    return data, inventory, first


@pytest.fixture(scope="session")
def data_cluster(lab_services):
    """Three control hosts with Vault and etcd clustered on them, three data hosts with
    the object store and Kafka clustered on them, converged once (one run: the layers of
    both groups go side by side) for every cluster test."""
    data = fresh_hosts(CLUSTER_ENV, CLUSTER_VAR_FILE, CLUSTER_OVERRIDES)
    inventory = hosts.key_dir(CLUSTER_ENV) / "inventory.yml"
    start = time.monotonic()
    # The compute host is not under test: it stays unconverged.
    result = converge.playbook(inventory, *CLUSTER_LAYERS, limit="control:data")
    assert result.returncode == 0, result.output[-5000:]
    print(f"clusters converged in {time.monotonic() - start:.0f} s")
    yield data, inventory
    _destroy_data_cluster()


# The clusters go as soon as the last test that uses them is done, not at the end of
# the session: their idle brokers and stores would slow every later test on two cores.
# Their tests run before the dev environment's (pytest_collection_modifyitems).
_data_cluster_pending: set[str] = set()
_data_cluster_destroyed: list[bool] = []


def _destroy_data_cluster() -> None:
    if _data_cluster_destroyed:
        return
    _data_cluster_destroyed.append(True)
    hosts.down(CLUSTER_ENV, var_file=CLUSTER_VAR_FILE, overrides=CLUSTER_OVERRIDES)
    assert containers(CLUSTER_ENV) == [], "destroy left containers behind"


def pytest_collection_modifyitems(items):
    # Lab tests on an environment of their own (not the dev one) run first, so that no
    # two environments idle side by side; the rest keeps its order (a stable sort).
    def rank(item) -> int:
        if item.get_closest_marker("lab") is None:
            return 0
        return 1 if "lab_env" not in getattr(item, "fixturenames", ()) else 2

    items.sort(key=rank)
    _data_cluster_pending.update(
        item.nodeid for item in items if "data_cluster" in getattr(item, "fixturenames", ())
    )


def pytest_runtest_teardown(item, nextitem):
    if item.nodeid in _data_cluster_pending:
        _data_cluster_pending.discard(item.nodeid)
        if not _data_cluster_pending and not _data_cluster_destroyed and nextitem is not None:
            _destroy_data_cluster()
