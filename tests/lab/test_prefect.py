"""Prefect in the lab, for real: a deployment on the process work pool, run through the
server to Completed by the worker on compute-1 as its unprivileged user; HTTPS only, no
or wrong credentials refused, sandboxed services as their own users."""

from __future__ import annotations

import shlex
import textwrap

import pytest
import requests
from datalab import secrets, vault

from tests.lab.conftest import ENV, host_of

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

CA = "/usr/local/share/ca-certificates/datalab-root-ca.crt"
WORKER_VENV = "/opt/datalab/jobs-runtime/prefect3.9.1-mlflow3.17.2"
PORT = 4200
FLOWS = "/var/lib/datalab/prefect-worker/flows"

FLOW = textwrap.dedent(
    """
    import getpass
    import os

    from prefect import flow


    @flow(log_prints=True)
    def probe(n: int = 41) -> int:
        user = getpass.getuser()
        print(f"running as {user}")
        with open(os.path.expanduser("~/ran-by"), "w") as out:
            out.write(user)
        return n + 1
    """
)

DEPLOY = textwrap.dedent(
    f"""
    from prefect import flow
    from prefect.deployments import run_deployment

    deployment_id = flow.from_source("{FLOWS}", "probe.py:probe").deploy(
        name="lab-probe", work_pool_name="default"
    )
    run = run_deployment(deployment_id, timeout=300)
    print("STATE", run.state.type.value, run.state.name)
    """
)


@pytest.fixture(scope="module")
def pf(converged):
    data, inventory, _ = converged
    e = vault.environment(ENV)
    address = data["hosts"]["control-1"]["address"]
    password = secrets.get(e, "prefect/server")[0]["auth_password"]
    return (
        host_of(inventory, "control-1"),
        host_of(inventory, "compute-1"),
        address,
        e,
        password,
        inventory,
    )


def api(pf, path="/api/flows/filter", auth=None):
    _, _, address, e, *_ = pf
    return requests.post(
        f"https://{address}:{PORT}{path}",
        json={},
        auth=auth,
        verify=str(e.state / "platform-root-ca.pem"),
        timeout=30,
    )


def test_deployment_runs_to_completion_on_the_worker(pf):
    _, worker, address, _, password, _ = pf
    write = (
        f"install -d -o prefect-worker -g prefect-worker -m 0750 {FLOWS} && "
        f"cat > {FLOWS}/probe.py <<'EOF'\n{FLOW}\nEOF\n"
        f"cat > /root/prefect-deploy.py <<'EOF'\n{DEPLOY}\nEOF\n"
        f"chown prefect-worker: {FLOWS}/probe.py"
    )
    assert worker.run(write).rc == 0
    env = {
        "PREFECT_API_URL": f"https://{address}:{PORT}/api",
        "PREFECT_API_AUTH_STRING": f"admin:{password}",
        "PREFECT_API_SSL_CERT_FILE": CA,
        "PREFECT_HOME": "/root/.prefect-lab",
        "DO_NOT_TRACK": "1",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    out = worker.run(f"env {exports} {WORKER_VENV}/bin/python /root/prefect-deploy.py")
    assert out.rc == 0, out.stderr[-3000:]
    assert "STATE COMPLETED Completed" in out.stdout, out.stdout[-2000:]
    ran_by = worker.file("/var/lib/datalab/prefect-worker/ran-by")
    assert ran_by.content_string == "prefect-worker" and ran_by.user == "prefect-worker"


def test_no_or_wrong_credentials_are_refused(pf):
    password = pf[4]
    assert api(pf).status_code == 401
    assert api(pf, auth=("admin", "x" * 32)).status_code == 401
    assert api(pf, auth=("admin", password)).status_code == 200
    _, _, address, e, *_ = pf
    health = requests.get(
        f"https://{address}:{PORT}/api/health",
        verify=str(e.state / "platform-root-ca.pem"),
        timeout=30,
    )
    assert health.status_code == 200  # open for probes


def test_plaintext_is_refused(pf):
    address = pf[2]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://{address}:{PORT}/api/health", timeout=10)


def test_server_listens_only_on_the_host_address_with_tls(pf):
    server, _, address, *_ = pf
    # ss names each listener's unit (its cgroup); process owners are hidden in containers.
    sockets = {
        line.split()[3]
        for line in server.run("ss -ltneH").stdout.splitlines()
        if "/system.slice/prefect-server.service" in line
    }
    assert sockets == {f"{address}:{PORT}"}


@pytest.mark.parametrize(
    ("which", "unit", "user", "state"),
    [
        (0, "prefect-server", "prefect", "/var/lib/datalab/prefect"),
        (1, "prefect-worker", "prefect-worker", "/var/lib/datalab/prefect-worker"),
    ],
)
def test_runs_as_its_own_user_sandboxed_with_private_dirs(pf, which, unit, user, state):
    host = pf[which]
    users = {
        line.split()[1]
        for line in host.run("ps -eo unit=,user=").stdout.splitlines()
        if line.startswith(f"{unit}.service")
    }
    assert users == {user}, f"{unit}: {users}"
    d = host.file(state)
    assert (d.user, d.group) == (user, user) and d.mode & 0o027 == 0
    env_file = host.file(f"/etc/prefect/{unit.split('-')[1]}.env")
    assert (env_file.user, env_file.group, env_file.mode) == ("root", user, 0o640)
    unit_text = host.file(f"/etc/systemd/system/{unit}.service").content_string
    assert "AUTH_STRING" not in unit_text and "asyncpg://" not in unit_text
    show = host.run(
        f"systemctl show {unit} -p User -p NoNewPrivileges -p ProtectSystem -p ReadWritePaths"
    ).stdout
    for expected in (f"User={user}", "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert expected in show, show
    assert f"ReadWritePaths={state}" in show
    if which == 0:
        assert host.file("/etc/prefect/tls/server.key").mode == 0o600
