#!/usr/bin/python
"""Ansible module: the nodes of a running Ray cluster, optionally waiting until all are alive."""

DOCUMENTATION = r"""
module: ray_cluster_info
short_description: Report a Ray cluster's nodes and resources; wait until the expected nodes are alive
description:
  - Asks the head's dashboard (state API) for the cluster's nodes, authenticated with a token read from a file
    on the host the module runs on. The token never appears in arguments, results or logs.
  - With O(wait_timeout) > 0, polls until every name in O(expected_nodes) is alive and fails naming the missing ones.
options:
  dashboard_url:
    description: Dashboard URL as seen from the host running the module.
    type: str
    required: true
  token_file:
    description: File holding the cluster's auth token (empty when the cluster has no auth).
    type: path
    default: ""
  expected_nodes:
    description: Ray node names that must be alive.
    type: list
    elements: str
    default: []
  wait_timeout:
    description: Seconds to wait for the expected nodes; 0 reports at once.
    type: int
    default: 0
"""

RETURN = r"""
nodes:
  description: Alive nodes, head first (node_name, node_id, node_ip, is_head_node, resources_total).
  type: list
  returned: always
alive:
  description: Names of alive nodes.
  type: list
  returned: always
missing:
  description: Expected names that are not alive.
  type: list
  returned: always
resources:
  description: Total resources of the alive nodes (CPU, memory, object_store_memory, ...).
  type: dict
  returned: always
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.ray_dashboard import DashboardClient, DashboardError, read_token, summarize_nodes


def main():
    module = AnsibleModule(
        argument_spec={
            "dashboard_url": {"type": "str", "required": True},
            "token_file": {"type": "path", "default": ""},
            "expected_nodes": {"type": "list", "elements": "str", "default": []},
            "wait_timeout": {"type": "int", "default": 0},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        client = DashboardClient(params["dashboard_url"], read_token(params["token_file"]))
    except (OSError, DashboardError) as exc:
        module.fail_json(msg=f"cannot read the Ray auth token: {exc}")

    deadline = time.monotonic() + params["wait_timeout"]
    last_error, summary = None, None
    while True:
        try:
            summary = summarize_nodes(client.list_nodes(), params["expected_nodes"])
            last_error = None
        except DashboardError as exc:
            if exc.status in (401, 403):
                module.fail_json(msg=f"the Ray dashboard rejected the auth token: {exc}")
            last_error = str(exc)
        if summary is not None and not summary["missing"] and last_error is None:
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(1)

    waited = params["wait_timeout"] > 0
    if summary is None:
        module.fail_json(msg=f"the Ray dashboard did not answer{' within %d s' % params['wait_timeout'] if waited else ''}: {last_error}")
    if waited and summary["missing"]:
        module.fail_json(
            msg=(f"Ray nodes not alive after {params['wait_timeout']} s: {', '.join(summary['missing'])} "
                 f"(alive: {', '.join(summary['alive']) or 'none'}). Look at `docker logs <container>` on their hosts."),
            **summary,
        )
    module.exit_json(changed=False, dashboard_url=params["dashboard_url"], **summary)


if __name__ == "__main__":
    main()
