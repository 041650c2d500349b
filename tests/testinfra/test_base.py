"""Baseline of every host: systemd healthy, SSH locked down, software sources set."""


def test_systemd_is_running(host):
    state = host.run("systemctl is-system-running").stdout.strip()
    assert state == "running", host.run("systemctl --failed --no-legend").stdout


def test_sshd_accepts_keys_only(host):
    with host.sudo():
        config = host.run("sshd -T").stdout.lower().splitlines()
    assert "passwordauthentication no" in config
    assert "kbdinteractiveauthentication no" in config
    assert "permitrootlogin no" in config
    assert "pubkeyauthentication yes" in config


def test_ssh_host_keys_are_per_host(host):
    key = host.file("/etc/ssh/ssh_host_ed25519_key")
    assert key.exists
    assert key.user == "root" and key.mode == 0o600


def test_admin_user_has_no_password(host):
    with host.sudo():
        status = host.run("passwd --status datalab").stdout.split()
    assert status[1] in ("L", "NP") or status[1] == "L"


def test_every_host_resolves_every_other(host):
    inventory_hosts = host.ansible.get_variables()["groups"]["all"]
    for name in inventory_hosts:
        assert host.run(f"getent hosts {name}").rc == 0, name


def test_package_proxy_configured(host):
    proxy = host.ansible.get_variables().get("datalab_apt_proxy")
    conf = host.file("/etc/apt/apt.conf.d/01datalab-proxy")
    if proxy:
        assert conf.contains(proxy)
    else:
        assert not conf.exists
