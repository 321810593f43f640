"""The one table of ports (plugins/module_utils/ports.py): every reader agrees with it."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.ray_docker.cluster.plugins.action.ray_settings_check import ray_start_flags
from ansible_collections.ray_docker.cluster.plugins.module_utils import ports, preflight

ROOT = Path(__file__).resolve().parents[4]


def role_files():
    """{variable: (default, spec, rule)} of every role."""
    found = {}
    for specs_file in ROOT.glob("roles/*/meta/argument_specs.yml"):
        role = specs_file.parent.parent
        defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
        rules = yaml.safe_load((role / "meta" / "validation.yml").read_text()) or {}
        for entry in yaml.safe_load(specs_file.read_text())["argument_specs"].values():
            for name, spec in (entry.get("options") or {}).items():
                found[name] = (defaults.get(name), spec, rules.get(name))
    return found


@pytest.mark.parametrize("variable, default", sorted(ports.defaults().items()))
def test_each_ports_variable_is_declared_as_the_table_says(variable, default):
    declared = role_files()
    assert variable in declared, f"{variable}: the table has it, no role declares it"
    value, spec, rule = declared[variable]
    assert value == default and spec["type"] == "int" and spec.get("default") == default
    assert rule and rule.get("range", "").startswith(("[1, 65535]", "[1024, 65535]")), rule


def test_no_port_variable_is_left_out_of_the_table():
    """A variable named like a port of the cluster's (…_port of the roles that run its containers) is in the table."""
    candidates = {name for name, (_, spec, _) in role_files().items()
                  if name.endswith("_port") and spec["type"] == "int" and not name.startswith(("wsl", "ray_cluster"))}
    assert candidates - set(ports.defaults()) == set()


def test_docs_lab_md_shows_the_table():
    assert ports.markdown_table() in (ROOT / "docs" / "lab.md").read_text()


def test_the_defaults_collide_with_nothing_and_stay_out_of_windows_dynamic_range():
    assert ports.collisions(ports.defaults()) == []
    assert preflight.dynamic_range_problems(ports.defaults(), "x") == []


@pytest.mark.parametrize("change, needle", [
    ({"ray_metrics_export_port": 8265}, "ray_metrics_export_port=8265 collides with ray_dashboard_port"),
    ({"registry_cache_port": 6379}, "registry_cache_port=6379 collides with ray_gcs_port"),
    ({"ray_node_manager_port": 12000}, "ray_node_manager_port=12000 lies in the worker port range"),
    ({"ray_min_worker_port": 20000, "ray_max_worker_port": 10000}, "ray_min_worker_port=20000 and ray_max_worker_port=10000"),
])
def test_collisions_name_the_variables(change, needle):
    assert any(needle in error for error in ports.collisions({**ports.defaults(), **change}))


def test_a_worker_gets_the_node_flags_and_the_head_its_own_besides():
    values = ports.defaults()
    worker = ports.start_flags(values, head=False)
    assert worker == {"node-manager-port": 6380, "object-manager-port": 6381, "runtime-env-agent-port": 6382,
                      "dashboard-agent-grpc-port": 6383, "dashboard-agent-listen-port": 6385, "metrics-export-port": 6384,
                      "min-worker-port": 10002, "max-worker-port": 19999}
    assert ports.start_flags(values, head=True) == {**worker, "ray-client-server-port": 10001}


def test_every_flag_of_the_table_is_a_flag_of_ray_start_and_owned_by_its_variable():
    known = ray_start_flags()
    owners = ports.flag_owners()
    assert set(owners) <= known
    assert owners["--port"] == "ray_gcs_port" and owners["--max-worker-port"] == "ray_max_worker_port"
    assert all(preflight.OWNED_FLAGS[flag] == variable for flag, variable in owners.items())


def test_only_what_other_hosts_reach_is_opened():
    opened = ports.between_hosts(ports.defaults())
    assert "ray_gcs_redis_port" not in opened and opened["registry_cache_port"] == 5050
    assert set(opened) == set(ports.VARIABLES) - {"ray_gcs_redis_port"}
