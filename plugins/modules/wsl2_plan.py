#!/usr/bin/python
# An action plugin of the collection (plugins/action/wsl2_plan.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: wsl2_plan
short_description: Plan the wsl2 role's changes on a Windows PC, or the known_hosts entry of its distribution
version_added: 1.0.0
author: ray-docker maintainers
description:
- 'Given what the PC said about itself (O(state), roles/wsl2/files/read_pc.ps1), plans every change and refuses, before
  any, what cannot work or would harm: a PC that cannot host the node, a session that is not elevated, a network in a
  firewall profile the rules do not cover, what would make mirrored networking fall back to NAT in a lab, a PC that
  would sleep (with wsl2_prevent_sleep off), folders others may write to, and a control node in this PC''s WSL meeting
  a WSL upgrade (plugins/module_utils/windows_pc.py, pc_plan).'
- With O(host_key) it turns the distribution's new sshd host key into the control node's known_hosts entry for [PC]:port.
- With O(remove) it plans the way back instead (windows_pc.removal_plan).
options:
  state:
    description: What the PC said about itself (roles/wsl2/files/read_pc.ps1).
    type: dict
  host_key:
    description: The distribution's sshd public host key.
    type: str
  remove:
    description: Plan the way back (task, firewall rules, .wslconfig keys, sleep settings, the distribution when asked).
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
notes:
  description: What the run leaves to the user (for the recap).
  type: list
  elements: str
  returned: success
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
msi:
  description: Whether the pinned WSL MSI is to be installed.
  type: bool
  returned: success
dirs:
  description: C(install), C(download) and C(record) paths (the private folders and the way-back record).
  type: dict
  returned: success
distribution:
  description: C(name), C(registered), C(others) (the user's own distributions); with O(remove) C(unregister) and C(dirs).
  type: dict
  returned: always
wslconfig:
  description:
    - The merged .wslconfig (C(text)), the keys it changes (C(updates)), whether WSL may be shut down (C(shutdown)), and
      whether the run stops after writing it on the control node's own PC (C(stop_here)).
    - With O(remove), C(text), C(restore), C(restored) and C(delete).
  type: dict
  returned: always
record:
  description: C(path), C(text), C(write) of the way-back record; with O(remove) the record's path to delete.
  type: raw
  returned: always
networking_mode:
  description: The networking mode .wslconfig asks for, which wslinfo must report after a start.
  type: str
  returned: success
networking_required:
  description: Whether the run stops when WSL gave the distribution another mode (a lab of several hosts).
  type: bool
  returned: success
mirrored_risks:
  description: What was seen that makes WSL fall back from mirrored networking.
  type: list
  elements: str
  returned: success
firewall:
  description: The inbound rules (name, localport, remoteip, profiles); with O(remove) the rule names to delete.
  type: list
  returned: always
firewall_stale:
  description: The project's Windows Defender rules the plan no longer has.
  type: list
  elements: str
  returned: success
hyperv_firewall:
  description: Whether the PC has the Hyper-V firewall.
  type: bool
  returned: success
hyperv_stale:
  description: The project's Hyper-V rules the plan no longer has.
  type: list
  elements: str
  returned: success
hyperv:
  description: With O(remove), the Hyper-V rule names to delete.
  type: list
  elements: str
  returned: O(remove)
power:
  description: The AC sleep settings to turn off (setting, option, before); with O(remove) those to put back (minutes).
  type: list
  elements: dict
  returned: always
task:
  description: The keep-alive task (C(name), C(xml), C(logon_type), C(drift)); with O(remove) whether it exists.
  type: raw
  returned: always
task_name:
  description: With O(remove), the keep-alive task's name.
  type: str
  returned: O(remove)
control_pc:
  description: Whether this PC's WSL runs the control node.
  type: bool
  returned: success
address:
  description: The PC's address the distribution's sshd answers on.
  type: str
  returned: always
port:
  description: The distribution's sshd port on the PC.
  type: int
  returned: always
distro_host:
  description: The inventory name of the PC's distribution.
  type: str
  returned: always
known_hosts:
  description: name, key and path for ansible.builtin.known_hosts (with O(remove), name and path).
  type: dict
  returned: O(host_key) given, or O(remove)
"""
