"""The service catalog, ansible/playbooks/group_vars/all/services.yml: every service
named once with its group, client port and health check. The roles' discovery records,
etcd's write grants and the glue's ports all come from it."""

from __future__ import annotations

from functools import cache

import yaml

from datalab import paths

CATALOG = paths.ANSIBLE_DIR / "playbooks" / "group_vars" / "all" / "services.yml"


@cache
def services() -> dict[str, dict]:
    """name -> {group, port, check}."""
    return yaml.safe_load(CATALOG.read_text())["datalab_services"]


def port(name: str) -> int:
    """The port clients connect to for service `name`."""
    return int(services()[name]["port"])


def ui_port(name: str) -> int:
    """The port of the web UI of service `name` (HTTPS)."""
    return int(services()[name]["ui_port"])
