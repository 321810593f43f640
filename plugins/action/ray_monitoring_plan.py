"""Action plugin: what the ray_monitoring role changes on a host (plugins/module_utils/monitoring.py).

On the monitoring host: the folders and files Prometheus and Grafana read (Prometheus's targets from the
inventory, Grafana's provisioning, Ray's own dashboards for its version, the admin password), and the
containers that are missing, stopped or planned differently. Elsewhere, and when monitoring is switched
off: the monitoring containers that should no longer run there. A part whose optional image could not be
had (see ray_image) is left out, as if switched off.
"""

import json
import os

from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import monitoring, names, specs
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import secrets, snapshot
from ansible_collections.ray_docker.cluster.plugins.plugin_utils.plan_action import EngineMissing, PlanAction


ROLES = ("ray", "ray_cluster", "ray_monitoring")
DASHBOARD_CACHE = os.path.join("~", ".cache", "ray-docker", "grafana-dashboards")


def down_plan(ctx, engine):
    """What the role owns on the host, from the snapshot: its containers, and with ray_monitoring_purge on the
    monitoring host the data volumes (kept otherwise: the next `site` finds the metrics from before)."""
    containers = monitoring.running_monitoring_containers(engine.get("containers"))
    present = engine.get("volumes") or {}
    volumes = [names.monitoring_volume(ctx.cluster_name, part) for part in (names.PROMETHEUS, names.GRAFANA)]
    purge = ctx.settings["ray_monitoring_purge"] and ctx.host == ctx.monitoring_host
    return {"containers": sorted(containers), "volumes": [volume for volume in volumes if purge and present.get(volume)]}


def dashboards(ray_version):
    """Ray's Grafana dashboards for its version, made once per version by the control node's Ray (importing
    it takes seconds) and kept in ~/.cache/ray-docker."""
    path = os.path.expanduser(os.path.join(DASHBOARD_CACHE, f"ray-{ray_version}.json"))
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        pass
    made = monitoring.ray_dashboards()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(made, handle)
    os.replace(temporary, path)
    return made


class ActionModule(PlanAction):
    ROLES = ROLES
    ARGUMENTS = {"down": {"type": "bool", "default": False}}

    def plan(self, ctx, args, task_vars, result):
        engine, _, fresh = self.snapshot(task_vars)
        if args["down"]:
            result["down"] = down_plan(ctx, engine)
            return self.keep(result, fresh)
        try:
            self.require_engine(ctx, engine)
        except EngineMissing:
            return dict(result, engine_answers=False, has_work=True)
        name = ctx.cluster_name
        parts = monitoring.running_parts(ctx.settings, engine.get("images") or {}) if snapshot.monitoring_here(ctx) else \
            {"prometheus": False, "grafana": False}
        running = monitoring.running_monitoring_containers(engine.get("containers"))
        plan = {"runs_here": parts["prometheus"], "parts": parts, "dirs": [], "files": [], "password": None, "run": [],
                "prometheus_config": "", "ready_urls": [],
                "prometheus_container": names.monitoring_container(name, names.PROMETHEUS)}
        if parts["prometheus"]:
            plan.update(self._plan_here(ctx, engine, parts))
        wanted = [spec["name"] for spec in plan.pop("specs", [])]
        plan["remove"] = [container for container in running if container not in wanted]
        plan["has_work"] = bool(plan["dirs"] or plan["files"] or plan["password"] or plan["run"] or plan["remove"])
        result.update(engine_answers=True, **plan)
        return self.keep(result, fresh)

    def _plan_here(self, ctx, engine, parts):
        settings = ctx.settings
        name = ctx.cluster_name
        prometheus_dir, grafana_dir = snapshot.monitoring_dirs(ctx)
        grafana = parts["grafana"]
        bridge = ctx.network_mode == "bridge"
        nodes = [node for node in ctx.nodes if node["host"] not in ctx.unreachable]
        addresses = {host: ctx.node_address(host) for host in ctx.hosts}
        node_targets, head_targets = monitoring.scrape_targets(
            nodes, ctx.network_mode, addresses, settings["ray_metrics_export_port"],
            [settings["ray_dashboard_metrics_port"], settings["ray_autoscaler_metrics_port"]])
        config = monitoring.prometheus_config(name, node_targets, head_targets, settings["ray_monitoring_scrape_interval"])
        prometheus_at = names.monitoring_container(name, names.PROMETHEUS) if bridge else "127.0.0.1"
        prometheus_url = f"http://{prometheus_at}:{settings['ray_prometheus_port']}"
        password_file = os.path.expanduser(settings["ray_monitoring_grafana_password_file"]
                                           or os.path.join(ctx.config_dir, "grafana_admin_password"))
        password_sha256 = ""
        if grafana:
            try:
                password_sha256 = secrets.sha256_of_text(secrets.ensure(password_file, 32))
            except (OSError, secrets.SecretError) as exc:
                raise AnsibleActionFail(f"cannot prepare Grafana's admin password on the control node: {exc}")
        files = monitoring.monitoring_files(prometheus_dir, grafana_dir, config, prometheus_url, grafana, password_sha256,
                                            dashboards=dashboards(settings["ray_version"]) if grafana else {})
        described = engine.get("files") or {}
        dirs = monitoring.directories(prometheus_dir, grafana_dir, grafana)
        to_write = [dict(entry, dest=path) for path, entry in files.items()
                    if not entry.get("secret") and described.get(path) != entry["expected"]]
        password = None
        if grafana and described.get(f"{grafana_dir}/admin_password") != files[f"{grafana_dir}/admin_password"]["expected"]:
            password = {"source": password_file, "dest": f"{grafana_dir}/admin_password", "owner": monitoring.GRAFANA_UID}
        images = engine.get("images") or {}
        common = {"cluster_name": name, "network_mode": ctx.network_mode, "network": settings["ray_cluster_network"],
                  "container_log": ctx.container_log(),
                  "bind_address": settings["ray_monitoring_bind_address"]
                  or ("127.0.0.1" if ctx.hosts.get(ctx.host, {}).get("connection") == "local" else "0.0.0.0")}
        planned = [monitoring.prometheus_spec(dict(
            common, container=names.monitoring_container(name, names.PROMETHEUS), image=settings["ray_prometheus_image"],
            image_id=(images.get(settings["ray_prometheus_image"]) or {}).get("Id") or "", port=settings["ray_prometheus_port"],
            retention=settings["ray_monitoring_retention"], config_dir=prometheus_dir,
            volume=names.monitoring_volume(name, names.PROMETHEUS)))]
        if grafana:
            datasource = files[f"{grafana_dir}/provisioning/datasources/ray.yml"]["content"]
            planned.append(monitoring.grafana_spec(dict(
                common, container=names.monitoring_container(name, names.GRAFANA), image=settings["ray_grafana_image"],
                image_id=(images.get(settings["ray_grafana_image"]) or {}).get("Id") or "", port=settings["ray_grafana_port"],
                provisioning_dir=f"{grafana_dir}/provisioning", dashboards_dir=f"{grafana_dir}/dashboards",
                password_file=f"{grafana_dir}/admin_password", volume=names.monitoring_volume(name, names.GRAFANA),
                datasource_sha256=secrets.sha256_of_text(datasource), password_sha256=password_sha256)))
        urls = [f"http://127.0.0.1:{settings['ray_prometheus_port']}/-/ready"]
        if grafana:
            urls.append(f"http://127.0.0.1:{settings['ray_grafana_port']}/api/health")
        return {
            "dirs": [path for path in dirs if not (described.get(path) or {}).get("exists")],
            "files": to_write, "password": password, "specs": planned,
            "run": specs.containers_to_reconcile(planned, engine.get("containers") or {}),
            "prometheus_config": f"{prometheus_dir}/prometheus.yml", "ready_urls": urls,
        }
