"""Every DataLab service unit: its own unprivileged user, sandboxed, no capabilities
beyond the one a unit is known to need."""

import pytest

SANDBOX = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectControlGroups": "yes",
    "CapabilityBoundingSet": "",
}
# The only capabilities a unit may keep: CoreDNS binds port 53 (role discovery).
CAPABILITIES = {"coredns": "cap_net_bind_service"}


def _datalab_units(host):
    out = host.run(
        "grep -l 'Sandboxing: the same for every DataLab service' /etc/systemd/system/*.service"
    )
    return [path.rsplit("/", 1)[-1][: -len(".service")] for path in out.stdout.split()]


def test_services_are_sandboxed_and_unprivileged(host):
    units = _datalab_units(host)
    if not units:
        pytest.skip("no DataLab service on this host")
    for unit in units:
        props = dict(
            line.split("=", 1)
            for line in host.run(
                f"systemctl show {unit} -p User -p " + " -p ".join(SANDBOX)
            ).stdout.splitlines()
        )
        assert props.pop("User") not in ("", "root"), unit
        assert props == {**SANDBOX, "CapabilityBoundingSet": CAPABILITIES.get(unit, "")}, unit


def test_firewall_denies_by_default(host):
    with host.sudo():
        ruleset = host.run("nft list table inet datalab").stdout
    assert "policy drop" in ruleset
    assert host.service("nftables").is_enabled
