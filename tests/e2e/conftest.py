"""End-to-end fixtures: the lab (real engine + registry mirror + Ray image) and a runner.py driver."""

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import lab

ROOT = Path(__file__).resolve().parents[2]
DAEMON_JSON = Path("/etc/docker/daemon.json")


@dataclass
class RunResult:
    rc: int
    summary: dict | None
    stderr: str
    stdout: str


def run_runner(*args, timeout=1200):
    """Run `runner.py ... --json` like a user does and parse its one JSON object."""
    proc = subprocess.run([sys.executable, str(ROOT / "runner.py"), *args, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    try:
        summary = json.loads(proc.stdout) if proc.stdout.strip() else None
    except ValueError:
        summary = None
    return RunResult(proc.returncode, summary, proc.stderr, proc.stdout)


JOB_CLIENT = """
import json, sys, time
from ray.job_submission import JobStatus, JobSubmissionClient
url, entrypoint, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
client = JobSubmissionClient(url)
job = client.submit_job(entrypoint=entrypoint)
deadline = time.monotonic() + wait
while time.monotonic() < deadline and not client.get_job_status(job).is_terminal():
    time.sleep(0.5)
print(json.dumps({"job_id": job, "status": str(client.get_job_status(job)), "logs": client.get_job_logs(job)}))
"""


def submit_job(script, url="http://127.0.0.1:8265", token_file=None, wait=120):
    """Run `script` (Python source) as a Ray job through the Jobs API with the cluster's token, as a user
    would; wait up to `wait` s for it to end. A separate process: RAY_AUTH_* must be set before Ray loads."""
    token_file = token_file or Path.home() / ".config" / "ray-docker" / "ray" / "auth_token"
    entrypoint = "python -c " + shlex.quote(script)
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_file)}
    proc = subprocess.run([sys.executable, "-c", JOB_CLIENT, url, entrypoint, str(wait)], capture_output=True,
                          text=True, env=env, timeout=wait + 120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def inspect(name):
    return json.loads(docker("inspect", name).stdout)[0]


@pytest.fixture(scope="session")
def mirror():
    return lab.ensure_up()


@pytest.fixture(scope="session")
def mirror_vars(mirror):
    return json.dumps({"docker_registry_mirrors": [mirror]})


@pytest.fixture(scope="session")
def image_ref():
    repository, tag, _ = lab.pinned_image()
    return f"{repository}:{tag}"


@pytest.fixture(scope="session", autouse=True)
def keep_users_daemon_json():
    """The suite edits /etc/docker/daemon.json; give the machine its own file back afterwards."""
    original = DAEMON_JSON.read_bytes() if DAEMON_JSON.exists() else None
    yield
    if original is None:
        DAEMON_JSON.unlink(missing_ok=True)
    else:
        DAEMON_JSON.write_bytes(original)
