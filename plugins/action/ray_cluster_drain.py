"""Action plugin: `runner.py drain HOST` from the control node (plugins/module_utils/upgrade.py for the drain call).

With `stage: plan`: the host's nodes (refused for the head's host, and for a host that is no Ray host), how many
tasks and actors run on them now (the state API), and the `ray drain-node` each node's container runs: a
preemption with ray_cluster_drain_deadline, so no new task lands there. With `stage: wait`: until those nodes left
the cluster (Ray ends a drained node once it is idle) or the deadline passed; the nodes still busy then are named, and
the playbook's removal of their containers ends them (`stop_timeout`: Ray's teardown, not a second drain), so what
ran there is retried elsewhere (Ray's drain only announces the deadline: a preempted node is for its owner to stop).
"""

import time

from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import cluster, upgrade
from ansible_collections.ray_docker.cluster.plugins.module_utils.dashboard import DashboardClient, DashboardError, read_token
from ansible_collections.ray_docker.cluster.plugins.plugin_utils.plan_action import PlanAction

GRACE = 2  # seconds beyond the deadline: a node that just became idle is still on its way out


class ActionModule(PlanAction):
    ROLES = ("ray", "ray_cluster")
    ARGUMENTS = {"stage": {"type": "str", "choices": ["plan", "wait"], "default": "plan"},
                 "node_ids": {"type": "list", "elements": "str", "default": []}}

    def plan(self, ctx, args, task_vars, result):
        host = ctx.settings["ray_cluster_drain_host"]
        if not host:
            raise AnsibleActionFail("no host to drain: set ray_cluster_drain_host to a worker host")
        if host not in ctx.ray_hosts:
            raise AnsibleActionFail(f"{host} is no Ray host of the inventory ({', '.join(ctx.ray_hosts)}): nothing was drained")
        if host == ctx.head_host:
            raise AnsibleActionFail(f"{host} runs the head: draining it would stop the whole cluster. Take the cluster "
                                    "down instead (playbook down), or move the head (ray_head) first. Nothing was drained.")
        try:
            client = DashboardClient(ctx.dashboard_url, read_token(ctx.token_file))
            if args["stage"] == "wait":
                return dict(result, **self.wait(client, args["node_ids"], ctx.settings["ray_cluster_drain_deadline"]))
            alive = upgrade.node_ids(client.list_nodes(), {node["node_name"] for node in ctx.host_nodes(host)})
            tasks = sum(len(client.list_state("tasks", [("node_id", node_id), ("state", "RUNNING")]))
                        for node_id in alive.values())
            actors = sum(len(client.list_state("actors", [("node_id", node_id), ("state", "ALIVE")]))
                         for node_id in alive.values())
        except (OSError, DashboardError) as exc:
            raise AnsibleActionFail(f"cannot ask the cluster about {host} ({exc}); nothing was drained")
        reason = f"ray-docker: {host} drained"
        drain = [{"container": node["container"], "node_name": node["node_name"],
                  "argv": upgrade.drain_argv(ctx.gcs_address, alive[node["node_name"]], reason,
                                             ctx.settings["ray_cluster_drain_deadline"])}
                 for node in ctx.host_nodes(host) if node["node_name"] in alive]
        return dict(result, host=host, drain=drain, node_ids=sorted(alive.values()),
                    containers=[node["container"] for node in ctx.host_nodes(host)], tasks=tasks, actors=actors,
                    stop_timeout=cluster.TEARDOWN_SECONDS, started=time.time())

    def wait(self, client, node_ids, deadline):
        """{seconds, still_alive}: the nodes still alive when the deadline passed (none when all left before)."""
        started = time.monotonic()
        while True:
            rows = client.list_nodes()
            left = [row["node_id"] for row in rows if row.get("node_id") in node_ids and row.get("state") == "ALIVE"]
            if not left or self._task.check_mode or time.monotonic() - started > deadline + GRACE:
                return {"seconds": round(time.monotonic() - started, 1), "still_alive": sorted(left)}
            time.sleep(1)
