"""README promises that need a fresh machine, on one lab host (Debian 12, Docker installed, not running):
offline image archives, the SysV start path and its fallback, an engine restored after a config it
cannot start with, -K for a sudo password, and the python3-venv message of the first run."""

import json
import subprocess
import sys

import pytest
import yaml

from tests import lab

from .conftest import ROOT, docker, run_runner

HOST = "raylab-host-0"
DEAD_MIRROR = "http://127.0.0.1:1"  # nothing listens there: every pull would fail


@pytest.fixture(scope="module")
def host():
    lab.remove_hosts()
    inventory = lab.ensure_hosts(1)
    yield yaml.safe_load(inventory.read_text())
    lab.remove_hosts()


def inventory_file(tmp_path, lab_inventory, host_vars=None, all_vars=None, name="inventory.yml"):
    data = json.loads(json.dumps(lab_inventory))
    data["all"]["vars"].update(all_vars or {})
    data["all"]["children"]["ray_head"]["hosts"][HOST].update(host_vars or {})
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture(scope="module")
def archives(healthy_cluster, tmp_path_factory):
    """`docker save` archives of every image a deployment pulls, made on this machine's engine."""
    folder = tmp_path_factory.mktemp("archives")
    repository, tag, _ = lab.pinned_image()
    names = {"ray_image_archive": f"{repository}:{tag}", "ray_image_redis_archive": "redis:7.0.15",
             "ray_image_prometheus_archive": "prom/prometheus:v2.53.3"}
    paths = {}
    for variable, image in names.items():
        paths[variable] = str(folder / f"{variable}.tar")
        docker("save", image, "-o", paths[variable])
    return paths


def test_offline_hosts_load_every_image_from_archives_and_start_through_the_sysv_fallback(host, archives, tmp_path):
    """No registry reachable at all (a dead mirror, no Docker Hub): the images come from `docker save`
    archives on the control node. The engine is started through its SysV script, which fails here
    (`ulimit -n` beyond root's hard limit), and the role falls back to a detached dockerd."""
    inventory = inventory_file(tmp_path, host, all_vars={"docker_registry_mirrors": [DEAD_MIRROR], **archives})
    result = run_runner("site", "-i", inventory)
    assert result.rc == 0, result.stderr[-5000:]
    assert result.summary["check"]["passed"]
    lines = result.stderr.splitlines()
    assert any("Run `service docker start`" in line and "failed" in line for line in lines), "the SysV script ran"
    assert any("Launch dockerd in the background" in line and "changed" in line for line in lines), "then the fallback"
    assert result.summary["hosts"][HOST]["failed"] == 0 and result.summary["hosts"][HOST]["rescued"] == 1
    assert lab.host_exec(HOST, "test", "-f", "/var/log/dockerd.log").returncode == 0
    loaded = [line for line in lines if "Load the archive into the engine" in line and "changed" in line]
    assert len(loaded) == 3, "Ray, Redis and Prometheus all came from their archives"
    assert not any("Pull the images" in line and "changed" in line for line in lines), "nothing was pulled"


def test_an_engine_that_cannot_start_with_the_new_config_gets_the_old_one_back(host, tmp_path):
    """Docker 20.10 cannot validate daemon.json: a misspelt key, which it refuses at start, is applied, the
    engine does not come back, and the role restores the previous file and starts it again. The wait is
    shortened from its default 60 s (the engine exits at once; the restored one answers within seconds here)."""
    inventory = inventory_file(tmp_path, host, all_vars={"docker_registry_mirrors": [DEAD_MIRROR]})
    before = lab.host_exec(HOST, "cat", "/etc/docker/daemon.json").stdout
    result = run_runner("docker", "-i", inventory, "-e", json.dumps({"docker_daemon_options": {"no-such-option": True},
                                                                     "docker_ready_timeout": 15}))
    assert result.rc == 1
    assert f"The engine on {HOST} did not come back after applying /etc/docker/daemon.json" in result.stderr
    assert "The previous file was restored" in result.stderr
    assert lab.host_exec(HOST, "cat", "/etc/docker/daemon.json").stdout == before
    assert lab.host_exec(HOST, "docker", "info", check=False).returncode == 0, "the engine answers again"


@pytest.fixture(scope="module")
def deploy_user(host):
    """A user who may sudo with a password (the lab key lets it in over SSH)."""
    script = ("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sudo >/dev/null "
              "&& useradd -m -s /bin/bash deploy && echo deploy:s3cret | chpasswd && adduser -q deploy sudo "
              "&& mkdir -p /home/deploy/.ssh && cp /root/.ssh/authorized_keys /home/deploy/.ssh/ "
              "&& chown -R deploy: /home/deploy/.ssh")
    lab.host_exec(HOST, "sh", "-c", script)
    return "deploy"


def test_a_sudo_password_is_asked_with_minus_k(host, deploy_user, tmp_path):
    inventory = inventory_file(tmp_path, host, all_vars={"ansible_user": deploy_user, "ansible_become": True,
                                                         "docker_registry_mirrors": [DEAD_MIRROR]})
    without = run_runner("preflight", "-i", inventory)
    assert without.rc == 1 and "Missing sudo password" in without.stderr, without.stderr[-2000:]
    assert "Traceback" not in without.stderr + without.stdout
    proc = subprocess.run([sys.executable, str(ROOT / "runner.py"), "preflight", "-i", inventory, "-K"], cwd=ROOT,
                          input="s3cret\n", capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_the_first_run_without_python3_venv_says_how_to_get_it(host):
    """A user without sudo on a machine whose python3 lacks venv support (Debian and Ubuntu ship it apart)."""
    lab.host_exec(HOST, "sh", "-c", "id novenv >/dev/null 2>&1 || useradd -m novenv")
    copy = subprocess.run(f"tar -C {ROOT} --exclude=./.venv --exclude=./.git --exclude=./.artifacts -c . "
                          f"| docker exec -i {HOST} sh -c 'mkdir -p /home/novenv/ray-docker && tar -x -C /home/novenv/ray-docker "
                          "&& chown -R novenv: /home/novenv/ray-docker'", shell=True, capture_output=True, text=True)
    assert copy.returncode == 0, copy.stderr
    result = lab.host_exec(HOST, "su", "novenv", "-c", "cd ~/ray-docker && python3 runner.py status", check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "runner.py: error: could not create" in result.stderr and "sudo apt-get install -y python3-venv" in result.stderr
