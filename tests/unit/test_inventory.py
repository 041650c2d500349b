import pytest
import yaml
from datalab import inventory

CONTRACT = {
    "environment": "dev",
    "driver": "docker",
    "hosts": {
        "control-1": {
            "address": "172.30.10.11",
            "fqdn": "control-1.dev.datalab.internal",
            "group": "control",
        },
        "data-1": {
            "address": "172.30.10.21",
            "fqdn": "data-1.dev.datalab.internal",
            "group": "data",
        },
    },
    "groups": {"control": ["control-1"], "data": ["data-1"], "vault": ["control-1"], "empty": []},
    "vars": {
        "datalab_environment": "dev",
        "datalab_apt_proxy": None,
        "ansible_user": "datalab",
        "datalab_known_hosts_file": "/state/dev/known_hosts",
    },
}


def test_render_maps_hosts_groups_and_vars():
    rendered = inventory.render(CONTRACT)["all"]
    assert rendered["hosts"]["control-1"]["ansible_host"] == "172.30.10.11"
    assert rendered["hosts"]["data-1"]["datalab_host_group"] == "data"
    assert rendered["children"]["vault"] == {"hosts": {"control-1": {}}}
    assert "empty" not in rendered["children"]
    assert "datalab_apt_proxy" not in rendered["vars"]  # nulls are dropped
    assert rendered["vars"]["ansible_user"] == "datalab"


def test_host_keys_are_pinned_not_trusted_on_first_use():
    args = inventory.render(CONTRACT)["all"]["vars"]["ansible_ssh_common_args"]
    assert "UserKnownHostsFile=/state/dev/known_hosts" in args
    assert "StrictHostKeyChecking=yes" in args


def test_yaml_round_trips():
    text = inventory.to_yaml(inventory.render(CONTRACT))
    assert text.startswith("# Rendered by `datalab inventory`")
    assert yaml.safe_load(text)["all"]["hosts"]["control-1"]["datalab_fqdn"].endswith(".internal")


def test_group_naming_unknown_host_is_rejected():
    bad = dict(CONTRACT, groups={"vault": ["ghost-1"]})
    with pytest.raises(ValueError, match="ghost-1"):
        inventory.render(bad)


def test_missing_contract_keys_are_named():
    with pytest.raises(ValueError, match="groups"):
        inventory.render({k: v for k, v in CONTRACT.items() if k != "groups"})
