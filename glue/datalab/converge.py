"""Running Ansible against an environment's rendered inventory."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from datalab import DatalabError, paths

RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)"
)


@dataclass
class Result:
    returncode: int
    output: str
    changed: dict[str, int]
    failed: dict[str, int]

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())


def _ansible_bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise DatalabError(
            f"{name} not found: install the project (`pip install -e .`), which brings ansible-core"
        )
    return found


def environ() -> dict[str, str]:
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(paths.ANSIBLE_DIR / "ansible.cfg")
    # Ansible's helpers (ansible-inventory, ...) from the same install as this package.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("ANSIBLE_FORCE_COLOR", "0")
    env.update(_mitogen(env))
    return env


def _mitogen(env: dict[str, str]) -> dict[str, str]:
    """Mitogen's strategy (an operator dependency) when it is installed and the caller
    chose no strategy: it keeps one Python per host instead of starting one per task,
    which is most of a converge's time on small hosts. ANSIBLE_STRATEGY=linear opts out."""
    if env.get("ANSIBLE_STRATEGY"):
        return {}
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or not spec.submodule_search_locations:
        return {}
    package = Path(next(iter(spec.submodule_search_locations)))
    return {
        "ANSIBLE_STRATEGY_PLUGINS": str(package / "plugins" / "strategy"),
        "ANSIBLE_STRATEGY": "mitogen_linear",
    }


def playbook(
    inventory: Path,
    *playbooks: str | Path,
    check: bool = False,
    limit: str | None = None,
    extra_vars: list[str] | None = None,
    stream: bool = True,
) -> Result:
    """Run ansible-playbook; the output streams (and is kept for the recap)."""
    argv = [_ansible_bin("ansible-playbook"), "-i", str(inventory)]
    if check:
        argv += ["--check", "--diff"]
    if limit:
        argv += ["--limit", limit]
    for extra in extra_vars or []:
        argv += ["-e", extra]
    argv += [str(paths.ANSIBLE_DIR / p) if not Path(p).is_absolute() else str(p) for p in playbooks]
    proc = subprocess.Popen(
        argv,
        cwd=paths.ANSIBLE_DIR,
        env=environ(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if stream:
            sys.stderr.write(line)
    proc.wait()
    changed: dict[str, int] = {}
    failed: dict[str, int] = {}
    for line in lines:
        match = RECAP.match(line)
        if match:
            host = match["host"]
            changed[host] = changed.get(host, 0) + int(match["changed"])
            failed[host] = failed.get(host, 0) + int(match["failed"]) + int(match["unreachable"])
    return Result(proc.returncode, "".join(lines), changed, failed)


def run_on(inventory: Path, host: str, command: str) -> str:
    """Run a shell command on one host through Ansible (become); return its stdout."""
    argv = [
        _ansible_bin("ansible"),
        host,
        "-i",
        str(inventory),
        "-b",
        "-m",
        "ansible.builtin.shell",
        "-a",
        command,
        "-o",
    ]
    out = subprocess.run(argv, cwd=paths.ANSIBLE_DIR, env=environ(), text=True, capture_output=True)
    if out.returncode != 0:
        raise DatalabError(f"{command!r} failed on {host}: {out.stdout[-500:]}{out.stderr[-500:]}")
    # -o output: "host | CHANGED | rc=0 | (stdout) ..."
    return out.stdout.split("(stdout)", 1)[-1].strip()
