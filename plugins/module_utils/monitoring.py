"""Prometheus and Grafana for a Ray cluster: what to scrape, how to provision Grafana, what the head reads.

Pure functions (the ray_monitoring role calls them through filters, the unit tests directly), plus
`ray_dashboards`, which asks the control node's Ray (the cluster's version) for the Grafana dashboards
it generates, the same ones a head writes into its session folder.
"""

import hashlib
import json

from ansible_collections.ray_docker.cluster.plugins.module_utils import names

DATASOURCE_NAME = "Prometheus"  # what Ray's dashboard asks Grafana for (RAY_PROMETHEUS_NAME's default)
DATASOURCE_UID = "ray-prometheus"
CLUSTER_LABEL = "ray_io_cluster"  # the label Ray's dashboards filter clusters on (KubeRay sets it the same way)
GRAFANA_DASHBOARDS_DIR = "/etc/grafana/dashboards/ray"
# Ray's dashboards, by the file name a head writes them under (ray/dashboard/modules/metrics/metrics_head.py).
DASHBOARD_GENERATORS = {
    "default_grafana_dashboard.json": "generate_default_grafana_dashboard",
    "serve_grafana_dashboard.json": "generate_serve_grafana_dashboard",
    "serve_deployment_grafana_dashboard.json": "generate_serve_deployment_grafana_dashboard",
    "serve_llm_grafana_dashboard.json": "generate_serve_llm_grafana_dashboard",
    "serve_llm_sglang_grafana_dashboard.json": "generate_serve_llm_sglang_grafana_dashboard",
    "data_grafana_dashboard.json": "generate_data_grafana_dashboard",
    "data_llm_grafana_dashboard.json": "generate_data_llm_grafana_dashboard",
    "train_grafana_dashboard.json": "generate_train_grafana_dashboard",
}


def scrape_targets(nodes, network_mode, addresses, metrics_port, head_ports):
    """(node targets, head targets) as Prometheus reaches them: container names on a single host's bridge
    network, node addresses with host networking. Every node's metrics export port; the head's
    dashboard and autoscaler metrics ports."""
    def where(node):
        return node["container"] if network_mode == "bridge" else addresses.get(node["host"]) or node["host"]

    node_targets = [f"{where(node)}:{int(metrics_port)}" for node in nodes]
    head = next((node for node in nodes if node["role"] == "head"), None)
    head_targets = [f"{where(head)}:{int(port)}" for port in head_ports] if head else []
    return node_targets, head_targets


def prometheus_config(cluster_name, node_targets, head_targets, scrape_interval="10s"):
    """prometheus.yml as a dict: one job for the cluster's nodes, one for the head's own metrics, every
    series labelled with the cluster's name (the dashboards' Cluster variable)."""
    labels = {CLUSTER_LABEL: cluster_name}
    return {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "scrape_configs": [
            {"job_name": "ray", "static_configs": [{"targets": list(node_targets), "labels": labels}]},
            {"job_name": "ray-head", "static_configs": [{"targets": list(head_targets), "labels": labels}]},
        ],
    }


def grafana_datasource(prometheus_url):
    """provisioning/datasources/ray.yml: the Prometheus the dashboards read, under the name Ray asks for."""
    return {"apiVersion": 1, "datasources": [{
        "name": DATASOURCE_NAME, "uid": DATASOURCE_UID, "type": "prometheus", "access": "proxy",
        "url": prometheus_url, "isDefault": True, "editable": False}]}


def grafana_dashboard_provider():
    """provisioning/dashboards/ray.yml: Ray's dashboards, in a folder Ray, read-only in the UI."""
    return {"apiVersion": 1, "providers": [{
        "name": "Ray", "folder": "Ray", "type": "file", "disableDeletion": True, "allowUiUpdates": False,
        "options": {"path": GRAFANA_DASHBOARDS_DIR}}]}


def grafana_env(port, bind_address="", password_file="/run/secrets/grafana_admin_password"):
    """Grafana's settings as GF_* variables: embedding in Ray's dashboard allowed, anonymous read-only
    viewers, the admin password read from a file (never in the container's settings), no calls home."""
    env = {
        "GF_SECURITY_ALLOW_EMBEDDING": "true",
        "GF_AUTH_ANONYMOUS_ENABLED": "true",
        "GF_AUTH_ANONYMOUS_ORG_NAME": "Main Org.",
        "GF_AUTH_ANONYMOUS_ORG_ROLE": "Viewer",
        "GF_SECURITY_ADMIN_USER": "admin",
        "GF_SECURITY_ADMIN_PASSWORD__FILE": password_file,
        "GF_USERS_ALLOW_SIGN_UP": "false",
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
        "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
        "GF_SERVER_HTTP_PORT": str(int(port)),
    }
    if bind_address:
        env["GF_SERVER_HTTP_ADDR"] = bind_address
    return env


def head_env(prometheus_url, grafana_url, grafana_iframe_url, cluster_name, grafana=True):
    """What the head's dashboard reads at start to draw its Metrics tab (ray-metrics reference)."""
    env = {"RAY_PROMETHEUS_HOST": prometheus_url, "RAY_PROMETHEUS_NAME": DATASOURCE_NAME,
           "RAY_GRAFANA_CLUSTER_FILTER": cluster_name}
    if grafana:
        env.update(RAY_GRAFANA_HOST=grafana_url, RAY_GRAFANA_IFRAME_HOST=grafana_iframe_url)
    else:
        env["RAY_GRAFANA_HOST"] = "DISABLED"  # no Grafana: the dashboard hides its embedded panels
    return env


def ray_dashboards():
    """{file name: dashboard JSON text} that the control node's Ray generates (the cluster's version)."""
    from ray.dashboard.modules.metrics import grafana_dashboard_factory as factory

    dashboards = {}
    for name, generator in DASHBOARD_GENERATORS.items():
        content, _uid = getattr(factory, generator)()
        dashboards[name] = json.dumps(json.loads(content), indent=1, sort_keys=True) + "\n"
    return dashboards


MONITORING_ROLE = names.MONITORING
GRAFANA_UID = 472  # the official image's grafana user
PROMETHEUS_CONFIG_DIR = "/etc/prometheus"
GRAFANA_PASSWORD_TARGET = "/run/secrets/grafana_admin_password"


def _placement(spec, settings):
    """Network and published port: on a single host's bridge network, published on the bind address;
    with host networking, listening on the bind address itself."""
    if settings["network_mode"] == "bridge":
        spec["network_mode"] = settings["network"]
        spec["networks"] = [{"name": settings["network"]}]
        spec["hostname"] = spec["name"]
        spec["published_ports"] = [f"{settings['bind_address']}:{int(settings['port'])}:{int(settings['port'])}"]
    else:
        spec["network_mode"] = "host"
    if settings.get("container_log"):
        spec.update(log_driver="json-file", log_options=dict(settings["container_log"]))
    return spec


def _labels(settings, role):
    return {names.CLUSTER: settings["cluster_name"], names.ROLE: MONITORING_ROLE,
            names.SERVICE: role, names.IMAGE_ID: settings.get("image_id") or ""}


def prometheus_spec(settings):
    """Prometheus: the config folder read-only (the role makes it re-read it with a SIGHUP from inside the
    container, no restart), data on a named volume that outlives the container, retention as asked. Runs as
    nobody, like the official image. No --web.enable-lifecycle: anyone who reaches the port could shut it
    down with /-/quit."""
    from ansible_collections.ray_docker.cluster.plugins.module_utils.specs import with_spec_digest

    listen = "0.0.0.0" if settings["network_mode"] == "bridge" else settings["bind_address"]
    spec = {
        "name": settings["container"], "image": settings["image"], "user": "65534:65534",
        "command": [f"--config.file={PROMETHEUS_CONFIG_DIR}/prometheus.yml", "--storage.tsdb.path=/prometheus",
                    f"--storage.tsdb.retention.time={settings['retention']}",
                    f"--web.listen-address={listen}:{int(settings['port'])}"],
        "env": {},
        "mounts": [{"type": "bind", "source": settings["config_dir"], "target": PROMETHEUS_CONFIG_DIR, "read_only": True},
                   {"type": "volume", "source": settings["volume"], "target": "/prometheus"}],
        "labels": _labels(settings, "prometheus"),
        "restart_policy": "unless-stopped", "init": False,
    }
    return with_spec_digest(_placement(spec, settings), MONITORING_ROLE)


def grafana_spec(settings):
    """Grafana: provisioning and Ray's dashboards read-only, the admin password from a file, data on a
    named volume. Runs as the official image's user 472. A new datasource restarts it (its digest is a
    label); new dashboards it picks up by itself."""
    from ansible_collections.ray_docker.cluster.plugins.module_utils.specs import with_spec_digest

    bind = "" if settings["network_mode"] == "bridge" else settings["bind_address"]
    spec = {
        "name": settings["container"], "image": settings["image"], "user": "472:0",
        "env": grafana_env(settings["port"], bind, GRAFANA_PASSWORD_TARGET),
        "mounts": [{"type": "bind", "source": settings["provisioning_dir"], "target": "/etc/grafana/provisioning",
                    "read_only": True},
                   {"type": "bind", "source": settings["dashboards_dir"], "target": GRAFANA_DASHBOARDS_DIR, "read_only": True},
                   {"type": "bind", "source": settings["password_file"], "target": GRAFANA_PASSWORD_TARGET, "read_only": True},
                   {"type": "volume", "source": settings["volume"], "target": "/var/lib/grafana"}],
        "labels": {**_labels(settings, "grafana"),
                   names.DATASOURCE_SHA256: (settings.get("datasource_sha256") or "")[:16],
                   names.PASSWORD_SHA256: (settings.get("password_sha256") or "")[:16]},
        "restart_policy": "unless-stopped", "init": False,
    }
    return with_spec_digest(_placement(spec, settings), MONITORING_ROLE)


def directories(prometheus_dir, grafana_dir, grafana):
    """The folders the two containers read, parents first."""
    if not grafana:
        return [prometheus_dir]
    return [prometheus_dir, grafana_dir, f"{grafana_dir}/provisioning", f"{grafana_dir}/provisioning/datasources",
            f"{grafana_dir}/provisioning/dashboards", f"{grafana_dir}/dashboards"]


def file_paths(prometheus_dir, grafana_dir, grafana):
    """Every file monitoring_files writes, without making Ray's dashboards (for the engine query)."""
    paths = [f"{prometheus_dir}/prometheus.yml"]
    if grafana:
        paths += [f"{grafana_dir}/provisioning/datasources/ray.yml", f"{grafana_dir}/provisioning/dashboards/ray.yml",
                  f"{grafana_dir}/admin_password"] + [f"{grafana_dir}/dashboards/{name}" for name in DASHBOARD_GENERATORS]
    return paths


def monitoring_files(prometheus_dir, grafana_dir, prometheus, prometheus_url, grafana, password_sha256="", grafana_uid=472,
                     dashboards=None):
    """Every file the two containers read: {path on the host: {content, owner, mode, expected}}.

    `prometheus` is prometheus.yml as a dict; with `grafana`, its provisioning, Ray's dashboards for the
    control node's Ray version (`dashboards`, else made now), and the admin password, readable only by Grafana's
    user. The password's entry has no content, only its digest: the role copies it from the control node's
    file, so that it is in no task's arguments or result.
    """
    import yaml

    def text(data):
        # Ansible hands over its own (tagged) str, dict and list subclasses: plain types first.
        return yaml.safe_dump(json.loads(json.dumps(data)), sort_keys=False, default_flow_style=False)

    files = {f"{prometheus_dir}/prometheus.yml": {"content": text(prometheus), "owner": 0, "mode": "0644"}}
    if grafana:
        files[f"{grafana_dir}/provisioning/datasources/ray.yml"] = {
            "content": text(grafana_datasource(prometheus_url)), "owner": 0, "mode": "0644"}
        files[f"{grafana_dir}/provisioning/dashboards/ray.yml"] = {
            "content": text(grafana_dashboard_provider()), "owner": 0, "mode": "0644"}
        files[f"{grafana_dir}/admin_password"] = {"secret": True, "owner": int(grafana_uid), "mode": "0600"}
        for name, content in (dashboards if dashboards is not None else ray_dashboards()).items():
            files[f"{grafana_dir}/dashboards/{name}"] = {"content": content, "owner": 0, "mode": "0644"}
    for entry in files.values():  # as the engine query describes a file that is already right
        digest = password_sha256 if entry.get("secret") else hashlib.sha256(entry["content"].encode("utf-8")).hexdigest()
        entry["expected"] = {"exists": True, "directory": False, "mode": entry["mode"], "uid": entry["owner"],
                             "gid": entry["owner"], "sha256": digest}
    return files


def running_monitoring_containers(containers):
    """Names of the containers (the engine query's rows) this role runs: Prometheus and Grafana."""
    return sorted(name for name, row in (containers or {}).items()
                  if names.role_of(row) == MONITORING_ROLE)


def running_parts(settings, images_on_monitoring_host):
    """{prometheus, grafana}: which parts of monitoring run. A part runs when it is switched on and its image is on the
    monitoring host; an optional image that could not be had (the ray_image role says so) leaves its part out,
    as switching it off would. Without a look at that host (None), the switches alone decide."""
    prometheus = bool(settings.get("ray_monitoring_enabled"))
    grafana = prometheus and bool(settings.get("ray_monitoring_grafana_enabled"))
    if images_on_monitoring_host is not None:
        prometheus = prometheus and bool(images_on_monitoring_host.get(settings["ray_prometheus_image"]))
        grafana = grafana and prometheus and bool(images_on_monitoring_host.get(settings["ray_grafana_image"]))
    return {"prometheus": prometheus, "grafana": grafana}
