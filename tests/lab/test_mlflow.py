"""MLflow in the lab, for real: a run with a param, a metric and a model logged through
the tracking server (artifacts proxied into the object store), a registered model
version; HTTPS only, no or wrong credentials refused, sandboxed service
as its own user."""

from __future__ import annotations

import shlex
import textwrap

import pytest
import requests
from datalab import secrets, vault
from datalab.platform import Platform

from tests.lab.conftest import ENV, host_of

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

CA = "/usr/local/share/ca-certificates/datalab-root-ca.crt"
VENV = "/opt/datalab/mlflow/3.17.2"
PORT = 5000

CLIENT = textwrap.dedent(
    """
    import time

    import mlflow
    import pandas as pd
    from mlflow import MlflowClient


    class AddOne(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input + 1


    mlflow.set_experiment("lab-probe")
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", "0.5")
        mlflow.log_metric("rmse", 0.25)
        info = mlflow.pyfunc.log_model(
            name="model", python_model=AddOne(), registered_model_name="lab-probe"
        )
    client = MlflowClient()
    version = info.registered_model_version
    for _ in range(60):
        mv = client.get_model_version("lab-probe", version)
        if mv.status == "READY":
            break
        time.sleep(1)
    loaded = mlflow.pyfunc.load_model(f"models:/lab-probe/{version}")
    got = client.get_run(run.info.run_id).data
    print("RUN", run.info.run_id, got.params["alpha"], got.metrics["rmse"])
    print("VERSION", version, mv.status)
    print("MODEL", info.model_id)
    print("PREDICT", int(loaded.predict(pd.DataFrame({"x": [41]}))["x"][0]))
    """
)


@pytest.fixture(scope="module")
def ml(converged):
    data, inventory, _ = converged
    e = vault.environment(ENV)
    address = data["hosts"]["control-1"]["address"]
    password = secrets.get(e, "mlflow/server")[0]["admin_password"]
    s3_address = data["hosts"]["data-1"]["address"]
    return host_of(inventory, "control-1"), address, e, password, inventory, s3_address


def api(ml, path="/api/2.0/mlflow/experiments/search?max_results=1", auth=None):
    _, address, e, *_ = ml
    return requests.get(
        f"https://{address}:{PORT}{path}",
        auth=auth,
        verify=str(e.state / "platform-root-ca.pem"),
        timeout=30,
    )


def test_run_with_params_metrics_model_and_registered_version(ml):
    host, address, e, password, *_ = ml
    script = f"cat > /root/mlflow-probe/probe.py <<'EOF'\n{CLIENT}\nEOF"
    assert host.run(f"install -d -m 0700 /root/mlflow-probe && {script}").rc == 0
    env = {
        "MLFLOW_TRACKING_URI": f"https://{address}:{PORT}",
        "MLFLOW_TRACKING_USERNAME": "admin",
        "MLFLOW_TRACKING_PASSWORD": password,
        "MLFLOW_TRACKING_SERVER_CERT_PATH": CA,
        # Else 3.17 clients move artifacts through presigned S3 URLs, around the proxy.
        "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "false",
        "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    out = host.run(f"cd /root/mlflow-probe && env {exports} {VENV}/bin/python probe.py")
    assert out.rc == 0, out.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    _, alpha, rmse = lines["RUN"].split()
    assert (alpha, float(rmse)) == ("0.5", 0.25)
    assert lines["VERSION"].split()[1] == "READY"
    assert lines["PREDICT"] == "42"

    # The model's files went through the server into the object store's mlflow bucket.
    s3 = Platform.of(ENV).s3("mlflow")
    objects = s3.list_objects_v2(Bucket="mlflow").get("Contents", [])
    model = f"/models/{lines['MODEL']}/artifacts/MLmodel"  # MLflow 3 keeps models by id
    assert any(o["Key"].endswith(model) for o in objects), [o["Key"] for o in objects][:20]


def test_no_or_wrong_credentials_are_refused(ml):
    password = ml[3]
    assert api(ml).status_code == 401
    assert api(ml, auth=("admin", "x" * 32)).status_code == 401
    assert api(ml, auth=("nobody", password)).status_code == 401
    assert api(ml, auth=("admin", password)).status_code == 200
    assert api(ml, "/health").status_code == 200  # health stays open for probes


def test_plaintext_is_refused(ml):
    _, address, *_ = ml
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://{address}:{PORT}/health", timeout=10)


def test_listens_only_on_the_host_address_with_tls(ml):
    host, address, *_ = ml
    # ss names each listener's unit (its cgroup); process owners are hidden in containers.
    sockets = {
        line.split()[3]
        for line in host.run("ss -ltneH").stdout.splitlines()
        if "/system.slice/mlflow.service" in line
    }
    assert sockets == {f"{address}:{PORT}"}


def test_runs_as_its_own_user_sandboxed_with_private_dirs(ml):
    host = ml[0]
    # Every process of the unit (server, uvicorn parent, workers) runs as mlflow.
    users = {
        tuple(line.split())
        for line in host.run("ps -eo unit=,user=").stdout.splitlines()
        if line.startswith("mlflow.service")
    }
    users = {user for _, user in users}
    assert users == {"mlflow"}, users
    state = host.file("/var/lib/datalab/mlflow")
    assert (state.user, state.group) == ("mlflow", "mlflow") and state.mode & 0o027 == 0
    conf = host.file("/etc/mlflow")
    assert (conf.user, conf.group) == ("root", "mlflow") and conf.mode & 0o027 == 0
    for secret in ("/etc/mlflow/mlflow.env", "/etc/mlflow/basic_auth.ini"):
        f = host.file(secret)
        assert (f.user, f.group, f.mode) == ("root", "mlflow", 0o640), secret
    assert host.file("/etc/mlflow/tls/server.key").mode == 0o600
    assert host.file("/etc/systemd/system/mlflow.service").mode == 0o644
    assert "PASSWORD" not in host.file("/etc/systemd/system/mlflow.service").content_string
    show = host.run(
        "systemctl show mlflow -p User -p NoNewPrivileges -p ProtectSystem -p ProtectHome "
        "-p PrivateTmp -p SystemCallFilter -p ReadWritePaths"
    ).stdout
    for expected in ("User=mlflow", "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert expected in show, show
    assert "ReadWritePaths=/var/lib/datalab/mlflow" in show
    assert "SystemCallFilter=" in show and "SystemCallFilter=\n" not in show
