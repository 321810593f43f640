"""The project on a newer engine: a lab host running Debian 13 (Docker 26), over real SSH.

`dockerd --validate` guards daemon.json where the engine has it (Docker 23+): a config the engine
rejects is never written and the running engine is left alone; a valid change passes the same
check and is applied. Then `site` deploys a node there and its check passes: the roles' engine
queries and container settings work with Docker 26's API, not only with Debian 12's Docker 20.10,
which the other tests use and which has no --validate.
"""

import json

import pytest
import yaml

from tests import lab

from .conftest import run_runner

HOST = "raylab-host-0"


@pytest.fixture(scope="module")
def newer_engine():
    lab.remove_hosts()
    inventory = lab.ensure_hosts(1, suite="trixie")
    result = run_runner("docker", "-i", str(inventory))
    assert result.rc == 0, result.stderr[-5000:]
    yield inventory
    lab.remove_hosts()


def engine_state():
    config = lab.host_exec(HOST, "cat", "/etc/docker/daemon.json").stdout
    return config, lab.host_exec(HOST, "pgrep", "-x", "dockerd").stdout.split()


def options(values):
    return json.dumps({"docker_daemon_options": values})


def test_the_engine_can_validate_and_uses_the_mirror(newer_engine):
    version = lab.host_exec(HOST, "docker", "version", "--format", "{{.Server.Version}}").stdout.strip()
    assert int(version.split(".")[0]) >= 23, version
    assert lab.host_exec(HOST, "dockerd", "--validate", "--config-file", "/etc/docker/daemon.json").returncode == 0
    mirrors = json.loads(lab.host_exec(HOST, "docker", "info", "--format", "{{json .RegistryConfig.Mirrors}}").stdout)
    assert mirrors, "docker info lists no mirror"


def test_a_config_the_engine_rejects_is_never_written(newer_engine):
    before = engine_state()
    # Valid JSON, so only the engine itself can tell it is wrong.
    result = run_runner("docker", "-i", str(newer_engine), "-e", options({"no-such-option": True}))
    assert result.rc == 1
    failure = result.summary["failures"][0]["msg"]
    assert "no-such-option" in failure and "docker_daemon_options" in failure, failure
    assert engine_state() == before, "daemon.json or the engine changed"


def test_a_valid_change_passes_validation_and_is_applied(newer_engine):
    """A reloadable change (a second mirror): validated, written, and in use by the engine (docker info),
    without the engine restarting."""
    _, pid = engine_state()
    mirror = yaml.safe_load(newer_engine.read_text())["all"]["vars"]["docker_registry_mirrors"][0]
    second = "http://127.0.0.1:5001"
    result = run_runner("docker", "-i", str(newer_engine), "-e", json.dumps({"docker_registry_mirrors": [mirror, second]}))
    assert result.rc == 0, result.stderr[-3000:]
    assert result.summary["changed"] > 0
    config, pid_after = engine_state()
    assert json.loads(config)["registry-mirrors"] == [mirror, second]
    in_use = json.loads(lab.host_exec(HOST, "docker", "info", "--format", "{{json .RegistryConfig.Mirrors}}").stdout)
    assert [url.rstrip("/") for url in in_use] == [mirror, second], "the engine uses the new setting"
    assert pid_after == pid, "a reloadable key must not restart the engine"
    back = run_runner("docker", "-i", str(newer_engine))
    assert back.rc == 0, back.stderr[-3000:]


def test_site_on_docker_26_passes_the_check(newer_engine):
    result = run_runner("site", "-i", str(newer_engine))
    assert result.rc == 0, result.stderr[-5000:]
    check = result.summary["check"]
    assert check["passed"] and check["nodes_alive"] == 1 and check["nodes"][0]["node_name"] == f"ray-head@{HOST}"
    info = json.loads(lab.host_exec(HOST, "docker", "inspect", "ray-head").stdout)[0]
    assert info["State"]["Running"] and info["HostConfig"]["Init"] is True
    again = run_runner("site", "-i", str(newer_engine))
    assert again.rc == 0 and again.summary["changed"] == 0, again.stderr[-3000:]
