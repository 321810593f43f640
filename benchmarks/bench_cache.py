"""Benchmark: a lab behind a slow mirror, without and with the LAN image cache (role registry_cache).

    .venv/bin/python -m benchmarks.bench_cache [--rate-mbit 160] [--hosts 4]

The slow upstream: a second registry serving the lab mirror's storage (read-only) from a network namespace of its
own, whose veth sends at --rate-mbit (tc tbf; 160 Mbit/s = 20 MB/s, a good public mirror). The lab hosts reach it
through this machine, which routes between their bridge and the namespace. Three cold runs (fresh lab hosts: engine
installed but stopped, no image), each `runner.py site -t docker,cache,image` with that upstream as the only mirror:
1 host; N hosts with registry_cache_enabled=false; N hosts with the cache.

Printed per run: the wall time, the pull phase (from the first fill or pull task to the last pull), the bytes the
upstream sent (its access log) and how many copies of each layer that is, and the busy CPU time of the machine
(divided by its CPUs: the least wall time that much work could take here, where the lab hosts share 2 CPUs and one disk).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests import lab

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "raylab-upstream"
HOST_SIDE, NS_SIDE = "rlup-host", "rlup-ns"
HOST_ADDRESS, UPSTREAM_ADDRESS = "10.77.0.1", "10.77.0.2"
UPSTREAM = f"http://{UPSTREAM_ADDRESS}:5000"
ACCESS = re.compile(r'^\S+ - - \[[^\]]+\] "GET /v2/(\S+)/blobs/(\S+) HTTP[^"]*" 200 (\d+)', re.MULTILINE)
PROGRESS = re.compile(r"^\[\s*([0-9.]+)s\]\s+\S+\s+\S+\s+(.*)$", re.MULTILINE)


def sh(*args, check=True):
    return subprocess.run([str(arg) for arg in args], check=check, capture_output=True, text=True)


def upstream_paths():
    folder = lab.cache_dir() / "bench-upstream"
    folder.mkdir(exist_ok=True)
    return {"config": folder / "registry.yml", "log": folder / "registry.log", "pid": folder / "registry.pid"}


def start_upstream(rate_mbit):
    """The lab mirror's images behind a link shaped to rate_mbit, at UPSTREAM."""
    stop_upstream()
    paths = upstream_paths()
    sh("ip", "netns", "add", NAMESPACE)
    sh("ip", "link", "add", HOST_SIDE, "type", "veth", "peer", "name", NS_SIDE)
    sh("ip", "link", "set", NS_SIDE, "netns", NAMESPACE)
    sh("ip", "addr", "add", f"{HOST_ADDRESS}/30", "dev", HOST_SIDE)
    sh("ip", "link", "set", HOST_SIDE, "up")
    inside = ("ip", "netns", "exec", NAMESPACE)
    sh(*inside, "ip", "addr", "add", f"{UPSTREAM_ADDRESS}/30", "dev", NS_SIDE)
    sh(*inside, "ip", "link", "set", NS_SIDE, "up")
    sh(*inside, "ip", "link", "set", "lo", "up")
    sh(*inside, "ip", "route", "add", "default", "via", HOST_ADDRESS)
    # What the upstream sends (the layers) leaves through its veth: shape that direction.
    sh(*inside, "tc", "qdisc", "add", "dev", NS_SIDE, "root", "tbf", "rate", f"{rate_mbit}mbit", "burst", "256kb",
       "latency", "50ms")
    storage = lab.registry_paths(lab.cache_dir())["storage"]
    paths["config"].write_text(json.dumps({
        "version": "0.1", "log": {"level": "warn", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "maintenance": {"readonly": {"enabled": True}}},
        "http": {"addr": f"{UPSTREAM_ADDRESS}:5000"}}))
    paths["log"].write_text("")
    sh(*inside, "start-stop-daemon", "--start", "--background", "--make-pidfile", "--pidfile", paths["pid"],
       "--output", paths["log"], "--exec", shutil.which("docker-registry"), "--", "serve", paths["config"])
    lab.wait_until(lambda: sh(*inside, "python3", "-c", f"import urllib.request; urllib.request.urlopen('{UPSTREAM}/v2/')",
                              check=False).returncode == 0, 30, "the shaped upstream did not answer")


def stop_upstream():
    pid = upstream_paths()["pid"]
    if pid.exists():
        sh("start-stop-daemon", "--stop", "--oknodo", "--retry", "10", "--pidfile", pid, check=False)
        pid.unlink()
    sh("ip", "netns", "del", NAMESPACE, check=False)  # removes the veth pair with it
    sh("ip", "link", "del", HOST_SIDE, check=False)


def upstream_bytes(offset):
    """(bytes of layers the upstream sent since `offset` of its log, {(repository, digest): [bytes per answer]})."""
    with open(upstream_paths()["log"], "rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    fetches = {}
    for repository, digest, size in ACCESS.findall(text):
        fetches.setdefault((repository, digest), []).append(int(size))
    return sum(sum(sizes) for sizes in fetches.values()), fetches


def busy_cpu_seconds():
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def pull_phase(stderr):
    """Seconds from the first fill or pull task to the last pull, from the runner's progress lines."""
    lines = PROGRESS.findall(stderr)
    starts = [float(at) for at, task in lines if task.startswith(("Fill the cache with what", "Pull the images through"))]
    ends = [float(at) for at, task in lines if task.startswith("Pull the missing images at once")]
    return (max(ends) - min(starts)) if starts and ends else float("nan")


def cold_run(hosts, cache):
    lab.remove_hosts()
    inventory = lab.ensure_hosts(hosts)
    extra = json.dumps({"docker_registry_mirrors": [UPSTREAM], "registry_cache_enabled": cache})
    offset = upstream_paths()["log"].stat().st_size
    started, cpu = time.monotonic(), busy_cpu_seconds()
    result = subprocess.run([sys.executable, "runner.py", "site", "-t", "docker,cache,image", "-i", str(inventory),
                             "-e", extra], cwd=ROOT, capture_output=True, text=True)
    wall, cpu = time.monotonic() - started, busy_cpu_seconds() - cpu
    if result.returncode != 0:
        sys.exit(f"the run on {hosts} host(s) failed:\n{result.stderr[-3000:]}")
    sent, fetches = upstream_bytes(offset)
    repository = lab.pinned_image()[0]
    ray = {key: sizes for key, sizes in fetches.items() if key[0] == repository}
    one_copy = sum(max(sizes) for sizes in ray.values())
    return {"wall": wall, "pulls": pull_phase(result.stderr), "bytes": sent,
            "copies": sum(sum(sizes) for sizes in ray.values()) / one_copy if one_copy else 0, "cpu": cpu}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate-mbit", type=int, default=160, help="the upstream link's rate (160 = 20 MB/s)")
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--runs", nargs="+", choices=["one", "without", "with"], default=["one", "without", "with"],
                        help="which cold runs (1 host; N hosts without the cache; N hosts with it)")
    args = parser.parse_args()
    lab.ensure_up()
    start_upstream(args.rate_mbit)
    rows = {}
    try:
        for key, label, hosts, cache in (("one", "1 host", 1, False),
                                         ("without", f"{args.hosts} hosts, no cache", args.hosts, False),
                                         ("with", f"{args.hosts} hosts, LAN cache", args.hosts, True)):
            if key not in args.runs:
                continue
            rows[label] = cold_run(hosts, cache)
            row = rows[label]
            print(f"{label}: {row['wall']:.1f} s (pulls {row['pulls']:.1f} s), {row['bytes'] / 1e6:.0f} MB from the upstream",
                  file=sys.stderr, flush=True)
    finally:
        lab.remove_hosts()
        stop_upstream()
    cpus = os.cpu_count()
    print(f"upstream link: {args.rate_mbit} Mbit/s ({args.rate_mbit / 8:.0f} MB/s), cold hosts, `site -t docker,cache,image`")
    print(f"{'run':<22} {'wall s':>7} {'pulls s':>8} {'x 1 host':>9} {'upstream MB':>12} {'Ray copies':>11} {'CPU s':>6} "
          f"{'floor s':>8}")
    base = rows["1 host"]["wall"] if "1 host" in rows else float("nan")
    for label, row in rows.items():
        print(f"{label:<22} {row['wall']:7.1f} {row['pulls']:8.1f} {row['wall'] / base:9.2f} {row['bytes'] / 1e6:12.0f} "
              f"{row['copies']:11.2f} {row['cpu']:6.0f} {row['cpu'] / cpus:8.1f}")
    print(f"(Ray copies: bytes of the Ray image's layers the upstream sent / one copy of them; floor: CPU s / {cpus} CPUs)")


if __name__ == "__main__":
    main()
