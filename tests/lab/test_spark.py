"""Spark (issue 4) in the lab, for real: a PySpark driver on the compute host submits to
the standalone master (spark://, not local mode), writes a Delta table to the object
store over S3A/TLS, MERGEs into it and reads it back; the UIs answer over TLS only, a
driver with a wrong spark.authenticate secret is refused, the daemons run as `spark`
from sandboxed units and their directories are closed to others."""

from __future__ import annotations

import shlex
import time

import pytest
import requests
from datalab import converge, hosts, vault

from tests.lab.conftest import ENV, OVERRIDES, containers, grown_env_file, host_of, retry

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

MASTER_UI = 8480  # 8080 + 400: HTTPS; 8080 itself only redirects and is not opened
WORKER_UI = 8481

JOB = r"""
import sys
import time

from pyspark.sql import SparkSession

builder = (
    SparkSession.builder.appName("datalab-lab-delta")
    # A small table: few partitions keep the job short.
    .config("spark.sql.shuffle.partitions", "4")
    .config("spark.databricks.delta.snapshotPartitions", "2")
)
if len(sys.argv) > 2:
    builder = builder.config("spark.authenticate.secret", sys.argv[2])
    builder = builder.config("spark.ui.enabled", "false")
spark = builder.getOrCreate()
from delta.tables import DeltaTable

sc = spark.sparkContext
assert sc.master.startswith("spark://"), sc.master
path = sys.argv[1]
start = time.monotonic()
spark.range(0, 100).selectExpr("id", "'v1' AS tag").write.format("delta").mode(
    "overwrite"
).save(path)
updates = spark.range(90, 120).selectExpr("id", "'v2' AS tag")
(
    DeltaTable.forPath(spark, path).alias("t")
    .merge(updates.alias("u"), "t.id = u.id")
    .whenMatchedUpdateAll()
    .whenNotMatchedInsertAll()
    .execute()
)
table = spark.read.format("delta").load(path)
rows, updated = table.count(), table.filter("tag = 'v2'").count()
versions = DeltaTable.forPath(spark, path).history().count()
executors = sc._jsc.sc().getExecutorMemoryStatus().size() - 1
jvm = sc._jvm
events = jvm.org.apache.hadoop.fs.Path("s3a://spark-logs/events/")
fs = events.getFileSystem(sc._jsc.hadoopConfiguration())
logs = [s.getPath().getName() for s in fs.listStatus(events)]
print("RESULT", rows, updated, versions, executors, sc.applicationId,
      int(any(sc.applicationId in n for n in logs)),
      round(time.monotonic() - start, 1), flush=True)
spark.stop()
"""


@pytest.fixture(scope="module")
def spark(converged):
    data, inventory, _ = converged
    host = host_of(inventory, "compute-1")
    address = data["hosts"]["compute-1"]["address"]
    return vault.environment(ENV), inventory, host, address


def driver(host, *args: str, timeout: int = 300):
    command = " ".join(shlex.quote(a) for a in ["datalab-pyspark", "-c", JOB, *args])
    start = time.monotonic()
    out = host.run(f"timeout {timeout} runuser -u spark -- {command}")
    return out, time.monotonic() - start


def test_job_on_the_cluster_writes_merges_and_reads_a_delta_table_on_s3(spark):
    _, _, host, _ = spark
    table = f"s3a://bronze/labtest/delta-{int(time.time())}"
    out, wall = driver(host, table)
    assert out.rc == 0, out.stdout[-3000:] + out.stderr[-5000:]
    result = next(line for line in out.stdout.splitlines() if line.startswith("RESULT"))
    _, rows, updated, versions, executors, app, logged, job_s = result.split()
    assert (int(rows), int(updated), int(versions)) == (120, 30, 2)
    assert int(executors) >= 1, "the job ran on the cluster's executors"
    assert app.startswith("app-"), "a standalone application id (local mode says local-)"
    assert logged == "1", "the event log is in s3a://spark-logs/events/"
    print(f"job: {job_s} s of Spark work, {wall:.0f} s wall with the driver's start")


def test_master_ui_only_over_tls_with_a_live_worker(spark):
    e, _, host, address = spark
    ca = str(e.state / "platform-root-ca.pem")
    status = requests.get(f"https://{address}:{MASTER_UI}/json/", verify=ca, timeout=10)
    assert status.status_code == 200
    assert status.json()["status"] == "ALIVE" and status.json()["aliveworkers"] >= 1
    assert requests.get(f"https://{address}:{WORKER_UI}/", verify=ca, timeout=10).ok
    # Plain HTTP on the TLS port gets no page.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://{address}:{MASTER_UI}/json/", timeout=10)
    # The plain UI port is closed to the network...
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(f"http://{address}:8080/", timeout=5)
    # ...and on the host it only redirects to HTTPS.
    probe = (
        f"import http.client; c = http.client.HTTPConnection('{address}', 8080, timeout=5); "
        "c.request('GET', '/'); r = c.getresponse(); print(r.status, r.getheader('Location'))"
    )
    out = host.check_output(f"python3 -c {shlex.quote(probe)}")
    code, location = out.split()
    assert 300 <= int(code) < 400 and location.startswith(f"https://{address}:{MASTER_UI}")
    # No listener on all addresses, no REST submission port.
    assert not host.socket("tcp://0.0.0.0:8480").is_listening
    assert not host.socket(f"tcp://{address}:6066").is_listening


def test_a_driver_with_a_wrong_secret_is_refused(spark):
    _, _, host, _ = spark
    out, _ = driver(host, "s3a://bronze/labtest/never", "wrong-secret-" + "x" * 27, timeout=150)
    assert out.rc != 0
    assert "RESULT" not in out.stdout
    # The master closes the connection in the authentication handshake, every retry.
    assert "Failed to connect to master" in out.stderr
    assert "AuthClientBootstrap" in out.stderr
    assert "All masters are unresponsive! Giving up." in out.stderr


def test_daemons_run_as_spark_in_sandboxed_units(spark):
    _, _, host, _ = spark
    for unit in ("spark-master", "spark-worker"):
        service = host.service(unit)
        assert service.is_running and service.is_enabled
        props = host.check_output(
            f"systemctl show {unit} -p User -p ProtectSystem -p NoNewPrivileges -p MainPID"
        )
        assert "User=spark" in props and "ProtectSystem=strict" in props
        assert "NoNewPrivileges=yes" in props
    users = host.check_output("ps -o user= -C java").split()
    assert users and set(users) == {"spark"}
    for path in ("/var/lib/datalab/spark", "/etc/spark", "/etc/spark/tls"):
        f = host.file(path)
        assert f.group == "spark" and f.mode & 0o027 == 0, (path, oct(f.mode))
    for path in ("/etc/spark/spark-defaults.conf", "/etc/spark/tls/keystore.p12"):
        f = host.file(path)
        assert f.user == "root" and f.group == "spark" and f.mode == 0o640, path
    assert host.file("/var/lib/datalab/spark").user == "spark"


def test_daemons_idle_memory_is_modest(spark):
    _, _, host, _ = spark
    for unit in ("spark-master", "spark-worker"):
        pid = host.check_output(f"systemctl show {unit} -p MainPID --value")
        rss_kb = int(host.check_output(f"ps -o rss= -p {pid}"))
        print(f"{unit}: idle RSS {rss_kb // 1024} MB")
        assert rss_kb < 700 * 1024


def test_adding_a_worker_per_the_runbook(spark, tmp_path):
    """docs/runbooks/spark.md: one more compute host in the environment file, `hosts up`,
    site.yml; the master then has two workers and a job gets an executor on each.
    Last in this module: the environment keeps the new host (converged like the others)."""
    e, inventory, host, address = spark
    var_file = grown_env_file(tmp_path)
    before = set(containers())
    start = time.monotonic()
    data = hosts.up(ENV, var_file=var_file, overrides=OVERRIDES)
    assert "compute-2" in data["hosts"]
    assert before < set(containers()), "the other hosts' containers were not recreated"
    result = converge.playbook(inventory, "site.yml")
    assert result.returncode == 0, result.output[-5000:]
    print(f"adding a worker: hosts up + site.yml {time.monotonic() - start:.0f} s")
    ca = str(e.state / "platform-root-ca.pem")

    def two_workers():
        status = requests.get(f"https://{address}:{MASTER_UI}/json/", verify=ca, timeout=10)
        assert status.json()["aliveworkers"] == 2, status.json()
        return status.json()

    workers = retry(two_workers, (AssertionError,), seconds=60)["workers"]
    new = data["hosts"]["compute-2"]["address"]
    assert any(new in str(w.get("host")) or "compute-2" in str(w.get("host")) for w in workers)
    out, _ = driver(host, f"s3a://bronze/labtest/delta-two-{int(time.time())}")
    assert out.rc == 0, out.stdout[-3000:] + out.stderr[-5000:]
    result = next(line for line in out.stdout.splitlines() if line.startswith("RESULT"))
    assert int(result.split()[4]) == 2, f"one executor per worker: {result}"
