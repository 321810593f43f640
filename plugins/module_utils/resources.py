"""How the Ray nodes that share a host split its CPUs, GPUs and memory.

Used by the ray_host_resources filter (the cluster role's plan) and by the preflight's settings check,
so that a host that cannot hold its nodes is refused before anything changes.

Each node's `ray start --num-cpus/--num-gpus/--memory` defaults to its share of the host, so the
cluster's totals equal what the machines have and Ray's scheduler, not the kernel's OOM killer,
decides what runs. Each container's Docker memory limit holds its Ray memory, its object store
(which lives in the container's /dev/shm and is charged to it) and Ray's own processes.
"""

from ansible.module_utils.common.text.formatters import human_to_bytes

MIB = 1024 ** 2
GIB = 1024 ** 3
# Ray refuses an object store below 75 MiB.
MIN_OBJECT_STORE_BYTES = 75 * MIB
# Ray's own processes in each container (raylet and agents; the head adds the GCS and the dashboard).
# Idle Ray 2.60 nodes use about 0.26 GiB (worker) and 0.68 GiB (head); this leaves room for them to grow.
SYSTEM_MEMORY = {"head": GIB, "worker": GIB // 2}
# Left to the host itself (kernel, engine, sshd) when ray_cluster_reserved_memory is empty:
# a tenth of its RAM, at least 1 GiB.
MIN_RESERVED_MEMORY = GIB
RESERVED_FRACTION = 0.1
# Below this a node could not run a single ordinary task.
MIN_TASK_MEMORY = 256 * MIB


def _mib_floor(value):
    return int(value) // MIB * MIB


def shm_bytes(mem_total_bytes, containers_on_host, fraction=0.3):
    """/dev/shm per container: `fraction` of the host's RAM shared by its Ray containers, in whole MiB."""
    return _mib_floor(int(mem_total_bytes) * float(fraction) / max(1, containers_on_host))


def reserved_memory(mem_total, reserved=None):
    """Memory the Ray containers leave to the host: the given size, else a tenth of RAM (at least 1 GiB)."""
    if reserved is not None:
        return int(reserved)
    return _mib_floor(max(MIN_RESERVED_MEMORY, int(mem_total) * RESERVED_FRACTION))


def split_whole(total, roles, explicit):
    """Whole units (CPUs, GPUs) per node: explicit values as given, the rest of `total` shared.

    Ray takes whole numbers only. The remainder of the division goes to workers first, in plan
    order, and to the head last: the head also runs the GCS and the dashboard.
    """
    shares = list(explicit)
    free = [index for index, value in enumerate(explicit) if value is None]
    if not free:
        return shares
    rest = max(0, int(total) - sum(value for value in explicit if value is not None))
    base, extra = divmod(rest, len(free))
    for rank, index in enumerate(sorted(free, key=lambda i: roles[i] == "head")):
        shares[index] = base + (1 if rank < extra else 0)
    return shares


def settings_from_variables(facts, variables):
    """The split's inputs from the host's facts (ray_host_facts) and the ray_cluster_* variables."""
    def size(name):
        value = variables.get(name)
        return None if value in (None, "") else int(human_to_bytes(str(value), isbits=False))

    def whole(name):
        value = variables.get(name)
        return None if value in (None, "") else int(value)

    return {
        "cpus": int(facts["cpus"]),
        "mem_total": int(facts["mem_total"]),
        "gpus": int(variables.get("ray_cluster_host_gpus") or 0),
        "head_num_cpus": whole("ray_cluster_head_num_cpus"),
        "worker_num_cpus": whole("ray_cluster_worker_num_cpus"),
        "head_num_gpus": whole("ray_cluster_head_num_gpus"),
        "worker_num_gpus": whole("ray_cluster_worker_num_gpus"),
        "head_memory": size("ray_cluster_head_memory"),
        "worker_memory": size("ray_cluster_worker_memory"),
        "shm_size": size("ray_cluster_shm_size"),
        "shm_fraction": float(variables.get("ray_cluster_shm_fraction", 0.3)),
        "object_store_memory": size("ray_cluster_object_store_memory"),
        "object_store_fraction": float(variables.get("ray_cluster_object_store_fraction", 0.8)),
        "reserved_memory": size("ray_cluster_reserved_memory"),
        "overcommit": bool(variables.get("ray_cluster_overcommit")),
    }


def host_resources(nodes, facts, variables):
    """`split` with its inputs taken from the host's facts and the ray_cluster_* variables."""
    return split(nodes, settings_from_variables(facts, variables))


def split(nodes, settings):
    """Resources of the Ray nodes of one host, and what is wrong with them.

    `nodes`: this host's nodes from ray_node_plan (head first). `settings`: see settings_from_variables
    (sizes in bytes, None when unset).

    Returns {"nodes": [node + num_cpus, num_gpus, gpu_ids, memory, memory_limit, shm_bytes,
    object_store_bytes], "errors": [...], "host": {...}}. Errors name the host and the variables.
    """
    nodes = list(nodes or [])
    if not nodes:
        return {"nodes": [], "errors": [], "host": {}}
    host = nodes[0]["host"]
    roles = [node["role"] for node in nodes]
    count = len(nodes)
    cpus, gpus, mem_total = int(settings["cpus"]), int(settings.get("gpus") or 0), int(settings["mem_total"])
    overcommit = bool(settings.get("overcommit"))
    errors = []

    def per_role(name):
        return [settings.get(f"{role}_{name}") for role in roles]

    num_cpus = split_whole(cpus, roles, per_role("num_cpus"))
    num_gpus = split_whole(gpus, roles, per_role("num_gpus"))
    if not overcommit and sum(num_cpus) > cpus:
        errors.append(f"host {host}: ray_cluster_head_num_cpus/ray_cluster_worker_num_cpus give its {count} Ray node(s) "
                      f"{sum(num_cpus)} CPUs, but it has {cpus}: lower them, or set ray_cluster_overcommit=true "
                      "to over-commit on purpose")
    if not overcommit and sum(num_gpus) > gpus:
        errors.append(f"host {host}: ray_cluster_head_num_gpus/ray_cluster_worker_num_gpus give its Ray node(s) "
                      f"{sum(num_gpus)} GPUs, but ray_cluster_host_gpus says it has {gpus}: lower them, or set "
                      "ray_cluster_overcommit=true")

    shm_size = settings.get("shm_size")
    shm = _mib_floor(shm_size) if shm_size else shm_bytes(mem_total, count, settings.get("shm_fraction", 0.3))
    store_size = settings.get("object_store_memory")
    if store_size:
        object_store = _mib_floor(store_size)
        if object_store > shm:
            errors.append(f"host {host}: ray_cluster_object_store_memory ({object_store // MIB} MiB) does not fit in "
                          f"/dev/shm ({shm // MIB} MiB per container): raise ray_cluster_shm_size or lower it")
    else:
        object_store = _mib_floor(shm * float(settings.get("object_store_fraction", 0.8)))
    if object_store < MIN_OBJECT_STORE_BYTES:
        errors.append(f"host {host}: the object store would be {object_store // MIB} MiB, below Ray's minimum of 75 MiB: "
                      "raise ray_cluster_shm_size or ray_cluster_shm_fraction")

    reserved = reserved_memory(mem_total, settings.get("reserved_memory"))
    usable = mem_total - reserved
    explicit = per_role("memory")
    limits = [None if memory is None else int(memory) + object_store + SYSTEM_MEMORY[role]
              for memory, role in zip(explicit, roles)]
    free = [index for index, limit in enumerate(limits) if limit is None]
    if free:
        share = _mib_floor(max(0, usable - sum(limit for limit in limits if limit is not None)) // len(free))
        for index in free:
            limits[index] = share
    memory = [int(explicit[i]) if explicit[i] is not None else limits[i] - object_store - SYSTEM_MEMORY[roles[i]]
              for i in range(count)]
    for index in free:
        if memory[index] < MIN_TASK_MEMORY:
            errors.append(
                f"host {host}: {nodes[index]['container']} would have {max(memory[index], 0) // MIB} MiB for tasks "
                f"once its object store ({object_store // MIB} MiB) and Ray's own processes are counted "
                f"({mem_total // MIB} MiB on the host, {reserved // MIB} MiB left to it): lower ray_cluster_shm_fraction "
                "or ray_node_count, or set ray_cluster_head_memory/ray_cluster_worker_memory")
            break
    if not overcommit and sum(limits) > usable:
        errors.append(f"host {host}: its Ray containers would need {sum(limits) // MIB} MiB (Ray memory + object store "
                      f"+ Ray's own processes), but {usable // MIB} MiB of its {mem_total // MIB} MiB are left after "
                      f"ray_cluster_reserved_memory ({reserved // MIB} MiB): lower ray_cluster_head_memory/"
                      "ray_cluster_worker_memory, or set ray_cluster_overcommit=true")

    gpu_ids, next_gpu = [], 0
    for amount in num_gpus:
        gpu_ids.append([str(next_gpu + offset) for offset in range(amount)])
        next_gpu += amount
    planned = [
        dict(node, num_cpus=num_cpus[i], num_gpus=num_gpus[i], gpu_ids=gpu_ids[i], memory=memory[i],
             memory_limit=limits[i], shm_bytes=shm, object_store_bytes=object_store)
        for i, node in enumerate(nodes)
    ]
    # The least RAM this plan fits in: what a WSL2 user must give the WSL VM.
    min_memory = reserved + sum(object_store + SYSTEM_MEMORY[role] + (int(explicit[i]) if explicit[i] is not None else MIN_TASK_MEMORY)
                                for i, role in enumerate(roles))
    return {
        "nodes": planned,
        "errors": errors,
        "memory_errors": any("MiB" in error for error in errors),
        "host": {"host": host, "cpus": cpus, "gpus": gpus, "mem_total": mem_total, "reserved_memory": reserved,
                 "min_memory": min_memory},
    }
