"""The Ray check (plugins/module_utils/check.py) on the smallest cluster that moves objects: two nodes."""

import json

from ansible_collections.ray_docker.cluster.plugins.module_utils import check


def report(names, transfers_ok=True):
    nodes = [{"node_name": name, "ray_version": "2.60.0", "python_version": "3.11.2", "task": True, "actor": True}
             for name in names]
    transfers = [{"from": a, "to": b, "ok": transfers_ok} for a, b in zip(names, names[1:] + names[:1])] if len(names) > 1 else []
    return {"nodes": nodes, "transfers": transfers, "errors": [], "seconds": 1.0}


def test_a_failed_transfer_between_two_nodes_fails_the_check():
    names = ["ray-head@a", "ray-worker-1@b"]
    assert check.evaluate(report(names), names, "2.60.0")["passed"]
    summary = check.evaluate(report(names, transfers_ok=False), names, "2.60.0")
    assert not summary["passed"] and summary["reasons"] == ["an object transfer between nodes failed"]


def test_a_single_node_has_no_transfer_to_make():
    assert check.evaluate(report(["ray-head@a"]), ["ray-head@a"], "2.60.0")["passed"]


def test_a_node_of_a_skipped_host_is_left_out_not_pinned_a_task(tmp_path, monkeypatch):
    """A host switched off: Ray lists its node alive until its health check gives up (about 30 s). The check pins no
    task to it (one would wait that long) and names it as left out; the other nodes pass."""
    from tests.unit.plugins.action.harness import TOKEN, FakeDashboard, node_row

    token = tmp_path / "auth_token"
    token.write_text(TOKEN)
    rows = [node_row("ray-head@head", "n0", "10.0.0.11", head=True), node_row("ray-worker-1@w1", "n1", "10.0.0.12"),
            node_row("ray-worker-1@w2", "n2", "10.0.0.13")]
    pinned = []

    def run_job(url, script, version, timeout, targets, asked=None):
        pinned.append(dict(targets))
        return "job-1", "SUCCEEDED", check.RESULT_MARKER + json.dumps(report(list(targets.values()))) + "\n"

    monkeypatch.setattr(check, "run_job", run_job)
    with FakeDashboard(TOKEN, rows) as dashboard:
        summary = check.run_check(dashboard.url, str(token), ["ray-head@head", "ray-worker-1@w1"], "2.60.0", "/job.py",
                                  skipped=["ray-worker-1@w2"])
    assert pinned == [{"n0": "ray-head@head", "n1": "ray-worker-1@w1"}]
    assert summary["passed"] and summary["left_out"] == ["ray-worker-1@w2"] and summary["unexpected"] == []
