#!/usr/bin/python
"""Ansible module: a host's part of `runner.py logs`: its Ray nodes' logs and its containers' own logs, in one tar.gz."""

DOCUMENTATION = r"""
module: ray_logs_collect
short_description: A host's Ray logs and its containers' logs, in one tar.gz on the host
version_added: 1.1.0
author: ray-docker maintainers
description:
  - Read-only apart from the archive it writes. Takes each node's session logs from its data folder (newer than
    O(since)) and every container of the cluster's own output (C(docker logs), through the engine's API), into
    O(dest). The control node fetches it and makes one archive of every host's (ray_logs_bundle), where secrets
    are replaced.
options:
  data_root:
    description: The cluster's data folder on the host (<ray_cluster_data_dir>/<cluster>), one folder per node.
    type: path
    required: true
  container_label:
    description: The label of the cluster's containers.
    type: str
    required: true
  since:
    description: How far back (a duration such as 30m, 2h or 1d, by the host's clock); empty is everything.
    type: str
    default: ""
  dest:
    description: The archive to write on the host.
    type: path
    required: true
  docker_host:
    description: The engine's address.
    type: str
    default: unix:///var/run/docker.sock
"""

EXAMPLES = r"""
- name: Collect this host's logs
  ray_docker.cluster.ray_logs_collect:
    data_root: /var/lib/ray-docker/ray
    container_label: ray-docker.cluster=ray
    dest: /tmp/ray-docker-logs.tar.gz
"""

RETURN = r"""
members:
  description: What the archive holds, each C(member) (its name in the archive), C(bytes) and C(source).
  type: list
  elements: dict
  returned: always
bytes:
  description: The archive's size.
  type: int
  returned: always
"""

import io
import os
import shutil
import tarfile
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ray_docker.cluster.plugins.module_utils import logs_bundle
from ansible_collections.ray_docker.cluster.plugins.module_utils.docker_engine_api import EngineClient, EngineError


def add_bytes(archive, member, data, members, source):
    info = tarfile.TarInfo(member)
    info.size, info.mtime = len(data), int(time.time())
    archive.addfile(info, io.BytesIO(data))
    members.append({"member": member, "bytes": len(data), "source": source})


def add_file(archive, member, path, members):
    """A log as it is now, copied first (bounded memory; Ray and the keeper may grow or empty it meanwhile)."""
    with open(path, "rb") as handle, tempfile.TemporaryFile() as copy:
        shutil.copyfileobj(handle, copy)
        info = tarfile.TarInfo(member)
        info.size, info.mtime = copy.tell(), int(os.path.getmtime(path))
        copy.seek(0)
        archive.addfile(info, copy)
    members.append({"member": member, "bytes": info.size, "source": path})


def main():
    module = AnsibleModule(argument_spec={
        "data_root": {"type": "path", "required": True},
        "container_label": {"type": "str", "required": True},
        "since": {"type": "str", "default": ""},
        "dest": {"type": "path", "required": True},
        "docker_host": {"type": "str", "default": "unix:///var/run/docker.sock"},
    }, supports_check_mode=True)
    params, members = module.params, []
    back = logs_bundle.seconds(params["since"])
    since = time.time() - back if back else 0
    if module.check_mode:
        module.exit_json(changed=False, members=[], bytes=0)
    with tarfile.open(params["dest"], "w:gz") as archive:
        root = params["data_root"]
        for node in sorted(os.listdir(root)) if os.path.isdir(root) else []:
            top = os.path.join(root, node)
            for folder, _, files in os.walk(top):
                for name in sorted(files):
                    path = os.path.join(folder, name)
                    relative = os.path.relpath(path, top)
                    try:
                        stat = os.lstat(path)
                    except OSError:
                        continue
                    if os.path.islink(path) or not logs_bundle.wanted(relative, stat.st_mtime, since):
                        continue
                    try:
                        add_file(archive, f"ray/{node}/{relative}", path, members)
                    except OSError:
                        continue  # rotated away meanwhile
        try:
            client = EngineClient(params["docker_host"])
            for name in sorted(client.containers(params["container_label"])):
                text = client.logs(name, tail="all", since=since, timestamps=True)
                add_bytes(archive, f"docker/{name}.log", text.encode("utf-8"), members, f"docker logs {name}")
        except EngineError as exc:
            add_bytes(archive, "docker/ENGINE-NOT-ANSWERING.txt", str(exc).encode(), members, "the engine")
    module.exit_json(changed=True, members=members, bytes=os.path.getsize(params["dest"]))


if __name__ == "__main__":
    main()
