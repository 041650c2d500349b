"""Service secrets in Vault's KV engine (mount `datalab/`, one folder per service; the
layout is in secrets/README.md): list, read (masked), rotate."""

from __future__ import annotations

import re
import secrets as random
import string
from pathlib import Path

import hvac
import yaml

from datalab import DatalabError, converge, hosts, paths
from datalab.vault import Env, _call, client

MOUNT = "datalab"
ALPHABET = string.ascii_letters + string.digits
SERVICES_FILE = paths.ANSIBLE_DIR / "roles" / "vault_config" / "defaults" / "main.yml"


def services() -> dict[str, dict]:
    """Service -> {groups, dns}: the same table Ansible uses (vault_config defaults)."""
    return yaml.safe_load(SERVICES_FILE.read_text())["vault_config_services"]


def mask(value: str) -> str:
    return f"{'*' * 8} ({len(value)} chars)"


def list_paths(e: Env, prefix: str = "") -> list[str]:
    c = client(e)
    found = []
    try:
        keys = _call("list", lambda: c.secrets.kv.v2.list_secrets(path=prefix, mount_point=MOUNT))
    except hvac.exceptions.InvalidPath:
        return []
    for key in keys["data"]["keys"]:
        if key.endswith("/"):
            found += list_paths(e, prefix + key)
        else:
            found.append(prefix + key)
    return sorted(found)


def get(e: Env, path: str) -> tuple[dict, int]:
    c = client(e)
    try:
        out = _call(
            "read",
            lambda: c.secrets.kv.v2.read_secret_version(
                path, mount_point=MOUNT, raise_on_deleted_version=True
            ),
        )
    except hvac.exceptions.InvalidPath as exc:
        raise DatalabError(
            f"no secret at {MOUNT}/{path}; `datalab secrets list` shows them"
        ) from exc
    return out["data"]["data"], out["data"]["metadata"]["version"]


def rotate(e: Env, path: str, keys: list[str] | None = None, length: int = 32) -> int:
    """Write a new version with fresh random values for `keys` (default: all)."""
    data, _ = get(e, path)
    for key in keys or list(data):
        if key not in data:
            raise DatalabError(f"{MOUNT}/{path} has no key {key!r} (keys: {', '.join(data)})")
        data[key] = "".join(random.choice(ALPHABET) for _ in range(max(length, len(data[key]))))
    c = client(e)
    out = _call(
        "rotate",
        lambda: c.secrets.kv.v2.create_or_update_secret(path, secret=data, mount_point=MOUNT),
    )
    return out["data"]["version"]


def converge_groups(path: str, table: dict[str, dict] | None = None) -> list[str]:
    """The inventory groups to re-converge after `path` changed: the owning service's
    (the path's first part) and those of every service that `reads` it."""
    table = services() if table is None else table
    service = path.split("/", 1)[0]
    if service not in table:
        raise DatalabError(f"{path} belongs to no known service ({', '.join(table)})")
    groups = list(table[service]["groups"])
    for reader in table.values():
        if path in reader.get("reads", []):
            groups += [g for g in reader["groups"] if g not in groups]
    return groups


def layers(groups: list[str]) -> list[str]:
    """site.yml's layers (in its order) with a play on one of `groups`, named in the
    play's host pattern: the layers a change to those groups' services needs."""
    wanted = set(groups)
    found = []
    for entry in yaml.safe_load((paths.ANSIBLE_DIR / "site.yml").read_text()):
        layer = entry["import_playbook"]
        plays = yaml.safe_load((paths.ANSIBLE_DIR / layer).read_text())
        named = {g for play in plays for g in re.split(r"[:,&!\s]+", play["hosts"]) if g}
        if named & wanted:
            found.append(layer)
    return found


def reconverge(env: str, path: str) -> converge.Result:
    """Re-run, on the hosts of the services that own or read `path` only, the layers of
    site.yml that configure those services (not the whole site.yml: a rotation of one
    service's secret then costs that service's plays, not every layer's no-op)."""
    inventory: Path = hosts.key_dir(env) / "inventory.yml"
    groups = converge_groups(path)
    return converge.playbook(inventory, *layers(groups), limit=",".join(groups))
