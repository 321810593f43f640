"""Every name the project gives a Docker object, and every label it puts on one, in one place (like Ray's autoscaler
tags.py): Python plans build them here, and the roles' YAML gets them from the plans, never spelling them itself.
"""

# Labels on every container (and the bridge network) of a cluster.
CLUSTER = "ray-docker.cluster"
ROLE = "ray-docker.role"
NODE = "ray-docker.node"
SPEC = "ray-docker.spec"
# Which monitoring service a container runs (prometheus, grafana).
SERVICE = "ray-docker.service"
# What a container's spec digest covers besides docker_container's parameters, so `--diff` shows a new image behind
# the same tag, a new token or password, a new config, not only a new digest.
IMAGE_ID = "ray-docker.image-id"
RAY_VERSION = "ray-docker.ray-version"
TOKEN_SHA256 = "ray-docker.token-sha256"
REDIS_PASSWORD_SHA256 = "ray-docker.redis-password-sha256"
CONFIG_SHA256 = "ray-docker.config-sha256"
DATASOURCE_SHA256 = "ray-docker.datasource-sha256"
PASSWORD_SHA256 = "ray-docker.password-sha256"

# Values of the ROLE label: which role a container belongs to.
HEAD, WORKER, GCS_STORE, MONITORING, REGISTRY = "head", "worker", "gcs-store", "monitoring", "registry"
CLUSTER_ROLES = (HEAD, WORKER, GCS_STORE)
# The monitoring role's parts: a container and a data volume each.
PROMETHEUS, GRAFANA = "prometheus", "grafana"


def head_container(cluster):
    return f"{cluster}-head"


def worker_container(cluster, number):
    return f"{cluster}-worker-{number}"


def node_name(container, host):
    """Ray's --node-name: the container and its host, unique across the cluster."""
    return f"{container}@{host}"


def gcs_store_container(cluster):
    return f"{cluster}-redis"


def gcs_store_volume(cluster):
    return f"{cluster}-gcs-redis"


def gcs_namespace(cluster, ray_version):
    """The GCS store's namespace: a new Ray version starts a fresh store and keeps the old one."""
    return f"{cluster}-{ray_version}"


def monitoring_container(cluster, part):
    return f"{cluster}-{part}"


def monitoring_volume(cluster, part):
    return f"{cluster}-{part}-data"


def registry_container(cluster):
    """The LAN registry of the derived image, on its build host (role ray_image)."""
    return f"{cluster}-registry"


def registry_volume(cluster):
    return f"{cluster}-registry-data"


def cluster_label(cluster):
    """The label filter of everything of the cluster on a host (`docker ps --filter label=...`)."""
    return f"{CLUSTER}={cluster}"


def role_of(row):
    """The ROLE label of a container as the engine query lists it ('' when it has none)."""
    return ((row or {}).get("Labels") or {}).get(ROLE) or ""
