"""Benchmark: `runner.py site` against the plain `docker run` script, cold and re-run.

    .venv/bin/python benchmarks/bench_site.py [--rounds N]

Cold = the image is in the lab mirror but not on the engine, no cluster runs, and dockerd has just
restarted (see tests.lab.restart_engine: a later pull would otherwise be slower). Prints a table
of wall-clock seconds (median of the rounds) and the ratios the project targets:
cold site <= 1.5x the plain script, no-op re-run < 10 s.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import lab  # noqa: E402  (the lab needs the project root on sys.path)


def timed(cmd, **kw):
    started = time.monotonic()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    return time.monotonic() - started


def docker(*args):
    subprocess.run(["docker", *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def clean(image):
    """No cluster of either kind, no Ray image on the engine, and a freshly started engine."""
    subprocess.run([sys.executable, "runner.py", "down"], cwd=ROOT, capture_output=True)
    names = subprocess.run(["docker", "ps", "-aq", "--filter", "label=plainbench=1"], capture_output=True, text=True).stdout.split()
    if names:
        docker("rm", "-f", *names)
    docker("network", "rm", "plainbench")
    docker("rmi", "-f", image)
    lab.restart_engine()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    mirror = lab.ensure_up()
    repository, tag, _ = lab.pinned_image()
    image = f"{repository}:{tag}"
    site = [sys.executable, "runner.py", "site", "-e", json.dumps({"docker_registry_mirrors": [mirror]})]
    subprocess.run(site, cwd=ROOT, check=True, capture_output=True)  # engine configured, token made
    shm = subprocess.run(["docker", "inspect", "-f", "{{.HostConfig.ShmSize}}", "ray-head"],
                         capture_output=True, text=True, check=True).stdout.strip()
    env = dict(os.environ, IMAGE=image, TOKEN_FILE="/etc/ray-docker/ray/auth_token", SHM=shm)
    figures = {"plain script, cold": [], "plain script, re-run": [], "runner.py site, cold": [],
               "runner.py site, no-op re-run": [], "  same, check job forced": [], "runner.py check (job)": []}
    for _ in range(args.rounds):
        clean(image)
        figures["plain script, cold"].append(timed(["bash", "benchmarks/plain_docker_run.sh"], env=env))
        # The plain script cannot re-run: `docker run` refuses existing names. Its re-run is remove + run.
        names = subprocess.run(["docker", "ps", "-aq", "--filter", "label=plainbench=1"], capture_output=True, text=True).stdout.split()
        started = time.monotonic()
        docker("rm", "-f", *names)
        docker("network", "rm", "plainbench")
        subprocess.run(["bash", "benchmarks/plain_docker_run.sh"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        figures["plain script, re-run"].append(time.monotonic() - started)
        clean(image)
        figures["runner.py site, cold"].append(timed(site))
        figures["runner.py site, no-op re-run"].append(timed(site))
        # site reuses the verdict of the check that passed on these very nodes; this is the cost when it may not
        figures["  same, check job forced"].append(timed(site + ["-e", "ray_check_reuse_verdict=false"]))
        figures["runner.py check (job)"].append(timed([sys.executable, "runner.py", "check"]))
    clean(image)
    medians = {name: statistics.median(values) for name, values in figures.items()}
    print(f"{'scenario':<32} {'seconds':>8}   (median of {args.rounds})")
    for name, value in medians.items():
        print(f"{name:<32} {value:8.1f}")
    ratio = medians["runner.py site, cold"] / medians["plain script, cold"]
    print(f"\ncold site / plain script: {ratio:.2f}x (target <= 1.5x)")
    print(f"no-op re-run: {medians['runner.py site, no-op re-run']:.1f} s (target < 10 s); "
          f"{medians['  same, check job forced']:.1f} s when the check job runs anyway")


if __name__ == "__main__":
    main()
