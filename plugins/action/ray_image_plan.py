"""Action plugin: the images a host runs, and which of them to load or pull (plugins/module_utils/images.py).

Without `pulled` it plans from the run's snapshot of the host: the images it needs, those it lacks, those to
load from an archive and those to pull. With `pulled` (the pull tasks' results, first attempt and retries)
it judges them: a required image that could not be had stops the run with the reason; an optional one is
left out, and the run goes on and ends degraded, saying so.
"""

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.ray_docker.cluster.plugins.module_utils import images
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import cluster_context, role_settings, snapshot



class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _, args = self.validate_argument_spec(argument_spec={"pulled": {"type": "list", "elements": "dict"}})
        with role_settings.refusals_fail(task_vars):
            ctx = cluster_context.build(self, task_vars, roles=("ray", "ray_image", "ray_monitoring"),
                                        names=("docker_registry_mirrors",))
        wanted = images.wanted(ctx.settings, ctx.host, ctx.head_host, ctx.monitoring_host)
        if args["pulled"] is not None:
            return self._judge(result, ctx, wanted, args["pulled"], task_vars)
        engine, _, fresh = snapshot.required(self, task_vars)
        if not engine.get("engine_answers") and not self._task.check_mode:
            raise AnsibleActionFail(f"The Docker engine on {ctx.host} does not answer ({engine.get('engine_error')}). "
                                    "Run the docker step first (runner.py docker).")
        plan = images.plan(wanted, engine.get("images"), ctx.settings["ray_image_pull_policy"])
        answers = bool(engine.get("engine_answers"))
        result.update(changed=False, engine_answers=answers, images=wanted,
                      present={name: (value or {}).get("Id") for name, value in (engine.get("images") or {}).items()},
                      has_work=bool(plan["to_load"] or plan["to_pull"] or not answers), **plan)
        return snapshot.keep(result, fresh)

    def _judge(self, result, ctx, wanted, pulled, task_vars):
        """The pulls' outcomes: required failures stop the run, optional ones are noted; the new image ids go into
        the host's snapshot (fact ray_engine), so the next roles see them without reading the host again."""
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
        engine = (task_vars.get("ansible_facts") or {}).get("ray_engine")
        ids = {name: {"Id": outcome["id"]} for name, outcome in last.items() if outcome.get("ok") and outcome.get("id")}
        if engine is not None and ids:
            result["ansible_facts"] = {"ray_engine": dict(engine, images={**(engine.get("images") or {}), **ids})}
        if required:
            result["failed"] = True
            raise AnsibleActionFail(" ".join(required), result=result)
        return result
