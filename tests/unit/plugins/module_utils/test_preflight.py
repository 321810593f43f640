"""The checks that span variables, hosts and the hosts' own facts (plugins/module_utils/preflight.py)."""

import pytest

from ansible_collections.ray_docker.cluster.plugins.action.ray_settings_check import ray_start_flags
from ansible_collections.ray_docker.cluster.plugins.module_utils import ports, preflight

GIB = 1024 ** 3
FACTS = {"cpus": 2, "mem_total": 24 * GIB, "nofile_hard": 20000}
PORTS = ports.defaults()


def nodes(count=3):
    return [{"host": "h", "container": "ray-head" if i == 0 else f"ray-worker-{i}", "role": "head" if i == 0 else "worker",
             "node_name": f"n{i}@h"} for i in range(count)]


@pytest.mark.parametrize("values, needle", [
    ({"ray_cluster_extra_start_args": ["--num-cpus=4"]}, "--num-cpus is set by the role"),
    ({"ray_cluster_extra_start_args": ["--no-such-flag"]}, "`ray start` has no flag --no-such-flag"),
    ({"ray_cluster_env": {"RAY_AUTH_MODE": "disabled"}}, "RAY_AUTH_MODE is set by the role"),
    ({**PORTS, "ray_min_worker_port": 20000, "ray_max_worker_port": 20000}, "the first must be below the second"),
    ({**PORTS, "ray_metrics_export_port": 6379}, "ray_metrics_export_port=6379 collides with ray_gcs_port"),
    ({"docker_registry_mirrors": ["http://m:5000"], "docker_daemon_options": {"registry-mirrors": []}},
     "docker_daemon_options sets 'registry-mirrors'"),
    ({"ray_image_tag": "latest", "ray_version": "2.60.0"}, "ray_image_tag=latest must be a pinned tag"),
    ({"ray_image_tag": "2.59.0-py311", "ray_version": "2.60.0"}, "must be a pinned tag that contains ray_version=2.60.0"),
    ({"ray_monitoring_enabled": True, "ray_monitoring_host": "elsewhere"}, "ray_monitoring_host=elsewhere must be one of"),
])
def test_value_problems_name_the_variables(values, needle):
    errors = preflight.value_problems(values, ["h"], ray_start_flags())
    assert any(needle in error for error in errors), errors


def test_sound_values_pass():
    values = {**PORTS, "ray_cluster_extra_start_args": ['--resources={"lab": 1}'], "ray_image_tag": "2.60.0-py311-cpu",
              "ray_version": "2.60.0", "ray_monitoring_enabled": True, "ray_monitoring_host": "h",
              "docker_registry_mirrors": ["http://m:5000"], "docker_daemon_options": {"log-driver": "local"}}
    assert preflight.value_problems(values, ["h"], ray_start_flags()) == []


def test_an_unresolvable_dashboard_url_is_refused():
    errors = preflight.value_problems({"ray_dashboard_url": "http://nowhere.invalid:8265"}, ["h"],
                                      resolvable=lambda name: name != "nowhere.invalid")
    assert errors == ["ray_dashboard_url='http://nowhere.invalid:8265': the control node cannot resolve 'nowhere.invalid'"]


def test_with_windows_pcs_no_port_may_lie_in_the_dynamic_range():
    """Hyper-V and WSL's mirrored networking reserve blocks in 49152-65535 at each boot (README, Windows)."""
    high = {**PORTS, "ray_dashboard_agent_listen_port": 52365, "ray_min_worker_port": 60000, "ray_max_worker_port": 65000}
    assert preflight.value_problems(high, ["h"]) == [], "Linux-only inventories may use them"
    errors = preflight.value_problems(high, ["h"], windows_pcs=["pc-1"])
    assert "ray_dashboard_agent_listen_port=52365: must be below 49152 (the inventory has Windows PCs" in errors[0]
    assert any(error.startswith("ray_max_worker_port=65000: must be below 49152") for error in errors)
    errors, _ = preflight.fit_problems(high, {**FACTS, "wsl": True}, nodes())
    assert any("(this host is a WSL distribution" in error for error in errors)


def test_the_default_ports_fit_windows():
    assert preflight.dynamic_range_problems(PORTS, "x") == []


@pytest.mark.parametrize("values, needle", [
    ({"ray_cluster_nofile_limit": 65536}, "must be at most the host's hard limit of open files (20000"),
    ({"ray_cluster_worker_num_cpus": 2}, "but it has 2"),
])
def test_fit_problems_name_the_variables(values, needle):
    errors, _ = preflight.fit_problems(values, FACTS, nodes())
    assert any(needle in error for error in errors), errors


def test_a_sound_plan_fits_and_returns_the_shares():
    errors, resources = preflight.fit_problems({}, FACTS, nodes())
    assert errors == [] and [node["num_cpus"] for node in resources["nodes"]] == [0, 1, 1]


def test_on_wsl2_too_little_memory_says_which_wslconfig_key_to_set():
    facts = {**FACTS, "mem_total": 4 * GIB, "wsl": True, "wslconfig": "[wsl2]\nmemory=4GB\n"}
    errors, _ = preflight.fit_problems({}, facts, nodes(8))
    assert any("MiB for tasks" in error for error in errors)
    assert any("under [wsl2] in %UserProfile%\\.wslconfig (it has memory=4GB)" in error for error in errors), errors
    errors, _ = preflight.fit_problems({}, {**facts, "wsl": False}, nodes(8))
    assert not any(".wslconfig" in error for error in errors), "only on WSL"


def hosts(**facts):
    base = {"node_count": 1, "node_ip": "", "connection": "ssh", "address": ""}
    return {"h0": dict(base, default_ipv4="10.0.0.1", facts=facts.get("h0", {})),
            "h1": dict(base, default_ipv4="10.0.0.2", facts=facts.get("h1", {})),
            "h2": dict(base, default_ipv4="10.0.0.2", facts=facts.get("h2", {}))}


def test_cluster_problems_name_hosts_and_addresses():
    problems = preflight.cluster_problems(["h0"], ["h1", "h2"], hosts(), "auto", False, [], [])
    assert problems == ["Hosts share a Ray node address: 10.0.0.2 is claimed by h1 and h2. Set ray_node_ip_address per host."]
    desktop = hosts(h1={"engine_os": "Docker Desktop"})
    desktop["h2"]["default_ipv4"] = "10.0.0.3"
    problems = preflight.cluster_problems(["h0"], ["h1", "h2"], desktop, "auto", False, [], [])
    assert len(problems) == 1 and problems[0].startswith("h1 runs Docker Desktop, whose host network is Desktop's own VM")


def test_a_pending_windows_distribution_does_not_count_as_unreachable():
    ok = hosts()
    ok["h2"]["default_ipv4"] = "10.0.0.3"
    assert preflight.cluster_problems(["h0"], ["h1", "h2"], ok, "auto", True, ["h2"], [], pending=["h2"]) == []
    problems = preflight.cluster_problems(["h0"], ["h1", "h2"], ok, "auto", True, ["h2"], [])
    assert problems == ["Hosts that do not answer: h2 (ray_require_all_hosts is true)."]
    problems = preflight.cluster_problems(["h0"], ["h1", "h2"], ok, "auto", False, ["h0"], [])
    assert problems == ["The head h0 does not answer: the cluster cannot be deployed without it."]


def test_low_free_space_on_dockers_root_or_the_data_folder_is_refused_naming_host_path_and_numbers():
    facts = {"disk": {"docker_root": {"path": "/var/lib/docker", "checked": "/var/lib/docker", "free": 40 * 10**9,
                                      "total": 100 * 10**9},
                      "data_root": {"path": "/srv/ray", "checked": "/srv", "free": 2 * 10**9, "total": 10 * 10**9}}}
    problems = preflight.disk_problems({"ray_cluster_min_free_gb": 5}, facts)
    assert problems == ["ray_cluster_data_dir /srv/ray has 2.0 GB free of 10.0 GB (on /srv), below "
                        "ray_cluster_min_free_gb=5: free some space, or lower it on purpose"]
    assert preflight.disk_problems({"ray_cluster_min_free_gb": 1}, facts) == []
    assert preflight.disk_problems({"ray_cluster_min_free_gb": 0}, facts) == [], "0 checks nothing"
    assert preflight.disk_problems({"ray_cluster_min_free_gb": 5}, {}) == [], "no reading (no engine yet): no verdict"
