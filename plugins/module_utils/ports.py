"""Every port the project pins, in one table: the `ray start` flags, the preflight's collision check, the Windows
firewall rules, the head's metrics environment and docs/lab.md's table all read it. Adding a port is one row here
(and its variable's default, spec and range, which a unit test holds to this row).

`where` says which host listens: `head`, `node` (every Ray node), `monitoring` (the monitoring host), `cache`
(the LAN image cache's host), `build` (the host that builds a derived image, in a lab) or `head-local` (the head's host, on loopback or the cluster's bridge network only:
no other host needs it, so no firewall rule). `flag` is the `ray start` flag that sets it, if any.
"""

from collections import namedtuple

Port = namedtuple("Port", "variable default where flag purpose")

PORTS = (
    Port("ray_gcs_port", 6379, "head", "port", "GCS"),
    Port("ray_dashboard_port", 8265, "head", "dashboard-port", "dashboard, Jobs API; also from the control node"),
    Port("ray_client_server_port", 10001, "head", "ray-client-server-port", "Ray Client"),
    Port("ray_node_manager_port", 6380, "node", "node-manager-port", "raylet"),
    Port("ray_object_manager_port", 6381, "node", "object-manager-port", "object manager"),
    Port("ray_runtime_env_agent_port", 6382, "node", "runtime-env-agent-port", "runtime environment agent"),
    Port("ray_dashboard_agent_grpc_port", 6383, "node", "dashboard-agent-grpc-port", "dashboard agent gRPC"),
    Port("ray_dashboard_agent_listen_port", 6385, "node", "dashboard-agent-listen-port",
         "dashboard agent HTTP, `/api/local_raylet_healthz`; Ray's own default, 52365, lies in Windows' dynamic range"),
    Port("ray_metrics_export_port", 6384, "node", "metrics-export-port", "Prometheus metrics"),
    Port("ray_dashboard_metrics_port", 44227, "head", None, "dashboard metrics (DASHBOARD_METRIC_PORT); from the monitoring host"),
    Port("ray_autoscaler_metrics_port", 44217, "head", None,
         "autoscaler metrics (AUTOSCALER_METRIC_PORT); from the monitoring host"),
    Port("ray_prometheus_port", 9090, "monitoring", None, "Prometheus; from whoever may read the metrics"),
    Port("ray_grafana_port", 3000, "monitoring", None, "Grafana; from the browsers of whoever views the dashboard"),
    Port("ray_gcs_redis_port", 6390, "head-local", None, "the GCS store of head fault tolerance (Redis)"),
    Port("registry_cache_port", 5050, "cache", None, "the LAN image cache; from every Ray host"),
    Port("ray_image_registry_port", 5051, "build", None,
         "the LAN registry of your derived image (ray_image_pip_packages, ...); from every Ray host"),
)
# One port per worker process, from this range, on every node.
WORKER_RANGE = Port(("ray_min_worker_port", "ray_max_worker_port"), (10002, 19999), "node",
                    ("min-worker-port", "max-worker-port"), "one per worker process")
# Windows keeps its dynamic range for itself; Hyper-V and WSL's mirrored networking reserve blocks in it at boot.
WINDOWS_DYNAMIC_PORTS = (49152, 65535)
WHERE = {"head": "head", "node": "every node", "monitoring": "monitoring host", "cache": "the LAN image cache's host",
         "build": "the build host of a derived image (the LAN cache's host, else the head's), in a lab",
         "head-local": "head's host, loopback or the cluster's bridge network only"}

VARIABLES = tuple(port.variable for port in PORTS)


def defaults():
    """{variable: default} of every port and the worker range's two ends."""
    values = {port.variable: port.default for port in PORTS}
    values.update(zip(WORKER_RANGE.variable, WORKER_RANGE.default))
    return values


def pinned(values):
    """{variable: port} of the pinned ports among `values` (typed settings)."""
    return {port.variable: values[port.variable] for port in PORTS if isinstance(values.get(port.variable), int)}


def between_hosts(values):
    """{variable: port} other hosts (and the control node) connect to: what firewalls must let in."""
    return {name: port for name, port in pinned(values).items() if by_variable(name).where != "head-local"}


def by_variable(variable):
    return next(port for port in PORTS if port.variable == variable)


def start_flags(values, head):
    """{`ray start` flag: port} for a node (with the head's own when `head`), the worker range included. The GCS and
    dashboard ports go with `--head` (plugins/module_utils/cluster.py, start_command)."""
    on_head_command = ("port", "dashboard-port")
    flags = {port.flag: values[port.variable] for port in PORTS
             if port.flag and (port.where == "node" or (head and port.where == "head" and port.flag not in on_head_command))}
    for flag, variable in zip(WORKER_RANGE.flag, WORKER_RANGE.variable):
        flags[flag] = values[variable]
    return flags


def flag_owners():
    """{`--flag`: variable} of the flags the ports set: a user's extra `ray start` flag may not set them again."""
    owners = {f"--{port.flag}": port.variable for port in PORTS if port.flag}
    owners.update({f"--{flag}": variable for flag, variable in zip(WORKER_RANGE.flag, WORKER_RANGE.variable)})
    return owners


def collisions(values):
    """Pinned ports sharing a port, or inside the worker range; the worker range the wrong way round."""
    errors, owners = [], {}
    low, high = (int(values[name]) for name in WORKER_RANGE.variable)
    for name, port in sorted(pinned(values).items()):
        if port in owners:
            errors.append(f"{name}={port} collides with {owners[port]}")
        elif low <= port <= high:
            errors.append(f"{name}={port} lies in the worker port range ray_min_worker_port..ray_max_worker_port "
                          f"({low}-{high})")
        owners.setdefault(port, name)
    if low >= high:
        errors.append(f"ray_min_worker_port={low} and ray_max_worker_port={high}: the first must be below the second")
    return errors


def markdown_table():
    """docs/lab.md's table of the ports to open between hosts (a unit test keeps the page equal to it): every pinned
    port but those of `head-local`, the worker range after the nodes' own ports."""
    rows = ["| port | variable | where |", "|---|---|---|"]
    last_node = max(index for index, port in enumerate(PORTS) if port.where == "node")
    for index, port in enumerate(PORTS):
        if port.where != "head-local":
            rows.append(f"| {port.default} | `{port.variable}` | {WHERE[port.where]} ({port.purpose}) |")
        if index == last_node:
            low, high = WORKER_RANGE.variable
            rows.append(f"| {WORKER_RANGE.default[0]}-{WORKER_RANGE.default[1]} | `{low}`, `{high}` | every node "
                        f"({WORKER_RANGE.purpose}) |")
    return "\n".join(rows)
