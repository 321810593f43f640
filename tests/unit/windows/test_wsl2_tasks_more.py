"""The wsl2 role's firewall and keep-alive tasks do what their plan says: the rules let Ray's traffic in, and the
keep-alive task is registered whenever it is missing or differs from the plan, and only then."""

from tests.unit.roles.tasks import load, named, render, runs


def test_the_windows_defender_rules_allow_inbound_tcp_on_the_planned_ports():
    task = named(load("roles/wsl2/tasks/firewall.yml"), "Allow Ray's ports and the distribution's sshd in the Windows "
                                                         "Defender firewall")
    arguments = task["community.windows.win_firewall_rule"]
    assert {key: arguments[key] for key in ("action", "direction", "protocol", "enabled", "state")} == {
        "action": "allow", "direction": "in", "protocol": "tcp", "enabled": True, "state": "present"}
    rule = {"name": "ray-docker ray_gcs_port 6379", "localport": "6379", "remoteip": "10.0.0.2", "profiles": ["private"]}
    plan = {"wsl2_plan": {"firewall": [rule]}}
    assert render(task["loop"], plan) == [rule]
    assert render(arguments["localport"], {**plan, "item": rule}) == "6379"


def test_the_keep_alive_task_is_registered_when_it_drifted_and_only_then():
    task = named(load("roles/wsl2/tasks/keep_alive.yml"),
                 "Register the keep-alive task ({{ wsl2_plan.task.drift | join('; ') }})")
    assert runs(task, {"wsl2_plan": {"task": {"drift": ["the task does not exist"]}}})
    assert not runs(task, {"wsl2_plan": {"task": {"drift": []}}})
