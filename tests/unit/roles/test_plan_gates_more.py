"""Each role applies only when its plan has work: a re-run with nothing to do runs no other task (the idempotence
the README promises), and a host that lacks something always gets it."""

import pytest

from tests.unit.roles.tasks import load, runs

GATES = [  # (the role's main task file, the include of its changes, the plan it registers)
    ("roles/docker/tasks/main.yml", "apply.yml", "docker_plan"),
    ("roles/ray_image/tasks/main.yml", "apply.yml", "ray_image_plan"),
    ("roles/ray_cluster/tasks/main.yml", "apply.yml", "ray_cluster_plan"),
    ("roles/ray_monitoring/tasks/main.yml", "apply.yml", "ray_monitoring_plan"),
]


@pytest.mark.parametrize("path, include, plan", GATES, ids=[gate[2] for gate in GATES])
def test_a_role_applies_its_plan_only_when_the_plan_has_work(path, include, plan):
    tasks = [task for task in load(path) if task.get("ansible.builtin.include_tasks") == include]
    assert len(tasks) == 1, f"{path}: one include of {include}"
    assert any(task.get("register") == plan for task in load(path)), f"{path} registers {plan}"
    assert runs(tasks[0], {plan: {"has_work": True}})
    assert not runs(tasks[0], {plan: {"has_work": False}})
