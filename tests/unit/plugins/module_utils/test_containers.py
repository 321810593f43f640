"""Stale registrations and crash-looping containers (plugins/module_utils/dashboard.py, containers.py), and the
engine's log frames (docker_engine_api.py)."""

from ansible_collections.ray_docker.cluster.plugins.module_utils import containers, dashboard, docker_engine_api


def row(name, node_id, state="ALIVE", start=0, cpu=1.0, head=False):
    return {"node_name": name, "node_id": node_id, "state": state, "start_time_ms": start, "is_head_node": head,
            "node_ip": "172.18.0.9", "resources_total": {"CPU": cpu, "node:172.18.0.9": 1.0}}


def test_a_restarted_node_counts_once_and_its_old_registration_is_stale():
    rows = [row("ray-head@h", "h1", head=True, start=1), row("ray-worker-1@h", "w1", start=2),
            row("ray-worker-2@h", "old", start=3), row("ray-worker-2@h", "new", start=90)]
    summary = dashboard.summarize_nodes(rows, ["ray-head@h", "ray-worker-1@h", "ray-worker-2@h"])
    assert summary["alive"] == ["ray-head@h", "ray-worker-1@h", "ray-worker-2@h"] and summary["missing"] == []
    assert summary["stale"] == ["ray-worker-2@h"]
    assert summary["resources"]["CPU"] == 3.0, "the stale registration's CPUs are not counted"
    assert summary["targets"] == {"h1": "ray-head@h", "w1": "ray-worker-1@h", "new": "ray-worker-2@h"}
    assert len(summary["nodes"]) == 3


def test_a_name_whose_newest_registration_is_dead_is_missing_not_alive():
    rows = [row("ray-worker-1@h", "old", start=1), row("ray-worker-1@h", "new", state="DEAD", start=5)]
    summary = dashboard.summarize_nodes(rows, ["ray-worker-1@h"])
    assert summary["missing"] == ["ray-worker-1@h"] and summary["dead"] == ["ray-worker-1@h"]
    assert summary["targets"] == {}


def test_a_restarted_head_with_fault_tolerance_counts_once():
    rows = [row("ray-head@h", "a", state="DEAD", start=1, head=True), row("ray-head@h", "b", start=9, head=True)]
    summary = dashboard.summarize_nodes(rows, ["ray-head@h"])
    assert summary["alive"] == ["ray-head@h"] and summary["dead"] == [] and summary["stale"] == []


def inspected(status="running", restarts=0, restarting=False, code=0):
    return {"State": {"Status": status, "Restarting": restarting, "ExitCode": code}, "RestartCount": restarts}


def test_a_container_that_exits_or_loops_is_a_failure_and_two_restarts_are_not():
    watch = containers.ContainerWatch(["a", "b", "c", "d"])
    first = {"a": inspected(), "b": inspected(restarts=5), "c": inspected(), "d": None}
    assert watch.failures(first) == [("d", "does not exist")]
    later = {"a": inspected(restarts=2), "b": inspected(restarts=5), "c": inspected(status="exited", code=1),
             "d": inspected()}
    assert [name for name, _ in watch.failures(later)] == ["c"], "two restarts (a) are tolerated"
    looping = {"a": inspected(restarts=3), "b": inspected(status="restarting", restarts=7, restarting=True, code=1),
               "c": inspected(), "d": inspected()}
    problems = dict(watch.failures(looping))
    assert set(problems) == {"a", "b"} and "last exit code 1" in problems["b"]


def test_the_failure_message_names_the_node_and_shows_the_cleaned_log():
    log = "".join(f"\x1b[31mline {index}\x1b[39m\n" for index in range(30))
    text = containers.failure_message("h", ["ray-head@h"], [("ray-head", "keeps exiting (restarted 3 times)")],
                                      {"ray-head": log})
    assert text.startswith("ray-head@h: its container ray-head on h keeps exiting")
    assert "line 29" in text and "line 17" not in text and "\x1b" not in text
    assert text.count("\n") == containers.LOG_LINES


def test_container_logs_lose_the_engines_frame_headers():
    frames = b"".join(bytes([stream, 0, 0, 0]) + len(text).to_bytes(4, "big") + text
                      for stream, text in ((1, b"out\n"), (2, b"err\n")))
    assert docker_engine_api.demultiplex(frames) == b"out\nerr\n"
    assert docker_engine_api.demultiplex(b"plain tty text\n") == b"plain tty text\n"
