"""Which images a host runs, which to load or pull, and what a failed pull means (plugins/module_utils/images.py)."""

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import images

SETTINGS = {"ray_image_repository": "rayproject/ray", "ray_image_tag": "2.60.0-py311-cpu", "ray_gcs_fault_tolerance": True,
            "ray_gcs_redis_image": "redis:7.0.15", "ray_monitoring_enabled": True, "ray_monitoring_grafana_enabled": True,
            "ray_prometheus_image": "prom/prometheus:v2.53.3", "ray_grafana_image": "grafana/grafana:12.2.1",
            "ray_image_archive": "", "ray_image_redis_archive": "/srv/redis.tar"}


def names(rows):
    return [row["name"] for row in rows]


def test_the_head_runs_everything_and_a_worker_ray_alone():
    head = images.wanted(SETTINGS, "h0", "h0", "h0")
    assert names(head) == ["rayproject/ray:2.60.0-py311-cpu", "redis:7.0.15", "prom/prometheus:v2.53.3",
                           "grafana/grafana:12.2.1"]
    assert [row["required"] for row in head] == [True, True, False, False]
    assert names(images.wanted(SETTINGS, "h1", "h0", "h0")) == ["rayproject/ray:2.60.0-py311-cpu"]
    assert names(images.wanted(SETTINGS, "h1", "h0", "h1"))[1:] == ["prom/prometheus:v2.53.3", "grafana/grafana:12.2.1"]


@pytest.mark.parametrize("change, absent", [
    ({"ray_gcs_fault_tolerance": False}, "redis:7.0.15"),
    ({"ray_monitoring_grafana_enabled": False}, "grafana/grafana:12.2.1"),
    ({"ray_monitoring_enabled": False}, "prom/prometheus:v2.53.3"),
])
def test_switches_leave_images_out(change, absent):
    assert absent not in names(images.wanted({**SETTINGS, **change}, "h0", "h0", "h0"))


def test_plan_loads_archives_and_pulls_the_rest_of_what_is_missing():
    wanted = images.wanted(SETTINGS, "h0", "h0", "h0")
    present = {"rayproject/ray:2.60.0-py311-cpu": {"Id": "sha256:a"}, "redis:7.0.15": None}
    plan = images.plan(wanted, present)
    assert names(plan["to_load"]) == ["redis:7.0.15"]
    assert names(plan["to_pull"]) == ["prom/prometheus:v2.53.3", "grafana/grafana:12.2.1"]
    assert plan["to_pull"][0]["repository"] == "prom/prometheus" and plan["to_pull"][0]["tag"] == "v2.53.3"
    always = images.plan(wanted, present, "always")
    assert names(always["to_pull"]) == ["rayproject/ray:2.60.0-py311-cpu", "prom/prometheus:v2.53.3", "grafana/grafana:12.2.1"]


def test_a_registry_with_a_port_keeps_its_port():
    assert images.split_reference("127.0.0.1:5000/rayproject/ray:2.60.0") == ("127.0.0.1:5000/rayproject/ray", "2.60.0")
    assert images.split_reference("127.0.0.1:5000/ray") == ("127.0.0.1:5000/ray", "latest")


def test_failure_messages_say_what_matters_and_what_to_do():
    wanted = {row["role"]: row for row in images.wanted(SETTINGS, "h0", "h0", "h0")}
    ray = images.failure_message("h0", wanted["ray"], "manifest unknown", ["http://m:5000"], 3)
    assert "could not pull rayproject/ray:2.60.0-py311-cpu after 3 attempts (manifest unknown). Tried: http://m:5000" in ray
    assert "No registry that serves it is reachable" in ray and "ray_image_archive" in ray
    redis = images.failure_message("h0", wanted["redis"], "x", [], 3)
    assert "head fault tolerance" in redis and "-e ray_gcs_fault_tolerance=false" in redis and "Docker Hub" in redis
    grafana = images.failure_message("h0", wanted["grafana"], "not found", ["http://m:5000"], 3)
    assert grafana.startswith("h0: left out Grafana (grafana/grafana:12.2.1)")
    assert "ray_monitoring_grafana_enabled=false" in grafana and "ray_image_grafana_archive" in grafana
    prometheus = images.failure_message("h0", wanted["prometheus"], "not found", [], 3)
    assert "ray_monitoring_enabled=false" in prometheus
