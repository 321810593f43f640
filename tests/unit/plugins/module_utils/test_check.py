"""Reading the dashboard's node list and judging the check job's report."""

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import check, dashboard

ROWS = [
    {"node_name": "ray-head@h", "node_id": "1", "node_ip": "10.0.0.1", "state": "ALIVE", "is_head_node": True,
     "resources_total": {"CPU": 2.0, "memory": 4e9, "node:10.0.0.1": 1.0, "node:__internal_head__": 1.0}},
    {"node_name": "ray-worker-1@h", "node_id": "2", "node_ip": "10.0.0.2", "state": "ALIVE",
     "resources_total": {"CPU": 2.0, "memory": 4e9}},
    {"node_name": "ray-worker-2@h", "node_id": "3", "node_ip": "10.0.0.3", "state": "DEAD", "resources_total": {"CPU": 2.0}},
    {"node_name": "ray-worker-1@h", "node_id": "0", "node_ip": "10.0.0.9", "state": "DEAD", "resources_total": {}},
]


def test_summarize_nodes():
    summary = dashboard.summarize_nodes(ROWS, ["ray-head@h", "ray-worker-1@h", "ray-worker-2@h"])
    assert summary["alive"] == ["ray-head@h", "ray-worker-1@h"]
    assert summary["missing"] == ["ray-worker-2@h"]
    assert summary["dead"] == ["ray-worker-2@h"], "a restarted node's old registration is not dead"
    assert summary["resources"] == {"CPU": 4.0, "memory": 8e9}
    assert summary["nodes"][0]["is_head_node"] and "node:10.0.0.1" not in summary["nodes"][0]["resources_total"]


def test_read_token(tmp_path):
    token = tmp_path / "token"
    token.write_text("abc123\n")
    assert dashboard.read_token(str(token)) == "abc123"
    token.write_text("\n")
    with pytest.raises(dashboard.DashboardError, match="is empty"):
        dashboard.read_token(str(token))


def good_report(names, version="2.60.0", python="3.11.2"):
    nodes = [{"node_name": n, "ray_version": version, "python_version": python, "task": True, "actor": True} for n in names]
    transfers = [{"from": a, "to": b, "ok": True} for a, b in zip(names, names[1:] + names[:1])]
    return {"nodes": nodes, "transfers": transfers, "errors": [], "seconds": 1.2}


def test_parse_job_report():
    logs = 'noise\nRAY_CHECK_RESULT {"nodes": [], "errors": ["x"]}\nmore noise\n'
    assert check.parse_job_report(logs) == {"nodes": [], "errors": ["x"]}
    assert check.parse_job_report("Traceback ...") is None


def test_parse_job_report_waits_for_the_whole_line():
    """The check takes the report while the job still runs, so a line being written is not a report yet."""
    line = 'RAY_CHECK_RESULT {"nodes": [], "errors": []}'
    assert check.parse_job_report("noise\n" + line[:30]) is None
    assert check.parse_job_report("noise\n" + line + "\n") == {"nodes": [], "errors": []}


def test_evaluate_passes_a_matching_report():
    names = ["a", "b", "c"]
    summary = check.evaluate(good_report(names), names, "2.60.0")
    assert summary["passed"] and summary["reasons"] == []
    assert (summary["nodes_expected"], summary["nodes_alive"]) == (3, 3)


@pytest.mark.parametrize("mutate, needle", [
    (lambda r: r["nodes"].pop(), "expected nodes not alive: c"),
    (lambda r: r["nodes"].append(dict(r["nodes"][0], node_name="d")), "nodes not in the inventory: d"),
    (lambda r: r["nodes"][1].update(ray_version="2.59.0"), "b runs Ray 2.59.0"),
    (lambda r: r["nodes"][2].update(python_version="3.12.1"), "different Python versions"),
    (lambda r: r["nodes"][0].update(actor=False), "actor failed on a"),
    (lambda r: r["nodes"][0].update(task=False), "pinned task failed on a"),
    (lambda r: r["transfers"][0].update(ok=False), "object transfer"),
    (lambda r: r["errors"].append("task on b failed: boom"), "task on b failed: boom"),
])
def test_evaluate_fails_with_the_reason(mutate, needle):
    names = ["a", "b", "c"]
    report = good_report(names)
    mutate(report)
    summary = check.evaluate(report, names, "2.60.0")
    assert not summary["passed"]
    assert any(needle in reason for reason in summary["reasons"]), summary["reasons"]


def test_a_verdict_is_reused_only_for_the_very_nodes_it_verified(tmp_path):
    path = tmp_path / "cluster" / "check_verdict.json"
    key = check.verdict_key(["n2", "n1"], ["b", "a"], "2.60.0")
    check.record_verdict(str(path), key, {"passed": True, "nodes_alive": 2})
    assert (path.stat().st_mode & 0o777) == 0o600
    reused = check.reusable_verdict(str(path), check.verdict_key(["n1", "n2"], ["a", "b"], "2.60.0"))
    assert reused["check"]["nodes_alive"] == 2 and reused["verified_at"]
    for other in (check.verdict_key(["n1", "n3"], ["a", "b"], "2.60.0"),   # a node restarted
                  check.verdict_key(["n1", "n2"], ["a", "b", "c"], "2.60.0"),
                  check.verdict_key(["n1", "n2"], ["a", "b"], "2.61.0")):
        assert check.reusable_verdict(str(path), other) is None
    check.forget_verdict(str(path))
    assert check.reusable_verdict(str(path), key) is None
    check.forget_verdict(str(path))  # forgetting twice is fine


def test_a_failed_or_broken_verdict_is_never_reused(tmp_path):
    path = tmp_path / "verdict.json"
    key = check.verdict_key(["n1"], ["a"], "2.60.0")
    check.record_verdict(str(path), key, {"passed": False})
    assert check.reusable_verdict(str(path), key) is None
    path.write_text("{not json")
    assert check.reusable_verdict(str(path), key) is None
