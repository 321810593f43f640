#!/usr/bin/python
# An action plugin of the collection (plugins/action/ray_cluster_plan.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: ray_cluster_plan
short_description: Plan the Ray cluster's token, GCS store, network and containers on a host
version_added: 1.0.0
author: ray-docker maintainers
description:
- 'From the run''s snapshot of the host: the auth token''s copy, the GCS store''s config and the head''s copy of its password
  (head fault tolerance), the single-host cluster''s bridge network, the containers to remove, and the containers to create
  or start in two phases (the GCS store and the head, then the workers), each with every docker_container setting and a digest
  of them.'
- Only what is missing, stopped or planned differently is in the plan, so a re-run with nothing to do applies nothing.
- 'Secrets stay out of the plan: the token and the passwords are created on the control node (0600) when missing and copied
  from there; the plan carries their paths and digests only.'
options: {}
attributes:
  action:
    support: full
    description: Runs on the control node.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Plan the token, the GCS store, the network and the containers on this host
  ray_docker.cluster.ray_cluster_plan:
  register: ray_cluster_plan
"""

RETURN = r"""
token:
  description: The token's source, destination and whether it must be written.
  type: dict
  returned: success
gcs_store:
  description: The GCS store's files to write.
  type: dict
  returned: head fault tolerance on the head's host
network:
  description: The bridge network and whether to create it.
  type: dict
  returned: success
remove:
  description: Containers to remove.
  type: list
  elements: str
  returned: success
phases:
  description: The containers to run, in two phases.
  type: list
  elements: list
  returned: success
has_work:
  description: Whether anything is to change.
  type: bool
  returned: success
"""
