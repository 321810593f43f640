"""Benchmark: how long an upgrade keeps the cluster down, and where the time goes.

    .venv/bin/python -m benchmarks.bench_upgrade [--rounds N] [--hosts 1 3]

On the embedded default (1 host, 3 nodes) and on 3 lab hosts (one node each), with head fault tolerance on (the
default): the cluster deployed on the pinned Ray, then `ray_version` changed to the lab's older real Ray and back,
N times each way. The downtime is the run's own figure (README "Upgrade Ray"): from the first old node stopped to the
new cluster's check passing, with its steps (old nodes stopped, new ones started, all alive, check passed). Prints
the median of the rounds per direction and the median of each step. Targets: one host at most 15 s, 3 lab hosts at
most 20 s. Leaves the embedded cluster deployed on the pinned Ray; removes the lab hosts.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from tests import lab

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("stopped", "started", "alive", "proven")
TARGETS = {1: 15.0, 3: 20.0}


def site(*args):
    proc = subprocess.run([sys.executable, "runner.py", "site", *args, "--json"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout)


def swaps(target, rounds, older):
    """[(direction, downtime, steps)] of `rounds` swaps each way on the cluster `target` names (site's arguments)."""
    pinned = lab.pinned_image()[1].split("-")[0]
    found = []
    for _ in range(rounds):
        for version in (older, pinned):
            upgrade = site(*target, "-e", f"ray_version={version}")["upgrade"]
            if not upgrade or upgrade.get("downtime_seconds") is None:
                raise RuntimeError(f"no upgrade to {version} was reported: {upgrade}")
            found.append((f"{'/'.join(upgrade['from'])} -> {version}", upgrade["downtime_seconds"], upgrade["steps"]))
            print(f"  {found[-1][0]}: down {found[-1][1]} s {found[-1][2]}", flush=True)
    return found


def report(label, hosts, found, rounds):
    print(f"\n{label}: median of {rounds} per direction ({os.cpu_count()} CPUs here)\n")
    print("| swap | downtime (s) | " + " | ".join(f"{step} (s)" for step in STEPS) + " |")
    print("|---|---|" + "---|" * len(STEPS))
    for direction in dict.fromkeys(direction for direction, _, _ in found):
        rows = [(downtime, steps) for name, downtime, steps in found if name == direction]
        medians = [statistics.median(steps.get(step, 0) for _, steps in rows) for step in STEPS]
        print(f"| {direction} | {statistics.median(d for d, _ in rows):.1f} (spread {min(d for d, _ in rows):.1f}-"
              f"{max(d for d, _ in rows):.1f}) | " + " | ".join(f"{value:.1f}" for value in medians) + " |")
    worst = max(statistics.median(d for name, d, _ in found if name == direction)
                for direction in {name for name, _, _ in found})
    print(f"\nSlowest median: {worst:.1f} s (target {TARGETS[hosts]:.0f} s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 3], choices=[1, 3])
    args = parser.parse_args()
    mirror = json.dumps(lab.deploy_vars(lab.ensure_up()))
    older = lab.OLDER_RAY_VERSION
    if 1 in args.hosts:
        target = ("-e", mirror)
        site(*target)
        report("One host, 3 nodes", 1, swaps(target, args.rounds, older), args.rounds)
    if 3 in args.hosts:
        lab.remove_hosts()
        inventory = lab.ensure_hosts(3)
        try:
            target = ("-i", str(inventory))
            site(*target)
            report("3 lab hosts, one node each", 3, swaps(target, args.rounds, older), args.rounds)
        finally:
            lab.remove_hosts()


if __name__ == "__main__":
    main()
