"""Action plugin: what the wsl2 role does on a Windows PC, from one read-only look at it (plugins/module_utils/wsl.py).

Given what the PC said about itself (`state`: its build, architecture, rights, features, WSL version, distributions,
.wslconfig, excluded ports, Hyper-V firewall), plans every change and refuses, before any, what cannot work or
would harm: a PC that cannot host the node, a non-elevated session, and a control node that lives in this PC's
WSL meeting a WSL upgrade. With `host_key` it turns the distribution's new sshd host key into the control node's
known_hosts entry for [PC]:port.
"""

import base64
import os
import re
import socket
import subprocess

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.ray_docker.cluster.plugins.module_utils import host_state, ports, topology, windows_pc, wsl
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import role_settings


GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def control_node_machine_guid():
    """The Windows MachineGuid of the PC whose WSL runs this control node; '' when the control node is not in WSL."""
    try:
        with open("/proc/sys/kernel/osrelease", encoding="utf-8") as handle:
            if "microsoft" not in handle.read().lower():
                return ""
    except OSError:
        return ""
    try:
        out = subprocess.run(["/mnt/c/Windows/System32/reg.exe", "query", r"HKLM\SOFTWARE\Microsoft\Cryptography",
                              "/v", "MachineGuid"], capture_output=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = GUID.search(out.decode("utf-8", "replace"))
    return match.group(0).lower() if match else ""


def source_address(target):
    """The control node's own address towards `target` (what the PC's firewall sees); '' when there is no route."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((target, 9))
        return probe.getsockname()[0]
    except OSError:
        return ""
    finally:
        probe.close()


def ip_of(name):
    try:
        return socket.gethostbyname(name)
    except OSError:
        return ""


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _, args = self.validate_argument_spec(argument_spec={"state": {"type": "dict"}, "host_key": {"type": "str"},
                                                             "remove": {"type": "bool", "default": False}})
        catalog = role_settings.Catalog(self._loader)
        if args["host_key"] is not None:  # recording the key needs the address and the known_hosts file only
            names = {"wsl2_distro_host", "wsl2_ssh_port", "wsl2_known_hosts_file"}
        else:
            names = set(catalog.roles["wsl2"].specs) | set(ports.VARIABLES) | {"ray_min_worker_port",
                                                                                       "ray_max_worker_port"}
        with role_settings.refusals_fail(task_vars):
            settings = role_settings.resolve(self, task_vars, sorted(names), catalog)
        hostvars = task_vars.get("hostvars") or {}
        distro_host = settings["wsl2_distro_host"]
        address = str(role_settings.host_value(hostvars, distro_host, "ansible_host", "")
                      or task_vars.get("ansible_host") or task_vars.get("inventory_hostname"))
        port = int(role_settings.host_value(hostvars, distro_host, "ansible_port", settings["wsl2_ssh_port"])
                   or settings["wsl2_ssh_port"])
        result.update(changed=False, distro_host=distro_host, address=address, port=port)
        if args["host_key"] is not None:
            try:
                name, key = windows_pc.known_hosts_entry(address, port, args["host_key"])
            except ValueError as exc:
                raise AnsibleActionFail(f"the distribution's sshd host key could not be read: {exc}")
            result["known_hosts"] = {"name": name, "key": key, "path": os.path.expanduser(settings["wsl2_known_hosts_file"])}
            return result

        state = dict(args["state"] or {})
        raw = base64.b64decode(state["wslconfig_b64"]) if state.get("wslconfig_b64") else b""
        state["wslconfig_text"], state["wslconfig_encoding"] = host_state.decode_text(raw)
        state["distributions"] = wsl.parse_wsl_list_quiet(base64.b64decode(state.get("wsl_list_b64") or ""))
        if args["remove"]:
            plan = windows_pc.removal_plan(state, settings, settings["wsl2_remove_distribution"])
            plan["known_hosts"] = {"name": f"[{address.lower()}]:{port}" if port != 22 else address.lower(),
                                   "path": os.path.expanduser(settings["wsl2_known_hosts_file"])}
            result.update(plan)
            return result
        head_hosts, worker_hosts, hosts = role_settings.cluster_hosts(task_vars, catalog)
        ray_hosts = topology.ray_hosts(head_hosts, worker_hosts)
        remote = list(settings["wsl2_firewall_remote_addresses"])
        if not remote:
            for host in ray_hosts:
                data = hosts[host]
                remote.append(data["node_ip"] or ip_of(data["address"]))
            remote.append(source_address(ip_of(address) or address))
            remote = [item for item in remote if item and not item.startswith("127.")]
        opened = ports.between_hosts(settings)
        guid = str(state.get("machine_guid") or "").lower()
        control_pc = bool(guid) and guid == control_node_machine_guid()
        plan = windows_pc.pc_plan(state, settings, len(ray_hosts) > 1, control_pc, remote, opened,
                                  [settings["ray_min_worker_port"], settings["ray_max_worker_port"]],
                                  wsl_exe=str(task_vars.get("wsl2_exe") or windows_pc.WSL_EXE))
        result.update(plan)
        if plan["problems"]:
            result["failed"] = True
            raise AnsibleActionFail(f"{task_vars.get('inventory_hostname')}: " + "; ".join(plan["problems"])
                                    + ". Nothing was changed.", result=result)
        return result
