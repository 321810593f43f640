"""Each plan is a declared contract (issue 27): what the roles read of an action's result is in its module stub's
RETURN, and what the stub's DOCUMENTATION says the action takes is what the action validates.

1. Every task of the roles and playbooks that runs a `ray_docker.cluster.<action>` of plugins/action/ and registers
   its result names it; every read of that name in the roles' and playbooks' YAML (and the roles' templates),
   `<name>.<key>` or `<name>['<key>']` in a Jinja expression or a conditional, must find <key> in the RETURN block
   of plugins/modules/<action>.py. Only the first level is checked (`ray_cluster_plan.gcs_store.uid` reads
   `gcs_store`). Ansible's own keys of every result (changed, failed, msg, ...) need no entry. A registered result
   read under another name (`vars: plan: "{{ docker_plan }}"`) is not followed.
2. Every stub's DOCUMENTATION options (doc fragments and a dict's suboptions included) have the names, types,
   defaults, elements, choices and `required` of the action's argument spec: ARGUMENTS of a PlanAction subclass,
   the spec a plugin passes to validate_argument_spec (captured from a run), and for ray_host_facts, whose action
   hands its arguments to the module of the same name, that module's AnsibleModule spec.
3. Every action of plugins/action/ has its stub in plugins/modules/ (ansible-doc shows it).
"""

import importlib
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.ray_docker.cluster.plugins.plugin_utils.plan_action import PlanAction
from tests.unit.plugins.action import harness

ROOT = Path(__file__).resolve().parents[4]
ACTIONS = sorted(path.stem for path in (ROOT / "plugins" / "action").glob("*.py") if path.stem != "__init__")
PREFIX = "ray_docker.cluster."
# Keys Ansible puts in every task result (or a retried one): documented once by Ansible, not per module.
ANSIBLE_KEYS = {"changed", "failed", "msg", "skipped", "skip_reason", "results", "attempts", "failed_when_result",
                "warnings", "deprecations", "invocation"}
# Keys whose value is a Jinja expression without {{ }}.
CONDITIONALS = {"when", "changed_when", "failed_when", "until", "that", "var"}
EXPRESSION = re.compile(r"{{(.*?)}}|{%(.*?)%}", re.S)


def yaml_files():
    files = sorted((ROOT / "roles").glob("*/tasks/*.yml")) + sorted((ROOT / "roles").glob("*/handlers/*.yml"))
    return files + sorted((ROOT / "playbooks").glob("*.yml"))


def load(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def walk(node):
    """Every mapping in a YAML document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def registrations():
    """{registered name: {action}} of the tasks that run one of the collection's action plugins, and
    {registered name: [where]}."""
    found, where = {}, {}
    for path in yaml_files():
        for mapping in walk(load(path)):
            modules = [key[len(PREFIX):] for key in mapping if isinstance(key, str) and key.startswith(PREFIX)]
            names = [name for name in modules if name in ACTIONS]
            if names and mapping.get("register"):
                found.setdefault(mapping["register"], set()).update(names)
                where.setdefault(mapping["register"], []).append(str(path.relative_to(ROOT)))
    return found, where


def expressions(node, key=None):
    """The Jinja expressions in a YAML document: inside {{ }} and {% %}, and whole conditionals."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from expressions(value, name)
    elif isinstance(node, list):
        for item in node:
            yield from expressions(item, key)
    elif isinstance(node, str):
        if key in CONDITIONALS:
            yield node
        else:
            for match in EXPRESSION.finditer(node):
                yield match.group(1) or match.group(2) or ""


def all_expressions():
    for path in yaml_files():
        for text in expressions(load(path)):
            yield path, text
    for path in sorted((ROOT / "roles").glob("*/templates/*")):
        for match in EXPRESSION.finditer(path.read_text(encoding="utf-8")):
            yield path, match.group(1) or match.group(2) or ""


def keys_read(name):
    """{first-level key: [where]} the YAML reads of the registered result `name`."""
    pattern = re.compile(rf"(?<!\w){re.escape(name)}(?:\.(\w+)|\[\s*['\"](\w+)['\"]\s*\])")
    found = {}
    for path, text in all_expressions():
        for match in pattern.finditer(text):
            found.setdefault(match.group(1) or match.group(2), set()).add(str(path.relative_to(ROOT)))
    return found


def stub(action):
    if not (ROOT / "plugins" / "modules" / f"{action}.py").exists():
        raise AssertionError(f"{action}: plugins/action/{action}.py has no module stub plugins/modules/{action}.py "
                             "documenting its options and RETURN")
    harness.collection_package()
    return importlib.import_module(f"ansible_collections.ray_docker.cluster.plugins.modules.{action}")


def documented_returns(action):
    return set(yaml.safe_load(stub(action).RETURN) or {})


REGISTERED, WHERE = registrations()


def test_the_roles_register_the_plans_and_reads_are_found():
    """The scan itself: it finds the plans the roles register and the keys they read (a scan that found nothing
    would pass every contract below)."""
    assert REGISTERED["docker_plan"] == {"docker_plan"}
    assert REGISTERED["ray_cluster_down"] == {"ray_cluster_plan"}
    assert REGISTERED["registry_cache_report"] == {"registry_cache_plan"}
    assert REGISTERED["ray_job_target"] == {"ray_job_target"}  # a playbook's
    assert {"token", "gcs_store", "phases", "network"} <= set(keys_read("ray_cluster_plan"))
    assert "restart" not in keys_read("docker_plan"), "docker_plan.desktop.restart reads the first level only"
    assert {"desktop", "config_file"} <= set(keys_read("docker_plan"))
    assert set(keys_read("ray_image_judged")) >= {"notes", "unavailable"}


@pytest.mark.parametrize("name", sorted(REGISTERED))
def test_a_registered_name_holds_the_result_of_one_action(name):
    assert len(REGISTERED[name]) == 1, (f"register: {name} holds results of several actions {sorted(REGISTERED[name])} "
                                        f"({', '.join(WHERE[name])}): the keys read from it cannot be checked")


@pytest.mark.parametrize("name", sorted(REGISTERED))
def test_every_key_the_roles_read_of_a_plan_is_in_its_return_block(name):
    (action,) = REGISTERED[name]
    documented = documented_returns(action)
    undocumented = {key: where for key, where in keys_read(name).items()
                    if key not in documented and key not in ANSIBLE_KEYS}
    assert not undocumented, "\n".join(
        f"{action}: key {key!r} (read as {name}.{key} in {', '.join(sorted(where))}) is not documented in the RETURN "
        f"block of plugins/modules/{action}.py" for key, where in sorted(undocumented.items()))


# ---------------------------------------------------------------- options = argument spec

class Captured(Exception):
    def __init__(self, spec):
        super().__init__("argument spec captured")
        self.spec = spec


def argument_spec(action):
    """The spec the action validates its arguments with."""
    module = harness.plugin(action)
    if issubclass(module.ActionModule, PlanAction):
        return module.ActionModule.ARGUMENTS
    if action == "ray_host_facts":  # the action passes its arguments to the module: the module's spec
        return module_argument_spec(action)
    instance = harness.action(action)

    def capture(argument_spec=None, **kwargs):
        raise Captured(argument_spec)

    instance.validate_argument_spec = capture
    try:
        instance.run(task_vars={})
    except Captured as captured:
        return captured.spec
    raise AssertionError(f"{action} never called validate_argument_spec")


def module_argument_spec(name):
    module = stub(name)

    class Module:
        def __init__(self, argument_spec=None, **kwargs):
            raise Captured(argument_spec)

    original = module.AnsibleModule
    module.AnsibleModule = Module
    try:
        module.main()
    except Captured as captured:
        return captured.spec
    finally:
        module.AnsibleModule = original
    raise AssertionError(f"{name}.main() made no AnsibleModule")


def documented_options(action):
    documentation = yaml.safe_load(stub(action).DOCUMENTATION)
    options = dict(documentation.get("options") or {})
    for fragment in documentation.get("extends_documentation_fragment") or []:
        name = fragment[len(PREFIX):] if fragment.startswith(PREFIX) else fragment
        harness.collection_package()
        text = importlib.import_module(f"ansible_collections.ray_docker.cluster.plugins.doc_fragments.{name}")
        options.update(yaml.safe_load(text.ModuleDocFragment.DOCUMENTATION).get("options") or {})
    return options


def normalized(option):
    option = option or {}
    return {"type": option.get("type", "str"), "default": option.get("default"), "elements": option.get("elements"),
            "choices": option.get("choices"), "required": bool(option.get("required", False))}


def disagreements(action, documented, spec, where="option"):
    """How the documented options differ from the spec, as messages; a dict's suboptions too (DOCUMENTATION's
    `suboptions`, the spec's `options`)."""
    problems = []
    if set(documented) != set(spec):
        problems.append(f"{action}: plugins/modules/{action}.py documents the {where}s {sorted(documented)}, the action "
                        f"takes {sorted(spec)} (undocumented: {sorted(set(spec) - set(documented))}; not taken: "
                        f"{sorted(set(documented) - set(spec))})")
    for name in sorted(set(documented) & set(spec)):
        if normalized(documented[name]) != normalized(spec[name]):
            problems.append(f"{action}: {where} {name} is documented as {normalized(documented[name])}, the action's "
                            f"spec is {normalized(spec[name])}")
        problems += disagreements(action, (documented[name] or {}).get("suboptions") or {},
                                  (spec[name] or {}).get("options") or {}, f"suboption of {name}")
    return problems


@pytest.mark.parametrize("action", ACTIONS)
def test_the_stubs_options_are_the_actions_argument_spec(action):
    problems = disagreements(action, documented_options(action), argument_spec(action))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_has_its_documenting_stub(action):
    documentation = yaml.safe_load(stub(action).DOCUMENTATION)
    assert documentation["module"] == action
    assert isinstance(yaml.safe_load(stub(action).RETURN), dict)


def test_a_difference_in_a_suboption_is_named():
    documented = {"previous": {"type": "dict", "suboptions": {"image": {"type": "str"}}}}
    spec = {"previous": {"type": "dict", "options": {"image": {"type": "str", "required": True}}}}
    assert disagreements("x", documented, spec) == [
        "x: suboption of previous image is documented as {'type': 'str', 'default': None, 'elements': None, "
        "'choices': None, 'required': False}, the action's spec is {'type': 'str', 'default': None, 'elements': None, "
        "'choices': None, 'required': True}"]
