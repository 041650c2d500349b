"""The hosts of an environment: SSH key, Terraform apply/destroy, pinned host keys, readiness."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from datalab import DatalabError, inventory, paths
from datalab.proc import run, say, step
from datalab.terraform import Stack


def key_dir(env: str) -> Path:
    return paths.state_dir(env)


def ensure_ssh_key(env: str) -> Path:
    """The environment's SSH key pair (ed25519, 0600), made once, kept outside git."""
    directory = paths.private_dir(key_dir(env))
    key = directory / "id_ed25519"
    if not key.exists():
        run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"datalab-{env}", "-f", key],
            capture=True,
            what="ssh-keygen",
        )
        say(f"created SSH key {key}")
    key.chmod(0o600)
    return key


def stack_vars(env: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Variables the glue sets on top of the environment file."""
    return {"ssh_key_dir": str(key_dir(env)), **(overrides or {})}


def contract(env: str, stack: Stack | None = None) -> dict:
    return (stack or Stack(env, var_file=_any_var_file(env))).output("inventory")


def _any_var_file(env: str) -> Path | None:
    """Reading outputs needs no variables; tolerate environments made from another file."""
    return None if paths.env_file(env).exists() else paths.env_file("dev")


def pin_host_keys(contract: dict) -> Path:
    """Write known_hosts from each host's key, read through the driver's own channel
    (docker exec) rather than trusted on first SSH use."""
    env = contract["environment"]
    path = Path(contract["vars"]["datalab_known_hosts_file"])
    if contract["driver"] != "docker":
        raise DatalabError(f"pinning host keys is not implemented for driver {contract['driver']}")
    lines = []
    for name, host in sorted(contract["hosts"].items()):
        container = f"datalab-{env}-{name}"
        deadline = time.monotonic() + 60
        while True:
            out = run(
                ["docker", "exec", container, "cat", "/etc/ssh/ssh_host_ed25519_key.pub"],
                capture=True,
                check=False,
            )
            if out.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise DatalabError(
                    f"host {name} has no SSH host key after 60s: {out.stderr.strip()}"
                )
            time.sleep(0.5)
        keytype, key = out.stdout.split()[:2]
        for alias in (host["address"], name, host["fqdn"]):
            lines.append(f"{alias} {keytype} {key}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def wait_for_ssh(contract: dict, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    pending = {name: host["address"] for name, host in contract["hosts"].items()}
    while pending:
        for name, address in list(pending.items()):
            try:
                with socket.create_connection((address, 22), timeout=2) as conn:
                    if conn.recv(64).startswith(b"SSH-"):
                        del pending[name]
            except OSError:
                pass
        if pending and time.monotonic() > deadline:
            raise DatalabError(
                f"hosts not answering SSH after {timeout:.0f}s: {', '.join(sorted(pending))}"
            )
        if pending:
            time.sleep(0.5)


def render_inventory(env: str, output: Path | None = None) -> Path:
    """Render the environment's Ansible inventory (default: state dir) and pin host keys."""
    data = contract(env)
    pin_host_keys(data)
    target = output or key_dir(env) / "inventory.yml"
    return inventory.write(inventory.render(data), target)


def up(env: str, var_file: Path | None = None, overrides: dict[str, str] | None = None) -> dict:
    """Apply the environment's hosts; `var_file`/`overrides` let tests run the dev file
    under another environment name so they never touch a real dev environment."""
    ensure_ssh_key(env)
    stack = Stack(env, var_file=var_file)
    with step(f"terraform apply ({env})"):
        stack.apply(stack_vars(env, overrides))
    data = contract(env, stack)
    with step(f"waiting for SSH on {len(data['hosts'])} hosts"):
        wait_for_ssh(data)
        pin_host_keys(data)
    inventory.write(inventory.render(data), key_dir(env) / "inventory.yml")
    return data


def replace(
    env: str, name: str, var_file: Path | None = None, overrides: dict[str, str] | None = None
) -> dict:
    """Recreate one host from scratch (container and data volume), e.g. a failed node;
    the next converge installs it again."""
    stack = Stack(env, var_file=var_file)
    if name not in contract(env, stack)["hosts"]:
        raise DatalabError(f"{env} has no host {name}")
    with step(f"recreating {name} ({env})"):
        stack.replace(
            [
                f'module.hosts.docker_container.host["{name}"]',
                f'module.hosts.docker_volume.data["{name}"]',
            ],
            stack_vars(env, overrides),
        )
    data = contract(env, stack)
    wait_for_ssh(data)
    pin_host_keys(data)
    inventory.write(inventory.render(data), key_dir(env) / "inventory.yml")
    return data


def down(env: str, var_file: Path | None = None, overrides: dict[str, str] | None = None) -> None:
    stack = Stack(env, var_file=var_file)
    ensure_ssh_key(env)  # the stack validates the key dir even when destroying
    with step(f"terraform destroy ({env})"):
        stack.destroy(stack_vars(env, overrides))
    for stale in ("known_hosts", "inventory.yml"):
        (key_dir(env) / stale).unlink(missing_ok=True)
