"""Action plugin: where the control node submits Ray jobs (the Jobs API URL, the token file, the cluster's Ray
version), from the settings alone: no connection, no module, so `runner.py job` learns it in one quick play."""

from ansible.plugins.action import ActionBase

from ansible_collections.ray_docker.cluster.plugins.plugin_utils import cluster_context, role_settings


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        self.validate_argument_spec(argument_spec={})
        with role_settings.refusals_fail(task_vars):
            ctx = cluster_context.build(self, task_vars or {}, roles=("ray",))
        result.update(changed=False, target={"dashboard_url": ctx.dashboard_url, "token_file": ctx.token_file,
                                             "ray_version": ctx.settings["ray_version"], "cluster_name": ctx.cluster_name,
                                             # where the head keeps its sessions' logs, for a job whose head was replaced
                                             "head_data_dir": ctx.node_data_dir(ctx.head_node["container"]) if ctx.head_node else ""})
        return result
