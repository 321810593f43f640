"""roles/docker/tasks/apply_config.yml takes a new daemon.json the way the plan says (docker_daemon.apply_action): a
reload for keys dockerd re-reads on SIGHUP (mirrors: the containers keep running), a restart for the others (a reload
would leave them unapplied)."""

import pytest

from tests.unit.roles.tasks import load, named, render, runs

APPLY = "roles/docker/tasks/apply_config.yml"


@pytest.mark.parametrize("action, state", [("reload", "reloaded"), ("restart", "restarted")])
def test_systemd_reloads_or_restarts_the_engine_as_planned(action, state):
    task = named(load(APPLY), "Reload the engine with systemd, or restart it for keys a reload does not apply")
    variables = {"docker_daemon_action": action, "docker_manager": "systemd"}
    assert runs(task, variables)
    assert render(task["ansible.builtin.systemd_service"]["state"], variables) == state


WAIT = "Wait until the engine answers with the new config"


@pytest.mark.parametrize("action, ran", [
    ("reload", ["Reload the engine with SIGHUP (mirrors and registries need no restart)", WAIT]),
    ("restart", ["Stop the engine for a restart", "Start the engine again", WAIT]),
])
def test_without_systemd_a_reload_is_a_sighup_and_a_restart_a_stop_and_a_start(action, ran):
    variables = {"docker_daemon_action": action, "docker_manager": "sysv"}
    block = named(load(APPLY), "Apply the new daemon.json to the running engine")
    assert [task["name"] for task in block["block"] if runs(task, variables)] == ran
