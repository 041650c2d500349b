"""Data plane hosts: the object store, PostgreSQL and Kafka each run as their own user, keep
their data private, and answer only over TLS with a certificate the system trusts."""

import pytest


def _member(host, group):
    if group not in host.ansible.get_variables().get("group_names", []):
        pytest.skip(f"not a {group} host")
    return host.ansible.get_variables()["ansible_host"]


def _fetch(host, url):
    code = f"import urllib.request as u; print(u.urlopen('{url}', timeout=5).status)"
    return host.run(f'python3 -c "{code}"')


def test_object_store_runs_as_its_user_with_private_data(host):
    _member(host, "object_store")
    assert host.service("seaweedfs").is_running
    assert {p.user for p in host.process.filter(comm="weed")} == {"seaweedfs"}
    with host.sudo():
        data = host.file("/var/lib/datalab/object_store")
        assert (data.user, data.mode) == ("seaweedfs", 0o750)


def test_object_store_s3_answers_tls_only(host):
    address = _member(host, "object_store")
    tls = _fetch(host, f"https://{address}:8333/")  # verified with the system trust store
    assert "403" in tls.stderr, tls.stderr  # anonymous: refused, but over verified TLS
    plain = _fetch(host, f"http://{address}:8333/")
    assert plain.rc != 0 and "400" in plain.stderr


def test_postgres_runs_as_its_user_sandboxed_with_private_data(host):
    address = _member(host, "postgres")
    assert {p.user for p in host.process.filter(comm="postgres")} == {"postgres"}
    with host.sudo():
        data = host.file("/var/lib/datalab/postgres/15/main")
        assert (data.user, data.mode) == ("postgres", 0o700)
    props = host.run("systemctl show postgresql@15-main -p User -p ProtectSystem").stdout
    assert "User=postgres" in props and "ProtectSystem=strict" in props
    assert host.socket(f"tcp://{address}:5432").is_listening
    assert not host.socket("tcp://0.0.0.0:5432").is_listening


def test_kafka_runs_as_its_user_with_tls_listeners_only(host):
    address = _member(host, "kafka")
    assert host.service("kafka").is_running
    props = host.run("systemctl show kafka -p User -p ProtectSystem").stdout
    assert "User=kafka" in props and "ProtectSystem=strict" in props
    with host.sudo():
        data = host.file("/var/lib/datalab/kafka/data")
        assert data.user == "kafka" and data.mode & 0o027 == 0
    # The client listener speaks TLS with a certificate the system trusts.
    code = (
        "import socket, ssl; c = ssl.create_default_context(); "
        f"s = c.wrap_socket(socket.create_connection(('{address}', 9093), 5), "
        f"server_hostname='{address}'); print(s.version())"
    )
    assert host.run(f'python3 -c "{code}"').stdout.startswith("TLSv1.")
    assert not host.socket("tcp://0.0.0.0:9093").is_listening
    assert not host.socket(f"tcp://{address}:9092").is_listening
