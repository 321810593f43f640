"""Action plugin: the one archive of `runner.py logs`, on the control node.

Every host's collection (module ray_logs_collect, fetched here) and the runs' records (.artifacts, next to the
playbooks of a checkout) go into one tar.gz with an INDEX.txt of what came from where; in every member the
cluster's token and passwords (the control node's copies) are replaced by <redacted> (plugins/module_utils/logs_bundle.py).
"""

import io
import os
import tarfile
import tempfile
import time

from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import logs_bundle
from ansible_collections.ray_docker.cluster.plugins.plugin_utils.plan_action import PlanAction


class ActionModule(PlanAction):
    ROLES = ("ray", "ray_cluster", "ray_monitoring")
    ARGUMENTS = {"archives": {"type": "dict", "required": True},
                 "artifacts_dir": {"type": "path", "default": ""},
                 "dest": {"type": "path", "required": True}}

    def plan(self, ctx, args, task_vars, result):
        grafana = ctx.settings.get("ray_monitoring_grafana_password_file") or os.path.join(ctx.config_dir,
                                                                                            "grafana_admin_password")
        secrets = []
        for path in (ctx.token_file, ctx.redis_password_file, os.path.expanduser(grafana)):
            try:
                with open(path, "rb") as handle:
                    secrets.append(handle.read().strip())
            except OSError:
                pass
        rows, dest = [], args["dest"]
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        try:
            with tarfile.open(dest, "w:gz") as out:
                for host, path in sorted(args["archives"].items()):
                    with tarfile.open(path, "r:gz") as part:
                        for member in part.getmembers():
                            if member.isfile():
                                self._add(out, f"{host}/{member.name}", part.extractfile(member), secrets, rows,
                                          f"{host}:{member.name}")
                for folder, _, files in os.walk(args["artifacts_dir"]) if args["artifacts_dir"] else ():
                    for name in sorted(files):
                        path = os.path.join(folder, name)
                        with open(path, "rb") as handle:
                            member = os.path.join("artifacts", os.path.relpath(path, args["artifacts_dir"]))
                            self._add(out, member, handle, secrets, rows, f"control node: {path}")
                self._add(out, "INDEX.txt", io.BytesIO(logs_bundle.index_text(rows).encode()), [], [], "")
        except (OSError, tarfile.TarError) as exc:
            raise AnsibleActionFail(f"cannot write {dest}: {exc}")
        return dict(result, changed=True, file=os.path.abspath(dest), bytes=os.path.getsize(dest), files=len(rows),
                    hosts=sorted(args["archives"]))

    @staticmethod
    def _add(out, member, handle, secrets, rows, source):
        """One member, redacted through a temporary file (bounded memory whatever the log's size)."""
        with tempfile.TemporaryFile() as redacted:
            size = logs_bundle.redact_stream(handle, redacted, secrets)
            redacted.seek(0)
            info = tarfile.TarInfo(member)
            info.size, info.mtime = size, int(time.time())
            out.addfile(info, redacted)
        if source:
            rows.append({"member": member, "bytes": size, "source": source})
