"""One lab environment for all lab tests of a run: the dev file applied as environment
`labtest` (so a developer's dev is never touched), converged once with site.yml and the
foundation probe, destroyed at the end of the session. DATALAB_TEST_ENV and
DATALAB_TEST_CIDR give a second, parallel run (another checkout) its own environment.

The clusters (three control hosts: Vault raft and the etcd members; three data hosts:
the object store and Kafka) are a second environment, `labcluster`, shared by the
cluster tests of every one of them and converged once; DATALAB_CLUSTER_ENV and
DATALAB_CLUSTER_CIDR move it likewise.

Two cores are idle most of the time a cluster test waits (a broker failing over, a node
catching up), so the next environments are made ahead, in a background thread: the
HashiCorp Vault node while the clusters converge, the dev environment once they are
converged (`Ahead`). A run that selects no test of an environment does not make it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import pytest
import testinfra
from datalab import artifacts, converge, hosts, lab, paths
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
# One node with the other Vault flavour, HashiCorp Vault (test_vault_flavour).
VAULT_ENV = "labvault"
VAULT_VAR_FILE = Path(__file__).parent / "labvault.tfvars"


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


class Ahead:
    """An environment made in a background thread while other tests run: first its
    hosts, then its converge; each fixture waits only for the part it needs. The
    converge's output is kept, not streamed (it would land in another test's output)."""

    started: dict[str, Ahead] = {}

    def __init__(self, env: str, make_hosts: Callable[[], tuple], make_converge: Callable):
        self.env, self.since = env, time.monotonic()
        self.hosts: Future = Future()
        self.converged: Future = Future()
        self.used = False
        threading.Thread(
            target=self._work, args=(make_hosts, make_converge), name=f"ahead-{env}", daemon=True
        ).start()

    def _work(self, make_hosts, make_converge) -> None:
        try:
            made = make_hosts()
        except BaseException as error:  # the waiting fixture raises it
            self.hosts.set_exception(error)
            self.converged.set_exception(error)
            return
        self.hosts.set_result(made)
        try:
            self.converged.set_result(make_converge(made, stream=False))
        except BaseException as error:
            self.converged.set_exception(error)

    @classmethod
    def start(cls, env: str, make_hosts, make_converge) -> None:
        """Make `env` ahead, once, if a selected test needs it."""
        if env in _wanted_envs and env not in cls.started:
            cls.started[env] = cls(env, make_hosts, make_converge)

    @classmethod
    def hosts_of(cls, env: str, make_hosts):
        ahead = cls.started.get(env)
        if ahead is None:
            return make_hosts()
        ahead.used = True
        return ahead.hosts.result()

    @classmethod
    def converge_of(cls, env: str, made, make_converge):
        ahead = cls.started.get(env)
        if ahead is None:
            return make_converge(made)
        result = ahead.converged.result()
        print(f"{env}: made ahead, ready {time.monotonic() - ahead.since:.0f} s after its start")
        return result


# The environments the selected tests use (pytest_collection_modifyitems).
_wanted_envs: set[str] = set()


def _dev_hosts():
    data = fresh_hosts(ENV, paths.env_file("dev"), OVERRIDES)
    return data, hosts.key_dir(ENV) / "inventory.yml"


def _dev_converge(made, stream: bool = True):
    return converge.playbook(made[1], "site.yml", PROBE, stream=stream)


def vault_node_hosts():
    """The HashiCorp Vault node; its artifact is built here when the store lacks it (a
    cold build takes about 15 minutes, a warm one seconds)."""
    pin = next(a for a in artifacts.load_manifest() if a.name == "vault")
    artifacts.ensure(pin, artifacts.store_dir())
    fresh_hosts(VAULT_ENV, VAULT_VAR_FILE)
    return hosts.key_dir(VAULT_ENV) / "inventory.yml"


def vault_node_converge(inventory, stream: bool = True):
    return converge.playbook(inventory, *VAULT_LAYERS, limit="control-1", stream=stream)


@pytest.fixture(scope="session")
def lab_env(lab_services):
    yield Ahead.hosts_of(ENV, _dev_hosts)
    hosts.down(ENV, var_file=paths.env_file("dev"), overrides=OVERRIDES)
    assert containers() == [], "destroy left containers behind"


@pytest.fixture(scope="session")
def converged(lab_env):
    data, inventory = lab_env
    first = Ahead.converge_of(ENV, lab_env, _dev_converge)
    assert first.returncode == 0, first.output[-5000:]
    assert first.total_changed > 0
    return data, inventory, first


@pytest.fixture(scope="session")
def data_cluster(lab_services):
    """Three control hosts with Vault and etcd clustered on them, three data hosts with
    the object store and Kafka clustered on them, converged once (one run: the layers of
    both groups go side by side) for every cluster test."""
    Ahead.start(VAULT_ENV, vault_node_hosts, vault_node_converge)
    data = fresh_hosts(CLUSTER_ENV, CLUSTER_VAR_FILE, CLUSTER_OVERRIDES)
    inventory = hosts.key_dir(CLUSTER_ENV) / "inventory.yml"
    start = time.monotonic()
    # The compute host is not under test: it stays unconverged.
    result = converge.playbook(inventory, *CLUSTER_LAYERS, limit="control:data")
    assert result.returncode == 0, result.output[-5000:]
    print(f"clusters converged in {time.monotonic() - start:.0f} s")
    Ahead.start(ENV, _dev_hosts, _dev_converge)
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
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "lab_env" in names:
            _wanted_envs.add(ENV)
        if item.module.__name__.endswith("test_vault_flavour"):
            _wanted_envs.add(VAULT_ENV)
    _data_cluster_pending.update(
        item.nodeid for item in items if "data_cluster" in getattr(item, "fixturenames", ())
    )


def pytest_runtest_teardown(item, nextitem):
    if item.nodeid in _data_cluster_pending:
        _data_cluster_pending.discard(item.nodeid)
        if not _data_cluster_pending and not _data_cluster_destroyed and nextitem is not None:
            _destroy_data_cluster()


def pytest_sessionfinish(session):
    # An environment made ahead that no test took (a run stopped early) is destroyed;
    # the fixtures that took theirs destroy them.
    for env, ahead in Ahead.started.items():
        if ahead.used:
            continue
        try:
            ahead.converged.exception()  # wait for its converge to finish
        finally:
            lab.remove_environment_objects(env)
