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
- With O(down), what the role owns on the host instead (its containers, network and the GCS store's volume), for C(down).
options:
  down:
    description: Plan the removal of what the role owns on the host (RV(down)) instead of the deployment.
    type: bool
    default: false
  previous:
    description:
      - A rollback - plan the nodes for the image and Ray version they ran before an upgrade (ray_cluster_upgrade's
        C(previous)) instead of C(ray_image_repository), C(ray_image_tag) and C(ray_version).
    type: dict
    suboptions:
      image:
        description: The image the nodes ran before, C(repository:tag).
        type: str
        required: true
      ray_version:
        description: The Ray version of that image.
        type: str
        required: true
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
engine_answers:
  description: Whether the host's Docker engine answered (in check mode it may not, and the rest of the plan is left out).
  type: bool
  returned: unless O(down)
dashboard_url:
  description: The Jobs API as the control node reaches it.
  type: str
  returned: unless O(down)
token_file:
  description: The auth token's file on the control node.
  type: str
  returned: unless O(down)
host_nodes:
  description: The Ray node names this host runs.
  type: list
  elements: str
  returned: unless O(down)
expected_nodes:
  description: The Ray node names of the cluster, but those of hosts the preflight skipped.
  type: list
  elements: str
  returned: unless O(down)
token:
  description:
    - The token's copy on the host - C(source) (on the control node), C(dest), C(dir) (the host's folder for the cluster's
      files), C(uid), C(gid) (the container's user) and C(write) (whether the file or its folder must be written).
  type: dict
  returned: when the engine answers
gcs_store:
  description:
    - The GCS store's files - C(config_source), C(config_dest), C(password_source), C(password_dest), C(uid) (Redis's user),
      C(container_uid), C(container_gid) (Ray's user, who reads the password), C(write_config), C(write_password).
  type: dict
  returned: head fault tolerance on the head's host
network:
  description: The bridge network and whether to create it.
  type: dict
  returned: success
data_dirs:
  description:
    - The folders the host's nodes keep on it that are missing or not as wanted, to create, each a dict of path, uid, gid
      and mode (null when left as it is).
    - The cluster's roots under ray_cluster_data_dir (and ray_cluster_spill_dir) 0750 root's; each node's Ray temp
      folder (sessions, logs) and its spill folder owned by the image's user (Ray makes them 0777).
  type: list
  elements: dict
  returned: when the engine answers
remove:
  description: The role's containers on the host that the plan no longer has, to remove.
  type: list
  elements: str
  returned: when the engine answers
remove_volume:
  description: The GCS store's volume to remove (head fault tolerance switched off), or ''.
  type: str
  returned: when the engine answers
phases:
  description: The containers to run, in two phases.
  type: list
  elements: list
  returned: success
has_work:
  description: Whether anything is to change (always true in check mode when the engine does not answer).
  type: bool
  returned: unless O(down)
down:
  description:
    - With O(down), what the role owns on the host - C(workers) (worker containers, removed first), C(others) (the head and
      the GCS store), C(network) (the bridge network, or ''), C(volumes) (the GCS store's volume, when present) and
      C(data) (the cluster's data root on the host, with C(ray_cluster_purge_data) when the nodes' folders exist).
  type: dict
  returned: O(down)
"""
