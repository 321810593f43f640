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
runs_here:
  description: Whether this host runs the cache.
  type: bool
  returned: success
mode:
  description: V(proxy), or V(offline) (read-only over what it holds) when the upstream does not answer.
  type: str
  returned: on the cache's host
config:
  description: The config file's text.
  type: str
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
  description: The size of its log before this run's pulls.
  type: int
  returned: on the cache's host
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
