"""Service discovery, seen from the hosts: what each host's resolver (CoreDNS on
127.0.0.1:53, role discovery) answers for the service catalog's names.

The catalog is ansible/playbooks/group_vars/all/services.yml, the file the roles read.
A name is expected on every host when its group has hosts: A records = the group's
addresses, SRV records = the catalog's port."""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from datalab import DatalabError, catalog, converge

# Run with python3 on a host: argv = names; prints {name: {"A": [...], "SRV": [ports]}}
# or {name: {"rcode": n}} (3 = NXDOMAIN). A plain DNS client (stdlib only): the hosts
# have no dig.
PROBE = r"""
import json, random, socket, struct, sys

def skip_name(data, pos):
    while True:
        n = data[pos]
        if n >= 0xC0:
            return pos + 2
        if n == 0:
            return pos + 1
        pos += n + 1

def query(name, qtype):
    qid = random.randrange(65536)
    packet = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    packet += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    packet += struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(packet, ("127.0.0.1", 53))
    data = s.recv(65535)
    rcode, count = data[3] & 15, struct.unpack(">H", data[6:8])[0]
    pos, found = skip_name(data, 12) + 4, []
    for _ in range(count):
        pos = skip_name(data, pos)
        rtype, _cls, _ttl, length = struct.unpack(">HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1 and qtype == 1:
            found.append(socket.inet_ntoa(data[pos:pos + 4]))
        elif rtype == 33 and qtype == 33:
            found.append(struct.unpack(">H", data[pos + 4:pos + 6])[0])
        pos += length
    return rcode, sorted(set(found))

out = {}
for name in sys.argv[1:]:
    rcode, a = query(name, 1)
    out[name] = {"A": a, "SRV": query(name, 33)[1]} if rcode == 0 else {"rcode": rcode}
print(json.dumps(out, sort_keys=True))
"""


def fqdn(name: str, domain: str) -> str:
    return f"{name}.service.{domain}"


def resolve(inventory: Path, host: str, names: list[str]) -> dict[str, dict]:
    """What `host`'s resolver answers for each of `names` (see PROBE)."""
    encoded = base64.b64encode(PROBE.encode()).decode()
    out = converge.run_on(
        inventory, host, f"echo {encoded} | base64 -d | python3 - {' '.join(names)}"
    )
    try:
        return json.loads(out)
    except json.JSONDecodeError as error:
        raise DatalabError(f"the resolver probe on {host} printed {out[-300:]!r}") from error


@dataclass
class Expected:
    name: str  # the full name
    addresses: list[str]
    port: int


def expected(contract_inventory: dict) -> list[Expected]:
    """Every catalog name whose group has hosts, with the addresses and port it must have."""
    inv = contract_inventory["all"]
    domain = inv["vars"]["datalab_domain"]
    groups = {g: sorted(v["hosts"]) for g, v in inv["children"].items()}
    addresses = {h: v["ansible_host"] for h, v in inv["hosts"].items()}
    found = []
    for name, entry in catalog.services().items():
        members = groups.get(entry["group"], [])
        if not members:
            continue
        # Only the active node is active.vault: one of the group's addresses.
        wanted = sorted(addresses[h] for h in members)
        found.append(Expected(fqdn(name, domain), wanted, entry["port"]))
    return found


def problems(answers: dict[str, dict], wanted: list[Expected]) -> list[str]:
    """What is wrong in one host's answers."""
    issues = []
    for e in wanted:
        got = answers.get(e.name, {})
        if "rcode" in got or not got:
            issues.append(f"{e.name}: no answer (rcode {got.get('rcode')})")
            continue
        single = e.name.startswith("active.")
        ok_a = (
            (len(got["A"]) == 1 and got["A"][0] in e.addresses)
            if single
            else got["A"] == e.addresses
        )
        if not ok_a:
            issues.append(
                f"{e.name}: A {got['A']}, expected {'one of ' if single else ''}{e.addresses}"
            )
        if got["SRV"] != [e.port]:
            issues.append(f"{e.name}: SRV ports {got['SRV']}, expected [{e.port}]")
    return issues


def check_everywhere(inventory: Path) -> tuple[int, list[str]]:
    """Every expected name from every host: (names checked per host, problems)."""
    rendered = yaml.safe_load(inventory.read_text())
    wanted = expected(rendered)
    names = [e.name for e in wanted]
    issues = []
    for host in sorted(rendered["all"]["hosts"]):
        try:
            answers = resolve(inventory, host, names)
        except (DatalabError, subprocess.SubprocessError) as error:
            issues.append(f"{host}: {error}")
            continue
        issues += [f"{host}: {p}" for p in problems(answers, wanted)]
    return len(names), issues
