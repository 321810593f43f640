"""`runner.py site` on this machine through the lab's registry mirror, then re-runs, check, status, down.

The tests run in file order and share one deployment: a cold `site` (no Ray image on the engine,
a daemon.json with unrelated keys), then everything a user does next. The first test takes the suite's
running cluster down, so the cold deployment starts from nothing.
"""

import json
import os
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.lab import deploy_vars

from .conftest import DAEMON_JSON, ROOT, cluster_containers, docker, inspect, last_run_events, module_runs, run_runner
from .faults import submit_job

CONTAINERS = ["ray-head", "ray-worker-1", "ray-worker-2"]
NODE_NAMES = [f"{name}@localhost" for name in CONTAINERS]
USERS_OWN_KEYS = {"log-opts": {"max-size": "10m", "max-file": "3"}, "labels": ["lab=ray-docker-e2e"]}
CONTROL_TOKEN = Path.home() / ".config" / "ray-docker" / "ray" / "auth_token"
HOST_TOKEN = Path("/etc/ray-docker/ray/auth_token")
GIB, MIB = 2**30, 2**20
# The documented margin (README, "How the nodes share a host"): a tenth of RAM (at least 1 GiB) left to the
# host, plus Ray's own processes in each container (1 GiB on the head, 512 MiB on a worker).
SYSTEM_MEMORY = {"ray-head": GIB, "ray-worker-1": GIB // 2, "ray-worker-2": GIB // 2}


def engine_info():
    return json.loads(docker("info", "--format", "{{json .}}").stdout)


def flag(command, name):
    return next(arg.split("=", 1)[1] for arg in command if arg.startswith(name + "="))


def started_at():
    return {name: (inspect(name)["Id"], inspect(name)["State"]["StartedAt"]) for name in CONTAINERS}


def test_down_deletes_the_gcs_store_and_keeps_the_monitoring_data_unless_asked(healthy_cluster):
    """First in this module: it leaves no cluster, which is where the cold deployment below starts (one cold
    `site` fewer than putting the cluster back here)."""
    assert docker("volume", "inspect", "ray-gcs-redis", check=False).returncode == 0
    assert run_runner("down").rc == 0
    assert not cluster_containers() and "ray-prometheus" not in docker("ps", "-a", "--format", "{{.Names}}").stdout
    assert docker("volume", "inspect", "ray-gcs-redis", check=False).returncode != 0, "down deletes the GCS store's data"
    assert docker("volume", "inspect", "ray-prometheus-data", check=False).returncode == 0, "and keeps Prometheus's"
    assert run_runner("down", "-e", json.dumps({"ray_monitoring_purge": True})).rc == 0
    assert docker("volume", "inspect", "ray-prometheus-data", check=False).returncode != 0, "unless asked"


@pytest.fixture(scope="module")
def cold_site(mirror_vars, image_ref):
    """A deployment from a cold start: no cluster, no Ray image, a user's own daemon.json."""
    run_runner("down")
    docker("rmi", "-f", image_ref, check=False)
    assert docker("image", "inspect", image_ref, check=False).returncode != 0
    DAEMON_JSON.parent.mkdir(exist_ok=True)
    DAEMON_JSON.write_text(json.dumps(USERS_OWN_KEYS, indent=4))
    result = run_runner("site", "-e", mirror_vars)
    assert result.rc == 0, result.stderr[-5000:]
    return result


def test_cold_site_passes_the_check_with_three_nodes(cold_site, image_ref):
    summary = cold_site.summary
    assert summary["status"] == "ok" and summary["changed"] > 0
    assert summary["hosts"]["localhost"]["failed"] == 0
    check = summary["check"]
    assert check["passed"] is True and check["reasons"] == []
    assert check["nodes_expected"] == 3 and check["nodes_alive"] == 3
    assert sorted(node["node_name"] for node in check["nodes"]) == sorted(NODE_NAMES)
    assert all(node["task"] and node["actor"] and node["ray_version"] == "2.60.0" for node in check["nodes"])
    assert len({node["ip"] for node in check["nodes"]}) == 3
    assert len(check["transfers"]) == 3 and all(t["ok"] for t in check["transfers"])
    assert summary["dashboard_url"] == "http://127.0.0.1:8265"
    assert docker("image", "inspect", image_ref, check=False).returncode == 0, "the image came through the mirror"
    assert "Ray check passed (3/3 nodes alive)" in cold_site.stderr


def test_daemon_json_keeps_the_users_keys_and_the_engine_uses_the_mirror(cold_site, mirror):
    config = json.loads(DAEMON_JSON.read_text())
    assert {key: config[key] for key in USERS_OWN_KEYS} == USERS_OWN_KEYS
    assert config["registry-mirrors"] == [mirror]
    mirrors = json.loads(docker("info", "--format", "{{json .RegistryConfig.Mirrors}}").stdout)
    assert mirror + "/" in mirrors or mirror in mirrors


def test_containers_are_what_the_roles_promise(cold_site):
    mem_total = engine_info()["MemTotal"]
    expected_shm = int(mem_total * 0.3 / 3) // 2**20 * 2**20
    for name in CONTAINERS:
        info = inspect(name)
        assert info["State"]["Running"], name
        assert info["Config"]["Labels"]["ray-docker.cluster"] == "ray"
        assert info["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
        assert info["HostConfig"]["ShmSize"] == expected_shm
        assert info["HostConfig"]["Init"] is True, "an init process reaps what Ray's jobs leave behind"
        command = info["Config"]["Cmd"]
        # a shell starts the log keeper (and on the head reads the GCS store's password), then execs ray
        assert command[:2] == ["sh", "-c"] and "RAY_DOCKER_LOG_KEEPER" in command[2] and "exec" in command[2]
        assert ("--redis-password" in command[2]) == (name == "ray-head")
        command = command[command.index("ray"):]
        assert command[:2] == ["ray", "start"] and command[-1] == "--block" and "--disable-usage-stats" in command
        assert "--object-spilling-directory=/ray-spill" in command
        mounts = {mount["Destination"]: mount["Source"] for mount in info["Mounts"]}
        assert mounts["/tmp/ray"] == f"/var/lib/ray-docker/ray/{name}", "the node's sessions outlive its container"
        assert mounts["/ray-spill"] == f"/var/lib/ray-docker/ray/{name}/spill"
        kept = Path(mounts["/tmp/ray"])
        assert kept.stat().st_uid == 1000, "the image's user owns it (Ray makes it 0777 ...)"
        assert (kept.parent.stat().st_uid, stat.S_IMODE(kept.parent.stat().st_mode)) == (0, 0o750), "... in root's folder"
        # session_latest links to the folder as the container sees it (/tmp/ray/...)
        assert (kept / os.path.basename(os.readlink(kept / "session_latest")) / "logs" / "raylet.out").exists()
        env = dict(item.split("=", 1) for item in info["Config"]["Env"])
        assert int(env["RAY_ROTATION_MAX_BYTES"]) > 0 and env["RAY_ROTATION_BACKUP_COUNT"] == "2"
        keeper = docker("exec", name, "sh", "-c", "ps -eo args | grep -c '^python -c .*[K]eeps a Ray node.* /tmp/ray 1024 7$'")
        assert int(keeper.stdout) >= 1, "the log keeper runs beside ray"
        object_store = next(int(arg.split("=")[1]) for arg in command if arg.startswith("--object-store-memory="))
        assert 0 < object_store <= expected_shm
        assert "RAY_AUTH_MODE=token" in info["Config"]["Env"]
        token_mount = next(m for m in info["Mounts"] if m["Source"] == str(HOST_TOKEN))
        assert token_mount["RW"] is False
    bindings = inspect("ray-head")["HostConfig"]["PortBindings"]
    assert bindings == {"8265/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8265"}]}
    # the GCS store's namespace is the cluster's and its Ray version's: a new ray_version starts a new store
    assert "RAY_external_storage_namespace=ray-2.60.0" in inspect("ray-head")["Config"]["Env"]
    assert all(not inspect(name)["HostConfig"]["PortBindings"] for name in CONTAINERS[1:])
    for name in [*CONTAINERS, "ray-redis", "ray-prometheus"]:  # every container's Docker log is bounded
        assert inspect(name)["HostConfig"]["LogConfig"] == {"Type": "json-file",
                                                            "Config": {"max-size": "10m", "max-file": "3"}}, name


def test_token_files_are_private_and_never_logged(cold_site):
    control = CONTROL_TOKEN.stat()
    assert stat.S_IMODE(control.st_mode) == 0o600
    host = HOST_TOKEN.stat()
    assert (stat.S_IMODE(host.st_mode), host.st_uid, host.st_gid) == (0o600, 1000, 100)
    token = CONTROL_TOKEN.read_text().strip()
    assert HOST_TOKEN.read_text().strip() == token and len(token) == 64
    assert token not in cold_site.stdout + cold_site.stderr
    leaks = subprocess.run(["grep", "-rl", token, str(ROOT / ".artifacts")], capture_output=True, text=True)
    assert leaks.stdout == "", f"token written to runner artifacts: {leaks.stdout}"


def test_the_gcs_stores_password_is_never_logged_nor_in_a_container_setting(cold_site):
    """README: "the token and passwords are never in them" (.artifacts); the head reads the password from a mounted
    file at start, so `docker inspect` shows no password either."""
    password = (CONTROL_TOKEN.parent / "redis_password").read_text().strip()
    assert len(password) >= 32 and password not in cold_site.stdout + cold_site.stderr
    leaks = subprocess.run(["grep", "-rlF", password, str(ROOT / ".artifacts")], capture_output=True, text=True)
    assert leaks.returncode == 1 and leaks.stdout == "", f"password written to runner artifacts: {leaks.stdout}"
    assert password not in json.dumps([inspect(name) for name in ("ray-head", "ray-redis")])


def test_jobs_api_rejects_requests_without_the_token(cold_site):
    with pytest.raises(urllib.error.HTTPError) as rejected:
        urllib.request.urlopen("http://127.0.0.1:8265/api/jobs/", timeout=10)
    assert rejected.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as wrong:
        urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:8265/api/jobs/",
                                                      headers={"Authorization": "Bearer " + "0" * 64}), timeout=10)
    assert wrong.value.code in (401, 403)
    token = CONTROL_TOKEN.read_text().strip()
    request = urllib.request.Request("http://127.0.0.1:8265/api/jobs/", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert any(job["submission_id"].startswith("ray-docker-check-") for job in json.loads(response.read()))


def test_second_site_changes_and_restarts_nothing(cold_site, mirror_vars):
    before = started_at()
    result = run_runner("site", "-e", mirror_vars)
    assert result.rc == 0, result.stderr[-3000:]
    assert result.summary["changed"] == 0, [line for line in result.stderr.splitlines() if " changed " in line]
    assert result.summary["check"]["passed"] is True
    # nothing restarted since the cold run's check: site reuses its verdict instead of a new job
    assert result.summary["check"]["reused"] is True
    assert "job skipped, the same nodes passed it at" in result.stderr
    assert started_at() == before
    # README: "A re-run reads each host once": the probe's one read, no role reading the host again.
    events = last_run_events()
    assert module_runs(events, "ray_docker.cluster.ray_host_facts") == {"localhost": 1}
    assert module_runs(events, "ray_docker.cluster.docker_engine_info") == {}
    # A plan action that read the host itself hands that read on as the new snapshot (plugin_utils/snapshot.py keep).
    reread = [event["event_data"]["task"] for event in events if event["event"] == "runner_on_ok"
              and event["event_data"].get("resolved_action") != "ray_docker.cluster.ray_host_facts"
              and "ray_snapshot" in ((event["event_data"].get("res") or {}).get("ansible_facts") or {})]
    assert reread == [], f"tasks that read the host again: {reread}"
    # The preflight checked every role's settings: no role checks them again at its start (playbooks/site.yml), only
    # the shared `ray` role, a dependency, once in each of the two plays.
    validated = [event["event_data"]["task"] for event in events if event["event"] == "runner_on_ok"
                 and event["event_data"].get("resolved_action") == "ansible.builtin.validate_argument_spec"]
    assert validated == ["Validating arguments against arg spec 'main' - The settings every Ray role shares (no tasks)"] * 2


def test_plain_ansible_playbook_reads_key_value_booleans_as_the_runner_does(cold_site, mirror):
    """Without the runner, `-e name=false` reaches the roles as the string "false": they read it as false (a
    string taken for true would switch Grafana on here and change the cluster)."""
    before = started_at()
    grafana = "true" if deploy_vars(mirror)["ray_monitoring_grafana_enabled"] else "false"
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "playbooks/site.yml",
                           "-e", json.dumps({"docker_registry_mirrors": [mirror]}),
                           "-e", f"ray_monitoring_grafana_enabled={grafana}", "-e", "ray_cluster_compare_all=false",
                           "-e", "ray_gcs_fault_tolerance=true", "-e", "ray_check_reuse_verdict=yes"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    recap = proc.stdout[proc.stdout.rindex("PLAY RECAP"):]
    assert "changed=0" in recap and "failed=0" in recap, recap
    assert started_at() == before


def test_check_alone(cold_site):
    result = run_runner("check")
    assert result.rc == 0, result.stderr[-3000:]
    assert result.summary["check"]["passed"] and result.summary["check"]["nodes_alive"] == 3
    assert result.summary["check"]["reused"] is False, "the check verb always runs the job"
    assert result.summary["check"]["job_id"].startswith("ray-docker-check-")
    assert result.summary["changed"] == 0


def test_finished_jobs_leave_no_zombie_processes(cold_site):
    """Every job's entrypoint runs under a shell; without an init process they stay zombies on the head."""
    token = CONTROL_TOKEN.read_text().strip()
    request = urllib.request.Request("http://127.0.0.1:8265/api/jobs/", headers={"Authorization": f"Bearer {token}"})
    deadline = time.monotonic() + 60
    while True:  # the check returns on the job's report; wait until every job has ended
        with urllib.request.urlopen(request, timeout=10) as response:
            jobs = json.loads(response.read())
        if all(job["status"] in ("SUCCEEDED", "FAILED", "STOPPED") for job in jobs) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(jobs) >= 2 and all(job["status"] == "SUCCEEDED" for job in jobs), [job["status"] for job in jobs]
    deadline = time.monotonic() + 15  # a parent reaps its child a moment after it exits; orphans need PID 1
    while True:
        processes = docker("exec", "ray-head", "ps", "-eo", "stat=,ppid=,args=").stdout.splitlines()
        zombies = [line for line in processes if line.startswith("Z")]
        if not zombies or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert zombies == []


def test_check_fails_with_the_reason_when_a_node_is_missing(cold_site):
    result = run_runner("check", "-e", json.dumps({"ray_node_count": 4}))
    assert result.rc == 1
    assert result.summary["check"]["passed"] is False
    assert "expected nodes not alive: ray-worker-3@localhost" in result.summary["check"]["reasons"]
    assert "Ray check failed: expected nodes not alive: ray-worker-3@localhost" in result.stderr


def test_the_check_waits_for_a_restarting_node_only_as_long_as_told(cold_site, mirror_vars):
    docker("stop", "-t", "2", "ray-worker-2")  # registered before, not coming back by itself: "restarting"
    try:
        began = time.monotonic()
        result = run_runner("check", "-e", "ray_check_node_wait=3")
        took = time.monotonic() - began
        assert result.rc == 1 and "ray-worker-2@localhost" in " ".join(result.summary["check"]["reasons"])
        assert took < 30, f"the check waited {took:.0f} s for a node, told 3 (the default is 60)"
    finally:
        assert run_runner("site", "-e", mirror_vars).rc == 0


def test_status_alone(cold_site):
    result = run_runner("status")
    assert result.rc == 0, result.stderr[-3000:]
    cluster = result.summary["cluster"]
    assert sorted(cluster["alive"]) == sorted(NODE_NAMES) and cluster["missing"] == []
    assert cluster["resources"]["CPU"] == engine_info()["NCPU"], "the nodes share the host's CPUs"
    assert [node["is_head_node"] for node in cluster["nodes"]] == [True, False, False]
    assert result.summary["dashboard_url"] == "http://127.0.0.1:8265"
    assert "ray-head@localhost" in result.stderr and "dashboard: http://127.0.0.1:8265" in result.stderr
    data_root = cluster["hosts"]["localhost"]["disk"]["data_root"]
    assert data_root["used"] > 0 and "DATA ROOT" in result.stderr, "status counts what the nodes keep (a deployment does not)"


def test_the_lock_covers_every_changing_verb_and_never_status_or_preflight(cold_site):
    from raydeploy import cli, lock

    changing = sorted(set(cli.VERBS) - set(cli.READ_ONLY_VERBS))
    assert set(cli.READ_ONLY_VERBS) == {"status", "preflight"}
    with lock.acquire("site", 0, print):  # another run is changing the cluster
        for verb in changing:
            refused = run_runner(verb, *(["localhost"] if verb == "drain" else []), "--lock-timeout", "0")
            assert refused.rc == 2 and "is still running; nothing was changed" in refused.stderr, (verb, refused.stderr[-1000:])
        for verb in cli.READ_ONLY_VERBS:
            assert run_runner(verb, "--lock-timeout", "0").rc == 0, verb


def test_artifacts_keep_the_last_20_runs(cold_site):
    def runs():
        return sorted((path for path in (ROOT / ".artifacts").iterdir() if path.is_dir()), key=lambda path: path.stat().st_mtime)

    while len(runs()) < 20:  # the suite has made more by now; alone, make them
        assert run_runner("status").rc == 0
    before = runs()
    assert run_runner("status").rc == 0
    after = runs()
    assert len(after) == 20 and set(before) - set(after) == {before[0]}, "the oldest run goes, the newest stays"
    assert (after[-1] / "job_events").is_dir() and after[-1] not in before


def test_facts_stay_in_memory_and_are_never_written_to_the_artifacts(cold_site):
    """runner.py keeps facts in memory: ansible-runner's default fact cache (JSON files in the run's artifacts) was
    read back and decoded for every task on every host, a third of a no-op re-run on 8 hosts."""
    site_runs = [path for path in (ROOT / ".artifacts").iterdir()
                 if (path / "command").is_file() and "site.yml" in (path / "command").read_text()]
    newest = max(site_runs, key=lambda path: path.stat().st_mtime)
    assert (newest / "job_events").is_dir() and not (newest / "fact_cache").exists(), sorted(newest.iterdir())


def test_nodes_share_the_host_and_each_container_is_held_to_its_share(cold_site):
    """Three nodes on one 2-CPU host: 2 CPUs in all, not 2 each; memory as documented; limits match shares."""
    info = engine_info()
    cpus, mem_total = info["NCPU"], info["MemTotal"]
    total_cpus = 0
    for name in CONTAINERS:
        container = inspect(name)
        command = container["Config"]["Cmd"]
        memory, store = int(flag(command, "--memory")), int(flag(command, "--object-store-memory"))
        assert container["HostConfig"]["Memory"] == memory + store + SYSTEM_MEMORY[name], name
        total_cpus += int(flag(command, "--num-cpus"))
    assert total_cpus == cpus
    assert int(flag(inspect("ray-head")["Config"]["Cmd"], "--num-cpus")) == 0, "2 CPUs, 3 nodes: the head gets none"

    cluster = run_runner("status").summary["cluster"]
    assert cluster["resources"]["CPU"] == cpus
    reserved = max(GIB, int(mem_total * 0.1)) // MIB * MIB
    margin = reserved + sum(SYSTEM_MEMORY.values())
    ray_memory = cluster["resources"]["memory"] + cluster["resources"]["object_store_memory"]
    assert abs(ray_memory - (mem_total - margin)) <= 3 * MIB, (ray_memory, mem_total, margin)
    assert cluster["hosts"]["localhost"]["cpus"] == cpus and cluster["hosts"]["localhost"]["mem_total"] == mem_total


def test_work_asking_for_more_cpus_than_the_host_has_stays_pending(cold_site):
    """A placement group of host-CPUs bundles is placed; one more bundle than the host has never is."""
    cpus = engine_info()["NCPU"]
    script = f"""
import ray
from ray.util.placement_group import placement_group, remove_placement_group
ray.init()
fits = placement_group([{{"CPU": 1}}] * {cpus})
print("FITS", fits.wait(60))
remove_placement_group(fits)
too_big = placement_group([{{"CPU": 1}}] * {cpus + 1})
print("TOO_BIG", too_big.wait(10))
"""
    job = submit_job(script)
    assert job["status"] == "SUCCEEDED", job["logs"][-2000:]
    assert "FITS True" in job["logs"] and "TOO_BIG False" in job["logs"], job["logs"][-2000:]


def test_diff_shows_the_settings_that_change(cold_site):
    result = run_runner("cluster", "--check", "--diff", "-e", json.dumps({"ray_cluster_worker_memory": "2G"}))
    assert result.rc == 0, result.stderr[-3000:]
    assert f"+    - --memory={2 * GIB}" in result.stderr
    assert f"+    memory: {2 * GIB + int(flag(inspect('ray-worker-1')['Config']['Cmd'], '--object-store-memory')) + GIB // 2}" \
        in result.stderr
    assert "-    memory: " in result.stderr


def test_site_starts_a_stopped_worker_and_checks_it_again(cold_site, mirror_vars):
    """A node stopped by hand: site starts that container only, and the restarted node gets a real check."""
    before = started_at()
    docker("stop", "ray-worker-1")
    result = run_runner("site", "-e", mirror_vars)
    assert result.rc == 0, result.stderr[-3000:]
    after = started_at()
    assert inspect("ray-worker-1")["State"]["Running"]
    assert after["ray-worker-1"][0] == before["ray-worker-1"][0], "started again, not recreated"
    assert {name: after[name] for name in ("ray-head", "ray-worker-2")} == \
        {name: before[name] for name in ("ray-head", "ray-worker-2")}
    check = result.summary["check"]
    assert check["passed"] and check["nodes_alive"] == 3
    assert check["reused"] is False, "a restarted node has a new node id: the old verdict does not cover it"


def test_a_container_changed_by_hand_is_put_back_with_compare_all(cold_site, mirror_vars):
    """The spec label says nothing about a container edited in place; ray_cluster_compare_all compares everything."""
    docker("update", "--restart", "no", "ray-worker-2")
    result = run_runner("cluster", "-e", mirror_vars, "-e", "ray_cluster_compare_all=true")
    assert result.rc == 0, result.stderr[-3000:]
    assert inspect("ray-worker-2")["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"


def test_down_removes_the_cluster_and_only_the_cluster(cold_site, image_ref):
    bystander = "ray-docker-e2e-bystander"
    docker("rm", "-f", bystander, check=False)
    docker("run", "-d", "--name", bystander, "--entrypoint", "sleep", image_ref, "600")
    try:
        token, engine = CONTROL_TOKEN.read_text(), Path("/var/run/docker.pid").read_text()
        result = run_runner("down")
        assert result.rc == 0, result.stderr[-3000:]
        assert CONTROL_TOKEN.read_text() == token and HOST_TOKEN.exists(), "the token stays"
        assert Path("/var/run/docker.pid").read_text() == engine and docker("info", check=False).returncode == 0, \
            "the engine stays, running"
        remaining = docker("ps", "-a", "--filter", "label=ray-docker.cluster", "--format", "{{.Names}}").stdout.split()
        assert remaining == []
        removed = [event["event_data"]["res"]["invocation"]["module_args"]["name"] for event in last_run_events()
                   if event["event"] == "runner_item_on_ok"
                   and event["event_data"].get("resolved_action") == "community.docker.docker_container"]
        assert removed[:2] == ["ray-worker-1", "ray-worker-2"] and "ray-head" in removed[2:], \
            f"the workers go before the head (a worker left after its head waits for Docker's kill): {removed}"
        assert inspect(bystander)["State"]["Running"]
        assert docker("network", "inspect", "ray", check=False).returncode != 0
        assert docker("image", "inspect", image_ref, check=False).returncode == 0, "images stay"
        assert run_runner("down").summary["changed"] == 0
    finally:
        docker("rm", "-f", bystander, check=False)
