"""Names are checked like values: a variable that carries a role's prefix but is no variable of any role is a typo
or a name from an older release, and is refused before anything changes, naming the closest real name or the
replacement (Ray's cluster schema refuses unknown keys; kubespray refuses removed variables).

Pure functions: the preflight (plugins/action/ray_settings_check.py) runs them on every host's variables, runner.py
on `-e` before Ansible starts. What they compare with: every role's argument specs, the names the roles set for
themselves (meta/internal_variables.yml, kept complete by a unit test that reads the roles), the renamed and removed
ones (meta/removed_variables.yml), and the names a user declares as another role's (preflight_foreign_variables).
"""

import difflib
import fnmatch


def prefixes(roles):
    """Every role's prefix ('ray_', 'ray_cluster_', 'wsl2_', ...): a name starting with one belongs to the project."""
    return sorted({f"{role}_" for role in roles}, key=len, reverse=True)


def owned(name, role_prefixes):
    return any(str(name).startswith(prefix) for prefix in role_prefixes)


def closest(name, known):
    """The declared name a typo most likely meant, or None."""
    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return found[0] if found else None


def foreign(name, patterns):
    """Whether `name` is declared as another role's variable (a name or a glob such as docker_users*)."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns or [])


def problems(names, known, internal, removed, role_prefixes, foreign_patterns=(), source=None, given=lambda name: False):
    """Messages for the names among `names` that carry a role's prefix and are neither declared, internal nor
    foreign; a removed or renamed one names its replacement. `source(name)` says where a name was set; `given(name)`
    whether the user set it (an internal name set by the user would override what a role sets for itself)."""
    messages = []
    for name in sorted(set(names)):
        if not owned(name, role_prefixes) or name in known or foreign(name, foreign_patterns):
            continue
        where = f" (set {source(name)})" if source else ""
        if name in internal and name not in (removed or {}):
            if given(name):
                messages.append(f"{name}{where} is set by the roles themselves during a run, not by you")
            continue
        entry = (removed or {}).get(name)
        if entry is not None:
            replacement = (entry or {}).get("replacement")
            note = (entry or {}).get("note")
            messages.append(f"{name}{where} was {'renamed' if replacement else 'removed'} in {entry.get('since', '?')}"
                            + (f": use {replacement}" if replacement else "")
                            + (f" ({note})" if note else ""))
            continue
        guess = closest(name, known)
        messages.append(f"{name}{where} is no variable of any role" + (f": did you mean {guess}?" if guess else "")
                        + " (a variable of another role with the same prefix: list it in preflight_foreign_variables)")
    return messages


def internal_names(documents):
    """The names the roles and playbooks set for themselves, from their loaded YAML: `register`, `set_fact` keys,
    `loop_var`, and `vars` of tasks, blocks, plays and includes. `documents`: (kind, data) with kind 'tasks',
    'playbook' or 'vars' (a role's vars/main.yml)."""
    found = set()

    def tasks(items):
        for task in items or []:
            if not isinstance(task, dict):
                continue
            if task.get("register"):
                found.add(task["register"])
            for key in ("ansible.builtin.set_fact", "set_fact"):
                if isinstance(task.get(key), dict):
                    found.update(name for name in task[key] if name != "cacheable")
            loop_var = (task.get("loop_control") or {}).get("loop_var")
            if loop_var:
                found.add(loop_var)
            found.update((task.get("vars") or {}).keys())
            for section in ("block", "rescue", "always"):
                tasks(task.get(section))

    for kind, data in documents:
        if kind == "vars":
            found.update((data or {}).keys())
        elif kind == "tasks":
            tasks(data)
        elif kind == "playbook":
            for play in data or []:
                found.update((play.get("vars") or {}).keys())
                for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                    tasks(play.get(section))
                for role in play.get("roles") or []:
                    if isinstance(role, dict):
                        found.update((role.get("vars") or {}).keys())
    return found
