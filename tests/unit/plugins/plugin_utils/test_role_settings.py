"""Variables resolved like Ansible resolves them, with Ansible's own loader and templar
(plugins/plugin_utils/role_settings.py): another role's default when that role is not in the play, and typed values,
so the roles behave the same under plain ansible-playbook (-e x=false is false) as through runner.py."""

from types import SimpleNamespace

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.ray_docker.cluster.plugins.plugin_utils import role_settings


@pytest.fixture(scope="module")
def action():
    loader = DataLoader()
    return SimpleNamespace(_loader=loader, _templar=Templar(loader=loader))


def test_every_role_of_the_collection_is_in_the_catalog(action):
    catalog = role_settings.Catalog(action._loader)
    assert {"ray", "preflight", "docker", "ray_image", "ray_cluster", "ray_monitoring", "ray_check", "wsl2",
            "wsl_distro"} <= set(catalog.roles)
    assert catalog.roles["ray_image"].defaults["ray_image_repository"] == "rayproject/ray"


def test_another_roles_default_is_resolved_and_templated(action):
    values = role_settings.resolve(action, {}, ["ray_cluster_name", "ray_image_tag", "ray_monitoring_enabled"])
    assert values == {"ray_cluster_name": "ray", "ray_image_tag": "2.60.0-py311-cpu", "ray_monitoring_enabled": True}


@pytest.mark.parametrize("given, typed", [("false", False), ("no", False), ("true", True), (False, False)])
def test_a_boolean_passed_as_a_string_reads_as_a_boolean(action, given, typed):
    values = role_settings.resolve(action, {"ray_gcs_fault_tolerance": given}, ["ray_gcs_fault_tolerance"])
    assert values["ray_gcs_fault_tolerance"] is typed


def test_the_users_value_wins_and_a_bad_one_is_refused_naming_it(action):
    assert role_settings.resolve(action, {"ray_gcs_port": "7000"}, ["ray_gcs_port"]) == {"ray_gcs_port": 7000}
    with pytest.raises(ValueError, match="ray_gcs_port=70000: must be in"):
        role_settings.resolve(action, {"ray_gcs_port": 70000}, ["ray_gcs_port"])
    with pytest.raises(ValueError, match="ray_gcs_fault_tolerance='perhaps': must be true or false"):
        role_settings.resolve(action, {"ray_gcs_fault_tolerance": "perhaps"}, ["ray_gcs_fault_tolerance"])


def test_cluster_hosts_from_hostvars_and_the_probe(action):
    catalog = role_settings.Catalog(action._loader)
    task_vars = {"groups": {"ray_head": ["h0"], "ray_workers": ["h1"]},
                 "hostvars": {"h0": {"ansible_host": "10.0.0.1", "ansible_facts": {"ray_host": {"default_ipv4": "10.0.0.1"}}},
                              "h1": {"ansible_host": "10.0.0.2", "ray_node_ip_address": "192.168.0.2", "ray_node_count": "1"}}}
    heads, workers, hosts = role_settings.cluster_hosts(task_vars, catalog)
    assert heads == ["h0"] and workers == ["h1"]
    assert hosts["h0"]["default_ipv4"] == "10.0.0.1" and hosts["h0"]["node_count"] == 1
    assert hosts["h1"]["node_ip"] == "192.168.0.2" and hosts["h1"]["node_count"] == 1 and hosts["h1"]["facts"] == {}
