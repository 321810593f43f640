"""Action plugin: what the ray_cluster role changes on a host, from the run's snapshot of it.

Plans, for this host: the auth token's copy, the GCS store's config and the head's copy of its password (head
fault tolerance), the single-host cluster's bridge network, the containers to remove, and the containers to
create or start in two phases (the GCS store and the head, then the workers), each with every docker_container
setting and a digest of them (plugins/module_utils/cluster.py). Only containers that are missing, stopped or
planned differently are in the phases, so a re-run with nothing to do applies nothing.

Secrets stay out of the plan: the token and the passwords are created on the control node (0600) when missing
and copied from there; the plan carries their paths and digests only.
"""

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.ray_docker.cluster.plugins.module_utils import cluster, monitoring, resources, specs
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import cluster_context, role_settings, secrets, snapshot


ROLES = ("ray", "ray_cluster", "ray_image", "ray_monitoring")


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
        prometheus_host, grafana_host = f"{ctx.cluster_name}-prometheus", f"{ctx.cluster_name}-grafana"
    else:
        seen = "127.0.0.1" if ctx.monitoring_host == ctx.head_host else ctx.node_address(ctx.monitoring_host)
        prometheus_host = grafana_host = seen
    env.update(monitoring.head_env(f"http://{prometheus_host}:{settings['ray_prometheus_port']}",
                                   f"http://{grafana_host}:{settings['ray_grafana_port']}",
                                   ctx.url_on_monitoring_host(settings["ray_grafana_port"]), ctx.cluster_name,
                                   running["grafana"]))
    return env


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # only the fallback read of the host connects (_execute_module)
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        with role_settings.refusals_fail(task_vars):
            ctx = cluster_context.build(self, task_vars, roles=ROLES)
        engine, facts, fresh = snapshot.required(self, task_vars)
        settings = ctx.settings
        result.update(changed=False, engine_answers=bool(engine.get("engine_answers")), dashboard_url=ctx.dashboard_url,
                      token_file=ctx.token_file, host_nodes=[node["node_name"] for node in ctx.host_nodes()],
                      expected_nodes=[node["node_name"] for node in ctx.expected_nodes])
        if not engine.get("engine_answers"):
            if self._task.check_mode:  # the docker role only pretended to start the engine
                return dict(result, has_work=True)
            raise AnsibleActionFail(f"The Docker engine on {ctx.host} does not answer ({engine.get('engine_error')}). "
                                    "Run the docker step first (runner.py docker).")

        try:
            secrets.ensure(ctx.token_file, 64, "hex")
            token_sha256 = secrets.sha256_of_file(ctx.token_file)
            gcs_store = snapshot.runs_gcs_store(ctx)
            password = secrets.ensure(ctx.redis_password_file, 48) if settings["ray_gcs_fault_tolerance"] else ""
        except (OSError, secrets.SecretError) as exc:
            raise AnsibleActionFail(f"cannot prepare the cluster's secrets on the control node: {exc}")
        files = engine.get("files") or {}
        uid, gid = cluster.CONTAINER_UID, cluster.CONTAINER_GID
        result["token"] = {
            "source": ctx.token_file, "dest": ctx.host_token_file, "dir": ctx.host_config_dir, "uid": uid, "gid": gid,
            "write": not (cluster.file_is(files.get(ctx.host_config_dir), "0711", 0, 0, directory=True)
                         and cluster.file_is(files.get(ctx.host_token_file), "0600", uid, gid, token_sha256)),
        }
        images = engine.get("images") or {}
        image = f"{settings['ray_image_repository']}:{settings['ray_image_tag']}"
        bridge = ctx.network_mode == "bridge"
        redis_address = f"{ctx.cluster_name}-redis" if bridge else "127.0.0.1"
        planned = []
        if gcs_store:
            config = cluster.redis_config(settings["ray_gcs_redis_port"], bridge, password)
            config_source = os.path.join(ctx.config_dir, "redis.conf")
            config_sha256 = secrets.keep_rendered(config_source, config)
            password_sha256 = secrets.sha256_of_text(password)
            result["gcs_store"] = {
                "config_source": config_source, "config_dest": f"{ctx.host_config_dir}/redis.conf",
                "password_source": ctx.redis_password_file, "password_dest": f"{ctx.host_config_dir}/redis_password",
                "uid": cluster.REDIS_UID, "container_uid": uid, "container_gid": gid,
                "write_config": not cluster.file_is(files.get(f"{ctx.host_config_dir}/redis.conf"), "0600",
                                                    cluster.REDIS_UID, cluster.REDIS_UID, config_sha256),
                "write_password": not cluster.file_is(files.get(f"{ctx.host_config_dir}/redis_password"), "0600",
                                                      uid, gid, password_sha256),
            }
            planned.append(cluster.redis_spec({
                "container": f"{ctx.cluster_name}-redis", "image": settings["ray_gcs_redis_image"],
                "image_id": (images.get(settings["ray_gcs_redis_image"]) or {}).get("Id") or "",
                "network_mode": ctx.network_mode, "network": settings["ray_cluster_network"], "cluster_name": ctx.cluster_name,
                "config_source": f"{ctx.host_config_dir}/redis.conf", "config_sha256": config_sha256,
                "volume": f"{ctx.cluster_name}-gcs-redis"}))

        share = resources.host_resources(ctx.host_nodes(), facts or {}, settings)
        if share["errors"]:  # the preflight refuses these; here only for a role used on its own
            raise AnsibleActionFail("; ".join(share["errors"]) + ". Nothing was changed.")
        head = next((node for node in ctx.nodes if node["role"] == "head"), None)
        monitoring_images = role_settings.host_facts(task_vars.get("hostvars") or {}, ctx.monitoring_host,
                                                     "ray_engine").get("images") if ctx.monitoring_host != ctx.host else images
        node_settings = {
            "image": image, "image_id": (images.get(image) or {}).get("Id") or "", "token_sha256": token_sha256,
            "token_source": ctx.host_token_file, "token_target": cluster.CONTAINER_TOKEN_FILE, "cluster_name": ctx.cluster_name,
            "network_mode": ctx.network_mode, "network": settings["ray_cluster_network"],
            "dashboard_bind_address": settings["ray_cluster_dashboard_bind_address"]
            or ("127.0.0.1" if ctx.local_head else "0.0.0.0"),
            "dashboard_port": settings["ray_dashboard_port"], "nofile_limit": settings["ray_cluster_nofile_limit"],
            "env": {**settings["ray_cluster_env"], **cluster.AUTH_ENV},
            "head_env": head_env(ctx, monitoring_images),
            "head_address": (head["container"] if bridge else ctx.node_address(ctx.head_host)) if head else "",
            "gcs": {"address": f"{redis_address}:{settings['ray_gcs_redis_port']}",
                    "namespace": f"{ctx.cluster_name}-{settings['ray_version']}",
                    "password_source": f"{ctx.host_config_dir}/redis_password",
                    "password_sha256": secrets.sha256_of_text(password),
                    "reconnect_timeout": settings["ray_gcs_reconnect_timeout"]} if settings["ray_gcs_fault_tolerance"] else None,
            "start_options": {
                "gcs_port": settings["ray_gcs_port"], "dashboard_port": settings["ray_dashboard_port"],
                "node_ip_address": ctx.node_address(ctx.host) if not bridge else "",
                "ports": {"node-manager-port": settings["ray_node_manager_port"],
                          "object-manager-port": settings["ray_object_manager_port"],
                          "runtime-env-agent-port": settings["ray_runtime_env_agent_port"],
                          "dashboard-agent-grpc-port": settings["ray_dashboard_agent_grpc_port"],
                          "dashboard-agent-listen-port": settings["ray_dashboard_agent_listen_port"],
                          "metrics-export-port": settings["ray_metrics_export_port"],
                          "min-worker-port": settings["ray_min_worker_port"],
                          "max-worker-port": settings["ray_max_worker_port"]},
                "head_ports": {"ray-client-server-port": settings["ray_client_server_port"]},
                "extra_args": settings["ray_cluster_extra_start_args"],
            },
        }
        planned += [cluster.node_spec(node, node_settings) for node in share["nodes"]]
        running = engine.get("containers") or {}
        stale = specs.containers_to_reconcile(planned, running, settings["ray_cluster_compare_all"])
        network = settings["ray_cluster_network"]
        volume = f"{ctx.cluster_name}-gcs-redis"
        result.update(
            network={"name": network, "create": bridge and not (engine.get("networks") or {}).get(network)},
            remove=cluster.containers_to_remove(planned, running),
            remove_volume=volume if (not settings["ray_gcs_fault_tolerance"]
                                     and (engine.get("volumes") or {}).get(volume)) else "",
            phases=cluster.phases(stale),
            wait_timeout=settings["ray_cluster_wait_timeout"],
        )
        gcs = result.get("gcs_store") or {}
        result["has_work"] = bool(result["token"]["write"] or gcs.get("write_config") or gcs.get("write_password")
                                  or result["network"]["create"] or result["remove"] or result["remove_volume"]
                                  or stale)
        return snapshot.keep(result, fresh)
