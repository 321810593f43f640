"""Stale registrations, crash-looping containers, the GCS store's container, and the preflight's verdicts."""

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import containers, dashboard
from ansible_collections.ray_docker.cluster.plugins.module_utils.resources import GIB


def row(name, node_id, state="ALIVE", start=0, cpu=1.0, head=False):
    return {"node_name": name, "node_id": node_id, "state": state, "start_time_ms": start, "is_head_node": head,
            "node_ip": "172.18.0.9", "resources_total": {"CPU": cpu, "node:172.18.0.9": 1.0}}


def test_a_restarted_node_counts_once_and_its_old_registration_is_stale():
    rows = [row("ray-head@h", "h1", head=True, start=1), row("ray-worker-1@h", "w1", start=2),
            row("ray-worker-2@h", "old", start=3), row("ray-worker-2@h", "new", start=90)]
    summary = dashboard.summarize_nodes(rows, ["ray-head@h", "ray-worker-1@h", "ray-worker-2@h"])
    assert summary["alive"] == ["ray-head@h", "ray-worker-1@h", "ray-worker-2@h"] and summary["missing"] == []
    assert summary["stale"] == ["ray-worker-2@h"]
    assert summary["resources"]["CPU"] == 3.0, "the stale registration's CPUs are not counted"
    assert summary["targets"] == {"h1": "ray-head@h", "w1": "ray-worker-1@h", "new": "ray-worker-2@h"}
    assert len(summary["nodes"]) == 3


def test_a_name_whose_newest_registration_is_dead_is_missing_not_alive():
    rows = [row("ray-worker-1@h", "old", start=1), row("ray-worker-1@h", "new", state="DEAD", start=5)]
    summary = dashboard.summarize_nodes(rows, ["ray-worker-1@h"])
    assert summary["missing"] == ["ray-worker-1@h"] and summary["dead"] == ["ray-worker-1@h"]
    assert summary["targets"] == {}


def test_a_restarted_head_with_fault_tolerance_counts_once():
    rows = [row("ray-head@h", "a", state="DEAD", start=1, head=True), row("ray-head@h", "b", start=9, head=True)]
    summary = dashboard.summarize_nodes(rows, ["ray-head@h"])
    assert summary["alive"] == ["ray-head@h"] and summary["dead"] == [] and summary["stale"] == []


def inspected(status="running", restarts=0, restarting=False, code=0):
    return {"State": {"Status": status, "Restarting": restarting, "ExitCode": code}, "RestartCount": restarts}


def test_a_container_that_exits_or_loops_is_a_failure_and_one_restart_is_not():
    watch = containers.ContainerWatch(["a", "b", "c", "d"])
    first = {"a": inspected(), "b": inspected(restarts=5), "c": inspected(), "d": None}
    assert watch.failures(first) == [("d", "does not exist")]
    later = {"a": inspected(restarts=1), "b": inspected(restarts=5), "c": inspected(status="exited", code=1),
             "d": inspected()}
    assert [name for name, _ in watch.failures(later)] == ["c"], "one restart (a) is tolerated"
    looping = {"a": inspected(restarts=2), "b": inspected(status="restarting", restarts=7, restarting=True, code=1),
               "c": inspected(), "d": inspected()}
    problems = dict(watch.failures(looping))
    assert set(problems) == {"a", "b"} and "last exit code 1" in problems["b"]


def test_the_failure_message_names_the_node_and_shows_the_cleaned_log():
    log = "".join(f"\x1b[31mline {index}\x1b[39m\n" for index in range(30))
    text = containers.failure_message("h", ["ray-head@h"], [("ray-head", "keeps exiting (restarted 3 times)")],
                                      {"ray-head": log})
    assert text.startswith("ray-head@h: its container ray-head on h keeps exiting")
    assert "line 29" in text and "line 17" not in text and "\x1b" not in text
    assert text.count("\n") == containers.LOG_LINES


def test_container_logs_lose_the_engines_frame_headers(load_module_utils):
    frames = b"".join(bytes([stream, 0, 0, 0]) + len(text).to_bytes(4, "big") + text
                      for stream, text in ((1, b"out\n"), (2, b"err\n")))
    assert load_module_utils.demultiplex(frames) == b"out\nerr\n"
    assert load_module_utils.demultiplex(b"plain tty text\n") == b"plain tty text\n"


def store_settings(**changes):
    settings = {"container": "ray-redis", "image": "redis:7.0.15", "image_id": "sha256:r", "network_mode": "bridge",
                "network": "ray", "cluster_name": "ray", "config_source": "/etc/ray-docker/ray/redis.conf",
                "config_sha256": "c" * 64, "volume": "ray-gcs-redis"}
    settings.update(changes)
    return settings


def test_the_gcs_store_runs_as_redis_with_its_data_on_a_volume(ray_filters):
    spec = ray_filters.ray_redis_spec(store_settings())
    assert spec["user"] == "999:999" and spec["command"] == ["redis-server", "/usr/local/etc/redis/redis.conf"]
    assert {"type": "volume", "source": "ray-gcs-redis", "target": "/data"} in spec["mounts"]
    assert spec["networks"] == [{"name": "ray"}] and "published_ports" not in spec, "never published"
    assert spec["role"] == "gcs-store" and spec["restart_policy"] == "unless-stopped"
    assert ray_filters.ray_redis_spec(store_settings(network_mode="host"))["network_mode"] == "host"
    changed = ray_filters.ray_redis_spec(store_settings(config_sha256="d" * 64))
    assert changed["labels"]["ray-docker.spec"] != spec["labels"]["ray-docker.spec"], "a new config restarts Redis"


def node_with_resources(ray_filters, role_index):
    node = ray_filters.ray_node_plan(["h"], [], {"h": {"ray_node_count": 2}})[role_index]
    return dict(node, num_cpus=1, num_gpus=0, gpu_ids=[], memory=GIB, memory_limit=3 * GIB, shm_bytes=GIB,
                object_store_bytes=GIB // 2)


def cluster_settings(gcs):
    return {"image": "rayproject/ray:2.60.0-py311-cpu", "image_id": "sha256:a", "token_sha256": "t" * 64,
            "token_source": "/etc/ray-docker/ray/auth_token", "token_target": "/run/secrets/ray_auth_token",
            "cluster_name": "ray", "network_mode": "bridge", "network": "ray", "dashboard_bind_address": "127.0.0.1",
            "dashboard_port": 8265, "nofile_limit": 0, "env": {"RAY_AUTH_MODE": "token"}, "head_address": "ray-head",
            "start_options": {"gcs_port": 6379, "dashboard_port": 8265}, "gcs": gcs}


GCS = {"address": "ray-redis:6390", "namespace": "ray-2.60.0", "password_source": "/etc/ray-docker/ray/redis_password",
       "password_sha256": "p" * 64, "reconnect_timeout": 600}


def test_with_fault_tolerance_the_head_reads_the_password_from_a_file_and_workers_wait_for_it(ray_filters):
    head = ray_filters.ray_container_spec(node_with_resources(ray_filters, 0), cluster_settings(GCS))
    worker = ray_filters.ray_container_spec(node_with_resources(ray_filters, 1), cluster_settings(GCS))
    assert head["env"]["RAY_REDIS_ADDRESS"] == "ray-redis:6390"
    assert head["env"]["RAY_external_storage_namespace"] == "ray-2.60.0"
    assert head["command"][:2] == ["sh", "-c"] and "--redis-password=\"$(cat /run/secrets/ray_redis_password)\"" in head["command"][2]
    assert head["command"][4:6] == ["ray", "start"] and head["command"][-1] == "--block"
    assert not any("p" * 16 in str(value) for value in head["env"].values())
    assert worker["env"]["RAY_gcs_rpc_server_reconnect_timeout_s"] == "600" and "RAY_REDIS_ADDRESS" not in worker["env"]
    plain = ray_filters.ray_container_spec(node_with_resources(ray_filters, 0), cluster_settings(None))
    assert plain["command"][:2] == ["ray", "start"] and "RAY_REDIS_ADDRESS" not in plain["env"]
    plain_worker = ray_filters.ray_container_spec(node_with_resources(ray_filters, 1), cluster_settings(None))
    assert plain_worker["env"]["RAY_gcs_rpc_server_reconnect_timeout_s"] == "15", "no head to wait for"
    assert plain_worker["env"]["RAY_raylet_liveness_self_check_interval_ms"] == "5000"
    assert "RAY_raylet_liveness_self_check_interval_ms" not in worker["env"]


def test_only_this_roles_unplanned_containers_are_removed(ray_filters):
    specs = [{"name": "ray-head"}, {"name": "ray-worker-1"}]
    running = {"ray-head": {"Labels": {"ray-docker.role": "head"}},
               "ray-worker-1": {"Labels": {"ray-docker.role": "worker"}},
               "ray-worker-2": {"Labels": {"ray-docker.role": "worker"}},
               "ray-redis": {"Labels": {"ray-docker.role": "gcs-store"}},
               "ray-prometheus": {"Labels": {"ray-docker.role": "monitoring"}}}
    assert ray_filters.ray_containers_to_remove(specs, running) == ["ray-redis", "ray-worker-2"]


@pytest.mark.parametrize("unreachable, failed, require_all, needle", [
    (["h"], [], False, "The head h does not answer"),
    (["w"], [], True, "Hosts that do not answer: w (ray_require_all_hosts is true)"),
    ([], ["w"], False, "Hosts that failed the probe: w"),
])
def test_the_preflight_stops_for_the_head_or_when_asked_to(ray_filters, unreachable, failed, require_all, needle):
    problems = ray_filters.ray_reachability_problems("h", unreachable, failed, require_all)
    assert any(needle in problem for problem in problems)


def test_an_unreachable_worker_alone_does_not_stop_the_run(ray_filters):
    assert ray_filters.ray_reachability_problems("h", ["w"], [], False) == []


def test_probe_outcomes(ray_filters):
    hostvars = {"h": {"probe": {"changed": False}}, "w1": {"probe": {"unreachable": True, "msg": "timed out"}},
                "w2": {"probe": {"failed": True}}, "w3": {}}
    assert ray_filters.ray_probe_outcome(["h", "w1", "w2", "w3"], hostvars, "probe", "unreachable") == ["w1"]
    assert ray_filters.ray_probe_outcome(["h", "w1", "w2", "w3"], hostvars, "probe", "failed") == ["w2"]
