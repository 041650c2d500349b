"""The object store's multi-node layout (staging/prod) in the lab: three SeaweedFS hosts
with raft masters, a filer and an S3 gateway each, and every object on two of them
(replication 001). An object written through one host is read through the others; with
one host stopped, reads and writes go on; started again, it serves what was written
meanwhile."""

from __future__ import annotations

import botocore.exceptions
import pytest
from datalab import discovery, vault

from tests.lab.conftest import CLUSTER_ENV, host_of, retry
from tests.lab.test_object_store import s3_client

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

STORE = ("data-1", "data-2", "data-3")
# An anonymous request through the gateway's name, verified against the platform CA as
# Spark and MLflow verify it: prints the status (403: a gateway answered and refused).
BY_NAME = """
import ssl, sys, urllib.error, urllib.request
ca = "/usr/local/share/ca-certificates/datalab-root-ca.crt"
try:
    urllib.request.urlopen(sys.argv[1], context=ssl.create_default_context(cafile=ca), timeout=5)
except urllib.error.HTTPError as error:
    print(error.code)
"""


@pytest.fixture(scope="module")
def cluster(data_cluster):
    data, inventory = data_cluster
    e = vault.environment(CLUSTER_ENV)
    clients = {n: s3_client(e, data["hosts"][n]["address"], "spark") for n in STORE}
    url = f"https://{discovery.fqdn('s3', data['vars']['datalab_domain'])}:8333/"
    return inventory, clients, url


def _eventually(fn, seconds=90):
    errors = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
    return retry(fn, errors, seconds, pause=2)


def _read(client, key):
    return client.get_object(Bucket="bronze", Key=key)["Body"].read()


def test_every_host_serves_what_one_host_wrote(cluster):
    _, clients, _ = cluster
    clients["data-1"].put_object(Bucket="bronze", Key="cluster/one.txt", Body=b"one")
    for name in STORE:
        assert _eventually(lambda name=name: _read(clients[name], "cluster/one.txt")) == b"one"


def test_one_host_down_reads_and_writes_go_on_then_it_catches_up(cluster):
    inventory, clients, url = cluster
    clients["data-1"].put_object(Bucket="bronze", Key="cluster/before.txt", Body=b"before")
    _eventually(lambda: _read(clients["data-3"], "cluster/before.txt"))
    down = host_of(inventory, "data-1")
    down.run("systemctl stop seaweedfs")
    try:
        # Every object has a copy on a second host; a master leader is re-elected.
        assert _eventually(lambda: _read(clients["data-2"], "cluster/before.txt")) == b"before"
        _eventually(
            lambda: clients["data-2"].put_object(
                Bucket="bronze", Key="cluster/during.txt", Body=b"during"
            )
        )
        assert _read(clients["data-3"], "cluster/during.txt") == b"during"
        # The first host is gone; a client that knows the store by its name goes on.
        client = host_of(inventory, "data-3")
        out = client.run(f"python3 - {url} <<'EOF'\n{BY_NAME}EOF")
        assert out.stdout.strip() == "403", out.stdout + out.stderr
    finally:
        down.run("systemctl start seaweedfs")
    assert _eventually(lambda: _read(clients["data-1"], "cluster/during.txt")) == b"during"
