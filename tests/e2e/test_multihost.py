"""Multi-host deployment over real SSH to lab hosts (Debian containers with their own engine).

In file order: preflight errors on fresh hosts (nothing may change), then a cold `site` on
1 head + 2 workers, a re-run, a 4th host joining, a one-node variable change and `down --limit`.
"""

import hashlib
import json
from datetime import datetime

import pytest
import yaml

from tests import lab

from .conftest import run_runner

HEAD = "raylab-host-0"


@pytest.fixture(scope="module")
def fresh_hosts():
    """Three lab hosts that start like new machines: engine installed, not running, no image."""
    lab.remove_hosts()
    inventory = lab.ensure_hosts(3)
    yield inventory
    lab.remove_hosts()


def load(path):
    return yaml.safe_load(path.read_text())


def write_inventory(tmp_path, data, name="inventory.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


def host_state(name):
    """What a failed preflight must leave alone on a host: daemon.json, dockerd, containers."""
    config = lab.host_exec(name, "cat", "/etc/docker/daemon.json", check=False).stdout
    dockerd = lab.host_exec(name, "pgrep", "-x", "dockerd", check=False).returncode == 0
    return hashlib.sha256(config.encode()).hexdigest(), dockerd


def ray_containers(name):
    """{container: (id, started at)} of the Ray containers on a lab host ({} while its engine is down)."""
    listing = lab.host_exec(name, "docker", "ps", "-aq", "--filter", "label=ray-docker.cluster", check=False)
    names = listing.stdout.split()
    if listing.returncode != 0 or not names:
        return {}
    rows = json.loads(lab.host_exec(name, "docker", "inspect", *names).stdout)
    return {row["Name"].lstrip("/"): (row["Id"], row["State"]["StartedAt"]) for row in rows}


def docker_time(value):
    """Docker's RFC 3339 timestamps (nanoseconds, trailing zeros trimmed) as datetimes."""
    stamp, _, fraction = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{stamp}.{(fraction + '000000')[:6]}")


def all_ray_containers(hosts):
    return {host: ray_containers(host) for host in hosts}


def hosts_of(inventory):
    data = load(inventory)["all"]["children"]
    return list(data["ray_head"]["hosts"]) + list((data["ray_workers"].get("hosts") or {}))


def address(inventory, host):
    data = load(inventory)["all"]["children"]
    return {**data["ray_head"]["hosts"], **(data["ray_workers"].get("hosts") or {})}[host]["ansible_host"]


@pytest.mark.parametrize("case", ["two heads", "host in both groups", "duplicate node IP", "port out of range",
                                  "ports collide", "unreachable worker"])
def test_preflight_errors_name_the_culprit_and_change_nothing(fresh_hosts, tmp_path, case):
    data = load(fresh_hosts)
    groups = data["all"]["children"]
    extra = []
    if case == "two heads":
        groups["ray_head"]["hosts"]["raylab-host-1"] = groups["ray_workers"]["hosts"].pop("raylab-host-1")
        needle = "group ray_head must hold exactly one host (found: raylab-host-0, raylab-host-1)"
    elif case == "host in both groups":
        groups["ray_workers"]["hosts"][HEAD] = dict(groups["ray_head"]["hosts"][HEAD])
        needle = "host raylab-host-0 is in both ray_head and ray_workers"
    elif case == "duplicate node IP":
        groups["ray_workers"]["hosts"]["raylab-host-2"]["ray_node_ip_address"] = address(fresh_hosts, "raylab-host-1")
        needle = f"{address(fresh_hosts, 'raylab-host-1')} is claimed by raylab-host-1 and raylab-host-2"
    elif case == "port out of range":
        extra = ["-e", json.dumps({"ray_object_manager_port": 70000})]
        needle = "ray_object_manager_port=70000 is out of range"
    elif case == "ports collide":
        extra = ["-e", json.dumps({"ray_metrics_export_port": 6379})]
        needle = "ray_metrics_export_port=6379 collides with ray_gcs_port"
    else:
        groups["ray_workers"]["hosts"]["raylab-ghost"] = {"ansible_host": "127.0.0.1", "ansible_port": 1}
        needle = "FAILED raylab-ghost: Learn the host's default IPv4 address"
    before = {host: host_state(host) for host in hosts_of(fresh_hosts)}
    result = run_runner("site", "-i", write_inventory(tmp_path, data), *extra)
    assert result.rc == 1
    assert needle in result.stderr, result.stderr[-3000:]
    if case == "unreachable worker":
        assert "port 1: Connection refused" in result.stderr
        assert result.summary["hosts"]["raylab-ghost"]["unreachable"] == 1
    else:
        assert "Nothing was changed" in result.stderr
    assert {host: host_state(host) for host in before} == before
    assert not any(ray_containers(host) for host in before)


def test_check_mode_on_fresh_hosts_reports_changes_and_changes_nothing(fresh_hosts):
    before = {host: host_state(host) for host in hosts_of(fresh_hosts)}
    result = run_runner("site", "-i", str(fresh_hosts), "--check", "--diff")
    assert result.rc == 0, result.stderr[-3000:]
    assert result.summary["changed"] > 0
    assert "+++ after: /etc/docker/daemon.json" in result.stderr
    assert {host: host_state(host) for host in before} == before
    assert not any(ray_containers(host) for host in before)


@pytest.fixture(scope="module")
def deployed(fresh_hosts):
    result = run_runner("site", "-i", str(fresh_hosts))
    assert result.rc == 0, result.stderr[-5000:]
    return result


def test_site_on_three_hosts_puts_one_node_on_each_host_ip(fresh_hosts, deployed):
    check = deployed.summary["check"]
    assert check["passed"] and check["nodes_expected"] == 3 and check["nodes_alive"] == 3
    expected = {"ray-head@raylab-host-0": address(fresh_hosts, "raylab-host-0"),
                "ray-worker-1@raylab-host-1": address(fresh_hosts, "raylab-host-1"),
                "ray-worker-1@raylab-host-2": address(fresh_hosts, "raylab-host-2")}
    assert {node["node_name"]: node["ip"] for node in check["nodes"]} == expected
    assert deployed.summary["dashboard_url"] == f"http://{address(fresh_hosts, HEAD)}:8265"
    # the head first, then the workers (of every host at once)
    head_started = docker_time(ray_containers(HEAD)["ray-head"][1])
    for host in ("raylab-host-1", "raylab-host-2"):
        created = lab.host_exec(host, "docker", "inspect", "-f", "{{.Created}}", "ray-worker-1").stdout.strip()
        assert docker_time(created) >= head_started, host
    for host in hosts_of(fresh_hosts):
        # one node per host keeps the whole host: all its CPUs, all its RAM but the host's reserve
        container = "ray-head" if host == HEAD else "ray-worker-1"
        info = json.loads(lab.host_exec(host, "docker", "inspect", container).stdout)[0]
        engine = json.loads(lab.host_exec(host, "docker", "info", "--format", "{{json .}}").stdout)
        assert f"--num-cpus={engine['NCPU']}" in info["Config"]["Cmd"], host
        reserved = max(2**30, int(engine["MemTotal"] * 0.1)) // 2**20 * 2**20
        assert engine["MemTotal"] - reserved - info["HostConfig"]["Memory"] < 2**20, host
        mode, uid, gid = lab.host_exec(host, "stat", "-c", "%a %u %g", "/etc/ray-docker/ray/auth_token").stdout.split()
        assert (mode, uid, gid) == ("600", "1000", "100"), host
        mirrors = lab.host_exec(host, "docker", "info", "--format", "{{json .RegistryConfig.Mirrors}}").stdout
        assert load_mirror(fresh_hosts) in mirrors, host


def load_mirror(inventory):
    return load(inventory)["all"]["vars"]["docker_registry_mirrors"][0]


def test_second_site_changes_and_restarts_nothing(fresh_hosts, deployed):
    before = all_ray_containers(hosts_of(fresh_hosts))
    result = run_runner("site", "-i", str(fresh_hosts))
    assert result.rc == 0, result.stderr[-3000:]
    assert result.summary["changed"] == 0, [line for line in result.stderr.splitlines() if " changed " in line]
    assert result.summary["check"]["passed"]
    assert all_ray_containers(hosts_of(fresh_hosts)) == before


def test_a_fourth_host_joins_and_nothing_else_restarts(fresh_hosts, deployed):
    before = all_ray_containers(hosts_of(fresh_hosts))
    inventory = lab.ensure_hosts(4)
    result = run_runner("site", "-i", str(inventory))
    assert result.rc == 0, result.stderr[-3000:]
    assert result.summary["check"]["nodes_alive"] == 4 and result.summary["check"]["passed"]
    assert {host: ray_containers(host) for host in before} == before
    assert all(result.summary["hosts"][host]["changed"] == 0 for host in before)
    assert result.summary["hosts"]["raylab-host-3"]["changed"] > 0


def test_a_variable_of_one_node_recreates_only_that_container(fresh_hosts, deployed, tmp_path):
    inventory = lab.ensure_hosts(4)
    before = all_ray_containers(hosts_of(inventory))
    override = write_inventory(tmp_path, {"all": {"hosts": {"raylab-host-2": {"ray_cluster_worker_num_cpus": 1}}}},
                               "override.yml")
    result = run_runner("cluster", "-i", str(inventory), "-i", override)
    assert result.rc == 0, result.stderr[-3000:]
    after = all_ray_containers(hosts_of(inventory))
    assert after["raylab-host-2"] != before["raylab-host-2"]
    assert {h: c for h, c in after.items() if h != "raylab-host-2"} == {h: c for h, c in before.items() if h != "raylab-host-2"}
    command = json.loads(lab.host_exec("raylab-host-2", "docker", "inspect", "ray-worker-1").stdout)[0]["Config"]["Cmd"]
    assert "--num-cpus=1" in command


def test_down_limit_removes_only_that_hosts_node(fresh_hosts, deployed):
    inventory = lab.ensure_hosts(4)
    result = run_runner("down", "-i", str(inventory), "--limit", "raylab-host-3")
    assert result.rc == 0, result.stderr[-3000:]
    assert ray_containers("raylab-host-3") == {}
    assert all(ray_containers(host) for host in ["raylab-host-0", "raylab-host-1", "raylab-host-2"])
    status = run_runner("status", "-i", str(inventory)).summary["cluster"]
    assert sorted(status["alive"]) == ["ray-head@raylab-host-0", "ray-worker-1@raylab-host-1", "ray-worker-1@raylab-host-2"]
    assert status["missing"] == ["ray-worker-1@raylab-host-3"]


def test_a_single_remote_host_is_checked_from_the_control_node(fresh_hosts):
    """One remote host: a bridge network there, its dashboard reachable from the control node."""
    inventory = lab.ensure_hosts(1)
    result = run_runner("site", "-i", str(inventory), "-e", json.dumps({"ray_node_count": 2}))
    assert result.rc == 0, result.stderr[-3000:]
    check = result.summary["check"]
    assert check["passed"] and check["nodes_alive"] == 2
    assert result.summary["dashboard_url"] == f"http://{address(inventory, HEAD)}:8265"
    assert set(ray_containers(HEAD)) == {"ray-head", "ray-worker-1"}
