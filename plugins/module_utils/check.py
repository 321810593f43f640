"""The Ray task/actor check, run from the control node through the Jobs API.

`run_check` first makes sure the Jobs API refuses a request without the token, then (unless a
recorded verdict covers exactly the nodes alive now) submits the check job with
`ray.job_submission.JobSubmissionClient`, waits for it, and compares its report with the plan:
expected nodes, the Ray version, one Python version across nodes. The ray_job_check action
plugin is a thin wrapper around it.
"""

import base64
import json
import os
import sys
import tempfile
import time

from ansible_collections.ray_docker.cluster.plugins.module_utils.dashboard import DashboardClient, DashboardError, read_token, summarize_nodes
from ansible_collections.ray_docker.cluster.plugins.module_utils.ray_versions import client_problem

RESULT_MARKER = "RAY_CHECK_RESULT "


class CheckError(Exception):
    """The check could not run or did not pass; `data` goes into the task result."""

    def __init__(self, message, **data):
        super().__init__(message)
        self.data = data


def parse_job_report(logs):
    """The JSON report the job printed, or None when it printed none (or is still printing it)."""
    for line in reversed((logs or "").splitlines(keepends=True)):
        if line.startswith(RESULT_MARKER) and line.endswith("\n"):
            return json.loads(line[len(RESULT_MARKER):])
    return None


def import_reasons(nodes, expected_inputs):
    """Why nodes fail the imports: a module that does not import; with a derived image (`expected_inputs`, its
    inputs' digest), a node that runs another image or none (its record missing or of other inputs)."""
    reasons = []
    for node in nodes:
        found = node.get("imports") or {}
        record = found.get("record") or {}
        if expected_inputs and record.get("inputs") != expected_inputs:
            reasons.append(f"{node.get('node_name')} does not run the image with your packages "
                           f"({'an image of other packages' if record else 'an image without them'})")
        for module, error in sorted((found.get("modules") or {}).items()):
            if error:
                reasons.append(f"{node.get('node_name')} cannot import {module}: {error}")
    return reasons


def evaluate(report, expected_nodes, expected_ray_version, expected_inputs=""):
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
    reasons += import_reasons(nodes, expected_inputs)
    reasons = list(dict.fromkeys(reasons))  # errors and derived reasons may repeat
    return {
        "passed": not reasons,
        "reasons": reasons,
        "nodes_expected": len(expected_nodes),
        "nodes_alive": len(alive),
        "missing": missing,
        "unexpected": unexpected,
        "nodes": [
            {**{key: node.get(key) for key in ("node_name", "node_id", "ip", "hostname", "ray_version", "python_version",
                                               "task", "actor")},
             "imports": (node.get("imports") or {}).get("modules") or {}}
            for node in nodes
        ],
        "transfers": report.get("transfers") or [],
        "job_seconds": report.get("seconds"),
    }


def verdict_key(node_ids, expected_nodes, ray_version, asked=None):
    """What a verdict is valid for: these raylets (a restarted node gets a new id), this plan, this Ray, these
    imports."""
    key = {"node_ids": sorted(node_ids), "expected_nodes": sorted(expected_nodes), "ray_version": ray_version}
    if asked:
        key["imports"] = asked
    return key


def reusable_verdict(path, key):
    """The recorded passing check when it was made on exactly these nodes, else None."""
    try:
        with open(path, encoding="utf-8") as handle:
            verdict = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(verdict, dict) or verdict.get("key") != key or not (verdict.get("check") or {}).get("passed"):
        return None
    return verdict


def record_verdict(path, key, summary):
    """Write the passing verdict atomically, 0600 (it names the cluster's nodes)."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o700, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".verdict-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"key": key, "verified_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "check": summary}, out)
    os.replace(temporary, path)


def forget_verdict(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def require_token(url):
    """Raise unless the Jobs API refuses a request that carries no token."""
    try:
        DashboardClient(url, token="").get_json("/api/jobs/")
    except DashboardError as exc:
        if exc.status in (401, 403):
            return
        raise CheckError(f"cannot reach the Ray Jobs API: {exc}")
    raise CheckError(f"the Ray Jobs API at {url} accepts requests without the auth token: token authentication is off")


def inline_entrypoint(script_path, targets, asked=None):
    """`python -c` running the script's source, with the target nodes ({node id: name}) as its argument.

    The script travels inside the entrypoint instead of a runtime_env working_dir: a job with a
    runtime_env cannot reuse the nodes' prestarted workers, which made the check 3-4 s slower.
    Both are base64, so no shell quoting can break them.
    """
    with open(script_path, "rb") as handle:
        encoded = base64.b64encode(handle.read()).decode("ascii")
    argument = base64.b64encode(json.dumps(targets, sort_keys=True).encode("utf-8")).decode("ascii")
    extra = " " + base64.b64encode(json.dumps(asked, sort_keys=True).encode("utf-8")).decode("ascii") if asked else ""
    return (f"python -c \"import base64; exec(compile(base64.b64decode('{encoded}'), 'ray_check_job.py', 'exec'))\" "
            f"{argument}{extra}")


def run_job(dashboard_url, job_script, expected_ray_version, timeout, targets, asked=None):
    """Submit the job and wait for its report or its end; (job id, status, logs)."""
    try:
        import ray  # imported late: it is heavy, and RAY_AUTH_* must be set first
        from ray.job_submission import JobStatus, JobSubmissionClient
    except ImportError as exc:
        raise CheckError(f"ray[default] is not installed for {sys.executable}: {exc}")

    problem = client_problem(ray.__version__, expected_ray_version)
    if problem:  # the job itself runs in the cluster with the cluster's Ray; this side only speaks HTTP
        raise CheckError(problem)
    client = JobSubmissionClient(dashboard_url)
    job_id = client.submit_job(
        entrypoint=inline_entrypoint(job_script, targets, asked),
        submission_id=f"ray-docker-check-{int(time.time() * 1000)}",
        metadata={"submitted_by": "ray-docker ray_check"},
    )
    deadline = time.monotonic() + timeout
    while True:
        status = client.get_job_status(job_id)
        if status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED):
            return job_id, str(status), client.get_job_logs(job_id)
        if status == JobStatus.RUNNING:
            # The report is the job's last word: take it as soon as it is printed instead of
            # waiting ~1.5 s for the driver to disconnect and the supervisor to record the exit.
            logs = client.get_job_logs(job_id)
            if parse_job_report(logs) is not None:
                return job_id, "REPORTED", logs
        if time.monotonic() > deadline:
            client.stop_job(job_id)
            raise CheckError(f"the check job {job_id} did not finish within {timeout} s (status {status})", job_id=job_id)
        time.sleep(0.2)


def run_check(dashboard_url, token_file, expected_nodes, expected_ray_version, job_script, timeout=300,
              verdict_file=None, reuse_verdict=False, node_wait=60, given_up=(), asked=None, skipped=()):
    """The check's summary (passed, reasons, nodes, ...); raises CheckError when it cannot run or fails.

    A node that is restarting (its last registration dead, or gone although still listed) is waited
    for up to `node_wait` seconds; a node that never registered, or one in `given_up` (its host already
    failed in this run), fails the check at once. The nodes in `skipped` (of hosts this run skipped as
    switched off) are left out: Ray lists such a node alive until its health check gives up on it
    (about 30 s), and a task pinned to it would wait that long. They are named in `left_out`.
    """
    started = time.monotonic()
    try:
        token = read_token(token_file)
    except (OSError, DashboardError) as exc:
        raise CheckError(f"cannot read the Ray auth token ({exc}); run the cluster step first")
    require_token(dashboard_url)

    client = DashboardClient(dashboard_url, token)
    os.environ["RAY_AUTH_MODE"] = "token"
    os.environ["RAY_AUTH_TOKEN_PATH"] = token_file
    deadline = time.monotonic() + node_wait
    gone = set()
    while True:
        # One node per name: a node whose container restarted registers again, and the old registration,
        # still listed ALIVE for a while, is stale. The job pins its tasks to the newest ones only.
        try:
            rows = [dict(row, state="DEAD") if row.get("node_id") in gone else row for row in client.list_nodes()]
        except DashboardError as exc:
            raise CheckError(f"cannot list the cluster's nodes: {exc}")
        nodes = summarize_nodes(rows, expected_nodes)
        # A name that was registered before and is not alive now is restarting: wait for it a while.
        known = {row.get("node_name") for row in rows}
        if any(name in known and name not in given_up for name in nodes["missing"]) and time.monotonic() < deadline:
            time.sleep(0.5)
            continue
        targets = {node_id: name for node_id, name in nodes["targets"].items() if name not in skipped}
        if reuse_verdict and verdict_file:
            verdict = reusable_verdict(verdict_file, verdict_key(list(targets), expected_nodes, expected_ray_version, asked))
            if verdict:
                return dict(verdict["check"], reused=True, verified_at=verdict["verified_at"], dashboard_url=dashboard_url,
                            seconds=round(time.monotonic() - started, 2))
        try:
            job_id, status, logs = run_job(dashboard_url, job_script, expected_ray_version, timeout, targets, asked)
        except CheckError:
            raise
        except Exception as exc:  # the Jobs client raises plain RuntimeError/ConnectionError with the reason
            raise CheckError(f"the check job could not run through {dashboard_url}: {exc}")
        report = parse_job_report(logs) or {}
        newly_gone = set(report.get("gone") or []) - gone
        if not newly_gone or time.monotonic() >= deadline:
            break
        gone |= newly_gone  # their next registration is on its way: wait for it, then check again

    if not report:
        raise CheckError(f"the check job {job_id} ended {status} without a report", job_id=job_id,
                         log_tail=logs.splitlines()[-20:])
    summary = evaluate(report, expected_nodes, expected_ray_version, (asked or {}).get("inputs", ""))
    summary.update(job_id=job_id, job_status=status, auth_required=True, reused=False, stale=nodes["stale"],
                   left_out=sorted(set(nodes["targets"].values()) & set(skipped)),
                   seconds=round(time.monotonic() - started, 2), dashboard_url=dashboard_url)
    if verdict_file:
        if summary["passed"]:
            verified_ids = [node["node_id"] for node in report.get("nodes") or []]
            record_verdict(verdict_file, verdict_key(verified_ids, expected_nodes, expected_ray_version, asked), summary)
        else:
            forget_verdict(verdict_file)
    if not summary["passed"]:
        raise CheckError("Ray check failed: " + "; ".join(summary["reasons"]), check=summary)
    return summary
