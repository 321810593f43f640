"""docker_plan: the merged daemon.json and how the engine takes it, or the check of its mirrors, from the run's
snapshot of the host (or one read of it). The merge itself is tested in module_utils/test_docker_daemon.py; here,
what the action makes of a host's snapshot and the settings."""

import json

import pytest
from ansible.errors import AnsibleActionFail

from tests.unit.plugins.action.harness import Lab, engine, host_facts, run

MIRROR = "https://mirror.example.com"
MODULE = "ray_docker.cluster.ray_host_facts"


def daemon_json(content, path="/etc/docker/daemon.json", encoding="utf-8"):
    text = content if isinstance(content, str) else json.dumps(content)
    return {"path": path, "exists": True, "content": text, "encoding": encoding}


def plan(snapshot=None, variables=None, args=None, check_mode=False, facts=None, lab=None, host="head",
         module_results=None):
    lab = lab or Lab(variables=variables, engines={"head": snapshot or engine()},
                     facts={"head": facts} if facts else None)
    result, calls = run("docker_plan", lab.task_vars(host), args, check_mode=check_mode, module_results=module_results)
    if module_results is None:
        assert calls == [], "the run's snapshot is used: the host is not read again"
    return result


def test_an_engine_with_nothing_to_change_is_verified_from_the_snapshot():
    result = plan()
    assert result == {
        "changed": False, "kind": "engine", "engine_answers": True, "python_requests": True,
        "config_file": "/etc/docker/daemon.json", "config_exists": False, "current": {}, "desired": {},
        "config_changed": False, "changed_keys": [], "apply": "none", "server_version": "26.1.5",
        "mirrors_active": [], "mirrors_missing": [], "has_work": False}


def test_a_mirror_is_merged_into_the_users_file_and_reloaded():
    snapshot = engine(daemon_json=daemon_json({"log-driver": "journald"}))
    result = plan(snapshot, {"docker_registry_mirrors": [MIRROR]})
    assert result["current"] == {"log-driver": "journald"}
    assert result["desired"] == {"log-driver": "journald", "registry-mirrors": [MIRROR]}
    assert result["config_exists"] is True and result["config_changed"] is True
    assert result["changed_keys"] == ["registry-mirrors"] and result["apply"] == "reload"
    assert result["mirrors_missing"] == [MIRROR] and result["has_work"] is True


def test_options_and_insecure_registries_are_merged_and_a_restart_key_restarts():
    result = plan(variables={"docker_daemon_options": {"data-root": "/srv/docker"},
                             "docker_insecure_registries": ["mirror.lan:5000"]})
    assert result["desired"] == {"data-root": "/srv/docker", "insecure-registries": ["mirror.lan:5000"]}
    assert result["changed_keys"] == ["data-root", "insecure-registries"] and result["apply"] == "restart"


def test_an_engine_that_does_not_answer_or_a_python_without_requests_is_work():
    result = plan(engine(answers=False), {"docker_registry_mirrors": [MIRROR]})
    assert result["engine_answers"] is False and result["has_work"] is True
    assert result["mirrors_missing"] == [MIRROR], "nothing is active on an engine that does not answer"
    result = plan(engine(python_requests=False))
    assert result["python_requests"] is False and result["has_work"] is True and result["config_changed"] is False


def test_the_engines_mirrors_are_the_verdict_when_there_is_nothing_to_apply():
    configured = engine(daemon_json=daemon_json({"registry-mirrors": [MIRROR]}), mirrors=[MIRROR + "/"])
    result = plan(configured, {"docker_registry_mirrors": [MIRROR]})
    assert result["has_work"] is False and result["mirrors_missing"] == [] and result["mirrors_active"] == [MIRROR + "/"]
    stale = engine(daemon_json=daemon_json({"registry-mirrors": [MIRROR]}), mirrors=[])
    with pytest.raises(AnsibleActionFail, match=f"The engine on head does not use the mirrors {MIRROR} "
                                                r"\(it reports none\)\. Check /etc/docker/daemon.json"):
        plan(stale, {"docker_registry_mirrors": [MIRROR]})


@pytest.mark.parametrize("read, message", [
    (daemon_json("{not json"), r"head:/etc/docker/daemon.json is not valid JSON"),
    (daemon_json("[1, 2]"), r"must hold a JSON object, not list"),
    (daemon_json("{}", encoding="utf-16"), r"is not plain UTF-8 text \(it reads as utf-16"),
    (dict(daemon_json("{}"), content=None, encoding=None), r"is not plain UTF-8 text"),
])
def test_a_file_the_run_must_not_touch_fails_naming_it(read, message):
    with pytest.raises(AnsibleActionFail, match=message):
        plan(engine(daemon_json=read))


def test_a_lab_lists_the_lan_cache_first_then_the_mirrors():
    lab = Lab(heads=["head"], workers=["w1", "w2"], variables={"docker_registry_mirrors": [MIRROR]})
    result = plan(lab=lab, host="w2")
    assert result["desired"]["registry-mirrors"] == ["http://10.0.0.11:5050", MIRROR]
    assert result["mirrors_missing"] == ["http://10.0.0.11:5050", MIRROR]
    # without the cache (one host too few) only the mirrors
    lab = Lab(heads=["head"], workers=["w1"], variables={"docker_registry_mirrors": [MIRROR],
                                                         "registry_cache_min_hosts": 3})
    assert plan(lab=lab, host="w1")["desired"]["registry-mirrors"] == [MIRROR]


def test_a_limited_run_that_does_not_know_the_caches_address_keeps_the_files_cache_entry():
    """The head is outside this run (--limit): its address is unknown, and the cache entry the worker's file has stays
    first (the action parses the file's current mirrors for that)."""
    current = daemon_json({"registry-mirrors": ["http://10.0.0.99:5050", "https://old.example"]})
    lab = Lab(heads=["head"], workers=["w1", "w2"], variables={"docker_registry_mirrors": [MIRROR]},
              engines={"w1": engine(daemon_json=current)})
    task_vars = lab.task_vars("w1")
    del task_vars["hostvars"]["head"]
    result, _ = run("docker_plan", task_vars)
    assert result["desired"]["registry-mirrors"] == ["http://10.0.0.99:5050", MIRROR]


DESKTOP_INFO = {"ServerVersion": "28.3.2", "OperatingSystem": "Docker Desktop", "RegistryConfig": {"Mirrors": []}}
DESKTOP_FACTS = host_facts(wsl=True, wsl_version=2, windows_profile="/mnt/c/Users/me",
                           windows_profile_windows="C:\\Users\\me", docker_desktop_integration=True,
                           wsl_conf="[automount]\nroot = /win/\n")


def desktop(read=None, mirrors=()):
    return engine(host_info=dict(DESKTOP_INFO, RegistryConfig={"Mirrors": list(mirrors)}),
                  desktop_daemon_json=read)


def test_docker_desktops_file_is_planned_with_its_windows_name_and_restart():
    read = daemon_json({"builder": {"gc": {"enabled": True}}}, path="/win/c/Users/me/.docker/daemon.json")
    result = plan(desktop(read), {"docker_registry_mirrors": [MIRROR]}, facts=DESKTOP_FACTS)
    assert result["kind"] == "desktop" and result["config_file"] == "/win/c/Users/me/.docker/daemon.json"
    assert result["desired"] == {"builder": {"gc": {"enabled": True}}, "registry-mirrors": [MIRROR]}
    assert result["desktop"]["windows_file"] == "C:\\Users\\me\\.docker\\daemon.json"
    restart = result["desktop"]["restart"]
    assert [way["name"] for way in restart] == ["docker.exe desktop restart", "powershell.exe Stop-Process / Start-Process"]
    assert restart[0]["argv"] == ["/win/c/Program Files/Docker/Docker/resources/bin/docker.exe", "desktop", "restart",
                                  "--timeout", "300"], "the automount root and docker_desktop_ready_timeout"
    assert result["restart_needed"] is True and result["has_work"] is True


def test_desktop_restarts_when_its_file_has_the_mirror_but_its_engine_does_not():
    read = daemon_json({"registry-mirrors": [MIRROR]}, path="/mnt/c/Users/me/.docker/daemon.json")
    result = plan(desktop(read, mirrors=[]), {"docker_registry_mirrors": [MIRROR]}, facts=DESKTOP_FACTS)
    assert result["config_changed"] is False and result["restart_needed"] is True
    done = plan(desktop(read, mirrors=[MIRROR]), {"docker_registry_mirrors": [MIRROR]}, facts=DESKTOP_FACTS)
    assert done["restart_needed"] is False and done["has_work"] is False and done["mirrors_missing"] == []


def test_desktop_not_started_is_told_by_its_wsl_integration_and_is_work():
    read = daemon_json({}, path="/mnt/c/Users/me/.docker/daemon.json")
    result = plan(engine(answers=False, desktop_daemon_json=read), {"docker_registry_mirrors": [MIRROR]},
                  facts=DESKTOP_FACTS)
    assert result["kind"] == "desktop" and result["engine_answers"] is False
    assert result["config_file"] == "/mnt/c/Users/me/.docker/daemon.json" and result["restart_needed"] is True
    assert result["has_work"] is True and result["mirrors_missing"] == [MIRROR]


def test_desktop_without_its_file_found_stops_saying_what_to_set():
    with pytest.raises(AnsibleActionFail, match="head uses Docker Desktop.*Set docker_desktop_daemon_config_file"):
        plan(desktop(None), facts=DESKTOP_FACTS)


def test_verify_reports_the_mirrors_or_fails_naming_the_missing_one():
    snapshot = engine(mirrors=[MIRROR])
    result = plan(snapshot, {"docker_registry_mirrors": [MIRROR]}, {"verify": True})
    assert result == {"changed": False, "mirrors_active": [MIRROR], "mirrors_missing": [], "server_version": "26.1.5",
                      "msg": f"Engine 26.1.5 uses mirrors: {MIRROR}"}
    with pytest.raises(AnsibleActionFail, match=r"does not use the mirrors https://other.example \(it reports "
                                                f"{MIRROR}\\)"):
        plan(snapshot, {"docker_registry_mirrors": ["https://other.example"]}, {"verify": True})


def test_verify_of_an_engine_that_does_not_answer_fails_except_in_check_mode():
    with pytest.raises(AnsibleActionFail, match="The Docker engine on head does not answer: connection refused"):
        plan(engine(answers=False), args={"verify": True})
    result = plan(engine(answers=False), args={"verify": True}, check_mode=True)
    assert result["mirrors_missing"] == [] and "msg" not in result


def test_fresh_reads_the_host_again_and_without_a_snapshot_the_role_reads_it_once():
    read = {"ansible_facts": {"ray_snapshot": engine(mirrors=[MIRROR]), "ray_host": host_facts()}}
    lab = Lab(variables={"docker_registry_mirrors": [MIRROR], "docker_daemon_config_file": "/srv/daemon.json"},
              engines={"head": engine(mirrors=[])})
    result, calls = run("docker_plan", lab.task_vars("head"), {"verify": True, "fresh": True}, module_results=read)
    assert calls == [{"module_name": MODULE, "module_args": {"engine": True, "daemon_json": "/srv/daemon.json",
                                                             "desktop_daemon_json": "auto"}}]
    assert result["mirrors_active"] == [MIRROR], "the fresh read is the verdict, not the snapshot"
    alone = Lab(engines={"head": None})
    result, calls = run("docker_plan", alone.task_vars("head"), module_results=read)
    assert len(calls) == 1 and result["has_work"] is False
    outdated = Lab(engines={"head": engine(outdated=True)})
    _, calls = run("docker_plan", outdated.task_vars("head"), module_results=read)
    assert len(calls) == 1, "a snapshot a role marked out of date is read again"


def test_a_host_that_cannot_be_read_fails_with_the_modules_message():
    with pytest.raises(AnsibleActionFail, match="permission denied on /etc/docker"):
        run("docker_plan", Lab(engines={"head": None}).task_vars("head"),
            module_results={"failed": True, "msg": "permission denied on /etc/docker"})


def test_a_refused_mirror_fails_naming_the_host_before_anything_is_read():
    with pytest.raises(AnsibleActionFail, match="Settings refused for host head: docker_registry_mirrors"):
        plan(variables={"docker_registry_mirrors": ["ftp://mirror.example"]})


def test_a_lab_with_a_derived_image_trusts_its_lan_registry_beside_the_files_own_insecure_registries():
    variables = {"ray_image_pip_packages": ["six"], "registry_cache_enabled": False}
    lab = Lab(heads=["head"], workers=["w1"], variables=variables,
              engines={"w1": engine(daemon_json=daemon_json({"insecure-registries": ["old.lan:5000"], "debug": True}))})
    result = plan(lab=lab, host="w1")
    assert result["desired"]["insecure-registries"] == ["old.lan:5000", "10.0.0.11:5051"], "the head's host builds"
    assert result["desired"]["debug"] is True and result["apply"] == "reload", "a reload, no restart"
    given = Lab(heads=["head"], workers=["w1"], variables=dict(variables, docker_insecure_registries=["mine.lan:5000"]))
    assert plan(lab=given, host="w1")["desired"]["insecure-registries"] == ["mine.lan:5000", "10.0.0.11:5051"]
    alone = Lab(variables=variables)
    assert "insecure-registries" not in plan(lab=alone)["desired"], "one host pulls nothing from a registry of its own"
