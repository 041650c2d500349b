"""Kafka's staging/prod layout in the lab: three KRaft nodes (controllers and brokers)
on the data hosts of the shared data-plane cluster. Clients produce and consume over
TLS with SCRAM; with one broker stopped, production with acks=all goes on and no
record is lost; started again, the broker rejoins every ISR. The rolling restart
(the handler's and the certificate renewal's path) waits for in-sync replicas. A
rotated SCRAM password replaces the old one (runbook docs/runbooks/kafka.md)."""

from __future__ import annotations

import re
import time

import pytest
from datalab import converge, discovery, secrets, vault

from tests.lab.conftest import CLUSTER_ENV, datalab, host_of, retry
from tests.lab.kafka_client import (
    CLIENT_PORT,
    INTERNAL_PORT,
    admin_tool,
    client_config,
    put_config,
    tool,
)

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

BROKERS = ("data-1", "data-2", "data-3")
# Clients give up quickly when the broker turns them away.
FAST = "default.api.timeout.ms=20000\nrequest.timeout.ms=10000\n"


@pytest.fixture(scope="module")
def kafka_cluster(data_cluster):
    data, inventory = data_cluster
    e = vault.environment(CLUSTER_ENV)
    hosts = {n: host_of(inventory, n) for n in BROKERS}
    addresses = {n: data["hosts"][n]["address"] for n in BROKERS}
    configs = {}
    for name in ("data-2", "data-3"):
        for user in ("admin", "ingest", "spark"):
            configs[name, user] = put_config(hosts[name], f"kafka-{user}", client_config(e, user))
    # Clients bootstrap from the service's name, as Spark's do: any healthy broker.
    name = f"{discovery.fqdn('kafka', data['vars']['datalab_domain'])}:{CLIENT_PORT}"
    return hosts, addresses, configs, name


def run_as(cluster, on: str, user: str, *argv: str, stdin: str | None = None, timeout=180):
    hosts, _, configs, name = cluster
    return tool(hosts[on], *argv, "--bootstrap-server", name,
                "--command-config", configs[on, user], stdin=stdin, timeout=timeout)  # fmt: skip


def produce(cluster, on: str, topic: str, records: range):
    out = run_as(
        cluster, on, "ingest", "console-producer", "--topic", topic,
        "--command-property", "acks=all", "--command-property", "retries=2147483647",
        "--command-property", "delivery.timeout.ms=120000",
        stdin="".join(f"{i}\n" for i in records),
    )  # fmt: skip
    assert out.rc == 0, out.stderr[-3000:]
    assert "ERROR" not in out.stderr, out.stderr[-3000:]


def under_replicated(cluster, on: str) -> str:
    hosts, addresses, _, _ = cluster
    out = admin_tool(hosts[on], addresses[on], "topics", "--describe",
                     "--under-replicated-partitions")  # fmt: skip
    assert out.rc == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_three_voters_and_three_brokers(kafka_cluster):
    hosts, addresses, _, _ = kafka_cluster
    # This tool wants its connection options before the subcommand.
    out = tool(hosts["data-2"], "metadata-quorum", "--bootstrap-server",
               f"{addresses['data-2']}:{INTERNAL_PORT}", "--command-config",
               "/etc/kafka/admin-internal.properties", "describe", "--status")  # fmt: skip
    assert out.rc == 0, out.stderr[-2000:]
    voters = re.search(r"CurrentVoters:\s*\[(.*)\]", out.stdout)
    assert voters and len(re.findall(r'"id":\s*\d+|\b\d+@', voters.group(1))) == 3, out.stdout


def test_one_broker_down_acks_all_loses_nothing_and_the_isr_recovers(kafka_cluster):
    """The first broker (the first address a client would have been given) is the one
    that goes: clients that know the cluster by its name go on."""
    hosts, addresses, _, _ = kafka_cluster
    topic = f"ingest.cluster-{int(time.time())}"
    out = run_as(kafka_cluster, "data-2", "admin", "topics", "--create", "--topic", topic,
                 "--partitions", "3", "--replication-factor", "3")  # fmt: skip
    assert out.rc == 0, out.stderr[-2000:]
    produce(kafka_cluster, "data-2", topic, range(0, 500))
    down = hosts["data-1"]
    down.run("systemctl stop kafka")
    try:
        assert not down.service("kafka").is_running
        # Two of three replicas are in sync: min.insync.replicas=2 still accepts acks=all.
        produce(kafka_cluster, "data-2", topic, range(500, 1000))
        assert under_replicated(kafka_cluster, "data-2"), "data-1's replicas left the ISR"
    finally:
        down.run("systemctl start kafka")
    out = run_as(
        kafka_cluster, "data-3", "spark", "console-consumer", "--topic", topic,
        "--group", "spark-cluster", "--from-beginning", "--max-messages", "1000",
        "--timeout-ms", "60000",
    )  # fmt: skip
    assert out.rc == 0, out.stderr[-2000:]
    received = [int(x) for x in out.stdout.split()]
    assert sorted(received) == list(range(1000)), f"{len(received)} of 1000, or duplicates"

    def in_sync():
        assert under_replicated(kafka_cluster, "data-2") == ""

    start = time.monotonic()
    retry(in_sync, (AssertionError,), 240, pause=5)
    print(f"ISR recovered {time.monotonic() - start:.0f} s after the broker started")
    described = admin_tool(hosts["data-2"], addresses["data-2"], "topics", "--describe",
                           "--topic", topic).stdout  # fmt: skip
    isrs = re.findall(r"Isr:\s*([\d,]+)", described)
    assert len(isrs) == 3 and all(len(isr.split(",")) == 3 for isr in isrs), described


def test_rolling_restart_waits_for_in_sync_replicas(kafka_cluster):
    hosts, _, _, _ = kafka_cluster
    start = time.monotonic()
    out = hosts["data-3"].run("/usr/local/libexec/datalab-kafka-restart 0")
    assert out.rc == 0, out.stderr[-2000:]
    assert "all replicas in sync" in out.stdout
    print(f"gated restart of one broker: {time.monotonic() - start:.0f} s")
    assert under_replicated(kafka_cluster, "data-2") == ""


def test_rotated_scram_password_replaces_the_old_one(kafka_cluster, data_cluster):
    hosts, addresses, _, _ = kafka_cluster
    _, inventory = data_cluster
    e = vault.environment(CLUSTER_ENV)
    old = secrets.get(e, "kafka/scram-ingest")[0]["password"]
    # The runbook's command re-converges all of site.yml on the kafka hosts; the test
    # rotates without it and runs the streaming play alone (the part that applies it).
    datalab("secrets", "rotate", "kafka/scram-ingest", "--no-converge", env=CLUSTER_ENV)
    result = converge.playbook(inventory, "playbooks/streaming.yml")
    assert result.returncode == 0, result.output[-3000:]
    new = secrets.get(e, "kafka/scram-ingest")[0]["password"]
    assert new != old
    host = hosts["data-3"]
    for password, works in ((old, False), (new, True)):
        config = put_config(host, "kafka-rotated", client_config(e, "ingest", password) + FAST)
        out = tool(host, "topics", "--bootstrap-server", f"{addresses['data-3']}:{CLIENT_PORT}",
                   "--command-config", config, "--list")  # fmt: skip
        assert (out.rc == 0) == works, out.stdout + out.stderr
        if not works:
            assert "Authentication failed" in out.stdout + out.stderr
