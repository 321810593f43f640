"""The run's snapshot of a host: one read-only query that answers every role's "what is already there?".

The preflight's probe (action ray_host_facts) reads, in one module run per host, everything the docker,
ray_image, ray_cluster and ray_monitoring roles compare with their plans, and keeps it as the host's fact
ray_snapshot. A role that changes a host marks the snapshot out of date at its end (or, for pulled images,
records what changed); the next role that compares reads the host again and keeps that read as the snapshot.
A re-run that changes nothing asks each host exactly once.
"""

from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import images as image_plan
from ansible_collections.ray_docker.cluster.plugins.module_utils import cluster, derived_image, monitoring, names, registry_cache
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import cluster_context

MODULE = "ray_docker.cluster.ray_host_facts"
ROLES = ("ray", "docker", "registry_cache", "ray_image", "ray_cluster", "ray_monitoring")


def cluster_files(ctx):
    """The token, and with head fault tolerance on the head's host the GCS store's config and password."""
    files = [ctx.host_config_dir, ctx.host_token_file]
    if runs_gcs_store(ctx):
        files += [f"{ctx.host_config_dir}/redis.conf", f"{ctx.host_config_dir}/redis_password"]
    return files + [folder["path"] for folder in data_folders(ctx)]


def data_folders(ctx):
    """The folders this host's nodes keep on it: the cluster's roots, each node's Ray temp folder (sessions, logs)
    and its spill folder (plugins/module_utils/cluster.py data_folders)."""
    containers = [node["container"] for node in ctx.host_nodes()]
    return cluster.data_folders(ctx.settings["ray_cluster_data_dir"], ctx.data_root, ctx.spill_root, [ctx.node_data_dir(name) for name in containers],
                                [ctx.spill_dir(name) for name in containers])


def runs_gcs_store(ctx):
    return bool(ctx.settings.get("ray_gcs_fault_tolerance")) and ctx.host == ctx.head_host


def monitoring_here(ctx):
    return bool(ctx.settings.get("ray_monitoring_enabled")) and ctx.host == ctx.monitoring_host


def monitoring_dirs(ctx):
    return (f"{ctx.host_config_dir}/prometheus", f"{ctx.host_config_dir}/grafana")


def registry_cache_query(ctx):
    """On the LAN image cache's host, where its state is (the registry_cache role compares it); else None."""
    settings = ctx.settings
    host, _ = registry_cache.location(settings, ctx.head_hosts, ctx.worker_hosts, ctx.head_host, ctx.node_address)
    return registry_cache.state_query(settings, registry_cache.upstream(settings)) if host and host == ctx.host else None


def volumes(ctx):
    """The named volumes a role of this host owns: the GCS store's on the head's host, Prometheus's and Grafana's on
    the monitoring host."""
    found = [names.gcs_store_volume(ctx.cluster_name)] if ctx.host == ctx.head_host else []
    if ctx.host == ctx.monitoring_host:
        found += [names.monitoring_volume(ctx.cluster_name, part) for part in (names.PROMETHEUS, names.GRAFANA)]
    return found


def query(ctx):
    """The module's options for everything the roles will compare on this host."""
    settings = ctx.settings
    wanted = image_plan.wanted(settings, ctx.host, ctx.head_host, ctx.monitoring_host, ctx.derived)
    files = cluster_files(ctx)
    if monitoring_here(ctx):
        grafana = bool(settings.get("ray_monitoring_grafana_enabled"))
        prometheus_dir, grafana_dir = monitoring_dirs(ctx)
        files += monitoring.directories(prometheus_dir, grafana_dir, grafana)
        files += monitoring.file_paths(prometheus_dir, grafana_dir, grafana)
    return {
        "engine": True,
        "daemon_json": settings.get("docker_daemon_config_file"),
        "desktop_daemon_json": settings.get("docker_desktop_daemon_config_file") or "auto",
        "images": [image["name"] for image in wanted],
        "image_references": list(derived_image.REFERENCES),
        "networks": [settings["ray_cluster_network"]] if ctx.network_mode == "bridge" else [],
        "volumes": volumes(ctx),
        "container_label": names.cluster_label(ctx.cluster_name),
        "files": files,
        "registry_cache": registry_cache_query(ctx),
        "data_dir": ctx.settings.get("ray_cluster_data_dir"),
    }


def take(action, task_vars):
    """Run the probe module with the query; its result (ansible_facts ray_host and ray_snapshot).

    The query names what every role looks at, so it is built from every role's settings, not the caller's."""
    ctx = cluster_context.build(action, task_vars, roles=ROLES)
    return action._execute_module(module_name=MODULE, module_args=query(ctx), task_vars=task_vars)


def usable(facts):
    """Whether a host's facts hold a snapshot no role has changed the host after (see ray_host_facts outdated)."""
    engine = facts.get("ray_snapshot")
    return engine is not None and not engine.get("outdated") and facts.get("ray_host") is not None


def current(action, task_vars):
    """This host's snapshot: the run's fact when there is one, else a fresh query (a role used on its own).

    Returns (ray_snapshot, ray_host, fresh result or None)."""
    facts = task_vars.get("ansible_facts") or {}
    if usable(facts):
        return facts["ray_snapshot"], facts["ray_host"], None
    result = take(action, task_vars)
    if result.get("failed") or result.get("unreachable"):
        return None, None, result
    new = result.get("ansible_facts") or {}
    return new.get("ray_snapshot"), new.get("ray_host"), result


def required(action, task_vars):
    """`current`, failing the task with the probe's own message when the host cannot be read."""
    engine, facts, fresh = current(action, task_vars)
    if engine is None:
        raise AnsibleActionFail((fresh or {}).get("msg") or "cannot read the engine's state", result=fresh)
    return engine, facts, fresh


def keep(result, fresh):
    """A fresh read becomes the run's snapshot again: the next role compares with it instead of reading the host."""
    if fresh and fresh.get("ansible_facts"):
        result["ansible_facts"] = fresh["ansible_facts"]
    return result
