"""The Ray cluster's containers on one host: the exact `ray start` command, every docker_container setting
(with a digest of them as a label), and which containers a run must touch.

The ray_cluster_plan action builds the plan from here; the unit tests call these functions directly.
"""

from ansible_collections.ray_docker.cluster.plugins.module_utils import names
from ansible_collections.ray_docker.cluster.plugins.module_utils.specs import with_spec_digest


def start_command(node, head_address, options):
    """The container's main process: `ray start ... --block` for one node of the plan.

    `node` carries its resources (resources.split); `options` the ports and extra flags.
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
REDIS_PASSWORD_TARGET = "/run/secrets/ray_redis_password"
REDIS_CONFIG_TARGET = "/usr/local/etc/redis/redis.conf"
NO_FT_RECONNECT_TIMEOUT = 15
NO_FT_LIVENESS_CHECK_MS = 5000
# The containers this role runs, by their ray-docker.role label; others of the cluster (monitoring)
# belong to other roles.


def node_spec(node, settings):
    """Every docker_container parameter of one node's container, plus a label holding their digest.

    The digest (over the parameters, including labels naming the image id and the token's digest)
    lets a re-run tell from one engine query that a running container is what the inventory asks for.
    """
    bridge = settings["network_mode"] == "bridge"
    head = node["role"] == "head"
    spec = {
        "name": node["container"],
        "image": settings["image"],
        "command": start_command(node, settings["head_address"], settings["start_options"]),
        "network_mode": settings["network"] if bridge else "host",
        "shm_size": str(int(node["shm_bytes"])),
        # Held by its container, not by the host's OOM killer: Ray memory + object store + Ray's processes.
        "memory": str(int(node["memory_limit"])),
        "env": {str(key): str(value) for key, value in sorted({**(settings.get("env") or {}),
                                                               **((settings.get("head_env") or {}) if head else {})}.items())},
        "mounts": [{"type": "bind", "source": settings["token_source"], "target": settings["token_target"], "read_only": True}],
        "labels": {names.CLUSTER: settings["cluster_name"], names.ROLE: node["role"],
                   names.NODE: node["node_name"], names.IMAGE_ID: settings.get("image_id") or "",
                   # 16 hex digits of the token's SHA-256: tells tokens apart, reveals nothing of a 256-bit token.
                   names.TOKEN_SHA256: (settings.get("token_sha256") or "")[:16]},
        "restart_policy": "unless-stopped",
        # `ray start --block` as PID 1 never reaps orphans: every job's entrypoint shell would stay a zombie.
        "init": True,
        # `docker stop` is a drain, not a kill: on SIGTERM Ray drains its own node (GCS DrainNode, a preemption with
        # RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S as its deadline) before it stops; Docker waits that long and more.
        "stop_timeout": int(settings.get("drain_deadline", DRAIN_DEADLINE)) + STOP_MARGIN,
    }
    spec["env"]["RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S"] = str(int(settings.get("drain_deadline", DRAIN_DEADLINE)))
    if settings.get("ray_version"):
        spec["labels"][names.RAY_VERSION] = str(settings["ray_version"])
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
    # `sh -c` before `ray start`: what each node does first, then `exec` (Ray stays the container's main process).
    prelude = []
    data = settings.get("data")
    if data:
        # Ray's temp and session folder (logs, sockets, runtime environments) on the host, per node: it outlives the
        # container, and the log keeper (plugins/module_utils/log_keeper.py) holds it to its cap.
        spec["mounts"].append({"type": "bind", "source": data["node_dirs"][node["container"]], "target": RAY_TEMP_DIR})
        spec["mounts"].append({"type": "bind", "source": data["spill_dirs"][node["container"]], "target": SPILL_DIR})
        spec["command"] = [*spec["command"][:-2], f"--object-spilling-directory={SPILL_DIR}", *spec["command"][-2:]]
        spec["env"].update(RAY_ROTATION_MAX_BYTES=str(int(data["rotation_bytes"])),
                           RAY_ROTATION_BACKUP_COUNT=str(int(data["rotation_backups"])),
                           RAY_DOCKER_LOG_KEEPER=data["keeper_source"])
        prelude.append(f'python -c "$RAY_DOCKER_LOG_KEEPER" {RAY_TEMP_DIR} {int(data["log_limit_mb"])} '
                       f'{data["retention_days"]:g} &')
    if settings.get("container_log"):
        spec.update(log_driver="json-file", log_options=dict(settings["container_log"]))
    final = 'exec "$@"'
    if gcs and head:
        # The GCS keeps its state in Redis. Ray takes the password only as a flag: read it from the
        # mounted file at start, so it is in no container setting (`docker inspect`) nor in the spec.
        spec["env"].update({"RAY_REDIS_ADDRESS": str(gcs["address"]),
                            "RAY_external_storage_namespace": str(gcs["namespace"])})
        spec["mounts"].append({"type": "bind", "source": gcs["password_source"], "target": REDIS_PASSWORD_TARGET,
                               "read_only": True})
        final = f'exec "$@" --redis-password="$(cat {REDIS_PASSWORD_TARGET})"'
        spec["labels"][names.REDIS_PASSWORD_SHA256] = (gcs.get("password_sha256") or "")[:16]
    elif not head:
        # A worker whose container restarted comes back as a new node; its last registration would stay listed
        # ALIVE until the GCS's health check gives up on it (about 15 s), counted twice with its resources. Before
        # `ray start`, it tells the GCS its predecessor of the same name is gone (bounded; skipped when the GCS
        # does not answer, the health check then does it).
        spec["env"].update(RAY_DOCKER_RETIRE_PREDECESSOR=RETIRE_PREDECESSOR, RAY_DOCKER_NODE_NAME=node["node_name"],
                           RAY_DOCKER_GCS_ADDRESS=f"{settings['head_address']}:{settings['start_options']['gcs_port']}")
        prelude.append('timeout 10 python -c "$RAY_DOCKER_RETIRE_PREDECESSOR"')
        # How long a worker waits for a restarted head before restarting itself. With fault tolerance
        # the head comes back with the cluster's state: wait for it. Without, a new head knows nothing
        # of the worker, so waiting (Ray's default is 60 s) only delays its restart and its return.
        timeout = gcs["reconnect_timeout"] if gcs else NO_FT_RECONNECT_TIMEOUT
        spec["env"]["RAY_gcs_rpc_server_reconnect_timeout_s"] = str(int(timeout))
        if not gcs:
            # A worker learns that a restarted head does not know it from its periodic liveness check
            # (seen every 20-55 s): check every 5 s so it restarts and rejoins soon after the head.
            spec["env"]["RAY_raylet_liveness_self_check_interval_ms"] = str(NO_FT_LIVENESS_CHECK_MS)
    if prelude or final != 'exec "$@"':
        spec["command"] = ["sh", "-c", "\n".join([*prelude, final]), "ray-start", *spec["command"]]
    return with_spec_digest(spec, node["role"])


def redis_spec(settings):
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
        "labels": {names.CLUSTER: settings["cluster_name"], names.ROLE: names.GCS_STORE,
                   names.IMAGE_ID: settings.get("image_id") or "",
                   names.CONFIG_SHA256: (settings.get("config_sha256") or "")[:16]},
        "restart_policy": "unless-stopped",
        "init": False,
    }
    if settings.get("container_log"):
        spec.update(log_driver="json-file", log_options=dict(settings["container_log"]))
    if bridge:
        spec["hostname"] = settings["container"]
        spec["networks"] = [{"name": settings["network"]}]
    return with_spec_digest(spec, names.GCS_STORE)


def containers_to_remove(specs, running):
    """Names of this role's containers on the host that the plan no longer has (a lower ray_node_count,
    fault tolerance switched off); containers of other roles are left alone."""
    planned = {spec["name"] for spec in specs}
    return sorted(name for name, row in (running or {}).items()
                  if name not in planned and names.role_of(row) in names.CLUSTER_ROLES)


# Seconds a node stopped by `docker stop` drains before it stops (Ray's own default is 30), and how much longer
# Docker waits before it kills it (Ray's teardown after the drain takes about 2 s).
DRAIN_DEADLINE = 30
STOP_MARGIN = 15
# Seconds `docker stop` gives a node that has nothing left to drain for (the drain verb's deadline passed; an
# upgrade's old head, its jobs settled): Ray's teardown only. Its container's own graceful shutdown would otherwise
# drain it once more, for the deadline it was created with.
TEARDOWN_SECONDS = 5

# Run by a worker's container before `ray start` (the container's own Ray, token and GCS address): mark the ALIVE
# registrations of its node name dead, so a restarted node replaces its predecessor at once. It uses the GCS's
# UnregisterNode call, which Ray does not promise to keep: any failure only leaves the work to the health check.
RETIRE_PREDECESSOR = """\
import os, sys
try:
    from ray._private.grpc_utils import init_grpc_channel
    from ray._raylet import GcsClient
    from ray.core.generated import common_pb2, gcs_pb2, gcs_service_pb2, gcs_service_pb2_grpc
    name, address = os.environ["RAY_DOCKER_NODE_NAME"], os.environ["RAY_DOCKER_GCS_ADDRESS"]
    selector = gcs_service_pb2.GetAllNodeInfoRequest.NodeSelector(node_name=name)
    alive = GcsClient(address=address).get_all_node_info(
        timeout=3, node_selectors=[selector], state_filter=gcs_pb2.GcsNodeInfo.GcsNodeState.ALIVE)
    stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(init_grpc_channel(address))
    for node_id in alive:
        stub.UnregisterNode(gcs_service_pb2.UnregisterNodeRequest(
            node_id=node_id.binary(), node_death_info=common_pb2.NodeDeathInfo(
                reason=common_pb2.NodeDeathInfo.UNEXPECTED_TERMINATION,
                reason_message="its container restarted; the new node replaces it (ray-docker)")), timeout=5)
        print(f"ray-docker: retired {node_id.hex()}, the last registration of {name}", file=sys.stderr)
except Exception as exc:
    print(f"ray-docker: could not retire the last registration of this node ({exc}); Ray's health check will",
          file=sys.stderr)
"""

# Where a node's Ray keeps its temp and session folder (Ray's default, mounted from the host) and spills objects.
RAY_TEMP_DIR = "/tmp/ray"
SPILL_DIR = "/ray-spill"

# The official image runs Ray as user ray (uid 1000, gid 100): the token file must be readable by it.
CONTAINER_UID, CONTAINER_GID = 1000, 100
CONTAINER_TOKEN_FILE = "/run/secrets/ray_auth_token"
AUTH_ENV = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": CONTAINER_TOKEN_FILE, "RAY_USAGE_STATS_ENABLED": "0"}
# Redis runs as the official image's redis user.
REDIS_UID = 999


def redis_config(port, bind_all, password):
    """redis.conf of the GCS store: only the head talks to it (loopback with host networking, the cluster's bridge
    network otherwise), a password, append-only persistence fsynced every second."""
    return "\n".join([
        "# Written by ray-docker (role ray_cluster): the Ray GCS's state store, for head fault tolerance.",
        "# Only the head talks to it: loopback with host networking, the cluster's bridge network otherwise.",
        f"port {int(port)}",
        f"bind {'0.0.0.0' if bind_all else '127.0.0.1'}",
        "protected-mode yes",
        f"requirepass {password}",
        "dir /data",
        "# Every write is appended to disk and fsynced each second: a restarted Redis has the GCS's state.",
        "appendonly yes",
        "appendfsync everysec",
        "# Never drop idle clients: Ray's GCS keeps its connections open (ray-project/ray#46982).",
        "timeout 0",
        "",
    ])


def data_folders(base, data_root, spill_root, node_dirs, spill_dirs):
    """The folders the nodes of a host need, as {path, uid, gid, mode}: the cluster's roots, private to root (Ray
    makes a node's temp and spill folders world-writable, 0777, when it starts and spills: their parent keeps the
    host's other users out); each node's folders owned by the image's user, their mode left to Ray. First the base
    folder (ray_cluster_data_dir), made as any folder is when missing and else left as it is: made with the roots'
    owner and mode instead, it would keep others from their folders in it (the LAN cache's, for one)."""
    roots = [data_root] + ([spill_root] if spill_root and spill_root != data_root else [])
    return ([{"path": base, "uid": None, "gid": None, "mode": None}]
            + [{"path": path, "uid": 0, "gid": 0, "mode": "0750"} for path in roots]
            + [{"path": path, "uid": CONTAINER_UID, "gid": CONTAINER_GID, "mode": None} for path in node_dirs + spill_dirs])


def folders_to_make(folders, files):
    """The folders the engine query found missing or not as wanted."""
    return [folder for folder in folders if not file_is(files.get(folder["path"]), folder["mode"], folder["uid"],
                                                        folder["gid"], directory=True)]


def file_is(described, mode, uid, gid, sha256=None, directory=False):
    """Whether a path the engine query described already is what the plan wants (None: any mode, owner, group)."""
    wanted = {key: value for key, value in {"exists": True, "directory": directory, "mode": mode, "uid": uid,
                                            "gid": gid}.items() if value is not None}
    if sha256 is not None:
        wanted["sha256"] = sha256
    return {key: (described or {}).get(key) for key in wanted} == wanted


def phases(stale):
    """The containers to run, in order: the GCS store and the head first (workers need the head's address),
    then every worker."""
    first = [spec for spec in stale if spec["role"] in (names.GCS_STORE, names.HEAD)]
    return [first, [spec for spec in stale if spec["role"] == names.WORKER]]
