"""Progress events, failure messages and the --json summary."""

import io

from raydeploy import report


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def event(kind, **data):
    return {"event": kind, "event_data": data}


def test_progress_prints_results_and_remembers_the_last_failure():
    stream, clock = io.StringIO(), FakeClock()
    progress = report.Progress(stream=stream, clock=clock)
    progress(event("playbook_on_task_start", task="Pull image"))
    clock.now += 2.5
    progress(event("runner_on_ok", host="h1", task="Pull image", res={"changed": True}))
    progress(event("runner_on_skipped", host="h2", task="Pull image", res={}))
    progress(event("runner_on_failed", host="h2", task="Pull image", res={"msg": "first"}, ignore_errors=True))
    progress(event("runner_on_failed", host="h2", task="Explain", res={"msg": "no registry\n reachable"}))
    progress(event("runner_on_unreachable", host="h3", task="Gather", res={"msg": "ssh: connect refused"}))
    out = stream.getvalue()
    assert "[   2.5s]   changed     h1" in out
    assert "skipped" not in out, "skipped results only show with -v"
    assert "ignored     h2" in out
    assert progress.failures == {
        "h2": {"task": "Explain", "outcome": "failed", "msg": "no registry\n        reachable"},
        "h3": {"task": "Gather", "outcome": "unreachable", "msg": "ssh: connect refused"},
    }


def test_failure_message_uses_loop_results_and_stderr():
    assert report.failure_message({"results": [{"failed": True, "msg": "a"}, {"msg": "ok"}]}) == "a"
    assert report.failure_message({"msg": "non-zero return code", "stderr": "x\nboom"}) == "non-zero return code boom"
    assert "re-run with -v" in report.failure_message({})


def test_summary_counts_hosts_and_carries_check_and_dashboard():
    progress = report.Progress(stream=io.StringIO())
    stats = {"ok": {"a": 10, "b": 4}, "changed": {"a": 3}, "failures": {}, "dark": {}, "skipped": {"b": 1}}
    check = {"passed": True, "nodes_expected": 3, "nodes_alive": 3}
    summary = report.summarize(stats, {"ray_check": check, "ray_dashboard_url": "http://127.0.0.1:8265"}, progress, 0, "successful")
    assert summary["status"] == "ok" and summary["changed"] == 3
    assert summary["hosts"]["a"] == {"ok": 10, "changed": 3, "failed": 0, "unreachable": 0, "skipped": 0, "rescued": 0}
    assert summary["hosts"]["b"]["skipped"] == 1
    assert summary["check"] == check and summary["dashboard_url"] == "http://127.0.0.1:8265"


def test_summary_fails_on_unreachable_and_lists_only_final_failures():
    progress = report.Progress(stream=io.StringIO())
    progress(event("runner_on_failed", host="a", task="t1", res={"msg": "rescued later"}))
    progress(event("runner_on_unreachable", host="b", task="t2", res={"msg": "down"}))
    stats = {"ok": {"a": 5}, "rescued": {"a": 1}, "dark": {"b": 1}}
    summary = report.summarize(stats, {}, progress, 4, "failed")
    assert summary["status"] == "failed" and summary["check"] is None
    assert [f["host"] for f in summary["failures"]] == ["b"]
    assert summary["hosts"]["b"]["unreachable"] == 1


def test_a_skipped_unreachable_worker_makes_the_run_degraded_not_failed():
    progress = report.Progress(stream=io.StringIO())
    progress(event("runner_on_unreachable", host="w2", task="Learn each host's CPUs", res={"msg": "timed out"}))
    stats = {"ok": {"h": 30, "w1": 20}, "dark": {"w2": 1}}
    summary = report.summarize(stats, {"ray_skipped_hosts": ["w2"]}, progress, 4, "failed")
    assert summary["status"] == "degraded" and summary["failures"] == []
    assert summary["skipped_hosts"] == [{"host": "w2", "msg": "timed out"}]
    stream = io.StringIO()
    report.print_recap(summary, stream)
    assert "SKIPPED w2: does not answer (timed out)" in stream.getvalue()
    # another host failing as well makes it a failure again
    progress(event("runner_on_failed", host="w1", task="Pull", res={"msg": "no registry"}))
    stats["failures"] = {"w1": 1}
    assert report.summarize(stats, {"ray_skipped_hosts": ["w2"]}, progress, 2, "failed")["status"] == "failed"
    # a host unreachable that the preflight did not skip (the head) is a failure
    assert report.summarize({"dark": {"h": 1}}, {}, progress, 4, "failed")["status"] == "failed"


def test_a_run_that_never_reached_a_host_is_failed_even_with_ansibles_unreachable_exit_status():
    """ansible-playbook exits 4 for unreachable hosts and for a playbook it cannot parse (no host ran anything)."""
    progress = report.Progress(stream=io.StringIO(), clock=FakeClock())
    summary = report.summarize({}, {}, progress, 4, "failed")
    assert summary["status"] == "failed"
    unreachable = report.summarize({"dark": {"w": 1}, "ok": {"h": 3}}, {"ray_skipped_hosts": ["w"]}, progress, 4, "failed")
    assert unreachable["status"] == "degraded"


def test_the_lan_caches_lines_are_in_the_summary_and_the_recap_and_a_pull_past_it_is_degraded():
    progress = report.Progress(stream=io.StringIO())
    data = {"registry_cache_lines": ["h1 pulled redis:7.0.15 from the LAN image cache http://10.0.0.2:5050 on h0"],
            "ray_degraded": ["the LAN image cache http://10.0.0.2:5050 on h0 did not serve every pull (it did not run)"]}
    summary = report.summarize({"ok": {"h0": 5}}, data, progress, 0, "successful")
    assert summary["status"] == "degraded" and summary["image_cache"] == data["registry_cache_lines"]
    out = io.StringIO()
    report.print_recap(summary, out)
    assert "  IMAGES h1 pulled redis:7.0.15 from the LAN image cache" in out.getvalue()
    assert "  DEGRADED the LAN image cache" in out.getvalue()


def test_status_shows_each_hosts_data_root_use_and_free_space():
    gib = 2**30
    cluster = {"nodes": [{"node_name": "ray-head@lab1", "node_ip": "10.0.0.1",
                          "resources_total": {"CPU": 2, "memory": 2 * gib, "object_store_memory": gib}}],
               "alive": ["ray-head@lab1"], "resources": {"CPU": 2},
               "hosts": {"lab1": {"cpus": 4, "mem_total": 8 * gib,
                                  "disk": {"data_root": {"path": "/var/lib/ray-docker", "used": int(1.5 * gib),
                                                         "free": 40 * gib},
                                           "docker_root": {"path": "/var/lib/docker", "free": 30 * gib}}},
                         "lab2": {"cpus": 2, "mem_total": 4 * gib,
                                  "disk": {"data_root": {"path": "/data", "used": None, "free": 9 * gib},
                                           "docker_root": {"free": 8 * gib}}}}}
    lines = report.format_status(cluster).splitlines()
    header = next(i for i, line in enumerate(lines) if "DATA ROOT" in line)
    assert lines[header + 1].split() == ["lab1", "/var/lib/ray-docker", "1.5", "GiB", "40.0", "GiB", "30.0", "GiB"]
    assert lines[header + 2].split() == ["lab2", "/data", "unreadable", "9.0", "GiB", "8.0", "GiB"]


def test_status_without_disk_facts_has_no_disk_table():
    cluster = {"hosts": {"lab1": {"cpus": 4, "mem_total": 2**30}}}
    assert "DATA ROOT" not in report.format_status(cluster)


def test_the_recap_says_which_modules_every_node_imported():
    stream = io.StringIO()
    check = {"passed": True, "nodes_alive": 2, "nodes_expected": 2,
             "nodes": [{"imports": {"six": "", "tomli_w": ""}}, {"imports": {"six": "", "tomli_w": ""}}]}
    report.print_recap({"status": "ok", "hosts": {}, "failures": [], "elapsed_seconds": 1, "check": check}, stream)
    assert "Every node imports six, tomli_w" in stream.getvalue()
    stream = io.StringIO()
    report.print_recap({"status": "ok", "hosts": {}, "failures": [], "elapsed_seconds": 1, "check": dict(check, nodes=[{}])}, stream)
    assert "imports" not in stream.getvalue()


def test_the_recap_names_the_nodes_the_check_left_out():
    stream = io.StringIO()
    check = {"passed": True, "nodes_alive": 2, "nodes_expected": 2, "left_out": ["ray-worker-1@w2"]}
    report.print_recap({"status": "degraded", "hosts": {}, "failures": [], "elapsed_seconds": 1, "check": check}, stream)
    assert "Left out of the check (their host was skipped, Ray still lists them): ray-worker-1@w2" in stream.getvalue()
    stream = io.StringIO()
    report.print_recap({"status": "ok", "hosts": {}, "failures": [], "elapsed_seconds": 1, "check": dict(check, left_out=[])}, stream)
    assert "Left out" not in stream.getvalue()
