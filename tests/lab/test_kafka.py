"""Kafka (issue 5) on the dev shape, for real: one KRaft node (controller + broker) on
data-1. Clients produce and consume over TLS with SCRAM-SHA-512; every listener is TLS
and the internal ones are closed to the network; a wrong password or no credentials
are refused; ACLs deny by default (a user reads only what it was granted); the broker
runs as `kafka` in a sandboxed unit with closed directories. (The site.yml re-run and
check mode in test_foundation cover the play's idempotence.)"""

from __future__ import annotations

import socket
import ssl
import struct
import time

import pytest
from datalab import vault

from tests.lab.conftest import ENV, host_of
from tests.lab.kafka_client import (
    CLIENT_PORT,
    CONTROLLER_PORT,
    INTERNAL_PORT,
    admin_tool,
    client_config,
    put_config,
    tool,
)

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

# Clients give up quickly when the broker turns them away.
FAST_FAIL = "default.api.timeout.ms=20000\nrequest.timeout.ms=10000\n"


@pytest.fixture(scope="module")
def kafka(converged):
    data, inventory, _ = converged
    e = vault.environment(ENV)
    host = host_of(inventory, "data-1")
    address = data["hosts"]["data-1"]["address"]
    configs = {
        user: put_config(host, f"kafka-{user}", client_config(e, user))
        for user in ("admin", "ingest", "spark")
    }
    return e, inventory, host, address, configs


def client(kafka, user: str, *argv: str, timeout: int = 120):
    _, _, host, address, configs = kafka
    return tool(
        host,
        *argv,
        "--bootstrap-server",
        f"{address}:{CLIENT_PORT}",
        "--command-config",
        configs[user],
        timeout=timeout,
    )


def create_topic(kafka, name: str, partitions: int = 1):
    out = client(kafka, "admin", "topics", "--create", "--if-not-exists", "--topic", name,
                 "--partitions", str(partitions))  # fmt: skip
    assert out.rc == 0, out.stdout + out.stderr


def produce(kafka, user: str, topic: str, lines: list[str]):
    _, _, host, address, configs = kafka
    return tool(
        host,
        "console-producer",
        "--bootstrap-server",
        f"{address}:{CLIENT_PORT}",
        "--command-config",
        configs[user],
        "--command-property",
        "acks=all",
        "--topic",
        topic,
        stdin="\n".join(lines) + "\n",
    )


def consume(kafka, user: str, topic: str, group: str, count: int):
    return client(
        kafka, user, "console-consumer", "--topic", topic, "--group", group,
        "--from-beginning", "--max-messages", str(count), "--timeout-ms", "30000",
    )  # fmt: skip


def test_produce_and_consume_over_tls_with_scram(kafka):
    topic = f"ingest.lab-{int(time.time())}"
    create_topic(kafka, topic)
    sent = [f"event-{i}" for i in range(5)]
    out = produce(kafka, "ingest", topic, sent)
    assert out.rc == 0, out.stderr
    out = consume(kafka, "spark", topic, "spark-lab", len(sent))
    assert out.rc == 0, out.stderr
    assert out.stdout.split() == sent


def test_every_listener_is_tls_and_internal_ones_are_closed(kafka):
    e, _, host, address, _ = kafka
    context = ssl.create_default_context(cafile=str(e.state / "platform-root-ca.pem"))
    with (
        socket.create_connection((address, CLIENT_PORT), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=address) as tls,
    ):
        assert tls.version() in ("TLSv1.3", "TLSv1.2")
    # A plaintext Kafka request (ApiVersions v0, correlation id 1) on the TLS port gets no
    # Kafka answer: a TLS alert (record type 0x15) or a closed connection.
    # size 17, api key 18 (ApiVersions), version 0, correlation id 1, client id "labtest"
    request = struct.pack(">ihhih", 17, 18, 0, 1, 7) + b"labtest"
    with socket.create_connection((address, CLIENT_PORT), timeout=10) as raw:
        raw.sendall(request)
        try:
            answer = raw.recv(64)
        except (ConnectionResetError, TimeoutError):
            answer = b""
    assert answer == b"" or answer[:1] == b"\x15", answer
    # The broker-to-broker and controller listeners are not reachable from outside.
    for port in (INTERNAL_PORT, CONTROLLER_PORT, 9092):
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=5).close()
    # Listeners: only on the host's address; no plaintext port.
    listening = host.check_output("ss -Htln")
    assert "0.0.0.0:909" not in listening and ":9092 " not in listening
    for port in (CLIENT_PORT, INTERNAL_PORT, CONTROLLER_PORT):
        assert host.socket(f"tcp://{address}:{port}").is_listening


def test_wrong_password_and_no_credentials_are_refused(kafka):
    e, _, host, address, configs = kafka
    wrong = put_config(host, "kafka-wrong", client_config(e, "ingest", "x" * 32) + FAST_FAIL)
    out = tool(host, "topics", "--bootstrap-server", f"{address}:{CLIENT_PORT}",
               "--command-config", wrong, "--list")  # fmt: skip
    assert out.rc != 0
    assert "Authentication failed" in out.stdout + out.stderr
    # TLS without SASL: the listener wants a SCRAM handshake first.
    bare = put_config(
        host,
        "kafka-bare",
        "security.protocol=SSL\nssl.truststore.type=PEM\n"
        "ssl.truststore.location=/etc/kafka/tls/ca.pem\n" + FAST_FAIL,
    )
    out = tool(host, "topics", "--bootstrap-server", f"{address}:{CLIENT_PORT}",
               "--command-config", bare, "--list", timeout=90)  # fmt: skip
    assert out.rc != 0


def test_acls_deny_by_default(kafka):
    topic = "lab.private"
    create_topic(kafka, topic)
    assert produce(kafka, "admin", topic, ["secret"]).rc == 0
    # ingest may write ingest.* only: reading anything, or writing elsewhere, is refused.
    out = consume(kafka, "ingest", topic, "ingest-lab", 1)
    assert out.rc != 0 or "secret" not in out.stdout
    assert "not authorized" in (out.stdout + out.stderr).lower()
    out = produce(kafka, "ingest", topic, ["intruder"])
    assert "TopicAuthorizationException" in out.stdout + out.stderr or out.rc != 0
    # spark reads ingest.*, but cannot create topics.
    out = client(kafka, "spark", "topics", "--create", "--topic", "ingest.by-spark")
    assert out.rc != 0 and "authoriz" in (out.stdout + out.stderr).lower()
    # The ACLs in force: the role's grants, nothing for everyone.
    _, _, host, address, _ = kafka
    acls = admin_tool(host, address, "acls", "--list").stdout
    assert "User:ingest" in acls and "User:spark" in acls and "User:*" not in acls


def test_broker_runs_as_kafka_in_a_sandboxed_unit(kafka):
    _, _, host, _, _ = kafka
    service = host.service("kafka")
    assert service.is_running and service.is_enabled
    props = host.check_output("systemctl show kafka -p User -p ProtectSystem -p NoNewPrivileges")
    assert "User=kafka" in props and "ProtectSystem=strict" in props
    assert "NoNewPrivileges=yes" in props
    pid = host.check_output("systemctl show kafka -p MainPID --value")
    assert host.check_output(f"ps -o user= -p {pid}") == "kafka"
    for path in ("/var/lib/datalab/kafka", "/var/lib/datalab/kafka/data", "/etc/kafka",
                 "/etc/kafka/tls"):  # fmt: skip
        f = host.file(path)
        assert f.group == "kafka" and f.mode & 0o027 == 0, (path, oct(f.mode))
    assert host.file("/var/lib/datalab/kafka/data").user == "kafka"
    # Partition directories the broker made are closed too (the unit's UMask).
    modes = host.check_output(
        "find /var/lib/datalab/kafka/data -mindepth 1 -maxdepth 1 -type d -printf '%m\\n'"
    )
    assert modes and all(int(m, 8) & 0o027 == 0 for m in modes.split()), modes
    for path in ("/etc/kafka/server.properties", "/etc/kafka/tls/keystore.p12"):
        f = host.file(path)
        assert f.user == "root" and f.group == "kafka" and f.mode == 0o640, path
    for path in ("/etc/kafka/access.json", "/etc/kafka/admin-internal.properties"):
        f = host.file(path)
        assert f.user == "root" and f.mode == 0o600, path
    rss_kb = int(host.check_output(f"ps -o rss= -p {pid}"))
    print(f"kafka: RSS {rss_kb // 1024} MB")
