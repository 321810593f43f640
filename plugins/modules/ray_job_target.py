#!/usr/bin/python
# An action plugin of the collection (plugins/action/ray_job_target.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: ray_job_target
short_description: Where the control node submits Ray jobs to the cluster the settings describe
version_added: 1.0.0
author: ray-docker maintainers
description:
- Returns the head's Jobs API URL as the control node reaches it, the control node's token file and the cluster's
  Ray version, from the settings and the inventory alone (no connection to any host).
- Used by C(runner.py job); the token's value is never returned, only its path.
options: {}
attributes:
  action:
    support: full
    description: Runs on the control node.
  check_mode:
    support: full
    description: Reads only.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Learn where jobs go
  ray_docker.cluster.ray_job_target:
  register: ray_job_target
  run_once: true
"""

RETURN = r"""
target:
  description: dashboard_url, token_file, ray_version, cluster_name and head_data_dir (the head node's folder under
    ray_cluster_data_dir on the head host, where its sessions' logs are kept).
  returned: always
  type: dict
  sample: {dashboard_url: "http://127.0.0.1:8265", token_file: "/home/me/.config/ray-docker/ray/auth_token",
           ray_version: "2.60.0", cluster_name: ray, head_data_dir: /var/lib/ray-docker/ray/ray-head}
"""
