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
extends_documentation_fragment:
  - ray_docker.cluster.engine_query
options:
  info:
    description: Return the engine's C(docker info) as RV(host_info).
    type: bool
    default: true
  daemon_json:
    description: A daemon.json to read (its raw text; parsing is the role's job).
    type: path
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
  description: Name to the image's Id, or null when absent.
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ray_docker.cluster.plugins.module_utils import host_state


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
    result = {"changed": False, "python_requests": host_state.python_requests()}
    try:
        result["files"] = host_state.read_files(params["files"])
        if params["daemon_json"]:
            result["daemon_json"] = host_state.read_text(params["daemon_json"])
    except OSError as exc:
        module.fail_json(msg=f"cannot read {exc.filename or 'a file'}: {exc}")
    try:
        state = host_state.engine_state(params["docker_host"], params["images"], params["networks"], params["volumes"],
                                        params["container_label"], params["inspect"], params["logs_tail"], full_info=True)
    except host_state.EngineError as exc:
        if exc.status is not None or params["require_engine"]:  # an engine error is always a real problem
            module.fail_json(msg=f"{exc}. Start it first with the ray_docker.cluster.docker role (playbook ray_docker.cluster.docker)." if exc.status is None else str(exc))
        module.exit_json(engine_answers=False, engine_error=str(exc), **result)
    if not params["info"]:
        state.pop("host_info")
    module.exit_json(engine_answers=True, **result, **state)


if __name__ == "__main__":
    main()
