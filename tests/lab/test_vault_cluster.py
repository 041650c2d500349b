"""A 3-node OpenBao raft cluster in the lab (the staging shape for the control group):
nodes join each other over TLS; with one node stopped, reads and writes still succeed
and active.vault.service.<domain> follows the new active node; started again, it is
unsealed and rejoins."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import hvac
import pytest
import requests
from datalab import converge, discovery, vault

from tests.lab.conftest import (
    CLUSTER_ENV,
    CLUSTER_VAR_FILE,
    VAULT_LAYERS,
    datalab,
    host_of,
    retry,
)

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

ENV = CLUSTER_ENV
VAR_FILE = CLUSTER_VAR_FILE
# The Vault nodes (also the etcd members): what a replacement re-converges.
NODES = "vault"


@pytest.fixture(scope="module")
def cluster(data_cluster):
    """The clusters' environment (conftest): its data hosts' tests ran first."""
    data, inventory = data_cluster
    return data, inventory, vault.environment(ENV)


def _retry(fn, seconds=60):
    return retry(fn, (requests.exceptions.RequestException, hvac.exceptions.VaultError), seconds)


def _retry_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        time.sleep(0.5)


def test_three_nodes_one_active(cluster):
    _, _, e = cluster
    roles = sorted(r["role"] for r in vault.status(e))
    assert roles == ["active", "standby", "standby"]
    peers = vault.client(e).sys.read_raft_config()["data"]["config"]["servers"]
    assert sorted(p["node_id"] for p in peers) == ["control-1", "control-2", "control-3"]
    assert all(p["voter"] for p in peers)


def test_one_node_down_then_back(cluster):
    data, inventory, e = cluster
    active = next(r["node"] for r in vault.status(e) if r["role"] == "active")
    survivors = [url for node, url in e.nodes.items() if node != active]
    host_of(inventory, active).run("systemctl stop openbao")
    try:
        c = vault.client(e, survivors[0])
        _retry(
            lambda: c.secrets.kv.v2.create_or_update_secret(
                "vault/failover", secret={"v": "written-during-outage"}, mount_point="datalab"
            )
        )
        read = _retry(
            lambda: vault.client(e, survivors[1]).secrets.kv.v2.read_secret_version(
                "vault/failover", mount_point="datalab", raise_on_deleted_version=True
            )
        )
        assert read["data"]["data"]["v"] == "written-during-outage"
        # The name of the active node moves to the new one (the registrars' checks).
        new_active = next(r["node"] for r in vault.status(e) if r["role"] == "active")
        assert new_active != active
        name = discovery.fqdn("active.vault", data["vars"]["datalab_domain"])
        asker = next(node for node in e.nodes if node != active)
        wanted = [data["hosts"][new_active]["address"]]
        _retry_until(
            lambda: discovery.resolve(inventory, asker, [name])[name].get("A") == wanted, 20
        )
    finally:
        host_of(inventory, active).run("systemctl start openbao")
    # It comes back sealed; the runbook's unseal brings it back into the cluster.
    cli = str(Path(sys.executable).parent / "datalab")
    out = _retry(lambda: _unseal(cli), 30)
    assert f"{active}: unsealed" in out
    roles = _retry(lambda: _all_unsealed(e), 60)
    assert sorted(roles) == ["active", "standby", "standby"]
    # The rejoined node may serve reads itself: give it time to catch up the raft log.
    read = _retry(
        lambda: vault.client(e, e.nodes[active]).secrets.kv.v2.read_secret_version(
            "vault/failover", mount_point="datalab", raise_on_deleted_version=True
        ),
        30,
    )
    assert read["data"]["data"]["v"] == "written-during-outage"


def _unseal(cli: str) -> str:
    out = subprocess.run([cli, "vault", "unseal", "--env", ENV], capture_output=True, text=True)
    if out.returncode != 0:
        raise requests.exceptions.ConnectionError(out.stderr)
    return out.stdout


def _all_unsealed(e) -> list[str]:
    roles = [r["role"] for r in vault.status(e)]
    if not all(r in ("active", "standby") for r in roles):
        raise requests.exceptions.ConnectionError(f"not yet: {roles}")
    return roles


def test_replace_a_failed_node(cluster):
    """Runbook 'Replace a failed Vault node': remove the peer, recreate the host with an
    empty disk, converge; it joins over TLS and the cluster has three voters again."""
    data, inventory, e = cluster
    standby = next(r["node"] for r in vault.status(e) if r["role"] == "standby")
    host_of(inventory, standby).run("systemctl stop openbao")  # the failure
    # Runbook discovery 'Remove a member' (the host leaves etcd too), from a member that stays.
    keeper = host_of(inventory, next(n for n in e.nodes if n != standby))
    member_id = _etcd_members(keeper)[standby][0]
    assert keeper.run(f"datalab-etcdctl member remove {member_id}").rc == 0
    host_of(inventory, standby).run("systemctl disable --now etcd")
    assert standby not in _etcd_members(keeper)
    steps = (
        ["vault", "remove-peer", standby],
        ["hosts", "replace", standby, "--var-file", str(VAR_FILE)],
    )
    for argv in steps:
        datalab(*argv, env=ENV)
    healthy = next(url for node, url in e.nodes.items() if node != standby)
    peers = vault.client(e, healthy).sys.read_raft_config()["data"]["config"]["servers"]
    assert standby not in {p["node_id"] for p in peers}
    # Discovery too (3 etcd members on the control hosts): active.vault must follow.
    result = converge.playbook(inventory, *VAULT_LAYERS, "playbooks/discovery.yml", limit=NODES)
    assert result.returncode == 0, result.output[-5000:]
    roles = _retry(lambda: _all_unsealed(e), 60)
    assert sorted(roles) == ["active", "standby", "standby"]
    peers = vault.client(e).sys.read_raft_config()["data"]["config"]["servers"]
    assert sorted(p["node_id"] for p in peers) == ["control-1", "control-2", "control-3"]
    read = _retry(
        lambda: vault.client(e, e.nodes[standby]).secrets.kv.v2.read_secret_version(
            "vault/failover", mount_point="datalab", raise_on_deleted_version=True
        ),
        30,
    )
    assert read["data"]["data"]["v"] == "written-during-outage"
    # Runbook discovery 'Add or replace a member': the converge joined the new host to etcd.
    members = _etcd_members(keeper)
    assert sorted(members) == ["control-1", "control-2", "control-3"]
    assert all(status == "started" for _, status in members.values())
    health = keeper.run("datalab-etcdctl endpoint health --cluster")
    assert health.rc == 0 and health.stdout.count("is healthy") == 3, health.stdout + health.stderr


def _etcd_members(host) -> dict[str, tuple[str, str]]:
    """name -> (member ID, status) from `member list` (ID, status, name, peer, client, learner)."""
    out = host.run("datalab-etcdctl member list")
    assert out.rc == 0, out.stderr
    fields = [line.split(", ") for line in out.stdout.splitlines() if line.strip()]
    return {f[2]: (f[0], f[1]) for f in fields}
