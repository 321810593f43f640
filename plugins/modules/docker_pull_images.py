#!/usr/bin/python
"""Ansible module: pull several images at once through the host's Docker engine, each with its own retries."""

DOCUMENTATION = r"""
module: docker_pull_images
short_description: Pull several images at once through the Docker engine, each retried on its own
version_added: 1.0.0
author: ray-docker maintainers
description:
  - Pulls every listed image in parallel in one module run (one thread per image), through the engine's API, so
    the engine's registry mirrors apply as for C(docker pull). A failed pull is retried on its own while the others
    go on. community.docker.docker_image_pull pulls one image per module run; starting several in the background
    and polling them costs a module run per image and per poll.
  - A pull that fails does not fail the task. Each outcome is in RV(results), and the caller decides which images
    are required. The task fails only when the engine cannot be reached at all.
  - Credentials for a registry come from the Docker CLI's config.json (in E(DOCKER_CONFIG), else C(~/.docker)),
    its inline C(auths) entries and credential helpers, as C(docker pull) reads them.
  - In check mode nothing is pulled; every listed image is reported as one that would be.
options:
  docker_host:
    description: The engine's address (V(unix://) or plain V(tcp://)).
    type: str
    default: unix:///var/run/docker.sock
  images:
    description: The images to pull, each with C(name) (V(repository:tag)), C(repository) and C(tag).
    type: list
    elements: dict
    required: true
  attempts:
    description: Tries per image, the first included.
    type: int
    default: 3
  delay:
    description: Seconds between the tries of one image.
    type: int
    default: 5
  timeout:
    description: Seconds one try of one image may take.
    type: int
    default: 900
"""

EXAMPLES = r"""
- name: Pull Ray and Redis at once
  ray_docker.cluster.docker_pull_images:
    images:
      - {name: "rayproject/ray:2.60.0-py311-cpu", repository: rayproject/ray, tag: 2.60.0-py311-cpu}
      - {name: "redis:7.0.15", repository: redis, tag: 7.0.15}
  register: pulled
"""

RETURN = r"""
results:
  description: One outcome per image, in the order given.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: The image (V(repository:tag)).
      type: str
    ok:
      description: Whether the engine has it now.
      type: bool
    changed:
      description: Whether its id changed (a new image, or a newer one for the same tag).
      type: bool
    id:
      description: Its image id, when pulled.
      type: str
    msg:
      description: Why the last try failed ('' on success).
      type: str
    attempts:
      description: Tries made.
      type: int
    seconds:
      description: Time spent on it, tries included.
      type: float
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ray_docker.cluster.plugins.module_utils import image_pull
from ansible_collections.ray_docker.cluster.plugins.module_utils.docker_engine_api import EngineClient, EngineError


def main():
    module = AnsibleModule(
        argument_spec={
            "docker_host": {"type": "str", "default": "unix:///var/run/docker.sock"},
            "images": {"type": "list", "elements": "dict", "required": True},
            "attempts": {"type": "int", "default": 3},
            "delay": {"type": "int", "default": 5},
            "timeout": {"type": "int", "default": 900},
        },
        supports_check_mode=True,
    )
    params = module.params
    images = params["images"]
    if module.check_mode:
        module.exit_json(changed=bool(images), results=[
            {"name": image["name"], "ok": True, "changed": True, "id": None, "msg": "", "attempts": 0, "seconds": 0.0}
            for image in images])
    try:
        EngineClient(params["docker_host"]).get_raw("/_ping")
    except EngineError as exc:
        module.fail_json(msg=f"{exc}. Start it first with the ray_docker.cluster.docker role (playbook ray_docker.cluster.docker).")
    results = image_pull.pull_all(params["docker_host"], images, max(params["attempts"], 1), params["delay"],
                                  params["timeout"])
    module.exit_json(changed=any(result["changed"] for result in results), results=results)


if __name__ == "__main__":
    main()
