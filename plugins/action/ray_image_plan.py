"""Action plugin: the images a host runs, and which of them to load or pull (plugins/module_utils/images.py).

Without `pulled` it plans from the run's snapshot of the host: the images it needs, those it lacks, those to
load from an archive and those to pull. With `pulled` (the pull tasks' results, first attempt and retries)
it judges them: a required image that could not be had stops the run with the reason; an optional one is
left out, and the run goes on and ends degraded, saying so.
"""

from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import derived_image, images, names
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import role_settings
from ansible_collections.ray_docker.cluster.plugins.plugin_utils.plan_action import EngineMissing, PlanAction


class ActionModule(PlanAction):
    ROLES = ("ray", "ray_image", "ray_monitoring", "registry_cache")
    NAMES = ("docker_registry_mirrors",)
    ARGUMENTS = {"pulled": {"type": "list", "elements": "dict"}, "down": {"type": "bool", "default": False}}

    def plan(self, ctx, args, task_vars, result):
        if args["down"]:  # the LAN registry of a derived image goes with the cluster; its volume (the image) stays
            engine, _, fresh = self.snapshot(task_vars)
            name = names.registry_container(ctx.cluster_name)
            result["down"] = {"containers": [name] if name in (engine.get("containers") or {}) else []}
            return self.keep(result, fresh)
        wanted = images.wanted(ctx.settings, ctx.host, ctx.head_host, ctx.monitoring_host, ctx.derived)
        if args["pulled"] is not None:
            return self._judge(result, ctx, wanted, args["pulled"], task_vars)
        engine, _, fresh = self.snapshot(task_vars)
        try:
            self.require_engine(ctx, engine)
        except EngineMissing:
            pass  # in check mode: every image is planned as missing (the engine was only pretended to start)
        plan = images.plan(wanted, engine.get("images"), ctx.settings["ray_image_pull_policy"])
        answers = bool(engine.get("engine_answers"))
        result.update(engine_answers=answers, images=wanted,
                      present={name: (value or {}).get("Id") for name, value in (engine.get("images") or {}).items()},
                      **plan, **self.derived(ctx, engine, plan, task_vars))
        keep = {image["name"] for image in wanted}
        if ctx.derived["customized"]:
            keep.add(derived_image.user_stage_reference(ctx.derived["digest"]))
        result["prune"] = derived_image.stale(engine.get("image_list"), keep, engine.get("containers"))
        result["has_work"] = bool(plan["to_load"] or plan["to_pull"] or plan["to_build"] or plan["to_pull_built"]
                                  or result["push"] or result["registry"].get("start") or result["registry_remove"]
                                  or result["prune"] or not answers)
        return self.keep(result, fresh)

    @staticmethod
    def derived(ctx, engine, plan, task_vars):
        """The derived image's part on this host: on its build host the LAN registry to start (a lab), whether to
        build, whether to push (built now, or another host lacks it); elsewhere only the pull (images.plan)."""
        derived = ctx.derived
        name = names.registry_container(ctx.cluster_name)
        found = {"image": derived["image"], "customized": derived["customized"], "registry": {}, "push": False,
                 "build_host": derived.get("build_host", ""), "registry_remove": []}
        if not derived["customized"] or ctx.host != derived["build_host"] or not derived["shared"]:
            # a LAN registry left from a lab that had packages, or whose build host moved: no longer needed here
            found["registry_remove"] = [name] if name in (engine.get("containers") or {}) else []
            return found
        if derived["shared"]:
            row = (engine.get("containers") or {}).get(name) or {}
            found["registry"] = {"container": name, "image": ctx.settings["ray_image_registry_image"],
                                 "port": ctx.settings["ray_image_registry_port"], "address": derived["registry"],
                                 "volume": names.registry_volume(ctx.cluster_name), "start": row.get("State") != "running",
                                 "labels": {names.CLUSTER: ctx.cluster_name, names.ROLE: names.REGISTRY},
                                 "log_options": ctx.container_log()}
            hostvars = task_vars.get("hostvars") or {}
            lacking = [host for host in ctx.ray_hosts if host != ctx.host and host not in ctx.unreachable
                       and not (role_settings.host_facts(hostvars, host, "ray_snapshot").get("images") or {}).get(derived["image"])]
            found["push"] = bool(plan["to_build"] or lacking)
        return found

    def _judge(self, result, ctx, wanted, pulled, task_vars):
        """The pulls' outcomes: required failures stop the run, optional ones are noted; the new image ids go into
        the host's snapshot (fact ray_snapshot), so the next roles see them without reading the host again."""
        last = {outcome["name"]: outcome for outcome in pulled if outcome.get("name")}
        mirrors = [str(url) for url in ctx.settings.get("docker_registry_mirrors") or []]
        attempts = ctx.settings["ray_image_pull_retries"]
        required, notes, unavailable = [], [], []
        for image in wanted:
            outcome = last.get(image["name"])
            if outcome is None or outcome.get("ok"):
                continue
            message = images.failure_message(ctx.host, image, outcome.get("msg"), mirrors, outcome.get("attempts") or attempts)
            if image["required"]:
                required.append(message)
            else:
                notes.append(message)
                unavailable.append(image["role"])
        result.update(changed=False, judged=len(last), unavailable=unavailable, notes=notes,
                      pulled_now=[name for name, outcome in last.items() if outcome.get("ok")])
        engine = (task_vars.get("ansible_facts") or {}).get("ray_snapshot")
        ids = {name: {"Id": outcome["id"]} for name, outcome in last.items() if outcome.get("ok") and outcome.get("id")}
        if engine is not None and ids:
            result["ansible_facts"] = {"ray_snapshot": dict(engine, images={**(engine.get("images") or {}), **ids})}
        if required:
            result["failed"] = True
            raise AnsibleActionFail(" ".join(required), result=result)
        return result
