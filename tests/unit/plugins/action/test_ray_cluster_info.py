"""ray_cluster_info: the cluster's nodes as the control node sees them, from the settings (the Jobs API's URL, the
token's file, the nodes of the plan) or the task's arguments, optionally waiting and watching the containers.

Tested here without a live cluster: the arguments and what the action derives from the settings and the inventory
(URL, token, expected nodes, the monitoring's URLs), its real HTTP client against a local stand-in of the head's state
API (FakeDashboard: the node list, token required), the refusals (token file missing, token rejected, nodes still
missing at the deadline) and the watch of the containers (their inspection answered by the test). What needs the live
cluster is in tests/e2e (test_site, test_faults, `status`): a real head's answers, nodes that join or do not, a
container that crash-loops for real."""

import pytest
from ansible.errors import AnsibleActionFail

from tests.unit.plugins.action.harness import (GRAFANA_IMAGE, PROMETHEUS_IMAGE, RAY_IMAGE, TOKEN, FakeDashboard, Lab,
                                               action, engine, node_row, plugin, run)

cluster_info = plugin("ray_cluster_info")


def lab_at(dashboard, heads=("head",), workers=("w1",), **kwargs):
    variables = dict(kwargs.pop("variables", {}), ray_dashboard_url=dashboard.url)
    return Lab(heads=heads, workers=workers, variables=variables, **kwargs)


ROWS = [node_row("ray-head@head", "n0", "10.0.0.11", head=True, cpus=8.0), node_row("ray-worker-1@w1", "n1", "10.0.0.12")]


def test_the_settings_say_where_to_ask_and_which_nodes_to_expect(token_file):
    with FakeDashboard(TOKEN, ROWS) as dashboard:
        result, calls = run("ray_cluster_info", lab_at(dashboard, engines={"head": None}).task_vars("head"))
    assert calls == []
    assert dashboard.requests == [{"path": "/api/v0/nodes?limit=10000&detail=true", "authorized": True}]
    assert result["changed"] is False and result["dashboard_url"] == dashboard.url
    assert result["expected"] == ["ray-head@head", "ray-worker-1@w1"]
    assert result["alive"] == ["ray-head@head", "ray-worker-1@w1"] and result["missing"] == []
    assert result["resources"] == {"CPU": 12.0}
    assert [node["node_name"] for node in result["nodes"]] == ["ray-head@head", "ray-worker-1@w1"]
    assert result["monitoring_urls"] == {"prometheus": "http://10.0.0.11:9090", "grafana": "http://10.0.0.11:3000"}, \
        "no look at the monitoring host in this run: the switches decide"


def test_a_hosts_own_nodes_and_a_skipped_hosts_nodes(token_file):
    rows = ROWS[:1]
    with FakeDashboard(TOKEN, rows) as dashboard:
        the_lab = lab_at(dashboard, workers=("w1", "w2"))
        result, _ = run("ray_cluster_info", the_lab.task_vars("w1"), {"nodes": "host"})
        assert result["expected"] == ["ray-worker-1@w1"] and result["missing"] == ["ray-worker-1@w1"]
        task_vars = the_lab.task_vars("head")
        task_vars["ansible_facts"]["preflight_unreachable"] = ["w2"]
        result, _ = run("ray_cluster_info", task_vars)
        assert result["expected"] == ["ray-head@head", "ray-worker-1@w1"], "w2 was skipped by the preflight"


def test_the_monitoring_urls_are_those_that_run_on_the_monitoring_host(token_file):
    with FakeDashboard(TOKEN, ROWS) as dashboard:
        the_lab = lab_at(dashboard, variables={"ray_monitoring_host": "w1", "ray_grafana_port": 3300},
                         engines={"w1": engine(images=[RAY_IMAGE, PROMETHEUS_IMAGE])})
        result, _ = run("ray_cluster_info", the_lab.task_vars("head"))
        assert result["monitoring_urls"] == {"prometheus": "http://10.0.0.12:9090"}, "Grafana's image could not be had"
        the_lab.engines["w1"] = engine(images=[RAY_IMAGE, PROMETHEUS_IMAGE, GRAFANA_IMAGE])
        result, _ = run("ray_cluster_info", the_lab.task_vars("head"))
        assert result["monitoring_urls"] == {"prometheus": "http://10.0.0.12:9090", "grafana": "http://10.0.0.12:3300"}
        the_lab.variables["ray_monitoring_enabled"] = False
        result, _ = run("ray_cluster_info", the_lab.task_vars("head"))
        assert result["monitoring_urls"] == {}


def test_the_default_url_is_the_heads_address_and_the_token_the_settings(tmp_path, monkeypatch):
    seen = {}

    def wait_for_nodes(url, token_file, expected, timeout, on_missing=None):
        seen.update(url=url, token_file=token_file, expected=expected, timeout=timeout, on_missing=on_missing)
        return {"nodes": [], "alive": [], "missing": list(expected), "resources": {}}

    monkeypatch.setattr(cluster_info, "wait_for_nodes", wait_for_nodes)
    lab = Lab(heads=["head"], host_variables={"head": {"ansible_connection": "local"}},
              variables={"ray_auth_token_file": str(tmp_path / "token"), "ray_dashboard_port": 18265})
    result, _ = run("ray_cluster_info", lab.task_vars("head"), {"wait_timeout": 30})
    assert seen == {"url": "http://127.0.0.1:18265", "token_file": str(tmp_path / "token"), "expected": ["ray-head@head"],
                    "timeout": 30, "on_missing": None}
    assert result["missing"] == ["ray-head@head"]


def test_each_argument_given_wins_and_the_settings_give_the_others(tmp_path, monkeypatch):
    seen = []

    def wait_for_nodes(url, token_file, expected, timeout, on_missing=None):
        seen.append((url, token_file, expected))
        return {"nodes": [], "alive": [], "missing": [], "resources": {}}

    monkeypatch.setattr(cluster_info, "wait_for_nodes", wait_for_nodes)
    lab = Lab(variables={"ray_auth_token_file": "/srv/token"})
    run("ray_cluster_info", lab.task_vars("head"), {"dashboard_url": "http://ray.lan:8265"})
    run("ray_cluster_info", lab.task_vars("head"), {"token_file": "/srv/other"})
    run("ray_cluster_info", lab.task_vars("head"), {"expected_nodes": []})
    assert seen == [("http://ray.lan:8265", "/srv/token", ["ray-head@head"]),
                    ("http://10.0.0.11:8265", "/srv/other", ["ray-head@head"]),
                    ("http://10.0.0.11:8265", "/srv/token", [])]


def test_given_url_token_and_nodes_need_no_settings(tmp_path, monkeypatch):
    token = tmp_path / "token"
    token.write_text(TOKEN)
    with FakeDashboard(TOKEN, ROWS) as dashboard:
        lab = Lab(variables={"ray_gcs_port": 70000})  # a value the settings check refuses: not even read
        result, _ = run("ray_cluster_info", lab.task_vars("head"),
                        {"dashboard_url": dashboard.url + "/", "token_file": str(token), "expected_nodes": ["x@y"]})
    assert result["expected"] == ["x@y"] and result["missing"] == ["x@y"]
    assert result["unexpected"] == ["ray-head@head", "ray-worker-1@w1"]
    assert result["monitoring_urls"] == {} and result["dashboard_url"] == dashboard.url + "/"


def test_a_missing_token_or_one_the_head_rejects_fails(token_file, tmp_path):
    with FakeDashboard(TOKEN, ROWS) as dashboard:
        lab = lab_at(dashboard, variables={"ray_auth_token_file": str(tmp_path / "none")})
        with pytest.raises(AnsibleActionFail, match="cannot read the Ray auth token: .*No such file"):
            run("ray_cluster_info", lab.task_vars("head"))
        assert dashboard.requests == [], "nothing sent without the token"
        token_file.write_text("b" * 64)
        with pytest.raises(AnsibleActionFail, match="the Ray dashboard rejected the auth token"):
            run("ray_cluster_info", lab_at(dashboard).task_vars("head"))


def test_nodes_still_missing_at_the_deadline_fail_with_what_was_seen(token_file, monkeypatch):
    def wait_for_nodes(url, token_file, expected, timeout, on_missing=None):
        raise cluster_info.DashboardError("Ray nodes not alive after 5 s: ray-worker-1@w1",
                                          summary={"alive": ["ray-head@head"], "missing": ["ray-worker-1@w1"]})

    monkeypatch.setattr(cluster_info, "wait_for_nodes", wait_for_nodes)
    with FakeDashboard(TOKEN) as dashboard:
        with pytest.raises(AnsibleActionFail, match="Ray nodes not alive after 5 s") as failure:
            run("ray_cluster_info", lab_at(dashboard).task_vars("head"), {"wait_timeout": 5})
    assert failure.value.result["missing"] == ["ray-worker-1@w1"] and failure.value.result["alive"] == ["ray-head@head"]


def test_a_refused_setting_fails_naming_the_host():
    with pytest.raises(AnsibleActionFail, match="Settings refused for host head: ray_prometheus_port"):
        run("ray_cluster_info", Lab(variables={"ray_prometheus_port": 0}).task_vars("head"))


# ---------------------------------------------------------------- watching the containers of missing nodes

class Clock:
    def __init__(self):
        self.now = 100.0

    def monotonic(self):
        return self.now


def watcher(monkeypatch, inspections, expected=("ray-head@head", "ray-worker-1@head"), logs_tail=5):
    """The action's on_missing callback for `expected`, with a clock the test moves and the containers' inspection
    answered from `inspections` (one module result per look)."""
    clock = Clock()
    monkeypatch.setattr(cluster_info, "time", clock)
    instance = action("ray_cluster_info", module_results=inspections)
    on_missing = instance._watcher(list(expected), {"inventory_hostname": "head"}, logs_tail)
    return clock, instance._execute_module.calls, on_missing


def inspected(**containers):
    return {"changed": False, "inspected": containers}


def test_the_watch_waits_before_its_first_look_and_between_looks(monkeypatch):
    running = {"State": {"Status": "running"}, "RestartCount": 0}
    clock, calls, on_missing = watcher(monkeypatch, inspected(**{"ray-head": running, "ray-worker-1": running}))
    summary = {"missing": ["ray-worker-1@head"], "alive": ["ray-head@head"]}
    clock.now += 2.9
    on_missing(summary)
    assert calls == [], "a container just started is not a node yet"
    clock.now += 0.2
    on_missing(summary)
    assert calls == [{"module_name": "ray_docker.cluster.docker_engine_info",
                      "module_args": {"info": False, "inspect": ["ray-head", "ray-worker-1"], "logs_tail": 0}}]
    clock.now += 1.9
    on_missing(summary)
    assert len(calls) == 1, "one look every 2 s"
    clock.now += 0.2
    on_missing(summary)
    assert len(calls) == 2


def test_a_container_that_exited_stops_the_wait_with_the_end_of_its_log(monkeypatch):
    exited = {"State": {"Status": "exited", "ExitCode": 1}, "RestartCount": 0}
    clock, calls, on_missing = watcher(monkeypatch, [
        inspected(**{"ray-head": {"State": {"Status": "running"}}, "ray-worker-1": exited}),
        inspected(**{"ray-worker-1": dict(exited, logs="\x1b[31mboom\x1b[0m\nValueError: bad address\n")})])
    clock.now += 10
    with pytest.raises(cluster_info.DashboardError) as stop:
        on_missing({"missing": ["ray-worker-1@head"], "alive": ["ray-head@head"]})
    message = str(stop.value)
    assert message.startswith("ray-worker-1@head: its container ray-worker-1 on head exited with code 1")
    assert "    boom\n    ValueError: bad address" in message
    assert calls[1]["module_args"] == {"info": False, "inspect": ["ray-worker-1"], "logs_tail": 5}
    assert stop.value.summary == {"missing": ["ray-worker-1@head"], "alive": ["ray-head@head"]}


def test_a_failed_container_of_a_node_that_is_not_missing_and_an_engine_that_does_not_answer_are_waited_for(monkeypatch):
    exited = {"State": {"Status": "exited", "ExitCode": 137}, "RestartCount": 0}
    clock, calls, on_missing = watcher(monkeypatch, [inspected(**{"ray-head": exited, "ray-worker-1": {"State": {}}}),
                                                     {"failed": True, "msg": "engine restarting"}])
    clock.now += 10
    on_missing({"missing": ["ray-worker-1@head"]})  # the head exited, but the head is not what is missing
    clock.now += 10
    on_missing({"missing": ["ray-head@head"]})  # the engine does not answer: keep waiting
    assert len(calls) == 2


def test_watch_true_hands_the_watcher_to_the_wait(token_file, monkeypatch):
    seen = {}

    def wait_for_nodes(url, token_file, expected, timeout, on_missing=None):
        seen["on_missing"] = on_missing
        return {"nodes": [], "alive": list(expected), "missing": [], "resources": {}}

    monkeypatch.setattr(cluster_info, "wait_for_nodes", wait_for_nodes)
    run("ray_cluster_info", Lab().task_vars("head"), {"watch": True, "nodes": "host", "wait_timeout": 60})
    assert callable(seen["on_missing"])
