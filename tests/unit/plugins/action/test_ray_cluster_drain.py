"""ray_cluster_drain: `runner.py drain HOST` from the control node. Tested here against a local stand-in of the head's
state API (FakeDashboard): the refusals before anything is drained, and the wait, which ends when the nodes left or at
the deadline, naming the nodes still busy then (the playbook removes their containers: Ray's drain only announces the
deadline). A real drain of a busy node is in tests/e2e/test_multihost.py."""

import time

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import cluster

from tests.unit.plugins.action.harness import TOKEN, FakeDashboard, Lab, node_row, run

def lab_at(dashboard, **variables):
    return Lab(heads=("head",), workers=("w1", "w2"),
               variables={"ray_dashboard_url": dashboard.url, "ray_cluster_drain_host": "w1", **variables})


ROWS = [node_row("ray-head@head", "n0", "10.0.0.11", head=True), node_row("ray-worker-1@w1", "n1", "10.0.0.12"),
        node_row("ray-worker-1@w2", "n2", "10.0.0.13")]


def test_the_plan_drains_the_hosts_own_nodes_with_the_deadline(token_file):
    with FakeDashboard(TOKEN, ROWS, tasks=[{"task_id": "t1"}, {"task_id": "t2"}], actors=[{"actor_id": "a1"}]) as dashboard:
        result, _ = run("ray_cluster_drain", lab_at(dashboard, ray_cluster_drain_deadline=7).task_vars("head"))
    assert result["tasks"] == 2 and result["actors"] == 1
    assert result["host"] == "w1" and result["node_ids"] == ["n1"] and result["containers"] == ["ray-worker-1"]
    [drain] = result["drain"]
    assert drain["container"] == "ray-worker-1" and drain["argv"][:2] == ["ray", "drain-node"]
    assert drain["argv"][drain["argv"].index("--node-id") + 1] == "n1"
    assert drain["argv"][drain["argv"].index("--deadline-remaining-seconds") + 1] == "7"
    # the removal after the deadline stops the container within Ray's teardown, not after another drain (the container
    # was created to drain for ray_cluster_drain_deadline at its stop)
    assert result["stop_timeout"] == cluster.TEARDOWN_SECONDS < cluster.DRAIN_DEADLINE


@pytest.mark.parametrize("host, message", [("head", "runs the head: draining it would stop the whole cluster"),
                                           ("w9", "w9 is no Ray host of the inventory"),
                                           ("", "no host to drain: set ray_cluster_drain_host")])
def test_a_host_that_cannot_be_drained_is_refused_before_anything(token_file, host, message):
    with FakeDashboard(TOKEN, ROWS) as dashboard:
        with pytest.raises(AnsibleActionFail, match=message):
            run("ray_cluster_drain", lab_at(dashboard, ray_cluster_drain_host=host).task_vars("head"))
        assert dashboard.requests == [], "nothing asked, nothing drained"


def test_the_wait_ends_as_soon_as_the_nodes_left(token_file):
    rows = [row for row in ROWS if row["node_id"] != "n1"]
    with FakeDashboard(TOKEN, rows) as dashboard:
        started = time.monotonic()
        result, _ = run("ray_cluster_drain", lab_at(dashboard, ray_cluster_drain_deadline=30).task_vars("head"),
                        {"stage": "wait", "node_ids": ["n1"]})
    assert result["still_alive"] == [] and time.monotonic() - started < 5


def test_a_node_still_busy_at_the_deadline_is_named_for_removal_not_waited_for_longer(token_file):
    with FakeDashboard(TOKEN, ROWS) as dashboard:
        started = time.monotonic()
        result, _ = run("ray_cluster_drain", lab_at(dashboard, ray_cluster_drain_deadline=1).task_vars("head"),
                        {"stage": "wait", "node_ids": ["n1"]})
        took = time.monotonic() - started
    assert result["still_alive"] == ["n1"]
    assert 1 <= took < 6, f"the wait ends at the deadline (1 s) plus its grace, not later: {took:.1f} s"
    assert not result.get("failed")
