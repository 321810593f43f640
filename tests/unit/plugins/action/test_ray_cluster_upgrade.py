"""ray_cluster_upgrade: the swap of nodes that run another image, from the control node. Tested here against a local
stand-in of the head's state and Jobs APIs (FakeDashboard) with each host's plan as roles/ray_cluster/tasks/main.yml
registers it: `prepare` (refusal when a host lost its new image, which nodes to drain and remove, the old workers'
stop timeout) and `judge` (roll back or not, the downtime). A real upgrade, rollback and drain of busy workers are in
tests/e2e/test_multihost.py."""

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import cluster

from tests.unit.plugins.action.harness import TOKEN, FakeDashboard, Lab, node_row, run

OLD = "rayproject/ray:2.59.0-py311-cpu"
ROWS = [node_row("ray-head@head", "n0", "10.0.0.11", head=True), node_row("ray-worker-1@w1", "n1", "10.0.0.12"),
        node_row("ray-worker-1@w2", "n2", "10.0.0.13")]


def replaced(container, role, host):
    """A row of a host's ray_cluster_plan.upgrade.replace (plugins/module_utils/upgrade.py replacements)."""
    return {"container": container, "role": role, "image": OLD, "image_id": "sha256:old", "version": "2.59.0",
            "node_name": f"{container}@{host}"}


def lab_at(dashboard, **variables):
    plans = {"head": [replaced("ray-head", "head", "head")], "w1": [replaced("ray-worker-1", "worker", "w1")],
             "w2": [replaced("ray-worker-1", "worker", "w2")]}
    return Lab(heads=("head",), workers=("w1", "w2"),
               variables={"ray_dashboard_url": dashboard.url, **variables},
               host_variables={host: {"ray_cluster_plan": {"upgrade": {"replace": rows}}} for host, rows in plans.items()})


def test_prepare_names_the_workers_to_drain_the_nodes_to_remove_and_their_stop_timeouts(token_file):
    with FakeDashboard(TOKEN, ROWS) as dashboard:
        result, _ = run("ray_cluster_upgrade", lab_at(dashboard, ray_cluster_drain_deadline=7).task_vars("head"),
                        args={"stage": "prepare"})
    assert result["from"] == ["2.59.0"] and result["old_images"] == [OLD] and result["hosts"] == ["head", "w1", "w2"]
    assert result["jobs_waited_for"] == [] and result["jobs_stopped"] == [] and result["old_cluster_down"] == ""
    assert result["drain"]["head"] == [], "the head is removed, not drained"
    for host, node_id in (("w1", "n1"), ("w2", "n2")):
        [drain] = result["drain"][host]
        assert drain["container"] == "ray-worker-1" and drain["argv"][:2] == ["ray", "drain-node"]
        assert drain["argv"][drain["argv"].index("--node-id") + 1] == node_id
        assert drain["argv"][drain["argv"].index("--deadline-remaining-seconds") + 1] == "7"
        assert result["remove"][host] == {"workers": ["ray-worker-1"], "heads": []}
    assert result["remove"]["head"] == {"workers": [], "heads": ["ray-head"]}
    assert result["previous"] == {"image": OLD, "ray_version": "2.59.0"}
    # `docker stop` of an old worker: this run's deadline, then Ray's teardown (not the deadline of its creation); of
    # the old head: its teardown only
    assert result["stop_timeouts"] == {"workers": 7 + cluster.TEARDOWN_SECONDS, "heads": cluster.TEARDOWN_SECONDS}


def test_prepare_stops_nothing_when_a_host_lost_its_new_image(token_file):
    with FakeDashboard(TOKEN, ROWS) as dashboard:
        task_vars = lab_at(dashboard).task_vars("head")
        task_vars["ansible_play_hosts"] = ["head", "w1"]  # w2's pull failed: it left the play
        with pytest.raises(AnsibleActionFail, match="w2 could not get the new image .*nothing was stopped"):
            run("ray_cluster_upgrade", task_vars, args={"stage": "prepare"})
        assert not [request for request in dashboard.requests if "drain" in request["path"]]


@pytest.mark.parametrize("alive, check, cause", [
    ({"w1": {"failed": True, "msg": "ray-worker-1 keeps exiting"}}, {"check": {"passed": True}},
     "w1: ray-worker-1 keeps exiting"),
    ({}, {"failed": True, "msg": "the check job failed"}, "the check job failed"),
    ({}, {"check": {"passed": False}}, "the check did not pass"),
])
def test_judge_rolls_back_when_new_nodes_did_not_come_or_the_check_failed(token_file, alive, check, cause):
    with FakeDashboard(TOKEN, ROWS) as dashboard:
        result, _ = run("ray_cluster_upgrade", lab_at(dashboard).task_vars("head"),
                        args={"stage": "judge", "alive": alive, "check": check,
                              "marks": {"stopping": 100.0, "stopped": 101.0, "started": 103.0}})
    assert result["rollback"] is True and result["cause"] == cause
    assert result["downtime_seconds"] is None, "not proven: no downtime to time"


def test_judge_keeps_a_proven_cluster_and_times_its_downtime(token_file):
    with FakeDashboard(TOKEN, ROWS) as dashboard:
        result, _ = run("ray_cluster_upgrade", lab_at(dashboard).task_vars("head"),
                        args={"stage": "judge", "alive": {"w1": {"failed": False}}, "check": {"check": {"passed": True}},
                              "marks": {"stopping": 100.0, "stopped": 101.5, "started": 103.0, "alive": 110.0,
                                        "proven": 114.3}})
    assert result["rollback"] is False and result["cause"] == ""
    assert result["downtime_seconds"] == 14.3
    assert list(result["steps"]) == ["stopped", "started", "alive", "proven"]
