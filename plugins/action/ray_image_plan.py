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
            return self._judge(result, ctx, wanted, args["pulled"])
        engine, _, _ = snapshot.required(self, task_vars)
        if not engine.get("engine_answers") and not self._task.check_mode:
            raise AnsibleActionFail(f"The Docker engine on {ctx.host} does not answer ({engine.get('engine_error')}). "
                                    "Run the docker step first (runner.py docker).")
        plan = images.plan(wanted, engine.get("images"), ctx.settings["ray_image_pull_policy"])
        result.update(changed=False, engine_answers=bool(engine.get("engine_answers")), images=wanted,
                      present={name: (value or {}).get("Id") for name, value in (engine.get("images") or {}).items()},
                      **plan)
        return result

    def _judge(self, result, ctx, wanted, pulled):
        """The last outcome of each image's pull: required failures stop the run, optional ones are noted."""
        last = {}
        for outcome in pulled:  # in order: a retry's outcome replaces the first attempt's
            image = outcome.get("item") or {}
            image = image.get("item", image)  # a background pull's status carries the pull's item
            if image.get("name") and not outcome.get("skipped"):
                last[image["name"]] = outcome
        mirrors = [str(url) for url in ctx.settings.get("docker_registry_mirrors") or []]
        attempts = ctx.settings["ray_image_pull_retries"]
        required, notes, unavailable = [], [], []
        for image in wanted:
            outcome = last.get(image["name"])
            if outcome is None or not outcome.get("failed"):
                continue
            message = images.failure_message(ctx.host, image, outcome.get("msg"), mirrors, attempts)
            if image["required"]:
                required.append(message)
            else:
                notes.append(message)
                unavailable.append(image["role"])
        result.update(changed=False, judged=len(last), unavailable=unavailable, notes=notes)
        if required:
            result["failed"] = True
            raise AnsibleActionFail(" ".join(required), result=result)
        return result
