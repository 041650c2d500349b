"""Security core on real OpenBao in the lab (same environment as the foundation tests):
Vault health, TLS only, certificates from the platform PKI, bootstrap material kept
private, per-service least privilege, generated secrets, firewall, bad input."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import hvac
import pytest
import requests
from datalab import DatalabError, converge, secrets, vault
from datalab.proc import run

from tests.lab.conftest import ENV, host_of

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]


@pytest.fixture(scope="module")
def env(converged):
    data, inventory, first = converged
    return vault.environment(ENV), data, inventory, first


def _address(data, name):
    return data["hosts"][name]["address"]


def _served_cert(address: str, cafile) -> dict:
    context = ssl.create_default_context(cafile=str(cafile))
    with (
        socket.create_connection((address, 8200), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=address) as tls,
    ):
        return tls.getpeercert()


def test_vault_is_unsealed_and_active(env):
    e, *_ = env
    rows = vault.status(e)
    assert [r["role"] for r in rows] == ["active"]
    assert rows[0]["initialized"] is True and rows[0]["version"].startswith("2.")


def test_plain_http_gets_no_answer(env):
    e, data, *_ = env
    response = requests.get(f"http://{_address(data, 'control-1')}:8200/v1/sys/health", timeout=5)
    assert response.status_code == 400
    assert "HTTP request to an HTTPS server" in response.text


def test_listener_certificate_chains_to_the_platform_root(env):
    e, data, *_ = env
    cert = _served_cert(_address(data, "control-1"), e.state / "platform-root-ca.pem")
    issuer = dict(x[0] for x in cert["issuer"])
    assert issuer["commonName"] == f"DataLab {ENV} Intermediate CA"
    sans = {v for _, v in cert["subjectAltName"]}
    domain = f"{ENV}.datalab.internal"
    assert {"control-1", f"control-1.{domain}", f"vault.service.{domain}"} <= sans


def test_every_host_trusts_the_platform_root(env):
    e, data, inventory, _ = env
    for name in data["hosts"]:
        host = host_of(inventory, name)
        out = host.run(
            f"openssl s_client -connect {_address(data, 'control-1')}:8200 -verify_return_error "
            "-CApath /etc/ssl/certs </dev/null"
        )
        assert "Verify return code: 0 (ok)" in out.stdout, (name, out.stdout[-500:])


def test_bootstrap_material_is_private_and_root_is_revoked(env):
    e, _, _, first = env
    assert (e.state.stat().st_mode & 0o777) == 0o700
    for secret_file in (e.bootstrap_file, e.token_file):
        assert (secret_file.stat().st_mode & 0o777) == 0o600
    boot = json.loads(e.bootstrap_file.read_text())
    assert "root_token" not in boot and len(boot["keys_b64"]) == 5
    token = e.token_file.read_text().strip()
    # Nothing secret ever reached Ansible's output.
    for value in [token, *boot["keys_b64"]]:
        assert value not in first.output
    info = vault.client(e).auth.token.lookup_self()["data"]
    assert info["policies"] == ["datalab-admin", "default"] or "root" not in info["policies"]


def test_generated_secret_is_stable_and_rotation_makes_a_new_version(env):
    e, _, inventory, _ = env
    play = [
        sys.executable,
        "-m",
        "ansible",
        "adhoc",
        "localhost",
        "-i",
        str(inventory),
        # The operator's own user, as the roles' delegated tasks do (become: false).
        "-e",
        "ansible_become=false",
        "-m",
        "datalab_vault",
        "-a",
        json.dumps(
            {
                "action": "kv_generate",
                "url": next(iter(e.nodes.values())),
                "ca_cert": str(e.ca_bundle),
                "token_file": str(e.token_file),
                "path": "datalab/spark/auth",
                "keys": {"secret": 40},
            }
        ),
    ]
    for _ in range(2):
        out = run(play, env=converge.environ(), capture=True, check=False)
        assert out.returncode == 0, out.stdout + out.stderr
    data, version = secrets.get(e, "spark/auth")
    assert version == 1 and len(data["secret"]) == 40  # generated once, returned after
    assert "spark/auth" in secrets.list_paths(e)
    datalab = str(Path(sys.executable).parent / "datalab")
    out = subprocess.run(
        [datalab, "secrets", "rotate", "spark/auth", "--env", ENV],
        capture_output=True,
        text=True,
        env=converge.environ(),
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "datalab/spark/auth: new version 2" in out.stdout
    assert "compute-1" in out.stderr and "control-1" not in out.stderr.split("PLAY RECAP")[-1]
    rotated, version = secrets.get(e, "spark/auth")
    assert version == 2 and rotated["secret"] != data["secret"]
    assert secrets.mask(rotated["secret"]).startswith("********")


# Logs in as the `vault` service on its own host, with its own AppRole files, and
# reports the HTTP status of reads and writes inside and outside its grant.
ISOLATION_PROBE = """
import json, ssl, urllib.request, urllib.error
ctx = ssl.create_default_context(cafile="/etc/datalab/vault-ca.pem")
spec = json.load(open("/etc/datalab/certs/vault.json"))
base = spec["vault_addrs"][0]
own = next(n for n in spec["alt_names"] if n.startswith("vault.service."))
def call(path, body=None, token=None):
    data = json.dumps(body).encode() if body else None
    headers = {"X-Vault-Token": token} if token else {}
    req = urllib.request.Request(base + "/v1/" + path, data=data, headers=headers)
    try:
        return urllib.request.urlopen(req, context=ctx).status
    except urllib.error.HTTPError as exc:
        return exc.code
role = open("/etc/datalab/approle/vault/role_id").read().strip()
secret = open("/etc/datalab/approle/vault/secret_id").read().strip()
req = urllib.request.Request(base + "/v1/auth/approle/login",
    data=json.dumps({"role_id": role, "secret_id": secret}).encode())
token = json.load(urllib.request.urlopen(req, context=ctx))["auth"]["client_token"]
print(json.dumps({
  "own": call("datalab/data/vault/probe", token=token),
  "other": call("datalab/data/kafka/probe", token=token),
  "own_cert": call("pki_int/issue/vault", {"common_name": own}, token),
  "other_cert": call("pki_int/issue/kafka", {"common_name": "kafka" + own[len("vault"):]}, token),
  "policy_write": call("sys/policies/acl/vault", {"policy": "path \\"*\\" {}"}, token),
}))
"""
ISOLATED = {"own": 200, "other": 403, "own_cert": 200, "other_cert": 403, "policy_write": 403}


def service_isolation(e: vault.Env, host) -> dict:
    """Status codes the vault service's AppRole gets (expect ISOLATED)."""
    admin = vault.client(e)
    for path, value in (("vault/probe", "own"), ("kafka/probe", "other")):
        admin.secrets.kv.v2.create_or_update_secret(
            path, secret={"v": value}, mount_point="datalab"
        )
    encoded = base64.b64encode(ISOLATION_PROBE.encode()).decode()
    out = host.run(f"echo {encoded} | base64 -d | python3")
    assert out.rc == 0, out.stderr
    return json.loads(out.stdout)


def test_a_service_cannot_read_another_services_secrets(env):
    e, _, inventory, _ = env
    assert service_isolation(e, host_of(inventory, "control-1")) == ISOLATED


def test_approle_login_from_another_host_is_refused(env):
    e, data, inventory, _ = env
    # The vault AppRole's secret ID is bound to control-1: the same files used from
    # this machine (a different address) do not log in.
    host = host_of(inventory, "control-1")
    role = host.file("/etc/datalab/approle/vault/role_id").content_string.strip()
    secret = host.file("/etc/datalab/approle/vault/secret_id").content_string.strip()
    c = hvac.Client(url=next(iter(e.nodes.values())), verify=str(e.ca_bundle))
    with pytest.raises((hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden)):
        c.auth.approle.login(role, secret)


def test_only_allowlisted_ports_answer_other_hosts(env):
    _, data, inventory, _ = env
    data_host = host_of(inventory, "data-1")
    control = host_of(inventory, "control-1")
    # A listener nobody allowed: reachable locally, dropped from another host.
    data_host.run("systemd-run --unit=probe-listener python3 -m http.server 9999 --bind 0.0.0.0")
    try:
        # systemd-run returns before the server listens: poll for it (slow on 2 loaded cores).
        local = (
            "import time, urllib.request\n"
            "for _ in range(60):\n"
            "    try: urllib.request.urlopen('http://127.0.0.1:9999', timeout=5); break\n"
            "    except OSError: time.sleep(0.5)\n"
            "else: raise SystemExit(1)"
        )
        assert data_host.run(f'python3 -c "{local}"').rc == 0
        connect = (
            "import socket; s = socket.socket(); s.settimeout(3); s.connect(('{addr}', {port}))"
        )
        probe = f'python3 -c "{connect}"'
        assert control.run(probe.format(addr=_address(data, "data-1"), port=9999)).rc != 0
        # SSH is only for the admin sources (this machine), not host to host.
        assert control.run(probe.format(addr=_address(data, "data-1"), port=22)).rc != 0
        # Vault's API is allow-listed for every platform host.
        assert data_host.run(probe.format(addr=_address(data, "control-1"), port=8200)).rc == 0
    finally:
        data_host.run("systemctl stop probe-listener")


def test_vault_runs_unprivileged_and_sandboxed(env):
    _, _, inventory, _ = env
    host = host_of(inventory, "control-1")
    props = dict(
        line.split("=", 1)
        for line in host.run(
            "systemctl show openbao -p User -p NoNewPrivileges -p ProtectSystem -p ProtectHome "
            "-p PrivateTmp -p CapabilityBoundingSet -p ReadWritePaths -p ActiveState"
        ).stdout.splitlines()
    )
    assert props["ActiveState"] == "active" and props["User"] == "openbao"
    assert props["NoNewPrivileges"] == "yes" and props["ProtectSystem"] == "strict"
    assert props["ProtectHome"] == "yes" and props["PrivateTmp"] == "yes"
    assert props["CapabilityBoundingSet"] == ""
    assert host.process.get(comm="bao").user == "openbao"
    key = host.file("/etc/openbao/tls/server.key")
    assert key.user == "openbao" and key.mode == 0o600
    assert host.file("/var/lib/datalab/vault").mode == 0o750


def test_wrong_token_is_a_clear_error(env, tmp_path):
    e, *_ = env
    bad = tmp_path / "token"
    bad.write_text("s.not-a-token")
    bad_env = vault.Env(name=e.name, state=e.state, nodes=e.nodes)
    c = vault.client(bad_env, token=bad.read_text())
    with pytest.raises(DatalabError) as err:
        vault._call(
            "read", lambda: c.secrets.kv.v2.read_secret_version("spark/auth", mount_point="datalab")
        )
    assert "permission denied" in str(err.value) and "runbooks/vault.md" in str(err.value)


def test_missing_unseal_keys_is_a_clear_error(env, tmp_path):
    e, *_ = env
    elsewhere = vault.Env(name=e.name, state=tmp_path, nodes=e.nodes)
    (tmp_path / "ca-bundle.pem").write_text(e.ca_bundle.read_text())
    with pytest.raises(
        Exception, match="no unseal keys: .* is missing. Pass the key shares with --key"
    ):
        vault.unseal(elsewhere)


def test_unseal_after_restart(env):
    """Runbook 'Unseal after a restart': restart the server, it comes back sealed, and
    `datalab vault unseal` brings it back."""
    e, _, inventory, _ = env
    host_of(inventory, "control-1").run("systemctl restart openbao")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = vault.status(e)
        if rows[0]["role"] == "sealed":
            break
        time.sleep(1)
    assert rows[0]["role"] == "sealed"
    datalab = str(Path(sys.executable).parent / "datalab")
    out = subprocess.run(
        [datalab, "vault", "unseal", "--env", ENV],
        capture_output=True,
        text=True,
    )
    assert "control-1: unsealed" in out.stdout, out.stdout + out.stderr
    assert vault.status(e)[0]["role"] == "active"
