"""The read-only modules (docker_engine_info, and ray_host_facts, the run's snapshot) against the real engine and
host, compared with what the docker CLI and the kernel say."""

import json
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT, docker

ANSIBLE = str(Path(sys.executable).parent / "ansible")


def run_probe(args, module="ray_docker.cluster.docker_engine_info"):
    return subprocess.run([ANSIBLE, "localhost", "-o", "-m", module, "-a", json.dumps(args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def probe(args, module="ray_docker.cluster.docker_engine_info"):
    """Run the module like a role does and return its result."""
    proc = run_probe(args, module)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.split("=>", 1)[1])


def test_probe_matches_the_docker_cli(mirror, image_ref, tmp_path):
    docker("pull", image_ref)
    docker("rm", "-f", "facts-probe", check=False)
    docker("network", "rm", "facts-probe-net", check=False)
    docker("network", "create", "--label", "probe=1", "facts-probe-net")
    docker("create", "--name", "facts-probe", "--label", "facts-probe=yes", image_ref, "true")
    secret = tmp_path / "token"
    secret.write_text("abc")
    secret.chmod(0o600)
    try:
        result = probe({"daemon_json": str(tmp_path / "absent.json"), "images": [image_ref, "no/such:image"],
                        "networks": ["facts-probe-net", "no-such-net"], "container_label": "facts-probe=yes",
                        "files": [str(secret), str(tmp_path / "missing")]})
    finally:
        docker("rm", "-f", "facts-probe", check=False)
        docker("network", "rm", "facts-probe-net", check=False)
    assert result["engine_answers"] is True and result["changed"] is False
    info = json.loads(docker("info", "--format", "{{json .}}").stdout)
    assert result["host_info"]["MemTotal"] == info["MemTotal"]
    assert result["host_info"]["RegistryConfig"]["Mirrors"] == info["RegistryConfig"]["Mirrors"]
    image_id = docker("image", "inspect", "--format", "{{.Id}}", image_ref).stdout.strip()
    assert result["images"][image_ref]["Id"] == image_id and result["images"]["no/such:image"] is None
    assert result["networks"]["facts-probe-net"]["Labels"] == {"probe": "1"} and result["networks"]["no-such-net"] is None
    assert list(result["containers"]) == ["facts-probe"]
    assert result["containers"]["facts-probe"]["State"] == "created" and result["containers"]["facts-probe"]["ImageID"] == image_id
    described = result["files"][str(secret)]
    assert described["mode"] == "0600" and described["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert result["files"][str(tmp_path / "missing")] == {"exists": False}
    assert result["daemon_json"] == {"path": str(tmp_path / "absent.json"), "exists": False, "content": "",
                                     "encoding": "utf-8"}


def test_probe_reports_an_engine_that_does_not_answer(tmp_path):
    result = probe({"docker_host": f"unix://{tmp_path}/no.sock", "daemon_json": str(tmp_path / "d.json")})
    assert result["engine_answers"] is False and "not answering" in result["engine_error"]
    proc = run_probe({"docker_host": f"unix://{tmp_path}/no.sock", "require_engine": True})
    assert proc.returncode != 0 and "Start it first with the ray_docker.cluster.docker role" in proc.stdout


def test_the_snapshot_module_reads_the_host_and_the_engine_in_one_call(mirror, image_ref, tmp_path):
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text('{"debug": false}')
    result = probe({"engine": True, "daemon_json": str(daemon_json), "images": [image_ref],
                    "container_label": "ray-docker.cluster=no-such-cluster", "files": [str(daemon_json)]},
                   "ray_docker.cluster.ray_host_facts")
    host, engine = result["ansible_facts"]["ray_host"], result["ansible_facts"]["ray_snapshot"]
    route = subprocess.run(["ip", "-4", "route", "get", "192.0.2.1"], capture_output=True, text=True, check=True).stdout
    assert host["default_ipv4"] == route.split(" src ")[1].split()[0], "the address `ip route get` picks"
    assert host["cpus"] >= 1 and host["mem_total"] > 0 and host["wsl"] is False
    info = json.loads(docker("info", "--format", "{{json .}}").stdout)
    assert engine["engine_answers"] and engine["host_info"]["ServerVersion"] == info["ServerVersion"]
    assert "MemTotal" not in engine["host_info"], "the snapshot keeps only what the roles read"
    assert host["engine_os"] == info["OperatingSystem"]
    image_id = docker("image", "inspect", "--format", "{{.Id}}", image_ref).stdout.strip()
    assert engine["images"][image_ref] == {"Id": image_id} and engine["containers"] == {}
    assert engine["daemon_json"]["content"] == '{"debug": false}' and engine["files"][str(daemon_json)]["exists"]
