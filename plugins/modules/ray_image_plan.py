#!/usr/bin/python
# An action plugin of the collection (plugins/action/ray_image_plan.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: ray_image_plan
short_description: Plan a host's image loads and pulls, or judge their outcome
version_added: 1.0.0
author: ray-docker maintainers
description:
- The images a host runs (the Ray image everywhere, Redis on the head's host with head fault tolerance, Prometheus and Grafana
  on the monitoring host), those it lacks, those to load from a C(docker save) archive and those to pull.
- 'With O(pulled) it judges the pulls: a required image that could not be had stops the run naming it, the mirrors tried and
  what to do; an optional one (Prometheus, Grafana) is left out and the run ends degraded. The new image ids go into
  the snapshot of the host (fact C(ray_snapshot)).'
options:
  pulled:
    description: The RV(ray_docker.cluster.docker_pull_images#module:results) of the pull, to judge instead of planning.
    type: list
    elements: dict
  down:
    description: Plan `down` instead (the LAN registry's container to remove; images and its data stay).
    type: bool
    default: false
attributes:
  action:
    support: full
    description: Runs on the control node.
notes:
- 'An action plugin: it runs on the control node.'
"""

EXAMPLES = r"""
- name: Plan the images this host runs
  ray_docker.cluster.ray_image_plan:
  register: ray_image_plan
"""

RETURN = r"""
engine_answers:
  description: Whether the host's Docker engine answered (in check mode it may not; every image is then planned as missing).
  type: bool
  returned: unless O(pulled) is given
present:
  description: Image name to its Id on the host, null for an image it lacks (the names the snapshot looked up).
  type: dict
  returned: unless O(pulled) is given
missing:
  description: The images of RV(images) the host lacks.
  type: list
  elements: dict
  returned: unless O(pulled) is given
has_work:
  description: Whether anything is to be loaded or pulled here (or the engine is not running yet, in check mode).
  type: bool
  returned: success
images:
  description: Each image this host runs, with C(required) and its archive variable.
  type: list
  elements: dict
  returned: success
to_load:
  description: Images to load from archives.
  type: list
  elements: dict
  returned: success
to_pull:
  description: Images to pull.
  type: list
  elements: dict
  returned: success
to_build:
  description: On the derived image's build host, that image when it is missing (built, never pulled).
  type: list
  elements: dict
  returned: unless O(pulled) is given
to_pull_built:
  description: On the other hosts, the derived image when it is missing, pulled from the LAN registry once built.
  type: list
  elements: dict
  returned: unless O(pulled) is given
customized:
  description: Whether the nodes run an image derived from the pinned one (ray_image_pip_packages, ...).
  type: bool
  returned: unless O(pulled) is given
image:
  description: The image every node runs.
  type: str
  returned: unless O(pulled) is given
build_host:
  description: The host that builds the derived image ('' without one).
  type: str
  returned: unless O(pulled) is given
push:
  description: On the build host, whether to push the derived image into the LAN registry (built now, or another host
    lacks it).
  type: bool
  returned: unless O(pulled) is given
registry_remove:
  description: The LAN registry's container when it is on this host but no longer needed here (no packages, one host,
    or the build host moved), to remove; its volume stays.
  type: list
  elements: str
  returned: unless O(pulled) is given
prune:
  description: The project's built images on this host (derived images, users' Dockerfile stages) of earlier inputs that
    no node of the cluster runs, to remove, so that changing packages does not fill the disk; the image the nodes run
    (an upgrade's way back) is never among them.
  type: list
  elements: str
  returned: unless O(pulled) is given
down:
  description: With O(down), the role's containers on the host to remove (the LAN registry of a derived image).
  type: dict
  returned: O(down) is true
registry:
  description: On the build host of a lab, the LAN registry's container (container, image, port, address, volume, labels,
    log_options) and whether to start it (start); else empty.
  type: dict
  returned: unless O(pulled) is given
unavailable:
  description: Optional parts left out (O(pulled) given).
  type: list
  elements: str
  returned: success
pulled_now:
  description: With O(pulled), the images pulled in this run (the registry_cache role's report reads it).
  type: list
  elements: str
  returned: O(pulled) given
judged:
  description: With O(pulled), how many images' pulls were judged.
  type: int
  returned: O(pulled) given
notes:
  description: Why, and what to do, for each part left out.
  type: list
  elements: str
  returned: success
"""
