#!/usr/bin/python
# An action plugin of the collection (plugins/action/ray_cluster_drain.py) runs this task on the control node; this
# file only documents it for ansible-doc.

DOCUMENTATION = r"""
module: ray_cluster_drain
short_description: Plan and wait for the drain of a worker host's Ray nodes
version_added: 1.1.0
author: ray-docker maintainers
description:
- 'With O(stage=plan): the nodes of the host ray_cluster_drain_host names (refused for the head''s host and for a host
  that is no Ray host of the inventory, with nothing drained), how many tasks and actors run on them now (the head''s
  state API), and for each node the C(ray drain-node) its own container runs: a preemption with
  ray_cluster_drain_deadline, so no new task lands there and the running ones are retried elsewhere at the deadline.'
- With O(stage=wait), until the nodes O(node_ids) left the cluster (Ray ends a drained node when it is idle or at the
  deadline), at most the deadline and 30 s.
- Through the head's HTTP APIs only, with the control node's copy of the token.
options:
  stage:
    description: What to do.
    type: str
    choices: [plan, wait]
    default: plan
  node_ids:
    description: With O(stage=wait), the Ray node ids to wait for (the plan's RV(node_ids)).
    type: list
    elements: str
    default: []
attributes:
  action:
    support: full
    description: Runs on the control node.
  check_mode:
    support: full
    description: Plans; the wait does not wait.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Plan the drain of the host ray_cluster_drain_host names
  ray_docker.cluster.ray_cluster_drain:
  register: ray_cluster_drain
  run_once: true

- name: Wait until its nodes left the cluster
  ray_docker.cluster.ray_cluster_drain:
    stage: wait
    node_ids: "{{ ray_cluster_drain.node_ids }}"
  run_once: true
"""

RETURN = r"""
host:
  description: The host drained.
  type: str
  returned: O(stage=plan)
drain:
  description: Each alive node of the host, with its container, node_name and the argv of its C(ray drain-node).
  type: list
  elements: dict
  returned: O(stage=plan)
node_ids:
  description: The Ray node ids of the host's alive nodes.
  type: list
  elements: str
  returned: O(stage=plan)
containers:
  description: The host's node containers, to remove once drained.
  type: list
  elements: str
  returned: O(stage=plan)
stop_timeout:
  description: Seconds their removal's C(docker stop) waits before it kills them, Ray's teardown only (the deadline
    passed; their containers would drain once more for the deadline they were created with).
  type: int
  returned: O(stage=plan)
tasks:
  description: Tasks running on the host's nodes when the drain was planned.
  type: int
  returned: O(stage=plan)
actors:
  description: Actors alive on the host's nodes when the drain was planned.
  type: int
  returned: O(stage=plan)
started:
  description: When the drain was planned (seconds since the epoch).
  type: float
  returned: O(stage=plan)
seconds:
  description: How long the wait took (until the nodes left the cluster, or the deadline passed).
  type: float
  returned: O(stage=wait)
still_alive:
  description: Node ids still alive when the deadline passed (busy to the end; removing their containers ends them), or in check mode, which does not wait.
  type: list
  elements: str
  returned: O(stage=wait)
"""
