"""Action plugin: build the nodes' derived image on its build host, and in a lab push it into the LAN registry.

The build contexts are made here, on the control node, from the settings and the files they name
(plugins/module_utils/derived_image.py): with ray_image_dockerfile its folder first (a stage FROM the pinned image),
then the packages' stage (the CA bundle, apt packages, one requirements.txt, the record of what to import). They go
to the host and the module docker_build_image builds them through the engine and pushes. A failed build fails the
task naming the culprit (the package pip or apt could not install, an untrusted certificate, an unreachable index)
and the build's last lines; nothing of the cluster has changed then.
"""

import io
import os
import tarfile
import tempfile

from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import derived_image
from ansible_collections.ray_docker.cluster.plugins.plugin_utils.plan_action import PlanAction

CONTEXT_LIMIT = 200 * 2**20  # a Dockerfile's folder larger than this is refused: put data elsewhere
SKIPPED = {".git", ".venv", "venv", "__pycache__", ".artifacts"}


def add_text(archive, name, text, mode=0o644):
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    archive.addfile(info, io.BytesIO(data))


def packages_context(path, derived):
    """The packages' stage: its Dockerfile and files, as a tar at `path`."""
    inputs, files = derived["inputs"], derived["files"]
    ca = files.get("ray_image_build_ca_file", "")
    with tarfile.open(path, "w") as archive:
        add_text(archive, "Dockerfile", derived_image.dockerfile_text(inputs, has_ca=bool(ca)))
        add_text(archive, "requirements.txt", inputs["requirements"])
        add_text(archive, "record_imports.py", derived_image.RECORD_IMPORTS)
        if ca:
            add_text(archive, "ray-docker-build-ca.crt", ca)


def folder_context(path, dockerfile):
    """The user's Dockerfile's folder as a tar at `path` (its Dockerfile as `Dockerfile`); refused over the limit."""
    folder = os.path.dirname(os.path.abspath(os.path.expanduser(dockerfile)))
    total = 0
    with tarfile.open(path, "w") as archive:
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(name for name in dirs if name not in SKIPPED)
            for name in sorted(files):
                full = os.path.join(root, name)
                relative = os.path.relpath(full, folder)
                if os.path.islink(full) or full == os.path.abspath(os.path.expanduser(dockerfile)):
                    continue
                total += os.path.getsize(full)
                if total > CONTEXT_LIMIT:
                    raise AnsibleActionFail(f"ray_image_dockerfile={dockerfile}: its folder {folder} holds more than "
                                            f"{CONTEXT_LIMIT // 2**20} MiB, all of which would be sent to the build. Put "
                                            "the Dockerfile in a folder of its own. Nothing was changed.")
                archive.add(full, arcname=relative, recursive=False)
        with open(os.path.expanduser(dockerfile), encoding="utf-8") as handle:
            add_text(archive, "Dockerfile", handle.read())


def proxy_args(settings):
    args = {}
    for variable, names in (("ray_image_build_http_proxy", ("http_proxy", "HTTP_PROXY")),
                            ("ray_image_build_https_proxy", ("https_proxy", "HTTPS_PROXY")),
                            ("ray_image_build_no_proxy", ("no_proxy", "NO_PROXY"))):
        if settings.get(variable):
            args.update({name: settings[variable] for name in names})
    return args


class ActionModule(PlanAction):
    TRANSFERS_FILES = True
    _requires_connection = True
    ROLES = ("ray", "ray_image", "registry_cache")
    ARGUMENTS = {"build": {"type": "bool", "default": True}, "push": {"type": "bool", "default": False}}

    def plan(self, ctx, args, task_vars, result):
        derived = ctx.derived
        if not derived["customized"] or ctx.host != derived["build_host"]:
            raise AnsibleActionFail(f"{ctx.host} builds no image: the derived image is built on "
                                    f"{derived.get('build_host') or 'no host (no ray_image_* packages set)'}")
        settings = ctx.settings
        if self._task.check_mode:
            return dict(result, changed=True, image=derived["image"], image_id="", pushed=False, seconds=0.0, stages=[])
        with tempfile.TemporaryDirectory(prefix="ray-docker-build-") as local:
            contexts, stages = [], []
            base = derived["base"]
            if derived["files"].get("ray_image_dockerfile"):
                contexts.append((os.path.join(local, "user.tar"), "user.tar"))
                folder_context(contexts[-1][0], settings["ray_image_dockerfile"])
                user_tag = derived_image.user_stage_reference(derived["digest"])
                stages.append({"tag": user_tag, "buildargs": {"RAY_IMAGE": base, **proxy_args(settings)}})
                base = user_tag
            contexts.append((os.path.join(local, "packages.tar"), "packages.tar"))
            packages_context(contexts[-1][0], derived)
            stages.append({"tag": derived["image"], "buildargs": {"BASE_IMAGE": base, "RAY_DOCKER_INPUTS": derived["digest"],
                                                                  **proxy_args(settings)}})
            if not args["build"]:  # built before: only the push
                contexts, stages = [], []
            tmp = self._make_tmp_path()
            try:
                for (path, name), stage in zip(contexts, stages):
                    stage["context"] = self._connection._shell.join_path(tmp, name)
                    self._transfer_file(path, stage["context"])
                self._fixup_perms2([tmp] + [stage["context"] for stage in stages])
                built = self._execute_module(module_name="ray_docker.cluster.docker_build_image", task_vars=task_vars,
                                             module_args={"stages": stages, "timeout": settings["ray_image_build_timeout"],
                                                          "push": derived["image"] if args["push"] else ""})
            finally:
                self._remove_tmp_path(tmp)
        if built.get("failed"):
            culprit = derived_image.build_failure(built.get("log_tail") or [], built.get("error") or built.get("msg", ""))
            tail = "\n".join(built.get("log_tail") or [])
            what = "pushing" if built.get("stage") == "push" else "building"
            raise AnsibleActionFail(f"{ctx.host}: {what} the nodes' image {derived['image']} failed: {culprit}. The "
                                    f"cluster was not changed (it runs what it ran). Last lines of the build:\n{tail}",
                                    result={"stage": built.get("stage"), "log_tail": built.get("log_tail"),
                                            "culprit": culprit})
        result.update(changed=True, image=derived["image"], image_id=built.get("image_id"), pushed=built.get("pushed"),
                      seconds=built.get("seconds"), stages=[{key: stage.get(key) for key in ("tag", "seconds")}
                                                            for stage in built.get("stages") or []])
        engine = (task_vars.get("ansible_facts") or {}).get("ray_snapshot")
        if engine is not None and built.get("image_id"):  # the next roles see the new image without asking again
            result["ansible_facts"] = {"ray_snapshot": dict(engine, images={**(engine.get("images") or {}),
                                                                             derived["image"]: {"Id": built["image_id"]}})}
        return result
