#!/usr/bin/env python3
"""Kafka figures on the dev shape (printed, not asserted), warm caches:

- streaming play (playbooks/streaming.yml): first converge on hosts that have the
  security core, and the no-change re-run (and that it changed nothing);
- produce throughput with 1 KiB records (ProducerPerformance, acks=all, one topic of
  three partitions) over the TLS + SCRAM-SHA-512 client listener, then the same client
  against a PLAINTEXT listener that only this benchmark adds (lab only, on 127.0.0.1,
  `-e kafka_lab_plaintext_port=9092`), and their ratio. The client runs on the broker
  host (where the tools are), so the figures are the broker's and the protocol's, not
  the network's. The plaintext listener is removed again at the end.

Usage: python tests/bench/kafka.py [--records N] [--reuse ENV]
Without --reuse it makes the dev file as environment `benchkafka` (its own network) and
removes it at the end; --reuse ENV measures an environment that is already converged
(the converge figures are then the warm re-run only).
"""

from __future__ import annotations

import argparse
import re
import time

import testinfra
from datalab import converge, hosts, lab, paths, vault

from tests.lab.kafka_client import CLIENT_PORT, admin_tool, client_config, put_config, tool

ENV = "benchkafka"
OVERRIDES = {"environment": ENV, "network_cidr": "172.30.81.0/24"}
PLAIN_PORT = 9092
RESULT = re.compile(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\)")


def timed(inventory, *playbooks, extra_vars=None, limit=None):
    start = time.monotonic()
    result = converge.playbook(
        inventory, *playbooks, extra_vars=extra_vars, limit=limit, stream=False
    )
    if result.returncode:
        print(result.output[-3000:])
        raise SystemExit(1)
    return time.monotonic() - start, result.total_changed


def produce_rate(host, bootstrap: str, topic: str, records: int, config: str | None):
    argv = ["producer-perf-test", "--topic", topic, "--num-records", str(records),
            "--record-size", "1024", "--throughput", "-1", "--bootstrap-server", bootstrap,
            "--command-property", "acks=all"]  # fmt: skip
    if config:
        argv += ["--command-config", config]
    out = tool(host, *argv, timeout=900)
    found = RESULT.findall(out.stdout)
    if out.rc or not found:
        raise SystemExit(f"producer-perf-test failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
    sent, per_second, mb_per_second = found[-1]
    return int(sent), float(per_second), float(mb_per_second)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--reuse", metavar="ENV")
    args = parser.parse_args()
    env = args.reuse or ENV
    inventory = hosts.key_dir(env) / "inventory.yml"
    rows = []
    if not args.reuse:
        for _name, action in lab.prepare_steps():
            action()
        lab.remove_environment_objects(ENV)
        for stale in ("vault-bootstrap.json", "vault-ansible-token", "platform-root-ca.pem"):
            (hosts.key_dir(ENV) / stale).unlink(missing_ok=True)
        hosts.up(ENV, paths.env_file("dev"), OVERRIDES)
    try:
        if not args.reuse:
            # Kafka needs the security core on its own host and Vault's.
            layers = ("playbooks/common.yml", "playbooks/vault.yml")
            timed(inventory, *layers, limit="control-1,data-1")
            seconds, changed = timed(inventory, "playbooks/streaming.yml")
            rows.append(("streaming play, first converge", f"{seconds:7.1f} s", changed))
        seconds, changed = timed(inventory, "playbooks/streaming.yml")
        rows.append(("streaming play, no-change re-run", f"{seconds:7.1f} s", changed))

        host = testinfra.get_host(f"ansible://data-1?ansible_inventory={inventory}", sudo=True)
        address = host.check_output("hostname -I").split()[0]
        config = put_config(host, "kafka-admin", client_config(vault.environment(env), "admin"))
        topic = "ingest.bench"
        out = admin_tool(host, address, "topics", "--create", "--if-not-exists", "--topic",
                         topic, "--partitions", "3")  # fmt: skip
        if out.rc:
            raise SystemExit(out.stderr[-2000:])
        # A short warm-up (JIT, topic leadership), then the measured run.
        produce_rate(host, f"{address}:{CLIENT_PORT}", topic, 20_000, config)
        tls = produce_rate(host, f"{address}:{CLIENT_PORT}", topic, args.records, config)
        print(f"TLS + SCRAM: {tls}", flush=True)

        extra = [f"kafka_lab_plaintext_port={PLAIN_PORT}"]
        seconds, _ = timed(inventory, "playbooks/streaming.yml", extra_vars=extra)
        rows.append(("streaming play adding the lab listener (restart)", f"{seconds:7.1f} s", ""))
        try:
            plain_bootstrap = f"127.0.0.1:{PLAIN_PORT}"
            produce_rate(host, plain_bootstrap, topic, 20_000, None)
            plain = produce_rate(host, plain_bootstrap, topic, args.records, None)
        finally:
            timed(inventory, "playbooks/streaming.yml")
        rows.append(("produce, TLS + SCRAM (1 KiB, acks=all)",
                     f"{tls[1]:9.0f} rec/s", f"{tls[2]:.1f} MB/s"))  # fmt: skip
        rows.append(("produce, plaintext lab listener (1 KiB, acks=all)",
                     f"{plain[1]:9.0f} rec/s", f"{plain[2]:.1f} MB/s"))  # fmt: skip
        rows.append(("TLS + SCRAM / plaintext", f"{tls[1] / plain[1]:9.2f}", ""))
    finally:
        if not args.reuse:
            hosts.down(ENV, var_file=paths.env_file("dev"), overrides=OVERRIDES)
    print(f"\nKafka on the dev shape ({env}, {args.records} records per run)")
    for name, value, extra in rows:
        print(f"  {name:<52} {value:>14}  {extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
