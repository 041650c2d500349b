"""Rendering the inventory contract (Terraform output `inventory`) as an Ansible inventory.

The contract is driver-neutral: environment, driver, hosts (address + facts), groups
(host groups and service groups) and vars for all hosts. Rendering is a pure function.
"""

from __future__ import annotations

from pathlib import Path

import yaml

REQUIRED_KEYS = ("environment", "driver", "hosts", "groups", "vars")


def validate(contract: dict) -> None:
    missing = [key for key in REQUIRED_KEYS if key not in contract]
    if missing:
        raise ValueError(f"inventory contract lacks {', '.join(missing)}")
    for group, members in contract["groups"].items():
        unknown = [m for m in members if m not in contract["hosts"]]
        if unknown:
            raise ValueError(f"group {group} names unknown hosts: {', '.join(unknown)}")


def render(contract: dict) -> dict:
    """Ansible YAML inventory (as a dict) from the contract."""
    validate(contract)
    all_vars = {k: v for k, v in contract["vars"].items() if v is not None}
    known_hosts = all_vars.pop("datalab_known_hosts_file", None)
    if known_hosts:
        # Host keys are pinned out of band (see hosts.pin_host_keys): never trust on first use.
        all_vars["ansible_ssh_common_args"] = (
            f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes"
        )
    hosts = {
        name: {
            "ansible_host": host["address"],
            "datalab_fqdn": host["fqdn"],
            "datalab_host_group": host["group"],
        }
        for name, host in sorted(contract["hosts"].items())
    }
    children = {
        group: {"hosts": {member: {} for member in members}}
        for group, members in sorted(contract["groups"].items())
        if members
    }
    return {"all": {"vars": all_vars, "hosts": hosts, "children": children}}


def to_yaml(inventory: dict) -> str:
    header = "# Rendered by `datalab inventory` from Terraform's inventory output. Do not edit.\n"
    return header + yaml.safe_dump(inventory, sort_keys=False, default_flow_style=False)


def write(inventory: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_yaml(inventory))
    return path
