"""The options of the collection's read-only engine queries (docker_engine_info, ray_host_facts)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  docker_host:
    description: The engine's address (V(unix://) or plain V(tcp://)).
    type: str
    default: unix:///var/run/docker.sock
  images:
    description: Image names to look up.
    type: list
    elements: str
    default: []
  networks:
    description: Network names to look up.
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
    description: Files and folders to describe (exists, mode, uid, gid, sha256).
    type: list
    elements: path
    default: []
"""
