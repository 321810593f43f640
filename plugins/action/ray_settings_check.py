"""Action plugin: check every variable of every project role on one host, before anything changes.

Runs on the control node (no module, no connection). For each role it reads meta/argument_specs.yml
(types), meta/validation.yml (ranges, patterns) and defaults/main.yml, templates each variable in the
host's context (the user's value, else the role's default) and checks it with raydeploy/settings.py.
Then the checks that span variables: the host's CPUs and memory against its Ray nodes' shares, the
open-files limit against the host's hard limit, flags and environment the role sets itself.
"""

from pathlib import Path
from urllib.parse import urlsplit

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


from ansible_collections.ray_docker.cluster.plugins.module_utils import settings as checks
from ansible_collections.ray_docker.cluster.plugins.module_utils.resources import host_resources
from ansible_collections.ray_docker.cluster.plugins.module_utils.wsl import wslconfig_memory_advice

# The collection's root (this file is plugins/action/ in it): where its roles are.
COLLECTION_ROOT = Path(__file__).resolve().parents[2]

DOCUMENTATION = r"""
action: ray_settings_check
short_description: Check the variables of the project's roles on one host (types, ranges, patterns, cross-checks)
options:
  roles: {description: Role names under roles_path whose variables are checked; default every role with a meta/validation.yml., type: list, elements: str}
  roles_path: {description: Folder holding the roles; default the project's roles/., type: path}
  nodes: {description: This host's Ray nodes (ray_node_plan rows), for the resource check., type: list, elements: dict, default: []}
  facts: {description: This host's ray_host facts (ray_host_facts), for the resource and limit checks., type: dict, default: {}}
returns: checked (number of variables), errors (list), resources (this host's node shares)
"""

# `ray start` flags the ray_cluster role sets from its own variables: the same flag twice makes Ray
# refuse to start (or silently take the last one).
OWNED_FLAGS = {
    "--head": "the inventory's ray_head group", "--address": "the head's address", "--port": "ray_gcs_port",
    "--node-name": "the plan", "--node-ip-address": "ray_node_ip_address", "--block": "the role",
    "--num-cpus": "ray_cluster_head_num_cpus/ray_cluster_worker_num_cpus",
    "--num-gpus": "ray_cluster_host_gpus and ray_cluster_head_num_gpus/ray_cluster_worker_num_gpus",
    "--memory": "ray_cluster_head_memory/ray_cluster_worker_memory",
    "--object-store-memory": "ray_cluster_object_store_memory/ray_cluster_object_store_fraction",
    "--dashboard-host": "the role", "--dashboard-port": "ray_dashboard_port",
    "--ray-client-server-port": "ray_client_server_port", "--node-manager-port": "ray_node_manager_port",
    "--object-manager-port": "ray_object_manager_port", "--runtime-env-agent-port": "ray_runtime_env_agent_port",
    "--dashboard-agent-grpc-port": "ray_dashboard_agent_grpc_port",
    "--dashboard-agent-listen-port": "ray_dashboard_agent_listen_port",
    "--metrics-export-port": "ray_metrics_export_port", "--min-worker-port": "ray_min_worker_port",
    "--max-worker-port": "ray_max_worker_port", "--disable-usage-stats": "the role",
}
# Token authentication is always on; these would switch it off or point it elsewhere.
OWNED_ENV = {"RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_TOKEN"}


def ray_start_flags():
    """Every flag `ray start` accepts, from the control node's Ray (the cluster's version); None without it."""
    try:
        from ray.scripts.scripts import start
    except Exception:  # ray[default] missing or broken on the control node: the containers will tell
        return None
    return {opt for param in start.params for opt in param.opts}


def cross_check(values, facts, nodes):
    """Messages for problems that involve several variables or the host's own facts."""
    errors = []
    extra = values.get("ray_cluster_extra_start_args") or []
    known = ray_start_flags() if extra else None
    for arg in extra:
        flag = str(arg).split("=", 1)[0]
        if flag in OWNED_FLAGS:
            errors.append(f"ray_cluster_extra_start_args: {flag} is set by the role from {OWNED_FLAGS[flag]}; "
                          "set that instead")
        elif known is not None and flag not in known:
            errors.append(f"ray_cluster_extra_start_args: `ray start` has no flag {flag} (see `ray start --help`)")
    for name in sorted(set(values.get("ray_cluster_env") or {}) & OWNED_ENV):
        errors.append(f"ray_cluster_env: {name} is set by the role (token authentication is always on)")
    for name in ("docker_registry_mirrors", "docker_insecure_registries"):
        key = name.replace("docker_", "").replace("_", "-")
        if values.get(name) and key in (values.get("docker_daemon_options") or {}):
            errors.append(f"docker_daemon_options sets {key!r} and {name} sets it too: set it in one place")
    nofile, hard = values.get("ray_cluster_nofile_limit") or 0, facts.get("nofile_hard")
    if hard and nofile > hard:
        errors.append(f"ray_cluster_nofile_limit={nofile}: must be at most the host's hard limit of open files "
                      f"({hard}, `ulimit -Hn` as root): the containers would not start")
    low, high = values.get("ray_min_worker_port"), values.get("ray_max_worker_port")
    if isinstance(low, int) and isinstance(high, int) and low >= high:
        errors.append(f"ray_min_worker_port={low} and ray_max_worker_port={high}: the first must be below the second")
    url = values.get("ray_dashboard_url")
    if url and not checks.resolvable(urlsplit(url).hostname or ""):
        errors.append(f"ray_dashboard_url={url!r}: the control node cannot resolve {urlsplit(url).hostname!r}")
    resources = {}
    if nodes and facts.get("cpus"):
        try:
            resources = host_resources(nodes, facts, values)
        except (TypeError, ValueError) as exc:  # a type error above already names the variable
            if not errors:
                errors.append(f"the Ray nodes' resources cannot be computed: {exc}")
        else:
            errors += resources["errors"]
            if facts.get("wsl") and resources.get("memory_errors"):
                errors.append(wslconfig_memory_advice(facts["mem_total"], resources["host"]["min_memory"],
                                                      facts.get("wslconfig", "")))
    return errors, resources


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def _role_files(self, roles_path, role):
        base = Path(roles_path) / role
        specs = self._loader.load_from_file(str(base / "meta" / "argument_specs.yml"))
        options = ((specs or {}).get("argument_specs") or {}).get("main", {}).get("options") or {}
        rules_file = base / "meta" / "validation.yml"
        rules = self._loader.load_from_file(str(rules_file)) if rules_file.exists() else {}
        defaults_file = base / "defaults" / "main.yml"
        defaults = self._loader.load_from_file(str(defaults_file), trusted_as_template=True) if defaults_file.exists() else {}
        return options, rules or {}, defaults or {}

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec={
            "roles": {"type": "list", "elements": "str"},
            "roles_path": {"type": "path", "default": str(COLLECTION_ROOT / "roles")},
            "nodes": {"type": "list", "elements": "dict", "default": []},
            "facts": {"type": "dict", "default": {}},
        })
        roles = args["roles"] or sorted(path.parent.parent.name for path in Path(args["roles_path"]).glob("*/meta/validation.yml"))
        host = (task_vars or {}).get("inventory_hostname", "")
        groups = (task_vars or {}).get("groups") or {}
        specs, rules, defaults = {}, {}, {}
        for role in roles:
            options, role_rules, role_defaults = self._role_files(args["roles_path"], role)
            defaults.update(role_defaults)  # every role's defaults, for templating
            # A role's variables are checked on the hosts it runs on: its _hosts groups, else the Ray hosts.
            applies_to = role_rules.pop("_hosts", None) or ["ray_head", "ray_workers"]
            if any(host in (groups.get(group) or []) for group in applies_to):
                specs.update(options)
                rules.update(role_rules)
        # Role defaults are the lowest layer: whatever the inventory, group_vars or -e set wins.
        variables = dict(defaults)
        variables.update(task_vars or {})
        templar = self._templar.copy_with_new_env(available_variables=variables)
        values, errors = {}, []
        for name in sorted(specs):
            if name not in variables:
                continue
            try:
                values[name] = templar.template(variables[name])
            except Exception as exc:  # an undefined variable or a broken template in the user's value
                errors.append(f"{name}: cannot be evaluated: {str(exc).splitlines()[0]}")
        typed, problems = checks.check_settings(specs, rules, values)
        errors += problems
        if not errors:
            more, resources = cross_check(typed, args["facts"], args["nodes"])
            errors += more
            result["resources"] = resources.get("nodes", [])
        result.update(changed=False, checked=len(values), errors=errors)
        if errors:
            host = (task_vars or {}).get("inventory_hostname", "?")
            raise AnsibleActionFail(f"Settings refused for host {host}: " + "; ".join(errors) + ". Nothing was changed.",
                                    result=result)
        return result
