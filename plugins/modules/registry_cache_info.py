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
  user:
    description: The user it runs as (the package's).
    type: str
    default: docker-registry
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ray_docker.cluster.plugins.module_utils import registry_cache_state


def main():
    module = AnsibleModule(
        argument_spec={
            "port": {"type": "int", "required": True},
            "upstream": {"type": "str", "default": ""},
            "binary": {"type": "path", "default": "/usr/bin/docker-registry"},
            "user": {"type": "str", "default": "docker-registry"},
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
    query = dict(module.params)
    log_offset = query.pop("log_offset")
    module.exit_json(changed=False, **registry_cache_state.read(query, module.run_command, log_offset))


if __name__ == "__main__":
    main()
