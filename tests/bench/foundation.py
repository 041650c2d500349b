#!/usr/bin/env python3
"""Foundation figures (printed, not asserted):

- `datalab lab prepare` cold (empty cache dir: provider build, debootstrap, artifacts) and warm;
- `terraform apply` of dev until every host answers SSH (target <= 30 s warm),
  and destroy (<= 15 s);
- RAM of the idle dev hosts.

Usage: python tests/bench/foundation.py [--cold]
--cold uses a fresh temporary cache dir and removes the host image (about 6 minutes; apt
packages already installed on this machine are not removed; every lab environment is
destroyed first). Runs the dev file as environment `bench` so a real dev
environment is never touched.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from datalab import hosts, lab, paths

ENV = "bench"
OVERRIDES = {"environment": ENV, "network_cidr": "172.30.80.0/24"}


def timed(label: str, fn) -> float:
    start = time.monotonic()
    fn()
    seconds = time.monotonic() - start
    print(f"{label:<44} {seconds:8.1f} s", flush=True)
    return seconds


def prepare() -> None:
    for _name, action in lab.prepare_steps():
        action()


def idle_ram_mib() -> tuple[float, dict[str, float]]:
    """Working set (usage minus inactive page cache, as `docker stats` counts it) of each
    host, read from its memory cgroup on this machine."""
    per_host = {}
    names = subprocess.run(
        [
            "docker",
            "ps",
            "--filter",
            f"label=datalab.environment={ENV}",
            "--format",
            "{{.ID}} {{.Names}}",
            "--no-trunc",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    for line in filter(None, names):
        cid, name = line.split()
        base = f"/sys/fs/cgroup/memory/docker/{cid}"
        with open(f"{base}/memory.usage_in_bytes") as handle:
            usage = int(handle.read())
        with open(f"{base}/memory.stat") as handle:
            stat = dict(row.split() for row in handle)
        per_host[name] = (usage - int(stat.get("total_inactive_file", 0))) / 2**20
    return sum(per_host.values()), per_host


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cold", action="store_true", help="also measure lab prepare with an empty cache"
    )
    args = parser.parse_args()

    if args.cold:
        with tempfile.TemporaryDirectory(prefix="datalab-cold-") as cold:
            os.environ["DATALAB_CACHE_DIR"] = cold
            lab.destroy()  # lab services restart from the cold cache
            subprocess.run(["docker", "image", "rm", "-f", lab.HOST_IMAGE], capture_output=True)
            timed("lab prepare, cold (empty cache)", prepare)
            timed("lab prepare, warm (cache from the cold run)", prepare)
            lab.destroy()
        os.environ.pop("DATALAB_CACHE_DIR")
    timed("lab prepare, warm", prepare)

    var_file = paths.env_file("dev")
    lab.remove_environment_objects(ENV)
    hosts.ensure_ssh_key(ENV)
    timed("terraform apply dev -> all hosts answer SSH", lambda: hosts.up(ENV, var_file, OVERRIDES))
    time.sleep(20)  # let boot settle before measuring idle memory
    total, per_host = idle_ram_mib()
    for name, mib in sorted(per_host.items()):
        print(f"  idle RAM {name:<38} {mib:8.1f} MiB")
    print(f"{'idle RAM of the dev hosts (total)':<44} {total:8.1f} MiB")
    timed("terraform destroy dev", lambda: hosts.down(ENV, var_file, OVERRIDES))


if __name__ == "__main__":
    sys.exit(main())
