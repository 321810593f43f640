"""ray_monitoring_plan: Prometheus's and Grafana's folders, files, password and containers on the monitoring host,
from the run's snapshot; elsewhere, and when switched off, the monitoring containers to remove; with `down`, what the
role owns. Ray's Grafana dashboards come from a cache file a test writes, so the control node's Ray is not imported
(except where the making of that cache is what is tested, with the generator replaced)."""

import hashlib
import json
import os

import pytest
import yaml
from ansible.errors import AnsibleActionFail

from tests.unit.plugins.action.harness import (GRAFANA_IMAGE, PROMETHEUS_IMAGE, RAY_IMAGE, REDIS_IMAGE, Lab, engine,
                                               host_facts, plugin, run, running)

DASHBOARDS = {"default_grafana_dashboard.json": '{"title": "Default"}\n'}
ALL = [RAY_IMAGE, REDIS_IMAGE, PROMETHEUS_IMAGE, GRAFANA_IMAGE]


@pytest.fixture(autouse=True)
def dashboards_cache(home):
    """Ray 2.60.0's dashboards, as an earlier run cached them."""
    folder = home / ".cache" / "ray-docker" / "grafana-dashboards"
    folder.mkdir(parents=True)
    (folder / "ray-2.60.0.json").write_text(json.dumps(DASHBOARDS))
    return folder


def plan(lab, host="head", args=None, check_mode=False):
    result, calls = run("ray_monitoring_plan", lab.task_vars(host), args, check_mode=check_mode)
    assert calls == []
    return result


def spec_named(result, name):
    return next(spec for spec in result["run"] if spec["name"] == name)


def applied(result, images=ALL, password_sha256=None):
    """The monitoring host's snapshot once a run applied `result`."""
    files = {path: {"exists": True, "directory": True} for path in result["dirs"]}
    files.update({entry["dest"]: entry["expected"] for entry in result["files"]})
    if result["password"]:
        files[result["password"]["dest"]] = {"exists": True, "directory": False, "mode": "0600", "uid": 472, "gid": 472,
                                             "sha256": password_sha256}
    return engine(images=list(images), files=files, containers={spec["name"]: running(spec) for spec in result["run"]})


def test_one_host_plans_both_parts_their_files_password_and_containers(home):
    result = plan(Lab(engines={"head": engine(images=ALL)}))
    assert result["engine_answers"] is True and result["runs_here"] is True and result["has_work"] is True
    assert result["parts"] == {"prometheus": True, "grafana": True}
    assert result["dirs"] == ["/etc/ray-docker/ray/prometheus", "/etc/ray-docker/ray/grafana",
                              "/etc/ray-docker/ray/grafana/provisioning", "/etc/ray-docker/ray/grafana/provisioning/datasources",
                              "/etc/ray-docker/ray/grafana/provisioning/dashboards", "/etc/ray-docker/ray/grafana/dashboards"]
    files = {entry["dest"]: entry for entry in result["files"]}
    assert sorted(files) == ["/etc/ray-docker/ray/grafana/dashboards/default_grafana_dashboard.json",
                             "/etc/ray-docker/ray/grafana/provisioning/dashboards/ray.yml",
                             "/etc/ray-docker/ray/grafana/provisioning/datasources/ray.yml",
                             "/etc/ray-docker/ray/prometheus/prometheus.yml"]
    assert files["/etc/ray-docker/ray/grafana/dashboards/default_grafana_dashboard.json"]["content"] == DASHBOARDS[
        "default_grafana_dashboard.json"], "Ray's dashboards for ray_version, from the cache"
    prometheus = yaml.safe_load(files["/etc/ray-docker/ray/prometheus/prometheus.yml"]["content"])
    assert prometheus["global"]["scrape_interval"] == "10s"
    assert prometheus["scrape_configs"][0]["static_configs"][0] == {"targets": ["ray-head:6384"],
                                                                    "labels": {"ray_io_cluster": "ray"}}
    assert prometheus["scrape_configs"][1]["static_configs"][0]["targets"] == ["ray-head:44227", "ray-head:44217"]
    datasource = yaml.safe_load(files["/etc/ray-docker/ray/grafana/provisioning/datasources/ray.yml"]["content"])
    assert datasource["datasources"][0]["url"] == "http://ray-prometheus:9090"
    password_file = f"{home}/.config/ray-docker/ray/grafana_admin_password"
    assert result["password"] == {"source": password_file, "dest": "/etc/ray-docker/ray/grafana/admin_password", "owner": 472}
    assert len(open(password_file).read().strip()) == 32 and os.stat(password_file).st_mode & 0o077 == 0
    assert [spec["name"] for spec in result["run"]] == ["ray-prometheus", "ray-grafana"]
    prometheus_spec = spec_named(result, "ray-prometheus")
    assert prometheus_spec["image"] == PROMETHEUS_IMAGE and prometheus_spec["network_mode"] == "ray"
    assert prometheus_spec["published_ports"] == ["0.0.0.0:9090:9090"]
    assert "--storage.tsdb.retention.time=15d" in prometheus_spec["command"]
    assert prometheus_spec["labels"]["ray-docker.image-id"].startswith("sha256:")
    assert result["prometheus_config"] == "/etc/ray-docker/ray/prometheus/prometheus.yml"
    assert result["prometheus_container"] == "ray-prometheus"
    assert result["ready_urls"] == ["http://127.0.0.1:9090/-/ready", "http://127.0.0.1:3000/api/health"]
    assert result["remove"] == []


def test_a_monitoring_host_already_as_planned_has_nothing_to_do(home):
    first = plan(Lab(engines={"head": engine(images=ALL)}))
    digest = hashlib.sha256(open(first["password"]["source"]).read().strip().encode()).hexdigest()
    second = plan(Lab(engines={"head": applied(first, password_sha256=digest)}))
    assert second["dirs"] == [] and second["files"] == [] and second["password"] is None and second["run"] == []
    assert second["remove"] == [] and second["has_work"] is False and second["runs_here"] is True
    assert second["ready_urls"] == first["ready_urls"] and second["prometheus_config"] == first["prometheus_config"]


def test_grafana_without_its_image_is_left_out():
    result = plan(Lab(engines={"head": engine(images=[RAY_IMAGE, REDIS_IMAGE, PROMETHEUS_IMAGE])}))
    assert result["parts"] == {"prometheus": True, "grafana": False}
    assert result["dirs"] == ["/etc/ray-docker/ray/prometheus"]
    assert [entry["dest"] for entry in result["files"]] == ["/etc/ray-docker/ray/prometheus/prometheus.yml"]
    assert result["password"] is None and [spec["name"] for spec in result["run"]] == ["ray-prometheus"]
    assert result["ready_urls"] == ["http://127.0.0.1:9090/-/ready"]


def test_a_lab_scrapes_node_addresses_skips_unreachable_hosts_and_binds_everywhere():
    lab = Lab(heads=["head"], workers=["w1", "w2"], variables={"ray_monitoring_host": "w1",
                                                               "ray_monitoring_scrape_interval": "30s",
                                                               "ray_monitoring_retention": "7d"},
              host_variables={"w2": {"ray_node_ip_address": "192.168.5.13"}},
              engines={"w1": engine(images=[RAY_IMAGE, PROMETHEUS_IMAGE, GRAFANA_IMAGE])})
    task_vars = lab.task_vars("w1")
    task_vars["ansible_facts"]["preflight_unreachable"] = ["w2"]
    result, _ = run("ray_monitoring_plan", task_vars)
    prometheus = yaml.safe_load(next(entry["content"] for entry in result["files"] if entry["dest"].endswith("prometheus.yml")))
    assert prometheus["global"]["scrape_interval"] == "30s"
    assert prometheus["scrape_configs"][0]["static_configs"][0]["targets"] == ["10.0.0.11:6384", "10.0.0.12:6384"]
    assert prometheus["scrape_configs"][1]["static_configs"][0]["targets"] == ["10.0.0.11:44227", "10.0.0.11:44217"]
    spec = spec_named(result, "ray-prometheus")
    assert spec["network_mode"] == "host" and "--web.listen-address=0.0.0.0:9090" in spec["command"]
    assert "--storage.tsdb.retention.time=7d" in spec["command"]
    datasource = next(entry["content"] for entry in result["files"] if entry["dest"].endswith("datasources/ray.yml"))
    assert "url: http://127.0.0.1:9090" in datasource
    # the monitoring moved away from the head, which still has the images: nothing runs there any more
    stray = engine(images=ALL, containers={"ray-grafana": {"State": "running", "Labels": {"ray-docker.role": "monitoring"}},
                               "ray-head": {"State": "running", "Labels": {"ray-docker.role": "head"}}})
    elsewhere = plan(Lab(heads=["head"], workers=["w1", "w2"], variables={"ray_monitoring_host": "w1"},
                         engines={"head": stray}), "head")
    assert elsewhere["runs_here"] is False and elsewhere["parts"] == {"prometheus": False, "grafana": False}
    assert elsewhere["remove"] == ["ray-grafana"] and elsewhere["run"] == [] and elsewhere["has_work"] is True
    assert elsewhere["prometheus_config"] == "" and elsewhere["ready_urls"] == []


def test_a_monitoring_host_on_the_control_node_binds_loopback_and_the_bind_address_wins():
    lab = Lab(heads=["head"], workers=["w1"], host_variables={"head": {"ansible_connection": "local"}},
              engines={"head": engine(images=ALL)})
    assert "--web.listen-address=127.0.0.1:9090" in spec_named(plan(lab), "ray-prometheus")["command"]
    lab = Lab(heads=["head"], workers=["w1"], variables={"ray_monitoring_bind_address": "10.0.0.11"},
              engines={"head": engine(images=ALL)})
    assert spec_named(plan(lab), "ray-grafana")["env"]["GF_SERVER_HTTP_ADDR"] == "10.0.0.11"


def test_monitoring_switched_off_removes_its_containers():
    stray = engine(images=ALL, containers={
        "ray-prometheus": {"State": "running", "Labels": {"ray-docker.role": "monitoring"}}})
    result = plan(Lab(variables={"ray_monitoring_enabled": False}, engines={"head": stray}))
    assert result["runs_here"] is False and result["remove"] == ["ray-prometheus"] and result["has_work"] is True
    assert result["dirs"] == [] and result["files"] == [] and result["password"] is None


def test_an_engine_that_does_not_answer_fails_except_in_check_mode():
    lab = Lab(engines={"head": engine(answers=False)})
    with pytest.raises(AnsibleActionFail, match="The Docker engine on head does not answer"):
        plan(lab)
    assert plan(lab, check_mode=True) == {"changed": False, "engine_answers": False, "has_work": True}


def test_down_lists_the_containers_and_with_purge_the_volumes_of_the_monitoring_host():
    snapshot = engine(containers={"ray-prometheus": {"Labels": {"ray-docker.role": "monitoring"}},
                                  "ray-grafana": {"Labels": {"ray-docker.role": "monitoring"}},
                                  "ray-head": {"Labels": {"ray-docker.role": "head"}}},
                      volumes={"ray-prometheus-data": {}, "ray-grafana-data": {}})
    snapshot["volumes"] = {"ray-prometheus-data": {"Name": "x"}, "ray-grafana-data": {"Name": "y"}}
    kept = plan(Lab(engines={"head": snapshot}), args={"down": True})
    assert kept == {"changed": False, "down": {"containers": ["ray-grafana", "ray-prometheus"], "volumes": []}}
    purged = plan(Lab(variables={"ray_monitoring_purge": True}, engines={"head": snapshot}), args={"down": True})
    assert purged["down"]["volumes"] == ["ray-prometheus-data", "ray-grafana-data"]
    del snapshot["volumes"]["ray-grafana-data"]
    lab = Lab(heads=["head"], workers=["w1"], variables={"ray_monitoring_purge": True, "ray_monitoring_host": "w1"},
              engines={"head": snapshot, "w1": snapshot})
    assert plan(lab, "w1", {"down": True})["down"]["volumes"] == ["ray-prometheus-data"], "only volumes that exist"
    assert plan(lab, "head", {"down": True})["down"]["volumes"] == [], "not the monitoring host: its volumes stay"


def test_the_dashboards_are_made_once_per_ray_version_and_cached(dashboards_cache, monkeypatch):
    module = plugin("ray_monitoring_plan")
    made = []
    monkeypatch.setattr(module.monitoring, "ray_dashboards", lambda: made.append(1) or {"x.json": "{}\n"})
    assert module.dashboards("2.60.0") == DASHBOARDS and made == [], "the cached file"
    assert module.dashboards("2.61.0") == {"x.json": "{}\n"} and made == [1]
    assert json.loads((dashboards_cache / "ray-2.61.0.json").read_text()) == {"x.json": "{}\n"}
    assert module.dashboards("2.61.0") == {"x.json": "{}\n"} and made == [1], "made once"
    (dashboards_cache / "ray-2.62.0.json").write_text("{not json")
    assert module.dashboards("2.62.0") == {"x.json": "{}\n"} and made == [1, 1], "a broken cache is made again"
    assert not [name for name in os.listdir(dashboards_cache) if name.endswith(".tmp")]


def test_a_password_file_of_the_wrong_length_fails(tmp_path):
    path = tmp_path / "grafana"
    path.write_text("short\n")
    lab = Lab(variables={"ray_monitoring_grafana_password_file": str(path)}, engines={"head": engine(images=ALL)})
    with pytest.raises(AnsibleActionFail, match="cannot prepare Grafana's admin password on the control node"):
        plan(lab)
    lab = Lab(variables={"ray_monitoring_grafana_password_file": str(path), "ray_monitoring_grafana_enabled": False},
              engines={"head": engine(images=ALL)})
    assert plan(lab)["password"] is None, "without Grafana its password is not read"


def test_without_a_snapshot_the_host_is_read_once():
    read = {"ansible_facts": {"ray_host": host_facts(), "ray_snapshot": engine(images=ALL)}}
    result, calls = run("ray_monitoring_plan", Lab(engines={"head": None}).task_vars("head"), module_results=read)
    assert len(calls) == 1 and result["ansible_facts"] == read["ansible_facts"] and result["runs_here"] is True
