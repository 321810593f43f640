"""Action plugin: what the docker role does on a host, from one read of it (plugins/module_utils/docker_daemon.py).

Reads the run's snapshot of the host (or, for the docker role used on its own, asks the host once): whether an
engine answers and whose it is (Docker Desktop's or one on the host), its daemon.json, its mirrors. Plans the
merged daemon.json (the user's keys kept; a file that is not valid JSON is never touched) and how a running
engine takes it (reload or restart). With `verify: true` it checks instead that the engine reports every
configured mirror.
"""

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.ray_docker.cluster.plugins.module_utils import docker_daemon, wsl
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import role_settings

DOCUMENTATION = r"""
action: docker_plan
short_description: Plan the Docker engine's daemon.json on a host, or verify its mirrors
options:
  verify:
    description: Check that the engine reports every mirror of docker_registry_mirrors instead of planning.
    type: bool
    default: false
returns: kind, engine_answers, python_requests, config_file, current, desired, config_changed, changed_keys, apply,
  server_version, mirrors_active
"""

MODULE = "ray_docker.cluster.ray_host_facts"
NAMES = ("docker_registry_mirrors", "docker_insecure_registries", "docker_daemon_options", "docker_daemon_config_file",
         "docker_desktop_daemon_config_file")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # only the fallback read of the host connects (_execute_module)
    _supports_check_mode = True

    def _snapshot(self, task_vars, settings):
        """The run's snapshot (ray_engine, ray_host), else the docker role's own read of the host."""
        facts = task_vars.get("ansible_facts") or {}
        if facts.get("ray_engine") is not None and facts.get("ray_host") is not None:
            return facts["ray_engine"], facts["ray_host"]
        result = self._execute_module(module_name=MODULE, task_vars=task_vars, module_args={
            "engine": True, "daemon_json": settings["docker_daemon_config_file"],
            "desktop_daemon_json": settings["docker_desktop_daemon_config_file"] or "auto"})
        if result.get("failed"):
            raise AnsibleActionFail(result.get("msg") or "cannot read the host's engine state", result=result)
        return result["ansible_facts"]["ray_engine"], result["ansible_facts"]["ray_host"]

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        host = task_vars.get("inventory_hostname", "?")
        _, args = self.validate_argument_spec(argument_spec={"verify": {"type": "bool", "default": False}})
        try:
            settings = role_settings.resolve(self, task_vars, NAMES)
        except ValueError as exc:
            raise AnsibleActionFail(f"Settings refused for host {host}: {exc}. Nothing was changed.")
        engine, facts = self._snapshot(task_vars, settings)
        info = engine.get("host_info") or {}
        active = [str(url) for url in ((info.get("RegistryConfig") or {}).get("Mirrors") or [])]
        wanted = settings["docker_registry_mirrors"]
        if args["verify"]:
            return self._verify(result, host, engine, info, active, wanted, settings)

        kind = wsl.docker_engine_kind(info if engine.get("engine_answers") else None,
                                      facts.get("docker_desktop_integration", False))
        if kind == "desktop":
            read = engine.get("desktop_daemon_json")
            if not read:
                raise AnsibleActionFail(
                    f"{host} uses Docker Desktop, whose engine reads %USERPROFILE%\\.docker\\daemon.json, but the Windows "
                    "user's profile could not be found from the distribution (is Windows interop off?). Set "
                    "docker_desktop_daemon_config_file, e.g. /mnt/c/Users/<you>/.docker/daemon.json. Nothing was changed.")
        else:
            read = engine.get("daemon_json") or {"path": settings["docker_daemon_config_file"], "content": "",
                                                  "exists": False, "encoding": "utf-8"}
        path = read["path"]
        if read.get("content") is None or read.get("encoding") not in ("utf-8", None):
            raise AnsibleActionFail(
                f"{host}:{path} is not plain UTF-8 text (it reads as {read.get('encoding')}; Docker reads UTF-8 without a "
                "byte order mark only). Nothing was changed: save it as UTF-8, then re-run.")
        try:
            current = docker_daemon.parse(read["content"], f"{host}:{path}")
        except docker_daemon.DaemonJsonError as exc:
            raise AnsibleActionFail(str(exc))
        desired = docker_daemon.merge(current, wanted, settings["docker_insecure_registries"], settings["docker_daemon_options"])
        result.update(
            changed=False, kind=kind, engine_answers=bool(engine.get("engine_answers")),
            python_requests=bool(engine.get("python_requests")), config_file=path, config_exists=bool(read.get("exists")),
            current=current, desired=desired, config_changed=desired != current,
            changed_keys=docker_daemon.changed_keys(current, desired), apply=docker_daemon.apply_action(current, desired),
            server_version=info.get("ServerVersion") or "", mirrors_active=active,
            mirrors_missing=docker_daemon.mirrors_missing(wanted, active) if engine.get("engine_answers") else wanted)
        return result

    def _verify(self, result, host, engine, info, active, wanted, settings):
        missing = docker_daemon.mirrors_missing(wanted, active)
        result.update(changed=False, mirrors_active=active, mirrors_missing=missing, server_version=info.get("ServerVersion"))
        if not engine.get("engine_answers"):
            if self._task.check_mode:  # the engine was only pretended to start
                return result
            raise AnsibleActionFail(f"The Docker engine on {host} does not answer: {engine.get('engine_error')}")
        if missing:
            raise AnsibleActionFail(
                f"The engine on {host} does not use the mirrors {', '.join(missing)} (it reports {', '.join(active) or 'none'}). "
                f"Check {settings['docker_daemon_config_file']} and the engine log.", result=result)
        result["msg"] = f"Engine {info.get('ServerVersion')} uses mirrors: {', '.join(active) or 'none'}"
        return result
