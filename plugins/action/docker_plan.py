"""Action plugin: what the docker role does on a host, from one read of it (plugins/module_utils/docker_daemon.py).

Reads the run's snapshot of the host (or, for the docker role used on its own, asks the host once): whether an
engine answers and whose it is (Docker Desktop's or one on the host), its daemon.json, its mirrors. Plans the
merged daemon.json (the user's keys kept; a file that is not valid JSON is never touched) and how a running
engine takes it (reload or restart). With `verify: true` it checks instead that the engine reports every
configured mirror.
"""

from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import docker_daemon, registry_cache, wsl
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import snapshot
from ansible_collections.ray_docker.cluster.plugins.plugin_utils.plan_action import PlanAction


MODULE = "ray_docker.cluster.ray_host_facts"
NAMES = ("docker_registry_mirrors", "docker_insecure_registries", "docker_daemon_options", "docker_daemon_config_file",
         "docker_desktop_daemon_config_file", "docker_desktop_ready_timeout")


class ActionModule(PlanAction):
    ROLES = ("docker", "registry_cache")
    NAMES = NAMES
    ARGUMENTS = {"verify": {"type": "bool", "default": False}, "fresh": {"type": "bool", "default": False}}

    @staticmethod
    def _insecure(ctx, current):
        """docker_insecure_registries (else the file's own), and in a lab with a derived image its LAN registry: plain
        HTTP on the LAN, like the cache (a SIGHUP reload, no restart)."""
        insecure = list(ctx.settings["docker_insecure_registries"])
        registry = ctx.derived.get("registry") if ctx.derived["customized"] else ""
        if registry:
            insecure = insecure or list(current.get("insecure-registries") or [])
            insecure += [] if registry in insecure else [registry]
        return insecure

    def _snapshot(self, task_vars, settings, fresh=False):
        """The run's snapshot (ray_snapshot, ray_host), else the docker role's own read of the host."""
        facts = task_vars.get("ansible_facts") or {}
        if not fresh and snapshot.usable(facts):
            return facts["ray_snapshot"], facts["ray_host"]
        result = self._execute_module(module_name=MODULE, task_vars=task_vars, module_args={
            "engine": True, "daemon_json": settings["docker_daemon_config_file"],
            "desktop_daemon_json": settings["docker_desktop_daemon_config_file"] or "auto"})
        if result.get("failed"):
            raise AnsibleActionFail(result.get("msg") or "cannot read the host's engine state", result=result)
        return result["ansible_facts"]["ray_snapshot"], result["ansible_facts"]["ray_host"]

    def plan(self, ctx, args, task_vars, result):
        host, settings = ctx.host, ctx.settings
        engine, facts = self._snapshot(task_vars, settings, args["fresh"])
        info = engine.get("host_info") or {}
        active = [str(url) for url in ((info.get("RegistryConfig") or {}).get("Mirrors") or [])]
        kind = wsl.docker_engine_kind(info if engine.get("engine_answers") else None,
                                      facts.get("docker_desktop_integration", False))
        desktop = self._desktop(facts, settings) if kind == "desktop" else None
        read = engine.get("desktop_daemon_json") if kind == "desktop" else engine.get("daemon_json")
        wanted = self._wanted_mirrors(ctx, (read or {}).get("content"))
        if args["verify"]:
            return self._verify(result, host, engine, info, active, wanted, settings, desktop)

        if kind == "desktop":
            if not read:
                raise AnsibleActionFail(
                    f"{host} uses Docker Desktop, whose engine reads %USERPROFILE%\\.docker\\daemon.json, but the Windows "
                    "user's profile could not be found from the distribution (is Windows interop off?). Set "
                    "docker_desktop_daemon_config_file, e.g. /mnt/c/Users/<you>/.docker/daemon.json. Nothing was changed.")
        else:
            read = read or {"path": settings["docker_daemon_config_file"], "content": "", "exists": False,
                            "encoding": "utf-8"}
        path = read["path"]
        if read.get("content") is None or read.get("encoding") not in ("utf-8", None):
            raise AnsibleActionFail(
                f"{host}:{path} is not plain UTF-8 text (it reads as {read.get('encoding')}; Docker reads UTF-8 without a "
                "byte order mark only). Nothing was changed: save it as UTF-8, then re-run.")
        try:
            current = docker_daemon.parse(read["content"], f"{host}:{path}")
        except docker_daemon.DaemonJsonError as exc:
            raise AnsibleActionFail(str(exc))
        desired = docker_daemon.merge(current, wanted, self._insecure(ctx, current), settings["docker_daemon_options"])
        result.update(
            changed=False, kind=kind, engine_answers=bool(engine.get("engine_answers")),
            python_requests=bool(engine.get("python_requests")), config_file=path, config_exists=bool(read.get("exists")),
            current=current, desired=desired, config_changed=desired != current,
            changed_keys=docker_daemon.changed_keys(current, desired), apply=docker_daemon.apply_action(current, desired),
            server_version=info.get("ServerVersion") or "", mirrors_active=active,
            mirrors_missing=docker_daemon.mirrors_missing(wanted, active) if engine.get("engine_answers") else wanted)
        if desktop:
            # Desktop reads its daemon.json only when it starts: restart it when the file changes, and also when
            # the file already has the mirrors but the engine does not use them (an earlier restart failed).
            result["desktop"] = desktop
            result["restart_needed"] = bool(result["config_changed"]
                                            or (engine.get("engine_answers") and result["mirrors_missing"]))
            result["has_work"] = bool(result["restart_needed"] or not result["engine_answers"])
        else:
            result["has_work"] = bool(result["config_changed"] or not result["engine_answers"]
                                      or not result["python_requests"])
        if not result["has_work"]:  # nothing to apply: the snapshot's mirrors are the verdict
            self._verify(dict(result), host, engine, info, active, wanted, settings, desktop)
        return result

    @staticmethod
    def _wanted_mirrors(ctx, content):
        """docker_registry_mirrors, behind the cluster's LAN image cache when it uses one (role registry_cache)."""
        settings = ctx.settings
        host, url = registry_cache.location(settings, ctx.head_hosts, ctx.worker_hosts, ctx.head_host, ctx.node_address)
        if not host:
            return settings["docker_registry_mirrors"]
        try:
            current = docker_daemon.parse(content or "", "daemon.json").get("registry-mirrors") or []
        except docker_daemon.DaemonJsonError:
            current = []
        return registry_cache.engine_mirrors(url, settings["docker_registry_mirrors"], current, settings["registry_cache_port"])

    @staticmethod
    def _desktop(facts, settings):
        """Where Desktop's daemon.json is as Windows names it, and how to restart Desktop from here."""
        profile = facts.get("windows_profile_windows") or "%USERPROFILE%"
        paths = wsl.windows_paths(wsl.automount_root(facts.get("wsl_conf", "")))
        return {"windows_file": f"{profile}\\.docker\\daemon.json",
                "restart": wsl.desktop_restart_commands(paths, settings["docker_desktop_ready_timeout"])}

    def _verify(self, result, host, engine, info, active, wanted, settings, desktop=None):
        missing = docker_daemon.mirrors_missing(wanted, active)
        result.update(changed=False, mirrors_active=active, mirrors_missing=missing, server_version=info.get("ServerVersion"))
        if not engine.get("engine_answers"):
            if self._task.check_mode:  # the engine was only pretended to start
                return result
            raise AnsibleActionFail(f"The Docker engine on {host} does not answer: {engine.get('engine_error')}", result=result)
        if missing:
            where = (f"Docker Desktop's {desktop['windows_file']} (Settings > Docker Engine, then Apply & restart)"
                     if desktop else f"{settings['docker_daemon_config_file']} and the engine log")
            raise AnsibleActionFail(
                f"The engine on {host} does not use the mirrors {', '.join(missing)} (it reports {', '.join(active) or 'none'}). "
                f"Check {where}.", result=result)
        result["msg"] = f"Engine {info.get('ServerVersion')} uses mirrors: {', '.join(active) or 'none'}"
        return result
