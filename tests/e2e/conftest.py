"""End-to-end fixtures: the lab (real engine + registry mirror + Ray image) and a runner.py driver."""

import hashlib
import json
import os
import subprocess
import sys
import time
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
    """Run `runner.py ... --json` like a user does and parse its one JSON object.

    With RAYLAB_RUN_LOG set to a file, each run's test, arguments, exit code and seconds are appended to it as a JSON
    line: where a test module's minutes go (docs/tests.md)."""
    began = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "runner.py"), *args, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if os.environ.get("RAYLAB_RUN_LOG"):
        with open(os.environ["RAYLAB_RUN_LOG"], "a", encoding="utf-8") as log:
            log.write(json.dumps({"test": os.environ.get("PYTEST_CURRENT_TEST", ""), "args": args,
                                  "rc": proc.returncode, "seconds": round(time.monotonic() - began, 1)}) + "\n")
    try:
        summary = json.loads(proc.stdout) if proc.stdout.strip() else None
    except ValueError:
        summary = None
    return RunResult(proc.returncode, summary, proc.stderr, proc.stdout)


def last_run_events():
    """The job events of the latest runner.py run (ansible-runner keeps them in .artifacts/<run>/job_events), in
    order."""
    runs = sorted((path for path in (ROOT / ".artifacts").iterdir() if (path / "job_events").is_dir()),
                  key=lambda path: path.stat().st_mtime)
    events = [json.loads(path.read_text()) for path in (runs[-1] / "job_events").glob("*.json")]
    return sorted(events, key=lambda event: event["counter"])


def module_runs(events, action):
    """{host: how many times} the task action ran (its `runner_on_ok`/`_failed` results, loops counted once)."""
    counts = {}
    for event in events:
        data = event.get("event_data") or {}
        if event["event"] in ("runner_on_ok", "runner_on_failed") and data.get("resolved_action") == action:
            counts[data["host"]] = counts.get(data["host"], 0) + 1
    return counts


def task_result(events, host, task):
    """The event data of the task's result on `host` (its `runner_on_ok`: duration, res, ...), the task named by the
    start of its name; exactly one such result."""
    [data] = [event["event_data"] for event in events if event["event"] == "runner_on_ok"
              and event["event_data"].get("host") == host and event["event_data"].get("task", "").startswith(task)]
    return data


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def inspect(name):
    return json.loads(docker("inspect", name).stdout)[0]


@pytest.fixture(scope="session")
def mirror():
    return lab.ensure_up()


@pytest.fixture(scope="session")
def mirror_vars(mirror):
    return json.dumps(lab.deploy_vars(mirror))


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


@pytest.fixture(scope="session")
def healthy_cluster(mirror_vars):
    """The embedded default deployed and passing its check (a no-op `site` when it already is)."""
    result = run_runner("site", "-e", mirror_vars)
    assert result.rc == 0 and result.summary["check"]["passed"], result.stderr[-5000:]
    return result


def cluster_containers():
    """{name: (id, started at)} of every container of the embedded cluster (nodes and GCS store)."""
    names = docker("ps", "-aq", "--filter", "label=ray-docker.cluster=ray").stdout.split()
    rows = json.loads(docker("inspect", *names).stdout) if names else []
    return {row["Name"].lstrip("/"): (row["Id"], row["State"]["StartedAt"]) for row in rows}


def files_under(*roots):
    """{path: (sha256, mode, owner)} of every file below `roots`."""
    found = {}
    for root in roots:
        for path in sorted(Path(root).expanduser().rglob("*")) if Path(root).expanduser().exists() else ():
            if path.is_file() and path.name != "runner.lock":  # the lock records who ran last, by design
                info = path.stat()
                found[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), info.st_mode, info.st_uid, info.st_gid)
    return found


def host_fingerprint():
    """What a refused run must leave exactly as it was: the engine (its pid: no restart; a SIGHUP reload keeps the
    containers' start times, so the files it reloads are compared too), every cluster container, image, network and
    volume, daemon.json, the files the roles write under /etc/ray-docker, and the control node's token, passwords and
    check verdict."""
    pid = Path("/var/run/docker.pid")
    return {
        "dockerd": pid.read_text().strip() if pid.exists() else None,
        "containers": cluster_containers(),
        "images": sorted(docker("images", "-q", "--no-trunc").stdout.split()),
        "networks": sorted(docker("network", "ls", "-q", "--no-trunc").stdout.split()),
        "volumes": sorted(docker("volume", "ls", "-q").stdout.split()),
        "daemon.json": DAEMON_JSON.read_bytes() if DAEMON_JSON.exists() else None,
        "files": files_under("/etc/ray-docker", "~/.config/ray-docker"),
    }
