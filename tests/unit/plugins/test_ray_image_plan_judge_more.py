"""How the ray_image_plan action judges the pulls (plugins/action/ray_image_plan.py): a required image that could not
be had stops the run with the reason; an optional one (Grafana, Prometheus) is left out and the run goes on, degraded.

(Here rather than in tests/unit/plugins/action/, whose harness is being written separately.)"""

from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.action.ray_image_plan import ActionModule
from ansible_collections.ray_docker.cluster.plugins.module_utils import images

SETTINGS = {"ray_image_repository": "rayproject/ray", "ray_image_tag": "2.60.0-py311-cpu", "ray_gcs_fault_tolerance": False,
            "ray_monitoring_enabled": True, "ray_monitoring_grafana_enabled": True,
            "ray_prometheus_image": "prom/prometheus:v2.53.3", "ray_grafana_image": "grafana/grafana:12.2.1",
            "docker_registry_mirrors": ["http://mirror.lab:5000"], "ray_image_pull_retries": 3}
CTX = SimpleNamespace(host="h1", settings=SETTINGS)
WANTED = images.wanted(SETTINGS, "h1", "h1", "h1")
RAY, PROMETHEUS, GRAFANA = (image["name"] for image in WANTED)


def judge(pulled):
    action = object.__new__(ActionModule)  # _judge reads only its arguments
    return action._judge({}, CTX, WANTED, pulled, {"ansible_facts": {"ray_snapshot": {"images": {}}}})


def test_an_optional_image_that_could_not_be_pulled_is_left_out_and_the_run_goes_on():
    result = judge([{"name": RAY, "ok": True, "id": "sha256:1"}, {"name": PROMETHEUS, "ok": True, "id": "sha256:2"},
                    {"name": GRAFANA, "ok": False, "msg": "manifest unknown", "attempts": 3}])
    assert result["unavailable"] == ["grafana"] and "failed" not in result
    assert len(result["notes"]) == 1 and result["notes"][0].startswith("h1: left out Grafana (grafana/grafana:12.2.1)")
    assert result["ansible_facts"]["ray_snapshot"]["images"] == {RAY: {"Id": "sha256:1"}, PROMETHEUS: {"Id": "sha256:2"}}


def test_the_ray_image_that_could_not_be_pulled_stops_the_run_naming_it():
    with pytest.raises(AnsibleActionFail, match=r"h1 could not pull rayproject/ray:2.60.0-py311-cpu after 3 attempts"):
        judge([{"name": RAY, "ok": False, "msg": "connection refused", "attempts": 3},
               {"name": PROMETHEUS, "ok": True, "id": "sha256:2"}, {"name": GRAFANA, "ok": True, "id": "sha256:3"}])
