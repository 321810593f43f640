"""Action plugin: take the run's snapshot of a host (module ray_host_facts with what every role will compare).

Without options it works out from the project's settings what the docker, ray_image, ray_cluster and
ray_monitoring roles will look at on this host (daemon.json, the images this host runs, the cluster's
containers, network, volume and files) and reads all of it in one module run. With options it runs the
module with exactly those. measure_data_dir=true (status) adds the data root's use to the worked-out
query. With outdated=true it reads nothing and marks the snapshot out of date, so the
next role that compares reads the host again. See plugins/plugin_utils/snapshot.py.
"""

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.ray_docker.cluster.plugins.plugin_utils import cluster_context, role_settings, snapshot


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        if args.get("outdated"):  # after a change: the next role that compares reads the host again
            engine = (task_vars.get("ansible_facts") or {}).get("ray_snapshot")
            return dict(result, changed=False,
                        ansible_facts={"ray_snapshot": dict(engine, outdated=True) if engine else None})
        measure = boolean(args.pop("measure_data_dir", False), strict=True)  # "false" from a plain -e is false
        if not args:
            with role_settings.refusals_fail(task_vars):
                ctx = cluster_context.build(self, task_vars, roles=snapshot.ROLES)
            args = snapshot.query(ctx)
        if measure:
            args["measure_data_dir"] = True
        result.update(self._execute_module(module_name=snapshot.MODULE, module_args=args, task_vars=task_vars))
        return result
