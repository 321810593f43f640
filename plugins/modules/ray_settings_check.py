#!/usr/bin/python
# An action plugin of the collection (plugins/action/ray_settings_check.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: ray_settings_check
short_description: Check every variable of the collection's roles before anything changes
version_added: 1.0.0
author: ray-docker maintainers
description:
- The one validator of the collection's variables. With O(scope=host) it resolves every variable of every role that applies
  to the host (the user's value, else the role's default), checks its type (meta/argument_specs.yml), range or pattern (meta/validation.yml)
  and the rules between variables, and keeps the typed values as the host's fact C(preflight_settings). A secret never appears
  in a message or a fact. The play's first host also checks the inventory's topology (one head, no host in both groups).
- With O(scope=cluster) (after the probe) it checks which hosts answer, node addresses, Docker Desktop in a cluster of several hosts and each host's CPUs,
  memory and open-files limit against its Ray nodes.
- Every message names the host or the variable and ends with C(Nothing was changed.)
options:
  scope:
    description: What to check.
    type: str
    choices:
    - host
    - cluster
    default: host
  probe:
    description: The registered result of the probe (ray_docker.cluster.ray_host_facts) on each host, for O(scope=cluster).
    type: str
    default: preflight_probe
  pending:
    description: Ray hosts that are a Windows PC's distribution still being set up (not yet expected to answer).
    type: list
    elements: str
    default: []
attributes:
  action:
    support: full
    description: Runs on the control node.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Check every setting of every role on this host
  ray_docker.cluster.ray_settings_check:

- name: Check the cluster as a whole, after each host was probed
  ray_docker.cluster.ray_settings_check:
    scope: cluster
  run_once: true
"""

RETURN = r"""
checked:
  description: How many variables were checked (O(scope=host)).
  type: int
  returned: success
errors:
  description: The problems found, each naming its variable or host.
  type: list
  elements: str
  returned: failure
skipped_hosts:
  description: Worker hosts that do not answer and are left out of the run (O(scope=cluster)).
  type: list
  elements: str
  returned: success
platforms:
  description: Host to C(WSL2, Docker Desktop) and the like, for the recap (O(scope=cluster)).
  type: dict
  returned: success
"""
