"""Names checked like values (plugins/module_utils/variable_names.py), and the tables they are checked against."""

import glob
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.ray_docker.cluster.plugins.module_utils import variable_names as names

ROOT = Path(__file__).resolve().parents[4]
KNOWN = {"ray_node_count", "docker_registry_mirrors", "wsl2_rootfs_urls", "registry_cache_port"}
PREFIXES = names.prefixes(["ray", "ray_cluster", "docker", "registry_cache", "wsl2"])
REMOVED = {"wsl2_rootfs_url": {"since": "1.0.0", "replacement": "wsl2_rootfs_urls", "note": "a list"},
           "wsl2_boot_task": {"since": "1.1.0", "note": "no working configuration without it"}}


def check(found, **options):
    return names.problems(found, KNOWN, {"ray_cluster_plan"}, REMOVED, PREFIXES, **options)


def test_a_typo_names_the_closest_real_name():
    assert check(["ray_node_cont"]) == ["ray_node_cont is no variable of any role: did you mean ray_node_count? (a "
                                        "variable of another role with the same prefix: list it in "
                                        "preflight_foreign_variables)"]
    assert "did you mean docker_registry_mirrors?" in check(["docker_registry_mirror"])[0]
    assert "did you mean" not in check(["ray_something_else_entirely"])[0]


def test_a_removed_name_names_its_replacement_or_says_why():
    assert check(["wsl2_rootfs_url"]) == ["wsl2_rootfs_url was renamed in 1.0.0: use wsl2_rootfs_urls (a list)"]
    assert check(["wsl2_boot_task"]) == ["wsl2_boot_task was removed in 1.1.0 (no working configuration without it)"]


def test_names_without_a_role_prefix_declared_or_foreign_ones_pass():
    assert check(["ansible_host", "my_own_var", "ray_node_count", "registry_cache_port"]) == []
    assert check(["docker_users", "docker_users_extra"], foreign_patterns=["docker_users*"]) == []
    assert check(["docker_users"], foreign_patterns=["docker_user"]) != [], "a name is matched whole"


def test_a_name_the_roles_set_for_themselves_passes_unless_the_user_gives_it():
    assert check(["ray_cluster_plan"]) == []
    assert check(["ray_cluster_plan"], given=lambda name: True) == [
        "ray_cluster_plan is set by the roles themselves during a run, not by you"]


def test_the_message_says_where_a_name_was_set():
    assert check(["ray_node_cont"], source=lambda name: "with -e")[0].startswith("ray_node_cont (set with -e) is no")


def documents():
    found = [("tasks", yaml.safe_load(Path(path).read_text()))
             for path in sorted(glob.glob(str(ROOT / "roles/*/tasks/*.yml")) + glob.glob(str(ROOT / "roles/*/handlers/*.yml")))]
    found += [("vars", yaml.safe_load(Path(path).read_text())) for path in sorted(glob.glob(str(ROOT / "roles/*/vars/main.yml")))]
    found += [("playbook", yaml.safe_load(Path(path).read_text())) for path in sorted(glob.glob(str(ROOT / "playbooks/*.yml")))]
    return found


def tables():
    declared, roles = set(), []
    for path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        roles.append(path.parent.parent.name)
        for entry in yaml.safe_load(path.read_text())["argument_specs"].values():
            declared |= set((entry.get("options") or {}).keys())
    internal = yaml.safe_load((ROOT / "meta" / "internal_variables.yml").read_text())
    removed = yaml.safe_load((ROOT / "meta" / "removed_variables.yml").read_text())["removed"]
    return declared, internal, removed, names.prefixes(roles)


def test_the_declared_internal_names_are_exactly_what_the_roles_set():
    declared, internal, _, prefixes = tables()
    found = {name for name in names.internal_names(documents()) if names.owned(name, prefixes)}
    assert sorted(found - declared - set(internal["internal"])) == [], "set by the roles, missing from meta/internal_variables.yml"
    assert sorted(set(internal["internal"]) - found) == [], "listed in meta/internal_variables.yml, set by no role"


def test_no_role_registers_or_sets_a_name_a_user_sets():
    """A `register:` or set_fact named like a role's variable would override the user's value for the rest of the run."""
    declared, internal, removed, prefixes = tables()
    allowed = {"preflight_pending_hosts", "ray_check_reuse_verdict", "ray_cluster_wait", "ray_monitoring_wait"}  # play vars
    set_by_roles = {name for kind, data in documents() if kind == "tasks"
                    for name in names.internal_names([(kind, data)])}
    assert sorted((set_by_roles & declared) - allowed) == []
    assert sorted(set(removed) & (declared | set(internal["internal"]))) == [], "a removed name is still in use"


def test_the_facts_listed_are_the_facts_the_plugins_set():
    _, internal, _, _ = tables()
    sources = "\n".join(Path(path).read_text() for path in glob.glob(str(ROOT / "plugins/**/*.py"), recursive=True))
    set_facts = set(re.findall(r"ansible_facts\"?\]?\s*[=:(]\s*\{\s*\"(\w+)\"", sources))
    set_facts |= set(re.findall(r"ansible_facts=\{\s*\"(\w+)\"", sources))
    assert set(internal["facts"]) == set_facts | {"ray_host"}, "ray_host: set with ray_snapshot by ray_host_facts' result"


@pytest.mark.parametrize("name", sorted(yaml.safe_load((ROOT / "meta" / "removed_variables.yml").read_text())["removed"]))
def test_every_replacement_exists(name):
    declared, _, removed, _ = tables()
    replacement = removed[name].get("replacement")
    assert replacement is None or replacement in declared


def test_docker_names_and_labels_are_spelt_in_one_module_only():
    """plugins/module_utils/names.py holds every label and object name; no other plugin and no role spells one."""
    offenders = []
    for path in glob.glob(str(ROOT / "plugins/**/*.py"), recursive=True):
        if path.endswith("module_utils/names.py"):
            continue
        text = Path(path).read_text()
        offenders += [f"{path}: {found}" for found in re.findall(r"\"ray-docker\.(?:cluster|role|node|spec|service|image-id|"
                                                                  r"token-sha256|redis-password-sha256|config-sha256|"
                                                                  r"datasource-sha256|password-sha256)\"", text)]
        offenders += [f"{path}: {found}" for found in re.findall(r"f\"\{[a-z_.]*cluster_name\}-[a-z-]+\"", text)]
    for path in glob.glob(str(ROOT / "roles/*/*/*.yml")) + glob.glob(str(ROOT / "playbooks/*.yml")):
        offenders += [f"{path}: {found}" for found in re.findall(r"ray_cluster_name \}\}-|ray_cluster_name ~ '-",
                                                                 Path(path).read_text())]
    assert offenders == []
