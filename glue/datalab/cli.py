"""The `datalab` command line: a thin layer over the modules, which tests call directly."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from datalab import DatalabError, artifacts, converge, hosts, inventory, lab
from datalab.proc import step

app = typer.Typer(
    help="DataLab: a hardened, self-hosted lakehouse platform. "
    "Typical flow: `datalab lab prepare`, `datalab hosts up --env dev`, "
    "`datalab inventory --env dev -o inv.yml`, `ansible-playbook -i inv.yml ansible/site.yml`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
lab_app = typer.Typer(help="Prerequisites of the local lab on this machine.", no_args_is_help=True)
hosts_app = typer.Typer(help="The hosts of an environment (Terraform).", no_args_is_help=True)
artifacts_app = typer.Typer(
    help="The offline artifact store every role installs from.", no_args_is_help=True
)
app.add_typer(lab_app, name="lab")
app.add_typer(hosts_app, name="hosts")
app.add_typer(artifacts_app, name="artifacts")

EnvOption = Annotated[
    str, typer.Option("--env", "-e", help="Environment: a file environments/<env>.tfvars.")
]


def _table(rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        typer.echo(f"  {name.ljust(width)}  {value}")


@lab_app.command("prepare")
def lab_prepare(env: EnvOption = "dev") -> None:
    """Make this machine ready to run lab hosts (idempotent): Docker engine, host base
    image, provider mirror, package proxy, artifact store, and the environment's SSH key."""
    results = []
    for name, action in lab.prepare_steps():
        with step(name):
            results.append((name, action()))
    with step(f"SSH key ({env})"):
        results.append((f"ssh key ({env})", str(hosts.ensure_ssh_key(env))))
    typer.echo("lab ready:")
    _table(results)


@lab_app.command("status")
def lab_status() -> None:
    """Show what of the lab is present and running."""
    _table(lab.status())


@lab_app.command("destroy")
def lab_destroy(
    purge: Annotated[
        bool, typer.Option(help="Also delete caches (image, provider build, artifacts).")
    ] = False,
) -> None:
    """Remove every lab host, network and volume and stop the lab services; keep caches
    unless --purge."""
    for line in lab.destroy(purge=purge) or ["nothing to do"]:
        typer.echo(f"  {line}")


@hosts_app.command("up")
def hosts_up(env: EnvOption = "dev") -> None:
    """Create or update the environment's hosts (terraform apply) and wait for SSH."""
    data = hosts.up(env)
    typer.echo(f"{len(data['hosts'])} hosts up in {env}:")
    _table([(name, f"{h['address']}  {h['fqdn']}") for name, h in sorted(data["hosts"].items())])
    typer.echo(f"inventory: {hosts.key_dir(env) / 'inventory.yml'}")


@hosts_app.command("down")
def hosts_down(env: EnvOption = "dev") -> None:
    """Destroy the environment's hosts and their data volumes (terraform destroy)."""
    hosts.down(env)
    typer.echo(f"hosts of {env} destroyed")


@app.command("inventory")
def inventory_cmd(
    env: EnvOption = "dev",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of printing.")
    ] = None,
) -> None:
    """Print the environment's Ansible inventory, rendered from Terraform's output."""
    data = hosts.contract(env)
    hosts.pin_host_keys(data)
    rendered = inventory.render(data)
    if output:
        inventory.write(rendered, output)
        typer.echo(f"wrote {output}", err=True)
    else:
        typer.echo(inventory.to_yaml(rendered), nl=False)


@app.command("up")
def up(env: EnvOption = "dev") -> None:
    """Everything for an environment, from nothing: lab prerequisites, hosts
    (terraform apply), then `ansible-playbook site.yml`; ends with a summary."""
    started = time.monotonic()
    timings = []
    for name, action in lab.prepare_steps():
        with step(name):
            action()
    hosts.ensure_ssh_key(env)
    timings.append(("lab prepare", time.monotonic() - started))
    mark = time.monotonic()
    data = hosts.up(env)
    timings.append(("hosts up", time.monotonic() - mark))
    inventory_file = hosts.key_dir(env) / "inventory.yml"
    mark = time.monotonic()
    with step(f"ansible-playbook site.yml ({env})"):
        result = converge.playbook(inventory_file, "site.yml")
    timings.append(("site.yml", time.monotonic() - mark))
    if result.returncode != 0:
        raise DatalabError(f"site.yml failed on {env} (output above); fix and rerun `datalab up`")
    typer.echo(f"\nDataLab {env} is up ({time.monotonic() - started:.0f}s):")
    _table([(name, f"{h['address']}  {h['fqdn']}") for name, h in sorted(data["hosts"].items())])
    typer.echo("")
    _table(
        [
            ("inventory", str(inventory_file)),
            ("ssh", f"ssh -i {hosts.key_dir(env) / 'id_ed25519'} datalab@<address>"),
            ("bootstrap material", f"{hosts.key_dir(env)} (0700, outside git)"),
            ("changes", f"{result.total_changed} in site.yml"),
            *[(f"time: {name}", f"{seconds:.1f}s") for name, seconds in timings],
        ]
    )


@app.command("down")
def down(env: EnvOption = "dev") -> None:
    """Remove the environment's hosts and data (lab services and caches stay; see
    `datalab lab destroy`)."""
    hosts.down(env)
    typer.echo(f"{env} removed")


@artifacts_app.command("list")
def artifacts_list() -> None:
    """List the pinned artifacts (component, version, source, sha256)."""
    _table(
        [
            (a.name, f"{a.version}  {a.source.get('kind')}:{a.source.get('package')}  {a.sha256}")
            for a in artifacts.load_manifest()
        ]
    )


@artifacts_app.command("verify")
def artifacts_verify() -> None:
    """Check that every pinned artifact is in the store with its checksum."""
    problems = artifacts.verify()
    if problems:
        for problem in problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"all {len(artifacts.load_manifest())} artifacts verified in {artifacts.store_dir()}"
    )


def main() -> None:
    try:
        app()
    except DatalabError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)
