"""Action plugin: the one validator of the collection's variables, before anything changes.

Runs on the control node. With scope=host (every host, once per run) it resolves every variable of every role
that applies to the host (the user's value, else the role's default), checks its type, range or pattern
(meta/argument_specs.yml, meta/validation.yml) and the rules between variables, and keeps the typed values as
the host's fact preflight_settings; the play's first host also checks the inventory's topology. With scope=cluster (once per run, after the probe) it checks the cluster as
a whole: the inventory's topology, which hosts answer, node addresses, Docker Desktop in a cluster of several
hosts, and each host's CPUs, memory and open-files limit against its Ray nodes.

Logic: plugins/module_utils/settings.py (one variable) and plugins/module_utils/preflight.py (across them).
"""

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.ray_docker.cluster.plugins.module_utils import preflight, settings, topology, variable_names
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import role_settings

ARGUMENTS = {
    "scope": {"type": "str", "choices": ["host", "cluster"], "default": "host"},
    "probe": {"type": "str", "default": "preflight_probe"},
    "pending": {"type": "list", "elements": "str", "default": []},
}


def ray_start_flags():
    """Every flag `ray start` accepts, from the control node's Ray (the cluster's version); None without it."""
    try:
        from ray.scripts.scripts import start
    except Exception:  # ray[default] missing or broken on the control node: the containers will tell
        return None
    return {opt for param in start.params for opt in param.opts}


def refuse(what, errors, result):
    result.update(failed=True, errors=errors)
    raise AnsibleActionFail(f"{what}: " + "; ".join(errors) + ". Nothing was changed.", result=result)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGUMENTS)
        catalog = role_settings.Catalog(self._loader)
        if args["scope"] == "host":
            return self._check_host(task_vars or {}, catalog, result)
        return self._check_cluster(task_vars or {}, catalog, args, result)

    @staticmethod
    def _windows_pc_problems(values, task_vars):
        """A Windows PC's distribution must be one of the Ray hosts, reached on the port its sshd listens on."""
        distro = values.get("wsl2_distro_host") or ""
        groups = task_vars.get("groups") or {}
        if not distro:
            return []
        if distro not in topology.ray_hosts(groups.get("ray_head"), groups.get("ray_workers")):
            return [f"wsl2_distro_host={distro}: must be one of the Ray hosts (ray_head or ray_workers), the inventory "
                    "host of this PC's distribution"]
        port = role_settings.host_value(task_vars.get("hostvars") or {}, distro, "ansible_port", None)
        if port is not None and str(port) != str(values.get("wsl2_ssh_port")):
            return [f"wsl2_ssh_port={values.get('wsl2_ssh_port')}: the distribution's sshd would listen there, but its "
                    f"inventory host {distro} is reached on ansible_port={port}: make them the same"]
        return []

    @staticmethod
    def _inventory_problems(task_vars, catalog, typed):
        """The inventory's topology (one head, no host in both groups, node counts), checked by one host only."""
        head_hosts, worker_hosts, hosts = role_settings.cluster_hosts(task_vars, catalog)
        mode = typed.get("ray_network_mode") or catalog.roles["ray"].defaults.get("ray_network_mode", "auto")
        return preflight.inventory_problems(head_hosts, worker_hosts, {h: d["node_count"] for h, d in hosts.items()}, mode)

    def _name_problems(self, task_vars, catalog, foreign_patterns):
        """Variables with a role's prefix that no role declares: a typo, or a name of an earlier release."""
        host = task_vars.get("inventory_hostname", "")
        manager = self._task.get_variable_manager()

        def source(name):
            if manager is not None and name in (manager.extra_vars or {}):
                return "with -e"
            inventory_host = manager._inventory.get_host(host) if manager is not None else None
            if inventory_host is not None and name in inventory_host.get_vars():
                return f"for host {host} in the inventory"
            groups = [group.name for group in (inventory_host.get_groups() if inventory_host is not None else [])
                      if name in group.get_vars()]
            return f"for group {groups[0]} in the inventory" if groups else "in the inventory's group_vars/host_vars or the play"

        return variable_names.problems(task_vars.keys(), set(catalog.specs), catalog.internal, catalog.removed,
                                       variable_names.prefixes(catalog.roles), foreign_patterns, source,
                                       given=lambda name: manager is not None and name in (manager.extra_vars or {}))

    def _check_host(self, task_vars, catalog, result):
        host = task_vars.get("inventory_hostname", "?")
        groups = task_vars.get("groups") or {}
        specs, rules = catalog.applying_to(host, groups)
        templar, variables = role_settings.templar_for(self, task_vars, catalog)
        values, errors = {}, []
        for name in sorted(specs):
            if name not in variables:
                continue
            try:
                values[name] = templar.template(variables[name])
            except Exception as exc:  # an undefined variable or a broken template in the user's value
                errors.append(f"{name}: cannot be evaluated: {str(exc).splitlines()[0]}")
        typed, problems = settings.check_settings(specs, rules, values)
        errors += problems
        errors += self._name_problems(task_vars, catalog, typed.get("preflight_foreign_variables") or [])
        if not errors:
            ray_hosts = topology.ray_hosts(groups.get("ray_head"), groups.get("ray_workers"))
            known = ray_start_flags() if typed.get("ray_cluster_extra_start_args") else None
            errors += preflight.value_problems(typed, ray_hosts, known, settings.resolvable, groups.get("windows_wsl") or [])
        if not errors and host in (groups.get("windows_wsl") or []):
            errors += self._windows_pc_problems(typed, task_vars)
        result.update(changed=False, checked=len(values))
        if errors:
            refuse(f"Settings refused for host {host}", errors, result)
        # The inventory as a whole, in the same step (before any host is contacted), by the play's first host.
        if host == (task_vars.get("ansible_play_hosts_all") or [host])[0]:
            problems = self._inventory_problems(task_vars, catalog, typed)
            if problems:
                refuse("The inventory does not describe one Ray cluster", problems, result)
        # The typed values, for the cluster check and the probe; a secret stays out of facts and logs.
        public = {name: value for name, value in typed.items() if not (rules.get(name) or {}).get("secret")}
        result["ansible_facts"] = {"preflight_settings": public}
        return result

    def _check_cluster(self, task_vars, catalog, args, result):
        head_hosts, worker_hosts, hosts = role_settings.cluster_hosts(task_vars, catalog)
        hostvars = task_vars.get("hostvars") or {}
        outcomes = {host: role_settings.host_value(hostvars, host, args["probe"], {}) or {} for host in hosts}
        unreachable = [host for host, outcome in outcomes.items() if outcome.get("unreachable")]
        failed = [host for host, outcome in outcomes.items() if outcome.get("failed") and not outcome.get("unreachable")]
        own = role_settings.host_facts(hostvars, task_vars.get("inventory_hostname"), "preflight_settings")
        mode = own.get("ray_network_mode") or catalog.roles["ray"].defaults.get("ray_network_mode", "auto")
        problems = preflight.cluster_problems(head_hosts, worker_hosts, hosts, mode, bool(own.get("ray_require_all_hosts")),
                                              unreachable, failed, args["pending"])
        cluster_name = own.get("ray_cluster_name") or "ray"
        plan = topology.node_plan(head_hosts, worker_hosts, {h: d["node_count"] for h, d in hosts.items()}, cluster_name)
        resources = {}
        for host, data in hosts.items():
            if host in unreachable or not data["facts"]:
                continue
            values = role_settings.host_facts(hostvars, host, "preflight_settings")
            nodes = [node for node in plan if node["host"] == host]
            errors, shares = preflight.fit_problems(values, data["facts"], nodes)
            problems += [error if error.startswith("host ") else f"host {host}: {error}" for error in errors]
            resources[host] = shares.get("nodes", [])
        skipped = [host for host in unreachable if host not in args["pending"]]
        # Not `unreachable`: Ansible would take that key as this task's own host not answering.
        result.update(changed=False, skipped_hosts=skipped, resources=resources,
                      platforms={host: name for host, data in hosts.items() if (name := topology.platform(data["facts"]))})
        if problems:
            result.update(failed=True, errors=problems)
            raise AnsibleActionFail(" ".join(problems) + " Nothing was changed.", result=result)
        result["ansible_facts"] = {"preflight_unreachable": skipped}
        return result
