"""registry_cache_plan: whether the lab uses the LAN image cache and where; on the cache's host, what to install, write,
start or restart, and which images to fill it with; with `report`, which source served each host's pulls; with
`down`, where its files and service are. The cache's host is read through the run's snapshot (ray_snapshot's
registry_cache) or the registry_cache_info module, whose results the tests give."""

import json

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.ray_docker.cluster.plugins.module_utils import registry_cache
from tests.unit.plugins.action.harness import (GRAFANA_IMAGE, PROMETHEUS_IMAGE, RAY_IMAGE, REDIS_IMAGE, Lab, engine,
                                               plugin, run)

INFO_MODULE = "ray_docker.cluster.registry_cache_info"
MIRROR = "https://mirror.example.com"
QUERY = {"port": 5050, "upstream": "https://registry-1.docker.io", "binary": "/usr/bin/docker-registry",
         "user": "docker-registry", "config_file": "/etc/ray-docker/registry-cache/config.yml",
         "unit_file": "/etc/systemd/system/ray-registry-cache.service", "service": "ray-registry-cache",
         "pid_file": "/run/ray-registry-cache.pid", "data_dir": "/var/lib/ray-docker/registry-cache",
         "log_file": "/var/log/ray-docker/registry-cache.log"}
PATHS = {key: QUERY[key] for key in ("config_file", "log_file", "unit_file", "service", "pid_file", "binary", "user")}


def state(**changes):
    """What registry_cache_info reads on the cache's host: by default a host where nothing is installed yet."""
    info = {"installed": False, "user_exists": False, "folders_ready": False, "systemd": True, "config": "", "unit": "",
            "running": False, "answers": False, "upstream_answers": True, "has_data": False, "free_bytes": 50 * 2**30,
            "log_size": 0, "requests": {}, "store_errors": []}
    info.update(changes)
    return info


def lab(cache=None, variables=None, engines=None, **kwargs):
    """Three Ray hosts (the cache is on), the head's snapshot holding the cache's state `cache` (None: not read)."""
    engines = dict(engines or {})
    if cache is not None:
        engines["head"] = engine(images=[RAY_IMAGE], registry_cache={"query": QUERY, "state": cache})
    return Lab(heads=["head"], workers=["w1", "w2"], variables=variables, engines=engines, **kwargs)


def plan(the_lab, host="head", args=None, module_results=None):
    return run("registry_cache_plan", the_lab.task_vars(host), args, module_results=module_results)


def test_one_host_uses_no_cache_and_reads_nothing():
    result, calls = plan(Lab())
    assert calls == []
    assert result == {"changed": False, "active": False, "host": "", "port": 5050, "url": "", "upstream": "",
                      "runs_here": False}


def test_a_worker_learns_where_the_cache_is_and_reads_nothing():
    result, calls = plan(lab(variables={"docker_registry_mirrors": [MIRROR + "/"]}), "w1")
    assert calls == []
    assert result == {"changed": False, "active": True, "host": "head", "port": 5050, "url": "http://10.0.0.11:5050",
                      "upstream": MIRROR, "runs_here": False}


def test_the_users_host_address_port_and_upstream_are_used():
    the_lab = lab(variables={"registry_cache_host": "w2", "registry_cache_address": "cache.lan",
                             "registry_cache_port": 5151, "registry_cache_upstream": "https://hub.example",
                             "docker_registry_mirrors": [MIRROR]})
    result, _ = plan(the_lab, "w1")
    assert (result["host"], result["url"], result["upstream"], result["port"]) == (
        "w2", "http://cache.lan:5151", "https://hub.example", 5151)
    assert result["runs_here"] is False


def test_the_cache_host_plans_install_files_and_start_from_the_snapshot():
    result, calls = plan(lab(cache=state()))
    assert calls == [], "the run's snapshot holds the cache's state for the same query"
    assert result["runs_here"] is True and result["url"] == "http://10.0.0.11:5050"
    assert {key: result[key] for key in PATHS} == PATHS
    assert result["mode"] == "proxy"
    config = json.loads(result["config"])
    assert config["proxy"] == {"remoteurl": "https://registry-1.docker.io"}
    assert config["http"]["addr"] == ":5050" and config["storage"]["filesystem"]["rootdirectory"] == QUERY["data_dir"]
    assert result["config"].endswith("}\n") and result["config"] == json.dumps(config, indent=2, sort_keys=True) + "\n"
    assert "ExecStart=/usr/bin/docker-registry serve /etc/ray-docker/registry-cache/config.yml" in result["unit"]
    assert "StandardOutput=append:/var/log/ray-docker/registry-cache.log" in result["unit"]
    assert result["systemd"] is True and result["unit_exists"] is False and result["running"] is False
    assert result["install_needed"] is True and result["answers"] is False and result["upstream_answers"] is True
    assert result["has_data"] is False and result["free_bytes"] == 50 * 2**30 and result["log_offset"] == 0
    assert result["files_changed"] is True and result["start_needed"] is True and result["restart_needed"] is False
    assert result["warm_timeout"] == 1800 and result["has_work"] is True


def running_cache(**changes):
    """A cache that runs as planned (the config and unit the plan writes), with `changes`."""
    settings = {"registry_cache_port": 5050, "registry_cache_data_dir": QUERY["data_dir"]}
    good = plugin("registry_cache_plan").config_text(registry_cache.config(settings, "proxy", QUERY["upstream"]))
    unit = plugin("registry_cache_plan").unit_text(QUERY["config_file"], QUERY["log_file"])
    return state(**dict(dict(installed=True, user_exists=True, folders_ready=True, config=good, unit=unit,
                             running=True, answers=True, has_data=True, log_size=4096), **changes))


def test_a_cache_as_planned_has_nothing_to_do_and_records_the_logs_offset():
    result, _ = plan(lab(cache=running_cache()))
    assert result["files_changed"] is False and result["start_needed"] is False and result["restart_needed"] is False
    assert result["install_needed"] is False and result["has_work"] is False and result["log_offset"] == 4096
    assert result["unit_exists"] is True and result["log_rotate"] is False


def test_a_log_over_its_cap_is_rotated_and_counted_from_its_start():
    result, _ = plan(lab(cache=running_cache(log_size=11 * 2**20)))
    assert result["log_rotate"] is True and result["log_offset"] == 0, "over the default 10 MiB"
    result, _ = plan(lab(cache=running_cache(log_size=11 * 2**20), variables={"registry_cache_log_max_mb": 20}))
    assert result["log_rotate"] is False and result["log_offset"] == 11 * 2**20


@pytest.mark.parametrize("changes, work", [
    ({"answers": False}, "restart_needed"),
    ({"config": "{}"}, "restart_needed"),
    ({"unit": "[Unit]\n"}, "restart_needed"),
    ({"running": False}, "start_needed"),
    ({"installed": False}, "install_needed"),
    ({"folders_ready": False}, None),
])
def test_each_difference_is_work(changes, work):
    result, _ = plan(lab(cache=running_cache(**changes)))
    assert result["has_work"] is True
    if work:
        assert result[work] is True
        assert [key for key in ("restart_needed", "start_needed", "install_needed") if result[key]] == [work]


def test_without_systemd_there_is_no_unit_and_the_unit_does_not_count():
    result, _ = plan(lab(cache=running_cache(systemd=False, unit="something old")))
    assert result["unit"] == "" and result["files_changed"] is False and result["has_work"] is False


def test_an_upstream_away_with_layers_kept_makes_the_cache_read_only():
    result, _ = plan(lab(cache=running_cache(upstream_answers=False)))
    config = json.loads(result["config"])
    assert result["mode"] == "offline" and "proxy" not in config
    assert config["storage"]["maintenance"] == {"readonly": {"enabled": True}}
    assert result["files_changed"] is True and result["restart_needed"] is True


def test_the_images_hosts_lack_fill_the_cache_first():
    engines = {"w1": engine(images=[RAY_IMAGE]), "w2": engine(answers=False)}
    the_lab = lab(cache=state(), variables={"ray_monitoring_host": "w1", "ray_image_prometheus_archive": ""},
                  engines=engines)
    result, _ = plan(the_lab)
    # the head lacks Redis (its snapshot has the Ray image), w1 Prometheus and Grafana, w2 (engine down) the Ray image
    assert result["warm_images"] == sorted([REDIS_IMAGE, PROMETHEUS_IMAGE, GRAFANA_IMAGE, RAY_IMAGE])
    task_vars = the_lab.task_vars("head")
    task_vars["ansible_facts"]["preflight_unreachable"] = ["w2"]
    del task_vars["hostvars"]["w1"]["ansible_facts"]["ray_snapshot"]  # a host without a snapshot adds nothing
    result, _ = run("registry_cache_plan", task_vars)
    assert result["warm_images"] == [REDIS_IMAGE]


def test_the_filling_may_take_as_long_as_a_pull():
    result, _ = plan(lab(cache=state(), variables={"ray_image_pull_timeout": 600}))
    assert result["warm_timeout"] == 600


def test_an_image_of_another_registry_is_not_filled_and_always_pulls_every_image():
    variables = {"ray_image_repository": "registry.lan:5000/ray", "ray_image_pull_policy": "always",
                 "ray_monitoring_enabled": False}
    engines = {"w1": engine(images=["registry.lan:5000/ray:2.60.0-py311-cpu"])}
    result, _ = plan(lab(cache=state(), variables=variables, engines=engines))
    assert result["warm_images"] == [REDIS_IMAGE]


def test_without_the_snapshots_state_the_host_is_read_and_a_failed_read_fails():
    result, calls = plan(lab(), module_results=state(running=True, answers=True))
    assert calls == [{"module_name": INFO_MODULE, "module_args": dict(QUERY, log_offset=-1)}]
    assert result["running"] is True and result["start_needed"] is False
    other = dict(QUERY, port=5151)  # the snapshot's state answers another query: read again
    the_lab = Lab(heads=["head"], workers=["w1", "w2"], variables={"registry_cache_port": 5151},
                  engines={"head": engine(registry_cache={"query": QUERY, "state": state()})})
    _, calls = plan(the_lab, module_results=state())
    assert calls[0]["module_args"] == dict(other, log_offset=-1)
    with pytest.raises(AnsibleActionFail, match="Cannot read the LAN image cache's host head: sudo: a password is required"):
        plan(lab(), module_results={"failed": True, "msg": "sudo: a password is required"})


def test_the_report_says_which_source_served_each_hosts_pulls():
    log = {"10.0.0.12": {"library/redis": {"manifests": 1, "blobs": 3, "bytes": 10}},
           "10.0.0.11": {"rayproject/ray": {"manifests": 1, "blobs": 9, "bytes": 99}}}
    the_lab = Lab(heads=["head"], workers=["w1", "w2"],
                  host_variables={"head": {"ray_image_judged": {"pulled_now": [RAY_IMAGE]}},
                                  "w1": {"ray_image_judged": {"pulled_now": [RAY_IMAGE, "registry.lan:5000/x:1"]}}})
    info = running_cache(requests=log, store_errors=[])
    result, calls = plan(the_lab, args={"report": True, "log_offset": 2048}, module_results=info)
    assert calls == [{"module_name": INFO_MODULE, "module_args": dict(QUERY, log_offset=2048)}]
    assert result["sources"] == {"served": {"head": [RAY_IMAGE]}, "past": {"w1": [RAY_IMAGE]},
                                 "other_registry": {"w1": ["registry.lan:5000/x:1"]}}
    assert result["lines"][0] == f"head pulled {RAY_IMAGE} from the LAN image cache http://10.0.0.11:5050 on head"
    assert len(result["degraded"]) == 1 and f"w1: {RAY_IMAGE}" in result["degraded"][0]
    assert "it did not answer for them" in result["degraded"][0] and result["store_errors"] == []


def test_the_report_of_a_cache_that_did_not_run_or_could_not_keep_layers():
    the_lab = Lab(heads=["head"], workers=["w1", "w2"],
                  host_variables={"w2": {"ray_image_judged": {"pulled_now": [RAY_IMAGE]}}})
    info = running_cache(running=False, store_errors=["no space left on device"], free_bytes=2**20,
                         config=json.dumps({"version": "0.1", "storage": {}}))
    result, _ = plan(the_lab, args={"report": True, "log_offset": 0}, module_results=info)
    assert "serves only what it holds (read-only)" in result["lines"][0], "no proxy section: offline"
    assert "it did not run" in result["degraded"][0]
    assert "could not keep 1 layer(s) (no space left on device)" in result["degraded"][1]
    assert result["store_errors"] == ["no space left on device"]


def test_a_report_with_nothing_pulled_reads_nothing():
    result, calls = plan(lab(), args={"report": True, "log_offset": 10})
    assert calls == [] and result["sources"] == {} and result["lines"] == [] and result["degraded"] == []
    assert result["store_errors"] == []


def test_down_finds_the_configured_host_even_when_the_cluster_uses_no_cache():
    one = Lab()
    result, calls = plan(one, args={"down": True}, module_results=state(running=True, unit="x"))
    assert result["active"] is False and result["runs_here"] is True, "the head's host is where it was configured"
    assert {key: result[key] for key in PATHS} == PATHS
    assert result["systemd"] is True and result["unit_exists"] is True and result["running"] is True
    assert "mode" not in result and "has_work" not in result
    assert calls[0]["module_args"]["log_offset"] == -1
    result, calls = plan(Lab(heads=["head"], workers=["w1"]), "w1", args={"down": True})
    assert result["runs_here"] is False and calls == []
