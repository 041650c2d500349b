from pathlib import Path

from datalab import converge


def test_ansible_runs_with_mitogens_strategy_from_the_operator_install(monkeypatch):
    monkeypatch.delenv("ANSIBLE_STRATEGY", raising=False)
    env = converge.environ()
    assert env["ANSIBLE_STRATEGY"] == "mitogen_linear"
    plugins = Path(env["ANSIBLE_STRATEGY_PLUGINS"])
    assert (plugins / "mitogen_linear.py").is_file()
    assert env["ANSIBLE_CONFIG"].endswith("ansible/ansible.cfg")


def test_a_strategy_the_caller_chose_is_kept(monkeypatch):
    monkeypatch.setenv("ANSIBLE_STRATEGY", "linear")
    env = converge.environ()
    assert env["ANSIBLE_STRATEGY"] == "linear"
    assert "ANSIBLE_STRATEGY_PLUGINS" not in env or "mitogen" not in env["ANSIBLE_STRATEGY_PLUGINS"]
