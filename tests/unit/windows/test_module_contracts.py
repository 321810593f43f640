"""Contracts between the roles' Windows tasks and the exact modules they call.

No Windows runs on this project's machines, so a wrong argument to an `ansible.windows.*` or `community.windows.*`
module would reach a user's PC unseen. These tests read every such task the roles and playbooks hold, render its
arguments with the role's defaults (the values a first run on a PC gets), and check them against the source of
the modules in the pinned `ansible` package (requirements.txt: ansible 12.3.0 bundles ansible.windows 3.3.0 and
community.windows 3.1.0): option names and choices from each module's documentation, and the rules its
PowerShell enforces, each pinned to the file and lines that say so (PINS). A version bump that moves or changes a
pinned rule fails test_the_pinned_lines_still_say_what_the_tasks_rely_on: re-read the rule, then re-pin.

The two blockers of the first lab PC run would each have failed here: `win_acl user: "*S-1-5-32-544"` (icacls
syntax, which Convert-ToSID cannot parse) and `win_scheduled_task logon_type: s4u` without a password.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import ansible
import pytest
import yaml
from ansible.errors import AnsibleError, AnsibleUndefinedVariable, AnsibleValueOmittedError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

init_plugin_loader()

ROOT = Path(__file__).resolve().parents[3]
SITE = Path(ansible.__file__).resolve().parent.parent  # the environment's site-packages
COLLECTIONS = SITE / "ansible_collections"
OMITTED = object()
UNKNOWN = object()  # a value the plan computes on the control node at run time

# Task keywords (not module options), as ansible-core's Task and Base classes know them.
KEYWORDS = {
    "name", "action", "args", "loop", "loop_control", "when", "register", "changed_when", "failed_when", "check_mode",
    "diff", "no_log", "ignore_errors", "tags", "vars", "delegate_to", "delegate_facts", "run_once", "become",
    "become_user", "become_method", "environment", "notify", "listen", "until", "retries", "delay", "async", "poll",
    "throttle", "timeout", "any_errors_fatal", "ignore_unreachable", "module_defaults", "collections",
}


@dataclass
class Task:
    file: str
    name: str
    module: str
    args: dict
    task: dict = field(repr=False)
    role: str = ""

    def where(self):
        return f"{self.file}: {self.name!r} ({self.module})"


def module_key(task):
    return next((key for key in task if key.startswith(("ansible.windows.", "community.windows."))), None)


def walk(tasks, file, role):
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        for section in ("block", "rescue", "always"):
            yield from walk(task.get(section), file, role)
        key = module_key(task)
        if key:
            yield Task(file, task.get("name", ""), key, dict(task[key] or {}), task, role)


def windows_tasks(root=ROOT):
    """Every task of the roles (tasks and handlers) and playbooks that calls a Windows module."""
    found = []
    for path in sorted(root.glob("roles/*/tasks/*.yml")) + sorted(root.glob("roles/*/handlers/*.yml")):
        found += walk(yaml.safe_load(path.read_text()), str(path.relative_to(root)), path.parts[-3])
    for path in sorted(root.glob("playbooks/*.yml")):
        for play in yaml.safe_load(path.read_text()) or []:
            for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                found += walk(play.get(section), str(path.relative_to(root)), "")
    return found


def module_source(module, suffix):
    namespace, collection, name = module.split(".")
    base = COLLECTIONS / namespace / collection / "plugins" / "modules" / name
    return Path(f"{base}{suffix}")


def module_doc(module):
    """(options, RETURN keys) of a module from its documentation (.py, or .yml for a few ansible.windows modules)."""
    py = module_source(module, ".py")
    if py.exists():
        text = py.read_text()
        doc = yaml.safe_load(re.search(r"DOCUMENTATION\s*=\s*r?(['\"]{3})(.*?)\1", text, re.S).group(2))
        ret = re.search(r"RETURN\s*=\s*r?(['\"]{3})(.*?)\1", text, re.S)
        returns = yaml.safe_load(ret.group(2)) if ret else {}
    else:
        data = yaml.safe_load(module_source(module, ".yml").read_text())
        doc, returns = data["DOCUMENTATION"], data.get("RETURN") or {}
    return doc.get("options") or {}, set(returns or {})


def role_variables(role, root=ROOT):
    """A role's defaults and vars, plus those of its dependency `ray`, trusted as templates like Ansible loads them."""
    loader = DataLoader()
    variables = {}
    for name in ("ray", role):
        for part in ("defaults", "vars"):
            path = root / "roles" / name / part / "main.yml"
            if path.exists():
                variables.update(loader.load_from_file(str(path), trusted_as_template=True) or {})
    return variables


def render(value, variables, item=None):
    """A task argument as a first run on a PC gets it: OMITTED for `omit`, UNKNOWN for what the plan computes."""
    templar = Templar(loader=DataLoader(), variables={**variables, **({"item": item} if item is not None else {})})
    if isinstance(value, dict):
        return {key: render(inner, variables, item) for key, inner in value.items()}
    if isinstance(value, list):
        return [render(inner, variables, item) for inner in value]
    if not isinstance(value, str):
        return value
    try:
        return templar.template(trust_as_template(value))
    except AnsibleValueOmittedError:
        return OMITTED
    except AnsibleUndefinedVariable:
        return UNKNOWN
    except AnsibleError:  # a lookup of the role's files (scripts, templates): what it reads is checked elsewhere
        return UNKNOWN


def rendered_calls(task, root=ROOT):
    """The task's arguments, rendered once per item of a literal loop (once without a loop)."""
    variables = role_variables(task.role, root) if task.role else {}
    loop = task.task.get("loop")
    items = render(loop, variables) if loop is not None else [None]
    if items is UNKNOWN or not isinstance(items, list):
        items = [None]  # `item` stays undefined: what it gives is UNKNOWN
    return [render(task.args, variables, item) for item in items]


TASKS = windows_tasks()


def ids(tasks):
    return [f"{task.file}:{task.name}" for task in tasks]


# What each pinned rule says, where: (file under site-packages, first line, last line, what the lines must match,
# which test relies on it).
PINS = {
    "convert_to_sid": (
        "ansible/module_utils/powershell/Ansible.ModuleUtils.SID.psm1", 36, 38,
        r"try \{\s*\$sid = New-Object -TypeName System\.Security\.Principal\.SecurityIdentifier -ArgumentList "
        r"\$account_name\s*return \$sid\.Value",
        "a SID string (S-1-...) is taken as it is; anything else is looked up as an account name"),
    "convert_to_sid_fails": (
        "ansible/module_utils/powershell/Ansible.ModuleUtils.SID.psm1", 92, 92,
        r"is not a valid account, cannot get SID",
        "a name that is neither (such as icacls' *S-1-5-32-544) fails the module"),
    "win_acl_user": (
        "ansible_collections/ansible/windows/plugins/modules/win_acl.ps1", 45, 45,
        r"\$userSID = Convert-ToSID -account_name \$AccountName", "win_acl resolves `user` through Convert-ToSID"),
    "s4u_needs_password": (
        "ansible_collections/community/windows/plugins/modules/win_scheduled_task.ps1", 738, 741,
        r"if \(\$null -ne \$logon_type\) \{\s*if \(\$logon_type -eq \[TASK_LOGON_TYPE\]::TASK_LOGON_S4U -and \$null -eq "
        r"\$password\) \{\s*Fail-Json -obj \$result -message \"password must be set when logon_type=s4u\"",
        "win_scheduled_task refuses logon_type=s4u without a password, before it touches Task Scheduler"),
    "powershell_check_mode": (
        "ansible_collections/ansible/windows/plugins/modules/win_powershell.ps1", 586, 593,
        r"\$supportsShouldProcess = \$scriptContent -match '(?P<regex>.+)'\s*\}\s*if \(\$module\.CheckMode -and -not "
        r"\$supportsShouldProcess\) \{\s*\$module\.Result\.changed = \$true\s*\$module\.Result\.msg = \"skipped, running "
        r"in check mode\"",
        "in check mode win_powershell reports a change and runs nothing unless the script declares SupportsShouldProcess"),
    "firewall_profiles": (
        "ansible_collections/community/windows/plugins/modules/win_firewall_rule.ps1", 53, 60,
        r"switch \(\$_\) \{\s*\"domain\" \{ return 1 \}\s*\"private\" \{ return 2 \}\s*\"public\" \{ return 4 \}\s*"
        r"default \{ throw \"Unknown profile '\$_'\.\" \}",
        "win_firewall_rule knows the profiles domain, private and public, by these names only"),
    "feature_pending": (
        "ansible_collections/ansible/windows/plugins/modules/win_optional_feature.ps1", 44, 45,
        r"if \(\$state -eq \"present\" -and \$feature_state_start\.State -notlike \"Enabled\*\"\) \{\s*"
        r"# Matches for \"Enabled\" and \"EnabledPending\"",
        "a feature enabled earlier whose reboot never happened is not reported as needing one (the plan reads it)"),
}


def pinned(name):
    path, first, last, pattern, _ = PINS[name]
    lines = (SITE / path).read_text().splitlines()[first - 1:last]
    return re.search(pattern, "\n".join(lines), re.S)


@pytest.mark.parametrize("name", sorted(PINS))
def test_the_pinned_lines_still_say_what_the_tasks_rely_on(name):
    path, first, last, _, why = PINS[name]
    assert pinned(name), f"{path} l.{first}-{last} no longer says: {why}. Re-read the rule, adapt the tasks, re-pin."


def test_the_roles_call_windows_modules_at_all():
    """A guard for the tests below: an empty list would make them all pass."""
    assert len(TASKS) >= 20 and {task.module for task in TASKS} >= {
        "ansible.windows.win_powershell", "ansible.windows.win_command", "community.windows.win_firewall_rule"}


@pytest.mark.parametrize("task", TASKS, ids=ids(TASKS))
def test_every_argument_is_an_option_of_the_module_with_an_allowed_value(task):
    options, _ = module_doc(task.module)
    names = {alias: name for name, spec in options.items() for alias in [name, *(spec.get("aliases") or [])]}
    unknown = sorted(set(task.args) - set(names) - KEYWORDS)
    assert unknown == [], f"{task.where()}: {unknown} are not options of {task.module}"
    for call in rendered_calls(task):
        for key, value in call.items():
            spec = options[names[key]]
            if value in (OMITTED, UNKNOWN) or not spec.get("choices"):
                continue
            # A list, or a str of flags such as win_acl's inherit "ContainerInherit, ObjectInherit" (its documented
            # example): each part must be a choice.
            values = value if isinstance(value, list) else [part.strip() for part in str(value).split(",")]
            assert all(item in spec["choices"] for item in values if item is not UNKNOWN), \
                f"{task.where()}: {key}={value!r} is not among {spec['choices']}"


ACCOUNT_ARGUMENTS = {"ansible.windows.win_acl": "user", "ansible.windows.win_owner": "user",
                     "community.windows.win_scheduled_task": "username"}
SID = re.compile(r"^S-1-\d+(-\d+)+$")
ACCOUNT_NAME = re.compile(r"^(?:[^\\/*\[\]:;|=,+?<>\"@]+\\)?[^\\/*\[\]:;|=,+?<>\"]+$")


def convert_to_sid_accepts(value):
    """What Ansible.ModuleUtils.SID's Convert-ToSID takes (PINS convert_to_sid): a SID string, or an account as
    DOMAIN\\name, .\\name, name or name@domain. icacls' `*S-1-...` is neither."""
    return bool(SID.match(value) or ACCOUNT_NAME.match(value))


def test_convert_to_sid_takes_sids_and_names_but_not_icacls_syntax():
    assert convert_to_sid_accepts("S-1-5-32-544") and convert_to_sid_accepts("PC-1\\raylab")
    assert convert_to_sid_accepts("raylab") and convert_to_sid_accepts("NT AUTHORITY\\SYSTEM")
    assert not convert_to_sid_accepts("*S-1-5-32-544"), "icacls syntax, the first lab PC run's blocker"


ACCOUNT_TASKS = [task for task in TASKS if task.module in ACCOUNT_ARGUMENTS]


@pytest.mark.parametrize("task", ACCOUNT_TASKS, ids=ids(ACCOUNT_TASKS))
def test_accounts_are_given_in_a_form_convert_to_sid_accepts(task):
    assert pinned("convert_to_sid") and pinned("convert_to_sid_fails")
    for call in rendered_calls(task):
        value = call.get(ACCOUNT_ARGUMENTS[task.module])
        if value in (None, OMITTED, UNKNOWN):
            continue
        assert convert_to_sid_accepts(str(value)), f"{task.where()}: {value!r} is no account Convert-ToSID can read"


SCHEDULED = [task for task in TASKS if task.module == "community.windows.win_scheduled_task"]


@pytest.mark.parametrize("task", SCHEDULED, ids=ids(SCHEDULED))
def test_no_s4u_task_goes_to_win_scheduled_task_without_a_password(task):
    assert pinned("s4u_needs_password")
    for call in rendered_calls(task):
        if call.get("logon_type") == "s4u":
            assert call.get("password") not in (None, OMITTED), f"{task.where()}: win_scheduled_task refuses s4u " \
                "without a password (PINS s4u_needs_password), before any change"


def script_of(task, root=ROOT):
    """The PowerShell a win_powershell task runs: its `script`, read from the role's files when it is a lookup."""
    script = str(task.args.get("script") or "")
    match = re.search(r"lookup\('ansible\.builtin\.file', '([^']+)'\)", script)
    if match:
        return (root / "roles" / task.role / "files" / match.group(1)).read_text()
    return script


POWERSHELL = [task for task in TASKS if task.module == "ansible.windows.win_powershell"]


@pytest.mark.parametrize("task", POWERSHELL, ids=ids(POWERSHELL))
def test_a_script_that_runs_in_check_mode_declares_should_process(task):
    """Otherwise win_powershell skips it in check mode and reports a change on every `--check` run."""
    match = pinned("powershell_check_mode")
    assert match
    if task.task.get("check_mode") is False:
        return  # a read: runs in check mode as in a real run
    module_regex = match.group("regex").replace("''", "'")
    assert re.search(module_regex, script_of(task)), f"{task.where()}: its script has no " \
        "[CmdletBinding(SupportsShouldProcess)], so --check skips it and reports a change"


FIREWALL = [task for task in TASKS if task.module == "community.windows.win_firewall_rule"]


def test_the_profiles_the_rules_take_are_the_names_the_module_converts():
    match = pinned("firewall_profiles")
    assert match
    module_names = set(re.findall(r"\"(\w+)\" \{ return", match.group(0)))
    specs = yaml.safe_load((ROOT / "roles" / "wsl2" / "meta" / "argument_specs.yml").read_text())
    option = specs["argument_specs"]["main"]["options"]["wsl2_firewall_profiles"]
    assert set(option["choices"]) == module_names and set(option["default"]) <= module_names
    assert FIREWALL and all(str(task.args.get("profiles", "")).startswith("{{ item.profiles")
                            for task in FIREWALL if task.args.get("state") == "present")


def test_the_features_plan_reads_the_state_because_the_module_counts_pending_as_enabled():
    assert pinned("feature_pending")


STANDARD_RESULT_KEYS = {"changed", "failed", "skipped", "msg", "rc", "stdout", "stderr", "stdout_lines", "results"}


@pytest.mark.parametrize("task", [task for task in TASKS if task.task.get("register")],
                         ids=ids([task for task in TASKS if task.task.get("register")]))
def test_what_the_roles_read_of_a_windows_result_the_module_returns(task):
    register = task.task["register"]
    _, returns = module_doc(task.module)
    texts = [path.read_text() for path in ROOT.glob("roles/*/*/*.yml")] + [path.read_text() for path in
                                                                          ROOT.glob("playbooks/*.yml")]
    read = {key for text in texts for key in re.findall(rf"\b{register}\.(\w+)", text)}
    assert read - returns - STANDARD_RESULT_KEYS == set(), f"{task.where()}: the roles read {register}." \
        f"{sorted(read - returns - STANDARD_RESULT_KEYS)}, which {task.module} does not return"


WSL_CALLS = [task for task in TASKS if task.module == "ansible.windows.win_command"
             and "wsl" in str((task.args.get("argv") or [""])[0])]


@pytest.mark.parametrize("task", WSL_CALLS, ids=ids(WSL_CALLS))
def test_wsl_exe_runs_a_command_without_a_shell_of_its_own(task):
    """`wsl.exe ... -- cmd` hands the rest of the line to the distribution's default shell (microsoft/WSL
    WslClient.cpp: the command line after `--` is run through $SHELL -c), so a script after it is parsed twice;
    --exec runs the program itself, and a script goes in on stdin."""
    assert "--" not in task.args["argv"], f"{task.where()}: use --exec (and stdin for a script), not --"
