#!/usr/bin/env python3
"""Converge figures per layer (printed, not asserted), on fresh dev hosts, warm caches:

- security core: playbooks/common.yml + playbooks/vault.yml, first converge;
- data plane: playbooks/data.yml (object store, PostgreSQL), first converge;
- compute: playbooks/compute.yml (Spark master and worker), first converge;
- services: playbooks/services.yml (MLflow, Prefect server and worker), first converge;
- monitoring: playbooks/monitoring.yml (node_exporter everywhere, Prometheus), first
  converge and no-change re-run;
- site.yml no-change re-run (and that it changed nothing);
- memory of each service at idle (RSS summed over the service's processes).

Usage: python tests/bench/converge.py
Runs the dev file as environment `bench` (its own network) and removes it at the end.
"""

from __future__ import annotations

import sys
import time

from datalab import converge, hosts, lab, paths

ENV = "bench"
OVERRIDES = {"environment": ENV, "network_cidr": "172.30.80.0/24"}
# service -> (host, process name)
SERVICES = {
    "OpenBao": ("control-1", "bao"),
    "SeaweedFS (weed server)": ("data-1", "weed"),
    "PostgreSQL (all backends)": ("control-1", "postgres"),
    "Prometheus": ("control-1", "prometheus"),
    "node_exporter (control-1)": ("control-1", "node_exporter"),
}
# Services whose processes share a generic name (python3, java): service -> (host, unit)
UNITS = {
    "Spark master": ("compute-1", "spark-master.service"),
    "Spark worker": ("compute-1", "spark-worker.service"),
    "MLflow (server + 2 workers)": ("control-1", "mlflow.service"),
    "Prefect server": ("control-1", "prefect-server.service"),
    "Prefect worker": ("compute-1", "prefect-worker.service"),
}


def timed(inventory, *playbooks):
    start = time.monotonic()
    result = converge.playbook(inventory, *playbooks, stream=False)
    if result.returncode:
        print(result.output[-3000:])
        raise SystemExit(1)
    return time.monotonic() - start, result.total_changed


def main() -> int:
    for _name, action in lab.prepare_steps():
        action()
    var_file = paths.env_file("dev")
    lab.remove_environment_objects(ENV)
    for stale in ("vault-bootstrap.json", "vault-ansible-token", "platform-root-ca.pem"):
        (hosts.key_dir(ENV) / stale).unlink(missing_ok=True)
    hosts.up(ENV, var_file, OVERRIDES)
    inventory = hosts.key_dir(ENV) / "inventory.yml"
    rows = []
    try:
        seconds, changed = timed(inventory, "playbooks/common.yml", "playbooks/vault.yml")
        rows.append(("security core converge (common + vault)", f"{seconds:7.1f} s", changed))
        seconds, changed = timed(inventory, "playbooks/data.yml")
        rows.append(("data plane converge (object store, postgres)", f"{seconds:7.1f} s", changed))
        seconds, changed = timed(inventory, "playbooks/compute.yml")
        rows.append(("compute converge (spark)", f"{seconds:7.1f} s", changed))
        seconds, changed = timed(inventory, "playbooks/services.yml")
        rows.append(("services converge (mlflow, prefect)", f"{seconds:7.1f} s", changed))
        seconds, changed = timed(inventory, "playbooks/monitoring.yml")
        rows.append(
            ("monitoring converge (node_exporter, prometheus)", f"{seconds:7.1f} s", changed)
        )
        seconds, changed = timed(inventory, "playbooks/monitoring.yml")
        rows.append(("monitoring no-change re-run", f"{seconds:7.1f} s", changed))
        seconds, changed = timed(inventory, "site.yml")
        rows.append(("site.yml no-change re-run", f"{seconds:7.1f} s", changed))
        time.sleep(30)  # idle
        for name, (host, comm) in SERVICES.items():
            rss = converge.run_on(inventory, host, f"ps -o rss= -C {comm}")
            total = sum(int(v) for v in rss.replace("\\n", "\n").split())
            rows.append((f"{name} RSS at idle", f"{total / 1024:7.1f} MiB", None))
        for name, (host, unit) in UNITS.items():
            out = converge.run_on(inventory, host, "ps -eo unit=,rss=").replace("\\n", "\n")
            total = sum(int(line.split()[1]) for line in out.splitlines() if line.startswith(unit))
            rows.append((f"{name} RSS at idle", f"{total / 1024:7.1f} MiB", None))
    finally:
        hosts.down(ENV, var_file, OVERRIDES)
    for name, value, changed in rows:
        suffix = "" if changed is None else f" ({changed} changes)"
        print(f"{name:<48} {value}{suffix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
