"""Action plugin: the Ray cluster's nodes as the control node sees them, optionally waiting for them.

Runs on the control node (no module to ship: a re-run stays fast) against the head's dashboard
with the control node's copy of the auth token. The logic lives in plugins/module_utils/dashboard.py.
Without options it asks the Jobs API the project's settings point at (the head's address, the token's
file) and expects the nodes of the plan, but those of hosts the preflight skipped.

With `watch: true` (the deployment's per-host wait), while this host's nodes are missing it also
inspects their containers on the host (the probe module, over the host's own connection): a
container that exited or is crash-looping stops the wait at once, with the end of its log.
"""

import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


from ansible_collections.ray_docker.cluster.plugins.module_utils.containers import ContainerWatch, failure_message
from ansible_collections.ray_docker.cluster.plugins.module_utils.dashboard import DashboardError, wait_for_nodes
from ansible_collections.ray_docker.cluster.plugins.module_utils import monitoring
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import cluster_context, role_settings


WATCH_AFTER = 3.0   # seconds before the first look: a container just started is not yet a node
WATCH_EVERY = 2.0   # seconds between looks (each is one module run on the host)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def _inspect(self, names, task_vars, logs_tail=0):
        result = self._execute_module(module_name="ray_docker.cluster.docker_engine_info",
                                      module_args={"info": False, "inspect": names, "logs_tail": logs_tail},
                                      task_vars=task_vars)
        return None if result.get("failed") else result.get("inspected") or {}

    def _watcher(self, expected, task_vars, logs_tail):
        """on_missing callback: look at the containers of missing nodes now and then, raise when one failed."""
        host = task_vars.get("inventory_hostname", "?")
        containers = [name.rpartition("@")[0] for name in expected]
        watch = ContainerWatch(containers)
        started, last = time.monotonic(), [0.0]

        def on_missing(summary):
            now = time.monotonic()
            if now - started < WATCH_AFTER or now - last[0] < WATCH_EVERY:
                return
            last[0] = now
            missing = [name.rpartition("@")[0] for name in summary["missing"]]
            inspected = self._inspect(containers, task_vars)
            if inspected is None:  # the engine itself is not answering (e.g. restarting): keep waiting
                return
            problems = [(name, reason) for name, reason in watch.failures(inspected) if name in missing]
            if problems:
                logs = {name: (details or {}).get("logs", "") for name, details in
                        (self._inspect([name for name, _ in problems], task_vars, logs_tail) or {}).items()}
                raise DashboardError(failure_message(host, expected, problems, logs), summary=summary)

        return on_missing

    @staticmethod
    def _monitoring_urls(ctx, task_vars):
        """Where the user reaches Prometheus and Grafana: those that run (an image that could not be had leaves its
        part out), on the monitoring host."""
        images = role_settings.host_facts(task_vars.get("hostvars") or {}, ctx.monitoring_host, "ray_snapshot").get("images")
        parts = monitoring.running_parts(ctx.settings, images)
        urls = {}
        if parts["prometheus"]:
            urls["prometheus"] = ctx.url_on_monitoring_host(ctx.settings["ray_prometheus_port"])
        if parts["grafana"]:
            urls["grafana"] = ctx.url_on_monitoring_host(ctx.settings["ray_grafana_port"])
        return urls

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec={
            "dashboard_url": {"type": "str"},
            "token_file": {"type": "path"},
            "nodes": {"type": "str", "choices": ["cluster", "host"], "default": "cluster"},
            "expected_nodes": {"type": "list", "elements": "str"},
            "wait_timeout": {"type": "int", "default": 0},
            "watch": {"type": "bool", "default": False},
            "logs_tail": {"type": "int", "default": 25},
        })
        monitoring_urls = {}
        if not (args["dashboard_url"] and args["token_file"] and args["expected_nodes"] is not None):
            with role_settings.refusals_fail(task_vars):
                ctx = cluster_context.build(self, task_vars or {}, roles=("ray", "ray_monitoring"))
                monitoring_urls = self._monitoring_urls(ctx, task_vars or {})
            nodes = ctx.host_nodes() if args["nodes"] == "host" else ctx.expected_nodes
            args["dashboard_url"] = args["dashboard_url"] or ctx.dashboard_url
            args["token_file"] = args["token_file"] or ctx.token_file
            if args["expected_nodes"] is None:
                args["expected_nodes"] = [node["node_name"] for node in nodes]
        on_missing = self._watcher(args["expected_nodes"], task_vars, args["logs_tail"]) if args["watch"] else None
        try:
            summary = wait_for_nodes(args["dashboard_url"], args["token_file"], args["expected_nodes"],
                                     args["wait_timeout"], on_missing=on_missing)
        except OSError as exc:
            raise AnsibleActionFail(f"cannot read the Ray auth token: {exc}")
        except DashboardError as exc:
            result.update(exc.summary or {})
            raise AnsibleActionFail(str(exc), result=result)
        result.update(changed=False, dashboard_url=args["dashboard_url"], expected=args["expected_nodes"],
                      monitoring_urls=monitoring_urls, **summary)
        return result
