"""Action plugin: what the registry_cache role does (plugins/module_utils/registry_cache.py).

On every Ray host: whether the cluster uses the LAN image cache, on which host, at which URL, proxying what. On
the cache's host it also reads the host once (module registry_cache_info) and plans: the package to install, the
config and systemd unit that differ, whether to start or restart it, and the offset of its log from which this
run's pulls are counted. With `report: true` (after the pulls) it reads the log from that offset and says which
source served which host's pulls.
"""

import json

from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import images, registry_cache
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import role_settings, snapshot
from ansible_collections.ray_docker.cluster.plugins.plugin_utils.plan_action import PlanAction

INFO_MODULE = "ray_docker.cluster.registry_cache_info"
NAMES = ("docker_registry_mirrors",)
# Below this, the report warns that a full disk makes the cache pass layers on without keeping them.
LOW_FREE_BYTES = 2 * 2**30


def unit_text(config_file, log_file):
    return "\n".join([
        "# Written by the registry_cache role (ray-docker): the Ray cluster's LAN image cache.",
        "[Unit]",
        "Description=LAN image cache of the Ray cluster (pull-through registry)",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        f"User={registry_cache.USER}",
        f"ExecStart={registry_cache.BINARY} serve {config_file}",
        "Restart=on-failure",
        "RestartSec=5",
        f"StandardOutput=append:{log_file}",
        "StandardError=inherit",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])


def config_text(document):
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _json_or_empty(text):
    try:
        return json.loads(text or "{}")
    except ValueError:
        return {}


class ActionModule(PlanAction):
    ROLES = ("ray", "registry_cache", "ray_image", "ray_monitoring")
    NAMES = NAMES
    ARGUMENTS = {"report": {"type": "bool", "default": False}, "log_offset": {"type": "int", "default": -1},
                 "down": {"type": "bool", "default": False}}

    def plan(self, ctx, args, task_vars, result):
        state = self.state(ctx)
        if args["down"]:  # the host it is configured for, in use or not
            state["runs_here"] = ctx.host == registry_cache.cache_host(ctx.settings, ctx.head_host)
        result.update(state)
        if not state["runs_here"]:
            return result
        settings = ctx.settings
        query = registry_cache.state_query(settings, state["upstream"])
        paths = {key: query[key] for key in ("config_file", "log_file", "unit_file", "service", "pid_file", "binary", "user")}
        pulled = self.pulled(ctx, task_vars) if args["report"] else {}
        if args["report"] and not pulled:
            return dict(result, sources={}, lines=[], degraded=[], store_errors=[])
        info = self.read(task_vars, query, args["log_offset"] if args["report"] else -1)
        if args["report"]:
            return dict(result, **self.report(state, info, pulled))
        result.update(paths, systemd=info["systemd"], unit_exists=bool(info["unit"]), running=info["running"])
        if args["down"]:
            return result
        mode = registry_cache.mode_for(info["upstream_answers"], info["has_data"])
        config = config_text(registry_cache.config(settings, mode, state["upstream"]))
        unit = unit_text(paths["config_file"], paths["log_file"]) if info["systemd"] else ""
        changed_files = info["config"] != config or (info["systemd"] and info["unit"] != unit)
        rotate = registry_cache.log_needs_rotation(info["log_size"], settings["registry_cache_log_max_mb"])
        result.update(
            mode=mode, config=config, unit=unit, install_needed=not info["installed"], answers=info["answers"],
            upstream_answers=info["upstream_answers"], has_data=info["has_data"], free_bytes=info["free_bytes"],
            log_offset=0 if rotate else info["log_size"], log_rotate=rotate, files_changed=changed_files,
            start_needed=not info["running"],
            restart_needed=info["running"] and (changed_files or not info["answers"]),
            warm_images=self.images_to_pull(ctx, task_vars), warm_timeout=settings["ray_image_pull_timeout"])
        result["has_work"] = bool(result["install_needed"] or not info["folders_ready"] or changed_files or rotate
                                  or result["start_needed"] or result["restart_needed"])
        return result

    def read(self, task_vars, query, log_offset):
        """The cache's state on its host: the run's snapshot when it holds it and nothing changed the host since (a
        no-op run reads the host once), else the role's own read."""
        facts = task_vars.get("ansible_facts") or {}
        held = (facts.get("ray_snapshot") or {}).get("registry_cache") or {}
        if log_offset < 0 and snapshot.usable(facts) and held.get("query") == query:
            return held["state"]
        info = self._execute_module(module_name=INFO_MODULE, task_vars=task_vars,
                                    module_args=dict(query, log_offset=log_offset))
        if info.get("failed"):
            raise AnsibleActionFail(f"Cannot read the LAN image cache's host {task_vars.get('inventory_hostname')}: "
                                    f"{info.get('msg')}", result=info)
        return info

    @staticmethod
    def state(ctx):
        settings = ctx.settings
        host, url = registry_cache.location(settings, ctx.head_hosts, ctx.worker_hosts, ctx.head_host, ctx.node_address)
        return {"active": bool(host), "host": host, "port": settings["registry_cache_port"], "url": url,
                "upstream": registry_cache.upstream(settings) if host else "", "runs_here": bool(host) and ctx.host == host}

    @staticmethod
    def images_to_pull(ctx, task_vars):
        """The Docker Hub images any Ray host of this run lacks, from each host's snapshot (the preflight's read: every
        image a host runs when its engine did not answer then, or with the pull policy always), to fill the cache with
        before the pulls. A host without a snapshot (the role used on its own) adds nothing: what it lacks is unknown."""
        hostvars = task_vars.get("hostvars") or {}
        names = set()
        for host in ctx.ray_hosts:
            engine = role_settings.host_facts(hostvars, host, "ray_snapshot")
            if host in ctx.unreachable or not engine:
                continue
            wanted = images.wanted(ctx.settings, host, ctx.head_host, ctx.monitoring_host, ctx.derived)
            plan = images.plan(wanted, engine.get("images") if engine.get("engine_answers") else None,
                               ctx.settings["ray_image_pull_policy"])
            names |= {image["name"] for image in plan["to_pull"] if registry_cache.is_hub_image(image["name"])}
        return sorted(names)

    @staticmethod
    def pulled(ctx, task_vars):
        """{host: {address, images}} of the images each Ray host pulled in this run (role ray_image)."""
        hostvars = task_vars.get("hostvars") or {}
        pulled = {}
        for host in ctx.ray_hosts:
            names = (role_settings.host_value(hostvars, host, "ray_image_judged", {}) or {}).get("pulled_now") or []
            if names:
                pulled[host] = {"address": ctx.node_address(host), "images": names}
        return pulled

    @staticmethod
    def report(state, info, pulled):
        """Which source served which host's pulls of this run, from the cache's log since the run's offset."""
        outcome = registry_cache.sources(pulled, info["requests"])
        state = dict(state, running=info["running"] and info["answers"],
                     mode=registry_cache.MODE_PROXY if "proxy" in _json_or_empty(info["config"]) else registry_cache.MODE_OFFLINE)
        lines, degraded = registry_cache.report_lines(state, outcome, info["store_errors"], info["free_bytes"],
                                                      LOW_FREE_BYTES)
        return {"sources": outcome, "lines": lines, "degraded": degraded, "store_errors": info["store_errors"]}
