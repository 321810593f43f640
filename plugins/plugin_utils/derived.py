"""The derived image of a run, as every plan on the control node sees it (plugins/module_utils/derived_image.py):
the files it is made of are read here, on the control node, once per plan."""

import os

from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import derived_image

FILES = ("ray_image_requirements_file", "ray_image_dockerfile", "ray_image_build_ca_file")


def read_files(settings):
    """{variable: text} of the control-node files the image is made of; refused naming the variable."""
    files = {}
    for name in FILES:
        path = settings.get(name)
        if not path:
            continue
        try:
            with open(os.path.expanduser(path), encoding="utf-8") as handle:
                files[name] = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise AnsibleActionFail(f"{name}={path}: cannot read it on the control node ({exc}); nothing was changed")
    return files


def plan(ctx):
    """{customized, base, image, ...}: the image every node runs, and with ray_image_* packages how it is made."""
    settings = ctx.settings
    base = f"{settings['ray_image_repository']}:{settings['ray_image_tag']}"
    if not derived_image.customized(settings):
        return {"customized": False, "base": base, "image": base}
    files = read_files(settings)
    if files.get("ray_image_dockerfile"):
        problem = derived_image.user_dockerfile_problem(files["ray_image_dockerfile"])
        if problem:
            raise AnsibleActionFail(f"ray_image_dockerfile={settings['ray_image_dockerfile']}: {problem}. Nothing was changed.")
    inputs = derived_image.inputs(settings, files)
    digest = derived_image.digest(inputs)
    host = derived_image.build_host(settings, ctx.head_hosts, ctx.worker_hosts, ctx.head_host)
    shared = derived_image.shared(ctx.head_hosts, ctx.worker_hosts)
    registry = derived_image.registry_address(settings, ctx.node_address(host)) if shared else ""
    return {"customized": True, "base": base, "image": derived_image.reference(settings, digest, registry),
            "digest": digest, "inputs": inputs, "files": files, "build_host": host, "shared": shared,
            "registry": registry}
