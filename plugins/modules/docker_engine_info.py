#!/usr/bin/python
"""Ansible module: what a role needs to know about a host's Docker engine, in one read-only call."""

DOCUMENTATION = r"""
module: docker_engine_info
short_description: Read a host's Docker engine state, daemon.json and files in one call
version_added: 1.0.0
author: ray-docker maintainers
description:
  - Read-only, so it runs in check mode too. Talks to the engine's API directly (standard library only),
    which makes it work before the Docker SDK is installed and costs one module run instead of several.
  - The roles use it to skip every task that has nothing to do; changes stay with community.docker's modules.
options:
  docker_host:
    description: The engine's address (V(unix://) or plain V(tcp://)).
    type: str
    default: unix:///var/run/docker.sock
  info:
    description: Return the engine's C(docker info) as RV(host_info).
    type: bool
    default: true
  daemon_json:
    description: A daemon.json to read (its raw text; parsing is the role's job).
    type: path
  images:
    description: Image names to inspect.
    type: list
    elements: str
    default: []
  networks:
    description: Network names to inspect.
    type: list
    elements: str
    default: []
  volumes:
    description: Volume names to look up.
    type: list
    elements: str
    default: []
  container_label:
    description: List the containers carrying this label (V(key) or V(key=value)), by name.
    type: str
  files:
    description: Files to describe (exists, mode, uid, gid, sha256).
    type: list
    elements: path
    default: []
  inspect:
    description: Containers to inspect, their State and RestartCount (null when absent).
    type: list
    elements: str
    default: []
  logs_tail:
    description: Also return the last this many lines of each inspected container's log (0 for none).
    type: int
    default: 0
  require_engine:
    description: Fail when the engine does not answer (else report RV(engine_answers)=false).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Read the engine, its daemon.json and the cluster's containers in one call
  ray_docker.cluster.docker_engine_info:
    daemon_json: /etc/docker/daemon.json
    images: [rayproject/ray:2.60.0-py311-cpu]
    container_label: ray-docker.cluster=ray
  register: engine
"""

RETURN = r"""
engine_answers:
  description: Whether the engine answered.
  type: bool
  returned: always
engine_error:
  description: Why it did not.
  type: str
  returned: when the engine did not answer
host_info:
  description: The engine's /info answer.
  type: dict
  returned: when the engine answered and O(info) is true
daemon_json:
  description: The file's path, whether it exists and its raw text ('' when absent).
  type: dict
  returned: when O(daemon_json) is set
images:
  description: Name to the engine's /images/<name>/json answer, or null when absent.
  type: dict
  returned: when the engine answered
networks:
  description: Name to Id, Driver and Labels, or null when absent.
  type: dict
  returned: when the engine answered
volumes:
  description: Name to Name and Labels, or null when absent.
  type: dict
  returned: when the engine answered
containers:
  description: Name to Id, ImageID, State, Status and Labels.
  type: dict
  returned: when the engine answered
inspected:
  description: Name to State, RestartCount, Created and logs, or null when absent.
  type: dict
  returned: when the engine answered
files:
  description: Path to exists, mode, uid, gid and sha256.
  type: dict
  returned: always
python_requests:
  description: Whether this Python can import requests (community.docker's modules need it).
  type: bool
  returned: always
"""

import hashlib
import importlib.util
import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ray_docker.cluster.plugins.module_utils.docker_engine_api import EngineClient, EngineError


def describe_file(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {"exists": False}
    described = {"exists": True, "mode": "%04o" % stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
                 "directory": stat.S_ISDIR(st.st_mode)}
    if stat.S_ISREG(st.st_mode):
        with open(path, "rb") as handle:
            described["sha256"] = hashlib.sha256(handle.read()).hexdigest()
    return described


def read_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return {"path": path, "exists": True, "content": handle.read()}
    except FileNotFoundError:
        return {"path": path, "exists": False, "content": ""}


def main():
    module = AnsibleModule(
        argument_spec={
            "docker_host": {"type": "str", "default": "unix:///var/run/docker.sock"},
            "info": {"type": "bool", "default": True},
            "daemon_json": {"type": "path"},
            "images": {"type": "list", "elements": "str", "default": []},
            "networks": {"type": "list", "elements": "str", "default": []},
            "volumes": {"type": "list", "elements": "str", "default": []},
            "container_label": {"type": "str"},
            "files": {"type": "list", "elements": "path", "default": []},
            "require_engine": {"type": "bool", "default": False},
            "inspect": {"type": "list", "elements": "str", "default": []},
            "logs_tail": {"type": "int", "default": 0},
        },
        supports_check_mode=True,
    )
    params = module.params
    result = {"changed": False, "files": {}, "python_requests": importlib.util.find_spec("requests") is not None}
    try:
        for path in params["files"]:
            result["files"][path] = describe_file(path)
        if params["daemon_json"]:
            result["daemon_json"] = read_text(params["daemon_json"])
    except (OSError, UnicodeDecodeError) as exc:
        module.fail_json(msg=f"cannot read {exc.filename or 'a file'}: {exc}")

    try:
        client = EngineClient(params["docker_host"])
        info = client.info()  # also the liveness probe
        if params["info"]:
            result["host_info"] = info
        result["images"] = {name: client.image(name) for name in params["images"]}
        result["networks"] = {}
        for name in params["networks"]:
            network = client.network(name)
            result["networks"][name] = network and {key: network.get(key) for key in ("Id", "Driver", "Labels")}
        result["volumes"] = {}
        for name in params["volumes"]:
            volume = client.volume(name)
            result["volumes"][name] = volume and {key: volume.get(key) for key in ("Name", "Labels")}
        result["containers"] = {}
        if params["container_label"]:
            for name, row in client.containers(params["container_label"]).items():
                result["containers"][name] = {key: row.get(key) for key in ("Id", "ImageID", "State", "Status", "Labels")}
        result["inspected"] = {}
        for name in params["inspect"]:
            details = client.container(name)
            if details is not None:
                details = {key: details.get(key) for key in ("State", "RestartCount", "Created")}
                if params["logs_tail"] > 0:
                    details["logs"] = client.logs(name, params["logs_tail"])
            result["inspected"][name] = details
    except EngineError as exc:
        if exc.status is not None or params["require_engine"]:  # an engine error is always a real problem
            module.fail_json(msg=f"{exc}. Run the docker step first (runner.py docker)." if exc.status is None else str(exc))
        module.exit_json(engine_answers=False, engine_error=str(exc), **result)
    module.exit_json(engine_answers=True, **result)


if __name__ == "__main__":
    main()
