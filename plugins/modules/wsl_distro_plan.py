#!/usr/bin/python
# An action plugin of the collection (plugins/action/wsl_distro_plan.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: wsl_distro_plan
short_description: Plan a WSL distribution's /etc/wsl.conf and its keep-alive
version_added: 1.0.0
author: ray-docker maintainers
description:
- 'From the preflight''s probe of the host: /etc/wsl.conf''s merge (the user''s keys kept), and for a PC''s own distribution
  running Docker Engine the keep-alive through Windows interop (the Windows user''s .wslconfig idle timeouts and a Startup
  entry), so the cluster stays up with no terminal open.'
options: {}
attributes:
  action:
    support: full
    description: Runs on the control node.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Plan /etc/wsl.conf and the keep-alive
  ray_docker.cluster.wsl_distro_plan:
  register: wsl_distro_plan
"""

RETURN = r"""
applies:
  description: Whether the host is a WSL distribution.
  type: bool
  returned: always
conf:
  description: The merged /etc/wsl.conf and the keys it changes.
  type: dict
  returned: always
keep_alive:
  description: The .wslconfig and Startup entry to write, or null.
  type: dict
  returned: always
notes:
  description: What WSL needs from the user (for the recap).
  type: list
  elements: str
  returned: always
"""
