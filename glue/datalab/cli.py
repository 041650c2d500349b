"""The `datalab` command line: a thin layer over the modules, which tests call directly."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from datalab import DatalabError, artifacts, catalog, converge, hosts, inventory, jobs, lab
from datalab import postgres as postgres_mod
from datalab import secrets as secrets_mod
from datalab import smoke as smoke_mod
from datalab import vault as vault_mod
from datalab.proc import step

app = typer.Typer(
    help="DataLab: a hardened, self-hosted lakehouse platform. "
    "`datalab up` makes the dev environment on this machine and runs the pipeline on it; "
    "`datalab smoke` checks it; `datalab down` removes it. Step by step: `datalab hosts up`, "
    "`datalab inventory`, `ansible-playbook site.yml`, `datalab deploy`, `datalab run`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Docstrings are wrapped prose: markdown joins their lines instead of breaking there.
    rich_markup_mode="markdown",
)
lab_app = typer.Typer(help="Prerequisites of the local lab on this machine.", no_args_is_help=True)
hosts_app = typer.Typer(help="The hosts of an environment (Terraform).", no_args_is_help=True)
artifacts_app = typer.Typer(
    help="The offline artifact store every role installs from.", no_args_is_help=True
)
app.add_typer(lab_app, name="lab")
app.add_typer(hosts_app, name="hosts")
app.add_typer(artifacts_app, name="artifacts")
vault_app = typer.Typer(
    help="The environment's Vault (OpenBao): status, init, unseal, root token, intermediate CA.",
    no_args_is_help=True,
)
secrets_app = typer.Typer(
    help="Service secrets in Vault KV (datalab/): list, get, rotate.", no_args_is_help=True
)
postgres_app = typer.Typer(
    help="The PostgreSQL databases (mlflow, prefect): backup, restore.", no_args_is_help=True
)
app.add_typer(vault_app, name="vault")
app.add_typer(secrets_app, name="secrets")
app.add_typer(postgres_app, name="postgres")
run_app = typer.Typer(help="Run a deployed job now and wait for it.", no_args_is_help=True)
app.add_typer(run_app, name="run")

VarFileOption = Annotated[
    Path | None,
    typer.Option(
        "--var-file", help="Environment file to use instead of `environments/<env>.tfvars`."
    ),
]
EnvOption = Annotated[
    str, typer.Option("--env", "-e", help="Environment: a file `environments/<env>.tfvars`.")
]


def _table(rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        typer.echo(f"  {name.ljust(width)}  {value}")


@lab_app.command("prepare")
def lab_prepare(env: EnvOption = "dev") -> None:
    """Make this machine ready to run lab hosts (idempotent): Docker engine, host base
    image, provider mirror, package proxy, artifact store, and the environment's SSH key.
    Artifacts built from source on demand (e.g. HashiCorp Vault, about 15 minutes cold)
    are made only when the environment's tfvars select them."""
    results = []
    for name, action in lab.prepare_steps(env):
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
def hosts_up(env: EnvOption = "dev", var_file: VarFileOption = None) -> None:
    """Create or update the environment's hosts (terraform apply) and wait for SSH."""
    data = hosts.up(env, var_file=var_file)
    typer.echo(f"{len(data['hosts'])} hosts up in {env}:")
    _table([(name, f"{h['address']}  {h['fqdn']}") for name, h in sorted(data["hosts"].items())])
    typer.echo(f"inventory: {hosts.key_dir(env) / 'inventory.yml'}")


@hosts_app.command("replace")
def hosts_replace(
    name: Annotated[str, typer.Argument(help="Host to recreate, e.g. control-2")],
    env: EnvOption = "dev",
    var_file: VarFileOption = None,
) -> None:
    """Recreate one host from scratch (container and its data volume), e.g. after a
    failure; converge afterwards to install it again."""
    data = hosts.replace(env, name, var_file=var_file)
    typer.echo(f"{name} recreated at {data['hosts'][name]['address']}; now converge it")


@hosts_app.command("down")
def hosts_down(env: EnvOption = "dev", var_file: VarFileOption = None) -> None:
    """Destroy the environment's hosts and their data volumes (terraform destroy)."""
    hosts.down(env, var_file=var_file)
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
def up(
    env: EnvOption = "dev",
    rows: Annotated[
        int, typer.Option(help="Orders the first medallion run generates (0: no run).")
    ] = 100_000,
) -> None:
    """Everything for an environment, from nothing: lab prerequisites, hosts
    (terraform apply), `ansible-playbook site.yml`, `datalab deploy`, a medallion run on
    generated orders, the training flow on its gold and `datalab smoke`; ends with a
    summary (URLs, where the credentials are, smoke results). Re-running it converges
    what changed."""
    started = time.monotonic()
    timings = []
    for name, action in lab.prepare_steps(env):
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
    mark = time.monotonic()
    with step(f"datalab deploy ({env})"):
        deployed = jobs.deploy(env)
    timings.append(("deploy", time.monotonic() - mark))
    medallion = trained = None
    if rows:
        mark = time.monotonic()
        with step(f"datalab run medallion --rows {rows} ({env})"):
            medallion = jobs.run_medallion(env, rows, progress=lambda m: typer.echo(f"    {m}"))
        timings.append(("medallion run", time.monotonic() - mark))
        _show_run(medallion)
        mark = time.monotonic()
        with step(f"datalab run train ({env})"):
            trained = jobs.run_training(env, progress=lambda m: typer.echo(f"    {m}"))
        timings.append(("training run", time.monotonic() - mark))
        _show_trained(trained)
    mark = time.monotonic()
    with step(f"datalab smoke ({env})"):
        checks = smoke_mod.run(env)
    smoke_seconds = time.monotonic() - mark
    timings.append(("smoke", smoke_seconds))
    vault_rows = []
    if data["groups"].get("vault"):
        vault_rows = [
            (f"vault {r['node']}", f"{r['role']}  {r['url']}")
            for r in vault_mod.status(vault_mod.environment(env))
        ]
    # Ports from the service catalog, by name (spark-master as spark_master).
    ports = {name.replace("-", "_"): e["port"] for name, e in catalog.services().items()}
    ports["spark_ui"] = catalog.ui_port("spark-master")
    endpoints = [
        (label, url.format(address=data["hosts"][data["groups"][group][0]]["address"], **ports))
        for group, label, url in (
            (
                "object_store",
                "s3 (TLS)",
                "https://{address}:{s3}  keys: datalab secrets get object_store/<consumer>",
            ),
            ("postgres", "postgres (TLS)", "{address}:{postgres}  databases mlflow, prefect"),
            (
                "kafka",
                "kafka (TLS+SCRAM)",
                "{address}:{kafka}  users: datalab secrets get kafka/scram-<user> --reveal",
            ),
            (
                "spark_master",
                "spark",
                "spark://{address}:{spark_master}  UI https://{address}:{spark_ui}",
            ),
            (
                "mlflow",
                "mlflow",
                "https://{address}:{mlflow}  admin: datalab secrets get mlflow/server --reveal",
            ),
            (
                "prefect_server",
                "prefect",
                "https://{address}:{prefect}  admin: datalab secrets get prefect/server --reveal",
            ),
            (
                "prometheus",
                "prometheus",
                "https://{address}:{prometheus}  admin: datalab secrets get prometheus/web"
                " --reveal",
            ),
            (
                "perses",
                "dashboards",
                "https://{address}:{perses}  admin: datalab secrets get perses/admin --reveal",
            ),
        )
        if data["groups"].get(group)
    ]
    typer.echo(f"\nDataLab {env} is up ({time.monotonic() - started:.0f}s):")
    _table([(name, f"{h['address']}  {h['fqdn']}") for name, h in sorted(data["hosts"].items())])
    typer.echo("")
    _table(
        [
            ("inventory", str(inventory_file)),
            ("ssh", f"ssh -i {hosts.key_dir(env) / 'id_ed25519'} datalab@<address>"),
            *vault_rows,
            *endpoints,
            ("platform CA", str(hosts.key_dir(env) / "platform-root-ca.pem")),
            (
                "bootstrap material",
                f"{hosts.key_dir(env)} (0700, outside git): SSH key, "
                "Vault unseal keys and Ansible token (0600), platform CA",
            ),
            ("changes", f"{result.total_changed} in site.yml"),
            ("jobs", f"release {deployed.release}: deployments {', '.join(deployed.deployments)}"),
            *(
                [
                    (
                        "medallion",
                        f"{medallion.rows:,} rows, batch {medallion.batch_id}: "
                        + ("ok" if medallion.ok else "; ".join(medallion.problems)),
                    )
                ]
                if medallion
                else []
            ),
            *(
                [
                    (
                        "model",
                        f"{jobs.MODEL} version {trained.report.get('version')}: "
                        + ("ok" if trained.ok else "; ".join(trained.problems)),
                    )
                ]
                if trained
                else []
            ),
            *[(f"time: {name}", f"{seconds:.1f}s") for name, seconds in timings],
        ]
    )
    typer.echo("")
    failed = _show_checks(env, checks, smoke_seconds)
    if failed or (medallion and not medallion.ok) or (trained and not trained.ok):
        raise typer.Exit(1)


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
            (
                a.name,
                f"{a.version}  {a.source.get('kind')}:"
                f"{a.source.get('package') or a.source.get('module')}  {a.sha256}"
                + (f"  (on demand: {artifacts.when(a)})" if a.needed_when else ""),
            )
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


@vault_app.command("status")
def vault_status(env: EnvOption = "dev") -> None:
    """Seal state, role (active/standby) and version of every Vault node; exit 1 if any
    node is sealed or unreachable."""
    rows = vault_mod.status(vault_mod.environment(env))
    _table(
        [
            (
                r["node"],
                f"{r['role']:<10} initialized={r['initialized']}  "
                f"version={r['version']}  {r['url']}",
            )
            for r in rows
        ]
    )
    if any(r["role"] not in ("active", "standby") for r in rows):
        raise typer.Exit(1)


@vault_app.command("init")
def vault_init(
    env: EnvOption = "dev",
    shares: Annotated[int, typer.Option(help="Unseal key shares.")] = 5,
    threshold: Annotated[int, typer.Option(help="Shares needed to unseal.")] = 3,
) -> None:
    """Initialise an uninitialised cluster; keys and root token go to a 0600 file in the
    environment's state dir, never to the terminal (the vault role does this for dev)."""
    typer.echo(vault_mod.init(vault_mod.environment(env), shares, threshold))


@vault_app.command("unseal")
def vault_unseal(
    env: EnvOption = "dev",
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key",
            help="A key share (repeat up to the threshold); default: the dev bootstrap file.",
        ),
    ] = None,
) -> None:
    """Unseal every sealed node (after a restart)."""
    for line in vault_mod.unseal(vault_mod.environment(env), key or None):
        typer.echo(f"  {line}")


@vault_app.command("remove-peer")
def vault_remove_peer(
    node: Annotated[str, typer.Argument(help="Inventory name of the node, e.g. control-2")],
    env: EnvOption = "dev",
) -> None:
    """Remove a failed node from the raft cluster (before replacing it)."""
    typer.echo(vault_mod.remove_peer(vault_mod.environment(env), node))


@vault_app.command("generate-root")
def vault_generate_root(
    env: EnvOption = "dev",
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key",
            help="A key share (repeat up to the threshold); default: the dev bootstrap file.",
        ),
    ] = None,
    unauthenticated: Annotated[
        bool,
        typer.Option(
            help="Use the unauthenticated ceremony (admin token lost; the listener must "
            "have it switched on: see docs/runbooks/vault.md)."
        ),
    ] = False,
) -> None:
    """Make a new root token from a quorum of key shares, authenticated with the admin
    token. It goes into the bootstrap file (0600), not to the terminal; the next
    converge uses it where needed and revokes it (see docs/runbooks/vault.md)."""
    typer.echo(vault_mod.generate_root(vault_mod.environment(env), key or None, unauthenticated))


@vault_app.command("rotate-intermediate")
def vault_rotate_intermediate(
    env: EnvOption = "dev",
    reissue: Annotated[
        bool,
        typer.Option(help="Reissue every service certificate now (else: at the next hourly run)."),
    ] = True,
) -> None:
    """Replace the intermediate CA: a new issuer in pki_int, signed by the root, becomes
    the default; every host's renewal timer reissues its certificates from it."""
    e = vault_mod.environment(env)
    old, new = vault_mod.rotate_intermediate(e)
    typer.echo(f"pki_int default issuer: {old} -> {new}")
    if reissue:
        inventory = hosts.key_dir(env) / "inventory.yml"
        converge.run_on(
            inventory,
            "all",
            "for done in /etc/datalab/certs/*.issued.json; do s=${done##*/}; "
            "systemctl start --wait datalab-cert-renew@${s%.issued.json}.service; done",
        )
        typer.echo("every service certificate reissued from the new intermediate")


@postgres_app.command("backup")
def postgres_backup(
    database: Annotated[str, typer.Argument(help="mlflow or prefect")],
    env: EnvOption = "dev",
) -> None:
    """Dump one database (pg_dump, custom format) on the database host, into
    `/var/lib/datalab/backups/postgres/<database>.dump` (replacing the previous dump)."""
    with step(f"pg_dump {database} ({env})"):
        typer.echo(postgres_mod.backup(env, database))


@postgres_app.command("restore")
def postgres_restore(
    database: Annotated[str, typer.Argument(help="mlflow or prefect")],
    env: EnvOption = "dev",
) -> None:
    """Restore one database from its dump (pg_restore --clean, in one transaction: on
    error nothing changes). Stop the service that uses it first (see the runbook)."""
    with step(f"pg_restore {database} ({env})"):
        typer.echo(postgres_mod.restore(env, database))


@secrets_app.command("list")
def secrets_list(env: EnvOption = "dev") -> None:
    """List the secret paths (service/name) in KV, without values."""
    e = vault_mod.environment(env)
    for path in secrets_mod.list_paths(e):
        typer.echo(f"  {secrets_mod.MOUNT}/{path}")


@secrets_app.command("get")
def secrets_get(
    path: Annotated[str, typer.Argument(help="service/name, e.g. spark/auth")],
    env: EnvOption = "dev",
    reveal: Annotated[bool, typer.Option(help="Print the values instead of masking them.")] = False,
) -> None:
    """Show one secret's keys (values masked unless --reveal) and its version."""
    data, version = secrets_mod.get(vault_mod.environment(env), path)
    typer.echo(f"{secrets_mod.MOUNT}/{path} (version {version})")
    _table([(k, v if reveal else secrets_mod.mask(v)) for k, v in sorted(data.items())])


@secrets_app.command("rotate")
def secrets_rotate(
    path: Annotated[str, typer.Argument(help="service/name, e.g. spark/auth")],
    env: EnvOption = "dev",
    key: Annotated[
        list[str] | None, typer.Option("--key", help="Only these keys (default: all).")
    ] = None,
    converge_after: Annotated[
        bool,
        typer.Option(
            "--converge/--no-converge", help="Re-converge the owning service's hosts afterwards."
        ),
    ] = True,
) -> None:
    """Write a new version with fresh random values, then re-converge only the hosts of
    the service that uses it."""
    version = secrets_mod.rotate(vault_mod.environment(env), path, key or None)
    typer.echo(f"{secrets_mod.MOUNT}/{path}: new version {version}")
    if converge_after:
        with step(f"re-converging the hosts of {path.split('/')[0]}"):
            result = secrets_mod.reconverge(env, path)
        if result.returncode != 0:
            raise DatalabError("re-converge failed (output above); the new version is stored")


@app.command("smoke")
def smoke(
    env: EnvOption = "dev",
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help=f"Check only this component (repeatable): {', '.join(smoke_mod.COMPONENTS)}.",
        ),
    ] = None,
) -> None:
    """Check every service of an environment as a user would: over TLS verified against
    the platform CA, with credentials from Vault (Vault unsealed, every service name
    answered by every host's resolver, an S3 round trip,
    PostgreSQL's TLS, a Kafka record produced and consumed over TLS + SCRAM, Spark's
    workers, MLflow's and Prefect's APIs behind auth, the deployed medallion on a batch
    of its own with gold equal to a single-process baseline, the trained model's newest
    version and its MLflow run, every Prometheus target up).
    Prints a table; exits 1 if any check fails."""
    start = time.monotonic()
    checks = smoke_mod.run(env, only or ())
    if _show_checks(env, checks, time.monotonic() - start):
        raise typer.Exit(1)


def _show_checks(env: str, checks: list, seconds: float) -> list[str]:
    """The smoke table and its summary line (`seconds`: the wall time of the checks, which
    run side by side); returns the failed components."""
    mark = {True: "ok", False: "FAIL", None: "-"}
    width = max(len(c.component) for c in checks)
    for c in checks:
        where = f"{c.component.ljust(width)}  {c.what:10}"
        typer.echo(f"  {mark[c.ok]:4}  {where}  {c.seconds:5.1f}s  {c.detail}")
    failed = [c.component for c in checks if c.ok is False]
    summary = f"{len(checks) - len(failed)}/{len(checks)} passed in {seconds:.0f}s"
    if failed:
        typer.secho(f"smoke {env}: {summary}; failed: {', '.join(failed)}", fg=typer.colors.RED)
    else:
        typer.secho(f"smoke {env}: {summary}", fg=typer.colors.GREEN)
    return failed


@app.command("deploy")
def deploy(env: EnvOption = "dev") -> None:
    """Ship the jobs (jobs/medallion) to an environment: the release archive to the object
    store (s3://prefect/releases/), unpacked on every Prefect worker, and each flow a
    Prefect deployment on the work pool, scheduled as the environment file's
    `job_schedules` says. Idempotent: the same code is the same release."""
    with step(f"deploying the jobs to {env}"):
        done = jobs.deploy(env)
    _table(
        [
            ("release", f"{done.release}  (s3://{jobs.RELEASES_BUCKET}/{jobs.RELEASES_PREFIX}/)"),
            ("workers", f"{', '.join(done.workers)}  ({done.changed} changed)"),
            *[
                (f"deployment {name}", f"schedule {cron} UTC" if cron else "on demand")
                for name, cron in done.deployments.items()
            ],
        ]
    )


def _show_run(run: jobs.Run) -> None:
    report = run.report
    rows = [
        ("batch", f"{run.batch_id}  (flow run {run.flow_run}: {run.state})"),
        (
            "accounting",
            f"bronze {report.get('bronze_rows')} = silver {report.get('silver_rows')} + "
            f"quarantined {report.get('quarantined')} + duplicates {report.get('duplicates')}",
        ),
        (
            "bronze sources",
            ", ".join(f"{k} {v}" for k, v in report.get("bronze_sources", {}).items()),
        ),
        ("injected", ", ".join(f"{k} {v}" for k, v in run.injected.items())),
        *[(f"time: {k}", f"{v:.1f}s") for k, v in run.seconds.items()],
    ]
    layers = sum(v for k, v in run.seconds.items() if k.startswith(" "))
    if layers:
        rows.append(("rows/s (layers)", f"{run.rows / layers:,.0f}"))
    _table(rows)
    for problem in run.problems:
        typer.secho(f"  problem: {problem}", fg=typer.colors.RED)


@run_app.command("medallion")
def run_medallion(
    env: EnvOption = "dev",
    rows: Annotated[
        int, typer.Option(help="Orders to generate (with bad records mixed in).")
    ] = 100_000,
    dataset: Annotated[
        str, typer.Option(help="Tables under `s3://<layer>/<dataset>`; landing likewise.")
    ] = "orders",
    compare: Annotated[
        bool,
        typer.Option(
            help="Check gold against the single-process baseline on the same files "
            "(only meaningful on a fresh --dataset: gold sums every batch of a day)."
        ),
    ] = False,
    kafka_share: Annotated[
        float | None,
        typer.Option(
            help="Share of the orders published to the Kafka topic `ingest.<dataset>` instead "
            f"of landed as files (default {jobs.KAFKA_SHARE} if the environment has Kafka)."
        ),
    ] = None,
) -> None:
    """Generate a batch of orders, land most of it in the object store and publish the
    rest to the dataset's Kafka topic, and run the deployed medallion (bronze -> silver
    -> gold on the Spark cluster) on it; prints the accounting and the time per layer;
    exits 1 if a row is unaccounted for."""
    if rows < 1:
        raise DatalabError("--rows must be at least 1")
    if kafka_share is not None and not 0 <= kafka_share < 1:
        raise DatalabError("--kafka-share must be at least 0 and below 1")
    run = jobs.run_medallion(
        env,
        rows,
        dataset=dataset,
        compare=compare,
        progress=lambda m: typer.echo(f"==> {m}"),
        kafka_share=kafka_share,
    )
    _show_run(run)
    if not run.ok:
        raise typer.Exit(1)


def _show_trained(trained: jobs.Trained) -> None:
    report = trained.report
    metrics = report.get("metrics") or {}
    _table(
        [
            ("flow run", f"{trained.flow_run}: {trained.state} in {trained.seconds:.0f}s"),
            ("model", f"{report.get('model')} version {report.get('version')}"),
            ("mlflow run", str(report.get("run_id"))),
            ("metrics", ", ".join(f"{k} {v:,.3f}" for k, v in sorted(metrics.items()))),
        ]
    )
    for problem in trained.problems:
        typer.secho(f"  problem: {problem}", fg=typer.colors.RED)


@run_app.command("train")
def run_train(
    env: EnvOption = "dev",
    dataset: Annotated[str, typer.Option(help="Train on `s3://gold/<dataset>`.")] = "orders",
) -> None:
    """Run the deployed training flow on the Spark cluster: gold as a training frame, a
    model fitted and logged to MLflow with its parameters and metrics, registered as a
    new version of `orders-daily-value`; checks the run and the version exist on the
    tracking server; exits 1 if not."""
    trained = jobs.run_training(env, dataset, progress=lambda m: typer.echo(f"==> {m}"))
    _show_trained(trained)
    if not trained.ok:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except DatalabError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)
