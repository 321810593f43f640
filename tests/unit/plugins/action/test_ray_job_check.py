"""ray_job_check: the check of the whole cluster through the Jobs API, with its arguments defaulted from the settings.

Tested here without a live cluster: the defaults the action derives (URL, token, expected nodes without the hosts
the preflight skipped, Ray version, timeouts, the verdict's file), the nodes whose host's wait already failed, how a
failed check becomes the task's failure, and, end to end against a local stand-in of the head's APIs
(FakeDashboard), a check whose recorded verdict covers the nodes alive now (reused: no job). Submitting the check job
and judging its report needs a live cluster (Ray's JobSubmissionClient against a real head): tests/e2e (test_site,
test_check_*), and the report's judgement is in module_utils/test_check.py."""

import json

import pytest
from ansible.errors import AnsibleActionFail, AnsibleActionSkip

from ansible_collections.ray_docker.cluster.plugins.module_utils.check import CheckError, verdict_key
from tests.unit.plugins.action.harness import FakeDashboard, Lab, node_row, plugin, run

job_check = plugin("ray_job_check")
TOKEN = "c" * 64
SCRIPT = "/opt/ray_check_job.py"


@pytest.fixture
def run_check(monkeypatch):
    """run_check replaced: the arguments the action hands it, and what it returns or raises."""
    calls, answer = [], {"value": {"passed": True, "reasons": [], "nodes_alive": 2}}

    def fake(**kwargs):
        calls.append(kwargs)
        if isinstance(answer["value"], Exception):
            raise answer["value"]
        return answer["value"]

    monkeypatch.setattr(job_check, "run_check", fake)
    return calls, answer


def test_every_argument_defaults_from_the_settings(run_check, home):
    calls, _ = run_check
    lab = Lab(heads=["head"], workers=["w1", "w2"])
    task_vars = lab.task_vars("head")
    task_vars["ansible_facts"]["preflight_unreachable"] = ["w2"]
    result, modules = run("ray_job_check", task_vars, {"job_script": SCRIPT})
    assert modules == []
    assert calls == [{"dashboard_url": "http://10.0.0.11:8265", "token_file": f"{home}/.config/ray-docker/ray/auth_token",
                      "expected_nodes": ["ray-head@head", "ray-worker-1@w1"], "expected_ray_version": "2.60.0",
                      "job_script": SCRIPT, "timeout": 300, "node_wait": 60, "reuse_verdict": False,
                      "verdict_file": f"{home}/.config/ray-docker/ray/check_verdict.json", "given_up": [],
                      "asked": None, "skipped": ["ray-worker-1@w2"]}]
    assert result == {"changed": False, "check": {"passed": True, "reasons": [], "nodes_alive": 2}}


def test_with_packages_every_node_imports_them_and_must_run_that_very_image(run_check, tmp_path):
    calls, _ = run_check
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tomli-w==1.0.0\n")
    lab = Lab(variables={"ray_image_pip_packages": ["six"], "ray_image_requirements_file": str(requirements),
                         "ray_check_imports": ["json.decoder"]})
    run("ray_job_check", lab.task_vars("head"), {"job_script": SCRIPT})
    asked = calls[0]["asked"]
    assert asked["imports"] == ["json.decoder"] and asked["record"] == "/home/ray/.ray-docker/image.json"
    assert len(asked["inputs"]) == 64, "the derived image's inputs digest: a node of another image fails"
    requirements.write_text("tomli-w==1.0.1\n")
    run("ray_job_check", lab.task_vars("head"), {"job_script": SCRIPT})
    assert calls[1]["asked"]["inputs"] != asked["inputs"], "a changed requirements file is another image"
    plain = Lab(variables={"ray_check_imports": ["numpy"]})
    run("ray_job_check", plain.task_vars("head"), {"job_script": SCRIPT})
    assert calls[2]["asked"] == {"imports": ["numpy"], "record": "", "inputs": ""}
    # a rollback proves the image the nodes ran before: not against the new packages
    run("ray_job_check", lab.task_vars("head"), {"job_script": SCRIPT, "expect_packages": False})
    assert calls[3]["asked"] is None and "expect_packages" not in calls[3]


def test_the_settings_and_the_arguments_win_in_that_order(run_check, tmp_path):
    calls, _ = run_check
    lab = Lab(variables={"ray_check_timeout": 120, "ray_check_node_wait": 10, "ray_check_reuse_verdict": True,
                         "ray_check_verdict_file": str(tmp_path / "verdict.json"), "ray_version": "2.61.0",
                         "ray_dashboard_url": "https://ray.lan"})
    run("ray_job_check", lab.task_vars("head"), {"job_script": SCRIPT})
    assert {key: calls[0][key] for key in ("timeout", "node_wait", "reuse_verdict", "verdict_file",
                                           "expected_ray_version", "dashboard_url")} == {
        "timeout": 120, "node_wait": 10, "reuse_verdict": True, "verdict_file": str(tmp_path / "verdict.json"),
        "expected_ray_version": "2.61.0", "dashboard_url": "https://ray.lan"}
    run("ray_job_check", lab.task_vars("head"), {"job_script": SCRIPT, "timeout": 5, "reuse_verdict": False,
                                                 "expected_nodes": ["x@y"], "token_file": "/srv/t",
                                                 "expected_ray_version": "2.59.0", "node_wait": 0})
    assert {key: calls[1][key] for key in ("timeout", "reuse_verdict", "expected_nodes", "token_file",
                                           "expected_ray_version", "node_wait")} == {
        "timeout": 5, "reuse_verdict": False, "expected_nodes": ["x@y"], "token_file": "/srv/t",
        "expected_ray_version": "2.59.0", "node_wait": 0}, "false and 0 are values, not 'unset'"


def test_nodes_whose_hosts_wait_failed_are_given_up(run_check):
    calls, _ = run_check
    lab = Lab(heads=["head"], workers=["w1", "w2"], host_variables={"w1": {"ray_cluster_nodes_failed": True}})
    run("ray_job_check", lab.task_vars("head"), {"job_script": SCRIPT})
    assert calls[0]["given_up"] == ["ray-worker-1@w1"]


def test_a_failed_check_fails_the_task_with_its_data(run_check):
    _, answer = run_check
    answer["value"] = CheckError("Ray check failed: pinned task failed on ray-worker-1@w1",
                                 check={"passed": False, "reasons": ["pinned task failed on ray-worker-1@w1"]})
    with pytest.raises(AnsibleActionFail, match="Ray check failed: pinned task failed") as failure:
        run("ray_job_check", Lab().task_vars("head"), {"job_script": SCRIPT})
    assert failure.value.result["check"]["passed"] is False


def test_the_job_script_is_required_and_check_mode_is_skipped(run_check):
    with pytest.raises(AnsibleActionFail, match="missing required arguments: job_script"):
        run("ray_job_check", Lab().task_vars("head"))
    with pytest.raises(AnsibleActionSkip, match="does not support check mode"):
        run("ray_job_check", Lab().task_vars("head"), {"job_script": SCRIPT}, check_mode=True)
    assert run_check[0] == []


def test_a_refused_setting_fails_naming_the_host(run_check):
    with pytest.raises(AnsibleActionFail, match="Settings refused for host head: ray_check_timeout"):
        run("ray_job_check", Lab(variables={"ray_check_timeout": "soon"}).task_vars("head"), {"job_script": SCRIPT})


def test_a_recorded_verdict_for_the_nodes_alive_now_is_reused_through_the_real_client(home, tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_AUTH_MODE", "")  # run_check sets these for Ray's client: restored after the test
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", "")
    config = home / ".config" / "ray-docker" / "ray"
    config.mkdir(parents=True)
    (config / "auth_token").write_text(TOKEN + "\n")
    rows = [node_row("ray-head@head", "n0", head=True), node_row("ray-worker-1@w1", "n1", "10.0.0.12")]
    expected = ["ray-head@head", "ray-worker-1@w1"]
    summary = {"passed": True, "reasons": [], "nodes_expected": 2, "nodes_alive": 2}
    (config / "check_verdict.json").write_text(json.dumps({
        "key": verdict_key(["n0", "n1"], expected, "2.60.0"), "verified_at": "2026-12-01T10:00:00+0000", "check": summary}))
    with FakeDashboard(TOKEN, rows) as dashboard:
        lab = Lab(heads=["head"], workers=["w1"], variables={"ray_dashboard_url": dashboard.url,
                                                             "ray_check_reuse_verdict": True})
        result, _ = run("ray_job_check", lab.task_vars("head"), {"job_script": str(tmp_path / "job.py")})
    assert result["check"]["reused"] is True and result["check"]["verified_at"] == "2026-12-01T10:00:00+0000"
    assert result["check"]["passed"] is True and result["check"]["dashboard_url"] == dashboard.url
    assert [(request["path"].split("?")[0], request["authorized"]) for request in dashboard.requests] == [
        ("/api/jobs/", False), ("/api/v0/nodes", True)], "first proven to refuse a request without the token"
