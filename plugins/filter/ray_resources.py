"""Filter ray_host_resources: each Ray node's share of its host (logic in raydeploy/resources.py)."""



from ansible_collections.ray_docker.cluster.plugins.module_utils.resources import host_resources


def ray_host_resources(nodes, facts, variables):
    """{"nodes": this host's nodes with num_cpus, num_gpus, gpu_ids, memory, memory_limit, shm_bytes,
    object_store_bytes; "errors": [...]} from the host's ray_host facts and the ray_cluster_* variables."""
    return host_resources(nodes, facts, variables)


class FilterModule:
    def filters(self):
        return {"ray_host_resources": ray_host_resources}
