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
  running Docker Engine the keep-alive through Windows interop (the Windows user''s .wslconfig idle timeouts and a Run
  entry at logon started by wslg.exe), so the cluster stays up with no terminal open.'
- With O(remove), the way back of that keep-alive instead.
options:
  remove:
    description: Plan the way back (the Run entry, an old .vbs Startup entry, the .wslconfig keys put back from the record).
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
  description:
    - The keep-alive, or null. Keys C(wslconfig) (path), C(text) and C(updates) (the merged .wslconfig and its changed
      keys), C(distribution), C(run) (C(key), C(name), C(command), C(reg) (reg.exe's path), C(write)), C(old_startup)
      (old .vbs entries to delete), C(record) (C(path), C(text), C(write)).
  type: dict
  returned: when O(remove) is false
run:
  description: With O(remove), the Run entry (C(key), C(name), C(reg), C(remove)).
  type: dict
  returned: when O(remove) is true
old_startup:
  description: With O(remove), old .vbs Startup entries to delete.
  type: list
  elements: str
  returned: when O(remove) is true
wslconfig:
  description: With O(remove), C(path), C(text) (the restored .wslconfig), C(restored) (keys put back), C(delete).
  type: dict
  returned: when O(remove) is true
record:
  description: With O(remove), the record to delete ('' when there is none).
  type: str
  returned: when O(remove) is true
notes:
  description: What WSL needs from the user (for the recap).
  type: list
  elements: str
  returned: always
"""
