"""Filters that read the service catalog (playbooks/group_vars/all/services.yml).

service_sources: who may connect to a service: the hosts of its `clients` groups, in the
catalog's order, then the operators' sources when it has `operators: true`. The firewall
rule of every service is this list.

metrics_port: the port Prometheus scrapes a service's metrics on: `metrics.port`, else the
web UI's (`ui_port`: a UI serves the metrics when there is one), else the service's.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def service_sources(service: dict, groups: dict, operators: list | None = None) -> list[str]:
    if "clients" not in service:
        raise AnsibleFilterError("service_sources: the catalog entry names no clients")
    sources: list[str] = []
    for group in service["clients"]:
        sources += [host for host in groups.get(group, []) if host not in sources]
    if service.get("operators"):
        sources += [source for source in operators or [] if source not in sources]
    return sources


def metrics_port(service: dict) -> int:
    if "metrics" not in service:
        raise AnsibleFilterError("metrics_port: the catalog entry has no metrics")
    return int(service["metrics"].get("port", service.get("ui_port", service["port"])))


class FilterModule:
    def filters(self):
        return {"datalab_service_sources": service_sources, "datalab_metrics_port": metrics_port}
