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
- With O(down), what the role owns on the host instead (its containers, and with C(ray_monitoring_purge) the data volumes).
options:
  down:
    description: Plan the removal of what the role owns on the host (RV(down)) instead of the deployment.
    type: bool
    default: false
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
engine_answers:
  description: Whether the host's Docker engine answered (in check mode it may not, and the rest of the plan is left out).
  type: bool
  returned: unless O(down)
has_work:
  description: Whether anything is to be written, started or removed here (or the engine is not running yet, in check mode).
  type: bool
  returned: unless O(down)
runs_here:
  description: Whether Prometheus runs on this host.
  type: bool
  returned: when the engine answers
parts:
  description: C(prometheus) and C(grafana), whether each runs here (switched on, on the monitoring host, its image there).
  type: dict
  returned: when the engine answers
dirs:
  description: The folders Prometheus and Grafana read that do not exist yet, parents first.
  type: list
  elements: str
  returned: when the engine answers
files:
  description: Files to write that differ (C(dest), C(content), C(owner), C(mode)); never the admin password.
  type: list
  elements: dict
  returned: when the engine answers
password:
  description: Grafana's admin password to copy (C(source) on the control node, C(dest), C(owner)), or null when it is in place.
  type: dict
  returned: when the engine answers
prometheus_config:
  description: The path of prometheus.yml on the host ('' when Prometheus does not run here).
  type: str
  returned: when the engine answers
prometheus_container:
  description: The name of the Prometheus container (sent a SIGHUP when its config changed).
  type: str
  returned: when the engine answers
ready_urls:
  description: The URLs, on the host, that answer once Prometheus (and Grafana) are ready.
  type: list
  elements: str
  returned: when the engine answers
run:
  description: Containers to run (every docker_container parameter), those missing, stopped or planned differently.
  type: list
  elements: dict
  returned: when the engine answers
remove:
  description: Monitoring containers on the host that the plan does not run here, to remove.
  type: list
  elements: str
  returned: when the engine answers
down:
  description:
    - With O(down), what the role owns on the host - C(containers) (Prometheus's and Grafana's) and C(volumes) (their data
      volumes, with C(ray_monitoring_purge) on the monitoring host only).
  type: dict
  returned: O(down)
"""
