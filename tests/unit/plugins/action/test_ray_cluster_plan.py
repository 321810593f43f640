"""ray_cluster_plan: the token's copy, the GCS store, the network and the containers a host must change, from the run's
snapshot; with `down`, what the role owns there. The container specs themselves are tested in module_utils
(test_cluster.py, test_resources.py); here, what the action plans from the settings, the inventory and the snapshot,
and that a host already as planned has nothing to do."""

import hashlib
import os
import stat

import pytest
from ansible.errors import AnsibleActionFail

from tests.unit.plugins.action.harness import (GRAFANA_IMAGE, PROMETHEUS_IMAGE, RAY_IMAGE, REDIS_IMAGE, GIB, Lab,
                                               described, engine, host_facts, image_id, run, running)


def plan(lab, host="head", args=None, check_mode=False):
    result, calls = run("ray_cluster_plan", lab.task_vars(host), args, check_mode=check_mode)
    assert calls == [], "the run's snapshot is used"
    return result


def by_name(result):
    return {spec["name"]: spec for phase in result["phases"] for spec in phase}


def applied(result, images=(RAY_IMAGE, REDIS_IMAGE), token_sha256=None, password_sha256=None, config_sha256=None):
    """The host's snapshot once a run applied `result`: its files, network and running containers."""
    token, gcs = result["token"], result.get("gcs_store")
    files = {token["dir"]: described(mode="0711", directory=True),
             token["dest"]: described(mode="0600", uid=token["uid"], gid=token["gid"], sha256=token_sha256)}
    for folder in result["data_dirs"]:  # the cluster's data root and the nodes' own folders (any mode: None)
        files[folder["path"]] = described(mode=folder["mode"] or "0777", uid=folder["uid"], gid=folder["gid"],
                                          directory=True)
    if gcs:
        files[gcs["config_dest"]] = described(mode="0600", uid=gcs["uid"], gid=gcs["uid"], sha256=config_sha256)
        files[gcs["password_dest"]] = described(mode="0600", uid=gcs["container_uid"], gid=gcs["container_gid"],
                                                sha256=password_sha256)
    return engine(images=list(images), files=files, networks={result["network"]["name"]: {"Id": "n1"}},
                  containers={name: running(spec) for name, spec in by_name(result).items()})


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def sha256_text(text):
    return hashlib.sha256(text.encode()).hexdigest()


def test_one_host_plans_the_token_the_gcs_store_the_network_and_every_container(home):
    lab = Lab(variables={"ray_node_count": 3})
    result = plan(lab)
    config = f"{home}/.config/ray-docker/ray"
    assert result["engine_answers"] is True and result["has_work"] is True and result["changed"] is False
    assert result["dashboard_url"] == "http://10.0.0.11:8265" and result["token_file"] == f"{config}/auth_token"
    assert result["host_nodes"] == result["expected_nodes"] == ["ray-head@head", "ray-worker-1@head", "ray-worker-2@head"]
    assert result["token"] == {"source": f"{config}/auth_token", "dest": "/etc/ray-docker/ray/auth_token",
                               "dir": "/etc/ray-docker/ray", "uid": 1000, "gid": 100, "write": True}
    assert result["gcs_store"] == {
        "config_source": f"{config}/redis.conf", "config_dest": "/etc/ray-docker/ray/redis.conf",
        "password_source": f"{config}/redis_password", "password_dest": "/etc/ray-docker/ray/redis_password",
        "uid": 999, "container_uid": 1000, "container_gid": 100, "write_config": True, "write_password": True}
    assert result["network"] == {"name": "ray", "create": True}
    assert result["remove"] == [] and result["remove_volume"] == "" and result["wait_timeout"] == 180
    folders = {folder["path"]: folder for folder in result["data_dirs"]}
    assert folders["/var/lib/ray-docker/ray"] == {"path": "/var/lib/ray-docker/ray", "uid": 0, "gid": 0, "mode": "0750"}, \
        "the cluster's data root, root's"
    for name in ("ray-head", "ray-worker-1", "ray-worker-2"):
        for path in (f"/var/lib/ray-docker/ray/{name}", f"/var/lib/ray-docker/ray/{name}/spill"):
            assert folders[path] == {"path": path, "uid": 1000, "gid": 100, "mode": None}, "each node's, Ray's user's"
    assert [[spec["name"] for spec in phase] for phase in result["phases"]] == [
        ["ray-redis", "ray-head"], ["ray-worker-1", "ray-worker-2"]]
    # the secrets are made on the control node, 0600, and stay out of the plan
    for name, length in (("auth_token", 64), ("redis_password", 48)):
        path = f"{config}/{name}"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and len(open(path).read().strip()) == length
    password = open(f"{config}/redis_password").read().strip()
    assert f"requirepass {password}" in open(f"{config}/redis.conf").read()
    assert password not in repr(result) and open(f"{config}/auth_token").read().strip() not in repr(result)


def test_the_containers_are_made_of_the_settings_on_the_bridge_network():
    lab = Lab(variables={"ray_node_count": 2, "ray_cluster_env": {"OMP_NUM_THREADS": "1"},
                         "ray_cluster_nofile_limit": 65536, "ray_cluster_dashboard_bind_address": "127.0.0.1"},
              engines={"head": engine(images={RAY_IMAGE: {"Id": "sha256:ray"}})})
    specs = by_name(plan(lab))
    head, worker, redis = specs["ray-head"], specs["ray-worker-1"], specs["ray-redis"]
    assert head["image"] == RAY_IMAGE and head["labels"]["ray-docker.image-id"] == "sha256:ray"
    assert head["network_mode"] == "ray" and head["published_ports"] == ["127.0.0.1:8265:8265"]
    assert head["ulimits"] == ["nofile:65536:65536"]
    assert head["env"]["OMP_NUM_THREADS"] == "1" and head["env"]["RAY_AUTH_MODE"] == "token"
    assert head["env"]["RAY_REDIS_ADDRESS"] == "ray-redis:6390" and head["env"]["RAY_external_storage_namespace"] == "ray-2.60.0"
    assert head["env"]["DASHBOARD_METRIC_PORT"] == "44227" and head["env"]["AUTOSCALER_METRIC_PORT"] == "44217"
    assert "--ray-client-server-port=10001" in head["command"] and "--ray-client-server-port=10001" not in worker["command"]
    assert "--address=ray-head:6379" in worker["command"] and "--node-ip-address" not in " ".join(worker["command"])
    assert worker["env"]["RAY_gcs_rpc_server_reconnect_timeout_s"] == "600"
    assert redis["image"] == REDIS_IMAGE and redis["network_mode"] == "ray"


def test_prometheus_and_grafana_that_run_are_what_the_head_reads():
    images = {name: {"Id": f"id-{name}"} for name in (RAY_IMAGE, REDIS_IMAGE, PROMETHEUS_IMAGE, GRAFANA_IMAGE)}
    env = by_name(plan(Lab(engines={"head": engine(images=images)})))["ray-head"]["env"]
    assert env["RAY_PROMETHEUS_HOST"] == "http://ray-prometheus:9090" and env["RAY_GRAFANA_HOST"] == "http://ray-grafana:3000"
    assert env["RAY_GRAFANA_IFRAME_HOST"] == "http://10.0.0.11:3000"
    del images[GRAFANA_IMAGE]  # Grafana could not be had: left out
    env = by_name(plan(Lab(engines={"head": engine(images=images)})))["ray-head"]["env"]
    assert env["RAY_GRAFANA_HOST"] == "DISABLED" and env["RAY_PROMETHEUS_HOST"] == "http://ray-prometheus:9090"
    del images[PROMETHEUS_IMAGE]
    env = by_name(plan(Lab(engines={"head": engine(images=images)})))["ray-head"]["env"]
    assert "RAY_PROMETHEUS_HOST" not in env


def test_a_lab_uses_host_networking_node_addresses_and_the_monitoring_hosts_images():
    lab = Lab(heads=["head"], workers=["w1", "w2"], variables={"ray_monitoring_host": "w2"},
              host_variables={"w1": {"ray_node_ip_address": "192.168.5.12"}},
              engines={"w2": engine(images=[RAY_IMAGE, PROMETHEUS_IMAGE])})
    head = plan(lab, "head")
    assert head["network"] == {"name": "ray", "create": False}, "no bridge network with several hosts"
    assert head["host_nodes"] == ["ray-head@head"]
    assert head["expected_nodes"] == ["ray-head@head", "ray-worker-1@w1", "ray-worker-1@w2"]
    spec = by_name(head)["ray-head"]
    assert spec["network_mode"] == "host" and "--node-ip-address=10.0.0.11" in spec["command"]
    assert spec["env"]["RAY_PROMETHEUS_HOST"] == "http://10.0.0.13:9090", "the monitoring host's address, from w2's snapshot"
    assert spec["env"]["RAY_GRAFANA_HOST"] == "DISABLED", "w2 lacks Grafana's image"
    assert spec["env"]["RAY_REDIS_ADDRESS"] == "127.0.0.1:6390"
    worker = plan(lab, "w1")
    assert "gcs_store" not in worker, "the GCS store runs on the head's host only"
    assert [[spec["name"] for spec in phase] for phase in worker["phases"]] == [[], ["ray-worker-1"]]
    command = worker["phases"][1][0]["command"]
    assert "--address=10.0.0.11:6379" in command and "--node-ip-address=192.168.5.12" in command


def test_monitoring_on_the_head_host_is_reached_on_loopback():
    lab = Lab(heads=["head"], workers=["w1"], engines={"head": engine(images=[RAY_IMAGE, REDIS_IMAGE, PROMETHEUS_IMAGE])})
    env = by_name(plan(lab))["ray-head"]["env"]
    assert env["RAY_PROMETHEUS_HOST"] == "http://127.0.0.1:9090"


def test_a_host_already_as_planned_has_nothing_to_do():
    lab = Lab(variables={"ray_node_count": 2}, engines={"head": engine(images=[RAY_IMAGE, REDIS_IMAGE])})
    first = plan(lab)
    config = os.path.dirname(first["token_file"])
    again = Lab(variables={"ray_node_count": 2}, engines={"head": applied(
        first, token_sha256=sha256(first["token_file"]), password_sha256=sha256_text(open(f"{config}/redis_password")
                                                                                      .read().strip()),
        config_sha256=sha256(f"{config}/redis.conf"))})
    second = plan(again)
    assert second["token"]["write"] is False
    assert second["gcs_store"]["write_config"] is False and second["gcs_store"]["write_password"] is False
    assert second["network"]["create"] is False and second["phases"] == [[], []] and second["remove"] == []
    assert second["data_dirs"] == [] and second["has_work"] is False
    # a node's folder Ray made 0777 stays as it is; one another user owns, or a root left open, is made right again
    files = again.engines["head"]["files"]
    files["/var/lib/ray-docker/ray/ray-worker-1"]["mode"] = "0700"
    assert plan(again)["has_work"] is False
    files["/var/lib/ray-docker/ray/ray-worker-1/spill"]["uid"] = 0
    files["/var/lib/ray-docker/ray"]["mode"] = "0777"
    third = plan(again)
    assert [folder["path"] for folder in third["data_dirs"]] == ["/var/lib/ray-docker/ray",
                                                                 "/var/lib/ray-docker/ray/ray-worker-1/spill"]
    assert third["has_work"] is True
    # compare_all hands every container to docker_container, which compares each setting itself
    lab = Lab(variables={"ray_node_count": 2, "ray_cluster_compare_all": True}, engines=again.engines)
    assert [len(phase) for phase in plan(lab)["phases"]] == [2, 1]


def test_a_wrong_token_folder_a_changed_password_or_a_leftover_volume_is_work_each():
    lab = Lab(engines={"head": engine(images=[RAY_IMAGE, REDIS_IMAGE])})
    first = plan(lab)
    config = os.path.dirname(first["token_file"])
    digests = dict(token_sha256=sha256(first["token_file"]), config_sha256=sha256(f"{config}/redis.conf"),
                   password_sha256=sha256_text(open(f"{config}/redis_password").read().strip()))
    snapshot = applied(first, **digests)
    snapshot["files"]["/etc/ray-docker/ray"]["mode"] = "0755"
    result = plan(Lab(engines={"head": snapshot}))
    assert result["token"]["write"] is True and result["has_work"] is True
    snapshot = applied(first, **dict(digests, password_sha256="0" * 64))
    result = plan(Lab(engines={"head": snapshot}))
    assert result["gcs_store"]["write_password"] is True and result["gcs_store"]["write_config"] is False
    assert result["token"]["write"] is False and result["has_work"] is True
    # fault tolerance switched off on a host already as planned otherwise: only the store's data is left to remove
    off = Lab(variables={"ray_gcs_fault_tolerance": False}, engines={"head": engine(images=[RAY_IMAGE])})
    done = applied(plan(off), images=[RAY_IMAGE], token_sha256=digests["token_sha256"])
    done["volumes"] = {"ray-gcs-redis": {"Name": "ray-gcs-redis"}}
    result = plan(Lab(variables={"ray_gcs_fault_tolerance": False}, engines={"head": done}))
    assert result["phases"] == [[], []] and result["remove"] == [] and result["token"]["write"] is False
    assert result["remove_volume"] == "ray-gcs-redis" and result["has_work"] is True


def test_the_gcs_stores_config_binds_where_only_the_head_reaches_it(home):
    config = home / ".config" / "ray-docker" / "ray" / "redis.conf"
    spec = by_name(plan(Lab(engines={"head": engine(images=[RAY_IMAGE, REDIS_IMAGE])})))["ray-redis"]
    assert "bind 0.0.0.0\n" in config.read_text(), "the cluster's bridge network"
    assert spec["labels"]["ray-docker.image-id"] == image_id(REDIS_IMAGE)
    plan(Lab(heads=["head"], workers=["w1"]))
    assert "bind 127.0.0.1\n" in config.read_text(), "host networking: loopback only"


def test_a_head_on_the_control_node_publishes_its_dashboard_on_loopback():
    lab = Lab(host_variables={"head": {"ansible_connection": "local"}})
    result = plan(lab)
    assert by_name(result)["ray-head"]["published_ports"] == ["127.0.0.1:8265:8265"]
    assert result["dashboard_url"] == "http://127.0.0.1:8265"


def test_the_nodes_of_a_host_the_preflight_skipped_are_not_expected():
    lab = Lab(heads=["head"], workers=["w1", "w2"])
    task_vars = lab.task_vars("head")
    task_vars["ansible_facts"]["preflight_unreachable"] = ["w2"]
    result, _ = run("ray_cluster_plan", task_vars)
    assert result["expected_nodes"] == ["ray-head@head", "ray-worker-1@w1"]


def test_without_a_snapshot_the_fresh_read_decides_what_the_head_reads_of_monitoring():
    read = {"changed": False, "ansible_facts": {"ray_host": host_facts(), "ray_snapshot": engine(images=[RAY_IMAGE, REDIS_IMAGE])}}
    result, calls = run("ray_cluster_plan", Lab(engines={"head": None}).task_vars("head"), module_results=read)
    assert len(calls) == 1 and result["ansible_facts"] == read["ansible_facts"], "the fresh read is the new snapshot"
    env = by_name(result)["ray-head"]["env"]
    assert "RAY_PROMETHEUS_HOST" not in env, "this host has no Prometheus image: it does not run"


def test_a_rollback_plans_the_previous_image_and_an_upgrade_names_the_nodes_to_replace():
    images = [RAY_IMAGE, REDIS_IMAGE, "rayproject/ray:2.59.0-py311-cpu", "registry.lan:5000/ray:2.59.0-mine"]
    previous = {"image": "registry.lan:5000/ray:2.59.0-mine", "ray_version": "2.59.0"}
    result = plan(Lab(engines={"head": engine(images=images)}), args={"previous": previous})
    head = by_name(result)["ray-head"]
    assert head["image"] == "registry.lan:5000/ray:2.59.0-mine"
    assert head["labels"]["ray-docker.image-id"] == image_id("registry.lan:5000/ray:2.59.0-mine")
    assert head["env"]["RAY_external_storage_namespace"] == "ray-2.59.0", "the GCS store's namespace of that version"
    old = {"ray-head": {"State": "running", "Image": "rayproject/ray:2.59.0-py311-cpu", "ImageID": "sha256:old",
                        "Labels": {"ray-docker.role": "head", "ray-docker.node": "ray-head@head",
                                   "ray-docker.image-id": "sha256:old"}}}
    result = plan(Lab(engines={"head": engine(images=images, containers=old)}))
    assert [(row["container"], row["image"]) for row in result["upgrade"]["replace"]] == [
        ("ray-head", "rayproject/ray:2.59.0-py311-cpu")]
    assert plan(Lab(engines={"head": engine(images=images)}))["upgrade"] == {"replace": []}


def test_a_token_that_changed_and_a_stopped_container_are_work():
    lab = Lab(engines={"head": engine(images=[RAY_IMAGE, REDIS_IMAGE])})
    first = plan(lab)
    snapshot = applied(first, token_sha256="0" * 64)
    snapshot["containers"]["ray-head"]["State"] = "exited"
    result = plan(Lab(engines={"head": snapshot}))
    assert result["token"]["write"] is True, "the host's copy differs from the control node's token"
    assert [[spec["name"] for spec in phase] for phase in result["phases"]] == [["ray-head"], []]
    assert result["has_work"] is True


def test_fault_tolerance_off_removes_the_gcs_store_and_its_data():
    snapshot = engine(images=[RAY_IMAGE], volumes={"ray-gcs-redis": {"Name": "ray-gcs-redis"}},
                      containers={"ray-redis": {"State": "running", "Labels": {"ray-docker.role": "gcs-store"}},
                                  "ray-prometheus": {"State": "running", "Labels": {"ray-docker.role": "monitoring"}},
                                  "ray-worker-3": {"State": "running", "Labels": {"ray-docker.role": "worker"}}})
    result = plan(Lab(variables={"ray_gcs_fault_tolerance": False}, engines={"head": snapshot}))
    assert "gcs_store" not in result
    assert result["remove"] == ["ray-redis", "ray-worker-3"], "the monitoring's container is another role's"
    assert result["remove_volume"] == "ray-gcs-redis" and result["has_work"] is True
    assert "RAY_REDIS_ADDRESS" not in by_name(result)["ray-head"]["env"]
    assert not os.path.exists(os.path.join(os.path.dirname(result["token_file"]), "redis_password"))
    # with fault tolerance on, the volume is the store's data: kept
    assert plan(Lab(engines={"head": snapshot}))["remove_volume"] == ""


def test_the_users_paths_and_cluster_name_are_used(tmp_path):
    lab = Lab(variables={"ray_cluster_name": "lab", "ray_auth_token_file": str(tmp_path / "t" / "token"),
                         "ray_auth_host_token_file": "/opt/ray/token", "ray_gcs_redis_password_file": str(tmp_path / "p"),
                         "ray_cluster_wait_timeout": 60})
    result = plan(lab)
    assert result["token"]["source"] == str(tmp_path / "t" / "token") and result["token"]["dest"] == "/opt/ray/token"
    assert result["token"]["dir"] == "/opt/ray" and result["gcs_store"]["config_dest"] == "/opt/ray/redis.conf"
    assert result["gcs_store"]["password_source"] == str(tmp_path / "p")
    assert result["gcs_store"]["config_source"] == str(tmp_path / "t" / "redis.conf")
    assert result["network"]["name"] == "lab" and result["wait_timeout"] == 60
    assert [[spec["name"] for spec in phase] for phase in result["phases"]] == [["lab-redis", "lab-head"], []]


def test_a_secrets_folder_that_cannot_be_made_fails_the_task(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(AnsibleActionFail, match="cannot prepare the cluster's secrets on the control node"):
        plan(Lab(variables={"ray_auth_token_file": str(tmp_path / "file" / "token")}))


def test_a_host_that_cannot_hold_its_nodes_fails_naming_it():
    lab = Lab(variables={"ray_node_count": 4}, facts={"head": host_facts(cpus=2, mem_total=2 * GIB)})
    with pytest.raises(AnsibleActionFail, match=r"host head: .*Nothing was changed\."):
        plan(lab)


def test_a_secret_file_of_the_wrong_length_fails_before_anything_is_planned(home):
    token = home / ".config" / "ray-docker" / "ray" / "auth_token"
    token.parent.mkdir(parents=True)
    token.write_text("short\n")
    with pytest.raises(AnsibleActionFail, match="cannot prepare the cluster's secrets on the control node: .*64-character"):
        plan(Lab())


def test_an_engine_that_does_not_answer_fails_except_in_check_mode():
    lab = Lab(engines={"head": engine(answers=False)})
    with pytest.raises(AnsibleActionFail, match="The Docker engine on head does not answer"):
        plan(lab)
    result = plan(lab, check_mode=True)
    assert result["has_work"] is True and result["engine_answers"] is False
    assert "token" not in result and "phases" not in result
    assert result["host_nodes"] == ["ray-head@head"]


def test_down_lists_what_the_role_owns_workers_first():
    containers = {"ray-head": {"Labels": {"ray-docker.role": "head"}},
                  "ray-worker-2": {"Labels": {"ray-docker.role": "worker"}},
                  "ray-worker-1": {"Labels": {"ray-docker.role": "worker"}},
                  "ray-redis": {"Labels": {"ray-docker.role": "gcs-store"}},
                  "ray-grafana": {"Labels": {"ray-docker.role": "monitoring"}},
                  "someone-else": {"Labels": {}}}
    snapshot = engine(answers=False, containers=containers, networks={"ray": {"Id": "n"}},
                      volumes={"ray-gcs-redis": {}})
    snapshot["volumes"] = {"ray-gcs-redis": {"Name": "ray-gcs-redis"}}
    result = plan(Lab(engines={"head": snapshot}), args={"down": True})
    assert result == {"changed": False, "down": {"workers": ["ray-worker-1", "ray-worker-2"],
                                                 "others": ["ray-head", "ray-redis"], "network": "ray",
                                                 "volumes": ["ray-gcs-redis"], "data": []}}
    empty = plan(Lab(engines={"head": engine()}), args={"down": True})
    assert empty["down"] == {"workers": [], "others": [], "network": "", "volumes": [], "data": []}
    # the nodes' logs stay for a post-mortem unless purged; purged are the cluster's data roots that exist (not the
    # folder they are in, which holds others' folders, nor each node's folder on its own)
    kept = engine(files={"/var/lib/ray-docker": described(mode="0755", directory=True),  # others' folders too
                         "/var/lib/ray-docker/ray": described(mode="0750", directory=True),
                         "/var/lib/ray-docker/ray/ray-head": described(mode="0777", uid=1000, gid=100, directory=True),
                         "/fast/ray": described(exists=False)})
    purge = {"ray_cluster_purge_data": True, "ray_cluster_spill_dir": "/fast"}
    assert plan(Lab(variables=purge, engines={"head": kept}), args={"down": True})["down"]["data"] == [
        "/var/lib/ray-docker/ray"]
    kept["files"]["/fast/ray"] = described(mode="0750", directory=True)
    assert plan(Lab(variables=purge, engines={"head": kept}), args={"down": True})["down"]["data"] == [
        "/var/lib/ray-docker/ray", "/fast/ray"], "a separate spill root too"
    assert plan(Lab(engines={"head": kept}), args={"down": True})["down"]["data"] == []
    assert plan(Lab(variables=purge, engines={"head": engine()}), args={"down": True})["down"]["data"] == []


def test_a_refused_setting_fails_naming_the_host():
    with pytest.raises(AnsibleActionFail, match="Settings refused for host head: ray_gcs_redis_port"):
        plan(Lab(variables={"ray_gcs_redis_port": "0"}))
