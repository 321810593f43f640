#!/usr/bin/python
# An action plugin of the collection (plugins/action/docker_plan.py) runs this task on the control node; this file
# only documents it for ansible-doc.

DOCUMENTATION = r"""
module: docker_plan
short_description: Plan the Docker engine's daemon.json on a host, or verify its mirrors
version_added: 1.0.0
author: ray-docker maintainers
description:
- 'Reads the run''s snapshot of the host (ray_docker.cluster.ray_host_facts), or asks the host once when the role runs on
  its own: whether an engine answers and whose it is (Docker Desktop''s or one on the host), its daemon.json and its mirrors.
  Plans the merged daemon.json (the user''s keys kept; a file that is not valid JSON or not UTF-8 is never touched) and how
  a running engine takes it (reload or restart).'
- For Docker Desktop it plans a restart when the Windows-side daemon.json changes or its engine does not use the mirrors yet,
  and the commands that restart Desktop from inside WSL.
- With O(verify=true) it checks that the engine reports every mirror of C(docker_registry_mirrors).
options:
  verify:
    description: Check the engine's mirrors instead of planning.
    type: bool
    default: false
  fresh:
    description: Ask the host again instead of reading the run's snapshot (after a restart).
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
- name: Plan the engine's daemon.json
  ray_docker.cluster.docker_plan:
  register: docker_plan
"""

RETURN = r"""
has_work:
  description: Whether anything is to be done here (install, start, write daemon.json, restart Desktop); without work the plan has already checked that the engine uses the mirrors.
  type: bool
  returned: success
kind:
  description: C(desktop) or C(engine).
  type: str
  returned: success
engine_answers:
  description: Whether the host's Docker engine answered when it was read (the run's snapshot, or a fresh read).
  type: bool
  returned: unless O(verify)
python_requests:
  description: Whether the host's Python can import requests, which community.docker's modules need (installed otherwise).
  type: bool
  returned: unless O(verify)
config_file:
  description: The daemon.json the engine reads, as this host reaches it.
  type: str
  returned: success
desired:
  description: The merged daemon.json.
  type: dict
  returned: success
config_changed:
  description: Whether the file must be written.
  type: bool
  returned: success
apply:
  description: How a running engine takes it, C(none), C(reload) or C(restart).
  type: str
  returned: success
restart_needed:
  description: Docker Desktop must restart to read its daemon.json.
  type: bool
  returned: Docker Desktop
desktop:
  description:
    - Docker Desktop's daemon.json as Windows names it (C(windows_file), C(%USERPROFILE%\.docker\daemon.json)) and the ways
      to restart Desktop from inside WSL, first to last (C(restart), a list of C(name) and C(argv)).
  type: dict
  returned: Docker Desktop
mirrors_missing:
  description: Configured mirrors the engine does not report.
  type: list
  elements: str
  returned: success
"""
