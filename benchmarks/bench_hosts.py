"""Benchmark: deploy time for 1, 2, 3 and 4 lab hosts over SSH, cold and as a no-op re-run.

    .venv/bin/python -m benchmarks.bench_hosts [--hosts 1 2 3 4]

Cold = fresh lab hosts: Docker engine installed but stopped, no Ray image (only in the mirror).
Targets: 4 hosts take at most 1.5x the time of 1 host; a no-op re-run on 3 hosts under 15 s.

The lab hosts are containers sharing this machine's CPUs, so the script also prints the CPU time
the whole machine spent during each run: divided by the CPU count it is the least wall time any
deployment of that much work could take here (a real lab has CPUs per host).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from tests import lab

ROOT = Path(__file__).resolve().parent.parent


def busy_cpu_seconds():
    """CPU time the machine has spent busy (every process, every lab host), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def site(inventory):
    """(wall seconds, busy CPU seconds) of one `runner.py site`."""
    started, cpu = time.monotonic(), busy_cpu_seconds()
    result = subprocess.run([sys.executable, "runner.py", "site", "-i", str(inventory)], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"site failed on {inventory}:\n{result.stderr[-3000:]}")
    return time.monotonic() - started, busy_cpu_seconds() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 2, 3, 4])
    args = parser.parse_args()
    cpus = os.cpu_count()
    rows = {}
    for count in args.hosts:
        lab.remove_hosts()
        inventory = lab.ensure_hosts(count)
        rows[count] = (site(inventory), site(inventory))
        (cold, cold_cpu), (noop, _) = rows[count]
        print(f"{count} host(s): cold {cold:.1f} s ({cold_cpu:.0f} CPU s), no-op {noop:.1f} s", file=sys.stderr, flush=True)
    lab.remove_hosts()
    print(f"{'hosts':>5} {'cold s':>8} {'CPU s':>7} {'floor s':>8} {'no-op s':>8}   (floor = CPU s / {cpus} CPUs)")
    for count, ((cold, cold_cpu), (noop, _)) in rows.items():
        print(f"{count:>5} {cold:8.1f} {cold_cpu:7.0f} {cold_cpu / cpus:8.1f} {noop:8.1f}")
    if 1 in rows and 4 in rows:
        ratio = rows[4][0][0] / rows[1][0][0]
        floor = rows[4][0][1] / cpus / rows[1][0][0]
        print(f"\n4 hosts / 1 host (cold): {ratio:.2f}x (target <= 1.5x); "
              f"the CPU work of 4 hosts alone needs {floor:.2f}x the 1-host time on these {cpus} CPUs")
    if 3 in rows:
        print(f"no-op re-run on 3 hosts: {rows[3][1][0]:.1f} s (target < 15 s)")


if __name__ == "__main__":
    main()
