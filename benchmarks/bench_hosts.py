"""Benchmark: deploy time for 1, 2, 3 and 4 lab hosts over SSH, cold and as a no-op re-run.

    .venv/bin/python benchmarks/bench_hosts.py [--hosts 1 2 3 4]

Cold = fresh lab hosts: Docker engine installed but stopped, no Ray image (only in the mirror).
Targets: 4 hosts take at most 1.5x the time of 1 host; a no-op re-run on 3 hosts under 15 s.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import lab  # noqa: E402  (the lab needs the project root on sys.path)


def site(inventory):
    started = time.monotonic()
    result = subprocess.run([sys.executable, "runner.py", "site", "-i", str(inventory)], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"site failed on {inventory}:\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 2, 3, 4])
    args = parser.parse_args()
    rows = {}
    for count in args.hosts:
        lab.remove_hosts()
        inventory = lab.ensure_hosts(count)
        rows[count] = (site(inventory), site(inventory))
        print(f"{count} host(s): cold {rows[count][0]:.1f} s, no-op {rows[count][1]:.1f} s", file=sys.stderr, flush=True)
    lab.remove_hosts()
    print(f"{'hosts':>5} {'cold s':>8} {'no-op s':>8}")
    for count, (cold, noop) in rows.items():
        print(f"{count:>5} {cold:8.1f} {noop:8.1f}")
    if 1 in rows and 4 in rows:
        print(f"\n4 hosts / 1 host (cold): {rows[4][0] / rows[1][0]:.2f}x (target <= 1.5x)")
    if 3 in rows:
        print(f"no-op re-run on 3 hosts: {rows[3][1]:.1f} s (target < 15 s)")


if __name__ == "__main__":
    main()
