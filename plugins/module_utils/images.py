"""Which images a host needs, which of them it lacks, and what a failed pull means.

The Ray image is needed everywhere, and the GCS store's Redis on the head's host with head fault tolerance:
without them there is no cluster. Prometheus and Grafana are wanted on the monitoring host only, and are
optional: when they cannot be had the cluster is still deployed and proven, and the run ends degraded,
saying what was left out and how to get it.
"""


def wanted(settings, host, head_host, monitoring_host, derived=None):
    """[{name, archive, archive_variable, required, role}] of the images `host` runs, each once.

    With a derived image (`derived`: plugin_utils/derived.py's plan, customized), the build host needs the pinned
    image to build from (and in a lab the LAN registry's image) and builds the nodes' image (`build`); every other
    host pulls it from that registry once it is built (`after_build`)."""
    base = {"name": f"{settings['ray_image_repository']}:{settings['ray_image_tag']}", "role": "ray",
            "archive": settings.get("ray_image_archive") or "", "archive_variable": "ray_image_archive", "required": True}
    if not (derived or {}).get("customized"):
        images = [base]
    elif host == derived["build_host"]:
        images = [dict(base, role="ray base"),
                  {"name": derived["image"], "role": "ray", "archive": "", "archive_variable": "", "required": True,
                   "build": True}]
        if derived["shared"]:
            images.append({"name": settings["ray_image_registry_image"], "role": "registry", "archive": "",
                           "archive_variable": "", "required": True})
    else:
        images = [{"name": derived["image"], "role": "ray", "archive": "", "archive_variable": "", "required": True,
                   "after_build": derived["build_host"]}]
    if settings.get("ray_gcs_fault_tolerance") and host == head_host:
        images.append({"name": settings["ray_gcs_redis_image"], "role": "redis", "required": True,
                       "archive": settings.get("ray_image_redis_archive") or "", "archive_variable": "ray_image_redis_archive"})
    if settings.get("ray_monitoring_enabled") and host == monitoring_host:
        images.append({"name": settings["ray_prometheus_image"], "role": "prometheus", "required": False,
                       "archive": settings.get("ray_image_prometheus_archive") or "",
                       "archive_variable": "ray_image_prometheus_archive"})
        if settings.get("ray_monitoring_grafana_enabled"):
            images.append({"name": settings["ray_grafana_image"], "role": "grafana", "required": False,
                           "archive": settings.get("ray_image_grafana_archive") or "",
                           "archive_variable": "ray_image_grafana_archive"})
    unique = {}
    for image in images:
        unique.setdefault(image["name"], image)
    return list(unique.values())


def split_reference(name):
    """('registry:5000/repo', 'tag') of 'registry:5000/repo:tag'."""
    repository, _, tag = name.rpartition(":")
    if not repository or "/" in tag:
        return name, "latest"
    return repository, tag


def plan(images, present, policy="not_present"):
    """What to do on a host: {missing, to_load, to_pull, to_build, to_pull_built} (lists of image rows) from
    `present` (name -> {Id} or None). A derived image is built when missing (never pulled: its name is its inputs'
    digest, so a present one is the right one), and pulled by the other hosts after the build."""
    missing = [image for image in images if not (present or {}).get(image["name"])]
    missing_names = {image["name"] for image in missing}

    def pull_row(image):
        return dict(image, repository=split_reference(image["name"])[0], tag=split_reference(image["name"])[1])

    fetched = [image for image in images if not image.get("build") and not image.get("after_build")]
    to_load = [image for image in missing if image["archive"]]
    to_pull = [pull_row(image) for image in fetched
               if not image["archive"] and (policy == "always" or image["name"] in missing_names)]
    return {"missing": missing, "to_load": to_load, "to_pull": to_pull,
            "to_build": [image for image in missing if image.get("build")],
            "to_pull_built": [pull_row(image) for image in missing if image.get("after_build")]}


def failure_message(host, image, reason, mirrors, attempts):
    """One line that names the image, where it was looked for, why it matters and what to do."""
    where = ", ".join(mirrors) if mirrors else "Docker Hub (no docker_registry_mirrors set)"
    reason = " ".join(str(reason or "no reason given").split())
    if image.get("after_build"):
        return (f"{host} could not pull {image['name']} from the LAN registry on {image['after_build']} after {attempts} "
                f"attempts ({reason}). The nodes run that image (ray_image_pip_packages, ...): let the Ray hosts reach "
                "ray_image_registry_port on that host (docs/lab.md), then run again. Nothing of the cluster was changed.")
    if image["required"]:
        why = ("the cluster cannot start without it" if image["role"] in ("ray", "ray base") else
               "the other hosts pull your derived image from it" if image["role"] == "registry" else
               "head fault tolerance (ray_gcs_fault_tolerance, on by default) keeps the cluster's state in it")
        return (f"{host} could not pull {image['name']} after {attempts} attempts ({reason}). Tried: {where}. No registry "
                f"that serves it is reachable, and {why}. Set docker_registry_mirrors to a Docker Hub mirror you can reach "
                "(e.g. -e '{\"docker_registry_mirrors\": [\"http://mirror.example:5000\"]}') and run the docker step, or "
                f"set {image['archive_variable']} to a `docker save` archive of the image"
                + (", or turn head fault tolerance off (-e ray_gcs_fault_tolerance=false)" if image["role"] == "redis" else "")
                + ".")
    switch = ("ray_monitoring_grafana_enabled=false" if image["role"] == "grafana" else "ray_monitoring_enabled=false")
    return (f"{host}: left out {image['role'].capitalize()} ({image['name']}): it could not be pulled after {attempts} "
            f"attempts ({reason}). Tried: {where}. The Ray cluster does not need it. To have it, push {image['name']} to "
            f"your mirror or set {image['archive_variable']} to a `docker save` archive of it; to stop asking, set "
            f"{switch}.")
