"""The engine under systemd, on a lab host whose PID 1 is systemd (Debian 12, Docker installed, neither
enabled nor running): started and enabled through the unit, a mirror change applied by `systemctl
reload` (same dockerd, same containers), and a daemon.json dockerd cannot start with rolled back even
after systemd gave up restarting the unit."""

import json

import pytest
import yaml

from tests import lab

from .conftest import run_runner

HOST = "raylab-host-0"


@pytest.fixture(scope="module")
def inventory():
    lab.remove_hosts()
    path = lab.ensure_hosts(1, suite="bookworm-systemd")
    yield str(path)
    lab.remove_hosts()


def systemctl(*args):
    return lab.host_exec(HOST, "systemctl", *args, check=False).stdout.strip()


def engine_pid():
    return systemctl("show", "--property", "MainPID", "--value", "docker.service")


def containers():
    """{name: started at} of the Ray containers on the host."""
    names = lab.host_exec(HOST, "docker", "ps", "-aq").stdout.split()
    rows = json.loads(lab.host_exec(HOST, "docker", "inspect", *names).stdout) if names else []
    return {row["Name"].lstrip("/"): row["State"]["StartedAt"] for row in rows}


def mirrors_in_use():
    out = lab.host_exec(HOST, "docker", "info", "--format", "{{json .RegistryConfig.Mirrors}}").stdout
    return [url.rstrip("/") for url in json.loads(out)]


def task_lines(result, task, status):
    return [line for line in result.stderr.splitlines() if task in line and f" {status} " in line]


@pytest.fixture(scope="module")
def deployed(inventory):
    assert lab.host_exec(HOST, "cat", "/proc/1/comm").stdout.strip() == "systemd"
    assert systemctl("is-active", "docker.service") != "active" and systemctl("is-enabled", "docker.service") == "disabled"
    result = run_runner("site", "-i", inventory)
    assert result.rc == 0, result.stderr[-5000:]
    return result


def test_site_starts_and_enables_the_engine_through_systemd(deployed):
    assert task_lines(deployed, "Start the engine with systemd", "changed")
    assert not task_lines(deployed, "Launch dockerd in the background", "changed"), "no detached dockerd"
    assert systemctl("is-active", "docker.service") == "active"
    assert systemctl("is-enabled", "docker.service") == "enabled", "it comes back after a reboot"
    assert deployed.summary["check"]["passed"] and deployed.summary["check"]["nodes_alive"] == 1


def test_a_mirror_change_is_reloaded_by_systemd_without_restarting_anything(deployed, inventory):
    mirror = yaml.safe_load(open(inventory))["all"]["vars"]["docker_registry_mirrors"][0]
    pid, before = engine_pid(), containers()
    second = "http://127.0.0.1:5001"
    result = run_runner("docker", "-i", inventory, "-e", json.dumps({"docker_registry_mirrors": [mirror, second]}))
    assert result.rc == 0, result.stderr[-3000:]
    assert task_lines(result, "Reload the engine with systemd", "changed")
    assert mirrors_in_use() == [mirror, second], "the engine uses the new setting"
    assert engine_pid() == pid and containers() == before, "reloaded: same dockerd, no container restarted"
    back = run_runner("docker", "-i", inventory)
    assert back.rc == 0 and mirrors_in_use() == [mirror] and engine_pid() == pid, back.stderr[-3000:]


def test_a_config_dockerd_cannot_start_with_is_rolled_back_under_systemd(deployed, inventory):
    """Docker 20.10 refuses a misspelt key only when it starts: the unit fails, systemd retries and gives up;
    the role puts the previous file back, clears the unit's failed state and starts it again."""
    before = lab.host_exec(HOST, "cat", "/etc/docker/daemon.json").stdout
    result = run_runner("docker", "-i", inventory, "-e", json.dumps({"docker_daemon_options": {"no-such-option": True}}))
    assert result.rc == 1
    assert f"The engine on {HOST} did not come back after applying /etc/docker/daemon.json" in result.stderr
    assert "The previous file was restored" in result.stderr and "`journalctl -u docker`" in result.stderr
    assert lab.host_exec(HOST, "cat", "/etc/docker/daemon.json").stdout == before
    assert systemctl("is-active", "docker.service") == "active"
    healed = run_runner("site", "-i", inventory)
    assert healed.rc == 0 and healed.summary["check"]["passed"], healed.stderr[-3000:]


def cache_pid():
    return systemctl("show", "--property", "MainPID", "--value", "ray-registry-cache.service")


def test_the_lan_cache_runs_under_systemd_restarts_on_a_change_and_is_purged_only_when_asked(deployed, inventory):
    """The cache asked for on this one host (registry_cache_min_hosts=1): a unit of its own, enabled, running as the
    package's user; the package's own registry (port 5000, pushes allowed) stopped and disabled."""
    one = ("-e", "registry_cache_min_hosts=1")
    result = run_runner("cache", "-i", inventory, *one)
    assert result.rc == 0, result.stderr[-3000:]
    assert systemctl("is-active", "ray-registry-cache.service") == "active"
    assert systemctl("is-enabled", "ray-registry-cache.service") == "enabled", "it comes back after a reboot"
    assert systemctl("show", "--property", "User", "--value", "ray-registry-cache.service") == "docker-registry"
    assert systemctl("is-active", "docker-registry.service") != "active"
    assert systemctl("is-enabled", "docker-registry.service") == "disabled"
    pid = cache_pid()
    again = run_runner("cache", "-i", inventory, *one)
    assert again.rc == 0 and again.summary["changed"] == 0 and cache_pid() == pid, again.stderr[-3000:]
    moved = run_runner("cache", "-i", inventory, *one, "-e", "registry_cache_port=5052")
    assert moved.rc == 0 and cache_pid() != pid, "a config change restarts it"
    assert lab.host_exec(HOST, "python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5052/v2/')",
                         check=False).returncode == 0, "and waits until it answers there"
    kept = run_runner("down", "-i", inventory, *one, "-e", "registry_cache_port=5052")
    assert kept.rc == 0 and systemctl("is-active", "ray-registry-cache.service") == "active", "down keeps the cache"
    purged = run_runner("down", "-i", inventory, *one, "-e", "registry_cache_purge=true")
    assert purged.rc == 0, purged.stderr[-3000:]
    assert systemctl("is-active", "ray-registry-cache.service") != "active"
    for path in ("/var/lib/ray-docker/registry-cache", "/etc/systemd/system/ray-registry-cache.service"):
        assert lab.host_exec(HOST, "test", "-e", path, check=False).returncode != 0, f"{path} is still there"
    # the last test of this module: the lab host is removed after it, so the cluster is not deployed again
