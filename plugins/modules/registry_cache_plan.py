#!/usr/bin/python
# An action plugin of the collection (plugins/action/registry_cache_plan.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: registry_cache_plan
short_description: Plan the LAN image cache, or report which source served the pulls
version_added: 1.0.0
author: ray-docker maintainers
description:
- 'On every Ray host: whether the cluster uses the LAN image cache (switched on and at least registry_cache_min_hosts
  Ray hosts), on which host, at which URL, proxying which upstream.'
- 'On the cache''s host it reads the host once (ray_docker.cluster.registry_cache_info) and plans the package to install, the
  config and systemd unit that differ, a start or a restart, and the offset of its log from which the run''s pulls count.
  When the upstream does not answer from there and the cache holds images, it plans the cache read-only over what it holds
  (distribution 2.x in proxy mode cannot start without its upstream).'
- With O(report), after the pulls, it reads the cache's log from O(log_offset) and says which host's pulls the cache served,
  which went past it (the next mirror or Docker Hub) and which came from another registry.
options:
  report:
    description: Report on the pulls of this run instead of planning.
    type: bool
    default: false
  log_offset:
    description: With O(report) - the log offset this run's plan recorded.
    type: int
    default: -1
  down:
    description:
      - For C(down) with C(registry_cache_purge) - whether this host is the one the cache is configured for (C(registry_cache_host),
        else the head's host), in use or not, and where its service and files are; nothing is planned.
    type: bool
    default: false
attributes:
  action:
    support: full
    description: Runs on the control node.
notes:
- 'An action plugin: it runs on the control node; only the read of the cache''s host connects to it.'
"""

EXAMPLES = r"""
- name: Plan the LAN image cache
  ray_docker.cluster.registry_cache_plan:
  register: registry_cache_plan

- name: Say who served the pulls
  ray_docker.cluster.registry_cache_plan:
    report: true
    log_offset: "{{ registry_cache_plan.log_offset }}"
  register: registry_cache_report
"""

RETURN = r"""
active:
  description: Whether the cluster uses the cache.
  type: bool
  returned: success
host:
  description: The cache's host ('' when not active).
  type: str
  returned: success
url:
  description: The mirror URL engines list first ('' while the host's address is unknown in this run).
  type: str
  returned: success
upstream:
  description: The registry the cache proxies.
  type: str
  returned: success
port:
  description: The cache's port (C(registry_cache_port)).
  type: int
  returned: success
runs_here:
  description: Whether this host runs the cache (with O(down), whether it is the host the cache is configured for).
  type: bool
  returned: success
config_file:
  description: The cache's config file on its host.
  type: str
  returned: on the cache's host
log_file:
  description: The cache's log file (its access log, read by O(report)).
  type: str
  returned: on the cache's host
unit_file:
  description: Its systemd unit's file.
  type: str
  returned: on the cache's host
service:
  description: Its systemd service's name.
  type: str
  returned: on the cache's host
pid_file:
  description: Its pid file, when it runs without systemd.
  type: str
  returned: on the cache's host
binary:
  description: The registry's executable.
  type: str
  returned: on the cache's host
user:
  description: The unprivileged user it runs as.
  type: str
  returned: on the cache's host
systemd:
  description: Whether its host runs systemd (the cache then runs as a unit, else with start-stop-daemon).
  type: bool
  returned: on the cache's host
unit_exists:
  description: Whether its systemd unit exists.
  type: bool
  returned: on the cache's host
running:
  description: Whether it runs.
  type: bool
  returned: on the cache's host
mode:
  description: V(proxy), or V(offline) (read-only over what it holds) when the upstream does not answer.
  type: str
  returned: on the cache's host
config:
  description: The config file's text.
  type: str
  returned: on the cache's host
unit:
  description: The systemd unit's text ('' without systemd).
  type: str
  returned: on the cache's host
files_changed:
  description: Whether the config or the unit differ from the host's.
  type: bool
  returned: on the cache's host
install_needed:
  description: Whether its package is to be installed.
  type: bool
  returned: on the cache's host
answers:
  description: Whether it answers on its port.
  type: bool
  returned: on the cache's host
upstream_answers:
  description: Whether its upstream answers from the cache's host.
  type: bool
  returned: on the cache's host
has_data:
  description: Whether it holds layers already.
  type: bool
  returned: on the cache's host
free_bytes:
  description: Free space on the disk of its data folder.
  type: int
  returned: on the cache's host
start_needed:
  description: Whether the cache is not running.
  type: bool
  returned: on the cache's host
restart_needed:
  description: Whether it runs with files that changed (or does not answer).
  type: bool
  returned: on the cache's host
log_offset:
  description: The size of its log before this run's pulls (0 when it is rotated first).
  type: int
  returned: on the cache's host
log_rotate:
  description: Whether the log is over C(registry_cache_log_max_mb) and is rotated before the pulls (kept as .1, emptied).
  type: bool
  returned: on the cache's host
warm_images:
  description: The Docker Hub images some Ray host of this run lacks, to fill the cache with before the pulls.
  type: list
  elements: str
  returned: on the cache's host
warm_timeout:
  description: Seconds the filling may take (C(ray_image_pull_timeout)).
  type: int
  returned: on the cache's host
has_work:
  description: Whether anything is to be installed, written, started or restarted.
  type: bool
  returned: on the cache's host
sources:
  description: With O(report) - C(served), C(past) and C(other_registry), each host to the images pulled that way.
  type: dict
  returned: with report
store_errors:
  description: With O(report) - why layers could not be kept (the cache's disk).
  type: list
  elements: str
  returned: with report
lines:
  description: With O(report) - what the recap says about the cache.
  type: list
  elements: str
  returned: with report
degraded:
  description: With O(report) - what went wrong (the run ends degraded).
  type: list
  elements: str
  returned: with report
"""
