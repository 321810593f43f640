"""Lab hosts: Debian containers that stand in for the machines a user deploys to, reached over SSH
with the lab key, with an idle Docker engine, and an Ansible inventory naming them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

from .engine import engine_version
from .images import BASE_IMAGE, DEBIAN_SUITE, ensure_base_image
from .grafana import serves_grafana
from .registry import MIRROR_URL
from .up import ensure_up
from .util import LabError, cache_dir, docker_inspect, ensure_command, locked, run, say, wait_until

# Lab host kinds. Debian 13 (Docker 26): the engine features that came with Docker 23, such as
# `dockerd --validate`, are tested there. "bookworm-systemd": Debian 12 with systemd as PID 1, so the
# role's systemd start and reload paths meet a real systemd (the plain hosts run sshd alone, as the
# project's own machine runs without an init system). Per kind: the Debian release, the engine's
# packages (Debian 13 ships the docker CLI in its own package, which docker.io only recommends),
# extra `docker run` flags (Docker 23+ sets sysctls in each container's network namespace, which
# needs /proc/sys writable in the lab host; Docker 20.10 does not touch it) and how the host starts.
SSHD_ONLY = """\
# /run is a tmpfs in lab hosts, so sshd's privilege separation directory is made at each start.
CMD ["sh", "-c", "mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e"]
"""
SYSTEMD_INIT = """\
# systemd starts sshd; the engine is installed but neither enabled nor running, as on a fresh machine.
RUN systemctl disable docker.service docker.socket containerd.service && systemctl enable ssh.service
ENV container=docker
STOPSIGNAL SIGRTMIN+3
CMD ["/lib/systemd/systemd"]
"""
HOST_SUITES = {
    "bookworm": {"release": "bookworm", "engine_packages": "docker.io", "run_flags": [], "start": SSHD_ONLY},
    "trixie": {"release": "trixie", "engine_packages": "docker.io docker-cli",
               "run_flags": ["--security-opt", "systempaths=unconfined"], "start": SSHD_ONLY},
    "bookworm-systemd": {"release": "bookworm", "engine_packages": "docker.io systemd systemd-sysv",
                         "run_flags": ["--tmpfs", "/run/lock"], "start": SYSTEMD_INIT},
}

HOST_IMAGE = "raylab/host:{suite}"
# The image's label holds a hash of what it was built from; a different hash means rebuild.
HOST_SOURCE_LABEL = "raylab.host-source"
HOST_LABEL = "raylab.host=1"
HOST_NETWORK = "raylab"
HOST_PREFIX = "raylab-host-"
INVENTORY_NAME = "hosts-inventory.yml"
# --privileged fails here (root lacks CAP_SYS_RESOURCE); these are enough for dockerd inside.
# /var/lib/docker is an anonymous volume because overlay2 cannot sit on the container's overlayfs.
# SYS_PTRACE: root in a real host may `docker exec` into containers of other users (Ray runs as uid 1000).
HOST_RUN_FLAGS = [
    "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--cap-add", "SYS_PTRACE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run", "-v", "/var/lib/docker",
]
# Reached like a user's machines: host keys checked strictly against a known_hosts file the lab writes from each
# host's own keys when it starts it (the hosts are recreated at new addresses, so the file is rewritten then).
KNOWN_HOSTS_NAME = "known_hosts"


def ssh_common_args(cache: Path) -> str:
    return f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={cache / KNOWN_HOSTS_NAME}"
SSH_TIMEOUT = 60

HOST_DOCKERFILE = """\
# A fresh machine to deploy to: Docker installed but not running (the project's docker role starts
# it), sshd with key-only root login, python3 and the Docker SDK the community.docker modules need.
FROM {base}
# policy-rc.d exiting 101 stops the packages' maintainer scripts from starting services in the build.
RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \\
 && apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      {engine_packages} openssh-server python3 python3-docker iproute2 procps ca-certificates \\
 && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d
RUN ssh-keygen -A \\
 && printf 'PermitRootLogin prohibit-password\\nPasswordAuthentication no\\n' \\
      > /etc/ssh/sshd_config.d/raylab.conf
COPY authorized_keys /root/.ssh/authorized_keys
RUN chmod 700 /root/.ssh && chmod 600 /root/.ssh/authorized_keys
{start}"""


def ensure_key(cache: Path) -> Path:
    """The lab's SSH key pair, made once: baked into the host image, named in the inventory.
    openssh-client also brings the ssh that waits for the hosts."""
    ensure_command("ssh", "openssh-client")
    key = cache / "lab_key"
    public = key.with_name(key.name + ".pub")
    if key.exists() and public.exists():
        return key
    key.unlink(missing_ok=True)
    public.unlink(missing_ok=True)
    say(f"generating the lab SSH key {key}")
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "raylab", "-f", key])
    return key


def host_image_source(key: Path, suite: str = DEBIAN_SUITE) -> tuple[str, str]:
    """(Dockerfile, hash of everything the host image is built from): the public key is baked in,
    so a new key needs a new image just as a changed Dockerfile does."""
    kind = HOST_SUITES[suite]
    dockerfile = HOST_DOCKERFILE.format(base=BASE_IMAGE.format(suite=kind["release"]),
                                        engine_packages=kind["engine_packages"], start=kind["start"])
    public = key.with_name(key.name + ".pub").read_text()
    return dockerfile, hashlib.sha256((dockerfile + public).encode()).hexdigest()


def host_image_id(source_hash: str, suite: str = DEBIAN_SUITE) -> str | None:
    """Id of the host image when it exists and was built from source_hash, else None."""
    image = docker_inspect("image", HOST_IMAGE.format(suite=suite))
    labels = image and image["Config"]["Labels"] or {}
    return image["Id"] if labels.get(HOST_SOURCE_LABEL) == source_hash else None


def ensure_host_image(cache: Path, key: Path, suite: str = DEBIAN_SUITE) -> str:
    """Build the host image unless the one on the engine was built from the same source; its id."""
    dockerfile, source_hash = host_image_source(key, suite)
    image_id = host_image_id(source_hash, suite)
    if image_id:
        return image_id
    started = time.monotonic()
    base = ensure_base_image(cache, HOST_SUITES[suite]["release"])
    image = HOST_IMAGE.format(suite=suite)
    with tempfile.TemporaryDirectory(dir=cache, prefix="build-") as context:
        (Path(context) / "Dockerfile").write_text(dockerfile)
        shutil.copyfile(key.with_name(key.name + ".pub"), Path(context) / "authorized_keys")
        say(f"building {image}")
        run(["docker", "build", "--force-rm", "--label", f"{HOST_SOURCE_LABEL}={source_hash}",
             "-t", image, context], env={**os.environ, "DOCKER_BUILDKIT": "0"})
    # Untagging the base keeps its layer, which the host image uses.
    run(["docker", "rmi", base], check=False)
    say(f"built {image} in {time.monotonic() - started:.1f} s")
    return docker_inspect("image", image)["Id"]


def ensure_network() -> str:
    """The hosts' bridge network; returns its gateway, the address at which the hosts reach this
    machine (and so the registry listening on 0.0.0.0:5000)."""
    if not docker_inspect("network", HOST_NETWORK):
        run(["docker", "network", "create", HOST_NETWORK])
    return docker_inspect("network", HOST_NETWORK)["IPAM"]["Config"][0]["Gateway"]


def host_name(index: int) -> str:
    return f"{HOST_PREFIX}{index}"


def lab_hosts() -> dict[str, tuple[bool, str]]:
    """Every lab host container, running or not: name -> (running, image id)."""
    ids = run(["docker", "ps", "-aq", "--filter", f"label={HOST_LABEL}"]).stdout.split()
    if not ids:
        return {}
    containers = json.loads(run(["docker", "container", "inspect", *ids]).stdout)
    return {c["Name"].lstrip("/"): (c["State"]["Running"], c["Image"]) for c in containers}


def host_exec(name: str, *cmd, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command in a lab host with `docker exec` (output captured), e.g. to look behind SSH."""
    return run(["docker", "exec", name, *cmd], check=check)


def remove_host_containers(names) -> None:
    """Remove lab hosts with their anonymous volumes (each one's /var/lib/docker would pile up).
    Each host's own engine first removes the containers it runs: with --cgroupns host their cgroups
    sit in this machine's tree, and outlive a host removed while they run."""
    if names:
        say(f"removing {' '.join(names)}")
        for name in names:
            host_exec(name, "sh", "-c", "docker ps -q 2>/dev/null | xargs -r docker rm -f", check=False)
        run(["docker", "rm", "-f", "-v", *names])
    # A rebuilt host image leaves the previous one untagged; it can go once no host runs from it.
    run(["docker", "image", "prune", "--force", "--filter", f"label={HOST_SOURCE_LABEL}"], check=False)


def start_host(name: str, image_id: str, suite: str = DEBIAN_SUITE) -> None:
    say(f"starting {name}")
    run(["docker", "run", "-d", "--name", name, "--hostname", name, "--network", HOST_NETWORK,
         "--label", HOST_LABEL, *HOST_RUN_FLAGS, *HOST_SUITES[suite]["run_flags"], image_id])


def host_address(name: str) -> str:
    return docker_inspect("container", name)["NetworkSettings"]["Networks"][HOST_NETWORK]["IPAddress"]


def ssh_answers(address: str, key: Path) -> bool:
    proc = run(["ssh", "-i", key, "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                "-o", "LogLevel=ERROR", *ssh_common_args(key.parent).split(), f"root@{address}", "true"], check=False)
    return proc.returncode == 0


def host_keys(name: str) -> list[str]:
    """The sshd public host keys of a running lab host ("type key" each), read behind SSH."""
    out = host_exec(name, "sh", "-c", "cat /etc/ssh/ssh_host_*_key.pub").stdout
    return [" ".join(line.split()[:2]) for line in out.splitlines() if line.strip()]


def write_known_hosts(cache: Path, addresses: dict[str, str]) -> Path:
    """known_hosts for the current lab hosts on port 22, as ssh writes it (other entries, e.g. those the tests
    record for a distribution's own port, are kept unless their address now belongs to another host)."""
    path = cache / KNOWN_HOSTS_NAME
    taken = set(addresses.values())
    kept = [line for line in (path.read_text().splitlines() if path.exists() else [])
            if line.split(" ", 1)[0].strip("[").split("]")[0] not in taken]
    lines = kept + [f"{address} {key}" for name, address in addresses.items() for key in host_keys(name)]
    path.write_text("".join(line + "\n" for line in lines))
    return path


def wait_for_ssh(name: str, address: str, key: Path) -> None:
    """A host counts as up only when a real SSH login works, as Ansible will use it."""
    wait_until(lambda: ssh_answers(address, key), SSH_TIMEOUT,
               f"{name} ({address}) did not accept SSH within {SSH_TIMEOUT} s; see `docker logs {name}`")


def to_yaml(value, indent: int = 0) -> str:
    """Block YAML for nested dicts; scalars and lists as JSON, which YAML reads as flow style with
    safe quoting. Enough for an inventory without a YAML library."""
    pad = "  " * indent
    lines = []
    for key, item in value.items():
        if isinstance(item, dict) and item:
            lines.append(f"{pad}{key}:\n{to_yaml(item, indent + 1)}")
        else:
            lines.append(f"{pad}{key}: {json.dumps(item)}")
    return "\n".join(lines)


def write_inventory(cache: Path, addresses: dict[str, str], key: Path, gateway: str) -> Path:
    """Inventory for the project: the first host is the head, the rest are workers, and every
    host's engine gets the lab registry (on this machine, through the gateway) as its mirror."""
    names = list(addresses)
    hosts = {name: {"ansible_host": addresses[name]} for name in names}
    inventory = {"all": {
        "vars": {
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(key),
            "ansible_ssh_common_args": ssh_common_args(cache),
            "ansible_python_interpreter": "/usr/bin/python3",
            "docker_registry_mirrors": [f"http://{gateway}:{urllib.parse.urlsplit(MIRROR_URL).port}"],
            # Grafana only when the lab's mirror serves it (see grafana.py).
            "ray_monitoring_grafana_enabled": serves_grafana(),
        },
        "children": {
            "ray_head": {"hosts": {name: hosts[name] for name in names[:1]}},
            "ray_workers": {"hosts": {name: hosts[name] for name in names[1:]}},
        },
    }}
    path = cache / INVENTORY_NAME
    path.write_text(f"# Lab hosts, written by `python -m tests.lab hosts {len(names)}`.\n---\n"
                    + to_yaml(inventory) + "\n")
    return path.resolve()


def ensure_hosts(n: int, suite: str = DEBIAN_SUITE) -> Path:
    """Make exactly n lab hosts run Debian `suite` (idempotent: running hosts from the current image
    are kept) and return their inventory's path; for pytest fixtures."""
    if suite not in HOST_SUITES:
        raise LabError(f"lab hosts run one of {', '.join(HOST_SUITES)}, not {suite!r}")
    ensure_up()
    cache = cache_dir()
    with locked(cache):
        key = ensure_key(cache)
        image_id = ensure_host_image(cache, key, suite)
        gateway = ensure_network()
        wanted = [host_name(index) for index in range(n)]
        current = lab_hosts()
        keep = [name for name in wanted if current.get(name) == (True, image_id)]
        remove_host_containers([name for name in current if name not in keep])
        for name in wanted:
            if name not in keep:
                start_host(name, image_id, suite)
        addresses = {name: host_address(name) for name in wanted}
        write_known_hosts(cache, addresses)
        for name, address in addresses.items():
            wait_for_ssh(name, address, key)
        return write_inventory(cache, addresses, key, gateway)


def remove_hosts() -> None:
    """Remove every lab host (found by label, so hosts from any n go), their network and inventory."""
    if not engine_version():
        say("Docker engine not answering; no lab hosts to remove")
        return
    cache = cache_dir()
    with locked(cache):
        remove_host_containers(list(lab_hosts()))
        if docker_inspect("network", HOST_NETWORK):
            run(["docker", "network", "rm", HOST_NETWORK])
            say(f"network {HOST_NETWORK} removed")
        (cache / INVENTORY_NAME).unlink(missing_ok=True)
