#!/usr/bin/python
# An action plugin of the collection (plugins/action/ray_cluster_upgrade.py) runs this task on the control node; this
# file only documents it for ansible-doc.

DOCUMENTATION = r"""
module: ray_cluster_upgrade
short_description: Prepare, time and judge the replacement of nodes that run another image
version_added: 1.1.0
author: ray-docker maintainers
description:
- 'With O(stage=prepare), once for the cluster before anything stops: every host of the run must still be in it (a
  failed pull of the new image stops the run, nothing stopped); the old cluster''s running jobs are waited for
  (ray_cluster_upgrade_wait_seconds), or stopped (ray_cluster_upgrade_stop_jobs), else the run is refused naming
  them; the detached actors that will be lost are named; per host, the old workers to drain (Ray''s drain-node, a
  preemption with a deadline) and the old nodes to remove.'
- With O(stage=mark), a moment (for the steps and the downtime).
- With O(stage=judge), whether to roll back (a host's new nodes did not come, or the check did not pass), the step
  table and the downtime.
- Through the head's HTTP APIs (Jobs, state) only.
options:
  stage:
    description: What to do.
    type: str
    choices: [prepare, mark, judge]
    required: true
  marks:
    description: With O(stage=judge), the time marks (stopping, stopped, started, alive, proven).
    type: dict
    default: {}
  alive:
    description: With O(stage=judge), each host's wait for its new nodes (registered results).
    type: dict
    default: {}
  check:
    description: With O(stage=judge), the check's registered result.
    type: dict
    default: {}
attributes:
  action:
    support: full
    description: Runs on the control node.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Make sure every host has the new image, and that no job runs
  ray_docker.cluster.ray_cluster_upgrade:
    stage: prepare
  register: ray_cluster_upgrade
  run_once: true
"""

RETURN = r"""
upgrading:
  description: Whether any node runs another image than the planned one.
  type: bool
  returned: O(stage=prepare)
from:
  description: The Ray versions the old nodes run.
  type: list
  elements: str
  returned: O(stage=prepare)
to:
  description: The planned Ray version.
  type: str
  returned: O(stage=prepare)
image:
  description: The planned image.
  type: str
  returned: O(stage=prepare)
old_images:
  description: The images the old nodes run.
  type: list
  elements: str
  returned: O(stage=prepare)
hosts:
  description: The hosts with nodes to replace.
  type: list
  elements: str
  returned: O(stage=prepare)
jobs_waited_for:
  description: Jobs the run waited for before stopping anything.
  type: list
  elements: str
  returned: O(stage=prepare)
jobs_stopped:
  description: Jobs stopped (ray_cluster_upgrade_stop_jobs).
  type: list
  elements: str
  returned: O(stage=prepare)
actors_lost:
  description: Detached actors alive on the old nodes (namespace/name (class)).
  type: list
  elements: str
  returned: O(stage=prepare)
old_cluster_down:
  description: Why the old cluster's head did not answer ('' when it did); then nothing was waited for or drained.
  type: str
  returned: O(stage=prepare)
drain:
  description: Per host, the old workers to drain (container, node_name, argv of `ray drain-node`).
  type: dict
  returned: O(stage=prepare)
remove:
  description: Per host, the old nodes to remove (workers, heads).
  type: dict
  returned: O(stage=prepare)
stop_timeouts:
  description: Seconds C(docker stop) waits before it kills an old node, C(workers) ray_cluster_drain_deadline plus Ray's
    teardown (their containers keep the deadline they were created with), C(heads) Ray's teardown only (the jobs are
    settled, its detached actors are lost either way).
  type: dict
  returned: O(stage=prepare)
previous:
  description: The image and Ray version the old nodes run, for a rollback.
  type: dict
  returned: O(stage=prepare)
started:
  description: When the preparation ended (seconds since the epoch).
  type: float
  returned: O(stage=prepare)
mark:
  description: The moment (seconds since the epoch).
  type: float
  returned: O(stage=mark)
rollback:
  description: Whether the new nodes failed and the old image must come back.
  type: bool
  returned: O(stage=judge)
cause:
  description: What went wrong with the new nodes ('' when nothing).
  type: str
  returned: O(stage=judge)
steps:
  description: Seconds of each step (stopped, started, alive, proven).
  type: dict
  returned: O(stage=judge)
downtime_seconds:
  description: From the first old node stopped to the new cluster's check passing (null when it did not pass).
  type: float
  returned: O(stage=judge)
"""
