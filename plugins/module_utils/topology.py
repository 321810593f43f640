"""The inventory as a Ray cluster: which hosts run which nodes, how they reach each other, what is wrong.

Pure functions over plain data, so every play (deploy, check, status, down) and the settings check compute
the same answer from the inventory alone. A host is described by a dict (plugin_utils/role_settings.py
builds them from hostvars):

    {"node_count": int, "node_ip": str (ray_node_ip_address, '' when unset), "default_ipv4": str (the probe's),
     "connection": str (ansible_connection), "address": str (ansible_host, else the inventory name)}
"""

from ansible_collections.ray_docker.cluster.plugins.module_utils import names
from ansible_collections.ray_docker.cluster.plugins.module_utils.names import HEAD, WORKER


def ray_hosts(head_hosts, worker_hosts):
    """Head first, then workers, each host once, inventory order kept."""
    seen = []
    for host in list(head_hosts or []) + list(worker_hosts or []):
        if host not in seen:
            seen.append(host)
    return seen


def network_mode(head_hosts, worker_hosts, requested="auto"):
    """'bridge' when the whole cluster lives on one host, else 'host' networking."""
    if requested in ("bridge", "host"):
        return requested
    return "bridge" if len(ray_hosts(head_hosts, worker_hosts)) <= 1 else "host"


def topology_errors(head_hosts, worker_hosts, node_counts, requested_mode="auto"):
    """Everything wrong with the inventory's Ray topology, one message per problem.

    `node_counts`: {host: ray_node_count} (already typed and range-checked by the settings check)."""
    head_hosts, worker_hosts = list(head_hosts or []), list(worker_hosts or [])
    errors = []
    if len(head_hosts) != 1:
        errors.append(f"group ray_head must hold exactly one host (found: {', '.join(head_hosts) or 'none'})")
    for host in head_hosts:
        if host in worker_hosts:
            errors.append(f"host {host} is in both ray_head and ray_workers: a host is either the head or a worker")
    mode = network_mode(head_hosts, worker_hosts, requested_mode)
    if mode == "bridge" and len(ray_hosts(head_hosts, worker_hosts)) > 1:
        errors.append("ray_network_mode=bridge only works with one host: nodes on other hosts cannot reach "
                      "containers on a bridge network; use host networking")
    if mode == "host":
        for host in ray_hosts(head_hosts, worker_hosts):
            count = node_counts.get(host, 1)
            if count != 1:
                errors.append(f"host {host}: ray_node_count={count}, but with host networking each host runs exactly "
                              "one Ray node")
    return errors


def node_plan(head_hosts, worker_hosts, node_counts, cluster_name="ray"):
    """Every Ray container of the cluster, head first: [{host, container, role, node_name}].

    The head's host runs the head first and then its local workers; worker hosts run workers. Worker
    numbers restart on each host, so adding a host never renames an existing container.
    """
    head_hosts = list(head_hosts or [])
    plan = []
    for host in ray_hosts(head_hosts, worker_hosts):
        on_head_host = host in head_hosts[:1]
        for index in range(int(node_counts.get(host, 1))):
            if on_head_host and index == 0:
                role, container = HEAD, names.head_container(cluster_name)
            else:
                role, container = WORKER, names.worker_container(cluster_name, index if on_head_host else index + 1)
            plan.append({"host": host, "container": container, "role": role, "node_name": names.node_name(container, host)})
    return plan


def node_address(host):
    """The address a host's Ray node advertises with host networking ('' while unknown)."""
    return (host or {}).get("node_ip") or (host or {}).get("default_ipv4") or ""


def duplicate_addresses(addresses):
    """{address: [hosts]} for node addresses claimed by more than one host ({host: address}).

    Hosts whose address is unknown ('') are left out: a run limited to some hosts has not probed the others.
    """
    by_address = {}
    for host, address in sorted((addresses or {}).items()):
        if address:
            by_address.setdefault(address, []).append(host)
    return {address: hosts for address, hosts in by_address.items() if len(hosts) > 1}


def reaches_head_locally(head):
    """Whether the control node is the head's host itself (ansible_connection local)."""
    return (head or {}).get("connection") == "local"


def service_url(host, port):
    """http://<address>:<port> as the control node reaches a service on `host` (the Jobs API, Prometheus,
    Grafana): loopback for this machine, else the node address or ansible_host."""
    if not host:
        return ""
    if reaches_head_locally(host):
        address = "127.0.0.1"
    else:
        address = host.get("node_ip") or host.get("address") or ""
    return f"http://{address}:{int(port)}"


def reachability_problems(head_host, unreachable, failed, require_all=False):
    """Why the run must stop before any change: the head does not answer, any host does not answer while
    ray_require_all_hosts is true, or a host failed the probe. [] when the run may go on."""
    problems = []
    if head_host in (unreachable or []):
        problems.append(f"The head {head_host} does not answer: the cluster cannot be deployed without it.")
    if require_all and unreachable:
        problems.append(f"Hosts that do not answer: {', '.join(unreachable)} (ray_require_all_hosts is true).")
    if failed:
        problems.append(f"Hosts that failed the probe: {', '.join(failed)}.")
    return problems


def is_docker_desktop(facts):
    """Whether a host's engine is Docker Desktop's (it says so), or Desktop's WSL integration is there while no
    engine answers (Desktop not started)."""
    facts = facts or {}
    engine_os = str(facts.get("engine_os") or "")
    return engine_os.startswith("Docker Desktop") or bool(facts.get("docker_desktop_integration") and not engine_os)


def platform(facts):
    """'WSL2, Docker Desktop' and the like for a host worth naming in the recap; '' for a plain Linux host."""
    facts = facts or {}
    parts = [f"WSL{facts['wsl_version']}"] if facts.get("wsl") else []
    if is_docker_desktop(facts):
        parts.append("Docker Desktop")
    elif facts.get("wsl"):
        parts.append("Docker Engine in the distribution")
    return ", ".join(parts)
