"""The cluster's containers: `ray start` commands, docker_container specs and their digests, the GCS store, which
containers a run touches (plugins/module_utils/cluster.py, specs.py)."""

import subprocess
import time

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import cluster, specs as container_specs, topology

GIB = 1024 ** 3


def with_resources(node, **changes):
    """A plan row with the resources ray_host_resources adds."""
    resources = {"num_cpus": 1, "num_gpus": 0, "gpu_ids": [], "memory": 4 * GIB, "memory_limit": 6 * GIB,
                 "shm_bytes": 2 * GIB, "object_store_bytes": 1 * GIB}
    resources.update(changes)
    return dict(node, **resources)


def test_start_commands():
    head, worker = topology.node_plan(["h"], [], {"h": 2})
    options = {"gcs_port": 6379, "dashboard_port": 8265, "extra_args": ["--resources={\"lab\": 1}"]}
    head_cmd = cluster.start_command(with_resources(head, num_cpus=0), "ray-head", options)
    worker_cmd = cluster.start_command(with_resources(worker, num_cpus=2, num_gpus=1), "ray-head", options)
    assert head_cmd[:3] == ["ray", "start", "--head"]
    assert "--dashboard-host=0.0.0.0" in head_cmd and "--num-cpus=0" in head_cmd
    assert not any(a.startswith("--num-gpus") for a in head_cmd), "no GPU flag without GPUs"
    assert "--address=ray-head:6379" in worker_cmd and "--num-cpus=2" in worker_cmd and "--num-gpus=1" in worker_cmd
    for cmd in (head_cmd, worker_cmd):
        assert cmd[-2:] == ["--disable-usage-stats", "--block"]
        assert f"--object-store-memory={GIB}" in cmd and f"--memory={4 * GIB}" in cmd
        assert '--resources={"lab": 1}' in cmd


def test_head_only_ports_go_to_the_head():
    head, worker = topology.node_plan(["h"], [], {"h": 2})
    options = {"gcs_port": 6379, "dashboard_port": 8265, "ports": {"node-manager-port": 6380},
               "head_ports": {"ray-client-server-port": 10001}}
    assert "--ray-client-server-port=10001" in cluster.start_command(with_resources(head), "x", options)
    worker_cmd = cluster.start_command(with_resources(worker), "x", options)
    assert "--node-manager-port=6380" in worker_cmd and not any("client-server" in a for a in worker_cmd)


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


def plan(head_hosts, worker_hosts, counts):
    return [with_resources(node) for node in topology.node_plan(head_hosts, worker_hosts, counts)]


def test_container_spec_on_a_bridge_network():
    head, worker = plan(["localhost"], [], {"localhost": 2})
    head_spec = cluster.node_spec(head, container_settings())
    worker_spec = cluster.node_spec(worker, container_settings())
    assert head_spec["published_ports"] == ["127.0.0.1:8265:8265"] and "published_ports" not in worker_spec
    assert head_spec["networks"] == [{"name": "ray"}] and head_spec["hostname"] == "ray-head"
    # a worker's container retires its predecessor of the same name first, then becomes `ray start`
    assert worker_spec["command"][:2] == ["sh", "-c"] and worker_spec["command"][3] == "ray-start"
    assert worker_spec["command"][2] == 'timeout 10 python -c "$RAY_DOCKER_RETIRE_PREDECESSOR"\nexec "$@"'
    assert worker_spec["command"][4:7] == ["ray", "start", "--address=ray-head:6379"]
    assert worker_spec["env"]["RAY_DOCKER_NODE_NAME"] == "ray-worker-1@localhost"
    assert worker_spec["env"]["RAY_DOCKER_GCS_ADDRESS"] == "ray-head:6379"
    assert "UnregisterNode" in worker_spec["env"]["RAY_DOCKER_RETIRE_PREDECESSOR"]
    assert head_spec["command"][:2] == ["ray", "start"], "a head has no predecessor to retire (a new head retires old ones)"
    assert head_spec["stop_timeout"] == cluster.DRAIN_DEADLINE + cluster.STOP_MARGIN, "docker stop waits for Ray's drain"
    assert head_spec["env"]["RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S"] == str(cluster.DRAIN_DEADLINE)
    assert head_spec["shm_size"] == "2147483648" and head_spec["restart_policy"] == "unless-stopped"
    assert head_spec["memory"] == str(6 * GIB), "the container is held to its share"
    assert "ulimits" not in head_spec and "device_requests" not in head_spec
    assert head_spec["labels"]["ray-docker.node"] == "ray-head@localhost"
    assert len(head_spec["labels"]["ray-docker.spec"]) == 64


def test_container_spec_with_host_networking_has_no_bridge_settings():
    node = plan(["h0"], ["h1"], {})[1]
    spec = cluster.node_spec(node, container_settings(network_mode="host", head_address="10.0.0.1", nofile_limit=65536))
    assert spec["network_mode"] == "host"
    assert not {"networks", "hostname", "published_ports"} & set(spec)
    assert spec["ulimits"] == ["nofile:65536:65536"]


def test_gpus_are_handed_in_with_device_requests():
    node = with_resources(topology.node_plan(["h0"], [], {})[0], num_gpus=2, gpu_ids=["0", "1"])
    spec = cluster.node_spec(node, container_settings(network_mode="host"))
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
def test_spec_digest_follows_every_setting_and_diff_shows_it(settings_change, node_change):
    node = topology.node_plan(["localhost"], [], {})[0]
    before = cluster.node_spec(with_resources(node), container_settings())
    after = cluster.node_spec(with_resources(node, **node_change), container_settings(**settings_change))
    assert before["labels"]["ray-docker.spec"] != after["labels"]["ray-docker.spec"]
    # --diff shows docker_container's parameters: the change must be visible there, not only in the digest.
    assert visible(before) != visible(after)


def test_the_token_label_does_not_reveal_the_token():
    node = with_resources(topology.node_plan(["localhost"], [], {})[0])
    spec = cluster.node_spec(node, container_settings(token_sha256="ab" * 32))
    assert spec["labels"]["ray-docker.token-sha256"] == "ab" * 8


def test_spec_digest_is_stable_across_value_types():
    # Ansible hands numbers over as strings or ints depending on templating; the digest must not care.
    node = topology.node_plan(["localhost"], [], {})[0]
    as_text = cluster.node_spec(with_resources(node, shm_bytes="2147483648"), container_settings(nofile_limit="0"))
    as_int = cluster.node_spec(with_resources(node, shm_bytes=2147483648), container_settings(nofile_limit=0))
    assert as_text == as_int


def test_only_missing_stopped_or_changed_containers_are_reconciled():
    nodes = plan(["localhost"], [], {"localhost": 4})
    specs = [cluster.node_spec(node, container_settings()) for node in nodes]
    current = {spec["name"]: {"State": "running", "Labels": dict(spec["labels"])} for spec in specs}
    assert container_specs.containers_to_reconcile(specs, current) == []
    del current["ray-worker-1"]
    current["ray-worker-2"]["State"] = "exited"
    current["ray-worker-3"]["Labels"]["ray-docker.spec"] = "old"
    stale = container_specs.containers_to_reconcile(specs, current)
    assert [spec["name"] for spec in stale] == ["ray-worker-1", "ray-worker-2", "ray-worker-3"]
    assert container_specs.containers_to_reconcile(specs, current, compare_all=True) == specs


def store_settings(**changes):
    settings = {"container": "ray-redis", "image": "redis:7.0.15", "image_id": "sha256:r", "network_mode": "bridge",
                "network": "ray", "cluster_name": "ray", "config_source": "/etc/ray-docker/ray/redis.conf",
                "config_sha256": "c" * 64, "volume": "ray-gcs-redis"}
    settings.update(changes)
    return settings


def test_the_gcs_store_runs_as_redis_with_its_data_on_a_volume():
    spec = cluster.redis_spec(store_settings())
    assert spec["user"] == "999:999" and spec["command"] == ["redis-server", "/usr/local/etc/redis/redis.conf"]
    assert {"type": "volume", "source": "ray-gcs-redis", "target": "/data"} in spec["mounts"]
    assert spec["networks"] == [{"name": "ray"}] and "published_ports" not in spec, "never published"
    assert spec["role"] == "gcs-store" and spec["restart_policy"] == "unless-stopped"
    assert cluster.redis_spec(store_settings(network_mode="host"))["network_mode"] == "host"
    changed = cluster.redis_spec(store_settings(config_sha256="d" * 64))
    assert changed["labels"]["ray-docker.spec"] != spec["labels"]["ray-docker.spec"], "a new config restarts Redis"


def node_with_resources(role_index):
    node = topology.node_plan(["h"], [], {"h": 2})[role_index]
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


def test_with_fault_tolerance_the_head_reads_the_password_from_a_file_and_workers_wait_for_it():
    head = cluster.node_spec(node_with_resources(0), cluster_settings(GCS))
    worker = cluster.node_spec(node_with_resources(1), cluster_settings(GCS))
    assert head["env"]["RAY_REDIS_ADDRESS"] == "ray-redis:6390"
    assert head["env"]["RAY_external_storage_namespace"] == "ray-2.60.0"
    assert head["command"][:2] == ["sh", "-c"] and "--redis-password=\"$(cat /run/secrets/ray_redis_password)\"" in head["command"][2]
    assert head["command"][4:6] == ["ray", "start"] and head["command"][-1] == "--block"
    assert not any("p" * 16 in str(value) for value in head["env"].values())
    assert worker["env"]["RAY_gcs_rpc_server_reconnect_timeout_s"] == "600" and "RAY_REDIS_ADDRESS" not in worker["env"]
    plain = cluster.node_spec(node_with_resources(0), cluster_settings(None))
    assert plain["command"][:2] == ["ray", "start"] and "RAY_REDIS_ADDRESS" not in plain["env"]
    plain_worker = cluster.node_spec(node_with_resources(1), cluster_settings(None))
    assert plain_worker["env"]["RAY_gcs_rpc_server_reconnect_timeout_s"] == "15", "no head to wait for"
    assert plain_worker["env"]["RAY_raylet_liveness_self_check_interval_ms"] == "5000"
    assert "RAY_raylet_liveness_self_check_interval_ms" not in worker["env"]


def test_only_this_roles_unplanned_containers_are_removed():
    specs = [{"name": "ray-head"}, {"name": "ray-worker-1"}]
    running = {"ray-head": {"Labels": {"ray-docker.role": "head"}},
               "ray-worker-1": {"Labels": {"ray-docker.role": "worker"}},
               "ray-worker-2": {"Labels": {"ray-docker.role": "worker"}},
               "ray-redis": {"Labels": {"ray-docker.role": "gcs-store"}},
               "ray-prometheus": {"Labels": {"ray-docker.role": "monitoring"}}}
    assert cluster.containers_to_remove(specs, running) == ["ray-redis", "ray-worker-2"]


DATA = {"node_dirs": {"ray-head": "/var/lib/ray-docker/ray/ray-head", "ray-worker-1": "/var/lib/ray-docker/ray/ray-worker-1"},
        "spill_dirs": {"ray-head": "/spill/ray/ray-head", "ray-worker-1": "/spill/ray/ray-worker-1"},
        "log_limit_mb": 100, "retention_days": 7, "rotation_bytes": 10 * 2**20, "rotation_backups": 2,
        "keeper_source": "print('keeper')"}


def test_a_node_keeps_its_sessions_and_spills_on_the_host_and_runs_the_log_keeper():
    head, worker = plan(["localhost"], [], {"localhost": 2})
    for node in (head, worker):
        spec = cluster.node_spec(node, container_settings(data=DATA, container_log={"max-size": "10m", "max-file": "3"}))
        mounts = {mount["target"]: mount["source"] for mount in spec["mounts"]}
        assert mounts[cluster.RAY_TEMP_DIR] == DATA["node_dirs"][node["container"]]
        assert mounts[cluster.SPILL_DIR] == DATA["spill_dirs"][node["container"]]
        assert f"--object-spilling-directory={cluster.SPILL_DIR}" in spec["command"]
        assert spec["command"][-1] == "--block", "ray start's last flag stays last"
        assert spec["env"]["RAY_ROTATION_MAX_BYTES"] == str(10 * 2**20) and spec["env"]["RAY_ROTATION_BACKUP_COUNT"] == "2"
        assert spec["env"]["RAY_DOCKER_LOG_KEEPER"] == "print('keeper')"
        assert 'python -c "$RAY_DOCKER_LOG_KEEPER" /tmp/ray 100 7 &' in spec["command"][2].splitlines()
        assert spec["log_driver"] == "json-file" and spec["log_options"] == {"max-size": "10m", "max-file": "3"}
    plain = cluster.node_spec(head, container_settings())
    assert "log_driver" not in plain and not any(m["target"] == cluster.RAY_TEMP_DIR for m in plain["mounts"])


STAND_INS = {"python": 'echo "python $*" >> "$CALLS"', "timeout": 'shift; "$@"', "cat": 'echo secret'}


@pytest.mark.parametrize("role,gcs", [("head", None), ("head", GCS), ("worker", None), ("worker", GCS)])
def test_the_nodes_start_script_runs_in_sh_its_preludes_then_ray_as_the_main_process(tmp_path, role, gcs):
    """The script as the container's /bin/sh runs it, with stand-ins for python, timeout and cat: every prelude runs
    (the keeper in the background), then `exec` hands over to the command with all its arguments."""
    for name, body in STAND_INS.items():
        (tmp_path / name).write_text(f"#!/bin/sh\n{body}\n")
        (tmp_path / name).chmod(0o755)
    (tmp_path / "ray").write_text('#!/bin/sh\necho "ray $*" >> "$CALLS"\n')
    (tmp_path / "ray").chmod(0o755)
    node = node_with_resources(0 if role == "head" else 1)
    data = dict(DATA, node_dirs={node["container"]: "/d"}, spill_dirs={node["container"]: "/s"})
    spec = cluster.node_spec(node, dict(cluster_settings(gcs), data=data))
    assert spec["command"][:2] == ["sh", "-c"]
    calls = tmp_path / "calls"
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "CALLS": str(calls), **spec["env"]}
    run = subprocess.run(["/bin/sh", *spec["command"][1:]], env=env, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    for _ in range(50):  # the keeper was started in the background
        if calls.exists() and "python -c print('keeper') /tmp/ray 100 7" in calls.read_text():
            break
        time.sleep(0.1)
    lines = calls.read_text().splitlines()
    assert "python -c print('keeper') /tmp/ray 100 7" in lines
    ray_line = next(line for line in lines if line.startswith("ray "))
    assert ray_line.startswith("ray start") and "--block" in ray_line and "--object-spilling-directory=/ray-spill" in ray_line
    assert ("--redis-password=secret" in ray_line) == (role == "head" and gcs is not None)
    retired = "python -c import os, sys" in lines and "UnregisterNode" in calls.read_text()
    assert retired == (role == "worker"), "only a worker retires its predecessor"


def test_the_cluster_roots_are_roots_alone_and_each_nodes_folders_its_users():
    folders = cluster.data_folders("/d", "/d/ray", "", ["/d/ray/ray-head"], ["/d/ray/ray-head/spill"])
    assert folders == [{"path": "/d", "uid": None, "gid": None, "mode": None},
                       {"path": "/d/ray", "uid": 0, "gid": 0, "mode": "0750"},
                       {"path": "/d/ray/ray-head", "uid": 1000, "gid": 100, "mode": None},
                       {"path": "/d/ray/ray-head/spill", "uid": 1000, "gid": 100, "mode": None}]
    apart = cluster.data_folders("/d", "/d/ray", "/big/ray", ["/d/ray/w"], ["/big/ray/w"])
    assert [folder["path"] for folder in apart if folder["uid"] == 0] == ["/d/ray", "/big/ray"]


def test_a_folder_is_made_again_only_when_missing_or_not_as_wanted():
    folders = cluster.data_folders("/d", "/d/ray", "", ["/d/ray/n"], ["/d/ray/n/spill"])
    as_wanted = {"/d": {"exists": True, "directory": True, "mode": "0700", "uid": 7, "gid": 7},  # the user's own
                 "/d/ray": {"exists": True, "directory": True, "mode": "0750", "uid": 0, "gid": 0},
                 # Ray makes its temp folder 0777 at each start: not a reason to touch it
                 "/d/ray/n": {"exists": True, "directory": True, "mode": "0777", "uid": 1000, "gid": 100},
                 "/d/ray/n/spill": {"exists": True, "directory": True, "mode": "0777", "uid": 1000, "gid": 100}}
    assert cluster.folders_to_make(folders, as_wanted) == []
    opened = dict(as_wanted, **{"/d/ray": dict(as_wanted["/d/ray"], mode="0755")})
    assert [f["path"] for f in cluster.folders_to_make(folders, opened)] == ["/d/ray"]
    taken = dict(as_wanted, **{"/d/ray/n": dict(as_wanted["/d/ray/n"], uid=0)})
    assert [f["path"] for f in cluster.folders_to_make(folders, taken)] == ["/d/ray/n"]
    assert [f["path"] for f in cluster.folders_to_make(folders, {})] == ["/d", "/d/ray", "/d/ray/n", "/d/ray/n/spill"]
