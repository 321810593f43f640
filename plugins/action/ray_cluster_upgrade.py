"""Action plugin: replacing nodes that run another image (a new Ray version, or your packages in a new image),
from the control node, around the swap that roles/ray_cluster/tasks/upgrade.yml applies
(plugins/module_utils/upgrade.py).

- `stage: prepare` (once, before anything stops): every host of the run must still be in it (its pull of the new
  images may have failed: then nothing stops); the jobs running on the old cluster are waited for, up to
  ray_cluster_upgrade_wait_seconds, or stopped with ray_cluster_upgrade_stop_jobs (else the run is refused naming
  them); the detached actors that will be lost are named; and per host, which old nodes to drain and remove.
- `stage: mark`: a moment, for the step table and the downtime.
- `stage: judge`: from the new nodes' wait and the check, whether to roll back, and the downtime.
All through the head's HTTP APIs (Jobs, state), which do not need the control node's Ray to match the cluster's.
"""

import time

from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import cluster, names, upgrade
from ansible_collections.ray_docker.cluster.plugins.module_utils.dashboard import DashboardClient, DashboardError, read_token
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import role_settings
from ansible_collections.ray_docker.cluster.plugins.plugin_utils.plan_action import PlanAction

POLL = 2.0


class ActionModule(PlanAction):
    ROLES = ("ray", "ray_cluster", "ray_image")
    ARGUMENTS = {"stage": {"type": "str", "choices": ["prepare", "mark", "judge"], "required": True},
                 "marks": {"type": "dict", "default": {}},
                 "alive": {"type": "dict", "default": {}},
                 "check": {"type": "dict", "default": {}}}

    def plan(self, ctx, args, task_vars, result):
        if args["stage"] == "mark":
            return dict(result, mark=time.time())
        if args["stage"] == "judge":
            return dict(result, **self.judge(ctx, args))
        return dict(result, **self.prepare(ctx, task_vars))

    def replaced(self, ctx, task_vars):
        """{host: [old node containers to replace]} from each host's plan (roles/ray_cluster/tasks/main.yml)."""
        hostvars = task_vars.get("hostvars") or {}
        return {host: list(((role_settings.host_value(hostvars, host, "ray_cluster_plan", {}) or {}).get("upgrade")
                            or {}).get("replace") or [])
                for host in ctx.ray_hosts if host not in ctx.unreachable}

    def prepare(self, ctx, task_vars):
        settings = ctx.settings
        by_host = self.replaced(ctx, task_vars)
        image = ctx.image
        plan = upgrade.summary(by_host, settings["ray_version"], image)
        failed = upgrade.failed_hosts(task_vars.get("ansible_play_hosts_all") or [], task_vars.get("ansible_play_hosts") or [],
                                      ctx.unreachable)
        if failed:
            raise AnsibleActionFail(f"{', '.join(failed)} could not get the new image {image} (see the failure above): "
                                    "nothing was stopped, the cluster still runs "
                                    f"{', '.join(plan['from']) or 'its old image'}. Fix that host, then run again.")
        client = DashboardClient(ctx.dashboard_url, self._token(ctx))
        down = self._old_cluster_down(client)
        if down:  # its head is gone (crashed, or never came): nothing runs on it to wait for or to drain
            jobs, actors, rows = {"waited": [], "stopped": []}, [], []
        else:
            jobs = self._settle_jobs(client, settings)
            try:
                actors = upgrade.detached_actors(client.list_state("actors", [("state", "ALIVE")]))
                rows = client.list_nodes()
            except DashboardError as exc:
                raise AnsibleActionFail(f"cannot ask the old cluster what runs on it ({exc}); nothing was stopped")
        names_of = {row["node_name"] for rows in by_host.values() for row in rows if row["node_name"]}
        alive = upgrade.node_ids(rows, names_of)
        reason = f"ray-docker: {', '.join(plan['old_images'])} replaced by {image}"
        gcs = ctx.gcs_address
        drain, remove = {}, {}
        for host, rows in by_host.items():
            workers = [row for row in rows if row["role"] == names.WORKER]
            drain[host] = [{"container": row["container"], "node_name": row["node_name"],
                            "argv": upgrade.drain_argv(gcs, alive[row["node_name"]], reason,
                                                       settings["ray_cluster_drain_deadline"])}
                           for row in workers if row["node_name"] in alive]
            remove[host] = {"workers": [row["container"] for row in workers],
                            "heads": [row["container"] for row in rows if row["role"] == names.HEAD]}
        previous = sorted({row["image"] for rows in by_host.values() for row in rows})
        return dict(plan, jobs_waited_for=jobs["waited"], jobs_stopped=jobs["stopped"], actors_lost=actors,
                    drain=drain, remove=remove, started=time.time(), old_cluster_down=down,
                    # `docker stop`: an old worker's drain gets this run's deadline (its container keeps the one it
                    # was created with), then Ray's teardown; the old head only its teardown (the jobs are settled,
                    # its detached actors are lost either way: no drain to wait for)
                    stop_timeouts={"workers": settings["ray_cluster_drain_deadline"] + cluster.TEARDOWN_SECONDS,
                                   "heads": cluster.TEARDOWN_SECONDS},
                    previous={"image": previous[0] if previous else "", "ray_version": (plan["from"] or [""])[0]})

    @staticmethod
    def _old_cluster_down(client):
        """'' when the old cluster's head answers; else why not, when nothing answers at all (a head that answers
        with an error, a rejected token for one, is something to ask about: the run stops)."""
        try:
            client.list_jobs()
        except DashboardError as exc:
            if exc.status is not None:
                raise AnsibleActionFail(f"cannot ask the old cluster what runs on it ({exc}); nothing was stopped")
            return str(exc)
        return ""

    def _token(self, ctx):
        try:
            return read_token(ctx.token_file)
        except (OSError, DashboardError) as exc:
            raise AnsibleActionFail(f"cannot read the cluster's token ({exc}); nothing was stopped")

    def _settle_jobs(self, client, settings):
        """Wait for the user's running jobs, or stop them when asked; refuse (nothing changed) when they still run."""
        deadline = time.monotonic() + settings["ray_cluster_upgrade_wait_seconds"]
        waited, stopped = [], []
        while True:
            try:
                active = upgrade.active_jobs(client.list_jobs())
            except DashboardError as exc:
                raise AnsibleActionFail(f"cannot list the old cluster's jobs ({exc}); nothing was stopped")
            if not active:
                return {"waited": sorted(set(waited)), "stopped": stopped}
            if settings["ray_cluster_upgrade_stop_jobs"]:
                for job in active:
                    if job["id"] not in stopped:
                        try:
                            client.stop_job(job["id"])
                        except DashboardError as exc:
                            raise AnsibleActionFail(f"cannot stop job {job['id']} ({exc}); nothing else was stopped")
                        stopped.append(job["id"])
                deadline = max(deadline, time.monotonic() + 60)  # stopping takes a few seconds
            elif time.monotonic() > deadline or self._task.check_mode:
                raise AnsibleActionFail(
                    f"jobs still running after {settings['ray_cluster_upgrade_wait_seconds']} s: "
                    f"{upgrade.jobs_message(active)}. Nothing was stopped. Wait for them, or run again with "
                    "-e ray_cluster_upgrade_stop_jobs=true to stop them (or a longer ray_cluster_upgrade_wait_seconds).")
            else:
                waited += [job["id"] for job in active]
            if time.monotonic() > deadline:
                raise AnsibleActionFail(f"jobs {upgrade.jobs_message(active)} did not stop; nothing else was stopped")
            time.sleep(POLL)

    @staticmethod
    def judge(ctx, args):
        """Roll back unless every host's new nodes came and the check passed; the step table and the downtime."""
        problems = [f"{host}: {outcome.get('msg') or 'its new nodes did not come'}"
                    for host, outcome in sorted((args["alive"] or {}).items()) if outcome.get("failed")]
        check = args["check"] or {}
        if not problems and (check.get("failed") or not (check.get("check") or {}).get("passed")):
            problems.append(check.get("msg") or "the check did not pass")
        marks = args["marks"] or {}
        table, downtime = upgrade.steps([(name, marks.get(name)) for name in
                                         ("stopping", "stopped", "started", "alive", "proven")])
        return {"rollback": bool(problems), "cause": "; ".join(problems), "steps": table, "downtime_seconds": downtime}
