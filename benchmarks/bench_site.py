"""Benchmark: `runner.py site` against the plain `docker run` script, cold and re-run.

    .venv/bin/python -m benchmarks.bench_site [--rounds N]

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

from tests import lab

ROOT = Path(__file__).resolve().parent.parent


def defaults_of(role):
    """A role's defaults (plain values only), for the image names."""
    import yaml

    data = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())
    return {key: value for key, value in data.items() if isinstance(value, str) and "{{" not in value}


def timed(cmd, **kw):
    started = time.monotonic()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    return time.monotonic() - started


def docker(*args):
    subprocess.run(["docker", *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def clean(image, services=()):
    """No cluster of either kind, none of its images or data on the engine, and a freshly started engine."""
    subprocess.run([sys.executable, "runner.py", "down", "-e", "ray_monitoring_purge=true"], cwd=ROOT, capture_output=True)
    for service in services:
        docker("rmi", "-f", service)
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
    site = [sys.executable, "runner.py", "site", "-e", json.dumps(lab.deploy_vars(mirror))]
    subprocess.run(site, cwd=ROOT, check=True, capture_output=True)  # engine configured, token made
    shm = subprocess.run(["docker", "inspect", "-f", "{{.HostConfig.ShmSize}}", "ray-head"],
                         capture_output=True, text=True, check=True).stdout.strip()
    env = dict(os.environ, IMAGE=image, TOKEN_FILE="/etc/ray-docker/ray/auth_token", SHM=shm)
    figures = {"plain script, cold": [], "plain script, re-run": [], "runner.py site, cold": [],
               "runner.py site, no-op re-run": [], "  same, check job forced": [], "runner.py check (job)": [],
               "site cold, no monitoring": [], "site no-op, no monitoring": [],
               "site cold, no monitoring, no FT": []}
    # What head fault tolerance (Redis) and monitoring (Prometheus; Grafana where the mirror has it) add.
    services = [value for name, value in defaults_of("ray").items()
                if name in ("ray_gcs_redis_image", "ray_prometheus_image", "ray_grafana_image")]
    no_monitoring = site + ["-e", "ray_monitoring_enabled=false"]
    no_extras = no_monitoring + ["-e", "ray_gcs_fault_tolerance=false"]
    for _ in range(args.rounds):
        clean(image, services)
        figures["plain script, cold"].append(timed(["bash", "benchmarks/plain_docker_run.sh"], env=env))
        # The plain script cannot re-run: `docker run` refuses existing names. Its re-run is remove + run.
        names = subprocess.run(["docker", "ps", "-aq", "--filter", "label=plainbench=1"], capture_output=True, text=True).stdout.split()
        started = time.monotonic()
        docker("rm", "-f", *names)
        docker("network", "rm", "plainbench")
        subprocess.run(["bash", "benchmarks/plain_docker_run.sh"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        figures["plain script, re-run"].append(time.monotonic() - started)
        clean(image, services)
        figures["runner.py site, cold"].append(timed(site))
        figures["runner.py site, no-op re-run"].append(timed(site))
        # site reuses the verdict of the check that passed on these very nodes; this is the cost when it may not
        figures["  same, check job forced"].append(timed(site + ["-e", "ray_check_reuse_verdict=false"]))
        figures["runner.py check (job)"].append(timed([sys.executable, "runner.py", "check"]))
        clean(image, services)
        figures["site cold, no monitoring"].append(timed(no_monitoring))
        figures["site no-op, no monitoring"].append(timed(no_monitoring))
        clean(image, services)
        figures["site cold, no monitoring, no FT"].append(timed(no_extras))
    clean(image, services)
    medians = {name: statistics.median(values) for name, values in figures.items()}
    print(f"{'scenario':<32} {'seconds':>8}   (median of {args.rounds})")
    for name, value in medians.items():
        print(f"{name:<32} {value:8.1f}")
    ratio = medians["runner.py site, cold"] / medians["plain script, cold"]
    print(f"\ncold site / plain script: {ratio:.2f}x (target <= 1.5x)")
    print(f"no-op re-run: {medians['runner.py site, no-op re-run']:.1f} s (target < 10 s); "
          f"{medians['  same, check job forced']:.1f} s when the check job runs anyway")
    print(f"monitoring adds {medians['runner.py site, cold'] - medians['site cold, no monitoring']:+.1f} s to a cold site, "
          f"{medians['runner.py site, no-op re-run'] - medians['site no-op, no monitoring']:+.1f} s to a no-op re-run; "
          f"head fault tolerance adds {medians['site cold, no monitoring'] - medians['site cold, no monitoring, no FT']:+.1f} s "
          "to a cold site")
    # Leave the default deployment in place.
    subprocess.run(site, cwd=ROOT, check=True, capture_output=True)


if __name__ == "__main__":
    main()
