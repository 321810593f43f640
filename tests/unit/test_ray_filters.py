"""Inventory -> cluster plan: names, topology errors, memory sizing and the ray start command."""

import pytest

GIB = 1024 ** 3


def test_single_host_plan_has_head_then_local_workers(ray_filters):
    plan = ray_filters.ray_node_plan(["localhost"], [], {"localhost": {"ray_node_count": 3}})
    assert [(n["container"], n["role"], n["node_name"]) for n in plan] == [
        ("ray-head", "head", "ray-head@localhost"),
        ("ray-worker-1", "worker", "ray-worker-1@localhost"),
        ("ray-worker-2", "worker", "ray-worker-2@localhost"),
    ]


def test_multi_host_plan_names_do_not_shift_when_a_host_is_added(ray_filters):
    before = ray_filters.ray_node_plan(["h0"], ["h1", "h2"], {}, "lab")
    after = ray_filters.ray_node_plan(["h0"], ["h1", "h2", "h3"], {}, "lab")
    assert [n["node_name"] for n in before] == ["lab-head@h0", "lab-worker-1@h1", "lab-worker-1@h2"]
    assert [n["node_name"] for n in after][:3] == [n["node_name"] for n in before]


@pytest.mark.parametrize("head, workers, hostvars, mode, needle", [
    ([], ["w1"], {}, "auto", "exactly one host (found: none)"),
    (["a", "b"], [], {}, "auto", "exactly one host (found: a, b)"),
    (["a"], ["a", "b"], {}, "auto", "host a is in both ray_head and ray_workers"),
    (["a"], ["b"], {"b": {"ray_node_count": 2}}, "auto", "host b: ray_node_count=2"),
    (["a"], [], {"a": {"ray_node_count": 0}}, "auto", "host a: ray_node_count must be a whole number"),
    (["a"], ["b"], {}, "bridge", "ray_network_mode=bridge only works with one host"),
])
def test_topology_errors_name_the_host_or_variable(ray_filters, head, workers, hostvars, mode, needle):
    errors = ray_filters.ray_topology_errors(head, workers, hostvars, 1, mode)
    assert any(needle in error for error in errors), errors


def test_valid_topologies_have_no_errors(ray_filters):
    assert ray_filters.ray_topology_errors(["a"], [], {"a": {"ray_node_count": 3}}) == []
    assert ray_filters.ray_topology_errors(["a"], ["b", "c"], {}) == []


def test_network_mode(ray_filters):
    assert ray_filters.ray_resolve_network_mode(["a"], []) == "bridge"
    assert ray_filters.ray_resolve_network_mode(["a"], ["b"]) == "host"
    assert ray_filters.ray_resolve_network_mode(["a"], [], "host") == "host"


def with_resources(node, **changes):
    """A plan row with the resources ray_host_resources adds."""
    resources = {"num_cpus": 1, "num_gpus": 0, "gpu_ids": [], "memory": 4 * GIB, "memory_limit": 6 * GIB,
                 "shm_bytes": 2 * GIB, "object_store_bytes": 1 * GIB}
    resources.update(changes)
    return dict(node, **resources)


def test_start_commands(ray_filters):
    head, worker = ray_filters.ray_node_plan(["h"], [], {"h": {"ray_node_count": 2}})
    options = {"gcs_port": 6379, "dashboard_port": 8265, "extra_args": ["--resources={\"lab\": 1}"]}
    head_cmd = ray_filters.ray_start_command(with_resources(head, num_cpus=0), "ray-head", options)
    worker_cmd = ray_filters.ray_start_command(with_resources(worker, num_cpus=2, num_gpus=1), "ray-head", options)
    assert head_cmd[:3] == ["ray", "start", "--head"]
    assert "--dashboard-host=0.0.0.0" in head_cmd and "--num-cpus=0" in head_cmd
    assert not any(a.startswith("--num-gpus") for a in head_cmd), "no GPU flag without GPUs"
    assert "--address=ray-head:6379" in worker_cmd and "--num-cpus=2" in worker_cmd and "--num-gpus=1" in worker_cmd
    for cmd in (head_cmd, worker_cmd):
        assert cmd[-2:] == ["--disable-usage-stats", "--block"]
        assert f"--object-store-memory={GIB}" in cmd and f"--memory={4 * GIB}" in cmd
        assert '--resources={"lab": 1}' in cmd


def test_dashboard_url(ray_filters):
    hostvars = {"local": {"ansible_connection": "local"}, "remote": {"ansible_host": "10.0.0.5"},
                "pinned": {"ansible_host": "10.0.0.5", "ray_node_ip_address": "192.168.1.5"}}
    assert ray_filters.ray_dashboard_url("local", hostvars) == "http://127.0.0.1:8265"
    assert ray_filters.ray_dashboard_url("remote", hostvars, 9000) == "http://10.0.0.5:9000"
    assert ray_filters.ray_dashboard_url("pinned", hostvars) == "http://192.168.1.5:8265"


DEFAULT_PORTS = {"ray_gcs_port": 6379, "ray_dashboard_port": 8265, "ray_client_server_port": 10001,
                 "ray_node_manager_port": 6380, "ray_object_manager_port": 6381, "ray_runtime_env_agent_port": 6382,
                 "ray_dashboard_agent_grpc_port": 6383, "ray_dashboard_agent_listen_port": 52365,
                 "ray_metrics_export_port": 6384}


def test_default_ports_are_valid(ray_filters):
    assert ray_filters.ray_port_errors(DEFAULT_PORTS, 10002, 19999) == []


@pytest.mark.parametrize("change, low, high, needle", [
    ({"ray_gcs_port": 70000}, 10002, 19999, "ray_gcs_port=70000 is out of range"),
    ({"ray_metrics_export_port": 8265}, 10002, 19999, "collides with ray_dashboard_port"),
    ({"ray_node_manager_port": 12000}, 10002, 19999, "ray_node_manager_port=12000 lies in the worker port range"),
    ({"ray_gcs_port": "http"}, 10002, 19999, "ray_gcs_port='http' is not a port number"),
    ({}, 20000, 10000, "ray_min_worker_port=20000 and ray_max_worker_port=10000"),
])
def test_port_errors_name_the_variable(ray_filters, change, low, high, needle):
    errors = ray_filters.ray_port_errors({**DEFAULT_PORTS, **change}, low, high)
    assert any(needle in error for error in errors), errors


def test_head_only_ports_go_to_the_head(ray_filters):
    head, worker = ray_filters.ray_node_plan(["h"], [], {"h": {"ray_node_count": 2}})
    options = {"gcs_port": 6379, "dashboard_port": 8265, "ports": {"node-manager-port": 6380},
               "head_ports": {"ray-client-server-port": 10001}}
    assert "--ray-client-server-port=10001" in ray_filters.ray_start_command(with_resources(head), "x", options)
    worker_cmd = ray_filters.ray_start_command(with_resources(worker), "x", options)
    assert "--node-manager-port=6380" in worker_cmd and not any("client-server" in a for a in worker_cmd)


def test_node_addresses_and_duplicates(ray_filters):
    hostvars = {"a": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.1"}}},
                "b": {"ray_node_ip_address": "10.0.0.1", "ansible_facts": {"default_ipv4": {"address": "10.0.0.2"}}},
                "c": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.3"}}}}
    addresses = ray_filters.ray_node_addresses(["a", "b", "c"], hostvars)
    assert addresses == {"a": "10.0.0.1", "b": "10.0.0.1", "c": "10.0.0.3"}
    assert ray_filters.ray_duplicate_addresses(addresses) == {"10.0.0.1": ["a", "b"]}
    assert ray_filters.ray_duplicate_addresses({"a": "1", "b": "2"}) == {}
    assert ray_filters.ray_duplicate_addresses({"a": "", "b": "", "c": "1"}) == {}, "unknown is not a clash"


def container_settings(**changes):
    settings = {
        "image": "rayproject/ray:2.60.0-py311-cpu", "image_id": "sha256:aaa", "token_sha256": "t" * 64,
        "token_source": "/etc/ray-docker/ray/auth_token", "token_target": "/run/secrets/ray_auth_token",
        "cluster_name": "ray", "network_mode": "bridge", "network": "ray", "dashboard_bind_address": "127.0.0.1",
        "dashboard_port": 8265, "nofile_limit": 0, "env": {"RAY_AUTH_MODE": "token"},
        "head_address": "ray-head",
        "start_options": {"gcs_port": 6379, "dashboard_port": 8265},
    }
    settings.update(changes)
    return settings


def plan(ray_filters, head_hosts, worker_hosts, hostvars):
    return [with_resources(node) for node in ray_filters.ray_node_plan(head_hosts, worker_hosts, hostvars)]


def test_container_spec_on_a_bridge_network(ray_filters):
    head, worker = plan(ray_filters, ["localhost"], [], {"localhost": {"ray_node_count": 2}})
    head_spec = ray_filters.ray_container_spec(head, container_settings())
    worker_spec = ray_filters.ray_container_spec(worker, container_settings())
    assert head_spec["published_ports"] == ["127.0.0.1:8265:8265"] and "published_ports" not in worker_spec
    assert head_spec["networks"] == [{"name": "ray"}] and head_spec["hostname"] == "ray-head"
    assert worker_spec["command"][:3] == ["ray", "start", "--address=ray-head:6379"]
    assert head_spec["shm_size"] == "2147483648" and head_spec["restart_policy"] == "unless-stopped"
    assert head_spec["memory"] == str(6 * GIB), "the container is held to its share"
    assert "ulimits" not in head_spec and "device_requests" not in head_spec
    assert head_spec["labels"]["ray-docker.node"] == "ray-head@localhost"
    assert len(head_spec["labels"]["ray-docker.spec"]) == 64


def test_container_spec_with_host_networking_has_no_bridge_settings(ray_filters):
    node = plan(ray_filters, ["h0"], ["h1"], {})[1]
    spec = ray_filters.ray_container_spec(node, container_settings(network_mode="host", head_address="10.0.0.1", nofile_limit=65536))
    assert spec["network_mode"] == "host"
    assert not {"networks", "hostname", "published_ports"} & set(spec)
    assert spec["ulimits"] == ["nofile:65536:65536"]


def test_gpus_are_handed_in_with_device_requests(ray_filters):
    node = with_resources(ray_filters.ray_node_plan(["h0"], [], {})[0], num_gpus=2, gpu_ids=["0", "1"])
    spec = ray_filters.ray_container_spec(node, container_settings(network_mode="host"))
    assert spec["device_requests"] == [{"driver": "nvidia", "device_ids": ["0", "1"], "capabilities": [["gpu"]]}]
    assert "--num-gpus=2" in spec["command"]


def visible(spec):
    """What docker_container compares and shows in --diff: every parameter but the digest label."""
    labels = {key: value for key, value in spec["labels"].items() if key != "ray-docker.spec"}
    return {**{key: value for key, value in spec.items() if key != "labels"}, "labels": labels}


@pytest.mark.parametrize("settings_change, node_change", [
    ({"image_id": "sha256:bbb"}, {}),            # the tag now points at another image
    ({"token_sha256": "u" * 64}, {}),            # a new token: Ray reads it at start
    ({}, {"shm_bytes": 1 << 30}),
    ({}, {"memory_limit": 5 << 30}),
    ({}, {"num_cpus": 2}),
    ({"env": {"RAY_AUTH_MODE": "token", "EXTRA": "1"}}, {}),
    ({"start_options": {"gcs_port": 6380, "dashboard_port": 8265}}, {}),
])
def test_spec_digest_follows_every_setting_and_diff_shows_it(ray_filters, settings_change, node_change):
    node = ray_filters.ray_node_plan(["localhost"], [], {})[0]
    before = ray_filters.ray_container_spec(with_resources(node), container_settings())
    after = ray_filters.ray_container_spec(with_resources(node, **node_change), container_settings(**settings_change))
    assert before["labels"]["ray-docker.spec"] != after["labels"]["ray-docker.spec"]
    # --diff shows docker_container's parameters: the change must be visible there, not only in the digest.
    assert visible(before) != visible(after)


def test_the_token_label_does_not_reveal_the_token(ray_filters):
    node = with_resources(ray_filters.ray_node_plan(["localhost"], [], {})[0])
    spec = ray_filters.ray_container_spec(node, container_settings(token_sha256="ab" * 32))
    assert spec["labels"]["ray-docker.token-sha256"] == "ab" * 8


def test_spec_digest_is_stable_across_value_types(ray_filters):
    # Ansible hands numbers over as strings or ints depending on templating; the digest must not care.
    node = ray_filters.ray_node_plan(["localhost"], [], {})[0]
    as_text = ray_filters.ray_container_spec(with_resources(node, shm_bytes="2147483648"), container_settings(nofile_limit="0"))
    as_int = ray_filters.ray_container_spec(with_resources(node, shm_bytes=2147483648), container_settings(nofile_limit=0))
    assert as_text == as_int


def test_only_missing_stopped_or_changed_containers_are_reconciled(ray_filters):
    nodes = plan(ray_filters, ["localhost"], [], {"localhost": {"ray_node_count": 4}})
    specs = [ray_filters.ray_container_spec(node, container_settings()) for node in nodes]
    current = {spec["name"]: {"State": "running", "Labels": dict(spec["labels"])} for spec in specs}
    assert ray_filters.ray_containers_to_reconcile(specs, current) == []
    del current["ray-worker-1"]
    current["ray-worker-2"]["State"] = "exited"
    current["ray-worker-3"]["Labels"]["ray-docker.spec"] = "old"
    stale = ray_filters.ray_containers_to_reconcile(specs, current)
    assert [spec["name"] for spec in stale] == ["ray-worker-1", "ray-worker-2", "ray-worker-3"]
    assert ray_filters.ray_containers_to_reconcile(specs, current, compare_all=True) == specs
