"""The object store (SeaweedFS) in the lab, for real: S3 over TLS only, internal ports
only for the store's own hosts and only with a client certificate, one key per consumer
granted only its buckets, versioning, key rotation, hardened service."""

from __future__ import annotations

import boto3
import botocore.config
import botocore.exceptions
import pytest
import requests
from datalab import secrets, vault

from tests.lab.conftest import ENV, datalab, host_of

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

BUCKETS = {"landing", "bronze", "silver", "gold", "quarantine", "mlflow", "prefect", "spark-logs"}


@pytest.fixture(scope="module")
def store(converged):
    data, inventory, _ = converged
    e = vault.environment(ENV)
    address = data["hosts"]["data-1"]["address"]
    return e, inventory, address


def s3(store, consumer: str, secret: str | None = None):
    e, _, address = store
    return s3_client(e, address, consumer, secret)


def s3_client(e: vault.Env, address: str, consumer: str, secret: str | None = None):
    """An S3 client of `consumer` (its key from Vault) for the gateway at `address`."""
    key, _ = secrets.get(e, f"object_store/{consumer}")
    return boto3.client(
        "s3",
        endpoint_url=f"https://{address}:8333",
        aws_access_key_id=key["access_key"],
        aws_secret_access_key=secret or key["secret_key"],
        region_name="us-east-1",
        verify=str(e.state / "platform-root-ca.pem"),
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    )


def refused(call) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"]


def test_buckets_exist_with_versioning_on_raw_data(store):
    admin = s3(store, "admin")
    assert {b["Name"] for b in admin.list_buckets()["Buckets"]} == BUCKETS
    assert admin.get_bucket_versioning(Bucket="landing")["Status"] == "Enabled"
    assert admin.get_bucket_versioning(Bucket="quarantine")["Status"] == "Enabled"


def test_a_key_writes_only_the_buckets_it_is_granted(store):
    spark, mlflow, prefect = s3(store, "spark"), s3(store, "mlflow"), s3(store, "prefect")
    spark.put_object(Bucket="bronze", Key="probe/spark.txt", Body=b"spark")
    assert spark.get_object(Bucket="bronze", Key="probe/spark.txt")["Body"].read() == b"spark"
    mlflow.put_object(Bucket="mlflow", Key="probe/mlflow.txt", Body=b"mlflow")
    assert refused(lambda: mlflow.put_object(Bucket="bronze", Key="x", Body=b"x")) == "AccessDenied"
    assert refused(lambda: prefect.put_object(Bucket="gold", Key="x", Body=b"x")) == "AccessDenied"
    assert refused(lambda: spark.put_object(Bucket="landing", Key="x", Body=b"x")) == "AccessDenied"
    assert refused(lambda: spark.get_object(Bucket="mlflow", Key="probe/mlflow.txt")) == (
        "AccessDenied"
    )


def test_wrong_secret_and_anonymous_are_refused(store):
    wrong = s3(store, "spark", secret="x" * 40)  # a wrong secret key
    assert refused(lambda: wrong.list_objects_v2(Bucket="bronze")) == "SignatureDoesNotMatch"
    e, _, address = store
    anonymous = requests.get(
        f"https://{address}:8333/bronze", verify=str(e.state / "platform-root-ca.pem"), timeout=10
    )
    assert anonymous.status_code == 403


def test_only_tls_answers(store):
    _, _, address = store
    plain = requests.get(f"http://{address}:8333/", timeout=5)
    assert plain.status_code == 400
    assert "HTTP request to an HTTPS server" in plain.text


def test_internal_ports_need_the_store_hosts_certificate(store):
    e, inventory, address = store
    host = host_of(inventory, "data-1")

    def fetch(url, client_cert=False):
        load = "c.load_cert_chain(TLS + '/server.crt', TLS + '/server.key');" if client_cert else ""
        code = (
            "import ssl, urllib.request as u; TLS = '/etc/seaweedfs/tls';"
            "CA = '/usr/local/share/ca-certificates/datalab-root-ca.crt';"
            "c = ssl.create_default_context(cafile=CA);"
            f"{load}print(u.urlopen('{url}', context=c, timeout=5).status)"
        )
        return host.run(f'python3 -c "{code}"')

    for port in (9333, 8888):
        without = fetch(f"https://{address}:{port}/")
        assert without.rc != 0, f"{port} answered without a client certificate"
        mutual = fetch(f"https://{address}:{port}/", client_cert=True)
        assert mutual.stdout.strip() == "200", mutual.stderr
        plain = fetch(f"http://{address}:{port}/")
        assert plain.rc != 0 and "400" in plain.stderr
    # From outside the object store group (the controller) the ports are closed.
    for port in (9333, 19333, 8080, 8888):
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"https://{address}:{port}/", verify=False, timeout=3)  # noqa: S501


def test_runs_unprivileged_sandboxed_with_private_data(store):
    _, inventory, _ = store
    host = host_of(inventory, "data-1")
    assert {p.user for p in host.process.filter(comm="weed")} == {"seaweedfs"}
    data = host.file("/var/lib/datalab/object_store")
    assert (data.user, data.group, data.mode) == ("seaweedfs", "seaweedfs", 0o750)
    key = host.file("/etc/seaweedfs/tls/server.key")
    assert (key.user, key.mode) == ("seaweedfs", 0o600)
    config = host.file("/etc/seaweedfs/s3.json")
    assert (config.user, config.group, config.mode) == ("root", "seaweedfs", 0o640)
    show = host.run("systemctl show seaweedfs -p NoNewPrivileges -p ProtectSystem -p User").stdout
    assert "NoNewPrivileges=yes" in show and "ProtectSystem=strict" in show


def test_rotating_a_key_retires_the_old_one(store):
    """Runbook 'Rotate the object store keys'."""
    e, _, _ = store
    old = s3(store, "prefect")
    old.put_object(Bucket="prefect", Key="probe/before", Body=b"1")
    datalab("secrets", "rotate", "object_store/prefect")
    assert refused(lambda: old.put_object(Bucket="prefect", Key="x", Body=b"x")) in (
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
    )
    new = s3(store, "prefect")
    assert new.get_object(Bucket="prefect", Key="probe/before")["Body"].read() == b"1"
