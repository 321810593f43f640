"""Test lab: a real Docker engine, a real registry mirror, and a Ray image served by that mirror.

Docker Hub is unreachable from the machines this project is tested on, so the lab builds an image that
mimics the official rayproject/ray where the project relies on it (user ray with uid 1000 and gid 100,
HOME /home/ray, `ray` and `python` on PATH) from Debian packages and PyPI wheels, and pushes it to a
local CNCF registry. The project's tests then pull rayproject/ray:<tag> through that mirror, exactly as
a user behind a registry mirror would.

Everything slow (Debian rootfs, wheels, registry storage) is cached in RAYLAB_CACHE (default
~/.cache/raylab), so a second `up`, or `up` from another checkout on the same machine, takes seconds.

    python -m tests.lab up       # engine + registry + image; prints the mirror URL last on stdout
    python -m tests.lab hosts 3  # lab hosts raylab-host-0..2; prints their inventory's path last
    python -m tests.lab down     # removes the lab hosts, stops the registry; keeps engine and cache
    python -m tests.lab status

Lab hosts are Debian containers that stand in for the machines a user deploys to: reachable over real
SSH with the lab key, with Docker installed but not running, so the project's docker role starts it
(Docker-in-Docker) and points it at the lab mirror through the hosts' bridge gateway.

Standard library only: it runs under the system python3 as well as under the project's venv.
"""

from __future__ import annotations

import argparse
import fcntl
import functools
import hashlib
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

MIRROR_URL = "http://127.0.0.1:5000"
# Image names pushed into the mirror start with its address (loopback registries need no TLS).
MIRROR_HOST = "127.0.0.1:5000"

REPO_ROOT = Path(__file__).resolve().parent.parent
RAY_DEFAULTS = REPO_ROOT / "roles" / "ray" / "defaults" / "main.yml"
# Used until the ray role exists, so the lab works on its own.
FALLBACK_IMAGE = ("rayproject/ray", "2.60.0-py311-cpu", "2.60.0")

DEBIAN_SUITE = "bookworm"
# Lab hosts can also run Debian 13 (Docker 26): the engine features that came with Docker 23, such
# as `dockerd --validate`, are tested there. Per release: the engine's packages (Debian 13 ships the
# docker CLI in its own package, which docker.io only recommends) and extra `docker run` flags
# (Docker 23+ sets sysctls in each container's network namespace, which needs /proc/sys writable
# in the lab host; Docker 20.10 does not touch it).
HOST_SUITES = {
    "bookworm": {"engine_packages": "docker.io", "run_flags": []},
    "trixie": {"engine_packages": "docker.io docker-cli", "run_flags": ["--security-opt", "systempaths=unconfined"]},
}
DEBIAN_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"
# Debian 12's python3 is what runs Ray in the image, so wheels are chosen for it, not for the
# interpreter running this script: CPython 3.11 and glibc 2.36.
IMAGE_PYTHON = "3.11"
IMAGE_GLIBC_MINOR = 36
BASE_IMAGE = "raylab/debian:{suite}"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUILD_STAGE_LABEL = "raylab.stage=build"

DOCKER_PIDFILE = Path("/var/run/docker.pid")
DOCKERD_LOG = Path("/var/log/dockerd.log")
REGISTRY_BIN = "/usr/bin/docker-registry"
ENGINE_TIMEOUT = 60
REGISTRY_TIMEOUT = 30
APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

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
# Lab hosts are recreated at new addresses with the same host keys: never remember them.
SSH_COMMON_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
SSH_TIMEOUT = 60
MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
])

DOCKERFILE = """\
# Mimics the parts of the official rayproject/ray image the project relies on: user ray
# (uid 1000, gid 100 "users"), HOME /home/ray, ray and python on PATH from /home/ray/anaconda3.
FROM {base} AS base
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      python3 python3-venv procps ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 1000 --gid 100 --create-home --home-dir /home/ray --shell /bin/bash ray

# The wheels come from the host because pip inside containers cannot verify PyPI's certificate
# here. Installing in a separate stage keeps the wheel files out of the final image's layers.
FROM base AS build
LABEL {label}
COPY --chown=1000:100 wheels /tmp/wheels
USER ray
RUN python3 -m venv /home/ray/anaconda3 \\
 && /home/ray/anaconda3/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels \\
      "ray[default]=={version}"

FROM base
COPY --from=build --chown=1000:100 /home/ray/anaconda3 /home/ray/anaconda3
ENV PATH=/home/ray/anaconda3/bin:$PATH HOME=/home/ray LANG=C.UTF-8
USER ray
WORKDIR /home/ray
CMD ["bash"]
"""

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
# /run is a tmpfs in lab hosts, so sshd's privilege separation directory is made at each start.
CMD ["sh", "-c", "mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e"]
"""


class LabError(RuntimeError):
    """A lab step failed; the message names the command and why."""


def say(message: str) -> None:
    """Progress goes to stderr so stdout carries only results (the mirror URL)."""
    print(f"lab: {message}", file=sys.stderr, flush=True)


def _tail(text: str | None, lines: int = 30) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])


def run(cmd, *, check: bool = True, **kw) -> subprocess.CompletedProcess:
    """Run a command, capturing its output; on failure raise LabError with the command line and the
    end of its output, because a bare CalledProcessError hides why the lab could not come up."""
    cmd = [str(part) for part in cmd]
    if "stdout" not in kw and "stderr" not in kw:
        kw["capture_output"] = True
    kw.setdefault("text", True)
    try:
        proc = subprocess.run(cmd, **kw)
    except FileNotFoundError as exc:
        raise LabError(f"`{shlex.join(cmd)}`: command not found ({exc.filename})") from exc
    if check and proc.returncode != 0:
        output = "\n".join(part for part in (_tail(proc.stdout), _tail(proc.stderr)) if part)
        raise LabError(f"`{shlex.join(cmd)}` exited with {proc.returncode}:\n{output}")
    return proc


def wait_until(probe, timeout: float, failure: str):
    """Poll probe() until it returns something truthy; daemons answer a few seconds after starting."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise LabError(failure)
        time.sleep(0.5)


def cache_dir() -> Path:
    """The lab's persistent state; shared by every checkout on the machine so rebuilds are rare."""
    path = Path(os.environ.get("RAYLAB_CACHE") or Path.home() / ".cache" / "raylab")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def locked(cache: Path):
    """Serialise concurrent lab commands (e.g. parallel test sessions) so they never build twice."""
    with open(cache / "lab.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# --- packages ---------------------------------------------------------------------------------

@functools.cache
def _apt_update() -> None:
    run(["apt-get", "update"], env=APT_ENV)


def apt_install(*packages: str) -> None:
    """CI starts on fresh Debian machines as root, so the lab installs what it needs itself."""
    say(f"installing {' '.join(packages)} with apt-get")
    _apt_update()
    run(["apt-get", "install", "-y", *packages], env=APT_ENV)


def ensure_command(command: str, package: str) -> str:
    """Path of command, installing its Debian package first when it is missing."""
    found = shutil.which(command)
    if not found:
        apt_install(package)
        found = shutil.which(command)
    if not found:
        raise LabError(f"{command} still missing after installing {package}")
    return found


# --- Docker engine ----------------------------------------------------------------------------

def engine_version() -> str | None:
    """The engine's version when it answers, else None."""
    if not shutil.which("docker"):
        return None
    proc = run(["docker", "info", "--format", "{{.ServerVersion}}"], check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _is_live_dockerd(pid: int) -> bool:
    """Without an init that reaps orphans, an ended dockerd can linger as a zombie; it counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    name, _, rest = stat.partition("(")[2].rpartition(")")
    return name == "dockerd" and rest.split()[0] != "Z"


def remove_stale_docker_pidfile() -> None:
    """dockerd refuses to start while its pid file names a live process, and the file outlives a
    daemon that ended with the previous session (its pid may since belong to something else)."""
    try:
        pid = int(DOCKER_PIDFILE.read_text().strip() or 0)
    except FileNotFoundError:
        return
    except ValueError:
        pid = 0
    if pid and _is_live_dockerd(pid):
        return
    say(f"removing stale {DOCKER_PIDFILE}")
    DOCKER_PIDFILE.unlink(missing_ok=True)


def ensure_engine() -> None:
    """Start dockerd directly: there is no systemd, and Debian's init script fails here because it
    raises the open-files limit beyond what root may. An engine that already answers is kept."""
    version = engine_version()
    if version:
        say(f"Docker engine {version} answering")
        return
    if not (shutil.which("dockerd") and shutil.which("docker")):
        apt_install("docker.io")
    remove_stale_docker_pidfile()
    say(f"starting dockerd (log: {DOCKERD_LOG})")
    # dockerd writes its pid file itself; start-stop-daemon only reads it to skip a running one.
    run(["start-stop-daemon", "--start", "--background", "--oknodo",
         "--pidfile", DOCKER_PIDFILE, "--output", DOCKERD_LOG, "--exec", shutil.which("dockerd")])
    version = wait_until(engine_version, ENGINE_TIMEOUT,
                         f"Docker engine did not answer within {ENGINE_TIMEOUT} s; see {DOCKERD_LOG}")
    say(f"Docker engine {version} answering")


def restart_engine() -> None:
    """Stop dockerd and start it again. The benchmarks do it before every cold run: on Docker 20.10
    each pull-and-remove cycle makes the next pull slower (10 s, 13 s, 19 s) until dockerd restarts,
    which would penalise whichever cold run comes later."""
    if shutil.which("systemctl") and run(["systemctl", "is-active", "--quiet", "docker"], check=False).returncode == 0:
        run(["systemctl", "restart", "docker"])
        wait_until(engine_version, ENGINE_TIMEOUT, f"Docker engine did not answer within {ENGINE_TIMEOUT} s after a restart")
        return
    run(["start-stop-daemon", "--stop", "--oknodo", "--retry", "TERM/30/KILL/5", "--pidfile", DOCKER_PIDFILE])
    ensure_engine()


# --- registry mirror --------------------------------------------------------------------------

# The mirror is on loopback: never send its requests through an HTTP proxy from the environment.
_local_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _mirror_get(path: str, headers: dict | None = None) -> bool:
    request = urllib.request.Request(MIRROR_URL + path, headers=headers or {})
    try:
        with _local_http.open(request, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def registry_answers() -> bool:
    return _mirror_get("/v2/")


def mirror_has(repository: str, tag: str) -> bool:
    """True when the mirror can serve repository:tag (what `docker pull` asks it for)."""
    return _mirror_get(f"/v2/{repository}/manifests/{tag}", {"Accept": MANIFEST_TYPES})


def registry_paths(cache: Path) -> dict[str, Path]:
    return {
        "config": cache / "registry.yml",
        "storage": cache / "registry",
        "pidfile": cache / "registry.pid",
        "log": cache / "registry.log",
    }


def write_registry_config(paths: dict[str, Path]) -> None:
    """JSON is valid YAML, so the registry's config needs no YAML library. Storage lives in the
    cache so pushed images survive `down` and new checkouts."""
    config = {
        "version": "0.1",
        "log": {"level": "info"},
        "storage": {"filesystem": {"rootdirectory": str(paths["storage"])}},
        "http": {"addr": "0.0.0.0:5000"},
    }
    paths["config"].write_text(json.dumps(config, indent=2) + "\n")


def ensure_registry(cache: Path) -> None:
    """Run Debian's CNCF registry on 0.0.0.0:5000 (lab hosts reach it through the bridge gateway)."""
    if registry_answers():
        say(f"registry answering at {MIRROR_URL}")
        return
    binary = ensure_command("docker-registry", "docker-registry")
    paths = registry_paths(cache)
    write_registry_config(paths)
    say(f"starting registry (log: {paths['log']})")
    run(["start-stop-daemon", "--start", "--background", "--oknodo", "--make-pidfile",
         "--pidfile", paths["pidfile"], "--output", paths["log"], "--exec", binary,
         "--", "serve", paths["config"]])
    wait_until(registry_answers, REGISTRY_TIMEOUT,
               f"registry did not answer within {REGISTRY_TIMEOUT} s; see {paths['log']}")
    say(f"registry answering at {MIRROR_URL}")


def stop_registry(cache: Path) -> None:
    """Stop only the registry the lab started (by its pid file)."""
    pidfile = registry_paths(cache)["pidfile"]
    if pidfile.exists():
        run(["start-stop-daemon", "--stop", "--oknodo", "--retry", "10", "--pidfile", pidfile,
             "--exec", shutil.which("docker-registry") or REGISTRY_BIN])
        pidfile.unlink()
        say("registry stopped")
    else:
        say("no lab registry running")
    if registry_answers():
        say(f"something not started by the lab still answers at {MIRROR_URL}; left alone")


# --- Ray image --------------------------------------------------------------------------------

def pinned_image() -> tuple[str, str, str]:
    """(repository, tag, ray_version) the project deploys, read from the ray role's defaults so the
    mirror always serves exactly what the roles pull."""
    if not RAY_DEFAULTS.exists():
        return FALLBACK_IMAGE
    text = RAY_DEFAULTS.read_text()
    values = {}
    for key in ("ray_image_repository", "ray_image_tag", "ray_version"):
        match = re.search(rf"^{key}:\s*[\"']?(.+?)[\"']?\s*(?:#.*)?$", text, re.MULTILINE)
        if not match:
            raise LabError(f"{RAY_DEFAULTS} has no `{key}:` line")
        values[key] = match.group(1)
    tag = re.sub(r"\{\{\s*ray_version\s*\}\}", values["ray_version"], values["ray_image_tag"])
    return values["ray_image_repository"], tag, values["ray_version"]


def debian_mirror() -> str:
    """The Debian archive this machine's apt already reaches, so debootstrap takes the same route."""
    if DEBIAN_SOURCES.exists():
        for stanza in re.split(r"\n\s*\n", DEBIAN_SOURCES.read_text()):
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.MULTILINE)
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.MULTILINE)
            if suites and uris and DEBIAN_SUITE in suites.group(1).split():
                return uris.group(1)
    return DEFAULT_DEBIAN_MIRROR


def ensure_rootfs(cache: Path, suite: str = DEBIAN_SUITE) -> Path:
    """A Debian base as a tarball, built once with debootstrap (no registry can provide one)."""
    tarball = cache / f"debian-{suite}-rootfs.tar"
    if tarball.exists():
        return tarball
    ensure_command("debootstrap", "debootstrap")
    rootfs = cache / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    mirror = debian_mirror()
    say(f"debootstrap {suite} from {mirror} (once)")
    run(["debootstrap", "--variant=minbase", suite, rootfs, mirror])
    partial = tarball.with_name(tarball.name + ".partial")
    # apt's downloaded packages and lists (80 MB) would only slow every pull: images built on this
    # base run apt-get update themselves.
    run(["tar", "--numeric-owner", "--exclude=./var/cache/apt/archives/*.deb",
         "--exclude=./var/lib/apt/lists/*_*", "-C", rootfs, "-cf", partial, "."])
    partial.rename(tarball)
    shutil.rmtree(rootfs)
    return tarball


def ensure_wheels(cache: Path, ray_version: str) -> Path:
    """ray[default] and its dependencies as wheels for the image's Python, downloaded once on the
    host (pip inside containers fails TLS verification here). Renamed into place only when complete."""
    target = cache / "wheels" / f"ray-{ray_version}"
    if target.is_dir():
        return target
    if importlib.util.find_spec("pip") is None:
        apt_install("python3-pip")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    arch = platform.machine()
    platforms = [f"manylinux_2_{minor}_{arch}" for minor in range(5, IMAGE_GLIBC_MINOR + 1)]
    platforms.append(f"manylinux2014_{arch}")  # pip widens it to manylinux2010 and manylinux1
    say(f"downloading ray[default]=={ray_version} wheels (once)")
    run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", partial,
         "--only-binary=:all:", "--implementation", "cp", "--python-version", IMAGE_PYTHON,
         "--abi", "cp" + IMAGE_PYTHON.replace(".", ""),
         *(arg for name in platforms for arg in ("--platform", name)),
         f"ray[default]=={ray_version}"])
    partial.rename(target)
    return target


def docker_inspect(kind: str, name: str) -> dict | None:
    """`docker <kind> inspect` of one object as a dict, or None when the engine has no such object."""
    proc = run(["docker", kind, "inspect", name], check=False)
    return json.loads(proc.stdout)[0] if proc.returncode == 0 else None


def ensure_base_image(cache: Path, suite: str = DEBIAN_SUITE) -> str:
    """Import the Debian base from the cached rootfs when the engine lacks it (builds remove it
    afterwards, so the engine keeps nothing the lab does not need); its name."""
    base = BASE_IMAGE.format(suite=suite)
    if not docker_inspect("image", base):
        rootfs = ensure_rootfs(cache, suite)
        say(f"importing {base}")
        run(["docker", "import", "--change", f"ENV PATH={BASE_PATH}", rootfs, base])
    return base


def build_image(ref: str, base: str, wheels: Path, ray_version: str, cache: Path) -> None:
    """Build the Ray image from the imported Debian base with the wheels in the build context.
    DOCKER_BUILDKIT=0: Debian's engine 20.10 has no buildx, and the legacy builder is enough."""
    with tempfile.TemporaryDirectory(dir=cache, prefix="build-") as context:
        # Hard links: the context lives in the cache, so the 110 MB of wheels are not copied.
        shutil.copytree(wheels, Path(context) / "wheels", copy_function=os.link)
        dockerfile = DOCKERFILE.format(base=base, label=BUILD_STAGE_LABEL, version=ray_version)
        (Path(context) / "Dockerfile").write_text(dockerfile)
        say(f"building {ref}")
        run(["docker", "build", "--force-rm", "-t", ref, context],
            env={**os.environ, "DOCKER_BUILDKIT": "0"})


def check_image(ref: str, ray_version: str) -> None:
    """Fail before pushing if the image lacks what the project relies on from the official one."""
    out = run(["docker", "run", "--rm", ref, "bash", "-c",
               "ray --version && python --version && id && echo HOME=$HOME"]).stdout
    say("image check: " + " | ".join(out.strip().splitlines()))
    expected = [f"version {ray_version}", "Python 3.", "uid=1000(", "gid=100(", "HOME=/home/ray"]
    missing = [text for text in expected if text not in out]
    if missing:
        raise LabError(f"{ref} is not what the project expects (missing {missing}):\n{out}")


def remove_build_images(ref: str, base: str) -> None:
    """The project's tests must pull the Ray image through the mirror starting from an engine that
    holds none of its layers, so nothing built here stays on the engine."""
    run(["docker", "rmi", ref], check=False)
    # The build stage is untagged; its label scopes the prune to the lab's own leftovers.
    run(["docker", "image", "prune", "--force", "--filter", f"label={BUILD_STAGE_LABEL}"], check=False)
    run(["docker", "rmi", base], check=False)


def ensure_image(cache: Path) -> None:
    """Make the mirror serve the pinned Ray image, building and pushing it only when it is missing."""
    repository, tag, ray_version = pinned_image()
    if mirror_has(repository, tag):
        say(f"mirror serves {repository}:{tag}")
        return
    ref = f"{MIRROR_HOST}/{repository}:{tag}"
    wheels = ensure_wheels(cache, ray_version)
    base = BASE_IMAGE.format(suite=DEBIAN_SUITE)  # the image's python3 is Debian 12's (IMAGE_PYTHON)
    try:
        ensure_base_image(cache, DEBIAN_SUITE)
        build_image(ref, base, wheels, ray_version, cache)
        check_image(ref, ray_version)
        say(f"pushing {ref}")
        run(["docker", "push", ref])
    finally:
        remove_build_images(ref, base)
    say(f"mirror serves {repository}:{tag}")


# --- lab hosts --------------------------------------------------------------------------------

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
    dockerfile = HOST_DOCKERFILE.format(base=BASE_IMAGE.format(suite=suite),
                                        engine_packages=HOST_SUITES[suite]["engine_packages"])
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
    base = ensure_base_image(cache, suite)
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
                "-o", "LogLevel=ERROR", *SSH_COMMON_ARGS.split(), f"root@{address}", "true"], check=False)
    return proc.returncode == 0


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
            "ansible_ssh_common_args": SSH_COMMON_ARGS,
            "ansible_python_interpreter": "/usr/bin/python3",
            "docker_registry_mirrors": [f"http://{gateway}:{urllib.parse.urlsplit(MIRROR_URL).port}"],
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


# --- entry points -----------------------------------------------------------------------------

def ensure_up() -> str:
    """Bring the whole lab up (idempotent) and return the mirror URL; for pytest fixtures."""
    cache = cache_dir()
    with locked(cache):
        ensure_engine()
        ensure_registry(cache)
        ensure_image(cache)
    return MIRROR_URL


def cmd_up(args: argparse.Namespace) -> int:
    started = time.monotonic()
    url = ensure_up()
    say(f"up in {time.monotonic() - started:.1f} s")
    print(url)
    return 0


def cmd_hosts(args: argparse.Namespace) -> int:
    started = time.monotonic()
    inventory = ensure_hosts(args.count, args.suite)
    say(f"{args.count} lab host(s) answering SSH in {time.monotonic() - started:.1f} s")
    print(inventory)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    remove_hosts()
    cache = cache_dir()
    with locked(cache):
        stop_registry(cache)
    say(f"Docker engine left running; cache kept in {cache} (delete it to rebuild from nothing)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Exit status 0 only when the lab is fully up, so scripts can test it."""
    version = engine_version()
    registry = registry_answers()
    repository, tag, _ = pinned_image()
    image = registry and mirror_has(repository, tag)
    print(f"engine:   {'up (Docker ' + version + ')' if version else 'down'}")
    print(f"registry: {'up at ' + MIRROR_URL if registry else 'down'}")
    print(f"image:    {repository}:{tag} {'in the mirror' if image else 'not in the mirror'}")
    if version:
        running = sorted(name for name, (up, _) in lab_hosts().items() if up)
        print(f"hosts:    {' '.join(running) if running else 'none'}")
    return 0 if version and registry and image else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("up", help="start engine and registry, make the mirror serve the Ray image; "
                        "prints the mirror URL").set_defaults(func=cmd_up)
    hosts = commands.add_parser("hosts", help="run exactly COUNT lab hosts (Debian with sshd and an idle "
                                "Docker engine); prints the path of their inventory")
    hosts.add_argument("count", type=int, metavar="COUNT")
    hosts.add_argument("--suite", choices=list(HOST_SUITES), default=DEBIAN_SUITE,
                       help=f"Debian release of the hosts (default {DEBIAN_SUITE}; trixie has Docker 26)")
    hosts.set_defaults(func=cmd_hosts)
    commands.add_parser("down", help="remove the lab hosts and stop the registry (engine and cache "
                        "are kept)").set_defaults(func=cmd_down)
    commands.add_parser("status", help="say what is up").set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LabError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
