"""The preflight's checks that span variables and the host's facts (plugins/action/ray_settings_check.py)."""

import pytest


GIB = 1024 ** 3


@pytest.fixture(scope="module")
def plugin():
    from ansible_collections.ray_docker.cluster.plugins.action import ray_settings_check

    return ray_settings_check


def nodes(count=3):
    return [{"host": "h", "container": "ray-head" if i == 0 else f"ray-worker-{i}", "role": "head" if i == 0 else "worker",
             "node_name": f"n{i}@h"} for i in range(count)]


FACTS = {"cpus": 2, "mem_total": 24 * GIB, "nofile_hard": 20000}


@pytest.mark.parametrize("values, needle", [
    ({"ray_cluster_extra_start_args": ["--num-cpus=4"]}, "--num-cpus is set by the role"),
    ({"ray_cluster_extra_start_args": ["--no-such-flag"]}, "`ray start` has no flag --no-such-flag"),
    ({"ray_cluster_env": {"RAY_AUTH_MODE": "disabled"}}, "RAY_AUTH_MODE is set by the role"),
    ({"ray_cluster_nofile_limit": 65536}, "must be at most the host's hard limit of open files (20000"),
    ({"ray_min_worker_port": 20000, "ray_max_worker_port": 20000}, "the first must be below the second"),
    ({"docker_registry_mirrors": ["http://m:5000"], "docker_daemon_options": {"registry-mirrors": []}},
     "docker_daemon_options sets 'registry-mirrors'"),
    ({"ray_cluster_worker_num_cpus": 2}, "but it has 2"),
])
def test_cross_checks_name_the_variables(plugin, values, needle):
    errors, _ = plugin.cross_check(values, FACTS, nodes())
    assert any(needle in error for error in errors), errors


def test_a_sound_plan_passes_and_returns_the_shares(plugin):
    errors, resources = plugin.cross_check({"ray_cluster_extra_start_args": ["--resources={\"lab\": 1}"]}, FACTS, nodes())
    assert errors == [] and [node["num_cpus"] for node in resources["nodes"]] == [0, 1, 1]


def test_on_wsl2_too_little_memory_says_which_wslconfig_key_to_set(plugin):
    facts = {**FACTS, "mem_total": 4 * GIB, "wsl": True, "wslconfig": "[wsl2]\nmemory=4GB\n"}
    errors, _ = plugin.cross_check({}, facts, nodes(8))
    assert any("MiB for tasks" in error for error in errors)
    assert any("under [wsl2] in %UserProfile%\\.wslconfig (it has memory=4GB)" in error for error in errors), errors
    errors, _ = plugin.cross_check({}, {**facts, "wsl": False}, nodes(8))
    assert not any(".wslconfig" in error for error in errors), "only on WSL"
