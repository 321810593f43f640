#!/usr/bin/python
# An action plugin of the collection (plugins/action/ray_job_check.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: ray_job_check
short_description: Submit the task/actor check job through Ray's Jobs API and compare it with the plan
version_added: 1.0.0
author: ray-docker maintainers
description:
- 'Proves every node works: a job pins a task and an actor to every alive node, moves an object between nodes, and its report
  is compared with the plan (expected nodes, Ray version, one Python version).'
- Refuses a Jobs API that accepts requests without the token. With O(reuse_verdict=true) it skips the job when the recorded
  passing verdict covers exactly the nodes alive now (same node ids).
- Without options it checks the cluster the settings describe.
options:
  dashboard_url:
    description: Jobs API URL; default from the settings.
    type: str
  token_file:
    description: The auth token file on the control node; default from the settings.
    type: path
  expected_nodes:
    description: Ray node names that must be alive; default the nodes of the plan.
    type: list
    elements: str
  expected_ray_version:
    description: Ray version every node must run; default C(ray_version).
    type: str
  expect_packages:
    description: Prove the derived image (your packages) and every module to import on each node; V(false) when
      proving a rollback to the image the nodes ran before.
    type: bool
    default: true
  job_script:
    description: The check job (a Python file) run as the job's entrypoint.
    type: path
    required: true
  timeout:
    description: Seconds to wait for the job; default C(ray_check_timeout).
    type: int
  node_wait:
    description: Seconds to wait for a restarting node; default C(ray_check_node_wait).
    type: int
  verdict_file:
    description: Where a passing check records the node ids it verified (0600).
    type: path
  reuse_verdict:
    description: Skip the job when the recorded verdict covers the nodes alive now.
    type: bool
attributes:
  action:
    support: full
    description: Runs on the control node.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Run the task/actor check through the Jobs API
  ray_docker.cluster.ray_job_check:
    job_script: "{{ role_path }}/files/ray_check_job.py"
  run_once: true
"""

RETURN = r"""
check:
  description: passed, reasons, nodes_expected, nodes_alive, nodes, transfers, job_id, reused, verified_at, dashboard_url, left_out (the nodes of hosts the run skipped, which Ray still listed alive; the job pinned them no task).
  type: dict
  returned: always
"""
