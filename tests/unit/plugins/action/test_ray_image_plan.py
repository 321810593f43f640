"""ray_image_plan: the images a host runs and which to load or pull, from the run's snapshot; with `pulled`, the
verdict on the pulls (a required image missing stops the run, an optional one is left out)."""

import pytest
from ansible.errors import AnsibleActionFail

from tests.unit.plugins.action.harness import (GRAFANA_IMAGE, PROMETHEUS_IMAGE, RAY_IMAGE, REDIS_IMAGE, Lab, engine,
                                               host_facts, image_id, run)

MIRROR = "http://mirror.lan:5000"


def plan(lab=None, host="head", args=None, check_mode=False, module_results=None):
    lab = lab or Lab()
    result, calls = run("ray_image_plan", lab.task_vars(host), args, check_mode=check_mode,
                        module_results=module_results)
    if module_results is None:
        assert calls == []
    return result


def names(rows):
    return [row["name"] for row in rows]


def test_the_head_of_one_host_runs_four_images_and_pulls_those_it_lacks():
    result = plan(Lab(engines={"head": engine(images={RAY_IMAGE: {"Id": "sha256:1"}, REDIS_IMAGE: None})}))
    assert names(result["images"]) == [RAY_IMAGE, REDIS_IMAGE, PROMETHEUS_IMAGE, GRAFANA_IMAGE]
    assert [(row["role"], row["required"]) for row in result["images"]] == [
        ("ray", True), ("redis", True), ("prometheus", False), ("grafana", False)]
    assert result["present"] == {RAY_IMAGE: "sha256:1", REDIS_IMAGE: None}
    assert names(result["missing"]) == [REDIS_IMAGE, PROMETHEUS_IMAGE, GRAFANA_IMAGE]
    assert result["to_load"] == []
    assert [(row["repository"], row["tag"]) for row in result["to_pull"]] == [
        ("redis", "7.0.15"), ("prom/prometheus", "v2.53.3"), ("grafana/grafana", "12.2.1")]
    assert result["engine_answers"] is True and result["has_work"] is True and result["changed"] is False


def test_a_worker_runs_the_ray_image_only_and_with_it_has_nothing_to_do():
    lab = Lab(heads=["head"], workers=["w1"], engines={"w1": engine(images=[RAY_IMAGE])})
    result = plan(lab, "w1")
    assert names(result["images"]) == [RAY_IMAGE]
    assert result["missing"] == [] and result["to_pull"] == [] and result["has_work"] is False


def test_the_monitoring_host_and_the_switches_decide_the_optional_images():
    lab = Lab(heads=["head"], workers=["w1"], variables={"ray_monitoring_host": "w1", "ray_gcs_fault_tolerance": False,
                                                         "ray_monitoring_grafana_enabled": False})
    assert names(plan(lab, "head")["images"]) == [RAY_IMAGE]
    assert names(plan(lab, "w1")["images"]) == [RAY_IMAGE, PROMETHEUS_IMAGE]


def test_an_archive_is_loaded_instead_of_pulled_and_always_pulls_every_other_image(tmp_path):
    archive = tmp_path / "ray.tar"
    archive.write_bytes(b"")
    lab = Lab(variables={"ray_image_archive": str(archive), "ray_monitoring_enabled": False,
                         "ray_image_pull_policy": "always"},
              engines={"head": engine(images=[REDIS_IMAGE])})
    result = plan(lab)
    assert names(result["to_load"]) == [RAY_IMAGE] and result["to_load"][0]["archive"] == str(archive)
    assert names(result["to_pull"]) == [REDIS_IMAGE], "always: pulled although present"


def test_the_settings_name_the_image():
    lab = Lab(variables={"ray_image_repository": "registry.lan:5000/ray", "ray_version": "2.61.0",
                         "ray_monitoring_enabled": False, "ray_gcs_fault_tolerance": False})
    result = plan(lab)
    assert names(result["images"]) == ["registry.lan:5000/ray:2.61.0-py311-cpu"]
    assert result["to_pull"][0]["repository"] == "registry.lan:5000/ray" and result["to_pull"][0]["tag"] == "2.61.0-py311-cpu"


def test_an_engine_that_does_not_answer_fails_and_in_check_mode_everything_is_missing():
    lab = Lab(variables={"ray_monitoring_enabled": False}, engines={"head": engine(answers=False)})
    with pytest.raises(AnsibleActionFail, match="The Docker engine on head does not answer"):
        plan(lab)
    result = plan(lab, check_mode=True)
    assert result["engine_answers"] is False and result["has_work"] is True
    assert names(result["to_pull"]) == [RAY_IMAGE, REDIS_IMAGE]


def test_without_a_snapshot_the_host_is_read_once_and_that_read_is_kept():
    read = {"changed": False, "ansible_facts": {"ray_host": host_facts(), "ray_snapshot": engine(images=[RAY_IMAGE])}}
    lab = Lab(variables={"ray_monitoring_enabled": False, "ray_gcs_fault_tolerance": False}, engines={"head": None})
    result, calls = run("ray_image_plan", lab.task_vars("head"), module_results=read)
    assert [call["module_name"] for call in calls] == ["ray_docker.cluster.ray_host_facts"]
    assert calls[0]["module_args"]["images"] == [RAY_IMAGE]
    assert result["has_work"] is False and result["ansible_facts"] == read["ansible_facts"]


def test_a_host_that_cannot_be_read_fails_with_the_probes_message():
    lab = Lab(engines={"head": None})
    with pytest.raises(AnsibleActionFail, match="Permission denied.*docker.sock"):
        run("ray_image_plan", lab.task_vars("head"),
            module_results={"failed": True, "msg": "Permission denied: /var/run/docker.sock"})


# ---------------------------------------------------------------- judging the pulls

def judge(pulled, variables=None, snapshot=None):
    lab = Lab(variables={"docker_registry_mirrors": [MIRROR], **(variables or {})},
              engines={"head": snapshot or engine(images={RAY_IMAGE: None})})
    return run("ray_image_plan", lab.task_vars("head"), {"pulled": pulled})


def test_pulled_images_go_into_the_snapshot_and_an_optional_failure_is_left_out():
    result, calls = judge(snapshot=engine(images={RAY_IMAGE: None, GRAFANA_IMAGE: {"Id": "sha256:grafana"}}), pulled=[
        {"name": RAY_IMAGE, "ok": False, "msg": "timeout"},  # first attempt
        {"name": RAY_IMAGE, "ok": True, "id": "sha256:new"},  # the retry: the last outcome counts
        {"name": REDIS_IMAGE, "ok": True, "id": "sha256:redis"},
        {"name": PROMETHEUS_IMAGE, "ok": False, "msg": "manifest unknown", "attempts": 2},
        {"ok": False, "msg": "no name"},
    ])
    assert calls == []
    assert result["judged"] == 3 and result["unavailable"] == ["prometheus"]
    assert result["pulled_now"] == [RAY_IMAGE, REDIS_IMAGE]
    assert len(result["notes"]) == 1 and result["notes"][0].startswith(
        f"head: left out Prometheus ({PROMETHEUS_IMAGE}): it could not be pulled after 2 attempts (manifest unknown). "
        f"Tried: {MIRROR}.")
    assert result["ansible_facts"]["ray_snapshot"]["images"] == {RAY_IMAGE: {"Id": "sha256:new"},
                                                              REDIS_IMAGE: {"Id": "sha256:redis"},
                                                              GRAFANA_IMAGE: {"Id": "sha256:grafana"}}
    assert "failed" not in result


def test_a_required_image_that_could_not_be_pulled_stops_the_run_naming_it():
    with pytest.raises(AnsibleActionFail) as failure:
        judge([{"name": RAY_IMAGE, "ok": True, "id": image_id(RAY_IMAGE)},
               {"name": REDIS_IMAGE, "ok": False, "msg": "toomanyrequests"}], {"ray_image_pull_retries": 4})
    message = str(failure.value)
    assert message.startswith(f"head could not pull {REDIS_IMAGE} after 4 attempts (toomanyrequests). Tried: {MIRROR}.")
    assert "ray_gcs_fault_tolerance=false" in message
    assert failure.value.result["failed"] is True and failure.value.result["pulled_now"] == [RAY_IMAGE]


def test_an_empty_list_of_pulls_is_judged_not_planned():
    result, _ = judge([])
    assert result == {"changed": False, "judged": 0, "unavailable": [], "notes": [], "pulled_now": []}


def test_no_new_id_leaves_the_snapshot_alone():
    result, _ = judge([{"name": RAY_IMAGE, "ok": True}])
    assert result["pulled_now"] == [RAY_IMAGE] and "ansible_facts" not in result
    result, _ = run("ray_image_plan", Lab(engines={"head": None}).task_vars("head"),
                    {"pulled": [{"name": RAY_IMAGE, "ok": True, "id": "sha256:x"}]})
    assert "ansible_facts" not in result, "no snapshot to update"


def test_with_packages_the_build_host_builds_runs_the_lan_registry_and_pushes_and_the_others_pull_after():
    lab = Lab(heads=["head"], workers=["w1"], variables={"ray_image_pip_packages": ["six"], "ray_monitoring_enabled": False,
                                                         "ray_gcs_fault_tolerance": False},
              engines={"head": engine(images=[RAY_IMAGE]), "w1": engine(images=[RAY_IMAGE])})
    head = plan(lab, "head")
    derived = head["image"]
    assert derived.startswith("10.0.0.11:5051/ray-docker/ray:2.60.0-py311-cpu-") and head["customized"] is True
    assert names(head["to_build"]) == [derived] and names(head["to_pull"]) == ["registry:2.8.2"]
    assert head["registry"]["start"] is True and head["registry"]["port"] == 5051 and head["push"] is True
    assert head["registry"]["labels"] == {"ray-docker.cluster": "ray", "ray-docker.role": "registry"}
    assert head["has_work"] is True and head["build_host"] == "head"
    worker = plan(lab, "w1")
    assert worker["image"] == derived and names(worker["to_pull_built"]) == [derived]
    assert worker["to_pull"] == [] and worker["to_build"] == [] and worker["registry"] == {} and worker["push"] is False
    # built and shared: nothing to do anywhere on a re-run
    running = {"ray-registry": {"State": "running", "Labels": {}}}
    done = Lab(heads=["head"], workers=["w1"], variables=lab.variables,
               engines={"head": engine(images=[RAY_IMAGE, derived, "registry:2.8.2"], containers=running),
                        "w1": engine(images=[derived])})
    assert plan(done, "head")["has_work"] is False and plan(done, "w1")["has_work"] is False
    # a host that lost it: the build host pushes again (without building)
    lost = Lab(heads=["head"], workers=["w1"], variables=lab.variables,
               engines={"head": engine(images=[RAY_IMAGE, derived, "registry:2.8.2"], containers=running),
                        "w1": engine(images=[])})
    again = plan(lost, "head")
    assert again["to_build"] == [] and again["push"] is True and again["registry"]["start"] is False


def test_with_packages_on_one_host_the_image_stays_local_without_a_registry():
    lab = Lab(variables={"ray_image_apt_packages": ["libgl1"], "ray_monitoring_enabled": False,
                         "ray_gcs_fault_tolerance": False}, engines={"head": engine(images=[RAY_IMAGE])})
    result = plan(lab)
    assert result["image"].startswith("ray-docker/ray:2.60.0-py311-cpu-")
    assert names(result["to_build"]) == [result["image"]] and result["registry"] == {} and result["push"] is False


def test_down_removes_the_lan_registry_when_it_is_there():
    there = Lab(engines={"head": engine(containers={"ray-registry": {"State": "running", "Labels": {}}})})
    assert plan(there, args={"down": True})["down"] == {"containers": ["ray-registry"]}
    assert plan(Lab(), args={"down": True})["down"] == {"containers": []}


def test_a_lan_registry_no_longer_needed_is_removed():
    running = {"ray-registry": {"State": "running", "Labels": {}}}
    alone = Lab(engines={"head": engine(images=[RAY_IMAGE], containers=running)},
                variables={"ray_monitoring_enabled": False, "ray_gcs_fault_tolerance": False})
    result = plan(alone)
    assert result["registry_remove"] == ["ray-registry"] and result["has_work"] is True
    elsewhere = Lab(heads=["head"], workers=["w1"], variables={"ray_image_pip_packages": ["six"],
                                                               "registry_cache_host": "w1"},
                    engines={"head": engine(containers=running)})
    assert plan(elsewhere, "head")["registry_remove"] == ["ray-registry"], "the build host moved to w1"
    assert plan(elsewhere, "w1")["registry_remove"] == []


def test_built_images_of_earlier_inputs_that_no_node_runs_are_pruned_and_the_running_one_kept():
    variables = {"ray_image_pip_packages": ["six"], "ray_monitoring_enabled": False, "ray_gcs_fault_tolerance": False}
    current = plan(Lab(variables=variables, engines={"head": engine(images=[RAY_IMAGE])}))["image"]
    digest12 = current.rsplit("-", 1)[1]
    earlier, running_one = "ray-docker/ray:2.60.0-py311-cpu-aaaaaaaaaaaa", "ray-docker/ray:2.60.0-py311-cpu-bbbbbbbbbbbb"
    listed = {current: "sha256:c", earlier: "sha256:e", running_one: "sha256:r",
              "ray-docker/ray-user:cccccccccccc": "sha256:u1", f"ray-docker/ray-user:{digest12}": "sha256:u2",
              "10.0.0.11:5051/ray-docker/ray:2.60.0-py311-cpu-dddddddddddd": "sha256:d"}
    nodes = {"ray-head": {"Image": running_one, "ImageID": "sha256:r", "State": "running", "Labels": {}}}
    lab = Lab(variables=variables, engines={"head": engine(images=[RAY_IMAGE, current], containers=nodes,
                                                           image_list=listed)})
    result = plan(lab)
    assert result["prune"] == ["10.0.0.11:5051/ray-docker/ray:2.60.0-py311-cpu-dddddddddddd",
                               "ray-docker/ray-user:cccccccccccc", earlier], "not the wanted one, its stage, nor the nodes' one"
    assert result["has_work"] is True and result["to_build"] == []
    stock = plan(Lab(variables={"ray_monitoring_enabled": False, "ray_gcs_fault_tolerance": False},
                     engines={"head": engine(images=[RAY_IMAGE], image_list={earlier: "sha256:e"})}))
    assert stock["prune"] == [earlier], "packages dropped: every built image goes once no node runs it"
    by_id = {"ray-head": {"Image": "sha256:e", "ImageID": "sha256:e", "State": "running", "Labels": {}}}
    kept = plan(Lab(variables={"ray_monitoring_enabled": False, "ray_gcs_fault_tolerance": False},
                    engines={"head": engine(images=[RAY_IMAGE], containers=by_id, image_list={earlier: "sha256:e"})}))
    assert kept["prune"] == [] and kept["has_work"] is False, "a node that runs it by id keeps it"
