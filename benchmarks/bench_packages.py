"""Benchmark: your packages on 3 lab hosts, built into one image versus installed on every node at its start.

    .venv/bin/python -m benchmarks.bench_packages [--packages polars==1.9.0 duckdb==1.1.3]

On 3 fresh lab hosts (one Ray node each, the stock image deployed first), a package set of about 50 MB of wheels
from the real package index (reached with this machine's CA bundle, as a user behind TLS inspection would):

- **per node at start** (what Ray's `setup_commands` does): `pip install` in every node's container at once, the way
  each node would run it before `ray start`, at every start of every node;
- **one image** (README "Your packages on every node"): `runner.py site -e ray_image_pip_packages=[...]`: built once on
  the head's host, pushed into the LAN registry there, pulled by the other hosts, every node swapped, the imports
  proven by the check. Paid once per change of the package list.

Printed for each: the wall time, and the bytes that came over the upstream link, i.e. from outside the lab's private
networks (an iptables counting chain on every lab host, INPUT and FORWARD, for sources outside 10/8, 172.16/12,
192.168/16 and 127/8). Removes the lab hosts at the end.
"""

import argparse
import json
import threading
import time

from benchmarks.bench_upgrade import site
from tests import lab

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PACKAGES = ["polars==1.9.0", "duckdb==1.1.3"]
CHAIN = "RLUPSTREAM"
PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8")
HOSTS = [f"raylab-host-{index}" for index in range(3)]


def count_upstream(host):
    """A chain on the lab host that counts what arrives from outside the private networks (no verdict: it returns)."""
    lab.host_exec(host, "iptables", "-N", CHAIN, check=False)
    lab.host_exec(host, "iptables", "-F", CHAIN)
    for network in PRIVATE:
        lab.host_exec(host, "iptables", "-A", CHAIN, "-s", network, "-j", "RETURN")
    lab.host_exec(host, "iptables", "-A", CHAIN)  # the counting rule
    for parent in ("INPUT", "FORWARD"):
        if lab.host_exec(host, "iptables", "-C", parent, "-j", CHAIN, check=False).returncode != 0:
            lab.host_exec(host, "iptables", "-I", parent, "-j", CHAIN)


def upstream_bytes(host):
    listing = lab.host_exec(host, "iptables", "-L", CHAIN, "-v", "-x", "-n").stdout.splitlines()
    return int(listing[-1].split()[1])


def zero(hosts):
    for host in hosts:
        lab.host_exec(host, "iptables", "-Z", CHAIN)


def node_of(host):
    return lab.host_exec(host, "docker", "ps", "--filter", "label=ray-docker.node", "--format", "{{.Names}}").stdout.split()[0]


def per_node_install(hosts, packages):
    """Seconds until every node's `pip install` ended (all at once, as nodes starting together would)."""
    nodes = {host: node_of(host) for host in hosts}
    for host, node in nodes.items():
        lab.run(["docker", "cp", CA_BUNDLE, f"{host}:/tmp/ca.crt"])
        lab.host_exec(host, "docker", "cp", "/tmp/ca.crt", f"{node}:/tmp/ca.crt")
    failures = []

    def install(host):
        done = lab.host_exec(host, "docker", "exec", nodes[host], "pip", "install", "--no-cache-dir", "--cert",
                             "/tmp/ca.crt", *packages, check=False)
        if done.returncode != 0:
            failures.append(f"{host}: {done.stderr[-1000:]}")

    started = time.monotonic()
    threads = [threading.Thread(target=install, args=(host,)) for host in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError("; ".join(failures))
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", nargs="+", default=PACKAGES)
    args = parser.parse_args()
    lab.ensure_up()
    lab.remove_hosts()
    inventory = lab.ensure_hosts(3)
    try:
        site("-i", str(inventory))
        for host in HOSTS:
            count_upstream(host)
        zero(HOSTS)
        seconds = per_node_install(HOSTS, args.packages)
        per_node = {host: upstream_bytes(host) for host in HOSTS}
        print(f"per node at start: {seconds:.1f} s, upstream {sum(per_node.values()) / 1e6:.1f} MB "
              f"({', '.join(f'{host} {value / 1e6:.1f}' for host, value in per_node.items())})", flush=True)
        zero(HOSTS)
        started = time.monotonic()
        packages = {"ray_image_pip_packages": args.packages, "ray_image_build_ca_file": CA_BUNDLE}
        summary = site("-i", str(inventory), "-e", json.dumps(packages))
        image_seconds = time.monotonic() - started
        image = {host: upstream_bytes(host) for host in HOSTS}
        upgrade = summary.get("upgrade") or {}
        print(f"one image: {image_seconds:.1f} s for the whole run (nodes down {upgrade.get('downtime_seconds')} s), "
              f"upstream {sum(image.values()) / 1e6:.1f} MB "
              f"({', '.join(f'{host} {value / 1e6:.1f}' for host, value in image.items())})", flush=True)
        print("\n| way | wall time (s) | over the upstream link (MB) | paid |\n|---|---|---|---|")
        print(f"| `pip install` on every node at its start | {seconds:.1f} | {sum(per_node.values()) / 1e6:.1f} | "
              "at every start of every node |")
        print(f"| one derived image (`ray_image_pip_packages`) | {image_seconds:.1f} | {sum(image.values()) / 1e6:.1f} | "
              "once per change of the list |")
    finally:
        lab.remove_hosts()


if __name__ == "__main__":
    main()
