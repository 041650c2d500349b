"""Certificates renew themselves: with a lifetime of one minute, the running Vault
presents a new certificate before the old one expires, with no manual step, and only
Vault is reloaded (same process, SIGHUP)."""

from __future__ import annotations

import socket
import ssl
import time
from datetime import UTC, datetime

import pytest
from datalab import converge, vault

from tests.lab.conftest import ENV, host_of

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

SHORT = ['{"service_cert_ttl": "1m", "service_cert_check_interval": "10s"}']


def served(address: str, cafile) -> dict:
    context = ssl.create_default_context(cafile=str(cafile))
    with (
        socket.create_connection((address, 8200), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=address) as tls,
    ):
        cert = tls.getpeercert()
    cert["not_after"] = datetime.strptime(cert["notAfter"], "%b %d %H:%M:%S %Y %Z").replace(
        tzinfo=UTC
    )
    return cert


def test_short_lived_certificate_is_replaced_before_it_expires(converged):
    data, inventory, _ = converged
    address = data["hosts"]["control-1"]["address"]
    e = vault.environment(ENV)
    host = host_of(inventory, "control-1")
    try:
        result = converge.playbook(
            inventory, "playbooks/vault.yml", limit="control-1", extra_vars=SHORT
        )
        assert result.returncode == 0, result.output[-3000:]
        pid = host.process.get(comm="bao").pid
        first = served(address, e.state / "platform-root-ca.pem")
        lifetime = (first["not_after"] - datetime.now(UTC)).total_seconds()
        assert 20 < lifetime <= 65, "the converge issued a one-minute certificate"
        deadline = time.monotonic() + lifetime + 30
        current = first
        while time.monotonic() < deadline and current["serialNumber"] == first["serialNumber"]:
            time.sleep(2)
            current = served(address, e.state / "platform-root-ca.pem")
        assert current["serialNumber"] != first["serialNumber"], "no new certificate was served"
        # Renewed ahead of time: the served certificate was never an expired one.
        assert datetime.now(UTC) < first["not_after"], "renewed only after the old one expired"
        assert current["not_after"] > first["not_after"]
        assert host.process.get(comm="bao").pid == pid, "Vault was reloaded, not restarted"
        journal = host.run("journalctl -u datalab-cert-renew@vault --no-pager -o cat").stdout
        assert "issued serial" in journal and "reloaded with systemctl reload openbao" in journal
    finally:
        restore = converge.playbook(inventory, "playbooks/vault.yml", limit="control-1")
        assert restore.returncode == 0, restore.output[-3000:]
