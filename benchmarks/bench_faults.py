"""Benchmark: how long the embedded default takes to heal from each single fault.

    .venv/bin/python -m benchmarks.bench_faults [--rounds N]

For each fault: seconds from the fault until every node is ALIVE again as the dashboard reports it
(one registration per node name, the restarted ones new), then until `runner.py check` has passed.
With head fault tolerance, detached actors on the workers are counted before and after a head
crash, and after a worker's crash how long two ALIVE nodes of its name were listed. Targets: every node ALIVE within
60 s of any single fault; 0 detached actors lost with FT; never two ALIVE nodes of one name.
Prints the median of the rounds. Runs `site` first, and leaves the cluster deployed and healthy.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ansible_collections.ray_docker.cluster.plugins.module_utils.dashboard import DashboardClient, read_token, summarize_nodes
from tests import lab
from tests.e2e.faults import submit_job

ROOT = Path(__file__).resolve().parent.parent


URL = "http://127.0.0.1:8265"
TOKEN = Path.home() / ".config" / "ray-docker" / "ray" / "auth_token"
NODES = ["ray-head@localhost", "ray-worker-1@localhost", "ray-worker-2@localhost"]
ACTORS = 5
MAKE_ACTORS = f"""
import ray
ray.init()
@ray.remote(num_cpus=0)
class Keeper:
    def ping(self): return 1
workers = [n["NodeID"] for n in ray.nodes() if n["Alive"] and "worker" in (n.get("NodeName") or "")]
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
for i in range({ACTORS}):
    Keeper.options(name=f"bench-{{i}}", namespace="bench", lifetime="detached", get_if_exists=True,
                   scheduling_strategy=NodeAffinitySchedulingStrategy(workers[i % len(workers)], soft=False)).remote()
print("MADE")
"""
COUNT_ACTORS = f"""
import ray
ray.init()
alive = 0
for i in range({ACTORS}):
    try:
        alive += ray.get(ray.get_actor(f"bench-{{i}}", namespace="bench").ping.remote(), timeout=30)
    except Exception:
        pass
print("ALIVE", alive)
"""


def runner(*args):
    return subprocess.run([sys.executable, "runner.py", *args], cwd=ROOT, capture_output=True, text=True)


def inspect(container):
    out = subprocess.run(["docker", "inspect", container], capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]


def crash(container):
    os.kill(inspect(container)["State"]["Pid"], signal.SIGKILL)


def healed_after(since_ms, restarted):
    """Seconds until every node is ALIVE and each name in `restarted` has registered after since_ms."""
    client = DashboardClient(URL, read_token(str(TOKEN)), timeout=2)
    started = time.monotonic()
    while time.monotonic() - started < 300:
        try:
            rows = client.list_nodes()
        except Exception:
            time.sleep(0.25)
            continue
        summary = summarize_nodes(rows, NODES)
        fresh = all(max((row.get("start_time_ms") or 0 for row in rows if row["node_name"] == name), default=0) > since_ms
                    for name in restarted)
        if not summary["missing"] and fresh:
            return time.monotonic() - started
        time.sleep(0.25)
    raise RuntimeError("the cluster did not heal within 300 s")


def ghosts(seconds=20.0):
    """Seconds (of the next `seconds`) during which some node name had two ALIVE registrations: a restarted node and
    its predecessor, counted twice with its resources (README: a worker retires its predecessor before it starts)."""
    client = DashboardClient(URL, read_token(str(TOKEN)), timeout=2)
    started, seen, last = time.monotonic(), 0.0, None
    while time.monotonic() - started < seconds:
        now = time.monotonic()
        try:
            rows = client.list_nodes()
        except Exception:
            rows = []
        names = [row.get("node_name") for row in rows if row.get("state") == "ALIVE"]
        if last is not None and len(names) != len(set(names)):
            seen += now - last
        last = now
        time.sleep(0.25)
    return round(seen, 1)


def check_time():
    started = time.monotonic()
    result = runner("check")
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return time.monotonic() - started


def actors_alive():
    job = submit_job(COUNT_ACTORS)
    return next(int(line.split()[1]) for line in job["logs"].splitlines() if line.startswith("ALIVE"))


def fault(name, action, restarted):
    since_ms = int(time.time() * 1000)
    started = time.monotonic()
    action()
    lag = time.monotonic() - started
    alive = healed_after(since_ms, restarted) + lag
    return alive, alive + check_time()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    mirror = json.dumps(lab.deploy_vars(lab.ensure_up()))
    figures = {}

    def record(label, values):
        figures.setdefault(label, []).append(values)

    def deploy(*extra):
        result = runner("site", "-e", mirror, *extra)
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-2000:])

    deploy()
    lost, doubled = [], []
    for _ in range(args.rounds):
        since_ms, started = int(time.time() * 1000), time.monotonic()
        crash("ray-worker-2")
        healed_after(since_ms, ["ray-worker-2@localhost"])
        alive = time.monotonic() - started
        doubled.append(ghosts())
        record("worker process killed", (alive, alive + check_time()))
        submit_job(MAKE_ACTORS)
        before = actors_alive()
        record("head process killed, fault tolerance on", fault("head", lambda: crash("ray-head"), ["ray-head@localhost"]))
        lost.append(before - actors_alive())
        record("Docker engine restarted", fault("engine", lab.restart_engine, NODES))
    deploy("-e", json.dumps({"ray_gcs_fault_tolerance": False}))
    for _ in range(args.rounds):
        record("head process killed, fault tolerance off", fault("head", lambda: crash("ray-head"), NODES))
    deploy()

    print(f"\nRecovery on this machine ({os.cpu_count()} CPUs), median of {args.rounds} round(s):\n")
    print("| fault | every node ALIVE again (s) | check passed (s) |\n|---|---|---|")
    for label, values in figures.items():
        alive = statistics.median(value[0] for value in values)
        check = statistics.median(value[1] for value in values)
        print(f"| {label} | {alive:.1f} | {check:.1f} |")
    print(f"\nSeconds with two ALIVE nodes of one name in the 20 s after a worker came back: {doubled} (target 0)")
    print(f"\nDetached actors lost to a head crash with fault tolerance: {sum(lost)} of {ACTORS * len(lost)} "
          f"(over {len(lost)} crash(es))")
    worst = max(max(value[0] for value in values) for values in figures.values())
    print(f"Slowest recovery: {worst:.1f} s (target: every node ALIVE within 60 s)")


if __name__ == "__main__":
    main()
