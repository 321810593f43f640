"""Action plugin: what the ray_cluster role changes on a host, from the run's snapshot of it.

Plans, for this host: the auth token's copy, the GCS store's config and the head's copy of its password (head
fault tolerance), the single-host cluster's bridge network, the containers to remove, and the containers to
create or start in two phases (the GCS store and the head, then the workers), each with every docker_container
setting and a digest of them (plugins/module_utils/cluster.py). Only containers that are missing, stopped or
planned differently are in the phases, so a re-run with nothing to do applies nothing. With `down`, what the role
owns on the host instead: its containers (workers apart, they go first), its network and the GCS store's volume.

Secrets stay out of the plan: the token and the passwords are created on the control node (0600) when missing
and copied from there; the plan carries their paths and digests only.
"""

import inspect
import os

from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import (cluster, log_keeper, monitoring, names, ports,
                                                                         resources, specs, upgrade)
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import role_settings, secrets, snapshot
from ansible_collections.ray_docker.cluster.plugins.plugin_utils.plan_action import EngineMissing, PlanAction


def head_env(ctx, monitoring_host_images):
    """What the head reads at start: its own metrics ports, and where Prometheus and Grafana are (only those that
    run: an optional image that could not be had is left out, like switching it off)."""
    settings = ctx.settings
    env = {"DASHBOARD_METRIC_PORT": str(settings["ray_dashboard_metrics_port"]),
           "AUTOSCALER_METRIC_PORT": str(settings["ray_autoscaler_metrics_port"])}
    running = monitoring.running_parts(settings, monitoring_host_images)
    if not running["prometheus"]:
        return env
    if ctx.network_mode == "bridge":
        prometheus_host = names.monitoring_container(ctx.cluster_name, names.PROMETHEUS)
        grafana_host = names.monitoring_container(ctx.cluster_name, names.GRAFANA)
    else:
        seen = "127.0.0.1" if ctx.monitoring_host == ctx.head_host else ctx.node_address(ctx.monitoring_host)
        prometheus_host = grafana_host = seen
    env.update(monitoring.head_env(f"http://{prometheus_host}:{settings['ray_prometheus_port']}",
                                   f"http://{grafana_host}:{settings['ray_grafana_port']}",
                                   ctx.url_on_monitoring_host(settings["ray_grafana_port"]), ctx.cluster_name,
                                   running["grafana"]))
    return env


def data_settings(ctx):
    """Where each node's Ray keeps its sessions and spills, and how its logs are held (plugins/module_utils/log_keeper.py,
    handed to the container as source: the container needs nothing of the collection)."""
    settings = ctx.settings
    limit = settings["ray_cluster_log_limit_mb"]
    containers = [node["container"] for node in ctx.host_nodes()]
    return {"node_dirs": {name: ctx.node_data_dir(name) for name in containers},
            "spill_dirs": {name: ctx.spill_dir(name) for name in containers},
            "log_limit_mb": limit, "retention_days": settings["ray_cluster_log_retention_days"],
            # Ray rotates each log file at a tenth of the cap, keeping two: the keeper deletes rotated files first.
            "rotation_bytes": max(2**20, limit * 2**20 // 10), "rotation_backups": 2,
            "keeper_source": inspect.getsource(log_keeper)}


def down_plan(ctx, engine):
    """What the role owns on the host, from the snapshot: its containers (the workers apart: a worker stopped after
    its head waits in Ray's reconnect loop until Docker kills it), the bridge network, the GCS store's volume."""
    running = sorted((engine.get("containers") or {}).items())
    network = ctx.settings["ray_cluster_network"]
    volume = names.gcs_store_volume(ctx.cluster_name)
    files = engine.get("files") or {}
    roots = [folder["path"] for folder in snapshot.data_folders(ctx) if folder["uid"] == 0]
    kept = [path for path in roots if (files.get(path) or {}).get("exists")]
    return {"workers": [name for name, row in running if names.role_of(row) == names.WORKER],
            "others": [name for name, row in running if names.role_of(row) in (names.HEAD, names.GCS_STORE)],
            "network": network if (engine.get("networks") or {}).get(network) else "",
            "volumes": [volume] if (engine.get("volumes") or {}).get(volume) else [],
            # the nodes' logs stay for a post-mortem unless asked (ray_cluster_purge_data)
            "data": kept if ctx.settings["ray_cluster_purge_data"] else []}


class ActionModule(PlanAction):
    ROLES = ("ray", "ray_cluster", "ray_image", "ray_monitoring")
    ARGUMENTS = {"down": {"type": "bool", "default": False},
                 "previous": {"type": "dict", "options": {"image": {"type": "str", "required": True},
                                                          "ray_version": {"type": "str", "required": True}}}}

    def plan(self, ctx, args, task_vars, result):
        engine, facts, fresh = self.snapshot(task_vars)
        if args["down"]:
            result["down"] = down_plan(ctx, engine)
            return self.keep(result, fresh)
        if args["previous"]:  # a rollback: the same plan for the image the nodes ran before
            ctx.image_override = args["previous"]["image"]
            ctx.settings.update(ray_version=args["previous"]["ray_version"])
        result.update(engine_answers=bool(engine.get("engine_answers")), dashboard_url=ctx.dashboard_url,
                      token_file=ctx.token_file, host_nodes=[node["node_name"] for node in ctx.host_nodes()],
                      expected_nodes=[node["node_name"] for node in ctx.expected_nodes])
        try:
            self.require_engine(ctx, engine)
        except EngineMissing:
            return dict(result, has_work=True)
        token_sha256, password = self.secrets(ctx)
        files = engine.get("files") or {}
        result["token"] = self.token(ctx, files, token_sha256)
        result["data_dirs"] = cluster.folders_to_make(snapshot.data_folders(ctx), files)
        planned = []
        if snapshot.runs_gcs_store(ctx):
            result["gcs_store"], store = self.gcs_store(ctx, engine, files, password)
            planned.append(store)
        planned += self.nodes(ctx, engine, facts, task_vars, token_sha256, password)
        running = engine.get("containers") or {}
        image = ctx.image
        result["upgrade"] = {"replace": upgrade.replacements(running, {
            "image": image, "image_id": ((engine.get("images") or {}).get(image) or {}).get("Id") or ""})}
        stale = specs.containers_to_reconcile(planned, running, ctx.settings["ray_cluster_compare_all"])
        result.update(self.reconcile(ctx, engine, planned, running, stale))
        gcs = result.get("gcs_store") or {}
        result["has_work"] = bool(result["token"]["write"] or result["data_dirs"] or gcs.get("write_config")
                                  or gcs.get("write_password")
                                  or result["network"]["create"] or result["remove"] or result["remove_volume"]
                                  or stale)
        return self.keep(result, fresh)

    @staticmethod
    def secrets(ctx):
        """The token's digest and the GCS store's password, made on the control node (0600) when missing."""
        try:
            secrets.ensure(ctx.token_file, 64, "hex")
            password = secrets.ensure(ctx.redis_password_file, 48) if ctx.settings["ray_gcs_fault_tolerance"] else ""
            return secrets.sha256_of_file(ctx.token_file), password
        except (OSError, secrets.SecretError) as exc:
            raise AnsibleActionFail(f"cannot prepare the cluster's secrets on the control node: {exc}")

    @staticmethod
    def token(ctx, files, token_sha256):
        uid, gid = cluster.CONTAINER_UID, cluster.CONTAINER_GID
        return {"source": ctx.token_file, "dest": ctx.host_token_file, "dir": ctx.host_config_dir, "uid": uid, "gid": gid,
                "write": not (cluster.file_is(files.get(ctx.host_config_dir), "0711", 0, 0, directory=True)
                              and cluster.file_is(files.get(ctx.host_token_file), "0600", uid, gid, token_sha256))}

    @staticmethod
    def gcs_store(ctx, engine, files, password):
        """(files to deliver, container spec) of the GCS store on the head's host."""
        settings = ctx.settings
        bridge = ctx.network_mode == "bridge"
        config = cluster.redis_config(settings["ray_gcs_redis_port"], bridge, password)
        config_source = os.path.join(ctx.config_dir, "redis.conf")
        config_sha256 = secrets.keep_rendered(config_source, config)
        password_sha256 = secrets.sha256_of_text(password)
        delivery = {
            "config_source": config_source, "config_dest": f"{ctx.host_config_dir}/redis.conf",
            "password_source": ctx.redis_password_file, "password_dest": f"{ctx.host_config_dir}/redis_password",
            "uid": cluster.REDIS_UID, "container_uid": cluster.CONTAINER_UID, "container_gid": cluster.CONTAINER_GID,
            "write_config": not cluster.file_is(files.get(f"{ctx.host_config_dir}/redis.conf"), "0600",
                                                cluster.REDIS_UID, cluster.REDIS_UID, config_sha256),
            "write_password": not cluster.file_is(files.get(f"{ctx.host_config_dir}/redis_password"), "0600",
                                                  cluster.CONTAINER_UID, cluster.CONTAINER_GID, password_sha256),
        }
        image = settings["ray_gcs_redis_image"]
        spec = cluster.redis_spec({
            "container": names.gcs_store_container(ctx.cluster_name), "image": image,
            "image_id": ((engine.get("images") or {}).get(image) or {}).get("Id") or "",
            "network_mode": ctx.network_mode, "network": settings["ray_cluster_network"], "cluster_name": ctx.cluster_name,
            "config_source": f"{ctx.host_config_dir}/redis.conf", "config_sha256": config_sha256,
            "volume": names.gcs_store_volume(ctx.cluster_name), "container_log": ctx.container_log()})
        return delivery, spec

    def nodes(self, ctx, engine, facts, task_vars, token_sha256, password):
        """The container specs of this host's Ray nodes, each held to its share of the host."""
        share = resources.host_resources(ctx.host_nodes(), facts or {}, ctx.settings)
        if share["errors"]:  # the preflight refuses these; here only for a role used on its own
            raise AnsibleActionFail("; ".join(share["errors"]) + ". Nothing was changed.")
        settings = self.node_settings(ctx, engine, task_vars, token_sha256, password)
        return [cluster.node_spec(node, settings) for node in share["nodes"]]

    @staticmethod
    def node_settings(ctx, engine, task_vars, token_sha256, password):
        """What every node's container is made of: image, token, network, environment, the GCS store, `ray start`."""
        settings = ctx.settings
        images = engine.get("images") or {}
        image = ctx.image
        bridge = ctx.network_mode == "bridge"
        head = next((node for node in ctx.nodes if node["role"] == names.HEAD), None)
        monitoring_images = role_settings.host_facts(task_vars.get("hostvars") or {}, ctx.monitoring_host,
                                                     "ray_snapshot").get("images") if ctx.monitoring_host != ctx.host else images
        redis_address = names.gcs_store_container(ctx.cluster_name) if bridge else "127.0.0.1"
        node_ports, head_ports = ports.start_flags(settings, head=False), ports.start_flags(settings, head=True)
        return {
            "image": image, "image_id": (images.get(image) or {}).get("Id") or "", "token_sha256": token_sha256,
            "ray_version": settings["ray_version"], "drain_deadline": settings["ray_cluster_drain_deadline"],
            "container_log": ctx.container_log(), "data": data_settings(ctx),
            "token_source": ctx.host_token_file, "token_target": cluster.CONTAINER_TOKEN_FILE,
            "cluster_name": ctx.cluster_name, "network_mode": ctx.network_mode, "network": settings["ray_cluster_network"],
            "dashboard_bind_address": settings["ray_cluster_dashboard_bind_address"]
            or ("127.0.0.1" if ctx.local_head else "0.0.0.0"),
            "dashboard_port": settings["ray_dashboard_port"], "nofile_limit": settings["ray_cluster_nofile_limit"],
            "env": {**settings["ray_cluster_env"], **cluster.AUTH_ENV},
            "head_env": head_env(ctx, monitoring_images),
            "head_address": (head["container"] if bridge else ctx.node_address(ctx.head_host)) if head else "",
            "gcs": {"address": f"{redis_address}:{settings['ray_gcs_redis_port']}",
                    "namespace": names.gcs_namespace(ctx.cluster_name, settings["ray_version"]),
                    "password_source": f"{ctx.host_config_dir}/redis_password",
                    "password_sha256": secrets.sha256_of_text(password),
                    "reconnect_timeout": settings["ray_gcs_reconnect_timeout"]} if settings["ray_gcs_fault_tolerance"] else None,
            "start_options": {
                "gcs_port": settings["ray_gcs_port"], "dashboard_port": settings["ray_dashboard_port"],
                "node_ip_address": ctx.node_address(ctx.host) if not bridge else "",
                "ports": node_ports,
                "head_ports": {flag: port for flag, port in head_ports.items() if flag not in node_ports},
                "extra_args": settings["ray_cluster_extra_start_args"],
            },
        }

    @staticmethod
    def reconcile(ctx, engine, planned, running, stale):
        """The network to create, the containers and the GCS store's data to remove, the phases to run."""
        settings = ctx.settings
        network = settings["ray_cluster_network"]
        volume = names.gcs_store_volume(ctx.cluster_name)
        return {
            "network": {"name": network, "create": ctx.network_mode == "bridge" and not (engine.get("networks") or {}).get(network)},
            "remove": cluster.containers_to_remove(planned, running),
            "remove_volume": volume if (not settings["ray_gcs_fault_tolerance"]
                                        and (engine.get("volumes") or {}).get(volume)) else "",
            "phases": cluster.phases(stale),
            "wait_timeout": settings["ray_cluster_wait_timeout"],
        }
