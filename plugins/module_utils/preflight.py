"""The checks that span variables, hosts and the hosts' own facts, before anything changes.

plugins/module_utils/settings.py checks each variable on its own (type, range, pattern); the settings
check (plugins/action/ray_settings_check.py) runs that and then these, in two steps:

- `value_problems`, per host, from its typed values alone (before any host is contacted);
- `cluster_problems` and `fit_problems`, once per run, with every host's values and the probe's facts.

Every message names the variable or the host at fault.
"""

from ansible_collections.ray_docker.cluster.plugins.module_utils import ports, topology
from ansible_collections.ray_docker.cluster.plugins.module_utils.resources import host_resources
from ansible_collections.ray_docker.cluster.plugins.module_utils.wsl import wslconfig_memory_advice

# `ray start` flags the ray_cluster role sets from its own variables: the same flag twice makes Ray
# refuse to start (or silently take the last one).
OWNED_FLAGS = {
    "--head": "the inventory's ray_head group", "--address": "the head's address",
    "--node-name": "the plan", "--node-ip-address": "ray_node_ip_address", "--block": "the role",
    "--num-cpus": "ray_cluster_head_num_cpus/ray_cluster_worker_num_cpus",
    "--num-gpus": "ray_cluster_host_gpus and ray_cluster_head_num_gpus/ray_cluster_worker_num_gpus",
    "--memory": "ray_cluster_head_memory/ray_cluster_worker_memory",
    "--object-store-memory": "ray_cluster_object_store_memory/ray_cluster_object_store_fraction",
    "--dashboard-host": "the role", "--disable-usage-stats": "the role",
    "--temp-dir": "ray_cluster_data_dir (each node's /tmp/ray is its data folder)",
    "--object-spilling-directory": "ray_cluster_spill_dir",
    **ports.flag_owners(),
}
# Token authentication is always on; these would switch it off or point it elsewhere.
OWNED_ENV = {"RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_TOKEN"}


def dynamic_range_problems(values, why):
    """Pinned ports (and the worker range) inside Windows' dynamic port range, where Hyper-V and WSL's mirrored
    networking reserve blocks at each boot: a Ray node on a Windows PC could not bind them."""
    low, high = ports.WINDOWS_DYNAMIC_PORTS
    errors = [f"{name}={port}: must be below {low} ({why}: Windows keeps {low}-{high} for itself)"
              for name, port in sorted(ports.pinned(values).items()) if port >= low]
    top = values.get("ray_max_worker_port")
    if isinstance(top, int) and top >= low:
        errors.append(f"ray_max_worker_port={top}: must be below {low} ({why}: Windows keeps {low}-{high} for itself)")
    return errors


def value_problems(values, ray_hosts, known_flags=None, resolvable=lambda host: True, windows_pcs=()):
    """Problems one host's typed values have among themselves (no host needs to answer for these).

    `ray_hosts`: the inventory's Ray hosts; `known_flags`: every flag `ray start` takes (None when the control
    node has no Ray to ask); `resolvable(name)`: whether the control node can resolve a host name;
    `windows_pcs`: the inventory's Windows PCs (group windows_wsl)."""
    errors = []
    if windows_pcs:
        errors += dynamic_range_problems(values, "the inventory has Windows PCs")
    for arg in values.get("ray_cluster_extra_start_args") or []:
        flag = str(arg).split("=", 1)[0]
        if flag in OWNED_FLAGS:
            errors.append(f"ray_cluster_extra_start_args: {flag} is set by the role from {OWNED_FLAGS[flag]}; set that instead")
        elif known_flags is not None and flag not in known_flags:
            errors.append(f"ray_cluster_extra_start_args: `ray start` has no flag {flag} (see `ray start --help`)")
    for name in sorted(set(values.get("ray_cluster_env") or {}) & OWNED_ENV):
        errors.append(f"ray_cluster_env: {name} is set by the role (token authentication is always on)")
    for name in ("docker_registry_mirrors", "docker_insecure_registries"):
        key = name.replace("docker_", "").replace("_", "-")
        if values.get(name) and key in (values.get("docker_daemon_options") or {}):
            errors.append(f"docker_daemon_options sets {key!r} and {name} sets it too: set it in one place")
    tag, version = values.get("ray_image_tag"), values.get("ray_version")
    if isinstance(tag, str) and isinstance(version, str) and (tag == "latest" or version not in tag):
        errors.append(f"ray_image_tag={tag} must be a pinned tag that contains ray_version={version}, so that every host "
                      "and the control node run the same Ray")
    if "ray_min_worker_port" in values and "ray_max_worker_port" in values:
        errors += [f"Port problem: {error}" for error in ports.collisions(values)]
    monitoring_host = values.get("ray_monitoring_host")
    if values.get("ray_monitoring_enabled") and monitoring_host and monitoring_host not in ray_hosts:
        errors.append(f"ray_monitoring_host={monitoring_host} must be one of the Ray hosts ({', '.join(ray_hosts)}): "
                      "Prometheus and Grafana run beside a node")
    cache_host = values.get("registry_cache_host")
    if values.get("registry_cache_enabled") and cache_host and cache_host not in ray_hosts:
        errors.append(f"registry_cache_host={cache_host} must be one of the Ray hosts ({', '.join(ray_hosts)}): "
                      "the cache runs beside a node")
    url = values.get("ray_dashboard_url")
    if url:
        from urllib.parse import urlsplit

        name = urlsplit(url).hostname or ""
        if not resolvable(name):
            errors.append(f"ray_dashboard_url={url!r}: the control node cannot resolve {name!r}")
    return errors


def fit_problems(values, facts, nodes):
    """(problems, resources) of one host's Ray nodes against what the host has (the probe's facts)."""
    errors = dynamic_range_problems(values, "this host is a WSL distribution") if facts.get("wsl") else []
    nofile, hard = values.get("ray_cluster_nofile_limit") or 0, facts.get("nofile_hard")
    if hard and nofile > hard:
        errors.append(f"ray_cluster_nofile_limit={nofile}: must be at most the host's hard limit of open files "
                      f"({hard}, `ulimit -Hn` as root): the containers would not start")
    errors += disk_problems(values, facts)
    resources = {}
    if nodes and facts.get("cpus"):
        resources = host_resources(nodes, facts, values)
        errors += resources["errors"]
        if facts.get("wsl") and resources.get("memory_errors"):
            errors.append(wslconfig_memory_advice(facts["mem_total"], resources["host"]["min_memory"],
                                                  facts.get("wslconfig", "")))
    return errors, resources


GB = 10 ** 9


def disk_problems(values, facts):
    """Docker's root or the nodes' data folder with less free space than ray_cluster_min_free_gb (the probe's statvfs
    of each, or of the nearest folder that exists): images, logs and spills would fill it."""
    wanted = values.get("ray_cluster_min_free_gb")
    if not wanted:
        return []
    problems = []
    for key, what in (("docker_root", "Docker's root"), ("data_root", "ray_cluster_data_dir")):
        disk = (facts.get("disk") or {}).get(key) or {}
        if disk.get("free") is not None and disk["free"] < wanted * GB:
            problems.append(f"{what} {disk['path']} has {disk['free'] / GB:.1f} GB free of {disk['total'] / GB:.1f} GB "
                            f"(on {disk['checked']}), below ray_cluster_min_free_gb={wanted:g}: free some space, or lower "
                            "it on purpose")
    return problems


def inventory_problems(head_hosts, worker_hosts, node_counts, requested_mode):
    """The inventory's topology, before any host is contacted: one head, no host in both groups, one node per host
    with host networking."""
    return [f"Inventory problem: {error}" for error in
            topology.topology_errors(head_hosts, worker_hosts, node_counts, requested_mode)]


def cluster_problems(head_hosts, worker_hosts, hosts, requested_mode, require_all, unreachable, failed, pending=()):
    """Problems of the cluster once each host was read: which hosts answer, Docker Desktop in a cluster of several
    hosts, two hosts claiming one node address. `hosts`: topology host dicts (with their facts).

    `pending`: Ray hosts that are a Windows PC's distribution being set up in this run: they are checked
    again once their PC's play has made them answer."""
    problems = []
    head = head_hosts[0] if len(head_hosts) == 1 else ""
    problems += topology.reachability_problems(
        head, [host for host in unreachable if host not in pending], failed, require_all)
    if topology.network_mode(head_hosts, worker_hosts, requested_mode) == "host":
        desktop = [host for host, data in hosts.items() if topology.is_docker_desktop(data.get("facts"))]
        if desktop:
            problems.append(
                f"{', '.join(desktop)} runs Docker Desktop, whose host network is Desktop's own VM, not the PC's network: "
                "the other hosts could not reach its Ray node. For a lab of Windows PCs, run Docker Engine inside each "
                "PC's WSL distribution with mirrored networking (README, \"A lab of Windows PCs\"), or deploy this PC as "
                "a cluster of its own.")
        clashes = topology.duplicate_addresses({host: topology.node_address(data) for host, data in hosts.items()})
        if clashes:
            claims = "; ".join(f"{address} is claimed by {' and '.join(names)}" for address, names in clashes.items())
            problems.append(f"Hosts share a Ray node address: {claims}. Set ray_node_ip_address per host.")
    return problems
