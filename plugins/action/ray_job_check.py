"""Action plugin: prove every node of the Ray cluster works with a check job (see raydeploy/check.py).

Runs on the control node, which has ray[default] of the cluster's version, so no module is shipped
anywhere and a re-run whose verdict can be reused costs two HTTP requests.
"""


from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


from ansible_collections.ray_docker.cluster.plugins.module_utils.check import CheckError, run_check

DOCUMENTATION = r"""
action: ray_job_check
short_description: Submit the task/actor check job through Ray's Jobs API and compare it with the plan
options:
  dashboard_url: {description: Jobs API URL., type: str, required: true}
  token_file: {description: File holding the auth token on the control node., type: path, required: true}
  expected_nodes: {description: Ray node names that must be alive., type: list, elements: str, required: true}
  expected_ray_version: {description: Ray version every node must run., type: str, required: true}
  job_script: {description: The check job (a Python file) to run as the job's entrypoint., type: path, required: true}
  timeout: {description: Seconds to wait for the job., type: int, default: 300}
  node_wait: {description: Seconds to wait for a node that is restarting (registered before, not alive now)., type: int, default: 60}
  verdict_file: {description: Where a passing check records the node ids it verified (0600); a failing one removes it., type: path}
  reuse_verdict:
    description: Skip the job when the recorded passing verdict covers exactly the nodes alive now (same node ids).
    type: bool
    default: false
returns: check (passed, reasons, nodes_expected, nodes_alive, nodes, transfers, job_id, reused, ...)
"""


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec={
            "dashboard_url": {"type": "str", "required": True},
            "token_file": {"type": "path", "required": True},
            "expected_nodes": {"type": "list", "elements": "str", "required": True},
            "expected_ray_version": {"type": "str", "required": True},
            "job_script": {"type": "path", "required": True},
            "timeout": {"type": "int", "default": 300},
            "node_wait": {"type": "int", "default": 60},
            "verdict_file": {"type": "path"},
            "reuse_verdict": {"type": "bool", "default": False},
        })
        try:
            check = run_check(**args)
        except CheckError as exc:
            result.update(exc.data)
            raise AnsibleActionFail(str(exc), result=result)
        result.update(changed=False, check=check)
        return result
