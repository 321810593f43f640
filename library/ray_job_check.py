#!/usr/bin/python
"""Ansible module: prove every node of a Ray cluster works by submitting a check job."""

DOCUMENTATION = r"""
module: ray_job_check
short_description: Submit a task/actor check job through Ray's Jobs API and compare it with the plan
description:
  - Runs on the control node, which needs ray[default] of the cluster's version (checked first).
  - First makes sure the Jobs API rejects a request without the token, then submits O(job_script) with
    C(ray.job_submission.JobSubmissionClient), waits for it and compares its report with the expected nodes,
    Ray version and a single Python version across nodes. Any mismatch fails with the reasons.
options:
  dashboard_url: {description: Jobs API URL., type: str, required: true}
  token_file: {description: File holding the auth token on the control node., type: path, required: true}
  expected_nodes: {description: Ray node names that must be alive., type: list, elements: str, required: true}
  expected_ray_version: {description: Ray version every node must run., type: str, required: true}
  job_script: {description: The check job (a Python file) to run as the job's entrypoint., type: path, required: true}
  timeout: {description: Seconds to wait for the job., type: int, default: 300}
"""

import base64
import json
import os
import sys
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.ray_dashboard import DashboardClient, DashboardError, read_token

RESULT_MARKER = "RAY_CHECK_RESULT "


def parse_job_report(logs):
    """The JSON report the job printed, or None when it printed none."""
    for line in reversed((logs or "").splitlines()):
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER):])
    return None


def evaluate(report, expected_nodes, expected_ray_version):
    """Compare the job's report with the plan; return the summary with `passed` and `reasons`."""
    reasons = list(report.get("errors") or [])
    nodes = report.get("nodes") or []
    alive = [node.get("node_name") for node in nodes]
    missing = [name for name in expected_nodes if name not in alive]
    unexpected = [name for name in alive if name not in expected_nodes]
    if missing:
        reasons.append(f"expected nodes not alive: {', '.join(missing)}")
    if unexpected:
        reasons.append(f"nodes not in the inventory: {', '.join(unexpected)}")
    if len(alive) != len(expected_nodes):
        reasons.append(f"{len(alive)} nodes alive, {len(expected_nodes)} expected")
    for node in nodes:
        if node.get("ray_version") != expected_ray_version:
            reasons.append(f"{node.get('node_name')} runs Ray {node.get('ray_version')}, expected {expected_ray_version}")
    pythons = sorted({node.get("python_version") for node in nodes if node.get("python_version")})
    if len(pythons) > 1:
        reasons.append(f"nodes run different Python versions: {', '.join(pythons)}")
    for node in nodes:
        if not node.get("task"):
            reasons.append(f"pinned task failed on {node.get('node_name')}")
        if not node.get("actor"):
            reasons.append(f"actor failed on {node.get('node_name')}")
    if len(nodes) > 1 and not all(transfer.get("ok") for transfer in report.get("transfers") or []):
        reasons.append("an object transfer between nodes failed")
    reasons = list(dict.fromkeys(reasons))  # errors and derived reasons may repeat
    return {
        "passed": not reasons,
        "reasons": reasons,
        "nodes_expected": len(expected_nodes),
        "nodes_alive": len(alive),
        "missing": missing,
        "unexpected": unexpected,
        "nodes": [
            {key: node.get(key) for key in ("node_name", "ip", "hostname", "ray_version", "python_version", "task", "actor")}
            for node in nodes
        ],
        "transfers": report.get("transfers") or [],
        "job_seconds": report.get("seconds"),
    }


def require_token(module, url):
    """Fail unless the Jobs API refuses a request that carries no token."""
    try:
        DashboardClient(url, token="").get_json("/api/jobs/")
    except DashboardError as exc:
        if exc.status in (401, 403):
            return
        module.fail_json(msg=f"cannot reach the Ray Jobs API: {exc}")
    module.fail_json(msg=f"the Ray Jobs API at {url} accepts requests without the auth token: token authentication is off")


def inline_entrypoint(script_path):
    """`python -c` running the script's source.

    The script travels inside the entrypoint instead of a runtime_env working_dir: a job with a
    runtime_env cannot reuse the nodes' prestarted workers, which made the check 3-4 s slower.
    """
    with open(script_path, "rb") as handle:
        encoded = base64.b64encode(handle.read()).decode("ascii")
    return f"python -c \"import base64; exec(compile(base64.b64decode('{encoded}'), 'ray_check_job.py', 'exec'))\""


def run_job(module, params):
    import ray  # imported late: it is heavy, and RAY_AUTH_* must be set first
    from ray.job_submission import JobStatus, JobSubmissionClient

    if ray.__version__ != params["expected_ray_version"]:
        module.fail_json(msg=f"the control node's Python ({sys.executable}) has Ray {ray.__version__}, the cluster runs "
                             f"{params['expected_ray_version']}: install ray[default]=={params['expected_ray_version']} there "
                             "(runner.py does, from requirements.txt)")
    client = JobSubmissionClient(params["dashboard_url"])
    job_id = client.submit_job(
        entrypoint=inline_entrypoint(params["job_script"]),
        submission_id=f"ray-docker-check-{int(time.time() * 1000)}",
        metadata={"submitted_by": "ray-docker ray_check"},
    )
    deadline = time.monotonic() + params["timeout"]
    status = client.get_job_status(job_id)
    while status not in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED):
        if time.monotonic() > deadline:
            client.stop_job(job_id)
            module.fail_json(msg=f"the check job {job_id} did not finish within {params['timeout']} s (status {status})")
        time.sleep(0.2)
        status = client.get_job_status(job_id)
    return job_id, str(status), client.get_job_logs(job_id)


def main():
    module = AnsibleModule(
        argument_spec={
            "dashboard_url": {"type": "str", "required": True},
            "token_file": {"type": "path", "required": True},
            "expected_nodes": {"type": "list", "elements": "str", "required": True},
            "expected_ray_version": {"type": "str", "required": True},
            "job_script": {"type": "path", "required": True},
            "timeout": {"type": "int", "default": 300},
        },
        supports_check_mode=False,
    )
    params = module.params
    started = time.monotonic()
    try:
        read_token(params["token_file"])
    except (OSError, DashboardError) as exc:
        module.fail_json(msg=f"cannot read the Ray auth token ({exc}); run the cluster step first")
    require_token(module, params["dashboard_url"])
    os.environ["RAY_AUTH_MODE"] = "token"
    os.environ["RAY_AUTH_TOKEN_PATH"] = params["token_file"]
    try:
        job_id, status, logs = run_job(module, params)
    except ImportError as exc:
        module.fail_json(msg=f"ray[default] is not installed for {sys.executable}: {exc}")
    except Exception as exc:  # the Jobs client raises plain RuntimeError/ConnectionError with the reason
        module.fail_json(msg=f"the check job could not run through {params['dashboard_url']}: {exc}")

    report = parse_job_report(logs)
    if report is None:
        module.fail_json(msg=f"the check job {job_id} ended {status} without a report", job_id=job_id,
                         log_tail=logs.splitlines()[-20:])
    summary = evaluate(report, params["expected_nodes"], params["expected_ray_version"])
    summary.update(job_id=job_id, job_status=status, auth_required=True, seconds=round(time.monotonic() - started, 2),
                   dashboard_url=params["dashboard_url"])
    if not summary["passed"]:
        module.fail_json(msg="Ray check failed: " + "; ".join(summary["reasons"]), check=summary)
    module.exit_json(changed=False, check=summary)


if __name__ == "__main__":
    main()
