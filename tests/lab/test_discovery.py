"""Service discovery on the converged dev environment, for real: etcd (mutual TLS, RBAC),
CoreDNS on every host's loopback and the registrar. Every catalog name resolves from every
host to its healthy instances (A) and port (SRV); a stopped service's name goes within
15 s and comes back when it starts; etcd refuses a client without a certificate and a
host that writes another host's record; `datalab smoke --only discovery` checks it. The
runbook's root rotation and snapshot restore (docs/runbooks/discovery.md), run as written
(adding and removing a member: tests/lab/test_vault_cluster.py)."""

from __future__ import annotations

import time

import pytest
import yaml
from datalab import discovery, secrets, vault

from tests.lab.conftest import ENV, datalab, host_of, retry

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]


@pytest.fixture(scope="module")
def env(converged):
    _, inventory, _ = converged
    rendered = yaml.safe_load(inventory.read_text())["all"]
    return inventory, rendered


def test_every_service_resolves_from_every_host(env):
    inventory, _ = env

    def clean():
        count, problems = discovery.check_everywhere(inventory)
        assert problems == [], problems
        return count

    # A service the converge just started registers within a check interval or two.
    assert retry(clean, (AssertionError,), 30) >= 9


def test_a_stopped_service_disappears_within_15_s_and_comes_back(env):
    inventory, rendered = env
    domain = rendered["vars"]["datalab_domain"]
    name = discovery.fqdn("prometheus", domain)
    server = sorted(rendered["children"]["prometheus"]["hosts"])[0]
    asker = sorted(rendered["children"]["compute"]["hosts"])[0]
    assert "A" in discovery.resolve(inventory, asker, [name])[name]
    host_of(inventory, server).run("systemctl stop prometheus")
    try:
        start = time.monotonic()
        while "A" in discovery.resolve(inventory, asker, [name])[name]:
            assert time.monotonic() - start < 15, f"{name} still answered after 15 s"
            time.sleep(0.5)
    finally:
        host_of(inventory, server).run("systemctl start prometheus")
    back = retry(lambda: discovery.resolve(inventory, asker, [name])[name]["A"], (KeyError,), 60)
    assert back == [rendered["hosts"][server]["ansible_host"]]


ETCDCTL = "/opt/datalab/etcd/3.7.4/bin/etcdctl"


def test_etcd_refuses_no_certificate_and_another_hosts_record(env):
    inventory, rendered = env
    member = sorted(rendered["children"]["etcd"]["hosts"])[0]
    address = rendered["hosts"][member]["ansible_host"]
    other = sorted(rendered["children"]["data"]["hosts"])[0]
    zone = "/".join(reversed(f"service.{rendered['vars']['datalab_domain']}".split(".")))
    host = host_of(inventory, member)
    ctl = f"{ETCDCTL} --endpoints=https://{address}:2379 --cacert=/etc/datalab/vault-ca.pem"
    tls = "/etc/datalab/discovery/tls"
    as_host = f"{ctl} --cert={tls}/server.crt --key={tls}/server.key"
    # No client certificate: the TLS handshake itself is refused.
    anonymous = host.run(
        f"{ctl} --dial-timeout=3s --command-timeout=5s get /skydns --prefix --keys-only"
    )
    assert anonymous.rc != 0, anonymous.stdout
    # The member host's own identity reads every record ...
    records = host.run(f"{as_host} get /skydns/{zone} --prefix --keys-only")
    assert records.rc == 0 and f"/skydns/{zone}/s3/{other}" in records.stdout, records.stderr
    # ... but may not write another host's record, nor anything outside its own keys.
    for key in (f"/skydns/{zone}/s3/{other}", f"/skydns/{zone}/s3/{member}", "/anything"):
        write = host.run(f'{as_host} put {key} \'{{"host":"10.9.9.9"}}\'')
        assert write.rc != 0 and "permission denied" in write.stderr, (key, write.stderr)


def test_smoke_checks_discovery(env):
    out = datalab("smoke", "--only", "discovery", env=ENV)
    assert "discovery" in out and "FAIL" not in out, out


def _as_root(host, password: str, *args: str):
    """etcdctl on the member as user root with `password` (over the member's TLS)."""
    # testinfra quotes each %s: the etcdctl arguments (constants here) go in as words.
    command = "ETCDCTL_USER=root ETCDCTL_PASSWORD=%s datalab-etcdctl " + " ".join(args)
    return host.run(command, password)


def test_runbook_rotate_the_root_credential(env):
    inventory, rendered = env
    host = host_of(inventory, sorted(rendered["children"]["etcd"]["hosts"])[0])
    e = vault.environment(ENV)
    old = secrets.get(e, "etcd/root")[0]["password"]
    assert _as_root(host, old, "user", "get", "root").rc == 0
    out = datalab("secrets", "rotate", "etcd/root")
    assert "datalab/etcd/root: new version" in out
    new = secrets.get(e, "etcd/root")[0]["password"]
    assert new != old
    assert _as_root(host, new, "user", "get", "root").rc == 0
    refused = _as_root(host, old, "user", "get", "root")
    assert refused.rc != 0 and "authentication failed" in refused.stderr, refused.stderr


def test_runbook_restore_a_snapshot(env):
    inventory, rendered = env
    host = host_of(inventory, sorted(rendered["children"]["etcd"]["hosts"])[0])
    assert host.run("datalab-etcdctl put /datalab-restore-check before").rc == 0
    saved = host.check_output(
        "systemctl start datalab-etcd-snapshot.service && ls -1t "
        "/var/lib/datalab/etcd/snapshots/etcd-*.db | head -n 1"
    )
    assert host.run("datalab-etcdctl put /datalab-restore-check after").rc == 0
    # The runbook: stop etcd on every member, restore each from the same file, start.
    refused = host.run("datalab-etcd-restore %s", saved)
    assert refused.rc == 1 and "stop it on every member" in refused.stderr
    restore = host.run(
        "systemctl stop etcd && datalab-etcd-restore %s && systemctl start etcd", saved
    )
    assert restore.rc == 0, restore.stderr
    got = host.check_output("datalab-etcdctl get /datalab-restore-check --print-value-only")
    assert got == "before"
    host.run("datalab-etcdctl del /datalab-restore-check")
    # The registrars' records come back (their leases in the snapshot are gone).
    retry(lambda: test_every_service_resolves_from_every_host(env), (AssertionError,), 60)
