"""The cluster as one task on one host sees it: typed settings, the hosts, the node plan, who is who.

Every planning action starts here, so that they all derive the same answer from the inventory: the head and
the monitoring host, the network mode, the node plan, the Jobs API's URL, the paths of the token and the
other secrets, the hosts the preflight left out. Values a role leaves empty ("derived") get their value here.
"""

import os
from dataclasses import dataclass, field

from ansible_collections.ray_docker.cluster.plugins.module_utils import topology
from ansible_collections.ray_docker.cluster.plugins.module_utils.derived_image import INPUT_VARIABLES
from ansible_collections.ray_docker.cluster.plugins.plugin_utils import derived, role_settings

CONFIG_HOME = os.path.join("~", ".config", "ray-docker")
HOST_CONFIG_HOME = "/etc/ray-docker"


@dataclass
class ClusterContext:
    host: str
    settings: dict
    head_hosts: list
    worker_hosts: list
    hosts: dict
    network_mode: str
    head_host: str
    monitoring_host: str
    nodes: list
    unreachable: list = field(default_factory=list)
    # The image the nodes ran before, when a rollback plans for it (ray_cluster_plan's `previous`).
    image_override: str = ""
    _derived: dict = field(default=None, repr=False)

    @property
    def derived(self):
        """The nodes' image and, with ray_image_* packages, how it is built (plugin_utils/derived.py), once."""
        if self._derived is None:
            self._derived = derived.plan(self)
        return self._derived

    @property
    def image(self):
        """The image every node runs: the pinned Ray image, or the one derived from it with the user's packages."""
        return self.image_override or self.derived["image"]

    @property
    def cluster_name(self):
        return self.settings["ray_cluster_name"]

    @property
    def ray_hosts(self):
        return topology.ray_hosts(self.head_hosts, self.worker_hosts)

    @property
    def facts(self):
        """This host's probe facts (ray_host)."""
        return (self.hosts.get(self.host) or {}).get("facts") or {}

    @property
    def expected_nodes(self):
        """The nodes this run deploys, waits for and checks: all but those of hosts the preflight skipped."""
        return [node for node in self.nodes if node["host"] not in self.unreachable]

    def host_nodes(self, host=None):
        return [node for node in self.nodes if node["host"] == (host or self.host)]

    def node_address(self, host):
        return topology.node_address(self.hosts.get(host))

    @property
    def token_file(self):
        """The auth token on the control node."""
        return os.path.expanduser(self.settings.get("ray_auth_token_file")
                                  or os.path.join(CONFIG_HOME, self.cluster_name, "auth_token"))

    @property
    def config_dir(self):
        """The control node's folder for this cluster's secrets and records (the token's)."""
        return os.path.dirname(self.token_file)

    @property
    def host_token_file(self):
        return self.settings.get("ray_auth_host_token_file") or f"{HOST_CONFIG_HOME}/{self.cluster_name}/auth_token"

    @property
    def host_config_dir(self):
        """Each host's folder for the cluster's files (token, Redis, Prometheus and Grafana configs)."""
        return os.path.dirname(self.host_token_file)

    @property
    def redis_password_file(self):
        return os.path.expanduser(self.settings.get("ray_gcs_redis_password_file")
                                  or os.path.join(self.config_dir, "redis_password"))

    @property
    def dashboard_url(self):
        """The Jobs API as the control node reaches it."""
        return self.settings.get("ray_dashboard_url") or topology.service_url(self.hosts.get(self.head_host),
                                                                             self.settings["ray_dashboard_port"])

    def url_on_monitoring_host(self, port):
        return topology.service_url(self.hosts.get(self.monitoring_host), port)

    @property
    def data_root(self):
        """The cluster's folder under ray_cluster_data_dir on every host: each node's Ray temp folder is in it."""
        return os.path.join(self.settings["ray_cluster_data_dir"], self.cluster_name)

    def node_data_dir(self, container):
        return os.path.join(self.data_root, container)

    @property
    def spill_root(self):
        """The cluster's folder under ray_cluster_spill_dir; '' when the spills go in each node's data folder."""
        root = self.settings.get("ray_cluster_spill_dir") or ""
        return os.path.join(root, self.cluster_name) if root else ""

    def spill_dir(self, container):
        root = self.spill_root
        return os.path.join(root, container) if root else os.path.join(self.node_data_dir(container), "spill")

    def container_log(self):
        """The Docker log limits every container of the cluster gets (json-file, a size and a file count)."""
        return {"max-size": str(self.settings["ray_container_log_max_size"]),
                "max-file": str(self.settings["ray_container_log_max_files"])}

    @property
    def head_node(self):
        """The plan's head node (container, node_name, ...); None without a head host."""
        return next((node for node in self.nodes if node["role"] == "head"), None)

    @property
    def gcs_address(self):
        """The head's GCS as the nodes reach it: the head container's name on a bridge network, else its address."""
        head = self.head_node
        host = head["container"] if self.network_mode == "bridge" and head else self.node_address(self.head_host)
        return f"{host}:{self.settings['ray_gcs_port']}"

    @property
    def local_head(self):
        return topology.reaches_head_locally(self.hosts.get(self.head_host))


def build(action, task_vars, roles=("ray",), names=()):
    """The context of the task's host, with the typed values of `roles`' variables and of `names`."""
    catalog = role_settings.Catalog(action._loader)
    wanted = {"ray_cluster_name", "ray_monitoring_enabled", "ray_monitoring_grafana_enabled", "ray_monitoring_host",
              "ray_network_mode", "ray_dashboard_port", "ray_auth_token_file", "ray_auth_host_token_file",
              "ray_dashboard_url", "ray_gcs_redis_password_file", "ray_cluster_data_dir", "ray_cluster_spill_dir",
              "ray_container_log_max_size", "ray_container_log_max_files", "ray_image_repository", "ray_image_tag",
              "ray_image_pip_index_url", "ray_image_pip_extra_index_urls", "ray_image_build_ca_file",
              "ray_image_registry_port", "registry_cache_enabled", "registry_cache_min_hosts", "registry_cache_host",
              *INPUT_VARIABLES}
    for role in roles:
        wanted |= set(catalog.roles[role].specs)
    wanted |= set(names)
    settings = role_settings.resolve(action, task_vars, sorted(wanted), catalog)
    head_hosts, worker_hosts, hosts = role_settings.cluster_hosts(task_vars, catalog)
    head_host = head_hosts[0] if head_hosts else ""
    monitoring_host = settings.get("ray_monitoring_host") or head_host
    counts = {host: data["node_count"] for host, data in hosts.items()}
    unreachable = list(((task_vars.get("ansible_facts") or {}).get("preflight_unreachable")) or [])
    return ClusterContext(
        host=task_vars.get("inventory_hostname", ""),
        settings=settings,
        head_hosts=head_hosts,
        worker_hosts=worker_hosts,
        hosts=hosts,
        network_mode=topology.network_mode(head_hosts, worker_hosts, settings.get("ray_network_mode", "auto")),
        head_host=head_host,
        monitoring_host=monitoring_host,
        nodes=topology.node_plan(head_hosts, worker_hosts, counts, settings["ray_cluster_name"]),
        unreachable=unreachable,
    )
