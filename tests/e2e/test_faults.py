"""Faults on the embedded default, one deployment: after each the cluster comes back and the check passes.

A worker's process killed, the head's process killed with head fault tolerance (the default) and
without it, the Docker engine restarted, two `site` runs at once. Recovery times are printed by
benchmarks/bench_faults.py; here each fault only has to heal within its bound.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests import lab

from .conftest import ROOT, cluster_containers, docker, inspect, run_runner
from .faults import ACTOR_ASK, ACTOR_JOB, actor_report, node_ids, ray_client, submit_job, wait_for

NODES = ["ray-head@localhost", "ray-worker-1@localhost", "ray-worker-2@localhost"]
TOKEN = os.path.expanduser("~/.config/ray-docker/ray/auth_token")


def crash(container):
    """The container's main process dies, as in a crash: Docker's restart policy brings it back."""
    os.kill(inspect(container)["State"]["Pid"], signal.SIGKILL)


def restarts(container):
    return inspect(container)["RestartCount"]


def alive_nodes():
    result = run_runner("status")
    return node_ids(result.summary) if result.rc == 0 and result.summary else {}


def all_alive():
    nodes = alive_nodes()
    return nodes if sorted(nodes) == NODES else None


def jobs():
    request = urllib.request.Request("http://127.0.0.1:8265/api/jobs/",
                                     headers={"Authorization": "Bearer " + open(TOKEN).read().strip()})
    with urllib.request.urlopen(request, timeout=10) as response:
        return {job["submission_id"] for job in json.loads(response.read())}


def check_passes():
    result = run_runner("check")
    assert result.rc == 0, result.stderr[-3000:]
    check = result.summary["check"]
    assert check["passed"] and check["nodes_alive"] == 3 and check["nodes_expected"] == 3
    return check


STATE_NODES = ("import json, sys\nfrom ray.util.state import list_nodes\n"
               "print(json.dumps([{'id': n.node_id, 'name': n.node_name, 'state': n.state, 'start': n.start_time_ms}"
               " for n in list_nodes(address=sys.argv[1], detail=True, limit=1000)]))")


def registrations(name):
    """Every registration of the node `name` in Ray's own state API (dead ones too), oldest first."""
    rows = ray_client(STATE_NODES, "http://127.0.0.1:8265")
    return sorted((row for row in rows if row["name"] == name), key=lambda row: row["start"] or 0)


def alive_registrations(name):
    """The ALIVE registrations of node `name`, straight from the state API (fast enough to poll)."""
    request = urllib.request.Request("http://127.0.0.1:8265/api/v0/nodes?detail=true&limit=1000",
                                     headers={"Authorization": "Bearer " + open(TOKEN).read().strip()})
    with urllib.request.urlopen(request, timeout=10) as response:
        rows = json.loads(response.read())["data"]["result"]["result"]
    return [row["node_id"] for row in rows if row["node_name"] == name and row["state"] == "ALIVE"]


def test_a_crashed_worker_comes_back_by_itself_replacing_its_predecessor_at_once(healthy_cluster):
    """No runner call heals it: Docker restarts the container (RestartCount grows), the node rejoins under a new id,
    and its last registration leaves the cluster as it comes (the container retires it before `ray start`): the name
    is never ALIVE twice, so the cluster never counts a ghost's resources. The check reports the new node."""
    name = "ray-worker-2@localhost"
    before, old = restarts("ray-worker-2"), registrations(name)[-1]
    crash("ray-worker-2")
    started, most, new = time.monotonic(), 0, []
    while time.monotonic() - started < 30:
        try:
            alive = alive_registrations(name)
        except OSError:
            alive = []
        most = max(most, len(alive))
        new = [node for node in alive if node != old["id"]]
        if new:
            break
        time.sleep(0.2)
    assert new, "the worker did not come back within 30 s"
    print(f"worker back under a new id after {time.monotonic() - started:.1f} s")
    assert most <= 1 and alive_registrations(name) == new, "two ALIVE registrations of one node"
    assert restarts("ray-worker-2") == before + 1, "Docker's restart policy brought it back"
    check = check_passes()
    assert sorted(node["node_name"] for node in check["nodes"]) == NODES
    listed = registrations(name)
    assert [row["state"] for row in listed if row["id"] == old["id"]] == ["DEAD"], "the predecessor was retired"
    [checked] = [node["node_id"] for node in check["nodes"] if node["node_name"] == name]
    assert checked == listed[-1]["id"] != old["id"] and listed[-1]["state"] == "ALIVE"
    assert sorted(alive_nodes()) == NODES


@pytest.fixture
def detached_actor(healthy_cluster):
    """A detached named actor on worker 1, created through the Jobs API before a fault."""
    worker = node_ids(run_runner("status").summary)["ray-worker-1@localhost"]
    job = submit_job(ACTOR_JOB.format(node_id=worker))
    assert job["status"] == "SUCCEEDED", job["logs"][-2000:]
    assert actor_report(job) == {"count": 1, "node": worker}
    return job["job_id"], worker


def test_a_crashed_head_with_fault_tolerance_keeps_workers_actors_and_jobs(detached_actor):
    job_before, worker = detached_actor
    ids = alive_nodes()
    workers_before = {name: restarts(name) for name in ("ray-worker-1", "ray-worker-2")}
    crash("ray-head")
    took, nodes = wait_for(all_alive, 60)
    assert nodes, f"the cluster was not whole again within 60 s: {alive_nodes()}"
    print(f"every node ALIVE again {took:.1f} s after the head crashed")
    assert restarts("ray-head") >= 1
    assert {name: restarts(name) for name in workers_before} == workers_before, "the workers did not restart"
    assert {name: nodes[name] for name in NODES[1:]} == {name: ids[name] for name in NODES[1:]}, "same node ids"
    assert nodes["ray-head@localhost"] != ids["ray-head@localhost"]
    answer = submit_job(ACTOR_ASK)
    assert actor_report(answer) == {"count": 2, "node": worker}, answer["logs"][-2000:]
    assert job_before in jobs(), "the Jobs API still lists the jobs from before the crash"
    check_passes()


STORE_ACTOR = """
import ray
ray.init()
@ray.remote(num_cpus=0)
class Marker:
    pass
Marker.options(name="e2e-store", namespace="e2e", lifetime="detached", get_if_exists=True).remote()
print("store actor placed", flush=True)
"""
STATE_ACTORS = ("import json, sys\nfrom ray.util.state import list_actors\n"
                "print(json.dumps({a.actor_id: a.state for a in list_actors(address=sys.argv[1], limit=1000,"
                " filters=[('name', '=', 'e2e-store')])}))")


def head_namespace():
    env = inspect("ray-head")["Config"]["Env"]
    return next(value.split("=", 1)[1] for value in env if value.startswith("RAY_external_storage_namespace="))


def store_actors():
    """{actor id: state} of the detached actors named e2e-store the GCS store knows (dead ones too)."""
    return ray_client(STATE_ACTORS, "http://127.0.0.1:8265")


def test_a_new_ray_version_starts_a_new_gcs_store_keeps_the_old_one_and_times_the_swap(healthy_cluster, mirror_vars):
    """The README: a new `ray_version` starts a new GCS store (a store is not read by another Ray version) and keeps
    the old one. With the lab's older real Ray: on the other version the head's namespace is that version's, the
    Jobs API does not know the job from before and the state API no actor of that name; back on the pinned version the
    old store's job and actor registration are there again. Each way is the upgrade's path (swap, check), timed."""
    older = lab.OLDER_RAY_VERSION
    assert head_namespace() == "ray-2.60.0"
    job = submit_job(STORE_ACTOR)
    assert job["status"] == "SUCCEEDED", job["logs"][-2000:]
    actors_before = store_actors()
    assert "ALIVE" in actors_before.values(), actors_before
    try:
        # the detached actor keeps its worker busy: its drain lasts the whole deadline, which need not be 30 s here
        other = run_runner("site", "-e", mirror_vars, "-e", json.dumps({"ray_version": older,
                                                                          "ray_cluster_drain_deadline": 5}))
        assert other.rc == 0, other.stderr[-3000:]
        assert other.summary["upgrade"]["from"] == ["2.60.0"] and other.summary["upgrade"]["to"] == older
        assert {node["ray_version"] for node in other.summary["check"]["nodes"]} == {older}
        print(f"one host: 2.60.0 -> {older}, down {other.summary['upgrade']['downtime_seconds']} s "
              f"({other.summary['upgrade']['steps']})")
        assert head_namespace() == f"ray-{older}"
        assert job["job_id"] not in jobs(), "the new store knows no job of the old one"
        # ... but its log is still there, in the replaced head's kept session (README "Logs and disk")
        kept = subprocess.run([sys.executable, str(ROOT / "runner.py"), "job", "logs", job["job_id"]], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert kept.returncode == 0 and "store actor placed" in kept.stdout, kept.stderr[-2000:]
        assert f"Ray does not know job {job['job_id']} any more" in kept.stderr
        assert "localhost:/var/lib/ray-docker/ray/ray-head/session_" in kept.stderr
        assert f"/logs/job-driver-{job['job_id']}.log" in kept.stderr
        assert store_actors() == {}, "nor its detached actor"
    finally:
        back = run_runner("site", "-e", mirror_vars)
        assert back.rc == 0 and back.summary["check"]["passed"], back.stderr[-3000:]
    print(f"one host: {older} -> 2.60.0, down {back.summary['upgrade']['downtime_seconds']} s")
    assert head_namespace() == "ray-2.60.0"
    assert job["job_id"] in jobs(), "the old store was kept: its jobs are back with its version"
    assert set(store_actors()) == set(actors_before), "and its actors (dead now: their nodes were recreated)"


def test_a_crashed_head_without_fault_tolerance_restarts_the_workers_and_heals(healthy_cluster, mirror_vars):
    # As the README says it: key=value, which the runner reads as the boolean false (Ansible: the string).
    switched = run_runner("site", "-e", mirror_vars, "-e", "ray_gcs_fault_tolerance=false")
    assert switched.rc == 0, switched.stderr[-3000:]
    assert "ray-redis" not in cluster_containers(), "switched off, the GCS store is gone"
    assert docker("volume", "inspect", "ray-gcs-redis", check=False).returncode != 0, "and its data too"
    workers_before = {name: restarts(name) for name in ("ray-worker-1", "ray-worker-2")}
    crash("ray-head")
    took, nodes = wait_for(lambda: all_alive() if all(restarts(name) > count for name, count in workers_before.items())
                           else None, 180, interval=2)
    assert nodes, f"not whole again within 180 s: {alive_nodes()}"
    print(f"without fault tolerance every worker restarted; all ALIVE again {took:.1f} s after the head crashed")
    check_passes()
    back = run_runner("site", "-e", mirror_vars)
    assert back.rc == 0 and "ray-redis" in cluster_containers(), back.stderr[-3000:]
    settled = cluster_containers()
    again = run_runner("site", "-e", mirror_vars)
    assert again.rc == 0 and cluster_containers() == settled, "switching fault tolerance on recreates the nodes once"


def dockerd_pid():
    return int(lab.engine.DOCKER_PIDFILE.read_text().split()[0]) if lab.engine.DOCKER_PIDFILE.exists() else None


def test_the_engine_restarted_brings_every_container_back(healthy_cluster):
    before, pid_before = cluster_containers(), dockerd_pid()
    lab.restart_engine()
    # A real restart: a new dockerd, and every container started again by it (not a no-op restart, not live-restore).
    assert dockerd_pid() not in (None, pid_before), "dockerd did not restart"
    restarted = cluster_containers()
    assert all(restarted[name][1] != started for name, (_, started) in before.items()), "a container outlived the engine"
    took, nodes = wait_for(all_alive, 120, interval=2)
    assert nodes, f"not whole again within 120 s of the engine's restart: {alive_nodes()}"
    print(f"every node ALIVE again {took:.1f} s after the engine was back")
    after = cluster_containers()
    assert {name: cid for name, (cid, _) in after.items()} == {name: cid for name, (cid, _) in before.items()}
    check_passes()


def test_two_site_runs_at_once_the_second_waits_and_nothing_is_half_done(healthy_cluster, mirror_vars):
    """The first run recreates every node (a new environment variable); the second, started while the
    first works, waits for it and then puts the environment back. A third that may not wait is refused."""
    changed = json.dumps({"ray_cluster_env": {"E2E_PARALLEL": "1"}})
    first = subprocess.Popen([sys.executable, str(ROOT / "runner.py"), "site", "-e", mirror_vars, "-e", changed,
                              "--json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    refused = run_runner("site", "-e", mirror_vars, "--lock-timeout", "0")
    assert refused.rc == 2 and "runner.py site (pid" in refused.stderr and "is still running" in refused.stderr
    second = run_runner("site", "-e", mirror_vars)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]
    assert json.loads(out)["changed"] > 0
    assert second.rc == 0, second.stderr[-3000:]
    assert "waiting for runner.py site" in second.stderr
    assert second.summary["changed"] > 0, "the second run did its own work after the first"
    for name in cluster_containers():
        assert not any(var.startswith("E2E_PARALLEL=") for var in inspect(name)["Config"]["Env"]), name
    check_passes()
