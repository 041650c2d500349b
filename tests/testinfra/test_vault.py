"""Vault hosts: OpenBao active or standby, TLS only, its certificate from the platform PKI."""

import json

import pytest


@pytest.fixture
def vault_host(host):
    if "vault" not in host.ansible.get_variables().get("group_names", []):
        pytest.skip("not a vault host")
    return host


def test_openbao_runs_as_its_user(vault_host):
    service = vault_host.service("openbao")
    assert service.is_running and service.is_enabled
    assert vault_host.process.get(comm="bao").user == "openbao"


def test_listens_on_tls_only(vault_host):
    address = vault_host.ansible.get_variables()["ansible_host"]
    assert vault_host.socket(f"tcp://{address}:8200").is_listening
    plain = vault_host.run(
        f"python3 -c \"import urllib.request as u; u.urlopen('http://{address}:8200/v1/sys/health')\""
    )
    assert plain.rc != 0 and "400" in plain.stderr


def test_unsealed_and_certificate_verifies_with_system_trust(vault_host):
    address = vault_host.ansible.get_variables()["ansible_host"]
    out = vault_host.run(
        f"python3 -c \"import json,urllib.request as u; print(u.urlopen('https://{address}:8200/v1/sys/health?standbyok=true').read().decode())\""
    )
    assert out.rc == 0, out.stderr
    health = json.loads(out.stdout)
    assert health["initialized"] and not health["sealed"]


def test_certificate_renewal_is_scheduled(vault_host):
    timer = vault_host.service("datalab-cert-renew@vault.timer")
    assert timer.is_enabled
    key = vault_host.file("/etc/openbao/tls/server.key")
    assert key.user == "openbao" and key.mode == 0o600
