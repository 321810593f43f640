"""Inventory -> cluster: node names, topology and port problems, addresses, URLs (plugins/module_utils/topology.py)."""

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import topology


def test_single_host_plan_has_head_then_local_workers():
    plan = topology.node_plan(["localhost"], [], {"localhost": 3})
    assert [(n["container"], n["role"], n["node_name"]) for n in plan] == [
        ("ray-head", "head", "ray-head@localhost"),
        ("ray-worker-1", "worker", "ray-worker-1@localhost"),
        ("ray-worker-2", "worker", "ray-worker-2@localhost"),
    ]


def test_multi_host_plan_names_do_not_shift_when_a_host_is_added():
    before = topology.node_plan(["h0"], ["h1", "h2"], {}, "lab")
    after = topology.node_plan(["h0"], ["h1", "h2", "h3"], {}, "lab")
    assert [n["node_name"] for n in before] == ["lab-head@h0", "lab-worker-1@h1", "lab-worker-1@h2"]
    assert [n["node_name"] for n in after][:3] == [n["node_name"] for n in before]


@pytest.mark.parametrize("head, workers, counts, mode, needle", [
    ([], ["w1"], {}, "auto", "exactly one host (found: none)"),
    (["a", "b"], [], {}, "auto", "exactly one host (found: a, b)"),
    (["a"], ["a", "b"], {}, "auto", "host a is in both ray_head and ray_workers"),
    (["a"], ["b"], {"b": 2}, "auto", "host b: ray_node_count=2"),
    (["a"], ["b"], {}, "bridge", "ray_network_mode=bridge only works with one host"),
])
def test_topology_errors_name_the_host_or_variable(head, workers, counts, mode, needle):
    errors = topology.topology_errors(head, workers, counts, mode)
    assert any(needle in error for error in errors), errors


def test_valid_topologies_have_no_errors():
    assert topology.topology_errors(["a"], [], {"a": 3}) == []
    assert topology.topology_errors(["a"], ["b", "c"], {}) == []


def test_network_mode():
    assert topology.network_mode(["a"], []) == "bridge"
    assert topology.network_mode(["a"], ["b"]) == "host"
    assert topology.network_mode(["a"], [], "host") == "host"


def test_service_url_as_the_control_node_reaches_it():
    assert topology.service_url({"connection": "local", "address": "localhost"}, 8265) == "http://127.0.0.1:8265"
    assert topology.service_url({"connection": "ssh", "address": "10.0.0.5"}, 9000) == "http://10.0.0.5:9000"
    assert topology.service_url({"connection": "ssh", "address": "10.0.0.5", "node_ip": "192.168.1.5"}, 8265) \
        == "http://192.168.1.5:8265"
    assert topology.service_url(None, 8265) == ""


def test_node_addresses_and_duplicates():
    hosts = {"a": {"default_ipv4": "10.0.0.1"}, "b": {"node_ip": "10.0.0.1", "default_ipv4": "10.0.0.2"},
             "c": {"default_ipv4": "10.0.0.3"}}
    addresses = {host: topology.node_address(data) for host, data in hosts.items()}
    assert addresses == {"a": "10.0.0.1", "b": "10.0.0.1", "c": "10.0.0.3"}
    assert topology.duplicate_addresses(addresses) == {"10.0.0.1": ["a", "b"]}
    assert topology.duplicate_addresses({"a": "1", "b": "2"}) == {}
    assert topology.duplicate_addresses({"a": "", "b": "", "c": "1"}) == {}, "unknown is not a clash"


@pytest.mark.parametrize("head, unreachable, failed, require_all, needles", [
    ("h0", ["h0"], [], False, ["The head h0 does not answer"]),
    ("h0", ["h2"], [], False, []),
    ("h0", ["h2"], [], True, ["Hosts that do not answer: h2 (ray_require_all_hosts is true)"]),
    ("h0", [], ["h1"], False, ["Hosts that failed the probe: h1"]),
])
def test_reachability(head, unreachable, failed, require_all, needles):
    problems = topology.reachability_problems(head, unreachable, failed, require_all)
    assert len(problems) == len(needles) and all(needle in " ".join(problems) for needle in needles), problems


def test_platforms_name_wsl_and_docker_desktop():
    assert topology.platform({"wsl": True, "wsl_version": 2, "engine_os": "Docker Desktop"}) == "WSL2, Docker Desktop"
    assert topology.platform({"wsl": True, "wsl_version": 2, "engine_os": "Ubuntu 24.04"}) == \
        "WSL2, Docker Engine in the distribution"
    assert topology.platform({"wsl": True, "wsl_version": 2, "docker_desktop_integration": True, "engine_os": ""}) == \
        "WSL2, Docker Desktop", "Desktop installed but not started is still Desktop"
    assert topology.platform({"wsl": False, "engine_os": "Debian GNU/Linux 12 (bookworm)"}) == ""
