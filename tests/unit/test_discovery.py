from datalab import discovery

RENDERED = {
    "all": {
        "vars": {"datalab_domain": "dev.datalab.internal"},
        "hosts": {
            "control-1": {"ansible_host": "10.0.0.11"},
            "control-2": {"ansible_host": "10.0.0.12"},
            "data-1": {"ansible_host": "10.0.0.21"},
        },
        "children": {
            "vault": {"hosts": {"control-2": {}, "control-1": {}}},
            "object_store": {"hosts": {"data-1": {}}},
        },
    }
}


def by_name(wanted):
    return {e.name: e for e in wanted}


def test_expected_names_come_from_the_catalog_groups_that_have_hosts():
    wanted = by_name(discovery.expected(RENDERED))
    vault = wanted["vault.service.dev.datalab.internal"]
    assert vault.addresses == ["10.0.0.11", "10.0.0.12"] and vault.port == 8200
    assert wanted["s3.service.dev.datalab.internal"].addresses == ["10.0.0.21"]
    # Kafka's group has no host here: nothing is expected of it.
    assert "kafka.service.dev.datalab.internal" not in wanted


def test_problems_name_what_is_wrong():
    wanted = discovery.expected(RENDERED)
    good = {
        "vault.service.dev.datalab.internal": {"A": ["10.0.0.11", "10.0.0.12"], "SRV": [8200]},
        "active.vault.service.dev.datalab.internal": {"A": ["10.0.0.12"], "SRV": [8200]},
        "s3.service.dev.datalab.internal": {"A": ["10.0.0.21"], "SRV": [8333]},
    }
    assert discovery.problems(good, wanted) == []
    bad = dict(good)
    bad["active.vault.service.dev.datalab.internal"] = {
        "A": ["10.0.0.11", "10.0.0.12"],
        "SRV": [8200],
    }
    bad["s3.service.dev.datalab.internal"] = {"rcode": 3}
    bad["vault.service.dev.datalab.internal"] = {"A": ["10.0.0.11"], "SRV": [8201]}
    found = discovery.problems(bad, wanted)
    assert any(p.startswith("active.vault") and "one of" in p for p in found)
    assert "s3.service.dev.datalab.internal: no answer (rcode 3)" in found
    assert any("vault.service" in p and "SRV ports [8201]" in p for p in found)
    assert any(p.startswith("vault.service") and "A ['10.0.0.11']" in p for p in found)


# The role and the variable that serve each catalog entry (active.vault is Vault's port).
ROLE_PORTS = {
    "vault": ("vault", "vault_port"),
    "active.vault": ("vault", "vault_port"),
    "etcd": ("etcd", "etcd_client_port"),
    "s3": ("object_store", "object_store_s3_port"),
    "kafka": ("kafka", "kafka_client_port"),
    "postgres": ("postgres", "postgres_port"),
    "mlflow": ("mlflow", "mlflow_port"),
    "prefect": ("prefect", "prefect_port"),
    "spark-master": ("spark", "spark_master_port"),
    "prometheus": ("prometheus", "prometheus_port"),
    "perses": ("perses", "perses_port"),
}


def test_the_roles_read_their_ports_from_the_catalog():
    """One place for a port: each role's default is the catalog's entry, not a number."""
    import yaml
    from datalab import catalog, paths

    services = catalog.services()
    assert set(services) == set(ROLE_PORTS), "a catalog entry without its role's port here"
    for name, (role, variable) in ROLE_PORTS.items():
        defaults = paths.ANSIBLE_DIR / "roles" / role / "defaults" / "main.yml"
        default = str(yaml.safe_load(defaults.read_text())[variable])
        source = name.removeprefix("active.")
        assert default == f"{{{{ datalab_services['{source}'].port }}}}", (name, default)
        assert services[name]["check"]["kind"] in ("tcp", "https"), name
    assert catalog.ui_port("spark-master") == 8480


# Who may connect, as each role's default reads it (catalog entry -> role, variable).
ROLE_SOURCES = {
    "vault": ("vault", "vault_client_sources"),
    "etcd": ("etcd", "etcd_client_sources"),
    "s3": ("object_store", "object_store_s3_sources"),
    "kafka": ("kafka", "kafka_client_sources"),
    "mlflow": ("mlflow", "mlflow_client_sources"),
    "prefect": ("prefect", "prefect_client_sources"),
    "prometheus": ("prometheus", "prometheus_admin_sources"),
    "perses": ("perses", "perses_admin_sources"),
    "postgres": ("postgres", "postgres_client_sources"),
}


def test_the_firewall_and_the_scrapes_read_the_catalog():
    """Each service's protocol, clients and metrics are named once, in the catalog; the
    roles' firewall sources and metrics ports are read from it through the filters."""
    import sys

    import yaml
    from datalab import catalog, paths

    sys.path.insert(0, str(paths.ANSIBLE_DIR / "filter_plugins"))
    from datalab_catalog import metrics_port, service_sources

    services = catalog.services()
    assert {s["protocol"] for s in services.values()} <= {"https", "kafka", "postgres", "spark"}
    for name, (role, variable) in ROLE_SOURCES.items():
        defaults = yaml.safe_load(
            (paths.ANSIBLE_DIR / "roles" / role / "defaults" / "main.yml").read_text()
        )
        assert f"datalab_services['{name}'] | datalab_service_sources" in defaults[variable], name
    groups = {
        "all": ["c-1", "d-1", "x-1"],
        "mlflow": ["c-1"],
        "prefect_server": ["c-1"],
        "spark_workers": ["x-1"],
        "prefect_workers": ["x-1"],
        "perses": ["c-1"],
    }
    assert service_sources(services["mlflow"], groups, ["10.0.0.1"]) == ["x-1", "c-1", "10.0.0.1"]
    assert service_sources(services["etcd"], groups, ["10.0.0.1"]) == groups["all"]
    # Prometheus: the operators and Perses (its datasource).
    assert service_sources(services["prometheus"], groups, ["10.0.0.1"]) == ["c-1", "10.0.0.1"]
    # Metrics on their own port, on the web UI's, or on the service's.
    assert metrics_port(services["kafka"]) == 9404
    assert metrics_port(services["spark-master"]) == services["spark-master"]["ui_port"]
    assert metrics_port(services["vault"]) == services["vault"]["port"]
