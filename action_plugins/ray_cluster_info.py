"""Action plugin: the Ray cluster's nodes as the control node sees them, optionally waiting for them.

Runs on the control node (no module to ship: a re-run stays fast) against the head's dashboard
with the control node's copy of the auth token. The logic lives in raydeploy/dashboard.py.
"""

import sys
from pathlib import Path

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

PROJECT_ROOT = str(Path(__file__).resolve().parents[1])
if PROJECT_ROOT not in sys.path:  # the raydeploy package sits next to this folder
    sys.path.insert(0, PROJECT_ROOT)

from raydeploy.dashboard import DashboardError, wait_for_nodes  # noqa: E402

DOCUMENTATION = r"""
action: ray_cluster_info
short_description: Ray nodes from the dashboard's state API, compared with the expected names
options:
  dashboard_url: {description: The dashboard / Jobs API URL as the control node reaches it., type: str, required: true}
  token_file: {description: The auth token file on the control node., type: path, required: true}
  expected_nodes: {description: Ray node names that must be alive., type: list, elements: str, default: []}
  wait_timeout: {description: Seconds to wait for the expected nodes; 0 reports at once., type: int, default: 0}
returns: nodes (alive, head first), alive, missing, dead, unexpected, resources
"""


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec={
            "dashboard_url": {"type": "str", "required": True},
            "token_file": {"type": "path", "required": True},
            "expected_nodes": {"type": "list", "elements": "str", "default": []},
            "wait_timeout": {"type": "int", "default": 0},
        })
        try:
            summary = wait_for_nodes(args["dashboard_url"], args["token_file"], args["expected_nodes"], args["wait_timeout"])
        except OSError as exc:
            raise AnsibleActionFail(f"cannot read the Ray auth token: {exc}")
        except DashboardError as exc:
            result.update(exc.summary or {})
            raise AnsibleActionFail(str(exc), result=result)
        result.update(changed=False, dashboard_url=args["dashboard_url"], **summary)
        return result
