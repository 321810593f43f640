#!/usr/bin/python
# An action plugin of the collection (plugins/action/ray_logs_bundle.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: ray_logs_bundle
short_description: One archive of every host's logs and the runs' records, secrets replaced
version_added: 1.1.0
author: ray-docker maintainers
description:
- Puts every host's collection (ray_logs_collect, fetched to the control node) and O(artifacts_dir) into O(dest), a
  tar.gz with an INDEX.txt; the cluster's token and passwords are replaced by <redacted> in every member.
options:
  archives:
    description: Each host's fetched archive on the control node, by host.
    type: dict
    required: true
  artifacts_dir:
    description: The runs' records to add (runner.py's .artifacts); empty adds none.
    type: path
    default: ""
  dest:
    description: The archive to write.
    type: path
    required: true
attributes:
  action:
    support: full
    description: Runs on the control node.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Make the archive
  ray_docker.cluster.ray_logs_bundle:
    archives: {h0: /tmp/logs/h0.tar.gz}
    dest: ray-logs.tar.gz
  run_once: true
"""

RETURN = r"""
file:
  description: The archive written.
  type: str
  returned: always
bytes:
  description: Its size.
  type: int
  returned: always
files:
  description: How many files it holds (INDEX.txt apart).
  type: int
  returned: always
hosts:
  description: The hosts whose logs it holds.
  type: list
  elements: str
  returned: always
"""
