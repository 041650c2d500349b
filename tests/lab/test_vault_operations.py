"""Runbook operations on the lab's Vault, run the way an operator runs them: rotate the
intermediate CA (every certificate is reissued from the new one, the platform root still
verifies everything) and regenerate a root token from the key shares (the next converge
uses it and revokes it)."""

from __future__ import annotations

import json
import re
import subprocess

import hvac
import pytest
import requests
from datalab import converge, vault

from tests.lab.conftest import ENV, datalab

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]


def served_issuer(address: str) -> str:
    """The CA certificate a listener sends after its own (its issuing intermediate)."""
    out = subprocess.run(
        ["openssl", "s_client", "-connect", f"{address}:8200", "-showcerts"],
        input="",
        capture_output=True,
        text=True,
        timeout=20,
    ).stdout
    pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    assert len(pems) >= 2, f"{address} sent no chain: {out[-500:]}"
    return pems[1].strip()


def test_rotating_the_intermediate_reissues_every_certificate(converged):
    data, _, _ = converged
    address = data["hosts"]["control-1"]["address"]
    e = vault.environment(ENV)
    pem = f"https://{address}:8200/v1/pki_int/ca/pem"
    before = requests.get(pem, verify=str(e.ca_bundle), timeout=10).text.strip()
    assert served_issuer(address) == before

    out = datalab("vault", "rotate-intermediate")
    assert "reissued" in out

    after = requests.get(pem, verify=str(e.ca_bundle), timeout=10).text.strip()
    assert after != before, "pki_int still has the old default issuer"
    assert served_issuer(address) == after, "Vault still serves a certificate of the old CA"
    # Clients that trust only the platform root verify the new chain.
    health = requests.get(
        f"https://{address}:8200/v1/sys/health",
        verify=str(e.state / "platform-root-ca.pem"),
        timeout=10,
    )
    assert health.status_code == 200


def test_regenerated_root_token_is_revoked_by_the_next_converge(converged):
    _, inventory, _ = converged
    e = vault.environment(ENV)
    assert "new root token written" in datalab("vault", "generate-root")
    root = json.loads(e.bootstrap_file.read_text())["root_token"]
    assert e.bootstrap_file.stat().st_mode & 0o077 == 0
    assert vault.client(e, token=root).auth.token.lookup_self()["data"]["policies"] == ["root"]

    result = converge.playbook(inventory, "playbooks/vault.yml")
    assert result.returncode == 0, result.output[-3000:]
    # Only the revocation changed: the rotated intermediate left the converge idempotent.
    assert result.total_changed == 1, result.output[-5000:]
    assert "root_token" not in json.loads(e.bootstrap_file.read_text())
    with pytest.raises(hvac.exceptions.Forbidden):
        vault.client(e, token=root).auth.token.lookup_self()
    assert "datalab-admin" in vault.client(e).auth.token.lookup_self()["data"]["policies"]


def test_lost_admin_token_is_replaced_through_the_unauthenticated_ceremony(converged):
    """Runbook: with the Ansible token gone, switch the unauthenticated endpoints on for
    the ceremony, make a root token from the key shares, converge (endpoints off again, a
    new Ansible token, root revoked)."""
    _, inventory, _ = converged
    e = vault.environment(ENV)
    opened = converge.playbook(
        inventory, "playbooks/vault.yml", extra_vars=["vault_unauthenticated_generate_root=true"]
    )
    assert opened.returncode == 0, opened.output[-3000:]
    e.token_file.unlink()  # the loss
    assert "new root token written" in datalab("vault", "generate-root", "--unauthenticated")
    closed = converge.playbook(inventory, "playbooks/vault.yml")
    assert closed.returncode == 0, closed.output[-3000:]
    assert e.token_file.exists()
    assert "root_token" not in json.loads(e.bootstrap_file.read_text())
    assert "datalab-admin" in vault.client(e).auth.token.lookup_self()["data"]["policies"]
    # Switched off again: the unauthenticated endpoints refuse.
    refused = requests.post(
        f"{e.nodes['control-1']}/v1/sys/generate-root/attempt", verify=str(e.ca_bundle), timeout=10
    )
    assert refused.status_code >= 400
