"""HashiCorp Vault as the Vault flavour (`vault_flavour = "vault"`), for real: Vault
1.21.4 built from source through the Go module proxy (glue/datalab/builds/vault.sh),
converged by the same roles as OpenBao on one lab node: TLS only, raft, audit device
(through the API: HashiCorp Vault has no declarative audit), PKI-issued listener
certificate, AppRole isolation, idempotent; and the root-token ceremony through the
unauthenticated sys/generate-root endpoints, the only ones Vault has."""

from __future__ import annotations

import json
from pathlib import Path

import hvac
import pytest
import requests
from datalab import artifacts, converge, hosts, vault

from tests.lab.conftest import VAULT_LAYERS, containers, datalab, fresh_hosts, host_of
from tests.lab.test_security import ISOLATED, _served_cert, service_isolation

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

ENV = "labvault"
VAR_FILE = Path(__file__).parent / "labvault.tfvars"


@pytest.fixture(scope="module")
def node(lab_services):
    # The store makes Vault only for environments that select it; this one does. A cold
    # build takes about 15 minutes, a warm one seconds.
    pin = next(a for a in artifacts.load_manifest() if a.name == "vault")
    artifacts.ensure(pin, artifacts.store_dir())
    fresh_hosts(ENV, VAR_FILE)
    inventory = hosts.key_dir(ENV) / "inventory.yml"
    first = converge.playbook(inventory, *VAULT_LAYERS, limit="control-1")
    assert first.returncode == 0, first.output[-5000:]
    yield inventory, vault.environment(ENV), first
    hosts.down(ENV, var_file=VAR_FILE)
    assert containers(ENV) == []


def test_the_server_is_hashicorp_vault_over_tls_only(node):
    inventory, e, _ = node
    host = host_of(inventory, "control-1")
    assert "Vault v1.21.4" in host.run("vault version").stdout
    service = host.service("vault")
    assert service.is_running and service.is_enabled
    assert {p.user for p in host.process.filter(comm="vault")} == {"vault"}
    (status,) = vault.status(e)
    assert status["sealed"] is False and status["role"] == "active"
    # No plaintext listener: an HTTP request to the API port gets Go's TLS error answer.
    url = e.nodes["control-1"].replace("https://", "http://") + "/v1/sys/health"
    response = requests.get(url, timeout=5)
    assert response.status_code == 400
    assert "HTTP request to an HTTPS server" in response.text


def test_listener_certificate_is_from_pki_int(node):
    inventory, e, _ = node
    address = e.nodes["control-1"].removeprefix("https://").split(":")[0]
    cert = _served_cert(address, e.state / "platform-root-ca.pem")
    assert dict(x[0] for x in cert["issuer"])["commonName"] == f"DataLab {ENV} Intermediate CA"


def test_audit_device_on_and_writing(node):
    inventory, e, _ = node
    devices = vault.client(e).sys.list_enabled_audit_devices()["data"]
    assert devices["file/"]["type"] == "file"
    log = host_of(inventory, "control-1").file("/var/log/datalab-vault/audit.log")
    assert log.exists and log.user == "vault" and log.mode == 0o600 and log.size > 0


def test_a_service_reads_only_its_own_secrets(node):
    inventory, e, _ = node
    assert service_isolation(e, host_of(inventory, "control-1")) == ISOLATED


def test_second_converge_and_check_mode_change_nothing(node):
    inventory, _, _ = node
    again = converge.playbook(inventory, *VAULT_LAYERS, limit="control-1")
    assert again.returncode == 0, again.output[-3000:]
    assert again.total_changed == 0, again.changed_tasks
    check = converge.playbook(inventory, *VAULT_LAYERS, limit="control-1", check=True)
    assert check.returncode == 0, check.output[-3000:]
    assert check.total_changed == 0, check.changed_tasks


def test_generate_root_through_the_unauthenticated_endpoints(node):
    """Runbook 'Regenerate a root token', HashiCorp flavour: the key shares alone make
    a root token; the next converge uses it for the admin policy and revokes it."""
    inventory, e, _ = node
    out = datalab("vault", "generate-root", env=ENV)
    assert "new root token written" in out
    root = json.loads(e.bootstrap_file.read_text())["root_token"]
    assert vault.client(e, token=root).auth.token.lookup_self()["data"]["policies"] == ["root"]
    result = converge.playbook(inventory, *VAULT_LAYERS, limit="control-1")
    assert result.returncode == 0, result.output[-3000:]
    assert root not in result.output
    with pytest.raises(hvac.exceptions.Forbidden):
        vault.client(e, token=root).auth.token.lookup_self()
