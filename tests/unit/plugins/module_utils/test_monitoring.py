"""Prometheus targets and config, Grafana provisioning, the head's metrics settings (plugins/module_utils/monitoring.py)."""

import json

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import monitoring

NODES = [{"host": "h0", "container": "ray-head", "role": "head"},
         {"host": "h0", "container": "ray-worker-1", "role": "worker"},
         {"host": "h1", "container": "ray-worker-1", "role": "worker"}]


def test_targets_on_a_bridge_network_are_container_names():
    nodes, head = monitoring.scrape_targets(NODES[:2], "bridge", {}, 6384, [44227, 44217])
    assert nodes == ["ray-head:6384", "ray-worker-1:6384"]
    assert head == ["ray-head:44227", "ray-head:44217"]


def test_targets_with_host_networking_are_node_addresses():
    nodes, head = monitoring.scrape_targets([NODES[0], NODES[2]], "host", {"h0": "10.0.0.1", "h1": "10.0.0.2"}, 6384,
                                            [44227])
    assert nodes == ["10.0.0.1:6384", "10.0.0.2:6384"] and head == ["10.0.0.1:44227"]


def test_prometheus_config_labels_every_series_with_the_cluster():
    config = monitoring.prometheus_config("lab", ["a:6384"], ["a:44227"], "15s")
    assert config["global"]["scrape_interval"] == "15s"
    jobs = {job["job_name"]: job["static_configs"][0] for job in config["scrape_configs"]}
    assert jobs["ray"] == {"targets": ["a:6384"], "labels": {"ray_io_cluster": "lab"}}
    assert jobs["ray-head"]["targets"] == ["a:44227"] and jobs["ray-head"]["labels"] == {"ray_io_cluster": "lab"}


def test_grafana_provisioning():
    datasource = monitoring.grafana_datasource("http://ray-prometheus:9090")["datasources"][0]
    assert datasource["name"] == "Prometheus", "the name Ray's dashboard asks Grafana for"
    assert datasource["type"] == "prometheus" and datasource["isDefault"] and datasource["url"] == "http://ray-prometheus:9090"
    provider = monitoring.grafana_dashboard_provider()["providers"][0]
    assert provider["options"]["path"] == monitoring.GRAFANA_DASHBOARDS_DIR and provider["folder"] == "Ray"


def test_grafana_settings_allow_embedding_and_anonymous_viewers_and_keep_the_password_out():
    env = monitoring.grafana_env(3000, "127.0.0.1")
    assert env["GF_SECURITY_ALLOW_EMBEDDING"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true" and env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"].startswith("/run/secrets/")
    assert not any("PASSWORD" in key and not key.endswith("__FILE") for key in env)
    assert env["GF_SERVER_HTTP_ADDR"] == "127.0.0.1" and "GF_SERVER_HTTP_ADDR" not in monitoring.grafana_env(3000)


def test_the_heads_metrics_settings():
    env = monitoring.head_env("http://p:9090", "http://g:3000", "http://127.0.0.1:3000", "ray")
    assert env["RAY_PROMETHEUS_HOST"] == "http://p:9090" and env["RAY_GRAFANA_HOST"] == "http://g:3000"
    assert env["RAY_GRAFANA_IFRAME_HOST"] == "http://127.0.0.1:3000" and env["RAY_PROMETHEUS_NAME"] == "Prometheus"
    assert monitoring.head_env("http://p:9090", "", "", "ray", grafana=False)["RAY_GRAFANA_HOST"] == "DISABLED"


def test_rays_own_dashboards_for_its_version():
    import ray

    dashboards = monitoring.ray_dashboards()
    assert set(dashboards) == set(monitoring.DASHBOARD_GENERATORS)
    default = json.loads(dashboards["default_grafana_dashboard.json"])
    assert default["uid"] == "rayDefaultDashboard"
    assert f"rayVersion:{ray.__version__}" in default["tags"]
    assert any("ray_io_cluster" in json.dumps(panel) for panel in default["panels"]), "filters on the cluster label"
    assert monitoring.ray_dashboards() == dashboards, "the same files on every run (no spurious change)"


def test_the_admin_password_is_in_no_file_content_only_its_digest():
    files = monitoring.monitoring_files("/p", "/g", {"global": {}}, "http://ray-prometheus:9090", True, "d" * 64,
                                        dashboards={"default_grafana_dashboard.json": "{}\n"})
    password = files["/g/admin_password"]
    assert password["secret"] and "content" not in password and password["expected"]["sha256"] == "d" * 64
    assert password["owner"] == 472 and password["mode"] == "0600"
    assert sorted(files) == sorted(monitoring.file_paths("/p", "/g", True)[:4] + ["/g/dashboards/default_grafana_dashboard.json"])


@pytest.mark.parametrize("images, parts", [
    (None, {"prometheus": True, "grafana": True}),
    ({"prom/prometheus:v2.53.3": {"Id": "p"}, "grafana/grafana:12.2.1": {"Id": "g"}}, {"prometheus": True, "grafana": True}),
    ({"prom/prometheus:v2.53.3": {"Id": "p"}, "grafana/grafana:12.2.1": None}, {"prometheus": True, "grafana": False}),
    ({"prom/prometheus:v2.53.3": None, "grafana/grafana:12.2.1": {"Id": "g"}}, {"prometheus": False, "grafana": False}),
])
def test_a_part_whose_image_is_not_there_is_left_out(images, parts):
    settings = {"ray_monitoring_enabled": True, "ray_monitoring_grafana_enabled": True,
                "ray_prometheus_image": "prom/prometheus:v2.53.3", "ray_grafana_image": "grafana/grafana:12.2.1"}
    assert monitoring.running_parts(settings, images) == parts
    assert monitoring.running_parts({**settings, "ray_monitoring_enabled": False}, images) == \
        {"prometheus": False, "grafana": False}
