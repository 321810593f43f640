"""ray_job_target: where `runner.py job` submits, from the settings and the inventory alone (no host, no HTTP).

Nothing here needs a live cluster: the action only computes. That the URL and token it returns reach a real Jobs API
is the e2e layer's (tests/e2e, `runner.py job`)."""

import pytest
from ansible.errors import AnsibleActionFail

from tests.unit.plugins.action.harness import Lab, run


def target(lab, host="head", **args):
    result, calls = run("ray_job_target", lab.task_vars(host), args)
    assert calls == [], "no host is contacted"
    assert result["changed"] is False
    return result["target"]


def test_the_heads_address_the_default_token_and_the_roles_ray_version(home):
    lab = Lab(heads=["head"], workers=["w1"])
    assert target(lab) == {"dashboard_url": "http://10.0.0.11:8265",
                           "token_file": f"{home}/.config/ray-docker/ray/auth_token",
                           "ray_version": "2.60.0", "cluster_name": "ray",
                           "head_data_dir": "/var/lib/ray-docker/ray/ray-head"}


def test_a_head_on_this_machine_is_reached_on_loopback_from_any_host():
    lab = Lab(heads=["head"], workers=["w1"], host_variables={"head": {"ansible_connection": "local"}})
    assert target(lab, "w1")["dashboard_url"] == "http://127.0.0.1:8265"


def test_the_node_address_wins_over_ansible_host_and_the_port_is_the_settings():
    lab = Lab(heads=["head"], host_variables={"head": {"ray_node_ip_address": "192.168.7.2"}},
              variables={"ray_dashboard_port": "18265"})
    assert target(lab)["dashboard_url"] == "http://192.168.7.2:18265"


def test_the_users_url_token_cluster_name_and_version_are_taken_as_given(home):
    lab = Lab(variables={"ray_dashboard_url": "https://ray.example.org", "ray_auth_token_file": "/srv/ray/token",
                         "ray_cluster_name": "lab", "ray_version": "2.61.0", "ray_cluster_data_dir": "/data"})
    assert target(lab) == {"dashboard_url": "https://ray.example.org", "token_file": "/srv/ray/token",
                           "ray_version": "2.61.0", "cluster_name": "lab", "head_data_dir": "/data/lab/lab-head"}
    # the default token's folder follows the cluster's name
    assert target(Lab(variables={"ray_cluster_name": "lab"}))["token_file"] == f"{home}/.config/ray-docker/lab/auth_token"


def test_a_refused_setting_fails_naming_the_host_and_an_argument_is_refused():
    with pytest.raises(AnsibleActionFail, match=r"Settings refused for host head: ray_dashboard_port=70000"):
        target(Lab(variables={"ray_dashboard_port": 70000}))
    with pytest.raises(AnsibleActionFail, match="Unsupported parameters for \\(ray_docker.cluster.ray_job_target\\) "
                                                "module: url"):
        target(Lab(), url="http://x:8265")
