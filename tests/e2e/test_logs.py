"""Logs and disk on the embedded cluster (README "Logs and disk"): each node's sessions kept on the host under
ray_cluster_data_dir, held to ray_cluster_log_limit_mb and ray_cluster_log_retention_days by the keeper in the node's
container, kept across the node's replacement (a job's log too), and a data root without room refused."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .conftest import ROOT, cluster_containers, run_runner

DATA = Path("/var/lib/ray-docker/ray")
NODES = ["ray-head", "ray-worker-1", "ray-worker-2"]
CAP_MB = 100
MB = 2**20

LOUD = '''import sys

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

LINE = "x" * 1023

ray.init(log_to_driver=False)
nodes = [node["NodeID"] for node in ray.nodes() if node["Alive"]]


@ray.remote(num_cpus=0)
def loud(mb):
    for _ in range(mb * 1024):
        print(LINE)
    return ray.get_runtime_context().get_node_id()


ran = ray.get([loud.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote(int(sys.argv[1]))
               for node in nodes])
print("LOUD ON", len(set(ran)), "NODES", flush=True)
'''


def job(*args, cwd, command=(), timeout=900):
    argv = [sys.executable, str(ROOT / "runner.py"), "job", *args, *(["--", *command] if command else [])]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def first_line(path):
    with open(path, errors="replace") as handle:
        return handle.readline().strip()


def current_session(container):
    """The running session's folder on the host (session_latest links to it as the container sees it, /tmp/ray/...)."""
    return DATA / container / os.path.basename(os.readlink(DATA / container / "session_latest"))


def logs_bytes(container):
    """What the keeper holds to the cap: every file under each session's logs folder."""
    return sum(path.stat().st_size for path in (DATA / container).glob("session_2*/logs/**/*")
               if path.is_file() and not path.is_symlink())


@pytest.fixture(scope="module")
def capped(healthy_cluster, mirror_vars, tmp_path_factory):
    """The cluster as it was, a job run on it, then every node recreated by a new log cap; the default comes back
    at the end (the next tests expect the embedded default)."""
    healthy = run_runner("site", "-e", mirror_vars)  # as the session left it: make sure it runs
    assert healthy.rc == 0, healthy.stderr[-5000:]
    folder = tmp_path_factory.mktemp("jobs")
    (folder / "loud.py").write_text(LOUD)
    marker = f"before-the-head-was-replaced-{uuid.uuid4().hex[:8]}"
    job_id = f"logs-{uuid.uuid4().hex[:8]}"
    ran = job("submit", "--submission-id", job_id, "--working-dir", str(folder), cwd=folder,
              command=["python", "-c", f"print('{marker}')"])
    assert ran.returncode == 0, ran.stderr[-3000:]
    before = {name: first_line(current_session(name) / "logs" / "raylet.out") for name in NODES}
    containers = cluster_containers()
    result = run_runner("site", "-e", mirror_vars, "-e", f"ray_cluster_log_limit_mb={CAP_MB}")
    assert result.rc == 0 and result.summary["check"]["passed"], result.stderr[-5000:]
    after = cluster_containers()
    assert all(after[name][0] != containers[name][0] for name in NODES), "a new cap recreates every node"
    yield {"folder": folder, "job_id": job_id, "marker": marker, "before": before, "vars": mirror_vars}
    restored = run_runner("site", "-e", mirror_vars)
    assert restored.rc == 0, restored.stderr[-5000:]


def test_a_node_recreated_by_a_settings_change_keeps_its_previous_logs(capped):
    """Its raylet's first line from before is still on the host: in the same session, which the new node resumes
    with fault tolerance (Ray appends to raylet.out, or rotates it to raylet.1.out), or in the earlier session's."""
    for name in NODES:
        first = capped["before"][name]
        assert first and "Setting cluster ID" in first, name
        kept = [path for path in (DATA / name).glob("session_2*/logs/raylet*.out") if first in path.read_text(errors="replace")]
        assert kept, f"{name}: the log of its previous container is gone"
        starts = sum(path.read_text(errors="replace").count("Setting cluster ID")
                     for path in (DATA / name).glob("session_2*/logs/raylet*.out"))
        assert starts >= 2, f"{name}: the new raylet's log is there beside the old one's"


def test_a_jobs_log_from_before_its_head_was_replaced_is_still_printed(capped):
    shown = job("logs", capped["job_id"], cwd=capped["folder"])
    assert shown.returncode == 0, shown.stderr
    # With fault tolerance the new head resumes the session (its name is in the GCS store): Ray serves it. A job
    # Ray no longer knows (a new store: test_faults' version swap) comes from the kept files instead.
    assert capped["marker"] in shown.stdout


def test_a_job_writing_300_mb_of_logs_leaves_every_node_under_its_cap_and_healthy(capped):
    loud = job("submit", "--working-dir", str(capped["folder"]), cwd=capped["folder"],
               command=["python", "loud.py", str(CAP_MB)])
    assert loud.returncode == 0 and "LOUD ON 3 NODES" in loud.stdout, loud.stderr[-3000:]
    deadline = time.monotonic() + 60  # the keeper looks every 10 s
    while time.monotonic() < deadline and any(logs_bytes(name) > CAP_MB * MB for name in NODES):
        time.sleep(2)
    held = {name: round(logs_bytes(name) / MB, 1) for name in NODES}
    print(f"log trees after {3 * CAP_MB} MB of output, cap {CAP_MB} MiB: {held}")
    assert all(size <= CAP_MB for size in held.values()), held
    check = run_runner("check")
    assert check.rc == 0 and check.summary["check"]["passed"], check.stderr[-3000:]


def test_sessions_and_ended_workers_logs_past_the_retention_are_removed(capped):
    node = DATA / "ray-worker-1"
    old, recent = node / "session_2020-01-01_00-00-00_000000_1", node / "session_2020-01-02_00-00-00_000000_1"
    current_old = current_session("ray-worker-1") / "logs" / "old"
    files = [old / "logs" / "raylet.out", recent / "logs" / "raylet.out",
             current_old / "worker-dead-1.out", current_old / "worker-dead-2.out"]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("kept for a while\n")
    subprocess.run(["chown", "-R", "1000:100", str(old), str(recent), str(current_old)], check=True)
    for path, age in ((files[2], "8 days ago"), (files[3], "2 days ago"), (old, "8 days ago"), (recent, "2 days ago")):
        subprocess.run(["touch", "-d", age, str(path)], check=True)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and (old.exists() or files[2].exists()):
        time.sleep(2)
    assert not old.exists(), "a session older than ray_cluster_log_retention_days (7) is removed"
    assert not files[2].exists(), "so is an ended worker's log of that age"
    assert recent.exists() and files[3].exists(), "younger ones stay"
    subprocess.run(["rm", "-rf", str(recent)], check=True)


def test_a_data_root_without_room_is_refused_naming_host_path_and_numbers(healthy_cluster, mirror_vars, tmp_path):
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(tiny)], check=True)
    try:
        containers = cluster_containers()
        refused = run_runner("site", "-e", mirror_vars, "-e", json.dumps({"ray_cluster_data_dir": str(tiny)}))
        assert refused.rc != 0
        assert "localhost" in refused.stderr and f"ray_cluster_data_dir {tiny}" in refused.stderr
        assert "GB free of 0.1 GB" in refused.stderr and "below ray_cluster_min_free_gb=5" in refused.stderr
        assert cluster_containers() == containers, "nothing was changed"
        assert os.listdir(tiny) == [], "not even a folder made"
    finally:
        subprocess.run(["umount", str(tiny)], check=True)
