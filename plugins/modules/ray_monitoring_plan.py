#!/usr/bin/python
# An action plugin of the collection (plugins/action/ray_monitoring_plan.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: ray_monitoring_plan
short_description: Plan Prometheus's and Grafana's files and containers on a host
version_added: 1.0.0
author: ray-docker maintainers
description:
- 'On the monitoring host: the folders and files Prometheus and Grafana read (Prometheus''s targets from the inventory, Grafana''s
  provisioning, Ray''s own dashboards for its version, the admin password) and the containers that are missing, stopped or
  planned differently. Elsewhere, and when monitoring is switched off: the monitoring containers that should no longer run
  there.'
- A part whose optional image could not be had (see ray_docker.cluster.ray_image_plan) is left out, as if switched off.
options: {}
attributes:
  action:
    support: full
    description: Runs on the control node.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Plan Prometheus's and Grafana's files and containers on this host
  ray_docker.cluster.ray_monitoring_plan:
  register: ray_monitoring_plan
"""

RETURN = r"""
has_work:
  description: Whether anything is to be written, started or removed here (or the engine is not running yet, in check mode).
  type: bool
  returned: success
runs_here:
  description: Whether Prometheus runs on this host.
  type: bool
  returned: success
files:
  description: Files to write (content, owner, mode).
  type: list
  elements: dict
  returned: success
run:
  description: Containers to run.
  type: list
  elements: dict
  returned: success
remove:
  description: Containers to remove.
  type: list
  elements: str
  returned: success
"""
