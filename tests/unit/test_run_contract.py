"""What the collection and runner.py promise each other: the keys a run hands over (one table, both sides keep to
it), messages of the collection that do not assume runner.py, and the exit statuses the documents name."""

import ast
import glob
import re
from pathlib import Path

import yaml

from ansible_collections.ray_docker.cluster.plugins.module_utils.run_data import RUN_DATA

ROOT = Path(__file__).resolve().parents[2]


def set_stats_keys():
    keys = {}

    def walk(tasks, where):
        for task in tasks or []:
            if not isinstance(task, dict):
                continue
            for section in ("block", "rescue", "always"):
                walk(task.get(section), where)
            stats = task.get("ansible.builtin.set_stats")
            if stats:
                for key in (stats.get("data") or {}):
                    keys.setdefault(key, []).append(where)

    for path in glob.glob(str(ROOT / "roles/*/tasks/*.yml")):
        walk(yaml.safe_load(Path(path).read_text()), path)
    for path in glob.glob(str(ROOT / "playbooks/*.yml")):
        for play in yaml.safe_load(Path(path).read_text()) or []:
            walk(play.get("tasks"), path)
    return keys


def test_every_key_a_run_hands_over_is_declared_and_every_declared_key_is_handed_over():
    keys = set_stats_keys()
    assert sorted(set(keys) - set(RUN_DATA)) == [], "set_stats keys missing from plugins/module_utils/run_data.py"
    assert sorted(set(RUN_DATA) - set(keys)) == [], "declared in run_data.py, set by no role or playbook"


def test_the_runner_reads_only_declared_keys():
    sources = "\n".join(Path(path).read_text() for path in [ROOT / "runner.py", *ROOT.glob("raydeploy/*.py")])
    read = set(re.findall(r"artifact_data(?:\[|\.get\()\"(\w+)\"", sources))
    assert read and read <= set(RUN_DATA), sorted(read - set(RUN_DATA))


def user_facing_strings(path):
    """String constants of a plugin that are not docstrings nor its DOCUMENTATION/EXAMPLES/RETURN."""
    tree = ast.parse(Path(path).read_text())
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and node.body \
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            skip.add(id(node.body[0].value))
        if isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and target.id in
                                                ("DOCUMENTATION", "EXAMPLES", "RETURN") for target in node.targets):
            skip.add(id(node.value))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip]


def test_the_collections_messages_do_not_send_users_to_runner_py():
    """The collection is used from users' own playbooks too: a message names a role or playbook, not runner.py."""
    offending = {path: [text for text in user_facing_strings(path) if "runner.py" in text]
                 for path in glob.glob(str(ROOT / "plugins/**/*.py"), recursive=True)}
    assert {path: texts for path, texts in offending.items() if texts} == {}


EXIT_STATUSES = {0, 1, 2, 3, 130}


def test_the_exit_statuses_the_documents_name_are_the_runners():
    text = "\n".join((ROOT / name).read_text() for name in ("README.md", "CHANGELOG.md", *glob.glob(str(ROOT / "docs/*.md"))))
    named = {int(number) for number in re.findall(r"\bexit(?:s| status)? (\d+)\b", text)}
    assert named and named <= EXIT_STATUSES, sorted(named - EXIT_STATUSES)
