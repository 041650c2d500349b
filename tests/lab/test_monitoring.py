"""Monitoring (issue 5) in the lab, for real, on the shared dev-shaped environment:
node_exporter on every host and Prometheus on control-1 scrape every service over TLS
with credentials from Vault (targets from the inventory); every target is up, the alert
rules load and evaluate, stopping a service makes its alert fire; both listen only on
TLS with basic auth and run as their own users. (The site.yml re-run and check mode in
test_foundation cover the layer's idempotence.)"""

from __future__ import annotations

import json
import shlex
import time

import pytest
import requests
from datalab import converge, secrets, vault

from tests.lab.conftest import ENV, host_of, retry

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("prepared_lab")]

PORT = 9090
NODE_PORT = 9100
HOSTS = ("control-1", "data-1", "compute-1")
JOBS = {
    "prometheus",
    "node",
    "vault",
    "etcd",
    "spark_master",
    "spark_worker",
    "prefect",
    "kafka",
    "perses",
}
KAFKA_METRICS_PORT = 9404
ALERTS = {
    "ServiceDown",
    "VaultSealed",
    "CertificateExpiringSoon",
    "CertificateExpiryUnknown",
    "DiskAlmostFull",
    "KafkaUnderReplicatedPartitions",
    "SparkNoWorkers",
}


@pytest.fixture(scope="module")
def mon(converged):
    data, inventory, _ = converged
    e = vault.environment(ENV)
    address = data["hosts"]["control-1"]["address"]
    return {
        "e": e,
        "inventory": inventory,
        "address": address,
        "addresses": {h: data["hosts"][h]["address"] for h in HOSTS},
        "ca": str(e.state / "platform-root-ca.pem"),
        "password": secrets.get(e, "prometheus/web")[0]["password"],
        "control": host_of(inventory, "control-1"),
    }


def api(mon, path, auth=True, **params):
    response = requests.get(
        f"https://{mon['address']}:{PORT}{path}",
        params=params,
        auth=("admin", mon["password"]) if auth is True else auth,
        verify=mon["ca"],
        timeout=30,
    )
    return response


def targets(mon):
    response = api(mon, "/api/v1/targets", state="active")
    assert response.status_code == 200, response.text[:300]
    return response.json()["data"]["activeTargets"]


def query(mon, promql):
    response = api(mon, "/api/v1/query", query=promql)
    assert response.status_code == 200, response.text[:300]
    return response.json()["data"]["result"]


def test_every_target_is_up_over_tls(mon):
    def all_up():
        found = targets(mon)
        down = [(t["scrapeUrl"], t["health"], t["lastError"]) for t in found if t["health"] != "up"]
        assert not down, down
        return found

    found = retry(all_up, (AssertionError,), seconds=120, pause=5)
    assert {t["labels"]["job"] for t in found} == JOBS
    assert all(t["scrapeUrl"].startswith("https://") for t in found)
    nodes = {t["labels"]["instance"] for t in found if t["labels"]["job"] == "node"}
    assert nodes == {f"{a}:{NODE_PORT}" for a in mon["addresses"].values()}
    # The Vault target is up only with Prometheus' own AppRole token; without a token
    # Vault refuses its metrics (no unauthenticated metrics access).
    vault_url = next(t["scrapeUrl"] for t in found if t["labels"]["job"] == "vault")
    refused = requests.get(vault_url, verify=mon["ca"], timeout=10)
    assert refused.status_code in (400, 403), refused.status_code


def test_alert_rules_load_evaluate_and_are_quiet(mon):
    groups = api(mon, "/api/v1/rules").json()["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert {r["name"] for r in rules} == ALERTS
    assert all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]
    firing = {
        (a["labels"]["alertname"], a["labels"].get("instance"))
        for a in api(mon, "/api/v1/alerts").json()["data"]["alerts"]
        if a["state"] == "firing"
    }
    assert not {f for f in firing if f[0] != "DiskAlmostFull"}, firing
    # What the rules need is really there: Spark's alive workers, Vault's seal state,
    # the filesystems, and the expiry of every service certificate on every host.
    assert float(query(mon, "metrics_master_aliveWorkers_Value")[0]["value"][1]) >= 1
    assert {r["value"][1] for r in query(mon, "vault_core_unsealed")} == {"1"}
    assert query(mon, "node_filesystem_avail_bytes")


def test_certificate_expiry_is_known_for_every_service_certificate(mon):
    def expiries():
        result = query(mon, "datalab_cert_expiry_timestamp_seconds")
        assert {r["metric"]["instance"].split(":")[0] for r in result} == set(
            mon["addresses"].values()
        )
        return result

    result = retry(expiries, (AssertionError,), seconds=60, pause=5)
    services = {(r["metric"]["instance"], r["metric"]["service"]) for r in result}
    control = f"{mon['address']}:{NODE_PORT}"
    assert {(control, s) for s in ("vault", "prometheus", "node_exporter")} <= services
    week = time.time() + 7 * 86400
    assert all(float(r["value"][1]) > week for r in result)
    assert {r["value"][1] for r in query(mon, "datalab_cert_expiry_read_errors")} == {"0"}


def _probe(host, url, user="", password=""):
    """GET url from a host (the firewall admits only some sources); returns the status
    or the connection error's class name."""
    script = (
        "import base64, ssl, sys, urllib.request, urllib.error\n"
        "ctx = ssl.create_default_context(cafile='/usr/local/share/ca-certificates/"
        "datalab-root-ca.crt')\n"
        "r = urllib.request.Request(sys.argv[1])\n"
        "if sys.argv[2]:\n"
        "    token = base64.b64encode(f'{sys.argv[2]}:{sys.argv[3]}'.encode()).decode()\n"
        "    r.add_header('Authorization', 'Basic ' + token)\n"
        "try:\n"
        "    print(urllib.request.urlopen(r, context=ctx, timeout=10).status)\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code)\n"
        "except Exception as e:\n"
        "    print(type(e).__name__)\n"
    )
    argv = ["python3", "-c", script, url, user, password]
    return host.check_output(" ".join(shlex.quote(a) for a in argv)).strip()


def test_prometheus_api_and_ui_only_tls_with_basic_auth(mon):
    assert api(mon, "/-/ready", auth=None).status_code == 401
    assert api(mon, "/-/ready", auth=("admin", "x" * 32)).status_code == 401
    assert api(mon, "/-/ready", auth=("nobody", mon["password"])).status_code == 401
    assert api(mon, "/-/ready").status_code == 200
    plain = requests.get(f"http://{mon['address']}:{PORT}/-/ready", timeout=10)
    assert plain.status_code == 400 and "HTTPS" in plain.text
    build = api(mon, "/api/v1/status/buildinfo").json()["data"]
    assert build["version"] == "3.16.0"
    # The web UI is embedded (builtinassets) and behind the same TLS and basic auth.
    assert api(mon, "/query", auth=None).status_code == 401
    page = api(mon, "/query")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")


def test_node_exporter_only_tls_with_basic_auth_and_only_for_prometheus(mon):
    e, control = mon["e"], mon["control"]
    password = secrets.get(e, "node_exporter/scrape")[0]["password"]
    url = f"https://{mon['addresses']['data-1']}:{NODE_PORT}/metrics"
    assert _probe(control, url) == "401"
    assert _probe(control, url, "prometheus", "x" * 32) == "401"
    assert _probe(control, url, "prometheus", password) == "200"
    assert _probe(control, url.replace("https://", "http://"), "prometheus", password) == "400"
    # From anywhere but the Prometheus host (here: the controller) the port is closed.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, verify=mon["ca"], timeout=5)


def test_kafka_metrics_only_tls_with_basic_auth_and_feed_the_kafka_alert(mon):
    """The broker's JMX exporter agent: HTTPS with basic auth, for Prometheus only; the
    KafkaUnderReplicatedPartitions rule reads a real series (0 on a healthy broker)."""
    e, control = mon["e"], mon["control"]
    password = secrets.get(e, "kafka/metrics")[0]["password"]
    url = f"https://{mon['addresses']['data-1']}:{KAFKA_METRICS_PORT}/metrics"
    assert _probe(control, url) == "401"
    assert _probe(control, url, "prometheus", "x" * 32) == "401"
    assert _probe(control, url, "prometheus", password) == "200"
    assert _probe(control, url.replace("https://", "http://"), "prometheus", password) != "200"
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, verify=mon["ca"], timeout=5)

    def scraped():
        series = query(mon, "kafka_server_replicamanager_underreplicatedpartitions")
        assert series, "no under-replicated partitions series yet"
        return series

    series = retry(scraped, (AssertionError,), seconds=120, pause=5)
    assert [s["metric"]["instance"] for s in series] == [
        f"{mon['addresses']['data-1']}:{KAFKA_METRICS_PORT}"
    ]
    assert series[0]["value"][1] == "0"


@pytest.mark.parametrize(
    ("unit", "user", "data_dir", "conf_dir", "secret_files"),
    [
        (
            "prometheus",
            "prometheus",
            "/var/lib/datalab/prometheus",
            "/etc/prometheus",
            ["web.yml", "secrets/web.password", "secrets/node_exporter.password"],
        ),
        (
            "node_exporter",
            "node_exporter",
            "/var/lib/datalab/node_exporter",
            "/etc/node_exporter",
            ["web.yml"],
        ),
    ],
)
def test_runs_as_its_own_user_sandboxed_listening_only_on_tls(
    mon, unit, user, data_dir, conf_dir, secret_files
):
    host, address = mon["control"], mon["address"]
    users = {
        line.split()[1]
        for line in host.run("ps -eo unit=,user=").stdout.splitlines()
        if line.startswith(f"{unit}.service")
    }
    assert users == {user}
    sockets = {
        line.split()[3]
        for line in host.run("ss -ltneH").stdout.splitlines()
        if f"/system.slice/{unit}.service" in line
    }
    assert sockets == {f"{address}:{PORT if unit == 'prometheus' else NODE_PORT}"}
    for path in (data_dir, conf_dir):
        f = host.file(path)
        assert f.mode & 0o027 == 0, path
    for name in secret_files:
        f = host.file(f"{conf_dir}/{name}")
        assert (f.user, f.group, f.mode) == ("root", user, 0o640), name
    assert "$2b$10$" in host.file(f"{conf_dir}/web.yml").content_string
    assert host.file(f"{conf_dir}/tls/server.key").mode == 0o600
    show = host.run(f"systemctl show {unit} -p User -p NoNewPrivileges -p ProtectSystem").stdout
    for expected in (f"User={user}", "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert expected in show, show


def test_stopping_a_service_fires_its_alert_and_a_silence_quiets_it(mon):
    """node_exporter stopped on data-1: its target goes down and ServiceDown fires after
    prometheus_alert_down_for (1m). A silence (runbook: a converge with
    prometheus_silences) takes it out of the firing alerts; started again, the target
    comes back up, and a converge without the silence restores the rules."""
    data1 = host_of(mon["inventory"], "data-1")
    instance = f"{mon['addresses']['data-1']}:{NODE_PORT}"

    def service_down():
        alerts = api(mon, "/api/v1/alerts").json()["data"]["alerts"]
        return [
            a
            for a in alerts
            if a["labels"]["alertname"] == "ServiceDown" and a["labels"].get("instance") == instance
        ]

    def firing():
        found = [a for a in service_down() if a["state"] == "firing"]
        assert found, service_down()
        return found[0]

    def quiet():
        assert service_down() == []

    start = time.monotonic()
    data1.check_output("systemctl stop node_exporter")
    try:
        alert = retry(firing, (AssertionError,), seconds=240, pause=5)
        assert alert["labels"]["job"] == "node" and alert["labels"]["severity"] == "critical"
        print(f"ServiceDown fired {time.monotonic() - start:.0f} s after the stop")

        silence = {
            "prometheus_silences": [
                {
                    "alert": "ServiceDown",
                    "labels": {"instance": instance},
                    "until": int(time.time()) + 1800,
                    "comment": "lab test",
                }
            ]
        }
        silenced = converge.playbook(
            mon["inventory"],
            "playbooks/monitoring.yml",
            limit="prometheus",
            extra_vars=[json.dumps(silence)],
        )
        assert silenced.returncode == 0, silenced.output[-3000:]
        retry(quiet, (AssertionError,), seconds=60, pause=5)
        # Only that instance is silenced: the target itself is still reported down.
        health = {t["labels"]["instance"]: t["health"] for t in targets(mon)}
        assert health[instance] == "down"
    finally:
        data1.check_output("systemctl start node_exporter")
        restored = converge.playbook(
            mon["inventory"], "playbooks/monitoring.yml", limit="prometheus"
        )
        assert restored.returncode == 0, restored.output[-3000:]

    def back_up():
        health = {t["labels"]["instance"]: t["health"] for t in targets(mon)}
        assert health[instance] == "up", health

    retry(back_up, (AssertionError,), seconds=120, pause=5)
    rules = api(mon, "/api/v1/rules").json()["data"]["groups"][0]["rules"]
    assert "unless" not in next(r["query"] for r in rules if r["name"] == "ServiceDown")
