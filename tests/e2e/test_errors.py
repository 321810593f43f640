"""Bad input fails with a clear message naming the variable or host, before anything changes."""

import hashlib
import json
import textwrap

from pathlib import Path

import pytest

from .conftest import DAEMON_JSON, docker, run_runner


ENGINE_PIDFILE = Path("/var/run/docker.pid")


def fingerprint():
    """What a failed run must not touch: daemon.json and the set of containers."""
    content = DAEMON_JSON.read_bytes() if DAEMON_JSON.exists() else b""
    containers = docker("ps", "-aq", "--no-trunc").stdout.split()
    return hashlib.sha256(content).hexdigest(), sorted(containers)


def assert_no_traceback(result):
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def two_heads(tmp_path):
    path = tmp_path / "two-heads.yml"
    path.write_text(textwrap.dedent("""\
        all:
          vars: {ansible_connection: local}
          children:
            ray_head: {hosts: {alpha: {}, beta: {}}}
            ray_workers: {hosts: {beta: {}}}
    """))
    return path


def test_bad_mirror_url_names_the_variable(mirror):
    before = fingerprint()
    result = run_runner("site", "-e", json.dumps({"docker_registry_mirrors": ["mirror.example:5000/path"]}))
    assert result.rc == 1 and result.summary["status"] == "failed"
    assert "docker_registry_mirrors[0]='mirror.example:5000/path': must be scheme://host[:port] with scheme http or https and no path" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert fingerprint() == before
    assert_no_traceback(result)


def test_inventory_with_two_heads_and_a_host_in_both_groups(mirror, two_heads):
    before = fingerprint()
    result = run_runner("site", "-i", str(two_heads))
    assert result.rc == 1
    assert "group ray_head must hold exactly one host (found: alpha, beta)" in result.stderr
    assert "host beta is in both ray_head and ray_workers" in result.stderr
    assert result.summary["failures"][0]["host"] == "alpha", "refused on the control node, before any host is contacted"
    assert fingerprint() == before
    assert_no_traceback(result)


def test_unreachable_host_is_reported_with_its_name(tmp_path, mirror):
    inventory = tmp_path / "unreachable.yml"
    inventory.write_text(textwrap.dedent("""\
        all:
          children:
            ray_head:
              hosts:
                ghost: {ansible_host: 127.0.0.1, ansible_port: 1, ansible_user: root}
    """))
    result = run_runner("docker", "-i", str(inventory))
    assert result.rc == 1
    assert result.summary["hosts"]["ghost"]["unreachable"] == 1
    assert result.summary["failures"][0]["host"] == "ghost"
    assert result.summary["failures"][0]["outcome"] == "unreachable"
    assert "ghost" in result.stderr and "Connection refused" in result.stderr
    assert_no_traceback(result)


def test_bad_option_and_bad_extra_vars_are_usage_errors():
    result = run_runner("site", "--frobnicate")
    assert result.rc == 2 and "unrecognized arguments: --frobnicate" in result.stderr
    result = run_runner("site", "-e", "{not json")
    assert result.rc == 2 and "neither JSON nor YAML" in result.stderr
    assert_no_traceback(result)


def test_broken_daemon_json_is_never_replaced(mirror, mirror_vars):
    original = DAEMON_JSON.read_bytes() if DAEMON_JSON.exists() else None
    broken = b'{"log-driver": "json-file",\n "registry-mirrors": [\n'
    DAEMON_JSON.parent.mkdir(exist_ok=True)
    DAEMON_JSON.write_bytes(broken)
    engine_pid_before = ENGINE_PIDFILE.read_text()
    try:
        result = run_runner("docker", "-e", mirror_vars)
        assert result.rc == 1
        assert "/etc/docker/daemon.json is not valid JSON" in result.stderr
        assert DAEMON_JSON.read_bytes() == broken
        assert ENGINE_PIDFILE.read_text() == engine_pid_before, "the engine must not be restarted"
    finally:
        if original is None:
            DAEMON_JSON.unlink()
        else:
            DAEMON_JSON.write_bytes(original)


def test_extra_vars_of_one_run_do_not_leak_into_the_next():
    result = run_runner("preflight", "-e", json.dumps({"ray_image_tag": "latest"}))
    assert result.rc == 1 and "ray_image_tag=latest must be a pinned tag" in result.stderr
    result = run_runner("preflight")
    assert result.rc == 0, result.stderr[-2000:]
