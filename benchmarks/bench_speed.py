"""Benchmark: a cold `site` to a proven cluster and a no-op re-run, with where the time goes, task by task.

    .venv/bin/python -m benchmarks.bench_speed --hosts 3 --rounds 3     # lab hosts over SSH
    .venv/bin/python -m benchmarks.bench_speed --local --rounds 3       # the embedded default (this machine)
    .venv/bin/python -m benchmarks.bench_speed --hosts 8 --noop-only    # no-op re-runs (and preflight) on 8 hosts

Lab hosts: fresh hosts before every round, their engines started with the mirror set (`runner.py docker`) and no
image on any host, one Ray node per host (1 head + N-1 workers), `--num-cpus 1` per node, head fault tolerance
and Prometheus on, Grafana off (the lab's mirror has none). Local: no cluster, none of its images, a freshly
restarted engine. Prints the median of the rounds, then, for the last round, the tasks that took the longest
(wall time from a task's start to the next task's start, summed over the run: what the run waited for) and the
time before the first task (runner and ansible-playbook start-up).
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from tests import lab
from tests.lab.util import pinned_reference

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".artifacts"
LAB_SETTINGS = {"ray_cluster_head_num_cpus": 1, "ray_cluster_worker_num_cpus": 1,
                "ray_gcs_fault_tolerance": True, "ray_monitoring_enabled": True}


def newest_artifact():
    runs = [path for path in ARTIFACTS.iterdir() if (path / "job_events").is_dir()]
    return max(runs, key=lambda path: path.stat().st_mtime)


def task_walls(artifact):
    """({task name: wall seconds}, seconds before the first task, seconds of the whole playbook) of one run."""
    events = []
    for path in (artifact / "job_events").glob("*.json"):
        event = json.loads(path.read_text())
        events.append((event["counter"], event))
    events.sort(key=lambda item: item[0])
    stamps = [(event.get("event"), event.get("event_data") or {}, event["created"]) for _, event in events]

    def seconds(stamp):
        return datetime.fromisoformat(stamp).timestamp()

    start = seconds(stamps[0][2])
    end = seconds(stamps[-1][2])
    starts = [(data.get("task") or "?", seconds(created)) for kind, data, created in stamps
              if kind in ("playbook_on_task_start", "playbook_on_handler_task_start")]
    walls = defaultdict(float)
    for index, (name, began) in enumerate(starts):
        following = starts[index + 1][1] if index + 1 < len(starts) else end
        walls[name] += following - began
    before = (starts[0][1] - start) if starts else end - start
    return dict(walls), before, end - start


def timed_run(inventory, extra, verb="site"):
    command = [sys.executable, "runner.py", verb, *(["-i", str(inventory)] if inventory else []),
               "-e", json.dumps(extra)]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{verb} failed:\n{result.stderr[-3000:]}")
    return elapsed, newest_artifact()


def fresh_lab(count):
    lab.remove_hosts()
    inventory = lab.ensure_hosts(count)
    prepared = subprocess.run([sys.executable, "runner.py", "docker", "-i", str(inventory)], cwd=ROOT,
                              capture_output=True, text=True)
    if prepared.returncode != 0:
        sys.exit(f"starting the lab hosts' engines failed:\n{prepared.stderr[-3000:]}")
    return inventory


def fresh_local(mirror):
    subprocess.run([sys.executable, "runner.py", "down", "-e", "ray_monitoring_purge=true"], cwd=ROOT,
                   capture_output=True)
    repository, tag, _ = lab.pinned_image()
    services = [pinned_reference(name) for name in ("ray_gcs_redis_image", "ray_prometheus_image")]
    images = [f"{repository}:{tag}"] + [f"{name.removeprefix('library/')}:{tag}" for name, tag in services]
    subprocess.run(["docker", "rmi", "-f", *images], capture_output=True)
    lab.restart_engine()


def show_tasks(title, artifact, top):
    walls, before, total = task_walls(artifact)
    print(f"\n{title}: {total:.1f} s of playbook; {before:.1f} s before the first task")
    for name, wall in sorted(walls.items(), key=lambda item: -item[1])[:top]:
        print(f"  {wall:6.2f}  {name}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--local", action="store_true", help="the embedded default on this machine")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--noop-only", action="store_true", help="deploy once, then time no-op re-runs only")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    mirror = lab.ensure_up()
    extra = dict(lab.deploy_vars(mirror))
    if not args.local:
        extra.update(LAB_SETTINGS)
        extra.pop("docker_registry_mirrors")  # the lab inventory gives each host the mirror through its gateway
    label = "this machine" if args.local else f"{args.hosts} lab host(s)"
    if not args.local:  # the embedded cluster would take CPU from the lab hosts
        subprocess.run([sys.executable, "runner.py", "down"], cwd=ROOT, capture_output=True)
    cold, noop, preflight = [], [], []
    artifacts = {}
    for round_number in range(args.rounds):
        inventory = None
        if args.noop_only:
            if round_number == 0:
                inventory = None if args.local else fresh_lab(args.hosts)
                timed_run(inventory, extra)
            elif not args.local:
                inventory = lab.cache_dir() / lab.INVENTORY_NAME
        else:
            if args.local:
                fresh_local(mirror)
            else:
                inventory = fresh_lab(args.hosts)
            seconds, artifacts["cold"] = timed_run(inventory, extra)
            cold.append(seconds)
            print(f"round {round_number + 1}: cold {seconds:.1f} s", file=sys.stderr, flush=True)
        seconds, artifacts["no-op"] = timed_run(inventory, extra)
        noop.append(seconds)
        print(f"round {round_number + 1}: no-op {seconds:.1f} s", file=sys.stderr, flush=True)
        if args.noop_only:  # the read-only check of every setting and host, alone
            seconds, _ = timed_run(inventory, extra, verb="preflight")
            preflight.append(seconds)
            print(f"round {round_number + 1}: preflight {seconds:.1f} s", file=sys.stderr, flush=True)
    print(f"\n{label}, {args.rounds} round(s)")
    if cold:
        print(f"cold to a proven cluster: {' / '.join(f'{s:.1f}' for s in cold)} s, median {statistics.median(cold):.1f} s")
    print(f"no-op re-run:             {' / '.join(f'{s:.1f}' for s in noop)} s, median {statistics.median(noop):.1f} s")
    if preflight:
        print(f"preflight alone:          {' / '.join(f'{s:.1f}' for s in preflight)} s, "
              f"median {statistics.median(preflight):.1f} s")
    for title, artifact in artifacts.items():
        show_tasks(f"last {title} run, longest tasks", artifact, args.top)


if __name__ == "__main__":
    main()
