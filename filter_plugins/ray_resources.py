"""Filter ray_host_resources: each Ray node's share of its host (logic in raydeploy/resources.py)."""

import sys
from pathlib import Path

PROJECT_ROOT = str(Path(__file__).resolve().parents[1])
if PROJECT_ROOT not in sys.path:  # the raydeploy package sits next to this folder
    sys.path.insert(0, PROJECT_ROOT)

from raydeploy.resources import host_resources  # noqa: E402


def ray_host_resources(nodes, facts, variables):
    """{"nodes": this host's nodes with num_cpus, num_gpus, gpu_ids, memory, memory_limit, shm_bytes,
    object_store_bytes; "errors": [...]} from the host's ray_host facts and the ray_cluster_* variables."""
    return host_resources(nodes, facts, variables)


class FilterModule:
    def filters(self):
        return {"ray_host_resources": ray_host_resources}
