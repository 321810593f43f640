"""Live progress from ansible-runner events, the recap, and the --json summary."""

import sys
import time

from ansible_collections.ray_docker.cluster.plugins.module_utils.run_data import RUN_DATA

# ansible-playbook's exit status when the only problem was hosts it could not reach.
UNREACHABLE_HOSTS_RC = 4
# runner.py's exit status for a run that skipped unreachable worker hosts and did everything else.
DEGRADED_EXIT = 3

HOST_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


class Progress:
    """An ansible-runner event handler that prints what happens and remembers failures."""

    def __init__(self, stream=sys.stderr, verbosity=0, clock=time.monotonic, show_diff=False):
        self.stream = stream
        self.verbosity = verbosity
        self.show_diff = show_diff
        self.clock = clock
        self.started = clock()
        self.task = ""
        self.failures = {}  # host -> last failure that was not ignored: {task, msg}
        self.results = {}   # task results that matter to the summary, e.g. the check's report

    def elapsed(self):
        return self.clock() - self.started

    def _print(self, text):
        print(f"[{self.elapsed():6.1f}s] {text}", file=self.stream, flush=True)

    def __call__(self, event):
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        shows_diff = self.show_diff and kind == "runner_on_file_diff"
        if (self.verbosity or shows_diff) and event.get("stdout"):
            print(event["stdout"], file=self.stream, flush=True)
        if kind == "playbook_on_play_start":
            self._print(f"PLAY {data.get('play', '')}")
        elif kind == "playbook_on_task_start":
            self.task = data.get("task", "")
        elif kind == "runner_retry":
            self._print(f"  retry {data.get('retries', 0) - data.get('attempts', 0) + 1} left  "
                        f"{data.get('host', '')}  {self.task}")
        elif kind in HOST_EVENTS:
            self._host_result(HOST_EVENTS[kind], data)
        return True  # keep every event in the artifacts

    def _host_result(self, outcome, data):
        host, result = data.get("host", "?"), data.get("res") or {}
        task = data.get("task") or self.task
        if outcome == "ok" and result.get("changed"):
            outcome = "changed"
        if outcome == "failed" and data.get("ignore_errors"):
            outcome = "ignored"
        if outcome in ("failed", "unreachable"):
            self.failures[host] = {"task": task, "outcome": outcome, "msg": failure_message(result)}
        if "check" in result and isinstance(result["check"], dict):
            self.results["check"] = result["check"]
        if outcome == "skipped" and not self.verbosity:
            return
        line = f"  {outcome:<11} {host:<20} {task}"
        if outcome in ("failed", "unreachable"):
            line += f"\n      {failure_message(result)}"
        self._print(line)


def failure_message(result):
    """The one line a user needs from a failed task's result."""
    msg = result.get("msg") or result.get("reason") or ""
    if not msg and result.get("results"):
        msg = "; ".join(item.get("msg", "") for item in result["results"] if item.get("failed"))
    stderr = (result.get("stderr") or "").strip()
    if stderr and stderr not in msg:
        msg = f"{msg} {stderr.splitlines()[-1]}".strip()
    # One line per line of the message (a container's log tail keeps its lines), blanks squeezed.
    first, *rest = str(msg).strip().split("\n") or [""]
    lines = [" ".join(first.split())] + ["        " + line.strip() for line in rest if line.strip()]
    return "\n".join(lines).strip() or "failed (no message; re-run with -v)"


def summarize(stats, artifact_data, progress, rc, status):
    """The --json object: overall status, totals per host, the check and the dashboard URL."""
    stats = stats or {}
    # Only what the roles declare they hand over (plugins/module_utils/run_data.py): a typo is a KeyError here.
    artifact_data = {key: (artifact_data or {}).get(key) for key in RUN_DATA}
    hosts = {}
    for key, field in (("ok", "ok"), ("changed", "changed"), ("failures", "failed"), ("dark", "unreachable"),
                       ("skipped", "skipped"), ("rescued", "rescued")):
        for host, count in (stats.get(key) or {}).items():
            hosts.setdefault(host, {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0, "skipped": 0, "rescued": 0})
            hosts[host][field] = count
    # Worker hosts the preflight found unreachable were skipped on purpose: the run is degraded, not failed.
    skipped = sorted(artifact_data["ray_skipped_hosts"] or [])
    # ansible-playbook exits 4 for unreachable hosts, and also when it could not even parse a playbook: only a run
    # that reached its hosts and found some unreachable may count as "only unreachable".
    unreachable_only = rc == UNREACHABLE_HOSTS_RC and status in ("successful", "failed") and bool(stats.get("dark"))
    failed = (rc != 0 and not unreachable_only) or status not in ("successful", "failed") \
        or any(h["failed"] or (h["unreachable"] and host not in skipped) for host, h in hosts.items())
    failures = [
        dict(host=host, **info) for host, info in sorted(progress.failures.items())
        if host not in skipped and (hosts.get(host, {}).get("failed") or hosts.get(host, {}).get("unreachable") or not hosts)
    ]
    # Optional parts that could not be had (an image no registry served): the cluster is proven without them.
    degraded = list(artifact_data["ray_degraded"] or [])
    return {
        "status": "failed" if failed else "degraded" if skipped or degraded else "ok",
        "degraded": degraded,
        "changed": sum(h["changed"] for h in hosts.values()),
        "hosts": hosts,
        "skipped_hosts": [{"host": host, "msg": progress.failures.get(host, {}).get("msg", "")} for host in skipped],
        "platforms": artifact_data["ray_platforms"] or {},
        "wsl_notes": artifact_data["wsl_notes"] or {},
        "image_cache": list(artifact_data["registry_cache_lines"] or []),
        "check": artifact_data["ray_check"] or progress.results.get("check"),
        "cluster": artifact_data["ray_status"],
        "dashboard_url": artifact_data["ray_dashboard_url"],
        "monitoring": artifact_data["ray_monitoring_urls"] or {},
        "upgrade": artifact_data["ray_upgrade"],
        "drain": artifact_data["ray_drain"],
        "logs": artifact_data["ray_logs"],
        "failures": failures,
        "elapsed_seconds": round(progress.elapsed(), 1),
    }


def print_recap(summary, stream=sys.stderr):
    print("\nRECAP", file=stream)
    for host, counts in sorted(summary["hosts"].items()):
        print(f"  {host:<20} ok={counts['ok']:<4} changed={counts['changed']:<4} failed={counts['failed']:<4} "
              f"unreachable={counts['unreachable']}", file=stream)
    for failure in summary["failures"]:
        print(f"  FAILED {failure['host']}: {failure['task']}: {failure['msg']}", file=stream)
    for host, platform in sorted((summary.get("platforms") or {}).items()):
        print(f"  {host}: {platform}", file=stream)
    for host, notes in sorted((summary.get("wsl_notes") or {}).items()):
        for note in notes:
            print(f"  NOTE {host}: {note}", file=stream)
    for line in summary.get("image_cache") or []:
        print(f"  IMAGES {line}", file=stream)
    for note in summary.get("degraded") or []:
        print(f"  DEGRADED {note}", file=stream)
    for skipped in summary.get("skipped_hosts") or []:
        print(f"  SKIPPED {skipped['host']}: does not answer ({skipped['msg']}); its Ray node was left out of this run",
              file=stream)
    for line in upgrade_lines(summary.get("upgrade")):
        print(f"  {line}", file=stream)
    drain = summary.get("drain")
    if drain:
        how = (f"{len(drain['stopped_busy'])} nodes were still busy at the deadline ({drain['seconds']} s) and were stopped: "
               "what ran there is retried elsewhere" if drain.get("stopped_busy") else
               f"its nodes left the cluster in {drain['seconds']} s")
        print(f"  DRAINED {drain['host']}: {drain['tasks']} tasks and {drain['actors']} actors were running there; {how}; "
              "their containers were removed (the next `site` brings them back)", file=stream)
    logs = summary.get("logs")
    if logs:
        print(f"  LOGS {logs['file']}: {logs['files']} files from {', '.join(logs['hosts'])} ({int(logs['bytes']) / 2**20:.1f} MiB); "
              "the token and passwords are replaced by <redacted>; INDEX.txt says where each file came from", file=stream)
    check = summary.get("check")
    if check:
        verdict = "passed" if check.get("passed") else "FAILED: " + "; ".join(check.get("reasons") or [])
        reused = f"; job skipped, the same nodes passed it at {check.get('verified_at')}" if check.get("reused") else ""
        print(f"  Ray check {verdict} ({check.get('nodes_alive')}/{check.get('nodes_expected')} nodes alive{reused})", file=stream)
        if check.get("left_out"):
            print(f"  Left out of the check (their host was skipped, Ray still lists them): {', '.join(check['left_out'])}",
                  file=stream)
        modules = sorted({module for node in check.get("nodes") or [] for module in node.get("imports") or {}})
        if modules and check.get("passed"):
            print(f"  Every node imports {', '.join(modules)}", file=stream)
    cluster = summary.get("cluster")
    if cluster:
        print(format_status(cluster), file=stream)
    if summary.get("dashboard_url"):
        print(f"  dashboard: {summary['dashboard_url']}", file=stream)
    for name, url in sorted((summary.get("monitoring") or {}).items()):
        print(f"  {name}: {url}", file=stream)
    print(f"  {summary['status']} in {summary['elapsed_seconds']} s", file=stream, flush=True)


def upgrade_lines(upgrade):
    """The recap's account of nodes given a new image: versions, downtime and its steps, what happened to the work."""
    if not upgrade:
        return []
    was = ", ".join(upgrade.get("from") or []) or "another image"
    if upgrade.get("rolled_back") in (True, "True", "true"):
        lines = [f"UPGRADE to Ray {upgrade.get('to')} ({upgrade.get('image')}) FAILED and was rolled back to {was}: "
                 f"{upgrade.get('cause')}"]
    else:
        steps = ", ".join(f"{name} {seconds} s" for name, seconds in (upgrade.get("steps") or {}).items())
        lines = [f"UPGRADE Ray {was} -> {upgrade.get('to')} ({upgrade.get('image')}): down {upgrade.get('downtime_seconds')} s "
                 f"from the first old node stopped to the new cluster's check passing ({steps})"]
    for job in upgrade.get("jobs_waited_for") or []:
        lines.append(f"UPGRADE waited for job {job} to end before stopping anything")
    for job in upgrade.get("jobs_stopped") or []:
        lines.append(f"UPGRADE stopped job {job} (ray_cluster_upgrade_stop_jobs)")
    if upgrade.get("old_cluster_down"):
        lines.append(f"UPGRADE the old cluster's head did not answer ({upgrade['old_cluster_down']}): nothing ran on it "
                     "to wait for or drain")
    for actor in upgrade.get("actors_lost") or []:
        lines.append(f"UPGRADE lost detached actor {actor}: it lived on the old nodes (the old GCS store keeps its record)")
    return lines


def format_status(cluster):
    lines = [f"  {'NODE':<28} {'IP':<16} {'CPU':>5} {'MEMORY':>10} {'OBJECT STORE':>13}"]
    for node in cluster.get("nodes") or []:
        res = node.get("resources_total") or {}
        lines.append(f"  {node.get('node_name') or '?':<28} {node.get('node_ip') or '?':<16} {res.get('CPU', 0):>5g} "
                     f"{_gib(res.get('memory')):>10} {_gib(res.get('object_store_memory')):>13}")
    total = cluster.get("resources") or {}
    lines.append(f"  {len(cluster.get('alive') or [])} alive; total CPU {total.get('CPU', 0):g}, memory "
                 f"{_gib(total.get('memory'))}, object store {_gib(total.get('object_store_memory'))}")
    if cluster.get("missing"):
        lines.append(f"  missing: {', '.join(cluster['missing'])}")
    lines += format_hosts(cluster)
    return "\n".join(lines)


def host_usage(cluster):
    """{host: {cpus, mem_total, ray_cpus, ray_memory, object_store}}: what each host has beside what its
    alive Ray nodes (named <container>@<host>) were given."""
    usage = {}
    for host, facts in sorted((cluster.get("hosts") or {}).items()):
        if facts:
            usage[host] = {"cpus": facts.get("cpus"), "mem_total": facts.get("mem_total"),
                           "ray_cpus": 0, "ray_memory": 0, "object_store": 0}
    for node in cluster.get("nodes") or []:
        host = (node.get("node_name") or "").rpartition("@")[2]
        if host in usage:
            res = node.get("resources_total") or {}
            usage[host]["ray_cpus"] += res.get("CPU", 0)
            usage[host]["ray_memory"] += res.get("memory", 0)
            usage[host]["object_store"] += res.get("object_store_memory", 0)
    return usage


def format_hosts(cluster):
    usage = host_usage(cluster)
    if not usage:
        return []
    lines = [f"  {'HOST':<28} {'CPUS':>5} {'RAM':>10}   RAY: CPU, MEMORY + OBJECT STORE (THE REST: HOST AND RAY'S PROCESSES)"]
    for host, row in usage.items():
        rest = (row["mem_total"] or 0) - row["ray_memory"] - row["object_store"]
        lines.append(f"  {host:<28} {row['cpus'] or 0:>5} {_gib(row['mem_total']):>10}   {row['ray_cpus']:g}, "
                     f"{_gib(row['ray_memory'])} + {_gib(row['object_store'])} ({_gib(rest)})")
    return lines + format_disks(cluster)


def format_disks(cluster):
    """Each host's data root (the nodes' logs and spilled objects): what it takes and what is free, beside the free
    space of Docker's root (images, containers)."""
    rows = [(host, facts["disk"]) for host, facts in sorted((cluster.get("hosts") or {}).items())
            if facts and facts.get("disk")]
    if not rows:
        return []
    lines = [f"  {'HOST':<28} {'DATA ROOT':<24} {'USED':>10} {'FREE':>10} {'DOCKER ROOT FREE':>17}"]
    for host, disk in rows:
        data, docker = disk.get("data_root") or {}, disk.get("docker_root") or {}
        used = "unreadable" if data.get("used") is None else _gib(data["used"])
        lines.append(f"  {host:<28} {data.get('path') or '?':<24} {used:>10} {_gib(data.get('free')):>10} "
                     f"{_gib(docker.get('free')):>17}")
    return lines


def _gib(value):
    return f"{(value or 0) / 2**30:.1f} GiB"
