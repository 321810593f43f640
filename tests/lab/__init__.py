"""Test lab: a real Docker engine, a real registry mirror, and the images the project pulls (Ray, Redis,
Prometheus; Grafana when an archive is given) served by that mirror.

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

One module per concern; this package re-exports what callers use (`from tests import lab`):

    util      running commands, waiting, the cache and its lock, apt, docker inspect
    engine    the Docker engine (started without systemd, restarted for the benchmarks)
    registry  the registry mirror
    images    Debian base image, and building, checking and pushing an image from a Recipe
    recipes   one small module per image the mirror serves (today: ray_image)
    up        ensure_up: engine, registry and every recipe's image
    hosts     lab hosts: SSH key, host image, network, containers, inventory
    cli       the command line (`python -m tests.lab`, via __main__)

Standard library only: it runs under the system python3 as well as under the project's venv.
"""

from __future__ import annotations

from .cli import main
from .engine import (
    DOCKER_PIDFILE,
    DOCKERD_LOG,
    ENGINE_TIMEOUT,
    engine_version,
    ensure_engine,
    remove_stale_docker_pidfile,
    restart_engine,
)
from .hosts import (
    HOST_DOCKERFILE,
    HOST_IMAGE,
    HOST_LABEL,
    HOST_NETWORK,
    HOST_PREFIX,
    HOST_RUN_FLAGS,
    HOST_SOURCE_LABEL,
    HOST_SUITES,
    INVENTORY_NAME,
    KNOWN_HOSTS_NAME,
    SSH_TIMEOUT,
    ensure_host_image,
    ensure_hosts,
    ensure_key,
    ensure_network,
    host_address,
    host_exec,
    host_image_id,
    host_image_source,
    host_name,
    lab_hosts,
    remove_host_containers,
    remove_hosts,
    host_keys,
    ssh_answers,
    ssh_common_args,
    start_host,
    to_yaml,
    wait_for_ssh,
    write_inventory,
    write_known_hosts,
)
from .images import (
    BASE_IMAGE,
    BASE_PATH,
    BUILD_STAGE_LABEL,
    DEBIAN_SOURCES,
    DEBIAN_SUITE,
    DEFAULT_DEBIAN_MIRROR,
    Recipe,
    build_image,
    check_image,
    debian_mirror,
    ensure_base_image,
    ensure_image,
    ensure_rootfs,
    remove_build_images,
)
from .grafana import ARCHIVE_VARIABLE as GRAFANA_ARCHIVE_VARIABLE, deploy_vars, ensure_standin as ensure_grafana_standin, grafana_tests_skip_reason, serves_grafana
from .recipes import all_recipes
from .recipes.ray_image import (
    FALLBACK_IMAGE,
    IMAGE_GLIBC_MINOR,
    IMAGE_PYTHON,
    OLDER_RAY_VERSION,
    ensure_wheels,
    pinned_image,
)
from .registry import (
    MANIFEST_TYPES,
    MIRROR_HOST,
    MIRROR_URL,
    REGISTRY_BIN,
    ray_versions,
    REGISTRY_TIMEOUT,
    ensure_registry,
    mirror_has,
    registry_answers,
    registry_paths,
    stop_registry,
    tag_in_mirror,
    write_registry_config,
)
from .up import ensure_up
from .util import (
    APT_ENV,
    REPO_ROOT,
    LabError,
    apt_install,
    cache_dir,
    docker_inspect,
    ensure_command,
    locked,
    run,
    say,
    wait_until,
)

__all__ = [
    "GRAFANA_ARCHIVE_VARIABLE",
    "deploy_vars",
    "ensure_grafana_standin",
    "grafana_tests_skip_reason",
    "serves_grafana",
    # util
    "APT_ENV", "REPO_ROOT", "LabError", "apt_install", "cache_dir", "docker_inspect", "ensure_command",
    "locked", "run", "say", "wait_until",
    # engine
    "DOCKER_PIDFILE", "DOCKERD_LOG", "ENGINE_TIMEOUT", "engine_version", "ensure_engine",
    "remove_stale_docker_pidfile", "restart_engine",
    # registry
    "MANIFEST_TYPES", "MIRROR_HOST", "MIRROR_URL", "REGISTRY_BIN", "REGISTRY_TIMEOUT", "ensure_registry",
    "mirror_has", "registry_answers", "registry_paths", "stop_registry", "tag_in_mirror", "write_registry_config",
    # images
    "BASE_IMAGE", "BASE_PATH", "BUILD_STAGE_LABEL", "DEBIAN_SOURCES", "DEBIAN_SUITE",
    "DEFAULT_DEBIAN_MIRROR", "Recipe", "build_image", "check_image", "debian_mirror",
    "ensure_base_image", "ensure_image", "ensure_rootfs", "remove_build_images",
    # recipes
    "all_recipes", "FALLBACK_IMAGE", "IMAGE_GLIBC_MINOR", "IMAGE_PYTHON",
    "ensure_wheels", "pinned_image", "OLDER_RAY_VERSION", "ray_versions",
    # up
    "ensure_up",
    # hosts
    "HOST_DOCKERFILE", "HOST_IMAGE", "HOST_LABEL", "HOST_NETWORK", "HOST_PREFIX", "HOST_RUN_FLAGS",
    "HOST_SOURCE_LABEL", "HOST_SUITES", "INVENTORY_NAME", "KNOWN_HOSTS_NAME", "SSH_TIMEOUT",
    "ensure_host_image", "ensure_hosts", "ensure_key", "ensure_network", "host_address", "host_exec",
    "host_image_id", "host_image_source", "host_name", "lab_hosts", "remove_host_containers",
    "remove_hosts", "ssh_answers", "ssh_common_args", "host_keys", "start_host", "to_yaml", "wait_for_ssh",
    "write_inventory", "write_known_hosts",
    # cli
    "main",
]
