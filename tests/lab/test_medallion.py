"""The main job, for real: `datalab deploy` ships jobs/medallion to the dev environment's
Prefect worker and registers its deployments; a generated batch (bad records mixed in)
lands in the object store and the deployed flow runs bronze -> silver -> gold as a Spark
driver on the cluster (spark://, authenticated and encrypted) into Delta tables on S3.
A share of the batch goes through the dataset's Kafka topic instead. Every row is
accounted for, gold equals the single-process baseline on the same files,
the training flow registers a model version in MLflow as the jobs' own user, and
`datalab smoke` then passes every check, the medallion's and the model's included."""

from __future__ import annotations

import pytest
import requests
from datalab import jobs, smoke
from datalab.platform import Platform

from tests.lab.conftest import ENV, datalab, host_of, retry

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

ROWS = 20_000


@pytest.fixture(scope="module")
def deployed(converged):
    first = jobs.deploy(ENV)
    return first, converged[1]


def test_deploy_ships_one_release_and_is_idempotent(deployed):
    first, inventory = deployed
    again = jobs.deploy(ENV)
    assert again.release == first.release and again.changed == 0
    platform = Platform.of(ENV)
    stored = platform.s3("prefect").head_object(
        Bucket=jobs.RELEASES_BUCKET, Key=f"{jobs.RELEASES_PREFIX}/{first.release}.tar.gz"
    )
    assert stored["ContentLength"] == len(jobs.archive()[0])
    worker = host_of(inventory, first.workers[0])
    code = worker.file(f"{jobs.RELEASES_DIR}/{first.release}/medallion/flows.py")
    assert code.user == "root" and code.mode == 0o644
    api = platform.prefect()
    for name in jobs.DEPLOYMENTS:
        deployment = api.deployment(name, name)
        assert deployment["version"] == first.release
        assert deployment["work_pool_name"] == jobs.WORK_POOL
    # The dev file schedules the maintenance (job_schedules), not the medallion.
    schedules = api.deployment("lake-maintenance", "lake-maintenance")["schedules"]
    assert [s["schedule"]["cron"] for s in schedules] == ["0 3 * * *"]
    assert api.deployment("medallion", "medallion")["schedules"] == []


def test_the_medallion_runs_on_the_cluster_and_loses_no_row(deployed):
    run = jobs.run_medallion(ENV, ROWS, dataset="labtest-orders", compare=True)
    assert run.ok, run.problems
    report = run.report
    assert report["bronze_rows"] == ROWS
    assert (
        report["bronze_rows"]
        == report["silver_rows"] + report["quarantined"] + report["duplicates"]
    )
    assert report["quarantined"] > 0 and report["duplicates"] > 0
    assert len(report["gold"]) > 0
    # A share of the orders came through Kafka (ingest.<dataset>, SASL_SSL + SCRAM, read
    # by the cluster as the `spark` user), the rest from the landing files.
    assert report["bronze_sources"]["kafka"] == int(ROWS * jobs.KAFKA_SHARE)
    assert sum(report["bronze_sources"].values()) == ROWS
    # The driver was an application of the cluster's master, not a local Spark.
    assert _completed_app(lambda name: name.startswith("medallion-"))


def test_training_registers_a_model_version_as_the_jobs_user(deployed):
    platform = Platform.of(ENV)
    before = platform.mlflow().latest_version(jobs.MODEL)
    out = datalab("run", "train", "--dataset", "labtest-orders")
    assert f"{jobs.MODEL} version" in out and "mae" in out, out
    after = platform.mlflow().latest_version(jobs.MODEL)
    assert after is not None and int(after) == int(before or 0) + 1
    assert platform.mlflow().model_problems(jobs.MODEL, after) == []
    assert _completed_app(lambda name: name == "medallion-train")
    # The flow's MLflow user is not an admin: it may not read other users.
    _, address = platform.need("mlflow")
    jobs_user = ("jobs", platform.secret("mlflow/jobs")["password"])
    reply = requests.get(
        f"https://{address}:5000/api/2.0/mlflow/users/get?username=admin",
        auth=jobs_user,
        verify=str(platform.ca),
        timeout=20,
    )
    assert reply.status_code == 403, reply.text


def _completed_app(wanted) -> str:
    """The name of a completed application of the cluster's master that `wanted` accepts.
    The driver unregisters asynchronously when it stops, so the master may list it as
    completed a moment after the flow returned."""
    platform = Platform.of(ENV)
    _, master = platform.need("spark_master")

    def look():
        apps = platform.get(f"https://{master}:8480/json/").json()["completedapps"]
        names = [a["name"] for a in apps if wanted(a["name"])]
        assert names, apps
        return names[0]

    return retry(look, (AssertionError,), 30)


def test_smoke_passes_every_check_including_the_medallion(deployed):
    checks = smoke.run(ENV)
    failed = [(c.component, c.detail) for c in checks if c.ok is not True]
    assert failed == [], failed
    assert {"medallion", "model"} <= {c.component for c in checks}
