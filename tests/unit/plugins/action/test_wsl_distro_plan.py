"""wsl_distro_plan: inside a WSL distribution, /etc/wsl.conf's merge and journey 1's keep-alive (a PC that is its own
cluster), from the preflight's probe of the host (ray_host); with `remove`, the keep-alive's way back. Which
distribution it is comes from wsl_distro_name, else the Windows PC of the inventory that names this host, else (the
control node being this very distribution) WSL_DISTRO_NAME. The merge rules are in module_utils/test_wsl.py."""

import json

import pytest
from ansible.errors import AnsibleActionFail

from tests.unit.plugins.action.harness import Lab, host_facts, run

WSL_FACTS = host_facts(wsl=True, wsl_version=2, kernel_release="5.15.167.4-microsoft-standard-WSL2",
                       wsl_conf="[network]\nhostname = lab1\n", windows_profile="/mnt/c/Users/me",
                       windows_profile_windows="C:\\Users\\me", wslconfig="[wsl2]\nmemory=8GB\n", wslconfig_exists=True,
                       wslconfig_encoding="utf-8", windows_run={}, startup_entries=[], windows_records={},
                       wslg_exe=True, engine_os="Ubuntu 24.04.3 LTS")


def plan(lab, host="lab1", args=None, **task_vars):
    result, calls = run("wsl_distro_plan", lab.task_vars(host, **task_vars), args)
    assert calls == []
    return result


def distro(facts=WSL_FACTS, **kwargs):
    return Lab(heads=["lab1"], facts={"lab1": facts}, **kwargs)


def test_a_distribution_of_its_own_gets_wsl_conf_and_the_keep_alive():
    result = plan(distro(), wsl_distro_name="Ubuntu-24.04")
    assert result["changed"] is False and result["applies"] is True
    assert result["conf"]["text"] == "[network]\nhostname = lab1\n\n[boot]\nsystemd=true\n"
    assert result["conf"]["updates"] == ["boot.systemd"]
    keep = result["keep_alive"]
    assert keep["wslconfig"] == "/mnt/c/Users/me/.wslconfig" and keep["distribution"] == "Ubuntu-24.04"
    assert keep["text"].startswith("[wsl2]\nmemory=8GB\n") and "vmIdleTimeout=-1" in keep["text"]
    assert keep["run"] == {"key": "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", "name": "ray-docker Ubuntu-24.04",
                           "command": '"C:\\Program Files\\WSL\\wslg.exe" -d Ubuntu-24.04 --exec /bin/sleep infinity',
                           "reg": "/mnt/c/Windows/System32/reg.exe", "write": True}
    assert keep["record"]["path"] == "/mnt/c/Users/me/AppData/Local/ray-docker/Ubuntu-24.04.json"
    assert keep["record"]["write"] is True and json.loads(keep["record"]["text"])["wslconfig_existed"] is True
    assert any("wsl --shutdown" in note for note in result["notes"])


def test_the_settings_conf_is_what_is_merged_and_keep_alive_can_be_switched_off():
    result = plan(distro(), wsl_distro_name="U", wsl_distro_conf={"interop": {"appendWindowsPath": False}},
                  wsl_distro_keep_alive=False)
    assert result["conf"]["updates"] == ["interop.appendwindowspath"]
    assert "[interop]\nappendWindowsPath=false\n" in result["conf"]["text"]
    assert result["keep_alive"] is None and result["notes"] == []


def test_a_host_that_is_not_wsl_does_not_apply():
    result = plan(Lab(heads=["lab1"]))
    assert result["applies"] is False and result["keep_alive"] is None, "wsl_distro_applies follows the probe's wsl"
    assert plan(Lab(heads=["lab1"]), wsl_distro_applies=True, wsl_distro_name="U")["applies"] is True


def test_a_distribution_a_pc_of_the_inventory_manages_gets_no_keep_alive_of_its_own():
    lab = distro(groups={"windows_wsl": ["pc1", "pc2"]},
                 host_variables={"pc1": {"wsl2_distro_host": "other"},
                                 "pc2": {"wsl2_distro_host": "lab1", "wsl2_distribution": "ray-node"}})
    result = plan(lab)
    assert result["keep_alive"] is None, "the wsl2 role's boot task keeps it alive"
    removal = plan(lab, args={"remove": True})
    assert removal["run"]["name"] == "ray-docker ray-node", "the PC's wsl2_distribution names it"


def test_the_control_nodes_own_distribution_is_named_by_wsl(monkeypatch):
    monkeypatch.setenv("WSL_DISTRO_NAME", "Ubuntu")
    result = plan(distro(host_variables={"lab1": {"ansible_connection": "local"}}))
    assert result["keep_alive"]["distribution"] == "Ubuntu"
    result = plan(distro())
    assert result["keep_alive"] is None and "distribution's name unknown" in result["notes"][0], \
        "a distribution reached over SSH does not take the control node's name"


def test_docker_desktop_or_no_interop_means_no_keep_alive():
    desktop = dict(WSL_FACTS, engine_os="Docker Desktop")
    assert plan(distro(desktop), wsl_distro_name="U")["keep_alive"] is None
    no_interop = dict(WSL_FACTS, windows_profile="")
    result = plan(distro(no_interop), wsl_distro_name="U")
    assert result["keep_alive"] is None and "Windows interop is off" in result["notes"][0]


def test_the_way_back_puts_back_what_the_record_says():
    keep = plan(distro(), wsl_distro_name="U")["keep_alive"]  # what a run set up: its .wslconfig and record
    facts = dict(WSL_FACTS, wslconfig=keep["text"], windows_run={"ray-docker U": keep["run"]["command"]},
                 windows_records={"U.json": keep["record"]["text"]}, startup_entries=["ray-docker U.vbs", "other.vbs"])
    result = plan(distro(facts), args={"remove": True}, wsl_distro_name="U")
    assert result["changed"] is False and result["applies"] is True
    assert result["run"] == {"key": "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", "name": "ray-docker U",
                             "reg": "/mnt/c/Windows/System32/reg.exe", "remove": True}
    assert result["old_startup"] == ["/mnt/c/Users/me/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/"
                                      "ray-docker U.vbs"]
    assert sorted(result["wslconfig"]["restored"]) == sorted(keep["updates"])
    assert result["wslconfig"]["text"] == "[wsl2]\nmemory=8GB\n", "the user's file as it was"
    assert result["wslconfig"]["delete"] is False and result["wslconfig"]["path"] == "/mnt/c/Users/me/.wslconfig"
    assert result["record"] == "/mnt/c/Users/me/AppData/Local/ray-docker/U.json" and result["notes"] == []
    assert "conf" not in result and "keep_alive" not in result


def test_the_way_back_without_a_distribution_name_does_not_apply():
    assert plan(distro(), args={"remove": True}) == {"changed": False, "applies": False}


def test_a_refused_setting_fails_naming_the_host():
    with pytest.raises(AnsibleActionFail, match="Settings refused for host lab1: wsl_distro_conf_file"):
        plan(distro(), wsl_distro_conf_file="relative/wsl.conf")
