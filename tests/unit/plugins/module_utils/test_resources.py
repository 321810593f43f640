"""How the Ray nodes that share a host split its CPUs, GPUs and memory (plugins/module_utils/resources.py)."""

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import resources

GIB = 1024 ** 3
MIB = 1024 ** 2


def nodes_on(host, count, head=True):
    rows = []
    for index in range(count):
        role = "head" if head and index == 0 else "worker"
        container = "ray-head" if role == "head" else f"ray-worker-{index if head else index + 1}"
        rows.append({"host": host, "container": container, "role": role, "node_name": f"{container}@{host}"})
    return rows


def split(count, cpus=2, mem=24 * GIB, head=True, **variables):
    return resources.host_resources(nodes_on("h", count, head), {"cpus": cpus, "mem_total": mem}, variables)


@pytest.mark.parametrize("count, cpus, expected", [
    (1, 2, [2]),              # one node keeps the whole host
    (3, 2, [0, 1, 1]),        # the head gets the remainder last
    (3, 3, [1, 1, 1]),
    (3, 5, [1, 2, 2]),        # odd counts: the extra CPUs go to the workers first
    (4, 7, [1, 2, 2, 2]),
    (3, 1, [0, 1, 0]),
    (2, 16, [8, 8]),
])
def test_cpus_are_split_in_whole_numbers_and_add_up_to_the_host(count, cpus, expected):
    planned = split(count, cpus=cpus)
    assert [node["num_cpus"] for node in planned["nodes"]] == expected
    assert sum(expected) == cpus and planned["errors"] == []


def test_a_head_at_zero_cpus_leaves_all_of_them_to_the_workers():
    planned = split(3, cpus=4, ray_cluster_head_num_cpus=0)
    assert [node["num_cpus"] for node in planned["nodes"]] == [0, 2, 2]


def test_explicit_worker_cpus_and_the_head_takes_the_rest():
    planned = split(3, cpus=8, ray_cluster_worker_num_cpus=3)
    assert [node["num_cpus"] for node in planned["nodes"]] == [2, 3, 3]


def test_worker_host_without_head():
    planned = split(1, cpus=4, head=False)
    assert planned["nodes"][0]["role"] == "worker" and planned["nodes"][0]["num_cpus"] == 4


def test_memory_adds_up_to_the_host_minus_object_stores_and_the_documented_margin():
    mem = 24 * GIB
    planned = split(3, mem=mem)
    nodes = planned["nodes"]
    reserved = planned["host"]["reserved_memory"]
    assert reserved == int(mem * 0.1) // MIB * MIB
    shm = int(mem * 0.3 / 3) // MIB * MIB
    assert all(node["shm_bytes"] == shm and node["object_store_bytes"] == int(shm * 0.8) // MIB * MIB for node in nodes)
    # each container holds its Ray memory, its object store and Ray's own processes
    for node in nodes:
        system = resources.SYSTEM_MEMORY[node["role"]]
        assert node["memory_limit"] == node["memory"] + node["object_store_bytes"] + system
    assert sum(node["memory_limit"] for node in nodes) <= mem - reserved
    assert mem - reserved - sum(node["memory_limit"] for node in nodes) < 3 * MIB  # only MiB rounding is lost
    total_ray = sum(node["memory"] + node["object_store_bytes"] for node in nodes)
    assert total_ray == pytest.approx(mem - reserved - GIB - 2 * (GIB // 2), abs=3 * MIB)


def test_a_single_node_keeps_the_whole_host():
    planned = split(1, cpus=2, mem=8 * GIB)
    node = planned["nodes"][0]
    assert node["num_cpus"] == 2
    assert node["memory_limit"] == 8 * GIB - resources.MIN_RESERVED_MEMORY  # a tenth of 8 GiB is below 1 GiB


def test_explicit_memory_takes_its_size_and_the_rest_is_shared():
    planned = split(3, mem=24 * GIB, ray_cluster_head_memory="2G")
    head, *workers = planned["nodes"]
    assert head["memory"] == 2 * GIB
    assert head["memory_limit"] == 2 * GIB + head["object_store_bytes"] + GIB
    assert workers[0]["memory_limit"] == workers[1]["memory_limit"]
    assert head["memory_limit"] + 2 * workers[0]["memory_limit"] <= 24 * GIB - planned["host"]["reserved_memory"]


def test_reserved_memory_can_be_set():
    planned = split(1, mem=8 * GIB, ray_cluster_reserved_memory="3G")
    assert planned["host"]["reserved_memory"] == 3 * GIB
    assert planned["nodes"][0]["memory_limit"] == 5 * GIB


@pytest.mark.parametrize("variables, needle", [
    ({"ray_cluster_worker_num_cpus": 2}, "give its 3 Ray node(s) 4 CPUs, but it has 2"),
    ({"ray_cluster_head_num_cpus": 3}, "give its 3 Ray node(s) 3 CPUs, but it has 2"),
    ({"ray_cluster_worker_memory": "20G"}, "would need"),
    ({"ray_cluster_head_num_gpus": 1}, "GPUs, but ray_cluster_host_gpus says it has 0"),
])
def test_over_commit_is_refused_naming_host_and_variables(variables, needle):
    errors = split(3, **variables)["errors"]
    assert any(needle in error and error.startswith("host h:") for error in errors), errors
    assert any("ray_cluster_overcommit=true" in error for error in errors)


def test_over_commit_on_purpose():
    planned = split(3, ray_cluster_worker_num_cpus=2, ray_cluster_worker_memory="20G", ray_cluster_head_memory="1G",
                    ray_cluster_overcommit=True)
    assert planned["errors"] == []
    assert [node["num_cpus"] for node in planned["nodes"]] == [0, 2, 2]
    assert [node["memory"] for node in planned["nodes"]] == [GIB, 20 * GIB, 20 * GIB]
    # explicit worker memory leaves nothing to share: the head must be given its size too
    assert any("ray-head would have 0 MiB" in error for error in split(3, ray_cluster_worker_memory="20G",
                                                                        ray_cluster_overcommit=True)["errors"])


def test_too_little_memory_for_the_planned_nodes_is_refused():
    errors = split(8, mem=4 * GIB)["errors"]
    assert any("MiB for tasks" in error and "ray_node_count" in error for error in errors), errors


def test_object_store_must_fit_in_shm_and_meet_rays_minimum():
    errors = split(1, ray_cluster_shm_size="1G", ray_cluster_object_store_memory="2G")["errors"]
    assert any("does not fit in /dev/shm" in error for error in errors), errors
    errors = split(1, ray_cluster_shm_size="80M")["errors"]
    assert any("below Ray's minimum of 75 MiB" in error for error in errors), errors


def test_gpus_are_split_and_numbered():
    planned = split(3, ray_cluster_host_gpus=3)
    assert [node["num_gpus"] for node in planned["nodes"]] == [1, 1, 1]
    assert [node["gpu_ids"] for node in planned["nodes"]] == [["0"], ["1"], ["2"]]
    planned = split(3, ray_cluster_host_gpus=2)
    assert [node["gpu_ids"] for node in planned["nodes"]] == [[], ["0"], ["1"]]


def test_split_whole_keeps_explicit_values():
    assert resources.split_whole(5, ["head", "worker", "worker"], [None, 1, None]) == [2, 1, 2]
    assert resources.split_whole(2, ["head", "worker"], [0, None]) == [0, 2]


def test_the_least_memory_the_plan_fits_in():
    planned = split(3, mem=4 * GIB)
    host = planned["host"]
    assert planned["memory_errors"] is False or host["min_memory"] > 4 * GIB
    tight = split(8, mem=4 * GIB)
    assert tight["memory_errors"] and tight["host"]["min_memory"] > 4 * GIB
