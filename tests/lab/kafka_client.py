"""Kafka clients for the lab tests and the benchmark: Kafka's own command-line tools,
run on a broker host (where the libs and Java are) as a SCRAM user whose password
comes from Vault, over the TLS client listener."""

from __future__ import annotations

import shlex

from datalab import secrets, vault

CLIENT_PORT = 9093
INTERNAL_PORT = 9094
CONTROLLER_PORT = 9095


def client_config(e: vault.Env, user: str, password: str | None = None) -> str:
    """A client's properties: SCRAM-SHA-512 over TLS as `user` (its Vault password unless
    another is given)."""
    if password is None:
        password = secrets.get(e, f"kafka/scram-{user}")[0]["password"]
    return (
        "security.protocol=SASL_SSL\n"
        "sasl.mechanism=SCRAM-SHA-512\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{user}" password="{password}";\n'
        "ssl.truststore.type=PEM\n"
        "ssl.truststore.location=/etc/kafka/tls/ca.pem\n"
    )


def put_config(host, name: str, content: str) -> str:
    """Write a client config to the broker host (root only); returns its path."""
    path = f"/root/{name}.properties"
    host.run(f"install -m 0600 /dev/null {path}")
    out = host.run(f"cat > {path} <<'EOF'\n{content}EOF")
    assert out.rc == 0, out.stderr
    return path


def tool(host, *argv: str, timeout: int = 120, stdin: str | None = None):
    """Run `datalab-kafka TOOL ARGS` on the host; returns testinfra's result."""
    command = " ".join(shlex.quote(a) for a in ["datalab-kafka", *argv])
    if stdin is not None:
        command = f"printf %s {shlex.quote(stdin)} | {command}"
    return host.run(f"timeout {timeout} sh -c {shlex.quote(command)}")


def admin_tool(host, address: str, *argv: str, timeout: int = 120):
    """A tool run as the broker itself (its certificate) over the internal listener."""
    return tool(
        host,
        *argv,
        "--bootstrap-server",
        f"{address}:{INTERNAL_PORT}",
        "--command-config",
        "/etc/kafka/admin-internal.properties",
        timeout=timeout,
    )
