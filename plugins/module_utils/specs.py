"""Container specs that carry a digest of themselves, so one engine query tells a re-run what changed."""

import hashlib
import json

from ansible_collections.ray_docker.cluster.plugins.module_utils.names import SPEC as SPEC_LABEL


def with_spec_digest(spec, role):
    """The spec with its digest label (over every docker_container parameter), and its role for the play."""
    spec = dict(spec, labels={key: value for key, value in spec["labels"].items() if key != SPEC_LABEL})
    spec["labels"][SPEC_LABEL] = hashlib.sha256(json.dumps(spec, sort_keys=True).encode("utf-8")).hexdigest()
    spec["role"] = role  # for the play's ordering; not a docker_container parameter
    return spec


def containers_to_reconcile(specs, running, compare_all=False):
    """The specs whose container is missing, not running, or carries another digest.

    `running` maps container names to what the engine lists (State, Labels). With compare_all every
    spec goes to docker_container, which then compares each setting itself.
    """
    if compare_all:
        return list(specs)
    stale = []
    for spec in specs:
        current = (running or {}).get(spec["name"]) or {}
        labels = current.get("Labels") or {}
        if current.get("State") != "running" or labels.get(SPEC_LABEL) != spec["labels"][SPEC_LABEL]:
            stale.append(spec)
    return stale
