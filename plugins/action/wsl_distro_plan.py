"""Action plugin: what the wsl_distro role does inside a WSL distribution (plugins/module_utils/wsl.py, distro_plan).

From the preflight's probe of the host (ray_host): /etc/wsl.conf's merge, and for a PC's own distribution running
Docker Engine (journey 1) the keep-alive through Windows interop (.wslconfig idle timeouts, a Run entry at logon);
with `remove`, the way back of that keep-alive.
"""

import os

from ansible.plugins.action import ActionBase

from ansible_collections.ray_docker.cluster.plugins.module_utils import wsl
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import role_settings


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _, args = self.validate_argument_spec(argument_spec={"remove": {"type": "bool", "default": False}})
        host = task_vars.get("inventory_hostname", "")
        catalog = role_settings.Catalog(self._loader)
        with role_settings.refusals_fail(task_vars):
            settings = role_settings.resolve(self, task_vars, sorted(catalog.roles["wsl_distro"].specs), catalog)
        hostvars = task_vars.get("hostvars") or {}
        pcs = [pc for pc in (task_vars.get("groups") or {}).get("windows_wsl") or []
               if role_settings.host_value(hostvars, pc, "wsl2_distro_host", "") == host]
        distribution = settings["wsl_distro_name"]
        if not distribution and pcs:
            distribution = str(role_settings.host_value(hostvars, pcs[0], "wsl2_distribution", ""))
        if not distribution and task_vars.get("ansible_connection") == "local":
            distribution = os.environ.get("WSL_DISTRO_NAME", "")  # the control node is this very distribution
        facts = (task_vars.get("ansible_facts") or {}).get("ray_host") or {}
        if args["remove"]:
            result.update(changed=False, **wsl.distro_removal_plan(facts, distribution))
            return result
        result.update(changed=False, **wsl.distro_plan(facts, settings, distribution, managed_by_pc=bool(pcs)))
        return result
