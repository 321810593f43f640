#!/usr/bin/python
# An action plugin of the collection (plugins/action/ray_cluster_info.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: ray_cluster_info
short_description: The Ray cluster's nodes from the dashboard's state API, optionally waiting for them
version_added: 1.0.0
author: ray-docker maintainers
description:
- 'Asks the head''s Jobs API (with the control node''s token) for the cluster''s nodes and compares them with the plan: one
  node per name, a restarted node''s old registration not counted.'
- With O(watch=true), while expected nodes are missing it inspects their containers on the host, and stops at once, with the
  end of its log, when one exited or keeps restarting.
- Without options it asks the Jobs API the settings point at and expects the nodes of the plan, but those of hosts the preflight
  skipped.
options:
  dashboard_url:
    description: The Jobs API URL; default from the settings.
    type: str
  token_file:
    description: The auth token file on the control node; default from the settings.
    type: path
  nodes:
    description: The nodes to expect, the cluster's or this host's.
    type: str
    choices:
    - cluster
    - host
    default: cluster
  expected_nodes:
    description: Ray node names that must be alive, instead of O(nodes).
    type: list
    elements: str
  wait_timeout:
    description: Seconds to wait for the expected nodes; 0 reports at once.
    type: int
    default: 0
  watch:
    description: Inspect the containers of missing nodes and stop when one fails.
    type: bool
    default: false
  logs_tail:
    description: Lines of a failed container's log to show.
    type: int
    default: 25
attributes:
  action:
    support: full
    description: Runs on the control node.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Wait until this host's Ray nodes are alive
  ray_docker.cluster.ray_cluster_info:
    nodes: host
    wait_timeout: 180
    watch: true
"""

RETURN = r"""
dashboard_url:
  description: The Jobs API that was asked (O(dashboard_url), else the settings').
  type: str
  returned: success
expected:
  description: The node names that were expected (O(expected_nodes), else the plan's for O(nodes)).
  type: list
  elements: str
  returned: success
nodes:
  description: The alive nodes, head first, one per name.
  type: list
  elements: dict
  returned: success
alive:
  description: Alive node names.
  type: list
  elements: str
  returned: success
missing:
  description: Expected node names not alive.
  type: list
  elements: str
  returned: success
dead:
  description: Node names whose newest registration is not alive.
  type: list
  elements: str
  returned: success
stale:
  description: Node names with an older registration still listed alive (a restarted node's).
  type: list
  elements: str
  returned: success
unexpected:
  description: Alive node names that were not expected.
  type: list
  elements: str
  returned: success
targets:
  description: Node id to node name of the alive nodes.
  type: dict
  returned: success
resources:
  description: The cluster's total resources.
  type: dict
  returned: success
monitoring_urls:
  description: Where Prometheus and Grafana are reached, those that run.
  type: dict
  returned: success
"""
