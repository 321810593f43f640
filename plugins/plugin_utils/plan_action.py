"""The beat every plan action shares (docker_plan, registry_cache_plan, ray_image_plan, ray_cluster_plan,
ray_monitoring_plan): read its arguments, build the cluster's context from the settings (a refused value fails the
task naming the host: nothing changed yet), take the run's snapshot of the host, make sure its engine answers, plan,
and keep a fresh read as the snapshot for the next role. A subclass says which roles' settings it reads (ROLES,
NAMES), its arguments (ARGUMENTS) and how it plans (`plan`); the action runs on the control node.
"""

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.ray_docker.cluster.plugins.plugin_utils import cluster_context, role_settings, snapshot


class EngineMissing(Exception):
    """The host's Docker engine does not answer (in check mode: the docker role only pretended to start it)."""


class PlanAction(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # only a fresh read of the host connects (_execute_module)
    _supports_check_mode = True
    ROLES = ("ray",)
    NAMES = ()
    ARGUMENTS = {}

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _, args = self.validate_argument_spec(argument_spec=self.ARGUMENTS)
        with role_settings.refusals_fail(task_vars):
            ctx = cluster_context.build(self, task_vars, roles=self.ROLES, names=self.NAMES)
        result["changed"] = False
        return self.plan(ctx, args, task_vars, result)

    def plan(self, ctx, args, task_vars, result):
        raise NotImplementedError

    def snapshot(self, task_vars):
        """(ray_snapshot, ray_host, fresh read or None) of the task's host: the run's snapshot, else one read of it."""
        return snapshot.required(self, task_vars)

    def require_engine(self, ctx, engine):
        """Fails the task when the host's engine does not answer; in check mode raises EngineMissing instead, which
        the caller turns into `has_work` (the docker role only pretended to start the engine)."""
        if engine.get("engine_answers"):
            return
        if self._task.check_mode:
            raise EngineMissing()
        raise AnsibleActionFail(f"The Docker engine on {ctx.host} does not answer ({engine.get('engine_error')}). "
                                "Start it first with the ray_docker.cluster.docker role (playbook ray_docker.cluster.docker).")

    @staticmethod
    def keep(result, fresh):
        return snapshot.keep(result, fresh)
