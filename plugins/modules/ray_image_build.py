#!/usr/bin/python
# An action plugin of the collection (plugins/action/ray_image_build.py) runs this task; this file only documents it
# for ansible-doc.

DOCUMENTATION = r"""
module: ray_image_build
short_description: Build the nodes' image with the user's packages on its build host, and share it over the LAN
version_added: 1.1.0
author: ray-docker maintainers
description:
- Makes the build contexts on the control node from the ray_image_* settings and the files they name (the user's
  Dockerfile's folder, the packages' Dockerfile, one requirements.txt, the CA bundle, the record of the modules to
  import), sends them to the host and builds them there through the engine (module docker_build_image), FROM the
  pinned Ray image; with O(push), pushes the image into the LAN registry for the other hosts.
- Runs only on the derived image's build host (the LAN cache's host in a lab, else the head's host).
- A failed build fails the task naming the culprit (the package pip or apt could not install, a version conflict, an
  untrusted certificate, an unreachable index) with the build's last lines.
options:
  build:
    description: Build (false, the image is there already and is only pushed).
    type: bool
    default: true
  push:
    description: Push the image into the LAN registry afterwards.
    type: bool
    default: false
attributes:
  action:
    support: full
    description: Makes the contexts on the control node, builds on the host.
  check_mode:
    support: full
    description: Builds nothing.
notes:
- 'An action plugin: it runs on the control node and transfers the contexts to the host.'
"""

EXAMPLES = r"""
- name: Build the nodes' image and push it into the LAN registry
  ray_docker.cluster.ray_image_build:
    push: true
"""

RETURN = r"""
image:
  description: The derived image's name.
  type: str
  returned: success
image_id:
  description: Its id.
  type: str
  returned: success
pushed:
  description: Whether it was pushed.
  type: bool
  returned: success
seconds:
  description: How long the build and the push took.
  type: float
  returned: success
stages:
  description: Each stage built (tag, seconds).
  type: list
  elements: dict
  returned: success
culprit:
  description: What made the build fail, in one phrase.
  type: str
  returned: failure
"""
