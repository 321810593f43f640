"""Filters that turn the inventory into a Ray cluster plan.

Which containers run on which host, what they are called, how much shared memory each gets
and the exact `ray start` command: all derived from inventory variables alone, so that every
play (deploy, check, status, down) computes the same answer without facts from earlier runs.
"""



from ansible_collections.ray_docker.cluster.plugins.module_utils.specs import SPEC_LABEL, with_spec_digest

try:
    from ansible.errors import AnsibleFilterError
except ImportError:  # unit tests import this file without Ansible on the path
    AnsibleFilterError = ValueError


def _hosts(head_hosts, worker_hosts):
    """Head first, then workers, each host once, inventory order kept."""
    seen = []
    for host in list(head_hosts or []) + list(worker_hosts or []):
        if host not in seen:
            seen.append(host)
    return seen


def ray_resolve_network_mode(head_hosts, worker_hosts, requested="auto"):
    """'bridge' when the whole cluster lives on one host, else 'host' networking."""
    if requested in ("bridge", "host"):
        return requested
    return "bridge" if len(_hosts(head_hosts, worker_hosts)) <= 1 else "host"


def ray_topology_errors(head_hosts, worker_hosts, hostvars, default_count=1, requested_mode="auto"):
    """Everything wrong with the inventory's Ray topology, one message per problem."""
    head_hosts, worker_hosts = list(head_hosts or []), list(worker_hosts or [])
    errors = []
    if len(head_hosts) != 1:
        found = ", ".join(head_hosts) or "none"
        errors.append(f"group ray_head must hold exactly one host (found: {found})")
    for host in head_hosts:
        if host in worker_hosts:
            errors.append(f"host {host} is in both ray_head and ray_workers: a host is either the head or a worker")
    mode = ray_resolve_network_mode(head_hosts, worker_hosts, requested_mode)
    multi_host = len(_hosts(head_hosts, worker_hosts)) > 1
    if mode == "bridge" and multi_host:
        errors.append("ray_network_mode=bridge only works with one host: nodes on other hosts cannot reach "
                      "containers on a bridge network; use host networking")
    for host in _hosts(head_hosts, worker_hosts):
        count = (hostvars.get(host) or {}).get("ray_node_count", default_count)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            errors.append(f"host {host}: ray_node_count must be a whole number >= 1 (got {count!r})")
        elif mode == "host" and count != 1:
            errors.append(f"host {host}: ray_node_count={count}, but with host networking each host runs exactly one Ray node")
    return errors


def ray_port_errors(ports, min_worker_port, max_worker_port):
    """Port variables out of range, sharing a port, or inside the worker port range."""
    errors = []
    values = {}
    for name, value in sorted((ports or {}).items()):
        try:
            port = int(value)
        except (TypeError, ValueError):
            errors.append(f"{name}={value!r} is not a port number")
            continue
        if not 1 <= port <= 65535:
            errors.append(f"{name}={port} is out of range (1-65535)")
        elif port in values:
            errors.append(f"{name}={port} collides with {values[port]}")
        elif int(min_worker_port) <= port <= int(max_worker_port):
            errors.append(f"{name}={port} lies in the worker port range "
                          f"ray_min_worker_port..ray_max_worker_port ({min_worker_port}-{max_worker_port})")
        values.setdefault(port, name)
    low, high = int(min_worker_port), int(max_worker_port)
    if not (1 <= low < high <= 65535):
        errors.append(f"ray_min_worker_port={low} and ray_max_worker_port={high} must satisfy 1 <= min < max <= 65535")
    return errors


def ray_probe_outcome(hosts, hostvars, register, outcome):
    """Hosts whose registered probe result was `outcome`: 'unreachable', or 'failed' (and reachable)."""
    found = []
    for host in hosts or []:
        try:
            result = (hostvars.get(host) or {}).get(register) or {}
        except Exception:  # a host outside this run (--limit) has no result to template
            continue
        unreachable = bool(result.get("unreachable"))
        if (outcome == "unreachable" and unreachable) or (outcome == "failed" and result.get("failed") and not unreachable):
            found.append(host)
    return found


def ray_reachability_problems(head_host, unreachable, failed, require_all=False):
    """Why the run must stop before any change: the head does not answer, any host does not answer
    while ray_require_all_hosts is true, or a host failed the probe. [] when the run may go on."""
    problems = []
    if head_host in (unreachable or []):
        problems.append(f"The head {head_host} does not answer: the cluster cannot be deployed without it.")
    if require_all and unreachable:
        problems.append(f"Hosts that do not answer: {', '.join(unreachable)} (ray_require_all_hosts is true).")
    if failed:
        problems.append(f"Hosts that failed the probe: {', '.join(failed)}.")
    return problems


def _probe(hostvars, host):
    try:
        return (hostvars.get(host) or {}).get("ray_host") or {}
    except Exception:  # a host outside this run has no facts to template
        return {}


def ray_docker_desktop_hosts(hosts, hostvars):
    """Hosts whose engine is Docker Desktop's (it says so), or whose Desktop integration is there while no
    engine answers (Desktop not started)."""
    found = []
    for host in hosts or []:
        facts = _probe(hostvars, host)
        desktop = str(facts.get("engine_os") or "").startswith("Docker Desktop")
        if desktop or (facts.get("docker_desktop_integration") and not facts.get("engine_os")):
            found.append(host)
    return found


def ray_platforms(hosts, hostvars):
    """{host: 'WSL2, Docker Desktop'} for the hosts worth naming in the recap (WSL, Docker Desktop)."""
    platforms = {}
    desktop = set(ray_docker_desktop_hosts(hosts, hostvars))
    for host in hosts or []:
        facts = _probe(hostvars, host)
        parts = [f"WSL{facts['wsl_version']}"] if facts.get("wsl") else []
        if host in desktop:
            parts.append("Docker Desktop")
        elif facts.get("wsl"):
            parts.append("Docker Engine in the distribution")
        if parts:
            platforms[host] = ", ".join(parts)
    return platforms


def ray_node_addresses(hosts, hostvars):
    """{host: the address its Ray node advertises with host networking} ('' when unknown)."""
    addresses = {}
    for host in hosts or []:
        vars_ = hostvars.get(host) or {}
        facts = vars_.get("ansible_facts") or {}
        addresses[host] = vars_.get("ray_node_ip_address") or (facts.get("default_ipv4") or {}).get("address", "")
    return addresses


def ray_duplicate_addresses(addresses):
    """{address: [hosts]} for node addresses claimed by more than one host.

    Hosts whose address is not known in this play ('') are left out: a play limited to the head
    has not learned the workers' addresses, and the preflight play learns all of them.
    """
    by_address = {}
    for host, address in sorted((addresses or {}).items()):
        if address:
            by_address.setdefault(address, []).append(host)
    return {address: hosts for address, hosts in by_address.items() if len(hosts) > 1}


def ray_node_plan(head_hosts, worker_hosts, hostvars, cluster_name="ray", default_count=1):
    """Every Ray container of the cluster: host, container name, role and Ray node name.

    The head's host runs the head first and then its local workers; worker hosts run workers.
    Worker numbers restart on each host, so adding a host never renames an existing container.
    """
    head_hosts = list(head_hosts or [])
    plan = []
    for host in _hosts(head_hosts, worker_hosts):
        count = (hostvars.get(host) or {}).get("ray_node_count", default_count)
        is_head_host = host in head_hosts[:1]
        for index in range(count):
            if is_head_host and index == 0:
                role, container = "head", f"{cluster_name}-head"
            else:
                number = index if is_head_host else index + 1
                role, container = "worker", f"{cluster_name}-worker-{number}"
            plan.append({
                "host": host,
                "container": container,
                "role": role,
                "node_name": f"{container}@{host}",
            })
    return plan


def ray_dashboard_url(head_host, hostvars, port=8265):
    """The Jobs API address as the control node reaches it."""
    if not head_host:
        return ""
    vars_ = hostvars.get(head_host) or {}
    if vars_.get("ansible_connection") == "local":
        address = "127.0.0.1"
    else:
        address = vars_.get("ray_node_ip_address") or vars_.get("ansible_host") or head_host
    return f"http://{address}:{port}"


def ray_start_command(node, head_address, options):
    """The container's main process: `ray start ... --block` for one node of the plan.

    `node` carries its resources (ray_host_resources); `options` the ports and extra flags.
    """
    command = ["ray", "start"]
    if node["role"] == "head":
        command += [
            "--head",
            f"--port={options['gcs_port']}",
            f"--dashboard-host={options.get('dashboard_host', '0.0.0.0')}",
            f"--dashboard-port={options['dashboard_port']}",
        ]
    else:
        command.append(f"--address={head_address}:{options['gcs_port']}")
    command.append(f"--node-name={node['node_name']}")
    if options.get("node_ip_address"):
        command.append(f"--node-ip-address={options['node_ip_address']}")
    # The node's share of its host (ray_host_resources): Ray's own detection would count the whole host.
    command.append(f"--num-cpus={int(node['num_cpus'])}")
    if node.get("num_gpus"):
        command.append(f"--num-gpus={int(node['num_gpus'])}")
    command.append(f"--memory={int(node['memory'])}")
    command.append(f"--object-store-memory={int(node['object_store_bytes'])}")
    ports = dict(options.get("ports") or {})
    if node["role"] == "head":
        ports.update(options.get("head_ports") or {})
    for flag, value in sorted(ports.items()):
        if value is not None:
            command.append(f"--{flag}={value}")
    command += list(options.get("extra_args") or [])
    command += ["--disable-usage-stats", "--block"]
    return command


# What the digest covers besides docker_container's parameters, as labels, so that `--diff` shows
# a new image behind the same tag or a new token, not only a new digest.
IMAGE_LABEL = "ray-docker.image-id"
TOKEN_LABEL = "ray-docker.token-sha256"
REDIS_PASSWORD_LABEL = "ray-docker.redis-password-sha256"
REDIS_PASSWORD_TARGET = "/run/secrets/ray_redis_password"
REDIS_CONFIG_TARGET = "/usr/local/etc/redis/redis.conf"
GCS_STORE_ROLE = "gcs-store"
NO_FT_RECONNECT_TIMEOUT = 15
NO_FT_LIVENESS_CHECK_MS = 5000
# The containers this role runs, by their ray-docker.role label; others of the cluster (monitoring)
# belong to other roles.
CLUSTER_ROLES = ("head", "worker", GCS_STORE_ROLE)


def ray_container_spec(node, settings):
    """Every docker_container parameter of one node's container, plus a label holding their digest.

    The digest (over the parameters, including labels naming the image id and the token's digest)
    lets a re-run tell from one engine query that a running container is what the inventory asks for.
    """
    bridge = settings["network_mode"] == "bridge"
    head = node["role"] == "head"
    spec = {
        "name": node["container"],
        "image": settings["image"],
        "command": ray_start_command(node, settings["head_address"], settings["start_options"]),
        "network_mode": settings["network"] if bridge else "host",
        "shm_size": str(int(node["shm_bytes"])),
        # Held by its container, not by the host's OOM killer: Ray memory + object store + Ray's processes.
        "memory": str(int(node["memory_limit"])),
        "env": {str(key): str(value) for key, value in sorted({**(settings.get("env") or {}),
                                                               **((settings.get("head_env") or {}) if head else {})}.items())},
        "mounts": [{"type": "bind", "source": settings["token_source"], "target": settings["token_target"], "read_only": True}],
        "labels": {"ray-docker.cluster": settings["cluster_name"], "ray-docker.role": node["role"],
                   "ray-docker.node": node["node_name"], IMAGE_LABEL: settings.get("image_id") or "",
                   # 16 hex digits of the token's SHA-256: tells tokens apart, reveals nothing of a 256-bit token.
                   TOKEN_LABEL: (settings.get("token_sha256") or "")[:16]},
        "restart_policy": "unless-stopped",
        # `ray start --block` as PID 1 never reaps orphans: every job's entrypoint shell would stay a zombie.
        "init": True,
    }
    if bridge:
        spec["hostname"] = node["container"]
        spec["networks"] = [{"name": settings["network"]}]
        if head:
            port = int(settings["dashboard_port"])
            spec["published_ports"] = [f"{settings['dashboard_bind_address']}:{port}:{port}"]
    nofile = int(settings.get("nofile_limit") or 0)
    if nofile > 0:
        spec["ulimits"] = [f"nofile:{nofile}:{nofile}"]
    if node.get("gpu_ids"):
        spec["device_requests"] = [{"driver": "nvidia", "device_ids": list(node["gpu_ids"]), "capabilities": [["gpu"]]}]
    gcs = settings.get("gcs")
    if gcs and head:
        # The GCS keeps its state in Redis. Ray takes the password only as a flag: read it from the
        # mounted file at start, so it is in no container setting (`docker inspect`) nor in the spec.
        spec["env"].update({"RAY_REDIS_ADDRESS": str(gcs["address"]),
                            "RAY_external_storage_namespace": str(gcs["namespace"])})
        spec["mounts"].append({"type": "bind", "source": gcs["password_source"], "target": REDIS_PASSWORD_TARGET,
                               "read_only": True})
        spec["command"] = ["sh", "-c", f'exec "$@" --redis-password="$(cat {REDIS_PASSWORD_TARGET})"', "ray-start",
                           *spec["command"]]
        spec["labels"][REDIS_PASSWORD_LABEL] = (gcs.get("password_sha256") or "")[:16]
    elif not head:
        # How long a worker waits for a restarted head before restarting itself. With fault tolerance
        # the head comes back with the cluster's state: wait for it. Without, a new head knows nothing
        # of the worker, so waiting (Ray's default is 60 s) only delays its restart and its return.
        timeout = gcs["reconnect_timeout"] if gcs else NO_FT_RECONNECT_TIMEOUT
        spec["env"]["RAY_gcs_rpc_server_reconnect_timeout_s"] = str(int(timeout))
        if not gcs:
            # A worker learns that a restarted head does not know it from its periodic liveness check
            # (seen every 20-55 s): check every 5 s so it restarts and rejoins soon after the head.
            spec["env"]["RAY_raylet_liveness_self_check_interval_ms"] = str(NO_FT_LIVENESS_CHECK_MS)
    return with_spec_digest(spec, node["role"])


def ray_redis_spec(settings):
    """The GCS store's container on the head's host: redis-server with the role's config file (port,
    password, append-only persistence) and its data on a named volume that outlives the container."""
    bridge = settings["network_mode"] == "bridge"
    spec = {
        "name": settings["container"],
        "image": settings["image"],
        "command": ["redis-server", REDIS_CONFIG_TARGET],
        "user": "999:999",  # the official image's redis user, owner of /data
        "network_mode": settings["network"] if bridge else "host",
        "env": {},
        "mounts": [{"type": "bind", "source": settings["config_source"], "target": REDIS_CONFIG_TARGET, "read_only": True},
                   {"type": "volume", "source": settings["volume"], "target": "/data"}],
        "labels": {"ray-docker.cluster": settings["cluster_name"], "ray-docker.role": GCS_STORE_ROLE,
                   IMAGE_LABEL: settings.get("image_id") or "",
                   "ray-docker.config-sha256": (settings.get("config_sha256") or "")[:16]},
        "restart_policy": "unless-stopped",
        "init": False,
    }
    if bridge:
        spec["hostname"] = settings["container"]
        spec["networks"] = [{"name": settings["network"]}]
    return with_spec_digest(spec, GCS_STORE_ROLE)


def ray_containers_to_remove(specs, running):
    """Names of this role's containers on the host that the plan no longer has (a lower ray_node_count,
    fault tolerance switched off); containers of other roles are left alone."""
    planned = {spec["name"] for spec in specs}
    return sorted(name for name, row in (running or {}).items()
                  if name not in planned and ((row or {}).get("Labels") or {}).get("ray-docker.role") in CLUSTER_ROLES)


def ray_containers_to_reconcile(specs, running, compare_all=False):
    """The specs whose container is missing, not running, or carries another digest.

    `running` maps container names to what the engine lists (State, Labels). With compare_all every
    spec goes to docker_container, which then compares each setting itself.
    """
    if compare_all:
        return list(specs)
    stale = []
    for spec in specs:
        current = (running or {}).get(spec["name"]) or {}
        labels = current.get("Labels") or {}
        if current.get("State") != "running" or labels.get(SPEC_LABEL) != spec["labels"][SPEC_LABEL]:
            stale.append(spec)
    return stale


class FilterModule:
    def filters(self):
        return {
            "ray_resolve_network_mode": ray_resolve_network_mode,
            "ray_topology_errors": ray_topology_errors,
            "ray_port_errors": ray_port_errors,
            "ray_duplicate_addresses": ray_duplicate_addresses,
            "ray_node_addresses": ray_node_addresses,
            "ray_probe_outcome": ray_probe_outcome,
            "ray_reachability_problems": ray_reachability_problems,
            "ray_docker_desktop_hosts": ray_docker_desktop_hosts,
            "ray_platforms": ray_platforms,
            "ray_node_plan": ray_node_plan,
            "ray_dashboard_url": ray_dashboard_url,
            "ray_container_spec": ray_container_spec,
            "ray_containers_to_reconcile": ray_containers_to_reconcile,
            "ray_containers_to_remove": ray_containers_to_remove,
            "ray_redis_spec": ray_redis_spec,
        }
