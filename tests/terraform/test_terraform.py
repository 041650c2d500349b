"""Terraform: formatting, validation, offline `terraform test`, and real plans of the
environment files (good ones plan; bad values fail naming the variable)."""

from __future__ import annotations

import pytest
from datalab import hosts, paths, terraform
from datalab.proc import run
from datalab.terraform import Stack

ROOTS = [
    paths.TERRAFORM_DIR / "local",
    paths.TERRAFORM_DIR / "modules" / "docker_hosts",
    paths.TERRAFORM_DIR / "modules" / "inventory",
]

pytestmark = pytest.mark.usefixtures("prepared_lab")


def tf(*args, cwd, env=None):
    return run(
        [terraform.binary(), *args],
        cwd=cwd,
        env={**terraform.environ(), **(env or {})},
        capture=True,
        check=False,
    )


def test_fmt_is_clean():
    out = tf("fmt", "-check", "-recursive", "-diff", cwd=paths.TERRAFORM_DIR)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("root", ROOTS, ids=lambda p: p.name)
def test_validate(root):
    init = tf("init", "-backend=false", "-input=false", "-no-color", cwd=root)
    assert init.returncode == 0, init.stdout + init.stderr
    out = tf("validate", "-no-color", cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("root", [r for r in ROOTS if (r / "tests").is_dir()], ids=lambda p: p.name)
def test_terraform_test(root):
    tf("init", "-backend=false", "-input=false", "-no-color", cwd=root)
    # The root stack's workspace guard wants workspace == environment ("dev" in the tests).
    out = tf("test", "-no-color", cwd=root, env={"TF_WORKSPACE": "dev"})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 failed" in out.stdout


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_environment_files_plan(env):
    hosts.ensure_ssh_key(env)
    out = Stack(env).plan(hosts.stack_vars(env))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "docker_container.host" in out.stdout


def test_staging_topology():
    hosts.ensure_ssh_key("staging")
    out = Stack("staging").plan(hosts.stack_vars("staging"))
    created = [
        line
        for line in out.stdout.splitlines()
        if "docker_container.host[" in line and "will be created" in line
    ]
    assert len(created) == 8, "3 control (Vault/etcd) + 3 data (Kafka) + 2 compute (Spark workers)"


BAD_VALUES = [
    (
        "host_groups",
        "{control={count=0},data={count=1},compute={count=1}}",
        "every group needs a whole count from 1 to 9",
    ),
    ("network_cidr", "172.30.10.0/33", "network_cidr must be an IPv4 CIDR"),
    ("network_cidr", "172.17.0.0/24", "network_cidr overlaps a reserved range"),
    ("object_store_backend", "ceph", 'object_store_backend must be "seaweedfs" or "minio"'),
    ("vault_flavour", "hashicorp", 'vault_flavour must be "openbao" or "vault"'),
    ("certificate_ttl", "30d", "certificate_ttl must be hours"),
    ("job_schedules", '{medallion="hourly"}', "job_schedules maps medallion, train-orders-model"),
]


@pytest.mark.parametrize(
    ("variable", "value", "message"), BAD_VALUES, ids=[f"{v}={x}" for v, x, _ in BAD_VALUES]
)
def test_bad_value_fails_at_plan_naming_the_variable(variable, value, message):
    hosts.ensure_ssh_key("dev")
    out = Stack("dev").plan({**hosts.stack_vars("dev"), variable: value})
    errors = out.stderr
    assert out.returncode != 0
    assert f"var.{variable}" in errors, errors
    assert message in " ".join(errors.split()), errors
