"""The docker role on a machine without Docker, over real SSH: it installs Debian's engine, starts it
without systemd, points it at the mirror and proves the mirror works; a re-run changes nothing.

The lab host image ships docker.io (so the multi-host tests start fast); here it is purged first,
so the role meets a machine that never had an engine.
"""

import json

import pytest
import yaml

from tests import lab

from .conftest import run_runner

HOST = "raylab-host-0"
ENGINE_PACKAGES = ["docker.io", "containerd", "runc"]


@pytest.fixture(scope="module")
def machine_without_docker():
    lab.remove_hosts()
    inventory = lab.ensure_hosts(1)
    lab.host_exec(HOST, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "purge", "-y", "-q", *ENGINE_PACKAGES)
    assert lab.host_exec(HOST, "sh", "-c", "command -v dockerd", check=False).returncode != 0
    yield inventory
    lab.remove_hosts()


def mirror_of(inventory):
    return yaml.safe_load(inventory.read_text())["all"]["vars"]["docker_registry_mirrors"]


@pytest.fixture(scope="module")
def installed(machine_without_docker):
    result = run_runner("docker", "-i", str(machine_without_docker))
    assert result.rc == 0, result.stderr[-5000:]
    return result


def test_the_role_installs_starts_and_configures_the_engine(installed, machine_without_docker):
    assert installed.summary["hosts"][HOST]["changed"] > 0
    for package in ENGINE_PACKAGES:
        status = lab.host_exec(HOST, "dpkg-query", "-W", "-f", "${Status}", package).stdout
        assert status == "install ok installed", (package, status)
    assert lab.host_exec(HOST, "pgrep", "-x", "dockerd", check=False).returncode == 0
    mirrors = mirror_of(machine_without_docker)
    config = json.loads(lab.host_exec(HOST, "cat", "/etc/docker/daemon.json").stdout)
    assert config["registry-mirrors"] == mirrors
    listed = json.loads(lab.host_exec(HOST, "docker", "info", "--format", "{{json .RegistryConfig.Mirrors}}").stdout)
    assert [url.rstrip("/") for url in listed] == mirrors


def test_the_new_engine_pulls_through_the_mirror(installed):
    repository, tag, _ = lab.pinned_image()
    pulled = lab.host_exec(HOST, "docker", "pull", "-q", f"{repository}:{tag}", check=False)
    assert pulled.returncode == 0, pulled.stderr


def test_a_re_run_changes_nothing(installed, machine_without_docker):
    pid = lab.host_exec(HOST, "pgrep", "-x", "dockerd").stdout.split()
    result = run_runner("docker", "-i", str(machine_without_docker))
    assert result.rc == 0, result.stderr[-3000:]
    assert result.summary["changed"] == 0
    assert lab.host_exec(HOST, "pgrep", "-x", "dockerd").stdout.split() == pid, "the engine was restarted"
