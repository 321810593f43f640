"""The Ray check (plugins/module_utils/check.py) on the smallest cluster that moves objects: two nodes."""

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
