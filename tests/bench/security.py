#!/usr/bin/env python3
"""Security-core figures (printed, not asserted):

- converge time of site.yml (common + Vault/PKI) on a fresh dev topology, warm caches;
- the no-change re-run (and that it changed nothing);
- OpenBao's memory at idle (RSS of the `bao` process).

Usage: python tests/bench/security.py
Runs the dev file as environment `bench` (its own network) and removes it at the end.
"""

from __future__ import annotations

import sys
import time

from datalab import converge, hosts, lab, paths

ENV = "bench"
OVERRIDES = {"environment": ENV, "network_cidr": "172.30.80.0/24"}


def main() -> int:
    for _name, action in lab.prepare_steps():
        action()
    var_file = paths.env_file("dev")
    lab.remove_environment_objects(ENV)
    for stale in ("vault-bootstrap.json", "vault-ansible-token", "platform-root-ca.pem"):
        (hosts.key_dir(ENV) / stale).unlink(missing_ok=True)
    hosts.up(ENV, var_file, OVERRIDES)
    inventory = hosts.key_dir(ENV) / "inventory.yml"
    try:
        start = time.monotonic()
        first = converge.playbook(inventory, "site.yml", stream=False)
        first_s = time.monotonic() - start
        if first.returncode:
            print(first.output[-3000:])
            return 1
        start = time.monotonic()
        again = converge.playbook(inventory, "site.yml", stream=False)
        again_s = time.monotonic() - start
        time.sleep(30)  # idle
        rss = converge.run_on(inventory, "control-1", "ps -o rss= -C bao")
        print(
            f"{'site.yml converge, fresh dev hosts (warm cache)':<52} {first_s:7.1f} s "
            f"({first.total_changed} changes)"
        )
        print(f"{'site.yml no-change re-run':<52} {again_s:7.1f} s ({again.total_changed} changes)")
        print(f"{'OpenBao RSS at idle':<52} {int(rss.split()[0]) / 1024:7.1f} MiB")
    finally:
        hosts.down(ENV, var_file, OVERRIDES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
