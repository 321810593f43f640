#!/usr/bin/python
# An action plugin of the collection (plugins/action/wsl2_plan.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: wsl2_plan
short_description: Plan the wsl2 role's changes on a Windows PC, or the known_hosts entry of its distribution
version_added: 1.0.0
author: ray-docker maintainers
description:
- 'Given what the PC said about itself (O(state): build, architecture, rights, features, WSL version, distributions, .wslconfig,
  excluded ports, Hyper-V firewall), plans every change and refuses, before any, what cannot work or would harm: a PC that
  cannot host the node, a session that is not elevated, and a control node in this PC''s WSL meeting a WSL upgrade.'
- With O(host_key) it turns the distribution's new sshd host key into the control node's known_hosts entry for [PC]:port.
options:
  state:
    description: What the PC said about itself (roles/wsl2/files/read_pc.ps1).
    type: dict
  host_key:
    description: The distribution's sshd public host key.
    type: str
attributes:
  action:
    support: full
    description: Runs on the control node.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Plan this PC's changes
  ray_docker.cluster.wsl2_plan:
    state: "{{ wsl2_state.result }}"
  register: wsl2_plan
"""

RETURN = r"""
problems:
  description: Why the PC cannot be set up (the task fails).
  type: list
  elements: str
  returned: failure
features_to_enable:
  description: Windows features to turn on.
  type: list
  elements: str
  returned: success
reboot_for:
  description: Features of ours waiting for a reboot.
  type: list
  elements: str
  returned: success
wslconfig:
  description: The merged .wslconfig, the keys it changes and whether WSL may be shut down.
  type: dict
  returned: success
firewall:
  description: The inbound rules (port, remote addresses, profiles).
  type: list
  elements: dict
  returned: success
known_hosts:
  description: name, key and path for ansible.builtin.known_hosts.
  type: dict
  returned: O(host_key) given
"""
