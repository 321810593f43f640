#!/usr/bin/python
"""Ansible module: read the LAN image cache's host (read-only): package, files, process, upstream, disk, log."""

DOCUMENTATION = r"""
module: registry_cache_info
short_description: Read the state of the LAN image cache on its host
version_added: 1.0.0
author: ray-docker maintainers
description:
  - Reads, and changes nothing, what the registry_cache role compares before it acts - whether Debian's
    C(docker-registry) package is installed, the cache's config and systemd unit as they are, whether it runs and
    answers, whether its upstream answers from this host, whether it holds any image, the free space of its disk,
    and the size of its log.
  - With O(log_offset), also the requests the cache answered and the layers it could not keep since that offset of
    its log (the role's report of who it served).
options:
  port:
    description: The port the cache listens on (asked on 127.0.0.1).
    type: int
    required: true
  upstream:
    description: The registry the cache proxies (its C(/v2/) is asked, with no HTTP proxy, for 5 seconds).
    type: str
    default: ""
  binary:
    description: The registry's executable.
    type: path
    default: /usr/bin/docker-registry
  config_file:
    description: The cache's config.
    type: path
    required: true
  unit_file:
    description: The cache's systemd unit.
    type: path
    required: true
  service:
    description: The systemd service's name.
    type: str
    required: true
  pid_file:
    description: The pid file of a cache started without systemd.
    type: path
    required: true
  data_dir:
    description: Where the cache keeps the layers.
    type: path
    required: true
  log_file:
    description: The cache's log.
    type: path
    required: true
  log_offset:
    description: Read the log from this byte on (V(-1) - do not read it). A log shorter than that was rotated and is
      read from its start.
    type: int
    default: -1
"""

EXAMPLES = r"""
- name: Read the cache's host
  ray_docker.cluster.registry_cache_info:
    port: 5050
    upstream: https://mirror.example
    config_file: /etc/ray-docker/registry-cache/config.yml
    unit_file: /etc/systemd/system/ray-registry-cache.service
    service: ray-registry-cache
    pid_file: /run/ray-registry-cache.pid
    data_dir: /var/lib/ray-docker/registry-cache
    log_file: /var/log/ray-docker/registry-cache.log
  register: cache
"""

RETURN = r"""
installed:
  description: Whether the registry's executable is there.
  type: bool
  returned: always
user_exists:
  description: Whether the package's C(docker-registry) user exists.
  type: bool
  returned: always
systemd:
  description: Whether systemd runs the host (PID 1).
  type: bool
  returned: always
config:
  description: The config file's text ('' when absent).
  type: str
  returned: always
unit:
  description: The unit file's text ('' when absent).
  type: str
  returned: always
running:
  description: Whether the cache's process runs (systemd's word, else the pid file's process).
  type: bool
  returned: always
answers:
  description: Whether it answers C(GET /v2/) on 127.0.0.1.
  type: bool
  returned: always
upstream_answers:
  description: Whether the upstream answers C(GET /v2/) from this host (200 or 401 - a registry asking to log in).
  type: bool
  returned: always
has_data:
  description: Whether the cache holds any repository.
  type: bool
  returned: always
free_bytes:
  description: Free bytes on the data folder's file system (or its nearest existing parent's).
  type: int
  returned: always
folders_ready:
  description: Whether the config folder, the data folder (owned by C(docker-registry), mode 0750) and the log (owned by
    C(docker-registry)) are in place.
  type: bool
  returned: always
log_size:
  description: The log's size in bytes (0 when absent).
  type: int
  returned: always
requests:
  description: With O(log_offset) - per client address, per repository, the manifests and blobs it was served.
  type: dict
  returned: always
store_errors:
  description: With O(log_offset) - why layers could not be kept (e.g. no space left on device).
  type: list
  elements: str
  returned: always
"""

import os
import urllib.error
import urllib.request

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ray_docker.cluster.plugins.module_utils import registry_cache

LOG_READ_LIMIT = 64 * 2**20


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def answers(url, accepted=(200,)):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return response.status in accepted
    except urllib.error.HTTPError as exc:
        return exc.code in accepted
    except (urllib.error.URLError, OSError, ValueError):
        return False


def pid_running(pid_file, binary):
    try:
        pid = int(read_text(pid_file).split()[0])
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return os.path.basename(binary).encode() in handle.read()
    except (IndexError, ValueError, OSError):
        return False


def free_bytes(path):
    while path and not os.path.exists(path):
        path = os.path.dirname(path.rstrip("/")) or "/"
    stats = os.statvfs(path or "/")
    return stats.f_bavail * stats.f_frsize


def has_data(data_dir):
    repositories = os.path.join(data_dir, "docker", "registry", "v2", "repositories")
    try:
        return any(os.scandir(repositories))
    except OSError:
        return False


def owned(path, uid, mode=None):
    try:
        stats = os.stat(path)
    except OSError:
        return False
    return stats.st_uid == uid and (mode is None or stats.st_mode & 0o7777 == mode)


def read_log(path, offset):
    try:
        size = os.path.getsize(path)
    except OSError:
        return ""
    start = offset if 0 <= offset <= size else 0
    start = max(start, size - LOG_READ_LIMIT)
    with open(path, "rb") as handle:
        handle.seek(start)
        return handle.read().decode("utf-8", errors="replace")


def main():
    module = AnsibleModule(
        argument_spec={
            "port": {"type": "int", "required": True},
            "upstream": {"type": "str", "default": ""},
            "binary": {"type": "path", "default": "/usr/bin/docker-registry"},
            "config_file": {"type": "path", "required": True},
            "unit_file": {"type": "path", "required": True},
            "service": {"type": "str", "required": True},
            "pid_file": {"type": "path", "required": True},
            "data_dir": {"type": "path", "required": True},
            "log_file": {"type": "path", "required": True},
            "log_offset": {"type": "int", "default": -1},
        },
        supports_check_mode=True,
    )
    params = module.params
    systemd = os.path.isdir("/run/systemd/system")
    if systemd:
        rc, _, _ = module.run_command(["systemctl", "is-active", "--quiet", params["service"]])
        running = rc == 0
    else:
        running = pid_running(params["pid_file"], params["binary"])
    try:
        import pwd

        uid = pwd.getpwnam("docker-registry").pw_uid
    except KeyError:
        uid = None
    folders_ready = uid is not None and os.path.isdir(os.path.dirname(params["config_file"])) and \
        owned(params["data_dir"], uid, 0o750) and owned(params["log_file"], uid)
    requests, store_errors = {}, []
    if params["log_offset"] >= 0:
        requests, store_errors = registry_cache.read_access_log(read_log(params["log_file"], params["log_offset"]))
    try:
        log_size = os.path.getsize(params["log_file"])
    except OSError:
        log_size = 0
    module.exit_json(
        changed=False,
        installed=os.access(params["binary"], os.X_OK),
        user_exists=uid is not None,
        folders_ready=folders_ready,
        systemd=systemd,
        config=read_text(params["config_file"]),
        unit=read_text(params["unit_file"]),
        running=running,
        answers=answers(f"http://127.0.0.1:{params['port']}/v2/"),
        upstream_answers=bool(params["upstream"]) and answers(params["upstream"].rstrip("/") + "/v2/", (200, 401)),
        has_data=has_data(params["data_dir"]),
        free_bytes=free_bytes(params["data_dir"]),
        log_size=log_size,
        requests=requests,
        store_errors=store_errors,
    )


if __name__ == "__main__":
    main()
