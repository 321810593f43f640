"""`runner.py job submit | logs | list | stop` against the embedded cluster, as a user runs them from a project
folder of their own. What ran is read back from Ray's Jobs API directly (not from the runner's output)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import ROOT
from .faults import ray_client

TOKEN = Path.home() / ".config" / "ray-docker" / "ray" / "auth_token"
URL = "http://127.0.0.1:8265"

WHERE = '''import sys

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

ray.init()
nodes = sorted(node["NodeID"] for node in ray.nodes() if node["Alive"])

@ray.remote(num_cpus=0)
def where():
    return ray.get_runtime_context().get_node_id()

ran = ray.get([where.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote() for node in nodes])
for index, node in enumerate(ran):
    print(f"line {index}: ran on node {node}", flush=True)
print("NODES", len(set(ran)), "OF", len(nodes), flush=True)
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
'''

LIST_JOBS = ("import json, sys\nfrom ray.job_submission import JobSubmissionClient\n"
             "print(json.dumps({j.submission_id: str(j.status.value) for j in JobSubmissionClient(sys.argv[1]).list_jobs()"
             " if j.submission_id}))")


def jobs_on_cluster(url=URL):
    """{submission id: status} from the Jobs API itself."""
    return ray_client(LIST_JOBS, url)


def job(*args, cwd, command=(), timeout=600):
    """`runner.py job ...` from a user's folder; --json goes before the job's command."""
    argv = [sys.executable, str(ROOT / "runner.py"), "job", *args, "--json", *(["--", *command] if command else [])]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def project(tmp_path, healthy_cluster):
    (tmp_path / "where.py").write_text(WHERE)
    return tmp_path


def assert_one_line_refusal(proc, text):
    assert proc.returncode == 1, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("runner.py: error:")]
    assert len(errors) == 1 and text in errors[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def test_a_job_runs_on_every_node_and_its_logs_stream_in_order(project):
    token = TOKEN.read_text().strip()
    proc = job("submit", cwd=project, command=["python", "where.py"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["status"] == "SUCCEEDED" and jobs_on_cluster()[result["job_id"]] == "SUCCEEDED"
    lines = [line for line in proc.stderr.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in lines] == [f"line {index}" for index in range(3)], proc.stderr[-3000:]
    assert "NODES 3 OF 3" in proc.stderr
    assert token not in proc.stdout + proc.stderr, "the token was printed"
    listed = {row["job_id"]: row for row in json.loads(job("list", cwd=project).stdout)}
    assert listed[result["job_id"]]["entrypoint"] == "python where.py" and listed[result["job_id"]]["duration_s"] > 0
    for follow in ([], ["--follow"]):  # an ended job's whole log, and --follow returns once it has
        logs = job("logs", result["job_id"], *follow, cwd=project, timeout=120)
        assert logs.returncode == 0 and "NODES 3 OF 3" in logs.stderr, logs.stderr[-2000:]
        assert json.loads(logs.stdout)["status"] == "SUCCEEDED"


def test_list_and_logs_never_wait_for_a_deployment_and_submit_and_stop_do(project):
    """README: "`list` and `logs` never wait for a deployment; `submit` and `stop` wait for one that is running"."""
    from raydeploy import lock

    done = job("submit", cwd=project, command=["python", "where.py"])
    assert done.returncode == 0, done.stderr[-2000:]
    job_id = json.loads(done.stdout)["job_id"]
    with lock.acquire("site", 0, print):  # a deployment is running
        listed = job("list", "--lock-timeout", "0", cwd=project)
        assert listed.returncode == 0 and job_id in listed.stdout, listed.stderr[-2000:]
        logs = job("logs", job_id, "--lock-timeout", "0", cwd=project)
        assert logs.returncode == 0 and "NODES 3 OF 3" in logs.stderr, logs.stderr[-2000:]
        refused = job("submit", "--lock-timeout", "0", cwd=project, command=["true"])
        stop_refused = job("stop", job_id, "--lock-timeout", "0", cwd=project)
    assert refused.returncode == 2 and "is still running" in refused.stderr, refused.stderr[-2000:]
    assert stop_refused.returncode == 2 and "is still running" in stop_refused.stderr, stop_refused.stderr[-2000:]


def test_a_failing_job_exits_1_with_its_last_lines(project):
    proc = job("submit", cwd=project, command=["python", "where.py", "3"])
    assert proc.returncode == 1, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["status"] == "FAILED" and jobs_on_cluster()[result["job_id"]] == "FAILED"
    assert "exit code 3" in proc.stderr and "Last lines of its log:" in proc.stderr
    assert "NODES 3 OF 3" in proc.stderr.split("Last lines of its log:", 1)[1]


def test_stop_ends_a_sleeping_job_and_list_shows_every_job(project):
    submitted = job("submit", "--no-wait", "--submission-id", f"e2e-sleep-{int(time.time())}", cwd=project,
                    command=["sleep", "600"])
    assert submitted.returncode == 0, submitted.stderr[-2000:]
    job_id = json.loads(submitted.stdout)["job_id"]
    assert json.loads(submitted.stdout)["status"] in ("PENDING", "RUNNING")
    assert jobs_on_cluster()[job_id] in ("PENDING", "RUNNING")
    stopped = job("stop", job_id, cwd=project)
    assert stopped.returncode == 0 and json.loads(stopped.stdout)["status"] == "STOPPED", stopped.stderr[-2000:]
    assert jobs_on_cluster()[job_id] == "STOPPED"
    submitted_jobs = jobs_on_cluster()  # jobs Ray's API submitted (a plain ray.init() driver has no submission id)
    listed = {row["job_id"]: row["status"] for row in json.loads(job("list", cwd=project).stdout)}
    assert {job_id: listed[job_id] for job_id in submitted_jobs} == submitted_jobs
    table = subprocess.run([sys.executable, str(ROOT / "runner.py"), "job", "list"], cwd=project, capture_output=True,
                           text=True, timeout=120)
    assert table.returncode == 0 and table.stdout.splitlines()[0].split() == ["ID", "STATUS", "ENTRYPOINT", "START", "(UTC)", "DURATION"]
    assert any(line.startswith(job_id) and "STOPPED" in line and "sleep 600" in line for line in table.stdout.splitlines())


def test_ctrl_c_leaves_the_job_running_and_says_how_to_follow_or_stop_it(project):
    command = [sys.executable, str(ROOT / "runner.py"), "job", "submit", "--",
               "python", "-c", "import time; print('STARTED', flush=True); time.sleep(600)"]
    proc = subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = threading.Event()

    def watch():  # the job's log is streamed on stdout
        for line in proc.stdout:
            if "STARTED" in line:
                started.set()

    threading.Thread(target=watch, daemon=True).start()
    if not started.wait(120):
        proc.kill()
        pytest.fail(f"the job did not start within 120 s: {proc.stderr.read()[-2000:]}")
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    err = proc.stderr.read()
    assert proc.returncode == 130, err[-2000:]
    [note] = [line for line in err.splitlines() if "keeps running" in line]
    job_id = note.split("job ", 1)[1].split()[0]
    assert f"runner.py job logs {job_id} --follow" in note and f"runner.py job stop {job_id}" in note
    assert "Traceback" not in err
    time.sleep(2)
    assert jobs_on_cluster()[job_id] == "RUNNING", "Ctrl-C stopped the job"
    assert job("stop", job_id, cwd=project).returncode == 0


def test_a_working_dir_over_the_upload_limit_is_refused_before_sending(project):
    with open(project / "weights.bin", "wb") as handle:  # incompressible, so its zip is as large
        for _ in range(101):
            handle.write(os.urandom(2**20))
    before = jobs_on_cluster()
    proc = job("submit", cwd=project, command=["python", "where.py"])
    assert_one_line_refusal(proc, "MiB, over the 100 MiB")
    assert "nothing was sent" in proc.stderr and "--exclude" in proc.stderr
    assert jobs_on_cluster() == before
    excluded = job("submit", "--exclude", "weights.bin", cwd=project, command=["python", "where.py"])
    assert excluded.returncode == 0, excluded.stderr[-2000:]


@pytest.mark.parametrize("case", ["unknown job", "missing working dir", "other Ray version", "token rejected", "no cluster"])
def test_bad_input_is_one_line_before_anything_is_sent(project, case, tmp_path_factory):
    before = jobs_on_cluster()
    if case == "unknown job":
        proc, text = job("logs", "no-such-job", cwd=project), "no job no-such-job on the cluster"
    elif case == "missing working dir":
        proc, text = job("submit", "--working-dir", "nowhere", cwd=project, command=["true"]), "--working-dir nowhere: no such folder"
    elif case == "other Ray version":
        # another major version: the Jobs API's HTTP is only kept within one (README "Upgrade Ray")
        proc = job("submit", "-e", "ray_version=3.0.0", cwd=project, command=["true"])
        text = "the control node's Python has Ray 2.60.0, the cluster runs Ray 3.0.0: another major version"
    elif case == "token rejected":
        wrong = tmp_path_factory.mktemp("token") / "auth_token"
        wrong.write_text("0" * 64 + "\n")
        proc = job("submit", "-e", json.dumps({"ray_auth_token_file": str(wrong)}), cwd=project, command=["true"])
        text = f"rejected the token in {wrong}"
    else:
        proc = job("list", "-e", "ray_dashboard_url=http://127.0.0.1:1", cwd=project)
        text = "no Ray head answers at http://127.0.0.1:1"
    assert_one_line_refusal(proc, text)
    assert jobs_on_cluster() == before
