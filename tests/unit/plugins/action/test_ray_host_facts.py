"""ray_host_facts (action): the run's snapshot of a host, one module run asking for what every role will compare.

The module's own reading of a host is tested in tests/unit/plugins/modules/test_ray_host_facts.py; here the module
run is recorded instead, and what the action asks it for (from the settings and the inventory) is checked."""

import pytest
from ansible.errors import AnsibleActionFail

from tests.unit.plugins.action.harness import (GRAFANA_IMAGE, PROMETHEUS_IMAGE, RAY_IMAGE, REDIS_IMAGE, Lab, engine,
                                               host_facts, run)

MODULE = "ray_docker.cluster.ray_host_facts"
READ = {"changed": False, "ansible_facts": {"ray_host": host_facts(), "ray_snapshot": engine()}}


def query(lab, host, args=None, **variables):
    result, calls = run("ray_host_facts", lab.task_vars(host, **variables), args, module_results=READ)
    assert [call["module_name"] for call in calls] == [MODULE], "one module run per host"
    assert result["ansible_facts"] == READ["ansible_facts"], "the module's result is the task's"
    return calls[0]["module_args"]


def test_a_single_host_asks_for_everything_its_roles_compare(home):
    args = query(Lab(), "head")
    files = args.pop("files")
    assert args == {
        "engine": True, "daemon_json": "/etc/docker/daemon.json", "desktop_daemon_json": "auto",
        "images": [RAY_IMAGE, REDIS_IMAGE, PROMETHEUS_IMAGE, GRAFANA_IMAGE],
        "image_references": ["ray-docker/ray", "*/ray-docker/ray", "ray-docker/ray-user"],  # the built ones, to prune
        "networks": ["ray"],  # one host: the cluster's bridge network
        "volumes": ["ray-gcs-redis", "ray-prometheus-data", "ray-grafana-data"],
        "container_label": "ray-docker.cluster=ray",
        "registry_cache": None,  # one host uses no LAN cache
        "data_dir": "/var/lib/ray-docker",  # its free space only (the module's default): no walk of every file
    }
    assert files[:4] == ["/etc/ray-docker/ray", "/etc/ray-docker/ray/auth_token", "/etc/ray-docker/ray/redis.conf",
                         "/etc/ray-docker/ray/redis_password"]
    assert {"/var/lib/ray-docker/ray", "/var/lib/ray-docker/ray/ray-head", "/var/lib/ray-docker/ray/ray-head/spill"} \
        <= set(files), "the nodes' data folders (plugins/module_utils/cluster.py data_folders)"
    assert "/etc/ray-docker/ray/prometheus/prometheus.yml" in files
    assert "/etc/ray-docker/ray/grafana/admin_password" in files


def test_status_also_measures_the_data_root_with_everything_else_worked_out():
    args = query(Lab(), "head", {"measure_data_dir": True})
    assert args["measure_data_dir"] is True
    assert args["data_dir"] == "/var/lib/ray-docker" and args["engine"] is True, "the rest is the worked-out query"


def test_measure_data_dir_given_as_the_string_false_by_a_plain_extra_var_measures_nothing():
    assert "measure_data_dir" not in query(Lab(), "head", {"measure_data_dir": "false"})


def test_a_worker_of_a_lab_asks_for_the_ray_image_and_its_token_only():
    lab = Lab(heads=["head"], workers=["w1", "w2"])
    args = query(lab, "w1")
    assert args["images"] == [RAY_IMAGE]
    assert args["networks"] == [] and args["volumes"] == [], "host networking; the volumes are the head's"
    assert args["files"][:2] == ["/etc/ray-docker/ray", "/etc/ray-docker/ray/auth_token"]
    assert {"/var/lib/ray-docker/ray/ray-worker-1", "/var/lib/ray-docker/ray/ray-worker-1/spill"} <= set(args["files"])
    assert not [path for path in args["files"] if "redis" in path or "grafana" in path or "prometheus" in path]
    assert args["registry_cache"] is None, "the LAN cache runs on the head's host"


def test_the_lab_head_reads_the_lan_caches_state_and_the_monitoring_host_its_files():
    lab = Lab(heads=["head"], workers=["w1", "w2"], variables={"ray_monitoring_host": "w2", "ray_cluster_name": "lab",
                                                               "docker_registry_mirrors": ["https://mirror.example/"]})
    head = query(lab, "head")
    assert head["registry_cache"] == {
        "port": 5050, "upstream": "https://mirror.example", "binary": "/usr/bin/docker-registry",
        "user": "docker-registry", "config_file": "/etc/ray-docker/registry-cache/config.yml",
        "unit_file": "/etc/systemd/system/ray-registry-cache.service", "service": "ray-registry-cache",
        "pid_file": "/run/ray-registry-cache.pid", "data_dir": "/var/lib/ray-docker/registry-cache",
        "log_file": "/var/log/ray-docker/registry-cache.log"}
    assert head["images"] == [RAY_IMAGE, REDIS_IMAGE] and head["volumes"] == ["lab-gcs-redis"]
    assert head["container_label"] == "ray-docker.cluster=lab"
    monitoring = query(lab, "w2")
    assert monitoring["images"] == [RAY_IMAGE, PROMETHEUS_IMAGE, GRAFANA_IMAGE]
    assert monitoring["volumes"] == ["lab-prometheus-data", "lab-grafana-data"]
    assert "/etc/ray-docker/lab/grafana/provisioning/datasources/ray.yml" in monitoring["files"]


def test_without_fault_tolerance_and_monitoring_the_head_reads_less():
    args = query(Lab(variables={"ray_gcs_fault_tolerance": False, "ray_monitoring_enabled": False,
                                "docker_daemon_config_file": "/srv/docker/daemon.json", "ray_cluster_data_dir": "/data",
                                "ray_cluster_spill_dir": "/fast"}), "head")
    assert args["images"] == [RAY_IMAGE]
    assert args["files"][:2] == ["/etc/ray-docker/ray", "/etc/ray-docker/ray/auth_token"]
    assert {"/data/ray", "/fast/ray", "/data/ray/ray-head", "/fast/ray/ray-head"} <= set(args["files"])
    assert not [path for path in args["files"] if "redis" in path or "grafana" in path or "prometheus" in path]
    assert args["daemon_json"] == "/srv/docker/daemon.json" and args["data_dir"] == "/data"


def test_given_options_are_passed_as_they_are():
    result, calls = run("ray_host_facts", Lab().task_vars("head"), {"images": ["busybox:1"], "engine": True},
                        module_results=READ)
    assert calls == [{"module_name": MODULE, "module_args": {"images": ["busybox:1"], "engine": True}}]


def test_outdated_marks_the_snapshot_without_reading_the_host():
    snapshot = engine(images=[RAY_IMAGE])
    lab = Lab(engines={"head": snapshot})
    result, calls = run("ray_host_facts", lab.task_vars("head"), {"outdated": True})
    assert calls == []
    assert result == {"changed": False, "ansible_facts": {"ray_snapshot": dict(snapshot, outdated=True)}}
    result, calls = run("ray_host_facts", Lab(engines={"head": None}).task_vars("head"), {"outdated": True})
    assert result["ansible_facts"] == {"ray_snapshot": None} and calls == []


def test_a_refused_setting_fails_before_the_host_is_read():
    with pytest.raises(AnsibleActionFail, match="Settings refused for host head: ray_cluster_name"):
        run("ray_host_facts", Lab(variables={"ray_cluster_name": "no spaces please"}).task_vars("head"))
