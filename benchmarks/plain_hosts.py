"""Baseline for bench_hosts.py: the same multi-host cluster by hand, without Ansible.

    .venv/bin/python -m benchmarks.plain_hosts [--hosts 1 4]

On fresh lab hosts (engine installed but stopped, no Ray image) it does what a user would type on
each machine, through `docker exec` instead of SSH: write daemon.json with the mirror, start
dockerd, pull the image (all hosts at once), run the head, then every worker at once, and wait
until the dashboard reports every node alive. No configuration merge, no checks, no check job.
It prints wall time and the machine's CPU time, to show how the cold time of N hosts scales on
this machine when the orchestration costs next to nothing.
"""

import argparse
import json
import secrets
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from benchmarks.bench_hosts import busy_cpu_seconds
from tests import lab

ROOT = Path(__file__).resolve().parent.parent


TOKEN_PATH = "/etc/ray-plain/token"


def sh(host, script):
    lab.host_exec(host, "sh", "-ec", script)


def prepare(host, mirror, image, token):
    """Engine with the mirror, the image, the token: one host's part before Ray starts."""
    sh(host, f"""
mkdir -p /etc/docker /etc/ray-plain
echo '{json.dumps({"registry-mirrors": [mirror]})}' > /etc/docker/daemon.json
start-stop-daemon --start --background --oknodo --pidfile /var/run/docker.pid --output /var/log/dockerd.log \\
  --exec /usr/sbin/dockerd -- --pidfile /var/run/docker.pid
until docker info >/dev/null 2>&1; do sleep 0.2; done
docker pull -q {image} >/dev/null
printf %s {token} > {TOKEN_PATH}
chown 1000:100 {TOKEN_PATH}
chmod 600 {TOKEN_PATH}
""")


def run_node(host, address, image, head_address=None):
    start = (["ray", "start", "--head", "--port=6379", "--dashboard-host=0.0.0.0"] if head_address is None
             else ["ray", "start", f"--address={head_address}:6379"])
    lab.host_exec(host, "docker", "run", "-d", "--name", "plain-ray", "--network", "host", "--shm-size", "1g",
                  "-e", "RAY_AUTH_MODE=token", "-e", "RAY_AUTH_TOKEN_PATH=/run/secrets/ray_auth_token",
                  "-v", f"{TOKEN_PATH}:/run/secrets/ray_auth_token:ro", image,
                  *start, f"--node-ip-address={address}", "--disable-usage-stats", "--block")


def wait_alive(head_address, token, count, timeout=600):
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(f"http://{head_address}:8265/api/v0/nodes?limit=100",
                                     headers={"Authorization": "Bearer " + token})
    while time.monotonic() < deadline:
        try:
            rows = json.load(urllib.request.urlopen(request, timeout=5))["data"]["result"]["result"]
            if sum(row["state"] == "ALIVE" for row in rows) == count:
                return
        except Exception:
            pass
        time.sleep(0.5)
    sys.exit(f"timed out waiting for {count} alive nodes")


def deploy(count):
    lab.remove_hosts()
    inventory = yaml.safe_load(lab.ensure_hosts(count).read_text())["all"]
    mirror = inventory["vars"]["docker_registry_mirrors"][0]
    hosts = {**inventory["children"]["ray_head"]["hosts"], **(inventory["children"]["ray_workers"].get("hosts") or {})}
    addresses = {name: values["ansible_host"] for name, values in hosts.items()}
    head = next(iter(addresses))
    repository, tag, _ = lab.pinned_image()
    image, token = f"{repository}:{tag}", secrets.token_hex(32)
    started, cpu = time.monotonic(), busy_cpu_seconds()
    with ThreadPoolExecutor(len(addresses)) as pool:
        list(pool.map(lambda host: prepare(host, mirror, image, token), addresses))
        run_node(head, addresses[head], image)
        list(pool.map(lambda host: run_node(host, addresses[host], image, addresses[head]),
                      [host for host in addresses if host != head]))
    wait_alive(addresses[head], token, count)
    return time.monotonic() - started, busy_cpu_seconds() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    rows = {}
    for count in args.hosts:
        rows[count] = deploy(count)
        print(f"{count} host(s): plain cold {rows[count][0]:.1f} s ({rows[count][1]:.0f} CPU s)", file=sys.stderr, flush=True)
    lab.remove_hosts()
    print(f"{'hosts':>5} {'plain cold s':>13} {'CPU s':>7}")
    for count, (wall, cpu) in rows.items():
        print(f"{count:>5} {wall:13.1f} {cpu:7.0f}")
    if 1 in rows and 4 in rows:
        print(f"\nplain, 4 hosts / 1 host (cold): {rows[4][0] / rows[1][0]:.2f}x")


if __name__ == "__main__":
    main()
