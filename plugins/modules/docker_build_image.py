#!/usr/bin/python
"""Ansible module: build an image through the host's Docker engine from context archives, then push it."""

DOCUMENTATION = r"""
module: docker_build_image
short_description: Build an image in stages through the Docker engine, then push it
version_added: 1.1.0
author: ray-docker maintainers
description:
  - Builds each stage from its context archive (a tar holding a C(Dockerfile)) through the engine's API, in order,
    then pushes the last tag when O(push) names it. No docker CLI or BuildKit is needed on the host.
  - A failed step does not raise a Python error; the task fails with C(stage) (the tag being built, or V(push)),
    C(error) and C(log_tail), the build output's last lines, for the caller to name the culprit.
  - In check mode nothing is built.
options:
  docker_host:
    description: The engine's address (V(unix://) or plain V(tcp://)).
    type: str
    default: unix:///var/run/docker.sock
  stages:
    description: The builds, in order, each with C(context) (a tar on the host), C(tag) and C(buildargs).
    type: list
    elements: dict
    required: true
  push:
    description: The image to push after the builds (V(registry:port/repository:tag)); empty, none.
    type: str
    default: ""
  timeout:
    description: Seconds the builds and the push may take together.
    type: int
    default: 1800
"""

EXAMPLES = r"""
- name: Build the derived image and push it into the LAN registry
  ray_docker.cluster.docker_build_image:
    stages:
      - {context: /tmp/ray-docker-build/packages.tar, tag: "10.0.0.5:5051/ray-docker/ray:2.60.0-py311-cpu-0123456789ab",
         buildargs: {BASE_IMAGE: "rayproject/ray:2.60.0-py311-cpu"}}
    push: "10.0.0.5:5051/ray-docker/ray:2.60.0-py311-cpu-0123456789ab"
"""

RETURN = r"""
image_id:
  description: The id of the last stage's image.
  type: str
  returned: success
stages:
  description: Each stage built, with tag, seconds and log_tail.
  type: list
  elements: dict
  returned: success
pushed:
  description: Whether the image was pushed.
  type: bool
  returned: success
seconds:
  description: How long the builds and the push took.
  type: float
  returned: success
stage:
  description: The stage that failed (its tag), or V(push).
  type: str
  returned: failure
error:
  description: The engine's message for the failed step.
  type: str
  returned: failure
log_tail:
  description: The failed build's last lines of output.
  type: list
  elements: str
  returned: failure
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ray_docker.cluster.plugins.module_utils import image_build
from ansible_collections.ray_docker.cluster.plugins.module_utils.docker_engine_api import EngineClient, EngineError


def main():
    module = AnsibleModule(argument_spec={
        "docker_host": {"type": "str", "default": "unix:///var/run/docker.sock"},
        "stages": {"type": "list", "elements": "dict", "required": True},
        "push": {"type": "str", "default": ""},
        "timeout": {"type": "int", "default": 1800},
    }, supports_check_mode=True)
    params = module.params
    if module.check_mode:
        module.exit_json(changed=True, image_id="", stages=[], pushed=False, seconds=0.0)
    try:
        EngineClient(params["docker_host"]).get_raw("/_ping")
        result = image_build.run(params["docker_host"], params["stages"], params["push"], params["timeout"])
    except image_build.BuildError as exc:
        module.fail_json(msg=str(exc), stage=getattr(exc, "stage", ""), error=str(exc), log_tail=exc.log_tail)
    except EngineError as exc:
        module.fail_json(msg=str(exc), stage="", error=str(exc), log_tail=[])
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()
