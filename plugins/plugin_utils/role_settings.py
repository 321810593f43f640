"""The collection's variables as the control node sees them: resolved like Ansible resolves them, and typed.

Every role documents its variables in meta/argument_specs.yml (types), meta/validation.yml (ranges and
patterns) and defaults/main.yml (values). The settings check validates them once per host and run; the
planning actions read the values they need through `resolve`, which gives each variable the user's value
(inventory, play, -e) or else its owning role's default, even when that role is not in the play: the
monitoring role needs the cluster's name, the check needs the token's path, and so on.

Values are typed as the argument specs say, so a plan reads `False`, not the string "false" that
`ansible-playbook -e x=false` passes. Controller-side only: it needs Ansible's templar and loader.
"""

from collections import namedtuple
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import yaml
from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import settings as checks

# Not resolved: the path Ansible loads the roles by (through .venv's link to the checkout), so that a task's worker
# finds the roles' defaults already parsed in the loader it inherited from the playbook's process.
COLLECTION_ROOT = Path(__file__).parents[2]
ROLES_DIR = COLLECTION_ROOT / "roles"
# The hosts a role's variables apply to, unless its validation.yml names others (key _hosts).
RAY_GROUPS = ["ray_head", "ray_workers"]

RoleFiles = namedtuple("RoleFiles", "specs rules groups defaults")


def role_names(roles_dir=ROLES_DIR):
    return sorted(path.parent.parent.name for path in Path(roles_dir).glob("*/meta/argument_specs.yml"))


@lru_cache(maxsize=None)
def plain_yaml(path):
    """A collection file of plain data (specs, rules, tables of names), parsed with libyaml when there is one: every
    planning task reads all of them, and Ansible's own loader (origin tags on every value) takes ten times as long.
    Templates (the roles' defaults) go through Ansible's loader instead. Nothing here changes what it returns."""
    path = Path(path)
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


def load_role(loader, role, roles_dir=ROLES_DIR):
    """A role's option specs (every entry point), validation rules, host groups and raw defaults."""
    base = Path(roles_dir) / role
    specs = {}
    for entry in (plain_yaml(base / "meta" / "argument_specs.yml").get("argument_specs") or {}).values():
        for name, option in ((entry or {}).get("options") or {}).items():
            specs.setdefault(name, option)  # the main entry point's spec comes first
    rules = dict(plain_yaml(base / "meta" / "validation.yml"))
    groups = rules.pop("_hosts", None) or RAY_GROUPS
    defaults_file = base / "defaults" / "main.yml"
    # unsafe: the loader's cached copy, not a deep copy of it (nothing here changes it)
    defaults = (loader.load_from_file(str(defaults_file), unsafe=True, trusted_as_template=True)
                if defaults_file.exists() else {})
    return RoleFiles(specs, rules, groups, defaults or {})


META_DIR = COLLECTION_ROOT / "meta"


class Catalog:
    """Every role's files, loaded once per task; and the collection's tables of names: those the roles set for
    themselves (meta/internal_variables.yml) and those of earlier releases (meta/removed_variables.yml)."""

    def __init__(self, loader, roles_dir=ROLES_DIR, meta_dir=META_DIR):
        self.roles = {role: load_role(loader, role, roles_dir) for role in role_names(roles_dir)}
        self.defaults, self.specs, self.rules = {}, {}, {}
        for files in self.roles.values():
            self.defaults.update(files.defaults)
            self.specs.update(files.specs)
            self.rules.update(files.rules)
        internal = plain_yaml(Path(meta_dir) / "internal_variables.yml")
        self.internal = set(internal.get("internal") or []) | set(internal.get("facts") or [])
        self.removed = dict(plain_yaml(Path(meta_dir) / "removed_variables.yml").get("removed") or {})

    def applying_to(self, host, groups):
        """(specs, rules) of the variables of every role that applies to `host` (its groups)."""
        specs, rules = {}, {}
        for files in self.roles.values():
            if any(host in (groups.get(group) or []) for group in files.groups):
                specs.update(files.specs)
                rules.update(files.rules)
        return specs, rules


def templar_for(action, task_vars, catalog):
    """A templar over the task's variables, with every role's defaults as the lowest layer."""
    variables = dict(catalog.defaults)
    variables.update(task_vars or {})
    return action._templar.copy_with_new_env(available_variables=variables), variables


@contextmanager
def refusals_fail(task_vars):
    """Inside it, a value a check refuses (ValueError) fails the task, naming the host: nothing changed yet."""
    try:
        yield
    except ValueError as exc:
        host = (task_vars or {}).get("inventory_hostname") or "localhost"
        raise AnsibleActionFail(f"Settings refused for host {host}: {exc}. Nothing was changed.") from None


def resolve(action, task_vars, names, catalog=None):
    """{name: typed value} for `names` on the task's host: the user's value, else the owning role's default.

    Values the settings check would refuse raise ValueError naming the variable: a plan never works from
    a value nobody checked (roles used from a user's own playbook without the preflight included)."""
    catalog = catalog or Catalog(action._loader)
    templar, variables = templar_for(action, task_vars, catalog)
    values = {}
    for name in names:
        if name not in variables:
            continue
        raw = templar.template(variables[name])
        typed, errors = checks.check_variable(name, raw, catalog.specs.get(name, {}), catalog.rules.get(name))
        if errors:
            raise ValueError("; ".join(errors))
        values[name] = typed
    return values


def host_value(hostvars, host, name, default=None):
    """Another host's variable as that host sees it (hostvars), or `default` when it has none."""
    try:
        value = hostvars[host].get(name, default)
    except Exception:  # a host outside this run (--limit), or a value that cannot be templated there
        return default
    return default if value is None else value


def host_facts(hostvars, host, name):
    """A fact of another host (ansible_facts[name]), {} when that host has not been probed in this run."""
    try:
        return (hostvars[host].get("ansible_facts") or {}).get(name) or {}
    except Exception:
        return {}


def cluster_hosts(task_vars, catalog, names=("ray_node_count", "ray_node_ip_address")):
    """Each Ray host as plugins/module_utils/topology.py describes it, from hostvars and the probe's facts."""
    groups = task_vars.get("groups") or {}
    hostvars = task_vars.get("hostvars") or {}
    head_hosts, worker_hosts = list(groups.get("ray_head") or []), list(groups.get("ray_workers") or [])
    defaults = {name: catalog.roles["ray"].defaults.get(name) for name in names}
    hosts = {}
    for host in head_hosts + [host for host in worker_hosts if host not in head_hosts]:
        try:
            seen = hostvars[host]  # each access computes the host's variables: once per host
        except Exception:  # a host outside this run (--limit)
            seen = {}

        def value(name, default, seen=seen):
            try:
                found = seen.get(name, default)
            except Exception:  # a value that cannot be templated there
                return default
            return default if found is None else found

        count = value("ray_node_count", defaults["ray_node_count"])
        typed_count, _ = checks.check_variable("ray_node_count", count, {"type": "int"}, {})
        probe = (value("ansible_facts", {}) or {}).get("ray_host") or {}
        hosts[host] = {
            "node_count": typed_count if isinstance(typed_count, int) else 1,
            "node_ip": str(value("ray_node_ip_address", "") or ""),
            "default_ipv4": probe.get("default_ipv4") or "",
            "connection": str(value("ansible_connection", "ssh") or "ssh"),
            "address": str(value("ansible_host", host) or host),
            "facts": probe,
        }
    return head_hosts, worker_hosts, hosts
