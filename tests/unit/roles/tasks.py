"""A role's task files as Ansible loads them (every string trusted as a template), and what a task does for given
variables: whether its `when` holds, what its loop, arguments and vars render to. With it, unit tests check the
YAML's own logic (an order, a condition, a choice of value) against the plans the Python side makes."""

from pathlib import Path

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ROOT = Path(__file__).resolve().parents[3]
# What a task calls, not what it is: these keys are task keywords.
KEYWORDS = {"name", "when", "loop", "loop_control", "register", "vars", "tags", "notify", "changed_when", "failed_when",
            "check_mode", "no_log", "ignore_errors", "delegate_to", "run_once", "become", "block", "rescue", "always"}


def load(relative):
    """The tasks of a file under the checkout (roles/<role>/tasks/<file>.yml), blocks flattened, in file order."""
    loader = DataLoader()
    return list(flatten(loader.load_from_file(str(ROOT / relative), trusted_as_template=True) or []))


def flatten(tasks):
    for task in tasks:
        yield task
        for section in ("block", "rescue", "always"):
            yield from flatten(task.get(section) or [])


def module(task):
    """(module name, its arguments) of a task."""
    key = next(key for key in task if key not in KEYWORDS)
    return key, task[key]


def named(tasks, name):
    found = [task for task in tasks if task.get("name") == name]
    assert len(found) == 1, f"{len(found)} tasks named {name!r}"
    return found[0]


def calling(tasks, module_name, **arguments):
    """The tasks that call `module_name` with these arguments (compared as written), in file order."""
    return [task for task in tasks if module_name in task
            and all(isinstance(task[module_name], dict) and task[module_name].get(key) == value
                    for key, value in arguments.items())]


def render(value, variables):
    return Templar(loader=DataLoader(), variables=variables).template(value)


def runs(task, variables):
    """Whether every condition of the task's `when` holds for `variables` (no `when`: it runs)."""
    conditions = task.get("when", [])
    templar = Templar(loader=DataLoader(), variables=variables)
    return all(templar.evaluate_conditional(condition)
               for condition in (conditions if isinstance(conditions, list) else [conditions]))
