"""Action plugin: prove every node of the Ray cluster works with a check job (see plugins/module_utils/check.py).

Runs on the control node, which has ray[default] of the cluster's version, so no module is shipped
anywhere and a re-run whose verdict can be reused costs two HTTP requests. Without options it checks the
cluster the project's settings describe: its Jobs API, its token, the nodes of the plan (but those of hosts
the preflight skipped), its Ray version, the verdict file next to the token.
"""

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.ray_docker.cluster.plugins.module_utils import derived_image
from ansible_collections.ray_docker.cluster.plugins.module_utils.check import CheckError, run_check
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import cluster_context, role_settings



class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec={
            "dashboard_url": {"type": "str"},
            "token_file": {"type": "path"},
            "expected_nodes": {"type": "list", "elements": "str"},
            "expected_ray_version": {"type": "str"},
            "job_script": {"type": "path", "required": True},
            "timeout": {"type": "int"},
            "node_wait": {"type": "int"},
            "verdict_file": {"type": "path"},
            "reuse_verdict": {"type": "bool"},
            "expect_packages": {"type": "bool", "default": True},
        })
        with role_settings.refusals_fail(task_vars):
            ctx = cluster_context.build(self, task_vars or {}, roles=("ray", "ray_check", "ray_image"))
        settings = ctx.settings
        defaults = {
            "dashboard_url": ctx.dashboard_url, "token_file": ctx.token_file,
            "expected_nodes": [node["node_name"] for node in ctx.expected_nodes],
            "expected_ray_version": settings["ray_version"], "timeout": settings["ray_check_timeout"],
            "node_wait": settings["ray_check_node_wait"], "reuse_verdict": settings["ray_check_reuse_verdict"],
            "verdict_file": os.path.expanduser(settings["ray_check_verdict_file"])
            or os.path.join(ctx.config_dir, "check_verdict.json"),
        }
        args = {key: defaults[key] if value is None and key in defaults else value for key, value in args.items()}
        # Nodes whose host's wait failed earlier in this run (roles/ray_cluster/tasks/wait.yml) are not waited for.
        hostvars = (task_vars or {}).get("hostvars") or {}
        given_up = [node["node_name"] for node in ctx.expected_nodes
                    if (hostvars.get(node["host"]) or {}).get("ray_cluster_nodes_failed")]
        # Nodes of hosts the preflight skipped (switched off): not pinned a task (Ray may list them alive a while yet).
        skipped = [node["node_name"] for node in ctx.nodes if node["host"] in ctx.unreachable]
        # Every node imports the user's modules and those of the derived image's packages, and runs that very image;
        # not when proving a rollback to the image the nodes ran before (another image, maybe of other packages).
        derived = ctx.derived
        asked = None
        if args.pop("expect_packages") and (derived["customized"] or settings["ray_check_imports"]):
            asked = {"imports": list(settings["ray_check_imports"]),
                     "record": derived_image.IMAGE_RECORD if derived["customized"] else "",
                     "inputs": derived.get("digest", "")}
        try:
            check = run_check(**args, given_up=given_up, asked=asked, skipped=skipped)
        except CheckError as exc:
            result.update(exc.data)
            raise AnsibleActionFail(str(exc), result=result)
        result.update(changed=False, check=check)
        return result
