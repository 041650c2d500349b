#!/usr/bin/env python3
"""Discovery figures (printed, not asserted) on a converged environment:

- name removal latency: a service's unit is stopped on its host; seconds until another
  host's resolver no longer answers that host's address for <name>.service.<domain>
  (the registrar's check
  interval + CoreDNS's service cache + the probe's own round trip through Ansible);
- name return latency: seconds from the start until it answers again;
- idle memory per host of etcd, CoreDNS and the registrar (systemd's MemoryCurrent).

Usage: python tests/bench/discovery.py --env dev [--service prometheus --unit prometheus]
       [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import yaml
from datalab import catalog, converge, discovery, hosts


def _answers(inventory, asker, name, address) -> bool:
    """Whether the name has the server's address (other instances may remain)."""
    return address in discovery.resolve(inventory, asker, [name])[name].get("A", [])


def _wait(condition, limit: float = 120) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > limit:
            raise SystemExit(f"not within {limit} s")
        time.sleep(0.2)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev")
    parser.add_argument("--service", default="prometheus", help="catalog name")
    parser.add_argument("--unit", default="prometheus", help="its systemd unit")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    inventory = hosts.key_dir(args.env) / "inventory.yml"
    rendered = yaml.safe_load(inventory.read_text())["all"]
    entry = catalog.services()[args.service]
    server = sorted(rendered["children"][entry["group"]]["hosts"])[0]
    asker = next(h for h in sorted(rendered["hosts"]) if h != server)
    address = rendered["hosts"][server]["ansible_host"]
    name = discovery.fqdn(args.service, rendered["vars"]["datalab_domain"])
    gone, back = [], []
    for _ in range(args.rounds):
        _wait(lambda: _answers(inventory, asker, name, address))
        converge.run_on(inventory, server, f"systemctl stop {args.unit}")
        gone.append(_wait(lambda: not _answers(inventory, asker, name, address)))
        converge.run_on(inventory, server, f"systemctl start {args.unit}")
        back.append(_wait(lambda: _answers(inventory, asker, name, address)))
    print(f"{name} (stopped on {server}, asked from {asker}), {args.rounds} rounds:")
    print(f"  removal latency  median {statistics.median(gone):5.1f} s  max {max(gone):5.1f} s")
    print(f"  return latency   median {statistics.median(back):5.1f} s  max {max(back):5.1f} s")
    print("idle memory (MemoryCurrent):")
    for host in sorted(rendered["hosts"]):
        out = converge.run_on(
            inventory,
            host,
            "for u in etcd coredns datalab-registrar; do "
            "systemctl show -P MemoryCurrent $u 2>/dev/null || echo -; done",
        )
        values = out.replace("\\n", "\n").split()
        mib = [f"{int(v) / 2**20:5.1f} MiB" if v.isdigit() else "    -    " for v in values]
        print(f"  {host:10}  etcd {mib[0]}  coredns {mib[1]}  registrar {mib[2]}")


if __name__ == "__main__":
    main()
