"""A new image for running nodes (a new Ray version, or your packages built into it): what to replace, what is
running on the cluster meanwhile, and how long the cluster was down. Pure functions over the snapshots and the
Jobs and state APIs' rows; the ray_cluster_upgrade action plugin runs them, roles/ray_cluster/tasks/upgrade.yml
applies them. Unit-tested in tests/unit/plugins/module_utils/test_upgrade.py.
"""

import re

from ansible_collections.ray_docker.cluster.plugins.module_utils import names

ACTIVE_JOB_STATES = ("PENDING", "RUNNING")
CHECK_JOB_PREFIX = "ray-docker-check-"


def version_of(row):
    """The Ray version a node container runs: its label, else the version in its image's tag, else ''."""
    labels = (row or {}).get("Labels") or {}
    if labels.get(names.RAY_VERSION):
        return labels[names.RAY_VERSION]
    match = re.search(r":(\d+\.\d+\.\d+)", str((row or {}).get("Image") or ""))
    return match.group(1) if match else ""


def replacements(containers, planned):
    """The node containers of a host whose image is not the planned one: [{container, role, image, image_id,
    version}] from the snapshot's rows. `planned`: {image, image_id}. A container the plan does not have, or one
    missing, is no replacement (a first deployment, a host joining)."""
    found = []
    for name, row in sorted((containers or {}).items()):
        role = names.role_of(row)
        if role not in (names.HEAD, names.WORKER):
            continue
        labels = (row or {}).get("Labels") or {}
        image_id = labels.get(names.IMAGE_ID) or (row or {}).get("ImageID") or ""
        same_name = (row or {}).get("Image") in ("", None, planned["image"])
        same_id = not planned.get("image_id") or image_id == planned["image_id"]
        if same_name and same_id:
            continue
        found.append({"container": name, "role": role, "image": (row or {}).get("Image") or "", "image_id": image_id,
                      "version": version_of(row), "node_name": labels.get(names.NODE) or ""})
    return found


def summary(replaced_by_host, planned_version, planned_image):
    """What the whole cluster changes: {upgrading, from (versions), to, images (old), hosts}."""
    rows = [row for rows in replaced_by_host.values() for row in rows]
    return {"upgrading": bool(rows), "from": sorted({row["version"] for row in rows if row["version"]}),
            "to": planned_version, "image": planned_image, "old_images": sorted({row["image"] for row in rows}),
            "hosts": sorted(host for host, rows in replaced_by_host.items() if rows)}


def failed_hosts(play_hosts_all, play_hosts, skipped):
    """Hosts that dropped out of the run since it started (a pull that failed), apart from those the preflight
    skipped (switched off)."""
    return [host for host in play_hosts_all if host not in play_hosts and host not in (skipped or [])]


def active_jobs(jobs):
    """Jobs of the user's (the check's own are the project's) that are PENDING or RUNNING: [{id, status, entrypoint}]."""
    active = []
    for job in jobs or []:
        job_id = job.get("submission_id") or job.get("job_id") or ""
        if str(job.get("status")) in ACTIVE_JOB_STATES and not job_id.startswith(CHECK_JOB_PREFIX):
            active.append({"id": job_id, "status": str(job.get("status")), "entrypoint": job.get("entrypoint") or ""})
    return active


def jobs_message(jobs):
    return ", ".join(f"{job['id']} ({job['status']}: {job['entrypoint'][:60]})" for job in jobs)


def detached_actors(actors):
    """Detached actors that are alive: they belong to the old GCS store and are lost with the old nodes."""
    return [f"{row.get('ray_namespace') or '-'}/{row.get('name') or row.get('actor_id')} ({row.get('class_name')})"
            for row in actors or [] if row.get("is_detached") and row.get("state") == "ALIVE"]


def node_ids(rows, node_names):
    """{node name: node id} of the ALIVE registrations of `node_names` (the dashboard's node rows)."""
    alive = {}
    for row in rows or []:
        if row.get("state") == "ALIVE" and row.get("node_name") in node_names:
            alive[row["node_name"]] = row["node_id"]
    return alive


def drain_argv(gcs_address, node_id, reason, deadline):
    """`ray drain-node` as the container runs it: Ray's own DrainNode call (GCS), a preemption with our reason and a
    deadline; tasks stop landing on the node at once, and it exits when idle or at the deadline."""
    return ["ray", "drain-node", "--address", gcs_address, "--node-id", node_id, "--reason",
            "DRAIN_NODE_REASON_PREEMPTION", "--reason-message", reason, "--deadline-remaining-seconds", str(int(deadline))]


def steps(marks):
    """{step: seconds} between the upgrade's time marks (in order) and the downtime: from the first old node
    stopped to the new cluster's check passing."""
    ordered = [(name, moment) for name, moment in marks if moment is not None]
    table = {}
    for (_, earlier), (name, later) in zip(ordered, ordered[1:]):
        table[name] = round(later - earlier, 1)
    marked = dict(ordered)
    downtime = round(marked["proven"] - marked["stopping"], 1) if "proven" in marked and "stopping" in marked else None
    return table, downtime
