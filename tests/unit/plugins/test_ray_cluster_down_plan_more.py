"""What `down` removes on a host (plugins/action/ray_cluster_plan.py down_plan): the workers apart from the heads and
the GCS store, so the role can remove them first; other roles' containers, and what is not there, left alone."""

from ansible_collections.ray_docker.cluster.plugins.action.ray_cluster_plan import down_plan
from ansible_collections.ray_docker.cluster.plugins.module_utils import names, topology
from ansible_collections.ray_docker.cluster.plugins.plugin_utils.cluster_context import ClusterContext


def context(purge=False, spill_dir=""):
    settings = {"ray_cluster_name": "ray", "ray_cluster_network": "ray-net", "ray_cluster_data_dir": "/var/lib/ray-docker",
                "ray_cluster_spill_dir": spill_dir, "ray_cluster_purge_data": purge}
    return ClusterContext(host="h0", settings=settings, head_hosts=["h0"], worker_hosts=[], hosts={}, network_mode="bridge",
                          head_host="h0", monitoring_host="h0", nodes=topology.node_plan(["h0"], [], {"h0": 2}, "ray"))


CTX = context()


def container(role):
    return {"State": "running", "Labels": {names.CLUSTER: "ray", names.ROLE: role}}


def test_down_lists_the_workers_apart_from_the_heads_and_the_gcs_store():
    engine = {"containers": {"ray-head": container(names.HEAD), "ray-worker-1": container(names.WORKER),
                             "ray-worker-2": container(names.WORKER), "ray-redis": container(names.GCS_STORE),
                             "ray-prometheus": container(names.MONITORING), "someone-elses": {"Labels": {}}},
              "networks": {"ray-net": {"Id": "n1"}}, "volumes": {"ray-gcs-redis": {"Name": "ray-gcs-redis"}}}
    assert down_plan(CTX, engine) == {"workers": ["ray-worker-1", "ray-worker-2"], "others": ["ray-head", "ray-redis"],
                                      "network": "ray-net", "volumes": ["ray-gcs-redis"], "data": []}


def test_down_on_a_host_with_nothing_of_the_cluster_removes_nothing():
    assert down_plan(CTX, {"containers": {"other": {"Labels": {}}}}) == {"workers": [], "others": [], "network": "",
                                                                          "volumes": [], "data": []}


def test_the_nodes_data_folders_go_only_when_asked_and_only_when_there():
    """`down` keeps the nodes' logs for a post-mortem; ray_cluster_purge_data deletes the cluster's data folder (and
    its spill folder, when the spills are elsewhere)."""
    there = {"files": {"/var/lib/ray-docker/ray": {"exists": True, "directory": True}}}
    assert down_plan(CTX, there)["data"] == []
    assert down_plan(context(purge=True), there)["data"] == ["/var/lib/ray-docker/ray"]
    assert down_plan(context(purge=True), {"files": {}})["data"] == [], "nothing there: nothing to delete"
    apart = {"files": {"/var/lib/ray-docker/ray": {"exists": True}, "/mnt/big/ray": {"exists": True}}}
    assert down_plan(context(purge=True, spill_dir="/mnt/big"), apart)["data"] == ["/var/lib/ray-docker/ray", "/mnt/big/ray"]
