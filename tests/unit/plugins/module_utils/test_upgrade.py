"""Replacing nodes that run another image (plugins/module_utils/upgrade.py)."""

from ansible_collections.ray_docker.cluster.plugins.module_utils import upgrade

OLD = "rayproject/ray:2.59.0-py311-cpu"
NEW = "rayproject/ray:2.60.0-py311-cpu"


def row(role, image=OLD, image_id="sha256:old", version="2.59.0", node="ray-head@h0"):
    labels = {"ray-docker.role": role, "ray-docker.image-id": image_id, "ray-docker.node": node}
    if version:
        labels["ray-docker.ray-version"] = version
    return {"Image": image, "ImageID": image_id, "State": "running", "Labels": labels}


def test_nodes_on_another_image_are_replaced_and_the_rest_left_alone():
    containers = {"ray-head": row("head"), "ray-worker-1": row("worker", node="ray-worker-1@h0"),
                  "ray-redis": row("gcs-store", image="redis:7.0.15", version=""),
                  "ray-prometheus": row("monitoring", image="prom/prometheus:v2.53.3", version="")}
    found = upgrade.replacements(containers, {"image": NEW, "image_id": "sha256:new"})
    assert [(item["container"], item["role"], item["version"]) for item in found] == [
        ("ray-head", "head", "2.59.0"), ("ray-worker-1", "worker", "2.59.0")], "the GCS store and monitoring stay"
    same = {"ray-head": row("head", image=NEW, image_id="sha256:new", version="2.60.0")}
    assert upgrade.replacements(same, {"image": NEW, "image_id": "sha256:new"}) == []


def test_a_new_image_behind_the_same_tag_is_a_replacement_too():
    """Your packages built into a new image, or a tag pushed again: the name is the same, the id is not."""
    containers = {"ray-head": row("head", image=NEW, image_id="sha256:before", version="2.60.0")}
    assert [item["container"] for item in upgrade.replacements(containers, {"image": NEW, "image_id": "sha256:after"})] \
        == ["ray-head"]
    assert upgrade.replacements(containers, {"image": NEW, "image_id": ""}) == [], "no id known yet: not judged by it"


def test_the_version_of_a_container_made_before_the_label_comes_from_its_tag():
    assert upgrade.version_of(row("head", version="")) == "2.59.0"
    assert upgrade.version_of({"Image": "sha256:abc", "Labels": {}}) == ""


def test_the_summary_names_versions_images_and_hosts():
    plan = upgrade.summary({"h0": [{"version": "2.59.0", "image": OLD}], "h1": []}, "2.60.0", NEW)
    assert plan == {"upgrading": True, "from": ["2.59.0"], "to": "2.60.0", "image": NEW, "old_images": [OLD],
                    "hosts": ["h0"]}
    assert upgrade.summary({"h0": []}, "2.60.0", NEW)["upgrading"] is False


def test_a_host_that_failed_its_pull_is_named_and_a_switched_off_one_is_not():
    assert upgrade.failed_hosts(["h0", "h1", "h2"], ["h0"], ["h2"]) == ["h1"]
    assert upgrade.failed_hosts(["h0", "h1"], ["h0", "h1"], []) == []


def test_only_the_users_pending_and_running_jobs_count():
    jobs = [{"submission_id": "raysubmit_a", "status": "RUNNING", "entrypoint": "python train.py"},
            {"submission_id": "raysubmit_b", "status": "PENDING", "entrypoint": "python b.py"},
            {"submission_id": "raysubmit_c", "status": "SUCCEEDED", "entrypoint": "python c.py"},
            {"submission_id": "ray-docker-check-1", "status": "RUNNING", "entrypoint": "python -c ..."},
            {"job_id": "02000000", "submission_id": None, "status": "RUNNING", "entrypoint": "driver"}]
    active = upgrade.active_jobs(jobs)
    assert [job["id"] for job in active] == ["raysubmit_a", "raysubmit_b", "02000000"]
    assert upgrade.jobs_message(active[:1]) == "raysubmit_a (RUNNING: python train.py)"


def test_detached_actors_alive_are_named_as_lost():
    actors = [{"name": "counter", "ray_namespace": "lab", "class_name": "Counter", "is_detached": True, "state": "ALIVE"},
              {"name": "tmp", "ray_namespace": "lab", "class_name": "Tmp", "is_detached": False, "state": "ALIVE"},
              {"name": "old", "ray_namespace": "lab", "class_name": "Old", "is_detached": True, "state": "DEAD"}]
    assert upgrade.detached_actors(actors) == ["lab/counter (Counter)"]


def test_node_ids_of_the_alive_registrations_and_the_drain_command():
    rows = [{"node_name": "ray-worker-1@h1", "node_id": "dead1", "state": "DEAD"},
            {"node_name": "ray-worker-1@h1", "node_id": "abc", "state": "ALIVE"},
            {"node_name": "other", "node_id": "zzz", "state": "ALIVE"}]
    assert upgrade.node_ids(rows, {"ray-worker-1@h1"}) == {"ray-worker-1@h1": "abc"}
    argv = upgrade.drain_argv("10.0.0.1:6379", "abc", "upgrade", 30)
    assert argv[:3] == ["ray", "drain-node", "--address"] and "DRAIN_NODE_REASON_PREEMPTION" in argv
    assert argv[-2:] == ["--deadline-remaining-seconds", "30"]


def test_the_steps_and_the_downtime():
    table, downtime = upgrade.steps([("stopping", 100.0), ("stopped", 104.0), ("started", 105.5), ("alive", 111.0),
                                     ("proven", 114.2)])
    assert table == {"stopped": 4.0, "started": 1.5, "alive": 5.5, "proven": 3.2} and downtime == 14.2
    assert upgrade.steps([("stopping", 100.0), ("stopped", 104.0), ("proven", None)])[1] is None, "not proven: no downtime"
